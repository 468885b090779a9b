//! XADD, XTRIM, XDEL, XLEN, XRANGE, XREVRANGE and XSETID, with Redis 7.2's replies and
//! errors.

use super::id::{parse_add_id, parse_interval, parse_strict, StreamId, ERR_INVALID_ID};
use super::{lookup_read, lookup_write, reply_entries, reply_id, AddError, StreamValue, Trim};
use crate::cmd::Cmd;
use crate::limits::Limits;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::err;
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply};
use crate::value::Value;
use std::borrow::Cow;

type R = Result<(), ErrReply>;

const ERR_MAXLEN_MINID: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const ERR_MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
const ERR_LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
const ERR_LIMIT_NO_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
const ERR_XTRIM_NO_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
const ERR_LIMIT_NO_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
const ERR_ZERO_ID: &str = "ERR The ID specified in XADD must be greater than 0-0";
const ERR_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
/// XADD with an ID not above the stream's last one.
pub const ERR_ID_TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ERR_TOO_LARGE: &str = "ERR Elements are too large to be stored";
/// A range's exclusive start that has no successor.
pub const ERR_START_INTERVAL: &str = "ERR invalid start ID for the interval";
/// A range's exclusive end that has no predecessor.
pub const ERR_END_INTERVAL: &str = "ERR invalid end ID for the interval";

/// An integer argument, or Redis' "not an integer" error.
pub(super) fn int_arg(arg: &[u8]) -> Result<i64, ErrReply> {
    parse_i64(arg).ok_or(Cow::Borrowed(err::NOT_INT))
}

/// A strict ID argument (`-` and `+` refused), or Redis' invalid ID error.
pub(super) fn id_arg(arg: &[u8]) -> Result<StreamId, ErrReply> {
    parse_strict(arg).ok_or(Cow::Borrowed(ERR_INVALID_ID))
}

/// A range bound with Redis' `(` handling: the start's successor, the end's predecessor.
pub(super) fn bound_arg(arg: &[u8], is_start: bool) -> Result<StreamId, ErrReply> {
    let missing_seq = if is_start { 0 } else { u64::MAX };
    let (id, exclusive) = parse_interval(arg, missing_seq).ok_or(Cow::Borrowed(ERR_INVALID_ID))?;
    if !exclusive {
        return Ok(id);
    }
    let moved = if is_start { id.incr() } else { id.decr() };
    moved.ok_or(Cow::Borrowed(if is_start {
        ERR_START_INTERVAL
    } else {
        ERR_END_INTERVAL
    }))
}

/// The options XADD and XTRIM share (Redis' `streamAddTrimArgs`).
struct AddTrimArgs {
    /// XADD's explicit ID and whether its sequence was given; None for `*`.
    id: Option<(StreamId, bool)>,
    nomkstream: bool,
    trim: Option<Trim>,
    approx: bool,
    /// Entries trimming may remove; 0 = no limit.
    limit: u64,
    /// Where the ID is (XADD): the fields follow it.
    id_pos: usize,
    /// Where the trimming threshold is (after `~` when approximate).
    threshold_at: usize,
}

