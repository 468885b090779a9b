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

#[test]
fn stream_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        // XADD: "new" when it creates the stream, then "xadd", then "xtrim" if it trimmed.
        &["XADD", "{x}s", "NOMKSTREAM", "1-1", "f", "v"],
        &["XADD", "{x}s", "1-1", "f", "v"],
        &["XADD", "{x}s", "1-1", "f", "v"],
        &["XADD", "{x}s", "0-0", "f", "v"],
        &["XADD", "{x}s", "f"],
        &["XADD", "{x}s", "NOMKSTREAM", "2-1", "f", "v"],
        &["XADD", "{x}s", "MAXLEN", "5", "3-1", "f", "v"],
        &["XADD", "{x}s", "MAXLEN", "2", "4-1", "f", "v"],
        &["XADD", "{x}s", "MAXLEN", "~", "1", "5-1", "f", "v"],
        &["XADD", "{x}s", "MINID", "4", "6-1", "f", "v"],
        &["XADD", "{x}zero", "MAXLEN", "0", "1-1", "f", "v"],
        // A key of another type, created without events (SET is not this test's business).
        &["CONFIG", "SET", "notify-keyspace-events", ""],
        &["SET", "{x}str", "v"],
        &["CONFIG", "SET", "notify-keyspace-events", "KEAnm"],
        &["XADD", "{x}str", "1-1", "f", "v"],
        // XTRIM and XDEL: only when something went.
        &["XTRIM", "{x}s", "MAXLEN", "10"],
        &["XTRIM", "{x}s", "MAXLEN", "2"],
        &["XTRIM", "{x}s", "MINID", "~", "100"],
        &["XTRIM", "{x}none", "MAXLEN", "1"],
        &["XTRIM", "{x}s", "LIMIT", "1"],
        &["XDEL", "{x}s", "1-1"],
        &["XDEL", "{x}s", "6-1", "9-9"],
        &["XDEL", "{x}s", "bad"],
        &["XDEL", "{x}none", "1-1"],
        &["XDEL", "{x}str", "1-1"],
        // The stream stays when it is empty: no "del".
        &["XDEL", "{x}s", "5-1"],
        &["EXISTS", "{x}s"],
        &["XSETID", "{x}s", "10-1"],
        &["XSETID", "{x}s", "1-1"],
        &["XSETID", "{x}none", "1-1"],
        &["XSETID", "{x}s", "bad"],
        &["XADD", "{x}s", "11-1", "f", "v"],
        &["XADD", "{x}s", "12-1", "f", "v"],
        &["XADD", "{x}s", "13-1", "f", "v"],
        // XGROUP.
        &["XGROUP", "CREATE", "{x}s", "g", "0"],
        &["XGROUP", "CREATE", "{x}s", "g", "0"],
        &["XGROUP", "CREATE", "{x}none", "g", "0"],
        &["XGROUP", "CREATE", "{x}m", "g", "$", "MKSTREAM"],
        &["XGROUP", "CREATE", "{x}str", "g", "$", "MKSTREAM"],
        &["XGROUP", "CREATE", "{x}s", "g2", "bad"],
        &["XGROUP", "SETID", "{x}s", "g2", "0"],
        &["XGROUP", "SETID", "{x}m", "g", "$", "ENTRIESREAD", "0"],
        &["XADD", "{x}m", "1-1", "f", "v"],
        &["XADD", "{x}m", "2-1", "f", "v"],
        &["XGROUP", "CREATECONSUMER", "{x}s", "g", "c1"],
        &["XGROUP", "CREATECONSUMER", "{x}s", "g", "c1"],
        &["XGROUP", "CREATECONSUMER", "{x}s", "nog", "c1"],
        &["XGROUP", "DELCONSUMER", "{x}s", "g", "c1"],
        &["XGROUP", "DELCONSUMER", "{x}s", "g", "c1"],
        &["XGROUP", "DELCONSUMER", "{x}none", "g", "c1"],
        // XREADGROUP creates its consumer in the groups it reads (in every one it reads since
        // Redis 7.2, served or not: see stream_consumers_as_redis_7_2; here each is served).
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c2",
            "COUNT",
            "1",
            "STREAMS",
            "{x}s",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "{x}s", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c3",
            "COUNT",
            "1",
            "STREAMS",
            "{x}s",
            "{x}m",
            ">",
            ">",
        ],
        &["XREADGROUP", "GROUP", "nog", "c4", "STREAMS", "{x}s", ">"],
        &["XREADGROUP", "GROUP", "g", "c4", "STREAMS", "{x}s", "$"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c4",
            "NOACK",
            "STREAMS",
            "{x}m",
            ">",
        ],
        // XACK: no event.
        &["XACK", "{x}s", "g", "11-1", "12-1", "99-1"],
        &["XACK", "{x}s", "g", "11-1"],
        &["XREAD", "STREAMS", "{x}s", "0"],
        // XCLAIM and XAUTOCLAIM create their consumer (here they claim something, where
        // Redis 7.0 and 7.2 agree).
        &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "{x}s", ">"],
        &["XCLAIM", "{x}s", "g", "c5", "0", "13-1", "JUSTID"],
        &["XCLAIM", "{x}s", "g", "c5", "0", "13-1"],
        &["XCLAIM", "{x}s", "g", "c5", "0", "bad"],
        &["XCLAIM", "{x}s", "nog", "c9", "0", "13-1"],
        &["XAUTOCLAIM", "{x}s", "g", "c6", "0", "0", "JUSTID"],
        &["XAUTOCLAIM", "{x}s", "g", "c6", "0", "0", "COUNT", "1"],
        &["XAUTOCLAIM", "{x}s", "nog", "c9", "0", "0"],
        &["XGROUP", "DESTROY", "{x}s", "g"],
        &["XGROUP", "DESTROY", "{x}s", "g"],
        &["XGROUP", "DESTROY", "{x}none", "g"],
    ]);
    // An automatic ID: only the events compare.
    d.run_events_only(&["XADD", "{x}auto", "*", "f", "v"]);
    d.run_events_only(&["XADD", "{x}auto", "MAXLEN", "0", "*", "f", "v"]);
}

