//! Routes of the sort command family (implemented in `shard::sort`).
//!
//! SORT and SORT_RO run where their keys live when they can. With BY or GET patterns that
//! read other keys on a server of several shards, the coordinator (`coord::sort`) gathers the
//! sorted key, the STORE destination and every key the patterns name.

use super::Multi as M;
use super::Route::{self, *};
use shard::sort as s;

/// The commands of this family and where they run.
pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("sort", Multi(M::Sort, s::sort)),
        ("sort_ro", Multi(M::Sort, s::sort_ro)),
    ]
}
