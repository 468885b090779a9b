//! RDB files (`dir/dbfilename`, `dump.rdb` by default): SAVE, BGSAVE, LASTSAVE, the `save`
//! points and SHUTDOWN SAVE. Without fork: a forkless snapshot of every shard at one
//! barrier (`snapshot`) is written to a temporary file while the shards keep serving, then
//! flushed and renamed over the old file (off the shards' threads), as Redis' child does.
//! SAVE is BGSAVE that answers when the file is in place (other clients are not stopped).

use crate::local::Local;
use crate::log;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The saves' state and outcome (INFO persistence), in `Shared`.
pub struct Saves {
    in_progress: AtomicBool,
    started: Mutex<Option<Instant>>,
    /// Unix seconds of the last save that worked (LASTSAVE); start-up time before one.
    pub last_save: AtomicU64,
    pub last_ok: AtomicBool,
    pub last_secs: AtomicI64,
    pub count: AtomicU64,
    /// The server's change counter when the last save started (what `save` points and
    /// `rdb_changes_since_last_save` count from).
    pub dirty_at_save: AtomicU64,
}

impl Default for Saves {
    fn default() -> Self {
        Saves {
            in_progress: AtomicBool::new(false),
            started: Mutex::new(None),
            last_save: AtomicU64::new(crate::local::unix_ms() / 1000),
            last_ok: AtomicBool::new(true),
            last_secs: AtomicI64::new(-1),
            count: AtomicU64::new(0),
            dirty_at_save: AtomicU64::new(0),
        }
    }
}

impl Saves {
    /// Whether a save runs (BGSAVE's own snapshot may still wait for the shards).
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// Seconds the save in progress has run, if one does.
    pub fn running_secs(&self) -> Option<u64> {
        let started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started.map(|t| t.elapsed().as_secs())
    }
}

pub const IN_PROGRESS: &str = "ERR Background save already in progress";

/// BGSAVE: starts a save and returns at once.
pub fn bgsave(local: &Rc<Local>) -> Result<(), String> {
    begin(local)?;
    let l = local.clone();
    glommio::spawn_local(async move {
        let _ = run(&l).await;
    })
    .detach();
    Ok(())
}

/// SAVE (and SHUTDOWN SAVE): saves and returns when the file is in place.
pub async fn save(local: &Rc<Local>) -> Result<(), String> {
    begin(local)?;
    run(local).await
}

fn begin(local: &Local) -> Result<(), String> {
    let saves = &local.shared.saves;
    if saves.in_progress.swap(true, Ordering::AcqRel) {
        return Err(IN_PROGRESS.into());
    }
    *saves.started.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    Ok(())
}

/// Writes the file; records the outcome.
async fn run(local: &Rc<Local>) -> Result<(), String> {
    let saves = &local.shared.saves;
    log::notice("Background saving started (forkless snapshot)");
    let dirty = dirty(local).await;
    let result = write(local).await;
    let secs = saves.running_secs().map_or(-1, |s| s as i64);
    saves.last_secs.store(secs, Ordering::Relaxed);
    *saves.started.lock().unwrap_or_else(|e| e.into_inner()) = None;
    match &result {
        Ok(()) => {
            saves.last_ok.store(true, Ordering::Relaxed);
            saves.count.fetch_add(1, Ordering::Relaxed);
            saves.dirty_at_save.store(dirty, Ordering::Relaxed);
            saves
                .last_save
                .store(crate::local::unix_ms() / 1000, Ordering::Relaxed);
            log::notice("Background saving terminated with success");
        }
        Err(e) => {
            saves.last_ok.store(false, Ordering::Relaxed);
            log::warning(&format!("Background saving error: {e}"));
        }
    }
    saves.in_progress.store(false, Ordering::Release);
    result.map_err(|_| "ERR Background save failed: check the server logs".into())
}

/// The snapshot into a temporary file, then flushed and renamed (on a thread of its own:
/// a large file's fsync would stall the shard).
async fn write(local: &Rc<Local>) -> std::io::Result<()> {
    let (dir, name) = {
        let c = local.shared.config();
        (c.dir.clone(), c.dbfilename.clone())
    };
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let (pieces, aborted, ()) = crate::snapshot::start(local, |_| {}, || ()).await;
    let header = crate::snapshot::header(local, &[]);
    let to_file = async |bytes: &[u8]| file.write_all(bytes);
    if let Err(e) = crate::snapshot::write_rdb(&header, pieces, &aborted, to_file).await {
        let timer = crate::latency::start(local);
        let _ = std::fs::remove_file(&tmp);
        crate::latency::end(local, crate::latency::event::RDB_UNLINK_TEMP_FILE, timer);
        return Err(e);
    }
    let file = file.into_inner().map_err(|e| e.into_error())?;
    install(file, tmp, dir.join(name)).await
}

/// Flushes `file` (at `tmp`), renames it to `dest` and flushes the directory, off the
/// shard's thread.
async fn install(file: std::fs::File, tmp: PathBuf, dest: PathBuf) -> std::io::Result<()> {
    let (tx, rx) = futures_channel::oneshot::channel();
    let work = move || {
        let r = persist::durable::install(&file, &tmp, &dest);
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        let _ = tx.send(r);
    };
    if std::thread::Builder::new()
        .name("rdb-save".into())
        .spawn(work)
        .is_err()
    {
        return Err(std::io::Error::other("no thread for the save"));
    }
    rx.await
        .unwrap_or_else(|_| Err(std::io::Error::other("the save thread died")))
}

/// The server's change counter: every shard's writes since start-up.
pub async fn dirty(local: &Rc<Local>) -> u64 {
    local.call_all(|l| l.shard().dirty).await.into_iter().sum()
}

/// `save <seconds> <changes> ...`: shard 0's cron, once a second, starts a BGSAVE when a
/// point is reached (as Redis: after a failed save, not before 5 seconds).
pub async fn maybe_save(local: &Rc<Local>) {
    let points = local.shared.config().save_points.clone();
    let saves = &local.shared.saves;
    if points.is_empty() || saves.in_progress.load(Ordering::Acquire) {
        return;
    }
    let changes = dirty(local)
        .await
        .saturating_sub(saves.dirty_at_save.load(Ordering::Relaxed));
    let now = crate::local::unix_ms() / 1000;
    let since = now.saturating_sub(saves.last_save.load(Ordering::Relaxed));
    let retry_ok = saves.last_ok.load(Ordering::Relaxed) || since >= 5;
    if let Some((secs, n)) = points
        .iter()
        .find(|(secs, n)| changes >= *n && since >= *secs)
    {
        if retry_ok {
            log::notice(&format!("{n} changes in {secs} seconds. Saving..."));
            let _ = bgsave(local);
        }
    }
}
