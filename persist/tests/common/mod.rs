//! Shared by the RDB tests: one dataset of every type in every encoding (as commands, so a
//! real Redis and a Shardis shard can both be filled with it), writing a whole RDB file from
//! a shard, loading a file into a shard, and the probes that describe a key (the same
//! commands asked of a shard and of a Redis, their replies made comparable).

#![allow(dead_code)]

use persist::crc64::crc64;
use persist::rdb::read::{read_rdb, Item};
use persist::rdb::write::{write_entry, write_eof, write_function, write_header, write_select_db};
use redis::Value;
use shard::limits::Limits;
use shard::snapshot::Access;
use shard::{Cmd, Handler, Reply, Shard};

/// The shard clock of the tests (Unix ms).
pub const NOW: u64 = 1_700_000_000_000;
/// An expiry far ahead (2100-01-01), so no key expires while a test runs.
pub const LATER: u64 = 4_102_444_800_000;

/// Small encoding limits, so the large encodings need few elements.
pub fn limits() -> Limits {
    Limits {
        hash_max_listpack_entries: 16,
        hash_max_listpack_value: 32,
        set_max_intset_entries: 16,
        set_max_listpack_entries: 16,
        set_max_listpack_value: 32,
        zset_max_listpack_entries: 16,
        zset_max_listpack_value: 32,
        list_max_listpack_size: 8,
        stream_node_max_entries: 4,
        ..Limits::default()
    }
}

/// The same limits as Redis 7.0's configuration (it has no set listpacks).
pub const REDIS_CONFIG: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "16"),
    ("hash-max-listpack-value", "32"),
    ("set-max-intset-entries", "16"),
    ("zset-max-listpack-entries", "16"),
    ("zset-max-listpack-value", "32"),
    ("list-max-listpack-size", "8"),
    ("stream-node-max-entries", "4"),
];

/// The libraries of the dataset.
pub const FUNCTIONS: &[&str] = &[
    "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)",
    "#!lua name=lib2\nredis.register_function('f2', function(keys, args) return 'two' end)",
];

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn words(text: &str) -> Vec<Vec<u8>> {
    text.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

/// Printable bytes that do not compress (a simple generator, fixed seed).
fn noise(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b'!' + (seed % 90) as u8
        })
        .collect()
}

