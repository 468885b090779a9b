//! `maxmemory`: when the data set must shrink, and what is refused meanwhile (Redis'
//! performEvictions). Which key goes is the shard's business (`shard::evict`).
//!
//! Memory is one number for the whole process (`memory::used_here`, less what
//! [`not_counted`] leaves out), but keys live in shards, so a shard evicts its own keys:
//! the shard that runs a command while memory is over the limit evicts until it freed the
//! excess (the allocations its thread freed, exactly, plus the table slots it emptied) or
//! its time budget (`maxmemory-eviction-tenacity`) ran out. Writes
//! are spread over the shards by key hash, so eviction is too; every shard's cron also
//! evicts its share while the server stays over the limit (a shard nobody writes to, a
//! lowered `maxmemory`). A shard with nothing left to evict asks the others and lets its
//! command run; commands that may grow memory (`denyoom`) get Redis' -OOM only when no
//! shard has anything to evict, or under `noeviction`.

use crate::config::Config;
use crate::latency;
use crate::local::{unix_ms, Local};
use shard::evict::Policy;
use shard::Shard;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Server-wide maxmemory state (in `Shared`). The limit is read per command batch; the
/// rest only while memory is over it.
pub struct MaxMemory {
    limit: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    backlog_size: AtomicU64,
    replica_ignores: AtomicBool,
    /// Per shard: its last eviction found nothing it may evict.
    barren: Box<[AtomicBool]>,
    /// Per shard: a request to evict is on its way there (one at a time).
    asked: Box<[AtomicBool]>,
    /// Per shard: the bytes of its key tables' empty slots when it last looked (see
    /// [`not_counted`]).
    free: Box<[AtomicU64]>,
    /// Since when (Unix ms) memory is over the limit, 0 when it is not; and the time it was
    /// over before (INFO `current_eviction_exceeded_time`, `total_eviction_exceeded_time`).
    over_since: AtomicU64,
    over_total: AtomicU64,
}

/// How an eviction pass ended.
#[derive(Debug, PartialEq, Eq)]
enum Pass {
    /// Memory is within the limit, or the pass freed the excess.
    Done,
    /// The time budget ran out first (the cron goes on).
    Timeout,
    /// Nothing here may be evicted.
    Nothing,
}

impl MaxMemory {
    pub fn new(config: &Config, shards: usize) -> MaxMemory {
        let m = MaxMemory {
            limit: AtomicU64::new(0),
            policy: AtomicU8::new(0),
            samples: AtomicU32::new(0),
            tenacity: AtomicU32::new(0),
            backlog_size: AtomicU64::new(0),
            replica_ignores: AtomicBool::new(true),
            barren: (0..shards).map(|_| AtomicBool::new(false)).collect(),
            asked: (0..shards).map(|_| AtomicBool::new(false)).collect(),
            free: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            over_since: AtomicU64::new(0),
            over_total: AtomicU64::new(0),
        };
        m.configure(config);
        m
    }

    /// Takes the settings of `config` (start-up, CONFIG SET).
    pub fn configure(&self, c: &Config) {
        self.policy
            .store(c.maxmemory_policy as u8, Ordering::Relaxed);
        self.samples.store(c.maxmemory_samples, Ordering::Relaxed);
        self.tenacity
            .store(c.maxmemory_eviction_tenacity, Ordering::Relaxed);
        self.backlog_size
            .store(c.repl_backlog_size, Ordering::Relaxed);
        self.replica_ignores
            .store(c.replica_ignore_maxmemory, Ordering::Relaxed);
        self.barren
            .iter()
            .for_each(|b| b.store(false, Ordering::Relaxed));
        self.limit.store(c.maxmemory, Ordering::Relaxed);
    }

    /// `maxmemory`, 0 for none.
    #[inline]
    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> Policy {
        Policy::ALL[self.policy.load(Ordering::Relaxed) as usize]
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&self) {
        self.over_total.store(0, Ordering::Relaxed);
    }

    /// INFO `total_eviction_exceeded_time` and `current_eviction_exceeded_time`, in ms.
    pub fn exceeded_times(&self, now_ms: u64) -> (u64, u64) {
        let since = self.over_since.load(Ordering::Relaxed);
        let current = if since == 0 {
            0
        } else {
            now_ms.saturating_sub(since)
        };
        (self.over_total.load(Ordering::Relaxed) + current, current)
    }

