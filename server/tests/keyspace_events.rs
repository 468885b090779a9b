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
    // Overwriting a key that expired unseen reclaims it first: "expired", then "new".
    d.run(&["SET", "{x}c", "1", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    d.run(&["SET", "{x}c", "2"]);
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

#[test]
fn list_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["LPUSH", "{l}a", "1", "2"],
        &["RPUSH", "{l}a", "3"],
        &["LPUSHX", "{l}a", "0"],
        &["RPUSHX", "{l}a", "4", "5"],
        &["LPUSHX", "{l}none", "0"],
        &["RPUSHX", "{l}none", "0"],
        &["LINSERT", "{l}a", "BEFORE", "3", "x"],
        &["LINSERT", "{l}a", "AFTER", "missing", "x"],
        &["LINSERT", "{l}none", "AFTER", "1", "x"],
        &["LINSERT", "{l}a", "SIDEWAYS", "1", "x"],
        &["LSET", "{l}a", "0", "first"],
        &["LSET", "{l}a", "100", "x"],
        &["LSET", "{l}none", "0", "x"],
        &["LREM", "{l}a", "0", "nothing"],
        &["LREM", "{l}a", "1", "x"],
        &["LREM", "{l}none", "1", "x"],
        // "ltrim" even when nothing goes; none for a missing key.
        &["LTRIM", "{l}a", "0", "-1"],
        &["LTRIM", "{l}a", "1", "-2"],
        &["LTRIM", "{l}none", "0", "1"],
        &["LTRIM", "{l}a", "5", "1"],
        &["RPUSH", "{l}a", "1", "2", "3", "4", "5"],
        &["LPOP", "{l}a"],
        &["RPOP", "{l}a", "2"],
        &["LPOP", "{l}a", "0"],
        &["LPOP", "{l}a", "-1"],
        &["LPOP", "{l}none"],
        &["RPOP", "{l}none", "2"],
        &["LPOP", "{l}a", "5"],
        &["RPUSH", "{l}a", "x", "x"],
        &["LREM", "{l}a", "0", "x"],
        &["RPUSH", "{l}a", "a", "b"],
        &["LMPOP", "2", "{l}none", "{l}a", "LEFT"],
        &["LMPOP", "1", "{l}a", "RIGHT", "COUNT", "5"],
        &["LMPOP", "1", "{l}a", "RIGHT"],
        &["LMPOP", "1", "{l}a", "UP"],
        // Moves: the push on the destination, then the pop on the source.
        &["RPUSH", "{l}src", "a", "b"],
        &["LMOVE", "{l}src", "{l}dst", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "{l}src", "{l}dst"],
        &["LMOVE", "{l}src", "{l}dst", "LEFT", "LEFT"],
        &["LMOVE", "{l}dst", "{l}dst", "LEFT", "RIGHT"],
        &["LMOVE", "{l}dst", "{l}dst", "LEFT", "NOWHERE"],
        &["RPUSH", "{l}one", "x"],
        &["RPOPLPUSH", "{l}one", "{l}one"],
        &["HSET", "{l}str", "f", "v"],
        &["LMOVE", "{l}dst", "{l}str", "LEFT", "RIGHT"],
        &["LPUSH", "{l}str", "x"],
        &["LPOP", "{l}str"],
        // Blocking forms served at once are the plain ones.
        &["BLPOP", "{l}none", "{l}dst", "0"],
        &["BRPOP", "{l}dst", "0"],
        &["RPUSH", "{l}src", "a"],
        &["BLMOVE", "{l}src", "{l}dst", "RIGHT", "LEFT", "0"],
        &["BRPOPLPUSH", "{l}dst", "{l}src", "0"],
        &["BLMPOP", "0", "1", "{l}src", "LEFT", "COUNT", "3"],
        &["BLPOP", "{l}str", "0"],
        &["BLPOP", "{l}src", "-1"],
    ]);
}

