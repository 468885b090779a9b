//! The RDB codec without a server: Shardis' values written and read back (every type and
//! encoding, TTLs, functions, several databases), the encodings of older Redis versions
//! read from files built by hand, and corrupt files refused with an error, never a panic.

mod common;

use common::*;
use persist::crc64::crc64;
use persist::rdb::listpack::Writer;
use persist::rdb::read::read_rdb;
use persist::rdb::write::{write_entry, write_eof, write_header, write_select_db};
use persist::rdb_string::{write_len, write_string};
use shard::digest::{db_digest, hex};
use shard::limits::Limits;
use shard::snapshot::Access;
use shard::{Entry, Shard, Value};

/// RDB 10 holds no consumer active time: a reader takes the seen time for it (as Redis
/// 7.2 does), so the original gets the same before comparing.
fn seen_as_active(shard: &mut Shard) {
    for db in shard.dbs.iter_mut() {
        let mut streams = Vec::new();
        db.for_each(NOW, |k, e| {
            if let Value::Stream(_) = e.value {
                streams.push(k.to_vec());
            }
        });
        for key in streams {
            let Some(Entry {
                value: Value::Stream(s),
                ..
            }) = db.get_mut(&key, NOW)
            else {
                continue;
            };
            let names: Vec<Vec<u8>> = s.groups().map(|(n, _)| n.to_vec()).collect();
            for name in names {
                if let Some(g) = s.group_mut(&name) {
                    g.consumers
                        .values_mut()
                        .for_each(|c| c.active_time = c.seen_time);
                }
            }
        }
    }
}

fn encoding(shard: &mut Shard, db: usize, key: &[u8]) -> &'static str {
    shard.dbs[db].peek(key, NOW).unwrap().value.encoding()
}

#[test]
fn every_type_and_encoding_round_trips() {
    let mut original = dataset_shard();
    let file = dump(&original, FUNCTIONS);
    let mut loaded = load(&file, limits()).unwrap();
    let codes: Vec<&[u8]> = FUNCTIONS.iter().map(|f| f.as_bytes()).collect();
    assert_eq!(loaded.functions, codes);
    let aux: Vec<String> = loaded
        .aux
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            )
        })
        .collect();
    assert_eq!(aux[0], "redis-ver=7.2.4");
    assert_eq!(aux[1], "redis-bits=64");
    assert!(aux.contains(&"used-mem=1048576".to_string()));
    assert_eq!(aux[aux.len() - 2..], ["repl-offset=0", "aof-base=0"]);

    seen_as_active(&mut original);
    for db in 0..16 {
        let names = keys(&original, db);
        assert_eq!(names, keys(&loaded.shard, db), "db {db}");
        assert_eq!(
            hex(&db_digest(&original.dbs[db], NOW)),
            hex(&db_digest(&loaded.shard.dbs[db], NOW)),
            "db {db}"
        );
        assert_eq!(describe(&mut original, db), describe(&mut loaded.shard, db));
        for key in &names {
            let (a, b) = (
                encoding(&mut original, db, key),
                encoding(&mut loaded.shard, db, key),
            );
            // APPEND's raw strings come back as SET would store them (as from Redis).
            if a != "raw" || key != b"app" {
                assert_eq!(a, b, "{}", String::from_utf8_lossy(key));
            }
        }
    }
    // Every encoding was there.
    let expect = [
        ("int", "int"),
        ("str", "embstr"),
        ("rep", "raw"),
        ("app", "embstr"),
        ("lsmall", "listpack"),
        ("lbig", "quicklist"),
        ("lhuge", "quicklist"),
        ("sint64", "intset"),
        ("sstr", "listpack"),
        ("sbig", "hashtable"),
        ("sbigint", "hashtable"),
        ("zsmall", "listpack"),
        ("zbig", "skiplist"),
        ("zlong", "skiplist"),
        ("hsmall", "listpack"),
        ("hbig", "hashtable"),
        ("hlong", "hashtable"),
        ("s", "stream"),
    ];
    for (key, enc) in expect {
        assert_eq!(encoding(&mut loaded.shard, 0, key.as_bytes()), enc, "{key}");
    }
    assert_eq!(
        loaded.shard.dbs[0].peek(b"hbig", NOW).unwrap().expire_at,
        LATER + 2
    );
}

