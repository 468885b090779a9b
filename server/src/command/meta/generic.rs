//! Keyspace commands (Redis' `db.c`, `expire.c`, `object.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const GENERIC: &str = "generic";

const KEY: &[Arg] = &[key("key", 0)];
const KEYS: &[Arg] = &[key("key", 0).multi()];
const KEY_NEWKEY: &[Arg] = &[key("key", 0), key("newkey", 1)];
const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];

/// NX | XX | GT | LT of the EXPIRE family.
const EXPIRE_CONDITION: Arg = oneof(
    "condition",
    &[
        pure("nx", "NX"),
        pure("xx", "XX"),
        pure("gt", "GT"),
        pure("lt", "LT"),
    ],
)
.since("7.0.0")
.opt();
const EXPIRE_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")];

const OBJECT_KEY: &[KeySpec] = &[key_at(2, RO)];

/// OBJECT subcommands reading one key (at index 2).
const fn object_sub(name: &'static str, since: &'static str, summary: &'static str) -> CommandSpec {
    cmd(name, 3, READONLY, &["keyspace", "read", "slow"])
        .doc(GENERIC, since, "O(1)", summary)
        .tips(&["nondeterministic_output"])
        .keys(OBJECT_KEY)
        .args(KEY)
}

/// RESTORE and RESTORE-ASKING (`server.rs`) share everything but their flags and group.
pub(super) const RESTORE_COMPLEXITY: &str = "O(1) to create the new key and additional O(N*M) to \
    reconstruct the serialized value, where N is the number of Redis objects composing the value \
    and M their average size. For small string values the time complexity is thus O(1)+O(1*M) \
    where M is small, so simply O(1). However for sorted set values the complexity is \
    O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";
