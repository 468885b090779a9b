//! Client sockets on the executor's own io_uring.
//!
//! glommio serves a socket with a readiness poll per read (one `POLL_ADD` after every recv,
//! its completion delivered as task work with a signal and an IPI, its rings being set up
//! without `COOP_TASKRUN`) and then a `recv` and a `send` syscall: docs/BENCHMARKS.md ("The
//! floor at pipeline 1") measured that path at ~5 us per request above what the kernel's TCP
//! path costs. Here each executor has a second ring, set up with `DEFER_TASKRUN` (completions
//! are run when the driver asks, never interrupting the thread) and a pool of provided
//! buffers:
//!
//! * a connection keeps one `recv` armed; the kernel picks a buffer only when data arrives
//!   (an idle connection holds none), and the driver copies the data out and gives the buffer
//!   back at once, so a connection that stops reading never starves the others;
//! * replies are queued on the socket and go out as `send` operations (one in flight per
//!   socket, the next batch queued meanwhile); a writer waits only when its queue is long;
//! * the driver task submits every operation of a loop turn with one `io_uring_enter`, which
//!   also runs the deferred completions; glommio learns of completions through an eventfd
//!   registered with the ring, which the driver reads through glommio only when it has nothing
//!   else to do (the eventfd stays disabled while it is busy).
//!
//! The driver and all sockets live on the executor's thread (`SINGLE_ISSUER`).

