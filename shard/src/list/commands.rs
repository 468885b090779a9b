//! The list commands (t_list.c): replies, errors and the order arguments are checked in are
//! Redis 7.2's.
//!
//! LMOVE, RPOPLPUSH and LMPOP are written for one database: when their keys span shards the
//! coordinator gathers the keys into one and runs them there. The blocking commands (BLPOP,
//! BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) serve the client when a key has data and write no reply
//! at all when every key is empty; the server then blocks the client.
//!
//! Effects, as Redis 7.2 propagates them: a blocking form records its non-blocking
//! equivalent, which never blocks on replay (BLPOP as `LPOP key`, BLMOVE as `LMOVE`,
//! BRPOPLPUSH as `RPOPLPUSH`), and LMPOP / BLMPOP record `LPOP|RPOP key n`: the key served
//! and the number of elements popped from it.

use super::listpack::{Owned, Pattern};
use super::ListValue;
use crate::blocking::parse_timeout;
use crate::cmd::Cmd;
use crate::db::Db;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::err;
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply, WrongType};
use crate::value::Value;
use std::borrow::Cow;
use std::ops::Range;

const ERR_INDEX_RANGE: &str = "ERR index out of range";
const ERR_MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const ERR_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                             the second ... or use negative to start from the end of the list";
const ERR_RANK_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const ERR_COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const ERR_MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
const ERR_NUMKEYS: &str = "ERR numkeys should be greater than 0";
const ERR_COUNT_ZERO: &str = "ERR count should be greater than 0";

// ---------------------------------------------------------------------------------------------
// Lookups and argument parsing

fn as_list(v: &mut Value) -> Result<&mut ListValue, WrongType> {
    match v {
        Value::List(l) => Ok(l),
        _ => Err(WrongType),
    }
}

/// The list at `key` for a reading command (counts a keyspace hit or miss).
fn lookup_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut ListValue>, WrongType> {
    db.get(key, now).map(|e| as_list(&mut e.value)).transpose()
}

/// The list at `key` for a writing command; changing it in place keeps the key's TTL.
fn lookup_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut ListValue>, WrongType> {
    db.get_mut(key, now)
        .map(|e| as_list(&mut e.value))
        .transpose()
}

fn fill(ctx: &Ctx) -> i64 {
    ctx.limits.list_max_listpack_size
}

fn int_arg(arg: &[u8]) -> Result<i64, ErrReply> {
    parse_i64(arg).ok_or(Cow::Borrowed(err::NOT_INT))
}

/// Redis' `getPositiveLongFromObjectOrReply`: `msg` for anything but an integer >= 0.
fn positive_arg(arg: &[u8], msg: &'static str) -> Result<u64, ErrReply> {
    parse_i64(arg)
        .filter(|&v| v >= 0)
        .map(|v| v as u64)
        .ok_or(Cow::Borrowed(msg))
}

/// LEFT or RIGHT: true for the head.
fn end_arg(arg: &[u8]) -> Result<bool, ErrReply> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(Cow::Borrowed(err::SYNTAX))
    }
}

fn timeout_arg(arg: &[u8], now: u64) -> Result<u64, ErrReply> {
    parse_timeout(arg, now).map_err(Cow::Borrowed)
}

/// The event of a push to one end.
fn push_event(front: bool) -> &'static str {
    if front {
        "lpush"
    } else {
        "rpush"
    }
}

/// Redis' `listElementsRemoved` once `count` elements were popped from one end of `key`:
/// the pop event, then the key's deletion when [`ListValue::settle`] found the list empty.
fn popped(ctx: &mut Ctx, key: &[u8], front: bool, emptied: bool, count: usize) {
    ctx.notify(notify::LIST, if front { "lpop" } else { "rpop" }, key);
    ctx.delete_if_emptied(key, emptied);
    ctx.wrote(count as u64);
}

/// The pop command of one end, as the blocking and multi-key pops are propagated.
fn pop_command(front: bool) -> &'static [u8] {
    if front {
        b"LPOP"
    } else {
        b"RPOP"
    }
}

