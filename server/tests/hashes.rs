//! The hash family over TCP with the `redis` crate, on a 2-shard server: every command, its
//! errors (Redis' exact texts), RESP2 and RESP3 reply shapes, the listpack -> hashtable
//! conversions at Redis' thresholds, HSCAN's guarantee while the hash changes, and a seeded
//! randomized model test (small and default encoding limits).
//!
//! `REFERENCE_PORT=<port>` runs the same tests against a real Redis (see `common::Target`).

mod common;

use common::{arity, key_on, q, qb, qerr, NOT_INT, SYNTAX};
use redis::Value;
use std::collections::{BTreeMap, BTreeSet};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const OVERFLOW: &str = "ERR increment or decrement would overflow";
const HASH_NOT_INT: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";

/// A 2-shard server (or the reference Redis) with the default hash encoding limits (a shared
/// reference server keeps what an earlier test configured).
fn start() -> (common::Target, redis::Connection) {
    let (s, mut c) = common::start();
    config_set(&mut c, "hash-max-listpack-entries", "512");
    config_set(&mut c, "hash-max-listpack-value", "64");
    (s, c)
}

fn encoding(c: &mut redis::Connection, k: &str) -> String {
    q(c, &["OBJECT", "ENCODING", k])
}

fn hgetall(c: &mut redis::Connection, k: &str) -> Vec<(String, String)> {
    let flat: Vec<String> = q(c, &["HGETALL", k]);
    flat.chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn config_set(c: &mut redis::Connection, name: &str, value: &str) {
    q::<()>(c, &["CONFIG", "SET", name, value]);
}

/// A RESP3 connection to the same server.
fn resp3(s: &common::Target) -> redis::Connection {
    redis::Client::open(format!("{}?protocol=resp3", s.url()))
        .unwrap()
        .get_connection()
        .unwrap()
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

// ---------------------------------------------------------------------------------------------
// Setting and reading

#[test]
fn hset_counts_new_fields_and_hget_hmget_read_them() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2"]), 2);
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "x", "c", "3"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "y", "a", "z"]), 0);
    assert_eq!(
        q::<Option<String>>(&mut c, &["HGET", "h", "a"]).as_deref(),
        Some("z")
    );
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "h", "nope"]), None);
    assert_eq!(q::<Option<String>>(&mut c, &["HGET", "missing", "a"]), None);
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["HMGET", "h", "b", "nope", "c", "b"]),
        vec![Some("2".into()), None, Some("3".into()), Some("2".into())]
    );
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["HMGET", "missing", "a", "b"]),
        vec![None, None]
    );
    assert_eq!(
        q::<String>(&mut c, &["HMSET", "h", "d", "4", "a", "5"]),
        "OK"
    );
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 4);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h"]), "hash");
    assert_eq!(encoding(&mut c, "h"), "listpack");
}

#[test]
fn hset_and_hmset_with_a_field_without_value_are_arity_errors() {
    let (_s, mut c) = start();
    assert_eq!(qerr(&mut c, &["HSET", "h", "a"]), arity("hset"));
    assert_eq!(qerr(&mut c, &["HSET", "h", "a", "1", "b"]), arity("hset"));
    assert_eq!(qerr(&mut c, &["hmset", "h", "a", "1", "b"]), arity("hmset"));
    assert_eq!(qerr(&mut c, &["HGET", "h"]), arity("hget"));
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0, "nothing was created");
}

#[test]
fn hsetnx_sets_only_missing_fields() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "a", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "a", "2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "b", "2"]), 1);
    assert_eq!(
        hgetall(&mut c, "h"),
        vec![("a".into(), "1".into()), ("b".into(), "2".into())]
    );
}

#[test]
fn hdel_counts_removed_fields_and_removes_the_emptied_key() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "a", "nope", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "missing", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "b", "c", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 0);
}

#[test]
fn hlen_hexists_and_hstrlen() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "hello", "e", "", "n", "-12"]);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 3);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "e"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "z"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "missing", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "a"]), 5);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "e"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "n"]), 3);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "z"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "missing", "z"]), 0);
}

