//! One run: build the clients, start one OS thread per `--threads`, and on the
//! main thread merge the per-interval statistics the workers send, drive the
//! progress line and the HdrHistogram interval logs.

use crate::client::{connect, Client, Handshake, Pace};
use crate::config::{Config, Engine};
use crate::engine;
use crate::histogram::{merge, new_latency, summarize, Latency};
use crate::stats::Stats;
use crate::sys;
use crate::workload::Workload;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::V2DeflateSerializer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

/// Workers report (and the progress line updates) once per interval.
pub const INTERVAL_NS: u64 = 1_000_000_000;
/// After --test-time, how long to wait for replies still in flight.
pub const DRAIN_NS: u64 = 2_000_000_000;

/// How many requests each client sends.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// The same count for every client (`--requests`).
    PerClient(u64),
    /// Until the test time is up.
    Unlimited,
    /// `keys` requests in total, split as the P key pattern splits the key range,
    /// so each client writes exactly its own slice (`--preload`).
    Slices { keys: u64 },
}

pub struct RunPlan {
    /// "run 1/3", "preload": for the progress line.
    pub label: String,
    pub workload: Arc<Workload>,
    pub pipeline: usize,
    pub limit: Limit,
    pub duration_s: Option<f64>,
    pub rate: Option<u64>,
    pub progress: bool,
    /// File prefix for this run's interval logs.
    pub hlog_prefix: Option<String>,
}

/// Worker -> main thread.
pub enum Msg {
    Interval {
        thread: usize,
        index: u64,
        stats: Stats,
    },
    Done {
        thread: usize,
        index: u64,
        stats: Stats,
        elapsed_ns: u64,
    },
    Fatal(String),
}

/// A worker's side of the interval protocol: interval `k` covers
/// `[start + k s, start + (k+1) s)` on that worker's clock.
pub struct Reporter {
    tx: Sender<Msg>,
    thread: usize,
    start_ns: u64,
    index: u64,
}

impl Reporter {
    /// Starts the interval clock (the run's t = 0 on this worker).
    pub fn begin(&mut self, start_ns: u64) {
        self.start_ns = start_ns;
        self.index = 0;
    }

    pub fn next_boundary(&self) -> u64 {
        self.start_ns + (self.index + 1) * INTERVAL_NS
    }

    /// Ships the interval's statistics if its end has passed.
    pub fn tick(&mut self, now: u64, stats: &mut Stats) {
        if now >= self.next_boundary() {
            let _ = self.tx.send(Msg::Interval {
                thread: self.thread,
                index: self.index,
                stats: stats.take(),
            });
            // After a long stall several intervals may have passed; they are empty.
            self.index = (now - self.start_ns) / INTERVAL_NS;
        }
    }

    pub fn finish(&mut self, now: u64, stats: Stats) {
        let _ = self.tx.send(Msg::Done {
            thread: self.thread,
            index: self.index,
            stats,
            elapsed_ns: now.saturating_sub(self.start_ns),
        });
    }
}

