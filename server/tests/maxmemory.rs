//! maxmemory and eviction over TCP: the limit is honoured, each policy evicts what it names,
//! -OOM as Redis words it (plain commands, MULTI/EXEC, scripts), LFU's OBJECT FREQ, and an
//! evicted key is gone for WATCH, keyspace events and the AOF. Where the behaviour is Redis'
//! own (errors, OBJECT), the same test also runs against Debian's redis-server.

mod common;

use common::{eventually, info_field, q, qerr, start_reference_redis, Server};
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn int_field(c: &mut redis::Connection, name: &str) -> u64 {
    info_field(c, name)
        .unwrap_or_else(|| panic!("INFO has no {name}"))
        .parse()
        .unwrap()
}

/// Shardis with two shards, and the reference Redis.
fn both() -> [(&'static str, Server); 2] {
    [
        ("shardis", Server::start(2, &[])),
        ("redis", start_reference_redis()),
    ]
}

fn value(size: usize) -> String {
    "v".repeat(size)
}

#[test]
fn config_and_info() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let all: std::collections::BTreeMap<String, String> =
        q(&mut c, &["CONFIG", "GET", "maxmemory*"]);
    let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    assert_eq!(
        all,
        [
            ("maxmemory", "0"),
            ("maxmemory-eviction-tenacity", "10"),
            ("maxmemory-policy", "noeviction"),
            ("maxmemory-samples", "5"),
        ]
    );
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            "100mb",
            "maxmemory-policy",
            "ALLKEYS-LRU",
        ],
    );
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory-policy"]);
    assert_eq!(got[1], "allkeys-lru");
    assert_eq!(info_field(&mut c, "maxmemory").unwrap(), "104857600");
    assert_eq!(info_field(&mut c, "maxmemory_human").unwrap(), "100.00M");
    assert_eq!(
        info_field(&mut c, "maxmemory_policy").unwrap(),
        "allkeys-lru"
    );
    assert_eq!(info_field(&mut c, "evicted_keys").unwrap(), "0");
    assert_eq!(
        info_field(&mut c, "mem_not_counted_for_evict").unwrap(),
        "0"
    );
    assert!(qerr(&mut c, &["CONFIG", "SET", "maxmemory-policy", "lru"]).contains(
        "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
         volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    ));
    assert!(qerr(&mut c, &["CONFIG", "SET", "maxmemory-samples", "0"])
        .contains("argument must be between 1 and 64 inclusive"));
    for (name, value) in [
        ("lfu-log-factor", "10"),
        ("lfu-decay-time", "1"),
        ("replica-ignore-maxmemory", "yes"),
    ] {
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", name]);
        assert_eq!(got[1], value, "{name}");
    }
}