#[test]
fn hgetall_hkeys_hvals_follow_listpack_insertion_order() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "z", "1", "a", "2", "m", "3"]);
    q::<i64>(&mut c, &["HSET", "h", "a", "updated"]);
    q::<i64>(&mut c, &["HDEL", "h", "z"]);
    q::<i64>(&mut c, &["HSET", "h", "z", "back"]);
    let all = hgetall(&mut c, "h");
    let expect: Vec<(String, String)> = [("a", "updated"), ("m", "3"), ("z", "back")]
        .iter()
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect();
    assert_eq!(all, expect);
    assert_eq!(q::<Vec<String>>(&mut c, &["HKEYS", "h"]), ["a", "m", "z"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["HVALS", "h"]),
        ["updated", "3", "back"]
    );
    assert!(q::<Vec<String>>(&mut c, &["HGETALL", "missing"]).is_empty());
    assert!(q::<Vec<String>>(&mut c, &["HKEYS", "missing"]).is_empty());
    assert!(q::<Vec<String>>(&mut c, &["HVALS", "missing"]).is_empty());
}

#[test]
fn fields_and_values_are_binary_safe() {
    let (_s, mut c) = start();
    let f: &[u8] = b"f\x00\r\n\xff";
    let v: &[u8] = b"\x00\x01\r\n";
    assert_eq!(qb::<i64>(&mut c, &[b"HSET", b"h", f, v, b"", b""]), 2);
    assert_eq!(qb::<Vec<u8>>(&mut c, &[b"HGET", b"h", f]), v);
    assert_eq!(qb::<Vec<u8>>(&mut c, &[b"HGET", b"h", b""]), b"");
    assert_eq!(qb::<Option<Vec<u8>>>(&mut c, &[b"HGET", b"h", b"f"]), None);
    assert_eq!(qb::<i64>(&mut c, &[b"HSTRLEN", b"h", f]), 4);
    let all: Vec<Vec<u8>> = qb(&mut c, &[b"HGETALL", b"h"]);
    assert_eq!(all, vec![f.to_vec(), v.to_vec(), vec![], vec![]]);
}

#[test]
fn hgetall_is_a_map_and_hkeys_an_array_under_resp3() {
    let (s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2"]);
    let mut c3 = resp3(&s);
    let all: Value = redis::cmd("HGETALL").arg("h").query(&mut c3).unwrap();
    assert_eq!(
        all,
        Value::Map(vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))])
    );
    let empty: Value = redis::cmd("HGETALL").arg("missing").query(&mut c3).unwrap();
    assert_eq!(empty, Value::Map(vec![]));
    let keys: Value = redis::cmd("HKEYS").arg("h").query(&mut c3).unwrap();
    assert_eq!(keys, Value::Array(vec![bulk("a"), bulk("b")]));
    let none: Value = redis::cmd("HGET").arg("h").arg("x").query(&mut c3).unwrap();
    assert_eq!(none, Value::Nil);
}

#[test]
fn every_command_refuses_a_key_of_another_type() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "s", "v"]);
    for cmd in [
        &["HSET", "s", "a", "1"][..],
        &["HMSET", "s", "a", "1"],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HEXISTS", "s", "a"],
        &["HSTRLEN", "s", "a"],
        &["HGETALL", "s"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "0"],
        &["HRANDFIELD", "s", "3", "WITHVALUES"],
        &["HSCAN", "s", "0"],
        // The key's type is checked before the scan options.
        &["HSCAN", "s", "0", "COUNT", "0"],
    ] {
        assert_eq!(qerr(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "v");
}

#[test]
fn writes_keep_the_ttl() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    q::<i64>(&mut c, &["EXPIRE", "h", "1000"]);
    q::<i64>(&mut c, &["HSET", "h", "b", "2"]);
    q::<i64>(&mut c, &["HINCRBY", "h", "a", "1"]);
    q::<String>(&mut c, &["HINCRBYFLOAT", "h", "a", "1.5"]);
    q::<i64>(&mut c, &["HDEL", "h", "b"]);
    q::<i64>(&mut c, &["HSETNX", "h", "c", "1"]);
    assert!(q::<i64>(&mut c, &["TTL", "h"]) > 990);
}

// ---------------------------------------------------------------------------------------------
// Counters

#[test]
fn hincrby_counts_from_zero_and_rejects_non_integers_and_overflow() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "n", "5"]), 5);
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "n", "-7"]), -2);
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "n"]), "-2");
    q::<i64>(
        &mut c,
        &["HSET", "h", "s", "abc", "lead", "012", "sp", " 1"],
    );
    for f in ["s", "lead", "sp"] {
        assert_eq!(qerr(&mut c, &["HINCRBY", "h", f, "1"]), HASH_NOT_INT, "{f}");
    }
    q::<i64>(&mut c, &["HSET", "h", "max", "9223372036854775807"]);
    assert_eq!(qerr(&mut c, &["HINCRBY", "h", "max", "1"]), OVERFLOW);
    q::<i64>(&mut c, &["HSET", "h", "min", "-9223372036854775808"]);
    assert_eq!(qerr(&mut c, &["HINCRBY", "h", "min", "-1"]), OVERFLOW);
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "min", "0"]), i64::MIN);
    for bad in ["x", "1.5", "9223372036854775808", ""] {
        assert_eq!(qerr(&mut c, &["HINCRBY", "h", "n", bad]), NOT_INT, "{bad}");
    }
    // The increment is checked before the key's type, and no key is created by an error.
    q::<()>(&mut c, &["SET", "str", "v"]);
    assert_eq!(qerr(&mut c, &["HINCRBY", "str", "f", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["HINCRBY", "new", "f", "x"]), NOT_INT);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "new"]), 0);
}