// ---------------------------------------------------------------------------------------------
// Pushes

/// LPUSH key element [element ...]
pub fn lpush(ctx: &mut Ctx, cmd: &Cmd) {
    let r = push(ctx, cmd, true, false);
    reply_result(ctx.out, r);
}

/// RPUSH key element [element ...]
pub fn rpush(ctx: &mut Ctx, cmd: &Cmd) {
    let r = push(ctx, cmd, false, false);
    reply_result(ctx.out, r);
}

/// LPUSHX key element [element ...]
pub fn lpushx(ctx: &mut Ctx, cmd: &Cmd) {
    let r = push(ctx, cmd, true, true);
    reply_result(ctx.out, r);
}

/// RPUSHX key element [element ...]
pub fn rpushx(ctx: &mut Ctx, cmd: &Cmd) {
    let r = push(ctx, cmd, false, true);
    reply_result(ctx.out, r);
}

fn push(ctx: &mut Ctx, cmd: &Cmd, front: bool, only_existing: bool) -> Result<(), ErrReply> {
    let key = &cmd[1];
    let fill = fill(ctx);
    let n = cmd.len() - 2;
    let bytes: usize = cmd.args().skip(2).map(<[u8]>::len).sum();
    let add = |list: &mut ListValue| {
        list.grow(bytes, n, fill);
        for v in cmd.args().skip(2) {
            list.push(v, front);
        }
        list.len()
    };
    let len = match lookup_write(ctx.db, key, ctx.now)? {
        Some(list) => add(list),
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut list = ListValue::default();
            let len = add(&mut list);
            ctx.db.set(key, Value::List(Box::new(list)), 0, ctx.now);
            len
        }
    };
    ctx.wrote(n as u64);
    ctx.notify(notify::LIST, push_event(front), key);
    ctx.out.int(len as i64);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
