//! Sorted sets (Redis' `t_zset.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const SORTED_SET: &str = "sorted-set";

const RANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted \
    set and M the number of elements returned.";
const RANGE_BY_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the \
    sorted set and M the number of elements being returned. If M is constant (e.g. always asking \
    for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REMRANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted \
    set and M the number of elements removed by the operation.";
const POP_COMPLEXITY: &str = "O(log(N)*M) with N being the number of elements in the sorted set, \
    and M being the number of elements popped.";
const MPOP_COMPLEXITY: &str = "O(K) + O(M*log(N)) where K is the number of provided keys, N \
    being the number of elements in the sorted set, and M being the number of elements popped.";
const INTER_COMPLEXITY: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input \
    sorted set, K being the number of input sorted sets and M being the number of elements in the \
    resulting sorted set.";
const DIFF_COMPLEXITY: &str = "O(L + (N-K)log(N)) worst case where L is the total number of \
    elements in all the sets, N is the size of the first set, and K is the size of the result \
    set.";
const BZPOP_HISTORY: &[(&str, &str)] = &[(
    "6.0.0",
    "`timeout` is interpreted as a double instead of an integer.",
)];
const RANK_HISTORY: &[(&str, &str)] = &[("7.2.0", "Added the optional `WITHSCORE` argument.")];

const KEY: &[Arg] = &[key("key", 0)];
const KEY_MEMBER: &[Arg] = &[key("key", 0), string("member")];
const KEY_MEMBERS: &[Arg] = &[key("key", 0), string("member").multi()];
const KEY_COUNT: &[Arg] = &[key("key", 0), integer("count").opt()];
const KEY_MEMBER_WITHSCORE: &[Arg] = &[
    key("key", 0),
    string("member"),
    pure("withscore", "WITHSCORE").opt(),
];
const KEY_MIN_MAX_LEX: &[Arg] = &[key("key", 0), string("min"), string("max")];
const KEY_MIN_MAX_SCORE: &[Arg] = &[key("key", 0), double("min"), double("max")];
const BZPOP_ARGS: &[Arg] = &[key("key", 0).multi(), double("timeout")];
const LIMIT: Arg = block("limit", &[integer("offset"), integer("count")])
    .token("LIMIT")
    .opt();
const WHERE: Arg = oneof("where", &[pure("min", "MIN"), pure("max", "MAX")]);
const AGGREGATE: Arg = oneof(
    "aggregate",
    &[pure("sum", "SUM"), pure("min", "MIN"), pure("max", "MAX")],
)
.token("AGGREGATE")
.opt();
const WEIGHTS: Arg = integer("weight").token("WEIGHTS").opt().multi();
const WITHSCORES: Arg = pure("withscores", "WITHSCORES").opt();
const SORTBY: Arg = oneof(
    "sortby",
    &[pure("byscore", "BYSCORE"), pure("bylex", "BYLEX")],
)
.opt();

/// ZUNION, ZINTER, ZDIFF, ZINTERCARD: `numkeys key...` at 1.
const NUMKEYS_AT_1: &[KeySpec] = &[keynum_at(1, RO | ACCESS)];
/// The STORE forms: the destination at 1, `numkeys key...` at 2.
const STORE_NUMKEYS: &[KeySpec] = &[key_at(1, OW | UPDATE), keynum_at(2, RO | ACCESS)];
const ZSET_RO: &[KeySpec] = &[key_at(1, RO | ACCESS)];
const ZSET_RM: &[KeySpec] = &[key_at(1, RW | DELETE)];
const ZSET_POP: &[KeySpec] = &[key_at(1, RW | ACCESS | DELETE)];

/// Keys counted by the argument at `pos`, starting right after it.
const fn keynum_at(pos: i32, flags: u64) -> KeySpec {
    KeySpec::new(
        flags,
        BeginSearch::Index(pos),
        FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            step: 1,
        },
    )
}

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("bzmpop", -5, WRITE | BLOCKING, &["write", "sortedset", "slow", "blocking"])
        .doc(SORTED_SET, "7.0.0", MPOP_COMPLEXITY, "Removes and returns a member by score from \
            one or more sorted sets. Blocks until a member is available otherwise. Deletes the \
            sorted set if the last element was popped.")
        .keys(&[keynum_at(2, RW | ACCESS | DELETE)])
        .args(&[
            double("timeout"),
            integer("numkeys"),
            key("key", 0).multi(),
            WHERE,
            integer("count").token("COUNT").opt(),
        ]),
    cmd("bzpopmax", -3, WRITE | FAST | BLOCKING, &["write", "sortedset", "fast", "blocking"])
        .doc(SORTED_SET, "5.0.0", "O(log(N)) with N being the number of elements in the sorted \
            set.", "Removes and returns the member with the highest score from one or more \
            sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if \
            the last element was popped.")
        .history(BZPOP_HISTORY)
        .keys(&[keys_from(1, -2, 1, RW | ACCESS | DELETE)])
        .args(BZPOP_ARGS),
    cmd("bzpopmin", -3, WRITE | FAST | BLOCKING, &["write", "sortedset", "fast", "blocking"])
        .doc(SORTED_SET, "5.0.0", "O(log(N)) with N being the number of elements in the sorted \
            set.", "Removes and returns the member with the lowest score from one or more sorted \
            sets. Blocks until a member is available otherwise. Deletes the sorted set if the \
            last element was popped.")
        .history(BZPOP_HISTORY)
        .keys(&[keys_from(1, -2, 1, RW | ACCESS | DELETE)])
        .args(BZPOP_ARGS),
    cmd("zadd", -4, WRITE | DENYOOM | FAST, &["write", "sortedset", "fast"])
        .doc(SORTED_SET, "1.2.0", "O(log(N)) for each item added, where N is the number of \
            elements in the sorted set.", "Adds one or more members to a sorted set, or updates \
            their scores. Creates the key if it doesn't exist.")
        .history(&[
            ("2.4.0", "Accepts multiple elements."),
            ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
            ("6.2.0", "Added the `GT` and `LT` options."),
        ])
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[
            key("key", 0),
            oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")]).since("3.0.2").opt(),
            oneof("comparison", &[pure("gt", "GT"), pure("lt", "LT")]).since("6.2.0").opt(),
            pure("change", "CH").since("3.0.2").opt(),
            pure("increment", "INCR").since("3.0.2").opt(),
            block("data", &[double("score"), string("member")]).multi(),
        ]),
    cmd("zcard", 2, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "1.2.0", "O(1)", "Returns the number of members in a sorted set.")
        .keys(&[key_at(1, RO)])
        .args(KEY),
    cmd("zcount", 4, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "2.0.0", "O(log(N)) with N being the number of elements in the sorted \
            set.", "Returns the count of members in a sorted set that have scores within a \
            range.")
        .keys(ZSET_RO)
        .args(KEY_MIN_MAX_SCORE),
    cmd("zdiff", -3, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "6.2.0", DIFF_COMPLEXITY,
            "Returns the difference between multiple sorted sets.")
        .keys(NUMKEYS_AT_1)
        .args(&[integer("numkeys"), key("key", 0).multi(), WITHSCORES]),
    cmd("zdiffstore", -4, WRITE | DENYOOM, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "6.2.0", DIFF_COMPLEXITY,
            "Stores the difference of multiple sorted sets in a key.")
        .keys(STORE_NUMKEYS)
        .args(&[key("destination", 0), integer("numkeys"), key("key", 1).multi()]),
    cmd("zincrby", 4, WRITE | DENYOOM | FAST, &["write", "sortedset", "fast"])
        .doc(SORTED_SET, "1.2.0", "O(log(N)) where N is the number of elements in the sorted \
            set.", "Increments the score of a member in a sorted set.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), integer("increment"), string("member")]),
    cmd("zinter", -3, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "6.2.0", INTER_COMPLEXITY,
            "Returns the intersect of multiple sorted sets.")
        .keys(NUMKEYS_AT_1)
        .args(&[integer("numkeys"), key("key", 0).multi(), WEIGHTS, AGGREGATE, WITHSCORES]),
    cmd("zintercard", -3, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, \
            K being the number of input sorted sets.",
            "Returns the number of members of the intersect of multiple sorted sets.")
        .keys(NUMKEYS_AT_1)
        .args(&[
            integer("numkeys"),
            key("key", 0).multi(),
            integer("limit").token("LIMIT").opt(),
        ]),
    cmd("zinterstore", -4, WRITE | DENYOOM, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "2.0.0", INTER_COMPLEXITY,
            "Stores the intersect of multiple sorted sets in a key.")
        .keys(STORE_NUMKEYS)
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multi(),
            WEIGHTS,
            AGGREGATE,
        ]),
    cmd("zlexcount", 4, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "2.8.9", "O(log(N)) with N being the number of elements in the sorted \
            set.", "Returns the number of members in a sorted set within a lexicographical \
            range.")
        .keys(ZSET_RO)
        .args(KEY_MIN_MAX_LEX),
    cmd("zmpop", -4, WRITE, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "7.0.0", MPOP_COMPLEXITY, "Returns the highest- or lowest-scoring \
            members from one or more sorted sets after removing them. Deletes the sorted set if \
            the last member was popped.")
        .keys(&[keynum_at(1, RW | ACCESS | DELETE)])
        .args(&[
            integer("numkeys"),
            key("key", 0).multi(),
            WHERE,
            integer("count").token("COUNT").opt(),
        ]),
    cmd("zmscore", -3, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "6.2.0", "O(N) where N is the number of members being requested.",
            "Returns the score of one or more members in a sorted set.")
        .keys(ZSET_RO)
        .args(KEY_MEMBERS),
    cmd("zpopmax", -2, WRITE | FAST, &["write", "sortedset", "fast"])
        .doc(SORTED_SET, "5.0.0", POP_COMPLEXITY, "Returns the highest-scoring members from a \
            sorted set after removing them. Deletes the sorted set if the last member was \
            popped.")
        .keys(ZSET_POP)
        .args(KEY_COUNT),
    cmd("zpopmin", -2, WRITE | FAST, &["write", "sortedset", "fast"])
        .doc(SORTED_SET, "5.0.0", POP_COMPLEXITY, "Returns the lowest-scoring members from a \
            sorted set after removing them. Deletes the sorted set if the last member was \
            popped.")
        .keys(ZSET_POP)
        .args(KEY_COUNT),
    cmd("zrandmember", -2, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "6.2.0", "O(N) where N is the number of members returned",
            "Returns one or more random members from a sorted set.")
        .tips(&["nondeterministic_output"])
        .keys(ZSET_RO)
        .args(&[
            key("key", 0),
            block("options", &[integer("count"), WITHSCORES]).opt(),
        ]),
    cmd("zrange", -4, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "1.2.0", RANGE_COMPLEXITY,
            "Returns members in a sorted set within a range of indexes.")
        .history(&[("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.")])
        .keys(ZSET_RO)
        .args(&[
            key("key", 0),
            string("start"),
            string("stop"),
            SORTBY.since("6.2.0"),
            pure("rev", "REV").since("6.2.0").opt(),
            LIMIT.since("6.2.0"),
            WITHSCORES,
        ]),
    cmd("zrangebylex", -4, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "2.8.9", RANGE_BY_COMPLEXITY,
            "Returns members in a sorted set within a lexicographical range.")
        .deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument")
        .keys(ZSET_RO)
        .args(&[key("key", 0), string("min"), string("max"), LIMIT]),
    cmd("zrangebyscore", -4, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "1.0.5", RANGE_BY_COMPLEXITY,
            "Returns members in a sorted set within a range of scores.")
        .deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument")
        .history(&[("2.0.0", "Added the `WITHSCORES` modifier.")])
        .keys(ZSET_RO)
        .args(&[
            key("key", 0),
            double("min"),
            double("max"),
            WITHSCORES.since("2.0.0"),
            LIMIT,
        ]),
    cmd("zrangestore", -5, WRITE | DENYOOM, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted \
            set and M the number of elements stored into the destination key.",
            "Stores a range of members from sorted set in a key.")
        .keys(&[key_at(1, OW | UPDATE), key_at(2, RO | ACCESS)])
        .args(&[
            key("dst", 0),
            key("src", 1),
            string("min"),
            string("max"),
            SORTBY,
            pure("rev", "REV").opt(),
            LIMIT,
        ]),
    cmd("zrank", -3, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "2.0.0", "O(log(N))",
            "Returns the index of a member in a sorted set ordered by ascending scores.")
        .history(RANK_HISTORY)
        .keys(ZSET_RO)
        .args(KEY_MEMBER_WITHSCORE),
    cmd("zrem", -3, WRITE | FAST, &["write", "sortedset", "fast"])
        .doc(SORTED_SET, "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted \
            set and M the number of elements to be removed.", "Removes one or more members from \
            a sorted set. Deletes the sorted set if all members were removed.")
        .history(&[("2.4.0", "Accepts multiple elements.")])
        .keys(ZSET_RM)
        .args(KEY_MEMBERS),
    cmd("zremrangebylex", 4, WRITE, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "2.8.9", REMRANGE_COMPLEXITY, "Removes members in a sorted set within a \
            lexicographical range. Deletes the sorted set if all members were removed.")
        .keys(ZSET_RM)
        .args(KEY_MIN_MAX_LEX),
    cmd("zremrangebyrank", 4, WRITE, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "2.0.0", REMRANGE_COMPLEXITY, "Removes members in a sorted set within a \
            range of indexes. Deletes the sorted set if all members were removed.")
        .keys(ZSET_RM)
        .args(&[key("key", 0), integer("start"), integer("stop")]),
    cmd("zremrangebyscore", 4, WRITE, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "1.2.0", REMRANGE_COMPLEXITY, "Removes members in a sorted set within a \
            range of scores. Deletes the sorted set if all members were removed.")
        .keys(ZSET_RM)
        .args(KEY_MIN_MAX_SCORE),
    cmd("zrevrange", -4, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "1.2.0", RANGE_COMPLEXITY,
            "Returns members in a sorted set within a range of indexes in reverse order.")
        .deprecated("6.2.0", "`ZRANGE` with the `REV` argument")
        .keys(ZSET_RO)
        .args(&[key("key", 0), integer("start"), integer("stop"), WITHSCORES]),
    cmd("zrevrangebylex", -4, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "2.8.9", RANGE_BY_COMPLEXITY,
            "Returns members in a sorted set within a lexicographical range in reverse order.")
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments")
        .keys(ZSET_RO)
        .args(&[key("key", 0), string("max"), string("min"), LIMIT]),
    cmd("zrevrangebyscore", -4, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "2.2.0", RANGE_BY_COMPLEXITY,
            "Returns members in a sorted set within a range of scores in reverse order.")
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments")
        .history(&[("2.1.6", "`min` and `max` can be exclusive.")])
        .keys(ZSET_RO)
        .args(&[key("key", 0), double("max"), double("min"), WITHSCORES, LIMIT]),
    cmd("zrevrank", -3, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "2.0.0", "O(log(N))",
            "Returns the index of a member in a sorted set ordered by descending scores.")
        .history(RANK_HISTORY)
        .keys(ZSET_RO)
        .args(KEY_MEMBER_WITHSCORE),
    cmd("zscan", -3, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including \
            enough command calls for the cursor to return back to 0. N is the number of elements \
            inside the collection.", "Iterates over members and scores of a sorted set.")
        .tips(&["nondeterministic_output"])
        .keys(ZSET_RO)
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").opt(),
            integer("count").token("COUNT").opt(),
        ]),
    cmd("zscore", 3, READONLY | FAST, &["read", "sortedset", "fast"])
        .doc(SORTED_SET, "1.2.0", "O(1)", "Returns the score of a member in a sorted set.")
        .keys(ZSET_RO)
        .args(KEY_MEMBER),
    cmd("zunion", -3, READONLY, &["read", "sortedset", "slow"])
        .doc(SORTED_SET, "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the \
            input sorted sets, and M being the number of elements in the resulting sorted set.",
            "Returns the union of multiple sorted sets.")
        .keys(NUMKEYS_AT_1)
        .args(&[integer("numkeys"), key("key", 0).multi(), WEIGHTS, AGGREGATE, WITHSCORES]),
    cmd("zunionstore", -4, WRITE | DENYOOM, &["write", "sortedset", "slow"])
        .doc(SORTED_SET, "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the \
            input sorted sets, and M being the number of elements in the resulting sorted set.",
            "Stores the union of multiple sorted sets in a key.")
        .keys(STORE_NUMKEYS)
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multi(),
            WEIGHTS,
            AGGREGATE,
        ]),
];
