//! The latency monitor (Redis' latency.c) and latency tracking (per-command histograms).
//!
//! - **Monitor.** Each executor samples the events that happen on its own thread (a
//!   command that ran there, its shard's expiry cycle, an eviction, an AOF write...) into
//!   [`Monitor`]: per event the latest 160 seconds that had an event at or above
//!   `latency-monitor-threshold` ms, one sample per second (the worst of that second), and
//!   the worst ever. LATENCY asks every executor for its series and merges them per event
//!   ([`merge`]): for each second the worst of all shards, the latest 160 such seconds, the
//!   worst ever of all shards. So it answers what one monitor of the whole server would.
//!   With the threshold at 0 (the default) nothing reads a clock for it.
//! - **Tracking.** `stats::ShardStats` keeps a histogram per command (`histogram`), fed
//!   with the time `stats::Laps` already measured; INFO latencystats and LATENCY
//!   HISTOGRAM add up the executors' histograms.

pub mod command;
mod doctor;
mod graph;
pub mod histogram;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::local::{unix_ms, Local};

/// Samples kept per event (Redis' LATENCY_TS_LEN).
pub const HISTORY_LEN: usize = 160;

/// The events Shardis samples, named as Redis names them (only those whose work exists
/// here).
pub mod event {
    /// A command that is not flagged `fast`, and one that is.
    pub const COMMAND: &str = "command";
    pub const FAST_COMMAND: &str = "fast-command";
    /// A shard's active expiry cycle (the cron).
    pub const EXPIRE_CYCLE: &str = "expire-cycle";
    /// An eviction pass, and the removal of one evicted key.
    pub const EVICTION_CYCLE: &str = "eviction-cycle";
    pub const EVICTION_DEL: &str = "eviction-del";
    /// A write to a shard's AOF file; also under one of the next two names, by whether the
    /// once-a-second fsync was running then (Shardis has no child processes, so Redis'
    /// `aof-write-active-child` never happens).
    pub const AOF_WRITE: &str = "aof-write";
    pub const AOF_WRITE_ALONE: &str = "aof-write-alone";
    pub const AOF_WRITE_PENDING_FSYNC: &str = "aof-write-pending-fsync";
    /// The fsync after each write under `appendfsync always`.
    pub const AOF_FSYNC_ALWAYS: &str = "aof-fsync-always";
    /// Reading the AOF files' sizes (the automatic rewrite's check, INFO persistence).
    pub const AOF_FSTAT: &str = "aof-fstat";
    /// Deleting the temporary file of a failed or aborted BGSAVE.
    pub const RDB_UNLINK_TEMP_FILE: &str = "rdb-unlink-temp-file";
}

/// One sample: the worst latency (ms) of one second (Unix time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub time: u64,
    pub latency: u64,
}

/// One event's history: the latest [`HISTORY_LEN`] samples, oldest first, and the worst
/// latency ever seen (which outlives the samples).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    pub samples: VecDeque<Sample>,
    pub max: u64,
}

impl Series {
    /// Adds a latency seen at `time`: within the second of the last sample it only raises
    /// that sample, as Redis keeps one sample per second.
    fn add(&mut self, time: u64, latency: u64) {
        self.max = self.max.max(latency);
        if let Some(last) = self.samples.back_mut() {
            if last.time == time {
                last.latency = last.latency.max(latency);
                return;
            }
        }
        if self.samples.len() == HISTORY_LEN {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample { time, latency });
    }

    /// The newest sample (a series is created with one and never emptied).
    pub fn last(&self) -> Sample {
        self.samples.back().copied().unwrap_or(Sample {
            time: 0,
            latency: 0,
        })
    }
}

/// Events and their series, by name.
pub type Events = Vec<(&'static str, Series)>;

/// One executor's latency monitor.
#[derive(Default)]
pub struct Monitor {
    /// `latency-monitor-threshold` (ms, 0: off), copied from the config so that the check
    /// per command reads no lock.
    threshold: Cell<u64>,
    events: RefCell<Events>,
}

impl Monitor {
    pub fn new(threshold_ms: u64) -> Monitor {
        Monitor {
            threshold: Cell::new(threshold_ms),
            events: RefCell::default(),
        }
    }

    pub fn set_threshold(&self, ms: u64) {
        self.threshold.set(ms);
    }

    pub fn threshold(&self) -> u64 {
        self.threshold.get()
    }

    /// Samples `event` if it took at least the threshold (Redis' latencyAddSampleIfNeeded).
    #[inline]
    pub fn sample(&self, event: &'static str, ms: u64) {
        let threshold = self.threshold.get();
        if threshold != 0 && ms >= threshold {
            self.add(event, ms, unix_ms() / 1000);
        }
    }

    fn add(&self, event: &'static str, ms: u64, now: u64) {
        let mut events = self.events.borrow_mut();
        match events.iter_mut().find(|(e, _)| *e == event) {
            Some((_, series)) => series.add(now, ms),
            None => {
                let mut series = Series::default();
                series.add(now, ms);
                events.push((event, series));
            }
        }
    }

    /// A copy of every event's series (for LATENCY on another executor).
    pub fn events(&self) -> Events {
        self.events.borrow().clone()
    }

    /// LATENCY RESET: forgets the events named in `names` (case-insensitively), or every
    /// event when `names` is empty. Returns the names of the events forgotten.
    pub fn reset(&self, names: &[Vec<u8>]) -> Vec<&'static str> {
        let mut removed = Vec::new();
        self.events.borrow_mut().retain(|(e, _)| {
            let hit =
                names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(e.as_bytes()));
            if hit {
                removed.push(*e);
            }
            !hit
        });
        removed
    }
}

