//! Server commands (Redis' `server.c`, `config.c`, `debug.c`).

use super::flag::*;
use super::*;

const SERVER: &str = "server";

/// Flags and ACL categories of COMMAND and its subcommands.
const INTROSPECTION: u64 = LOADING | STALE | SENTINEL;
const INTROSPECTION_ACL: &[&str] = &["slow", "connection"];

/// Flags of the admin commands.
const ADMIN_FLAGS: u64 = ADMIN | NOSCRIPT | LOADING | STALE;
const ADMIN_ACL: &[&str] = &["admin", "slow", "dangerous"];
/// Flags of the ACL subcommands: the admin ones, and CAT, GENPASS, WHOAMI.
const ACL_ADMIN: u64 = ADMIN_FLAGS | SENTINEL;
const ACL_PLAIN: u64 = NOSCRIPT | LOADING | STALE | SENTINEL;
const FLUSH_ACL: &[&str] = &["keyspace", "write", "slow", "dangerous"];

const ALL_SHARDS_SUCCEEDED: &[&str] =
    &["request_policy:all_shards", "response_policy:all_succeeded"];
const ALL_NODES_SUCCEEDED: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];
const LOOKUP_ORDER: &[&str] = &["nondeterministic_output_order"];
/// MEMORY DOCTOR, MALLOC-STATS, STATS: every shard's answer, combined.
const MEMORY_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];
const MODULE_FLAGS: u64 = ADMIN | NOSCRIPT | NO_ASYNC_LOADING;

const FLUSH_HISTORY: &[(&str, &str)] = &[
    ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
    ("6.2.0", "Added the `SYNC` flushing mode modifier."),
];
const FLUSH_ARGS: &[Arg] = &[oneof(
    "flush-type",
    &[
        pure("async", "ASYNC").since("4.0.0"),
        pure("sync", "SYNC").since("6.2.0"),
    ],
)
.opt()];

/// REPLICAOF / SLAVEOF: `host port` or `NO ONE`.
const REPLICAOF_ARGS: &[Arg] = &[oneof(
    "args",
    &[
        block("host-port", &[string("host"), integer("port")]),
        block("no-one", &[pure("no", "NO"), pure("one", "ONE")]),
    ],
)];

