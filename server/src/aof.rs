//! The append-only file: every shard appends the effects of its writes (`shard::effects`) to
//! its own incremental file, in Redis 7's multi-part layout (`appendonlydir/` with a
//! manifest listing the files in replay order), so a real redis-server 7 started on the
//! directory sees the same data.
//!
//! - **Files.** Each shard owns one open incremental file. Files are listed in the manifest
//!   in the order they were opened; replaying them one after the other gives the data set,
//!   because each key's writes are all in its shard's files, in order. Commands that touch
//!   the whole keyspace (FLUSHALL, FLUSHDB, SWAPDB) and server-wide state (FUNCTION) break
//!   that: before one runs, under its database locks, every shard moves to a new file
//!   ([`rotate_all`]) and the command is logged first in shard 0's new file, so everything
//!   before it replays before it and everything after it replays after.
//! - **Durability.** No reply leaves a connection before every effect produced so far, on
//!   any shard, has been written to its file (and, with `appendfsync always`, flushed to
//!   disk): `propagate::settle` runs before each socket write, and a shard's log is
//!   written when it is drained (`propagate`: when one of its connections is about to
//!   answer, after a batch of jobs from other shards, on every cron tick; one write covers
//!   every connection that ran meanwhile). With `everysec`, a thread flushes the files
//!   once a second.
//! - **Errors.** A failed write (a full disk) keeps the unwritten bytes and retries them on
//!   every cron tick; meanwhile write commands are refused with Redis' -MISCONF error. With
//!   `always`, replies wait until their writes are on disk; with `everysec` and `no`, they
//!   go out (as in Redis, which keeps the data in its buffer too).
//! - **Loading.** At start-up the files are replayed in manifest order through the normal
//!   command path, by a client of the server's own (one per file, as Redis), before the
//!   listeners open. A last command cut short (a crash during a write) is cut off when
//!   `aof-load-truncated` is yes. Then every shard starts a new file.
//! - **Rewrite.** BGREWRITEAOF and the automatic rewrite: `aof_rewrite`.

use crate::client::{ClientInfo, Session};
use crate::config::{AppendFsync, Config};
use crate::latency;
use crate::local::Local;
use crate::log;
use persist::manifest::{AofFile, FileKind, Manifest};
use shard::Cmd;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// Redis' text for writes refused after a failed AOF write (the OS error follows).
const MISCONF: &str = "MISCONF Errors writing to the AOF file: ";

/// Server-wide AOF state (in `Shared`).
pub struct Aof {
    /// The AOF directory (`dir` / `appenddirname`).
    pub(crate) dir: PathBuf,
    pub(crate) prefix: String,
    manifest: Mutex<Manifest>,
    /// Each shard's open file, for the once-a-second flush.
    files: Box<[Mutex<Option<Arc<File>>>]>,
    policy: AtomicU8,
    /// The last write failed (INFO aof_last_write_status, -MISCONF): the OS error.
    error: Mutex<Option<String>>,
    failing: AtomicBool,
    /// Loaded and writing (false while the files are replayed at start-up).
    pub active: AtomicBool,
    /// The rewrite in progress and the last ones' outcome (see `aof_rewrite`).
    pub rewrite: crate::aof_rewrite::Rewrites,
    /// Held while shards move to new files (see [`Aof::rotation`]).
    rotating: AtomicBool,
    /// Files shards moved away from, to flush once more (`everysec`).
    retired: Mutex<Vec<Arc<File>>>,
    /// The once-a-second fsync is running (the latency monitor tells the writes that
    /// waited for it: `aof-write-pending-fsync`).
    syncing: AtomicBool,
}

/// Held while every shard moves to its new file; dropping it lets the next rotation go.
pub(crate) struct Rotation<'a>(&'a AtomicBool);

impl Drop for Rotation<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// One executor's writer.
#[derive(Default)]
pub struct Writer {
    file: Option<Arc<File>>,
    /// Bytes taken from the log that a failed write left unwritten, to retry first.
    unwritten: Vec<u8>,
}

