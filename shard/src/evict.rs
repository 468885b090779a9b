//! maxmemory eviction, the shard's half: which key goes and its removal. When to evict and
//! how much is the server's business (it measures memory, see `server/src/maxmemory.rs`).
//!
//! As in Redis, LRU, LFU and TTL policies are approximated by sampling: each round samples
//! `maxmemory-samples` keys of every database into a pool of the best candidates seen so far
//! (kept across rounds), and the best of the pool goes. Random policies take a random key,
//! visiting the databases in turn. A removal is a DEL for the AOF and the replicas, an
//! "evicted" keyspace event, and a change WATCH and CLIENT TRACKING see.

use crate::db::{Clock, Db, Entry};
use crate::shard::Shard;

/// `maxmemory-policy`. The order is Redis' (its config enum and error messages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    #[default]
    NoEviction,
}

impl Policy {
    pub const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::NoEviction,
    ];
    pub const NAMES: &'static [&'static str] = &[
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "noeviction",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Only keys with a TTL may go.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    pub fn lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    /// Redis' MAXMEMORY_FLAG_LRU: the policies under which RDB files carry idle times.
    pub fn lru(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::AllkeysLru)
    }

    /// What a snapshot taken under this policy records of each key's access (Redis writes
    /// IDLE under the LRU policies, FREQ under the LFU ones, nothing otherwise).
    pub fn snapshot_access(self, clock: Clock, now_ms: u64) -> crate::snapshot::Access {
        use crate::snapshot::Access;
        if self.lru() {
            Access::Idle { now_ms }
        } else if self.lfu() {
            Access::Freq { clock, now_ms }
        } else {
            Access::None
        }
    }

    fn random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// Redis' LFU_INIT_VAL: a new key's counter, so it is not the first to be evicted.
pub const LFU_INIT_VAL: u8 = 5;

/// Redis' LFUGetTimeInMinutes: Unix minutes, 16 bits (wrapping every ~45 days).
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// LFU data of `counter` last decremented now.
pub fn lfu_data(now_ms: u64, counter: u8) -> u32 {
    (lfu_minutes(now_ms) << 8) | counter as u32
}

/// Redis' LFUDecrAndReturn: the counter of `access` once every `decay_time` minutes since
/// its last decrement took one off (0: no decay).
pub fn lfu_decayed(access: u32, decay_time: u32, now_ms: u64) -> u8 {
    let (ldt, counter) = ((access >> 8) & 0xffff, (access & 0xff) as u8);
    if decay_time == 0 {
        return counter;
    }
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    let periods = elapsed / decay_time;
    counter.saturating_sub(periods.min(255) as u8)
}

