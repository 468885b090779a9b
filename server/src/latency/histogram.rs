//! Per-command latency histograms, as Redis keeps them: HdrHistogram over 1 ns .. 1 s with
//! two significant digits, fed with each call's time in nanoseconds (microseconds x 1000:
//! the clock Shardis times commands with counts microseconds, as Redis' does). The same
//! buckets as Redis', so percentiles and LATENCY HISTOGRAM's buckets come out the same.
//!
//! Recording is on every command's path, so the common case is one increment: calls under
//! [`DIRECT_USEC`] microseconds are counted in a plain array by their microsecond, slower
//! ones go into the HdrHistogram ([`Latencies`]). The values are whole microseconds either
//! way, so the histogram made of both when asked for is the one recording every call into
//! it would have made.

use std::fmt::Write;

pub type Histogram = hdrhistogram::Histogram<u64>;

/// Redis' LATENCY_HISTOGRAM_MIN_VALUE, _MAX_VALUE and _PRECISION.
const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 1_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 2;

/// The first bucket LATENCY HISTOGRAM reports ends at 1024 ns; each next one doubles.
const FIRST_REPORTED_NS: u64 = 1024;

/// Calls faster than this are counted by their microsecond without the HdrHistogram (see
/// the module comment): a direct increment costs about a nanosecond, a record into the
/// HdrHistogram about six (measured in docs/BENCHMARKS.md).
const DIRECT_USEC: usize = 64;

pub fn new() -> Box<Histogram> {
    Box::new(
        Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS)
            .expect("constant bounds are valid"),
    )
}

/// A call's time as the histogram holds it: nanoseconds, clamped to its range as Redis does.
fn ns(usec: u64) -> u64 {
    usec.saturating_mul(1000).clamp(LOWEST_NS, HIGHEST_NS)
}

/// One command's calls on one shard.
#[derive(Clone)]
pub struct Latencies {
    /// Calls by their time in microseconds, under DIRECT_USEC.
    fast: [u64; DIRECT_USEC],
    /// The slower calls, made at the first one.
    slow: Option<Box<Histogram>>,
}

impl Latencies {
    /// Every call as one histogram.
    pub fn histogram(&self) -> Box<Histogram> {
        let mut h = self.slow.clone().unwrap_or_else(new);
        for (usec, &calls) in self.fast.iter().enumerate() {
            if calls > 0 {
                h.saturating_record_n(ns(usec as u64), calls);
            }
        }
        h
    }
}

/// Records a call of `usec` microseconds.
#[inline]
pub fn record(slot: &mut Option<Box<Latencies>>, usec: u64) {
    let l = slot.get_or_insert_with(|| {
        Box::new(Latencies {
            fast: [0; DIRECT_USEC],
            slow: None,
        })
    });
    match l.fast.get_mut(usec as usize) {
        Some(calls) => *calls += 1,
        None => l.slow.get_or_insert_with(new).saturating_record(ns(usec)),
    }
}

/// Adds `from` into `into` (histograms of the same command on different shards).
pub fn add(into: &mut Option<Box<Histogram>>, from: &Histogram) {
    // Same bounds on both sides: adding cannot fail.
    let _ = into.get_or_insert_with(new).add(from);
}

/// The value at `percentile` (0..=100), in ns, computed as the HdrHistogram C library
/// Redis embeds does (its rounding differs from the Rust crate's `value_at_percentile`):
/// the highest value equivalent to the first one whose cumulative count reaches
/// round(percentile% of the total), or the lowest for percentile 0.
pub fn value_at_percentile(h: &Histogram, percentile: f64) -> u64 {
    let wanted = ((percentile.min(100.0) / 100.0) * h.len() as f64 + 0.5) as u64;
    let wanted = wanted.max(1);
    let mut seen = 0;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        if seen >= wanted {
            let value = v.value_iterated_to();
            return if percentile == 0.0 {
                h.lowest_equivalent(value)
            } else {
                h.highest_equivalent(value)
            };
        }
    }
    0
}

/// `latency_percentiles_usec_<name>:p50=1.003,...` of INFO latencystats (without the line
/// end), in microseconds with three decimals.
pub fn info_line(name: &str, h: &Histogram, percentiles: &[f64]) -> String {
    let mut line = format!("latency_percentiles_usec_{name}:");
    for (i, &p) in percentiles.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let usec = value_at_percentile(h, p) as f64 / 1000.0;
        let _ = write!(line, "p{}={usec:.3}", crate::config::percentile_text(p));
    }
    line
}

