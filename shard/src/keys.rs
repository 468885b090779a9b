//! The generic keyspace commands: existence, deletion, types, introspection (OBJECT), expiry,
//! renaming and copying, and the per-shard halves of the whole-keyspace commands (KEYS, SCAN,
//! RANDOMKEY, FLUSHDB, SWAPDB). Redis keeps these in db.c, expire.c and object.c.
//!
//! Everything here runs on ONE shard. Commands whose keys may span shards (DEL, EXISTS, RENAME,
//! COPY...) come in two kinds of pieces: a handler that serves the keys of this shard and
//! replies a partial result the coordinator combines, and plain functions (`take_entry`,
//! `put_entry`, `clone_entry`) the coordinator composes when the keys live on two shards.
//! Each function documents what the coordinator must do around it.
//!
//! Lookups follow Redis' flags: writes touch the access time without counting keyspace
//! hits/misses; introspection (TYPE, TTL, EXISTS, OBJECT) counts hits/misses but leaves the
//! access time alone, so OBJECT IDLETIME is not reset by looking at it.
//!
//! Effects (what the server logs and replicates for a write that changed data): an expire
//! command that set a TTL is `PEXPIREAT key <expire_at> [NX|XX|GT|LT]`, one that deleted the
//! key is `DEL key`; the other writes (PERSIST, DEL, UNLINK, RENAME, COPY, MOVE, SWAPDB,
//! FLUSHDB) are deterministic as sent. An expired key a DEL reclaims is a `DEL` of its own.

use crate::cmd::Cmd;
use crate::db::{Clock, Db, Entry};
use crate::glob::glob_match;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::rng::Rng;
use crate::shard::{Ctx, Shard};
use crate::string::StrValue;
use crate::value::Value;
use bytes::Bytes;
use std::borrow::Cow;

const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const NOT_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not \
    tracked. Please note that when switching between policies at runtime LRU and LFU data will \
    take some time to adjust.";
const LFU_NO_IDLE: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. \
    Please note that when switching between policies at runtime LRU and LFU data will take \
    some time to adjust.";

/// Looks `key` up for read-only introspection and maps the entry through `f`: counts a keyspace
/// hit or miss like a read, a miss is a "keymiss" event, but the access time stays (Redis'
/// LOOKUP_NOTOUCH).
fn inspect<T>(db: &mut Db, key: &[u8], now: u64, f: impl FnOnce(&Entry) -> T) -> Option<T> {
    let found = inspect_quietly(db, key, now, f);
    if found.is_none() {
        db.notify(notify::KEY_MISS, "keymiss", key);
    }
    found
}

/// [`inspect`] without the "keymiss" event (OBJECT: LOOKUP_NONOTIFY).
fn inspect_quietly<T>(db: &mut Db, key: &[u8], now: u64, f: impl FnOnce(&Entry) -> T) -> Option<T> {
    let found = db.peek(key, now).map(f);
    if found.is_some() {
        db.hits += 1;
    } else {
        db.misses += 1;
    }
    found
}

/// Removes `key` and returns its entry if it was live. An expired entry is not returned (DEL
/// does not count it as deleted) but reclaimed as a lookup reclaims it, as Redis' DEL does:
/// counted as expired, its "expired" event, and a `DEL` in the effects, so a replay loses
/// it too when the DEL that found it removed nothing else (and is not logged).
fn remove_live(db: &mut Db, key: &[u8], now: u64) -> Option<Entry> {
    let e = db.remove(key)?;
    if !db.is_live(&e, now) {
        // Rare: put it back for the lookup to reclaim, rather than a lookup before every
        // removal.
        db.write_back(key, e, now);
        db.peek(key, now);
        return None;
    }
    Some(e)
}

/// A deep copy of an entry, TTL and access time included.
fn duplicate_entry(e: &Entry) -> Entry {
    Entry {
        value: e.value.duplicate(),
        expire_at: e.expire_at,
        access: e.access,
    }
}

// ---------------------------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TOUCH
// ---------------------------------------------------------------------------------------------

/// DEL key [key ...], for the keys of the command that live on this shard (cmd = [name, keys of
/// this shard...], repeats allowed). Replies the number of keys removed here; a key given twice
/// counts once. The coordinator sums the shards' integers.
pub fn del(ctx: &mut Ctx, cmd: &Cmd) {
    let mut removed = 0;
    for key in cmd.args().skip(1) {
        if remove_live(ctx.db, key, ctx.now).is_some() {
            ctx.notify(notify::GENERIC, "del", key);
            removed += 1;
        }
    }
    ctx.wrote(removed);
    ctx.out.int(removed as i64);
}

/// UNLINK key [key ...]: DEL, with the same per-shard contract. (Values are freed inline: there
/// is no background free thread per shard yet.)
pub fn unlink(ctx: &mut Ctx, cmd: &Cmd) {
    del(ctx, cmd)
}

/// EXISTS key [key ...], per shard like DEL, except that a key given twice counts twice (as
/// Redis). The coordinator sums.
pub fn exists(ctx: &mut Ctx, cmd: &Cmd) {
    let found = cmd
        .args()
        .skip(1)
        .filter(|key| inspect(ctx.db, key, ctx.now, |_| ()).is_some())
        .count();
    ctx.out.int(found as i64);
}

/// TOUCH key [key ...], per shard like EXISTS: counts the keys that exist (repeats count) and
/// updates their access time. The coordinator sums.
pub fn touch(ctx: &mut Ctx, cmd: &Cmd) {
    let touched = cmd
        .args()
        .skip(1)
        .filter(|key| ctx.db.get(key, ctx.now).is_some())
        .count();
    ctx.out.int(touched as i64);
}

// ---------------------------------------------------------------------------------------------
// TYPE, OBJECT
// ---------------------------------------------------------------------------------------------

/// TYPE key: the type name as a simple string, `none` when the key does not exist.
pub fn key_type(ctx: &mut Ctx, cmd: &Cmd) {
    let name = inspect(ctx.db, &cmd[1], ctx.now, |e| e.value.type_name());
    ctx.out.simple(name.unwrap_or("none"));
}

/// Integers Redis keeps as shared objects (OBJ_SHARED_INTEGERS): a string holding one of them
/// reports the shared object's refcount.
const SHARED_INTEGERS: std::ops::Range<i64> = 0..10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// The lines of OBJECT HELP, as Redis 7.2 prints them.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// The OBJECT subcommands that inspect a key.
#[derive(Clone, Copy)]
enum ObjectQuery {
    Encoding,
    Freq,
    IdleTime,
    RefCount,
}

impl ObjectQuery {
    fn parse(name: &[u8]) -> Option<ObjectQuery> {
        const ALL: [(&str, ObjectQuery); 4] = [
            ("encoding", ObjectQuery::Encoding),
            ("freq", ObjectQuery::Freq),
            ("idletime", ObjectQuery::IdleTime),
            ("refcount", ObjectQuery::RefCount),
        ];
        ALL.iter()
            .find(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
            .map(|&(_, q)| q)
    }

    /// The name arity errors use.
    fn full_name(self) -> &'static str {
        match self {
            ObjectQuery::Encoding => "object|encoding",
            ObjectQuery::Freq => "object|freq",
            ObjectQuery::IdleTime => "object|idletime",
            ObjectQuery::RefCount => "object|refcount",
        }
    }
}

