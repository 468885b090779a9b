//! Sets (t_set.c in Redis 7.2): the set value type and the set command family.
//!
//! A set is encoded as Redis 7.2 encodes it, and converts exactly where Redis converts, so
//! OBJECT ENCODING answers the same:
//!
//! * `intset`: every member is an integer and there are at most `set-max-intset-entries`
//!   (a sorted array of the narrowest integer width, [`intset`]);
//! * `listpack`: at most `set-max-listpack-entries` members of at most
//!   `set-max-listpack-value` bytes, in insertion order in one buffer ([`listpack`]);
//! * `hashtable`: anything larger (an open-addressing table over one arena, [`table`]).
//!
//! Conversions only go towards `hashtable`, except where Redis rebuilds a set (SINTERSTORE,
//! SUNIONSTORE, SDIFFSTORE and SPOP with a count build a new one, whose encoding follows from
//! the order they add members in, as in Redis).
//!
//! Multi-key commands are written for one database: the coordinator runs them on copies when
//! their keys live on several shards. They read each source set in turn (the database hands
//! out one entry at a time), copying the smallest set's members where Redis would iterate one
//! set while probing the others.

mod intset;
mod listpack;
mod table;

use crate::cmd::Cmd;
use crate::db::Db;
use crate::limits::Limits;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::rng::Rng;
use crate::scan::{parse_collection_scan, parse_cursor, ERR_INVALID_CURSOR};
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply, WrongType};
use crate::value::Value;
use intset::IntSet;
use listpack::Listpack;
use std::borrow::Cow;
use table::Table;

const ERR_NUMKEYS: &str = "ERR numkeys should be greater than 0";
const ERR_NUMKEYS_ARGS: &str = "ERR Number of keys can't be greater than number of args";
const ERR_LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
const ERR_POSITIVE: &str = "ERR value is out of range, must be positive";
/// SRANDMEMBER's count must lie in [-LONG_MAX, LONG_MAX] (Redis' getRangeLongFromObject).
const ERR_SRANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// SRANDMEMBER with a negative count larger than this is refused: Redis would build a reply
/// of that many elements (gigabytes) in memory. 2^26 elements is at least 470 MB of reply.
const MAX_REPEATED_SAMPLES: u64 = 1 << 26;
const ERR_TOO_MANY_SAMPLES: &str =
    "ERR value is out of range, the reply of that many random members would be too large";

/// SPOP builds a new set from the remaining members when it pops more than this many times
/// what stays (Redis' SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// SPOP with a count propagates its pops as SREMs of at most this many members each (as
/// Redis batches them).
const SPOP_PROPAGATE_BATCH: usize = 1024;
/// SRANDMEMBER copies the whole set and removes members when it asks for more than a third of
/// it (Redis' SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

// ---------------------------------------------------------------------------------------------
// The value type
// ---------------------------------------------------------------------------------------------

/// A set value in one of Redis 7.2's three encodings.
#[derive(Clone, Debug)]
pub enum SetValue {
    /// Sorted integers.
    Intset(IntSet),
    /// Small sets, insertion order.
    Listpack(Listpack),
    /// Everything else (boxed: sets sit inline in every key's entry).
    Hashtable(Box<Table>),
}

impl Default for SetValue {
    fn default() -> SetValue {
        SetValue::Intset(IntSet::default())
    }
}

/// Redis caps intsets at 2^30 members whatever `set-max-intset-entries` says.
fn intset_max(limits: &Limits) -> usize {
    limits.set_max_intset_entries.min(1 << 30)
}

/// The listpack entry limit (the count is stored in 32 bits).
fn listpack_max(limits: &Limits) -> usize {
    limits.set_max_listpack_entries.min(u32::MAX as usize)
}

/// Characters of `v` in decimal (Redis' sdigits10, the sign included).
fn digits10(v: i64) -> usize {
    itoa::Buffer::new().format(v).len()
}

impl SetValue {
    /// The set a new key starts as, before its first member is added: `first` is that member
    /// and `size_hint` how many members the command adds (Redis' setTypeCreate).
    pub fn create(first: &[u8], size_hint: usize, limits: &Limits) -> SetValue {
        if parse_i64(first).is_some() && size_hint <= limits.set_max_intset_entries {
            SetValue::Intset(IntSet::default())
        } else if size_hint <= limits.set_max_listpack_entries {
            SetValue::Listpack(Listpack::default())
        } else {
            SetValue::Hashtable(Box::new(Table::with_capacity(size_hint)))
        }
    }

    /// An empty `listpack` set (a snapshot stored the set as one): [`add`](Self::add) keeps
    /// it one while the members fit the limits.
    pub fn new_listpack() -> SetValue {
        SetValue::Listpack(Listpack::default())
    }

    /// An empty `hashtable` set with room for `capacity` members (Redis' RDB loader starts
    /// a set beyond `set-max-intset-entries` members as one).
    pub fn new_hashtable(capacity: usize) -> SetValue {
        SetValue::Hashtable(Box::new(Table::with_capacity(capacity)))
    }

