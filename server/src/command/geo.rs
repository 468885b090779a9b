//! Routes of the geo command family (implemented in `shard::geo`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