/// The events around a blocked client: `block` waits on its own connection (as no key has
/// data yet), then `wake` runs on another and the server serves the waiter. Returns the
/// reply of each and every event both caused, in order.
fn blocked_events(server: &common::Server, block: &[&str], wake: &[&str]) -> Vec<String> {
    fn command(args: &[&str]) -> redis::Cmd {
        let mut c = redis::cmd(args[0]);
        args[1..].iter().for_each(|a| {
            c.arg(*a);
        });
        c
    }
    const MARKER: &str = "__blocked_marker__";
    let mut cmd = server.client();
    let _: () = command(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"])
        .query(&mut cmd)
        .unwrap();
    let mut sub_conn = server.client();
    let mut sub = sub_conn.as_pubsub();
    sub.psubscribe("__key*@*").unwrap();
    sub.subscribe(MARKER).unwrap();
    let mut blocker = server.client();
    let block = command(block);
    let waiter = std::thread::spawn(move || block.query::<redis::Value>(&mut blocker));
    let blocked = (0..500).any(|_| {
        let info: String = command(&["INFO", "clients"]).query(&mut cmd).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        info.contains("blocked_clients:1\r")
    });
    assert!(blocked, "the client did not block");
    let woke: redis::Value = command(wake).query(&mut cmd).unwrap();
    let served = waiter.join().unwrap().unwrap();
    let _: i64 = command(&["PUBLISH", MARKER, "end"])
        .query(&mut cmd)
        .unwrap();
    let mut out = vec![format!("{woke:?}"), format!("{served:?}")];
    loop {
        let msg = sub.get_message().unwrap();
        if msg.get_channel_name() == MARKER {
            return out;
        }
        let payload: String = msg.get_payload().unwrap();
        out.push(format!("{} {payload}", msg.get_channel_name()));
    }
}

#[test]
fn list_blocked_clients() {
    let (redis, shardis) = (
        common::start_reference_redis(),
        common::Server::start(2, &[]),
    );
    let cases: &[(&[&str], &[&str])] = &[
        (&["BLPOP", "{b}a", "{b}b", "0"], &["RPUSH", "{b}b", "x"]),
        (&["BRPOP", "{b}a", "0"], &["RPUSH", "{b}a", "x", "y"]),
        (
            &["BLMOVE", "{b}src", "{b}dst", "RIGHT", "LEFT", "0"],
            &["LPUSH", "{b}src", "v"],
        ),
        (
            &["BRPOPLPUSH", "{b}src", "{b}a", "0"],
            &["LPUSH", "{b}src", "w"],
        ),
        (
            &["BLMPOP", "0", "2", "{b}none", "{b}c", "RIGHT", "COUNT", "5"],
            &["RPUSH", "{b}c", "1", "2"],
        ),
        // Served once the script is over: its events come first.
        (
            &["BLPOP", "{b}q", "0"],
            &[
                "EVAL",
                "redis.call('rpush', KEYS[1], 'x'); redis.call('sadd', KEYS[2], 'm'); return 1",
                "2",
                "{b}q",
                "{b}z",
            ],
        ),
    ];
    for (block, wake) in cases {
        let expected = blocked_events(&redis, block, wake);
        assert_eq!(
            blocked_events(&shardis, block, wake),
            expected,
            "{block:?} served by {wake:?} (shardis left, redis right)"
        );
    }
}

#[test]
fn hash_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["HSET", "{h}a", "f1", "1", "f2", "2"],
        // "hset" whether or not a field is new.
        &["HSET", "{h}a", "f1", "1"],
        &["HMSET", "{h}a", "f3", "3"],
        &["HSET", "{h}a", "f1"],
        &["HSETNX", "{h}a", "f1", "x"],
        &["HSETNX", "{h}a", "f4", "x"],
        &["HSETNX", "{h}b", "f", "x"],
        &["HINCRBY", "{h}a", "f1", "5"],
        &["HINCRBY", "{h}a", "f4", "1"],
        &["HINCRBY", "{h}a", "f1", "x"],
        &["HINCRBY", "{h}a", "f1", "9223372036854775807"],
        &["HINCRBY", "{h}c", "n", "1"],
        &["HINCRBYFLOAT", "{h}a", "f1", "1.5"],
        &["HINCRBYFLOAT", "{h}a", "f4", "1"],
        &["HINCRBYFLOAT", "{h}a", "f1", "x"],
        &["HINCRBYFLOAT", "{h}d", "n", "2.5"],
        &["HDEL", "{h}a", "nothing"],
        &["HDEL", "{h}a", "f1", "f2", "nothing"],
        &["HDEL", "{h}b", "f", "g"],
        &["HDEL", "{h}none", "f"],
        &["SADD", "{h}s", "v"],
        &["HSET", "{h}s", "f", "v"],
        &["HSETNX", "{h}s", "f", "v"],
        &["HINCRBY", "{h}s", "f", "1"],
        &["HINCRBYFLOAT", "{h}s", "f", "1"],
        &["HDEL", "{h}s", "f"],
        &["HGET", "{h}a", "f3"],
        &["HGETALL", "{h}a"],
        &["HLEN", "{h}a"],
        &["HDEL", "{h}a", "f3", "f4"],
    ]);
}

