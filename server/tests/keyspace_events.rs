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
    d.run(&["CONFIG", "SET", "notify-keyspace-events", "KEAmn"]);
    d.run(&["CONFIG", "GET", "notify-keyspace-events"]);
    d.run(&["CONFIG", "SET", "notify-keyspace-events", "KEq"]);
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
