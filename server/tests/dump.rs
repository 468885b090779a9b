//! DUMP, RESTORE (RESTORE-ASKING) and MIGRATE over TCP with the `redis` crate: payloads
//! cross between Shardis and a real redis-server both ways for every type and encoding,
//! Redis' errors, TTLs, IDLETIME / FREQ, keyspace events, propagation (the AOF holds
//! RESTORE ... ABSTTL and MIGRATE's DELs), hostile payloads, MULTI and Lua, and MIGRATE to
//! another Shardis and to redis-server, with keys on several shards.

mod common;

use common::{cross, key_on, q, qerr, start_redis, Server, Target, NOT_INT, SYNTAX};
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_DATA: &str = "ERR Bad data format";

fn shardis() -> Server {
    Server::start(2, &["--enable-debug-command", "yes"])
}

fn redis_server() -> Server {
    start_redis(&["--enable-debug-command", "yes"])
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn dump(c: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("DUMP").arg(key).query(c).unwrap()
}

/// RESTORE key ttl payload [options...]: OK, or the error text.
fn restore(
    c: &mut redis::Connection,
    key: &str,
    ttl: &str,
    payload: &[u8],
    opts: &[&str],
) -> Result<(), String> {
    let mut cmd = redis::cmd("RESTORE");
    cmd.arg(key).arg(ttl).arg(payload).arg(opts);
    cmd.query::<()>(c).map_err(error_text)
}

/// An error as Redis sent it: `CODE message`.
fn error_text(e: redis::RedisError) -> String {
    format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))
        .trim()
        .to_string()
}

/// MIGRATE to 127.0.0.1:`port` with `args` after the port (key, database, timeout,
/// options): the reply, or the error text.
fn migrate(c: &mut redis::Connection, port: &str, args: &[&str]) -> Result<String, String> {
    redis::cmd("MIGRATE")
        .arg("127.0.0.1")
        .arg(port)
        .arg(args)
        .query(c)
        .map_err(error_text)
}

fn digest(c: &mut redis::Connection, key: &str) -> String {
    q::<Vec<String>>(c, &["DEBUG", "DIGEST-VALUE", key]).remove(0)
}

/// Values of every type, small (listpack, intset, embstr, int) and large (quicklist,
/// hashtable, skiplist, raw), and a stream with consumer groups and pending entries.
/// Returns the keys.
fn fill(c: &mut redis::Connection) -> Vec<String> {
    let mut keys = Vec::new();
    let mut add = |c: &mut redis::Connection, key: &str, args: Vec<String>| {
        let _: redis::Value = redis::cmd(&args[0])
            .arg(key)
            .arg(&args[1..])
            .query(c)
            .unwrap();
        if !keys.contains(&key.to_string()) {
            keys.push(key.to_string());
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    add(c, "str", s(&["SET", "hello"]));
    add(c, "int", s(&["SET", "-123456"]));
    add(c, "int64", s(&["SET", "9223372036854775807"]));
    add(c, "big", s(&["SET", &"abc".repeat(40_000)]));
    add(c, "list", s(&["RPUSH", "a", "b", "1", "-2", "300000"]));
    let many: Vec<String> = (0..3000)
        .map(|i| format!("element-{i}-{}", "x".repeat(i % 50)))
        .collect();
    add(c, "biglist", [vec!["RPUSH".into()], many.clone()].concat());
    add(
        c,
        "intset",
        s(&["SADD", "1", "2", "-3", "70000", "5000000000"]),
    );
    add(c, "smallset", s(&["SADD", "a", "b", "c"]));
    add(c, "bigset", [vec!["SADD".into()], many.clone()].concat());
    add(c, "hash", s(&["HSET", "f", "v", "n", "12"]));
    let pairs: Vec<String> = (0..1000)
        .flat_map(|i| [format!("f{i}"), i.to_string()])
        .collect();
    add(c, "bighash", [vec!["HSET".into()], pairs].concat());
    // Scores whose digests Redis 7.0 (%.17g) and 7.2 (shortest form) compute alike.
    add(
        c,
        "zset",
        s(&["ZADD", "1", "a", "2.5", "b", "-inf", "c", "1e17", "d"]),
    );
    let scored: Vec<String> = (0..1000)
        .flat_map(|i| [format!("{}", i as f64 / 4.0), format!("m{i}")])
        .collect();
    add(c, "bigzset", [vec!["ZADD".into()], scored].concat());
    for i in 1..=5 {
        add(
            c,
            "stream",
            s(&["XADD", &format!("{i}-1"), "f", &i.to_string(), "g", "v"]),
        );
    }
    add(c, "stream", s(&["XDEL", "2-1"]));
    let _: () = q(c, &["XGROUP", "CREATE", "stream", "g1", "0"]);
    let _: () = q(c, &["XGROUP", "CREATE", "stream", "g2", "$"]);
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg(&[
            "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "stream", ">",
        ])
        .query(c)
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "stream", ">"])
        .query(c)
        .unwrap();
    add(c, "stream", s(&["XACK", "g1", "1-1"]));
    for i in 1..=700 {
        add(
            c,
            "bigstream",
            s(&["XADD", &format!("{i}-0"), "k", &i.to_string()]),
        );
    }
    let _: () = q(c, &["XGROUP", "CREATE", "bigstream", "g", "0"]);
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg(&[
            "GROUP",
            "g",
            "c",
            "COUNT",
            "300",
            "STREAMS",
            "bigstream",
            ">",
        ])
        .query(c)
        .unwrap();
    keys
}

