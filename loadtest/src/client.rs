//! One connection's request/reply state machine, independent of the I/O runtime.
//!
//! The engine does the syscalls; the client decides what to send (`fill`),
//! what is still unwritten (`unwritten`/`wrote`) and what the bytes read mean
//! (`received`). Buffers are allocated once and reused: the steady state does
//! not touch the allocator.

use crate::keys::{KeyGen, Rng};
use crate::protocol::{Parse, ReplyKind, ReplyParser};
use crate::stats::Stats;
use crate::workload::Workload;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const READ_BUF: usize = 16 * 1024;
/// Compact or grow the read buffer when less than this is free at its end.
const MIN_READ: usize = 4 * 1024;

#[derive(Clone, Copy, Debug)]
struct InFlight {
    cmd: u32,
    /// When the request was sent (closed loop) or *meant* to be sent (open loop).
    t_ns: u64,
}

/// Open-loop pacing: one request every `interval_ns`, starting `phase_ns` after start.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub interval_ns: u64,
    pub phase_ns: u64,
}

pub struct Client {
    pipeline: usize,
    rng: Rng,
    keys: Vec<KeyGen>,
    /// Position in the command-ratio cycle.
    pos: u64,
    wbuf: Vec<u8>,
    wpos: usize,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    parser: ReplyParser,
    inflight: VecDeque<InFlight>,
    limit: Option<u64>,
    sent: u64,
    pace: Option<Pace>,
    next_due: u64,
    stopped: bool,
    failed: bool,
}

impl Client {
    /// `id` is the global client index; `clients_total` the number of clients in the run.
    pub fn new(
        id: u64,
        clients_total: u64,
        w: &Workload,
        pipeline: usize,
        limit: Option<u64>,
        seed: u64,
        pace: Option<Pace>,
    ) -> Self {
        Client {
            pipeline,
            rng: Rng::new(seed),
            keys: w
                .commands
                .iter()
                .map(|c| KeyGen::new(&c.keys, id, clients_total))
                .collect(),
            pos: 0,
            wbuf: Vec::with_capacity(4096),
            wpos: 0,
            rbuf: vec![0; READ_BUF],
            rstart: 0,
            rend: 0,
            parser: ReplyParser::default(),
            inflight: VecDeque::with_capacity(pipeline),
            limit,
            sent: 0,
            pace,
            next_due: 0,
            stopped: false,
            failed: false,
        }
    }

    /// Called once when the run's clock starts.
    pub fn start(&mut self, start_ns: u64) {
        if let Some(p) = self.pace {
            self.next_due = start_ns + p.phase_ns;
        }
    }

    fn may_send_more(&self) -> bool {
        !self.stopped && !self.failed && self.limit.is_none_or(|l| self.sent < l)
    }

    /// Encodes as many requests as the pipeline window (and, in open loop, the
    /// schedule) allows. Returns how many were added.
    pub fn fill(&mut self, now: u64, w: &Workload, stats: &mut Stats) -> usize {
        let mut n = 0;
        while self.inflight.len() < self.pipeline && self.may_send_more() {
            let t_ns = match self.pace {
                None => now,
                Some(p) => {
                    if self.next_due > now {
                        break;
                    }
                    // Latency counts from the intended time, even if the window was full
                    // or we woke late: that is what keeps coordinated omission out.
                    let t = self.next_due;
                    self.next_due += p.interval_ns;
                    t
                }
            };
            let cmd = w.pick(self.pos);
            self.pos += 1;
            let before = self.wbuf.len();
            w.encode(cmd, &mut self.wbuf, &mut self.keys[cmd], &mut self.rng);
            stats.cmds[cmd].tx_bytes += (self.wbuf.len() - before) as u64;
            self.inflight.push_back(InFlight {
                cmd: cmd as u32,
                t_ns,
            });
            self.sent += 1;
            n += 1;
        }
        n
    }

    pub fn is_paced(&self) -> bool {
        self.pace.is_some()
    }

    /// Open loop: when this client next wants to send, if it can.
    pub fn next_due(&self) -> Option<u64> {
        (self.pace.is_some() && self.inflight.len() < self.pipeline && self.may_send_more())
            .then_some(self.next_due)
    }

    pub fn unwritten(&self) -> &[u8] {
        &self.wbuf[self.wpos..]
    }