/// The dataset: (database, command) in order. Every type, every encoding, binary data,
/// TTLs, streams with tombstones, groups, pending entries and consumers, three databases.
pub fn dataset() -> Vec<(usize, Vec<Vec<u8>>)> {
    let mut c: Vec<(usize, Vec<Vec<u8>>)> = Vec::new();
    let mut add = |db: usize, args: Vec<Vec<u8>>| c.push((db, args));
    // Strings.
    for text in [
        "SET str hello",
        "SET int -12345",
        "SET bigint 9223372036854775807",
        "SET i32 2147483647",
        "SET i32b 2147483648",
        "SET lead 0123",
        "SET float 3.14",
        "APPEND app abc",
        "APPEND app def",
        "SET ttl v",
    ] {
        add(0, words(text));
    }
    add(0, cmd(&[b"SET", b"emb", &[b'e'; 44]]));
    add(0, cmd(&[b"SET", b"rep", &b"abcd".repeat(100)]));
    add(0, cmd(&[b"SET", b"bin", b"\x00\xff binary \r\n\x01"]));
    add(0, cmd(&[b"SET", b"noise", &noise(100_000, 7)]));
    add(0, cmd(&[b"SET", b"empty", b""]));
    add(0, cmd(&[b"SET", b"bin\x00key\xfe", b"v"]));
    add(0, words(&format!("PEXPIREAT ttl {LATER}")));
    // Lists: a listpack, quicklists of many nodes (repetitive, so Redis compresses the
    // middle ones), a 20 KB element alone in its node, a 2 KB one above Redis' packed
    // threshold of the test (a PLAIN node).
    add(
        0,
        words("RPUSH lsmall a 1 -70000 9223372036854775807 -9223372036854775808"),
    );
    add(0, cmd(&[b"RPUSH", b"lsmall", b"", b"\x00\xff"]));
    add(0, words("LPUSH lsmall front"));
    let items: Vec<String> = (0..100)
        .map(|i| {
            if i % 3 == 0 {
                format!("{}", i * 1000 - 7)
            } else {
                format!("item-{}-{i}", "x".repeat(60))
            }
        })
        .collect();
    add(0, words(&format!("RPUSH lbig {}", items.join(" "))));
    add(
        0,
        cmd(&[
            b"RPUSH",
            b"lhuge",
            b"a",
            &noise(20_000, 3),
            b"b",
            &noise(2_000, 4),
            b"c",
        ]),
    );
    add(0, words(&format!("PEXPIREAT lbig {}", LATER + 1)));
    // Sets: intsets (16, 32 and 64-bit members), strings, more members than an intset or
    // a listpack holds, a member longer than a listpack takes.
    add(0, words("SADD sint 5 -3 100"));
    add(0, words("SADD sint32 5 -70000"));
    add(0, words("SADD sint64 5 -2147483649 9223372036854775807"));
    add(0, words("SADD sstr a b c 1"));
    let members: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    add(0, words(&format!("SADD sbig {}", members.join(" "))));
    let ints: Vec<String> = (0..30).map(|i| format!("{}", i * 7 - 50)).collect();
    add(0, words(&format!("SADD sbigint {}", ints.join(" "))));
    add(0, cmd(&[b"SADD", b"slong", b"x", &[b'L'; 40]]));
    // Sorted sets: listpacks with integral, fractional, infinite, negative and huge
    // scores; skiplists by count and by member length.
    add(
        0,
        words("ZADD zsmall 1 a 2.5 b -3 c inf top -inf bottom 0.1 tenth 1e300 huge 1234567890123 big 1.5e-7 tiny"),
    );
    let pairs: Vec<String> = (0..40)
        .map(|i| format!("{} z{i}", (i as f64) * 0.3 - 5.0))
        .collect();
    add(
        0,
        words(&format!(
            "ZADD zbig {} inf zinf -inf zneg -0 zzero 1e-300 ztiny",
            pairs.join(" ")
        )),
    );
    add(
        0,
        cmd(&[b"ZADD", b"zlong", b"1", b"short", b"2", &[b'M'; 40]]),
    );
    // Hashes: a listpack, hashtables by count and by value length.
    add(
        0,
        words("HSET hsmall f1 v1 f2 2 f3 -300 f4 9223372036854775807"),
    );
    add(
        0,
        cmd(&[b"HSET", b"hsmall", b"empty", b"", b"b\x00in", b"\xff\x00"]),
    );
    let fields: Vec<String> = (0..40).map(|i| format!("f{i} v{i}")).collect();
    add(0, words(&format!("HSET hbig {}", fields.join(" "))));
    add(0, cmd(&[b"HSET", b"hlong", b"f", &[b'V'; 40]]));
    add(0, words(&format!("PEXPIREAT hbig {}", LATER + 2)));
    // Streams.
    for text in [
        "XADD s 1-1 a 1 b 2",
        "XADD s 1-2 a 3 b 4",
        "XADD s 2-0 other x",
        "XADD s 3-0 a 5 b 6",
        "XADD s 4-0 a 7",
        "XADD s 5-0 a 8",
        "XADD s 6-0 a 9 b 10",
        "XDEL s 1-2 6-0",
        "XSETID s 9-0",
        "XGROUP CREATE s g1 0",
        "XGROUP CREATE s g2 1-1",
        "XGROUP CREATE s g3 $ ENTRIESREAD 7",
        "XREADGROUP GROUP g1 alice COUNT 2 STREAMS s >",
        "XREADGROUP GROUP g1 bob COUNT 1 STREAMS s >",
        "XREADGROUP GROUP g1 alice STREAMS s 0",
        "XCLAIM s g1 carol 0 2-0 IDLE 3000",
        "XGROUP CREATECONSUMER s g1 dave",
        "XREADGROUP GROUP g2 erin STREAMS s >",
        "XACK s g2 2-0",
        "XCLAIM s g2 frank 0 3-0 TIME 1600000000000 RETRYCOUNT 7 JUSTID",
        "XGROUP CREATE sempty g $ MKSTREAM",
        "XADD semptied 1-0 f v",
        "XDEL semptied 1-0",
    ] {
        add(0, words(text));
    }
    for i in 1..=30 {
        add(
            0,
            words(&format!("XADD xlong {i}-0 n {i} txt {}", "t".repeat(i))),
        );
    }
    add(0, words("XDEL xlong 5-0 6-0 7-0 8-0 10-0"));
    add(
        0,
        cmd(&[b"XADD", b"xbin", b"1-0", b"\x00f", b"\xff\x00", b"n", b"-5"]),
    );
    // Other databases.
    add(2, words("SET a b"));
    add(2, words("RPUSH l x y 3"));
    add(2, words(&format!("PEXPIREAT a {LATER}")));
    add(9, words("HSET h f v"));
    add(9, words("ZADD z 1 m"));
    c
}

