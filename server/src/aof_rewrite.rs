//! The AOF rewrite (BGREWRITEAOF, `auto-aof-rewrite-percentage`): the data set is written
//! into a new base file and the incremental files before it are dropped, so the AOF stays
//! about the size of the data. Without fork: each shard takes a forkless snapshot of its
//! keyspace (`shard::snapshot`: a key about to change before the walk reached it is
//! serialized first) and walks it between requests.
//!
//! 1. Start: every shard, in one message, writes what its effects log holds, moves to a new
//!    incremental file and starts its snapshot; the writes after that point go to the new
//!    files, the state before it goes to the base. Shards are independent (each key lives on
//!    one), so no global barrier is needed.
//! 2. Walk: a task per shard serializes a slice of its keyspace (Redis' AOF-rewrite
//!    commands: SET, RPUSH, SADD, ZADD, HMSET, XADD..., PEXPIREAT; `shard::rebuild`),
//!    appends it to the temporary base file and yields to the connections; the function
//!    libraries go first.
//! 3. Finish: the last shard done flushes the base to disk, renames it
//!    `<appendfilename>.<seq>.base.aof`, and the manifest becomes that base plus the
//!    incremental files from step 1 on; the older files are deleted.
//!
//! A command that is logged at a point every shard's file agrees on (FLUSHALL, FLUSHDB,
//! SWAPDB, FUNCTION) aborts a rewrite in progress: a snapshot cannot follow whole databases
//! being emptied or swapped. The files stay valid; the next rewrite starts over.

use crate::aof::{self, Aof};
use crate::local::Local;
use crate::log;
use persist::manifest::{AofFile, FileKind};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One rewrite in progress.
pub struct Rewrite {
    base_name: String,
    base_seq: u64,
    /// The incremental files opened at the start, and every later one, stay.
    first_incr_seq: u64,
    tmp: PathBuf,
    file: Mutex<File>,
    /// Shards still walking.
    remaining: AtomicUsize,
    aborted: AtomicBool,
    started: Instant,
}

/// The rewrite in progress and the outcome of the last ones (INFO persistence).
pub struct Rewrites {
    current: Mutex<Option<Arc<Rewrite>>>,
    pub count: AtomicU64,
    /// Rewrites that failed since the last one that worked (aborted ones do not count).
    pub failures: AtomicU64,
    pub last_secs: AtomicI64,
    /// The AOF's size when the last rewrite ended (or at start-up): the auto-rewrite grows
    /// from it.
    pub base_size: AtomicU64,
}

impl Default for Rewrites {
    fn default() -> Self {
        Rewrites {
            current: Mutex::new(None),
            count: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_secs: AtomicI64::new(-1),
            base_size: AtomicU64::new(0),
        }
    }
}

impl Rewrites {
    fn current(&self) -> std::sync::MutexGuard<'_, Option<Arc<Rewrite>>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seconds the rewrite in progress has run, if one does.
    pub fn running_secs(&self) -> Option<u64> {
        self.current()
            .as_ref()
            .map(|r| r.started.elapsed().as_secs())
    }
}

pub const IN_PROGRESS: &str = "ERR Background append only file rewriting already in progress";

/// Starts a rewrite. Err: Redis' error text.
pub async fn start(local: &Rc<Local>) -> Result<(), String> {
    let Some(aof) = local.shared.aof.clone() else {
        return Err(
            "ERR Background append only file rewriting needs appendonly yes at \
                    start-up in this version of Shardis"
                .into(),
        );
    };
    if !aof.active.load(Ordering::Acquire) {
        return Err("ERR the AOF is not active".into());
    }
    let _rotation = aof.rotation().await;
    if aof.rewrite.current().is_some() || local.shared.snapshot.running() {
        // (A replica's synchronization or a BGSAVE walks the shards' snapshots now.)
        return Err(IN_PROGRESS.into());
    }
    let io = |e: std::io::Error| {
        // Redis' reply; the reason goes to the log.
        log::warning(&format!("Can't rewrite the append only file: {e}"));
        String::from(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for \
             more information.",
        )
    };
    // Only this task starts rewrites now (it holds the rotation): nobody sets `current`.
    let names = aof::add_incr_files_off_thread(&aof, local.shards())
        .await
        .map_err(io)?;
    let (rw, names) = {
        let mut current = aof.rewrite.current();
        let (base_seq, first_incr_seq) = {
            let m = aof.manifest();
            let first = m
                .files
                .iter()
                .find(|f| f.name == names[0])
                .map_or(0, |f| f.seq);
            (m.next_base_seq(), first)
        };
        let tmp = aof
            .dir
            .join(format!("temp-rewriteaof-{}.aof", std::process::id()));
        let mut file = File::create(&tmp).map_err(io)?;
        file.write_all(&functions(local)).map_err(io)?;
        let rw = Arc::new(Rewrite {
            base_name: format!("{}.{base_seq}.base.aof", aof.prefix),
            base_seq,
            first_incr_seq,
            tmp,
            file: Mutex::new(file),
            remaining: AtomicUsize::new(local.shards()),
            aborted: AtomicBool::new(false),
            started: Instant::now(),
        });
        *current = Some(rw.clone());
        (rw, Arc::new(names))
    };
    log::notice("Background append only file rewriting started");
    local
        .call_all(move |l| {
            let aof = l.shared.aof.as_ref().expect("the AOF is on");
            l.shard().effects.commit_all();
            if let Err(e) = aof::switch_file(l, aof, &names[l.id]) {
                aof.record_error(&e);
                rw.aborted.store(true, Ordering::Release);
            }
            l.shard().snapshot_start(shard::snapshot::rebuild_commands);
            glommio::spawn_local(walk(l.clone(), rw.clone())).detach();
        })
        .await;
    Ok(())
}