#[test]
fn set_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["SADD", "{t}a", "1", "2", "3"],
        &["SADD", "{t}a", "1"],
        &["SADD", "{t}a", "x", "1"],
        &["SREM", "{t}a", "nothing"],
        &["SREM", "{t}a", "x", "nothing"],
        &["SREM", "{t}none", "x"],
        &["SADD", "{t}b", "9"],
        &["SREM", "{t}b", "9", "8"],
        // SMOVE: "srem" (and "del") on the source, then "sadd" on the destination if new.
        &["SMOVE", "{t}a", "{t}b", "1"],
        &["SMOVE", "{t}a", "{t}b", "nothing"],
        &["SMOVE", "{t}none", "{t}b", "1"],
        &["SMOVE", "{t}a", "{t}a", "2"],
        &["SADD", "{t}a", "1"],
        &["SMOVE", "{t}b", "{t}a", "1"],
        &["SADD", "{t}c", "5"],
        &["SMOVE", "{t}c", "{t}d", "5"],
        &["SPOP", "{t}d"],
        &["SPOP", "{t}none"],
        &["SPOP", "{t}none", "2"],
        &["SPOP", "{t}a", "0"],
        &["SPOP", "{t}a", "-1"],
        &["SADD", "{t}p", "1", "2", "3", "4"],
    ]);
    // Random picks: only the events compare.
    d.run_events_only(&["SPOP", "{t}p", "2"]);
    d.run_events_only(&["SPOP", "{t}p"]);
    d.run_events_only(&["SPOP", "{t}p", "10"]);
    d.script(&[
        &["SADD", "{t}e", "zzz"],
        &["SINTERSTORE", "{t}dst", "{t}a", "{t}a"],
        &["SINTERSTORE", "{t}dst", "{t}a", "{t}e"],
        &["SINTERSTORE", "{t}dst", "{t}a", "{t}e"],
        &["SUNIONSTORE", "{t}dst", "{t}a", "{t}e"],
        &["SUNIONSTORE", "{t}dst", "{t}e"],
        &["SDIFFSTORE", "{t}dst", "{t}a", "{t}e"],
        &["SDIFFSTORE", "{t}dst", "{t}a", "{t}a"],
        &["SDIFFSTORE", "{t}dst", "{t}a", "{t}a"],
        // A destination of another type is replaced.
        &["HSET", "{t}str", "f", "v"],
        &["SUNIONSTORE", "{t}str", "{t}a"],
        &["RPUSH", "{t}str", "v"],
        &["SINTERSTORE", "{t}str", "{t}a", "{t}e"],
        &["HSET", "{t}str", "f", "v"],
        &["SADD", "{t}str", "1"],
        &["SREM", "{t}str", "1"],
        &["SMOVE", "{t}str", "{t}a", "1"],
        &["SMOVE", "{t}a", "{t}str", "1"],
        &["SPOP", "{t}str"],
        &["SINTERSTORE", "{t}dst", "{t}a", "{t}str"],
        &["SUNIONSTORE", "{t}dst", "{t}a", "{t}str"],
        &["SDIFFSTORE", "{t}dst", "{t}a", "{t}str"],
        &["SCARD", "{t}a"],
        &["SINTERCARD", "2", "{t}a", "{t}e"],
    ]);
    // Reads: no events (Redis 7.0 orders these members differently: no listpack sets).
    d.run_events_only(&["SMEMBERS", "{t}a"]);
    d.run_events_only(&["SUNION", "{t}a", "{t}e"]);
    d.run_events_only(&["SDIFF", "{t}a", "{t}e"]);
}