/// Everything a worker thread needs.
pub struct Worker {
    pub thread: usize,
    pub clients: Vec<Client>,
    pub workload: Arc<Workload>,
    pub duration_ns: Option<u64>,
    pub reporter: Reporter,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelinePoint {
    pub second: f64,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
}

pub struct Outcome {
    pub stats: Stats,
    pub elapsed_s: f64,
    pub cpu_s: f64,
    pub timeline: Vec<TimelinePoint>,
}

/// Runs one plan to completion. `Err` means the run could not start (connect or
/// handshake failure, engine setup) and carries a one-line explanation.
pub fn execute(cfg: &Config, plan: &RunPlan) -> Result<Outcome, String> {
    let threads = cfg.threads;
    let total = cfg.clients_total() as u64;
    let clients = build_clients(cfg, plan);
    let handshake = Arc::new(cfg.handshake());
    let (tx, rx) = channel();
    let barrier = Arc::new(Barrier::new(threads + 1));
    let abort = Arc::new(AtomicBool::new(false));
    // Output files first: failing to create one must not leave a run half-started.
    let hlogs = match &plan.hlog_prefix {
        Some(p) => Some(Hlogs::create(p, &plan.workload)?),
        None => None,
    };

    let mut handles = Vec::with_capacity(threads);
    for (thread, clients) in clients.into_iter().enumerate() {
        let setup = WorkerSetup {
            addr: cfg.addr,
            handshake: handshake.clone(),
            barrier: barrier.clone(),
            abort: abort.clone(),
            engine: cfg.engine,
        };
        let worker = Worker {
            thread,
            clients,
            workload: plan.workload.clone(),
            duration_ns: plan.duration_s.map(|s| (s * 1e9) as u64),
            reporter: Reporter {
                tx: tx.clone(),
                thread,
                start_ns: 0,
                index: 0,
            },
        };
        let h = std::thread::Builder::new()
            .name(format!("bench-{thread}"))
            .spawn(move || setup.run(worker))
            .map_err(|e| format!("cannot start thread: {e}"))?;
        handles.push(h);
    }
    drop(tx);
    barrier.wait();
    if abort.load(Ordering::SeqCst) {
        let mut first = None;
        for msg in rx.iter() {
            if let Msg::Fatal(e) = msg {
                first.get_or_insert(e);
            }
        }
        for h in handles {
            let _ = h.join();
        }
        return Err(first.unwrap_or_else(|| "a worker failed to start".into()));
    }
    // CPU from here on is the run itself: connecting and thread start-up are done.
    let cpu0 = sys::process_cpu_seconds();

    let mut col = Collector::new(plan, threads, total, hlogs);
    let mut fatal = None;
    for msg in rx.iter() {
        match msg {
            Msg::Interval {
                thread,
                index,
                stats,
            } => col.interval(thread, index, stats, None),
            Msg::Done {
                thread,
                index,
                stats,
                elapsed_ns,
            } => col.interval(thread, index, stats, Some(elapsed_ns)),
            Msg::Fatal(e) => fatal = Some(e),
        }
    }
    for h in handles {
        if h.join().is_err() {
            fatal.get_or_insert_with(|| "a worker thread panicked".into());
        }
    }
    if let Some(e) = fatal {
        return Err(e);
    }
    let cpu_s = sys::process_cpu_seconds() - cpu0;
    Ok(col.finish(cpu_s))
}

struct WorkerSetup {
    addr: SocketAddr,
    handshake: Arc<Handshake>,
    barrier: Arc<Barrier>,
    abort: Arc<AtomicBool>,
    engine: Engine,
}

impl WorkerSetup {
    /// Connect everything first, meet the other threads at the barrier, then run:
    /// connection setup never counts towards throughput or latency.
    fn run(self, mut worker: Worker) {
        let mut streams: Vec<TcpStream> = Vec::with_capacity(worker.clients.len());
        let mut failure = None;
        // Set the engine up before the barrier too, so a failure aborts the run cleanly.
        let executor = match self.engine {
            Engine::Glommio => match engine::glommio_rt::executor(worker.thread) {
                Ok(ex) => Some(ex),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            },
            Engine::Epoll => None,
        };
        for _ in worker.clients.iter().take_while(|_| failure.is_none()) {
            match connect(self.addr, &self.handshake) {
                Ok(s) => streams.push(s),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure {
            self.abort.store(true, Ordering::SeqCst);
            let _ = worker.reporter.tx.send(Msg::Fatal(e));
        }
        self.barrier.wait();
        if self.abort.load(Ordering::SeqCst) {
            return;
        }
        sys::tighten_timer_slack();
        let tx = worker.reporter.tx.clone();
        let result = match executor {
            Some(ex) => engine::glommio_rt::run(ex, worker, streams),
            None => engine::epoll::run(&mut worker, streams),
        };
        if let Err(e) = result {
            let _ = tx.send(Msg::Fatal(e));
        }
    }
}

fn build_clients(cfg: &Config, plan: &RunPlan) -> Vec<Vec<Client>> {
    let total = cfg.clients_total() as u64;
    let pace_interval = plan
        .rate
        .map(|r| ((total as f64 * 1e9) / r as f64).round().max(1.0) as u64);
    (0..cfg.threads)
        .map(|t| {
            (0..cfg.clients_per_thread)
                .map(|i| {
                    let id = (t * cfg.clients_per_thread + i) as u64;
                    let limit = match plan.limit {
                        Limit::PerClient(n) => Some(n),
                        Limit::Unlimited => None,
                        Limit::Slices { keys } => Some(slice_len(keys, id, total)),
                    };
                    let seed = if cfg.distinct_client_seed {
                        cfg.seed.wrapping_add(id)
                    } else {
                        cfg.seed
                    };
                    // Stagger clients across one interval so the offered load is smooth.
                    let pace = pace_interval.map(|interval_ns| Pace {
                        interval_ns,
                        phase_ns: interval_ns * id / total,
                    });
                    Client::new(id, total, &plan.workload, plan.pipeline, limit, seed, pace)
                })
                .collect()
        })
        .collect()
}

/// Size of client `i`'s share of `keys`, cut like `keys::parallel_slice`.
pub fn slice_len(keys: u64, i: u64, clients: u64) -> u64 {
    let (k, c, i) = (keys as u128, clients as u128, i as u128);
    (k * (i + 1) / c - k * i / c) as u64
}

/// Main-thread aggregation of worker intervals.
struct Collector<'a> {
    plan: &'a RunPlan,
    threads: usize,
    total_requests: Option<u64>,
    /// Per thread: every interval below this index has been reported.
    upto: Vec<u64>,
    pending: BTreeMap<u64, Stats>,
    next: u64,
    run: Stats,
    run_latency: Latency,
    elapsed_ns: u64,
    done: usize,
    timeline: Vec<TimelinePoint>,
    hlogs: Option<Hlogs>,
    progress: Option<Progress>,
    commands: usize,
}

impl<'a> Collector<'a> {
    fn new(plan: &'a RunPlan, threads: usize, total_clients: u64, hlogs: Option<Hlogs>) -> Self {
        let commands = plan.workload.commands.len();
        let total_requests = match plan.limit {
            Limit::PerClient(n) => Some(n * total_clients),
            Limit::Slices { keys } => Some(keys),
            Limit::Unlimited => None,
        };
        Collector {
            plan,
            threads,
            total_requests,
            upto: vec![0; threads],
            pending: BTreeMap::new(),
            next: 0,
            run: Stats::new(commands),
            run_latency: new_latency(),
            elapsed_ns: 0,
            done: 0,
            timeline: Vec::new(),
            hlogs,
            progress: plan.progress.then(Progress::new),
            commands,
        }
    }