impl Aof {
    /// Opens (or creates) the AOF directory of `config` for `shards` shards.
    pub fn open(config: &Config, shards: usize) -> Result<Aof, String> {
        let dir = config.dir.join(&config.appenddirname);
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {e}",
                config.appenddirname
            )
        })?;
        let prefix = config.appendfilename.clone();
        let path = dir.join(format!("{prefix}.manifest"));
        let manifest = match std::fs::read_to_string(&path) {
            Ok(text) => Manifest::parse(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
            Err(e) => {
                return Err(format!(
                    "Can't open the AOF manifest {}: {e}",
                    path.display()
                ))
            }
        };
        for f in &manifest.files {
            if f.kind != FileKind::History && !dir.join(&f.name).exists() {
                return Err(format!(
                    "Append-only file {} listed in the manifest does not exist",
                    f.name
                ));
            }
        }
        Ok(Aof {
            dir,
            prefix,
            manifest: Mutex::new(manifest),
            files: (0..shards).map(|_| Mutex::new(None)).collect(),
            policy: AtomicU8::new(config.appendfsync as u8),
            error: Mutex::new(None),
            failing: AtomicBool::new(false),
            active: AtomicBool::new(false),
            rewrite: Default::default(),
            rotating: AtomicBool::new(false),
            retired: Mutex::new(Vec::new()),
            syncing: AtomicBool::new(false),
        })
    }

    /// Waits for any other rotation to end. Two rotations (two FLUSHDBs on different
    /// databases from two executors, a rewrite starting) must not interleave: a shard could
    /// switch to the newer file, then back to the older one, and its later writes would
    /// replay too early.
    pub(crate) async fn rotation(&self) -> Rotation<'_> {
        while self.rotating.swap(true, Ordering::AcqRel) {
            glommio::timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        Rotation(&self.rotating)
    }

    fn policy(&self) -> AppendFsync {
        match self.policy.load(Ordering::Relaxed) {
            0 => AppendFsync::Always,
            1 => AppendFsync::Everysec,
            _ => AppendFsync::No,
        }
    }

    /// `appendfsync` changed (CONFIG SET).
    pub fn set_policy(&self, p: AppendFsync) {
        self.policy.store(p as u8, Ordering::Relaxed);
    }

    pub(crate) fn manifest(&self) -> std::sync::MutexGuard<'_, Manifest> {
        self.manifest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the manifest through a temporary file renamed over the old one.
    pub(crate) fn persist_manifest(&self, m: &Manifest) -> std::io::Result<()> {
        let dest = self.dir.join(format!("{}.manifest", self.prefix));
        persist::durable::replace(&dest, m.render().as_bytes())
    }

    /// Adds `n` new incremental files to the manifest, in order, and returns their names.
    pub(crate) fn add_incr_files(&self, n: usize) -> std::io::Result<Vec<String>> {
        let mut m = self.manifest();
        let first = m.next_incr_seq();
        let names: Vec<String> = (0..n as u64)
            .map(|i| format!("{}.{}.incr.aof", self.prefix, first + i))
            .collect();
        for (i, name) in names.iter().enumerate() {
            // Created before the manifest names it: a manifest never lists a missing file.
            File::create(self.dir.join(name))?;
            m.files.push(AofFile {
                name: name.clone(),
                seq: first + i as u64,
                kind: FileKind::Incr,
            });
        }
        self.persist_manifest(&m)?;
        Ok(names)
    }

    /// Drops empty incremental files from the manifest (and the disk): at start-up, the
    /// files of shards that wrote nothing.
    fn drop_empty_files(&self) -> std::io::Result<()> {
        let mut m = self.manifest();
        let empty: Vec<String> = m
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Incr)
            .filter(|f| std::fs::metadata(self.dir.join(&f.name)).is_ok_and(|md| md.len() == 0))
            .map(|f| f.name.clone())
            .collect();
        if empty.is_empty() {
            return Ok(());
        }
        m.files.retain(|f| !empty.contains(&f.name));
        self.persist_manifest(&m)?;
        for name in empty {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        Ok(())
    }

    /// The error to refuse write commands with, while the last write failed.
    pub fn refusal(&self) -> Option<String> {
        if !self.failing.load(Ordering::Relaxed) {
            return None;
        }
        let e = self.error.lock().unwrap_or_else(|e| e.into_inner());
        Some(format!(
            "{MISCONF}{}",
            e.as_deref().unwrap_or("unknown error")
        ))
    }

    /// Whether the last write worked (INFO `aof_last_write_status`).
    pub fn write_ok(&self) -> bool {
        !self.failing.load(Ordering::Relaxed)
    }

    /// The files' total size (INFO `aof_current_size`).
    pub fn current_size(&self) -> u64 {
        self.manifest()
            .files
            .iter()
            .filter_map(|f| std::fs::metadata(self.dir.join(&f.name)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Flushes every shard's open file to disk (`everysec`'s thread, SHUTDOWN).
    pub fn sync_files(&self) {
        self.syncing.store(true, Ordering::Relaxed);
        self.sync_retired();
        for f in self.files.iter() {
            let f = f.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(f) = f {
                let _ = f.sync_data();
            }
        }
        self.syncing.store(false, Ordering::Relaxed);
    }

    /// The files' total size, timed as the latency monitor's `aof-fstat` on this executor.
    pub fn current_size_timed(&self, local: &Local) -> u64 {
        let timer = latency::start(local);
        let size = self.current_size();
        latency::end(local, latency::event::AOF_FSTAT, timer);
        size
    }

    /// Flushes (and closes) the files shards moved away from.
    fn sync_retired(&self) {
        let retired = std::mem::take(&mut *self.retired.lock().unwrap_or_else(|e| e.into_inner()));
        for f in retired {
            let _ = f.sync_data();
        }
    }

    pub(crate) fn record_error(&self, e: &std::io::Error) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            log::warning(&format!("Error writing to the AOF file: {e}"));
        }
        // strerror's text, as Redis shows it (without Rust's " (os error N)").
        let text = e.to_string();
        let text = match text.find(" (os error") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
    }

    fn record_success(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            log::warning("AOF write error looks solved, Shardis can write again.");
        }
    }
}

