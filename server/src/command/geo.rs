//! Routes of the geo command family (implemented in `shard::geo`).
//!
//! GEORADIUS / GEORADIUSBYMEMBER (STORE / STOREDIST) and GEOSEARCHSTORE may write a
//! destination on another shard: gathered, their keys found by the key specs. The other
//! forms read one key.

use super::Multi as M;
use super::Route;

pub fn routes() -> Vec<(&'static str, Route)> {
    use shard::geo as g;
    use Route::*;
    vec![
        ("geoadd", Keyed(g::geoadd)),
        ("geodist", Keyed(g::geodist)),
        ("geohash", Keyed(g::geohash)),
        ("geopos", Keyed(g::geopos)),
        ("georadius", Multi(M::Gather, g::georadius)),
        ("georadiusbymember", Multi(M::Gather, g::georadiusbymember)),
        ("georadius_ro", Keyed(g::georadius_ro)),
        ("georadiusbymember_ro", Keyed(g::georadiusbymember_ro)),
        ("geosearch", Keyed(g::geosearch)),
        ("geosearchstore", Multi(M::Gather, g::geosearchstore)),
    ]
}
