//! The command table: for every command its metadata (arity, flags, keys: `meta`) and its
//! route, i.e. where and how it runs.

pub mod admin;
pub mod connection;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keyspace;
pub mod list;
pub mod memory;
pub mod meta;
pub mod migrate;
pub mod set;
pub mod sort;
pub mod standalone;
pub mod stream;
pub mod zset;

use ahash::AHashMap;
use meta::CommandSpec;
use shard::{Cmd, Handler, Reply, Shard};
use std::sync::OnceLock;

/// A command that needs more of its shard than one database (MOVE, COPY ... DB n).
pub type ShardHandler = fn(&mut Shard, usize, &Cmd, u64, &mut Reply);

/// How a command whose keys may live on several shards is coordinated (see `coord`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Multi {
    /// MGET: one item per key, assembled in key order.
    Mget,
    /// MSET: all keys written atomically.
    Mset,
    /// MSETNX: check none exists, then write, atomically.
    Msetnx,
    /// DEL, UNLINK, EXISTS, TOUCH: per-shard counts summed.
    Count,
    /// RENAME / RENAMENX: the value moves between shards.
    Rename { nx: bool },
    /// COPY source destination [DB n] [REPLACE].
    Copy,
    /// LCS key1 key2: both values fetched, compared here.
    Lcs,
    /// BITOP op dest key...: sources fetched, result stored on the destination's shard.
    Bitop,
    /// Any other multi-key command (SUNIONSTORE, ZINTER, LMOVE, PFMERGE...): the keys are
    /// locked, copied here, the command's own single-shard handler runs on the copies, and
    /// the keys it may write are written back to their shards (see `coord::gather`).
    Gather,
    /// SORT / SORT_RO: like `Gather`, plus the keys its BY and GET patterns read, which only
    /// the sorted elements name (see `coord::sort`).
    Sort,
}

/// Commands run by the connection itself (no key, or all shards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Ping,
    Echo,
    Quit,
    Reset,
    Select,
    Auth,
    Hello,
    Client,
    Dbsize,
    FlushDb,
    FlushAll,
    SwapDb,
    Time,
    Info,
    Shutdown,
    Debug,
    Config,
    Slowlog,
    Latency,
    Monitor,
    BgRewriteAof,
    Command,
    Keys,
    Scan,
    RandomKey,
    MultiStart,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Eval,
    EvalSha,
    EvalRo,
    EvalShaRo,
    Fcall,
    FcallRo,
    Script,
    Function,
    Subscribe(crate::pubsub::Kind),
    Unsubscribe(crate::pubsub::Kind),
    Publish,
    Spublish,
    Pubsub,
    Sync,
    Replconf,
    Wait,
    Save,
    BgSave,
    LastSave,
    /// REPLICAOF / SLAVEOF (see `follower`).
    Replicaof,
    Role,
    Acl,
    /// MIGRATE: talks to another server (see `migrate`).
    Migrate,
    /// A command queued in MULTI that the ACL rules no longer allow at EXEC: answers why.
    AclDenied(crate::acl::Denied),
    Memory,
    Module,
    Lolwut,
    /// CLUSTER, and READONLY / READWRITE / ASKING: cluster mode is off (see `standalone`).
    Cluster,
    ClusterOnly,
}

