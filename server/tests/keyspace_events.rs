//! Keyspace notifications (`notify-keyspace-events`), compared with Debian's redis-server
//! command by command: the same replies and the same `__keyspace@<db>__:<key>` /
//! `__keyevent@<db>__:<event>` messages, in the same order (see `common::events`). Keys of
//! one test share a hash tag unless a step is about crossing shards (then compared
//! unordered: each shard publishes its own events).

mod common;

use common::events::EventDiff;

#[test]
fn flags_configure_what_is_published() {
    let mut d = EventDiff::with_flags("");
    d.run(&["SET", "k", "v"]);
    d.run(&["CONFIG", "SET", "notify-keyspace-events", "Kg"]);
    d.run(&["SET", "k", "v2"]);
    d.run(&["DEL", "k"]);
    d.run(&["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    d.run(&["SET", "k", "v3"]);
    d.run(&["DEL", "k"]);
    d.run(&["CONFIG", "GET", "notify-keyspace-events"]);
    // (A refused value leaves the flags alone. Redis 7.0 restores them from their string,
    // which loses `n` next to `A`: so the refusal comes first here.)
    d.run(&["CONFIG", "SET", "notify-keyspace-events", "KEq"]);
    d.run(&["CONFIG", "SET", "notify-keyspace-events", "KEAmn"]);
    d.run(&["CONFIG", "GET", "notify-keyspace-events"]);
    d.run(&["SELECT", "3"]);
    d.run(&["SET", "k", "in db 3"]);
    d.run(&["GET", "missing"]);
}

#[test]
fn generic_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["SET", "{g}a", "1"],
        &["SET", "{g}b", "2"],
        &["DEL", "{g}a", "{g}b", "{g}none"],
        &["SET", "{g}a", "1"],
        &["UNLINK", "{g}a"],
        &["SET", "{g}a", "1"],
        &["EXPIRE", "{g}a", "100"],
        &["PEXPIRE", "{g}a", "100000"],
        &["EXPIREAT", "{g}a", "4000000000"],
        &["PEXPIREAT", "{g}a", "4000000000000"],
        &["EXPIRE", "{g}a", "100", "NX"],
        &["PERSIST", "{g}a"],
        &["PERSIST", "{g}a"],
        &["EXPIRE", "{g}a", "-1"],
        &["SET", "{g}a", "1"],
        &["PEXPIREAT", "{g}a", "1"],
        &["EXPIRE", "{g}none", "10"],
        &["SET", "{g}a", "1"],
        &["RENAME", "{g}a", "{g}b"],
        &["RENAME", "{g}b", "{g}b"],
        &["SET", "{g}c", "3"],
        &["RENAMENX", "{g}b", "{g}c"],
        &["RENAMENX", "{g}b", "{g}d"],
        &["COPY", "{g}d", "{g}e"],
        &["COPY", "{g}d", "{g}e", "REPLACE"],
        &["COPY", "{g}d", "{g}e", "DB", "1"],
        &["MOVE", "{g}d", "1"],
        &["MOVE", "{g}c", "1"],
        &["TOUCH", "{g}c", "{g}e"],
        &["EXISTS", "{g}c"],
        &["TYPE", "{g}c"],
        &["SET", "{g}r", "v"],
        &["FLUSHDB"],
        &["SET", "{g}a", "1"],
        &["FLUSHALL"],
    ]);
}

#[test]
fn expiry_events() {
    let mut d = EventDiff::start();
    d.run(&["SET", "{x}a", "1", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // A read reclaims it: "expired", then the miss.
    d.run(&["GET", "{x}a"]);
    d.run(&["SET", "{x}b", "1", "EX", "100"]);
    d.run(&["GETEX", "{x}b", "PERSIST"]);
    d.run(&["GETEX", "{x}b", "EX", "50"]);
    d.run(&["GETEX", "{x}b"]);
    d.run(&["GETDEL", "{x}b"]);
    d.run(&["GETDEL", "{x}b"]);
}

#[test]
fn string_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["SET", "{s}a", "1"],
        &["SET", "{s}a", "2", "NX"],
        &["SET", "{s}a", "2", "XX", "GET"],
        &["SET", "{s}a", "2", "EX", "100"],
        &["SET", "{s}a", "3", "KEEPTTL"],
        &["SETNX", "{s}b", "1"],
        &["SETNX", "{s}b", "1"],
        &["SETEX", "{s}c", "100", "v"],
        &["PSETEX", "{s}c", "100000", "v"],
        &["GETSET", "{s}c", "w"],
        &["MSET", "{s}a", "1", "{s}b", "2"],
        &["MSETNX", "{s}a", "1", "{s}new", "2"],
        &["MSETNX", "{s}n1", "1", "{s}n2", "2"],
        &["APPEND", "{s}a", "xyz"],
        &["APPEND", "{s}fresh", "xyz"],
        &["INCR", "{s}i"],
        &["INCRBY", "{s}i", "5"],
        &["DECR", "{s}i"],
        &["DECRBY", "{s}i", "2"],
        &["INCRBYFLOAT", "{s}i", "1.5"],
        &["INCR", "{s}a"],
        &["SETRANGE", "{s}a", "1", "zz"],
        &["SETRANGE", "{s}r", "0", ""],
        &["SETRANGE", "{s}r", "2", "ab"],
        &["SETBIT", "{s}bits", "7", "1"],
        &[
            "BITFIELD", "{s}bf", "SET", "u8", "0", "255", "GET", "u8", "0",
        ],
        &["BITFIELD", "{s}bf", "GET", "u8", "0"],
        &["BITOP", "OR", "{s}dest", "{s}bits", "{s}bf"],
        &["BITOP", "AND", "{s}dest", "{s}none1", "{s}none2"],
        &["GET", "{s}a"],
        &["GET", "{s}missing"],
        &["MGET", "{s}a", "{s}missing"],
        &["STRLEN", "{s}a"],
        &["GETRANGE", "{s}a", "0", "1"],
        &["LCS", "{s}a", "{s}b"],
    ]);
    // MSET over two shards: each publishes its own.
    d.run_unordered(&["MSET", "x1", "1", "x2", "2", "x3", "3", "x4", "4"]);
}
