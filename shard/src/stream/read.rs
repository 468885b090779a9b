//! XREAD and XREADGROUP (Redis' `xreadCommand`), and the helpers the server's blocking
//! machinery uses for them: the BLOCK deadline and the streams whose ID is `$`.
//!
//! Like every blocking command here, the handler serves the client when a stream has
//! something for it and writes nothing when it would block (BLOCK given, nothing to serve);
//! the server then waits and runs it again when a stream is written to. A blocked XREAD whose
//! IDs were `$` is run again with the streams' last IDs at the time it blocked: the server
//! rewrites them first (see [`dollar_ids`]).

use super::commands::int_arg;
use super::group::Group;
use super::id::{parse_strict, StreamId, ERR_INVALID_ID};
use super::propagate::GroupFx;
use super::{reply_entry, reply_id, StreamValue, StreamView};
use crate::cmd::Cmd;
use crate::notify;
use crate::reply::{err, Reply};
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply};
use crate::value::Value;
use std::borrow::Cow;

const ERR_GROUP_ONLY: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
const ERR_NOACK_ONLY: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
const ERR_MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
const ERR_DOLLAR_IN_GROUP: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: \
    you want to read the history of this consumer by specifying a proper ID, or use the > ID \
    to get new messages. The $ ID would just return an empty result set.";
const ERR_GT_WITHOUT_GROUP: &str = "ERR The > ID can be specified only when calling XREADGROUP \
    using the GROUP <group> <consumer> option.";
const ERR_TIMEOUT_NOT_INT: &str = "ERR timeout is not an integer or out of range";
const ERR_TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
const ERR_TIMEOUT_RANGE: &str = "ERR timeout is out of range";

/// The parsed options of XREAD / XREADGROUP.
struct ReadArgs<'a> {
    /// Absolute deadline in Unix ms (0 = forever) when BLOCK was given.
    block: Option<u64>,
    /// 0 = no limit.
    count: u64,
    /// The first key; the IDs follow the keys.
    streams_at: usize,
    streams: usize,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
}

/// BLOCK's milliseconds as Redis' `getTimeoutFromObjectOrReply` reads them, into an
/// absolute deadline (0 = forever).
fn block_timeout(arg: &[u8], now: u64) -> Result<u64, &'static str> {
    let ms = crate::num::parse_i64(arg).ok_or(ERR_TIMEOUT_NOT_INT)?;
    if ms < 0 {
        return Err(ERR_TIMEOUT_NEGATIVE);
    }
    if ms == 0 {
        return Ok(0);
    }
    if ms > i64::MAX - now as i64 {
        return Err(ERR_TIMEOUT_RANGE);
    }
    Ok(now + ms as u64)
}

fn parse_args<'a>(cmd: &'a Cmd, xreadgroup: bool, now: u64) -> Result<ReadArgs<'a>, ErrReply> {
    let argc = cmd.len();
    let mut a = ReadArgs {
        block: None,
        count: 0,
        streams_at: 0,
        streams: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = &cmd[i];
        let is = |s: &str| o.eq_ignore_ascii_case(s.as_bytes());
        if is("block") && more > 0 {
            i += 1;
            a.block = Some(block_timeout(&cmd[i], now)?);
        } else if is("count") && more > 0 {
            i += 1;
            a.count = int_arg(&cmd[i])?.max(0) as u64;
        } else if is("streams") && more > 0 {
            a.streams_at = i + 1;
            let n = argc - a.streams_at;
            if !n.is_multiple_of(2) {
                let (name, symbol) = if xreadgroup {
                    ("xreadgroup", '>')
                } else {
                    ("xread", '$')
                };
                return Err(Cow::Owned(format!(
                    "ERR Unbalanced '{name}' list of streams: for each stream key an ID or \
                     '{symbol}' must be specified."
                )));
            }
            a.streams = n / 2;
            break;
        } else if is("group") && more >= 2 {
            if !xreadgroup {
                return Err(Cow::Borrowed(ERR_GROUP_ONLY));
            }
            a.group = Some((&cmd[i + 1], &cmd[i + 2]));
            i += 2;
        } else if is("noack") {
            if !xreadgroup {
                return Err(Cow::Borrowed(ERR_NOACK_ONLY));
            }
            a.noack = true;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        i += 1;
    }
    if a.streams_at == 0 {
        return Err(Cow::Borrowed(err::SYNTAX));
    }
    if xreadgroup && a.group.is_none() {
        return Err(Cow::Borrowed(ERR_MISSING_GROUP));
    }
    Ok(a)
}