#[test]
fn hincrbyfloat_formats_like_redis_long_double() {
    let (_s, mut c) = start();
    let inc = |c: &mut redis::Connection, f: &str, by: &str| -> String {
        q(c, &["HINCRBYFLOAT", "h", f, by])
    };
    assert_eq!(inc(&mut c, "f", "10.5"), "10.5");
    assert_eq!(inc(&mut c, "f", "0.1"), "10.6");
    assert_eq!(inc(&mut c, "g", "1000"), "1000");
    assert_eq!(inc(&mut c, "g", "0.1"), "1000.09999999999999998");
    assert_eq!(inc(&mut c, "h", "5.0e3"), "5000");
    assert_eq!(inc(&mut c, "x", "0x10"), "16");
    q::<i64>(
        &mut c,
        &["HSET", "h", "int", "7", "hex", "0x10", "e", "1e308"],
    );
    assert_eq!(inc(&mut c, "int", "-7"), "0");
    assert_eq!(inc(&mut c, "hex", "1"), "17");
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "f"]), "10.6");
    let big = inc(&mut c, "e", "1e308");
    assert!(big.starts_with("1999999999999999999933717") && big.len() == 309);
}

#[test]
fn hincrbyfloat_errors() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "s", "abc", "sp", " 1", "n", "1"]);
    assert_eq!(
        qerr(&mut c, &["HINCRBYFLOAT", "h", "s", "1"]),
        HASH_NOT_FLOAT
    );
    assert_eq!(
        qerr(&mut c, &["HINCRBYFLOAT", "h", "sp", "1"]),
        HASH_NOT_FLOAT
    );
    for bad in ["abc", "nan", "", " 1", "1 "] {
        assert_eq!(
            qerr(&mut c, &["HINCRBYFLOAT", "h", "n", bad]),
            NOT_FLOAT,
            "{bad}"
        );
    }
    for inf in ["inf", "-inf", "+Infinity"] {
        assert_eq!(
            qerr(&mut c, &["HINCRBYFLOAT", "h", "n", inf]),
            "ERR value is NaN or Infinity"
        );
    }
    q::<i64>(&mut c, &["HSET", "h", "e", "1e4932"]);
    assert_eq!(
        qerr(&mut c, &["HINCRBYFLOAT", "h", "e", "1e4932"]),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(q::<String>(&mut c, &["HGET", "h", "e"]), "1e4932");
    q::<()>(&mut c, &["SET", "str", "v"]);
    assert_eq!(qerr(&mut c, &["HINCRBYFLOAT", "str", "f", "x"]), NOT_FLOAT);
    assert_eq!(qerr(&mut c, &["HINCRBYFLOAT", "str", "f", "1"]), WRONGTYPE);
}

// ---------------------------------------------------------------------------------------------
// HRANDFIELD

fn fill(c: &mut redis::Connection, k: &str, n: usize) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut cmd = redis::cmd("HSET");
    cmd.arg(k);
    for i in 0..n {
        let (f, v) = (format!("f{i}"), format!("v{i}"));
        cmd.arg(&f).arg(&v);
        m.insert(f, v);
    }
    let _: i64 = cmd.query(c).unwrap();
    m
}

#[test]
fn hrandfield_without_count_returns_one_field() {
    let (_s, mut c) = start();
    assert_eq!(
        q::<Option<String>>(&mut c, &["HRANDFIELD", "missing"]),
        None
    );
    let m = fill(&mut c, "h", 5);
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let f: String = q(&mut c, &["HRANDFIELD", "h"]);
        assert!(m.contains_key(&f));
        seen.insert(f);
    }
    assert_eq!(seen.len(), 5, "every field comes up");
}

