//! Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, INFO, SHUTDOWN, DEBUG, CONFIG,
//! COMMAND.

use crate::client::Session;
use crate::command::connection::{subcommand_error, write_help};
use crate::command::meta;
use crate::coord;
use crate::local::{unix_us, Local};
use crate::log;
use shard::num::parse_i64;
use shard::reply::err;
use shard::{Cmd, Reply};
use std::rc::Rc;

pub async fn dbsize(local: &Rc<Local>, sess: &Session, out: &mut Reply) {
    let db = sess.db;
    let sizes = local.call_all(move |l| l.shard_ref().dbs[db].len()).await;
    out.int(sizes.into_iter().sum::<usize>() as i64);
}

/// FLUSHDB / FLUSHALL [ASYNC|SYNC]: both free memory before replying (SYNC semantics).
pub async fn flush(local: &Rc<Local>, sess: &Session, cmd: &Cmd, all: bool, out: &mut Reply) {
    match cmd.len() {
        1 => {}
        2 if cmd[1].eq_ignore_ascii_case(b"async") || cmd[1].eq_ignore_ascii_case(b"sync") => {}
        _ => return out.error(err::SYNTAX),
    }
    let dbs: Vec<usize> = if all {
        (0..local.shared.config().databases).collect()
    } else {
        vec![sess.db]
    };
    let targets = dbs.clone();
    let effect = (sess.db, cmd.args().map(<[u8]>::to_vec).collect());
    coord::with_db_locks(local, sess.holds_db_locks, dbs, effect, move |l| {
        let mut shard = l.shard();
        for &db in &targets {
            let n = shard.dbs[db].len() as u64;
            shard.dbs[db].clear();
            shard.dirty += n;
        }
        // Blocked clients look again, as in Redis: a blocked XREADGROUP whose stream is gone
        // answers -NOGROUP.
        let waited = l.blocked.borrow().keys_in(&targets);
        for (db, key) in waited {
            crate::blocking::signal(l, &mut shard, db, &key);
        }
    })
    .await;
    crate::tracking::flushed(local).await;
    out.ok();
}

pub async fn swapdb(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let databases = local.shared.config().databases as i64;
    let Some(a) = parse_i64(&cmd[1]) else {
        return out.error("ERR invalid first DB index");
    };
    let Some(b) = parse_i64(&cmd[2]) else {
        return out.error("ERR invalid second DB index");
    };
    if !(0..databases).contains(&a) || !(0..databases).contains(&b) {
        return out.error(err::DB_INDEX);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let effect = (sess.db, cmd.args().map(<[u8]>::to_vec).collect());
        coord::with_db_locks(local, sess.holds_db_locks, vec![a, b], effect, move |l| {
            let mut shard = l.shard();
            let (lo, hi) = shard.dbs.split_at_mut(a.max(b));
            shard::db::Db::swap_data(&mut lo[a.min(b)], &mut hi[0]);
        })
        .await;
    }
    out.ok();
}

pub fn time(out: &mut Reply) {
    let us = unix_us();
    out.array(2);
    out.bulk((us / 1_000_000).to_string().as_bytes());
    out.bulk((us % 1_000_000).to_string().as_bytes());
}

pub async fn info(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let args: Vec<&[u8]> = cmd.args().skip(1).collect();
    let text = crate::info::info(local, &args).await;
    out.verbatim("txt", text.as_bytes());
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the RDB file (unless NOSAVE) and loads it
/// back, every database locked meanwhile (nobody sees the data set half loaded). Nothing
/// is propagated: the data set is the same.
async fn debug_reload(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let (mut save, mut flush) = (true, true);
    for a in cmd.args().skip(2) {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => save = false,
            b"noflush" => flush = false,
            // Loaded keys replace existing ones: MERGE is what loading does.
            b"merge" => {}
            _ => return out.error(err::SYNTAX),
        }
    }
    if save {
        if let Err(e) = crate::rdb_save::save(local).await {
            log::warning(&format!("DEBUG RELOAD: {e}"));
            return out.error("ERR Error trying to save the DB, check server logs.");
        }
    }
    // Boxed: loading runs FUNCTION LOAD through the command path, which leads back here.
    match Box::pin(crate::rdb_load::reload(local, flush)).await {
        Ok(()) => out.ok(),
        Err(e) => {
            log::warning(&format!("DEBUG RELOAD: {e}"));
            out.error("ERR Error trying to load the RDB dump, check server logs.")
        }
    }
}