/// What the streams' groups show, consumers' idle times aside.
fn groups(c: &mut redis::Connection, key: &str) -> String {
    let info: redis::Value = q(c, &["XINFO", "STREAM", key, "FULL"]);
    let text = format!("{info:?}");
    // seen-time, active-time and delivery times differ between the servers.
    text.split("int(")
        .map(|part| {
            let digits = part.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits >= 12 {
                format!("T{}", &part[digits..])
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("int(")
}

#[test]
fn payloads_cross_between_redis_and_shardis_for_every_type() {
    let (s, r) = (shardis(), redis_server());
    let (mut sc, mut rc) = (s.client(), r.client());
    let keys = fill(&mut sc);
    assert_eq!(fill(&mut rc), keys);
    for k in &keys {
        assert_eq!(digest(&mut sc, k), digest(&mut rc, k), "same data set: {k}");
        let from_shardis = dump(&mut sc, k).unwrap();
        let from_redis = dump(&mut rc, k).unwrap();
        // Redis' payload into Shardis, Shardis' into Redis.
        let copy = format!("{k}:copy");
        restore(&mut sc, &copy, "0", &from_redis, &[]).unwrap();
        restore(&mut rc, &copy, "0", &from_shardis, &[]).unwrap();
        assert_eq!(digest(&mut sc, &copy), digest(&mut sc, k), "{k} from redis");
        assert_eq!(
            digest(&mut rc, &copy),
            digest(&mut rc, k),
            "{k} from shardis"
        );
        let t: String = q(&mut sc, &["TYPE", &copy]);
        if t == "stream" {
            assert_eq!(groups(&mut sc, &copy), groups(&mut sc, k), "{k}'s groups");
            assert_eq!(groups(&mut rc, &copy), groups(&mut rc, k), "{k}'s groups");
        }
        // And back again: Shardis' own payload restores to the same value.
        restore(&mut sc, &copy, "0", &from_shardis, &["REPLACE"]).unwrap();
        assert_eq!(digest(&mut sc, &copy), digest(&mut sc, k), "{k} round trip");
    }
    // Where Redis 7.0 writes the same forms (no hash-ordered or LZF-compressed parts, no
    // stream times), the payloads are byte for byte Redis'.
    for k in ["str", "int", "int64", "list", "hash", "zset", "bigzset"] {
        assert_eq!(dump(&mut sc, k), dump(&mut rc, k), "{k}");
    }
    let enc = |c: &mut redis::Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    for (k, encoding) in [
        ("int:copy", "int"),
        ("str:copy", "embstr"),
        ("big:copy", "raw"),
        ("biglist:copy", "quicklist"),
        ("intset:copy", "intset"),
        ("bigset:copy", "hashtable"),
        ("hash:copy", "listpack"),
        ("bighash:copy", "hashtable"),
        ("zset:copy", "listpack"),
        ("bigzset:copy", "skiplist"),
    ] {
        assert_eq!(enc(&mut sc, k), encoding, "{k}");
    }
}

#[test]
fn dump_and_restore_errors_as_redis() {
    let t = Target::start(2);
    let mut c = t.client();
    assert_eq!(dump(&mut c, "missing"), None);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let p = dump(&mut c, "k").unwrap();
    assert_eq!(restore(&mut c, "k", "0", &p, &[]), Err(BUSYKEY.into()));
    // Redis' order: options, an existing key, the TTL, the payload.
    assert_eq!(restore(&mut c, "k", "x", &p, &[]), Err(BUSYKEY.into()));
    assert_eq!(
        restore(&mut c, "k", "0", &p, &["IDLETIME", "x"]),
        Err(NOT_INT.into())
    );
    assert_eq!(
        restore(&mut c, "k", "x", b"junk", &["REPLACE"]),
        Err(NOT_INT.into())
    );
    assert_eq!(
        restore(&mut c, "n", "-1", &p, &[]),
        Err("ERR Invalid TTL value, must be >= 0".into())
    );
    for bad in [&b""[..], b"short", &p[..p.len() - 1]] {
        assert_eq!(restore(&mut c, "n", "0", bad, &[]), Err(BAD_PAYLOAD.into()));
    }
    let mut flipped = p.clone();
    flipped[1] ^= 1;
    assert_eq!(
        restore(&mut c, "n", "0", &flipped, &[]),
        Err(BAD_PAYLOAD.into())
    );
    let mut zero_crc = p.clone();
    let n = zero_crc.len();
    zero_crc[n - 8..].fill(0);
    assert_eq!(
        restore(&mut c, "n", "0", &zero_crc, &[]),
        Err(BAD_PAYLOAD.into())
    );
    let newer = framed(b"\x00\x01x", 12);
    assert_eq!(
        restore(&mut c, "n", "0", &newer, &[]),
        Err(BAD_PAYLOAD.into())
    );
    // Good checksums around bad bodies.
    for body in [&b"\x00"[..], b"\x01\x00", b"\x63\x01a", b"\x0b\x03abc"] {
        assert_eq!(
            restore(&mut c, "n", "0", &framed(body, 10), &[]),
            Err(BAD_DATA.into()),
            "{body:?}"
        );
    }
    for (opts, e) in [
        (&["FOO"][..], SYNTAX),
        (&["IDLETIME"], SYNTAX),
        (&["FREQ"], SYNTAX),
        (&["IDLETIME", "1", "FREQ", "1"], SYNTAX),
        (&["FREQ", "1", "IDLETIME", "1"], SYNTAX),
        (
            &["IDLETIME", "-1"],
            "ERR Invalid IDLETIME value, must be >= 0",
        ),
        (
            &["FREQ", "-1"],
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        ),
        (
            &["FREQ", "256"],
            "ERR Invalid FREQ value, must be >= 0 and <= 255",
        ),
        (&["FREQ", "1.5"], NOT_INT),
    ] {
        assert_eq!(
            restore(&mut c, "n", "0", &p, opts),
            Err(e.into()),
            "{opts:?}"
        );
    }
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "n"]), 0);
    assert_eq!(qerr(&mut c, &["DUMP"]), common::arity("dump"));
    assert_eq!(
        qerr(&mut c, &["RESTORE", "a", "0"]),
        common::arity("restore")
    );
    // Every option at once, repeated, any case.
    restore(
        &mut c,
        "n",
        "0",
        &p,
        &["replace", "ABSTTL", "idletime", "5", "REPLACE"],
    )
    .unwrap();
    assert_eq!(common::get(&mut c, "n").as_deref(), Some("v"));
    // RESTORE-ASKING is RESTORE outside a cluster.
    let mut cmd = redis::cmd("RESTORE-ASKING");
    cmd.arg("asked").arg(0).arg(&p);
    let _: () = cmd.query(&mut c).unwrap();
    assert_eq!(common::get(&mut c, "asked").as_deref(), Some("v"));
}

