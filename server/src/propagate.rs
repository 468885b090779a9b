//! Where effects go. Each shard's effects log (`shard::effects`) is drained on the shard's
//! own thread into the replication stream (`leader`), when a replica ever synchronized, and
//! into the shard's AOF file (`aof`), when `appendonly` is on.
//!
//! No reply leaves a connection before every effect produced so far, on any shard, has been
//! drained ([`settle`]): a client that saw a write acknowledged and then writes again finds
//! the second write after the first in the stream and in the files, even when the two ran
//! on different shards (and, with `appendfsync always`, the first is on disk). Each shard
//! drains when one of its connections is about to answer, after a batch of jobs from other
//! shards, and on every cron tick; one drain covers every connection that ran meanwhile
//! (group commit).

use crate::local::Local;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

/// One shard's progress, seen by every thread.
#[derive(Default)]
struct Progress {
    /// Effects the shard produced (bytes, `shard::effects::Effects::produced`), published by
    /// the shard as it records them.
    produced: Arc<AtomicU64>,
    /// Of those, how many are drained (written to the AOF, on disk with `always`; in the
    /// replication stream).
    drained: AtomicU64,
    /// Connections of other shards waiting for `drained` to move.
    waiters: Mutex<Vec<Waker>>,
}

/// Every shard's progress (in `Shared`).
pub struct Propagation {
    progress: Box<[Progress]>,
}

impl Propagation {
    pub fn new(shards: usize) -> Propagation {
        Propagation {
            progress: (0..shards).map(|_| Progress::default()).collect(),
        }
    }

    /// The shard's counter of produced effects, for its effects log to publish into.
    pub fn produced_counter(&self, shard: usize) -> Arc<AtomicU64> {
        self.progress[shard].produced.clone()
    }
}

/// Whether effects are recorded and drained: the AOF writes, or the stream runs.
pub fn on(local: &Local) -> bool {
    local
        .shared
        .aof
        .as_ref()
        .is_some_and(|a| a.active.load(Ordering::Relaxed))
        || local.shared.leader.is_on()
}

/// Drains what this shard's effects log holds: into the replication stream, and into the
/// AOF file (with what a failed write left). Releases the waiters of other shards.
pub fn drain(local: &Local) {
    drain_to(local, true);
}

/// Commits a transaction's (or script's) effects group on this shard, under its locks.
/// With the stream on, what came before goes out first, the shard's part goes to its AOF
/// file only and is returned: the coordinator puts every shard's part into the stream as
/// one MULTI ... EXEC (`leader::Leader::append_group`).
pub fn commit_group(local: &Local, group: u64) -> Vec<(usize, Vec<u8>)> {
    if !local.shared.leader.is_on() {
        local.shard().effects.commit(group);
        return Vec::new();
    }
    drain(local);
    let part = local.shard().effects.commit_part(group);
    if !part.is_empty() {
        drain_to(local, false);
    }
    part
}

fn drain_to(local: &Local, stream: bool) {
    let (chunk, end) = {
        let mut shard = local.shard();
        let chunk = shard.effects.take_chunk();
        (chunk, shard.effects.produced())
    };
    if stream && local.shared.leader.is_on() {
        local.shared.leader.append(&chunk);
    }
    let advance = match local.shared.aof.as_deref() {
        Some(aof) => crate::aof::write(local, aof, chunk.bytes),
        None => {
            local.shard().effects.recycle(chunk.bytes);
            true
        }
    };
    let p = &local.shared.propagation.progress[local.id];
    if advance {
        p.drained.store(end, Ordering::Release);
    }
    let waiters = std::mem::take(&mut *p.waiters.lock().unwrap_or_else(|e| e.into_inner()));
    waiters.into_iter().for_each(Waker::wake);
}

/// Whether this shard has effects not drained yet (or AOF bytes to write again).
pub fn behind(local: &Local) -> bool {
    let p = &local.shared.propagation.progress[local.id];
    p.drained.load(Ordering::Acquire) < p.produced.load(Ordering::Acquire)
        || local.aof.borrow().has_unwritten()
}

/// After jobs of other shards ran here, and on cron ticks: drain what they produced.
pub fn drain_if_behind(local: &Local) {
    if on(local) && behind(local) {
        drain(local);
    }
}

/// Before a reply leaves: waits until every effect produced so far, on every shard, is
/// drained. Free when nothing records effects.
pub async fn settle(local: &Local) {
    if !on(local) {
        return;
    }
    let progress = &local.shared.propagation.progress;
    let targets: smallvec::SmallVec<[u64; 8]> = progress
        .iter()
        .map(|p| p.produced.load(Ordering::Acquire))
        .collect();
    let done = |s: usize| progress[s].drained.load(Ordering::Acquire) >= targets[s];
    if (0..targets.len()).all(done) {
        return;
    }
    if !done(local.id) {
        // Let the other connections that are ready run first: one drain covers them all.
        futures_lite::future::yield_now().await;
        if !done(local.id) {
            drain(local);
        }
    }
    std::future::poll_fn(|cx| {
        for s in 0..targets.len() {
            if done(s) {
                continue;
            }
            progress[s]
                .waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(cx.waker().clone());
            if !done(s) {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    })
    .await;
}
