//! RDB snapshots of the whole data set without fork, at one point in time across shards:
//! what a replica's full synchronization and BGSAVE / SAVE send or write.
//!
//! At a barrier (every database locked on every shard, as FLUSHALL takes them) each shard
//! runs the caller's preparation and starts a forkless snapshot of its keyspace serialized as
//! RDB entries (`shard::snapshot` with `persist::rdb::write::write_entry`); the locks go at
//! once. Each shard then walks its snapshot between its connections' turns (1000 entries,
//! then a 1 us timer, as the AOF rewrite does) and hands the pieces through a bounded
//! channel to whoever writes the RDB ([`Pieces`]): the walk waits when the writer is behind,
//! so memory holds a few pieces, never a copy of the data set.
//!
//! One snapshot runs at a time (a shard has one), and none while the AOF rewrite walks;
//! FLUSHALL/FLUSHDB/SWAPDB/FUNCTION abort a running one (`aof::rotate_all` calls [`abort`]),
//! as they abort the rewrite: a snapshot cannot follow whole databases emptied or swapped.

use crate::local::Local;
use crate::log;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Entries a shard serializes before it lets its connections run again.
const STEP: usize = 1000;

/// The pieces of a snapshot as the shards walk it: (database, RDB entries).
pub type Pieces = futures_channel::mpsc::Receiver<Vec<(usize, Vec<u8>)>>;

/// Set when a snapshot is aborted: its pieces end early and its output is incomplete.
pub type Aborted = Arc<AtomicBool>;

/// Whether a snapshot runs, server-wide (in `Shared`).
#[derive(Default)]
pub struct Slot {
    running: AtomicBool,
    /// The running snapshot's abort flag.
    current: Mutex<Option<Aborted>>,
}

