//! The results: the summary table on stdout and the JSON document. Both are
//! built from the same `RunReport`, so they cannot disagree.

use crate::config::{Config, Engine, Protocol, Stop};
use crate::histogram::{distribution, summarize, Point, Summary};
use crate::run::{group_thousands, Outcome, TimelinePoint};
use crate::stats::{CmdStats, Stats};
use crate::workload::Workload;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Clone, Debug, Serialize)]
pub struct CmdReport {
    pub ops: u64,
    pub ops_per_sec: f64,
    /// Per command: error replies. In `totals`: every error, connection errors included.
    pub errors: u64,
    /// Null replies (GET misses).
    pub misses: u64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_bytes_per_sec: f64,
    pub rx_bytes_per_sec: f64,
    #[serde(flatten)]
    pub latency: Summary,
    /// Percentile distribution for plotting (HdrHistogram's 5-ticks-per-half walk).
    pub percentiles: Vec<Point>,
}

impl CmdReport {
    fn new(c: &CmdStats, secs: f64, errors: u64) -> Self {
        let per_sec = |v: u64| if secs > 0.0 { v as f64 / secs } else { 0.0 };
        CmdReport {
            ops: c.ops,
            ops_per_sec: per_sec(c.ops),
            errors,
            misses: c.misses,
            tx_bytes: c.tx_bytes,
            rx_bytes: c.rx_bytes,
            tx_bytes_per_sec: per_sec(c.tx_bytes),
            rx_bytes_per_sec: per_sec(c.rx_bytes),
            latency: summarize(&c.latency),
            percentiles: distribution(&c.latency),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// 1-based run number; 0 for the aggregate of all runs.
    pub run: u32,
    pub duration_s: f64,
    pub totals: CmdReport,
    pub commands: BTreeMap<String, CmdReport>,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// CPU time shardis-bench itself used (user + system, all threads).
    pub client_cpu_s: f64,
    pub client_cpu_us_per_op: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelinePoint>,
    /// Command names in configuration order (for the table).
    #[serde(skip)]
    pub order: Vec<String>,
}

impl RunReport {
    pub fn new(
        run: u32,
        w: &Workload,
        stats: &Stats,
        duration_s: f64,
        cpu_s: f64,
        timeline: Vec<TimelinePoint>,
    ) -> Self {
        let order: Vec<String> = w.commands.iter().map(|c| c.name.clone()).collect();
        let commands = order
            .iter()
            .zip(&stats.cmds)
            .map(|(name, c)| (name.clone(), CmdReport::new(c, duration_s, c.errors)))
            .collect();
        let totals = CmdReport::new(&stats.totals(), duration_s, stats.errors.total());
        let ops = totals.ops.max(1) as f64;
        RunReport {
            run,
            duration_s,
            errors_by_kind: stats.errors.sorted().into_iter().collect(),
            client_cpu_s: cpu_s,
            client_cpu_us_per_op: cpu_s * 1e6 / ops,
            totals,
            commands,
            timeline,
            order,
        }
    }

    pub fn from_outcome(run: u32, w: &Workload, o: Outcome) -> Self {
        Self::new(run, w, &o.stats, o.elapsed_s, o.cpu_s, o.timeline)
    }
}

#[derive(Debug, Serialize)]
pub struct PreloadReport {
    pub keys: u64,
    pub duration_s: f64,
    pub ops_per_sec: f64,
    pub errors: u64,
}

#[derive(Serialize)]
pub struct Report<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub config: &'a Config,
    pub preload: Option<PreloadReport>,
    pub runs: Vec<RunReport>,
    /// Aggregate of all runs (the single run when --run-count is 1): counts are
    /// summed, rates are total count / total duration, latencies come from the
    /// merged histograms.
    pub duration_s: f64,
    pub totals: Option<CmdReport>,
    pub commands: BTreeMap<String, CmdReport>,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// True when no run saw an error.
    pub ok: bool,
}

/// One-line description of the load, printed above each table.
pub fn describe(cfg: &Config) -> String {
    let mut s = format!(
        "{}:{} | {} thread{} x {} clients | pipeline {} | ",
        cfg.server,
        cfg.port,
        cfg.threads,
        if cfg.threads == 1 { "" } else { "s" },
        cfg.clients_per_thread,
        cfg.pipeline
    );
    match cfg.rate {
        Some(r) => write!(s, "open loop {r} req/s | ").unwrap(),
        None => s.push_str("closed loop | "),
    }
    match cfg.stop {
        Stop::Requests(n) => write!(s, "{n} requests/client | ").unwrap(),
        Stop::Duration(d) => write!(s, "{d} s | ").unwrap(),
    }
    let mix: Vec<String> = cfg
        .commands
        .iter()
        .map(|c| format!("{}x {}", c.weight, c.template))
        .collect();
    write!(s, "{} | ", mix.join(", ")).unwrap();
    if cfg.data_size_min == cfg.data_size_max {
        write!(s, "{} B values", cfg.data_size_max).unwrap();
    } else {
        write!(s, "{}-{} B values", cfg.data_size_min, cfg.data_size_max).unwrap();
    }
    let proto = match cfg.protocol {
        Protocol::Resp2 => "resp2",
        Protocol::Resp3 => "resp3",
    };
    let engine = match cfg.engine {
        Engine::Epoll => "epoll",
        Engine::Glommio => "glommio",
    };
    write!(s, " | {proto} | engine {engine}").unwrap();
    s
}

/// The summary table, memtier style.
pub fn table(title: &str, r: &RunReport) -> String {
    let mut out = String::new();
    writeln!(out, "\n{title}").unwrap();
    let header = format!(
        "{:<10} {:>13} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11} {:>8}",
        "Type",
        "Ops/sec",
        "Misses/sec",
        "Avg ms",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "p99.99 ms",
        "Max ms",
        "RX KB/sec",
        "TX KB/sec",
        "Errors"
    );
    writeln!(out, "{}", "-".repeat(header.len())).unwrap();
    writeln!(out, "{header}").unwrap();
    writeln!(out, "{}", "-".repeat(header.len())).unwrap();
    let row = |out: &mut String, name: &str, c: &CmdReport, secs: f64| {
        let misses = if secs > 0.0 {
            c.misses as f64 / secs
        } else {
            0.0
        };
        writeln!(
            out,
            "{:<10} {:>13} {:>11.2} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>11.2} {:>11.2} {:>8}",
            name,
            format!("{:.2}", c.ops_per_sec),
            misses,
            c.latency.mean_ms,
            c.latency.p50_ms,
            c.latency.p90_ms,
            c.latency.p99_ms,
            c.latency.p999_ms,
            c.latency.p9999_ms,
            c.latency.max_ms,
            c.rx_bytes_per_sec / 1024.0,
            c.tx_bytes_per_sec / 1024.0,
            c.errors
        )
        .unwrap();
    };
    for name in &r.order {
        if let Some(c) = r.commands.get(name) {
            row(&mut out, name, c, r.duration_s);
        }
    }
    row(&mut out, "Totals", &r.totals, r.duration_s);
    writeln!(
        out,
        "{} ops in {:.2} s | client CPU {:.2} s ({:.0}% of one core, {:.2} us/op)",
        group_thousands(r.totals.ops as f64),
        r.duration_s,
        r.client_cpu_s,
        if r.duration_s > 0.0 {
            100.0 * r.client_cpu_s / r.duration_s
        } else {
            0.0
        },
        r.client_cpu_us_per_op
    )
    .unwrap();
    if r.errors_by_kind.is_empty() {
        writeln!(out, "Errors: none").unwrap();
    } else {
        let kinds: Vec<String> = r
            .errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        writeln!(out, "ERRORS: {} ({})", r.totals.errors, kinds.join(", ")).unwrap();
    }
    out
}

/// Sums runs into one report (run number 0).
pub fn aggregate(w: &Workload, runs: &[(Stats, f64, f64)]) -> RunReport {
    let mut all = Stats::new(w.commands.len());
    let (mut secs, mut cpu) = (0.0, 0.0);
    for (s, d, c) in runs {
        all.merge(s);
        secs += d;
        cpu += c;
    }
    RunReport::new(0, w, &all, secs, cpu, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_args;

    fn sample() -> (Workload, Stats) {
        let cfg = parse_args(&["--ratio", "1:10"]).unwrap();
        let w = Workload::new(cfg.commands.clone(), "k", (1, 1), 1);
        let mut s = Stats::new(2);
        for v in 1..=100u64 {
            s.cmds[1].latency.record(v * 10_000).unwrap();
        }
        s.cmds[1].ops = 100;
        s.cmds[1].misses = 10;
        s.cmds[0].ops = 10;
        s.cmds[0].latency.record(50_000).unwrap();
        s.cmds[0].errors = 1;
        s.errors.add(b"ERR", 1);
        s.errors.add(b"conn:closed", 1);
        (w, s)
    }

    #[test]
    fn run_report_numbers() {
        let (w, s) = sample();
        let r = RunReport::new(1, &w, &s, 2.0, 0.5, Vec::new());
        assert_eq!(r.totals.ops, 110);
        assert_eq!(r.totals.ops_per_sec, 55.0);
        assert_eq!(r.totals.errors, 2, "totals count connection errors too");
        assert_eq!(r.commands["SET"].errors, 1);
        assert_eq!(r.commands["GET"].ops_per_sec, 50.0);
        assert!((r.commands["GET"].latency.p50_ms - 0.5).abs() < 0.001);
        let json = serde_json::to_value(&r).unwrap();
        for key in ["ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "errors"] {
            assert!(json["totals"][key].is_number(), "totals.{key}");
            assert!(
                json["commands"]["SET"][key].is_number(),
                "commands.SET.{key}"
            );
        }
        assert!(
            json["commands"]["GET"]["percentiles"]
                .as_array()
                .unwrap()
                .len()
                > 5
        );
        let t = table("t", &r);
        assert!(t.contains("SET") && t.contains("GET") && t.contains("Totals"));
        assert!(t.contains("ERRORS: 2 (ERR: 1, conn:closed: 1)"), "{t}");
    }

    #[test]
    fn aggregate_sums_runs() {
        let (w, s) = sample();
        let agg = aggregate(&w, &[(s.clone(), 2.0, 0.1), (s, 2.0, 0.1)]);
        assert_eq!(agg.totals.ops, 220);
        assert_eq!(agg.totals.ops_per_sec, 55.0);
        assert_eq!(agg.commands["GET"].percentiles.last().unwrap().count, 200);
        assert_eq!(agg.errors_by_kind["ERR"], 2);
    }
}