/// Sources that do not exist are read lookups that miss: Redis records "keymiss" for each
/// before the store.
#[test]
fn set_store_with_missing_sources() {
    let mut d = EventDiff::start();
    d.script(&[
        &["SADD", "{t}a", "1", "2"],
        &["SADD", "{t}dst", "1"],
        &["SINTERSTORE", "{t}dst", "{t}a", "{t}none"],
        &["SUNIONSTORE", "{t}dst", "{t}none", "{t}a"],
        &["SDIFFSTORE", "{t}dst", "{t}none", "{t}a"],
        &["SDIFFSTORE", "{t}dst", "{t}a", "{t}none"],
        &["SUNIONSTORE", "{t}dst", "{t}none"],
    ]);
}

#[test]
fn zset_commands() {
    // Here and in the geo, hll and sort tests, reads of missing keys (the sources of the
    // stores too) expect the "keymiss" of Db's read lookup, as Redis' lookupKeyRead.
    let mut d = EventDiff::start();
    d.script(&[
        // ZADD and ZINCRBY: "zadd" / "zincr" only when a member was added or changed.
        &["ZADD", "{z}a", "1", "x", "2", "y"],
        &["ZADD", "{z}a", "1", "x"],
        &["ZADD", "{z}a", "NX", "5", "x"],
        &["ZADD", "{z}a", "XX", "CH", "5", "x"],
        &["ZADD", "{z}a", "GT", "1", "x"],
        &["ZADD", "{z}a", "LT", "1", "x", "3", "z"],
        &["ZADD", "{z}none", "XX", "1", "x"],
        &["ZADD", "{z}a", "INCR", "2", "x"],
        &["ZADD", "{z}a", "INCR", "0", "x"],
        &["ZADD", "{z}a", "INCR", "XX", "1", "nope"],
        &["ZADD", "{z}a", "1", "x", "y"],
        &["ZADD", "{z}a", "NX", "XX", "1", "x"],
        &["ZADD", "{z}a", "nan", "x"],
        &["ZADD", "{z}a", "INCR", "1", "x", "2", "y"],
        &["ZADD", "{z}inf", "+inf", "x"],
        &["ZINCRBY", "{z}inf", "-inf", "x"],
        &["PFADD", "{z}str", "e"],
        &["ZADD", "{z}str", "1", "x"],
        &["ZINCRBY", "{z}b", "1.5", "m"],
        &["ZINCRBY", "{z}b", "0", "m"],
        &["ZINCRBY", "{z}b", "1", "m"],
        &["ZINCRBY", "{z}str", "1", "m"],
        // ZREM: "zrem", then "del" when it emptied the set.
        &["ZREM", "{z}a", "nope"],
        &["ZREM", "{z}a", "x", "nope"],
        &["ZREM", "{z}none", "x"],
        &["ZREM", "{z}str", "x"],
        &["ZREM", "{z}b", "m", "m2"],
        // ZREMRANGEBY*
        &[
            "ZADD", "{z}r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
        &["ZREMRANGEBYRANK", "{z}r", "10", "20"],
        &["ZREMRANGEBYRANK", "{z}r", "0", "0"],
        &["ZREMRANGEBYSCORE", "{z}r", "(2", "3"],
        &["ZREMRANGEBYSCORE", "{z}r", "100", "200"],
        &["ZREMRANGEBYSCORE", "{z}r", "x", "2"],
        &["ZREMRANGEBYLEX", "{z}r", "[b", "[b"],
        &["ZREMRANGEBYLEX", "{z}r", "[zz", "+"],
        &["ZREMRANGEBYLEX", "{z}r", "b", "c"],
        &["ZREMRANGEBYLEX", "{z}r", "-", "+"],
        &["ZREMRANGEBYRANK", "{z}none", "0", "-1"],
        &["ZREMRANGEBYSCORE", "{z}str", "0", "1"],
        // Pops: "zpopmin" / "zpopmax" once per call, then "del" when emptied.
        &[
            "ZADD", "{z}p", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
        &["ZPOPMIN", "{z}p"],
        &["ZPOPMAX", "{z}p", "2"],
        &["ZPOPMIN", "{z}p", "0"],
        &["ZPOPMIN", "{z}none"],
        &["ZPOPMIN", "{z}p", "-1"],
        &["ZPOPMAX", "{z}str"],
        &["ZPOPMAX", "{z}p", "10"],
        &["ZADD", "{z}p", "1", "a", "2", "b"],
        &["ZMPOP", "2", "{z}none", "{z}p", "MIN"],
        &["ZMPOP", "1", "{z}none", "MAX"],
        &["ZMPOP", "1", "{z}p", "LEFT"],
        &["ZMPOP", "2", "{z}none", "{z}p", "MAX", "COUNT", "5"],
        &["ZADD", "{z}p", "1", "a", "2", "b", "3", "c"],
        // Blocking pops that find data serve at once.
        &["BZPOPMIN", "{z}none", "{z}p", "0"],
        &["BZPOPMAX", "{z}p", "0"],
        &["BZPOPMIN", "{z}p", "-1"],
        &["ZADD", "{z}p", "1", "a"],
        &["BZMPOP", "0", "2", "{z}none", "{z}p", "MIN", "COUNT", "3"],
        // ZRANGESTORE: "zrangestore", or "del" when the result is empty and dst existed.
        &["ZADD", "{z}s", "1", "a", "2", "b", "3", "c"],
        &["ZRANGESTORE", "{z}d", "{z}s", "0", "1"],
        &["ZRANGESTORE", "{z}d", "{z}s", "(1", "+inf", "BYSCORE"],
        &[
            "ZRANGESTORE",
            "{z}d",
            "{z}s",
            "[a",
            "[b",
            "BYLEX",
            "REV",
            "LIMIT",
            "0",
            "1",
        ],
        &["ZRANGESTORE", "{z}d", "{z}s", "5", "10"],
        &["ZRANGESTORE", "{z}d", "{z}s", "5", "10"],
        &["ZRANGESTORE", "{z}d", "{z}s", "0", "-1"],
        &["ZRANGESTORE", "{z}d", "{z}none", "0", "-1"],
        &["ZRANGESTORE", "{z}d", "{z}none", "0", "-1"],
        &["ZRANGESTORE", "{z}d", "{z}s", "0", "1", "LIMIT", "0", "1"],
        &["ZRANGESTORE", "{z}d", "{z}str", "0", "1"],
        &["ZRANGESTORE", "{z}str", "{z}s", "0", "0"],
        &["ZRANGESTORE", "{z}s", "{z}s", "1", "-1"],
        // ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE: the same, with their own events.
        &["ZADD", "{z}u1", "1", "a", "2", "b"],
        &["ZADD", "{z}u2", "3", "b", "4", "c"],
        &["ZUNIONSTORE", "{z}out", "2", "{z}u1", "{z}u2"],
        &[
            "ZINTERSTORE",
            "{z}out",
            "2",
            "{z}u1",
            "{z}u2",
            "WEIGHTS",
            "1",
            "2",
            "AGGREGATE",
            "MAX",
        ],
        &["ZDIFFSTORE", "{z}out", "2", "{z}u1", "{z}u2"],
        &["ZINTERSTORE", "{z}out", "2", "{z}u1", "{z}none"],
        &["ZINTERSTORE", "{z}out", "2", "{z}u1", "{z}none"],
        &["ZUNIONSTORE", "{z}out", "1", "{z}u2"],
        &["ZDIFFSTORE", "{z}out", "2", "{z}u1", "{z}u1"],
        &["ZDIFFSTORE", "{z}out", "1", "{z}none"],
        &["ZUNIONSTORE", "{z}out", "2", "{z}u1", "{z}str"],
        &["ZUNIONSTORE", "{z}out", "0", "{z}u1"],
        &["ZINTERSTORE", "{z}out", "1", "{z}u1", "AGGREGATE", "AVG"],
        &["ZUNIONSTORE", "{z}u1", "2", "{z}u1", "{z}u2"],
        &["ZUNIONSTORE", "{z}str", "1", "{z}u2"],
        // Reads record nothing (but a miss).
        &["ZUNION", "2", "{z}u1", "{z}u2", "WITHSCORES"],
        &["ZINTER", "2", "{z}u1", "{z}u2"],
        &["ZDIFF", "2", "{z}u1", "{z}u2"],
        &["ZINTERCARD", "2", "{z}u1", "{z}u2"],
        &["ZRANGE", "{z}u1", "0", "-1", "WITHSCORES"],
        &["ZRANGEBYSCORE", "{z}u1", "-inf", "+inf"],
        &["ZCARD", "{z}u1"],
        &["ZSCORE", "{z}u1", "a"],
        &["ZMSCORE", "{z}u1", "a", "nope"],
        &["ZRANK", "{z}u1", "a"],
        &["ZCOUNT", "{z}u1", "-inf", "+inf"],
        &["ZLEXCOUNT", "{z}u1", "-", "+"],
        &["ZCARD", "{z}none"],
    ]);
}

/// Runs `setup`, then `block` on one connection and, once that client is blocked, `wake`
/// on another; returns the replies of both and every keyspace event, in order.
fn blocked_client_events(
    server: &common::Server,
    setup: &[&[&str]],
    block: &[&str],
    wake: &[&str],
) -> (String, String, Vec<(String, String)>) {
    fn query(c: &mut redis::Connection, args: &[&str]) -> String {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        match cmd.query::<redis::Value>(c) {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error: {}", e.detail().unwrap_or_default()),
        }
    }
    let mut c = server.client();
    query(
        &mut c,
        &["CONFIG", "SET", "notify-keyspace-events", "KEAnm"],
    );
    let mut sub_conn = server.client();
    let mut sub = sub_conn.as_pubsub();
    sub.psubscribe("__key*@*").unwrap();
    sub.subscribe("marker").unwrap();
    for s in setup {
        query(&mut c, s);
    }
    let mut blocked = server.client();
    let block: Vec<String> = block.iter().map(|s| s.to_string()).collect();
    let waiter = std::thread::spawn(move || {
        let args: Vec<&str> = block.iter().map(|s| s.as_str()).collect();
        query(&mut blocked, &args)
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never blocked");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let woke = query(&mut c, wake);
    let served = waiter.join().unwrap();
    query(&mut c, &["PUBLISH", "marker", "end"]);
    let mut events = Vec::new();
    loop {
        let msg = sub.get_message().unwrap();
        if msg.get_channel_name() == "marker" {
            break;
        }
        events.push((
            msg.get_channel_name().to_string(),
            msg.get_payload().unwrap(),
        ));
    }
    (served, woke, events)
}

#[test]
fn zset_blocked_clients() {
    fn check(setup: &[&[&str]], block: &[&str], wake: &[&str]) {
        let redis = blocked_client_events(&common::start_reference_redis(), setup, block, wake);
        let shardis = blocked_client_events(&common::Server::start(2, &[]), setup, block, wake);
        assert_eq!(shardis, redis, "{block:?} woken by {wake:?} (shardis left)");
    }
    check(&[], &["BZPOPMIN", "{b}k", "0"], &["ZADD", "{b}k", "1", "a"]);
    check(
        &[],
        &["BZMPOP", "0", "2", "{b}x", "{b}k", "MAX", "COUNT", "5"],
        &["ZADD", "{b}k", "1", "a", "2", "b"],
    );
    check(
        &[&["ZADD", "{b}src", "1", "a", "2", "b"]],
        &["BZPOPMAX", "{b}k", "0"],
        &["ZUNIONSTORE", "{b}k", "1", "{b}src"],
    );
}

#[test]
fn geo_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        // GEOADD runs as ZADD: its event is "zadd", only when something changed.
        &[
            "GEOADD",
            "{g}a",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &["GEOADD", "{g}a", "13.361389", "38.115556", "Palermo"],
        &["GEOADD", "{g}a", "NX", "13.4", "38.1", "Palermo"],
        &["GEOADD", "{g}a", "XX", "CH", "13.4", "38.1", "Palermo"],
        &["GEOADD", "{g}a", "XX", "13.4", "38.1", "Rome"],
        &["GEOADD", "{g}none", "XX", "13.4", "38.1", "Palermo"],
        &["GEOADD", "{g}a", "200", "38.1", "x"],
        &["GEOADD", "{g}a", "NX", "XX", "1", "1", "x"],
        &["PFADD", "{g}str"],
        &["GEOADD", "{g}str", "1", "1", "x"],
        // Stores: "geosearchstore" / "georadiusstore", or "del" when empty.
        &[
            "GEOSEARCHSTORE",
            "{g}d",
            "{g}a",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "ASC",
        ],
        &[
            "GEOSEARCHSTORE",
            "{g}d",
            "{g}a",
            "FROMMEMBER",
            "Palermo",
            "BYBOX",
            "400",
            "400",
            "km",
            "STOREDIST",
        ],
        &[
            "GEOSEARCHSTORE",
            "{g}d",
            "{g}a",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "{g}d",
            "{g}a",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "{g}d",
            "{g}a",
            "FROMMEMBER",
            "nope",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "GEORADIUS",
            "{g}a",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "{g}d",
        ],
        &[
            "GEORADIUS",
            "{g}a",
            "15",
            "37",
            "200",
            "km",
            "COUNT",
            "1",
            "STOREDIST",
            "{g}d2",
        ],
        &[
            "GEORADIUSBYMEMBER",
            "{g}a",
            "Palermo",
            "500",
            "km",
            "STORE",
            "{g}d",
        ],
        &["GEORADIUS", "{g}a", "0", "0", "1", "km", "STORE", "{g}d2"],
        &[
            "GEORADIUS",
            "{g}none",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "{g}d",
        ],
        &[
            "GEORADIUS",
            "{g}none",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "{g}d",
        ],
        &[
            "GEORADIUS",
            "{g}a",
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "STORE",
            "{g}d",
        ],
        &[
            "GEORADIUS",
            "{g}str",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "{g}d",
        ],
        &[
            "GEORADIUS",
            "{g}a",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "{g}str",
        ],
        // Reads record nothing (but a miss).
        &["GEORADIUS", "{g}a", "15", "37", "200", "km"],
        &["GEORADIUSBYMEMBER_RO", "{g}a", "Palermo", "500", "km"],
        &[
            "GEOSEARCH",
            "{g}a",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
        ],
        &["GEOPOS", "{g}a", "Palermo"],
        &["GEODIST", "{g}a", "Palermo", "Catania"],
        &["GEOHASH", "{g}a", "Palermo"],
        &["GEOPOS", "{g}none", "Palermo"],
    ]);
}

#[test]
fn hll_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        // PFADD: "pfadd" (class $) when it created the key or changed a register.
        &["PFADD", "{h}a", "x", "y"],
        &["PFADD", "{h}a", "x"],
        &["PFADD", "{h}a"],
        &["PFADD", "{h}b"],
        &["PFADD", "{h}b", "z"],
        // PFCOUNT caches the cardinality in the string, silently.
        &["PFCOUNT", "{h}a"],
        &["PFCOUNT", "{h}a"],
        &["PFCOUNT", "{h}a", "{h}b", "{h}none"],
        &["PFCOUNT", "{h}none"],
        // PFMERGE: always "pfadd" on the destination, as a mass PFADD.
        &["PFMERGE", "{h}c", "{h}a", "{h}b"],
        &["PFMERGE", "{h}c", "{h}a"],
        &["PFMERGE", "{h}c"],
        &["PFMERGE", "{h}d"],
        &["PFMERGE", "{h}e", "{h}none"],
        &["PFDEBUG", "TODENSE", "{h}c"],
        &["PFMERGE", "{h}a", "{h}c"],
        &["ZADD", "{h}z", "1", "x"],
        &["PFADD", "{h}z", "x"],
        &["PFMERGE", "{h}c", "{h}z"],
        &["PFMERGE", "{h}z", "{h}a"],
        &["PFCOUNT", "{h}z"],
    ]);
}

