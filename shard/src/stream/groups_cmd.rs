//! XGROUP, XACK, XPENDING, XCLAIM and XAUTOCLAIM, with Redis 7.2's replies and errors.

use super::commands::{bound_arg, id_arg, int_arg};
use super::id::{parse_id, parse_strict, StreamId, ERR_INVALID_ID};
use super::propagate::GroupFx;
use super::{lookup_read, lookup_write, reply_entry, reply_id, StreamValue, INVALID_ENTRIES_READ};
use crate::cmd::Cmd;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply};
use crate::value::Value;
use std::borrow::Cow;

type R = Result<(), ErrReply>;

const ERR_KEY_MUST_EXIST: &str = "ERR The XGROUP subcommand requires the key to exist. Note \
    that for CREATE you may want to use the MKSTREAM option to create an empty stream \
    automatically.";
const ERR_BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
const ERR_ENTRIES_READ: &str = "ERR value for ENTRIESREAD must be positive or -1";

/// `-NOGROUP No such key 'k' or consumer group 'g'` (XPENDING, XCLAIM, XAUTOCLAIM).
fn no_key_or_group(key: &[u8], group: &[u8]) -> ErrReply {
    Cow::Owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// `-NOGROUP No such consumer group 'g' for key name 'k'` (XGROUP, XINFO CONSUMERS).
pub(super) fn no_group(key: &[u8], group: &[u8]) -> ErrReply {
    Cow::Owned(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// Redis' `addReplySubcommandSyntaxError`.
pub(super) fn subcommand_syntax(cmd: &Cmd) -> ErrReply {
    let sub: Vec<u8> = cmd[1].iter().take(128).copied().collect();
    Cow::Owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub),
        String::from_utf8_lossy(&cmd[0]).to_uppercase()
    ))
}

/// Redis' `addReplyHelp`.
pub(super) fn reply_help(out: &mut Reply, cmd: &Cmd, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        String::from_utf8_lossy(&cmd[0]).to_uppercase()
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP
pub fn xgroup(ctx: &mut Ctx, cmd: &Cmd) {
    let r = xgroup_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn xgroup_inner(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let sub = &cmd[1];
    let is = |s: &str| sub.eq_ignore_ascii_case(s.as_bytes());
    let argc = cmd.len();
    if argc == 2 && is("help") {
        reply_help(ctx.out, cmd, XGROUP_HELP);
        return Ok(());
    }
    let known = [
        "create",
        "setid",
        "destroy",
        "createconsumer",
        "delconsumer",
    ];
    if !known.iter().any(|s| is(s)) {
        return Err(if is("help") {
            subcommand_syntax(cmd)
        } else {
            unknown_subcommand(cmd)
        });
    }
    if argc < 4 {
        return Err(subcommand_syntax(cmd));
    }
    let (create, setid) = (is("create"), is("setid"));
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < argc {
        if create && cmd[i].eq_ignore_ascii_case(b"mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && cmd[i].eq_ignore_ascii_case(b"entriesread") && i + 1 < argc {
            entries_read = int_arg(&cmd[i + 1])?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(Cow::Borrowed(ERR_ENTRIES_READ));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax(cmd));
        }
    }
    let (key, group) = (&cmd[2], &cmd[3]);
    let now = ctx.now;
    let exists = lookup_write(ctx.db, key, now)?.is_some();
    if !exists && !mkstream {
        return Err(Cow::Borrowed(ERR_KEY_MUST_EXIST));
    }
    if exists && (setid || is("createconsumer") || is("delconsumer")) {
        let s = lookup_write(ctx.db, key, now)?.expect("exists");
        if s.group(group).is_none() {
            return Err(no_group(key, group));
        }
    }
    if create && (5..=8).contains(&argc) {
        let existing = lookup_write(ctx.db, key, now)?;
        let id = if &cmd[4] == b"$" {
            existing.as_ref().map_or(StreamId::MIN, |s| s.last_id)
        } else {
            parse_strict(&cmd[4]).ok_or(Cow::Borrowed(ERR_INVALID_ID))?
        };
        let s = match lookup_write(ctx.db, key, now)? {
            Some(s) => s,
            None => {
                ctx.db
                    .set(key, Value::Stream(Box::new(StreamValue::new())), 0, now);
                ctx.wrote(1);
                lookup_write(ctx.db, key, now)?.expect("just created")
            }
        };
        if !s.create_group(group, id, entries_read) {
            return Err(Cow::Borrowed(ERR_BUSYGROUP));
        }
        ctx.out.ok();
        ctx.notify(notify::STREAM, "xgroup-create", key);
        ctx.wrote(1);
        return Ok(());
    }
    let Some(s) = lookup_write(ctx.db, key, now)? else {
        return Err(subcommand_syntax(cmd));
    };
    if setid && (argc == 5 || argc == 7) {
        let id = if &cmd[4] == b"$" {
            s.last_id
        } else {
            parse_id(&cmd[4], 0).ok_or(Cow::Borrowed(ERR_INVALID_ID))?
        };
        let g = s.group_mut(group).expect("checked above");
        g.last_id = id;
        g.entries_read = entries_read;
        ctx.out.ok();
        ctx.notify(notify::STREAM, "xgroup-setid", key);
        ctx.wrote(1);
    } else if is("destroy") && argc == 4 {
        if s.destroy_group(group) {
            ctx.out.int(1);
            ctx.notify(notify::STREAM, "xgroup-destroy", key);
            ctx.wrote(1);
        } else {
            ctx.out.int(0);
        }
    } else if is("createconsumer") && argc == 5 {
        let created = s
            .group_mut(group)
            .expect("checked above")
            .create_consumer(&cmd[4], now);
        ctx.out.int(created as i64);
        if created {
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
            ctx.wrote(1);
        }
    } else if is("delconsumer") && argc == 5 {
        let g = s.group_mut(group).expect("checked above");
        match g.delete_consumer(&cmd[4]) {
            Some(pending) => {
                ctx.out.int(pending as i64);
                ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
                ctx.wrote(1);
            }
            None => ctx.out.int(0),
        }
    } else {
        return Err(subcommand_syntax(cmd));
    }
    Ok(())
}

/// `ERR unknown subcommand 'x'. Try XGROUP HELP.` (Redis' command lookup error).
pub(super) fn unknown_subcommand(cmd: &Cmd) -> ErrReply {
    let sub: Vec<u8> = cmd[1].iter().take(128).copied().collect();
    Cow::Owned(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub),
        String::from_utf8_lossy(&cmd[0]).to_uppercase()
    ))
}