/// The handler of a command the dataset and the probes use.
pub fn handler(name: &[u8]) -> Handler {
    use shard::{hash, keys, list, set, stream, string, zset};
    match name.to_ascii_uppercase().as_slice() {
        b"SET" => string::set,
        b"GET" => string::get,
        b"APPEND" => string::append,
        b"PEXPIREAT" => keys::pexpireat,
        b"PEXPIRETIME" => keys::pexpiretime,
        b"TYPE" => keys::key_type,
        b"OBJECT" => keys::object,
        b"RPUSH" => list::rpush,
        b"LPUSH" => list::lpush,
        b"LRANGE" => list::lrange,
        b"SADD" => set::sadd,
        b"SMEMBERS" => set::smembers,
        b"ZADD" => zset::zadd,
        b"ZRANGE" => zset::zrange,
        b"HSET" => hash::hset,
        b"HGETALL" => hash::hgetall,
        b"XADD" => stream::xadd,
        b"XDEL" => stream::xdel,
        b"XSETID" => stream::xsetid,
        b"XGROUP" => stream::xgroup,
        b"XREADGROUP" => stream::xreadgroup,
        b"XCLAIM" => stream::xclaim,
        b"XACK" => stream::xack,
        b"XRANGE" => stream::xrange,
        b"XINFO" => stream::xinfo,
        other => panic!("no handler for {}", String::from_utf8_lossy(other)),
    }
}

/// Runs a command on `shard` in database `db` at [`NOW`]; its RESP2 reply.
pub fn run(shard: &mut Shard, db: usize, args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Reply::new(false);
    let cmd = Cmd::from_args(args);
    handler(&args[0])(&mut shard.ctx(db, NOW, &mut out), &cmd);
    out.buf
}

/// A shard with the test limits holding the dataset.
pub fn dataset_shard() -> Shard {
    let mut shard = Shard::new(0, 16);
    shard.limits = limits();
    for (db, args) in dataset() {
        let reply = run(&mut shard, db, &args);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let args_text: Vec<String> = args.iter().map(|a| text(a)).collect();
        assert_ne!(
            reply.first(),
            Some(&b'-'),
            "{args_text:?}: {}",
            text(&reply)
        );
    }
    shard
}

/// A whole RDB file of `shard`'s databases and `functions`, as the snapshot writes one.
pub fn dump(shard: &Shard, functions: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    write_header(&mut out, 1 << 20, false, &[("repl-offset", b"0")]);
    for f in functions {
        write_function(&mut out, f.as_bytes());
    }
    for (i, db) in shard.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        write_select_db(&mut out, i, db.len() as u64, db.volatile() as u64);
        db.for_each(NOW, |k, e| write_entry(k, e, Access::None, &mut out));
    }
    let crc = crc64(0, &out);
    write_eof(&mut out, crc);
    out
}

/// What a file loaded into a shard gives.
pub struct Loaded {
    pub shard: Shard,
    pub functions: Vec<Vec<u8>>,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Loads `file` into a new shard with `limits`.
pub fn load(file: &[u8], limits: Limits) -> Result<Loaded, String> {
    let mut shard = Shard::new(0, 16);
    shard.limits = limits;
    let mut functions = Vec::new();
    let mut aux = Vec::new();
    let mut sink = |item: Item| -> Result<(), String> {
        match item {
            Item::Aux { key, value } => aux.push((key, value)),
            Item::Function(code) => functions.push(code),
            Item::Key { db, key, entry, .. } => {
                let db = shard.dbs.get_mut(db).ok_or("database out of range")?;
                if db.contains(&key, NOW) {
                    return Err("duplicate key".into());
                }
                db.set(&key, entry.value, entry.expire_at, NOW);
            }
        }
        Ok(())
    };
    read_rdb(file, &limits, &mut sink).map_err(|e| e.0)?;
    Ok(Loaded {
        shard,
        functions,
        aux,
    })
}

/// The keys of database `db`, sorted.
pub fn keys(shard: &Shard, db: usize) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    shard.dbs[db].for_each(NOW, |k, _| keys.push(k.to_vec()));
    keys.sort();
    keys
}

/// The commands that describe `key` of type `kind`, and how to compare their replies.
pub fn probes(key: &[u8], kind: &str) -> Vec<(Probe, Vec<Vec<u8>>)> {
    let k = key.to_vec();
    let mut p = vec![
        (Probe::Exact, vec![b"TYPE".to_vec(), k.clone()]),
        (Probe::Exact, vec![b"PEXPIRETIME".to_vec(), k.clone()]),
    ];
    let all = |c: &str| {
        vec![
            c.as_bytes().to_vec(),
            k.clone(),
            b"0".to_vec(),
            b"-1".to_vec(),
        ]
    };
    p.push(match kind {
        "string" => (Probe::Exact, vec![b"GET".to_vec(), k.clone()]),
        "list" => (Probe::Exact, all("LRANGE")),
        "set" => (Probe::Sorted, vec![b"SMEMBERS".to_vec(), k.clone()]),
        "zset" => {
            let mut c = all("ZRANGE");
            c.push(b"WITHSCORES".to_vec());
            (Probe::Scores, c)
        }
        "hash" => (Probe::Pairs, vec![b"HGETALL".to_vec(), k.clone()]),
        "stream" => (
            Probe::Exact,
            vec![b"XRANGE".to_vec(), k.clone(), b"-".to_vec(), b"+".to_vec()],
        ),
        other => panic!("unknown type {other}"),
    });
    if kind == "stream" {
        p.push((
            Probe::Xinfo,
            words("XINFO STREAM")
                .into_iter()
                .chain([k, b"FULL".to_vec()])
                .collect(),
        ));
    }
    p
}