use futures_lite::{AsyncRead, AsyncWrite};
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use slab::Slab;
use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{fence, AtomicU16, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Submission queue entries (the completion queue is four times larger; the kernel keeps
/// overflowing completions, see `IORING_FEAT_NODROP`).
const ENTRIES: u32 = 1024;
/// The size of a provided receive buffer (their number is `client-ring-buffers`). Data is
/// copied out as soon as it arrives, so buffers are held only between a completion and the
/// driver's pass over it.
const BUF_SIZE: usize = 16 * 1024;
const GROUP: u16 = 0;
/// Queued output beyond which a writer waits for the socket to take some.
const QUEUE_LIMIT: usize = 1 << 20;
/// Buffer capacity a socket keeps once drained; more is given back.
const KEPT: usize = 64 * 1024;

const RECV: u64 = 0;
const SEND: u64 = 1;
/// The user data of cancellations (their own completions need nothing).
const CANCEL: u64 = u64::MAX;

/// An operation's user data: the socket's generation (so that a late cancellation can never
/// hit a later socket in the same slot), its slot, the kind of operation.
fn tag(sock: &Sock, kind: u64) -> u64 {
    (sock.generation as u64) << 32 | (sock.slot as u64) << 1 | kind
}

/// The executor's client-socket ring.
pub struct Ring {
    uring: RefCell<IoUring>,
    bufs: Buffers,
    socks: RefCell<Slab<Rc<Sock>>>,
    /// Sockets whose recv found no free buffer, to arm again on the next pass.
    starved: RefCell<Vec<usize>>,
    /// Operations that found the submission queue full, in order.
    backlog: RefCell<Vec<squeue::Entry>>,
    /// Completions of the current pass (user data, result, flags).
    done: RefCell<Vec<(u64, i32, u32)>>,
    /// The last socket generation given out.
    generations: Cell<u32>,
    /// Set when an operation was queued: the driver must submit.
    kicked: Cell<bool>,
    /// The driver, while it waits.
    driver: Cell<Option<Waker>>,
    /// The eventfd the kernel signals on completions, read through glommio.
    eventfd: Rc<glommio::io::BufferedFile>,
}

impl Ring {
    /// A ring for this executor's client sockets with `buffers` receive buffers (rounded up
    /// to a power of two), or why the kernel cannot give one (`DEFER_TASKRUN` needs Linux
    /// 6.1, provided-buffer rings 5.19): the caller then serves sockets through glommio.
    pub fn new(buffers: u16) -> io::Result<Rc<Ring>> {
        let mut uring: IoUring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_taskrun_flag()
            .setup_cqsize(ENTRIES * 4)
            .build(ENTRIES)?;
        let bufs = Buffers::new(buffers.clamp(2, 1 << 15).next_power_of_two())?;
        // SAFETY: the entries live in `bufs`, which the ring (its owner) outlives being
        // registered with: `Ring`'s fields drop `uring` first (declaration order), closing
        // the ring before the memory goes.
        unsafe {
            uring.submitter().register_buf_ring_with_flags(
                bufs.entries as u64,
                bufs.count,
                GROUP,
                0,
            )?
        };
        // SAFETY: eventfd takes no pointers and returns a new descriptor or -1. A blocking
        // eventfd, so that glommio's read of it waits (io_uring polls it) instead of failing
        // with EAGAIN.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `efd` is a new descriptor nothing else owns.
        let efd = unsafe { OwnedFd::from_raw_fd(efd) };
        uring.submitter().register_eventfd(efd.as_raw_fd())?;
        let _ = uring.submitter().register_ring_fd();
        uring.completion().disable_eventfd();
        // SAFETY: glommio takes over the descriptor, which we give up with `into_raw_fd`.
        let eventfd = unsafe {
            glommio::io::BufferedFile::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(efd))
        };
        Ok(Rc::new(Ring {
            uring: RefCell::new(uring),
            bufs,
            socks: RefCell::new(Slab::new()),
            starved: RefCell::new(Vec::new()),
            backlog: RefCell::new(Vec::new()),
            done: RefCell::new(Vec::new()),
            generations: Cell::new(0),
            kicked: Cell::new(false),
            driver: Cell::new(None),
            eventfd: Rc::new(eventfd),
        }))
    }

    /// Serves the connected socket `fd` through this ring from now on.
    pub fn adopt(self: &Rc<Ring>, fd: OwnedFd) -> RingStream {
        let mut socks = self.socks.borrow_mut();
        let entry = socks.vacant_entry();
        let sock = Rc::new(Sock {
            fd,
            slot: entry.key(),
            generation: {
                let g = self.generations.get().wrapping_add(1);
                self.generations.set(g);
                g
            },
            input: Cell::new(Input::Idle),
            pending: RefCell::new(Vec::new()),
            read_waker: Cell::new(None),
            queued: RefCell::new(Vec::new()),
            inflight: RefCell::new(Vec::new()),
            sent: Cell::new(0),
            sending: Cell::new(false),
            write_error: Cell::new(None),
            write_waker: Cell::new(None),
            closed: Cell::new(false),
        });
        entry.insert(sock.clone());
        RingStream {
            ring: self.clone(),
            sock,
        }
    }

    /// Queues an operation; the driver submits it on its next pass.
    ///
    /// # Safety
    /// Whatever `sqe` points at (a socket's `inflight` buffer) must stay valid and unmoved
    /// until its completion has been reaped, and its descriptor open.
    unsafe fn push(&self, sqe: &squeue::Entry) {
        let mut uring = self.uring.borrow_mut();
        if uring.submission().is_full() {
            // Rare (1024 operations queued in one turn): submit what is there first.
            let _ = uring.submit();
        }
        let mut backlog = self.backlog.borrow_mut();
        // SAFETY: the caller keeps the entry's buffers and descriptor valid (above).
        if !backlog.is_empty() || unsafe { uring.submission().push(sqe) }.is_err() {
            // Still full (the kernel refused the submit): the next pass queues it, after
            // the ones waiting before it.
            backlog.push(sqe.clone());
        }
        drop((uring, backlog));
        self.kicked.set(true);
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    fn arm_recv(&self, sock: &Sock) {
        sock.input.set(Input::Armed);
        let sqe = opcode::Recv::new(
            types::Fd(sock.fd.as_raw_fd()),
            std::ptr::null_mut(),
            BUF_SIZE as u32,
        )
        .buf_group(GROUP)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT)
        .user_data(tag(sock, RECV));
        // SAFETY: the kernel writes into a provided buffer (owned by `bufs`, handed back to
        // us in the completion), not into memory of ours; the socket (and its descriptor)
        // stays in `socks` until this recv completes (`Sock::idle`).
        unsafe { self.push(&sqe) };
    }

    /// Starts sending the socket's queued output unless a send is already in flight.
    fn start_send(&self, sock: &Sock) {
        if sock.sending.get() || sock.queued.borrow().is_empty() {
            return;
        }
        {
            let mut inflight = sock.inflight.borrow_mut();
            std::mem::swap(&mut *inflight, &mut *sock.queued.borrow_mut());
        }
        sock.sent.set(0);
        self.push_send(sock);
    }

    fn push_send(&self, sock: &Sock) {
        let inflight = sock.inflight.borrow();
        let rest = &inflight[sock.sent.get()..];
        sock.sending.set(true);
        let sqe = opcode::Send::new(
            types::Fd(sock.fd.as_raw_fd()),
            rest.as_ptr(),
            rest.len().min(u32::MAX as usize) as u32,
        )
        .flags(libc::MSG_NOSIGNAL)
        .build()
        .user_data(tag(sock, SEND));
        // SAFETY: `inflight` is neither written nor moved while `sending` is set (new output
        // goes to `queued`, and `Sock` lives in `socks` until the send completes).
        unsafe { self.push(&sqe) };
    }

    /// One pass: submits what was queued, runs and reaps completions. True when anything
    /// happened (the driver then lets the woken tasks run and comes back).
    fn pass(&self) -> bool {
        self.kicked.set(false);
        for slot in std::mem::take(&mut *self.starved.borrow_mut()) {
            let sock = self.socks.borrow().get(slot).cloned();
            if let Some(s) = sock.filter(|s| !s.closed.get() && s.input.get() == Input::Idle) {
                self.arm_recv(&s);
            }
        }
        let mut batch = std::mem::take(&mut *self.done.borrow_mut());
        {
            let mut uring = self.uring.borrow_mut();
            let mut backlog = self.backlog.borrow_mut();
            if !backlog.is_empty() {
                let mut sq = uring.submission();
                let room = sq.capacity() - sq.len();
                let n = room.min(backlog.len());
                // SAFETY: these entries were pushed under `push`'s contract, which holds
                // until their completions.
                let _ = unsafe { sq.push_multiple(&backlog[..n]) };
                backlog.drain(..n);
            }
            drop(backlog);
            let work = {
                let sq = uring.submission();
                !sq.is_empty() || sq.taskrun() || sq.cq_overflow()
            };
            if work {
                // Also runs the deferred completions (GETEVENTS with the taskrun flag set).
                if let Err(e) = uring.submit() {
                    if e.raw_os_error() != Some(libc::EBUSY) {
                        crate::log::warning(&format!("client ring: {e}"));
                    }
                }
            }
            batch.extend(
                uring
                    .completion()
                    .map(|c| (c.user_data(), c.result(), c.flags())),
            );
        }
        let any = !batch.is_empty();
        for &(data, res, flags) in &batch {
            self.complete(data, res, flags);
        }
        batch.clear();
        *self.done.borrow_mut() = batch;
        any
    }

    fn complete(&self, data: u64, res: i32, flags: u32) {
        if data == CANCEL {
            return;
        }
        let slot = (data >> 1 & 0x7fff_ffff) as usize;
        let sock = self.socks.borrow().get(slot).cloned();
        let Some(sock) = sock.filter(|s| s.generation == (data >> 32) as u32) else {
            return;
        };
        if data & 1 == RECV {
            self.received(&sock, res, flags);
        } else {
            self.sent(&sock, res);
        }
        if sock.closed.get() && sock.idle() {
            self.socks.borrow_mut().remove(slot);
        }
    }

    fn received(&self, sock: &Sock, res: i32, flags: u32) {
        if let Some(bid) = cqueue::buffer_select(flags) {
            if res > 0 && !sock.closed.get() {
                sock.pending
                    .borrow_mut()
                    .extend_from_slice(self.bufs.get(bid, res as usize));
            }
            self.bufs.recycle(bid);
        }
        sock.input.set(match res {
            n if n > 0 => Input::Data,
            0 => Input::Eof,
            e if -e == libc::ENOBUFS => {
                // Every buffer was taken in this pass: arm again on the next one.
                self.starved.borrow_mut().push(sock.slot);
                Input::Idle
            }
            e => Input::Error(-e),
        });
        if let Some(w) = sock.read_waker.take() {
            w.wake();
        }
    }

    fn sent(&self, sock: &Sock, res: i32) {
        sock.sending.set(false);
        if res < 0 {
            sock.write_error.set(Some(-res));
            sock.queued.borrow_mut().clear();
        } else {
            let sent = sock.sent.get() + res as usize;
            sock.sent.set(sent);
            let mut inflight = sock.inflight.borrow_mut();
            if sent < inflight.len() {
                drop(inflight);
                self.push_send(sock);
                return;
            }
            inflight.clear();
            if inflight.capacity() > KEPT {
                *inflight = Vec::new();
            }
            drop(inflight);
            self.start_send(sock);
        }
        if let Some(w) = sock.write_waker.take() {
            w.wake();
        }
    }

    /// What the driver may not sleep through: operations to submit, completions to reap,
    /// sockets to re-arm; or only the taskrun flag (see `drive`).
    fn work(&self) -> Work {
        let mut uring = self.uring.borrow_mut();
        let (queued, taskrun) = {
            let sq = uring.submission();
            (!sq.is_empty() || sq.cq_overflow(), sq.taskrun())
        };
        if queued
            || !uring.completion().is_empty()
            || !self.starved.borrow().is_empty()
            || !self.backlog.borrow().is_empty()
        {
            Work::Pending
        } else if taskrun {
            Work::OnlyTaskrun
        } else {
            Work::None
        }
    }

    fn cancel(&self, sock: &Sock, kind: u64) {
        let sqe = opcode::AsyncCancel::new(tag(sock, kind))
            .build()
            .user_data(CANCEL);
        // SAFETY: a cancellation points at no memory.
        unsafe { self.push(&sqe) };
    }
}

/// How long the driver sleeps at first when only a stale taskrun flag says there is work
/// (see `drive`), and at most, doubling in between.
const STALE_WAIT_MIN: Duration = Duration::from_millis(1);
const STALE_WAIT_MAX: Duration = Duration::from_millis(64);

/// Runs the ring for as long as the executor lives: spawn once per executor.
pub async fn drive(ring: Rc<Ring>) {
    let mut wakeup: Option<Pin<Box<dyn Future<Output = ()>>>> = None;
    let mut stale_wait = STALE_WAIT_MIN;
    loop {
        if ring.pass() {
            // Let the woken connections run; their operations go out on the next pass.
            stale_wait = STALE_WAIT_MIN;
            futures_lite::future::yield_now().await;
            continue;
        }
        if ring.kicked.get() {
            continue;
        }
        // Nothing to do. Enable the eventfd, then look again: work that arrived while it was
        // disabled set the taskrun flag or left completions (the kernel signals the eventfd
        // only when deferred work goes from none to some).
        ring.uring.borrow_mut().completion().enable_eventfd();
        fence(Ordering::SeqCst);
        let timeout = match ring.work() {
            Work::Pending => {
                // Never loop without letting the executor's other tasks run.
                ring.uring.borrow_mut().completion().disable_eventfd();
                futures_lite::future::yield_now().await;
                continue;
            }
            Work::None => None,
            // The kernel sets IORING_SQ_TASKRUN when it queues deferred work and clears it
            // when a run starts; work queued during a run is run by it but leaves the flag
            // set, and an enter that finds no work runs (and clears) nothing. The pass just
            // made entered with the flag set and got nothing, so the flag is most likely
            // stale: sleep on the eventfd. But work queued between that enter and enabling
            // the eventfd would look the same and signal nothing, so not for long (looping
            // on a stale flag instead stalled the whole executor: nothing else ran).
            Work::OnlyTaskrun => {
                let wait = stale_wait;
                stale_wait = (stale_wait * 2).min(STALE_WAIT_MAX);
                Some(wait)
            }
        };
        let f = wakeup.get_or_insert_with(|| {
            let file = ring.eventfd.clone();
            Box::pin(async move {
                if let Err(e) = file.read_at(0, 8).await {
                    // Not seen on any kernel we know; rather than spin, look every
                    // millisecond.
                    log_once(&format!("client ring: cannot wait on its eventfd: {e}"));
                    glommio::timer::sleep(Duration::from_millis(1)).await;
                }
            })
        });
        let mut timer = timeout.map(|t| Box::pin(glommio::timer::sleep(t)));
        let signalled = std::future::poll_fn(|cx| {
            ring.driver.set(Some(cx.waker().clone()));
            if f.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            if ring.kicked.get()
                || timer
                    .as_mut()
                    .is_some_and(|t| t.as_mut().poll(cx).is_ready())
            {
                return Poll::Ready(false);
            }
            Poll::Pending
        })
        .await;
        ring.driver.set(None);
        if signalled {
            wakeup = None;
        }
        ring.uring.borrow_mut().completion().disable_eventfd();
    }
}

fn log_once(msg: &str) {
    thread_local!(static SAID: Cell<bool> = const { Cell::new(false) });
    if !SAID.with(|s| s.replace(true)) {
        crate::log::warning(msg);
    }
}

/// What the driver found to do (see [`Ring::work`]).
enum Work {
    Pending,
    OnlyTaskrun,
    None,
}

/// What a socket's reading side has.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Input {
    /// No recv armed, nothing received.
    Idle,
    /// A recv is armed.
    Armed,
    /// `pending` holds received bytes (no recv armed until they are read).
    Data,
    /// The peer closed its side.
    Eof,
    /// The socket failed (errno).
    Error(i32),
}