/// Runs a server command for `sess`.
pub async fn run_server(
    local: &std::rc::Rc<crate::local::Local>,
    sess: &mut crate::client::Session,
    which: Server,
    cmd: &Cmd,
    out: &mut Reply,
) {
    use Server::*;
    match which {
        Ping if !sess.resp3 && sess.pubsub.count() > 0 => {
            // Subscribed RESP2 connections get PING's answer as a message-shaped array.
            out.array(2);
            out.bulk(b"pong");
            out.bulk(if cmd.len() > 1 { &cmd[1] } else { b"" });
        }
        Ping => connection::ping(cmd, out),
        Echo => connection::echo(cmd, out),
        Quit => connection::quit(sess, out),
        Reset => {
            crate::multi::abandon(local, sess);
            crate::pubsub::unsubscribe_all(local, sess);
            connection::reset(local, sess, out)
        }
        Select => connection::select(local, sess, cmd, out),
        Auth => connection::auth(local, sess, cmd, out),
        Hello => connection::hello(local, sess, cmd, out),
        Client => connection::client(local, sess, cmd, out).await,
        Dbsize => admin::dbsize(local, sess, out).await,
        FlushDb => admin::flush(local, sess, cmd, false, out).await,
        FlushAll => admin::flush(local, sess, cmd, true, out).await,
        SwapDb => admin::swapdb(local, sess, cmd, out).await,
        Time => admin::time(out),
        Info => admin::info(local, cmd, out).await,
        Shutdown => admin::shutdown(local, cmd, out).await,
        Debug => admin::debug(local, sess, cmd, out).await,
        Config => admin::config(local, cmd, out).await,
        Slowlog => crate::slowlog::command(local, sess, cmd, out).await,
        Latency => crate::latency::command::latency(local, cmd, out).await,
        Monitor => crate::monitor::start(local, sess, out),
        BgRewriteAof => match crate::aof_rewrite::start(local).await {
            Ok(()) => out.simple("Background append only file rewriting started"),
            Err(e) => out.error(&e),
        },
        Command => admin::command(cmd, out),
        Keys => keyspace::keys(local, sess, cmd, out).await,
        Scan => keyspace::scan(local, sess, cmd, out).await,
        RandomKey => keyspace::randomkey(local, sess, out).await,
        MultiStart => crate::multi::multi(sess, out),
        Exec => Box::pin(crate::multi::exec(local, sess, out)).await,
        Discard => crate::multi::discard(local, sess, out),
        Watch => crate::multi::watch(local, sess, cmd, out).await,
        Unwatch => crate::multi::unwatch(local, sess, out),
        Eval | EvalSha | EvalRo | EvalShaRo | Fcall | FcallRo => {
            use crate::scripting::{run, Call};
            let (call, ro) = match which {
                Eval => (Call::Eval, false),
                EvalSha => (Call::EvalSha, false),
                EvalRo => (Call::Eval, true),
                EvalShaRo => (Call::EvalSha, true),
                Fcall => (Call::Fcall, false),
                _ => (Call::Fcall, true),
            };
            Box::pin(run(local, sess, cmd, call, ro, out)).await
        }
        Subscribe(kind) => crate::pubsub::subscribe(local, sess, cmd, kind, out),
        Unsubscribe(kind) => crate::pubsub::unsubscribe(local, sess, cmd, kind, out),
        Publish => crate::pubsub::publish(local, cmd, false, out).await,
        Spublish => crate::pubsub::publish(local, cmd, true, out).await,
        Pubsub => crate::pubsub::pubsub(local, cmd, out).await,
        Sync => crate::leader::sync(local, sess, cmd, out),
        Replconf => crate::leader::replconf(sess, cmd, out),
        Wait => crate::leader::wait(local, cmd, out).await,
        Save => match crate::rdb_save::save(local).await {
            Ok(()) => out.simple("OK"),
            Err(e) => out.error(&e),
        },
        BgSave => admin::bgsave(local, cmd, out),
        LastSave => out.int(
            local
                .shared
                .saves
                .last_save
                .load(std::sync::atomic::Ordering::Relaxed) as i64,
        ),
        Replicaof => crate::follower::replicaof(local, sess, cmd, out).await,
        Role => crate::follower::role(local, out),
        Acl => crate::acl::command(local, sess, cmd, out).await,
        Migrate => migrate::migrate(local, sess, cmd, out).await,
        AclDenied(reason) => out.error(&crate::acl::exec_denied_message(reason)),
        Memory => memory::memory(local, sess, cmd, out).await,
        Module => standalone::module(local, sess, cmd, out),
        Lolwut => standalone::lolwut(cmd, out),
        Cluster => standalone::cluster(cmd, out),
        ClusterOnly => out.error(standalone::CLUSTER_DISABLED),
        Script => crate::scripting::script_command(local, cmd, out),
        Function => {
            let errors = out.errors;
            if crate::scripting::function_command(local, cmd, out) && out.errors == errors {
                // The libraries are server-wide: logged at a point every shard's file
                // agrees on, like FLUSHALL.
                crate::aof::rotate_all(local).await;
                let args = cmd.args().map(<[u8]>::to_vec).collect();
                crate::aof::log_global(local, sess.db, args).await;
            }
        }
    }
}

#[derive(Clone, Copy)]
pub enum Route {
    /// Runs on the shard that owns the key(s).
    Keyed(Handler),
    /// Runs on the shard that owns the key, with access to all its databases.
    Shard(ShardHandler),
    /// Keys may span shards: `local` runs it when they all live on one shard, the
    /// coordinator otherwise.
    Multi(Multi, Handler),
    /// Like `Multi`, with a local form that needs all databases of its shard (COPY ... DB).
    MultiShard(Multi, ShardHandler),
    Server(Server),
    /// A blocking command (BLPOP, BZPOPMIN, BLMOVE...): its handler serves the client when
    /// it can and writes no reply at all when every key is empty; the server then blocks the
    /// client until a key is ready or the timeout passes (inside MULTI or a script it answers
    /// [`timeout_reply`] at once, as Redis does). Keys may span shards, as with `Multi`.
    Blocking(Handler),
}