#[test]
fn sort_commands() {
    let mut d = EventDiff::start();
    d.script(&[
        &["ZADD", "{o}n", "1", "10", "2", "3", "3", "7"],
        &["ZADD", "{o}w", "3", "c", "1", "a", "2", "b"],
        // SORT ... STORE: "sortstore" (class l), or "del" when empty and the key existed.
        // (BY / GET patterns that read keys go through the coordinator's scratch database
        // on a multi-shard server, even under one hash tag: not tested here.)
        &["SORT", "{o}n", "STORE", "{o}d"],
        &["SORT", "{o}n", "DESC", "LIMIT", "0", "2", "STORE", "{o}d"],
        &["SORT", "{o}w", "ALPHA", "STORE", "{o}d"],
        &["SORT", "{o}n", "BY", "nosort", "GET", "#", "STORE", "{o}d"],
        &["SORT", "{o}n", "LIMIT", "5", "1", "STORE", "{o}d"],
        &["SORT", "{o}n", "LIMIT", "5", "1", "STORE", "{o}d"],
        &["SORT", "{o}none", "STORE", "{o}d"],
        &["SORT", "{o}n", "STORE", "{o}d"],
        &["SORT", "{o}none", "STORE", "{o}d"],
        &["SORT", "{o}w", "STORE", "{o}d"],
        &["SORT", "{o}n", "STORE"],
        &["PFADD", "{o}hll"],
        &["SORT", "{o}hll", "STORE", "{o}d"],
        &["SORT", "{o}n", "STORE", "{o}hll"],
        &["SORT", "{o}n", "STORE", "{o}n"],
        // Without STORE, and SORT_RO: nothing.
        &["SORT", "{o}n"],
        &["SORT_RO", "{o}w", "ALPHA"],
        &["SORT", "{o}none"],
    ]);
}