/// LATENCY HISTOGRAM's `histogram_usec`: (bucket end in us, calls so far) at every power of
/// two from 1024 ns on whose count grew, as Redis' logarithmic walk of the histogram
/// reports them. The bucket of 2^k ns ends at the last value its histogram slot holds
/// (33 us for 32768 ns). Like Redis, the walk stops at the last power of two within the
/// histogram's range (2^29 ns): calls slower than about 541 ms count in `calls` only.
pub fn cumulative(h: &Histogram) -> Vec<(u64, u64)> {
    let last_value = h.highest_equivalent(HIGHEST_NS);
    let mut out = Vec::new();
    let (mut level, mut count, mut reported) = (FIRST_REPORTED_NS, 0, 0);
    let mut report = |level: u64, count: u64, out: &mut Vec<(u64, u64)>| {
        if count > reported {
            out.push((h.highest_equivalent(level) / 1000, count));
            reported = count;
        }
    };
    for v in h.iter_recorded() {
        // A slot belongs to the first level at or above its lowest value.
        let low = h.lowest_equivalent(v.value_iterated_to());
        while low > level {
            report(level, count, &mut out);
            level *= 2;
            if level > last_value {
                return out;
            }
        }
        count += v.count_at_value();
    }
    report(level, count, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(usecs: &[u64]) -> Box<Histogram> {
        let mut slot = None;
        for &u in usecs {
            record(&mut slot, u);
        }
        slot.unwrap().histogram()
    }

    #[test]
    fn counting_fast_calls_apart_changes_nothing() {
        let usecs: Vec<u64> = (0..5000).map(|i| (i * i) % 3000).collect();
        let mut direct = new();
        for &u in &usecs {
            direct.saturating_record(ns(u));
        }
        let split = of(&usecs);
        assert_eq!(split, direct);
        assert_eq!(split.len(), 5000);
        for p in [0.0, 50.0, 99.0, 99.9, 100.0] {
            assert_eq!(
                value_at_percentile(&split, p),
                value_at_percentile(&direct, p)
            );
        }
    }

    #[test]
    fn percentiles_as_redis_computes_them() {
        // Redis 7 answers p50=1.003 for calls of one microsecond (the slot of 1000 ns
        // ends at 1003 ns), and p0 with the slot's lowest value.
        let h = of(&[1, 1, 1]);
        assert_eq!(value_at_percentile(&h, 50.0), 1003);
        assert_eq!(value_at_percentile(&h, 0.0), 1000);
        // 0 us is clamped to 1 ns.
        assert_eq!(value_at_percentile(&of(&[0]), 100.0), 1);
        // Rounding to the nearest count (the Rust crate's ceil would say 2 ms here).
        let h = of(&[1000, 2000, 3000, 4000]);
        assert_eq!(
            value_at_percentile(&h, 30.0),
            h.highest_equivalent(1_000_000)
        );
        assert_eq!(
            value_at_percentile(&h, 40.0),
            h.highest_equivalent(2_000_000)
        );
        assert_eq!(
            value_at_percentile(&h, 100.0),
            h.highest_equivalent(4_000_000)
        );
    }

    #[test]
    fn info_line_format() {
        let h = of(&[5, 5, 5, 122]);
        assert_eq!(
            info_line("config|get", &h, &[50.0, 99.0, 99.9]),
            "latency_percentiles_usec_config|get:p50=5.023,p99=122.367,p99.9=122.367"
        );
        assert_eq!(info_line("get", &h, &[]), "latency_percentiles_usec_get:");
    }

    #[test]
    fn cumulative_buckets_at_powers_of_two() {
        // What Redis 7 answered for a first SET (16 us) and two GETs (8 us).
        assert_eq!(cumulative(&of(&[16])), [(16, 1)]);
        assert_eq!(cumulative(&of(&[7, 8])), [(8, 2)]);
        assert_eq!(cumulative(&of(&[130])), [(132, 1)]);
        // 1 us and below land in the first bucket; buckets that add nothing are left out.
        assert_eq!(
            cumulative(&of(&[0, 1, 2, 3, 30, 1500])),
            [(1, 2), (2, 3), (4, 4), (33, 5), (2113, 6)]
        );
        // Beyond 2^29 ns the walk ends: such calls show in `calls` only.
        let h = of(&[1, 600_000, 2_000_000]);
        assert_eq!(h.len(), 3);
        assert_eq!(cumulative(&h), [(1, 1)]);
        let h = of(&[500_000]);
        assert_eq!(cumulative(&h), [(541_065, 1)]);
    }

    #[test]
    fn shards_add_up() {
        let mut total = None;
        add(&mut total, &of(&[1, 2]));
        add(&mut total, &of(&[2, 4]));
        let total = total.unwrap();
        assert_eq!(total.len(), 4);
        assert_eq!(cumulative(&total), [(1, 1), (2, 3), (4, 4)]);
    }
}