    /// Converts to `hashtable` ahead of adding `size_hint` members that could not fit the
    /// current encoding (Redis' setTypeMaybeConvert; duplicates count, as in Redis).
    pub fn maybe_convert(&mut self, size_hint: usize, limits: &Limits) {
        let convert = match self {
            SetValue::Listpack(_) => size_hint > limits.set_max_listpack_entries,
            SetValue::Intset(_) => size_hint > limits.set_max_intset_entries,
            SetValue::Hashtable(_) => false,
        };
        if convert {
            self.convert_to_table(size_hint);
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SetValue::Intset(s) => s.len(),
            SetValue::Listpack(lp) => lp.len(),
            SetValue::Hashtable(t) => t.len(),
        }
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Intset(_) => "intset",
            SetValue::Listpack(_) => "listpack",
            SetValue::Hashtable(_) => "hashtable",
        }
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        match self {
            SetValue::Intset(s) => s.heap_size(),
            SetValue::Listpack(lp) => lp.heap_size(),
            SetValue::Hashtable(t) => t.heap_size(),
        }
    }

    /// Visits every member in the encoding's order (ascending for intsets, insertion order
    /// for listpacks, table order for hashtables). SORT reads sets through this.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            SetValue::Intset(s) => {
                let mut buf = itoa::Buffer::new();
                s.iter().for_each(|v| f(buf.format(v).as_bytes()));
            }
            SetValue::Listpack(lp) => lp.iter().for_each(f),
            SetValue::Hashtable(t) => t.iter().for_each(f),
        }
    }

    /// The members as owned byte strings, in [`for_each`](Self::for_each) order.
    pub fn members(&self) -> Vec<Vec<u8>> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|m| v.push(m.to_vec()));
        v
    }

    /// Whether `member` is a member.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Intset(s) => parse_i64(member).is_some_and(|v| s.contains(v)),
            SetValue::Listpack(lp) => lp.find(member).is_some(),
            SetValue::Hashtable(t) => t.contains(member),
        }
    }

    /// Adds `member`, converting the encoding exactly as Redis 7.2's setTypeAddAux does;
    /// true if it was new.
    pub fn add(&mut self, member: &[u8], limits: &Limits) -> bool {
        match self {
            SetValue::Hashtable(t) => t.insert(member),
            SetValue::Listpack(lp) => {
                if lp.find(member).is_some() {
                    return false;
                }
                if lp.len() < listpack_max(limits) && member.len() <= limits.set_max_listpack_value
                {
                    lp.push(member);
                } else {
                    let n = lp.len() + 1;
                    self.convert_to_table(n);
                    self.table_insert(member);
                }
                true
            }
            SetValue::Intset(s) => match parse_i64(member) {
                Some(v) => {
                    if !s.insert(v) {
                        return false;
                    }
                    if s.len() > intset_max(limits) {
                        let n = s.len();
                        self.convert_to_table(n);
                    }
                    true
                }
                None => {
                    // A listpack only if the integers, printed, would fit one too.
                    let n = s.len();
                    let longest = match (s.min(), s.max()) {
                        (Some(lo), Some(hi)) => digits10(lo).max(digits10(hi)),
                        _ => 0,
                    };
                    let value_max = limits.set_max_listpack_value;
                    if n < listpack_max(limits) && member.len() <= value_max && longest <= value_max
                    {
                        self.convert_to_listpack();
                        if let SetValue::Listpack(lp) = self {
                            lp.push(member);
                        }
                    } else {
                        self.convert_to_table(n + 1);
                        self.table_insert(member);
                    }
                    true
                }
            },
        }
    }

    fn table_insert(&mut self, member: &[u8]) {
        if let SetValue::Hashtable(t) = self {
            t.insert(member);
        }
    }

    /// Removes `member`; true if it was present. The caller deletes a set left empty.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Intset(s) => parse_i64(member).is_some_and(|v| s.remove(v)),
            SetValue::Listpack(lp) => lp.remove(member),
            SetValue::Hashtable(t) => t.remove(member),
        }
    }

    /// Converts to `hashtable`, presized for `cap` members.
    fn convert_to_table(&mut self, cap: usize) {
        let mut t = Table::with_capacity(cap.max(self.len()));
        self.for_each(|m| {
            t.insert(m);
        });
        *self = SetValue::Hashtable(Box::new(t));
    }

    /// Converts an intset to a listpack (its members in ascending order).
    fn convert_to_listpack(&mut self) {
        let mut lp = Listpack::with_capacity(0);
        self.for_each(|m| lp.push_amortized(m));
        lp.shrink_to_fit();
        *self = SetValue::Listpack(lp);
    }

    /// Converts to `intset` when the set is small enough; every member must be an integer
    /// (Redis' maybeConvertToIntset).
    fn maybe_convert_to_intset(&mut self, limits: &Limits) {
        if matches!(self, SetValue::Intset(_)) || self.len() > intset_max(limits) {
            return;
        }
        let mut s = IntSet::default();
        self.for_each(|m| {
            s.insert(parse_i64(m).expect("only integers"));
        });
        *self = SetValue::Intset(s);
    }

    /// Calls `f` with a uniformly random member (the set is not empty).
    fn with_random<R>(&self, rng: &mut Rng, f: impl FnOnce(&[u8]) -> R) -> R {
        let n = self.len() as u64;
        match self {
            SetValue::Intset(s) => f(itoa::Buffer::new()
                .format(s.get(rng.below(n) as usize))
                .as_bytes()),
            SetValue::Listpack(lp) => f(lp.member_at(lp.offset_of(rng.below(n) as usize))),
            SetValue::Hashtable(t) => f(t.random(rng)),
        }
    }

    /// Removes and returns a uniformly random member (the set is not empty).
    fn pop_random(&mut self, rng: &mut Rng) -> Vec<u8> {
        let n = self.len() as u64;
        match self {
            SetValue::Intset(s) => itoa::Buffer::new()
                .format(s.remove_at(rng.below(n) as usize))
                .as_bytes()
                .to_vec(),
            SetValue::Listpack(lp) => {
                let pos = lp.offset_of(rng.below(n) as usize);
                let m = lp.member_at(pos).to_vec();
                lp.remove_at(pos);
                m
            }
            SetValue::Hashtable(t) => t.pop_random(rng),
        }
    }
}