/// The function libraries, as FUNCTION LOAD commands (first in the base, as Redis').
fn functions(local: &Local) -> Vec<u8> {
    let mut out = Vec::new();
    for lib in local.shared.scripts.store.libraries() {
        let args: [&[u8]; 3] = [b"FUNCTION", b"LOAD", &lib.code];
        shard::effects::encode_command(&mut out, args.iter());
    }
    out
}

/// One shard's walk: a slice of the snapshot at a time, between the connections' turns.
async fn walk(l: Rc<Local>, rw: Arc<Rewrite>) {
    let take = |s: &mut shard::Shard| Some(s.snapshot_take()).filter(|c| !c.is_empty());
    crate::snapshot::walk_slices(&l, &rw.aborted, take, async |chunk| {
        let mut f = rw.file.lock().unwrap_or_else(|e| e.into_inner());
        let written = f.write_all(&chunk);
        if let Err(e) = &written {
            log::warning(&format!("Error writing the rewritten AOF: {e}"));
            rw.aborted.store(true, Ordering::Release);
        }
        written.is_ok()
    })
    .await;
    if rw.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
        // Flushing the base to disk and deleting the old files take a while (hundreds of
        // milliseconds for a large data set): not on a shard's thread.
        let aof = l.shared.aof.clone().expect("the AOF is on");
        let (aof2, rw2) = (aof.clone(), rw.clone());
        let spawned = std::thread::Builder::new()
            .name("aof-rewrite".into())
            .spawn(move || finish(&aof2, &rw2));
        if spawned.is_err() {
            finish(&aof, &rw); // No thread to spare: here, then.
        }
    }
}

/// The last shard is done: the base replaces the files before the start, unless aborted.
fn finish(aof: &Aof, rw: &Rewrite) {
    let mut current = aof.rewrite.current();
    let secs = rw.started.elapsed().as_secs() as i64;
    aof.rewrite.last_secs.store(secs, Ordering::Relaxed);
    if rw.aborted.load(Ordering::Acquire) {
        let _ = std::fs::remove_file(&rw.tmp);
    } else if let Err(e) = install(aof, rw) {
        let _ = std::fs::remove_file(&rw.tmp);
        aof.rewrite.failures.fetch_add(1, Ordering::Relaxed);
        log::warning(&format!("Background AOF rewrite failed: {e}"));
    } else {
        aof.rewrite.count.fetch_add(1, Ordering::Relaxed);
        aof.rewrite.failures.store(0, Ordering::Relaxed);
        aof.rewrite
            .base_size
            .store(aof.current_size(), Ordering::Relaxed);
        log::notice("Background AOF rewrite finished successfully");
    }
    *current = None;
}

/// Flushes the base, renames it, and makes the manifest the base plus the files from the
/// start on; deletes the files it replaced.
fn install(aof: &Aof, rw: &Rewrite) -> std::io::Result<()> {
    rw.file
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .sync_all()?;
    std::fs::rename(&rw.tmp, aof.dir.join(&rw.base_name))?;
    let old: Vec<String> = {
        let mut m = aof.manifest();
        let mut next = m.clone();
        next.files
            .retain(|f| f.kind == FileKind::Incr && f.seq >= rw.first_incr_seq);
        next.files.insert(
            0,
            AofFile {
                name: rw.base_name.clone(),
                seq: rw.base_seq,
                kind: FileKind::Base,
            },
        );
        aof.persist_manifest(&next)?;
        let old = m
            .files
            .iter()
            .filter(|f| !next.files.contains(f))
            .map(|f| f.name.clone())
            .collect();
        *m = next;
        old
    };
    for name in old {
        let _ = std::fs::remove_file(aof.dir.join(name));
    }
    Ok(())
}

/// Stops a rewrite in progress (its shards drop their snapshots at their next step; the
/// last one cleans up).
pub fn abort(aof: &Aof) {
    if let Some(rw) = aof.rewrite.current().as_ref() {
        if !rw.aborted.swap(true, Ordering::AcqRel) {
            log::notice("Background AOF rewrite aborted (a command over whole databases ran)");
        }
    }
}

/// `auto-aof-rewrite-percentage` / `auto-aof-rewrite-min-size`: starts a rewrite when the
/// AOF grew that much since the last one (shard 0's cron, once a second).
pub async fn maybe_start(local: &Rc<Local>) {
    let Some(aof) = local.shared.aof.clone() else {
        return;
    };
    let (percentage, min_size) = {
        let c = local.shared.config();
        (c.auto_aof_rewrite_percentage, c.auto_aof_rewrite_min_size)
    };
    if percentage == 0
        || !aof.active.load(Ordering::Acquire)
        || aof.rewrite.current().is_some()
        || local.shared.snapshot.running()
    {
        return;
    }
    let size = aof.current_size_timed(local);
    let base = aof.rewrite.base_size.load(Ordering::Relaxed).max(1);
    if size >= min_size && (size - base.min(size)) * 100 / base >= percentage {
        log::notice(&format!(
            "Starting automatic rewriting of AOF on {}% growth",
            (size - base.min(size)) * 100 / base
        ));
        if let Err(e) = start(local).await {
            log::warning(&e);
        }
    }
}