#[test]
fn encodings_follow_the_loading_limits() {
    let original = dataset_shard();
    let file = dump(&original, &[]);
    // Redis' defaults: the 40-field hash and the 40-member sorted set fit listpacks.
    let mut roomy = load(&file, Limits::default()).unwrap().shard;
    assert_eq!(encoding(&mut roomy, 0, b"hbig"), "listpack");
    assert_eq!(encoding(&mut roomy, 0, b"zbig"), "listpack");
    assert_eq!(encoding(&mut roomy, 0, b"sbigint"), "intset");
    assert_eq!(encoding(&mut roomy, 0, b"sbig"), "listpack");
    assert_eq!(
        encoding(&mut roomy, 0, b"lbig"),
        "listpack",
        "7 KB fit 8 KB"
    );
    assert_eq!(encoding(&mut roomy, 0, b"lhuge"), "quicklist");
    // Tiny limits: everything takes its large encoding.
    let tiny = Limits {
        hash_max_listpack_entries: 2,
        set_max_intset_entries: 2,
        set_max_listpack_entries: 2,
        zset_max_listpack_entries: 2,
        list_max_listpack_size: 2,
        ..limits()
    };
    let mut small = load(&file, tiny).unwrap().shard;
    for (key, enc) in [
        ("hsmall", "hashtable"),
        ("zsmall", "skiplist"),
        ("sint", "hashtable"),
        ("sstr", "hashtable"),
        ("lsmall", "quicklist"),
    ] {
        assert_eq!(encoding(&mut small, 0, key.as_bytes()), enc, "{key}");
    }
    let mut original = original;
    assert_eq!(
        hex(&db_digest(&original.dbs[2], NOW)),
        hex(&db_digest(&small.dbs[2], NOW))
    );
    assert_eq!(describe(&mut original, 9), describe(&mut small, 9));
}

// ---------------------------------------------------------------------------------------------
// Files of older Redis versions, built by hand