const COMMAND_NAMES: &[Arg] = &[string("command-name").opt().multi()];
/// The LATENCY subcommands that read every node's samples.
const LATENCY_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];
const EVENT: &[Arg] = &[string("event")];
const FULL_COMMAND: &[Arg] = &[string("command"), string("arg").opt().multi()];
const HELP: &str = "Returns helpful text about the different subcommands.";

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("dbsize", 1, READONLY | FAST, &["keyspace", "read", "fast"])
        .doc(SERVER, "1.0.0", "O(1)", "Returns the number of keys in the database.")
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    cmd("flushdb", -1, WRITE, FLUSH_ACL)
        .doc(SERVER, "1.0.0", "O(N) where N is the number of keys in the selected database",
            "Remove all keys from the current database.")
        .history(FLUSH_HISTORY)
        .tips(ALL_SHARDS_SUCCEEDED)
        .args(FLUSH_ARGS),
    cmd("flushall", -1, WRITE, FLUSH_ACL)
        .doc(SERVER, "1.0.0", "O(N) where N is the total number of keys in all databases",
            "Removes all keys from all databases.")
        .history(FLUSH_HISTORY)
        .tips(ALL_SHARDS_SUCCEEDED)
        .args(FLUSH_ARGS),
    cmd("swapdb", 3, WRITE | FAST, &["keyspace", "write", "fast", "dangerous"])
        .doc(SERVER, "4.0.0", "O(N) where N is the count of clients watching or blocking on keys \
            from both databases.",
            "Swaps two Redis databases.")
        .args(&[integer("index1"), integer("index2")]),
    cmd("time", 1, LOADING | STALE | FAST, &["fast"])
        .doc(SERVER, "2.6.0", "O(1)", "Returns the server time.")
        .tips(&["nondeterministic_output"]),
    cmd("info", -1, LOADING | STALE | SENTINEL, &["slow", "dangerous"])
        .doc(SERVER, "1.0.0", "O(1)", "Returns information and statistics about the server.")
        .history(&[("7.0.0", "Added support for taking multiple section arguments.")])
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .args(&[string("section").opt().multi()]),
    cmd("shutdown", -1, ADMIN_FLAGS | NO_MULTI | SENTINEL | ALLOW_BUSY, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "O(N) when saving, where N is the total number of keys in all \
            databases when saving data, otherwise O(1)",
            "Synchronously saves the database(s) to disk and shuts down the Redis server.")
        .history(&[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")])
        .args(&[
            oneof("save-selector", &[pure("nosave", "NOSAVE"), pure("save", "SAVE")]).opt(),
            pure("now", "NOW").since("7.0.0").opt(),
            pure("force", "FORCE").since("7.0.0").opt(),
            pure("abort", "ABORT").since("7.0.0").opt(),
        ]),
    cmd("restore-asking", -4, WRITE | DENYOOM | ASKING, &["keyspace", "write", "slow", "dangerous"])
        .doc(SERVER, "3.0.0", generic::RESTORE_COMPLEXITY,
            "An internal command for migrating keys in a cluster.")
        .history(generic::RESTORE_HISTORY)
        .syscmd()
        .keys(generic::RESTORE_KEYS)
        .args(generic::RESTORE_ARGS),
    cmd("debug", -2, ADMIN_FLAGS | PROTECTED, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "Depends on subcommand.", "A container for debugging commands.")
        .syscmd(),
    cmd("command", -1, INTROSPECTION, INTROSPECTION_ACL)
        .doc(SERVER, "2.8.13", "O(N) where N is the total number of Redis commands",
            "Returns detailed information about all commands.")
        .tips(LOOKUP_ORDER)
        .subcommands(&[
            cmd("command|count", 2, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "2.8.13", "O(1)", "Returns a count of commands."),
            cmd("command|docs", -2, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "7.0.0", "O(N) where N is the number of commands to look up",
                    "Returns documentary information about one, multiple or all commands.")
                .tips(LOOKUP_ORDER)
                .args(COMMAND_NAMES),
            cmd("command|getkeys", -3, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "2.8.13", "O(N) where N is the number of arguments to the command",
                    "Extracts the key names from an arbitrary command.")
                .args(FULL_COMMAND),
            cmd("command|getkeysandflags", -3, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "7.0.0", "O(N) where N is the number of arguments to the command",
                    "Extracts the key names and access flags for an arbitrary command.")
                .args(FULL_COMMAND),
            cmd("command|help", 2, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "5.0.0", "O(1)", HELP),
            cmd("command|info", -2, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "2.8.13", "O(N) where N is the number of commands to look up",
                    "Returns information about one, multiple or all commands.")
                .history(&[("7.0.0",
                    "Allowed to be called with no argument to get info on all commands.")])
                .tips(LOOKUP_ORDER)
                .args(COMMAND_NAMES),
            cmd("command|list", -2, INTROSPECTION, INTROSPECTION_ACL)
                .doc(SERVER, "7.0.0", "O(N) where N is the total number of Redis commands",
                    "Returns a list of command names.")
                .tips(LOOKUP_ORDER)
                .args(&[oneof("filterby", &[
                    string("module-name").token("MODULE"),
                    string("category").token("ACLCAT"),
                    pattern("pattern").token("PATTERN"),
                ]).token("FILTERBY").opt()]),
        ]),
    cmd("acl", -2, SENTINEL, &["slow"])
        .doc(SERVER, "6.0.0", "Depends on subcommand.",
            "A container for Access List Control commands.")
        .subcommands(&[
            cmd("acl|cat", -2, ACL_PLAIN, &["slow"])
                .doc(SERVER, "6.0.0", "O(1) since the categories and commands are a fixed set.",
                    "Lists the ACL categories, or the commands inside a category.")
                .args(&[string("category").opt()]),
            cmd("acl|deluser", -3, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(1) amortized time considering the typical user.",
                    "Deletes ACL users, and terminates their connections.")
                .tips(ALL_NODES_SUCCEEDED)
                .args(&[string("username").multi()]),
            cmd("acl|dryrun", -4, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "7.0.0", "O(1).",
                    "Simulates the execution of a command by a user, without executing the \
                    command.")
                .args(&[string("username"), string("command"), string("arg").opt().multi()]),
            cmd("acl|genpass", -2, ACL_PLAIN, &["slow"])
                .doc(SERVER, "6.0.0", "O(1)",
                    "Generates a pseudorandom, secure password that can be used to identify \
                    ACL users.")
                .args(&[integer("bits").opt()]),
            cmd("acl|getuser", 3, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N). Where N is the number of password, command and \
                    pattern rules that the user has.",
                    "Lists the ACL rules of a user.")
                .history(&[
                    ("6.2.0", "Added Pub/Sub channel patterns."),
                    ("7.0.0", "Added selectors and changed the format of key and channel \
                        patterns from a list to their rule representation."),
                ])
                .args(&[string("username")]),
            cmd("acl|help", 2, LOADING | STALE | SENTINEL, &["slow"])
                .doc(SERVER, "6.0.0", "O(1)", HELP),
            cmd("acl|list", 2, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N). Where N is the number of configured users.",
                    "Dumps the effective rules in ACL file format."),
            cmd("acl|load", 2, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N). Where N is the number of configured users.",
                    "Reloads the rules from the configured ACL file."),
            cmd("acl|log", -2, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N) with N being the number of entries shown.",
                    "Lists recent security events generated due to ACL rules.")
                .history(&[("7.2.0",
                    "Added entry ID, timestamp created, and timestamp last updated.")])
                .args(&[oneof("operation", &[integer("count"), pure("reset", "RESET")]).opt()]),
            cmd("acl|save", 2, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N). Where N is the number of configured users.",
                    "Saves the effective ACL rules in the configured ACL file.")
                .tips(ALL_NODES_SUCCEEDED),
            cmd("acl|setuser", -3, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N). Where N is the number of rules provided.",
                    "Creates and modifies an ACL user and its rules.")
                .history(&[
                    ("6.2.0", "Added Pub/Sub channel patterns."),
                    ("7.0.0", "Added selectors and key based permissions."),
                ])
                .tips(ALL_NODES_SUCCEEDED)
                .args(&[string("username"), string("rule").opt().multi()]),
            cmd("acl|users", 2, ACL_ADMIN, ADMIN_ACL)
                .doc(SERVER, "6.0.0", "O(N). Where N is the number of configured users.",
                    "Lists all ACL users."),
            cmd("acl|whoami", 2, ACL_PLAIN, &["slow"])
                .doc(SERVER, "6.0.0", "O(1)",
                    "Returns the authenticated username of the current connection."),
        ]),
    cmd("bgrewriteaof", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "O(1)", "Asynchronously rewrites the append-only file to disk."),
    cmd("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "O(N) where N is the total number of keys in all databases",
            "Synchronously saves the database(s) to disk."),
    cmd("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "O(1)", "Asynchronously saves the database(s) to disk.")
        .history(&[("3.2.2", "Added the `SCHEDULE` option.")])
        .args(&[pure("schedule", "SCHEDULE").since("3.2.2").opt()]),
    cmd("lastsave", 1, LOADING | STALE | FAST, &["admin", "fast", "dangerous"])
        .doc(SERVER, "1.0.0", "O(1)",
            "Returns the Unix timestamp of the last successful save to disk.")
        .tips(&["nondeterministic_output"]),
    cmd("sync", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "O(N) where N is the size of the data set",
            "An internal command used in replication."),
    cmd("psync", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, ADMIN_ACL)
        .doc(SERVER, "2.8.0", "O(N) where N is the size of the data set (full synchronization)",
            "An internal command used in replication.")
        .args(&[string("replicationid"), integer("offset")]),
    cmd("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, ADMIN_ACL)
        .doc(SERVER, "3.0.0", "O(1)",
            "An internal command for configuring the replication stream."),
    cmd("replicaof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, ADMIN_ACL)
        .doc(SERVER, "5.0.0", "O(1)",
            "Configures a server as replica of another, or promotes it to a master.")
        .args(REPLICAOF_ARGS),
    cmd("slaveof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "O(1)",
            "Sets a Redis server as a replica of another, or promotes it to being a master.")
        .deprecated("5.0.0", "`REPLICAOF`")
        .args(REPLICAOF_ARGS),
    cmd("role", 1, NOSCRIPT | LOADING | STALE | FAST | SENTINEL, &["admin", "fast", "dangerous"])
        .doc(SERVER, "2.8.12", "O(1)", "Returns the replication role."),
    cmd("monitor", 1, ADMIN_FLAGS, ADMIN_ACL)
        .doc(SERVER, "1.0.0", "",
            "Listens for all requests received by the server in real-time."),
    cmd("slowlog", -2, 0, &["slow"])
        .doc(SERVER, "2.2.12", "Depends on subcommand.", "A container for slow log commands.")
        .subcommands(&[
            cmd("slowlog|get", -2, ADMIN | LOADING | STALE, ADMIN_ACL)
                .doc(SERVER, "2.2.12", "O(N) where N is the number of entries returned",
                    "Returns the slow log's entries.")
                .history(&[("4.0.0", "Added client IP address, port and name to the reply.")])
                .tips(&["request_policy:all_nodes", "nondeterministic_output"])
                .args(&[integer("count").opt()]),
            cmd("slowlog|help", 2, LOADING | STALE, &["slow"])
                .doc(SERVER, "6.2.0", "O(1)",
                    "Show helpful text about the different subcommands"),
            cmd("slowlog|len", 2, ADMIN | LOADING | STALE, ADMIN_ACL)
                .doc(SERVER, "2.2.12", "O(1)", "Returns the number of entries in the slow log.")
                .tips(&["request_policy:all_nodes", "response_policy:agg_sum",
                    "nondeterministic_output"]),
            cmd("slowlog|reset", 2, ADMIN | LOADING | STALE, ADMIN_ACL)
                .doc(SERVER, "2.2.12", "O(N) where N is the number of entries in the slowlog",
                    "Clears all entries from the slow log.")
                .tips(ALL_NODES_SUCCEEDED),
        ]),
    cmd("latency", -2, 0, &["slow"])
        .doc(SERVER, "2.8.13", "Depends on subcommand.",
            "A container for latency diagnostics commands.")
        .subcommands(&[
            cmd("latency|doctor", 2, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.8.13", "O(1)", "Returns a human-readable latency analysis report.")
                .tips(LATENCY_TIPS),
            cmd("latency|graph", 3, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.8.13", "O(1)", "Returns a latency graph for an event.")
                .tips(LATENCY_TIPS)
                .args(EVENT),
            cmd("latency|help", 2, LOADING | STALE, &["slow"])
                .doc(SERVER, "2.8.13", "O(1)", HELP),
            cmd("latency|histogram", -2, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "7.0.0",
                    "O(N) where N is the number of commands with latency information being \
                    retrieved.",
                    "Returns the cumulative distribution of latencies of a subset or all commands.")
                .tips(LATENCY_TIPS)
                .args(&[string("command").opt().multi()]),
            cmd("latency|history", 3, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.8.13", "O(1)", "Returns timestamp-latency samples for an event.")
                .tips(LATENCY_TIPS)
                .args(EVENT),
            cmd("latency|latest", 2, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.8.13", "O(1)", "Returns the latest latency samples for all events.")
                .tips(LATENCY_TIPS),
            cmd("latency|reset", -2, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.8.13", "O(1)", "Resets the latency data for one or more events.")
                .tips(&["request_policy:all_nodes", "response_policy:agg_sum"])
                .args(&[string("event").opt().multi()]),
        ]),
    cmd("config", -2, 0, &["slow"])
        .doc(SERVER, "2.0.0", "Depends on subcommand.",
            "A container for server configuration commands.")
        .subcommands(&[
            cmd("config|get", -3, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.0.0",
                    "O(N) when N is the number of configuration parameters provided",
                    "Returns the effective values of configuration parameters.")
                .history(&[("7.0.0",
                    "Added the ability to pass multiple pattern parameters in one call")])
                .args(&[string("parameter").multi()]),
            cmd("config|help", 2, LOADING | STALE, &["slow"])
                .doc(SERVER, "5.0.0", "O(1)", HELP),
            cmd("config|resetstat", 2, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.0.0", "O(1)", "Resets the server's statistics.")
                .tips(ALL_NODES_SUCCEEDED),
            cmd("config|rewrite", 2, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.8.0", "O(1)", "Persists the effective configuration to file.")
                .tips(ALL_NODES_SUCCEEDED),
            cmd("config|set", -4, ADMIN_FLAGS, ADMIN_ACL)
                .doc(SERVER, "2.0.0",
                    "O(N) when N is the number of configuration parameters provided",
                    "Sets configuration parameters in-flight.")
                .history(&[("7.0.0", "Added the ability to set multiple parameters in one call.")])
                .tips(ALL_NODES_SUCCEEDED)
                .args(&[block("data", &[string("parameter"), string("value")]).multi()]),
        ]),
    cmd("memory", -2, 0, &["slow"])
        .doc(SERVER, "4.0.0", "Depends on subcommand.",
            "A container for memory diagnostics commands.")
        .subcommands(&[
            cmd("memory|doctor", 2, 0, &["slow"])
                .doc(SERVER, "4.0.0", "O(1)", "Outputs a memory problems report.")
                .tips(MEMORY_TIPS),
            cmd("memory|help", 2, LOADING | STALE, &["slow"])
                .doc(SERVER, "4.0.0", "O(1)", HELP),
            cmd("memory|malloc-stats", 2, 0, &["slow"])
                .doc(SERVER, "4.0.0", "Depends on how much memory is allocated, could be slow",
                    "Returns the allocator statistics.")
                .tips(MEMORY_TIPS),
            cmd("memory|purge", 2, 0, &["slow"])
                .doc(SERVER, "4.0.0", "Depends on how much memory is allocated, could be slow",
                    "Asks the allocator to release memory.")
                .tips(ALL_SHARDS_SUCCEEDED),
            cmd("memory|stats", 2, 0, &["slow"])
                .doc(SERVER, "4.0.0", "O(1)", "Returns details about memory usage.")
                .tips(MEMORY_TIPS),
            cmd("memory|usage", -3, READONLY, &["read", "slow"])
                .doc(SERVER, "4.0.0", "O(N) where N is the number of samples.",
                    "Estimates the memory usage of a key.")
                .keys(&[key_at(2, key_flag::RO)])
                .args(&[key("key", 0), integer("count").token("SAMPLES").opt()]),
        ]),
    cmd("module", -2, 0, &["slow"])
        .doc(SERVER, "4.0.0", "Depends on subcommand.", "A container for module commands.")
        .subcommands(&[
            cmd("module|help", 2, LOADING | STALE, &["slow"])
                .doc(SERVER, "5.0.0", "O(1)", HELP),
            cmd("module|list", 2, ADMIN | NOSCRIPT, ADMIN_ACL)
                .doc(SERVER, "4.0.0", "O(N) where N is the number of loaded modules.",
                    "Returns all loaded modules.")
                .tips(&["nondeterministic_output_order"]),
            cmd("module|load", -3, MODULE_FLAGS, ADMIN_ACL)
                .doc(SERVER, "4.0.0", "O(1)", "Loads a module.")
                .args(&[string("path"), string("arg").opt().multi()]),
            cmd("module|loadex", -3, MODULE_FLAGS, ADMIN_ACL)
                .doc(SERVER, "7.0.0", "O(1)", "Loads a module using extended parameters.")
                .args(&[
                    string("path"),
                    block("configs", &[string("name"), string("value")])
                        .token("CONFIG").opt().multi().multi_token(),
                    string("args").token("ARGS").opt().multi(),
                ]),
            cmd("module|unload", 3, MODULE_FLAGS, ADMIN_ACL)
                .doc(SERVER, "4.0.0", "O(1)", "Unloads a module.")
                .args(&[string("name")]),
        ]),
    cmd("lolwut", -1, READONLY | FAST, &["read", "fast"])
        .doc(SERVER, "5.0.0", "", "Displays computer art and the Redis version")
        .args(&[integer("version").token("VERSION").opt()]),
];