/// `k` distinct indexes of `0..n`, ascending, uniformly chosen (selection sampling, the way
/// Redis' lpNextRandom walks a listpack once).
fn sample_indexes(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let mut picked = Vec::with_capacity(k);
    let mut need = k;
    for i in 0..n {
        if need == 0 {
            break;
        }
        if rng.below((n - i) as u64) < need as u64 {
            picked.push(i);
            need -= 1;
        }
    }
    picked
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

fn as_set(v: &Value) -> Result<&SetValue, WrongType> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(WrongType),
    }
}

fn as_set_mut(v: &mut Value) -> Result<&mut SetValue, WrongType> {
    match v {
        Value::Set(s) => Ok(s),
        _ => Err(WrongType),
    }
}

/// The set at `key` for a reading command (counts a keyspace hit or miss).
pub fn lookup_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a SetValue>, WrongType> {
    db.get(key, now).map(|e| as_set(&e.value)).transpose()
}

/// The set at `key` for a writing command; modifying it in place keeps the key's TTL.
pub fn lookup_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut SetValue>, WrongType> {
    db.get_mut(key, now)
        .map(|e| as_set_mut(&mut e.value))
        .transpose()
}

/// A set already looked up by this command (no second hit/miss count).
fn peek_set<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Option<&'a SetValue> {
    match db.peek(key, now).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// Read lookups of every key in order: each set's size, None for a missing key; WRONGTYPE
/// if any key holds another type.
fn sizes_of(db: &mut Db, keys: &[&[u8]], now: u64) -> Result<Vec<Option<usize>>, WrongType> {
    keys.iter()
        .map(|k| Ok(lookup_read(db, k, now)?.map(SetValue::len)))
        .collect()
}

fn int_arg(arg: &[u8]) -> Result<i64, ErrReply> {
    parse_i64(arg).ok_or(Cow::Borrowed(err::NOT_INT))
}

fn reply_members(out: &mut Reply, s: &SetValue) {
    out.set(s.len());
    s.for_each(|m| out.bulk(m));
}

/// Stores `result` at `dst` (replacing any value and TTL) or deletes `dst` when it is empty,
/// and replies the result's size, as Redis' *STORE commands: the command's `event` for a
/// stored result, "del" for a deleted destination.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: SetValue, event: &'static str) {
    let n = result.len();
    if n > 0 {
        ctx.db.set(dst, Value::Set(Box::new(result)), 0, ctx.now);
        ctx.wrote(1);
        ctx.notify(notify::SET, event, dst);
    } else {
        ctx.delete_stored(dst);
    }
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------------------------
// Single-key commands
// ---------------------------------------------------------------------------------------------