#[test]
fn hrandfield_positive_counts_are_distinct_negative_ones_may_repeat() {
    let (_s, mut c) = start();
    for (key, n) in [("small", 10), ("big", 700)] {
        let m = fill(&mut c, key, n);
        for count in [1, 3, n / 2, n - 1, n, n + 5] {
            let got: Vec<String> = q(&mut c, &["HRANDFIELD", key, &count.to_string()]);
            let set: BTreeSet<&String> = got.iter().collect();
            assert_eq!(got.len(), count.min(n), "{key} {count}");
            assert_eq!(set.len(), got.len(), "distinct: {key} {count}");
            assert!(got.iter().all(|f| m.contains_key(f)));
        }
        let got: Vec<String> = q(&mut c, &["HRANDFIELD", key, "-30"]);
        assert_eq!(got.len(), 30);
        assert!(got.iter().all(|f| m.contains_key(f)));
        let wv: Vec<String> = q(&mut c, &["HRANDFIELD", key, "-20", "WITHVALUES"]);
        assert_eq!(wv.len(), 40);
        for p in wv.chunks(2) {
            assert_eq!(m[&p[0]], p[1]);
        }
        let wv: Vec<String> = q(&mut c, &["HRANDFIELD", key, "4", "withvalues"]);
        assert_eq!(wv.len(), 8);
        for p in wv.chunks(2) {
            assert_eq!(m[&p[0]], p[1]);
        }
    }
    let one: Vec<String> = q(&mut c, &["HRANDFIELD", "small", "-1000"]);
    assert_eq!(one.len(), 1000);
    assert!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "small", "0"]).is_empty());
    assert!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "missing", "5"]).is_empty());
    assert!(q::<Vec<String>>(&mut c, &["HRANDFIELD", "missing", "-5", "WITHVALUES"]).is_empty());
}

#[test]
fn hrandfield_withvalues_is_an_array_of_pairs_under_resp3() {
    let (s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    let mut c3 = resp3(&s);
    for count in ["1", "-2", "5"] {
        let v: Value = redis::cmd("HRANDFIELD")
            .arg("h")
            .arg(count)
            .arg("WITHVALUES")
            .query(&mut c3)
            .unwrap();
        let n = if count == "-2" { 2 } else { 1 };
        assert_eq!(
            v,
            Value::Array(vec![Value::Array(vec![bulk("a"), bulk("1")]); n]),
            "{count}"
        );
    }
    let v: Value = redis::cmd("HRANDFIELD")
        .arg("h")
        .arg("-2")
        .query(&mut c3)
        .unwrap();
    assert_eq!(v, Value::Array(vec![bulk("a"), bulk("a")]));
}

#[test]
fn hrandfield_argument_errors() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(qerr(&mut c, &["HRANDFIELD", "h", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUE"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and \
         9223372036854775807"
    );
    for extreme in [
        "-9223372036854775807",
        "-4611686018427387904",
        "4611686018427387904",
    ] {
        assert_eq!(
            qerr(&mut c, &["HRANDFIELD", "h", extreme, "WITHVALUES"]),
            "ERR value is out of range",
            "{extreme}"
        );
    }
    // Arguments are checked before the key is looked up.
    assert_eq!(qerr(&mut c, &["HRANDFIELD", "missing", "x"]), NOT_INT);
}

/// Redis writes a reply of any size for a negative count (and runs out of memory for huge
/// ones); Shardis refuses a reply that cannot fit in proto-max-bulk-len.
#[test]
fn hrandfield_refuses_a_repeat_count_too_big_to_answer() {
    let (s, mut c) = start();
    if s.is_reference() {
        return;
    }
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    for count in ["-4611686018427387903", "-200000000"] {
        assert_eq!(
            qerr(&mut c, &["HRANDFIELD", "h", count, "WITHVALUES"]),
            "ERR value is out of range"
        );
    }
    assert_eq!(
        qerr(&mut c, &["HRANDFIELD", "h", "-9223372036854775807"]),
        "ERR value is out of range"
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["HRANDFIELD", "h", "-100000"]).len(),
        100_000
    );
}

// ---------------------------------------------------------------------------------------------
// HSCAN

/// A whole HSCAN walk: every (field, value) returned and the number of calls.
fn hscan_all(c: &mut redis::Connection, k: &str, extra: &[&str]) -> (Vec<(String, String)>, usize) {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["HSCAN", k, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        calls += 1;
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        if next == "0" {
            return (out, calls);
        }
        cursor = next;
    }
}

#[test]
fn hscan_returns_a_listpack_in_one_call() {
    let (_s, mut c) = start();
    let m = fill(&mut c, "h", 50);
    let (got, calls) = hscan_all(&mut c, "h", &["COUNT", "2"]);
    assert_eq!(calls, 1);
    assert_eq!(got, hgetall(&mut c, "h"), "in the listpack's order");
    assert_eq!(got.into_iter().collect::<BTreeMap<_, _>>(), m);
    // Any cursor answers everything with cursor 0.
    let (next, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "h", "12345"]);
    assert_eq!((next.as_str(), items.len()), ("0", 100));
    let (matched, _) = hscan_all(&mut c, "h", &["MATCH", "f1*"]);
    let expect: Vec<_> = hgetall(&mut c, "h")
        .into_iter()
        .filter(|(f, _)| f.starts_with("f1"))
        .collect();
    assert_eq!(matched, expect);
    let (next, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "missing", "0"]);
    assert_eq!((next.as_str(), items.len()), ("0", 0));
}

