//! Routes of the list command family (implemented in `shard::list`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