    pub fn wrote(&mut self, n: usize) {
        self.wpos += n;
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
        }
    }

    /// Free space to read into, compacting or (for a reply larger than the buffer)
    /// growing it first.
    pub fn read_space(&mut self) -> &mut [u8] {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        } else if self.rbuf.len() - self.rend < MIN_READ {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
            if self.rbuf.len() - self.rend < MIN_READ {
                let grown = self.rbuf.len() * 2;
                self.rbuf.resize(grown, 0);
            }
        }
        &mut self.rbuf[self.rend..]
    }

    /// Accounts `n` bytes just read into `read_space()`. Every complete reply is
    /// matched to the oldest in-flight request and its latency recorded at `now`.
    pub fn received(&mut self, n: usize, now: u64, stats: &mut Stats) -> Result<(), &'static str> {
        self.rend += n;
        loop {
            let reply = match self.parser.parse(&self.rbuf[self.rstart..self.rend]) {
                Parse::Incomplete => return Ok(()),
                Parse::Invalid(_) => return Err("conn:protocol-error"),
                Parse::Complete(r) => r,
            };
            let bytes = &self.rbuf[self.rstart..self.rstart + reply.len];
            self.rstart += reply.len;
            if reply.kind == ReplyKind::Push {
                continue;
            }
            let Some(req) = self.inflight.pop_front() else {
                return Err("conn:unexpected-reply");
            };
            let c = &mut stats.cmds[req.cmd as usize];
            c.latency
                .saturating_record(now.saturating_sub(req.t_ns).max(1));
            c.ops += 1;
            c.rx_bytes += reply.len as u64;
            match reply.kind {
                ReplyKind::Null => c.misses += 1,
                ReplyKind::Error { start, end } => {
                    c.errors += 1;
                    stats.errors.add(&bytes[start..end], 1);
                }
                ReplyKind::Value | ReplyKind::Push => {}
            }
        }
    }

    /// Stop issuing requests (test time is up); in-flight ones may still complete.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Marks the connection dead and counts why.
    pub fn fail(&mut self, kind: &str, stats: &mut Stats) {
        if !self.failed {
            self.failed = true;
            stats.errors.add(kind.as_bytes(), 1);
        }
    }

    /// Gives up on replies still outstanding (drain timeout).
    pub fn abandon(&mut self, stats: &mut Stats) {
        if !self.inflight.is_empty() && !self.failed {
            stats
                .errors
                .add(b"conn:timeout", self.inflight.len() as u64);
        }
        self.inflight.clear();
        self.failed = true;
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    pub fn finished(&self) -> bool {
        self.failed || (!self.may_send_more() && self.inflight.is_empty())
    }
}

/// Pre-encoded connection setup: AUTH / HELLO 3 / SELECT, sent as one pipeline.
#[derive(Clone, Debug, Default)]
pub struct Handshake {
    pub bytes: Vec<u8>,
    /// Command names, one per expected reply, for error messages.
    pub commands: Vec<&'static str>,
}

