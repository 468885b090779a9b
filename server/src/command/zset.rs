//! Routes of the zset command family (implemented in `shard::zset`).

use super::Multi as M;
use super::Route;
use super::Route::*;
use shard::zset as z;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("zadd", Keyed(z::zadd)),
        ("zincrby", Keyed(z::zincrby)),
        ("zrem", Keyed(z::zrem)),
        ("zcard", Keyed(z::zcard)),
        ("zcount", Keyed(z::zcount)),
        ("zlexcount", Keyed(z::zlexcount)),
        ("zscore", Keyed(z::zscore)),
        ("zmscore", Keyed(z::zmscore)),
        ("zrank", Keyed(z::zrank)),
        ("zrevrank", Keyed(z::zrevrank)),
        ("zrange", Keyed(z::zrange)),
        ("zrevrange", Keyed(z::zrevrange)),
        ("zrangebyscore", Keyed(z::zrangebyscore)),
        ("zrevrangebyscore", Keyed(z::zrevrangebyscore)),
        ("zrangebylex", Keyed(z::zrangebylex)),
        ("zrevrangebylex", Keyed(z::zrevrangebylex)),
        ("zremrangebyrank", Keyed(z::zremrangebyrank)),
        ("zremrangebyscore", Keyed(z::zremrangebyscore)),
        ("zremrangebylex", Keyed(z::zremrangebylex)),
        ("zpopmin", Keyed(z::zpopmin)),
        ("zpopmax", Keyed(z::zpopmax)),
        ("zrandmember", Keyed(z::zrandmember)),
        ("zscan", Keyed(z::zscan)),
        ("zrangestore", Multi(M::Gather, z::zrangestore)),
        ("zunion", Multi(M::Gather, z::zunion)),
        ("zinter", Multi(M::Gather, z::zinter)),
        ("zdiff", Multi(M::Gather, z::zdiff)),
        ("zunionstore", Multi(M::Gather, z::zunionstore)),
        ("zinterstore", Multi(M::Gather, z::zinterstore)),
        ("zdiffstore", Multi(M::Gather, z::zdiffstore)),
        ("zintercard", Multi(M::Gather, z::zintercard)),
        ("zmpop", Multi(M::Gather, z::zmpop)),
        ("bzpopmin", Blocking(z::bzpopmin)),
        ("bzpopmax", Blocking(z::bzpopmax)),
        ("bzmpop", Blocking(z::bzmpop)),
    ]
}