/// Redis' own answers when nothing may be evicted: writes are refused, reads and deletes
/// run; inside MULTI every queued command is refused; EXEC of a transaction that would
/// grow memory is aborted; scripts refuse their first write.
#[test]
fn out_of_memory_errors_as_redis() {
    for (name, s) in both() {
        let mut c = s.client();
        let _: () = q(&mut c, &["SET", "k", "v"]);
        // A transaction queued while there is room, run when there is none.
        let _: () = q(&mut c, &["MULTI"]);
        let queued: String = q(&mut c, &["SET", "k2", "v"]);
        assert_eq!(queued, "QUEUED");
        let mut other = s.client();
        let _: () = q(&mut other, &["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(
            qerr(&mut c, &["EXEC"]),
            format!("EXECABORT Transaction discarded because of: {OOM}"),
            "{name}"
        );
        assert_eq!(qerr(&mut c, &["SET", "a", "b"]), OOM, "{name}");
        assert_eq!(qerr(&mut c, &["INCR", "n"]), OOM, "{name}");
        assert_eq!(qerr(&mut c, &["MSET", "a", "1", "b", "2"]), OOM, "{name}");
        assert_eq!(qerr(&mut c, &["LPUSH", "l", "x"]), OOM, "{name}");
        let v: String = q(&mut c, &["GET", "k"]);
        assert_eq!(v, "v", "{name}");
        let n: i64 = q(&mut c, &["DEL", "nosuch"]);
        assert_eq!(n, 0, "{name}");
        // MULTI: queuing is refused, then EXEC aborts.
        let _: () = q(&mut c, &["MULTI"]);
        assert_eq!(qerr(&mut c, &["GET", "k"]), OOM, "{name}");
        assert_eq!(
            qerr(&mut c, &["EXEC"]),
            "EXECABORT Transaction discarded because of previous errors.",
            "{name}"
        );
        // Scripts: a plain EVAL refuses its first write, not its reads.
        let e = qerr(&mut c, &["EVAL", "return redis.call('set','x','y')", "0"]);
        assert!(e.starts_with(&format!("{OOM} script: ")), "{name}: {e}");
        let v: String = q(&mut c, &["EVAL", "return redis.call('get','k')", "0"]);
        assert_eq!(v, "v", "{name}");
        // A script declared with flags that may write is refused as a whole.
        let e = qerr(
            &mut c,
            &["EVAL", "#!lua\nreturn redis.call('get','k')", "0"],
        );
        assert_eq!(e, OOM, "{name}");
        let v: String = q(
            &mut c,
            &[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('get','k')",
                "0",
            ],
        );
        assert_eq!(v, "v", "{name}");
        let v: String = q(
            &mut c,
            &[
                "EVAL",
                "#!lua flags=allow-oom\nreturn redis.call('set','x','y')",
                "0",
            ],
        );
        assert_eq!(v, "OK", "{name}");
        // Room again.
        let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
        let _: () = q(&mut c, &["SET", "a", "b"]);
        assert_eq!(int_field(&mut c, "evicted_keys"), 0, "{name}");
    }
}

#[test]
fn object_freq_and_idletime_follow_the_policy() {
    for (name, s) in both() {
        let mut c = s.client();
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        );
        let _: () = q(&mut c, &["SET", "k", "v"]);
        let f: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]);
        assert_eq!(f, 5, "{name}: LFU_INIT_VAL");
        for _ in 0..200 {
            let _: String = q(&mut c, &["GET", "k"]);
        }
        let f: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]);
        assert!(f > 6 && f < 255, "{name}: {f}");
        assert_eq!(
            qerr(&mut c, &["OBJECT", "IDLETIME", "k"]),
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that \
             when switching between policies at runtime LRU and LFU data will take some time \
             to adjust.",
            "{name}"
        );
        // A copy is a new object: its counter starts afresh (on one shard and across shards).
        for to in ["{k}copy", "copy-elsewhere"] {
            let _: bool = q(&mut c, &["COPY", "k", to]);
            let f: i64 = q(&mut c, &["OBJECT", "FREQ", to]);
            assert_eq!(f, 5, "{name}: {to}");
        }
        let none: Option<i64> = q(&mut c, &["OBJECT", "FREQ", "nosuch"]);
        assert_eq!(none, None, "{name}");
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
        );
        assert!(qerr(&mut c, &["OBJECT", "FREQ", "k"])
            .starts_with("ERR An LFU maxmemory policy is not selected"));
        let _: () = q(&mut c, &["SET", "k", "v"]);
        let idle: i64 = q(&mut c, &["OBJECT", "IDLETIME", "k"]);
        assert!(idle <= 1, "{name}: {idle}");
    }
}

/// Fills a server past its limit: memory stays within it, keys are evicted and counted, and
/// the keys read since the older ones were written survive (LRU).
#[test]
fn allkeys_lru_honours_the_limit_and_keeps_recent_keys() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let base = int_field(&mut c, "used_memory");
    let limit = base + 8 * 1024 * 1024;
    let limit_arg = limit.to_string();
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            &limit_arg,
            "maxmemory-policy",
            "allkeys-lru",
        ],
    );
    let v = value(1000);
    // Cold keys up to about 70% of the room, then time passes (the LRU clock has
    // one-second resolution).
    let mut pipe = redis::pipe();
    for i in 0..5000 {
        pipe.cmd("SET").arg(format!("cold:{i}")).arg(&v).ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    assert_eq!(int_field(&mut c, "evicted_keys"), 0);
    std::thread::sleep(Duration::from_millis(2100));
    // The hot keys: the first 300 cold ones, read now.
    for i in 0..300 {
        let _: String = q(&mut c, &["GET", &format!("cold:{i}")]);
    }
    // New keys: a third of the cold ones must go to make room for them.
    for chunk in 0..5 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET")
                .arg(format!("new:{chunk}:{i}"))
                .arg(&v)
                .ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
        let used = int_field(&mut c, "used_memory");
        // Within the limit, but for what the executors have not folded into the shared
        // count yet (a few hundred KiB each).
        assert!(used < limit + 1024 * 1024, "used {used} > limit {limit}");
    }
    let evicted = int_field(&mut c, "evicted_keys");
    assert!(evicted > 1000, "evicted {evicted}");
    // (Reads may still evict a few keys: memory stays at the limit.)
    let mut kept = |keys: std::ops::Range<usize>| {
        keys.filter(|i| q::<bool>(&mut c, &["EXISTS", &format!("cold:{i}")]))
            .count()
    };
    let (hot_kept, cold_kept) = (kept(0..300), kept(300..5000));
    // Approximated LRU: sampled, so a hot key could go, but the hot keys fare far better
    // than the cold ones.
    assert!(hot_kept >= 290, "hot keys kept: {hot_kept} of 300");
    assert!(cold_kept <= 3800, "cold keys kept: {cold_kept} of 4700");
    let total = int_field(&mut c, "total_eviction_exceeded_time");
    let current = int_field(&mut c, "current_eviction_exceeded_time");
    assert!(total >= current);
}

