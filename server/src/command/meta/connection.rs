//! Connection commands (Redis' `networking.c`).

use super::flag::*;
use super::*;

const CONNECTION: &str = "connection";

const FAST_CONN: &[&str] = &["fast", "connection"];
/// HELLO, AUTH and friends work before authentication and while a script is busy.
const HANDSHAKE: u64 = NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY;

/// Flags of most CLIENT subcommands.
const CLIENT: u64 = NOSCRIPT | LOADING | STALE | SENTINEL;
const CLIENT_ACL: &[&str] = &["slow", "connection"];
const CLIENT_ADMIN_ACL: &[&str] = &["admin", "slow", "dangerous", "connection"];
const ALL_NODES_SUCCEEDED: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];
const ON_OFF: &[Arg] = &[pure("on", "ON"), pure("off", "OFF")];

/// A CLIENT subcommand with the usual flags, O(1).
const fn client(
    name: &'static str,
    arity: i32,
    since: &'static str,
    summary: &'static str,
) -> CommandSpec {
    cmd(name, arity, CLIENT, CLIENT_ACL).doc(CONNECTION, since, "O(1)", summary)
}

/// A CLIENT subcommand that needs admin rights.
const fn client_admin(
    name: &'static str,
    arity: i32,
    since: &'static str,
    complexity: &'static str,
    summary: &'static str,
) -> CommandSpec {
    cmd(name, arity, ADMIN | CLIENT, CLIENT_ADMIN_ACL).doc(CONNECTION, since, complexity, summary)
}

