//! Routes of the hash command family (implemented in `shard::hash`).

use super::Route;

/// Every hash command runs on the shard that owns its one key.
pub fn routes() -> Vec<(&'static str, Route)> {
    use shard::hash as h;
    use Route::Keyed;
    vec![
        ("hset", Keyed(h::hset)),
        ("hmset", Keyed(h::hset)),
        ("hsetnx", Keyed(h::hsetnx)),
        ("hget", Keyed(h::hget)),
        ("hmget", Keyed(h::hmget)),
        ("hdel", Keyed(h::hdel)),
        ("hlen", Keyed(h::hlen)),
        ("hexists", Keyed(h::hexists)),
        ("hstrlen", Keyed(h::hstrlen)),
        ("hgetall", Keyed(h::hgetall)),
        ("hkeys", Keyed(h::hkeys)),
        ("hvals", Keyed(h::hvals)),
        ("hincrby", Keyed(h::hincrby)),
        ("hincrbyfloat", Keyed(h::hincrbyfloat)),
        ("hrandfield", Keyed(h::hrandfield)),
        ("hscan", Keyed(h::hscan)),
    ]
}
