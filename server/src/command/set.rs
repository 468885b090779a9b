//! Routes of the set command family (implemented in `shard::set`).

use super::Multi as M;
use super::Route::{self, *};
use shard::set as s;

/// The commands of this family and where they run.
pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("sadd", Keyed(s::sadd)),
        ("srem", Keyed(s::srem)),
        ("sismember", Keyed(s::sismember)),
        ("smismember", Keyed(s::smismember)),
        ("scard", Keyed(s::scard)),
        ("smembers", Keyed(s::smembers)),
        ("spop", Keyed(s::spop)),
        ("srandmember", Keyed(s::srandmember)),
        ("sscan", Keyed(s::sscan)),
        ("smove", Multi(M::Gather, s::smove)),
        ("sinter", Multi(M::Gather, s::sinter)),
        ("sinterstore", Multi(M::Gather, s::sinterstore)),
        ("sintercard", Multi(M::Gather, s::sintercard)),
        ("sunion", Multi(M::Gather, s::sunion)),
        ("sunionstore", Multi(M::Gather, s::sunionstore)),
        ("sdiff", Multi(M::Gather, s::sdiff)),
        ("sdiffstore", Multi(M::Gather, s::sdiffstore)),
    ]
}