/// The deadline of an XREAD / XREADGROUP ... BLOCK ms (0 = forever), or None without a
/// (valid) BLOCK option: for the server's blocking machinery.
pub fn block_deadline(cmd: &Cmd, now: u64) -> Option<u64> {
    let xreadgroup = cmd[0].eq_ignore_ascii_case(b"xreadgroup");
    parse_args(cmd, xreadgroup, now).ok()?.block
}

/// The error Redis gives a script calling XREAD / XREADGROUP with BLOCK: None when the
/// command has no BLOCK option, or fails on an earlier argument (it answers that error).
pub fn script_block_error(cmd: &Cmd) -> Option<String> {
    let xreadgroup = cmd[0].eq_ignore_ascii_case(b"xreadgroup");
    let mut i = 1;
    while i < cmd.len() {
        let more = cmd.len() - i - 1;
        let o = &cmd[i];
        let is = |s: &str| o.eq_ignore_ascii_case(s.as_bytes());
        if is("block") && more > 0 {
            return Some(format!(
                "ERR {} command is not allowed with BLOCK option from scripts",
                String::from_utf8_lossy(&cmd[0])
            ));
        } else if is("count") && more > 0 {
            int_arg(&cmd[i + 1]).ok()?;
            i += 2;
        } else if is("group") && more >= 2 && xreadgroup {
            i += 3;
        } else if is("noack") && xreadgroup {
            i += 1;
        } else {
            // STREAMS (the options end) or an error of its own.
            return None;
        }
    }
    None
}

/// For an XREAD ... BLOCK whose IDs include `$`: the positions of those IDs with their
/// stream keys' positions. Empty when the command would not block on `$`.
pub fn dollar_ids(cmd: &Cmd) -> Vec<(usize, usize)> {
    let Ok(a) = parse_args(cmd, false, 0) else {
        return Vec::new();
    };
    if a.block.is_none() {
        return Vec::new();
    }
    (0..a.streams)
        .map(|k| (a.streams_at + k, a.streams_at + a.streams + k))
        .filter(|&(_, id)| &cmd[id] == b"$")
        .collect()
}