/// Starts the `everysec` flusher: once a second, every open file goes to disk.
pub fn start_flusher(aof: Arc<Aof>) {
    std::thread::Builder::new()
        .name("aof-fsync".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if aof.policy() == AppendFsync::Everysec && aof.active.load(Ordering::Relaxed) {
                aof.sync_files();
            } else {
                aof.sync_retired();
            }
        })
        .expect("could not start the AOF flush thread");
}

/// [`Aof::add_incr_files`] on a thread of its own: its fsyncs (the new files, the manifest,
/// the directory) can wait for a journal commit of everything written before, long enough
/// to stall a shard's connections.
pub(crate) async fn add_incr_files_off_thread(
    aof: &Arc<Aof>,
    n: usize,
) -> std::io::Result<Vec<String>> {
    let (tx, rx) = futures_channel::oneshot::channel();
    let a = aof.clone();
    let spawned = std::thread::Builder::new()
        .name("aof-manifest".into())
        .spawn(move || {
            let _ = tx.send(a.add_incr_files(n));
        });
    match spawned {
        Ok(_) => rx
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::Other.into())),
        Err(_) => aof.add_incr_files(n),
    }
}

/// This executor's shard starts writing to file `name` (written to the old one first).
pub(crate) fn switch_file(local: &Local, aof: &Aof, name: &str) -> std::io::Result<()> {
    crate::propagate::drain(local);
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(aof.dir.join(name))?;
    let file = Arc::new(file);
    let mut w = local.aof.borrow_mut();
    if let Some(old) = w.file.replace(file.clone()) {
        if aof.policy() == AppendFsync::Everysec {
            // Its last second of writes goes to disk on the flush thread's next tick (an
            // fsync here could stall the shard for a long time; with `always` every write
            // was flushed already).
            aof.retired
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(old);
        }
    }
    *aof.files[local.id]
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(file);
    local.shard().effects.restart_file();
    Ok(())
}

impl Writer {
    /// Bytes a failed write left, to write again first.
    pub fn has_unwritten(&self) -> bool {
        !self.unwritten.is_empty()
    }
}