pub fn linsert(ctx: &mut Ctx, cmd: &Cmd) {
    let r = linsert_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn linsert_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let after = if cmd[2].eq_ignore_ascii_case(b"after") {
        true
    } else if cmd[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(Cow::Borrowed(err::SYNTAX));
    };
    let fill = fill(ctx);
    let Some(list) = lookup_write(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    // As Redis: the listpack converts before the pivot is searched (even if it is absent).
    list.grow(cmd[4].len(), 1, fill);
    if list.insert_at(&Pattern::new(&cmd[3]), &cmd[4], after) {
        ctx.out.int(list.len() as i64);
        ctx.wrote(1);
        ctx.notify(notify::LIST, "linsert", &cmd[1]);
    } else {
        ctx.out.int(-1);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads

/// LLEN key
pub fn llen(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(list) => ctx.out.int(list.map_or(0, |l| l.len() as i64)),
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
    }
}

/// LINDEX key index
pub fn lindex(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lindex_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn lindex_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let Some(list) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.null();
        return Ok(());
    };
    let index = int_arg(&cmd[2])?;
    match list.get(index) {
        Some(e) => e.reply(ctx.out),
        None => ctx.out.null(),
    }
    Ok(())
}

/// LRANGE key start stop
pub fn lrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lrange_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn lrange_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let start = int_arg(&cmd[2])?;
    let end = int_arg(&cmd[3])?;
    match lookup_read(ctx.db, &cmd[1], ctx.now)? {
        Some(list) => list.reply_range(ctx.out, start, end),
        None => ctx.out.array(0),
    }
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub fn lpos(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lpos_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn lpos_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut j = 3;
    while j < cmd.len() {
        let opt = &cmd[j];
        let more = j + 1 < cmd.len();
        if opt.eq_ignore_ascii_case(b"RANK") && more {
            j += 1;
            rank = int_arg(&cmd[j])?;
            // The rank is negated for a search from the tail: LONG_MIN has no negation.
            if rank == i64::MIN {
                return Err(Cow::Borrowed(ERR_RANK_RANGE));
            }
            if rank == 0 {
                return Err(Cow::Borrowed(ERR_RANK_ZERO));
            }
        } else if opt.eq_ignore_ascii_case(b"COUNT") && more {
            j += 1;
            count = Some(positive_arg(&cmd[j], ERR_COUNT_NEGATIVE)?);
        } else if opt.eq_ignore_ascii_case(b"MAXLEN") && more {
            j += 1;
            maxlen = positive_arg(&cmd[j], ERR_MAXLEN_NEGATIVE)?;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        j += 1;
    }
    let Some(list) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let pat = Pattern::new(&cmd[2]);
    let found = list.positions(
        &pat,
        rank.unsigned_abs(),
        count.unwrap_or(1),
        maxlen,
        rank < 0,
    );
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            found.iter().for_each(|&i| ctx.out.int(i));
        }
        None => match found.first() {
            Some(&i) => ctx.out.int(i),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Changes in place

/// LSET key index element
pub fn lset(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lset_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn lset_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let fill = fill(ctx);
    let Some(list) = lookup_write(ctx.db, &cmd[1], ctx.now)? else {
        return Err(Cow::Borrowed(err::NO_SUCH_KEY));
    };
    let index = int_arg(&cmd[2])?;
    list.grow(cmd[3].len(), 1, fill);
    // Redis 7.2 passes the index on as a C `int` (listTypeReplaceAtIndex): only its low 32
    // bits count.
    let index = index as i32 as i64;
    if !list.replace(index, &cmd[3]) {
        return Err(Cow::Borrowed(ERR_INDEX_RANGE));
    }
    list.listpack_if_fits(fill, true);
    ctx.out.ok();
    ctx.wrote(1);
    ctx.notify(notify::LIST, "lset", &cmd[1]);
    Ok(())
}

/// LTRIM key start stop
pub fn ltrim(ctx: &mut Ctx, cmd: &Cmd) {
    let r = ltrim_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn ltrim_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let start = int_arg(&cmd[2])?;
    let end = int_arg(&cmd[3])?;
    let key = &cmd[1];
    let fill = fill(ctx);
    let Some(list) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = list.len() as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    let (ltrim, rtrim) = if start > end || start >= len {
        (len, 0)
    } else {
        (start, len - end.min(len - 1) - 1)
    };
    list.remove_range(0, ltrim as usize);
    let left = list.len();
    list.remove_range(left - rtrim as usize, rtrim as usize);
    let emptied = list.settle(fill);
    // As Redis: "ltrim" even when nothing was trimmed.
    ctx.notify(notify::LIST, "ltrim", key);
    ctx.delete_if_emptied(key, emptied);
    ctx.wrote((ltrim + rtrim) as u64);
    ctx.out.ok();
    Ok(())
}

/// LREM key count element
pub fn lrem(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lrem_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn lrem_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let count = int_arg(&cmd[2])?;
    let key = &cmd[1];
    let fill = fill(ctx);
    let Some(list) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = list.remove_matching(&Pattern::new(&cmd[3]), count);
    if removed > 0 {
        let emptied = list.settle(fill);
        ctx.notify(notify::LIST, "lrem", key);
        ctx.delete_if_emptied(key, emptied);
        ctx.wrote(removed as u64);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pops

/// LPOP key [count]
pub fn lpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = pop(ctx, cmd, true);
    reply_result(ctx.out, r);
}

/// RPOP key [count]
pub fn rpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = pop(ctx, cmd, false);
    reply_result(ctx.out, r);
}

fn pop(ctx: &mut Ctx, cmd: &Cmd, front: bool) -> Result<(), ErrReply> {
    if cmd.len() > 3 {
        return Err(Cow::Owned(err::arity(&cmd[0])));
    }
    let count = match cmd.len() {
        3 => Some(positive_arg(&cmd[2], ERR_MUST_BE_POSITIVE)?),
        _ => None,
    };
    let key = &cmd[1];
    let fill = fill(ctx);
    let Some(list) = lookup_write(ctx.db, key, ctx.now)? else {
        match count {
            Some(_) => ctx.out.null_array(),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let n_popped = match count {
        Some(0) => {
            ctx.out.array(0);
            return Ok(());
        }
        None => {
            let v = list.pop(front).expect("stored lists are not empty");
            v.as_elem().reply(ctx.out);
            1
        }
        Some(c) => {
            let n = (c as usize).min(list.len());
            list.pop_range(ctx.out, n, front);
            n
        }
    };
    let emptied = list.settle(fill);
    popped(ctx, key, front, emptied, n_popped);
    Ok(())
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lmpop_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn lmpop_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let (keys, front, count) = mpop_args(cmd, 1)?;
    if !mpop_serve(ctx, cmd, keys, front, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// The arguments of LMPOP / BLMPOP from the numkeys at `numkeys_idx`: the key positions,
/// the end to pop from (true: head) and the count.
fn mpop_args(cmd: &Cmd, numkeys_idx: usize) -> Result<(Range<usize>, bool, u64), ErrReply> {
    let numkeys = parse_i64(&cmd[numkeys_idx])
        .filter(|&n| n >= 1)
        .ok_or(Cow::Borrowed(ERR_NUMKEYS))?;
    let where_idx = (numkeys as u64)
        .checked_add(numkeys_idx as u64 + 1)
        .filter(|&w| w < cmd.len() as u64)
        .ok_or(Cow::Borrowed(err::SYNTAX))? as usize;
    let front = end_arg(&cmd[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < cmd.len() {
        if count.is_none() && cmd[j].eq_ignore_ascii_case(b"COUNT") && j + 1 < cmd.len() {
            j += 1;
            let c = parse_i64(&cmd[j])
                .filter(|&c| c >= 1)
                .ok_or(Cow::Borrowed(ERR_COUNT_ZERO))?;
            count = Some(c as u64);
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        j += 1;
    }
    Ok((numkeys_idx + 1..where_idx, front, count.unwrap_or(1)))
}

/// Pops up to `count` elements from the first list among `keys` that exists, replying
/// `[key, [elements]]`. Returns whether one did.
fn mpop_serve(
    ctx: &mut Ctx,
    cmd: &Cmd,
    keys: Range<usize>,
    front: bool,
    count: u64,
) -> Result<bool, ErrReply> {
    let fill = fill(ctx);
    for i in keys {
        let key = &cmd[i];
        let Some(list) = lookup_write(ctx.db, key, ctx.now)? else {
            continue;
        };
        let n = count.min(list.len() as u64) as usize;
        ctx.out.array(2);
        ctx.out.bulk(key);
        list.pop_range(ctx.out, n, front);
        let emptied = list.settle(fill);
        popped(ctx, key, front, emptied, n);
        if ctx.propagating() {
            let mut digits = itoa::Buffer::new();
            ctx.propagate([pop_command(front), key, digits.format(n).as_bytes()]);
        }
        return Ok(true);
    }
    Ok(false)
}

// ---------------------------------------------------------------------------------------------
// Moves

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove(ctx: &mut Ctx, cmd: &Cmd) {
    let r = end_arg(&cmd[3])
        .and_then(|from| Ok((from, end_arg(&cmd[4])?)))
        .and_then(|(from, to)| lmove_with(ctx, cmd, from, to));
    reply_result(ctx.out, r);
}

/// RPOPLPUSH source destination
pub fn rpoplpush(ctx: &mut Ctx, cmd: &Cmd) {
    let r = lmove_with(ctx, cmd, false, true);
    reply_result(ctx.out, r);
}

/// Moves an element from one end of `cmd[1]` to one end of `cmd[2]` (the same list may be
/// both) and replies with it; null when the source does not exist.
fn lmove_with(ctx: &mut Ctx, cmd: &Cmd, from_front: bool, to_front: bool) -> Result<(), ErrReply> {
    let (src, dst) = (&cmd[1], &cmd[2]);
    let (fill, now) = (fill(ctx), ctx.now);
    let Some(list) = lookup_write(ctx.db, src, now)? else {
        ctx.out.null();
        return Ok(());
    };
    let from_quicklist = list.is_quicklist();
    lookup_write(ctx.db, dst, now)?;
    let v = lookup_write(ctx.db, src, now)?
        .and_then(|l| l.pop(from_front))
        .expect("the source is a non-empty list");
    // Redis weighs the element by its string length before pushing it, except an integer
    // popped from a quicklist, which it holds as a number (length not counted).
    let bytes = match (&v, from_quicklist) {
        (Owned::Int(_), true) => 0,
        _ => v.as_elem().with_bytes(<[u8]>::len),
    };
    v.as_elem()
        .with_bytes(|b| match lookup_write(ctx.db, dst, now) {
            Ok(Some(l)) => {
                l.grow(bytes, 1, fill);
                l.push(b, to_front);
            }
            _ => {
                let mut l = ListValue::default();
                l.grow(bytes, 1, fill);
                l.push(b, to_front);
                ctx.db.set(dst, Value::List(Box::new(l)), 0, now);
            }
        });
    v.as_elem().reply(ctx.out);
    // As Redis: the push on the destination first, then the pop on the source.
    ctx.notify(notify::LIST, push_event(to_front), dst);
    let emptied = lookup_write(ctx.db, src, now)?.is_some_and(|l| l.settle(fill));
    popped(ctx, src, from_front, emptied, 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Blocking forms

/// BLPOP key [key ...] timeout
pub fn blpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = bpop(ctx, cmd, true);
    reply_result(ctx.out, r);
}

/// BRPOP key [key ...] timeout
pub fn brpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = bpop(ctx, cmd, false);
    reply_result(ctx.out, r);
}

fn bpop(ctx: &mut Ctx, cmd: &Cmd, front: bool) -> Result<(), ErrReply> {
    let last = cmd.len() - 1;
    timeout_arg(&cmd[last], ctx.now)?;
    let fill = fill(ctx);
    for i in 1..last {
        let key = &cmd[i];
        let Some(list) = lookup_write(ctx.db, key, ctx.now)? else {
            continue;
        };
        let v = list.pop(front).expect("stored lists are not empty");
        ctx.out.array(2);
        ctx.out.bulk(key);
        v.as_elem().reply(ctx.out);
        let emptied = list.settle(fill);
        popped(ctx, key, front, emptied, 1);
        if ctx.propagating() {
            ctx.propagate([pop_command(front), key]);
        }
        return Ok(());
    }
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        let from = end_arg(&cmd[3])?;
        let to = end_arg(&cmd[4])?;
        timeout_arg(&cmd[5], ctx.now)?;
        if blmove_with(ctx, cmd, from, to)? && ctx.propagating() {
            ctx.propagate([&b"LMOVE"[..], &cmd[1], &cmd[2], &cmd[3], &cmd[4]]);
        }
        Ok(())
    })();
    reply_result(ctx.out, r);
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        timeout_arg(&cmd[3], ctx.now)?;
        if blmove_with(ctx, cmd, false, true)? && ctx.propagating() {
            ctx.propagate([&b"RPOPLPUSH"[..], &cmd[1], &cmd[2]]);
        }
        Ok(())
    })();
    reply_result(ctx.out, r);
}

/// LMOVE when the source has an element; whether it moved one.
fn blmove_with(
    ctx: &mut Ctx,
    cmd: &Cmd,
    from_front: bool,
    to_front: bool,
) -> Result<bool, ErrReply> {
    match lookup_write(ctx.db, &cmd[1], ctx.now)? {
        // An empty source blocks, whatever the destination holds.
        None => Ok(false),
        Some(_) => lmove_with(ctx, cmd, from_front, to_front).map(|_| true),
    }
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        let (keys, front, count) = mpop_args(cmd, 2)?;
        timeout_arg(&cmd[1], ctx.now)?;
        mpop_serve(ctx, cmd, keys, front, count).map(|_| ())
    })();
    reply_result(ctx.out, r);
}