    fn interval(&mut self, thread: usize, index: u64, stats: Stats, done_after: Option<u64>) {
        self.pending
            .entry(index)
            .or_insert_with(|| Stats::new(self.commands))
            .merge(&stats);
        match done_after {
            Some(elapsed) => {
                self.upto[thread] = u64::MAX;
                self.done += 1;
                self.elapsed_ns = self.elapsed_ns.max(elapsed);
            }
            None => self.upto[thread] = index + 1,
        }
        let ready = self.upto.iter().copied().min().unwrap_or(0);
        while self.next < ready {
            if self.done == self.threads && self.pending.is_empty() {
                break;
            }
            let k = self.next;
            let stats = self
                .pending
                .remove(&k)
                .unwrap_or_else(|| Stats::new(self.commands));
            self.emit(k, stats);
            self.next += 1;
        }
    }

    fn emit(&mut self, k: u64, stats: Stats) {
        let all_done = self.done == self.threads;
        let start = k * INTERVAL_NS;
        let dur_ns = if all_done {
            self.elapsed_ns.saturating_sub(start).clamp(1, INTERVAL_NS)
        } else {
            INTERVAL_NS
        };
        let latency = stats.total_latency();
        merge(&mut self.run_latency, &latency);
        self.run.merge(&stats);
        let s = summarize(&latency);
        let point = TimelinePoint {
            second: (start + dur_ns) as f64 / 1e9,
            ops_per_sec: stats.ops() as f64 * 1e9 / dur_ns as f64,
            p50_ms: s.p50_ms,
            p99_ms: s.p99_ms,
            max_ms: s.max_ms,
            errors: stats.errors.total(),
        };
        if let Some(h) = &mut self.hlogs {
            h.write(start, dur_ns, &stats, &latency);
        }
        // The last sliver of a run (the drain after --test-time) would show a
        // meaningless rate; it is still in the timeline.
        let show = dur_ns >= INTERVAL_NS / 4;
        if let (Some(p), true) = (&mut self.progress, show) {
            let done_ops = self.run.ops();
            let elapsed = (start + dur_ns) as f64 / 1e9;
            let remaining = match (self.plan.duration_s, self.total_requests) {
                (Some(d), _) => Some((d - elapsed).max(0.0)),
                (None, Some(t)) if point.ops_per_sec > 0.0 => {
                    Some(t.saturating_sub(done_ops) as f64 / point.ops_per_sec)
                }
                _ => None,
            };
            p.print(
                &self.plan.label,
                elapsed,
                remaining,
                point.ops_per_sec,
                summarize(&self.run_latency).p99_ms,
                self.run.errors.total(),
            );
        }
        self.timeline.push(point);
    }

