//! Routes of the sort command family (implemented in `shard::sort`).
//!
//! SORT gathers its keys (the sorted key and the STORE destination, found as Redis'
//! sortGetKeys finds them); the keys its BY and GET patterns name are read from the database
//! the command runs on (`shard::sort::pattern_keys` lists them).

use super::Multi as M;
use super::Route::{self, *};
use shard::sort as s;

/// The commands of this family and where they run.
pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("sort", Multi(M::Gather, s::sort)),
        ("sort_ro", Keyed(s::sort_ro)),
    ]
}
