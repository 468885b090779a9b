//! Routes of the sort command family (implemented in `shard::sort`).

use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    vec![]
}