/// Redis' `streamParseAddOrTrimArgsOrReply`.
fn parse_add_trim(cmd: &Cmd, xadd: bool, limits: &Limits) -> Result<AddTrimArgs, ErrReply> {
    let argc = cmd.len();
    let mut a = AddTrimArgs {
        id: None,
        nomkstream: false,
        trim: None,
        approx: false,
        limit: 0,
        id_pos: 0,
        threshold_at: 0,
    };
    let mut limit_given = false;
    let mut limit: i64 = 0;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = &cmd[i];
        let is = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        if xadd && opt == b"*" {
            break;
        } else if (is("maxlen") || is("minid")) && more > 0 {
            if a.trim.is_some() {
                return Err(Cow::Borrowed(ERR_MAXLEN_MINID));
            }
            let maxlen = is("maxlen");
            a.approx = false;
            let next = &cmd[i + 1];
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            a.threshold_at = i + 1;
            let arg = &cmd[i + 1];
            a.trim = Some(if maxlen {
                let n = int_arg(arg)?;
                if n < 0 {
                    return Err(Cow::Borrowed(ERR_MAXLEN_NEGATIVE));
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(id_arg(arg)?)
            });
            i += 1;
        } else if is("limit") && more > 0 {
            limit = int_arg(&cmd[i + 1])?;
            if limit < 0 {
                return Err(Cow::Borrowed(ERR_LIMIT_NEGATIVE));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is("nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            a.id = Some(parse_add_id(opt).ok_or(Cow::Borrowed(ERR_INVALID_ID))?);
            break;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        i += 1;
    }
    a.id_pos = i;
    if limit != 0 && a.trim.is_none() {
        return Err(Cow::Borrowed(ERR_LIMIT_NO_STRATEGY));
    }
    if !xadd && a.trim.is_none() {
        return Err(Cow::Borrowed(ERR_XTRIM_NO_STRATEGY));
    }
    if limit_given {
        if !a.approx {
            return Err(Cow::Borrowed(ERR_LIMIT_NO_APPROX));
        }
        a.limit = limit as u64;
    } else if a.approx {
        // At most 100 nodes' worth, bounded both ways as Redis bounds it.
        a.limit = match limits.stream_node_max_entries.saturating_mul(100) {
            0 => 10_000,
            n => n.min(1_000_000),
        };
    }
    Ok(a)
}

/// The request as Redis propagates it (`streamRewriteApproxSpecifier`,
/// `streamRewriteTrimArgument`, and XADD's ID rewrite): an approximate trim becomes an exact
/// one at what the stream kept (its length, or its first entry's ID, deleted or not), so
/// that replay removes the same entries; `id`, if given, replaces the ID argument. The LIMIT
/// options go: Redis keeps them and ignores them when it loads or replicates, but replay here
/// is an ordinary run, where LIMIT without `~` is an error (exact trimming has no limit).
fn rewritten<'c>(
    cmd: &'c Cmd,
    a: &AddTrimArgs,
    s: &StreamValue,
    id: Option<StreamId>,
) -> Vec<Cow<'c, [u8]>> {
    let mut threshold = match a.trim {
        Some(Trim::MaxLen(_)) if a.approx => s.len().to_string().into_bytes(),
        Some(Trim::MinId(_)) if a.approx => s.first_entry_id().to_bytes(),
        _ => Vec::new(),
    };
    let mut args = Vec::with_capacity(cmd.len());
    let mut i = 0;
    while i < cmd.len() {
        // Among the options (after the key) no value reads "LIMIT": it is the keyword.
        if (2..a.id_pos).contains(&i) && cmd[i].eq_ignore_ascii_case(b"limit") {
            i += 2;
            continue;
        }
        args.push(match id {
            _ if a.approx && i + 1 == a.threshold_at => Cow::Borrowed(&b"="[..]),
            _ if a.approx && i == a.threshold_at => Cow::Owned(std::mem::take(&mut threshold)),
            Some(id) if i == a.id_pos => Cow::Owned(id.to_bytes()),
            _ => Cow::Borrowed(&cmd[i]),
        });
        i += 1;
    }
    args
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
/// [field value ...]
pub fn xadd(ctx: &mut Ctx, cmd: &Cmd) {
    let r = xadd_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn xadd_inner(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let a = parse_add_trim(cmd, true, ctx.limits)?;
    let field_pos = a.id_pos + 1;
    let nargs = cmd.len() as i64 - field_pos as i64;
    if nargs < 2 || nargs % 2 == 1 {
        return Err(Cow::Owned(err::arity(b"xadd")));
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(Cow::Borrowed(ERR_ZERO_ID));
        }
    }
    let fields: Vec<(&[u8], &[u8])> = (field_pos..cmd.len())
        .step_by(2)
        .map(|i| (&cmd[i], &cmd[i + 1]))
        .collect();
    let key = &cmd[1];
    let (now, limits) = (ctx.now, ctx.limits);
    let propagating = ctx.propagating();
    let mut created = None;
    let s = match lookup_write(ctx.db, key, now)? {
        Some(s) => s,
        None if a.nomkstream => {
            ctx.out.null();
            return Ok(());
        }
        None => created.insert(StreamValue::new()),
    };
    if s.last_id == StreamId::MAX {
        return Err(Cow::Borrowed(ERR_EXHAUSTED));
    }
    let id = s.add(a.id, &fields, now, limits).map_err(|e| {
        Cow::Borrowed(match e {
            AddError::NotGreater => ERR_ID_TOO_SMALL,
            AddError::TooLarge => ERR_TOO_LARGE,
        })
    })?;
    reply_id(ctx.out, id);
    let trimmed = a.trim.map_or(0, |how| s.trim(how, a.approx, a.limit));
    // A generated ID, or approximate trimming, would not replay the same.
    let generated = !matches!(a.id, Some((_, true)));
    let effect = (propagating && (generated || a.approx))
        .then(|| rewritten(cmd, &a, s, generated.then_some(id)));
    // The stream is stored last, but Redis creates it first: "new", then "xadd", "xtrim".
    if let Some(s) = created {
        ctx.db.set(key, Value::Stream(Box::new(s)), 0, now);
    }
    ctx.notify(notify::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    ctx.wrote(1 + trimmed);
    if let Some(args) = effect {
        ctx.propagate(args);
    }
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        let a = parse_add_trim(cmd, false, ctx.limits)?;
        let propagating = ctx.propagating();
        let Some(s) = lookup_write(ctx.db, &cmd[1], ctx.now)? else {
            ctx.out.int(0);
            return Ok(());
        };
        let how = a.trim.expect("XTRIM has a strategy");
        let deleted = s.trim(how, a.approx, a.limit);
        // Nothing trimmed: nothing to replay (the request is not recorded either).
        let effect = (a.approx && deleted > 0 && propagating).then(|| rewritten(cmd, &a, s, None));
        ctx.out.int(deleted as i64);
        if deleted > 0 {
            ctx.notify(notify::STREAM, "xtrim", &cmd[1]);
        }
        ctx.wrote(deleted);
        if let Some(args) = effect {
            ctx.propagate(args);
        }
        Ok(())
    })();
    reply_result(ctx.out, r);
}

/// XDEL key id [id ...]
pub fn xdel(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        let Some(s) = lookup_write(ctx.db, &cmd[1], ctx.now)? else {
            ctx.out.int(0);
            return Ok(());
        };
        // Every ID is checked first: the command applies in full or not at all.
        let ids = (2..cmd.len())
            .map(|i| id_arg(&cmd[i]))
            .collect::<Result<Vec<_>, _>>()?;
        let deleted: Vec<StreamId> = ids.into_iter().filter(|&id| s.delete(id)).collect();
        if !deleted.is_empty() {
            s.after_delete(&deleted);
            ctx.notify(notify::STREAM, "xdel", &cmd[1]);
        }
        ctx.out.int(deleted.len() as i64);
        ctx.wrote(deleted.len() as u64);
        Ok(())
    })();
    reply_result(ctx.out, r);
}

