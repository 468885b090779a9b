//! Growth latency and memory of the keyspace table vs std `HashMap`.
//!
//! `cargo run --release -p shardis-shard --example dash_growth [keys]` (default 10M): inserts
//! 16-byte keys with 24-byte values, timing every insert, and prints p50/p99/p99.9/max per
//! 1M-insert chunk and the mean get time at full size; first, the heap bytes per entry at
//! several sizes, counted by a wrapping allocator.

use shard::dash::DashTable;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

/// System allocator plus a count of live heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` was allocated by `System` with `layout` (via `alloc`/`realloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type Value = [u64; 3];
type StdMap = HashMap<Box<[u8]>, Value, ahash::RandomState>;

/// A 16-byte key: "key:" and 12 decimal digits.
fn key(i: u64) -> [u8; 16] {
    let mut k = *b"key:000000000000";
    let mut n = i;
    for d in k[4..].iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    k
}

trait Table {
    fn put(&mut self, k: &[u8], v: Value);
    fn lookup(&self, k: &[u8]) -> Option<&Value>;
}

impl Table for DashTable<Value> {
    fn put(&mut self, k: &[u8], v: Value) {
        self.insert(k, v);
    }

    fn lookup(&self, k: &[u8]) -> Option<&Value> {
        self.get(k)
    }
}

impl Table for StdMap {
    fn put(&mut self, k: &[u8], v: Value) {
        self.insert(k.into(), v);
    }

    fn lookup(&self, k: &[u8]) -> Option<&Value> {
        self.get(k)
    }
}

/// Mean time of a hit lookup (random present keys) and a miss.
fn lookups(name: &str, t: &impl Table, keys: u64) {
    const N: u64 = 2_000_000;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let start = Instant::now();
    for _ in 0..N {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert!(t.lookup(&key(x % keys)).is_some());
    }
    let hit = start.elapsed().as_nanos() as u64 / N;
    let start = Instant::now();
    for i in 0..N {
        assert!(t.lookup(&key(keys + i)).is_none());
    }
    let miss = start.elapsed().as_nanos() as u64 / N;
    println!("{name}: get hit {hit} ns, miss {miss} ns (mean over {N})\n");
}

fn latency(name: &str, t: &mut impl Table, keys: u64) {
    const CHUNK: u64 = 1_000_000;
    println!("{name}: per-insert latency (ns) by chunk of {CHUNK}");
    println!("  keys     p50    p99  p99.9      max   total ms");
    let mut ns = Vec::with_capacity(CHUNK as usize);
    let (mut worst, mut worst_p999) = (0, 0);
    // Slow inserts: over 100 us, over 1 ms (a 4 ms scheduler tick lost to another process
    // on a busy machine lands here too).
    let (mut over_100us, mut over_1ms) = (0, 0);
    for chunk in 0..keys.div_ceil(CHUNK) {
        ns.clear();
        let start = Instant::now();
        for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(keys) {
            let k = key(i);
            let t0 = Instant::now();
            t.put(&k, [i; 3]);
            ns.push(t0.elapsed().as_nanos() as u64);
        }
        let total = start.elapsed();
        ns.sort_unstable();
        over_100us += ns.iter().filter(|&&n| n > 100_000).count();
        over_1ms += ns.iter().filter(|&&n| n > 1_000_000).count();
        let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize];
        let max = *ns.last().unwrap();
        worst = worst.max(max);
        worst_p999 = worst_p999.max(at(0.999));
        println!(
            "  {:>4}M {:>6} {:>6} {:>6} {:>8} {:>10.1}",
            (chunk + 1) * CHUNK / 1_000_000,
            at(0.5),
            at(0.99),
            at(0.999),
            max,
            total.as_secs_f64() * 1e3
        );
    }
    println!("  worst chunk p99.9 {worst_p999} ns, max {worst} ns");
    println!("  inserts over 100 us: {over_100us}, over 1 ms: {over_1ms}\n");
}

/// Insert latency of the DashTable split by what the insert did to the structure, to tell
/// the cost of growth steps from scheduler noise on a shared machine.
fn growth_steps(keys: u64) {
    let mut t: DashTable<Value> = DashTable::new();
    let mut classes: [(&str, Vec<u64>); 3] = [
        ("plain insert", Vec::new()),
        ("widen", Vec::new()),
        ("split", Vec::new()),
    ];
    for i in 0..keys {
        let (segs, cap) = (t.segment_count(), t.capacity());
        let k = key(i);
        let t0 = Instant::now();
        t.insert(&k, [i; 3]);
        let ns = t0.elapsed().as_nanos() as u64;
        let class = if t.segment_count() != segs {
            2
        } else {
            usize::from(t.capacity() != cap)
        };
        classes[class].1.push(ns);
    }
    println!("DashTable insert latency (ns) by growth step, {keys} inserts");
    println!("  step             count    p50    p99  p99.9      max");
    for (name, mut ns) in classes {
        ns.sort_unstable();
        let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize];
        let max = *ns.last().unwrap();
        let (p50, p99, p999) = (at(0.5), at(0.99), at(0.999));
        println!(
            "  {name:<14} {:>7} {p50:>6} {p99:>6} {p999:>6} {max:>8}",
            ns.len()
        );
    }
    println!();
}

fn memory() {
    println!("heap bytes per entry (16-byte keys, 24-byte values)");
    println!("  entries      dash  dash load    HashMap");
    for n in [
        1_000, 10_000, 100_000, 250_000, 500_000, 750_000, 1_000_000, 1_250_000, 1_500_000,
        1_750_000, 2_000_000,
    ] {
        let base = LIVE.load(Relaxed);
        let mut d: DashTable<Value> = DashTable::new();
        for i in 0..n {
            d.insert(&key(i), [i; 3]);
        }
        let dash = (LIVE.load(Relaxed) - base) as f64 / n as f64;
        let load = d.len() as f64 / d.capacity() as f64;
        drop(d);
        let base = LIVE.load(Relaxed);
        let mut m = StdMap::default();
        for i in 0..n {
            m.insert(key(i).into(), [i; 3]);
        }
        // The key boxes are 16-byte allocations; malloc rounds each to a 32-byte chunk.
        let map = (LIVE.load(Relaxed) - base) as f64 / n as f64;
        drop(m);
        println!("  {n:>9} {dash:>9.1} {load:>10.3} {map:>10.1} (+16 malloc rounding)");
    }
    println!();
}

fn main() {
    let keys: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("keys"))
        .unwrap_or(10_000_000);
    memory();
    growth_steps(keys);
    let mut d: DashTable<Value> = DashTable::new();
    latency("DashTable", &mut d, keys);
    lookups("DashTable", &d, keys);
    drop(d);
    let mut m = StdMap::default();
    latency("std HashMap (ahash)", &mut m, keys);
    lookups("std HashMap (ahash)", &m, keys);
}