/// BGSAVE [SCHEDULE].
pub fn bgsave(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let schedule = match cmd.len() {
        1 => false,
        2 if cmd[1].eq_ignore_ascii_case(b"schedule") => true,
        _ => return out.error(err::SYNTAX),
    };
    // Another snapshot (an AOF rewrite, a replica's synchronization) holds the shards: as
    // Redis with another child, only BGSAVE SCHEDULE waits for it.
    let busy = local.shared.snapshot.running()
        || local
            .shared
            .aof
            .as_ref()
            .is_some_and(|a| a.rewrite.running_secs().is_some());
    if busy && !schedule && !local.shared.saves.in_progress() {
        return out.error(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE \
             SCHEDULE in order to schedule a BGSAVE whenever possible.",
        );
    }
    match crate::rdb_save::bgsave(local) {
        Ok(()) if busy => out.simple("Background saving scheduled"),
        Ok(()) => out.simple("Background saving started"),
        Err(e) => out.error(&e),
    }
}

pub async fn shutdown(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    // As Redis: saves when save points are configured, unless NOSAVE.
    let mut save = !local.shared.config().save_points.is_empty();
    for a in cmd.args().skip(1) {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => save = false,
            b"save" => save = true,
            b"now" | b"force" => {}
            b"abort" => return out.error("ERR No shutdown in progress."),
            _ => return out.error(err::SYNTAX),
        }
    }
    log::notice("User requested shutdown...");
    if save {
        log::notice("Saving the final RDB snapshot before exiting.");
        if let Err(e) = crate::rdb_save::save(local).await {
            log::warning(&format!("Error trying to save the DB, can't exit: {e}"));
            return out.error("ERR Errors trying to SHUTDOWN. Check logs.");
        }
        log::notice("DB saved on disk");
    }
    if let Some(aof) = &local.shared.aof {
        // Every reply already waited for its writes; what is left is the flush to disk.
        log::notice("Calling fsync() on the AOF file.");
        aof.sync_files();
    }
    let pidfile = local.shared.config().pidfile.clone();
    if !pidfile.is_empty() {
        log::notice("Removing the pid file.");
        let _ = std::fs::remove_file(pidfile);
    }
    log::notice("Shardis is now ready to exit, bye bye...");
    local
        .shared
        .shutdown
        .store(true, std::sync::atomic::Ordering::SeqCst);
    std::process::exit(0);
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: Merge the content of the RDB file into the running dataset.",
    "    * NOFLUSH: Do not empty the dataset before loading the RDB file.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Print this help.",
];

pub async fn debug(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let allowed = local.shared.config().enable_debug_command;
    if !allowed.allows(sess.info.is_local()) {
        return out.error(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \
             \"local\", you can run it from a local connection, otherwise you need to set this \
             option in the configuration file, and then restart the server.",
        );
    }
    let sub = cmd[1].to_ascii_lowercase();
    match (sub.as_slice(), cmd.len()) {
        (b"help", _) => write_help(out, DEBUG_HELP),
        (b"sleep", 3) => match shard::num::parse_f64(&cmd[2]) {
            Some(secs) if secs >= 0.0 => {
                // DEBUG SLEEP stops the server: here, the shard this client is served by.
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
                out.ok();
            }
            _ => out.error(err::NOT_FLOAT),
        },
        (b"log", 3) => {
            log::warning(&format!("DEBUG LOG: {}", String::from_utf8_lossy(&cmd[2])));
            out.ok();
        }
        (b"set-active-expire", 3) => {
            let on = cmd[2] != b"0"[..];
            local.call_all(move |l| l.shard().active_expire = on).await;
            out.ok();
        }
        (b"pause-cron", 3) => {
            let paused = cmd[2] != b"0"[..];
            local
                .shared
                .cron_paused
                .store(paused, std::sync::atomic::Ordering::Relaxed);
            out.ok();
        }
        (b"protocol", 3) => debug_protocol(&cmd[2], out),
        (b"object", 3) => debug_object(local, sess, cmd, out).await,
        (b"digest", 2) => {
            // Every database, as Redis (not only the client's).
            let parts = local
                .call_all(move |l| {
                    let now = crate::local::unix_ms();
                    let shard = l.shard_ref();
                    let parts: Vec<_> = shard
                        .dbs
                        .iter()
                        .map(|db| shard::digest::db_part(db, now))
                        .collect();
                    parts
                })
                .await;
            out.bulk(shard::digest::hex(&shard::digest::dataset(&parts)).as_bytes());
        }
        (b"digest-value", _) => {
            out.array(cmd.len() - 2);
            for i in 2..cmd.len() {
                let key = cmd.arg_bytes(i);
                let db = sess.db;
                let d = local
                    .call(local.shard_of(&key), move |l| {
                        let now = crate::local::unix_ms();
                        shard::digest::key_digest(&mut l.shard().dbs[db], &key, now)
                    })
                    .await;
                out.bulk(shard::digest::hex(&d).as_bytes());
            }
        }
        (b"listpack", 3) => debug_structure(local, sess, cmd, "listpack", out).await,
        (b"quicklist", 3 | 4) => debug_structure(local, sess, cmd, "quicklist", out).await,
        (b"quicklist-packed-threshold", 3) => {
            let max = 4u64 << 30;
            match crate::config::Config::parse_memory(&cmd[2]) {
                Some(v) if v <= max => {
                    let v = if v == 0 {
                        shard::limits::LIST_PACKED_THRESHOLD
                    } else {
                        v
                    };
                    local
                        .call_all(move |l| l.shard().limits.list_packed_threshold = v)
                        .await;
                    out.ok();
                }
                _ => out.error(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ),
            }
        }
        (b"reload", _) => debug_reload(local, cmd, out).await,
        _ => subcommand_error(out, "DEBUG", &cmd[1], true),
    }
}

