//! Routes of the hll command family (implemented in `shard::hll`).

use super::Multi as M;
use super::Route::{self, *};
use shard::hll as h;

/// PFCOUNT with one key and PFMERGE with all keys on one shard run locally; otherwise the
/// coordinator gathers the keys (PFCOUNT of several keys never writes, so nothing is written
/// back for it).
pub fn routes() -> Vec<(&'static str, Route)> {
    vec![
        ("pfadd", Keyed(h::pfadd)),
        ("pfcount", Multi(M::Gather, h::pfcount)),
        ("pfmerge", Multi(M::Gather, h::pfmerge)),
        ("pfdebug", Keyed(h::pfdebug)),
        ("pfselftest", Keyed(h::pfselftest)),
    ]
}