impl Slot {
    /// Whether a snapshot runs (the AOF rewrite does not start meanwhile).
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<Aborted>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts a snapshot: waits for the slot, then at the barrier runs `prepare` on every shard
/// and `at_barrier` once (still under the locks: nothing changes meanwhile). Returns the
/// pieces, the snapshot's abort flag (check it once the pieces ended) and `at_barrier`'s
/// result.
pub async fn start<P, B, T>(local: &Rc<Local>, prepare: P, at_barrier: B) -> (Pieces, Aborted, T)
where
    P: Fn(&Rc<Local>) + Send + Clone + 'static,
    B: FnOnce() -> T,
{
    let slot = &local.shared.snapshot;
    loop {
        let rewriting = local
            .shared
            .aof
            .as_ref()
            .is_some_and(|a| a.rewrite.running_secs().is_some());
        if !rewriting && !slot.running.swap(true, Ordering::AcqRel) {
            break;
        }
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
    let aborted: Aborted = Arc::default();
    *slot.current() = Some(aborted.clone());
    let dbs: Vec<usize> = (0..local.shared.config().databases).collect();
    crate::coord::lock_dbs(local, &dbs).await;
    let (tx, rx) = futures_channel::mpsc::channel(2);
    let walking = Arc::new(AtomicUsize::new(local.shards()));
    let flag = aborted.clone();
    let policy = local.shared.maxmemory.policy();
    local
        .call_all(move |l| {
            prepare(l);
            let mut shard = l.shard();
            let access = policy.snapshot_access(shard.dbs[0].clock, crate::local::unix_ms());
            shard.snapshot_start_with(persist::rdb::write::write_entry, access);
            drop(shard);
            let walk = walk(l.clone(), tx.clone(), flag.clone(), walking.clone());
            glommio::spawn_local(walk).detach();
        })
        .await;
    let t = at_barrier();
    crate::coord::unlock_dbs(local, &dbs).await;
    (rx, aborted, t)
}

/// The RDB's beginning: the header with `aux` fields, then the function libraries.
pub fn header(local: &Local, aux: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let used = crate::memory::used();
    persist::rdb::write::write_header(&mut out, used, false, aux);
    for lib in local.shared.scripts.store.libraries() {
        persist::rdb::write::write_function(&mut out, &lib.code);
    }
    out
}

/// Writes a snapshot as one RDB through `write`: `header`, each piece behind its SELECTDB
/// as the walks hand it over, then EOF and the checksum. A failed write drops the pieces
/// (the walks stop). An aborted snapshot's RDB is incomplete: it is cut before its end and
/// answers an error, so nothing ever loads it (a replica would later continue from it).
pub async fn write_rdb<W>(
    header: &[u8],
    mut pieces: Pieces,
    aborted: &AtomicBool,
    mut write: W,
) -> std::io::Result<()>
where
    W: AsyncFnMut(&[u8]) -> std::io::Result<()>,
{
    use futures_lite::StreamExt;
    let mut crc = persist::crc64::crc64(0, header);
    write(header).await?;
    let mut out = Vec::new();
    while let Some(parts) = pieces.next().await {
        out.clear();
        for (db, entries) in parts {
            persist::rdb::write::write_select_db(&mut out, db, 0, 0);
            out.extend_from_slice(&entries);
        }
        crc = persist::crc64::crc64(crc, &out);
        write(&out).await?;
    }
    if aborted.load(Ordering::Acquire) {
        return Err(std::io::Error::other(
            "the snapshot was aborted by a command over whole databases",
        ));
    }
    out.clear();
    persist::rdb::write::write_eof(&mut out, crc);
    write(&out).await
}

/// A whole-database command ran: a running snapshot is aborted.
pub fn abort(local: &Local) {
    if let Some(flag) = local.shared.snapshot.current().as_ref() {
        if !flag.swap(true, Ordering::AcqRel) {
            log::notice("Snapshot aborted (a command over whole databases ran)");
        }
    }
}

/// One shard's walk. The last walk to end frees the slot.
async fn walk(
    l: Rc<Local>,
    tx: futures_channel::mpsc::Sender<Vec<(usize, Vec<u8>)>>,
    aborted: Aborted,
    walking: Arc<AtomicUsize>,
) {
    walk_snapshot(&l, tx, &aborted).await;
    if walking.fetch_sub(1, Ordering::AcqRel) == 1 {
        let slot = &l.shared.snapshot;
        *slot.current() = None;
        slot.running.store(false, Ordering::Release);
    }
}

async fn walk_snapshot(
    l: &Local,
    mut tx: futures_channel::mpsc::Sender<Vec<(usize, Vec<u8>)>>,
    aborted: &AtomicBool,
) {
    let take = |s: &mut shard::Shard| Some(s.snapshot_take_parts()).filter(|p| !p.is_empty());
    walk_slices(l, aborted, take, async |parts| {
        // False: nobody reads the pieces any more.
        let ready = std::future::poll_fn(|cx| tx.poll_ready(cx)).await;
        ready.is_ok() && tx.start_send(parts).is_ok()
    })
    .await;
}

/// Walks this shard's running snapshot `STEP` entries at a time between the connections'
/// turns (the RDB snapshots here, the AOF rewrite), handing what `take` gets of each slice
/// to `sink`. The snapshot is abandoned once `aborted` is set or `sink` says false.
pub async fn walk_slices<T>(
    l: &Local,
    aborted: &AtomicBool,
    take: impl Fn(&mut shard::Shard) -> Option<T>,
    mut sink: impl AsyncFnMut(T) -> bool,
) {
    loop {
        if aborted.load(Ordering::Acquire) {
            l.shard().snapshot_abort();
            return;
        }
        let (out, done) = {
            let mut shard = l.shard();
            let done = shard.snapshot_step(STEP);
            (take(&mut shard), done)
        };
        if let Some(out) = out {
            if !sink(out).await {
                l.shard().snapshot_abort();
                return;
            }
        }
        if done {
            return;
        }
        // A timer, not a yield: glommio looks at the sockets only when no task is ready
        // (or its preemption timer, 100 ms, fires), and a walk that only yields would stay
        // ready until it ends.
        glommio::timer::sleep(Duration::from_micros(1)).await;
    }
}