/// How a probe's replies are compared.
#[derive(Clone, Copy, Debug)]
pub enum Probe {
    /// As they are.
    Exact,
    /// An array in any order.
    Sorted,
    /// Field-value pairs in any order.
    Pairs,
    /// Member-score pairs in order, scores compared as doubles (Redis 7.0 prints them with
    /// `%.17g`, 7.2 and Shardis with the shortest text).
    Scores,
    /// XINFO STREAM FULL: what a file stores (not the lag, which Redis 7.0 and 7.2 compute
    /// differently, nor the active time RDB 10 does not hold).
    Xinfo,
}

/// A reply made comparable: text, in a canonical order where the probe says so.
pub fn canonical(probe: Probe, v: &Value) -> String {
    match (probe, v) {
        (Probe::Sorted, Value::Array(items)) => {
            let mut t: Vec<String> = items.iter().map(text).collect();
            t.sort();
            t.join(" ")
        }
        (Probe::Pairs, Value::Array(items)) => {
            let mut t: Vec<String> = items
                .chunks(2)
                .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
                .collect();
            t.sort();
            t.join(" ")
        }
        (Probe::Scores, Value::Array(items)) => items
            .chunks(2)
            .map(|p| {
                let score = match &p[1] {
                    Value::BulkString(b) => shard::zset::parse_score(b).map(f64::to_bits),
                    _ => None,
                };
                format!("{}={score:?}", text(&p[0]))
            })
            .collect::<Vec<_>>()
            .join(" "),
        (Probe::Xinfo, v) => xinfo(v),
        _ => text(v),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(i) => i.to_string(),
        Value::BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// The fields of a RESP2 map reply (a flat array of names and values).
fn fields(v: &Value) -> Vec<(String, &Value)> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|p| match (&p[0], p.get(1)) {
                (Value::BulkString(k), Some(v)) => {
                    Some((String::from_utf8_lossy(k).into_owned(), v))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn pick(v: &Value, names: &[&str], nested: &dyn Fn(&str, &Value) -> Option<String>) -> String {
    fields(v)
        .into_iter()
        .filter_map(|(k, v)| {
            if let Some(t) = nested(&k, v) {
                return Some(format!("{k}={t}"));
            }
            names
                .contains(&k.as_str())
                .then(|| format!("{k}={}", text(v)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn xinfo(v: &Value) -> String {
    let consumer = |c: &Value| {
        pick(
            c,
            &["name", "seen-time", "pel-count", "pending"],
            &|_, _| None,
        )
    };
    let group = move |g: &Value| {
        pick(
            g,
            &[
                "name",
                "last-delivered-id",
                "entries-read",
                "pel-count",
                "pending",
            ],
            &|k, v| match (k, v) {
                ("consumers", Value::Array(cs)) => {
                    Some(cs.iter().map(consumer).collect::<Vec<_>>().join(" | "))
                }
                _ => None,
            },
        )
    };
    pick(
        v,
        &[
            "length",
            "radix-tree-keys",
            "last-generated-id",
            "max-deleted-entry-id",
            "entries-added",
            "recorded-first-entry-id",
            "entries",
        ],
        &|k, v| match (k, v) {
            ("groups", Value::Array(gs)) => {
                Some(gs.iter().map(group).collect::<Vec<_>>().join(" || "))
            }
            _ => None,
        },
    )
}

/// Every probe of every key of `shard`'s database `db`, asked of the shard: key, probe
/// text, canonical reply.
pub fn describe(shard: &mut Shard, db: usize) -> Vec<(Vec<u8>, String)> {
    let mut out = Vec::new();
    for key in keys(shard, db) {
        let kind = match &shard.dbs[db].peek(&key, NOW).expect("listed").value {
            shard::Value::Str(_) => "string",
            shard::Value::List(_) => "list",
            shard::Value::Set(_) => "set",
            shard::Value::ZSet(_) => "zset",
            shard::Value::Hash(_) => "hash",
            shard::Value::Stream(_) => "stream",
        };
        for (probe, args) in probes(&key, kind) {
            let reply = run(shard, db, &args);
            let v = redis::parse_redis_value(&reply).expect("a RESP reply");
            out.push((key.clone(), canonical(probe, &v)));
        }
    }
    out
}
