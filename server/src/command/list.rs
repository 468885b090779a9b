//! Routes of the list command family (implemented in `shard::list`).

use super::Multi as M;
use super::Route::{self, *};
use shard::list as l;

/// The list commands and where each runs.
pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("lpush", Keyed(l::lpush)),
        ("rpush", Keyed(l::rpush)),
        ("lpushx", Keyed(l::lpushx)),
        ("rpushx", Keyed(l::rpushx)),
        ("linsert", Keyed(l::linsert)),
        ("llen", Keyed(l::llen)),
        ("lindex", Keyed(l::lindex)),
        ("lset", Keyed(l::lset)),
        ("lrange", Keyed(l::lrange)),
        ("ltrim", Keyed(l::ltrim)),
        ("lpos", Keyed(l::lpos)),
        ("lrem", Keyed(l::lrem)),
        ("lpop", Keyed(l::lpop)),
        ("rpop", Keyed(l::rpop)),
        // Several keys: gathered into one database when they span shards.
        ("lmove", Multi(M::Gather, l::lmove)),
        ("rpoplpush", Multi(M::Gather, l::rpoplpush)),
        ("lmpop", Multi(M::Gather, l::lmpop)),
        ("blpop", Blocking(l::blpop)),
        ("brpop", Blocking(l::brpop)),
        ("blmove", Blocking(l::blmove)),
        ("brpoplpush", Blocking(l::brpoplpush)),
        ("blmpop", Blocking(l::blmpop)),
    ]
}