#[test]
fn hscan_walks_a_hashtable_with_count_and_match() {
    let (_s, mut c) = start();
    let m = fill(&mut c, "h", 2000);
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    let (got, calls) = hscan_all(&mut c, "h", &[]);
    assert!(calls > 10, "a walk in steps, not one reply ({calls})");
    let got: BTreeMap<String, String> = got.into_iter().collect();
    assert_eq!(got, m);
    let (got, few_calls) = hscan_all(&mut c, "h", &["COUNT", "500"]);
    assert!(few_calls < calls);
    assert_eq!(got.len(), 2000);
    let (got, _) = hscan_all(&mut c, "h", &["MATCH", "f19*", "COUNT", "50"]);
    let got: BTreeSet<String> = got.into_iter().map(|(f, _)| f).collect();
    let expect: BTreeSet<String> = m.keys().filter(|f| f.starts_with("f19")).cloned().collect();
    assert_eq!(got, expect);
}

#[test]
fn hscan_argument_errors_in_redis_order() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(qerr(&mut c, &["HSCAN", "h", "x"]), "ERR invalid cursor");
    assert_eq!(
        qerr(&mut c, &["HSCAN", "missing", "x"]),
        "ERR invalid cursor"
    );
    assert_eq!(qerr(&mut c, &["HSCAN", "h", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["HSCAN", "h", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["HSCAN", "h", "0", "MATCH"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["HSCAN", "h", "0", "TYPE", "hash"]), SYNTAX);
    // A missing key answers an empty scan without looking at the options.
    let (next, items): (String, Vec<String>) = q(&mut c, &["HSCAN", "missing", "0", "COUNT", "0"]);
    assert_eq!((next.as_str(), items.len()), ("0", 0));
}

/// Every field present for the whole walk is returned, while other fields are added (growing
/// the table several times) and removed (shrinking it) between the calls.
#[test]
fn hscan_returns_every_field_present_for_the_whole_walk() {
    let (_s, mut c) = start();
    for (round, (adds, removes)) in [(400usize, 20usize), (5, 400), (150, 150)]
        .into_iter()
        .enumerate()
    {
        let key = format!("h{round}");
        let stable: Vec<String> = (0..300).map(|i| format!("stable{i}")).collect();
        let mut churn: Vec<String> = (0..3000).map(|i| format!("c{i}")).collect();
        let mut next_id = churn.len();
        let mut cmd = redis::cmd("HSET");
        cmd.arg(&key);
        for f in stable.iter().chain(&churn) {
            cmd.arg(f).arg("v");
        }
        let _: i64 = cmd.query(&mut c).unwrap();
        let mut rng = 0x9e3779b97f4a7c15u64 ^ round as u64;
        let mut rand = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut seen = BTreeSet::new();
        let mut cursor = "0".to_string();
        for step in 0.. {
            let (next, items): (String, Vec<String>) =
                q(&mut c, &["HSCAN", &key, &cursor, "COUNT", "20"]);
            seen.extend(items.chunks(2).map(|p| p[0].clone()));
            if next == "0" {
                break;
            }
            assert!(step < 100_000, "the walk ends");
            cursor = next;
            let mut p = redis::pipe();
            if churn.len() < 20_000 {
                for _ in 0..rand(adds + 1) {
                    let f = format!("c{next_id}");
                    next_id += 1;
                    p.cmd("HSET").arg(&key).arg(&f).arg("v").ignore();
                    churn.push(f);
                }
            }
            for _ in 0..rand(removes + 1) {
                if churn.is_empty() {
                    break;
                }
                let f = churn.swap_remove(rand(churn.len()));
                p.cmd("HDEL").arg(&key).arg(&f).ignore();
            }
            p.query::<()>(&mut c).unwrap();
        }
        for f in &stable {
            assert!(seen.contains(f), "round {round}: {f} was never returned");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encodings

#[test]
fn a_listpack_becomes_a_hashtable_past_the_entry_limit_and_stays_one() {
    let (_s, mut c) = start();
    config_set(&mut c, "hash-max-listpack-entries", "4");
    q::<i64>(
        &mut c,
        &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"],
    );
    assert_eq!(encoding(&mut c, "h"), "listpack");
    q::<i64>(&mut c, &["HSET", "h", "d", "updated"]);
    assert_eq!(encoding(&mut c, "h"), "listpack", "updates do not grow it");
    q::<i64>(&mut c, &["HSET", "h", "e", "5"]);
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    q::<i64>(&mut c, &["HDEL", "h", "a", "b", "c", "d"]);
    assert_eq!(encoding(&mut c, "h"), "hashtable", "never converted back");
    assert_eq!(hgetall(&mut c, "h"), vec![("e".into(), "5".into())]);
    // HINCRBY, HINCRBYFLOAT and HSETNX adding a fifth field convert too.
    for (i, cmd) in [
        &["HINCRBY", "k0", "new", "1"][..],
        &["HINCRBYFLOAT", "k1", "new", "1.5"],
        &["HSETNX", "k2", "new", "x"],
    ]
    .iter()
    .enumerate()
    {
        let k = format!("k{i}");
        q::<i64>(
            &mut c,
            &["HSET", &k, "a", "1", "b", "2", "c", "3", "d", "4"],
        );
        q::<redis::Value>(&mut c, cmd);
        assert_eq!(encoding(&mut c, &k), "hashtable", "{cmd:?}");
    }
}

#[test]
fn hset_with_more_pairs_than_the_limit_converts_even_if_fields_repeat() {
    let (s, mut c) = start();
    config_set(&mut c, "hash-max-listpack-entries", "4");
    q::<i64>(
        &mut c,
        &[
            "HSET", "h", "a", "1", "a", "2", "a", "3", "a", "4", "a", "5",
        ],
    );
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 1);
    // Redis 7.2 converts before writing when the arguments hold more pairs than the limit;
    // 7.0 (the reference server here) only looks at the lengths.
    if !s.is_reference() {
        assert_eq!(encoding(&mut c, "h"), "hashtable");
    }
    config_set(&mut c, "hash-max-listpack-entries", "0");
    q::<i64>(&mut c, &["HSET", "z", "a", "1"]);
    assert_eq!(encoding(&mut c, "z"), "hashtable");
    q::<i64>(&mut c, &["HINCRBY", "y", "a", "1"]);
    assert_eq!(encoding(&mut c, "y"), "hashtable");
}

#[test]
fn a_long_field_or_value_converts_whichever_command_writes_it() {
    let (_s, mut c) = start();
    config_set(&mut c, "hash-max-listpack-value", "8");
    let exactly = "x".repeat(8);
    let longer = "x".repeat(9);
    q::<i64>(&mut c, &["HSET", "h", &exactly, &exactly]);
    assert_eq!(encoding(&mut c, "h"), "listpack");
    let cases: [(&str, Vec<&str>); 6] = [
        ("value", vec!["HSET", "k", "f", &longer]),
        ("field", vec!["HSET", "k", &longer, "v"]),
        ("hmset", vec!["HMSET", "k", "f", "v", "g", &longer]),
        ("hsetnx", vec!["HSETNX", "k", "new", &longer]),
        (
            "hincrbyfloat",
            vec!["HINCRBYFLOAT", "k", "f", "0.123456789"],
        ),
        ("hincrby", vec!["HINCRBY", "k", &longer, "1"]),
    ];
    for (name, cmd) in cases {
        let k = format!("k-{name}");
        let cmd: Vec<&str> = [cmd[0], &k]
            .into_iter()
            .chain(cmd[2..].iter().copied())
            .collect();
        q::<i64>(&mut c, &["HSET", &k, "f", "1"]);
        q::<redis::Value>(&mut c, &cmd);
        assert_eq!(encoding(&mut c, &k), "hashtable", "{name}");
    }
    // HSETNX on an existing field writes nothing, so nothing converts.
    q::<i64>(&mut c, &["HSET", "nx", "f", "1"]);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "nx", "f", &longer]), 0);
    assert_eq!(encoding(&mut c, "nx"), "listpack");
    // A counter that grows past the limit converts.
    q::<i64>(&mut c, &["HSET", "n", "f", "9999999"]);
    q::<i64>(&mut c, &["HINCRBY", "n", "f", "1"]);
    assert_eq!(encoding(&mut c, "n"), "listpack");
    q::<i64>(&mut c, &["HINCRBY", "n", "f", "100000000"]);
    assert_eq!(encoding(&mut c, "n"), "hashtable");
}

#[test]
fn hashes_move_between_shards_whole() {
    let (_s, mut c) = start();
    let (a, b) = (key_on(0, 2, "src"), key_on(1, 2, "dst"));
    config_set(&mut c, "hash-max-listpack-entries", "3");
    let m = fill(&mut c, &a, 10);
    q::<()>(&mut c, &["RENAME", &a, &b]);
    assert_eq!(encoding(&mut c, &b), "hashtable");
    let got: BTreeMap<String, String> = hgetall(&mut c, &b).into_iter().collect();
    assert_eq!(got, m);
    let copy = key_on(0, 2, "copy");
    assert_eq!(q::<i64>(&mut c, &["COPY", &b, &copy]), 1);
    q::<i64>(&mut c, &["HSET", &copy, "extra", "1"]);
    assert_eq!(q::<i64>(&mut c, &["HLEN", &b]), 10);
    assert_eq!(q::<i64>(&mut c, &["HLEN", &copy]), 11);
    // The copy can still be scanned and shrunk to nothing.
    let (all, _) = hscan_all(&mut c, &copy, &[]);
    assert_eq!(all.len(), 11);
    let fields: Vec<String> = all.into_iter().map(|(f, _)| f).collect();
    let mut del = vec!["HDEL".to_string(), copy.clone()];
    del.extend(fields);
    let del: Vec<&str> = del.iter().map(String::as_str).collect();
    assert_eq!(q::<i64>(&mut c, &del), 11);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &copy]), 0);
}