// The tables are formatted by hand: one command is a few lines.
#[rustfmt::skip]
pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("ping", -1, FAST | SENTINEL, FAST_CONN)
        .doc(CONNECTION, "1.0.0", "O(1)", "Returns the server's liveliness response.")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .args(&[string("message").opt()]),
    cmd("echo", 2, LOADING | STALE | FAST, FAST_CONN)
        .doc(CONNECTION, "1.0.0", "O(1)", "Returns the given string.")
        .args(&[string("message")]),
    cmd("quit", -1, HANDSHAKE, FAST_CONN)
        .doc(CONNECTION, "1.0.0", "O(1)", "Closes the connection.")
        .deprecated("7.2.0", "just closing the connection"),
    cmd("reset", 1, HANDSHAKE, FAST_CONN)
        .doc(CONNECTION, "6.2.0", "O(1)", "Resets the connection."),
    cmd("select", 2, LOADING | STALE | FAST, FAST_CONN)
        .doc(CONNECTION, "1.0.0", "O(1)", "Changes the selected database.")
        .args(&[integer("index")]),
    cmd("auth", -2, HANDSHAKE | SENTINEL, FAST_CONN)
        .doc(CONNECTION, "1.0.0", "O(N) where N is the number of passwords defined for the user",
            "Authenticates the connection.")
        .history(&[("6.0.0", "Added ACL style (username and password).")])
        .args(&[string("username").since("6.0.0").opt(), string("password")]),
    cmd("hello", -1, HANDSHAKE | SENTINEL, FAST_CONN)
        .doc(CONNECTION, "6.0.0", "O(1)", "Handshakes with the Redis server.")
        .history(&[("6.2.0", "`protover` made optional; when called without arguments the \
            command reports the current connection's context.")])
        .args(&[block("arguments", &[
            integer("protover"),
            block("auth", &[string("username"), string("password")]).token("AUTH").opt(),
            string("clientname").token("SETNAME").opt(),
        ]).opt()]),
    cmd("client", -2, SENTINEL, &["slow"])
        .doc(CONNECTION, "2.4.0", "Depends on subcommand.",
            "A container for client connection commands.")
        .subcommands(&[
            client("client|caching", 3, "6.0.0",
                "Instructs the server whether to track the keys in the next request.")
                .args(&[oneof("mode", &[pure("yes", "YES"), pure("no", "NO")])]),
            client("client|getname", 2, "2.6.9", "Returns the name of the connection."),
            client("client|getredir", 2, "6.0.0",
                "Returns the client ID to which the connection's tracking notifications are \
                 redirected."),
            cmd("client|help", 2, LOADING | STALE | SENTINEL, CLIENT_ACL)
                .doc(CONNECTION, "5.0.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            client("client|id", 2, "5.0.0", "Returns the unique client ID of the connection."),
            client("client|info", 2, "6.2.0", "Returns information about the connection.")
                .tips(&["nondeterministic_output"]),
            client_admin("client|kill", -3, "2.4.0",
                "O(N) where N is the number of client connections", "Terminates open connections.")
                .history(&[
                    ("2.8.12", "Added new filter format."),
                    ("2.8.12", "`ID` option."),
                    ("3.2.0", "Added `master` type in for `TYPE` option."),
                    ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported \
                        for backward compatibility."),
                    ("6.2.0", "`LADDR` option."),
                ])
                .args(&[oneof("filter", &[
                    string("old-format").display("ip:port").deprecated("2.8.12"),
                    oneof("new-format", &[
                        integer("client-id").token("ID").since("2.8.12").opt(),
                        oneof("client-type", &[
                            pure("normal", "NORMAL"),
                            pure("master", "MASTER").since("3.2.0"),
                            pure("slave", "SLAVE"),
                            pure("replica", "REPLICA").since("5.0.0"),
                            pure("pubsub", "PUBSUB"),
                        ]).token("TYPE").since("2.8.12").opt(),
                        string("username").token("USER").opt(),
                        string("addr").token("ADDR").display("ip:port").opt(),
                        string("laddr").token("LADDR").display("ip:port").since("6.2.0").opt(),
                        oneof("skipme", &[pure("yes", "YES"), pure("no", "NO")])
                            .token("SKIPME").opt(),
                    ]).multi(),
                ])]),
            client_admin("client|list", -2, "2.4.0",
                "O(N) where N is the number of client connections", "Lists open connections.")
                .history(&[
                    ("2.8.12", "Added unique client `id` field."),
                    ("5.0.0", "Added optional `TYPE` filter."),
                    ("6.0.0", "Added `user` field."),
                    ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the \
                        optional `ID` filter."),
                    ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                    ("7.0.3", "Added `ssub` field."),
                ])
                .tips(&["nondeterministic_output"])
                .args(&[
                    oneof("client-type", &[
                        pure("normal", "NORMAL"),
                        pure("master", "MASTER"),
                        pure("replica", "REPLICA"),
                        pure("pubsub", "PUBSUB"),
                    ]).token("TYPE").since("5.0.0").opt(),
                    integer("client-id").token("ID").since("6.2.0").opt().multi(),
                ]),
            client_admin("client|no-evict", 3, "7.0.0", "O(1)",
                "Sets the client eviction mode of the connection.")
                .args(&[oneof("enabled", ON_OFF)]),
            cmd("client|no-touch", 3, NOSCRIPT | LOADING | STALE, CLIENT_ACL)
                .doc(CONNECTION, "7.2.0", "O(1)", "Controls whether commands sent by the client \
                    affect the LRU/LFU of accessed keys.")
                .args(&[oneof("enabled", ON_OFF)]),
            client_admin("client|pause", -3, "3.0.0", "O(1)", "Suspends commands processing.")
                .history(&[("6.2.0",
                    "`CLIENT PAUSE WRITE` mode added along with the `mode` option.")])
                .args(&[
                    integer("timeout"),
                    oneof("mode", &[pure("write", "WRITE"), pure("all", "ALL")])
                        .since("6.2.0").opt(),
                ]),
            client("client|reply", 3, "3.2.0", "Instructs the server whether to reply to commands.")
                .args(&[oneof("action", &[
                    pure("on", "ON"), pure("off", "OFF"), pure("skip", "SKIP"),
                ])]),
            client("client|setinfo", 4, "7.2.0",
                "Sets information specific to the client or connection.")
                .tips(ALL_NODES_SUCCEEDED)
                .args(&[oneof("attr", &[
                    string("libname").token("LIB-NAME"),
                    string("libver").token("LIB-VER"),
                ])]),
            client("client|setname", 3, "2.6.9", "Sets the connection name.")
                .tips(ALL_NODES_SUCCEEDED)
                .args(&[string("connection-name")]),
            cmd("client|tracking", -3, CLIENT, CLIENT_ACL)
                .doc(CONNECTION, "6.0.0", "O(1). Some options may introduce additional complexity.",
                    "Controls server-assisted client-side caching for the connection.")
                .args(&[
                    oneof("status", ON_OFF),
                    integer("client-id").token("REDIRECT").opt(),
                    string("prefix").token("PREFIX").opt().multi().multi_token(),
                    pure("bcast", "BCAST").opt(),
                    pure("optin", "OPTIN").opt(),
                    pure("optout", "OPTOUT").opt(),
                    pure("noloop", "NOLOOP").opt(),
                ]),
            client("client|trackinginfo", 2, "6.2.0",
                "Returns information about server-assisted client-side caching for the \
                 connection."),
            client_admin("client|unblock", -3, "5.0.0",
                "O(log N) where N is the number of client connections",
                "Unblocks a client blocked by a blocking command from a different connection.")
                .args(&[
                    integer("client-id"),
                    oneof("unblock-type", &[pure("timeout", "TIMEOUT"), pure("error", "ERROR")])
                        .opt(),
                ]),
            client_admin("client|unpause", 2, "6.2.0",
                "O(N) Where N is the number of paused clients",
                "Resumes processing commands from paused clients."),
        ]),
];