/// XLEN key
pub fn xlen(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(s) => ctx.out.int(s.map_or(0, |s| s.len() as i64)),
        Err(_) => ctx.out.error(err::WRONGTYPE),
    }
}

/// XRANGE key start end [COUNT count]
pub fn xrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = range(ctx, cmd, false);
    reply_result(ctx.out, r);
}

/// XREVRANGE key end start [COUNT count]
pub fn xrevrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = range(ctx, cmd, true);
    reply_result(ctx.out, r);
}

fn range(ctx: &mut Ctx, cmd: &Cmd, rev: bool) -> R {
    let (start_arg, end_arg) = if rev {
        (&cmd[3], &cmd[2])
    } else {
        (&cmd[2], &cmd[3])
    };
    let start = bound_arg(start_arg, true)?;
    let end = bound_arg(end_arg, false)?;
    let mut count: Option<u64> = None;
    let mut j = 4;
    while j < cmd.len() {
        if cmd[j].eq_ignore_ascii_case(b"count") && j + 1 < cmd.len() {
            count = Some(int_arg(&cmd[j + 1])?.max(0) as u64);
            j += 2;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
    }
    let Some(s) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.array(0);
        return Ok(());
    };
    match count {
        Some(0) => ctx.out.null_array(),
        Some(n) => {
            reply_entries(ctx.out, s.range(start, end, rev).take(n as usize));
        }
        None => {
            reply_entries(ctx.out, s.range(start, end, rev));
        }
    }
    Ok(())
}

const ERR_ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
const ERR_SETID_BELOW_GIVEN_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
const ERR_SETID_BELOW_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id";
const ERR_SETID_BELOW_TOP: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
const ERR_SETID_ADDED_BELOW_LENGTH: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        let id = id_arg(&cmd[2])?;
        let mut entries_added: Option<u64> = None;
        let mut max_deleted = StreamId::MIN;
        let mut i = 3;
        while i < cmd.len() {
            let more = cmd.len() - 1 - i;
            let opt = &cmd[i];
            if opt.eq_ignore_ascii_case(b"entriesadded") && more > 0 {
                let n = int_arg(&cmd[i + 1])?;
                if n < 0 {
                    return Err(Cow::Borrowed(ERR_ENTRIES_ADDED_NEGATIVE));
                }
                entries_added = Some(n as u64);
                i += 2;
            } else if opt.eq_ignore_ascii_case(b"maxdeletedid") && more > 0 {
                max_deleted = id_arg(&cmd[i + 1])?;
                if id < max_deleted {
                    return Err(Cow::Borrowed(ERR_SETID_BELOW_GIVEN_MAX_DELETED));
                }
                i += 2;
            } else {
                return Err(Cow::Borrowed(err::SYNTAX));
            }
        }
        let Some(s) = lookup_write(ctx.db, &cmd[1], ctx.now)? else {
            return Err(Cow::Borrowed(err::NO_SUCH_KEY));
        };
        if id < s.max_deleted {
            return Err(Cow::Borrowed(ERR_SETID_BELOW_MAX_DELETED));
        }
        if !s.is_empty() {
            if id < s.last_valid_id() {
                return Err(Cow::Borrowed(ERR_SETID_BELOW_TOP));
            }
            if entries_added.is_some_and(|n| (s.len() as u64) > n) {
                return Err(Cow::Borrowed(ERR_SETID_ADDED_BELOW_LENGTH));
            }
        }
        s.last_id = id;
        if let Some(n) = entries_added {
            s.entries_added = n;
        }
        if !max_deleted.is_zero() {
            s.max_deleted = max_deleted;
        }
        ctx.out.ok();
        ctx.notify(notify::STREAM, "xsetid", &cmd[1]);
        ctx.wrote(1);
        Ok(())
    })();
    reply_result(ctx.out, r);
}
