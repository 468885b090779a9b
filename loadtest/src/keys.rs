//! Key selection: the four memtier key patterns and the small PRNG behind them.
//!
//! Everything here runs once per request, so it is allocation-free and cheap:
//! a SplitMix64 generator, Lemire's multiply-shift for bounded integers and a
//! Box-Muller transform for the gaussian pattern.

use serde::Serialize;

/// SplitMix64: tiny, fast, statistically fine for load generation (not crypto).
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Run the seed through one round so nearby seeds (client ids) diverge at once.
        let mut r = Rng { state: seed };
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]` (inclusive). Bias is at most 2^-64 relative, which is irrelevant here.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let r = ((self.next_u64() as u128 * (span as u128 + 1)) >> 64) as u64;
        lo + r
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal sample (Box-Muller; the second sample is discarded to keep no state).
    pub fn next_gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]: ln() stays finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// memtier's key patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KeyPattern {
    /// R: uniform random over `[min, max]`.
    #[serde(rename = "R")]
    Random,
    /// S: each client walks `min..=max` in order, wrapping around.
    #[serde(rename = "S")]
    Sequential,
    /// G: gaussian around a median (default: middle of the range).
    #[serde(rename = "G")]
    Gaussian,
    /// P: the range is cut into one slice per client; each client walks its own slice.
    #[serde(rename = "P")]
    Parallel,
}

impl KeyPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "R" | "r" => Ok(KeyPattern::Random),
            "S" | "s" => Ok(KeyPattern::Sequential),
            "G" | "g" => Ok(KeyPattern::Gaussian),
            "P" | "p" => Ok(KeyPattern::Parallel),
            other => Err(format!(
                "unknown key pattern {other:?} (expected R, S, G or P)"
            )),
        }
    }
}

/// Parses `--key-pattern`: either one letter for every command, or memtier's
/// `SET:GET` pair such as `S:R`. Returns `(set_pattern, get_pattern)`.
pub fn parse_pattern_pair(s: &str) -> Result<(KeyPattern, KeyPattern), String> {
    match s.split_once(':') {
        Some((set, get)) => Ok((KeyPattern::parse(set)?, KeyPattern::parse(get)?)),
        None => {
            let p = KeyPattern::parse(s)?;
            Ok((p, p))
        }
    }
}

/// The key space of one command: pattern plus range and gaussian shape.
#[derive(Clone, Debug, Serialize)]
pub struct KeySpace {
    pub pattern: KeyPattern,
    pub min: u64,
    pub max: u64,
    pub median: f64,
    pub stddev: f64,
}

/// Per-client, per-command key generator state.
#[derive(Clone, Debug)]
pub struct KeyGen {
    pattern: KeyPattern,
    lo: u64,
    hi: u64,
    next: u64,
    median: f64,
    stddev: f64,
}

impl KeyGen {
    /// `client` is the global client index in `0..clients_total` (only P uses it).
    pub fn new(space: &KeySpace, client: u64, clients_total: u64) -> Self {
        let (lo, hi) = match space.pattern {
            KeyPattern::Parallel => parallel_slice(space.min, space.max, client, clients_total),
            _ => (space.min, space.max),
        };
        KeyGen {
            pattern: space.pattern,
            lo,
            hi,
            next: lo,
            median: space.median,
            stddev: space.stddev,
        }
    }

    pub fn next_key(&mut self, rng: &mut Rng) -> u64 {
        match self.pattern {
            KeyPattern::Random => rng.range_inclusive(self.lo, self.hi),
            KeyPattern::Sequential | KeyPattern::Parallel => {
                let k = self.next;
                self.next = if k >= self.hi { self.lo } else { k + 1 };
                k
            }
            KeyPattern::Gaussian => {
                // Resample the (rare) tails that fall outside the range; clamp as a last resort
                // so a silly stddev cannot make this loop long.
                for _ in 0..8 {
                    let v = (self.median + self.stddev * rng.next_gaussian()).round();
                    if v >= self.lo as f64 && v <= self.hi as f64 {
                        return v as u64;
                    }
                }
                (self.median.round().max(self.lo as f64) as u64).min(self.hi)
            }
        }
    }
}

/// Slice `client` of `clients` equal parts of `[min, max]`. With more clients than
/// keys some slices would be empty; those clients share one key instead.
pub fn parallel_slice(min: u64, max: u64, client: u64, clients: u64) -> (u64, u64) {
    let keys = (max - min) as u128 + 1;
    let c = clients.max(1) as u128;
    let i = client as u128 % c;
    let lo = min as u128 + keys * i / c;
    let hi_excl = min as u128 + keys * (i + 1) / c;
    if hi_excl > lo {
        (lo as u64, (hi_excl - 1) as u64)
    } else {
        let k = min + (client % keys as u64);
        (k, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(pattern: KeyPattern, min: u64, max: u64) -> KeySpace {
        KeySpace {
            pattern,
            min,
            max,
            median: (min + max) as f64 / 2.0,
            stddev: (max - min) as f64 / 6.0,
        }
    }

    #[test]
    fn pattern_pairs() {
        assert_eq!(
            parse_pattern_pair("R").unwrap(),
            (KeyPattern::Random, KeyPattern::Random)
        );
        assert_eq!(
            parse_pattern_pair("S:R").unwrap(),
            (KeyPattern::Sequential, KeyPattern::Random)
        );
        assert_eq!(
            parse_pattern_pair("P:G").unwrap(),
            (KeyPattern::Parallel, KeyPattern::Gaussian)
        );
        assert!(parse_pattern_pair("X").is_err());
        assert!(parse_pattern_pair("R:").is_err());
    }

    #[test]
    fn random_stays_in_range_and_covers_it() {
        let mut g = KeyGen::new(&space(KeyPattern::Random, 10, 19), 0, 1);
        let mut rng = Rng::new(1);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let k = g.next_key(&mut rng);
            assert!((10..=19).contains(&k));
            seen[(k - 10) as usize] += 1;
        }
        // Each of 10 buckets expects 1000 hits; 700..1300 is > 9 sigma wide.
        assert!(seen.iter().all(|&n| (700..1300).contains(&n)), "{seen:?}");
    }

    #[test]
    fn sequential_wraps() {
        let mut g = KeyGen::new(&space(KeyPattern::Sequential, 5, 7), 3, 10);
        let mut rng = Rng::new(1);
        let keys: Vec<u64> = (0..7).map(|_| g.next_key(&mut rng)).collect();
        assert_eq!(keys, vec![5, 6, 7, 5, 6, 7, 5]);
    }

    #[test]
    fn parallel_slices_partition_the_range() {
        let (min, max, clients) = (0u64, 99u64, 7u64);
        let mut covered = vec![0u32; 100];
        for c in 0..clients {
            let (lo, hi) = parallel_slice(min, max, c, clients);
            for k in lo..=hi {
                covered[k as usize] += 1;
            }
            let mut g = KeyGen::new(&space(KeyPattern::Parallel, min, max), c, clients);
            let mut rng = Rng::new(1);
            assert_eq!(g.next_key(&mut rng), lo);
            for _ in 0..(hi - lo) {
                g.next_key(&mut rng);
            }
            assert_eq!(g.next_key(&mut rng), lo, "client {c} wraps in its slice");
        }
        assert!(
            covered.iter().all(|&n| n == 1),
            "every key in exactly one slice"
        );
    }

    #[test]
    fn parallel_more_clients_than_keys() {
        for c in 0..10 {
            let (lo, hi) = parallel_slice(0, 2, c, 10);
            assert!(lo <= hi && hi <= 2);
        }
    }

    #[test]
    fn gaussian_centres_on_median() {
        let mut g = KeyGen::new(&space(KeyPattern::Gaussian, 0, 6000), 0, 1);
        let mut rng = Rng::new(7);
        let n = 50_000;
        let mut sum = 0f64;
        let mut within_1sd = 0;
        for _ in 0..n {
            let k = g.next_key(&mut rng);
            assert!(k <= 6000);
            sum += k as f64;
            if (2000..=4000).contains(&k) {
                within_1sd += 1;
            }
        }
        let mean = sum / n as f64;
        assert!((mean - 3000.0).abs() < 30.0, "mean {mean}");
        let frac = within_1sd as f64 / n as f64;
        assert!((0.66..0.71).contains(&frac), "1-sigma fraction {frac}");
    }

    #[test]
    fn rng_is_deterministic_per_seed() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(43);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