/// The policies that pick keys other ways: random, nearest TTL, volatile keys only.
#[test]
fn volatile_policies_spare_keys_without_ttl() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    for i in 0..50 {
        let _: () = q(&mut c, &["SET", &format!("keep:{i}"), "v"]);
    }
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let _: () = q(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                "0",
                "maxmemory-policy",
                policy,
            ],
        );
        for i in 0..50 {
            let _: () = q(
                &mut c,
                &[
                    "SET",
                    &format!("ttl:{i}"),
                    "v",
                    "EX",
                    &(100 + i).to_string(),
                ],
            );
        }
        let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
        // Every shard evicts what it may (its cron, or the next command it runs), then
        // writes are refused.
        assert!(
            eventually(10, || {
                let n: u64 = q(&mut c, &["DBSIZE"]);
                n == 50
            }),
            "{policy}"
        );
        assert!(
            eventually(10, || qerr(&mut c, &["SET", "x", "y"]) == OOM),
            "{policy}"
        );
        for i in 0..50 {
            let e: bool = q(&mut c, &["EXISTS", &format!("keep:{i}")]);
            assert!(e, "{policy}: keep:{i}");
        }
    }
    assert_eq!(int_field(&mut c, "evicted_keys"), 200);
    // allkeys-random takes the rest.
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
    );
    assert!(eventually(10, || {
        let n: u64 = q(&mut c, &["DBSIZE"]);
        n == 0
    }));
    assert_eq!(int_field(&mut c, "evicted_keys"), 250);
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(int_field(&mut c, "evicted_keys"), 0);
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let s = Server::start(1, &[]);
    let mut c = s.client();
    let base = int_field(&mut c, "used_memory");
    let v = value(10_000);
    for i in 0..200 {
        let _: () = q(
            &mut c,
            &["SET", &format!("k:{i}"), &v, "EX", &(1000 + i).to_string()],
        );
    }
    // Room for about half of them.
    let limit = (base + 1_000_000).to_string();
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory-policy",
            "volatile-ttl",
            "maxmemory",
            &limit,
        ],
    );
    let _: Option<String> = q(&mut c, &["GET", "k:0"]);
    assert!(eventually(10, || int_field(&mut c, "evicted_keys") >= 100));
    let kept: Vec<usize> = (0..200)
        .filter(|i| q::<bool>(&mut c, &["EXISTS", &format!("k:{i}")]))
        .collect();
    // Sampled: mostly the soonest-to-expire went, so the survivors are the later ones.
    let late = kept.iter().filter(|&&i| i >= 100).count();
    assert!(late * 10 >= kept.len() * 8, "kept {kept:?}");
}

