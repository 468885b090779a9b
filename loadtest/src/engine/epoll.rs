//! The default engine: one level-triggered epoll loop per thread over
//! non-blocking sockets. Per ready connection and wake-up it costs one `read`
//! and one `write`; `EPOLLOUT` is armed only while a write is incomplete.

use super::io_error_kind;
use crate::client::Client;
use crate::run::{Worker, DRAIN_NS};
use crate::stats::Stats;
use crate::sys::{now_ns, Epoll};
use crate::workload::Workload;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;

struct Conn {
    client: Client,
    stream: TcpStream,
    out_armed: bool,
    closed: bool,
}

struct EventLoop<'a> {
    ep: Epoll,
    conns: Vec<Conn>,
    active: usize,
    wl: &'a Workload,
    stats: Stats,
}

pub fn run(w: &mut Worker, streams: Vec<TcpStream>) -> Result<(), String> {
    let setup = |e: io::Error| format!("epoll setup: {e}");
    let ep = Epoll::new().map_err(setup)?;
    let mut conns = Vec::with_capacity(streams.len());
    for (i, (client, stream)) in std::mem::take(&mut w.clients)
        .into_iter()
        .zip(streams)
        .enumerate()
    {
        stream.set_nonblocking(true).map_err(setup)?;
        ep.add(stream.as_raw_fd(), IN, i as u64).map_err(setup)?;
        conns.push(Conn {
            client,
            stream,
            out_armed: false,
            closed: false,
        });
    }
    let wl = w.workload.clone();
    let mut lp = EventLoop {
        ep,
        active: conns.len(),
        conns,
        stats: Stats::new(wl.commands.len()),
        wl: &wl,
    };
    let open_loop = lp.conns.iter().any(|c| c.client.is_paced());
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; lp.conns.len().clamp(16, 1024)];

    let start = now_ns();
    w.reporter.begin(start);
    let end = w.duration_ns.map(|d| start + d);
    let mut drain_deadline: Option<u64> = None;
    for i in 0..lp.conns.len() {
        lp.conns[i].client.start(start);
        lp.service(i, false);
    }
    let mut now = start;

    while lp.active > 0 {
        let mut wake = w.reporter.next_boundary();
        match (end, drain_deadline) {
            (_, Some(d)) => wake = wake.min(d),
            (Some(e), None) => wake = wake.min(e),
            (None, None) => {}
        }
        if open_loop {
            if let Some(due) = lp.next_due() {
                wake = wake.min(due);
            }
        }
        let ready = lp
            .ep
            .wait(&mut events, wake.saturating_sub(now))
            .map_err(|e| format!("epoll_wait: {e}"))?;
        for ev in &events[..ready] {
            lp.service(ev.u64 as usize, ev.events & !OUT != 0);
        }

        now = now_ns();
        if open_loop {
            for i in 0..lp.conns.len() {
                if lp.conns[i].client.next_due().is_some_and(|d| d <= now) {
                    lp.service(i, false);
                }
            }
        }
        if let (Some(e), None) = (end, drain_deadline) {
            if now >= e {
                lp.for_each_open(Client::stop);
                drain_deadline = Some(now + DRAIN_NS);
            }
        }
        if drain_deadline.is_some_and(|d| now >= d) {
            let stats = &mut lp.stats;
            lp.conns
                .iter_mut()
                .filter(|c| !c.closed)
                .for_each(|c| c.client.abandon(stats));
            lp.for_each_open(|_| {});
        }
        w.reporter.tick(now, &mut lp.stats);
    }
    w.reporter.finish(now_ns(), lp.stats);
    Ok(())
}

impl EventLoop<'_> {
    /// Reads once (if the socket was reported readable), queues the requests that
    /// now fit and writes as much as the socket takes; then closes the connection
    /// if it is done, or arms `EPOLLOUT` exactly while a write is pending.
    fn service(&mut self, i: usize, readable: bool) {
        let c = &mut self.conns[i];
        if c.closed {
            return;
        }
        if let Err(kind) = exchange(&mut c.client, &c.stream, readable, self.wl, &mut self.stats) {
            c.client.fail(kind, &mut self.stats);
        }
        self.settle(i);
    }

    fn settle(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if c.closed {
            return;
        }
        if c.client.finished() {
            let _ = self.ep.delete(c.stream.as_raw_fd());
            c.closed = true;
            self.active -= 1;
            return;
        }
        let want_out = !c.client.unwritten().is_empty();
        if want_out != c.out_armed {
            let events = if want_out { IN | OUT } else { IN };
            if self
                .ep
                .modify(c.stream.as_raw_fd(), events, i as u64)
                .is_ok()
            {
                c.out_armed = want_out;
            }
        }
    }

    /// Applies `f` to every open client, then closes those that are now finished.
    fn for_each_open(&mut self, mut f: impl FnMut(&mut Client)) {
        for i in 0..self.conns.len() {
            if !self.conns[i].closed {
                f(&mut self.conns[i].client);
                self.settle(i);
            }
        }
    }

    /// Open loop: the earliest time any connection is due to send.
    fn next_due(&self) -> Option<u64> {
        self.conns
            .iter()
            .filter(|c| !c.closed)
            .filter_map(|c| c.client.next_due())
            .min()
    }
}

fn exchange(
    c: &mut Client,
    mut s: &TcpStream,
    readable: bool,
    wl: &Workload,
    stats: &mut Stats,
) -> Result<(), &'static str> {
    if readable {
        match s.read(c.read_space()) {
            Ok(0) => return Err("conn:closed"),
            // Stamped per connection, not per wake-up: replies count when this loop
            // sees them and new requests when they are actually written.
            Ok(n) => c.received(n, now_ns(), stats)?,
            Err(e) if would_block(&e) => {}
            Err(e) => return Err(io_error_kind(&e)),
        }
    }
    c.fill(now_ns(), wl, stats);
    while !c.unwritten().is_empty() {
        match s.write(c.unwritten()) {
            Ok(n) => c.wrote(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(io_error_kind(&e)),
        }
    }
    Ok(())
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
