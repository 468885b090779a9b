//! `shardis-floor`: the least CPU a request/response over loopback TCP can cost on this
//! machine. A PING server that does nothing else (no parsing beyond counting requests, no
//! data), on either of the two designs a Redis-protocol server can use:
//!
//! * `--mode uring`: one io_uring, a recv and a send per request submitted in batches (one
//!   `io_uring_enter` per loop turn, `DEFER_TASKRUN` so completions never interrupt);
//! * `--mode epoll`: one epoll set, a `read` and a `write` syscall per request, as Redis.
//!
//! `bench/floor.py` measures its CPU per request next to Redis' and Shardis' at pipeline 1;
//! what a real server costs above the floor is its own work, the floor itself is the
//! kernel's TCP path (docs/BENCHMARKS.md, "The floor at pipeline 1"). It answers `+PONG`
//! to every inline `PING` line or `*`-framed command (redis-benchmark `-t ping_inline` or
//! `ping_mbulk`), and nothing else.

use clap::{Parser, ValueEnum};
use io_uring::{opcode, types, IoUring};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Uring,
    Epoll,
}

/// A minimal PING server, to measure the kernel's share of a request's CPU.
#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 7030)]
    port: u16,
    #[arg(long, value_enum, default_value_t = Mode::Uring)]
    mode: Mode,
}

const PONG: &[u8] = b"+PONG\r\n";
const READ_BUF: usize = 16 * 1024;