/// Redis' LFULogIncr: one more access, counted with probability 1/((counter - 5) *
/// log_factor + 1), so the 8 bits reach 255 only after about a million accesses (factor
/// 10). `coin` is a uniformly random u64.
pub fn lfu_incremented(counter: u8, log_factor: u32, coin: u64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let r = (coin >> 11) as f64 / (1u64 << 53) as f64;
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// An entry's access data from an idle time (seconds) or an LFU counter, as Redis'
/// `objectSetLRUOrLFU` sets it (RESTORE's IDLETIME / FREQ, an RDB's IDLE / FREQ): each
/// counts only under its clock; 0 (a fresh entry's, stamped when stored) otherwise.
pub fn access_from(clock: Clock, idle_secs: Option<u64>, freq: Option<u8>, now_ms: u64) -> u32 {
    match (clock, idle_secs, freq) {
        (Clock::Lru, Some(idle), _) => {
            // 0 means "never stored": the oldest access kept is 1 s after the epoch.
            (now_ms / 1000).saturating_sub(idle).max(1) as u32
        }
        (Clock::Lfu { .. }, _, Some(freq)) => lfu_data(now_ms, freq),
        _ => 0,
    }
}

/// OBJECT FREQ: the counter as an eviction would see it now.
pub fn frequency(e: &Entry, clock: Clock, now_ms: u64) -> u8 {
    match clock {
        Clock::Lfu { decay_time, .. } => lfu_decayed(e.access, decay_time, now_ms),
        Clock::Lru => 0,
    }
}

/// Candidates Redis' eviction pool keeps (EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

struct Candidate {
    /// Higher goes first: idle seconds, 255 - LFU counter, or time left before the TTL.
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

/// A shard's eviction state: the pool, where random eviction resumes, the count.
#[derive(Default)]
pub struct Evictor {
    /// Sorted by ascending score: the best candidate is last.
    pool: Vec<Candidate>,
    next_db: usize,
    rng: crate::rng::Rng,
    /// Keys evicted (INFO `evicted_keys`).
    pub evicted: u64,
}

impl Evictor {
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if self.pool.len() == POOL_SIZE {
            if score <= self.pool[0].score {
                return;
            }
            self.pool.remove(0);
        }
        let at = self.pool.partition_point(|c| c.score <= score);
        self.pool.insert(
            at,
            Candidate {
                score,
                db,
                key: key.into(),
            },
        );
    }

    /// Forgets every candidate (FLUSHALL, SWAPDB, a policy change: they may be stale).
    pub fn forget(&mut self) {
        self.pool.clear();
    }
}

/// How good a candidate `e` is under `policy` (higher goes first).
fn score(policy: Policy, clock: Clock, e: &Entry, now_ms: u64) -> u64 {
    match policy {
        Policy::VolatileTtl => u64::MAX - e.expire_at,
        p if p.lfu() => 255 - frequency(e, clock, now_ms) as u64,
        _ => ((now_ms / 1000) as u32).saturating_sub(e.access) as u64,
    }
}

impl Shard {
    /// Sets the eviction policy's access tracking on every database (LRU or LFU data).
    pub fn set_clock(&mut self, clock: Clock) {
        if self.dbs.first().is_some_and(|d| d.clock != clock) {
            self.dbs.iter_mut().for_each(|d| d.clock = clock);
            self.evictor.forget();
        }
    }

    /// Bytes of the key tables' empty slots: a key and a short value live in their slot,
    /// so evicting one frees no allocation, only a slot the next key takes (maxmemory
    /// counts these bytes as free).
    pub fn free_table_bytes(&self) -> u64 {
        self.dbs.iter().map(|d| d.free_table_bytes() as u64).sum()
    }

    /// Evicts one key chosen by `policy` from `samples` sampled per database. Returns false
    /// when no key may go (`noeviction`, no keys, or no keys with a TTL for a volatile
    /// policy).
    pub fn evict_one(&mut self, policy: Policy, samples: usize, now_ms: u64) -> bool {
        match self.eviction_candidate(policy, samples, now_ms) {
            Some((db, key)) => self.evict_key(db, &key),
            None => false,
        }
    }

    /// The key [`Shard::evict_one`] would evict, as (database, key), without evicting it:
    /// the caller can time the removal alone (the latency monitor's `eviction-del`).
    pub fn eviction_candidate(
        &mut self,
        policy: Policy,
        samples: usize,
        now_ms: u64,
    ) -> Option<(usize, Box<[u8]>)> {
        self.choose(policy, samples.max(1), now_ms)
    }

    /// Evicts `key` of database `db` (an [`Shard::eviction_candidate`]); false when it is
    /// not there.
    pub fn evict_key(&mut self, db: usize, key: &[u8]) -> bool {
        if !self.dbs[db].evict(key) {
            return false;
        }
        self.effects.expired(db, key);
        self.evictor.evicted += 1;
        true
    }

    fn choose(
        &mut self,
        policy: Policy,
        samples: usize,
        now_ms: u64,
    ) -> Option<(usize, Box<[u8]>)> {
        if policy == Policy::NoEviction {
            return None;
        }
        let volatile = policy.volatile();
        let eligible = |d: &Db| {
            if volatile {
                d.volatile() > 0
            } else {
                !d.is_empty()
            }
        };
        if policy.random() {
            let n = self.dbs.len();
            for i in 0..n {
                let db = (self.evictor.next_db + i) % n;
                if !eligible(&self.dbs[db]) {
                    continue;
                }
                self.evictor.next_db = (db + 1) % n;
                let seed = self.evictor.rng.next_u64();
                let mut pick = None;
                self.dbs[db].sample(seed, 1, volatile, |k, _| {
                    if pick.is_none() {
                        pick = Some(k.into())
                    }
                });
                if let Some(key) = pick {
                    return Some((db, key));
                }
            }
            return None;
        }
        loop {
            let mut sampled = 0;
            for db in 0..self.dbs.len() {
                if !eligible(&self.dbs[db]) {
                    continue;
                }
                let seed = self.evictor.rng.next_u64();
                let (d, ev) = (&self.dbs[db], &mut self.evictor);
                let clock = d.clock;
                d.sample(seed, samples, volatile, |k, e| {
                    sampled += 1;
                    ev.offer(score(policy, clock, e, now_ms), db, k);
                });
            }
            if sampled == 0 {
                return None;
            }
            // The best candidate that is still there (a candidate may have been deleted, or
            // lost its TTL, since it was sampled).
            while let Some(c) = self.evictor.pool.pop() {
                let d = &mut self.dbs[c.db];
                if d.peek(&c.key, 0)
                    .is_some_and(|e| !volatile || e.expire_at != 0)
                {
                    return Some((c.db, c.key));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::StrValue;
    use crate::value::Value;

    fn v() -> Value {
        Value::Str(StrValue::from_bytes(b"v"))
    }

    const NOW: u64 = 1_700_000_000_000;

    fn shard_with(keys: usize) -> Shard {
        let mut s = Shard::new(0, 2);
        for i in 0..keys {
            let k = format!("k{i}");
            s.dbs[0].set(k.as_bytes(), v(), 0, NOW);
        }
        s
    }

    #[test]
    fn lfu_counter_as_redis() {
        // Below LFU_INIT_VAL every access counts; the decay takes one per period.
        assert_eq!(lfu_incremented(0, 10, u64::MAX), 1);
        assert_eq!(lfu_incremented(255, 10, 0), 255);
        // At counter 15 with factor 10, p = 1/101: a coin of 0.5 does not count, 0.001 does.
        assert_eq!(lfu_incremented(15, 10, 1 << 63), 15);
        assert_eq!(lfu_incremented(15, 10, (u64::MAX / 1000) & !0x7ff), 16);
        let data = lfu_data(NOW, 10);
        assert_eq!(lfu_decayed(data, 1, NOW), 10);
        assert_eq!(lfu_decayed(data, 1, NOW + 3 * 60_000), 7);
        assert_eq!(lfu_decayed(data, 2, NOW + 3 * 60_000), 9);
        assert_eq!(lfu_decayed(data, 0, NOW + 3 * 60_000), 10);
        assert_eq!(lfu_decayed(data, 1, NOW + 300 * 60_000), 0);
        // The 16-bit minute clock wraps.
        let wrapped = (0xfffe << 8) | 20;
        let later = (NOW / 60_000 / 65536 + 1) * 65536 * 60_000 + 60_000;
        assert_eq!(lfu_decayed(wrapped, 1, later), 20 - 2);
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut s = shard_with(100);
        // Everything but k7 is read 100 s later: k7 is the oldest.
        for i in 0..100 {
            if i != 7 {
                s.dbs[0].get(format!("k{i}").as_bytes(), NOW + 100_000);
            }
        }
        // With every key sampled, the pool's best is k7.
        assert!(s.evict_one(Policy::AllkeysLru, 100, NOW + 100_000));
        assert!(!s.dbs[0].contains(b"k7", NOW + 100_000));
        assert_eq!(s.dbs[0].len(), 99);
        assert_eq!(s.evictor.evicted, 1);
    }

    #[test]
    fn volatile_policies_only_take_keys_with_a_ttl() {
        let mut s = shard_with(50);
        for policy in [
            Policy::VolatileLru,
            Policy::VolatileRandom,
            Policy::VolatileTtl,
        ] {
            assert!(!s.evict_one(policy, 5, NOW), "{policy:?}: no TTL anywhere");
        }
        s.dbs[1].set(b"far", v(), NOW + 50_000, NOW);
        s.dbs[1].set(b"near", v(), NOW + 10_000, NOW);
        assert!(s.evict_one(Policy::VolatileTtl, 5, NOW));
        assert!(!s.dbs[1].contains(b"near", NOW) && s.dbs[1].contains(b"far", NOW));
        assert!(s.evict_one(Policy::VolatileRandom, 5, NOW));
        assert!(s.dbs[1].is_empty() && s.dbs[0].len() == 50);
        assert!(!s.evict_one(Policy::VolatileLfu, 5, NOW));
        assert!(!s.evict_one(Policy::NoEviction, 5, NOW));
    }

    #[test]
    fn random_and_lfu_empty_the_shard() {
        for policy in [Policy::AllkeysRandom, Policy::AllkeysLfu] {
            let mut s = shard_with(40);
            if policy.lfu() {
                s.set_clock(Clock::Lfu {
                    log_factor: 10,
                    decay_time: 1,
                });
            }
            let mut n = 0;
            while s.evict_one(policy, 5, NOW) {
                n += 1;
            }
            assert_eq!(n, 40, "{policy:?}");
            assert!(s.dbs[0].is_empty());
        }
    }

    #[test]
    fn lfu_keeps_the_frequently_used() {
        let mut s = shard_with(0);
        s.set_clock(Clock::Lfu {
            log_factor: 10,
            decay_time: 1,
        });
        for i in 0..20 {
            s.dbs[0].set(format!("k{i}").as_bytes(), v(), 0, NOW);
        }
        for _ in 0..50 {
            s.dbs[0].get(b"k3", NOW);
        }
        let clock = s.dbs[0].clock;
        let hot = frequency(s.dbs[0].peek(b"k3", NOW).unwrap(), clock, NOW);
        assert!(hot > LFU_INIT_VAL + 1, "{hot}");
        for _ in 0..19 {
            assert!(s.evict_one(Policy::AllkeysLfu, 20, NOW));
        }
        assert!(s.dbs[0].contains(b"k3", NOW));
    }

    /// The approximation is good enough that keys read since the others were written all
    /// survive the eviction of a third of the data set (a fair sample: a bucket's first
    /// slots hold its oldest keys, so taking only those would favour old keys).
    #[test]
    fn approximated_lru_keeps_the_recently_read() {
        let mut s = Shard::new(0, 16);
        for i in 0..2350 {
            s.dbs[0].set(format!("k{i}").as_bytes(), v(), 0, NOW);
        }
        for i in 0..150 {
            s.dbs[0].get(format!("k{i}").as_bytes(), NOW + 2000);
        }
        for i in 0..2000 {
            s.dbs[0].set(format!("new{i}").as_bytes(), v(), 0, NOW + 3000);
            if i % 4 != 0 {
                assert!(s.evict_one(Policy::AllkeysLru, 5, NOW + 3000));
            }
        }
        let mut kept = |r: std::ops::Range<usize>| {
            r.filter(|i| s.dbs[0].peek(format!("k{i}").as_bytes(), NOW).is_some())
                .count()
        };
        let (hot, cold) = (kept(0..150), kept(150..2350));
        assert!(hot >= 145, "hot keys kept: {hot} of 150");
        assert!(cold < 2350 - 1400, "cold keys kept: {cold} of 2200");
    }
}
