//! Loading RDB files: `dump.rdb` at start-up (when the AOF is off, as Redis), and a
//! replica's full synchronization, which replaces the whole data set with the master's
//! RDB. The file is decoded on a thread of its own (`persist::rdb::read::read_rdb`) which
//! sends each key, in batches, to the shard that owns it; the function libraries are loaded
//! through FUNCTION LOAD.
//!
//! For a synchronization every database of every shard and the function libraries are
//! emptied first (FLUSHALL, FUNCTION FLUSH through the normal command path, so the AOF and
//! the watchers see them); meanwhile other clients get -LOADING. With the AOF on, the
//! loaded keys reach it through a rewrite started at the end (they were not written by
//! commands).

use crate::client::{ClientInfo, Session};
use crate::dispatch::{self, Run};
use crate::follower::MASTER_CLIENT;
use crate::local::Local;
use crate::log;
use crate::mesh::Mesh;
use persist::rdb::read::{read_rdb, Item};
use shard::evict::access_from;
use shard::snapshot::AccessValue;
use shard::{Cmd, Entry};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Keys sent to a shard in one message.
const BATCH: usize = 512;

/// Replaces the data set with the RDB file at `path` (a replica's full synchronization).
/// On failure the data set is left empty (the next synchronization fills it), as Redis
/// leaves it.
pub(crate) async fn replace(local: &Rc<Local>, path: &Path) -> Result<(), String> {
    let mut sess = loader_session();
    log::notice("MASTER <-> REPLICA sync: Flushing old data");
    empty(local, &mut sess).await;
    log::notice("MASTER <-> REPLICA sync: Loading DB in memory");
    let t0 = std::time::Instant::now();
    let keys = match fill(local, &mut sess, path).await {
        Ok(k) => k,
        Err(e) => {
            empty(local, &mut sess).await;
            return Err(e);
        }
    };
    log::notice(&format!(
        "Done loading RDB, keys loaded: {keys}, keys expired: 0 ({:.3} seconds).",
        t0.elapsed().as_secs_f64()
    ));
    rewrite_aof(local).await;
    Ok(())
}