/// SADD key member [member ...]
pub fn sadd(ctx: &mut Ctx, cmd: &Cmd) {
    let r = sadd_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn sadd_inner(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let key = &cmd[1];
    let hint = cmd.len() - 2;
    let limits = ctx.limits;
    let mut added = 0;
    match lookup_write(ctx.db, key, ctx.now)? {
        Some(s) => {
            s.maybe_convert(hint, limits);
            for m in cmd.args().skip(2) {
                added += s.add(m, limits) as i64;
            }
        }
        None => {
            let mut s = SetValue::create(&cmd[2], hint, limits);
            for m in cmd.args().skip(2) {
                added += s.add(m, limits) as i64;
            }
            ctx.db.set(key, Value::Set(Box::new(s)), 0, ctx.now);
        }
    }
    if added > 0 {
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.wrote(added as u64);
    ctx.out.int(added);
    Ok(())
}

/// SREM key member [member ...]
pub fn srem(ctx: &mut Ctx, cmd: &Cmd) {
    let r = srem_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn srem_inner(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let key = &cmd[1];
    let Some(s) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    let mut emptied = false;
    for m in cmd.args().skip(2) {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if removed > 0 {
        ctx.notify(notify::SET, "srem", key);
    }
    ctx.delete_if_emptied(key, emptied);
    ctx.wrote(removed as u64);
    ctx.out.int(removed);
    Ok(())
}

/// SISMEMBER key member
pub fn sismember(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lookup_read(ctx.db, &cmd[1], ctx.now)
        .map(|s| ctx.out.int(s.is_some_and(|s| s.contains(&cmd[2])) as i64))
        .map_err(ErrReply::from);
    reply_result(ctx.out, r);
}

/// SMISMEMBER key member [member ...]
pub fn smismember(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lookup_read(ctx.db, &cmd[1], ctx.now)
        .map(|s| {
            ctx.out.array(cmd.len() - 2);
            for m in cmd.args().skip(2) {
                ctx.out.int(s.is_some_and(|s| s.contains(m)) as i64);
            }
        })
        .map_err(ErrReply::from);
    reply_result(ctx.out, r);
}

/// SCARD key
pub fn scard(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lookup_read(ctx.db, &cmd[1], ctx.now)
        .map(|s| ctx.out.int(s.map_or(0, SetValue::len) as i64))
        .map_err(ErrReply::from);
    reply_result(ctx.out, r);
}

/// SMEMBERS key
pub fn smembers(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lookup_read(ctx.db, &cmd[1], ctx.now)
        .map(|s| match s {
            Some(s) => reply_members(ctx.out, s),
            None => ctx.out.set(0),
        })
        .map_err(ErrReply::from);
    reply_result(ctx.out, r);
}

/// SPOP key [count]
pub fn spop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = match cmd.len() {
        2 => spop_one(ctx, cmd),
        3 => spop_count(ctx, cmd),
        _ => Err(Cow::Borrowed(err::SYNTAX)),
    };
    reply_result(ctx.out, r);
}

fn spop_one(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let key = &cmd[1];
    let Some(s) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.null();
        return Ok(());
    };
    let m = s.pop_random(ctx.rng);
    let emptied = s.is_empty();
    ctx.out.bulk(&m);
    ctx.notify(notify::SET, "spop", key);
    ctx.delete_if_emptied(key, emptied);
    ctx.wrote(1);
    // The pick was random: what replays is the removal of that member.
    if ctx.propagating() {
        ctx.propagate([&b"SREM"[..], key, &m]);
    }
    Ok(())
}

fn spop_count(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let key = &cmd[1];
    // Redis answers the same error for a negative count and for no integer at all.
    let count = parse_i64(&cmd[2])
        .and_then(|c| usize::try_from(c).ok())
        .ok_or(Cow::Borrowed(ERR_POSITIVE))?;
    let limits = ctx.limits;
    let propagating = ctx.propagating();
    let Some(s) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    let size = s.len();
    if count >= size {
        // The whole set, as SUNION of it alone would reply it; then the key goes.
        let mut all = SetValue::default();
        s.for_each(|m| {
            all.add(m, limits);
        });
        reply_members(ctx.out, &all);
        ctx.notify(notify::SET, "spop", key);
        ctx.delete_if_emptied(key, true);
        ctx.wrote(size as u64);
        // Redis propagates DEL (UNLINK with lazyfree-lazy-server-del, which we lack).
        if propagating {
            ctx.propagate([&b"DEL"[..], key]);
        }
        return Ok(());
    }
    *ctx.dirty += count as u64;
    let mut removed: Vec<Vec<u8>> = Vec::new();
    let out = &mut *ctx.out;
    out.set(count);
    pop_some(s, count, ctx.rng, limits, |m| {
        out.bulk(m);
        if propagating {
            removed.push(m.to_vec());
        }
    });
    ctx.notify(notify::SET, "spop", key);
    // The picks were random: what replays is the removal of those members.
    for batch in removed.chunks(SPOP_PROPAGATE_BATCH) {
        let mut args: Vec<&[u8]> = Vec::with_capacity(2 + batch.len());
        args.extend([&b"SREM"[..], key]);
        args.extend(batch.iter().map(Vec::as_slice));
        ctx.propagate(args);
    }
    Ok(())
}

/// Pops `count` random members of `s`, fewer than it has, passing each to `popped`.
fn pop_some(
    s: &mut SetValue,
    count: usize,
    rng: &mut Rng,
    limits: &Limits,
    mut popped: impl FnMut(&[u8]),
) {
    let size = s.len();
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Pop `count` random members.
        if let SetValue::Listpack(lp) = s {
            let picked = sample_indexes(rng, size, count);
            let mut next = picked.iter().peekable();
            for (i, m) in lp.iter().enumerate() {
                if next.peek() == Some(&&i) {
                    next.next();
                    popped(m);
                }
            }
            lp.remove_indexes(&picked);
        } else {
            for _ in 0..count {
                let m = s.pop_random(rng);
                popped(&m);
            }
        }
        return;
    }
    // Pop nearly everything: move the `remaining` survivors to a new set, reply the rest.
    let newset = match s {
        SetValue::Listpack(lp) => {
            let picked = sample_indexes(rng, size, remaining);
            let mut newset = SetValue::Listpack(Listpack::default());
            let mut next = picked.iter().peekable();
            for (i, m) in lp.iter().enumerate() {
                if next.peek() == Some(&&i) {
                    next.next();
                    newset.add(m, limits);
                }
            }
            lp.remove_indexes(&picked);
            newset
        }
        _ => {
            // Redis starts an intset for an intset, a listpack for a hashtable (whose members
            // come as strings), and adds the survivors as it draws them.
            let mut newset = match s {
                SetValue::Intset(_) => SetValue::Intset(IntSet::default()),
                _ => SetValue::Listpack(Listpack::default()),
            };
            for _ in 0..remaining {
                let m = s.pop_random(rng);
                newset.add(&m, limits);
            }
            newset
        }
    };
    s.for_each(popped);
    *s = newset;
}

/// SRANDMEMBER key [count]
pub fn srandmember(ctx: &mut Ctx, cmd: &Cmd) {
    let r = match cmd.len() {
        2 => srandmember_one(ctx, cmd),
        3 => srandmember_count(ctx, cmd),
        _ => Err(Cow::Borrowed(err::SYNTAX)),
    };
    reply_result(ctx.out, r);
}

fn srandmember_one(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    match lookup_read(ctx.db, &cmd[1], ctx.now)? {
        Some(s) => {
            let out = &mut *ctx.out;
            s.with_random(ctx.rng, |m| out.bulk(m));
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn srandmember_count(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let l = int_arg(&cmd[2])?;
    if l == i64::MIN {
        return Err(Cow::Borrowed(ERR_SRANDMEMBER_RANGE));
    }
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    let Some(s) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let size = s.len();
    let (out, rng) = (&mut *ctx.out, &mut *ctx.rng);
    if !uniq || count == 1 {
        // Independent draws: members may repeat.
        if count > MAX_REPEATED_SAMPLES {
            return Err(Cow::Borrowed(ERR_TOO_MANY_SAMPLES));
        }
        out.array(count as usize);
        for _ in 0..count {
            s.with_random(rng, |m| out.bulk(m));
        }
        return Ok(());
    }
    if count >= size as u64 {
        reply_array_of(out, s);
        return Ok(());
    }
    let count = count as usize;
    out.array(count);
    match s {
        SetValue::Listpack(lp) => {
            // One ordered pass, as Redis samples listpacks.
            let picked = sample_indexes(rng, size, count);
            let mut next = picked.iter().peekable();
            for (i, m) in lp.iter().enumerate() {
                if next.peek() == Some(&&i) {
                    next.next();
                    out.bulk(m);
                }
            }
        }
        _ if count * SRANDMEMBER_SUB_STRATEGY_MUL > size => {
            // Most of the set: copy it and drop random members.
            let mut all = s.members();
            while all.len() > count {
                let i = rng.below(all.len() as u64) as usize;
                all.swap_remove(i);
            }
            all.iter().for_each(|m| out.bulk(m));
        }
        _ => {
            // A small sample of a big set: draw until `count` distinct members.
            let mut picked = Table::with_capacity(count);
            while picked.len() < count {
                s.with_random(rng, |m| picked.insert(m));
            }
            picked.iter().for_each(|m| out.bulk(m));
        }
    }
    Ok(())
}

fn reply_array_of(out: &mut Reply, s: &SetValue) {
    out.array(s.len());
    s.for_each(|m| out.bulk(m));
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
pub fn sscan(ctx: &mut Ctx, cmd: &Cmd) {
    let r = sscan_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn sscan_inner(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    // Redis checks the cursor, then the key, and only then the options.
    if parse_cursor(&cmd[2]).is_none() {
        return Err(Cow::Borrowed(ERR_INVALID_CURSOR));
    }
    let Some(s) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let (mut cursor, opts) = parse_collection_scan(cmd).map_err(Cow::Borrowed)?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    match s {
        SetValue::Hashtable(t) => {
            // Visit home slots until `count` members were collected, or 10 x count slots.
            let mut budget = opts.count.saturating_mul(10);
            loop {
                cursor = t.scan_step(cursor, |m| found.push(m.to_vec()));
                budget -= 1;
                if cursor == 0 || budget == 0 || found.len() >= opts.count {
                    break;
                }
            }
        }
        // Small encodings are returned whole, whatever the cursor.
        _ => {
            cursor = 0;
            found = s.members();
        }
    }
    found.retain(|m| opts.matches(m));
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    ctx.out.array(found.len());
    found.iter().for_each(|m| ctx.out.bulk(m));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Multi-key commands
// ---------------------------------------------------------------------------------------------

/// SMOVE source destination member
pub fn smove(ctx: &mut Ctx, cmd: &Cmd) {
    let r = smove_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn smove_inner(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let (src, dst, member) = (&cmd[1], &cmd[2], &cmd[3]);
    let now = ctx.now;
    let limits = ctx.limits;
    let dst_exists = lookup_write(ctx.db, dst, now).map(|d| d.is_some());
    let Some(s) = lookup_write(ctx.db, src, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let dst_exists = dst_exists?;
    if src == dst {
        let is_member = s.contains(member);
        ctx.out.int(is_member as i64);
        return Ok(());
    }
    if !s.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    let emptied = s.is_empty();
    ctx.notify(notify::SET, "srem", src);
    ctx.delete_if_emptied(src, emptied);
    ctx.wrote(1);
    let added = if dst_exists {
        let d = lookup_write(ctx.db, dst, now)?.expect("checked above");
        d.add(member, limits)
    } else {
        let mut d = SetValue::create(member, 1, limits);
        d.add(member, limits);
        ctx.db.set(dst, Value::Set(Box::new(d)), 0, now);
        true
    };
    if added {
        ctx.wrote(1);
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

/// SINTER key [key ...]
pub fn sinter(ctx: &mut Ctx, cmd: &Cmd) {
    let keys: Vec<&[u8]> = cmd.args().skip(1).collect();
    let r = sinter_generic(ctx, &keys, Inter::Reply);
    reply_result(ctx.out, r);
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(ctx: &mut Ctx, cmd: &Cmd) {
    let keys: Vec<&[u8]> = cmd.args().skip(2).collect();
    let r = sinter_generic(ctx, &keys, Inter::Store(&cmd[1]));
    reply_result(ctx.out, r);
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx, cmd: &Cmd) {
    let r = sintercard_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn sintercard_inner(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    // Not an integer and not positive are the same error, as in Redis.
    let numkeys = parse_i64(&cmd[1])
        .filter(|&n| n >= 1)
        .ok_or(Cow::Borrowed(ERR_NUMKEYS))?;
    if numkeys > (cmd.len() - 2) as i64 {
        return Err(Cow::Borrowed(ERR_NUMKEYS_ARGS));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < cmd.len() {
        if cmd[j].eq_ignore_ascii_case(b"LIMIT") && j + 1 < cmd.len() {
            j += 1;
            limit = parse_i64(&cmd[j])
                .and_then(|l| usize::try_from(l).ok())
                .ok_or(Cow::Borrowed(ERR_LIMIT_NEGATIVE))?;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        j += 1;
    }
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| &cmd[i]).collect();
    sinter_generic(ctx, &keys, Inter::Card(limit))
}

/// What an intersection does with its result.
#[derive(Clone, Copy)]
enum Inter<'a> {
    Reply,
    Store(&'a [u8]),
    /// SINTERCARD: the size only, at most the limit (0 = none).
    Card(usize),
}

fn sinter_generic(ctx: &mut Ctx, keys: &[&[u8]], mode: Inter) -> Result<(), ErrReply> {
    let now = ctx.now;
    let sizes = sizes_of(ctx.db, keys, now)?;
    if sizes.iter().any(Option::is_none) {
        // An intersection with an empty set is empty.
        match mode {
            Inter::Reply => ctx.out.set(0),
            Inter::Card(_) => ctx.out.int(0),
            Inter::Store(dst) => store_result(ctx, dst, SetValue::default(), "sinterstore"),
        }
        return Ok(());
    }
    // Smallest set first (a stable sort, as glibc's qsort is for these small arrays).
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let first = keys[order[0]];
    let first_set = peek_set(ctx.db, first, now).expect("looked up above");
    let first_is_intset = matches!(first_set, SetValue::Intset(_));
    let mut members = first_set.members();
    for &j in &order[1..] {
        if keys[j] == first {
            continue;
        }
        let s = peek_set(ctx.db, keys[j], now).expect("looked up above");
        members.retain(|m| s.contains(m));
        if members.is_empty() {
            break;
        }
    }
    match mode {
        Inter::Reply => {
            ctx.out.set(members.len());
            members.iter().for_each(|m| ctx.out.bulk(m));
        }
        Inter::Card(limit) => {
            let n = if limit > 0 {
                members.len().min(limit)
            } else {
                members.len()
            };
            ctx.out.int(n as i64);
        }
        Inter::Store(dst) => {
            // Redis starts from an intset when the smallest set is one, a listpack otherwise,
            // and turns an all-integer result into an intset at the end.
            let limits = ctx.limits;
            let mut result = if first_is_intset {
                SetValue::Intset(IntSet::default())
            } else {
                SetValue::Listpack(Listpack::default())
            };
            let mut only_integers = true;
            for m in &members {
                only_integers &= parse_i64(m).is_some();
                result.add(m, limits);
            }
            if only_integers && !result.is_empty() {
                result.maybe_convert_to_intset(limits);
            }
            store_result(ctx, dst, result, "sinterstore");
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION key [key ...]
pub fn sunion(ctx: &mut Ctx, cmd: &Cmd) {
    let keys: Vec<&[u8]> = cmd.args().skip(1).collect();
    let r = sunion_diff_generic(ctx, &keys, None, SetOp::Union);
    reply_result(ctx.out, r);
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(ctx: &mut Ctx, cmd: &Cmd) {
    let keys: Vec<&[u8]> = cmd.args().skip(2).collect();
    let r = sunion_diff_generic(ctx, &keys, Some(&cmd[1]), SetOp::Union);
    reply_result(ctx.out, r);
}

/// SDIFF key [key ...]
pub fn sdiff(ctx: &mut Ctx, cmd: &Cmd) {
    let keys: Vec<&[u8]> = cmd.args().skip(1).collect();
    let r = sunion_diff_generic(ctx, &keys, None, SetOp::Diff);
    reply_result(ctx.out, r);
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(ctx: &mut Ctx, cmd: &Cmd) {
    let keys: Vec<&[u8]> = cmd.args().skip(2).collect();
    let r = sunion_diff_generic(ctx, &keys, Some(&cmd[1]), SetOp::Diff);
    reply_result(ctx.out, r);
}

fn sunion_diff_generic(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    op: SetOp,
) -> Result<(), ErrReply> {
    let now = ctx.now;
    let limits = ctx.limits;
    let sizes = sizes_of(ctx.db, keys, now)?;
    let first_exists = sizes[0].is_some();
    let sameset = first_exists && keys[1..].iter().any(|k| *k == keys[0]);
    // Redis adds every result member to a new set that starts as an intset: the order of
    // additions decides the result's encoding.
    let mut result = SetValue::default();
    match op {
        SetOp::Union => {
            for (k, size) in keys.iter().zip(&sizes) {
                if size.is_some() {
                    let s = peek_set(ctx.db, k, now).expect("looked up above");
                    s.for_each(|m| {
                        result.add(m, limits);
                    });
                }
            }
        }
        SetOp::Diff if !first_exists || sameset => {}
        SetOp::Diff => {
            // Redis' choice between its two algorithms, which add different members.
            let size0 = sizes[0].unwrap_or(0) as u64;
            let present = sizes.iter().flatten();
            let algo_one = present.clone().count() as u64 * size0 / 2;
            let algo_two: u64 = present.map(|&n| n as u64).sum();
            if algo_one <= algo_two {
                // Members of the first set found in no other.
                let mut members = peek_set(ctx.db, keys[0], now)
                    .expect("looked up above")
                    .members();
                for (k, size) in keys.iter().zip(&sizes).skip(1) {
                    if size.is_some() {
                        let s = peek_set(ctx.db, k, now).expect("looked up above");
                        members.retain(|m| !s.contains(m));
                    }
                }
                for m in &members {
                    result.add(m, limits);
                }
            } else {
                // The whole first set, minus every member of the others.
                for (j, (k, size)) in keys.iter().zip(&sizes).enumerate() {
                    if size.is_none() {
                        continue;
                    }
                    let s = peek_set(ctx.db, k, now).expect("looked up above");
                    if j == 0 {
                        s.for_each(|m| {
                            result.add(m, limits);
                        });
                    } else {
                        s.for_each(|m| {
                            result.remove(m);
                        });
                    }
                    if result.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    match dst {
        None => reply_members(ctx.out, &result),
        Some(dst) => {
            let event = match op {
                SetOp::Union => "sunionstore",
                SetOp::Diff => "sdiffstore",
            };
            store_result(ctx, dst, result, event)
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(intset: usize, lp_entries: usize, lp_value: usize) -> Limits {
        Limits {
            set_max_intset_entries: intset,
            set_max_listpack_entries: lp_entries,
            set_max_listpack_value: lp_value,
            ..Limits::default()
        }
    }

    fn build(members: &[&str], l: &Limits) -> SetValue {
        let mut s = SetValue::create(members[0].as_bytes(), members.len(), l);
        for m in members {
            s.add(m.as_bytes(), l);
        }
        s
    }

    #[test]
    fn small_value_type() {
        // Sets sit inline in every key's entry: no bigger than the other value types.
        assert!(std::mem::size_of::<SetValue>() <= 32);
        assert!(std::mem::size_of::<Value>() <= 32);
    }

    #[test]
    fn encodings_follow_redis_thresholds() {
        let l = limits(4, 3, 5);
        assert_eq!(build(&["1", "2", "3", "4"], &l).encoding(), "intset");
        // An intset outgrowing its limit becomes a hashtable, not a listpack.
        let mut s = build(&["1"], &l);
        for m in ["2", "3", "4", "5"] {
            s.add(m.as_bytes(), &l);
        }
        assert_eq!(s.encoding(), "hashtable");
        // A string into a small intset: listpack, the integers first.
        let mut s = build(&["7", "-3"], &l);
        s.add(b"a", &l);
        assert_eq!(s.encoding(), "listpack");
        assert_eq!(
            s.members(),
            vec![b"-3".to_vec(), b"7".to_vec(), b"a".to_vec()]
        );
        // ...unless the integers are too long to fit the listpack value limit.
        let mut s = build(&["123456"], &l);
        s.add(b"a", &l);
        assert_eq!(s.encoding(), "hashtable");
        // A listpack past its entry or value limits.
        let mut s = build(&["a", "b", "c"], &l);
        assert_eq!(s.encoding(), "listpack");
        s.add(b"d", &l);
        assert_eq!(s.encoding(), "hashtable");
        let mut s = build(&["a"], &l);
        s.add(b"toolong", &l);
        assert_eq!(s.encoding(), "hashtable");
        // Many members at once go straight to a hashtable (duplicates count).
        assert_eq!(SetValue::create(b"1", 5, &l).encoding(), "hashtable");
        let mut s = build(&["a"], &l);
        s.maybe_convert(4, &l);
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn members_and_membership_across_encodings() {
        let l = Limits::default();
        for members in [
            vec!["1", "2", "-5"],
            vec!["a", "1", ""],
            (0..300)
                .map(|i| format!("m{i}"))
                .collect::<Vec<_>>()
                .iter()
                .map(|s| &**s)
                .collect(),
        ] {
            let s = build(&members, &l);
            for m in &members {
                assert!(s.contains(m.as_bytes()));
            }
            assert!(!s.contains(b"absent") && !s.contains(b"01"));
            let mut sorted: Vec<Vec<u8>> = s.members();
            sorted.sort();
            let mut expected: Vec<Vec<u8>> =
                members.iter().map(|m| m.as_bytes().to_vec()).collect();
            expected.sort();
            expected.dedup();
            assert_eq!(sorted, expected);
        }
    }

    #[test]
    fn back_to_intset_when_all_integers() {
        let l = Limits::default();
        let mut s = build(&["a", "1", "2"], &l);
        s.remove(b"a");
        assert_eq!(s.encoding(), "listpack");
        s.maybe_convert_to_intset(&l);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.members(), vec![b"1".to_vec(), b"2".to_vec()]);
    }

    #[test]
    fn random_members_and_pops() {
        let l = Limits::default();
        let mut rng = Rng::new(1);
        for members in [vec!["1", "2", "3"], vec!["a", "b", "c"]] {
            let mut s = build(&members, &l);
            for _ in 0..20 {
                s.with_random(&mut rng, |m| {
                    assert!(members.contains(&std::str::from_utf8(m).unwrap()))
                });
            }
            let mut popped: Vec<Vec<u8>> = (0..3).map(|_| s.pop_random(&mut rng)).collect();
            popped.sort();
            assert_eq!(
                popped,
                members
                    .iter()
                    .map(|m| m.as_bytes().to_vec())
                    .collect::<Vec<_>>()
            );
            assert!(s.is_empty());
        }
    }

    #[test]
    fn sampling_picks_distinct_ascending_indexes() {
        let mut rng = Rng::new(3);
        for (n, k) in [(10, 0), (10, 10), (100, 7), (5, 4)] {
            let p = sample_indexes(&mut rng, n, k);
            assert_eq!(p.len(), k);
            assert!(p.windows(2).all(|w| w[0] < w[1]) && p.iter().all(|&i| i < n));
        }
    }

    mod effects {
        use crate::effects::testing::{recording_shard, replay};
        use crate::Shard;

        fn run(shard: &mut Shard, args: &[&str]) -> Vec<String> {
            crate::effects::testing::unwrapped(crate::effects::testing::run(shard, args))
        }

        fn digest(s: &Shard) -> crate::digest::Digest {
            crate::digest::db_digest(&s.dbs[0], 1000)
        }

        fn sadd(s: &mut Shard, key: &str, members: impl Iterator<Item = String>) -> Vec<String> {
            let mut args = vec!["SADD".to_string(), key.to_string()];
            args.extend(members);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(s, &args)
        }

        /// The members an `SREM key ...` effect removes.
        fn srem_members<'a>(fx: &'a str, key: &str) -> Vec<&'a str> {
            let mut words = fx.split(' ');
            assert_eq!(words.next(), Some("SREM"));
            assert_eq!(words.next(), Some(key));
            words.collect()
        }

        #[test]
        fn spop_propagates_the_members_it_removed() {
            let mut s = recording_shard();
            let mut all = Vec::new();
            // An intset, a listpack and a hashtable.
            all.extend(sadd(&mut s, "i", (0..20).map(|i| i.to_string())));
            all.extend(sadd(&mut s, "l", (0..20).map(|i| format!("m{i}"))));
            all.extend(sadd(&mut s, "h", (0..300).map(|i| format!("m{i}"))));
            for key in ["i", "l", "h"] {
                let fx = run(&mut s, &["SPOP", key]);
                assert_eq!(fx.len(), 1);
                assert_eq!(srem_members(&fx[0], key).len(), 1);
                all.extend(fx);
                // A few (Redis' "pop random members" case), then most of what is left
                // (its "keep the survivors" case).
                for count in ["3", "14"] {
                    let fx = run(&mut s, &["SPOP", key, count]);
                    assert_eq!(fx.len(), 1, "{key} {count}");
                    assert_eq!(srem_members(&fx[0], key).len(), count.parse().unwrap());
                    all.extend(fx);
                }
            }
            // Popping what is left (or more) deletes the key.
            assert_eq!(run(&mut s, &["SPOP", "i", "2"]), ["DEL i"]);
            all.push("DEL i".into());
            assert!(run(&mut s, &["SPOP", "i", "2"]).is_empty());
            assert!(run(&mut s, &["SPOP", "l", "0"]).is_empty());
            assert_eq!(digest(&replay(9_000_000, &all)), digest(&s));
        }

        #[test]
        fn spop_batches_its_srems() {
            let mut s = recording_shard();
            let mut all = sadd(&mut s, "h", (0..3000).map(|i| format!("m{i}")));
            // Redis' "pop random members" case, then its "keep the survivors" one.
            for count in ["1100", "1800"] {
                let fx = run(&mut s, &["SPOP", "h", count]);
                let sizes: Vec<usize> = fx.iter().map(|c| srem_members(c, "h").len()).collect();
                let want: &[usize] = if count == "1100" {
                    &[1024, 76]
                } else {
                    &[1024, 776]
                };
                assert_eq!(sizes, want);
                all.extend(fx);
            }
            assert_eq!(digest(&replay(9_000_000, &all)), digest(&s));
        }
    }
}
