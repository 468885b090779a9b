//! The default engine: one level-triggered epoll loop per thread over
//! non-blocking sockets. Per wake-up and ready connection it costs one `read`
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

pub fn run(w: &mut Worker, streams: Vec<TcpStream>) -> Result<(), String> {
    let setup = |e: io::Error| format!("epoll setup: {e}");
    let ep = Epoll::new().map_err(setup)?;
    for (i, s) in streams.iter().enumerate() {
        s.set_nonblocking(true).map_err(setup)?;
        ep.add(s.as_raw_fd(), IN, i as u64).map_err(setup)?;
    }
    let n = w.clients.len();
    let wl: &Workload = &w.workload;
    let clients = &mut w.clients;
    let mut stats = Stats::new(wl.commands.len());
    let mut out_armed = vec![false; n];
    let mut closed = vec![false; n];
    let mut active = n;
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; n.clamp(16, 1024)];
    let open_loop = clients.iter().any(Client::is_paced);

    let start = now_ns();
    w.reporter.begin(start);
    let end = w.duration_ns.map(|d| start + d);
    let mut drain_deadline: Option<u64> = None;
    for c in clients.iter_mut() {
        c.start(start);
    }
    let mut now = start;
    let mut sweep = true;
    for i in 0..n {
        service(&mut clients[i], &streams[i], false, wl, &mut stats);
    }

    loop {
        if sweep {
            // After start/stop/abandon any client may have finished without an event.
            for i in 0..n {
                if !closed[i] && clients[i].finished() {
                    let _ = ep.delete(streams[i].as_raw_fd());
                    closed[i] = true;
                    active -= 1;
                }
            }
            sweep = false;
        }
        if active == 0 {
            break;
        }

        let mut wake = w.reporter.next_boundary();
        match (end, drain_deadline) {
            (_, Some(d)) => wake = wake.min(d),
            (Some(e), None) => wake = wake.min(e),
            (None, None) => {}
        }
        if open_loop {
            for (i, c) in clients.iter().enumerate() {
                if let (false, Some(due)) = (closed[i], c.next_due()) {
                    wake = wake.min(due);
                }
            }
        }
        let ready = ep
            .wait(&mut events, wake.saturating_sub(now))
            .map_err(|e| format!("epoll_wait: {e}"))?;

        for ev in &events[..ready] {
            let i = ev.u64 as usize;
            if closed[i] {
                continue;
            }
            let readable = ev.events & !OUT != 0;
            service(&mut clients[i], &streams[i], readable, wl, &mut stats);
            settle(i, &mut clients[i], &streams[i], &ep, &mut out_armed, &mut closed, &mut active);
        }
        now = now_ns();
        if open_loop {
            for i in 0..n {
                if !closed[i] && clients[i].next_due().is_some_and(|d| d <= now) {
                    service(&mut clients[i], &streams[i], false, wl, &mut stats);
                    settle(i, &mut clients[i], &streams[i], &ep, &mut out_armed, &mut closed, &mut active);
                }
            }
        }
        if let (Some(e), None) = (end, drain_deadline) {
            if now >= e {
                clients.iter_mut().for_each(Client::stop);
                drain_deadline = Some(now + DRAIN_NS);
                sweep = true;
            }
        }
        if drain_deadline.is_some_and(|d| now >= d) {
            for (i, c) in clients.iter_mut().enumerate() {
                if !closed[i] {
                    c.abandon(&mut stats);
                }
            }
            sweep = true;
        }
        w.reporter.tick(now, &mut stats);
    }
    w.reporter.finish(now_ns(), stats);
    Ok(())
}

/// Reads once (if the socket was reported readable), queues new requests and
/// writes as much as the socket takes. Connection failures end the client.
fn service(c: &mut Client, s: &TcpStream, readable: bool, wl: &Workload, stats: &mut Stats) {
    if let Err(kind) = exchange(c, s, readable, wl, stats) {
        c.fail(kind, stats);
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
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// Closes finished clients and arms `EPOLLOUT` exactly while a write is pending.
fn settle(
    i: usize,
    c: &mut Client,
    s: &TcpStream,
    ep: &Epoll,
    out_armed: &mut [bool],
    closed: &mut [bool],
    active: &mut usize,
) {
    if c.finished() {
        let _ = ep.delete(s.as_raw_fd());
        closed[i] = true;
        *active -= 1;
        return;
    }
    let want_out = !c.unwritten().is_empty();
    if want_out != out_armed[i] {
        let events = if want_out { IN | OUT } else { IN };
        if ep.modify(s.as_raw_fd(), events, i as u64).is_ok() {
            out_armed[i] = want_out;
        }
    }
}