/// At start-up, when the AOF is off: loads `dir/dbfilename` if it exists (before the
/// listeners open). Returns an error line to exit with.
pub async fn load_at_start(local: &Rc<Local>) -> Result<(), String> {
    if local.shared.aof.is_some() {
        return Ok(());
    }
    let path = {
        let c = local.shared.config();
        c.dir.join(&c.dbfilename)
    };
    if !path.exists() {
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let mut sess = loader_session();
    let keys = fill(local, &mut sess, &path).await.map_err(|e| {
        format!(
            "Fatal error loading the DB ({}): {e}. Exiting.",
            path.display()
        )
    })?;
    log::notice(&format!(
        "Done loading RDB, keys loaded: {keys}, keys expired: 0."
    ));
    log::notice(&format!(
        "DB loaded from disk: {:.3} seconds",
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// DEBUG RELOAD: loads `dir/dbfilename` again, after emptying the data set (`flush`), every
/// database locked meanwhile. The emptying is not propagated (the data set comes back the
/// same); the libraries are loaded through FUNCTION LOAD REPLACE, as at start-up.
pub async fn reload(local: &Rc<Local>, flush: bool) -> Result<(), String> {
    let path = {
        let c = local.shared.config();
        c.dir.join(&c.dbfilename)
    };
    let dbs: Vec<usize> = (0..local.shared.config().databases).collect();
    crate::coord::lock_dbs(local, &dbs).await;
    if flush {
        local
            .call_all(|l| l.shard().dbs.iter_mut().for_each(shard::Db::clear))
            .await;
        local.shared.scripts.store.function_flush();
    }
    let mut sess = loader_session();
    let r = fill(local, &mut sess, &path).await;
    crate::coord::unlock_dbs(local, &dbs).await;
    r.map(|keys| log::notice(&format!("DB reloaded by DEBUG RELOAD: {keys} keys")))
}

/// Loads the file at `path` into the data set; returns the keys loaded.
async fn fill(local: &Rc<Local>, sess: &mut Session, path: &Path) -> Result<u64, String> {
    let loaded = read_on_thread(local, path).await;
    // Every batch the thread sent is in its shard before anything else happens.
    barrier(local).await;
    let (keys, functions) = loaded?;
    for code in functions {
        let reply = run(local, sess, &[&b"FUNCTION"[..], b"LOAD", b"REPLACE", &code]).await;
        if reply.starts_with(b"-") {
            log::warning(&format!(
                "A function library of the RDB file could not be loaded: {}",
                String::from_utf8_lossy(reply.trim_ascii_end())
            ));
        }
    }
    Ok(keys)
}

/// The client that empties and fills the data set: the master's id (it passes the
/// replica's gates), replies dropped.
fn loader_session() -> Session {
    let any: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
    Session::new(Rc::new(ClientInfo::new(MASTER_CLIENT, any, any, -1)), true)
}

/// Runs one command; returns its reply.
async fn run(local: &Rc<Local>, sess: &mut Session, args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut run = Run::default();
    dispatch::run_batch(local, sess, [Cmd::from_args(args)], &mut run, &mut out).await;
    out
}

/// Every database of every shard, and the function libraries.
async fn empty(local: &Rc<Local>, sess: &mut Session) {
    run(local, sess, &[b"FLUSHALL"]).await;
    run(local, sess, &[b"FUNCTION", b"FLUSH"]).await;
}

/// Decodes the file on a thread (a large RDB takes a while; the executors keep serving),
/// sending keys to their shards as it goes. Returns the keys loaded and the function
/// libraries' code.
async fn read_on_thread(local: &Rc<Local>, path: &Path) -> Result<(u64, Vec<Vec<u8>>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (limits, databases) = {
        let c = local.shared.config();
        (c.limits, c.databases)
    };
    let mesh = local.mesh.clone();
    let (tx, rx) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name("rdb-load".into())
        .spawn(move || {
            let input = std::io::BufReader::with_capacity(1 << 20, file);
            let _ = tx.send(load_file(input, &limits, databases, &mesh));
        })
        .map_err(|e| format!("could not start the loading thread: {e}"))?;
    rx.await
        .unwrap_or_else(|_| Err("the loading thread stopped".into()))
}

/// Reads `input` and routes its keys; runs on the loading thread.
fn load_file(
    input: impl std::io::Read,
    limits: &shard::limits::Limits,
    databases: usize,
    mesh: &Mesh,
) -> Result<(u64, Vec<Vec<u8>>), String> {
    let shards = mesh.shards();
    let mut batches: Vec<Batch> = (0..shards).map(|_| Vec::new()).collect();
    let mut functions = Vec::new();
    let mut keys = 0u64;
    {
        let mut sink = |item: Item| -> Result<(), String> {
            match item {
                Item::Key {
                    db,
                    key,
                    entry,
                    access,
                } => {
                    if db >= databases {
                        return Err(format!(
                            "the RDB has a database {db}: this server is configured with \
                             {databases} databases"
                        ));
                    }
                    let s = shard::slot::key_shard(&key, shards);
                    batches[s].push((db, key, entry, access));
                    keys += 1;
                    if batches[s].len() >= BATCH {
                        send(mesh, s, std::mem::take(&mut batches[s]));
                    }
                }
                Item::Function(code) => functions.push(code),
                Item::Aux { .. } => {}
            }
            Ok(())
        };
        read_rdb(input, limits, &mut sink).map_err(|e| e.0)?;
    }
    for (s, batch) in batches.into_iter().enumerate() {
        if !batch.is_empty() {
            send(mesh, s, batch);
        }
    }
    Ok((keys, functions))
}

/// Keys for one shard: database, key, entry, the access the file recorded.
type Batch = Vec<(usize, Vec<u8>, Entry, Option<AccessValue>)>;

/// Puts a batch of keys into `shard` (no events: Redis' loading notifies nobody). A key's
/// recorded idle time or LFU counter becomes its access data under this server's policy.
fn send(mesh: &Mesh, shard: usize, batch: Batch) {
    mesh.send(
        shard,
        Box::new(move |l| {
            let mut shard = l.shard();
            let now = crate::local::unix_ms();
            for (db, key, mut entry, access) in batch {
                let db = &mut shard.dbs[db];
                entry.access = match access {
                    Some(AccessValue::Idle(secs)) => access_from(db.clock, Some(secs), None, now),
                    Some(AccessValue::Freq(f)) => access_from(db.clock, None, Some(f), now),
                    None => 0,
                };
                db.write_back(&key, entry, now);
            }
        }),
    );
}

/// Waits until every shard ran what was sent to it before.
async fn barrier(local: &Rc<Local>) {
    let waits: Vec<_> = (0..local.shards())
        .map(|s| {
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            local.mesh.send(
                s,
                Box::new(move |_| {
                    let _ = tx.send(());
                }),
            );
            rx
        })
        .collect();
    for w in waits {
        let _ = w.await;
    }
}

/// With the AOF on: the loaded data set goes into a new base through a rewrite (the keys
/// were not written by commands, so no effect logged them). A rewrite that was running
/// (started during the load, on part of the data) is aborted first.
async fn rewrite_aof(local: &Rc<Local>) {
    let Some(aof) = local.shared.aof.clone() else {
        return;
    };
    if !aof.active.load(Ordering::Acquire) {
        return;
    }
    // An aborted rewrite leaves once its shards notice: a few cron ticks at most.
    for _ in 0..500 {
        match crate::aof_rewrite::start(local).await {
            Ok(()) => {
                log::notice(
                    "Background append only file rewriting started after the full \
                     synchronization",
                );
                return;
            }
            Err(e) if e == crate::aof_rewrite::IN_PROGRESS => {
                crate::aof_rewrite::abort(&aof);
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => {
                log::warning(&format!(
                    "Could not rewrite the AOF after the full synchronization: {e}"
                ));
                return;
            }
        }
    }
    log::warning("Could not rewrite the AOF after the full synchronization: a rewrite runs");
}
