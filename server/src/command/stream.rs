//! Routes of the stream command family (implemented in `shard::stream`), and the step the
//! blocking machinery takes before a blocked XREAD waits: its `$` IDs become the streams'
//! last IDs at that moment.

use super::Route;
use super::Route::*;
use crate::dispatch::Job;
use crate::local::{unix_ms, Local};
use shard::stream as x;
use shard::Cmd;
use std::rc::Rc;

/// The stream commands and how they run.
pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("xadd", Keyed(x::xadd)),
        ("xlen", Keyed(x::xlen)),
        ("xrange", Keyed(x::xrange)),
        ("xrevrange", Keyed(x::xrevrange)),
        ("xdel", Keyed(x::xdel)),
        ("xtrim", Keyed(x::xtrim)),
        ("xsetid", Keyed(x::xsetid)),
        ("xinfo", Keyed(x::xinfo)),
        ("xgroup", Keyed(x::xgroup)),
        ("xack", Keyed(x::xack)),
        ("xpending", Keyed(x::xpending)),
        ("xclaim", Keyed(x::xclaim)),
        ("xautoclaim", Keyed(x::xautoclaim)),
        ("xread", Blocking(x::xread)),
        ("xreadgroup", Blocking(x::xreadgroup)),
    ]
}

/// XREAD ... BLOCK with `$` IDs: the same command with each `$` replaced by its stream's
/// last ID now (0-0 for a missing key), read on the stream's shard. Redis rewrites `$` the
/// same way when it blocks the client, so that the command run again when data arrives
/// reads what came after the moment it blocked, not after whatever is last by then. None
/// when there is nothing to rewrite (or a key holds another type: the command itself then
/// answers the error).
pub async fn resolve_dollar_ids(local: &Rc<Local>, job: &Job) -> Option<Cmd> {
    if job.spec.name != "xread" {
        return None;
    }
    let dollars = x::dollar_ids(&job.cmd);
    if dollars.is_empty() {
        return None;
    }
    let mut args: Vec<Vec<u8>> = job.cmd.args().map(<[u8]>::to_vec).collect();
    for (key_pos, id_pos) in dollars {
        let key = job.cmd.arg_bytes(key_pos);
        let db = job.db;
        let last = local
            .call(local.shard_of(&key), move |l| {
                let mut shard = l.shard();
                match shard.dbs[db].peek(&key, unix_ms()).map(|e| &e.value) {
                    None => Some(x::StreamId::MIN),
                    Some(shard::Value::Stream(s)) => Some(s.last_id),
                    Some(_) => None,
                }
            })
            .await?;
        args[id_pos] = last.to_bytes();
    }
    Some(Cmd::from_args(&args))
}
