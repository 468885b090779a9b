//! LATENCY DOCTOR: a report on the sampled events. Each event's figures are computed as
//! Redis computes them and printed in its line format (tools parse them); the advice is
//! Shardis' own and shorter, chosen from the events seen and the settings that bear on
//! them.

use super::{event, Events, Series};
use std::fmt::Write;

/// The settings the advice depends on.
pub struct Settings {
    pub threshold_ms: u64,
    /// `slowlog-log-slower-than` (us, negative: off).
    pub slowlog_slower_than: i64,
    pub appendfsync_always: bool,
    pub hz: u32,
}

/// One event's figures over its samples (Redis' analyzeLatencyForEvent).
#[derive(Debug, PartialEq, Eq)]
struct Figures {
    samples: u64,
    avg: u64,
    /// Mean absolute deviation from `avg`.
    mad: u64,
    /// Seconds from the oldest sample to now (at least 1).
    period: u64,
}

fn figures(series: &Series, now: u64) -> Figures {
    let n = series.samples.len() as u64;
    if n == 0 {
        return Figures {
            samples: 0,
            avg: 0,
            mad: 0,
            period: 0,
        };
    }
    let avg = series.samples.iter().map(|s| s.latency).sum::<u64>() / n;
    let mad = series
        .samples
        .iter()
        .map(|s| s.latency.abs_diff(avg))
        .sum::<u64>()
        / n;
    let oldest = series.samples.iter().map(|s| s.time).min().unwrap_or(now);
    Figures {
        samples: n,
        avg,
        mad,
        period: now.saturating_sub(oldest).max(1),
    }
}

/// The report for the merged `events` at Unix time `now`.
pub fn report(events: &Events, s: &Settings, now: u64) -> String {
    if events.is_empty() {
        return if s.threshold_ms == 0 {
            "The latency monitor is off, so no event was sampled. Turn it on with \
             'CONFIG SET latency-monitor-threshold <milliseconds>': events that take at \
             least that long are then recorded.\n"
                .into()
        } else {
            format!(
                "No latency spike was observed: no event took {} ms or more since the \
                 monitor was turned on or reset.\n",
                s.threshold_ms
            )
        };
    }
    let mut out =
        String::from("Latency spikes were observed (LATENCY HISTORY <event> lists them):\n\n");
    let mut advice: Vec<String> = Vec::new();
    for (i, (name, series)) in events.iter().enumerate() {
        let f = figures(series, now);
        let _ = writeln!(
            out,
            "{}. {name}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} \
             sec). Worst all time event {}ms.",
            i + 1,
            f.samples,
            f.avg,
            f.mad,
            f.period as f64 / f.samples.max(1) as f64,
            series.max
        );
        for a in advise(name, s) {
            if !advice.contains(&a) {
                advice.push(a);
            }
        }
    }
    if !advice.is_empty() {
        out.push_str("\nAdvice:\n\n");
        for a in advice {
            let _ = writeln!(out, "- {a}");
        }
    }
    out
}