/// A ziplist of `elems` (strings, or integers in their narrowest encoding) as ziplist.c
/// lays it out.
fn ziplist(elems: &[&[u8]]) -> Vec<u8> {
    let mut zl = vec![0u8; 10];
    let mut prev = 0usize;
    for e in elems {
        let start = zl.len();
        if prev < 254 {
            zl.push(prev as u8);
        } else {
            zl.push(0xFE);
            zl.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match shard::num::parse_i64(e) {
            Some(v @ 0..=12) => zl.push(0xF1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => zl.extend_from_slice(&[0xFE, v as u8]),
            Some(v) if i16::try_from(v).is_ok() => {
                zl.push(0xC0);
                zl.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if i32::try_from(v).is_ok() => {
                zl.push(0xD0);
                zl.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                zl.push(0xE0);
                zl.extend_from_slice(&v.to_le_bytes());
            }
            None if e.len() < 64 => {
                zl.push(e.len() as u8);
                zl.extend_from_slice(e);
            }
            None => {
                zl.extend_from_slice(&[0x40 | (e.len() >> 8) as u8, e.len() as u8]);
                zl.extend_from_slice(e);
            }
        }
        prev = zl.len() - start;
    }
    zl.push(0xFF);
    let total = zl.len() as u32;
    zl[..4].copy_from_slice(&total.to_le_bytes());
    zl[8..10].copy_from_slice(&(elems.len() as u16).to_le_bytes());
    zl
}

fn blob(out: &mut Vec<u8>, b: &[u8]) {
    write_len(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn key(out: &mut Vec<u8>, kind: u8, name: &str) {
    out.push(kind);
    write_string(out, name.as_bytes());
}

fn raw_id(ms: u64, seq: u64) -> Vec<u8> {
    [ms.to_be_bytes(), seq.to_be_bytes()].concat()
}

/// A stream of two entries (`1-1 f v1`, `2-0 f v2`) and a group whose consumer `c` owns
/// 1-1, in the layout of STREAM_LISTPACKS `version` (1, 2 or 3).
fn stream(out: &mut Vec<u8>, version: u8) {
    write_len(out, 1);
    blob(out, &raw_id(1, 1));
    let mut lp = Writer::new();
    for v in [2, 0, 1] {
        lp.push_int(v);
    }
    lp.push(b"f");
    lp.push_int(0);
    for (ms, seq, v) in [(0, 0, &b"v1"[..]), (1, -1, b"v2")] {
        lp.push_int(2);
        lp.push_int(ms);
        lp.push_int(seq);
        lp.push(v);
        lp.push_int(4);
    }
    blob(out, &lp.finish());
    for n in [2, 2, 0] {
        write_len(out, n); // length, last ID
    }
    if version >= 2 {
        for n in [1, 1, 0, 0, 2] {
            write_len(out, n); // first ID, max deleted ID, entries added
        }
    }
    write_len(out, 1);
    write_string(out, b"g");
    write_len(out, 1);
    write_len(out, 1);
    if version >= 2 {
        write_len(out, 1); // entries read
    }
    write_len(out, 1);
    out.extend_from_slice(&raw_id(1, 1));
    out.extend_from_slice(&1_600_000_000_000i64.to_le_bytes());
    write_len(out, 3);
    write_len(out, 1);
    write_string(out, b"c");
    out.extend_from_slice(&1_600_000_000_500i64.to_le_bytes());
    if version >= 3 {
        out.extend_from_slice(&1_600_000_000_400i64.to_le_bytes());
    }
    write_len(out, 1);
    out.extend_from_slice(&raw_id(1, 1));
}

fn finish(mut out: Vec<u8>) -> Vec<u8> {
    let crc = crc64(0, &out);
    write_eof(&mut out, crc);
    out
}

/// The one probe reply of `key` that shows its contents (after TYPE and PEXPIRETIME).
fn contents(shard: &mut Shard, key: &str) -> Vec<String> {
    describe(shard, 0)
        .into_iter()
        .filter(|(k, _)| k == key.as_bytes())
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn encodings_of_older_versions() {
    let mut out = b"REDIS0009".to_vec();
    out.extend_from_slice(&[0xFE, 0]);
    key(&mut out, 10, "lzip");
    blob(
        &mut out,
        &ziplist(&[b"a", b"5", b"-200", b"70000", b"5000000000", &[b'x'; 100]]),
    );
    key(&mut out, 12, "zzip");
    blob(&mut out, &ziplist(&[b"m1", b"1.5", b"m2", b"3"]));
    key(&mut out, 13, "hzip");
    blob(&mut out, &ziplist(&[b"f", b"v", b"n", b"12"]));
    key(&mut out, 9, "hzipmap");
    blob(
        &mut out,
        &[
            2, 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0, 1, b'k', 1, 0, b'v', 0xFF,
        ],
    );
    key(&mut out, 14, "lquick");
    write_len(&mut out, 2);
    blob(&mut out, &ziplist(&[b"n1", b"n2"]));
    blob(&mut out, &ziplist(&[b"3"]));
    key(&mut out, 11, "sintset");
    blob(
        &mut out,
        &[
            4, 0, 0, 0, 2, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0x70, 0x11, 0x01, 0,
        ],
    );
    key(&mut out, 3, "zold");
    write_len(&mut out, 3);
    for (m, score) in [
        (&b"a"[..], &b"\x032.5"[..]),
        (b"b", b"\xfe"),
        (b"c", b"\xff"),
    ] {
        write_string(&mut out, m);
        out.extend_from_slice(score);
    }
    key(&mut out, 1, "lold");
    write_len(&mut out, 2);
    write_string(&mut out, b"x");
    write_string(&mut out, b"-3");
    // EXPIRETIME in seconds, before RDB 3's milliseconds.
    out.push(0xFD);
    out.extend_from_slice(&2_000_000_000i32.to_le_bytes());
    key(&mut out, 4, "hold");
    write_len(&mut out, 1);
    write_string(&mut out, b"f");
    write_string(&mut out, b"v");
    key(&mut out, 2, "sold");
    write_len(&mut out, 2);
    write_string(&mut out, b"m");
    write_string(&mut out, b"7");
    key(&mut out, 15, "s1");
    stream(&mut out, 1);
    // Empty collections are skipped, as Redis skips them.
    key(&mut out, 2, "gone");
    write_len(&mut out, 0);
    let file = finish(out);

    let mut shard = load(&file, limits()).unwrap().shard;
    let want: [(&str, &[&str]); 11] = [
        (
            "lzip",
            &[
                r#"["a" "5" "-200" "70000" "5000000000" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]"#,
            ],
        ),
        (
            "zzip",
            &[&format!(
                r#""m1"=Some({}) "m2"=Some({})"#,
                1.5f64.to_bits(),
                3f64.to_bits()
            )],
        ),
        ("hzip", &[r#""f"="v" "n"="12""#]),
        ("hzipmap", &[r#""foo"="bar" "k"="v""#]),
        ("lquick", &[r#"["n1" "n2" "3"]"#]),
        ("sintset", &[r#""-2" "70000""#]),
        (
            "zold",
            &[&format!(
                r#""c"=Some({}) "a"=Some({}) "b"=Some({})"#,
                f64::NEG_INFINITY.to_bits(),
                2.5f64.to_bits(),
                f64::INFINITY.to_bits()
            )],
        ),
        ("lold", &[r#"["x" "-3"]"#]),
        ("hold", &[r#""f"="v""#]),
        ("sold", &[r#""7" "m""#]),
        ("gone", &[]),
    ];
    for (key, replies) in want {
        let got = contents(&mut shard, key);
        let got: Vec<&str> = got.iter().skip(2).map(|s| s.as_str()).collect();
        assert_eq!(got, replies, "{key}");
    }
    assert_eq!(
        shard.dbs[0].peek(b"hold", NOW).unwrap().expire_at,
        2_000_000_000_000
    );
    // A Redis 5/6 stream: entries added and the group's read counter estimated, the
    // consumer's active time taken from its seen time.
    let s1 = contents(&mut shard, "s1");
    assert!(
        s1[3].contains("entries-added=2 recorded-first-entry-id=\"1-1\""),
        "{}",
        s1[3]
    );
    assert!(s1[3].contains("entries-read=1"), "{}", s1[3]);
    match &shard.dbs[0].peek(b"s1", NOW).unwrap().value {
        Value::Stream(s) => {
            let c = &s.group(b"g").unwrap().consumers[&b"c"[..]];
            assert_eq!(
                (c.seen_time, c.active_time),
                (1_600_000_000_500, 1_600_000_000_500)
            );
        }
        _ => panic!("not a stream"),
    }
}

#[test]
fn encodings_of_redis_7_2() {
    let mut out = b"REDIS0011".to_vec();
    key(&mut out, 20, "slp");
    let mut lp = Writer::new();
    for m in [&b"a"[..], b"1", b"b"] {
        lp.push(m);
    }
    blob(&mut out, &lp.finish());
    key(&mut out, 21, "s3");
    stream(&mut out, 3);
    let file = finish(out);
    let mut shard = load(&file, limits()).unwrap().shard;
    assert_eq!(encoding(&mut shard, 0, b"slp"), "listpack");
    assert_eq!(contents(&mut shard, "slp")[2], r#""1" "a" "b""#);
    match &shard.dbs[0].peek(b"s3", NOW).unwrap().value {
        Value::Stream(s) => {
            let g = s.group(b"g").unwrap();
            assert_eq!(g.entries_read, 1);
            let c = &g.consumers[&b"c"[..]];
            assert_eq!(
                (c.seen_time, c.active_time),
                (1_600_000_000_500, 1_600_000_000_400)
            );
            let nack = &g.pel[&shard::stream::StreamId::new(1, 1)];
            assert_eq!(
                (nack.delivery_time, nack.delivery_count),
                (1_600_000_000_000, 3)
            );
            assert_eq!(&*nack.consumer, b"c");
        }
        _ => panic!("not a stream"),
    }
}

// ---------------------------------------------------------------------------------------------
// Corrupt files

/// A small file of every type.
fn small_file() -> Vec<u8> {
    let mut shard = Shard::new(0, 16);
    shard.limits = limits();
    for text in [
        "SET s hello",
        "SET n 42",
        "RPUSH l a 1 b",
        "SADD i 1 2 3",
        "SADD t x y",
        "ZADD z 1 a 2.5 b",
        "HSET h f v g 7",
        "XADD x 1-1 f v",
        "XADD x 2-1 f w g z",
        "XDEL x 1-1",
        "XGROUP CREATE x grp 0",
        "XREADGROUP GROUP grp c STREAMS x >",
    ] {
        let args: Vec<Vec<u8>> = text.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        run(&mut shard, 0, &args);
    }
    dump(&shard, &FUNCTIONS[..1])
}

fn read(file: &[u8]) -> Result<usize, String> {
    let mut items = 0;
    read_rdb(file, &limits(), &mut |_| {
        items += 1;
        Ok(())
    })
    .map(|()| items)
    .map_err(|e| e.0)
}

#[test]
fn truncated_files_are_errors() {
    let file = small_file();
    assert!(read(&file).unwrap() > 10);
    for cut in 0..file.len() {
        let err = read(&file[..cut]).unwrap_err();
        assert!(!err.is_empty(), "prefix {cut}");
    }
}

#[test]
fn checksums() {
    let file = small_file();
    let n = file.len();
    let mut bad = file.clone();
    bad[n - 1] ^= 1;
    assert!(read(&bad).unwrap_err().contains("checksum"));
    let mut flipped = file.clone();
    flipped[n - 20] ^= 0x20;
    assert!(read(&flipped).is_err(), "a changed byte");
    // A zero checksum means "not computed".
    let mut unchecked = file.clone();
    unchecked[n - 8..].fill(0);
    assert!(read(&unchecked).is_ok());
}

/// Any byte changed (the checksum off, so parsing goes on): an error or a file that reads,
/// never a panic.
#[test]
fn changed_bytes_never_panic() {
    let mut file = small_file();
    let n = file.len();
    file[n - 8..].fill(0);
    for i in 0..n - 9 {
        for mask in [0x01, 0x40, 0x80, 0xFF] {
            let mut bad = file.clone();
            bad[i] ^= mask;
            let _ = read(&bad);
        }
    }
}

fn file_with(body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    write_header(&mut out, 0, false, &[]);
    write_select_db(&mut out, 0, 1, 0);
    body(&mut out);
    finish(out)
}

#[test]
fn what_is_refused_is_named() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (file_with(|o| key(o, 30, "k")), "unknown value type 30"),
        (
            file_with(|o| {
                key(o, 7, "k");
                write_len(o, 12345);
            }),
            "module values",
        ),
        (file_with(|o| o.push(247)), "MODULE_AUX"),
        (file_with(|o| o.push(246)), "FUNCTION opcode"),
        (b"REDIS0012\xff".to_vec(), "version 12"),
        (b"REDIX0009\xff".to_vec(), "not an RDB file"),
        (
            {
                // A list claiming 2^40 elements, then the end of the file.
                let mut f = file_with(|o| {
                    key(o, 1, "l");
                    write_len(o, 1 << 40);
                    write_string(o, b"only one");
                });
                f.truncate(f.len() - 9);
                f
            },
            "unexpected end",
        ),
        (
            file_with(|o| {
                key(o, 16, "h");
                let mut lp = Writer::new();
                for f in [&b"f"[..], b"1", b"f", b"2"] {
                    lp.push(f);
                }
                blob(o, &lp.finish());
            }),
            "duplicate hash field",
        ),
        (
            file_with(|o| {
                key(o, 5, "z");
                write_len(o, 1);
                write_string(o, b"m");
                o.extend_from_slice(&f64::NAN.to_le_bytes());
            }),
            "NaN",
        ),
    ];
    for (file, what) in cases {
        let err = read(&file).unwrap_err();
        assert!(err.contains(what), "{err:?} should name {what:?}");
    }
    // A key's error names the key.
    let file = file_with(|o| key(o, 30, "the-key"));
    assert!(read(&file).unwrap_err().contains("'the-key'"));
}

#[test]
fn sink_errors_stop_the_read() {
    let file = small_file();
    let mut seen = 0;
    let err = read_rdb(&file[..], &limits(), &mut |_| {
        seen += 1;
        if seen == 3 {
            Err("enough".into())
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert_eq!(err.0, "enough");
    assert_eq!(seen, 3);
}

/// Keys whose time passed are handed over; an expiry before the epoch stays an expiry.
#[test]
fn expired_keys_are_the_callers_business() {
    let mut out = Vec::new();
    write_header(&mut out, 0, false, &[]);
    write_select_db(&mut out, 3, 2, 2);
    let mut e = Entry::new(Value::Str(shard::string::StrValue::from_bytes(b"v")));
    e.expire_at = 5;
    write_entry(b"old", &e, Access::None, &mut out);
    out.push(0xFC);
    out.extend_from_slice(&(-7i64).to_le_bytes());
    key(&mut out, 0, "neg");
    write_string(&mut out, b"v");
    let file = finish(out);
    let mut got = Vec::new();
    read_rdb(&file[..], &limits(), &mut |item| {
        if let persist::rdb::read::Item::Key { db, key, entry, .. } = item {
            got.push((db, key, entry.expire_at));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(got, [(3, b"old".to_vec(), 5), (3, b"neg".to_vec(), 1)]);
}

/// IDLE and FREQ go before the key they describe (after its expiry, as Redis writes them)
/// and come back with it; a key without one gets none.
#[test]
fn idle_times_and_lfu_counters_round_trip() {
    use persist::rdb::read::Item;
    use shard::snapshot::AccessValue;
    let now_ms = 1_700_000_000_000u64;
    let mut out = Vec::new();
    write_header(&mut out, 0, false, &[]);
    write_select_db(&mut out, 0, 3, 1);
    let mut idle = Entry::new(Value::Str(shard::string::StrValue::from_bytes(b"v")));
    idle.access = (now_ms / 1000 - 300) as u32;
    idle.expire_at = now_ms + 5000;
    write_entry(b"idle", &idle, Access::Idle { now_ms }, &mut out);
    let clock = shard::db::Clock::Lfu {
        log_factor: 10,
        decay_time: 1,
    };
    let mut hot = Entry::new(Value::Str(shard::string::StrValue::from_bytes(b"v")));
    hot.access = shard::evict::lfu_data(now_ms, 200);
    write_entry(b"hot", &hot, Access::Freq { clock, now_ms }, &mut out);
    write_entry(b"plain", &hot, Access::None, &mut out);
    let file = finish(out);
    let mut got = Vec::new();
    read_rdb(&file[..], &limits(), &mut |item| {
        if let Item::Key {
            key, entry, access, ..
        } = item
        {
            got.push((key, entry.expire_at, access));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        got,
        [
            (
                b"idle".to_vec(),
                now_ms + 5000,
                Some(AccessValue::Idle(300))
            ),
            (b"hot".to_vec(), 0, Some(AccessValue::Freq(200))),
            (b"plain".to_vec(), 0, None),
        ]
    );
}