/// XACK key group id [id ...]
pub fn xack(ctx: &mut Ctx, cmd: &Cmd) {
    let r = (|| {
        let s = lookup_read(ctx.db, &cmd[1], ctx.now)?;
        let Some(g) = s.and_then(|s| s.group_mut(&cmd[2])) else {
            ctx.out.int(0);
            return Ok(());
        };
        let ids = (3..cmd.len())
            .map(|i| id_arg(&cmd[i]))
            .collect::<Result<Vec<_>, _>>()?;
        let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
        ctx.out.int(acked as i64);
        ctx.wrote(acked as u64);
        Ok(())
    })();
    reply_result(ctx.out, r);
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx, cmd: &Cmd) {
    let r = xpending_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn xpending_inner(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let argc = cmd.len();
    let summary = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(Cow::Borrowed(err::SYNTAX));
    }
    let mut range = None;
    let mut min_idle = 0i64;
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut at = 3;
        if cmd[3].eq_ignore_ascii_case(b"idle") {
            min_idle = int_arg(&cmd[4])?;
            if argc < 8 {
                return Err(Cow::Borrowed(err::SYNTAX));
            }
            at += 2;
        }
        let count = int_arg(&cmd[at + 2])?.max(0) as u64;
        let start = bound_arg(&cmd[at], true)?;
        let end = bound_arg(&cmd[at + 1], false)?;
        if at + 3 < argc {
            consumer = Some(&cmd[at + 3]);
        }
        range = Some((start, end, count));
    }
    let (key, group) = (&cmd[1], &cmd[2]);
    let now = ctx.now as i64;
    let Some(g) = lookup_read(ctx.db, key, ctx.now)?.and_then(|s| s.group(group)) else {
        return Err(no_key_or_group(key, group));
    };
    let out = &mut *ctx.out;
    if summary {
        out.array(4);
        out.int(g.pel.len() as i64);
        let (Some((first, _)), Some((last, _))) = (g.pel.first_key_value(), g.pel.last_key_value())
        else {
            out.null();
            out.null();
            out.null_array();
            return Ok(());
        };
        reply_id(out, *first);
        reply_id(out, *last);
        let owners: Vec<_> = g.consumers.values().filter(|c| !c.pel.is_empty()).collect();
        out.array(owners.len());
        for c in owners {
            out.array(2);
            out.bulk(&c.name);
            out.bulk(itoa::Buffer::new().format(c.pel.len()).as_bytes());
        }
        return Ok(());
    }
    let (start, end, mut count) = range.expect("parsed above");
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(name) => match g.consumers.get(name) {
            Some(c) => Box::new(c.pel.range(start..).copied()),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => Box::new(g.pel.range(start..).map(|(id, _)| *id)),
    };
    let mut body = Reply::new(out.resp3);
    let mut n = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let nack = &g.pel[&id];
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        n += 1;
        count -= 1;
        body.array(4);
        reply_id(&mut body, id);
        body.bulk(&nack.consumer);
        body.int((now - nack.delivery_time).max(0));
        body.int(nack.delivery_count as i64);
    }
    out.array(n);
    out.raw(&body.buf);
    Ok(())
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
pub fn xclaim(ctx: &mut Ctx, cmd: &Cmd) {
    let r = xclaim_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn xclaim_inner(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let (key, group, consumer) = (&cmd[1], &cmd[2], &cmd[3]);
    let now = ctx.now;
    let nowi = now as i64;
    let Some(s) = lookup_read(ctx.db, key, now)? else {
        return Err(no_key_or_group(key, group));
    };
    if s.group(group).is_none() {
        return Err(no_key_or_group(key, group));
    }
    let min_idle = parse_i64(&cmd[4])
        .ok_or(Cow::Borrowed(
            "ERR Invalid min-idle-time argument for XCLAIM",
        ))?
        .max(0);
    // The IDs, up to the first argument that is not one: the options follow.
    let mut ids = Vec::new();
    let mut j = 5;
    while j < cmd.len() {
        match parse_strict(&cmd[j]) {
            Some(id) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut delivery: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < cmd.len() {
        let more = cmd.len() - 1 - j;
        let opt = &cmd[j];
        let is = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        let int_opt = |arg: &[u8], name: &str| {
            parse_i64(arg)
                .ok_or_else(|| Cow::Owned(format!("ERR Invalid {name} option argument for XCLAIM")))
        };
        if is("force") {
            force = true;
        } else if is("justid") {
            justid = true;
        } else if is("idle") && more > 0 {
            j += 1;
            delivery = Some(nowi.wrapping_sub(int_opt(&cmd[j], "IDLE")?));
        } else if is("time") && more > 0 {
            j += 1;
            delivery = Some(int_opt(&cmd[j], "TIME")?);
        } else if is("retrycount") && more > 0 {
            j += 1;
            retrycount = int_opt(&cmd[j], "RETRYCOUNT")?;
        } else if is("lastid") && more > 0 {
            j += 1;
            last_id = parse_strict(&cmd[j]).ok_or(Cow::Borrowed(ERR_INVALID_ID))?;
        } else {
            return Err(Cow::Owned(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(t) if t >= 0 && t <= nowi => t,
        _ => nowi,
    };
    let (g, view) = s.split_group(group).expect("checked above");
    let mut fx = GroupFx::new(ctx.fx, ctx.db_index, key, group);
    let mut changes = 0u64;
    // The group's new last ID is propagated on its own only if no XCLAIM carries it.
    let mut propagate_last_id = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        changes += 1;
        propagate_last_id = true;
    }
    // As Redis 7.2, the consumer is created even when nothing gets claimed (7.0 created it
    // on the first claim). Its event, the command's only one, is recorded at the end.
    let (_, created) = g.touch_consumer(consumer, now);
    changes += created as u64;
    let mut body = Reply::new(ctx.out.resp3);
    let mut n = 0;
    for (i, id) in ids.into_iter().enumerate() {
        let id_arg = &cmd[5 + i];
        let Some(entry) = view.get(id) else {
            // Gone from the stream: drop it from the PEL too, propagated as a claim for its
            // owner, which replay finds gone as well.
            if let Some(nack) = g.pel.get(&id) {
                fx.xclaim(id_arg, nack, g.last_id);
                propagate_last_id = false;
                g.ack(id);
                changes += 1;
            }
            continue;
        };
        let pending = g.pel.contains_key(&id);
        if !pending && !force {
            continue;
        }
        if pending && min_idle != 0 && nowi - g.pel[&id].delivery_time < min_idle {
            continue;
        }
        let group_last = g.last_id;
        let nack = g.assign(id, consumer, now);
        nack.delivery_time = delivery;
        if retrycount >= 0 {
            nack.delivery_count = retrycount as u64;
        } else if !justid {
            nack.delivery_count = nack.delivery_count.saturating_add(1);
        }
        fx.xclaim(id_arg, nack, group_last);
        propagate_last_id = false;
        if justid {
            reply_id(&mut body, id);
        } else {
            reply_entry(&mut body, &entry);
        }
        n += 1;
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.active_time = nowi;
        }
        changes += 1;
    }
    if propagate_last_id {
        fx.setid(g.last_id, g.entries_read);
    }
    if created && n == 0 {
        // Redis 7.2 leaves it out (no XCLAIM names it): replay would miss the consumer.
        fx.create_consumer(consumer);
    }
    ctx.out.array(n);
    ctx.out.raw(&body.buf);
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    ctx.wrote(changes);
    // Never replayed as itself (Redis' preventCommandPropagation).
    ctx.suppress_effect();
    Ok(())
}

const ERR_AUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(ctx: &mut Ctx, cmd: &Cmd) {
    let r = xautoclaim_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn xautoclaim_inner(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let (key, group, consumer) = (&cmd[1], &cmd[2], &cmd[3]);
    let now = ctx.now;
    let nowi = now as i64;
    let min_idle = parse_i64(&cmd[4])
        .ok_or(Cow::Borrowed(
            "ERR Invalid min-idle-time argument for XAUTOCLAIM",
        ))?
        .max(0);
    let start = bound_arg(&cmd[5], true)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < cmd.len() {
        let more = cmd.len() - 1 - j;
        if cmd[j].eq_ignore_ascii_case(b"count") && more > 0 {
            // Redis bounds COUNT so that COUNT * 16 bytes cannot overflow.
            let max = i64::MAX / 16;
            count = parse_i64(&cmd[j + 1])
                .filter(|c| (1..=max).contains(c))
                .ok_or(Cow::Borrowed(ERR_AUTOCLAIM_COUNT))?;
            j += 1;
        } else if cmd[j].eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        j += 1;
    }
    let Some(s) = lookup_read(ctx.db, key, now)? else {
        return Err(no_key_or_group(key, group));
    };
    let Some((g, view)) = s.split_group(group) else {
        return Err(no_key_or_group(key, group));
    };
    let mut fx = GroupFx::new(ctx.fx, ctx.db_index, key, group);
    let (_, created) = g.touch_consumer(consumer, now);
    let mut changes = created as u64;
    let mut attempts = count.saturating_mul(10);
    let mut body = Reply::new(ctx.out.resp3);
    let mut claimed = 0;
    let mut deleted = Vec::new();
    let mut cursor = start;
    let mut next: Option<StreamId> = None;
    while let Some((&id, nack)) = g.pel.range(cursor..).next() {
        if attempts == 0 || count == 0 {
            next = Some(id);
            break;
        }
        attempts -= 1;
        let delivered = nack.delivery_time;
        match view.get(id) {
            None => {
                // Gone from the stream: dropped from the PEL and reported, propagated as a
                // claim for its owner, which replay finds gone as well.
                fx.xclaim_id(id, nack, g.last_id);
                g.ack(id);
                deleted.push(id);
                count -= 1;
                changes += 1;
            }
            Some(_) if min_idle != 0 && nowi - delivered < min_idle => {}
            Some(entry) => {
                let group_last = g.last_id;
                let nack = g.assign(id, consumer, now);
                nack.delivery_time = nowi;
                if !justid {
                    nack.delivery_count = nack.delivery_count.saturating_add(1);
                }
                fx.xclaim_id(id, nack, group_last);
                if justid {
                    reply_id(&mut body, id);
                } else {
                    reply_entry(&mut body, &entry);
                }
                claimed += 1;
                count -= 1;
                if let Some(c) = g.consumers.get_mut(consumer) {
                    c.active_time = nowi;
                }
                changes += 1;
            }
        }
        // The largest ID has no successor: nothing can follow it.
        match id.incr() {
            Some(c) => cursor = c,
            None => break,
        }
    }
    if created && claimed == 0 {
        // Redis 7.2 leaves it out (no XCLAIM names it): replay would miss the consumer.
        fx.create_consumer(consumer);
    }
    let out = &mut *ctx.out;
    out.array(3);
    reply_id(out, next.unwrap_or(StreamId::MIN));
    out.array(claimed);
    out.raw(&body.buf);
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    ctx.wrote(changes);
    // Never replayed as itself: the cursor and idle times would pick other entries.
    ctx.suppress_effect();
    Ok(())
}