#[test]
fn stream_blocking_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["XGROUP", "CREATE", "{b}s", "g", "$", "MKSTREAM"],
        &["XGROUP", "CREATECONSUMER", "{b}s", "g", "c"],
        &["XADD", "{b}s", "1-1", "f", "v"],
        // Served at once: the consumer is created.
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c2",
            "BLOCK",
            "20",
            "STREAMS",
            "{b}s",
            ">",
        ],
        // Waits until its timeout: no event.
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "20",
            "STREAMS",
            "{b}s",
            ">",
        ],
        &["XREAD", "BLOCK", "20", "STREAMS", "{b}s", "$"],
    ]);
}

/// Redis 7.2 creates the consumer of XREADGROUP, XCLAIM and XAUTOCLAIM even when it gets
/// nothing (before it blocks, for XREADGROUP); 7.0.15, the reference redis-server, only once
/// it gets something. Shardis follows 7.2, checked on it alone: the keys each command
/// announces "xgroup-createconsumer" on.
#[test]
fn stream_consumers_as_redis_7_2() {
    let server = common::Server::start(2, &[]);
    let mut c = server.client();
    let _: () = common::q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = server.client();
    let mut sub = sub.as_pubsub();
    sub.subscribe(&["__keyevent@0__:xgroup-createconsumer", "marker"])
        .unwrap();
    let mut created = |c: &mut redis::Connection, args: &[&str]| -> Vec<String> {
        let _: redis::Value = common::q(c, args);
        let _: i64 = common::q(c, &["PUBLISH", "marker", "."]);
        let mut keys = Vec::new();
        loop {
            let m = sub.get_message().unwrap();
            if m.get_channel_name() == "marker" {
                return keys;
            }
            keys.push(m.get_payload().unwrap());
        }
    };
    for (args, expected) in [
        (
            &["XGROUP", "CREATE", "{c}s", "g", "$", "MKSTREAM"][..],
            &[][..],
        ),
        (&["XGROUP", "CREATE", "{c}t", "g", "$", "MKSTREAM"], &[]),
        (
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "r1",
                "STREAMS",
                "{c}s",
                "{c}t",
                ">",
                ">",
            ],
            &["{c}s", "{c}t"],
        ),
        (
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "r2",
                "BLOCK",
                "10",
                "STREAMS",
                "{c}s",
                ">",
            ],
            &["{c}s"],
        ),
        (&["XCLAIM", "{c}s", "g", "r3", "0", "1-1"], &["{c}s"]),
        (&["XCLAIM", "{c}s", "g", "r3", "0", "1-1"], &[]),
        (&["XAUTOCLAIM", "{c}s", "g", "r4", "0", "0"], &["{c}s"]),
    ] {
        assert_eq!(created(&mut c, args), expected, "{args:?}");
    }
    // A blocked XREADGROUP created its consumer when it blocked, not again when served.
    let mut blocked = server.client();
    let reader = std::thread::spawn(move || {
        let _: redis::Value = common::q(
            &mut blocked,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "r5",
                "BLOCK",
                "0",
                "STREAMS",
                "{c}s",
                ">",
            ],
        );
    });
    while created(&mut c, &["PING"]).is_empty() {}
    let _: String = common::q(&mut c, &["XADD", "{c}s", "1-1", "f", "v"]);
    reader.join().unwrap();
    assert!(created(&mut c, &["PING"]).is_empty());
}