/// What OBJECT found out about a key, taken while the entry is borrowed.
enum ObjectInfo {
    Encoding(&'static str),
    Int(i64),
    /// An error after the key was found (FREQ under LRU, IDLETIME under LFU).
    Error(&'static str),
}

/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key, OBJECT HELP. Checks the subcommand and its arity
/// itself, with Redis' errors, so the command table only needs OBJECT's own arity (-2).
///
/// FREQ answers only under an LFU policy, IDLETIME only under the others; the other one is an
/// error after the key lookup, as in Redis.
pub fn object(ctx: &mut Ctx, cmd: &Cmd) {
    let sub = &cmd[1];
    if sub.eq_ignore_ascii_case(b"help") {
        if cmd.len() != 2 {
            return ctx.out.error(&err::arity(b"object|help"));
        }
        ctx.out.array(OBJECT_HELP.len());
        for line in OBJECT_HELP {
            ctx.out.simple(line);
        }
        return;
    }
    let Some(query) = ObjectQuery::parse(sub) else {
        return unknown_subcommand(ctx.out, sub);
    };
    if cmd.len() != 3 {
        return ctx.out.error(&err::arity(query.full_name().as_bytes()));
    }
    let (now, clock) = (ctx.now, ctx.db.clock);
    let lfu = matches!(clock, Clock::Lfu { .. });
    let info = inspect_quietly(ctx.db, &cmd[2], now, |e| match query {
        ObjectQuery::Encoding => ObjectInfo::Encoding(e.value.encoding()),
        ObjectQuery::IdleTime if lfu => ObjectInfo::Error(LFU_NO_IDLE),
        ObjectQuery::IdleTime => ObjectInfo::Int(idle_seconds(e.access, now)),
        ObjectQuery::RefCount => ObjectInfo::Int(refcount(&e.value)),
        ObjectQuery::Freq if lfu => ObjectInfo::Int(crate::evict::frequency(e, clock, now).into()),
        ObjectQuery::Freq => ObjectInfo::Error(NOT_LFU),
    });
    match info {
        None => ctx.out.null(),
        Some(ObjectInfo::Encoding(name)) => ctx.out.bulk(name.as_bytes()),
        Some(ObjectInfo::Int(n)) => ctx.out.int(n),
        Some(ObjectInfo::Error(e)) => ctx.out.error(e),
    }
}

/// `ERR unknown subcommand '<sub>'. Try OBJECT HELP.`, the name printed as Redis' `%.128s`
/// prints it: its bytes as they are (not necessarily UTF-8), cut at 128 bytes or at the first
/// NUL, line breaks turned into spaces.
fn unknown_subcommand(out: &mut Reply, sub: &[u8]) {
    let shown = sub[..sub.len().min(128)]
        .split(|&b| b == 0)
        .next()
        .unwrap_or_default();
    let mut line = b"-ERR unknown subcommand '".to_vec();
    line.extend(
        shown
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    line.extend_from_slice(b"'. Try OBJECT HELP.\r\n");
    out.errors += 1;
    out.raw(&line);
}

/// Seconds since the last access; `access` is in seconds of the shard clock (Unix ms / 1000).
fn idle_seconds(access: u32, now_ms: u64) -> i64 {
    ((now_ms / 1000) as u32).saturating_sub(access) as i64
}

/// OBJECT REFCOUNT: values are never shared here, but Redis answers INT_MAX for the shared
/// small integers (with its default maxmemory settings), so clients see the same numbers.
fn refcount(v: &Value) -> i64 {
    match v {
        Value::Str(StrValue::Int(i)) if SHARED_INTEGERS.contains(i) => SHARED_REFCOUNT,
        _ => 1,
    }
}

// ---------------------------------------------------------------------------------------------
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST
// ---------------------------------------------------------------------------------------------

/// How one of the four expire commands reads its time argument.
struct ExpireSpec {
    /// The name in `invalid expire time in '...' command`.
    name: &'static str,
    /// Milliseconds per unit of the argument.
    unit_ms: i64,
    /// Relative to the command's time (EXPIRE, PEXPIRE) or absolute (the *AT forms).
    relative: bool,
}

/// The NX / XX / GT / LT conditions of an expire command.
#[derive(Default)]
struct ExpireConditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireConditions {
    /// Parses the options after the time argument, with Redis' errors (checked before the
    /// time argument itself, as Redis does).
    fn parse(cmd: &Cmd) -> Result<ExpireConditions, Cow<'static, str>> {
        let mut c = ExpireConditions::default();
        for opt in cmd.args().skip(3) {
            let flag = if opt.eq_ignore_ascii_case(b"nx") {
                &mut c.nx
            } else if opt.eq_ignore_ascii_case(b"xx") {
                &mut c.xx
            } else if opt.eq_ignore_ascii_case(b"gt") {
                &mut c.gt
            } else if opt.eq_ignore_ascii_case(b"lt") {
                &mut c.lt
            } else {
                let opt = String::from_utf8_lossy(opt);
                return Err(format!("ERR Unsupported option {opt}").into());
            };
            *flag = true;
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(
                "ERR NX and XX, GT or LT options at the same time are not compatible".into(),
            );
        }
        if c.gt && c.lt {
            return Err("ERR GT and LT options at the same time are not compatible".into());
        }
        Ok(c)
    }

    /// Whether a new expiry `when` (Unix ms) may replace `current` (0 = no TTL). A key without
    /// TTL counts as expiring never: GT always fails on it, LT always passes.
    fn allow(&self, current: u64, when: i64) -> bool {
        let has_ttl = current != 0;
        let (current, when) = (i128::from(current), i128::from(when));
        if self.nx && has_ttl || self.xx && !has_ttl {
            return false;
        }
        if self.gt && (!has_ttl || when <= current) {
            return false;
        }
        !(self.lt && has_ttl && when >= current)
    }
}

const EXPIRE: ExpireSpec = ExpireSpec {
    name: "expire",
    unit_ms: 1000,
    relative: true,
};
const PEXPIRE: ExpireSpec = ExpireSpec {
    name: "pexpire",
    unit_ms: 1,
    relative: true,
};
const EXPIREAT: ExpireSpec = ExpireSpec {
    name: "expireat",
    unit_ms: 1000,
    relative: false,
};
const PEXPIREAT: ExpireSpec = ExpireSpec {
    name: "pexpireat",
    unit_ms: 1,
    relative: false,
};

/// EXPIRE key seconds [NX|XX|GT|LT]
pub fn expire(ctx: &mut Ctx, cmd: &Cmd) {
    expire_generic(ctx, cmd, &EXPIRE)
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
pub fn pexpire(ctx: &mut Ctx, cmd: &Cmd) {
    expire_generic(ctx, cmd, &PEXPIRE)
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
pub fn expireat(ctx: &mut Ctx, cmd: &Cmd) {
    expire_generic(ctx, cmd, &EXPIREAT)
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
pub fn pexpireat(ctx: &mut Ctx, cmd: &Cmd) {
    expire_generic(ctx, cmd, &PEXPIREAT)
}

/// The absolute expiry (Unix ms) an expire command asks for, or None if it overflows i64 (as
/// Redis, negative results are fine: they delete the key).
fn expire_time_ms(arg: i64, spec: &ExpireSpec, now: u64) -> Option<i64> {
    let base = if spec.relative { now as i64 } else { 0 };
    arg.checked_mul(spec.unit_ms)?.checked_add(base)
}

/// The four expire commands, in Redis' order of checks: options, time argument, overflow,
/// key lookup, conditions; then a time not in the future deletes the key.
fn expire_generic(ctx: &mut Ctx, cmd: &Cmd, spec: &ExpireSpec) {
    let conditions = match ExpireConditions::parse(cmd) {
        Ok(c) => c,
        Err(e) => return ctx.out.error(&e),
    };
    let Some(arg) = parse_i64(&cmd[2]) else {
        return ctx.out.error(err::NOT_INT);
    };
    let Some(when) = expire_time_ms(arg, spec, ctx.now) else {
        return ctx.out.error(&err::invalid_expire(spec.name));
    };
    let key = &cmd[1];
    let Some(current) = ctx.db.get_mut(key, ctx.now).map(|e| e.expire_at) else {
        return ctx.out.int(0);
    };
    if !conditions.allow(current, when) {
        return ctx.out.int(0);
    }
    if when <= ctx.now as i64 {
        // A time in the past deletes the key (not counted as an expiry, as Redis).
        ctx.db.remove(key);
        ctx.notify(notify::GENERIC, "del", key);
        if ctx.propagating() {
            ctx.propagate([&b"DEL"[..], key]);
        }
    } else {
        ctx.db.set_expire(key, when as u64, ctx.now);
        ctx.notify(notify::GENERIC, "expire", key);
        // PEXPIREAT (absolute ms) is its own effect.
        let as_sent = !spec.relative && spec.unit_ms == 1;
        if ctx.propagating() && !as_sent {
            propagate_pexpireat(ctx, cmd, when);
        }
    }
    ctx.wrote(1);
    ctx.out.int(1);
}

/// The effect of an expire command that set a TTL, as Redis' expireGenericCommand rewrites
/// it: `PEXPIREAT key <ms>`, its NX/XX/GT/LT options kept (replayed on the same state, they
/// pass again).
fn propagate_pexpireat(ctx: &mut Ctx, cmd: &Cmd, when: i64) {
    let mut digits = itoa::Buffer::new();
    let head = [&b"PEXPIREAT"[..], &cmd[1], digits.format(when).as_bytes()];
    let args: Vec<&[u8]> = head.into_iter().chain(cmd.args().skip(3)).collect();
    ctx.propagate(args);
}

/// PERSIST key: 1 if a TTL was removed, 0 if the key is missing or has none.
pub fn persist(ctx: &mut Ctx, cmd: &Cmd) {
    let key = &cmd[1];
    let had_ttl = ctx
        .db
        .get_mut(key, ctx.now)
        .is_some_and(|e| e.expire_at != 0);
    if had_ttl {
        ctx.db.set_expire(key, 0, ctx.now);
        ctx.notify(notify::GENERIC, "persist", key);
        ctx.wrote(1);
    }
    ctx.out.int(had_ttl as i64);
}

// ---------------------------------------------------------------------------------------------
// TTL, PTTL, EXPIRETIME, PEXPIRETIME
// ---------------------------------------------------------------------------------------------

/// TTL key: seconds left (rounded to nearest), -1 without TTL, -2 without key.
pub fn ttl(ctx: &mut Ctx, cmd: &Cmd) {
    ttl_generic(ctx, cmd, false, false)
}

/// PTTL key: milliseconds left, -1 without TTL, -2 without key.
pub fn pttl(ctx: &mut Ctx, cmd: &Cmd) {
    ttl_generic(ctx, cmd, true, false)
}

/// EXPIRETIME key: the absolute expiry in Unix seconds (rounded), -1 / -2 as TTL.
pub fn expiretime(ctx: &mut Ctx, cmd: &Cmd) {
    ttl_generic(ctx, cmd, false, true)
}

/// PEXPIRETIME key: the absolute expiry in Unix ms, -1 / -2 as TTL.
pub fn pexpiretime(ctx: &mut Ctx, cmd: &Cmd) {
    ttl_generic(ctx, cmd, true, true)
}

fn ttl_generic(ctx: &mut Ctx, cmd: &Cmd, millis: bool, absolute: bool) {
    let Some(expire_at) = inspect(ctx.db, &cmd[1], ctx.now, |e| e.expire_at) else {
        return ctx.out.int(-2);
    };
    if expire_at == 0 {
        return ctx.out.int(-1);
    }
    let ms = if absolute {
        expire_at
    } else {
        expire_at.saturating_sub(ctx.now)
    };
    let v = if millis {
        ms
    } else {
        ms.saturating_add(500) / 1000
    };
    ctx.out.int(v.min(i64::MAX as u64) as i64);
}

// ---------------------------------------------------------------------------------------------
// RENAME, RENAMENX
// ---------------------------------------------------------------------------------------------

/// RENAME key newkey, both keys on this shard. Keeps the TTL; replaces newkey.
/// (Across shards: see [`take_entry`] and [`put_entry`].)
pub fn rename(ctx: &mut Ctx, cmd: &Cmd) {
    rename_generic(ctx, cmd, false)
}

/// RENAMENX key newkey, both keys on this shard: 0 and nothing changes if newkey exists.
pub fn renamenx(ctx: &mut Ctx, cmd: &Cmd) {
    rename_generic(ctx, cmd, true)
}

fn rename_generic(ctx: &mut Ctx, cmd: &Cmd, nx: bool) {
    let (from, to) = (&cmd[1], &cmd[2]);
    if ctx.db.get_mut(from, ctx.now).is_none() {
        return ctx.out.error(err::NO_SUCH_KEY);
    }
    let done = if from == to {
        // Renaming a key to itself changes nothing; RENAMENX reports newkey as existing.
        !nx
    } else if nx && ctx.db.contains(to, ctx.now) {
        false
    } else {
        let e = ctx.db.remove(from).expect("looked up above");
        // As Redis: a replaced newkey is deleted, then newkey added ("new").
        ctx.db.remove(to);
        ctx.db.insert_entry(to, e, ctx.now);
        ctx.notify(notify::GENERIC, "rename_from", from);
        ctx.notify(notify::GENERIC, "rename_to", to);
        ctx.wrote(1);
        true
    };
    if nx {
        ctx.out.int(done as i64);
    } else {
        ctx.out.ok();
    }
}

// ---------------------------------------------------------------------------------------------
// COPY, MOVE, SWAPDB, FLUSHDB
// ---------------------------------------------------------------------------------------------

/// The options of COPY source destination [DB destination-db] [REPLACE].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// The DB option's index, if given (already checked against the number of databases).
    pub db: Option<usize>,
    pub replace: bool,
}

/// Parses COPY's options (cmd[3..]) with Redis' errors, in Redis' order (left to right, the
/// first bad option wins). `databases` is the number of databases, for the range check.
pub fn parse_copy_options(cmd: &Cmd, databases: usize) -> Result<CopyOptions, Cow<'static, str>> {
    let mut opts = CopyOptions::default();
    let mut i = 3;
    while i < cmd.len() {
        let opt = &cmd[i];
        if opt.eq_ignore_ascii_case(b"replace") {
            opts.replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && i + 1 < cmd.len() {
            i += 1;
            opts.db = Some(parse_db_index(&cmd[i], databases)?);
        } else {
            return Err(err::SYNTAX.into());
        }
        i += 1;
    }
    Ok(opts)
}

/// Parses a database index argument like Redis' getIntFromObjectOrReply + selectDb.
fn parse_db_index(arg: &[u8], databases: usize) -> Result<usize, Cow<'static, str>> {
    let n = parse_i64(arg).ok_or(err::NOT_INT)?;
    if i32::try_from(n).is_err() {
        return Err(
            "ERR value is out of range, value must between -2147483648 and 2147483647".into(),
        );
    }
    usize::try_from(n)
        .ok()
        .filter(|&i| i < databases)
        .ok_or(Cow::Borrowed(err::DB_INDEX))
}

/// COPY source destination [DB n] [REPLACE], both keys in the selected database of this shard.
/// Keeps the TTL. Replies 1 if copied, 0 if the source is missing or the destination exists
/// without REPLACE.
///
/// Ctx does not know the selected index nor the number of databases: the coordinator must call
/// [`parse_copy_options`] first (it replies the DB option's errors) and send COPY here only when
/// the DB option is absent or names the selected database, to [`copy_db`] when it names
/// another. Here every option error but the database range is still answered as Redis does.
pub fn copy(ctx: &mut Ctx, cmd: &Cmd) {
    let opts = match parse_copy_options(cmd, usize::MAX) {
        Ok(o) => o,
        Err(e) => return ctx.out.error(&e),
    };
    match copy_between(ctx.db, None, &cmd[1], &cmd[2], opts.replace, ctx.now) {
        Ok(copied) => {
            ctx.wrote(copied as u64);
            ctx.out.int(copied as i64);
        }
        Err(e) => ctx.out.error(e),
    }
}

/// COPY source destination DB n [REPLACE] with both databases on this shard: copies `cmd[1]`
/// of database `src_db` to `cmd[2]` of database `dst_db` (`dst_db` may equal `src_db`). Options
/// are validated again; `dst_db` decides the target. Both indices must be in range.
pub fn copy_db(
    shard: &mut Shard,
    src_db: usize,
    dst_db: usize,
    cmd: &Cmd,
    now: u64,
    out: &mut Reply,
) {
    let opts = match parse_copy_options(cmd, shard.dbs.len()) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let result = if src_db == dst_db {
        copy_between(
            &mut shard.dbs[src_db],
            None,
            &cmd[1],
            &cmd[2],
            opts.replace,
            now,
        )
    } else {
        let [src, dst] = shard
            .dbs
            .get_disjoint_mut([src_db, dst_db])
            .expect("distinct database indices in range");
        copy_between(src, Some(dst), &cmd[1], &cmd[2], opts.replace, now)
    };
    match result {
        Ok(copied) => {
            shard.dirty += copied as u64;
            out.int(copied as i64);
        }
        Err(e) => out.error(e),
    }
}

/// COPY's core: copies `from` of `src` to `to` of `dst` (None = `src` itself). Ok(false) when
/// `from` is missing or `to` exists and `replace` is off.
fn copy_between(
    src: &mut Db,
    mut dst: Option<&mut Db>,
    from: &[u8],
    to: &[u8],
    replace: bool,
    now: u64,
) -> Result<bool, &'static str> {
    if dst.is_none() && from == to {
        return Err(SAME_OBJECT);
    }
    // A read lookup, as Redis: counts a hit or miss and touches the source.
    if src.get(from, now).is_none() {
        return Ok(false);
    }
    let target_exists = match dst.as_deref_mut() {
        Some(d) => d.contains(to, now),
        None => src.contains(to, now),
    };
    if target_exists && !replace {
        return Ok(false);
    }
    // Duplicate only now, so a refused COPY never deep-copies a large value.
    let mut copy = duplicate_entry(src.peek(from, now).expect("looked up above"));
    // A new object, as Redis' COPY makes: its access data starts afresh (idle 0, LFU_INIT_VAL).
    copy.access = 0;
    let target = dst.unwrap_or(src);
    // As Redis: a replaced destination is deleted, then added again ("new").
    target.remove(to);
    target.insert_entry(to, copy, now);
    target.notify(notify::GENERIC, "copy_to", to);
    Ok(true)
}

/// MOVE key db: moves `cmd[1]` from database `db` (the selected one) to the database named by
/// `cmd[2]`, on this shard (a key's shard does not depend on its database). Keeps the TTL.
/// Replies 1, 0 when the key is missing or exists in the target, or Redis' errors.
/// Cluster mode's "MOVE is not allowed in cluster mode" is the server's to answer.
pub fn move_key(shard: &mut Shard, db: usize, cmd: &Cmd, now: u64, out: &mut Reply) {
    let target = match parse_db_index(&cmd[2], shard.dbs.len()) {
        Ok(t) => t,
        Err(e) => return out.error(&e),
    };
    if target == db {
        return out.error(SAME_OBJECT);
    }
    let [src, dst] = shard
        .dbs
        .get_disjoint_mut([db, target])
        .expect("distinct database indices in range");
    let key = &cmd[1];
    if src.get_mut(key, now).is_none() || dst.contains(key, now) {
        return out.int(0);
    }
    // As Redis: added to the target ("new") before it leaves the source.
    let e = src.remove(key).expect("looked up above");
    dst.insert_entry(key, e, now);
    src.notify(notify::GENERIC, "move_from", key);
    dst.notify(notify::GENERIC, "move_to", key);
    shard.dirty += 1;
    out.int(1);
}

/// Parses SWAPDB index1 index2 with Redis' errors; both indices are below `databases`.
pub fn parse_swapdb_args(cmd: &Cmd, databases: usize) -> Result<(usize, usize), &'static str> {
    fn index(arg: &[u8], invalid: &'static str) -> Result<i64, &'static str> {
        parse_i64(arg)
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or(invalid)
    }
    let a = index(&cmd[1], "ERR invalid first DB index")?;
    let b = index(&cmd[2], "ERR invalid second DB index")?;
    let in_range = |n: i64| usize::try_from(n).ok().filter(|&i| i < databases);
    match (in_range(a), in_range(b)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(err::DB_INDEX),
    }
}

/// SWAPDB on this shard: exchanges the contents of databases `a` and `b` (in range; equal is a
/// no-op). The coordinator runs it on every shard at one barrier, replies OK, and counts one
/// change (Redis' dirty++) once, not per shard.
pub fn swap_db(shard: &mut Shard, a: usize, b: usize) {
    shard.dbs.swap(a, b);
}

/// FLUSHDB / FLUSHALL on one database of this shard (FLUSHALL: every index). Returns how many
/// keys it removed, which Redis adds to its change counter.
pub fn flush_db(db: &mut Db) -> usize {
    let n = db.len();
    db.clear();
    n
}

// ---------------------------------------------------------------------------------------------
// Cross-shard building blocks (RENAME, RENAMENX, COPY across shards)
// ---------------------------------------------------------------------------------------------

/// Removes `key` and returns its entry (value, TTL), or None if it does not exist. RENAME's
/// source half: the coordinator replies `ERR no such key` on None, otherwise hands the entry to
/// [`put_entry`] on the destination's shard (replace = true for RENAME). For RENAMENX it must
/// first check the destination is absent ([`Db::contains`] on its shard) under the same
/// transaction, and only then take the source, so a refused RENAMENX changes nothing. The
/// coordinator counts one change for the whole RENAME.
pub fn take_entry(db: &mut Db, key: &[u8], now: u64) -> Option<Entry> {
    db.get_mut(key, now)?; // a write lookup: reclaims an expired key, touches the access time
    db.remove(key)
}

/// Stores `entry` (TTL included) at `key`: always when `replace`, otherwise only if `key` does
/// not exist (an expired key counts as absent). Returns whether it stored it; on false the
/// entry is dropped, so the coordinator checks first when the entry must survive.
pub fn put_entry(db: &mut Db, key: &[u8], entry: Entry, replace: bool, now: u64) -> bool {
    if db.contains(key, now) {
        if !replace {
            return false;
        }
        // As Redis: the old value is deleted, then the key added again ("new").
        db.remove(key);
    }
    db.insert_entry(key, entry, now);
    true
}

/// A deep copy of `key`'s entry (value and TTL), or None if it does not exist. COPY's source
/// half: a read lookup as in Redis (counts a hit or miss, touches the access time). The
/// coordinator answers 0 on None; otherwise checks the destination and calls [`put_entry`]
/// with COPY's REPLACE flag, replying 1 if it stored.
pub fn clone_entry(db: &mut Db, key: &[u8], now: u64) -> Option<Entry> {
    db.get(key, now).map(|e| duplicate_entry(e))
}

/// [`clone_entry`] for a key the command writes (a write lookup, as Redis': no hit or
/// miss counted, no "keymiss").
pub fn clone_entry_for_write(db: &mut Db, key: &[u8], now: u64) -> Option<Entry> {
    db.get_mut(key, now).map(|e| duplicate_entry(e))
}

// ---------------------------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY (per shard)
// ---------------------------------------------------------------------------------------------

/// KEYS pattern on this shard: appends every live key matching `pattern` to `out`. The
/// coordinator concatenates the shards' lists into one array reply.
pub fn keys_shard(db: &Db, pattern: &[u8], now: u64, out: &mut Vec<Vec<u8>>) {
    // Exactly "*" skips matching, as Redis: it is the only pattern that lists the key "".
    let all = pattern == b"*";
    db.for_each(now, |key, _| {
        if all || glob_match(pattern, key, false) {
            out.push(key.to_vec());
        }
    });
}

/// The options of SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
/// Cheap to clone and `Send`: the pattern and type share the request's frame.
#[derive(Clone, Debug)]
pub struct ScanOpts {
    /// None = every key (also when the pattern is exactly "*", as Redis).
    pub pattern: Option<Bytes>,
    /// How many keys to examine per call (a hint of work, not of results).
    pub count: usize,
    /// Only keys of this type (compared case-insensitively with TYPE's names; an unknown name
    /// matches nothing, as Redis 7.2).
    pub type_name: Option<Bytes>,
}

impl Default for ScanOpts {
    fn default() -> Self {
        ScanOpts {
            pattern: None,
            count: 10,
            type_name: None,
        }
    }
}

impl ScanOpts {
    fn accepts(&self, key: &[u8], e: &Entry) -> bool {
        self.type_name
            .as_ref()
            .is_none_or(|t| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
            && self
                .pattern
                .as_ref()
                .is_none_or(|p| glob_match(p, key, false))
    }
}

/// Parses SCAN's options starting at `cmd[first]` (2 for SCAN: after the cursor). Options may
/// repeat, the last one wins. Errors: `ERR value is not an integer or out of range` for a bad
/// COUNT, `ERR syntax error` for COUNT < 1, an unknown option or a missing value.
pub fn parse_scan_opts(cmd: &Cmd, first: usize) -> Result<ScanOpts, &'static str> {
    let mut opts = ScanOpts::default();
    let mut i = first;
    while i < cmd.len() {
        if i + 1 >= cmd.len() {
            return Err(err::SYNTAX);
        }
        let (name, value) = (&cmd[i], i + 1);
        if name.eq_ignore_ascii_case(b"count") {
            let n = parse_i64(&cmd[value]).ok_or(err::NOT_INT)?;
            opts.count = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(err::SYNTAX)?;
        } else if name.eq_ignore_ascii_case(b"match") {
            let p = cmd.arg_bytes(value);
            opts.pattern = (&p[..] != b"*").then_some(p);
        } else if name.eq_ignore_ascii_case(b"type") {
            opts.type_name = Some(cmd.arg_bytes(value));
        } else {
            return Err(err::SYNTAX);
        }
        i += 2;
    }
    Ok(opts)
}

/// One SCAN step on this shard: walks bucket groups from the shard-local `cursor` until about
/// `opts.count` live keys were examined (or 10 x count groups, to bound walks over empty
/// groups, as Redis), appends the examined keys that pass MATCH/TYPE to `out`, and returns the
/// next shard-local cursor, 0 when this shard is done. A step may return no keys and a
/// non-zero cursor. Every key present for the whole iteration is returned at least once;
/// keys may repeat.
pub fn scan_shard(
    db: &Db,
    mut cursor: u64,
    now: u64,
    opts: &ScanOpts,
    out: &mut Vec<Vec<u8>>,
) -> u64 {
    let mut examined = 0;
    let mut groups_left = opts.count.saturating_mul(10);
    loop {
        cursor = db.scan(cursor, now, |key, e| {
            examined += 1;
            if opts.accepts(key, e) {
                out.push(key.to_vec());
            }
        });
        if cursor == 0 || examined >= opts.count || groups_left == 0 {
            return cursor;
        }
        groups_left -= 1;
    }
}

/// RANDOMKEY on this shard: a random live key, None if it has none (or, like Redis, if nearly
/// every key is expired and sampling gave up). The coordinator picks the shard, weighted by
/// each shard's key count, and replies null when every shard answers None.
pub fn random_key(db: &mut Db, rng: &mut Rng, now: u64) -> Option<Vec<u8>> {
    db.random_key(rng.next_u64(), now).map(Vec::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Handler;

    const NOW: u64 = 1_700_000_000_000;

    fn handler(name: &str) -> Handler {
        match name.to_ascii_lowercase().as_str() {
            "del" => del,
            "unlink" => unlink,
            "exists" => exists,
            "touch" => touch,
            "type" => key_type,
            "object" => object,
            "expire" => expire,
            "pexpire" => pexpire,
            "expireat" => expireat,
            "pexpireat" => pexpireat,
            "persist" => persist,
            "ttl" => ttl,
            "pttl" => pttl,
            "expiretime" => expiretime,
            "pexpiretime" => pexpiretime,
            "rename" => rename,
            "renamenx" => renamenx,
            "copy" => copy,
            other => panic!("no handler for {other}"),
        }
    }

    /// Runs one command on database 0 at time `now` and returns the RESP2 reply.
    fn run(shard: &mut Shard, now: u64, args: &[&str]) -> String {
        run_proto(shard, now, args, false)
    }

    fn run_proto(shard: &mut Shard, now: u64, args: &[&str], resp3: bool) -> String {
        let cmd = Cmd::from_args(args);
        let mut out = Reply::new(resp3);
        let mut ctx = shard.ctx(0, now, &mut out);
        handler(args[0])(&mut ctx, &cmd);
        String::from_utf8(out.buf).unwrap()
    }

    fn set(shard: &mut Shard, key: &str, value: &str, expire_at: u64) {
        set_in(shard, 0, key, value, expire_at);
    }

    fn set_in(shard: &mut Shard, db: usize, key: &str, value: &str, expire_at: u64) {
        let v = Value::Str(StrValue::from_bytes(value.as_bytes()));
        shard.dbs[db].set(key.as_bytes(), v, expire_at, NOW);
    }

    fn expire_at(shard: &mut Shard, db: usize, key: &str) -> Option<u64> {
        shard.dbs[db].peek(key.as_bytes(), NOW).map(|e| e.expire_at)
    }

    fn value(shard: &mut Shard, db: usize, key: &str) -> Option<String> {
        shard.dbs[db]
            .peek(key.as_bytes(), NOW)
            .map(|e| match &e.value {
                Value::Str(s) => String::from_utf8(s.as_bytes().into_owned()).unwrap(),
                other => format!("<{}>", other.type_name()),
            })
    }

    fn err(msg: &str) -> String {
        format!("-{msg}\r\n")
    }

    fn shard() -> Shard {
        Shard::new(0, 16)
    }

    // --- DEL, UNLINK, EXISTS, TOUCH ---

    #[test]
    fn del_counts_each_removed_key_once() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        set(&mut s, "b", "2", 0);
        assert_eq!(run(&mut s, NOW, &["DEL", "a", "a", "b", "nokey"]), ":2\r\n");
        assert_eq!(s.dbs[0].len(), 0);
        assert_eq!(s.dirty, 2);
        assert_eq!(run(&mut s, NOW, &["DEL", "a"]), ":0\r\n");
        assert_eq!(s.dirty, 2);
    }

    #[test]
    fn del_does_not_count_expired_keys() {
        let mut s = shard();
        set(&mut s, "gone", "1", NOW - 1);
        set(&mut s, "live", "1", NOW + 1000);
        assert_eq!(run(&mut s, NOW, &["UNLINK", "gone", "live"]), ":1\r\n");
        assert_eq!(s.dbs[0].expired, 1);
        assert_eq!(s.dbs[0].len(), 0);
        assert_eq!(s.dbs[0].volatile(), 0);
    }

    #[test]
    fn exists_counts_repeats_and_keyspace_stats() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        set(&mut s, "old", "1", NOW);
        assert_eq!(
            run(&mut s, NOW, &["EXISTS", "a", "a", "b", "old"]),
            ":2\r\n"
        );
        assert_eq!((s.dbs[0].hits, s.dbs[0].misses), (2, 2));
    }

    #[test]
    fn exists_and_type_do_not_touch_but_touch_does() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        let later = NOW + 10_000;
        run(&mut s, later, &["EXISTS", "a"]);
        run(&mut s, later, &["TYPE", "a"]);
        run(&mut s, later, &["TTL", "a"]);
        assert_eq!(run(&mut s, later, &["OBJECT", "IDLETIME", "a"]), ":10\r\n");
        assert_eq!(run(&mut s, later, &["TOUCH", "a", "a", "b"]), ":2\r\n");
        assert_eq!(run(&mut s, later, &["OBJECT", "IDLETIME", "a"]), ":0\r\n");
    }