#[test]
fn cross_shard_commands() {
    // Keys on both shards: commands run through the coordinator (RENAME, COPY move entries
    // between shards; the stores compute on a scratch shard). Each shard publishes its own
    // events, so they are compared unordered.
    let mut d = EventDiff::start();
    let (a, b) = common::cross("x");
    let (c, e) = common::cross("y");
    d.run(&["SET", &a, "1"]);
    d.run_unordered(&["RENAME", &a, &b]);
    d.run_unordered(&["COPY", &b, &a]);
    d.run_unordered(&["COPY", &b, &a, "REPLACE"]);
    d.run_unordered(&["DEL", &a, &b]);
    d.run(&["SADD", &a, "m1", "m2"]);
    d.run(&["SADD", &b, "m2", "m3"]);
    d.run_unordered(&["SUNIONSTORE", &c, &a, &b]);
    d.run_unordered(&["SINTERSTORE", &e, &a, &b]);
    d.run_unordered(&["SDIFFSTORE", &e, &a, &a]);
    d.run_unordered(&["SMOVE", &a, &b, "m1"]);
    d.run(&["RPUSH", &c, "3", "1", "2"]);
    d.run_unordered(&["LMOVE", &c, &e, "LEFT", "RIGHT"]);
    d.run_unordered(&["SORT", &c, "STORE", &a]);
    d.run(&["ZADD", &b, "1", "z"]);
    d.run_unordered(&["ZUNIONSTORE", &e, "2", &b, &c]);
    // A script over keys of both shards.
    d.run_unordered(&[
        "EVAL",
        "redis.call('SET', KEYS[1], 'v') redis.call('DEL', KEYS[2]) return 1",
        "2",
        &a,
        &b,
    ]);
}