/// Starts timing an event on this executor: the time now when the monitor is on, nothing
/// (and no clock read) when it is off.
#[inline]
pub fn start(local: &Local) -> Option<Instant> {
    (local.latency.threshold() != 0).then(Instant::now)
}

/// Ends the timing [`start`] began: a sample of `event` if it took long enough.
#[inline]
pub fn end(local: &Local, event: &'static str, started: Option<Instant>) {
    if let Some(t) = started {
        local.latency.sample(event, t.elapsed().as_millis() as u64);
    }
}

/// A command ran for `usec` on this executor: a `command` or `fast-command` sample when it
/// took long enough (the time is the one commandstats got: no clock read here).
#[inline]
pub fn command_ran(local: &Local, fast: bool, usec: u64) {
    if local.latency.threshold() == 0 {
        return;
    }
    let event = if fast {
        event::FAST_COMMAND
    } else {
        event::COMMAND
    };
    local.latency.sample(event, usec / 1000);
}

/// The executors' events as one monitor would hold them, by event name: per second the
/// worst sample of any executor, the latest [`HISTORY_LEN`] seconds, the worst ever.
pub fn merge(parts: impl IntoIterator<Item = Events>) -> Events {
    let mut by_event: BTreeMap<&'static str, (BTreeMap<u64, u64>, u64)> = BTreeMap::new();
    for (event, series) in parts.into_iter().flatten() {
        let (seconds, max) = by_event.entry(event).or_default();
        *max = (*max).max(series.max);
        for s in series.samples {
            let worst = seconds.entry(s.time).or_default();
            *worst = (*worst).max(s.latency);
        }
    }
    by_event
        .into_iter()
        .map(|(event, (seconds, max))| {
            let skip = seconds.len().saturating_sub(HISTORY_LEN);
            let samples = seconds
                .into_iter()
                .skip(skip)
                .map(|(time, latency)| Sample { time, latency })
                .collect();
            (event, Series { samples, max })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series of (time, latency) samples (for the submodules' tests too).
    pub(super) fn series(samples: &[(u64, u64)], max: u64) -> Series {
        Series {
            samples: samples
                .iter()
                .map(|&(time, latency)| Sample { time, latency })
                .collect(),
            max,
        }
    }

    #[test]
    fn one_sample_per_second_the_worst_of_it() {
        let m = Monitor::new(10);
        m.add("command", 20, 100);
        m.add("command", 50, 100);
        m.add("command", 30, 100);
        m.add("command", 15, 101);
        let events = m.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].1, series(&[(100, 50), (101, 15)], 50));
    }

    #[test]
    fn the_history_keeps_the_latest_160_seconds_and_the_worst_ever() {
        let m = Monitor::new(1);
        m.add("expire-cycle", 999, 1);
        for t in 2..=200 {
            m.add("expire-cycle", t, t);
        }
        let (_, s) = &m.events()[0];
        assert_eq!(s.samples.len(), HISTORY_LEN);
        assert_eq!(s.samples.front().unwrap().time, 41);
        assert_eq!(
            s.last(),
            Sample {
                time: 200,
                latency: 200
            }
        );
        assert_eq!(s.max, 999);
    }

    #[test]
    fn below_the_threshold_or_off_nothing_is_sampled() {
        let m = Monitor::new(0);
        m.sample("command", 1_000_000);
        assert!(m.events().is_empty());
        m.set_threshold(100);
        m.sample("command", 99);
        assert!(m.events().is_empty());
        m.sample("command", 100);
        assert_eq!(m.events().len(), 1);
    }

    #[test]
    fn reset_matches_names_in_any_case() {
        let m = Monitor::new(1);
        m.add("command", 5, 1);
        m.add("fast-command", 5, 1);
        m.add("expire-cycle", 5, 1);
        assert_eq!(
            m.reset(&[b"COMMAND".to_vec(), b"nosuch".to_vec()]),
            ["command"]
        );
        assert_eq!(m.reset(&[]), ["fast-command", "expire-cycle"]);
        assert!(m.events().is_empty());
    }

    #[test]
    fn merging_takes_the_worst_of_each_second_across_shards() {
        let a = vec![
            ("command", series(&[(10, 5), (12, 7)], 40)),
            ("expire-cycle", series(&[(11, 3)], 3)),
        ];
        let b = vec![("command", series(&[(11, 9), (12, 20)], 20))];
        let merged = merge([a, b]);
        assert_eq!(
            merged,
            vec![
                ("command", series(&[(10, 5), (11, 9), (12, 20)], 40)),
                ("expire-cycle", series(&[(11, 3)], 3)),
            ]
        );
        // Each shard keeps its own latest 160 seconds; together, the latest 160 of all.
        let old: Vec<(u64, u64)> = (0..160).map(|t| (t, 1)).collect();
        let new: Vec<(u64, u64)> = (100..260).map(|t| (t, 2)).collect();
        let merged = merge([
            vec![("command", series(&old, 1))],
            vec![("command", series(&new, 2))],
        ]);
        let s = &merged[0].1;
        assert_eq!(s.samples.len(), HISTORY_LEN);
        assert_eq!(
            s.samples.front().unwrap(),
            &Sample {
                time: 100,
                latency: 2
            }
        );
    }
}
