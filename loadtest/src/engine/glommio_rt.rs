//! Alternative engine: a glommio (io_uring) executor per thread, one task per
//! connection. Kept for comparison with the epoll engine (see
//! docs/SHARDIS_BENCH.md for the measurement that made epoll the default).

use super::io_error_kind;
use crate::client::Client;
use crate::run::{Reporter, Worker, DRAIN_NS};
use crate::stats::Stats;
use crate::sys::now_ns;
use crate::workload::Workload;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Small on purpose: sockets do not use glommio's registered DMA buffers, and
/// the default (10 MiB) would not fit a typical RLIMIT_MEMLOCK once per thread.
const IO_MEMORY: usize = 512 << 10;

pub fn executor(thread: usize) -> Result<LocalExecutor, String> {
    LocalExecutorBuilder::new(Placement::Unbound)
        .name(&format!("bench-{thread}"))
        .io_memory(IO_MEMORY)
        .make()
        .map_err(|e| {
            format!(
                "cannot start the glommio executor ({e}); raise `ulimit -l` or use --engine epoll"
            )
        })
}

struct Shared {
    workload: Arc<Workload>,
    stats: RefCell<Stats>,
    /// Absolute deadline after which reads give up (test time + drain), if any.
    give_up_at: Option<u64>,
    end: Option<u64>,
    stopping: Cell<bool>,
}

pub fn run(ex: LocalExecutor, w: Worker, streams: Vec<std::net::TcpStream>) -> Result<(), String> {
    let Worker {
        clients,
        workload,
        duration_ns,
        reporter,
        ..
    } = w;
    ex.run(async move {
        let start = now_ns();
        let reporter = Rc::new(RefCell::new(reporter));
        reporter.borrow_mut().begin(start);
        let end = duration_ns.map(|d| start + d);
        let shared = Rc::new(Shared {
            stats: RefCell::new(Stats::new(workload.commands.len())),
            workload,
            give_up_at: end.map(|e| e + DRAIN_NS),
            end,
            stopping: Cell::new(false),
        });
        let mut tasks = Vec::with_capacity(clients.len());
        for (mut c, s) in clients.into_iter().zip(streams) {
            c.start(start);
            // SAFETY: `into_raw_fd` hands over sole ownership of an open, connected
            // socket; `from_raw_fd` takes it, so the descriptor has exactly one owner.
            let stream = unsafe { glommio::net::TcpStream::from_raw_fd(s.into_raw_fd()) };
            tasks.push(glommio::spawn_local(connection(c, stream, shared.clone())).detach());
        }
        let ticker = glommio::spawn_local(ticker(reporter.clone(), shared.clone())).detach();
        for t in tasks {
            t.await;
        }
        ticker.cancel();
        let stats = shared.stats.borrow_mut().take();
        reporter.borrow_mut().finish(now_ns(), stats);
    });
    Ok(())
}

/// Ships interval statistics and announces the end of the test time.
async fn ticker(reporter: Rc<RefCell<Reporter>>, sh: Rc<Shared>) {
    loop {
        let now = now_ns();
        if sh.end.is_some_and(|e| now >= e) {
            sh.stopping.set(true);
        }
        reporter.borrow_mut().tick(now, &mut sh.stats.borrow_mut());
        let mut wake = reporter.borrow().next_boundary();
        if let (Some(e), false) = (sh.end, sh.stopping.get()) {
            wake = wake.min(e);
        }
        glommio::timer::sleep(Duration::from_nanos(wake.saturating_sub(now).max(1_000))).await;
    }
}

async fn connection(mut c: Client, mut s: glommio::net::TcpStream, sh: Rc<Shared>) {
    let wl = &*sh.workload;
    let paced = c.is_paced();
    loop {
        if sh.stopping.get() {
            c.stop();
        }
        c.fill(now_ns(), wl, &mut sh.stats.borrow_mut());
        while !c.unwritten().is_empty() {
            match s.write(c.unwritten()).await {
                Ok(n) => c.wrote(n),
                Err(e) => return c.fail(io_error_kind(&e), &mut sh.stats.borrow_mut()),
            }
        }
        if c.finished() {
            return;
        }
        // Wake for the next paced send or the give-up time; closed loop without a
        // test time just waits for replies.
        let now = now_ns();
        let mut wake = sh.give_up_at;
        if paced {
            if let Some(due) = c.next_due() {
                wake = Some(wake.map_or(due, |w| w.min(due)));
            }
        }
        let timeout = wake.map(|w| Duration::from_nanos(w.saturating_sub(now).max(1_000)));
        if s.set_read_timeout(timeout).is_err() {
            return c.fail("conn:io-error", &mut sh.stats.borrow_mut());
        }
        match s.read(c.read_space()).await {
            Ok(0) => return c.fail("conn:closed", &mut sh.stats.borrow_mut()),
            Ok(n) => {
                if let Err(kind) = c.received(n, now_ns(), &mut sh.stats.borrow_mut()) {
                    return c.fail(kind, &mut sh.stats.borrow_mut());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                if sh.give_up_at.is_some_and(|g| now_ns() >= g) {
                    return c.abandon(&mut sh.stats.borrow_mut());
                }
            }
            Err(e) => return c.fail(io_error_kind(&e), &mut sh.stats.borrow_mut()),
        }
    }
}
