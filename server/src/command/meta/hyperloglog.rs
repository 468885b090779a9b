//! HyperLogLog (Redis' `hyperloglog.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const HLL: &str = "hyperloglog";

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("pfadd", -2, WRITE | DENYOOM | FAST, &["write", "hyperloglog", "fast"])
        .doc(HLL, "2.8.9", "O(1) to add every element.",
            "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.")
        .keys(&[key_at(1, RW | INSERT)])
        .args(&[key("key", 0), string("element").opt().multi()]),
    cmd("pfcount", -2, READONLY | MAY_REPLICATE, &["read", "hyperloglog", "slow"])
        .doc(HLL, "2.8.9", "O(1) with a very small average constant time when called with a \
            single key. O(N) with N being the number of keys, and much bigger constant times, \
            when called with multiple keys.",
            "Returns the approximated cardinality of the set(s) observed by the HyperLogLog \
            key(s).")
        .keys(&[keys_from(1, -1, 1, RW | ACCESS).notes("RW because it may change the internal \
            representation of the key, and propagate to replicas")])
        .args(&[key("key", 0).multi()]),
    cmd("pfmerge", -2, WRITE | DENYOOM, &["write", "hyperloglog", "slow"])
        .doc(HLL, "2.8.9", "O(N) to merge N HyperLogLogs, but with high constant times.",
            "Merges one or more HyperLogLog values into a single key.")
        .keys(&[key_at(1, RW | ACCESS | INSERT), keys_from(2, -1, 1, RO | ACCESS)])
        .args(&[key("destkey", 0), key("sourcekey", 1).opt().multi()]),
    cmd("pfdebug", 3, WRITE | DENYOOM | ADMIN,
        &["write", "hyperloglog", "admin", "slow", "dangerous"])
        .doc(HLL, "2.8.9", "N/A", "Internal commands for debugging HyperLogLog values.")
        .syscmd()
        .keys(&[key_at(2, RW | ACCESS)])
        .args(&[string("subcommand"), key("key", 0)]),
    cmd("pfselftest", 1, ADMIN, &["hyperloglog", "admin", "slow", "dangerous"])
        .doc(HLL, "2.8.9", "N/A", "An internal command for testing HyperLogLog values.")
        .syscmd(),
];