/// DEBUG LISTPACK key / DEBUG QUICKLIST key [verbose]: Redis prints the low-level layout on
/// its standard output; Shardis logs the encoding and size it has for the key.
async fn debug_structure(
    local: &Rc<Local>,
    sess: &Session,
    cmd: &Cmd,
    encoding: &'static str,
    out: &mut Reply,
) {
    let key = cmd.arg_bytes(2);
    let db = sess.db;
    let found = local
        .call(local.shard_of(&key), move |l| {
            let now = crate::local::unix_ms();
            let mut shard = l.shard();
            shard.dbs[db]
                .peek(&key, now)
                .map(|e| (e.value.encoding(), e.value.heap_size()))
        })
        .await;
    match found {
        None => out.error(err::NO_SUCH_KEY),
        Some((enc, _)) if enc != encoding => {
            out.error(&format!("ERR Not a {encoding} encoded object."))
        }
        Some((_, bytes)) => {
            log::notice(&format!(
                "DEBUG {}: key '{}' is {encoding}-encoded, {bytes} bytes",
                encoding.to_uppercase(),
                String::from_utf8_lossy(&cmd[2])
            ));
            let name = if encoding == "listpack" {
                "Listpack"
            } else {
                "Quicklist"
            };
            out.simple(&format!("{name} structure printed on stdout"));
        }
    }
}

async fn debug_object(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let key = cmd.arg_bytes(2);
    let db = sess.db;
    let line = local
        .call(local.shard_of(&key), move |l| {
            let now = crate::local::unix_ms();
            let mut shard = l.shard();
            shard.dbs[db].peek(&key, now).map(|e| {
                let idle = (now / 1000).saturating_sub(e.access as u64);
                format!(
                    "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} \
                     lru_seconds_idle:{}",
                    e.value.encoding(),
                    e.value.heap_size().max(1),
                    e.access & ((1 << 24) - 1),
                    idle
                )
            })
        })
        .await;
    match line {
        Some(l) => out.simple(&l),
        None => out.error(err::NO_SUCH_KEY),
    }
}

