//! Routes of the set command family (implemented in `shard::set`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
