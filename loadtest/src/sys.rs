//! The few Linux calls std does not wrap: epoll with a nanosecond timeout,
//! timer slack, RLIMIT_MEMLOCK and process CPU time. All `unsafe` lives here.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Nanoseconds on the monotonic clock since the first call in this process.
/// One `u64` is cheaper to store per in-flight request than an `Instant`.
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    base.elapsed().as_nanos() as u64
}

pub struct Epoll {
    fd: OwnedFd,
}

/// Falls back to `epoll_wait` (millisecond timeouts) on kernels before 5.11.
static NO_PWAIT2: AtomicBool = AtomicBool::new(false);

impl Epoll {
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain syscall with a flag argument; the result is checked before use.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a valid, initialised epoll_event that outlives the call; the
        // kernel copies it. Both descriptors are open (the caller owns `fd`).
        let rc = unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    pub fn modify(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
    }

    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeout_ns` and returns how many entries of `events` were filled.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ns: u64) -> io::Result<usize> {
        let max = events.len().min(i32::MAX as usize) as libc::c_int;
        loop {
            let rc = if NO_PWAIT2.load(Ordering::Relaxed) {
                let ms = timeout_ns.div_ceil(1_000_000).min(i32::MAX as u64) as libc::c_int;
                // SAFETY: `events` is a valid writable buffer of at least `max` entries.
                unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, ms) }
            } else {
                let ts = libc::timespec {
                    tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
                    tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
                };
                // SAFETY: as above; `ts` is a valid timespec that outlives the call and
                // a null sigmask means "do not change the mask".
                unsafe {
                    libc::epoll_pwait2(
                        self.fd.as_raw_fd(),
                        events.as_mut_ptr(),
                        max,
                        &ts,
                        std::ptr::null(),
                    )
                }
            };
            if rc >= 0 {
                return Ok(rc as usize);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ENOSYS) => NO_PWAIT2.store(true, Ordering::Relaxed),
                _ => return Err(err),
            }
        }
    }
}

/// Asks for timer wake-ups with 1 ns slack instead of the default 50 us, so the
/// open-loop scheduler sends on time. Best effort.
pub fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and touches only the
    // calling thread's scheduling attributes.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Raises the soft RLIMIT_MEMLOCK to the hard limit (glommio registers buffers
/// with io_uring, which counts against it).
pub fn raise_memlock_limit() -> io::Result<()> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur != lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit; raising soft up to hard needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// User + system CPU seconds this process has used so far (all threads).
pub fn process_cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is valid and writable for the duration of the call.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoll_times_out_with_sub_millisecond_precision() {
        let ep = Epoll::new().unwrap();
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
        let t0 = now_ns();
        assert_eq!(ep.wait(&mut events, 200_000).unwrap(), 0);
        let waited = now_ns() - t0;
        assert!(waited >= 200_000, "woke early after {waited} ns");
    }

    #[test]
    fn clock_is_monotonic() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
    }
}