/// `body` with a DUMP footer: `version`, and the CRC64 Redis computes.
fn framed(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = persist::crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn ttls_relative_absolute_and_past() {
    let t = Target::start(2);
    let mut c = t.client();
    let _: () = q(&mut c, &["SET", "src", "v"]);
    let p = dump(&mut c, "src").unwrap();
    restore(&mut c, "rel", "100000", &p, &[]).unwrap();
    let pttl: i64 = q(&mut c, &["PTTL", "rel"]);
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    let at = now_ms() + 50_000;
    restore(&mut c, "abs", &at.to_string(), &p, &["ABSTTL"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "abs"]), at);
    restore(&mut c, "none", "0", &p, &["ABSTTL"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["TTL", "none"]), -1);
    // A time already past creates nothing, and deletes the key it replaces.
    restore(&mut c, "past", "1000", &p, &["ABSTTL"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "past"]), 0);
    let _: () = q(&mut c, &["SET", "old", "x"]);
    restore(&mut c, "old", "1000", &p, &["ABSTTL", "REPLACE"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "old"]), 0);
    // A key whose time passed is no obstacle (a write lookup reclaims it).
    let _: () = q(&mut c, &["SET", "gone", "x", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    restore(&mut c, "gone", "0", &p, &[]).unwrap();
}

#[test]
fn idletime_and_freq_set_the_access_data() {
    let t = Target::start(2);
    let mut c = t.client();
    let _: () = q(&mut c, &["SET", "src", "v"]);
    let p = dump(&mut c, "src").unwrap();
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    );
    restore(&mut c, "idle", "0", &p, &["IDLETIME", "1000"]).unwrap();
    let idle: i64 = q(&mut c, &["OBJECT", "IDLETIME", "idle"]);
    assert!((1000..1003).contains(&idle), "{idle}");
    restore(&mut c, "fresh", "0", &p, &["FREQ", "100"]).unwrap();
    assert!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "fresh"]) < 3);
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    restore(&mut c, "freq", "0", &p, &["FREQ", "100"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "freq"]), 100);
    restore(&mut c, "freq0", "0", &p, &["FREQ", "0"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "freq0"]), 0);
    // IDLETIME means nothing under LFU: a new key's counter (LFU_INIT_VAL).
    restore(&mut c, "idle2", "0", &p, &["IDLETIME", "1000"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "idle2"]), 5);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
}