    // --- TYPE ---

    #[test]
    fn type_is_a_simple_string() {
        let mut s = shard();
        set(&mut s, "a", "x", 0);
        set(&mut s, "old", "x", NOW - 5);
        assert_eq!(run(&mut s, NOW, &["TYPE", "a"]), "+string\r\n");
        assert_eq!(run(&mut s, NOW, &["TYPE", "nokey"]), "+none\r\n");
        assert_eq!(run(&mut s, NOW, &["TYPE", "old"]), "+none\r\n");
        assert_eq!(run_proto(&mut s, NOW, &["type", "a"], true), "+string\r\n");
        assert_eq!((s.dbs[0].hits, s.dbs[0].misses), (2, 2));
    }

    // --- OBJECT ---

    #[test]
    fn object_encoding() {
        let mut s = shard();
        set(&mut s, "int", "12345678901", 0);
        set(&mut s, "emb", "hello", 0);
        set(&mut s, "raw", &"x".repeat(45), 0);
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", "ENCODING", "int"]),
            "$3\r\nint\r\n"
        );
        assert_eq!(
            run(&mut s, NOW, &["object", "encoding", "emb"]),
            "$6\r\nembstr\r\n"
        );
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", "Encoding", "raw"]),
            "$3\r\nraw\r\n"
        );
        assert_eq!(run(&mut s, NOW, &["OBJECT", "ENCODING", "no"]), "$-1\r\n");
        assert_eq!(
            run_proto(&mut s, NOW, &["OBJECT", "ENCODING", "no"], true),
            "_\r\n"
        );
    }

    #[test]
    fn object_refcount_mimics_shared_integers() {
        let mut s = shard();
        for (k, v) in [
            ("zero", "0"),
            ("one", "1"),
            ("max", "9999"),
            ("big", "10000"),
        ] {
            set(&mut s, k, v, 0);
        }
        set(&mut s, "neg", "-1", 0);
        set(&mut s, "str", "abc", 0);
        for (key, expected) in [
            ("zero", ":2147483647\r\n"),
            ("one", ":2147483647\r\n"),
            ("max", ":2147483647\r\n"),
            ("big", ":1\r\n"),
            ("neg", ":1\r\n"),
            ("str", ":1\r\n"),
            ("nokey", "$-1\r\n"),
        ] {
            assert_eq!(
                run(&mut s, NOW, &["OBJECT", "REFCOUNT", key]),
                expected,
                "{key}"
            );
        }
    }

    #[test]
    fn object_idletime_is_not_reset_by_object() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        assert_eq!(run(&mut s, NOW, &["OBJECT", "IDLETIME", "a"]), ":0\r\n");
        assert_eq!(
            run(&mut s, NOW + 5_999, &["OBJECT", "IDLETIME", "a"]),
            ":5\r\n"
        );
        assert_eq!(
            run(&mut s, NOW + 7_000, &["OBJECT", "IDLETIME", "a"]),
            ":7\r\n"
        );
        assert_eq!(run(&mut s, NOW, &["OBJECT", "IDLETIME", "no"]), "$-1\r\n");
    }

    #[test]
    fn object_freq_needs_lfu() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        assert_eq!(run(&mut s, NOW, &["OBJECT", "FREQ", "a"]), err(NOT_LFU));
        let redis_text = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
        assert_eq!(NOT_LFU, redis_text);
        assert_eq!(run(&mut s, NOW, &["OBJECT", "FREQ", "no"]), "$-1\r\n");
    }

    #[test]
    fn object_help_and_errors() {
        let mut s = shard();
        let help = run(&mut s, NOW, &["OBJECT", "help"]);
        assert!(help.starts_with(
            "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", "HELP", "x"]),
            err("ERR wrong number of arguments for 'object|help' command")
        );
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", "ENCODING"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", "idletime", "a", "b"]),
            err("ERR wrong number of arguments for 'object|idletime' command")
        );
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", "Foo", "a"]),
            err("ERR unknown subcommand 'Foo'. Try OBJECT HELP.")
        );
        let long = "y".repeat(200);
        assert_eq!(
            run(&mut s, NOW, &["OBJECT", &long]),
            err(&format!(
                "ERR unknown subcommand '{}'. Try OBJECT HELP.",
                &long[..128]
            ))
        );
    }

    #[test]
    fn object_unknown_subcommand_is_printed_like_redis_percent_128s() {
        let mut s = shard();
        let mut error_for = |sub: &[u8]| {
            let cmd = Cmd::from_args(&[b"OBJECT".as_slice(), sub, b"k"]);
            let mut out = Reply::new(false);
            object(&mut s.ctx(0, NOW, &mut out), &cmd);
            assert_eq!(out.errors, 1);
            out.buf
        };
        assert_eq!(
            error_for(b"a\x00b"),
            b"-ERR unknown subcommand 'a'. Try OBJECT HELP.\r\n"
        );
        assert_eq!(
            error_for(b"\xff\r\n"),
            b"-ERR unknown subcommand '\xff  '. Try OBJECT HELP.\r\n"
        );
    }

    // --- EXPIRE family ---

    #[test]
    fn expire_sets_an_absolute_time() {
        let mut s = shard();
        set(&mut s, "k", "v", 0);
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "10"]), ":1\r\n");
        assert_eq!(expire_at(&mut s, 0, "k"), Some(NOW + 10_000));
        assert_eq!(run(&mut s, NOW, &["PEXPIRE", "k", "1500"]), ":1\r\n");
        assert_eq!(expire_at(&mut s, 0, "k"), Some(NOW + 1500));
        assert_eq!(run(&mut s, NOW, &["EXPIREAT", "k", "1800000000"]), ":1\r\n");
        assert_eq!(expire_at(&mut s, 0, "k"), Some(1_800_000_000_000));
        assert_eq!(
            run(&mut s, NOW, &["PEXPIREAT", "k", "1800000000123"]),
            ":1\r\n"
        );
        assert_eq!(expire_at(&mut s, 0, "k"), Some(1_800_000_000_123));
        assert_eq!(s.dbs[0].volatile(), 1);
        assert_eq!(s.dirty, 4);
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "nokey", "10"]), ":0\r\n");
        assert_eq!(s.dirty, 4);
    }

    #[test]
    fn expire_in_the_past_deletes() {
        for args in [
            &["EXPIRE", "k", "-1"][..],
            &["EXPIRE", "k", "0"],
            &["PEXPIRE", "k", "0"],
            &["PEXPIRE", "k", "-9223372036854775808"],
            &["EXPIREAT", "k", "0"],
            &["EXPIREAT", "k", "-5", "NX"],
            &["PEXPIREAT", "k", "1700000000000"], // == now: already expired
        ] {
            let mut s = shard();
            set(&mut s, "k", "v", 0);
            assert_eq!(run(&mut s, NOW, args), ":1\r\n", "{args:?}");
            assert_eq!(s.dbs[0].len(), 0, "{args:?}");
            assert_eq!(s.dbs[0].expired, 0, "{args:?}");
            assert_eq!(s.dirty, 1);
        }
        let mut s = shard();
        set(&mut s, "k", "v", 0);
        assert_eq!(
            run(&mut s, NOW, &["PEXPIREAT", "k", "1700000000001"]),
            ":1\r\n"
        );
        assert_eq!(s.dbs[0].len(), 1);
    }

    #[test]
    fn expire_conditions() {
        let mut s = shard();
        set(&mut s, "k", "v", 0);
        // No TTL: NX sets, XX refuses, GT refuses (no TTL = infinite), LT sets.
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "100", "XX"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "100", "GT"]), ":0\r\n");
        assert_eq!(expire_at(&mut s, 0, "k"), Some(0));
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "100", "nx"]), ":1\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "200", "NX"]), ":0\r\n");
        // TTL 100s.
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "50", "GT"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "100", "GT"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "200", "gt"]), ":1\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "300", "LT"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "200", "LT"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "50", "lt"]), ":1\r\n");
        assert_eq!(
            run(&mut s, NOW, &["EXPIRE", "k", "10", "XX", "LT"]),
            ":1\r\n"
        );
        assert_eq!(
            run(&mut s, NOW, &["EXPIRE", "k", "20", "XX", "GT"]),
            ":1\r\n"
        );
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "30", "XX"]), ":1\r\n");
        assert_eq!(
            run(&mut s, NOW, &["EXPIRE", "k", "40", "nx", "NX"]),
            ":0\r\n"
        );
        assert_eq!(expire_at(&mut s, 0, "k"), Some(NOW + 30_000));
        // A negative time refused by GT keeps the key.
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", "-1", "GT"]), ":0\r\n");
        assert_eq!(s.dbs[0].len(), 1);
        // LT with a past time on a key without TTL deletes it.
        set(&mut s, "p", "v", 0);
        assert_eq!(run(&mut s, NOW, &["EXPIRE", "p", "-1", "LT"]), ":1\r\n");
        assert!(s.dbs[0].peek(b"p", NOW).is_none());
    }

    #[test]
    fn expire_option_errors() {
        let mut s = shard();
        set(&mut s, "k", "v", 0);
        let nx_and = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        for opts in [["NX", "XX"], ["nx", "gt"], ["LT", "NX"]] {
            let args = ["EXPIRE", "k", "10", opts[0], opts[1]];
            assert_eq!(run(&mut s, NOW, &args), nx_and);
        }
        assert_eq!(
            run(&mut s, NOW, &["PEXPIRE", "k", "10", "GT", "lt"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            run(&mut s, NOW, &["EXPIRE", "k", "10", "Foo"]),
            err("ERR Unsupported option Foo")
        );
        // Options are checked before the time.
        assert_eq!(
            run(&mut s, NOW, &["EXPIRE", "k", "abc", "foo"]),
            err("ERR Unsupported option foo")
        );
        for bad in ["abc", "1.5", " 1", "", "9223372036854775808"] {
            assert_eq!(run(&mut s, NOW, &["EXPIRE", "k", bad]), err(err::NOT_INT));
        }
        assert_eq!(expire_at(&mut s, 0, "k"), Some(0));
        assert_eq!(s.dirty, 0);
    }

    #[test]
    fn expire_overflow() {
        let mut s = shard();
        set(&mut s, "k", "v", 0);
        for (args, name) in [
            (["EXPIRE", "k", "9223372036854775"], "expire"),
            (["EXPIRE", "k", "-9223372036854776"], "expire"),
            (["PEXPIRE", "k", "9223372036854775807"], "pexpire"),
            (["EXPIREAT", "k", "9223372036854776"], "expireat"),
            (["EXPIRE", "nokey", "9223372036854775"], "expire"),
        ] {
            let expected = err(&format!("ERR invalid expire time in '{name}' command"));
            assert_eq!(run(&mut s, NOW, &args), expected, "{args:?}");
        }
        // The largest representable times are fine.
        assert_eq!(
            run(&mut s, NOW, &["EXPIREAT", "k", "9223372036854775"]),
            ":1\r\n"
        );
        assert_eq!(expire_at(&mut s, 0, "k"), Some(9_223_372_036_854_775_000));
        assert_eq!(
            run(&mut s, NOW, &["PEXPIREAT", "k", "9223372036854775807"]),
            ":1\r\n"
        );
        assert_eq!(
            run(&mut s, NOW, &["PEXPIRETIME", "k"]),
            ":9223372036854775807\r\n"
        );
        assert_eq!(
            run(&mut s, NOW, &["EXPIRETIME", "k"]),
            ":9223372036854776\r\n"
        );
        assert_eq!(
            run(&mut s, NOW, &["EXPIRE", "k", "9223372036854"]),
            ":1\r\n"
        );
    }

    #[test]
    fn ttl_family() {
        let mut s = shard();
        set(&mut s, "forever", "v", 0);
        set(&mut s, "k", "v", NOW + 1_499);
        set(&mut s, "gone", "v", NOW);
        for (cmd, key, expected) in [
            ("TTL", "nokey", ":-2\r\n"),
            ("PTTL", "nokey", ":-2\r\n"),
            ("EXPIRETIME", "nokey", ":-2\r\n"),
            ("PEXPIRETIME", "gone", ":-2\r\n"),
            ("TTL", "forever", ":-1\r\n"),
            ("PTTL", "forever", ":-1\r\n"),
            ("EXPIRETIME", "forever", ":-1\r\n"),
            ("PEXPIRETIME", "forever", ":-1\r\n"),
            ("TTL", "k", ":1\r\n"),
            ("PTTL", "k", ":1499\r\n"),
            ("EXPIRETIME", "k", ":1700000001\r\n"),
            ("PEXPIRETIME", "k", ":1700000001499\r\n"),
        ] {
            assert_eq!(run(&mut s, NOW, &[cmd, key]), expected, "{cmd} {key}");
        }
        // Rounded to the nearest second.
        assert_eq!(run(&mut s, NOW - 1, &["TTL", "k"]), ":2\r\n");
        assert_eq!(run(&mut s, NOW + 1_000, &["TTL", "k"]), ":0\r\n");
    }

    #[test]
    fn persist_removes_the_ttl() {
        let mut s = shard();
        set(&mut s, "k", "v", NOW + 5_000);
        set(&mut s, "plain", "v", 0);
        assert_eq!(run(&mut s, NOW, &["PERSIST", "k"]), ":1\r\n");
        assert_eq!(run(&mut s, NOW, &["TTL", "k"]), ":-1\r\n");
        assert_eq!(run(&mut s, NOW, &["PERSIST", "k"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["PERSIST", "plain"]), ":0\r\n");
        assert_eq!(run(&mut s, NOW, &["PERSIST", "nokey"]), ":0\r\n");
        assert_eq!(s.dbs[0].volatile(), 0);
        assert_eq!(s.dirty, 1);
    }

    // --- RENAME ---

    #[test]
    fn rename_keeps_ttl_and_replaces() {
        let mut s = shard();
        set(&mut s, "a", "1", NOW + 9_000);
        set(&mut s, "b", "2", NOW + 1_000);
        assert_eq!(run(&mut s, NOW, &["RENAME", "a", "b"]), "+OK\r\n");
        assert_eq!(value(&mut s, 0, "b").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut s, 0, "b"), Some(NOW + 9_000));
        assert_eq!(expire_at(&mut s, 0, "a"), None);
        assert_eq!(s.dbs[0].volatile(), 1);
        // A source without TTL clears the destination's.
        set(&mut s, "c", "3", 0);
        assert_eq!(run(&mut s, NOW, &["RENAME", "c", "b"]), "+OK\r\n");
        assert_eq!(expire_at(&mut s, 0, "b"), Some(0));
        assert_eq!(s.dbs[0].volatile(), 0);
        assert_eq!(s.dirty, 2);
    }

    #[test]
    fn rename_edge_cases() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        set(&mut s, "old", "1", NOW - 1);
        let no_such_key = err("ERR no such key");
        assert_eq!(run(&mut s, NOW, &["RENAME", "nokey", "x"]), no_such_key);
        assert_eq!(run(&mut s, NOW, &["RENAMENX", "nokey", "x"]), no_such_key);
        assert_eq!(run(&mut s, NOW, &["RENAME", "nokey", "nokey"]), no_such_key);
        assert_eq!(run(&mut s, NOW, &["RENAME", "old", "x"]), no_such_key);
        assert_eq!(run(&mut s, NOW, &["RENAME", "a", "a"]), "+OK\r\n");
        assert_eq!(run(&mut s, NOW, &["RENAMENX", "a", "a"]), ":0\r\n");
        assert_eq!(value(&mut s, 0, "a").as_deref(), Some("1"));
        assert_eq!(s.dirty, 0);
    }

    #[test]
    fn renamenx_refuses_an_existing_destination() {
        let mut s = shard();
        set(&mut s, "a", "1", NOW + 3_000);
        set(&mut s, "b", "2", 0);
        set(&mut s, "expired", "3", NOW - 1);
        assert_eq!(run(&mut s, NOW, &["RENAMENX", "a", "b"]), ":0\r\n");
        assert_eq!(value(&mut s, 0, "a").as_deref(), Some("1"));
        assert_eq!(run(&mut s, NOW, &["RENAMENX", "a", "expired"]), ":1\r\n");
        assert_eq!(value(&mut s, 0, "expired").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut s, 0, "expired"), Some(NOW + 3_000));
        assert_eq!(run(&mut s, NOW, &["RENAMENX", "expired", "c"]), ":1\r\n");
        assert_eq!(s.dbs[0].len(), 2);
    }

    // --- COPY, MOVE, SWAPDB, FLUSHDB ---

    #[test]
    fn copy_in_one_database() {
        let mut s = shard();
        set(&mut s, "a", "1", NOW + 9_000);
        set(&mut s, "b", "2", 0);
        assert_eq!(run(&mut s, NOW, &["COPY", "a", "c"]), ":1\r\n");
        assert_eq!(value(&mut s, 0, "c").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut s, 0, "c"), Some(NOW + 9_000));
        assert_eq!(run(&mut s, NOW, &["COPY", "a", "b"]), ":0\r\n");
        assert_eq!(value(&mut s, 0, "b").as_deref(), Some("2"));
        assert_eq!(run(&mut s, NOW, &["COPY", "a", "b", "REPLACE"]), ":1\r\n");
        assert_eq!(value(&mut s, 0, "b").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut s, 0, "b"), Some(NOW + 9_000));
        // A source without TTL gives a copy without TTL.
        set(&mut s, "p", "3", 0);
        assert_eq!(run(&mut s, NOW, &["COPY", "p", "b", "replace"]), ":1\r\n");
        assert_eq!(expire_at(&mut s, 0, "b"), Some(0));
        assert_eq!(run(&mut s, NOW, &["COPY", "nokey", "d"]), ":0\r\n");
        assert_eq!(s.dirty, 3);
        assert_eq!(s.dbs[0].volatile(), 2);
        // The source read counts as a keyspace hit/miss.
        assert_eq!((s.dbs[0].hits, s.dbs[0].misses), (4, 1));
    }

    #[test]
    fn copy_errors() {
        let mut s = shard();
        set(&mut s, "a", "1", 0);
        let same = err("ERR source and destination objects are the same");
        assert_eq!(run(&mut s, NOW, &["COPY", "a", "a"]), same);
        assert_eq!(run(&mut s, NOW, &["COPY", "nokey", "nokey"]), same);
        for (opts, expected) in [
            (&["DB"][..], err::SYNTAX),
            (&["foo"], err::SYNTAX),
            (&["REPLACE", "DB"], err::SYNTAX),
            (&["DB", "abc"], err::NOT_INT),
            (&["DB", "-1"], err::DB_INDEX),
            (
                &["DB", "99999999999"],
                "ERR value is out of range, value must between -2147483648 and 2147483647",
            ),
        ] {
            let mut args = vec!["COPY", "a", "b"];
            args.extend_from_slice(opts);
            assert_eq!(run(&mut s, NOW, &args), err(expected), "{opts:?}");
        }
        assert_eq!(s.dbs[0].len(), 1);
    }

    #[test]
    fn copy_options_parse() {
        let parse = |args: &[&str]| parse_copy_options(&Cmd::from_args(args), 16);
        assert_eq!(parse(&["COPY", "a", "b"]), Ok(CopyOptions::default()));
        assert_eq!(
            parse(&["COPY", "a", "b", "replace", "db", "3", "DB", "15", "REPLACE"]),
            Ok(CopyOptions {
                db: Some(15),
                replace: true
            })
        );
        assert_eq!(
            parse(&["COPY", "a", "b", "db", "16"]),
            Err(err::DB_INDEX.into())
        );
        // Left to right: the first bad option wins.
        assert_eq!(
            parse(&["COPY", "a", "b", "db", "16", "x"]),
            Err(err::DB_INDEX.into())
        );
        assert_eq!(
            parse(&["COPY", "a", "b", "x", "db", "16"]),
            Err(err::SYNTAX.into())
        );
    }

    fn run_copy_db(s: &mut Shard, src: usize, dst: usize, args: &[&str]) -> String {
        let mut out = Reply::new(false);
        copy_db(s, src, dst, &Cmd::from_args(args), NOW, &mut out);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn copy_between_databases() {
        let mut s = shard();
        set_in(&mut s, 0, "a", "1", NOW + 9_000);
        set_in(&mut s, 3, "a", "old", 0);
        assert_eq!(
            run_copy_db(&mut s, 0, 2, &["COPY", "a", "a", "DB", "2"]),
            ":1\r\n"
        );
        assert_eq!(value(&mut s, 2, "a").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut s, 2, "a"), Some(NOW + 9_000));
        assert_eq!(s.dbs[2].volatile(), 1);
        assert_eq!(
            run_copy_db(&mut s, 0, 3, &["COPY", "a", "a", "DB", "3"]),
            ":0\r\n"
        );
        assert_eq!(value(&mut s, 3, "a").as_deref(), Some("old"));
        let args = ["COPY", "a", "a", "db", "3", "replace"];
        assert_eq!(run_copy_db(&mut s, 0, 3, &args), ":1\r\n");
        assert_eq!(value(&mut s, 3, "a").as_deref(), Some("1"));
        assert_eq!(
            run_copy_db(&mut s, 0, 0, &["COPY", "a", "a", "DB", "0"]),
            err(SAME_OBJECT)
        );
        assert_eq!(
            run_copy_db(&mut s, 0, 0, &["COPY", "a", "b", "DB", "16"]),
            err(err::DB_INDEX)
        );
        assert_eq!(
            run_copy_db(&mut s, 0, 0, &["COPY", "a", "b", "DB", "0"]),
            ":1\r\n"
        );
        assert_eq!(
            run_copy_db(&mut s, 5, 0, &["COPY", "x", "y", "DB", "0"]),
            ":0\r\n"
        );
        assert_eq!(s.dirty, 3);
    }

    fn run_move(s: &mut Shard, db: usize, args: &[&str]) -> String {
        let mut out = Reply::new(false);
        move_key(s, db, &Cmd::from_args(args), NOW, &mut out);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn move_between_databases() {
        let mut s = shard();
        set_in(&mut s, 0, "a", "1", NOW + 9_000);
        set_in(&mut s, 0, "b", "2", 0);
        set_in(&mut s, 1, "b", "other", 0);
        assert_eq!(run_move(&mut s, 0, &["MOVE", "a", "1"]), ":1\r\n");
        assert_eq!(value(&mut s, 0, "a"), None);
        assert_eq!(value(&mut s, 1, "a").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut s, 1, "a"), Some(NOW + 9_000));
        assert_eq!((s.dbs[0].volatile(), s.dbs[1].volatile()), (0, 1));
        assert_eq!(run_move(&mut s, 0, &["MOVE", "b", "1"]), ":0\r\n");
        assert_eq!(value(&mut s, 0, "b").as_deref(), Some("2"));
        assert_eq!(run_move(&mut s, 0, &["MOVE", "nokey", "1"]), ":0\r\n");
        assert_eq!(run_move(&mut s, 0, &["MOVE", "b", "0"]), err(SAME_OBJECT));
        assert_eq!(
            run_move(&mut s, 0, &["MOVE", "b", "16"]),
            err(err::DB_INDEX)
        );
        assert_eq!(
            run_move(&mut s, 0, &["MOVE", "b", "-1"]),
            err(err::DB_INDEX)
        );
        assert_eq!(run_move(&mut s, 0, &["MOVE", "b", "x"]), err(err::NOT_INT));
        assert_eq!(s.dirty, 1);
    }

    #[test]
    fn swapdb_and_flushdb() {
        let parse = |a: &str, b: &str| parse_swapdb_args(&Cmd::from_args(&["SWAPDB", a, b]), 16);
        assert_eq!(parse("0", "15"), Ok((0, 15)));
        assert_eq!(parse("3", "3"), Ok((3, 3)));
        assert_eq!(parse("abc", "x"), Err("ERR invalid first DB index"));
        assert_eq!(parse("99999999999", "1"), Err("ERR invalid first DB index"));
        assert_eq!(parse("1", "abc"), Err("ERR invalid second DB index"));
        assert_eq!(parse("0", "16"), Err(err::DB_INDEX));
        assert_eq!(parse("-1", "0"), Err(err::DB_INDEX));

        let mut s = shard();
        set_in(&mut s, 0, "a", "1", NOW + 1);
        set_in(&mut s, 1, "b", "2", 0);
        swap_db(&mut s, 0, 1);
        assert_eq!(value(&mut s, 0, "b").as_deref(), Some("2"));
        assert_eq!(value(&mut s, 1, "a").as_deref(), Some("1"));
        assert_eq!((s.dbs[0].volatile(), s.dbs[1].volatile()), (0, 1));
        swap_db(&mut s, 1, 1);
        assert_eq!(value(&mut s, 1, "a").as_deref(), Some("1"));
        assert_eq!(flush_db(&mut s.dbs[1]), 1);
        assert_eq!((s.dbs[1].len(), s.dbs[1].volatile()), (0, 0));
        assert_eq!(s.dbs[0].len(), 1);
    }

    // --- cross-shard building blocks ---

    #[test]
    fn take_put_and_clone_entries() {
        let mut src = shard();
        let mut dst = shard();
        set(&mut src, "a", "1", NOW + 9_000);
        set(&mut src, "old", "1", NOW - 1);
        set(&mut dst, "b", "2", 0);
        set(&mut dst, "gone", "2", NOW - 1);

        assert!(take_entry(&mut src.dbs[0], b"nokey", NOW).is_none());
        assert!(take_entry(&mut src.dbs[0], b"old", NOW).is_none());
        let copy = clone_entry(&mut src.dbs[0], b"a", NOW).unwrap();
        assert_eq!(copy.expire_at, NOW + 9_000);
        assert!(clone_entry(&mut src.dbs[0], b"nokey", NOW).is_none());
        // NX-style put refuses a live key but not an expired one.
        assert!(!put_entry(&mut dst.dbs[0], b"b", copy, false, NOW));
        assert_eq!(value(&mut dst, 0, "b").as_deref(), Some("2"));
        let copy = clone_entry(&mut src.dbs[0], b"a", NOW).unwrap();
        assert!(put_entry(&mut dst.dbs[0], b"gone", copy, false, NOW));
        assert_eq!(expire_at(&mut dst, 0, "gone"), Some(NOW + 9_000));

        let e = take_entry(&mut src.dbs[0], b"a", NOW).unwrap();
        assert_eq!(src.dbs[0].len(), 0);
        assert_eq!(src.dbs[0].volatile(), 0);
        assert!(put_entry(&mut dst.dbs[0], b"b", e, true, NOW));
        assert_eq!(value(&mut dst, 0, "b").as_deref(), Some("1"));
        assert_eq!(expire_at(&mut dst, 0, "b"), Some(NOW + 9_000));
        assert_eq!(dst.dbs[0].volatile(), 2);
    }

    // --- KEYS, SCAN, RANDOMKEY ---

    fn sorted(mut v: Vec<Vec<u8>>) -> Vec<String> {
        v.sort();
        v.into_iter()
            .map(|k| String::from_utf8(k).unwrap())
            .collect()
    }

    #[test]
    fn keys_on_a_shard() {
        let mut s = shard();
        for k in ["", "hello", "hallo", "hxllo", "foo"] {
            set(&mut s, k, "1", 0);
        }
        set(&mut s, "hexpired", "1", NOW);
        let keys = |s: &Shard, p: &str| {
            let mut out = Vec::new();
            keys_shard(&s.dbs[0], p.as_bytes(), NOW, &mut out);
            sorted(out)
        };
        assert_eq!(keys(&s, "h[ae]llo"), ["hallo", "hello"]);
        assert_eq!(keys(&s, "h*"), ["hallo", "hello", "hxllo"]);
        assert_eq!(keys(&s, "*"), ["", "foo", "hallo", "hello", "hxllo"]);
        // Only the exact "*" lists the empty key, as Redis.
        assert_eq!(keys(&s, "**"), ["foo", "hallo", "hello", "hxllo"]);
        assert!(keys(&s, "nomatch*").is_empty());
    }

    fn scan_opts(args: &[&str]) -> Result<ScanOpts, &'static str> {
        let mut full = vec!["SCAN", "0"];
        full.extend_from_slice(args);
        parse_scan_opts(&Cmd::from_args(&full), 2)
    }

    #[test]
    fn scan_option_parsing() {
        let o = scan_opts(&[]).unwrap();
        assert_eq!((o.count, o.pattern, o.type_name), (10, None, None));
        let o = scan_opts(&["match", "a*", "COUNT", "5", "Type", "hash", "COUNT", "7"]).unwrap();
        assert_eq!(o.count, 7);
        assert_eq!(o.pattern.as_deref(), Some(&b"a*"[..]));
        assert_eq!(o.type_name.as_deref(), Some(&b"hash"[..]));
        assert_eq!(scan_opts(&["MATCH", "*"]).unwrap().pattern, None);
        assert_eq!(
            scan_opts(&["MATCH", "a*", "MATCH", "*"]).unwrap().pattern,
            None
        );
        for (args, expected) in [
            (&["COUNT", "0"][..], err::SYNTAX),
            (&["COUNT", "-1"], err::SYNTAX),
            (&["COUNT", "abc"], err::NOT_INT),
            (&["COUNT", "1.5"], err::NOT_INT),
            (&["COUNT"], err::SYNTAX),
            (&["MATCH"], err::SYNTAX),
            (&["TYPE"], err::SYNTAX),
            (&["foo", "bar"], err::SYNTAX),
            (&["COUNT", "5", "MATCH"], err::SYNTAX),
        ] {
            assert_eq!(scan_opts(args).unwrap_err(), expected, "{args:?}");
        }
    }

    /// Scans a whole shard, inserting `insert_per_step` new keys after every step.
    fn scan_all(s: &mut Shard, opts: &ScanOpts, insert_per_step: usize) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            cursor = scan_shard(&s.dbs[0], cursor, NOW, opts, &mut seen);
            steps += 1;
            for i in 0..insert_per_step {
                set(s, &format!("new:{steps}:{i}"), "1", 0);
            }
            if cursor == 0 {
                return seen;
            }
            assert!(steps < 100_000, "scan does not terminate");
        }
    }

    #[test]
    fn scan_returns_every_key_present_throughout() {
        let mut s = shard();
        for i in 0..1000 {
            set(&mut s, &format!("key:{i}"), "1", 0);
        }
        set(&mut s, "expired", "1", NOW - 1);
        let seen = scan_all(&mut s, &ScanOpts::default(), 3);
        for i in 0..1000 {
            let k = format!("key:{i}");
            assert!(seen.iter().any(|x| x == k.as_bytes()), "{k} missing");
        }
        assert!(!seen.iter().any(|x| x == b"expired"));
    }

    #[test]
    fn scan_filters_by_match_and_type() {
        let mut s = shard();
        for i in 0..100 {
            set(&mut s, &format!("user:{i}"), "1", 0);
            set(&mut s, &format!("item:{i}"), "1", 0);
        }
        let seen = scan_all(
            &mut s,
            &scan_opts(&["MATCH", "user:1?", "COUNT", "7"]).unwrap(),
            0,
        );
        let expected: Vec<String> = (10..20).map(|i| format!("user:{i}")).collect();
        assert_eq!(sorted(seen), expected);
        let by_type = scan_opts(&["TYPE", "STRING", "MATCH", "item:5*"]).unwrap();
        assert_eq!(scan_all(&mut s, &by_type, 0).len(), 11);
        let other_type = scan_opts(&["TYPE", "hash"]).unwrap();
        assert!(scan_all(&mut s, &other_type, 0).is_empty());
        let unknown_type = scan_opts(&["TYPE", "nosuchtype"]).unwrap();
        assert!(scan_all(&mut s, &unknown_type, 0).is_empty());
    }

    #[test]
    fn scan_of_an_empty_shard() {
        let s = shard();
        let mut out = Vec::new();
        assert_eq!(
            scan_shard(&s.dbs[0], 0, NOW, &ScanOpts::default(), &mut out),
            0
        );
        assert!(out.is_empty());
    }

    #[test]
    fn random_key_on_a_shard() {
        let mut s = shard();
        let mut rng = Rng::new(1);
        assert_eq!(random_key(&mut s.dbs[0], &mut rng, NOW), None);
        set(&mut s, "a", "1", 0);
        set(&mut s, "b", "1", 0);
        for _ in 0..20 {
            let k = random_key(&mut s.dbs[0], &mut rng, NOW).unwrap();
            assert!(k == b"a" || k == b"b");
        }
        let mut s = shard();
        set(&mut s, "gone", "1", NOW - 1);
        assert_eq!(random_key(&mut s.dbs[0], &mut rng, NOW), None);
    }

    // --- Effects (what the AOF logs) ---

    mod effects {
        use super::NOW;
        use crate::string::testkit::{assert_own_effects, assert_replays, effects_each, record};

        fn one(c: &str) -> Vec<String> {
            vec![c.to_string()]
        }

        #[test]
        fn expire_commands_become_pexpireat_with_the_absolute_time() {
            let script: &[&[&str]] = &[
                &["SET", "k", "v"],
                &["EXPIRE", "k", "100"],
                &["pexpire", "k", "200000", "gt"],
                &["EXPIREAT", "k", "1800000000", "XX"],
                &["PEXPIREAT", "k", "1800000000001"],
                &["EXPIRE", "k", "10", "NX"],
                &["EXPIRE", "missing", "10"],
                &["PERSIST", "k"],
                &["PERSIST", "k"],
            ];
            assert_eq!(
                effects_each(script),
                [
                    one("SET k v"),
                    one(&format!("PEXPIREAT k {}", NOW + 100_000)),
                    one(&format!("PEXPIREAT k {} gt", NOW + 200_000)),
                    one("PEXPIREAT k 1800000000000 XX"),
                    one("PEXPIREAT k 1800000000001"),
                    // Refused by NX, or no key: nothing logged.
                    vec![],
                    vec![],
                    one("PERSIST k"),
                    vec![],
                ]
            );
            assert_replays(script);
            assert_replays(&[&["SET", "k", "v"], &["PEXPIRE", "k", "100000"]]);
        }

        #[test]
        fn an_expire_time_in_the_past_is_a_del() {
            let script: &[&[&str]] = &[
                &["SET", "a", "1"],
                &["SET", "b", "1"],
                &["SET", "c", "1"],
                &["SET", "d", "1"],
                &["EXPIRE", "a", "-1"],
                &["PEXPIRE", "b", "0"],
                &["EXPIREAT", "c", "1"],
                &["PEXPIREAT", "d", "1700000000000"],
            ];
            let fx = effects_each(script);
            assert_eq!(
                fx[4..],
                [one("DEL a"), one("DEL b"), one("DEL c"), one("DEL d")]
            );
            assert_replays(script);
        }

        #[test]
        fn a_del_that_finds_a_key_expired_logs_its_expiry() {
            let script: &[&[&str]] = &[
                &["SET", "gone", "1", "PXAT", "1700000000000"],
                &["SET", "live", "1"],
                &["DEL", "gone"],
                &["SET", "gone", "1", "PXAT", "1700000000000"],
                &["UNLINK", "live", "gone", "missing"],
            ];
            assert_eq!(
                effects_each(script),
                [
                    one("SET gone 1 PXAT 1700000000000"),
                    one("SET live 1"),
                    one("DEL gone"),
                    one("SET gone 1 PXAT 1700000000000"),
                    vec![
                        "DEL gone".to_string(),
                        "UNLINK live gone missing".to_string()
                    ],
                ]
            );
            let (s, _) = record(NOW, script);
            assert_eq!(s.dbs[0].len(), 0);
            assert_eq!(s.dbs[0].expired, 2);
            assert_replays(script);
        }

        #[test]
        fn deterministic_key_writes_are_their_own_effect() {
            let script: &[&[&str]] = &[
                &["SET", "a", "1", "PXAT", "1800000000000"],
                &["SET", "b", "2"],
                &["RENAME", "a", "c"],
                &["RENAME", "c", "c"],
                &["RENAMENX", "c", "b"],
                &["COPY", "c", "d"],
                &["COPY", "c", "b", "REPLACE"],
                &["COPY", "c", "b"],
                &["TOUCH", "b", "c"],
                &["DEL", "d", "missing"],
                &["DEL", "missing"],
            ];
            // Each is its own effect, except the ones that changed nothing (not logged).
            assert_own_effects(script, &[3, 4, 7, 8, 10]);
        }
    }
}