/// Writes `buf` (a piece of this shard's effects log) and what a failed write left to the
/// shard's file; with `always`, to disk. Returns whether the effects count as written:
/// false only when the write failed under `always` (replies then wait for the retry).
pub(crate) fn write(local: &Local, aof: &Aof, buf: Vec<u8>) -> bool {
    let mut w = local.aof.borrow_mut();
    let Some(file) = w.file.clone() else {
        // Not writing yet (loading): nothing is recorded meanwhile.
        return true;
    };
    if buf.is_empty() && w.unwritten.is_empty() {
        return true;
    }
    let mut data = std::mem::take(&mut w.unwritten);
    let recycled = if data.is_empty() {
        data = buf;
        None
    } else {
        data.extend_from_slice(&buf);
        Some(buf)
    };
    let policy = aof.policy();
    let mut f = &*file;
    let mut done = 0;
    let timer = latency::start(local);
    let fsyncing = timer.is_some() && aof.syncing.load(Ordering::Relaxed);
    let mut result = loop {
        if done == data.len() {
            break Ok(());
        }
        match f.write(&data[done..]) {
            Ok(0) => break Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    if let Some(t) = timer {
        let ms = t.elapsed().as_millis() as u64;
        let during = if fsyncing {
            latency::event::AOF_WRITE_PENDING_FSYNC
        } else {
            latency::event::AOF_WRITE_ALONE
        };
        local.latency.sample(during, ms);
        local.latency.sample(latency::event::AOF_WRITE, ms);
    }
    if result.is_ok() && policy == AppendFsync::Always {
        let timer = latency::start(local);
        result = file.sync_data();
        latency::end(local, latency::event::AOF_FSYNC_ALWAYS, timer);
    }
    match result {
        Ok(()) => {
            aof.record_success();
            let mut shard = local.shard();
            shard.effects.recycle(data);
            if let Some(b) = recycled {
                shard.effects.recycle(b);
            }
            true
        }
        Err(e) => {
            aof.record_error(&e);
            w.unwritten = data.split_off(done);
            // As Redis: with `everysec` and `no` the replies go out, the data waits in
            // memory for the retry.
            policy != AppendFsync::Always
        }
    }
}

/// On cron ticks: writes again what a failed write left.
pub fn retry(local: &Local) {
    if local.aof.borrow().has_unwritten() {
        crate::propagate::drain(local);
    }
}

/// Before a command that touches the whole keyspace (FLUSHALL, FLUSHDB, SWAPDB) or
/// server-wide state (FUNCTION) is logged, under its locks: every shard writes what it has
/// and moves to a new file, in shard order, so the command (logged next, in shard 0's new
/// file) replays after everything before it and before everything after it.
pub async fn rotate_all(local: &Rc<Local>) {
    crate::snapshot::abort(local);
    let aof = local.shared.aof.clone();
    let Some(aof) = aof.filter(|a| a.active.load(Ordering::Relaxed)) else {
        if local.shared.leader.is_on() {
            // No files, but the replication stream must have everything before it too.
            local
                .call_all(|l| {
                    l.shard().effects.commit_all();
                    crate::propagate::drain(l);
                })
                .await;
        }
        return;
    };
    let _rotation = aof.rotation().await;
    // A rewrite's snapshot cannot survive what comes (FLUSHDB, SWAPDB): start over later.
    // (After the rotation lock: a rewrite starting meanwhile is aborted too.)
    crate::aof_rewrite::abort(&aof);
    let names = match add_incr_files_off_thread(&aof, local.shards()).await {
        Ok(n) => n,
        Err(e) => {
            // The old files stay in use: order is kept, only this command's place is not
            // guaranteed against other shards' files. Refuse writes until it works again.
            aof.record_error(&e);
            return;
        }
    };
    let names = Arc::new(names);
    local
        .call_all(move |l| {
            let aof = l.shared.aof.as_ref().expect("the AOF is on");
            l.shard().effects.commit_all();
            if let Err(e) = switch_file(l, aof, &names[l.id]) {
                aof.record_error(&e);
            }
        })
        .await;
}

/// Logs a command that has no shard of its own (FLUSHALL, FUNCTION LOAD...) in shard 0's
/// file, right after [`rotate_all`]; in database `db`. It enters the replication stream at
/// once: a shard's write after the command's locks go must come after it there too.
pub async fn log_global(local: &Rc<Local>, db: usize, args: Vec<Vec<u8>>) {
    if !crate::propagate::on(local) {
        return;
    }
    local
        .call(0, move |l| {
            l.shard().effects.record(db, args.iter());
            crate::propagate::drain(l);
        })
        .await;
}

// ---------------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------------

/// Replays the AOF (on executor 0, the other executors serving their mailboxes), then
/// gives every shard a new file and turns the effects logs on. Returns an error line to
/// exit with.
pub async fn load_and_start(local: &Rc<Local>) -> Result<(), String> {
    let Some(aof) = local.shared.aof.clone() else {
        return Ok(());
    };
    let files: Vec<AofFile> = aof.manifest().replay_order().into_iter().cloned().collect();
    let t0 = std::time::Instant::now();
    let mut commands = 0;
    local.call_all(|l| l.shard().set_loading(true)).await;
    for f in &files {
        if f.name.ends_with(".rdb") {
            return Err(format!(
                "The AOF base file {} is an RDB file: loading RDB files has not landed in \
                 this version of Shardis",
                f.name
            ));
        }
        commands += load_file(local, &aof, &f.name).await?;
    }
    if !files.is_empty() {
        log::notice(&format!(
            "DB loaded from append only file: {:.3} seconds ({commands} commands)",
            t0.elapsed().as_secs_f64()
        ));
    }
    aof.drop_empty_files()
        .map_err(|e| format!("Can't update the AOF manifest: {e}"))?;
    let names = aof
        .add_incr_files(local.shards())
        .map_err(|e| format!("Can't create the AOF files: {e}"))?;
    let names = Arc::new(names);
    let r: Vec<Result<(), String>> = local
        .call_all(move |l| {
            let aof = l.shared.aof.as_ref().expect("the AOF is on");
            {
                let mut shard = l.shard();
                shard.set_loading(false);
                shard.set_effects(true);
                shard
                    .effects
                    .publish_to(l.shared.propagation.produced_counter(l.id));
            }
            switch_file(l, aof, &names[l.id]).map_err(|e| format!("Can't open the AOF file: {e}"))
        })
        .await;
    r.into_iter().collect::<Result<(), String>>()?;
    aof.rewrite
        .base_size
        .store(aof.current_size(), Ordering::Relaxed);
    aof.active.store(true, Ordering::Release);
    Ok(())
}

/// Replays one file; returns how many commands it held.
async fn load_file(local: &Rc<Local>, aof: &Aof, name: &str) -> Result<usize, String> {
    let path = aof.dir.join(name);
    let mut file = File::open(&path).map_err(|e| format!("Can't open the AOF file {name}: {e}"))?;
    let mut sess = loader_session();
    let mut rbuf = bytes::BytesMut::new();
    let mut state = crate::resp::ParseState::default();
    let limits = crate::resp::Limits {
        max_bulk_len: usize::MAX,
        authenticated: true,
        ..Default::default()
    };
    let mut run = crate::dispatch::Run::default();
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let (mut offset, mut consumed, mut count) = (0u64, 0u64, 0usize);
    let errors_before = error_replies(local).await;
    loop {
        let n = file
            .read(&mut chunk)
            .map_err(|e| format!("Error reading the AOF file {name}: {e}"))?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        rbuf.extend_from_slice(&chunk[..n]);
        let mut cmds: Vec<Cmd> = Vec::new();
        loop {
            let before = rbuf.len();
            match crate::resp::parse(&mut rbuf, &mut state, &limits) {
                Ok(crate::resp::Parsed::Cmd(c)) => {
                    consumed += (before - rbuf.len()) as u64;
                    cmds.push(c);
                }
                Ok(crate::resp::Parsed::Empty) => consumed += (before - rbuf.len()) as u64,
                Ok(crate::resp::Parsed::Incomplete) => break,
                Err(e) => {
                    return Err(format!(
                        "Bad file format reading the append only file {name} at offset \
                         {consumed}: {}",
                        e.0
                    ))
                }
            }
        }
        count += cmds.len();
        crate::dispatch::run_batch(local, &mut sess, cmds, &mut run, &mut out).await;
        out.clear();
    }
    if consumed < offset {
        if !local.shared.config().aof_load_truncated {
            return Err(format!(
                "Unexpected end of file reading the append only file {name}. You can: 1) Make \
                 a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. \
                 2) Alternatively you can set the 'aof-load-truncated' configuration option to \
                 yes and restart the server."
            ));
        }
        log::warning(&format!(
            "!!! Warning: short read while loading the AOF file {name}!!! Truncating the AOF \
             at offset {consumed}"
        ));
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(consumed))
            .map_err(|e| format!("Error truncating the AOF file {name}: {e}"))?;
    }
    let failed = error_replies(local).await - errors_before;
    if failed > 0 {
        log::warning(&format!(
            "{failed} command(s) of the AOF file {name} answered with an error"
        ));
    }
    Ok(count)
}

/// Error replies so far, all shards.
async fn error_replies(local: &Rc<Local>) -> u64 {
    let n = local.call_all(|l| l.stats.borrow().error_replies).await;
    n.into_iter().sum()
}

/// The client that replays a file: authenticated, database 0, its replies dropped.
fn loader_session() -> Session {
    let any: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
    Session::new(Rc::new(ClientInfo::new(0, any, any, -1)), true)
}