/// Connects (blocking), sends the handshake and checks its replies. The socket
/// is returned in blocking mode with TCP_NODELAY set.
pub fn connect(addr: SocketAddr, hs: &Handshake) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_nodelay(true)
        .map_err(|e| format!("{addr}: TCP_NODELAY: {e}"))?;
    if hs.commands.is_empty() {
        return Ok(s);
    }
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(&hs.bytes)
        .map_err(|e| format!("{addr}: sending handshake: {e}"))?;
    let mut buf = vec![0u8; 4096];
    let (mut start, mut end) = (0, 0);
    let mut parser = ReplyParser::default();
    for name in &hs.commands {
        let reply = loop {
            match parser.parse(&buf[start..end]) {
                Parse::Complete(r) => break r,
                Parse::Invalid(e) => return Err(format!("{addr}: {name} reply: {e}")),
                Parse::Incomplete => {
                    if end == buf.len() {
                        buf.resize(buf.len() * 2, 0);
                    }
                    let n = s
                        .read(&mut buf[end..])
                        .map_err(|e| format!("{addr}: reading {name} reply: {e}"))?;
                    if n == 0 {
                        return Err(format!(
                            "{addr}: server closed the connection during {name}"
                        ));
                    }
                    end += n;
                }
            }
        };
        let text = &buf[start..start + reply.len];
        if let ReplyKind::Error { .. } = reply.kind {
            let msg = String::from_utf8_lossy(text);
            return Err(format!("{addr}: {name} failed: {}", msg.trim_end()));
        }
        start += reply.len;
    }
    s.set_read_timeout(None).map_err(|e| e.to_string())?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyPattern, KeySpace};
    use crate::workload::{get_command, set_command};

    fn workload() -> Workload {
        let ks = KeySpace {
            pattern: KeyPattern::Sequential,
            min: 0,
            max: 99,
            median: 0.0,
            stddev: 1.0,
        };
        Workload::new(
            vec![set_command(1, ks.clone(), None), get_command(2, ks)],
            "key:",
            (3, 3),
            1,
        )
    }

    #[test]
    fn closed_loop_keeps_pipeline_full_and_records_latency() {
        let w = workload();
        let mut stats = Stats::new(2);
        let mut c = Client::new(0, 1, &w, 4, Some(6), 1, None);
        c.start(0);
        assert_eq!(c.fill(100, &w, &mut stats), 4);
        assert_eq!(c.fill(100, &w, &mut stats), 0, "window full");
        let sent = c.unwritten().len();
        assert_eq!(stats.cmds[0].tx_bytes + stats.cmds[1].tx_bytes, sent as u64);
        c.wrote(sent);
        assert!(c.unwritten().is_empty());

        // Replies: SET ok, GET hit, GET miss (split mid-reply), then an error.
        let replies = b"+OK\r\n$3\r\nabc\r\n$-1\r\n-ERR boom\r\n";
        let (a, b) = replies.split_at(17);
        for (chunk, now) in [(a, 1_100), (b, 2_100)] {
            let space = c.read_space();
            space[..chunk.len()].copy_from_slice(chunk);
            c.received(chunk.len(), now, &mut stats).unwrap();
        }
        assert_eq!(c.in_flight(), 0);
        assert_eq!(stats.cmds[0].ops, 2, "SET, then cycle restarts with SET");
        assert_eq!(stats.cmds[1].ops, 2);
        assert_eq!(stats.cmds[1].misses, 1);
        assert_eq!(stats.cmds[0].errors, 1);
        assert_eq!(stats.errors.sorted(), vec![("ERR".to_string(), 1)]);
        assert_eq!(
            stats.cmds[0].latency.max(),
            stats.cmds[0].latency.highest_equivalent(2_000)
        );
        assert_eq!(stats.totals().rx_bytes, replies.len() as u64);

        // Only 2 of the 6-request budget remain.
        assert_eq!(c.fill(3_000, &w, &mut stats), 2);
        assert!(!c.finished());
        let space = c.read_space();
        space[..10].copy_from_slice(b"+OK\r\n+OK\r\n");
        c.received(10, 3_500, &mut stats).unwrap();
        assert!(c.finished());
    }

    #[test]
    fn open_loop_measures_from_intended_time() {
        let w = workload();
        let mut stats = Stats::new(2);
        let pace = Pace {
            interval_ns: 1_000,
            phase_ns: 500,
        };
        let mut c = Client::new(0, 1, &w, 1, None, 1, Some(pace));
        c.start(10_000);
        assert_eq!(c.next_due(), Some(10_500));
        assert_eq!(c.fill(10_499, &w, &mut stats), 0, "not due yet");
        assert_eq!(c.fill(10_500, &w, &mut stats), 1);
        assert_eq!(c.next_due(), None, "window of 1 is full");
        // The server stalls; the reply comes 5 us late and the next request is overdue.
        let space = c.read_space();
        space[..5].copy_from_slice(b"+OK\r\n");
        c.received(5, 15_500, &mut stats).unwrap();
        assert_eq!(c.next_due(), Some(11_500));
        assert_eq!(c.fill(15_500, &w, &mut stats), 1);
        let space = c.read_space();
        space[..7].copy_from_slice(b"$1\r\nx\r\n");
        // The overdue GET's latency counts from 11_500, not from when it was sent.
        let mut stats2 = Stats::new(2);
        c.received(7, 16_500, &mut stats2).unwrap();
        assert_eq!(
            stats2.cmds[1].latency.max(),
            stats2.cmds[1].latency.highest_equivalent(5_000)
        );
    }

    #[test]
    fn stop_and_abandon() {
        let w = workload();
        let mut stats = Stats::new(2);
        let mut c = Client::new(0, 1, &w, 8, None, 1, None);
        c.fill(0, &w, &mut stats);
        c.stop();
        assert_eq!(c.fill(0, &w, &mut stats), 0);
        assert!(!c.finished(), "still waiting for 8 replies");
        c.abandon(&mut stats);
        assert!(c.finished());
        assert_eq!(stats.errors.sorted(), vec![("conn:timeout".to_string(), 8)]);
    }

    #[test]
    fn unexpected_and_garbage_replies_are_errors() {
        let w = workload();
        let mut stats = Stats::new(2);
        let mut c = Client::new(0, 1, &w, 1, None, 1, None);
        let space = c.read_space();
        space[..5].copy_from_slice(b"+OK\r\n");
        assert_eq!(c.received(5, 1, &mut stats), Err("conn:unexpected-reply"));
        let mut c = Client::new(0, 1, &w, 1, None, 1, None);
        c.fill(0, &w, &mut stats);
        let space = c.read_space();
        space[..4].copy_from_slice(b"@@\r\n");
        assert_eq!(c.received(4, 1, &mut stats), Err("conn:protocol-error"));
    }

    #[test]
    fn large_reply_grows_the_read_buffer() {
        let w = workload();
        let mut stats = Stats::new(2);
        let mut c = Client::new(0, 1, &w, 1, None, 1, None);
        c.fill(0, &w, &mut stats);
        let mut reply = format!("${}\r\n", 100_000).into_bytes();
        reply.extend(std::iter::repeat_n(b'v', 100_000));
        reply.extend_from_slice(b"\r\n");
        let mut fed = 0;
        while fed < reply.len() {
            let space = c.read_space();
            let n = space.len().min(reply.len() - fed).min(7_000);
            space[..n].copy_from_slice(&reply[fed..fed + n]);
            c.received(n, 10, &mut stats).unwrap();
            fed += n;
        }
        assert_eq!(c.in_flight(), 0);
        assert_eq!(stats.cmds[0].rx_bytes, reply.len() as u64);
    }
}

