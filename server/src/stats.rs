//! Per-shard counters, summed across shards by INFO.

use crate::latency::histogram::{self, Histogram, Latencies};
use ahash::AHashMap;
use std::hash::{Hash, Hasher};
use std::time::Instant;

#[derive(Default, Clone)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    /// The calls' latencies (`latency-tracking`), made at the first call tracked. In the
    /// same map entry as the counters: one lookup per command feeds both.
    pub latency: Option<Box<Latencies>>,
}

impl CmdStat {
    /// Adds `o`'s counters (not its histogram).
    fn add(&mut self, o: &CmdStat) {
        self.calls += o.calls;
        self.usec += o.usec;
        self.rejected += o.rejected;
        self.failed += o.failed;
    }
}

/// A command's name as a commandstats key, hashed and compared by address: every command
/// is counted under its table entry's `&'static str`, so the address identifies it, and
/// hashing one word instead of the name's bytes is measurable at a million commands a
/// second. Two entries with equal text would count apart; [`ShardStats::by_name`] adds
/// them up for INFO.
#[derive(Clone, Copy, Debug)]
pub struct CmdName(pub &'static str);

impl PartialEq for CmdName {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for CmdName {}

impl Hash for CmdName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0.as_ptr() as usize).hash(state);
    }
}

/// Times consecutive commands with one clock read each: a lap ends where the next begins,
/// so a batch of n commands reads the clock n + 1 times instead of 2n (the clock read was
/// 5% of the server's CPU on pipelined GETs).
pub struct Laps {
    last: Instant,
}

impl Laps {
    pub fn start() -> Laps {
        Laps {
            last: Instant::now(),
        }
    }

    /// Microseconds since the previous lap (or the start); begins the next one.
    pub fn lap(&mut self) -> u64 {
        let now = Instant::now();
        let usec = now.duration_since(self.last).as_micros() as u64;
        self.last = now;
        usec
    }

    /// Begins the next lap now, leaving out what ran since the previous one.
    pub fn restart(&mut self) {
        self.last = Instant::now();
    }
}

#[derive(Default, Clone)]
pub struct ShardStats {
    pub commands: u64,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub error_replies: u64,
    pub cross_shard_hops: u64,
    pub per_command: AHashMap<CmdName, CmdStat>,
    /// Error replies by their code (`ERR`, `WRONGTYPE`...), for INFO errorstats.
    pub error_codes: AHashMap<Box<str>, u64>,
    /// Recent samples for the instantaneous_* rates: (unix ms, commands, input bytes,
    /// output bytes).
    pub samples: Vec<(u64, u64, u64, u64)>,
    /// `latency-tracking`: each command's time goes into its histogram too. A setting,
    /// not a statistic: CONFIG RESETSTAT keeps it.
    pub latency_tracking: bool,
}

impl ShardStats {
    /// Counts a command that ran; `reply` is its reply, looked at only when it failed.
    pub fn record(&mut self, name: &'static str, usec: u64, failed: bool, reply: &[u8]) {
        self.commands += 1;
        let track = self.latency_tracking;
        let s = self.per_command.entry(CmdName(name)).or_default();
        s.calls += 1;
        s.usec += usec;
        if track {
            histogram::record(&mut s.latency, usec);
        }
        if failed {
            s.failed += 1;
            self.count_error(reply);
        }
    }

    /// Counts a command refused before it ran (unknown, arity, authentication).
    pub fn reject(&mut self, name: Option<&'static str>, error: &[u8]) {
        if let Some(name) = name {
            self.per_command.entry(CmdName(name)).or_default().rejected += 1;
        }
        self.count_error(&[b"-", error].concat());
    }

    /// Counts one error reply by its code, the first word after the `-`.
    fn count_error(&mut self, reply: &[u8]) {
        self.error_replies += 1;
        let code = reply
            .strip_prefix(b"-")
            .map(|r| {
                &r[..r
                    .iter()
                    .position(|&c| c == b' ' || c == b'\r')
                    .unwrap_or(r.len())]
            })
            .unwrap_or(b"ERR");
        let code = String::from_utf8_lossy(&code[..code.len().min(64)]);
        match self.error_codes.get_mut(code.as_ref()) {
            Some(n) => *n += 1,
            None => {
                self.error_codes.insert(code.into(), 1);
            }
        }
    }

    /// A copy without the latency histograms (INFO's other sections do not need them, and
    /// they are kilobytes each).
    pub fn counters(&self) -> ShardStats {
        ShardStats {
            per_command: self
                .per_command
                .iter()
                .map(|(k, v)| {
                    let stat = CmdStat {
                        latency: None,
                        ..*v
                    };
                    (*k, stat)
                })
                .collect(),
            error_codes: self.error_codes.clone(),
            samples: self.samples.clone(),
            ..*self
        }
    }