    fn finish(mut self, cpu_s: f64) -> Outcome {
        // Workers that finished in the same interval: flush whatever is left, in order.
        let rest: Vec<(u64, Stats)> = std::mem::take(&mut self.pending).into_iter().collect();
        for (k, stats) in rest {
            self.emit(k, stats);
        }
        if let Some(p) = &mut self.progress {
            p.end();
        }
        if let Some(h) = &mut self.hlogs {
            h.flush();
        }
        Outcome {
            stats: self.run,
            elapsed_s: self.elapsed_ns as f64 / 1e9,
            cpu_s,
            timeline: self.timeline,
        }
    }
}

/// The live line on stderr: rewritten in place on a terminal, one line per
/// second otherwise (so logs stay readable).
struct Progress {
    tty: bool,
    printed: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            printed: false,
        }
    }

    fn print(
        &mut self,
        label: &str,
        elapsed: f64,
        remaining: Option<f64>,
        ops: f64,
        p99: f64,
        errors: u64,
    ) {
        let left = match remaining {
            Some(r) => format!("{r:.0}s left"),
            None => "?s left".into(),
        };
        let err = if errors > 0 {
            format!(" | {errors} ERRORS")
        } else {
            String::new()
        };
        let line = format!(
            "[{label}] {elapsed:.0}s, {left} | {} ops/s | p99 so far {p99:.3} ms{err}",
            group_thousands(ops)
        );
        let mut e = std::io::stderr().lock();
        if self.tty {
            let _ = write!(e, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(e, "{line}");
        }
        let _ = e.flush();
        self.printed = true;
    }

    fn end(&mut self) {
        if self.tty && self.printed {
            eprintln!();
        }
    }
}

pub fn group_thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// HdrHistogram interval logs (`.hlog`), one per command type plus `ALL`.
struct Hlogs {
    files: Vec<BufWriter<File>>,
    serializer: V2DeflateSerializer,
    failed: bool,
}

impl Hlogs {
    fn create(prefix: &str, w: &Workload) -> Result<Self, String> {
        let now = SystemTime::now();
        let mut files = Vec::new();
        for name in w.commands.iter().map(|c| c.name.as_str()).chain(["ALL"]) {
            let path = format!("{prefix}_{}.hlog", file_safe(name));
            let f = File::create(&path).map_err(|e| format!("cannot create {path}: {e}"))?;
            let mut f = BufWriter::new(f);
            let mut ser = V2DeflateSerializer::new();
            IntervalLogWriterBuilder::new()
                .add_comment(&format!("shardis-bench interval log: {name} latency in ns"))
                .with_start_time(now)
                .with_base_time(now)
                .begin_log_with(&mut f, &mut ser)
                .map_err(|e| format!("{path}: {e}"))?;
            // The column legend Java's HistogramLogWriter writes (readers skip it).
            writeln!(
                f,
                "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
            )
            .map_err(|e| format!("{path}: {e}"))?;
            files.push(f);
        }
        Ok(Hlogs {
            files,
            serializer: V2DeflateSerializer::new(),
            failed: false,
        })
    }