/// Proof of the "no allocation per request" claim: a counting allocator that
/// only counts the current thread, so concurrently running tests do not interfere.
#[cfg(test)]
mod no_alloc {
    use super::*;
    use crate::keys::{KeyPattern, KeySpace};
    use crate::workload::{get_command, set_command};
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    struct Counting;

    // SAFETY: every method delegates to `System` with the caller's arguments
    // unchanged, so `System`'s guarantees carry over; the bookkeeping only touches
    // a const-initialised thread-local `Cell`, which never allocates.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
            // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System` via this allocator with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
            // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    fn allocations() -> u64 {
        ALLOCATIONS.with(Cell::get)
    }

    #[test]
    fn steady_state_request_reply_cycle_does_not_allocate() {
        let ks = |pattern| KeySpace {
            pattern,
            min: 0,
            max: 1_000_000,
            median: 500_000.0,
            stddev: 1000.0,
        };
        let w = Workload::new(
            vec![
                set_command(1, ks(KeyPattern::Gaussian), Some((10, 100))),
                get_command(10, ks(KeyPattern::Random)),
            ],
            "key:",
            (16, 512),
            1,
        );
        let mut stats = Stats::new(2);
        let mut c = Client::new(0, 1, &w, 16, None, 1, None);
        // Replies for a full window, mixing hits, misses, OKs and an error; fed in
        // odd-sized chunks so partial replies and buffer compaction are exercised.
        let mut replies = Vec::new();
        for i in 0..16 {
            replies.extend_from_slice(match i % 4 {
                0 => &b"+OK\r\n"[..],
                1 => b"$-1\r\n",
                2 => b"$10\r\n0123456789\r\n",
                _ => b"-ERR boom\r\n",
            });
        }
        let mut now = 0;
        let mut cycle = |c: &mut Client, stats: &mut Stats| {
            now += 1_000;
            assert_eq!(c.fill(now, &w, stats), 16);
            let n = c.unwritten().len();
            c.wrote(n);
            for chunk in replies.chunks(37) {
                let space = c.read_space();
                space[..chunk.len()].copy_from_slice(chunk);
                c.received(chunk.len(), now + 500, stats).unwrap();
            }
        };
        // Warm-up: buffers reach their steady-state size, the error kind is interned.
        for _ in 0..100 {
            cycle(&mut c, &mut stats);
        }
        let before = allocations();
        for _ in 0..10_000 {
            cycle(&mut c, &mut stats);
        }
        assert_eq!(
            allocations() - before,
            0,
            "allocations during 160,000 requests"
        );
        assert_eq!(stats.ops(), 10_100 * 16);
    }
}