#[test]
fn keyspace_events_of_restore_and_migrate() {
    let t = Target::start(2);
    let mut c = t.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = t.client();
    let mut sub = sub.as_pubsub();
    sub.psubscribe("__keyevent@0__:*").unwrap();
    sub.subscribe("marker").unwrap();
    let mut events = |c: &mut redis::Connection, run: &dyn Fn(&mut redis::Connection)| {
        run(c);
        let _: i64 = q(c, &["PUBLISH", "marker", "."]);
        let mut seen = Vec::new();
        loop {
            let m = sub.get_message().unwrap();
            if m.get_channel_name() == "marker" {
                return seen;
            }
            let event = m.get_channel_name().rsplit(':').next().unwrap().to_string();
            seen.push(format!("{event} {}", m.get_payload::<String>().unwrap()));
        }
    };
    let p = dump(&mut c, "k").unwrap_or_default();
    assert!(p.is_empty());
    let _ = events(&mut c, &|c| q::<()>(c, &["SET", "src", "v"]));
    let p = dump(&mut c, "src").unwrap();
    let restored = events(&mut c, &|c| restore(c, "k", "0", &p, &[]).unwrap());
    assert_eq!(restored, ["restore k"]);
    let replaced = events(&mut c, &|c| restore(c, "k", "0", &p, &["REPLACE"]).unwrap());
    assert_eq!(replaced, ["restore k"]);
    let refused = events(&mut c, &|c| assert!(restore(c, "k", "0", &p, &[]).is_err()));
    assert!(refused.is_empty());
    let past = events(&mut c, &|c| {
        restore(c, "k", "1", &p, &["REPLACE", "ABSTTL"]).unwrap()
    });
    assert_eq!(past, ["del k"]);
    let nothing = events(&mut c, &|c| restore(c, "k", "1", &p, &["ABSTTL"]).unwrap());
    assert!(nothing.is_empty());
    if !t.is_reference() {
        let target = shardis();
        let port = target.port.to_string();
        let (a, b) = cross("ev");
        let migrated = events(&mut c, &|c| {
            let _: () = q(c, &["MSET", &a, "1", &b, "2"]);
            let r: String = migrate(c, &port, &["", "0", "5000", "KEYS", &a, &b]).unwrap();
            assert_eq!(r, "OK");
        });
        let mut migrated = migrated;
        migrated.sort();
        let mut expected = vec![
            format!("set {a}"),
            format!("set {b}"),
            format!("del {a}"),
            format!("del {b}"),
        ];
        expected.sort();
        assert_eq!(migrated, expected);
    }
}

/// The AOF's incremental files' text, in a directory of the test's own.
fn aof_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    files.sort();
    for f in files {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(f).unwrap()));
    }
    text
}

#[test]
fn restore_and_migrate_propagate_deterministic_forms() {
    let dir = std::env::temp_dir().join(format!("shardis-dump-aof-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = Server::start(2, &["--appendonly", "yes", "--dir", dir.to_str().unwrap()]);
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "src", "v"]);
    let p = dump(&mut c, "src").unwrap();
    let before = now_ms();
    restore(&mut c, "rel", "100000", &p, &["REPLACE"]).unwrap();
    let after = now_ms();
    restore(&mut c, "plain", "0", &p, &[]).unwrap();
    let _: () = q(&mut c, &["SET", "doomed", "x"]);
    restore(&mut c, "doomed", "1", &p, &["REPLACE", "ABSTTL"]).unwrap();
    let target = shardis();
    let port = target.port.to_string();
    let (a, b) = cross("mig");
    let _: () = q(&mut c, &["MSET", &a, "1", &b, "2", "kept", "3"]);
    let r: String = migrate(&mut c, &port, &["", "0", "5000", "KEYS", &a, &b]).unwrap();
    assert_eq!(r, "OK");
    let r: String = migrate(&mut c, &port, &["kept", "0", "5000", "COPY"]).unwrap();
    assert_eq!(r, "OK");
    let text = aof_text(&dir);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    // RESTORE rel 100000 ... REPLACE became RESTORE rel <unix ms> ... REPLACE ABSTTL.
    let at = text
        .split("$7\r\nRESTORE\r\n$3\r\nrel\r\n$13\r\n")
        .nth(1)
        .expect("RESTORE rel in the AOF");
    let at: i64 = at[..13].parse().unwrap();
    assert!((before + 100_000..=after + 100_000).contains(&at), "{at}");
    assert!(text.contains("$7\r\nREPLACE\r\n$6\r\nABSTTL\r\n"));
    assert!(text.contains("$7\r\nRESTORE\r\n$5\r\nplain\r\n$1\r\n0\r\n"));
    assert!(text.contains("*2\r\n$3\r\nDEL\r\n$6\r\ndoomed\r\n"));
    for k in [&a, &b] {
        assert!(
            text.contains(&format!("*2\r\n$3\r\nDEL\r\n${}\r\n{k}\r\n", k.len())),
            "DEL {k}: {text}"
        );
    }
    assert!(!text.contains("MIGRATE"));
    assert!(!text.contains("DEL\r\n$4\r\nkept"), "COPY deletes nothing");
}