    fn write(&mut self, start_ns: u64, dur_ns: u64, stats: &Stats, all: &Latency) {
        let hists = stats.cmds.iter().map(|c| &c.latency).chain([all]);
        for (f, h) in self.files.iter_mut().zip(hists) {
            // A builder with no headers writes nothing itself: it is just the way
            // to get an interval writer over an already-started file.
            let res = IntervalLogWriterBuilder::new()
                .begin_log_with(f, &mut self.serializer)
                .map_err(|e| e.to_string())
                .and_then(|mut w| {
                    w.write_histogram(
                        h,
                        Duration::from_nanos(start_ns),
                        Duration::from_nanos(dur_ns),
                        None,
                    )
                    .map_err(|e| format!("{e:?}"))
                });
            if let Err(e) = res {
                if !self.failed {
                    eprintln!("shardis-bench: writing interval log failed: {e}");
                    self.failed = true;
                }
            }
        }
    }

    fn flush(&mut self) {
        for f in &mut self.files {
            let _ = f.flush();
        }
    }
}

/// Command names become file name parts: keep them to a safe alphabet.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_all_keys_once() {
        for (keys, clients) in [(100, 7), (3, 10), (0, 4), (1_000_003, 200)] {
            let sum: u64 = (0..clients).map(|i| slice_len(keys, i, clients)).sum();
            assert_eq!(sum, keys);
            // Same cut as the P pattern uses.
            for i in 0..clients {
                let n = slice_len(keys, i, clients);
                if n > 0 {
                    let (lo, hi) = crate::keys::parallel_slice(0, keys - 1, i, clients);
                    assert_eq!(hi - lo + 1, n);
                }
            }
        }
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0.0), "0");
        assert_eq!(group_thousands(999.4), "999");
        assert_eq!(group_thousands(1234567.0), "1,234,567");
        assert_eq!(group_thousands(100000.0), "100,000");
    }

    #[test]
    fn collector_orders_intervals_and_merges_threads() {
        let cfg = crate::config::parse_args(&["-t", "2", "-c", "1"]).unwrap();
        let w = Arc::new(Workload::new(cfg.commands.clone(), "k", (1, 1), 1));
        let plan = RunPlan {
            label: "t".into(),
            workload: w,
            pipeline: 1,
            limit: Limit::PerClient(10),
            duration_s: None,
            rate: None,
            progress: false,
            hlog_prefix: None,
        };
        let mut col = Collector::new(&plan, 2, 2, None);
        let stats = |ops: u64| {
            let mut s = Stats::new(2);
            s.cmds[1].ops = ops;
            s.cmds[1].latency.record(1_000 * ops).unwrap();
            s
        };
        col.interval(0, 0, stats(1), None);
        col.interval(0, 1, stats(2), None);
        assert!(
            col.timeline.is_empty(),
            "thread 1 has not reported interval 0"
        );
        col.interval(1, 0, stats(3), None);
        assert_eq!(col.timeline.len(), 1);
        assert_eq!(col.timeline[0].ops_per_sec, 4.0);
        // Thread 1 skips to interval 3 after a stall and then finishes.
        col.interval(1, 3, stats(4), Some(3_500_000_000));
        col.interval(0, 2, stats(5), Some(2_200_000_000));
        let out = col.finish(0.0);
        assert_eq!(out.stats.ops(), 15);
        assert_eq!(out.stats.cmds[1].latency.len(), 5);
        assert_eq!(out.timeline.len(), 4);
        assert_eq!(out.elapsed_s, 3.5);
        assert_eq!(
            out.timeline[3].ops_per_sec, 8.0,
            "half-second last interval"
        );
    }
}