    /// Memory is (or is not) over the limit now: keeps the time spent over it. Reads the
    /// clock only when that changes.
    fn note_over(&self, over: bool) {
        let since = self.over_since.load(Ordering::Relaxed);
        if over && since == 0 {
            let _ = self.over_since.compare_exchange(
                0,
                unix_ms().max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        } else if !over
            && since != 0
            && self
                .over_since
                .compare_exchange(since, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.over_total
                .fetch_add(unix_ms().saturating_sub(since), Ordering::Relaxed);
        }
    }

    /// Redis' evictionTimeLimitUs: 50 us per step of tenacity up to 10 (the default, 500
    /// us), then 15% more per step, no limit at 100.
    fn time_budget_us(&self) -> u64 {
        match self.tenacity.load(Ordering::Relaxed) {
            t @ 0..=10 => 50 * t as u64,
            t @ 11..=99 => (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
            _ => u64::MAX,
        }
    }
}

/// What the shards record as keys' access data under `config`'s policy.
pub fn clock(c: &Config) -> shard::db::Clock {
    if c.maxmemory_policy.lfu() {
        shard::db::Clock::Lfu {
            log_factor: c.lfu_log_factor,
            decay_time: c.lfu_decay_time,
        }
    } else {
        shard::db::Clock::Lru
    }
}

/// Memory the allocator handed out that does not count toward `maxmemory` (INFO
/// `mem_not_counted_for_evict`): the replication stream held for lagging replicas beyond the
/// backlog, as Redis leaves replicas' output buffers out; and the key tables' empty slots. A
/// key and a short value live in their table slot, so evicting them frees no allocation,
/// only a slot the next key takes without allocating: counted as used, they made every
/// eviction look useless, and a server full of small keys evicted until its tables shrank
/// (a quarter of the keys that fit, in one measurement).
pub fn not_counted(local: &Local) -> u64 {
    let leader = &local.shared.leader;
    let held = if leader.is_on() {
        let size = local.shared.maxmemory.backlog_size.load(Ordering::Relaxed);
        leader.held_for_replicas(size)
    } else {
        0
    };
    let free = &local.shared.maxmemory.free;
    held + free.iter().map(|f| f.load(Ordering::Relaxed)).sum::<u64>()
}

/// Before a command runs on this executor's shard (and before one that is not bound to a
/// shard, with this executor's shard): while memory is over the limit, evicts keys here.
/// Returns false when the server is out of memory: nothing may be evicted anywhere (or
/// the policy is `noeviction`), so a `denyoom` command must be refused with [`OOM`].
pub fn make_room(local: &Local, shard: &mut Shard) -> bool {
    let Some(excess) = excess(local, shard) else {
        return true;
    };
    match evict(local, shard, excess) {
        Pass::Done | Pass::Timeout => true,
        Pass::Nothing => local.shared.maxmemory.policy() != Policy::NoEviction && ask_others(local),
    }
}

/// The bytes over the limit when this server must evict now (a limit is set, memory is
/// over it, and it is neither loading its data nor a replica that leaves eviction to its
/// master); also keeps the time spent over the limit.
fn excess(local: &Local, shard: &Shard) -> Option<u64> {
    let mm = &local.shared.maxmemory;
    let limit = mm.limit();
    if limit == 0 {
        return None;
    }
    let used = crate::memory::used_here();
    // What is not counted only lowers the count: looked at (a lock when replicas are
    // connected) only when the allocator's total is over the limit.
    let counted = if used > limit {
        mm.free[local.id].store(shard.free_table_bytes(), Ordering::Relaxed);
        used.saturating_sub(not_counted(local))
    } else {
        used
    };
    if counted <= limit {
        mm.note_over(false);
        return None;
    }
    let excess = counted - limit;
    let may_evict = local.shared.loaded.load(Ordering::Relaxed)
        && !(shard.is_replica() && mm.replica_ignores.load(Ordering::Relaxed));
    if may_evict {
        mm.note_over(true);
    }
    may_evict.then_some(excess)
}

/// Evicts from `shard` until `excess` bytes were freed or the time budget ran out.
fn evict(local: &Local, shard: &mut Shard, excess: u64) -> Pass {
    let mm = &local.shared.maxmemory;
    let policy = mm.policy();
    if policy == Policy::NoEviction {
        return Pass::Nothing;
    }
    let samples = mm.samples.load(Ordering::Relaxed) as usize;
    let budget_us = mm.time_budget_us();
    let now = unix_ms();
    let start = crate::memory::thread_balance() - shard.free_table_bytes() as i64;
    let mut evicted = 0u64;
    // The budget is timed from the 16th key on: most passes evict a key or two, and should
    // not pay for a clock read.
    let mut t0 = None;
    let cycle = latency::start(local);
    let pass = loop {
        let Some((db, key)) = shard.eviction_candidate(policy, samples, now) else {
            break Pass::Nothing;
        };
        let del = cycle.map(|_| Instant::now());
        if !shard.evict_key(db, &key) {
            break Pass::Nothing;
        }
        latency::end(local, latency::event::EVICTION_DEL, del);
        evicted += 1;
        // Allocations freed, and table slots emptied (see `not_counted`).
        let freed = start - crate::memory::thread_balance() + shard.free_table_bytes() as i64;
        if freed >= excess as i64 {
            break Pass::Done;
        }
        if evicted.is_multiple_of(16) {
            let t0 = *t0.get_or_insert_with(Instant::now);
            if t0.elapsed().as_micros() as u64 > budget_us {
                break Pass::Timeout;
            }
        }
    };
    latency::end(local, latency::event::EVICTION_CYCLE, cycle);
    mm.barren[local.id].store(pass == Pass::Nothing, Ordering::Relaxed);
    mm.free[local.id].store(shard.free_table_bytes(), Ordering::Relaxed);
    if evicted > 0 {
        // Evicted keys invalidate what clients track (the server made the change).
        shard.changes_by(0);
    }
    pass
}

/// This shard has nothing to evict: asks every other shard that may have something to
/// evict its share now. Returns whether any may (the command can go on).
fn ask_others(local: &Local) -> bool {
    let mm = &local.shared.maxmemory;
    let mut any = false;
    for s in (0..local.shards()).filter(|&s| s != local.id) {
        if mm.barren[s].load(Ordering::Relaxed) {
            continue;
        }
        any = true;
        if !mm.asked[s].swap(true, Ordering::Relaxed) {
            local.mesh.send(
                s,
                Box::new(|l| {
                    l.shared.maxmemory.asked[l.id].store(false, Ordering::Relaxed);
                    evict_share(l);
                }),
            );
        }
    }
    any
}

/// The cron's part (and an answer to [`ask_others`]): while memory is over the limit, this
/// shard evicts its share of the excess, in slices of the time budget with other work in
/// between (Redis' eviction time proc), until it is under the limit or has nothing left.
pub async fn evict_in_background(local: &Local) {
    while evict_share(local) {
        futures_lite::future::yield_now().await;
    }
}

/// One slice of [`evict_in_background`]; true when the time budget ran out first.
fn evict_share(local: &Local) -> bool {
    if local.shared.maxmemory.limit() == 0 {
        return false; // the cron's fast path: no borrow of the shard
    }
    let mut shard = local.shard();
    let Some(excess) = excess(local, &shard) else {
        return false;
    };
    let share = excess / local.shards() as u64;
    let pass = evict(local, &mut shard, share.max(1));
    drop(shard);
    crate::propagate::drain_if_behind(local);
    pass == Pass::Timeout
}

/// After CONFIG SET maxmemory: a limit below what is used now is warned about (as Redis
/// does) and every shard starts evicting at once rather than at its next cron tick.
pub fn limit_changed(local: &Local) {
    let limit = local.shared.maxmemory.limit();
    let used = crate::memory::used_here();
    if limit != 0 && used > limit {
        crate::log::warning(&format!(
            "WARNING: the new maxmemory value set via CONFIG SET ({limit}) is smaller than the \
             current memory usage ({used}). This will result in key eviction and/or the \
             inability to accept new write commands depending on the maxmemory-policy."
        ));
        local.tell_all(|l| {
            evict_share(l);
        });
    }
}

/// Whether the server is out of memory now, after this executor's shard tried to make room
/// (for commands not bound to one shard: transactions, scripts, cross-shard writes): a
/// `denyoom` command is then refused with [`OOM`].
pub fn out_of_memory(local: &Local) -> bool {
    local.shared.maxmemory.limit() != 0 && !make_room(local, &mut local.shard())
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_budget_as_redis() {
        let c = crate::config::Config::default();
        let m = super::MaxMemory::new(&c, 1);
        let budget = |t: u32| {
            m.tenacity.store(t, std::sync::atomic::Ordering::Relaxed);
            m.time_budget_us()
        };
        assert_eq!(budget(0), 0);
        assert_eq!(budget(10), 500);
        assert_eq!(budget(11), 575);
        assert_eq!(budget(100), u64::MAX);
    }
}
