//! Routes of the hll command family (implemented in `shard::hll`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