#[test]
fn hostile_payloads_get_errors_and_the_server_stays_up() {
    let s = shardis();
    let mut c = s.client();
    let _: () = q(&mut c, &["RPUSH", "list", "a", "b", "12345", "-7"]);
    let _: () = q(&mut c, &["HSET", "hash", "f", "v", "g", "1"]);
    let _: () = q(&mut c, &["ZADD", "zset", "1", "a", "2.5", "b"]);
    let _: () = q(&mut c, &["SADD", "set", "1", "2", "3"]);
    let _: String = q(&mut c, &["XADD", "stream", "1-1", "f", "v"]);
    let _: () = q(&mut c, &["XGROUP", "CREATE", "stream", "g", "0"]);
    let _: redis::Value = q(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "stream", ">"],
    );
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut cases = Vec::new();
    for key in ["list", "hash", "zset", "set", "stream"] {
        let p = dump(&mut c, key).unwrap();
        let body = &p[..p.len() - 10];
        for cut in 0..body.len() {
            cases.push(framed(&body[..cut], 10));
        }
        for _ in 0..300 {
            let mut b = body.to_vec();
            for _ in 0..1 + next() % 3 {
                let i = (next() % b.len() as u64) as usize;
                b[i] ^= 1 << (next() % 8);
            }
            cases.push(framed(&b, 10));
        }
    }
    // Lengths of 2^32 and 2^64 where a count or a size belongs.
    for body in [
        &b"\x00\x80\xff\xff\xff\xff"[..],
        b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x01\x81\x00\x00\x00\x01\x00\x00\x00\x00\x01a",
        b"\x04\x80\xff\xff\xff\xff\x01a\x01b",
        b"\x05\x81\x0f\xff\xff\xff\xff\xff\xff\xff\x01a",
        b"\x12\x80\xff\xff\xff\xff\x02\x03abc",
        b"\x13\x81\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x00\xc3\x81\xff\xff\xff\xff\xff\xff\xff\xff\x81\xff\xff\xff\xff\xff\xff\xff\xff",
    ] {
        cases.push(framed(body, 10));
    }
    let mut types = Vec::new();
    for (i, p) in cases.iter().enumerate() {
        // Each error is one of RESTORE's two.
        match restore(&mut c, &format!("h{i}"), "0", p, &[]) {
            Ok(()) => {}
            Err(e) => assert!(e == BAD_DATA || e == BAD_PAYLOAD, "{e}"),
        }
        types.push(q::<String>(&mut c, &["TYPE", &format!("h{i}")]));
    }
    // Whatever a corrupted payload restored is a value the server can work with.
    for (i, t) in types.iter().enumerate() {
        if t != "none" {
            let _: Vec<String> = q(&mut c, &["DEBUG", "DIGEST-VALUE", &format!("h{i}")]);
            let _: redis::Value = q(&mut c, &["DUMP", &format!("h{i}")]);
        }
    }
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

#[test]
fn dump_and_restore_in_multi_and_lua() {
    let s = shardis();
    let mut c = s.client();
    let (a, b) = cross("lua");
    let _: () = q(&mut c, &["RPUSH", &a, "x", "y"]);
    let p = dump(&mut c, &a).unwrap();
    let (dumped, ok): (Vec<u8>, String) = redis::pipe()
        .atomic()
        .cmd("DUMP")
        .arg(&a)
        .cmd("RESTORE")
        .arg(&b)
        .arg(0)
        .arg(&p)
        .query(&mut c)
        .unwrap();
    assert_eq!((dumped, ok.as_str()), (p.clone(), "OK"));
    assert_eq!(
        q::<Vec<String>>(&mut c, &["LRANGE", &b, "0", "-1"]),
        ["x", "y"]
    );
    let copied: String = redis::cmd("EVAL")
        .arg(
            "local p = redis.call('DUMP', KEYS[1]) \
             redis.call('RESTORE', KEYS[2], 0, p, 'REPLACE') \
             return redis.call('TYPE', KEYS[2]).ok",
        )
        .arg(2)
        .arg(&a)
        .arg(&b)
        .query(&mut c)
        .unwrap();
    assert_eq!(copied, "list");
    let err = redis::cmd("EVAL")
        .arg("return redis.call('RESTORE', KEYS[1], 0, 'junk', 'REPLACE')")
        .arg(1)
        .arg(&b)
        .query::<redis::Value>(&mut c)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("DUMP payload version or checksum are wrong"),
        "{err}"
    );
}