/// What a blocking command answers when it would block where it may not (inside MULTI, in a
/// script, or when the coordinator runs it once): what its non-blocking form answers. A wait
/// that times out answers a null array instead (see `blocking::Waiter::timeout_reply`).
pub fn timeout_reply(name: &str, out: &mut Reply) {
    match name {
        "blmove" | "brpoplpush" => out.null(),
        _ => out.null_array(),
    }
}

pub struct Command {
    pub spec: &'static CommandSpec,
    pub route: Route,
}

/// What a queued command becomes at EXEC when the ACL rules no longer allow it: a server
/// step without keys that answers the NOPERM error (counted as EXEC's).
pub fn acl_denied(reason: crate::acl::Denied) -> &'static Command {
    use crate::acl::Denied;
    static DENIED: OnceLock<[Command; 4]> = OnceLock::new();
    let all = DENIED.get_or_init(|| {
        let spec = meta::lookup(b"exec").expect("exec has metadata");
        [Denied::Command, Denied::Key, Denied::Auth, Denied::Channel].map(|d| Command {
            spec,
            route: Route::Server(Server::AclDenied(d)),
        })
    });
    &all[reason as usize]
}

/// MGET on one shard: the shard part writes items only; the whole reply needs the header.
fn mget_whole(ctx: &mut shard::Ctx, cmd: &Cmd) {
    ctx.out.array(cmd.len() - 1);
    shard::string::mget(ctx, cmd);
}

/// COPY with both keys on one shard, possibly into another database of it.
fn copy_local(shard: &mut Shard, db: usize, cmd: &Cmd, now: u64, out: &mut Reply) {
    match shard::keys::parse_copy_options(cmd, shard.dbs.len()) {
        Ok(opts) => {
            let dst = opts.db.unwrap_or(db);
            shard::keys::copy_db(shard, db, dst, cmd, now, out)
        }
        Err(e) => out.error(&e),
    }
}

fn routes() -> Vec<(&'static str, Route)> {
    let mut all = core_routes();
    for family in [
        list::routes,
        hash::routes,
        set::routes,
        zset::routes,
        geo::routes,
        hll::routes,
        sort::routes,
        stream::routes,
    ] {
        all.extend(family());
    }
    all
}