// ---------------------------------------------------------------------------------------------
// Randomized model test

/// Which encoding Redis gives a hash after each write, tracked by the model.
struct ModelHash {
    map: BTreeMap<String, String>,
    table: bool,
}

struct Model {
    keys: BTreeMap<String, ModelHash>,
    entries: usize,
    value: usize,
}

impl Model {
    /// `hashTypeTryConversion` for a write of `args` (field value ...).
    fn prepare(&mut self, k: &str, args: &[String]) {
        let (entries, value) = (self.entries, self.value);
        let h = self.keys.get_mut(k).unwrap();
        if args.len() / 2 > entries || args.iter().any(|a| a.len() > value) {
            h.table = true;
        }
    }

    /// `hashTypeSet`; true when the field is new.
    fn set(&mut self, k: &str, f: &str, v: &str) -> bool {
        let (entries, value) = (self.entries, self.value);
        let h = self.keys.get_mut(k).unwrap();
        if f.len() > value || v.len() > value {
            h.table = true;
        }
        let new = h.map.insert(f.into(), v.into()).is_none();
        if h.map.len() > entries {
            h.table = true;
        }
        new
    }

    fn create(&mut self, k: &str) {
        self.keys.entry(k.into()).or_insert(ModelHash {
            map: BTreeMap::new(),
            table: false,
        });
    }