/// An evicted key is a change like any other: WATCH sees it, an `evicted` keyspace event
/// is published, and the AOF records its DEL (it does not come back after a restart).
#[test]
fn eviction_is_seen_by_watch_events_and_the_aof() {
    let dir = std::env::temp_dir().join(format!("shardis-maxmemory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_string_lossy().into_owned();
    let args = [
        "--dir",
        d.as_str(),
        "--appendonly",
        "yes",
        "--notify-keyspace-events",
        "Ee",
    ];
    {
        let s = Server::start(2, &args);
        let mut c = s.client();
        for i in 0..100 {
            let _: () = q(&mut c, &["SET", &format!("k:{i}"), "v"]);
        }
        let _: () = q(&mut c, &["WATCH", "k:1"]);
        let mut sub = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        sub.write_all(b"SUBSCRIBE __keyevent@0__:evicted\r\n")
            .unwrap();
        let mut sub = BufReader::new(sub);
        let mut line = String::new();
        for _ in 0..6 {
            line.clear();
            sub.read_line(&mut line).unwrap();
        }
        let mut admin = s.client();
        let _: () = q(
            &mut admin,
            &[
                "CONFIG",
                "SET",
                "maxmemory-policy",
                "allkeys-random",
                "maxmemory",
                "1",
            ],
        );
        assert!(eventually(10, || {
            let n: u64 = q(&mut admin, &["DBSIZE"]);
            n == 0
        }));
        let _: () = q(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
        // One message per evicted key, naming it.
        let mut evicted = Vec::new();
        for _ in 0..100 {
            let mut msg = Vec::new();
            for _ in 0..7 {
                line.clear();
                sub.read_line(&mut line).unwrap();
                msg.push(line.trim_end().to_string());
            }
            assert_eq!(msg[4], "__keyevent@0__:evicted");
            evicted.push(msg[6].clone());
        }
        evicted.sort();
        let mut all: Vec<String> = (0..100).map(|i| format!("k:{i}")).collect();
        all.sort();
        assert_eq!(evicted, all);
        let _: () = q(&mut c, &["MULTI"]);
        let _: () = q(&mut c, &["SET", "k:1", "again"]);
        let r: Option<Vec<String>> = q(&mut c, &["EXEC"]);
        assert_eq!(r, None, "WATCH saw the eviction");
        let _: () = q(&mut c, &["SET", "after", "1"]);
    }
    let s = Server::start(2, &args);
    let mut c = s.client();
    let keys: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert_eq!(keys, ["after"], "the evictions were logged as DELs");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A replica leaves eviction to its master (`replica-ignore-maxmemory yes`): it neither
/// evicts nor refuses its master's writes.
#[test]
fn a_replica_does_not_evict() {
    let leader = Server::start(2, &[]);
    let follower = Server::start(
        2,
        &["--maxmemory", "1", "--maxmemory-policy", "allkeys-random"],
    );
    let mut f = follower.client();
    let port = leader.port.to_string();
    let _: () = q(&mut f, &["REPLICAOF", "127.0.0.1", &port]);
    let mut l = leader.client();
    for i in 0..100 {
        let _: () = q(&mut l, &["SET", &format!("k:{i}"), "v"]);
    }
    assert!(eventually(20, || {
        let n: u64 = q(&mut f, &["DBSIZE"]);
        n == 100
    }));
    std::thread::sleep(Duration::from_millis(300));
    let n: u64 = q(&mut f, &["DBSIZE"]);
    assert_eq!(n, 100);
    assert_eq!(int_field(&mut f, "evicted_keys"), 0);
}

/// Small keys live in their table slot: evicting one frees no allocation, only room for
/// the next key. A server full of them keeps about as many keys as its limit holds, rather
/// than evicting until its tables shrink (it kept a quarter of them before empty slots
/// counted as free memory).
#[test]
fn small_keys_are_not_over_evicted() {
    let s = Server::start(1, &[]);
    let mut c = s.client();
    let base = int_field(&mut c, "used_memory");
    let write = |c: &mut redis::Connection, from: usize, to: usize| {
        for chunk in (from..to).step_by(5000) {
            let mut pipe = redis::pipe();
            for i in chunk..(chunk + 5000).min(to) {
                pipe.cmd("SET")
                    .arg(format!("key:{i:012}"))
                    .arg("xxx")
                    .ignore();
            }
            let _: () = pipe.query(c).unwrap();
        }
    };
    write(&mut c, 0, 100_000);
    let full = int_field(&mut c, "used_memory");
    // Room for about 55% of them.
    let limit = (base + (full - base) * 55 / 100).to_string();
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory-policy",
            "allkeys-lru",
            "maxmemory",
            &limit,
        ],
    );
    write(&mut c, 100_000, 200_000);
    let keys: u64 = q(&mut c, &["DBSIZE"]);
    let evicted = int_field(&mut c, "evicted_keys");
    assert!(keys >= 40_000, "{keys} keys kept ({evicted} evicted)");
    assert!(keys < 100_000, "{keys} keys kept");
    assert!(int_field(&mut c, "mem_not_counted_for_evict") > 0);
}