struct Sock {
    fd: OwnedFd,
    slot: usize,
    generation: u32,
    input: Cell<Input>,
    /// Received bytes not read yet (at most one recv's worth).
    pending: RefCell<Vec<u8>>,
    read_waker: Cell<Option<Waker>>,
    /// Output waiting for the send in flight to finish.
    queued: RefCell<Vec<u8>>,
    /// Output being sent (the kernel reads it while `sending`).
    inflight: RefCell<Vec<u8>>,
    /// How much of `inflight` went out.
    sent: Cell<usize>,
    sending: Cell<bool>,
    write_error: Cell<Option<i32>>,
    write_waker: Cell<Option<Waker>>,
    /// The stream was dropped: the socket goes once its output is out and its operations
    /// have completed.
    closed: Cell<bool>,
}

impl Sock {
    /// No operation of this socket is in the kernel's hands, and no output waits: a closed
    /// socket can go.
    fn idle(&self) -> bool {
        self.input.get() != Input::Armed && !self.sending.get() && self.queued.borrow().is_empty()
    }
}

/// A client connection served through the executor's [`Ring`].
pub struct RingStream {
    ring: Rc<Ring>,
    sock: Rc<Sock>,
}

impl RingStream {
    /// Hands `buf` to the socket (taking its allocation when nothing is queued, so replies are
    /// not copied) and leaves `buf` empty. Waits only while the queue is over its limit.
    pub async fn send_vec(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_room(cx)).await?;
        let sock = &self.sock;
        {
            let mut queued = sock.queued.borrow_mut();
            if queued.is_empty() {
                std::mem::swap(&mut *queued, buf);
            } else {
                queued.extend_from_slice(buf);
            }
        }
        buf.clear();
        self.ring.start_send(sock);
        Ok(())
    }

    /// Ready once the queue has room (or the socket failed).
    fn poll_room(&self, cx: &Context<'_>) -> Poll<io::Result<()>> {
        let sock = &self.sock;
        if let Some(e) = sock.write_error.get() {
            return Poll::Ready(Err(io::Error::from_raw_os_error(e)));
        }
        if sock.queued.borrow().len() >= QUEUE_LIMIT {
            sock.write_waker.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    pub fn as_raw_fd(&self) -> RawFd {
        self.sock.fd.as_raw_fd()
    }

    /// Gives up the output not sent yet (a killed client): dropping the stream then closes
    /// the socket at once instead of after its output.
    pub fn discard(&self) {
        let sock = &self.sock;
        sock.queued.borrow_mut().clear();
        if sock.sending.get() {
            self.ring.cancel(sock, SEND);
        }
    }
}

impl RingStream {
    /// Hands what was received to `take` (no intermediate buffer), or waits for data.
    /// Ready(0): the peer closed its side.
    pub fn poll_take(
        &mut self,
        cx: &Context<'_>,
        take: impl FnOnce(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let sock = &self.sock;
        match sock.input.get() {
            Input::Data => {
                let mut pending = sock.pending.borrow_mut();
                let n = pending.len();
                take(&pending);
                pending.clear();
                if pending.capacity() > KEPT {
                    *pending = Vec::new();
                }
                drop(pending);
                // Read ahead: the next request's bytes are taken as soon as they come.
                self.ring.arm_recv(sock);
                Poll::Ready(Ok(n))
            }
            Input::Eof => Poll::Ready(Ok(0)),
            Input::Error(e) => Poll::Ready(Err(io::Error::from_raw_os_error(e))),
            Input::Idle | Input::Armed => {
                if sock.input.get() == Input::Idle {
                    self.ring.arm_recv(sock);
                }
                sock.read_waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

impl AsyncRead for RingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let sock = self.sock.clone();
        if sock.input.get() == Input::Data && sock.pending.borrow().len() > buf.len() {
            // Only part of it fits: the rest stays for the next read.
            let mut pending = sock.pending.borrow_mut();
            let n = buf.len();
            buf.copy_from_slice(&pending[..n]);
            pending.drain(..n);
            return Poll::Ready(Ok(n));
        }
        let mut n = 0;
        self.poll_take(cx, |data| {
            buf[..data.len()].copy_from_slice(data);
            n = data.len();
        })
        .map_ok(|_| n)
    }
}

impl AsyncWrite for RingStream {
    /// Queues `buf` (up to the queue's limit) and reports it written: the bytes go out in
    /// order, and a failure shows on the next write or flush.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_room(cx))?;
        let sock = &self.sock;
        let n = {
            let mut queued = sock.queued.borrow_mut();
            let n = buf.len().min(QUEUE_LIMIT - queued.len());
            queued.extend_from_slice(&buf[..n]);
            n
        };
        self.ring.start_send(sock);
        Poll::Ready(Ok(n))
    }

    /// Ready once everything written went out.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let sock = &self.sock;
        if let Some(e) = sock.write_error.get() {
            return Poll::Ready(Err(io::Error::from_raw_os_error(e)));
        }
        if sock.sending.get() || !sock.queued.borrow().is_empty() {
            sock.write_waker.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.as_mut().poll_flush(cx))?;
        // SAFETY: shutdown takes no pointers; the descriptor is open (we own it).
        unsafe { libc::shutdown(self.sock.fd.as_raw_fd(), libc::SHUT_WR) };
        Poll::Ready(Ok(()))
    }
}

impl Drop for RingStream {
    /// Output written goes out after the drop, as the kernel sends a closed socket's
    /// buffered bytes (unless `discard`ed); the recv in flight is cancelled, and the
    /// descriptor closes once nothing of the socket is in the kernel's hands.
    fn drop(&mut self) {
        let sock = &self.sock;
        sock.closed.set(true);
        sock.pending.borrow_mut().clear();
        if sock.input.get() == Input::Armed {
            self.ring.cancel(sock, RECV);
        }
        if sock.idle() {
            self.ring.socks.borrow_mut().try_remove(sock.slot);
        }
    }
}

/// The provided buffers: `count` buffers of `BUF_SIZE` bytes, and the ring of entries
/// through which they are handed to the kernel.
struct Buffers {
    /// A power of two.
    count: u16,
    entries: *mut types::BufRingEntry,
    memory: *mut u8,
    /// Our copy of the ring's tail (the kernel reads the shared one).
    tail: Cell<u16>,
}

impl Buffers {
    fn entries_layout(count: u16) -> Layout {
        // The kernel wants the entries page-aligned.
        Layout::from_size_align(
            count as usize * std::mem::size_of::<types::BufRingEntry>(),
            4096,
        )
        .expect("a valid layout")
    }

    fn memory_layout(count: u16) -> Layout {
        Layout::from_size_align(count as usize * BUF_SIZE, 64).expect("a valid layout")
    }

    fn new(count: u16) -> io::Result<Buffers> {
        // SAFETY: both layouts have a non-zero size.
        let entries = unsafe { std::alloc::alloc_zeroed(Self::entries_layout(count)) };
        // SAFETY: as above.
        let memory = unsafe { std::alloc::alloc(Self::memory_layout(count)) };
        if entries.is_null() || memory.is_null() {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
        let bufs = Buffers {
            count,
            entries: entries.cast(),
            memory,
            tail: Cell::new(0),
        };
        for bid in 0..count {
            bufs.recycle(bid);
        }
        Ok(bufs)
    }

    /// The first `len` bytes the kernel wrote into buffer `bid`.
    fn get(&self, bid: u16, len: usize) -> &[u8] {
        assert!(bid < self.count && len <= BUF_SIZE);
        // SAFETY: buffer `bid` lies within `memory` (checked above) and the kernel is done
        // with it: its completion handed it to us, and it is given back only after this
        // slice's last use (`recycle`, by the same caller).
        unsafe { std::slice::from_raw_parts(self.memory.add(bid as usize * BUF_SIZE), len) }
    }

    /// Hands buffer `bid` (back) to the kernel.
    fn recycle(&self, bid: u16) {
        let tail = self.tail.get();
        // SAFETY: the index is below `count`, within the entries' allocation; the kernel reads an
        // entry only once the shared tail (stored below, with release ordering) covers it.
        // The entry's fields written here do not overlap the tail (`resv` of entry 0).
        unsafe {
            let entry = &mut *self.entries.add((tail & (self.count - 1)) as usize);
            entry.set_addr(self.memory.add(bid as usize * BUF_SIZE) as u64);
            entry.set_len(BUF_SIZE as u32);
            entry.set_bid(bid);
        }
        let tail = tail.wrapping_add(1);
        self.tail.set(tail);
        // SAFETY: the tail is a u16 inside the entries' allocation, suitably aligned, and the
        // kernel only reads it; AtomicU16 has the same layout as u16.
        let shared =
            unsafe { AtomicU16::from_ptr(types::BufRingEntry::tail(self.entries) as *mut u16) };
        shared.store(tail, Ordering::Release);
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with these layouts; the ring that used them is closed
        // (`Ring::uring` drops before `Ring::bufs`).
        unsafe {
            std::alloc::dealloc(self.entries.cast(), Self::entries_layout(self.count));
            std::alloc::dealloc(self.memory, Self::memory_layout(self.count));
        }
    }
}