/// What may help against `event` under the settings `s`.
fn advise(name: &str, s: &Settings) -> Vec<String> {
    let threshold_us = s.threshold_ms.saturating_mul(1000);
    let mut out = Vec::new();
    match name {
        event::COMMAND => {
            if s.slowlog_slower_than < 0 {
                out.push(format!(
                    "The slow log is off: 'CONFIG SET slowlog-log-slower-than {threshold_us}' \
                     records the commands behind these spikes."
                ));
            } else if s.slowlog_slower_than as u64 / 1000 > s.threshold_ms {
                out.push(format!(
                    "The slow log only records commands slower than {} us, more than this \
                     threshold: 'CONFIG SET slowlog-log-slower-than {threshold_us}' records \
                     the commands behind these spikes.",
                    s.slowlog_slower_than
                ));
            }
            out.push(
                "SLOWLOG GET shows the slow commands. Commands over large values (big sets, \
                 sorted sets, lists, hashes; KEYS, SORT, SUNION...) take time in proportion \
                 to their size: split large values, or walk them with SCAN and its kin."
                    .into(),
            );
        }
        event::FAST_COMMAND => out.push(
            "Commands flagged fast (constant or logarithmic time) took this long: the \
             server's threads were probably not given the CPU (other load on the machine, \
             a busy hypervisor, swapping). 'redis-cli --intrinsic-latency 100' measures \
             what the system alone adds."
                .into(),
        ),
        event::EXPIRE_CYCLE => {
            out.push(
                "Expiring keys took long: many keys expiring in the same moment, or large \
                 values expiring. Spread the expiry times, split large values."
                    .into(),
            );
            if s.hz < 100 {
                out.push(format!(
                    "'hz' is {}: 'CONFIG SET hz 100' runs the expiry cycle more often, in \
                     smaller steps.",
                    s.hz
                ));
            }
        }
        event::EVICTION_CYCLE => out.push(
            "Evicting keys took long: memory went far over 'maxmemory' at once (a lowered \
             'maxmemory', large values written, large results stored)."
                .into(),
        ),
        event::EVICTION_DEL => out.push(
            "Removing single evicted keys took long: evicting a large value takes time in \
             proportion to its size. Split large values."
                .into(),
        ),
        event::AOF_FSYNC_ALWAYS if s.appendfsync_always => out.push(
            "'appendfsync' is 'always': every write waits for the disk. 'everysec' loses \
             at most about a second of writes in a crash and costs far less."
                .into(),
        ),
        event::AOF_WRITE_PENDING_FSYNC => out.push(
            "AOF writes waited for the once-a-second fsync: the disk is slow to flush. A \
             faster (local, solid-state) disk helps."
                .into(),
        ),
        event::AOF_WRITE
        | event::AOF_WRITE_ALONE
        | event::AOF_FSYNC_ALWAYS
        | event::AOF_FSTAT
        | event::RDB_UNLINK_TEMP_FILE => out.push(
            "File operations on the server's threads were slow: use a local (solid-state) \
             disk, and lower the other disk load on the machine."
                .into(),
        ),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::series;
    use super::*;

    fn settings() -> Settings {
        Settings {
            threshold_ms: 100,
            slowlog_slower_than: 10_000,
            appendfsync_always: false,
            hz: 10,
        }
    }

    #[test]
    fn figures_as_redis() {
        // Redis 7 reported these for two DEBUG SLEEPs a second apart, right after the
        // second: "2 latency spikes (average 225ms, mean deviation 75ms, period 0.50
        // sec). Worst all time event 300ms."
        let s = series(&[(10, 300), (11, 150)], 300);
        assert_eq!(
            figures(&s, 11),
            Figures {
                samples: 2,
                avg: 225,
                mad: 75,
                period: 1
            }
        );
        let r = report(&vec![("command", s)], &settings(), 11);
        assert!(
            r.contains(
                "1. command: 2 latency spikes (average 225ms, mean deviation 75ms, period \
                 0.50 sec). Worst all time event 300ms.\n"
            ),
            "{r}"
        );
        assert!(r.contains("SLOWLOG GET"), "{r}");
        assert!(!r.contains("slowlog-log-slower-than"), "{r}");
    }

    #[test]
    fn the_advice_follows_the_events_and_settings() {
        assert!(report(
            &vec![],
            &Settings {
                threshold_ms: 0,
                ..settings()
            },
            0
        )
        .contains("off"));
        assert!(report(&vec![], &settings(), 0).starts_with("No latency spike"));
        let off = Settings {
            slowlog_slower_than: -1,
            ..settings()
        };
        let one =
            |e: &'static str, s: &Settings| report(&vec![(e, series(&[(1, 200)], 200))], s, 5);
        assert!(one("command", &off).contains("slowlog-log-slower-than 100000"));
        let high = Settings {
            slowlog_slower_than: 500_000,
            ..settings()
        };
        assert!(one("command", &high).contains("slower than 500000 us"));
        assert!(one("expire-cycle", &settings()).contains("CONFIG SET hz 100"));
        assert!(!one(
            "expire-cycle",
            &Settings {
                hz: 100,
                ..settings()
            }
        )
        .contains("hz 100"));
        let always = Settings {
            appendfsync_always: true,
            ..settings()
        };
        assert!(one("aof-fsync-always", &always).contains("'everysec'"));
        assert!(!one("aof-fsync-always", &settings()).contains("'everysec'"));
        // One piece of advice once, however many events call for it.
        let disk = report(
            &vec![
                ("aof-write", series(&[(1, 200)], 200)),
                ("aof-write-alone", series(&[(1, 200)], 200)),
            ],
            &settings(),
            5,
        );
        assert_eq!(
            disk.matches("local (solid-state) disk").count(),
            1,
            "{disk}"
        );
    }
}