/// Writes one key of each kind on both shards: a string with a TTL, a list, a hash.
fn some_keys(c: &mut redis::Connection) -> Vec<String> {
    let (a, b) = cross("m");
    let (h, z) = (key_on(0, 2, "h"), key_on(1, 2, "z"));
    let _: () = q(c, &["SET", &a, "va", "EX", "1000"]);
    let _: () = q(c, &["RPUSH", &b, "1", "2", "3"]);
    let _: () = q(c, &["HSET", &h, "f", "v"]);
    let _: () = q(c, &["ZADD", &z, "1", "m"]);
    vec![a, b, h, z]
}

/// MIGRATE from a 2-shard Shardis to `target`, any Redis-protocol server.
fn migrate_to(target: &Server) {
    let src = shardis();
    let mut c = src.client();
    let mut t = target.client();
    let port = target.port.to_string();
    let keys = some_keys(&mut c);
    let digests: Vec<String> = keys.iter().map(|k| digest(&mut c, k)).collect();
    // One key.
    let r: String = migrate(&mut c, &port, &[&keys[0], "0", "5000"]).unwrap();
    assert_eq!(r, "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &keys[0]]), 0);
    assert_eq!(digest(&mut t, &keys[0]), digests[0]);
    let ttl: i64 = q(&mut t, &["TTL", &keys[0]]);
    assert!((990..=1000).contains(&ttl), "{ttl}");
    // Keys of both shards into database 3, one missing among them.
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "3", "5000", "KEYS"];
    args.extend(keys[1..].iter().map(String::as_str));
    args.push("missing");
    assert_eq!(q::<String>(&mut c, &args), "OK");
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", &keys[1], &keys[2], &keys[3]]),
        0
    );
    let _: () = q(&mut t, &["SELECT", "3"]);
    for (k, d) in keys[1..].iter().zip(&digests[1..]) {
        assert_eq!(&digest(&mut t, k), d, "{k}");
        assert_eq!(q::<i64>(&mut t, &["TTL", k]), -1);
    }
    // Large values (several writes and reads of the connection), on both shards.
    let (big, long) = cross("large");
    let _: () = redis::cmd("SET")
        .arg(&big)
        .arg(vec![b'x'; 5 << 20])
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg(&long)
        .arg((0..100_000).collect::<Vec<i64>>())
        .query(&mut c)
        .unwrap();
    let sums = [digest(&mut c, &big), digest(&mut c, &long)];
    let moved = migrate(&mut c, &port, &["", "3", "5000", "KEYS", &big, &long]);
    assert_eq!(moved.unwrap(), "OK");
    assert_eq!([digest(&mut t, &big), digest(&mut t, &long)], sums);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &big, &long]), 0);
    // Nothing to move.
    assert_eq!(
        migrate(&mut c, &port, &["missing", "3", "5000"]).unwrap(),
        "NOKEY"
    );
    // The target has the key: BUSYKEY, the key stays; REPLACE and COPY.
    let _: () = q(&mut c, &["RPUSH", &keys[1], "new"]);
    assert_eq!(
        migrate(&mut c, &port, &[&keys[1], "3", "5000"]).unwrap_err(),
        format!("ERR Target instance replied with error: {BUSYKEY}")
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &keys[1]]), 1);
    let r: String = migrate(&mut c, &port, &[&keys[1], "3", "5000", "COPY", "REPLACE"]).unwrap();
    assert_eq!(r, "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &keys[1]]), 1);
    assert_eq!(
        q::<Vec<String>>(&mut t, &["LRANGE", &keys[1], "0", "-1"]),
        ["new"]
    );
    // An error in the middle: the keys the target took are deleted, the error reported.
    let (x, y) = cross("mid");
    let _: () = q(&mut c, &["MSET", &x, "1", &y, "2"]);
    let _: () = q(&mut t, &["SET", &y, "there"]);
    let e = migrate(&mut c, &port, &["", "3", "5000", "KEYS", &y, &x]).unwrap_err();
    assert_eq!(
        e,
        format!("ERR Target instance replied with error: {BUSYKEY}")
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &x]), 0);
    assert_eq!(common::get(&mut c, &y).as_deref(), Some("2"));
    // The target's own errors.
    let e = migrate(&mut c, &port, &[&y, "99", "5000"]).unwrap_err();
    assert_eq!(
        e,
        "ERR Target instance replied with error: ERR DB index is out of range"
    );
    let e = migrate(&mut c, &port, &[&y, "0", "5000", "AUTH", "pw"]).unwrap_err();
    assert!(
        e.starts_with("ERR Target instance replied with error: ERR AUTH <password> called without"),
        "{e}"
    );
    assert_eq!(common::get(&mut c, &y).as_deref(), Some("2"));
}