/// What the ID a stream is read from means.
#[derive(Clone, Copy)]
enum From {
    /// Entries after this ID (`$` resolved to the last ID).
    After(StreamId),
    /// XREADGROUP `>`: entries never delivered to the group.
    New,
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
pub fn xread(ctx: &mut Ctx, cmd: &Cmd) {
    let r = read(ctx, cmd, false);
    reply_result(ctx.out, r);
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
/// [key ...] id [id ...]
pub fn xreadgroup(ctx: &mut Ctx, cmd: &Cmd) {
    let r = read(ctx, cmd, true);
    reply_result(ctx.out, r);
}

fn read(ctx: &mut Ctx, cmd: &Cmd, xreadgroup: bool) -> Result<(), ErrReply> {
    let a = parse_args(cmd, xreadgroup, ctx.now)?;
    let now = ctx.now;
    // Check every key and ID first, in order, as Redis does.
    let mut from = Vec::with_capacity(a.streams);
    for k in 0..a.streams {
        let key = &cmd[a.streams_at + k];
        let id_arg = &cmd[a.streams_at + a.streams + k];
        let s = match ctx.db.get(key, now) {
            None => None,
            Some(e) => match &e.value {
                Value::Stream(s) => Some(&**s),
                _ => return Err(Cow::Borrowed(err::WRONGTYPE)),
            },
        };
        if let Some((group, _)) = a.group {
            if s.and_then(|s| s.group(group)).is_none() {
                return Err(Cow::Owned(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP \
                     option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(group)
                )));
            }
        }
        if id_arg == b"$" {
            if xreadgroup {
                return Err(Cow::Borrowed(ERR_DOLLAR_IN_GROUP));
            }
            from.push(From::After(s.map_or(StreamId::MIN, |s| s.last_id)));
        } else if id_arg == b">" {
            if !xreadgroup {
                return Err(Cow::Borrowed(ERR_GT_WITHOUT_GROUP));
            }
            from.push(From::New);
        } else {
            let id = parse_strict(id_arg).ok_or(Cow::Borrowed(ERR_INVALID_ID))?;
            // Like Redis, which marks `>` with the largest ID.
            from.push(if id == StreamId::MAX && xreadgroup {
                From::New
            } else {
                From::After(id)
            });
        }
    }

    // Serve what can be served now.
    let mut body = Reply::new(ctx.out.resp3);
    let mut served = 0;
    let mut changes = 0;
    // The streams whose group got the consumer: their events follow the loop, which holds
    // the database (they are the command's only events, so the order is Redis').
    let mut new_consumer_on = Vec::new();
    for (k, &from) in from.iter().enumerate() {
        let key = &cmd[a.streams_at + k];
        let Some(Value::Stream(s)) = ctx.db.get(key, now).map(|e| &mut e.value) else {
            continue;
        };
        let s: &mut StreamValue = s;
        match a.group {
            None => {
                let From::After(after) = from else {
                    unreachable!("`>` needs a group")
                };
                if s.is_empty() || s.last_valid_id() <= after {
                    continue;
                }
                served += 1;
                stream_header(&mut body, key);
                let entries = s.range(after.incr().unwrap_or(StreamId::MAX), StreamId::MAX, false);
                let mut list = Reply::new(body.resp3);
                let mut n = 0;
                for e in entries.take(limit(a.count)) {
                    reply_entry(&mut list, &e);
                    n += 1;
                }
                body.array(n);
                body.raw(&list.buf);
            }
            Some((group, consumer)) => {
                let last_valid = if s.is_empty() {
                    None
                } else {
                    Some(s.last_valid_id())
                };
                let (g, view) = s.split_group(group).expect("checked above");
                let mut fx = GroupFx::new(ctx.fx, ctx.db_index, key, group);
                let (_, created) = g.touch_consumer(consumer, now);
                if created {
                    changes += 1;
                    new_consumer_on.push(key);
                }
                let serve = match from {
                    From::After(after) => Some((after, true)),
                    From::New => last_valid
                        .filter(|&top| top > g.last_id)
                        .map(|_| (g.last_id, false)),
                };
                let mut claims = 0;
                if let Some((after, history)) = serve {
                    served += 1;
                    changes += 1;
                    stream_header(&mut body, key);
                    let start = after.incr().unwrap_or(StreamId::MAX);
                    let read = Read {
                        consumer,
                        s: &view,
                        start,
                        count: a.count,
                        now,
                    };
                    claims = if history {
                        reply_history(&mut body, g, &read, &mut fx)
                    } else {
                        reply_new(&mut body, g, &read, a.noack, &mut fx)
                    };
                }
                // Where no XCLAIM names the new consumer (NOACK, nothing delivered), replay
                // needs it created: Redis 7.2 does this for NOACK only, and loses it otherwise.
                if created && claims == 0 {
                    fx.create_consumer(consumer);
                }
            }
        }
    }
    for key in new_consumer_on {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    if changes > 0 {
        ctx.wrote(changes);
    }
    if xreadgroup {
        // Never replayed as itself: it is recorded as the claims and group moves it made.
        ctx.suppress_effect();
    }
    if served > 0 {
        if ctx.out.resp3 {
            ctx.out.map(served);
        } else {
            ctx.out.array(served);
        }
        ctx.out.raw(&body.buf);
        return Ok(());
    }
    if a.block.is_none() {
        ctx.out.null_array();
    }
    // With BLOCK, nothing written: the server blocks the client (or, where it may not
    // block, answers the null array itself).
    Ok(())
}

fn limit(count: u64) -> usize {
    if count == 0 {
        usize::MAX
    } else {
        count.min(usize::MAX as u64) as usize
    }
}

/// The key before a stream's entries: `[key, entries]` in RESP2, a map key in RESP3.
fn stream_header(body: &mut Reply, key: &[u8]) {
    if !body.resp3 {
        body.array(2);
    }
    body.bulk(key);
}

/// What an XREADGROUP serves one stream's group from.
struct Read<'a, 'v> {
    consumer: &'a [u8],
    s: &'a StreamView<'v>,
    /// The first ID that may be served.
    start: StreamId,
    /// 0 = no limit.
    count: u64,
    now: u64,
}

/// XREADGROUP `>`: entries after the group's last ID, delivered to the consumer (Redis'
/// `streamReplyWithRange` with a group), each propagated as an XCLAIM unless NOACK, then the
/// group's new last ID and read counter (unconditionally, as Redis does since its #12898: an
/// XCLAIM's LASTID leaves the counter behind). Returns how many entries went to the
/// consumer's PEL.
fn reply_new(out: &mut Reply, g: &mut Group, r: &Read, noack: bool, fx: &mut GroupFx) -> usize {
    let (s, now) = (r.s, r.now);
    let mut list = Reply::new(out.resp3);
    let mut n = 0;
    let mut moved = false;
    for e in s.range(r.start, StreamId::MAX).take(limit(r.count)) {
        if e.id > g.last_id {
            if g.entries_read != super::INVALID_ENTRIES_READ
                && !s.range_has_tombstones(e.id, StreamId::MAX)
            {
                g.entries_read = g.entries_read.saturating_add(1);
            } else if s.entries_added != 0 {
                g.entries_read = s
                    .estimate_distance(e.id)
                    .map_or(super::INVALID_ENTRIES_READ, |d| d as i64);
            }
            g.last_id = e.id;
            moved = true;
        }
        reply_entry(&mut list, &e);
        if !noack {
            let group_last = g.last_id;
            let nack = g.assign(e.id, r.consumer, now);
            nack.delivery_time = now as i64;
            nack.delivery_count = 1;
            fx.xclaim_id(e.id, nack, group_last);
            if let Some(c) = g.consumers.get_mut(r.consumer) {
                c.active_time = now as i64;
            }
        }
        n += 1;
    }
    out.array(n);
    out.raw(&list.buf);
    if moved {
        fx.setid(g.last_id, g.entries_read);
    }
    if noack {
        0
    } else {
        n
    }
}

/// XREADGROUP with an ID: the consumer's own pending entries after it; deleted entries show
/// as `[id, nil]`. Each entry delivered again is propagated as an XCLAIM with its new delivery
/// time and count (Redis propagates nothing here, so its replicas keep the old ones). Returns
/// how many were.
fn reply_history(out: &mut Reply, g: &mut Group, r: &Read, fx: &mut GroupFx) -> usize {
    let ids: Vec<StreamId> = g.consumers[r.consumer]
        .pel
        .range(r.start..)
        .take(limit(r.count))
        .copied()
        .collect();
    out.array(ids.len());
    let mut again = 0;
    for id in ids {
        match r.s.get(id) {
            Some(e) => {
                reply_entry(out, &e);
                if let Some(nack) = g.pel.get_mut(&id) {
                    nack.delivery_time = r.now as i64;
                    nack.delivery_count = nack.delivery_count.saturating_add(1);
                    fx.xclaim_id(id, nack, g.last_id);
                    again += 1;
                }
            }
            None => {
                out.array(2);
                reply_id(out, id);
                out.null_array();
            }
        }
    }
    again
}
