//! Latency histograms: one HdrHistogram per command type, in nanoseconds.
//!
//! Every histogram has the same bounds so threads' and runs' histograms can
//! always be added together; recording saturates instead of failing or
//! resizing, which keeps the hot path free of allocation.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::io::{self, Write};

pub type Latency = Histogram<u64>;

/// One hour: anything slower is clamped (and is a problem worth seeing in `max`).
pub const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;
const SIGFIG: u8 = 3;
const NS_PER_MS: f64 = 1_000_000.0;

pub fn new_latency() -> Latency {
    Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIG).expect("static histogram bounds are valid")
}

/// Adds `from` into `into`. Cannot fail: all our histograms share one shape.
pub fn merge(into: &mut Latency, from: &Latency) {
    into.add(from).expect("histograms share bounds");
}

pub fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / NS_PER_MS
}

/// The headline numbers, in milliseconds (memtier's unit).
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub mean_ms: f64,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub p9999_ms: f64,
    pub max_ms: f64,
}

pub fn summarize(h: &Latency) -> Summary {
    if h.is_empty() {
        return Summary::default();
    }
    let q = |q: f64| ns_to_ms(h.value_at_quantile(q));
    Summary {
        mean_ms: h.mean() / NS_PER_MS,
        min_ms: ns_to_ms(h.min()),
        p50_ms: q(0.50),
        p90_ms: q(0.90),
        p99_ms: q(0.99),
        p999_ms: q(0.999),
        p9999_ms: q(0.9999),
        max_ms: ns_to_ms(h.max()),
    }
}

/// One step of the percentile distribution (for plotting).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Point {
    pub percentile: f64,
    pub value_ms: f64,
    pub count: u64,
}

/// HdrHistogram's classic percentile walk: 5 ticks per halving of the remaining tail.
pub fn distribution(h: &Latency) -> Vec<Point> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut total = 0;
    h.iter_quantiles(5)
        .map(|v| {
            total += v.count_since_last_iteration();
            Point {
                percentile: v.quantile_iterated_to() * 100.0,
                value_ms: ns_to_ms(v.value_iterated_to()),
                count: total,
            }
        })
        .collect()
}

/// Writes the `.hgrm` percentile-distribution text format (values in ms), as
/// HdrHistogram's `outputPercentileDistribution` does, so the file loads into
/// the usual HdrHistogram plotters.
pub fn write_hgrm(h: &Latency, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    for p in distribution(h) {
        let q = p.percentile / 100.0;
        if q < 1.0 {
            writeln!(
                out,
                "{:12.3} {:2.12} {:10} {:14.2}",
                p.value_ms,
                q,
                p.count,
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(out, "{:12.3} {:2.12} {:10}", p.value_ms, q, p.count)?;
        }
    }
    let (mean, stdev) = if h.is_empty() {
        (0.0, 0.0)
    } else {
        (h.mean() / NS_PER_MS, h.stdev() / NS_PER_MS)
    };
    let max = if h.is_empty() { 0.0 } else { ns_to_ms(h.max()) };
    writeln!(
        out,
        "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_bucket_count(h.sigfig())
    )
}

/// HdrHistogram's sub-bucket count: 2 * 10^sigfig rounded up to a power of two.
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_across_threads_and_runs_equals_single_histogram() {
        // Three "threads" record disjoint slices of the same data; their sum must be
        // indistinguishable from one histogram that saw everything.
        let mut all = new_latency();
        let mut parts = [new_latency(), new_latency(), new_latency()];
        for i in 1..=30_000u64 {
            let v = i * 1_000 + (i % 7) * 13;
            all.record(v).unwrap();
            parts[(i % 3) as usize].record(v).unwrap();
        }
        let mut run1 = new_latency();
        merge(&mut run1, &parts[0]);
        merge(&mut run1, &parts[1]);
        let mut total = new_latency();
        merge(&mut total, &run1);
        merge(&mut total, &parts[2]);
        assert_eq!(total.len(), all.len());
        assert_eq!(summarize(&total), summarize(&all));
        assert_eq!(distribution(&total), distribution(&all));
    }

    #[test]
    fn summary_in_ms() {
        let mut h = new_latency();
        for v in 1..=1000u64 {
            h.record(v * 1_000).unwrap(); // 1 us .. 1 ms
        }
        let s = summarize(&h);
        assert!((s.p50_ms - 0.5).abs() < 0.001, "{s:?}");
        assert!((s.p99_ms - 0.99).abs() < 0.001, "{s:?}");
        assert!((s.max_ms - 1.0).abs() < 0.001, "{s:?}");
        assert!((s.min_ms - 0.001).abs() < 0.0001, "{s:?}");
        assert_eq!(summarize(&new_latency()), Summary::default());
    }

    #[test]
    fn saturates_instead_of_failing() {
        let mut h = new_latency();
        h.saturating_record(u64::MAX);
        assert_eq!(h.len(), 1);
        assert!(h.max() >= HIGHEST_NS);
    }

    #[test]
    fn distribution_is_monotonic_and_ends_at_100() {
        let mut h = new_latency();
        for v in 1..=10_000u64 {
            h.record(v * 997).unwrap();
        }
        let d = distribution(&h);
        assert!(d.windows(2).all(|w| w[0].percentile <= w[1].percentile
            && w[0].value_ms <= w[1].value_ms
            && w[0].count <= w[1].count));
        let last = d.last().unwrap();
        assert_eq!(last.percentile, 100.0);
        assert_eq!(last.count, 10_000);
        let mut text = Vec::new();
        write_hgrm(&h, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        assert!(text.contains("#[Max     ="));
        assert!(text.contains("SubBuckets     =         2048]"), "{text}");
    }
}
