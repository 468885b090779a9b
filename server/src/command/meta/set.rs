//! Sets (Redis' `t_set.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const SET: &str = "set";

const KEY: &[Arg] = &[key("key", 0)];
const KEYS: &[Arg] = &[key("key", 0).multi()];
const KEY_MEMBER: &[Arg] = &[key("key", 0), string("member")];
const KEY_MEMBERS: &[Arg] = &[key("key", 0), string("member").multi()];
const DESTINATION_KEYS: &[Arg] = &[key("destination", 0), key("key", 1).multi()];
const ORDER_TIP: &[&str] = &["nondeterministic_output_order"];
const RANDOM_TIP: &[&str] = &["nondeterministic_output"];
const ALL_SETS: &[KeySpec] = &[keys_from(1, -1, 1, RO | ACCESS)];
const STORE_SPECS: &[KeySpec] = &[key_at(1, OW | UPDATE), keys_from(2, -1, 1, RO | ACCESS)];
const MULTI_MEMBER: &[(&str, &str)] = &[("2.4.0", "Accepts multiple `member` arguments.")];
const UNION_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";
const INTER_COMPLEXITY: &str = "O(N*M) worst case where N is the cardinality of the smallest set \
    and M is the number of sets.";

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("sadd", -3, WRITE | DENYOOM | FAST, &["write", "set", "fast"])
        .doc(SET, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the \
            command is called with multiple arguments.",
            "Adds one or more members to a set. Creates the key if it doesn't exist.")
        .history(MULTI_MEMBER)
        .keys(&[key_at(1, RW | INSERT)])
        .args(KEY_MEMBERS),
    cmd("scard", 2, READONLY | FAST, &["read", "set", "fast"])
        .doc(SET, "1.0.0", "O(1)", "Returns the number of members in a set.")
        .keys(&[key_at(1, RO)])
        .args(KEY),
    cmd("sdiff", -2, READONLY, &["read", "set", "slow"])
        .doc(SET, "1.0.0", UNION_COMPLEXITY, "Returns the difference of multiple sets.")
        .tips(ORDER_TIP)
        .keys(ALL_SETS)
        .args(KEYS),
    cmd("sdiffstore", -3, WRITE | DENYOOM, &["write", "set", "slow"])
        .doc(SET, "1.0.0", UNION_COMPLEXITY, "Stores the difference of multiple sets in a key.")
        .keys(STORE_SPECS)
        .args(DESTINATION_KEYS),
    cmd("sinter", -2, READONLY, &["read", "set", "slow"])
        .doc(SET, "1.0.0", INTER_COMPLEXITY, "Returns the intersect of multiple sets.")
        .tips(ORDER_TIP)
        .keys(ALL_SETS)
        .args(KEYS),
    cmd("sintercard", -3, READONLY, &["read", "set", "slow"])
        .doc(SET, "7.0.0", INTER_COMPLEXITY,
            "Returns the number of members of the intersect of multiple sets.")
        .keys(&[KeySpec::new(RO | ACCESS, BeginSearch::Index(1),
            FindKeys::Keynum { keynumidx: 0, firstkey: 1, step: 1 })])
        .args(&[integer("numkeys"), key("key", 0).multi(), integer("limit").token("LIMIT").opt()]),
    cmd("sinterstore", -3, WRITE | DENYOOM, &["write", "set", "slow"])
        .doc(SET, "1.0.0", INTER_COMPLEXITY, "Stores the intersect of multiple sets in a key.")
        .keys(STORE_SPECS)
        .args(DESTINATION_KEYS),
    cmd("sismember", 3, READONLY | FAST, &["read", "set", "fast"])
        .doc(SET, "1.0.0", "O(1)", "Determines whether a member belongs to a set.")
        .keys(&[key_at(1, RO)])
        .args(KEY_MEMBER),
    cmd("smembers", 2, READONLY, &["read", "set", "slow"])
        .doc(SET, "1.0.0", "O(N) where N is the set cardinality.", "Returns all members of a set.")
        .tips(ORDER_TIP)
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("smismember", -3, READONLY | FAST, &["read", "set", "fast"])
        .doc(SET, "6.2.0", "O(N) where N is the number of elements being checked for membership",
            "Determines whether multiple members belong to a set.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY_MEMBERS),
    cmd("smove", 4, WRITE | FAST, &["write", "set", "fast"])
        .doc(SET, "1.0.0", "O(1)", "Moves a member from one set to another.")
        .keys(&[key_at(1, RW | ACCESS | DELETE), key_at(2, RW | INSERT)])
        .args(&[key("source", 0), key("destination", 1), string("member")]),
    cmd("spop", -2, WRITE | FAST, &["write", "set", "fast"])
        .doc(SET, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value \
            of the passed count.",
            "Returns one or more random members from a set after removing them. Deletes the set \
            if the last member was popped.")
        .history(&[("3.2.0", "Added the `count` argument.")])
        .tips(RANDOM_TIP)
        .keys(&[key_at(1, RW | ACCESS | DELETE)])
        .args(&[key("key", 0), integer("count").since("3.2.0").opt()]),
    cmd("srandmember", -2, READONLY, &["read", "set", "slow"])
        .doc(SET, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the \
            absolute value of the passed count.",
            "Get one or multiple random members from a set")
        .history(&[("2.6.0", "Added the optional `count` argument.")])
        .tips(RANDOM_TIP)
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[key("key", 0), integer("count").since("2.6.0").opt()]),
    cmd("srem", -3, WRITE | FAST, &["write", "set", "fast"])
        .doc(SET, "1.0.0", "O(N) where N is the number of members to be removed.",
            "Removes one or more members from a set. Deletes the set if the last member was \
            removed.")
        .history(MULTI_MEMBER)
        .keys(&[key_at(1, RW | DELETE)])
        .args(KEY_MEMBERS),
    cmd("sscan", -3, READONLY, &["read", "set", "slow"])
        .doc(SET, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough \
            command calls for the cursor to return back to 0. N is the number of elements inside \
            the collection.",
            "Iterates over members of a set.")
        .tips(RANDOM_TIP)
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").opt(),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("sunion", -2, READONLY, &["read", "set", "slow"])
        .doc(SET, "1.0.0", UNION_COMPLEXITY, "Returns the union of multiple sets.")
        .tips(ORDER_TIP)
        .keys(ALL_SETS)
        .args(KEYS),
    cmd("sunionstore", -3, WRITE | DENYOOM, &["write", "set", "slow"])
        .doc(SET, "1.0.0", UNION_COMPLEXITY, "Stores the union of multiple sets in a key.")
        .keys(STORE_SPECS)
        .args(DESTINATION_KEYS),
];
