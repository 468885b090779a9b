//! Routes of the zset command family (implemented in `shard::zset`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
