//! Hashes (Redis' `t_hash.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const HASH: &str = "hash";

const KEY: &[Arg] = &[key("key", 0)];
const KEY_FIELD: &[Arg] = &[key("key", 0), string("field")];
const KEY_FIELDS: &[Arg] = &[key("key", 0), string("field").multi()];
const KEY_FIELD_INCREMENT: &[Arg] = &[key("key", 0), string("field"), integer("increment")];
const FIELD_VALUE: &[Arg] = &[string("field"), string("value")];
const KEY_DATA: &[Arg] = &[key("key", 0), block("data", FIELD_VALUE).multi()];
const SIZE_OF_HASH: &str = "O(N) where N is the size of the hash.";

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("hdel", -3, WRITE | FAST, &["write", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(N) where N is the number of fields to be removed.",
            "Deletes one or more fields and their values from a hash. Deletes the hash if no \
            fields remain.")
        .history(&[("2.4.0", "Accepts multiple `field` arguments.")])
        .keys(&[key_at(1, RW | DELETE)])
        .args(KEY_FIELDS),
    cmd("hexists", 3, READONLY | FAST, &["read", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(1)", "Determines whether a field exists in a hash.")
        .keys(&[key_at(1, RO)])
        .args(KEY_FIELD),
    cmd("hget", 3, READONLY | FAST, &["read", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(1)", "Returns the value of a field in a hash.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY_FIELD),
    cmd("hgetall", 2, READONLY, &["read", "hash", "slow"])
        .doc(HASH, "2.0.0", SIZE_OF_HASH, "Returns all fields and values in a hash.")
        .tips(&["nondeterministic_output_order"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("hincrby", 4, WRITE | DENYOOM | FAST, &["write", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(1)", "Increments the integer value of a field in a hash by a \
            number. Uses 0 as initial value if the field doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(KEY_FIELD_INCREMENT),
    cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, &["write", "hash", "fast"])
        .doc(HASH, "2.6.0", "O(1)", "Increments the floating point value of a field by a \
            number. Uses 0 as initial value if the field doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), string("field"), double("increment")]),
    cmd("hkeys", 2, READONLY, &["read", "hash", "slow"])
        .doc(HASH, "2.0.0", SIZE_OF_HASH, "Returns all fields in a hash.")
        .tips(&["nondeterministic_output_order"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("hlen", 2, READONLY | FAST, &["read", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(1)", "Returns the number of fields in a hash.")
        .keys(&[key_at(1, RO)])
        .args(KEY),
    cmd("hmget", -3, READONLY | FAST, &["read", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(N) where N is the number of fields being requested.",
            "Returns the values of all fields in a hash.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY_FIELDS),
    cmd("hmset", -4, WRITE | DENYOOM | FAST, &["write", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(N) where N is the number of fields being set.",
            "Sets the values of multiple fields.")
        .deprecated("4.0.0", "`HSET` with multiple field-value pairs")
        .keys(&[key_at(1, RW | UPDATE)])
        .args(KEY_DATA),
    cmd("hrandfield", -2, READONLY, &["read", "hash", "slow"])
        .doc(HASH, "6.2.0", "O(N) where N is the number of fields returned",
            "Returns one or more random fields from a hash.")
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            block("options", &[integer("count"), pure("withvalues", "WITHVALUES").opt()]).opt(),
        ]),
    cmd("hscan", -3, READONLY, &["read", "hash", "slow"])
        .doc(HASH, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including \
            enough command calls for the cursor to return back to 0. N is the number of \
            elements inside the collection.",
            "Iterates over fields and values of a hash.")
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").opt(),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("hset", -4, WRITE | DENYOOM | FAST, &["write", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(1) for each field/value pair added, so O(N) to add N \
            field/value pairs when the command is called with multiple field/value pairs.",
            "Creates or modifies the value of a field in a hash.")
        .history(&[("4.0.0", "Accepts multiple `field` and `value` arguments.")])
        .keys(&[key_at(1, RW | UPDATE)])
        .args(KEY_DATA),
    cmd("hsetnx", 4, WRITE | DENYOOM | FAST, &["write", "hash", "fast"])
        .doc(HASH, "2.0.0", "O(1)",
            "Sets the value of a field in a hash only when the field doesn't exist.")
        .keys(&[key_at(1, RW | INSERT)])
        .args(&[key("key", 0), string("field"), string("value")]),
    cmd("hstrlen", 3, READONLY | FAST, &["read", "hash", "fast"])
        .doc(HASH, "3.2.0", "O(1)", "Returns the length of the value of a field.")
        .keys(&[key_at(1, RO)])
        .args(KEY_FIELD),
    cmd("hvals", 2, READONLY, &["read", "hash", "slow"])
        .doc(HASH, "2.0.0", SIZE_OF_HASH, "Returns all values in a hash.")
        .tips(&["nondeterministic_output_order"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
];
