//! Counters a worker thread accumulates and ships to the main thread once per
//! interval. Merging is plain addition, so per-interval, per-run and
//! all-runs figures all come from the same type.

use crate::histogram::{merge, new_latency, Latency};

#[derive(Clone, Debug)]
pub struct CmdStats {
    pub latency: Latency,
    /// Replies received (error replies included: they were round trips too).
    pub ops: u64,
    /// Error replies (`-ERR ...`, `!...`).
    pub errors: u64,
    /// Null replies (a GET miss).
    pub misses: u64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
}

impl Default for CmdStats {
    fn default() -> Self {
        CmdStats {
            latency: new_latency(),
            ops: 0,
            errors: 0,
            misses: 0,
            tx_bytes: 0,
            rx_bytes: 0,
        }
    }
}

impl CmdStats {
    pub fn merge(&mut self, other: &CmdStats) {
        merge(&mut self.latency, &other.latency);
        self.ops += other.ops;
        self.errors += other.errors;
        self.misses += other.misses;
        self.tx_bytes += other.tx_bytes;
        self.rx_bytes += other.rx_bytes;
    }
}

/// Error counts by kind: an error reply's first word (`ERR`, `WRONGTYPE`, ...) or a
/// `conn:...` connection problem. Kinds are few, so a vector beats a map, and a
/// `String` is allocated only the first time a kind is seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    kinds: Vec<(String, u64)>,
}

impl ErrorCounts {
    pub fn add(&mut self, kind: &[u8], n: u64) {
        if let Some(e) = self.kinds.iter_mut().find(|(k, _)| k.as_bytes() == kind) {
            e.1 += n;
        } else {
            self.kinds
                .push((String::from_utf8_lossy(kind).into_owned(), n));
        }
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for (k, n) in &other.kinds {
            self.add(k.as_bytes(), *n);
        }
    }

    pub fn total(&self) -> u64 {
        self.kinds.iter().map(|(_, n)| n).sum()
    }

    /// Kinds sorted by count, largest first.
    pub fn sorted(&self) -> Vec<(String, u64)> {
        let mut v = self.kinds.clone();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

#[derive(Clone, Debug)]
pub struct Stats {
    pub cmds: Vec<CmdStats>,
    pub errors: ErrorCounts,
}

impl Stats {
    pub fn new(commands: usize) -> Self {
        Stats {
            cmds: (0..commands).map(|_| CmdStats::default()).collect(),
            errors: ErrorCounts::default(),
        }
    }

    pub fn merge(&mut self, other: &Stats) {
        for (a, b) in self.cmds.iter_mut().zip(&other.cmds) {
            a.merge(b);
        }
        self.errors.merge(&other.errors);
    }

    /// Hands back everything counted so far and starts a fresh interval. Allocates
    /// fresh histograms, which is fine once per interval.
    pub fn take(&mut self) -> Stats {
        std::mem::replace(self, Stats::new(self.cmds.len()))
    }

    pub fn ops(&self) -> u64 {
        self.cmds.iter().map(|c| c.ops).sum()
    }

    /// All commands' latencies in one histogram.
    pub fn total_latency(&self) -> Latency {
        let mut h = new_latency();
        for c in &self.cmds {
            merge(&mut h, &c.latency);
        }
        h
    }

    pub fn totals(&self) -> CmdStats {
        let mut t = CmdStats::default();
        for c in &self.cmds {
            t.merge(c);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_accumulate_and_merge() {
        let mut a = ErrorCounts::default();
        a.add(b"ERR", 1);
        a.add(b"WRONGTYPE", 2);
        a.add(b"ERR", 1);
        let mut b = ErrorCounts::default();
        b.add(b"conn:reset", 1);
        b.add(b"ERR", 5);
        a.merge(&b);
        assert_eq!(a.total(), 10);
        assert_eq!(
            a.sorted(),
            vec![
                ("ERR".to_string(), 7),
                ("WRONGTYPE".to_string(), 2),
                ("conn:reset".to_string(), 1)
            ]
        );
    }

    #[test]
    fn stats_merge_and_take() {
        let mut t1 = Stats::new(2);
        t1.cmds[0].ops = 3;
        t1.cmds[0].latency.record(1000).unwrap();
        t1.cmds[1].ops = 4;
        t1.cmds[1].tx_bytes = 10;
        let mut t2 = Stats::new(2);
        t2.cmds[1].ops = 1;
        t2.cmds[1].latency.record(2000).unwrap();
        t2.errors.add(b"ERR", 1);
        let mut run = Stats::new(2);
        run.merge(&t1.take());
        run.merge(&t2);
        assert_eq!(t1.ops(), 0, "take leaves a fresh interval");
        assert_eq!(run.ops(), 8);
        assert_eq!(run.cmds[1].ops, 5);
        assert_eq!(run.total_latency().len(), 2);
        assert_eq!(run.totals().tx_bytes, 10);
        assert_eq!(run.errors.total(), 1);
    }
}