#[test]
fn migrate_to_another_shardis() {
    migrate_to(&shardis());
}

#[test]
fn migrate_to_redis() {
    migrate_to(&redis_server());
}

#[test]
fn migrate_authenticates() {
    let target = start_redis(&["--requirepass", "secret", "--enable-debug-command", "yes"]);
    let port = target.port.to_string();
    let src = shardis();
    let mut c = src.client();
    let (a, b) = cross("auth");
    let _: () = q(&mut c, &["MSET", &a, "1", &b, "2"]);
    let e = migrate(&mut c, &port, &[&a, "0", "5000"]).unwrap_err();
    assert_eq!(
        e,
        "ERR Target instance replied with error: NOAUTH Authentication required."
    );
    let e = migrate(&mut c, &port, &[&a, "0", "5000", "AUTH", "wrong"]).unwrap_err();
    assert_eq!(
        e,
        "ERR Target instance replied with error: WRONGPASS invalid username-password pair or \
         user is disabled."
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &a, &b]), 2);
    let r: String = migrate(&mut c, &port, &[&a, "0", "5000", "AUTH", "secret"]).unwrap();
    assert_eq!(r, "OK");
    let r: String = migrate(
        &mut c,
        &port,
        &["", "0", "5000", "AUTH2", "default", "secret", "KEYS", &b],
    )
    .unwrap();
    assert_eq!(r, "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &a, &b]), 0);
    let mut t = redis::Client::open(format!("redis://:secret@127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(q::<Vec<String>>(&mut t, &["MGET", &a, &b]), ["1", "2"]);
    // The password is not shown.
    let _: () = q(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    let none: String = migrate(
        &mut c,
        &port,
        &["", "0", "5000", "AUTH2", "u", "pw", "KEYS", "k"],
    )
    .unwrap();
    assert_eq!(none, "NOKEY");
    type Entry = (i64, i64, i64, Vec<String>, String, String);
    let entry: Vec<Entry> = q(&mut c, &["SLOWLOG", "GET", "1"]);
    assert_eq!(
        entry[0].3[6..10],
        ["AUTH2", "(redacted)", "(redacted)", "KEYS"]
    );
}

#[test]
fn migrate_errors_before_and_around_the_connection() {
    let t = Target::start(2);
    let mut c = t.client();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    for (args, e) in [
        (
            &["k", "0", "100", "KEYS", "a"][..],
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
        ),
        (&["", "0", "100", "FOO"], SYNTAX),
        (&["", "0", "100", "AUTH"], SYNTAX),
        (&["", "0", "100", "AUTH2", "u"], SYNTAX),
        (&["", "x", "100", "KEYS", "k"], NOT_INT),
        (&["", "0", "y", "KEYS", "k"], NOT_INT),
        // Redis' connect is non-blocking: a refused connection shows at the first write.
        (
            &["k", "0", "100"],
            "IOERR error or timeout writing to target instance",
        ),
    ] {
        let mut all = vec!["MIGRATE", "127.0.0.1", &port];
        all.extend_from_slice(args);
        assert_eq!(qerr(&mut c, &all), e, "{args:?}");
    }
    let e = qerr(
        &mut c,
        &["MIGRATE", "no-such-host.invalid", "1", "k", "0", "100"],
    );
    assert_eq!(e, "IOERR error or timeout connecting to the client");
    for args in [
        &["missing", "0", "100"][..],
        &["", "0", "100", "KEYS", "a", "b"],
        &["", "0", "100", "KEYS"],
    ] {
        let mut all = vec!["MIGRATE", "127.0.0.1", &port];
        all.extend_from_slice(args);
        assert_eq!(q::<String>(&mut c, &all), "NOKEY", "{args:?}");
    }
    assert_eq!(common::get(&mut c, "k").as_deref(), Some("v"));
    let keys: Vec<String> = q(
        &mut c,
        &[
            "COMMAND", "GETKEYS", "MIGRATE", "h", "p", "", "0", "5", "AUTH", "KEYS", "KEYS", "a",
            "b",
        ],
    );
    assert_eq!(keys, ["a", "b"]);
    let keys: Vec<String> = q(
        &mut c,
        &[
            "COMMAND", "GETKEYS", "MIGRATE", "h", "p", "k", "0", "5", "COPY",
        ],
    );
    assert_eq!(keys, ["k"]);
    assert_eq!(
        qerr(
            &mut c,
            &["COMMAND", "GETKEYS", "MIGRATE", "h", "p", "k", "0", "5", "KEYS", "a"]
        ),
        "ERR Invalid arguments specified for command"
    );
}

/// A server that accepts connections and never answers.
fn black_hole() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn migrate_holds_its_keys_and_nothing_else() {
    let s = shardis();
    let mut c = s.client();
    let (a, b) = cross("hold");
    let other = key_on(0, 2, "other");
    let _: () = q(&mut c, &["MSET", &a, "1", &b, "2", &other, "3"]);
    let (hole, port) = black_hole();
    let url = s.url();
    let (a2, b2) = (a.clone(), b.clone());
    let migrating = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let p = port.to_string();
        qerr(
            &mut c,
            &[
                "MIGRATE",
                "127.0.0.1",
                &p,
                "",
                "0",
                "1500",
                "KEYS",
                &a2,
                &b2,
            ],
        )
    });
    // The target took the connection: MIGRATE waits for its replies.
    let (mut conn, _) = hole.accept().unwrap();
    // Other keys of both shards are served meanwhile.
    let mut d = s.client();
    assert_eq!(common::get(&mut d, &other).as_deref(), Some("3"));
    let _: () = q(&mut d, &["SET", &key_on(1, 2, "free"), "x"]);
    assert!(!migrating.is_finished(), "the target has not answered yet");
    // The migrated keys wait for the end of MIGRATE (which times out and keeps them).
    assert_eq!(common::get(&mut d, &a).as_deref(), Some("1"));
    assert_eq!(
        migrating.join().unwrap(),
        "IOERR error or timeout reading to target instance"
    );
    let mut sent = Vec::new();
    conn.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let _ = conn.read_to_end(&mut sent);
    let sent = String::from_utf8_lossy(&sent);
    assert!(
        sent.starts_with("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$7\r\nRESTORE\r\n"),
        "{sent}"
    );
    assert_eq!(common::get(&mut d, &b).as_deref(), Some("2"));
}

#[test]
fn migrate_times_out_reading() {
    let s = shardis();
    let mut c = s.client();
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let (hole, port) = black_hole();
    let keep = std::thread::spawn(move || {
        hole.accept().map(|(conn, _)| {
            std::thread::sleep(Duration::from_secs(2));
            drop(conn)
        })
    });
    let e = qerr(
        &mut c,
        &["MIGRATE", "127.0.0.1", &port.to_string(), "k", "0", "300"],
    );
    assert_eq!(e, "IOERR error or timeout reading to target instance");
    assert_eq!(common::get(&mut c, "k").as_deref(), Some("v"));
    let _ = keep.join();
}

#[test]
fn migrate_in_multi_and_lua() {
    let (src, target) = (shardis(), shardis());
    let mut c = src.client();
    let mut t = target.client();
    let port = target.port.to_string();
    let (a, b) = cross("tx");
    let _: () = q(&mut c, &["MSET", &a, "1", &b, "2"]);
    let (moved, gone): (String, i64) = redis::pipe()
        .atomic()
        .cmd("MIGRATE")
        .arg(&[
            "127.0.0.1",
            port.as_str(),
            "",
            "0",
            "5000",
            "KEYS",
            a.as_str(),
            b.as_str(),
        ])
        .cmd("EXISTS")
        .arg(&a)
        .query(&mut c)
        .unwrap();
    assert_eq!((moved.as_str(), gone), ("OK", 0));
    assert_eq!(q::<Vec<String>>(&mut t, &["MGET", &a, &b]), ["1", "2"]);
    let _: () = q(&mut c, &["MSET", &a, "3", &b, "4"]);
    let r: String = redis::cmd("EVAL")
        .arg(
            "return redis.call('MIGRATE', '127.0.0.1', ARGV[1], '', 0, 5000, 'REPLACE', \
             'KEYS', KEYS[1], KEYS[2]).ok",
        )
        .arg(2)
        .arg(&a)
        .arg(&b)
        .arg(&port)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "OK");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &a, &b]), 0);
    assert_eq!(q::<Vec<String>>(&mut t, &["MGET", &a, &b]), ["3", "4"]);
}

#[test]
fn restore_serves_blocked_clients_and_touches_watched_keys() {
    let t = Target::start(2);
    let mut c = t.client();
    let _: () = q(&mut c, &["RPUSH", "src", "a", "b"]);
    let p = dump(&mut c, "src").unwrap();
    let url = t.url();
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        q::<Vec<String>>(&mut c, &["BLPOP", "dst", "10"])
    });
    let blocked = |c: &mut redis::Connection| {
        common::info_field(c, "blocked_clients").as_deref() == Some("1")
    };
    assert!(common::eventually(5, || blocked(&mut c)));
    restore(&mut c, "dst", "0", &p, &[]).unwrap();
    assert_eq!(waiter.join().unwrap(), ["dst", "a"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["LRANGE", "dst", "0", "-1"]),
        ["b"]
    );
    let mut w = t.client();
    let _: () = q(&mut w, &["WATCH", "dst"]);
    restore(&mut c, "dst", "0", &p, &["REPLACE"]).unwrap();
    let _: () = q(&mut w, &["MULTI"]);
    let _: () = q(&mut w, &["PING"]);
    assert_eq!(q::<redis::Value>(&mut w, &["EXEC"]), redis::Value::Nil);
}