/// DEBUG PROTOCOL <type>: one sample of each RESP3 type (RESP2 clients get the fallbacks).
fn debug_protocol(kind: &[u8], out: &mut Reply) {
    match kind.to_ascii_lowercase().as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        // Redis' own sample value (not π).
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.big_number("1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" => {
            out.array(3);
            (0..3).for_each(|i| out.int(i));
        }
        b"set" => {
            out.set(3);
            (0..3).for_each(|i| out.int(i));
        }
        b"map" => {
            out.map(3);
            for i in 0..3 {
                out.int(i);
                out.boolean(i == 1);
            }
        }
        b"attrib" => {
            if out.resp3 {
                out.raw(b"|1\r\n");
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !out.resp3 {
                return out.error("ERR RESP2 is not supported by this command");
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        b"verbatim" => out.verbatim("txt", b"This is a verbatim\nstring"),
        _ => out.error(
            "ERR Wrong protocol type name. Please use one of the following: \
             string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Print this help.",
];

pub async fn config(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"get" => {
            let patterns: Vec<&[u8]> = cmd.args().skip(2).collect();
            let pairs = local.shared.config().get(&patterns);
            out.map(pairs.len());
            for (k, v) in pairs {
                out.bulk(k.as_bytes());
                out.bulk(v.as_bytes());
            }
        }
        b"set" => {
            if cmd.len() < 4 || !cmd.len().is_multiple_of(2) {
                return out.error("ERR wrong number of arguments for 'config|set' command");
            }
            let pairs: Vec<(&[u8], &[u8])> = (2..cmd.len())
                .step_by(2)
                .map(|i| (&cmd[i], &cmd[i + 1]))
                .collect();
            let changed = {
                let mut cfg = local
                    .shared
                    .config
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                cfg.set(&pairs)
            };
            match changed {
                Ok(names) => {
                    apply_config_changes(local, &names).await;
                    out.ok()
                }
                Err(e) => out.error(&e),
            }
        }
        b"resetstat" => {
            local
                .call_all(|l| {
                    l.stats.borrow_mut().reset();
                    let mut shard = l.shard();
                    shard.evictor.evicted = 0;
                    for db in shard.dbs.iter_mut() {
                        db.hits = 0;
                        db.misses = 0;
                        db.expired = 0;
                    }
                })
                .await;
            local.shared.maxmemory.reset_stats();
            out.ok();
        }
        b"rewrite" => match crate::config_rewrite::rewrite(local) {
            Ok(()) => out.ok(),
            Err(e) => out.error(&e),
        },
        b"help" => write_help(out, CONFIG_HELP),
        _ => subcommand_error(out, "CONFIG", &cmd[1], false),
    }
}

/// Pushes runtime-changeable parameters that live outside the shared config to where they
/// are used (the others are read from the config when needed).
async fn apply_config_changes(local: &Rc<Local>, names: &[&str]) {
    if names.contains(&"requirepass") {
        // The default user's password, as Redis' ACLUpdateDefaultUserPassword.
        let pass = local.shared.config().requirepass.clone();
        local.shared.acl.set_default_password(pass.as_deref());
    }
    if names.contains(&"loglevel") {
        log::set_level(local.shared.config().loglevel.into());
    }
    if names.contains(&"repl-backlog-size") {
        let size = local.shared.config().repl_backlog_size;
        local.shared.leader.set_backlog_size(size);
    }
    if names.contains(&"proto-max-bulk-len") {
        let max = local.shared.config().proto_max_bulk_len;
        local
            .call_all(move |l| l.shard().max_string_len = max)
            .await;
    }
    let encoding = |n: &&str| {
        [
            "-listpack-",
            "-intset-",
            "list-compress-",
            "hll-sparse-",
            "stream-node-",
        ]
        .iter()
        .any(|p| n.contains(p))
    };
    if names.iter().any(encoding) {
        let limits = local.shared.config().limits;
        local.call_all(move |l| l.shard().limits = limits).await;
    }
    if names.iter().any(|n| n.starts_with("slowlog-")) {
        let (slower_than, max_len) = {
            let c = local.shared.config();
            (c.slowlog_log_slower_than, c.slowlog_max_len)
        };
        local
            .call_all(move |l| {
                let mut log = l.slowlog.borrow_mut();
                log.slower_than = slower_than;
                log.max_len = max_len;
            })
            .await;
    }
    if names.contains(&"latency-monitor-threshold") {
        let ms = local.shared.config().latency_monitor_threshold;
        local.call_all(move |l| l.latency.set_threshold(ms)).await;
    }
    if names.contains(&"latency-tracking") {
        let on = local.shared.config().latency_tracking;
        local
            .call_all(move |l| l.stats.borrow_mut().latency_tracking = on)
            .await;
    }
    if names
        .iter()
        .any(|n| matches!(*n, "replica-read-only" | "replica-serve-stale-data"))
    {
        crate::follower::config_changed(&local.shared);
    }
    let memory = |n: &&str| {
        n.starts_with("maxmemory")
            || n.starts_with("lfu-")
            || matches!(*n, "replica-ignore-maxmemory" | "repl-backlog-size")
    };
    if names.iter().any(memory) {
        let clock = {
            let c = local.shared.config();
            local.shared.maxmemory.configure(&c);
            crate::maxmemory::clock(&c)
        };
        local.call_all(move |l| l.shard().set_clock(clock)).await;
        if names.contains(&"maxmemory") {
            crate::maxmemory::limit_changed(local);
        }
    }
    if names.contains(&"appendfsync") {
        // The writers read the policy from the AOF at every write (the everysec flush
        // thread runs whenever the AOF is on and looks at it each second).
        if let Some(aof) = &local.shared.aof {
            aof.set_policy(local.shared.config().appendfsync);
        }
    }
    if names.contains(&"notify-keyspace-events") {
        let flags = local.shared.config().notify_keyspace_events;
        local
            .call_all(move |l| l.shard().set_notify_flags(flags))
            .await;
    }
}

pub fn command(cmd: &Cmd, out: &mut Reply) {
    let args: Vec<&[u8]> = cmd.args().collect();
    meta::command_cmd(out, &args);
}