    /// Copies of the commands' latency histograms (commands with the same name counted
    /// apart are added up by the caller).
    pub fn histograms(&self) -> Vec<(&'static str, Box<Histogram>)> {
        self.per_command
            .iter()
            .filter_map(|(k, v)| Some((k.0, v.latency.as_ref()?.histogram())))
            .collect()
    }

    pub fn merge(&mut self, o: &ShardStats) {
        self.commands += o.commands;
        self.connections_received += o.connections_received;
        self.rejected_connections += o.rejected_connections;
        self.net_input_bytes += o.net_input_bytes;
        self.net_output_bytes += o.net_output_bytes;
        self.error_replies += o.error_replies;
        self.cross_shard_hops += o.cross_shard_hops;
        for (k, v) in &o.error_codes {
            *self.error_codes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.per_command {
            self.per_command.entry(*k).or_default().add(v);
        }
    }

    /// The per-command counters summed by name, sorted by name (for INFO commandstats).
    pub fn by_name(&self) -> Vec<(&'static str, CmdStat)> {
        let mut sums: std::collections::BTreeMap<&'static str, CmdStat> = Default::default();
        for (k, v) in &self.per_command {
            sums.entry(k.0).or_default().add(v);
        }
        sums.into_iter().collect()
    }

    /// Keeps a sample of the counters (called by the shard's cron every 100 ms).
    pub fn sample(&mut self, now_ms: u64) {
        self.samples.push((
            now_ms,
            self.commands,
            self.net_input_bytes,
            self.net_output_bytes,
        ));
        if self.samples.len() > 16 {
            self.samples.remove(0);
        }
    }

    /// Commands, input bytes and output bytes per second over the sampled window (as
    /// Redis, a mean over its last samples).
    pub fn rates(&self) -> (f64, f64, f64) {
        match (self.samples.first(), self.samples.last()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                let secs = (b.0 - a.0) as f64 / 1000.0;
                (
                    b.1.saturating_sub(a.1) as f64 / secs,
                    b.2.saturating_sub(a.2) as f64 / secs,
                    b.3.saturating_sub(a.3) as f64 / secs,
                )
            }
            _ => (0.0, 0.0, 0.0),
        }
    }

    /// CONFIG RESETSTAT: every counter and histogram to zero.
    pub fn reset(&mut self) {
        *self = ShardStats {
            latency_tracking: self.latency_tracking,
            ..ShardStats::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_are_summed_by_name_whatever_the_address() {
        let mut a = ShardStats::default();
        // Two `&'static str`s with the same text at different addresses.
        let get1: &'static str = "get";
        let get2: &'static str = Box::leak(String::from("get").into_boxed_str());
        a.record(get1, 3, false, b"$1\r\nx\r\n");
        a.record(get2, 4, true, b"-ERR x\r\n");
        a.record("set", 1, false, b"+OK\r\n");
        a.reject(Some(get2), b"ERR wrong number of arguments");
        let mut total = ShardStats::default();
        total.merge(&a);
        total.merge(&a);
        let rows = total.by_name();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), ["get", "set"]);
        let get = &rows[0].1;
        assert_eq!(
            (get.calls, get.usec, get.failed, get.rejected),
            (4, 14, 2, 2)
        );
        assert_eq!(total.commands, 6);
    }

    #[test]
    fn latency_histograms_follow_the_setting_and_survive_no_reset() {
        let mut a = ShardStats {
            latency_tracking: true,
            ..ShardStats::default()
        };
        a.record("get", 3, false, b"");
        a.record("get", 5, false, b"");
        a.latency_tracking = false;
        a.record("get", 7, false, b"");
        let h = a.histograms();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].0, h[0].1.len()),
            ("get", 2),
            "calls untracked are not counted"
        );
        assert!(a.counters().histograms().is_empty());
        assert_eq!(a.counters().by_name()[0].1.calls, 3);
        a.latency_tracking = true;
        a.reset();
        assert!(a.histograms().is_empty() && a.per_command.is_empty());
        assert!(a.latency_tracking, "a setting, not a statistic");
    }

    #[test]
    fn laps_cover_the_time_between_them() {
        let outer = Instant::now();
        let mut laps = Laps::start();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let first = laps.lap();
        std::thread::sleep(std::time::Duration::from_millis(1));
        let second = laps.lap();
        assert!(first >= 2000 && second >= 1000, "{first} {second}");
        // The second lap starts where the first ended: together they fit in the whole.
        assert!(first + second <= outer.elapsed().as_micros() as u64);
    }
}
