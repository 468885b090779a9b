//! Scripting and functions (Redis' `eval.c`, `functions.c`).

use super::flag::*;
use super::key_flag::*;
use super::*;

const SCRIPTING: &str = "scripting";
const RUN: u64 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MOVABLE_KEYS;
const RUN_ACL: &[&str] = &["slow", "scripting"];
const WRITE_ACL: &[&str] = &["write", "slow", "scripting"];
const ALL_SHARDS: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];
const ALL_NODES: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];
const WORST: &str = "We cannot tell how the keys will be used so we assume the worst, RW and \
    UPDATE flags";
const WORST_RO: &str = "We cannot tell how the keys will be used so we assume the worst, RO \
    and ACCESS flags";
const ASYNC_SYNC: &[Arg] = &[pure("async", "ASYNC"), pure("sync", "SYNC")];

/// The declared keys of EVAL and friends: numkeys at 2, the keys after it.
const fn declared(flags: u64) -> KeySpec {
    KeySpec::new(
        flags,
        BeginSearch::Index(2),
        FindKeys::Keynum {
            keynumidx: 0,
            firstkey: 1,
            step: 1,
        },
    )
}

const RW_KEYS: &[KeySpec] = &[declared(RW | ACCESS | UPDATE).notes(WORST)];
const RW_KEYS_SHA: &[KeySpec] = &[declared(RW | ACCESS | UPDATE)];
const RO_KEYS: &[KeySpec] = &[declared(RO | ACCESS).notes(WORST_RO)];
const RO_KEYS_SHA: &[KeySpec] = &[declared(RO | ACCESS)];