/// Requests in `data`: `*`-framed commands, or else inline lines.
fn count_requests(data: &[u8]) -> usize {
    let stars = data.iter().filter(|&&b| b == b'*').count();
    if stars > 0 {
        stars
    } else {
        data.iter().filter(|&&b| b == b'\n').count()
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(("127.0.0.1", args.port))?;
    match args.mode {
        Mode::Uring => uring::serve(listener),
        Mode::Epoll => epoll::serve(listener),
    }
}

mod uring {
    use super::*;

    /// One connection. Its buffers are boxed and stay put while the kernel may use them:
    /// a connection is dropped only when no operation of its is in flight.
    struct Conn {
        stream: TcpStream,
        rbuf: Box<[u8; READ_BUF]>,
        /// Bytes being sent (owned by the kernel while `sending`).
        out: Vec<u8>,
        /// Replies produced while a send was in flight.
        next: Vec<u8>,
        sending: bool,
        receiving: bool,
        closed: bool,
    }

    const ACCEPT: u64 = u64::MAX;

    fn tag(conn: usize, send: bool) -> u64 {
        (conn as u64) << 1 | send as u64
    }

    pub fn serve(listener: TcpListener) -> std::io::Result<()> {
        let mut ring: IoUring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(1024)?;
        let mut conns: Vec<Option<Conn>> = Vec::new();
        let accept = opcode::AcceptMulti::new(types::Fd(listener.as_raw_fd()))
            .build()
            .user_data(ACCEPT);
        push(&mut ring, &accept)?;
        loop {
            ring.submit_and_wait(1)?;
            let done: Vec<(u64, i32)> = ring
                .completion()
                .map(|c| (c.user_data(), c.result()))
                .collect();
            for (data, res) in done {
                if data == ACCEPT {
                    if res >= 0 {
                        accepted(&mut ring, &mut conns, res)?;
                    }
                    continue;
                }
                let (i, send) = ((data >> 1) as usize, data & 1 == 1);
                let Some(c) = conns[i].as_mut() else { continue };
                if send {
                    c.sending = false;
                    if res > 0 {
                        c.out.drain(..res as usize);
                    } else {
                        c.closed = true;
                    }
                    if !c.closed && (!c.out.is_empty() || !c.next.is_empty()) {
                        start_send(&mut ring, c, i)?;
                    }
                } else {
                    c.receiving = false;
                    if res <= 0 {
                        c.closed = true;
                    } else {
                        let n = count_requests(&c.rbuf[..res as usize]);
                        (0..n).for_each(|_| c.next.extend_from_slice(PONG));
                        if !c.sending {
                            start_send(&mut ring, c, i)?;
                        }
                        start_recv(&mut ring, c, i)?;
                    }
                }
                if c.closed && !c.sending && !c.receiving {
                    conns[i] = None;
                }
            }
        }
    }

    fn accepted(
        ring: &mut IoUring,
        conns: &mut Vec<Option<Conn>>,
        fd: RawFd,
    ) -> std::io::Result<()> {
        use std::os::fd::FromRawFd;
        // SAFETY: a successful accept completion hands over a new socket descriptor that
        // nothing else owns.
        let stream = unsafe { TcpStream::from_raw_fd(fd) };
        stream.set_nodelay(true)?;
        let i = conns
            .iter()
            .position(Option::is_none)
            .unwrap_or(conns.len());
        if i == conns.len() {
            conns.push(None);
        }
        let c = conns[i].insert(Conn {
            stream,
            rbuf: Box::new([0; READ_BUF]),
            out: Vec::new(),
            next: Vec::new(),
            sending: false,
            receiving: false,
            closed: false,
        });
        start_recv(ring, c, i)
    }

    fn start_recv(ring: &mut IoUring, c: &mut Conn, i: usize) -> std::io::Result<()> {
        let fd = types::Fd(c.stream.as_raw_fd());
        let op = opcode::Recv::new(fd, c.rbuf.as_mut_ptr(), READ_BUF as u32)
            .build()
            .user_data(tag(i, false));
        c.receiving = true;
        push(ring, &op)
    }

    fn start_send(ring: &mut IoUring, c: &mut Conn, i: usize) -> std::io::Result<()> {
        c.out.append(&mut c.next);
        if c.out.is_empty() {
            return Ok(());
        }
        let fd = types::Fd(c.stream.as_raw_fd());
        let op = opcode::Send::new(fd, c.out.as_ptr(), c.out.len() as u32)
            .build()
            .user_data(tag(i, true));
        c.sending = true;
        push(ring, &op)
    }

    fn push(ring: &mut IoUring, op: &io_uring::squeue::Entry) -> std::io::Result<()> {
        if ring.submission().is_full() {
            ring.submit()?;
        }
        // SAFETY: the buffers an entry points at belong to a boxed `Conn` (or are none, for
        // accept), which is dropped only once its recv and send have completed (`sending`
        // and `receiving` are false), and `out` is neither grown nor moved while `sending`
        // (new replies go to `next`). The descriptors stay open as long as their `Conn`.
        unsafe { ring.submission().push(op) }.map_err(std::io::Error::other)
    }
}

mod epoll {
    use super::*;
    use std::collections::HashMap;

    pub fn serve(listener: TcpListener) -> std::io::Result<()> {
        listener.set_nonblocking(true)?;
        // SAFETY: epoll_create1 takes no pointers; it only returns a new descriptor.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(std::io::Error::last_os_error());
        }
        add(ep, listener.as_raw_fd())?;
        let mut conns: HashMap<RawFd, TcpStream> = HashMap::new();
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut buf = vec![0u8; READ_BUF];
        let mut out = Vec::new();
        loop {
            // SAFETY: `events` has room for the `len` events the kernel may write.
            let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1) };
            if n < 0 {
                continue;
            }
            for ev in &events[..n as usize] {
                let fd = ev.u64 as RawFd;
                if fd == listener.as_raw_fd() {
                    while let Ok((s, _)) = listener.accept() {
                        s.set_nonblocking(true)?;
                        s.set_nodelay(true)?;
                        add(ep, s.as_raw_fd())?;
                        conns.insert(s.as_raw_fd(), s);
                    }
                    continue;
                }
                let Some(s) = conns.get_mut(&fd) else {
                    continue;
                };
                match s.read(&mut buf) {
                    Ok(0) => {
                        conns.remove(&fd);
                    }
                    Ok(r) => {
                        out.clear();
                        (0..count_requests(&buf[..r])).for_each(|_| out.extend_from_slice(PONG));
                        // Replies are tiny: a full socket buffer is not a case here.
                        if s.write_all(&out).is_err() {
                            conns.remove(&fd);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        conns.remove(&fd);
                    }
                }
            }
        }
    }

    fn add(ep: RawFd, fd: RawFd) -> std::io::Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a valid event for the duration of the call.
        if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}