pub(super) const RESTORE_HISTORY: &[(&str, &str)] = &[
    ("3.0.0", "Added the `REPLACE` modifier."),
    ("5.0.0", "Added the `ABSTTL` modifier."),
    ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
];
pub(super) const RESTORE_KEYS: &[KeySpec] = &[key_at(1, OW | UPDATE)];
pub(super) const RESTORE_ARGS: &[Arg] = &[
    key("key", 0),
    integer("ttl"),
    string("serialized-value"),
    pure("replace", "REPLACE").since("3.0.0").opt(),
    pure("absttl", "ABSTTL").since("5.0.0").opt(),
    integer("seconds").token("IDLETIME").since("5.0.0").opt(),
    integer("frequency").token("FREQ").since("5.0.0").opt(),
];
const RW_ACCESS_DELETE: u64 = RW | ACCESS | DELETE;

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("del", -2, WRITE, &["keyspace", "write", "slow"])
        .doc(GENERIC, "1.0.0", "O(N) where N is the number of keys that will be removed. When a \
            key to remove holds a value other than a string, the individual complexity for this \
            key is O(M) where M is the number of elements in the list, set, sorted set or hash. \
            Removing a single key that holds a string value is O(1).",
            "Deletes one or more keys.")
        .tips(MULTI_SHARD_SUM)
        .keys(&[keys_from(1, -1, 1, RM | DELETE)])
        .args(KEYS),
    cmd("unlink", -2, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "4.0.0", "O(1) for each key removed regardless of its size. Then the \
            command does O(N) work in a different thread in order to reclaim memory, where N is \
            the number of allocations the deleted objects where composed of.",
            "Asynchronously deletes one or more keys.")
        .tips(MULTI_SHARD_SUM)
        .keys(&[keys_from(1, -1, 1, RM | DELETE)])
        .args(KEYS),
    cmd("exists", -2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "1.0.0", "O(N) where N is the number of keys to check.",
            "Determines whether one or more keys exist.")
        .history(&[("3.0.3", "Accepts multiple `key` arguments.")])
        .tips(MULTI_SHARD_SUM)
        .keys(&[keys_from(1, -1, 1, RO)])
        .args(KEYS),
    cmd("type", 2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "1.0.0", "O(1)", "Determines the type of value stored at a key.")
        .keys(&[key_at(1, RO)])
        .args(KEY),
    cmd("expire", -3, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "1.0.0", "O(1)", "Sets the expiration time of a key in seconds.")
        .history(EXPIRE_HISTORY)
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), integer("seconds"), EXPIRE_CONDITION]),
    cmd("pexpire", -3, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "2.6.0", "O(1)", "Sets the expiration time of a key in milliseconds.")
        .history(EXPIRE_HISTORY)
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), integer("milliseconds"), EXPIRE_CONDITION]),
    cmd("expireat", -3, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "1.2.0", "O(1)", "Sets the expiration time of a key to a Unix timestamp.")
        .history(EXPIRE_HISTORY)
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), unix_time("unix-time-seconds"), EXPIRE_CONDITION]),
    cmd("pexpireat", -3, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "2.6.0", "O(1)",
            "Sets the expiration time of a key to a Unix milliseconds timestamp.")
        .history(EXPIRE_HISTORY)
        .keys(&[key_at(1, RW | UPDATE)])
        .args(&[key("key", 0), unix_time("unix-time-milliseconds"), EXPIRE_CONDITION]),
    cmd("ttl", 2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "1.0.0", "O(1)", "Returns the expiration time in seconds of a key.")
        .history(&[("2.8.0", "Added the -2 reply.")])
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("pttl", 2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "2.6.0", "O(1)", "Returns the expiration time in milliseconds of a key.")
        .history(&[("2.8.0", "Added the -2 reply.")])
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("expiretime", 2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "7.0.0", "O(1)", "Returns the expiration time of a key as a Unix timestamp.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("pexpiretime", 2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "7.0.0", "O(1)",
            "Returns the expiration time of a key as a Unix milliseconds timestamp.")
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("persist", 2, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "2.2.0", "O(1)", "Removes the expiration time of a key.")
        .keys(&[key_at(1, RW | UPDATE)])
        .args(KEY),
    cmd("keys", 2, READONLY, &["keyspace", "read", "slow", "dangerous"])
        .doc(GENERIC, "1.0.0", "O(N) with N being the number of keys in the database, under the \
            assumption that the key names in the database and the given pattern have limited \
            length.",
            "Returns all key names that match a pattern.")
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .args(&[pattern("pattern")]),
    cmd("scan", -2, READONLY | TOUCHES_ARBITRARY_KEYS, &["keyspace", "read", "slow"])
        .doc(GENERIC, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including \
            enough command calls for the cursor to return back to 0. N is the number of elements \
            inside the collection.",
            "Iterates over the key names in the database.")
        .history(&[("6.0.0", "Added the `TYPE` subcommand.")])
        .tips(&["nondeterministic_output", "request_policy:special", "response_policy:special"])
        .args(&[
            integer("cursor"),
            pattern("pattern").token("MATCH").opt(),
            integer("count").token("COUNT").opt(),
            string("type").token("TYPE").since("6.0.0").opt(),
        ]),
    cmd("randomkey", 1, READONLY | TOUCHES_ARBITRARY_KEYS, &["keyspace", "read", "slow"])
        .doc(GENERIC, "1.0.0", "O(1)", "Returns a random key name from the database.")
        .tips(&["request_policy:all_shards", "response_policy:special", "nondeterministic_output"]),
    cmd("rename", 3, WRITE, &["keyspace", "write", "slow"])
        .doc(GENERIC, "1.0.0", "O(1)", "Renames a key and overwrites the destination.")
        .keys(&[key_at(1, RW | ACCESS | DELETE), key_at(2, OW | UPDATE)])
        .args(KEY_NEWKEY),
    cmd("renamenx", 3, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "1.0.0", "O(1)", "Renames a key only when the target key name doesn't exist.")
        .history(&[("3.2.0", "The command no longer returns an error when source and destination \
            names are the same.")])
        .keys(&[key_at(1, RW | ACCESS | DELETE), key_at(2, OW | INSERT)])
        .args(KEY_NEWKEY),
    cmd("wait", 3, 0, &["slow", "connection"])
        .doc(GENERIC, "3.0.0", "O(1)",
            "Blocks until the asynchronous replication of all preceding write commands sent by \
            the connection is completed.")
        .args(&[integer("numreplicas"), integer("timeout")])
        .tips(&["request_policy:all_shards", "response_policy:agg_min"]),
    cmd("copy", -3, WRITE | DENYOOM, &["keyspace", "write", "slow"])
        .doc(GENERIC, "6.2.0", "O(N) worst case for collections, where N is the number of nested \
            items. O(1) for string values.",
            "Copies the value of a key to a new key.")
        .keys(&[key_at(1, RO | ACCESS), key_at(2, OW | UPDATE)])
        .args(&[
            key("source", 0),
            key("destination", 1),
            integer("destination-db").token("DB").opt(),
            pure("replace", "REPLACE").opt(),
        ]),
    cmd("move", 3, WRITE | FAST, &["keyspace", "write", "fast"])
        .doc(GENERIC, "1.0.0", "O(1)", "Moves a key to another database.")
        .keys(&[key_at(1, RW | ACCESS | UPDATE)])
        .args(&[key("key", 0), integer("db")]),
    cmd("touch", -2, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(GENERIC, "3.2.1", "O(N) where N is the number of keys that will be touched.",
            "Returns the number of existing keys out of those specified after updating the time \
            they were last accessed.")
        .tips(MULTI_SHARD_SUM)
        .keys(&[keys_from(1, -1, 1, RO)])
        .args(KEYS),
    cmd("object", -2, 0, &["slow"])
        .doc(GENERIC, "2.2.3", "Depends on subcommand.",
            "A container for object introspection commands.")
        .subcommands(&[
            object_sub("object|encoding", "2.2.3",
                "Returns the internal encoding of a Redis object."),
            object_sub("object|freq", "4.0.0",
                "Returns the logarithmic access frequency counter of a Redis object."),
            cmd("object|help", 2, LOADING | STALE, &["keyspace", "slow"])
                .doc(GENERIC, "6.2.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            object_sub("object|idletime", "2.2.3",
                "Returns the time since the last access to a Redis object."),
            object_sub("object|refcount", "2.2.3",
                "Returns the reference count of a value of a key."),
        ]),
    cmd("dump", 2, READONLY, &["keyspace", "read", "slow"])
        .doc(GENERIC, "2.6.0", "O(1) to access the key and additional O(N*M) to serialize it, \
            where N is the number of Redis objects composing the value and M their average size. \
            For small string values the time complexity is thus O(1)+O(1*M) where M is small, so \
            simply O(1).",
            "Returns a serialized representation of the value stored at a key.")
        .tips(&["nondeterministic_output"])
        .keys(&[key_at(1, RO | ACCESS)])
        .args(KEY),
    cmd("restore", -4, WRITE | DENYOOM, &["keyspace", "write", "slow", "dangerous"])
        .doc(GENERIC, "2.6.0", RESTORE_COMPLEXITY,
            "Creates a key from the serialized representation of a value.")
        .history(RESTORE_HISTORY)
        .keys(RESTORE_KEYS)
        .args(RESTORE_ARGS),
    cmd("migrate", -6, WRITE, &["keyspace", "write", "slow", "dangerous"])
        .doc(GENERIC, "2.6.0", "This command actually executes a DUMP+DEL in the source \
            instance, and a RESTORE in the target instance. See the pages of these commands for \
            time complexity. Also an O(N) data transfer between the two instances is performed.",
            "Atomically transfers a key from one Redis instance to another.")
        .history(&[
            ("3.0.0", "Added the `COPY` and `REPLACE` options."),
            ("3.0.6", "Added the `KEYS` option."),
            ("4.0.7", "Added the `AUTH` option."),
            ("6.0.0", "Added the `AUTH2` option."),
        ])
        .tips(&["nondeterministic_output"])
        .keys(&[
            key_at(3, RW_ACCESS_DELETE),
            KeySpec::new(
                RW_ACCESS_DELETE | INCOMPLETE,
                BeginSearch::Keyword { keyword: "KEYS", startfrom: -2 },
                FindKeys::Range { lastkey: -1, step: 1, limit: 0 },
            ),
        ])
        .args(&[
            string("host"),
            integer("port"),
            oneof("key-selector", &[key("key", 0), pure("empty-string", "\"\"")]),
            integer("destination-db"),
            integer("timeout"),
            pure("copy", "COPY").since("3.0.0").opt(),
            pure("replace", "REPLACE").since("3.0.0").opt(),
            oneof("authentication", &[
                string("auth").token("AUTH").display("password").since("4.0.7"),
                block("auth2", &[string("username"), string("password")])
                    .token("AUTH2").since("6.0.0"),
            ]).opt(),
            key("keys", 1).token("KEYS").display("key").since("3.0.6").opt().multi(),
        ]),
];

/// MIGRATE's keys, as Redis' `migrateGetKeys` finds them (its KEYS spec is incomplete): the
/// key argument, or every argument after KEYS (options before it skipped with their
/// values); none when KEYS follows a non-empty key argument.
pub(super) fn migrate_keys(name: &str, args: &[&[u8]]) -> Option<Vec<(usize, u64)>> {
    if name != "migrate" {
        return None;
    }
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        let a = args[i];
        if a.eq_ignore_ascii_case(b"keys") {
            if args.get(3).is_some_and(|k| !k.is_empty()) {
                return Some(Vec::new());
            }
            first = i + 1;
            num = args.len() - first;
            break;
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    Some(
        (first..first + num)
            .filter(|&p| p < args.len())
            .map(|p| (p, RW_ACCESS_DELETE))
            .collect(),
    )
}