const fn run_args(first: &'static str) -> [Arg; 4] {
    [
        string(first),
        integer("numkeys"),
        key("key", 0).opt().multi(),
        string("arg").opt().multi(),
    ]
}
const SCRIPT_ARGS: &[Arg] = &run_args("script");
const SHA_ARGS: &[Arg] = &run_args("sha1");
const FUNCTION_ARGS: &[Arg] = &run_args("function");

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("eval", -3, RUN, RUN_ACL)
        .doc(SCRIPTING, "2.6.0", "Depends on the script that is executed.",
            "Executes a server-side Lua script.")
        .keys(RW_KEYS)
        .args(SCRIPT_ARGS),
    cmd("evalsha", -3, RUN, RUN_ACL)
        .doc(SCRIPTING, "2.6.0", "Depends on the script that is executed.",
            "Executes a server-side Lua script by SHA1 digest.")
        .keys(RW_KEYS_SHA)
        .args(SHA_ARGS),
    cmd("eval_ro", -3, READONLY | RUN, RUN_ACL)
        .doc(SCRIPTING, "7.0.0", "Depends on the script that is executed.",
            "Executes a read-only server-side Lua script.")
        .keys(RO_KEYS)
        .args(SCRIPT_ARGS),
    cmd("evalsha_ro", -3, READONLY | RUN, RUN_ACL)
        .doc(SCRIPTING, "7.0.0", "Depends on the script that is executed.",
            "Executes a read-only server-side Lua script by SHA1 digest.")
        .keys(RO_KEYS_SHA)
        .args(SHA_ARGS),
    cmd("fcall", -3, RUN, RUN_ACL)
        .doc(SCRIPTING, "7.0.0", "Depends on the function that is executed.",
            "Invokes a function.")
        .keys(RW_KEYS)
        .args(FUNCTION_ARGS),
    cmd("fcall_ro", -3, READONLY | RUN, RUN_ACL)
        .doc(SCRIPTING, "7.0.0", "Depends on the function that is executed.",
            "Invokes a read-only function.")
        .keys(RO_KEYS)
        .args(FUNCTION_ARGS),
    cmd("script", -2, 0, &["slow"])
        .doc(SCRIPTING, "2.6.0", "Depends on subcommand.",
            "A container for Lua scripts management commands.")
        .subcommands(&[
            cmd("script|debug", 3, NOSCRIPT, RUN_ACL)
                .doc(SCRIPTING, "3.2.0", "O(1)",
                    "Sets the debug mode of server-side Lua scripts.")
                .args(&[oneof("mode", &[pure("yes", "YES"), pure("sync", "SYNC"),
                    pure("no", "NO")])]),
            cmd("script|exists", -3, NOSCRIPT, RUN_ACL)
                .doc(SCRIPTING, "2.6.0", "O(N) with N being the number of scripts to check \
                    (so checking a single script is an O(1) operation).",
                    "Determines whether server-side Lua scripts exist in the script cache.")
                .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"])
                .args(&[string("sha1").multi()]),
            cmd("script|flush", -2, NOSCRIPT, RUN_ACL)
                .doc(SCRIPTING, "2.6.0", "O(N) with N being the number of scripts in cache",
                    "Removes all server-side Lua scripts from the script cache.")
                .history(&[("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers.")])
                .tips(ALL_NODES)
                .args(&[oneof("flush-type", ASYNC_SYNC).opt().since("6.2.0")]),
            cmd("script|help", 2, LOADING | STALE, RUN_ACL)
                .doc(SCRIPTING, "5.0.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            cmd("script|kill", 2, NOSCRIPT | ALLOW_BUSY, RUN_ACL)
                .doc(SCRIPTING, "2.6.0", "O(1)",
                    "Terminates a server-side Lua script during execution.")
                .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
            cmd("script|load", 3, NOSCRIPT | STALE, RUN_ACL)
                .doc(SCRIPTING, "2.6.0", "O(N) with N being the length in bytes of the script \
                    body.", "Loads a server-side Lua script to the script cache.")
                .tips(ALL_NODES)
                .args(&[string("script")]),
        ]),
    cmd("function", -2, 0, &["slow"])
        .doc(SCRIPTING, "7.0.0", "Depends on subcommand.",
            "A container for function commands.")
        .subcommands(&[
            cmd("function|delete", 3, WRITE | NOSCRIPT, WRITE_ACL)
                .doc(SCRIPTING, "7.0.0", "O(1)", "Deletes a library and its functions.")
                .tips(ALL_SHARDS)
                .args(&[string("library-name")]),
            cmd("function|dump", 2, NOSCRIPT, RUN_ACL)
                .doc(SCRIPTING, "7.0.0", "O(N) where N is the number of functions",
                    "Dumps all libraries into a serialized binary payload."),
            cmd("function|flush", -2, WRITE | NOSCRIPT, WRITE_ACL)
                .doc(SCRIPTING, "7.0.0", "O(N) where N is the number of functions deleted",
                    "Deletes all libraries and functions.")
                .tips(ALL_SHARDS)
                .args(&[oneof("flush-type", ASYNC_SYNC).opt()]),
            cmd("function|help", 2, LOADING | STALE, RUN_ACL)
                .doc(SCRIPTING, "7.0.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            cmd("function|kill", 2, NOSCRIPT | ALLOW_BUSY, RUN_ACL)
                .doc(SCRIPTING, "7.0.0", "O(1)", "Terminates a function during execution.")
                .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
            cmd("function|list", -2, NOSCRIPT, RUN_ACL)
                .doc(SCRIPTING, "7.0.0", "O(N) where N is the number of functions",
                    "Returns information about all libraries.")
                .tips(&["nondeterministic_output_order"])
                .args(&[string("library-name-pattern").token("LIBRARYNAME").opt(),
                    pure("withcode", "WITHCODE").opt()]),
            cmd("function|load", -3, WRITE | DENYOOM | NOSCRIPT, WRITE_ACL)
                .doc(SCRIPTING, "7.0.0", "O(1) (considering compilation time is redundant)",
                    "Creates a library.")
                .tips(ALL_SHARDS)
                .args(&[pure("replace", "REPLACE").opt(), string("function-code")]),
            cmd("function|restore", -3, WRITE | DENYOOM | NOSCRIPT, WRITE_ACL)
                .doc(SCRIPTING, "7.0.0", "O(N) where N is the number of functions on the \
                    payload", "Restores all libraries from a payload.")
                .tips(ALL_SHARDS)
                .args(&[string("serialized-value"), oneof("policy", &[pure("flush", "FLUSH"),
                    pure("append", "APPEND"), pure("replace", "REPLACE")]).opt()]),
            cmd("function|stats", 2, NOSCRIPT | ALLOW_BUSY, RUN_ACL)
                .doc(SCRIPTING, "7.0.0", "O(1)",
                    "Returns information about a function during execution.")
                .tips(&["nondeterministic_output", "request_policy:all_shards",
                    "response_policy:special"]),
        ]),
];
