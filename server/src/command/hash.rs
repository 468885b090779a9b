//! Routes of the hash command family (implemented in `shard::hash`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
