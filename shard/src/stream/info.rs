//! XINFO STREAM [FULL [COUNT n]] | GROUPS | CONSUMERS | HELP, as Redis 7.2 replies them.

use super::commands::int_arg;
use super::groups_cmd::{no_group, reply_help, subcommand_syntax, unknown_subcommand};
use super::id::StreamId;
use super::{lookup_read, reply_entry, reply_id, StreamValue, INVALID_ENTRIES_READ};
use crate::cmd::Cmd;
use crate::reply::{err, Reply};
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply};
use std::borrow::Cow;

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// XINFO CONSUMERS key group | GROUPS key | STREAM key [FULL [COUNT count]] | HELP
pub fn xinfo(ctx: &mut Ctx, cmd: &Cmd) {
    let r = xinfo_inner(ctx, cmd);
    reply_result(ctx.out, r);
}

fn xinfo_inner(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let sub = &cmd[1];
    let is = |s: &str| sub.eq_ignore_ascii_case(s.as_bytes());
    if is("help") {
        reply_help(ctx.out, cmd, XINFO_HELP);
        return Ok(());
    }
    if !(is("consumers") || is("groups") || is("stream")) {
        return Err(unknown_subcommand(cmd));
    }
    if cmd.len() < 3 {
        return Err(subcommand_syntax(cmd));
    }
    let key = &cmd[2];
    let now = ctx.now;
    let Some(s) = lookup_read(ctx.db, key, now)? else {
        return Err(Cow::Borrowed(err::NO_SUCH_KEY));
    };
    let out = &mut *ctx.out;
    if is("consumers") && cmd.len() == 4 {
        let Some(g) = s.group(&cmd[3]) else {
            return Err(no_group(key, &cmd[3]));
        };
        let now = now as i64;
        out.array(g.consumers.len());
        for c in g.consumers.values() {
            let inactive = if c.active_time != -1 {
                now - c.active_time
            } else {
                -1
            };
            out.map(4);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int((now - c.seen_time).max(0));
            out.bulk(b"inactive");
            out.int(inactive);
        }
    } else if is("groups") && cmd.len() == 3 {
        out.array(s.group_count());
        for (name, g) in s.groups() {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            reply_id(out, g.last_id);
            out.bulk(b"entries-read");
            reply_entries_read(out, g.entries_read);
            out.bulk(b"lag");
            reply_lag(out, s.lag(g));
        }
    } else if is("stream") {
        stream_info(out, s, cmd)?;
    } else {
        return Err(subcommand_syntax(cmd));
    }
    Ok(())
}

fn reply_entries_read(out: &mut Reply, n: i64) {
    if n == INVALID_ENTRIES_READ {
        out.null();
    } else {
        out.int(n);
    }
}

fn reply_lag(out: &mut Reply, lag: Option<i64>) {
    match lag {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

fn stream_info(out: &mut Reply, s: &StreamValue, cmd: &Cmd) -> Result<(), ErrReply> {
    let opts = &cmd.args().skip(3).collect::<Vec<_>>();
    let mut count: u64 = 10;
    let full = !opts.is_empty();
    if full {
        if opts.len() != 1 && opts.len() != 3 || !opts[0].eq_ignore_ascii_case(b"full") {
            return Err(subcommand_syntax(cmd));
        }
        if opts.len() == 3 {
            if !opts[1].eq_ignore_ascii_case(b"count") {
                return Err(subcommand_syntax(cmd));
            }
            let n = int_arg(opts[2])?;
            count = if n < 0 { 10 } else { n as u64 };
        }
    }
    let limit = |n: usize| count == 0 || (n as u64) < count;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.radix_tree_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.group_count() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match s.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some(e) => reply_entry(out, &e),
                None => out.null(),
            }
        }
        return Ok(());
    }
    out.bulk(b"entries");
    let entries = s.range(StreamId::MIN, StreamId::MAX, false);
    if count == 0 {
        super::reply_entries(out, entries);
    } else {
        super::reply_entries(out, entries.take(count as usize));
    }
    out.bulk(b"groups");
    out.array(s.group_count());
    for (name, g) in s.groups() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g.entries_read);
        out.bulk(b"lag");
        reply_lag(out, s.lag(g));
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let shown = g.pel.iter().enumerate().take_while(|(i, _)| limit(*i));
        let n = if count == 0 {
            g.pel.len()
        } else {
            g.pel.len().min(count as usize)
        };
        out.array(n);
        for (_, (id, nack)) in shown {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for c in g.consumers.values() {
            out.map(5);
            out.bulk(b"name");
            out.bulk(&c.name);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"active-time");
            out.int(c.active_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let n = if count == 0 {
                c.pel.len()
            } else {
                c.pel.len().min(count as usize)
            };
            out.array(n);
            for id in c.pel.iter().take(n) {
                let nack = &g.pel[id];
                out.array(3);
                reply_id(out, *id);
                out.int(nack.delivery_time);
                out.int(nack.delivery_count as i64);
            }
        }
    }
    Ok(())
}