/// Strings, keys, connection and server commands.
fn core_routes() -> Vec<(&'static str, Route)> {
    use self::Multi as M;
    use self::Server as S;
    use shard::bitops as b;
    use shard::keys as k;
    use shard::string as s;
    use Route::*;
    vec![
        // strings
        ("get", Keyed(s::get)),
        ("set", Keyed(s::set)),
        ("setnx", Keyed(s::setnx)),
        ("setex", Keyed(s::setex)),
        ("psetex", Keyed(s::psetex)),
        ("getex", Keyed(s::getex)),
        ("getdel", Keyed(s::getdel)),
        ("getset", Keyed(s::getset)),
        ("mget", Multi(M::Mget, mget_whole)),
        ("mset", Multi(M::Mset, s::mset)),
        ("msetnx", Multi(M::Msetnx, s::msetnx)),
        ("append", Keyed(s::append)),
        ("strlen", Keyed(s::strlen)),
        ("incr", Keyed(s::incr)),
        ("decr", Keyed(s::decr)),
        ("incrby", Keyed(s::incrby)),
        ("decrby", Keyed(s::decrby)),
        ("incrbyfloat", Keyed(s::incrbyfloat)),
        ("getrange", Keyed(s::getrange)),
        ("substr", Keyed(s::substr)),
        ("setrange", Keyed(s::setrange)),
        ("lcs", Multi(M::Lcs, s::lcs)),
        ("setbit", Keyed(b::setbit)),
        ("getbit", Keyed(b::getbit)),
        ("bitcount", Keyed(b::bitcount)),
        ("bitpos", Keyed(b::bitpos)),
        ("bitop", Multi(M::Bitop, b::bitop)),
        ("bitfield", Keyed(b::bitfield)),
        ("bitfield_ro", Keyed(b::bitfield_ro)),
        // keys
        ("del", Multi(M::Count, k::del)),
        ("unlink", Multi(M::Count, k::unlink)),
        ("exists", Multi(M::Count, k::exists)),
        ("touch", Multi(M::Count, k::touch)),
        ("type", Keyed(k::key_type)),
        ("expire", Keyed(k::expire)),
        ("pexpire", Keyed(k::pexpire)),
        ("expireat", Keyed(k::expireat)),
        ("pexpireat", Keyed(k::pexpireat)),
        ("persist", Keyed(k::persist)),
        ("ttl", Keyed(k::ttl)),
        ("pttl", Keyed(k::pttl)),
        ("expiretime", Keyed(k::expiretime)),
        ("pexpiretime", Keyed(k::pexpiretime)),
        ("object", Keyed(k::object)),
        ("rename", Multi(M::Rename { nx: false }, k::rename)),
        ("renamenx", Multi(M::Rename { nx: true }, k::renamenx)),
        ("copy", MultiShard(M::Copy, copy_local)),
        ("move", Shard(k::move_key)),
        ("dump", Keyed(dump::dump)),
        ("restore", Keyed(dump::restore)),
        ("restore-asking", Keyed(dump::restore)),
        ("migrate", Server(S::Migrate)),
        ("keys", Server(S::Keys)),
        ("scan", Server(S::Scan)),
        ("randomkey", Server(S::RandomKey)),
        // connection
        ("ping", Server(S::Ping)),
        ("echo", Server(S::Echo)),
        ("quit", Server(S::Quit)),
        ("reset", Server(S::Reset)),
        ("select", Server(S::Select)),
        ("auth", Server(S::Auth)),
        ("hello", Server(S::Hello)),
        ("client", Server(S::Client)),
        ("memory", Server(S::Memory)),
        ("module", Server(S::Module)),
        ("lolwut", Server(S::Lolwut)),
        ("cluster", Server(S::Cluster)),
        ("readonly", Server(S::ClusterOnly)),
        ("readwrite", Server(S::ClusterOnly)),
        ("asking", Server(S::ClusterOnly)),
        // server
        ("dbsize", Server(S::Dbsize)),
        ("flushdb", Server(S::FlushDb)),
        ("flushall", Server(S::FlushAll)),
        ("swapdb", Server(S::SwapDb)),
        ("time", Server(S::Time)),
        ("info", Server(S::Info)),
        ("shutdown", Server(S::Shutdown)),
        ("debug", Server(S::Debug)),
        ("config", Server(S::Config)),
        ("slowlog", Server(S::Slowlog)),
        ("latency", Server(S::Latency)),
        ("monitor", Server(S::Monitor)),
        ("bgrewriteaof", Server(S::BgRewriteAof)),
        // replication
        ("sync", Server(S::Sync)),
        ("psync", Server(S::Sync)),
        ("replconf", Server(S::Replconf)),
        ("wait", Server(S::Wait)),
        ("save", Server(S::Save)),
        ("bgsave", Server(S::BgSave)),
        ("lastsave", Server(S::LastSave)),
        ("replicaof", Server(S::Replicaof)),
        ("slaveof", Server(S::Replicaof)),
        ("role", Server(S::Role)),
        ("command", Server(S::Command)),
        ("acl", Server(S::Acl)),
        // transactions
        ("multi", Server(S::MultiStart)),
        ("exec", Server(S::Exec)),
        ("discard", Server(S::Discard)),
        ("watch", Server(S::Watch)),
        ("unwatch", Server(S::Unwatch)),
        // scripting
        ("eval", Server(S::Eval)),
        ("evalsha", Server(S::EvalSha)),
        ("eval_ro", Server(S::EvalRo)),
        ("evalsha_ro", Server(S::EvalShaRo)),
        ("fcall", Server(S::Fcall)),
        ("fcall_ro", Server(S::FcallRo)),
        ("script", Server(S::Script)),
        ("function", Server(S::Function)),
        // pub/sub
        (
            "subscribe",
            Server(S::Subscribe(crate::pubsub::Kind::Channel)),
        ),
        (
            "unsubscribe",
            Server(S::Unsubscribe(crate::pubsub::Kind::Channel)),
        ),
        (
            "psubscribe",
            Server(S::Subscribe(crate::pubsub::Kind::Pattern)),
        ),
        (
            "punsubscribe",
            Server(S::Unsubscribe(crate::pubsub::Kind::Pattern)),
        ),
        (
            "ssubscribe",
            Server(S::Subscribe(crate::pubsub::Kind::Shard)),
        ),
        (
            "sunsubscribe",
            Server(S::Unsubscribe(crate::pubsub::Kind::Shard)),
        ),
        ("publish", Server(S::Publish)),
        ("spublish", Server(S::Spublish)),
        ("pubsub", Server(S::Pubsub)),
    ]
}