    fn get(&self, k: &str, f: &str) -> Option<&String> {
        self.keys.get(k).and_then(|h| h.map.get(f))
    }
}

struct Rand(u64);

impl Rand {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn run_model(seed: u64, entries: usize, value: usize, steps: usize) {
    let (_s, mut c) = start();
    config_set(&mut c, "hash-max-listpack-entries", &entries.to_string());
    config_set(&mut c, "hash-max-listpack-value", &value.to_string());
    let mut m = Model {
        keys: BTreeMap::new(),
        entries,
        value,
    };
    let mut r = Rand(seed);
    let keys = ["h0", "h1", "h2"];
    for step in 0..steps {
        let k = keys[r.below(keys.len())];
        let field = |r: &mut Rand| {
            if r.below(20) == 0 {
                format!("long-field-{}", "f".repeat(r.below(80)))
            } else {
                format!("f{}", r.below(12))
            }
        };
        let val = |r: &mut Rand| match r.below(10) {
            0 => "x".repeat(r.below(100)),
            1..=4 => (r.below(2000) as i64 - 1000).to_string(),
            _ => format!("v{}", r.below(1000)),
        };
        let ctx = format!("seed {seed} step {step} key {k}");
        match r.below(11) {
            0 | 1 => {
                let n = 1 + r.below(3);
                let mut args = Vec::new();
                for _ in 0..n {
                    args.push(field(&mut r));
                    args.push(val(&mut r));
                }
                let mut cmd = vec!["HSET".to_string(), k.into()];
                cmd.extend(args.iter().cloned());
                let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
                let got: i64 = q(&mut c, &cmd);
                m.create(k);
                m.prepare(k, &args);
                let created = args.chunks(2).filter(|p| m.set(k, &p[0], &p[1])).count();
                assert_eq!(got, created as i64, "{ctx} {cmd:?}");
            }
            2 => {
                let (f, v) = (field(&mut r), val(&mut r));
                let got: i64 = q(&mut c, &["HSETNX", k, &f, &v]);
                m.create(k);
                let expect = if m.get(k, &f).is_some() {
                    0
                } else {
                    m.prepare(k, &[f.clone(), v.clone()]);
                    m.set(k, &f, &v);
                    1
                };
                assert_eq!(got, expect, "{ctx} HSETNX {f}");
            }
            3 => {
                let fs: Vec<String> = (0..1 + r.below(3)).map(|_| field(&mut r)).collect();
                let mut cmd = vec!["HDEL", k];
                cmd.extend(fs.iter().map(String::as_str));
                let got: i64 = q(&mut c, &cmd);
                let mut expect = 0;
                if let Some(h) = m.keys.get_mut(k) {
                    for f in &fs {
                        expect += h.map.remove(f).is_some() as i64;
                    }
                    if h.map.is_empty() {
                        m.keys.remove(k);
                    }
                }
                assert_eq!(got, expect, "{ctx} {cmd:?}");
            }
            4 => {
                let f = field(&mut r);
                let got: Option<String> = q(&mut c, &["HGET", k, &f]);
                assert_eq!(got.as_ref(), m.get(k, &f), "{ctx} HGET {f}");
            }
            5 => {
                let fs: Vec<String> = (0..1 + r.below(4)).map(|_| field(&mut r)).collect();
                let mut cmd = vec!["HMGET", k];
                cmd.extend(fs.iter().map(String::as_str));
                let got: Vec<Option<String>> = q(&mut c, &cmd);
                let expect: Vec<Option<String>> = fs.iter().map(|f| m.get(k, f).cloned()).collect();
                assert_eq!(got, expect, "{ctx} {cmd:?}");
            }
            6 => {
                let f = field(&mut r);
                let by = r.below(200) as i64 - 100;
                let cmd = ["HINCRBY", k, &f, &by.to_string()];
                let cur = m.get(k, &f).cloned();
                match cur.as_deref().map(str::parse::<i64>) {
                    Some(Err(_)) => assert_eq!(qerr(&mut c, &cmd), HASH_NOT_INT, "{ctx}"),
                    // Values like "-0" or "+1" never occur in the model's values.
                    cur => {
                        let new = cur.map_or(0, Result::unwrap) + by;
                        assert_eq!(q::<i64>(&mut c, &cmd), new, "{ctx} {cmd:?}");
                        m.create(k);
                        m.set(k, &f, &new.to_string());
                    }
                }
            }
            7 => {
                let f = field(&mut r);
                let got: i64 = q(&mut c, &["HEXISTS", k, &f]);
                assert_eq!(got, m.get(k, &f).is_some() as i64, "{ctx}");
            }
            8 => {
                let got: i64 = q(&mut c, &["HLEN", k]);
                assert_eq!(
                    got,
                    m.keys.get(k).map_or(0, |h| h.map.len()) as i64,
                    "{ctx}"
                );
            }
            9 => {
                let f = field(&mut r);
                let got: i64 = q(&mut c, &["HSTRLEN", k, &f]);
                assert_eq!(got, m.get(k, &f).map_or(0, String::len) as i64, "{ctx}");
            }
            _ => {
                let got = sorted(hgetall(&mut c, k));
                let expect: Vec<(String, String)> = m
                    .keys
                    .get(k)
                    .map(|h| h.map.clone().into_iter().collect())
                    .unwrap_or_default();
                assert_eq!(got, expect, "{ctx} HGETALL");
            }
        }
        if let Some(h) = m.keys.get(k) {
            let want = if h.table { "hashtable" } else { "listpack" };
            assert_eq!(encoding(&mut c, k), want, "{ctx}");
        } else {
            assert_eq!(q::<i64>(&mut c, &["EXISTS", k]), 0, "{ctx}");
        }
    }
}

#[test]
fn random_commands_agree_with_a_model_with_small_limits() {
    run_model(0x1234_5678, 4, 16, 3000);
}

#[test]
fn random_commands_agree_with_a_model_with_default_limits() {
    run_model(0xdead_beef, 512, 64, 3000);
}
