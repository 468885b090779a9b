//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.

use crate::client::Session;
use crate::command::connection::{subcommand_error, write_help};
use crate::local::{unix_ms, Local};
use crate::memory_report;
use shard::num::parse_i64;
use shard::reply::err;
use shard::{Cmd, Reply};
use std::rc::Rc;

const HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

pub async fn memory(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"usage" => usage(local, sess, cmd, out).await,
        b"stats" => memory_report::gather(local).await.write_stats(out),
        b"doctor" => {
            let text = memory_report::gather(local).await.doctor();
            out.verbatim("txt", text.as_bytes());
        }
        b"malloc-stats" => {
            let text = crate::memory::allocator_report();
            out.verbatim("txt", text.as_bytes());
        }
        b"purge" => {
            local
                .call_all(|_| crate::memory::release_free_pages())
                .await;
            out.ok();
        }
        b"help" => write_help(out, HELP),
        _ => subcommand_error(out, "MEMORY", &cmd[1], false),
    }
}

/// MEMORY USAGE key [SAMPLES count]: the bytes the key, its entry and its value take. The
/// size of every value is kept exactly (or walked, for lists' and streams' nodes), so
/// SAMPLES is checked as Redis checks it but changes nothing.
async fn usage(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let mut i = 3;
    while i < cmd.len() {
        if cmd[i].eq_ignore_ascii_case(b"samples") && i + 1 < cmd.len() {
            match parse_i64(&cmd[i + 1]) {
                None => return out.error(err::NOT_INT),
                Some(n) if n < 0 => return out.error(err::SYNTAX),
                Some(_) => {}
            }
            i += 2;
        } else {
            return out.error(err::SYNTAX);
        }
    }
    let (db, key) = (sess.db, cmd[2].to_vec());
    let size = local
        .call(local.shard_of(&key), move |l| {
            l.shard().dbs[db].memory_usage(&key, unix_ms())
        })
        .await;
    match size {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
}