fn table() -> &'static AHashMap<&'static str, Command> {
    static TABLE: OnceLock<AHashMap<&'static str, Command>> = OnceLock::new();
    TABLE.get_or_init(|| {
        routes()
            .into_iter()
            .map(|(name, route)| {
                let spec = meta::lookup(name.as_bytes())
                    .unwrap_or_else(|| panic!("command {name} has a route but no metadata"));
                (spec.name, Command { spec, route })
            })
            .collect()
    })
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    table().get(std::str::from_utf8(lower).ok()?)
}

/// The argument positions of the keys of a command.
pub enum KeyPositions {
    /// By (first, last, step): no allocation (see [`key_positions`]).
    Range(std::iter::StepBy<std::ops::Range<usize>>),
    /// Found by walking the key specs (commands with movable keys).
    Listed(smallvec::IntoIter<[usize; 4]>),
}

impl Iterator for KeyPositions {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            KeyPositions::Range(r) => r.next(),
            KeyPositions::Listed(l) => l.next(),
        }
    }
}

/// The keys of `cmd`: by range for ordinary commands, by the key specs for commands with
/// movable keys (ZUNIONSTORE numkeys..., SORT ... STORE). Arguments the specs cannot resolve
/// (a bad numkeys) give no keys: the command then runs where it was received and its handler
/// answers the error.
pub fn command_keys(spec: &CommandSpec, cmd: &Cmd) -> KeyPositions {
    if spec.flags & meta::flag::MOVABLE_KEYS == 0 {
        return KeyPositions::Range(key_positions(spec, cmd.len()));
    }
    let args: smallvec::SmallVec<[&[u8]; 8]> = cmd.args().collect();
    let found = meta::key_positions(spec, &args).unwrap_or_default();
    KeyPositions::Listed(smallvec::SmallVec::from_vec(found).into_iter())
}

/// The argument positions of the keys of `cmd` by (first, last, step): the routing hot path,
/// allocation-free. It equals `meta::key_positions` (the full key-spec walk, used by COMMAND
/// GETKEYS) for every command without movable keys; a test holds the two together, and
/// commands with movable keys (ZUNIONSTORE, EVAL...) route with the key specs instead
/// ([`command_keys`]).
pub fn key_positions(spec: &CommandSpec, argc: usize) -> std::iter::StepBy<std::ops::Range<usize>> {
    let first = spec.first_key.max(0) as usize;
    let last = if spec.last_key < 0 {
        argc as i64 + spec.last_key as i64
    } else {
        spec.last_key as i64
    };
    let step = spec.step.max(1) as usize;
    let end = if first == 0 {
        0
    } else {
        (last + 1).max(0) as usize
    };
    (first..end.min(argc)).step_by(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_metadata() {
        for (name, _) in routes() {
            assert!(lookup(name.as_bytes()).is_some(), "{name}");
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert!(lookup(b"GeT").is_some());
        assert!(lookup(b"nope").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn range_keys_agree_with_key_specs() {
        for (name, route) in routes() {
            let spec = meta::lookup(name.as_bytes()).unwrap();
            if spec.flags & meta::flag::MOVABLE_KEYS != 0 {
                continue; // routed by the key specs themselves
            }
            if matches!(route, Route::Server(_)) {
                // Not routed by keys (SSUBSCRIBE's channels are NOT_KEY "keys").
                continue;
            }
            for argc in 1..9 {
                let args: Vec<Vec<u8>> = (0..argc).map(|i| format!("a{i}").into_bytes()).collect();
                let mut args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                args[0] = name.as_bytes();
                if !meta::arity_ok(spec.arity, argc) || !spec.subcommands.is_empty() {
                    continue;
                }
                let by_range: Vec<usize> = key_positions(spec, argc).collect();
                if name == "pfmerge" && argc == 2 {
                    // Redis' spec walk rejects PFMERGE destkey alone (its empty source range
                    // is "out of bounds", COMMAND GETKEYS errors); the range routes it.
                    assert_eq!(by_range, [1]);
                    continue;
                }
                let by_spec = meta::key_positions(spec, &args).unwrap_or_default();
                assert_eq!(by_range, by_spec, "{name} with {argc} arguments");
            }
        }
    }

    #[test]
    fn keys_by_range() {
        let mset = meta::lookup(b"mset").unwrap();
        assert_eq!(key_positions(mset, 5).collect::<Vec<_>>(), vec![1, 3]);
        let get = meta::lookup(b"get").unwrap();
        assert_eq!(key_positions(get, 2).collect::<Vec<_>>(), vec![1]);
        let ping = meta::lookup(b"ping").unwrap();
        assert_eq!(key_positions(ping, 1).count(), 0);
    }
}
