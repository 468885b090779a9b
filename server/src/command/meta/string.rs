//! Strings and bitmaps (Redis' `t_string.c`, `bitops.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const STRING: &str = "string";
const BITMAP: &str = "bitmap";

const GETRANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The \
    complexity is ultimately determined by the returned length, but because creating a \
    substring from an existing string is very cheap, it can be considered O(1) for small \
    strings.";

const KEY: &[Arg] = &[key("key", 0)];
const KEY_VALUE: &[Arg] = &[key("key", 0), string("value")];
const BYTE_BIT: &[Arg] = &[pure("byte", "BYTE"), pure("bit", "BIT")];
const ENCODING_OFFSET: &[Arg] = &[string("encoding"), integer("offset")];

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("get", 2, READONLY | FAST, &["read", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)", "Returns the string value of a key.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("set", -3, WRITE | DENYOOM, &["write", "string", "slow"])
        .doc(STRING, "1.0.0", "O(1)", "Sets the string value of a key, ignoring its type. The key \
            is created if it doesn't exist.")
        .history(&[
            ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
            ("6.0.0", "Added the `KEEPTTL` option."),
            ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
            ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
        ])
        .keys(&[key_at(1, RW | ACCESS | UPDATE | VARIABLE_FLAGS)
            .notes("RW and ACCESS due to the optional `GET` argument")])
        .args(&[
            key("key", 0),
            string("value"),
            oneof("condition", &[pure("nx", "NX"), pure("xx", "XX")]).since("2.6.12").opt(),
            pure("get", "GET").since("6.2.0").opt(),
            oneof("expiration", &[
                integer("seconds").token("EX").since("2.6.12"),
                integer("milliseconds").token("PX").since("2.6.12"),
                unix_time("unix-time-seconds").token("EXAT").since("6.2.0"),
                unix_time("unix-time-milliseconds").token("PXAT").since("6.2.0"),
                pure("keepttl", "KEEPTTL").since("6.0.0"),
            ]).opt(),
        ]),
    cmd("setnx", 3, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)",
            "Set the string value of a key only when the key doesn't exist.")
        .deprecated("2.6.12", "`SET` with the `NX` argument")
        .keys(&[key_at(1, OW | INSERT)])
        .args(KEY_VALUE),
    cmd("setex", 4, WRITE | DENYOOM, &["write", "string", "slow"])
        .doc(STRING, "2.0.0", "O(1)", "Sets the string value and expiration time of a key. \
            Creates the key if it doesn't exist.")
        .deprecated("2.6.12", "`SET` with the `EX` argument")
        .keys(&[key_at(1, OW | UPDATE)])
        .args(&[key("key", 0), integer("seconds"), string("value")]),
    cmd("psetex", 4, WRITE | DENYOOM, &["write", "string", "slow"])
        .doc(STRING, "2.6.0", "O(1)", "Sets both string value and expiration time in \
            milliseconds of a key. The key is created if it doesn't exist.")
        .deprecated("2.6.12", "`SET` with the `PX` argument")
        .keys(&[key_at(1, OW | UPDATE)])
        .args(&[key("key", 0), integer("milliseconds"), string("value")]),
    cmd("getex", -2, WRITE | FAST, &["write", "string", "fast"])
        .doc(STRING, "6.2.0", "O(1)",
            "Returns the string value of a key after setting its expiration time.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE).notes("RW and UPDATE because it changes the TTL")])
        .args(&[
            key("key", 0),
            oneof("expiration", &[
                integer("seconds").token("EX"),
                integer("milliseconds").token("PX"),
                unix_time("unix-time-seconds").token("EXAT"),
                unix_time("unix-time-milliseconds").token("PXAT"),
                pure("persist", "PERSIST"),
            ]).opt(),
        ]),
    cmd("getdel", 2, WRITE | FAST, &["write", "string", "fast"])
        .doc(STRING, "6.2.0", "O(1)", "Returns the string value of a key after deleting the key.")
        .keys(&[key_at(1, RW | ACCESS | DELETE)])
        .args(KEY),
    cmd("getset", 3, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)",
            "Returns the previous string value of a key after setting it to a new value.")
        .deprecated("6.2.0", "`SET` with the `!GET` argument")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(KEY_VALUE),
    cmd("mget", -2, READONLY | FAST, &["read", "string", "fast"])
        .doc(STRING, "1.0.0", "O(N) where N is the number of keys to retrieve.",
            "Atomically returns the string values of one or more keys.")
        .tips(&["request_policy:multi_shard"])
        .keys(&[keys_from(1, -1, 1, RO | ACCESS)])
        .args(&[key("key", 0).multi()]),
    cmd("mset", -3, WRITE | DENYOOM, &["write", "string", "slow"])
        .doc(STRING, "1.0.1", "O(N) where N is the number of keys to set.",
            "Atomically creates or modifies the string values of one or more keys.")
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .keys(&[keys_from(1, -1, 2, OW | UPDATE)])
        .args(&[block("data", KEY_VALUE).multi()]),
    cmd("msetnx", -3, WRITE | DENYOOM, &["write", "string", "slow"])
        .doc(STRING, "1.0.1", "O(N) where N is the number of keys to set.", "Atomically \
            modifies the string values of one or more keys only when all keys don't exist.")
        .keys(&[keys_from(1, -1, 2, OW | INSERT)])
        .args(&[block("data", KEY_VALUE).multi()]),
    cmd("append", 3, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "2.0.0", "O(1). The amortized time complexity is O(1) assuming the \
            appended value is small and the already present value is of any size, since the \
            dynamic string library used by Redis will double the free space available on every \
            reallocation.",
            "Appends a string to the value of a key. Creates the key if it doesn't exist.")
        .keys(&[key_at(1, RW | INSERT)])
        .args(KEY_VALUE),
    cmd("strlen", 2, READONLY | FAST, &["read", "string", "fast"])
        .doc(STRING, "2.2.0", "O(1)", "Returns the length of a string value.")
        .keys(&[key_at(1, RO)])
        .args(KEY),
    cmd("incr", 2, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)", "Increments the integer value of a key by one. Uses 0 as \
            initial value if the key doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(KEY),
    cmd("decr", 2, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)", "Decrements the integer value of a key by one. Uses 0 as \
            initial value if the key doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(KEY),
    cmd("incrby", 3, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)", "Increments the integer value of a key by a number. Uses \
            0 as initial value if the key doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), integer("increment")]),
    cmd("decrby", 3, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "1.0.0", "O(1)", "Decrements a number from the integer value of a key. \
            Uses 0 as initial value if the key doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), integer("decrement")]),
    cmd("incrbyfloat", 3, WRITE | DENYOOM | FAST, &["write", "string", "fast"])
        .doc(STRING, "2.6.0", "O(1)", "Increment the floating point value of a key by a number. \
            Uses 0 as initial value if the key doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), double("increment")]),
    cmd("getrange", 4, READONLY, &["read", "string", "slow"])
        .doc(STRING, "2.4.0", GETRANGE_COMPLEXITY,
            "Returns a substring of the string stored at a key.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[key("key", 0), integer("start"), integer("end")]),
    cmd("setrange", 4, WRITE | DENYOOM, &["write", "string", "slow"])
        .doc(STRING, "2.2.0", "O(1), not counting the time taken to copy the new string in \
            place. Usually, this string is very small so the amortized complexity is O(1). \
            Otherwise, complexity is O(M) with M being the length of the value argument.",
            "Overwrites a part of a string value with another by an offset. Creates the key if \
            it doesn't exist.")
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), integer("offset"), string("value")]),
    cmd("substr", 4, READONLY, &["read", "string", "slow"])
        .doc(STRING, "1.0.0", GETRANGE_COMPLEXITY, "Returns a substring from a string value.")
        .deprecated("2.0.0", "`GETRANGE`")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[key("key", 0), integer("start"), integer("end")]),
    cmd("lcs", -3, READONLY, &["read", "string", "slow"])
        .doc(STRING, "7.0.0", "O(N*M) where N and M are the lengths of s1 and s2, respectively",
            "Finds the longest common substring.")
        .keys(&[keys_from(1, 1, 1, RO | ACCESS)])
        .args(&[
            key("key1", 0),
            key("key2", 0),
            pure("len", "LEN").opt(),
            pure("idx", "IDX").opt(),
            integer("min-match-len").token("MINMATCHLEN").opt(),
            pure("withmatchlen", "WITHMATCHLEN").opt(),
        ]),
    // Bitmaps.
    cmd("setbit", 4, WRITE | DENYOOM, &["write", "bitmap", "slow"])
        .doc(BITMAP, "2.2.0", "O(1)", "Sets or clears the bit at offset of the string value. \
            Creates the key if it doesn't exist.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), integer("offset"), integer("value")]),
    cmd("getbit", 3, READONLY | FAST, &["read", "bitmap", "fast"])
        .doc(BITMAP, "2.2.0", "O(1)", "Returns a bit value by offset.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[key("key", 0), integer("offset")]),
    cmd("bitcount", -2, READONLY, &["read", "bitmap", "slow"])
        .doc(BITMAP, "2.6.0", "O(N)",
            "Counts the number of set bits (population counting) in a string.")
        .history(&[("7.0.0", "Added the `BYTE|BIT` option.")])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            block("range", &[
                integer("start"),
                integer("end"),
                oneof("unit", BYTE_BIT).since("7.0.0").opt(),
            ]).opt(),
        ]),
    cmd("bitpos", -3, READONLY, &["read", "bitmap", "slow"])
        .doc(BITMAP, "2.8.7", "O(N)", "Finds the first set (1) or clear (0) bit in a string.")
        .history(&[("7.0.0", "Added the `BYTE|BIT` option.")])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            integer("bit"),
            block("range", &[
                integer("start"),
                block("end-unit-block", &[
                    integer("end"),
                    oneof("unit", BYTE_BIT).since("7.0.0").opt(),
                ]).opt(),
            ]).opt(),
        ]),
    cmd("bitop", -4, WRITE | DENYOOM, &["write", "bitmap", "slow"])
        .doc(BITMAP, "2.6.0", "O(N)",
            "Performs bitwise operations on multiple strings, and stores the result.")
        .keys(&[key_at(2, OW | UPDATE), keys_from(3, -1, 1, RO | ACCESS)])
        .args(&[
            oneof("operation", &[
                pure("and", "AND"), pure("or", "OR"), pure("xor", "XOR"), pure("not", "NOT"),
            ]),
            key("destkey", 0),
            key("key", 1).multi(),
        ]),
    cmd("bitfield", -2, WRITE | DENYOOM, &["write", "bitmap", "slow"])
        .doc(BITMAP, "3.2.0", "O(1) for each subcommand specified",
            "Performs arbitrary bitfield integer operations on strings.")
        .keys(&[key_at(1, RW | UPDATE | ACCESS | VARIABLE_FLAGS)
            .notes("This command allows both access and modification of the key")])
        .args(&[
            key("key", 0),
            oneof("operation", &[
                block("get-block", ENCODING_OFFSET).token("GET"),
                block("write", &[
                    oneof("overflow-block", &[
                        pure("wrap", "WRAP"), pure("sat", "SAT"), pure("fail", "FAIL"),
                    ]).token("OVERFLOW").opt(),
                    oneof("write-operation", &[
                        block("set-block", &[
                            string("encoding"), integer("offset"), integer("value"),
                        ]).token("SET"),
                        block("incrby-block", &[
                            string("encoding"), integer("offset"), integer("increment"),
                        ]).token("INCRBY"),
                    ]),
                ]),
            ]).opt().multi(),
        ]),
    cmd("bitfield_ro", -2, READONLY | FAST, &["read", "bitmap", "fast"])
        .doc(BITMAP, "6.0.0", "O(1) for each subcommand specified",
            "Performs arbitrary read-only bitfield integer operations on strings.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(&[
            key("key", 0),
            block("get-block", ENCODING_OFFSET).token("GET").opt().multi().multi_token(),
        ]),
];
