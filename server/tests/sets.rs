//! The set family over TCP with the `redis` crate: every command, its errors (Redis' exact
//! texts), the three encodings and the conversions between them at the thresholds (CONFIG
//! SET), the multi-key commands with their keys on one shard and on two, RESP3 reply types,
//! and a seeded randomized model test against BTreeSet models that also predicts every
//! key's OBJECT ENCODING.

mod common;

use common::{key_on, q, qb, qerr, start, Server, NOT_INT, SYNTAX};
use redis::Value;
use std::collections::{BTreeMap, BTreeSet};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn members(c: &mut redis::Connection, k: &str) -> BTreeSet<String> {
    q(c, &["SMEMBERS", k])
}

fn set_of(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn enc(c: &mut redis::Connection, k: &str) -> String {
    q(c, &["OBJECT", "ENCODING", k])
}

fn config(c: &mut redis::Connection, name: &str, value: &str) {
    q::<()>(c, &["CONFIG", "SET", name, value]);
}

fn sadd(c: &mut redis::Connection, k: &str, ms: &[&str]) -> i64 {
    let mut args = vec!["SADD", k];
    args.extend_from_slice(ms);
    q(c, &args)
}

fn numbers(from: i64, to: i64) -> Vec<String> {
    (from..to).map(|i| i.to_string()).collect()
}

/// SADDs one member per command (no size hint), pipelined.
fn sadd_one_by_one(c: &mut redis::Connection, k: &str, ms: &[String]) {
    let mut p = redis::pipe();
    for m in ms {
        p.cmd("SADD").arg(k).arg(m).ignore();
    }
    p.query::<()>(c).unwrap();
}

fn resp3(s: &Server) -> redis::Connection {
    redis::Client::open(format!("{}?protocol=resp3", s.url()))
        .unwrap()
        .get_connection()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Single-key commands

#[test]
fn sadd_srem_scard_sismember_and_smismember() {
    let (_s, mut c) = start();
    assert_eq!(sadd(&mut c, "s", &["a", "b", "a", "c"]), 3);
    assert_eq!(sadd(&mut c, "s", &["a", "d"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 4);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "nokey"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "z"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "nokey", "a"]), 0);
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["SMISMEMBER", "s", "a", "z", "d", "a"]),
        vec![1, 0, 1, 1]
    );
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["SMISMEMBER", "nokey", "a", "b"]),
        vec![0, 0]
    );
    assert_eq!(members(&mut c, "s"), set_of(&["a", "b", "c", "d"]));
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "a", "z", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SREM", "nokey", "a"]), 0);
    // Removing the last member deletes the key.
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "b", "c", "d", "e"]), 3);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    assert_eq!(members(&mut c, "nokey"), BTreeSet::new());
}

#[test]
fn members_are_binary_safe() {
    let (_s, mut c) = start();
    let ms: [&[u8]; 4] = [b"", b"\x00\xff", b"a\r\nb", b"-0"];
    for m in ms {
        assert_eq!(qb::<i64>(&mut c, &[b"SADD", b"b", m]), 1);
    }
    for m in ms {
        assert_eq!(qb::<i64>(&mut c, &[b"SISMEMBER", b"b", m]), 1);
    }
    let got: BTreeSet<Vec<u8>> = qb(&mut c, &[b"SMEMBERS", b"b"]);
    assert_eq!(got, ms.iter().map(|m| m.to_vec()).collect());
    // "-0" and "01" are strings, not the integers 0 and 1.
    assert_eq!(sadd(&mut c, "i", &["0", "1"]), 2);
    assert_eq!(sadd(&mut c, "i", &["-0", "01", "+1"]), 3);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "i"]), 5);
}

#[test]
fn wrong_types_are_refused_by_every_command() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "str", "x"]);
    sadd(&mut c, "s", &["a"]);
    let calls: &[&[&str]] = &[
        &["SADD", "str", "a"],
        &["SREM", "str", "a"],
        &["SCARD", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SSCAN", "str", "0"],
        &["SMOVE", "str", "s", "a"],
        &["SMOVE", "s", "str", "a"],
        &["SINTER", "s", "str"],
        &["SINTER", "nokey", "str"],
        &["SINTERCARD", "2", "s", "str"],
        &["SINTERSTORE", "d", "s", "str"],
        &["SUNION", "s", "str"],
        &["SUNIONSTORE", "d", "str"],
        &["SDIFF", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
    ];
    for args in calls {
        assert_eq!(qerr(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // Nothing was changed.
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(members(&mut c, "s"), set_of(&["a"]));
    // SMOVE from a missing key answers 0 before looking at the destination's type.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "nokey", "str", "a"]), 0);
}

#[test]
fn argument_errors_as_redis() {
    let (_s, mut c) = start();
    sadd(&mut c, "s", &["a", "b"]);
    assert_eq!(qerr(&mut c, &["SPOP", "s", "1", "2"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["SRANDMEMBER", "s", "1", "2"]), SYNTAX);
    let positive = "ERR value is out of range, must be positive";
    assert_eq!(qerr(&mut c, &["SPOP", "s", "-1"]), positive);
    assert_eq!(qerr(&mut c, &["SPOP", "s", "abc"]), positive);
    assert_eq!(qerr(&mut c, &["SPOP", "nokey", "-1"]), positive);
    assert_eq!(qerr(&mut c, &["SRANDMEMBER", "s", "abc"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["SRANDMEMBER", "s", "1.5"]), NOT_INT);
    assert_eq!(
        qerr(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and \
         9223372036854775807"
    );
    assert_eq!(
        qerr(&mut c, &["SRANDMEMBER", "s", "99999999999999999999"]),
        NOT_INT
    );
    assert_eq!(
        qerr(&mut c, &["SADD", "s"]),
        "ERR wrong number of arguments for 'sadd' command"
    );
    assert_eq!(
        qerr(&mut c, &["SMOVE", "a", "b"]),
        "ERR wrong number of arguments for 'smove' command"
    );
    assert_eq!(members(&mut c, "s"), set_of(&["a", "b"]));
}

#[test]
fn spop_single_and_with_counts() {
    let (_s, mut c) = start();
    assert_eq!(q::<Option<String>>(&mut c, &["SPOP", "nokey"]), None);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SPOP", "nokey", "3"]),
        Vec::<String>::new()
    );
    sadd(&mut c, "s", &["a", "b", "c", "d", "e"]);
    let one: String = q(&mut c, &["SPOP", "s"]);
    assert!(set_of(&["a", "b", "c", "d", "e"]).contains(&one));
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", &one]), 0);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SPOP", "s", "0"]),
        Vec::<String>::new()
    );
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 4);
    let two: BTreeSet<String> = q(&mut c, &["SPOP", "s", "2"]);
    assert_eq!(two.len(), 2);
    let rest = members(&mut c, "s");
    assert_eq!(rest.len(), 2);
    assert!(two.is_disjoint(&rest));
    // More than there is: all of it, and the key is gone.
    let all: BTreeSet<String> = q(&mut c, &["SPOP", "s", "100"]);
    assert_eq!(all, rest);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    // The last member by a plain SPOP deletes the key too.
    sadd(&mut c, "t", &["only"]);
    assert_eq!(q::<String>(&mut c, &["SPOP", "t"]), "only");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "t"]), 0);
}

#[test]
fn spop_pops_distinct_members_from_every_encoding() {
    let (_s, mut c) = start();
    let ints = numbers(0, 100);
    let strs: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    let big: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    for (k, ms, e) in [
        ("i", &ints, "intset"),
        ("l", &strs, "listpack"),
        ("h", &big, "hashtable"),
    ] {
        // Pop a few (one at a time), then most (the survivors move to a new set).
        for _ in 0..2 {
            q::<()>(&mut c, &["DEL", k]);
            sadd_one_by_one(&mut c, k, ms);
            assert_eq!(enc(&mut c, k), e);
            let n = ms.len();
            for count in [n / 10, n * 9 / 10] {
                let before = members(&mut c, k);
                let popped: Vec<String> = q(&mut c, &["SPOP", k, &count.to_string()]);
                let popped_set: BTreeSet<String> = popped.iter().cloned().collect();
                assert_eq!(popped.len(), count);
                assert_eq!(popped_set.len(), count, "distinct");
                let after = members(&mut c, k);
                assert!(popped_set.is_subset(&before));
                assert_eq!(after.len() + count, before.len());
                assert!(after.is_disjoint(&popped_set));
                if count == n / 10 {
                    assert_eq!(enc(&mut c, k), e, "popping a few keeps the encoding");
                }
            }
        }
    }
}

#[test]
fn spop_of_most_of_a_hashtable_rebuilds_a_listpack_as_redis() {
    let (_s, mut c) = start();
    // 1000 integers are a hashtable (above 512); popping 990 leaves 10 survivors that
    // Redis adds to a new listpack (a hashtable's members come as strings).
    sadd_one_by_one(&mut c, "h", &numbers(0, 1000));
    assert_eq!(enc(&mut c, "h"), "hashtable");
    let popped: Vec<String> = q(&mut c, &["SPOP", "h", "990"]);
    assert_eq!(popped.len(), 990);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "h"]), 10);
    assert_eq!(enc(&mut c, "h"), "listpack");
    // From an intset, the survivors stay an intset.
    sadd_one_by_one(&mut c, "i", &numbers(0, 100));
    q::<Vec<String>>(&mut c, &["SPOP", "i", "95"]);
    assert_eq!(enc(&mut c, "i"), "intset");
    assert_eq!(q::<i64>(&mut c, &["SCARD", "i"]), 5);
}

#[test]
fn srandmember_counts() {
    let (s, mut c) = start();
    assert_eq!(q::<Option<String>>(&mut c, &["SRANDMEMBER", "nokey"]), None);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SRANDMEMBER", "nokey", "5"]),
        Vec::<String>::new()
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SRANDMEMBER", "nokey", "-5"]),
        Vec::<String>::new()
    );
    let sizes = [
        ("i", numbers(0, 50)),
        ("l", (0..50).map(|i| format!("m{i}")).collect()),
        ("h", (0..600).map(|i| format!("m{i}")).collect()),
    ];
    for (k, ms) in &sizes {
        sadd_one_by_one(&mut c, k, ms);
        let all: BTreeSet<String> = ms.iter().cloned().collect();
        let one: String = q(&mut c, &["SRANDMEMBER", k]);
        assert!(all.contains(&one));
        assert_eq!(
            q::<Vec<String>>(&mut c, &["SRANDMEMBER", k, "0"]),
            Vec::<String>::new()
        );
        let n = ms.len();
        for count in [1, 3, n / 2, n - 1, n, n + 10] {
            let got: Vec<String> = q(&mut c, &["SRANDMEMBER", k, &count.to_string()]);
            let distinct: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(got.len(), count.min(n), "{k} {count}");
            assert_eq!(distinct.len(), got.len(), "distinct members");
            assert!(distinct.is_subset(&all));
        }
        // Negative: exactly that many, repeats allowed.
        let got: Vec<String> = q(&mut c, &["SRANDMEMBER", k, &format!("-{}", 3 * n)]);
        assert_eq!(got.len(), 3 * n);
        assert!(got.iter().all(|m| all.contains(m)));
        let distinct: BTreeSet<&String> = got.iter().collect();
        assert!(
            distinct.len() < got.len(),
            "repeats with a count of 3 x the size"
        );
        assert_eq!(members(&mut c, k), all, "nothing removed");
    }
    // A repeated-draws reply too large to build is refused instead of exhausting memory
    // (Redis would try to build it).
    if s.is_reference() {
        return;
    }
    assert!(qerr(&mut c, &["SRANDMEMBER", "i", "-9223372036854775807"])
        .starts_with("ERR value is out of range"));
}

#[test]
fn smove_moves_one_member() {
    let (_s, mut c) = start();
    sadd(&mut c, "src", &["a", "b"]);
    sadd(&mut c, "dst", &["c"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "dst", "a"]), 1);
    assert_eq!(members(&mut c, "src"), set_of(&["b"]));
    assert_eq!(members(&mut c, "dst"), set_of(&["a", "c"]));
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "dst", "zz"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "nokey", "dst", "a"]), 0);
    // Same key: 1 if a member, nothing changes.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "dst", "dst", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "dst", "dst", "zz"]), 0);
    // Moving a member the destination has already: removed from the source only.
    sadd(&mut c, "src", &["c"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "src", "dst", "c"]), 1);
    assert_eq!(members(&mut c, "src"), set_of(&["b"]));
    // The last member: the source goes, a missing destination is created (as an intset for
    // an integer, as Redis' setTypeCreate).
    sadd(&mut c, "n", &["7"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "n", "new", "7"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "n"]), 0);
    assert_eq!(members(&mut c, "new"), set_of(&["7"]));
    assert_eq!(enc(&mut c, "new"), "intset");
    // The source keeps its TTL.
    q::<()>(&mut c, &["EXPIRE", "dst", "100"]);
    q::<i64>(&mut c, &["SMOVE", "dst", "x", "a"]);
    assert!(q::<i64>(&mut c, &["TTL", "dst"]) > 0);
}

#[test]
fn sscan_small_encodings_return_everything_at_once() {
    let (_s, mut c) = start();
    sadd(&mut c, "i", &["1", "2", "3"]);
    sadd(&mut c, "l", &["a", "b", "ab"]);
    for (k, all) in [
        ("i", set_of(&["1", "2", "3"])),
        ("l", set_of(&["a", "b", "ab"])),
    ] {
        let (cursor, got): (String, BTreeSet<String>) = q(&mut c, &["SSCAN", k, "0", "COUNT", "1"]);
        assert_eq!((cursor.as_str(), got), ("0", all));
        // Whatever the cursor.
        let (cursor, got): (String, Vec<String>) = q(&mut c, &["SSCAN", k, "12345"]);
        assert_eq!((cursor.as_str(), got.len()), ("0", 3));
    }
    let (_, got): (String, BTreeSet<String>) = q(&mut c, &["SSCAN", "l", "0", "MATCH", "a*"]);
    assert_eq!(got, set_of(&["a", "ab"]));
    let (cursor, got): (String, Vec<String>) = q(&mut c, &["SSCAN", "nokey", "0"]);
    assert_eq!((cursor.as_str(), got.len()), ("0", 0));
}

#[test]
fn sscan_of_a_hashtable_iterates_with_a_cursor() {
    let (_s, mut c) = start();
    let all: BTreeSet<String> = (0..2000).map(|i| format!("m{i}")).collect();
    sadd_one_by_one(&mut c, "h", &all.iter().cloned().collect::<Vec<_>>());
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, got): (String, Vec<String>) = q(&mut c, &["SSCAN", "h", &cursor, "COUNT", "20"]);
        assert!(got.len() < 200, "COUNT bounds the work of a call");
        seen.extend(got);
        calls += 1;
        // Change the set under the scan: it grows (and rehashes) and shrinks.
        if calls == 5 {
            sadd_one_by_one(
                &mut c,
                "h",
                &(0..3000).map(|i| format!("tmp{i}")).collect::<Vec<_>>(),
            );
        }
        if calls == 20 {
            let mut p = redis::pipe();
            for i in 0..3000 {
                p.cmd("SREM").arg("h").arg(format!("tmp{i}")).ignore();
            }
            p.query::<()>(&mut c).unwrap();
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 10, "a hashtable is scanned in steps");
    assert!(
        all.is_subset(&seen),
        "every member present throughout is returned"
    );
    // MATCH filters what a step found.
    let mut matched = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, got): (String, Vec<String>) = q(
            &mut c,
            &["SSCAN", "h", &cursor, "MATCH", "m1*", "COUNT", "100"],
        );
        matched.extend(got);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|m| m.starts_with("m1"))
        .cloned()
        .collect();
    assert_eq!(matched, expected);
}

#[test]
fn sscan_errors_in_redis_order() {
    let (_s, mut c) = start();
    sadd(&mut c, "s", &["a"]);
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["SSCAN", "s", "abc"]), "ERR invalid cursor");
    assert_eq!(
        qerr(&mut c, &["SSCAN", "nokey", "abc"]),
        "ERR invalid cursor"
    );
    assert_eq!(qerr(&mut c, &["SSCAN", "s", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["SSCAN", "s", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["SSCAN", "s", "0", "TYPE", "set"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["SSCAN", "s", "0", "MATCH"]), SYNTAX);
    // The options are only read once the key was found (and has the right type).
    let (cursor, got): (String, Vec<String>) = q(&mut c, &["SSCAN", "nokey", "0", "COUNT", "x"]);
    assert_eq!((cursor.as_str(), got.len()), ("0", 0));
    assert_eq!(
        qerr(&mut c, &["SSCAN", "str", "0", "COUNT", "x"]),
        WRONGTYPE
    );
}

// ---------------------------------------------------------------------------------------------
// Multi-key commands

#[test]
fn union_inter_diff_and_their_stores() {
    let (_s, mut c) = start();
    sadd(&mut c, "a", &["1", "2", "3", "x"]);
    sadd(&mut c, "b", &["2", "3", "4"]);
    sadd(&mut c, "c", &["3", "x", "5"]);
    let s = |c: &mut redis::Connection, args: &[&str]| -> BTreeSet<String> { q(c, args) };
    assert_eq!(
        s(&mut c, &["SUNION", "a", "b", "nokey"]),
        set_of(&["1", "2", "3", "4", "x"])
    );
    assert_eq!(s(&mut c, &["SINTER", "a", "b"]), set_of(&["2", "3"]));
    assert_eq!(s(&mut c, &["SINTER", "a", "b", "c"]), set_of(&["3"]));
    assert_eq!(s(&mut c, &["SINTER", "a", "nokey"]), BTreeSet::new());
    assert_eq!(s(&mut c, &["SINTER", "a", "a"]), members(&mut c, "a"));
    assert_eq!(s(&mut c, &["SDIFF", "a", "b"]), set_of(&["1", "x"]));
    assert_eq!(s(&mut c, &["SDIFF", "a", "b", "c"]), set_of(&["1"]));
    assert_eq!(s(&mut c, &["SDIFF", "a", "nokey"]), members(&mut c, "a"));
    assert_eq!(s(&mut c, &["SDIFF", "nokey", "a"]), BTreeSet::new());
    assert_eq!(s(&mut c, &["SDIFF", "a", "a"]), BTreeSet::new());
    assert_eq!(s(&mut c, &["SUNION", "nokey"]), BTreeSet::new());

    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "u", "a", "b"]), 5);
    assert_eq!(members(&mut c, "u"), set_of(&["1", "2", "3", "4", "x"]));
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "i", "a", "b"]), 2);
    assert_eq!(members(&mut c, "i"), set_of(&["2", "3"]));
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", "d", "a", "b"]), 2);
    assert_eq!(members(&mut c, "d"), set_of(&["1", "x"]));
    // The destination may be a source.
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "a", "a", "c"]), 2);
    assert_eq!(members(&mut c, "a"), set_of(&["3", "x"]));
    // An empty result deletes the destination.
    for args in [
        &["SINTERSTORE", "u", "a", "nokey"][..],
        &["SINTERSTORE", "i", "a", "b", "c"],
        &["SDIFFSTORE", "d", "a", "a"],
    ] {
        let dst = args[1];
        let n: i64 = q(&mut c, args);
        if n == 0 {
            assert_eq!(q::<i64>(&mut c, &["EXISTS", dst]), 0, "{args:?}");
        }
    }
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "gone", "nokey"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "u", "d", "gone"]), 0);
    // A destination of another type, with a TTL, is replaced (and loses the TTL).
    q::<()>(&mut c, &["SET", "str", "v", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "str", "b"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "str"]), "set");
    assert_eq!(q::<i64>(&mut c, &["TTL", "str"]), -1);
    q::<()>(&mut c, &["SET", "str2", "v"]);
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", "str2", "nokey"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "str2"]), 0);
}

#[test]
fn sintercard_counts_with_an_optional_limit() {
    let (_s, mut c) = start();
    sadd(&mut c, "a", &["1", "2", "3", "4", "x"]);
    sadd(&mut c, "b", &["2", "3", "4", "x", "y"]);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "a", "b"]), 4);
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "1", "a"]), 5);
    assert_eq!(
        q::<i64>(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]),
        2
    );
    assert_eq!(
        q::<i64>(&mut c, &["SINTERCARD", "2", "a", "b", "limit", "0"]),
        4
    );
    assert_eq!(
        q::<i64>(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "10"]),
        4
    );
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", "a", "nokey"]), 0);
    let numkeys = "ERR numkeys should be greater than 0";
    assert_eq!(qerr(&mut c, &["SINTERCARD", "0", "a"]), numkeys);
    assert_eq!(qerr(&mut c, &["SINTERCARD", "-1", "a"]), numkeys);
    assert_eq!(qerr(&mut c, &["SINTERCARD", "x", "a"]), numkeys);
    assert_eq!(
        qerr(&mut c, &["SINTERCARD", "3", "a", "b"]),
        "ERR Number of keys can't be greater than number of args"
    );
    let limit = "ERR LIMIT can't be negative";
    assert_eq!(
        qerr(&mut c, &["SINTERCARD", "1", "a", "LIMIT", "-1"]),
        limit
    );
    assert_eq!(qerr(&mut c, &["SINTERCARD", "1", "a", "LIMIT", "x"]), limit);
    assert_eq!(qerr(&mut c, &["SINTERCARD", "1", "a", "LIMIT"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["SINTERCARD", "1", "a", "b"]), SYNTAX);
}

#[test]
fn multi_key_commands_across_shards() {
    let (_s, mut c) = start();
    let (a, b) = (key_on(0, 2, "a"), key_on(1, 2, "b"));
    let (d0, d1) = (key_on(0, 2, "d"), key_on(1, 2, "d"));
    sadd(&mut c, &a, &["1", "2", "3", "x"]);
    sadd(&mut c, &b, &["2", "3", "4"]);
    let s = |c: &mut redis::Connection, args: &[&str]| -> BTreeSet<String> { q(c, args) };
    assert_eq!(
        s(&mut c, &["SUNION", &a, &b]),
        set_of(&["1", "2", "3", "4", "x"])
    );
    assert_eq!(s(&mut c, &["SINTER", &a, &b]), set_of(&["2", "3"]));
    assert_eq!(s(&mut c, &["SDIFF", &a, &b]), set_of(&["1", "x"]));
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "2", &a, &b]), 2);
    for (cmd, dst, n) in [
        ("SUNIONSTORE", &d1, 5),
        ("SINTERSTORE", &d0, 2),
        ("SDIFFSTORE", &d1, 2),
    ] {
        assert_eq!(q::<i64>(&mut c, &[cmd, dst, &a, &b]), n, "{cmd}");
        assert_eq!(q::<i64>(&mut c, &["SCARD", dst]), n, "{cmd}");
    }
    assert_eq!(members(&mut c, &d1), set_of(&["1", "x"]));
    // An empty result deletes a destination on the other shard.
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", &d1, &a, "nokey"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &d1]), 0);
    // SMOVE between shards, emptying the source and creating the destination.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", &a, &b, "x"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", &b, "x"]), 1);
    let (f0, e) = (key_on(0, 2, "f"), key_on(1, 2, "e"));
    sadd(&mut c, &f0, &["only"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", &f0, &e, "only"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &f0]), 0);
    assert_eq!(members(&mut c, &e), set_of(&["only"]));
    q::<()>(&mut c, &["SET", &d0, "str"]);
    assert_eq!(qerr(&mut c, &["SMOVE", &b, &d0, "2"]), WRONGTYPE);
    assert_eq!(qerr(&mut c, &["SUNION", &b, &d0]), WRONGTYPE);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", &b, "2"]), 1);
}

#[test]
fn resp3_reply_types() {
    let s = Server::start(1, &[]);
    let mut c = resp3(&s);
    sadd(&mut c, "s", &["1", "2"]);
    sadd(&mut c, "t", &["2"]);
    let is_set = |v: &Value, n: usize| matches!(v, Value::Set(items) if items.len() == n);
    for (args, n) in [
        (&["SMEMBERS", "s"][..], 2),
        (&["SMEMBERS", "nokey"], 0),
        (&["SINTER", "s", "t"], 1),
        (&["SINTER", "s", "nokey"], 0),
        (&["SUNION", "s", "t"], 2),
        (&["SDIFF", "s", "t"], 1),
        (&["SPOP", "nokey", "2"], 0),
        (&["SPOP", "t", "0"], 0),
    ] {
        let v: Value = q(&mut c, args);
        assert!(is_set(&v, n), "{args:?}: {v:?}");
    }
    // SRANDMEMBER with a count and SMISMEMBER are arrays; a missing single member is null.
    let v: Value = q(&mut c, &["SRANDMEMBER", "s", "-3"]);
    assert!(matches!(v, Value::Array(ref a) if a.len() == 3), "{v:?}");
    let v: Value = q(&mut c, &["SMISMEMBER", "s", "1", "9"]);
    assert_eq!(v, Value::Array(vec![Value::Int(1), Value::Int(0)]));
    assert_eq!(q::<Value>(&mut c, &["SPOP", "nokey"]), Value::Nil);
    assert_eq!(q::<Value>(&mut c, &["SRANDMEMBER", "nokey"]), Value::Nil);
    let v: Value = q(&mut c, &["SPOP", "s", "5"]);
    assert!(is_set(&v, 2), "{v:?}");
}

// ---------------------------------------------------------------------------------------------
// Encodings

#[test]
fn intset_converts_at_its_limit() {
    let (_s, mut c) = start();
    sadd_one_by_one(&mut c, "s", &numbers(0, 512));
    assert_eq!(enc(&mut c, "s"), "intset");
    sadd(&mut c, "s", &["512"]);
    assert_eq!(
        enc(&mut c, "s"),
        "hashtable",
        "an intset past 512 becomes a hashtable"
    );
    // A string into a small intset: a listpack (the integers first, in order).
    sadd(&mut c, "t", &["3", "-1", "2"]);
    assert_eq!(enc(&mut c, "t"), "intset");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SMEMBERS", "t"]),
        vec!["-1", "2", "3"]
    );
    sadd(&mut c, "t", &["a"]);
    assert_eq!(enc(&mut c, "t"), "listpack");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SMEMBERS", "t"]),
        vec!["-1", "2", "3", "a"]
    );
    // A string into an intset of more than 128 members: a hashtable.
    sadd_one_by_one(&mut c, "u", &numbers(0, 128));
    sadd(&mut c, "u", &["a"]);
    assert_eq!(enc(&mut c, "u"), "hashtable");
    sadd_one_by_one(&mut c, "v", &numbers(0, 127));
    sadd(&mut c, "v", &["a"]);
    assert_eq!(enc(&mut c, "v"), "listpack");
    // Removing members never converts back.
    q::<i64>(&mut c, &["SREM", "v", "a"]);
    assert_eq!(enc(&mut c, "v"), "listpack");
}

#[test]
fn listpack_converts_at_its_limits() {
    let (_s, mut c) = start();
    let strs: Vec<String> = (0..128).map(|i| format!("m{i}")).collect();
    sadd_one_by_one(&mut c, "s", &strs);
    assert_eq!(enc(&mut c, "s"), "listpack");
    sadd(&mut c, "s", &["one-more"]);
    assert_eq!(enc(&mut c, "s"), "hashtable");
    sadd(&mut c, "v", &["a"]);
    sadd(&mut c, "v", &[&"x".repeat(64)]);
    assert_eq!(enc(&mut c, "v"), "listpack", "64 bytes still fit");
    sadd(&mut c, "v", &[&"x".repeat(65)]);
    assert_eq!(enc(&mut c, "v"), "hashtable");
    // A long member in the first SADD.
    sadd(&mut c, "w", &[&"x".repeat(65)]);
    assert_eq!(enc(&mut c, "w"), "hashtable");
    // An intset whose integers are too long for a listpack value goes to a hashtable.
    config(&mut c, "set-max-listpack-value", "5");
    sadd(&mut c, "i", &["123456"]);
    sadd(&mut c, "i", &["a"]);
    assert_eq!(enc(&mut c, "i"), "hashtable");
}

#[test]
fn sadd_sizes_the_set_for_all_its_arguments() {
    let (_s, mut c) = start();
    // Redis counts the arguments, duplicates included, before adding.
    let args: Vec<String> = vec!["1".to_string(); 600];
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(sadd(&mut c, "i", &refs), 1);
    assert_eq!(enc(&mut c, "i"), "hashtable");
    let refs: Vec<&str> = refs[..200].to_vec();
    assert_eq!(sadd(&mut c, "j", &refs), 1);
    assert_eq!(enc(&mut c, "j"), "intset", "200 <= 512");
    let args: Vec<String> = vec!["a".to_string(); 200];
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(sadd(&mut c, "l", &refs), 1);
    assert_eq!(enc(&mut c, "l"), "hashtable");
    sadd(&mut c, "m", &["a"]);
    assert_eq!(sadd(&mut c, "m", &refs), 0);
    assert_eq!(
        enc(&mut c, "m"),
        "hashtable",
        "an existing listpack converts too"
    );
}

#[test]
fn stored_results_get_redis_encodings() {
    let (_s, mut c) = start();
    sadd(&mut c, "ints", &["1", "2", "3"]);
    sadd(&mut c, "mixed", &["1", "2", "a"]);
    sadd_one_by_one(&mut c, "bigints", &numbers(0, 1000));
    sadd_one_by_one(&mut c, "bigints2", &numbers(500, 1500));
    // SINTERSTORE: all-integer results become intsets, from any source encoding.
    q::<i64>(&mut c, &["SINTERSTORE", "d", "mixed", "ints"]);
    assert_eq!(enc(&mut c, "d"), "intset");
    q::<i64>(&mut c, &["SINTERSTORE", "d", "bigints", "bigints2"]);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "d"]), 500);
    assert_eq!(enc(&mut c, "d"), "intset");
    q::<i64>(&mut c, &["SINTERSTORE", "d", "mixed", "mixed"]);
    assert_eq!(enc(&mut c, "d"), "listpack");
    // SUNIONSTORE builds from an intset: integers stay one, a string makes a listpack.
    q::<i64>(&mut c, &["SUNIONSTORE", "d", "ints"]);
    assert_eq!(enc(&mut c, "d"), "intset");
    q::<i64>(&mut c, &["SUNIONSTORE", "d", "ints", "mixed"]);
    assert_eq!(enc(&mut c, "d"), "listpack");
    q::<i64>(&mut c, &["SUNIONSTORE", "d", "bigints"]);
    assert_eq!(enc(&mut c, "d"), "hashtable");
    // SDIFFSTORE: with Redis' second algorithm (chosen when 7 sets x 3 members / 2 > 3 + 6
    // members) the first set is copied whole, then reduced: "a" made it a listpack before it
    // was removed.
    sadd(&mut c, "rm_a", &["a"]);
    let r = "rm_a";
    q::<i64>(&mut c, &["SDIFFSTORE", "d", "mixed", r, r, r, r, r, r]);
    assert_eq!(members(&mut c, "d"), set_of(&["1", "2"]));
    assert_eq!(enc(&mut c, "d"), "listpack");
    // ...with the first algorithm only the survivors are added.
    q::<i64>(&mut c, &["SDIFFSTORE", "d", "mixed", r]);
    assert_eq!(members(&mut c, "d"), set_of(&["1", "2"]));
    assert_eq!(enc(&mut c, "d"), "intset");
    // SMOVE creates a string destination as a listpack.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "mixed", "new", "a"]), 1);
    assert_eq!(enc(&mut c, "new"), "listpack");
}

#[test]
fn limits_are_config_settable() {
    let (_s, mut c) = start();
    config(&mut c, "set-max-intset-entries", "2");
    config(&mut c, "set-max-listpack-entries", "3");
    sadd(&mut c, "i", &["1", "2"]);
    assert_eq!(enc(&mut c, "i"), "intset");
    sadd(&mut c, "i", &["3"]);
    assert_eq!(enc(&mut c, "i"), "hashtable");
    sadd(&mut c, "l", &["a", "b", "c"]);
    assert_eq!(enc(&mut c, "l"), "listpack");
    sadd(&mut c, "l", &["d"]);
    assert_eq!(enc(&mut c, "l"), "hashtable");
    config(&mut c, "set-max-listpack-entries", "0");
    sadd(&mut c, "z", &["a"]);
    assert_eq!(enc(&mut c, "z"), "hashtable");
    config(&mut c, "set-max-intset-entries", "0");
    sadd(&mut c, "y", &["1"]);
    assert_eq!(enc(&mut c, "y"), "hashtable");
}

// ---------------------------------------------------------------------------------------------
// Randomized model test

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    Intset,
    Listpack,
    Hashtable,
}

impl Enc {
    fn name(self) -> &'static str {
        match self {
            Enc::Intset => "intset",
            Enc::Listpack => "listpack",
            Enc::Hashtable => "hashtable",
        }
    }
}

#[derive(Clone, Copy)]
struct Limits {
    intset: usize,
    lp_entries: usize,
    lp_value: usize,
}

/// Redis' string2ll: a canonical decimal integer.
fn is_int(m: &str) -> bool {
    m.parse::<i64>().is_ok_and(|v| v.to_string() == m)
}

/// A set with the encoding Redis 7.2 would give it.
#[derive(Clone, Debug)]
struct ModelSet {
    members: BTreeSet<String>,
    enc: Enc,
}

impl ModelSet {
    fn create(first: &str, hint: usize, l: Limits) -> ModelSet {
        let enc = if is_int(first) && hint <= l.intset {
            Enc::Intset
        } else if hint <= l.lp_entries {
            Enc::Listpack
        } else {
            Enc::Hashtable
        };
        ModelSet {
            members: BTreeSet::new(),
            enc,
        }
    }

    /// The encoding of a fresh set holding these members (the limits make it unique).
    fn canonical(members: BTreeSet<String>, l: Limits) -> ModelSet {
        let n = members.len();
        let enc = if members.iter().all(|m| is_int(m)) && n <= l.intset {
            Enc::Intset
        } else if n <= l.lp_entries && members.iter().all(|m| m.len() <= l.lp_value) {
            Enc::Listpack
        } else {
            Enc::Hashtable
        };
        ModelSet { members, enc }
    }

    fn add(&mut self, m: &str, l: Limits) -> bool {
        if !self.members.insert(m.to_string()) {
            return false;
        }
        let n = self.members.len();
        match self.enc {
            Enc::Hashtable => {}
            Enc::Listpack => {
                if n > l.lp_entries || m.len() > l.lp_value {
                    self.enc = Enc::Hashtable;
                }
            }
            Enc::Intset if is_int(m) => {
                if n > l.intset {
                    self.enc = Enc::Hashtable;
                }
            }
            Enc::Intset => {
                let fits = n <= l.lp_entries && self.members.iter().all(|m| m.len() <= l.lp_value);
                self.enc = if fits { Enc::Listpack } else { Enc::Hashtable };
            }
        }
        true
    }
}

/// A small deterministic generator (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.next(xs.len() as u64) as usize]
    }
}

struct Model {
    sets: BTreeMap<String, ModelSet>,
    l: Limits,
}

/// `SET_MODEL_SEED=<n>` explores other sequences.
fn run_model(seed: u64, shards: usize, ints_only: bool, small: bool) {
    let seed = std::env::var("SET_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(seed, |s| s ^ seed);
    let s = Server::start(shards, &[]);
    let mut c = s.client();
    let l = if small {
        // intset >= listpack entries keeps every rebuilt set's encoding order-independent.
        config(&mut c, "set-max-intset-entries", "8");
        config(&mut c, "set-max-listpack-entries", "5");
        config(&mut c, "set-max-listpack-value", "6");
        Limits {
            intset: 8,
            lp_entries: 5,
            lp_value: 6,
        }
    } else {
        Limits {
            intset: 512,
            lp_entries: 128,
            lp_value: 64,
        }
    };
    let mut rng = XorShift(seed);
    let keys: Vec<String> = (0..3)
        .flat_map(|i| (0..shards).map(move |sh| key_on(sh, shards, &format!("k{i}_"))))
        .collect();
    let mut pool: Vec<String> = (-3..40).map(|i| i.to_string()).collect();
    pool.push("9223372036854775807".into());
    pool.push("-9223372036854775808".into());
    if !ints_only {
        pool.extend(["a", "b", "c", "xyz", "", "01", "-0", "1.5"].map(String::from));
        pool.push("long-member-".repeat(6));
    }
    let mut m = Model {
        sets: BTreeMap::new(),
        l,
    };
    let steps = if small { 1500 } else { 1200 };
    for step in 0..steps {
        let k = rng.pick(&keys).clone();
        let k2 = rng.pick(&keys).clone();
        let k3 = rng.pick(&keys).clone();
        let pick = |rng: &mut XorShift, n: usize| -> Vec<String> {
            (0..n).map(|_| rng.pick(&pool).clone()).collect()
        };
        let ctx = format!("seed {seed} step {step}");
        let op = rng.next(100);
        let many = 1 + rng.next(if small { 4 } else { 12 }) as usize;
        let touched: Vec<String> = match op {
            0..=24 => {
                let ms = pick(&mut rng, many);
                let mut args = vec!["SADD", k.as_str()];
                args.extend(ms.iter().map(String::as_str));
                let got: i64 = q(&mut c, &args);
                let set = m
                    .sets
                    .entry(k.clone())
                    .or_insert_with(|| ModelSet::create(&ms[0], ms.len(), l));
                if set.enc == Enc::Listpack && ms.len() > l.lp_entries
                    || set.enc == Enc::Intset && ms.len() > l.intset
                {
                    set.enc = Enc::Hashtable;
                }
                let added = ms.iter().filter(|x| set.add(x, l)).count() as i64;
                assert_eq!(got, added, "{ctx} {args:?}");
                vec![k.clone()]
            }
            25..=36 => {
                let ms = pick(&mut rng, many);
                let mut args = vec!["SREM", k.as_str()];
                args.extend(ms.iter().map(String::as_str));
                let got: i64 = q(&mut c, &args);
                let removed = match m.sets.get_mut(&k) {
                    Some(set) => ms.iter().filter(|x| set.members.remove(*x)).count() as i64,
                    None => 0,
                };
                if m.sets.get(&k).is_some_and(|s| s.members.is_empty()) {
                    m.sets.remove(&k);
                }
                assert_eq!(got, removed, "{ctx} {args:?}");
                vec![k.clone()]
            }
            37..=44 => {
                let x = pick(&mut rng, 1).remove(0);
                let got: i64 = q(&mut c, &["SISMEMBER", &k, &x]);
                let want = m.sets.get(&k).is_some_and(|s| s.members.contains(&x));
                assert_eq!(got, want as i64, "{ctx}");
                let got: i64 = q(&mut c, &["SCARD", &k]);
                assert_eq!(
                    got,
                    m.sets.get(&k).map_or(0, |s| s.members.len()) as i64,
                    "{ctx}"
                );
                vec![]
            }
            45..=54 => {
                let x = pick(&mut rng, 1).remove(0);
                let got: i64 = q(&mut c, &["SMOVE", &k, &k2, &x]);
                let present = m.sets.get(&k).is_some_and(|s| s.members.contains(&x));
                assert_eq!(got, present as i64, "{ctx} SMOVE {k} {k2} {x}");
                if present && k != k2 {
                    let src = m.sets.get_mut(&k).unwrap();
                    src.members.remove(&x);
                    if src.members.is_empty() {
                        m.sets.remove(&k);
                    }
                    m.sets
                        .entry(k2.clone())
                        .or_insert_with(|| ModelSet::create(&x, 1, l))
                        .add(&x, l);
                }
                vec![k.clone(), k2.clone()]
            }
            55..=74 => {
                let (cmd, result) = match op % 3 {
                    0 => ("SUNIONSTORE", union(&m, &[&k2, &k3])),
                    1 => ("SINTERSTORE", inter(&m, &[&k2, &k3])),
                    _ => ("SDIFFSTORE", diff(&m, &[&k2, &k3])),
                };
                let got: i64 = q(&mut c, &[cmd, &k, &k2, &k3]);
                assert_eq!(got, result.len() as i64, "{ctx} {cmd} {k} {k2} {k3}");
                let stored = if cmd == "SDIFFSTORE" {
                    sdiff_encoding(&m, &[&k2, &k3], result)
                } else {
                    ModelSet::canonical(result, l)
                };
                if stored.members.is_empty() {
                    m.sets.remove(&k);
                } else {
                    m.sets.insert(k.clone(), stored);
                }
                vec![k.clone()]
            }
            75..=82 => {
                let (cmd, want) = match op % 3 {
                    0 => ("SUNION", union(&m, &[&k, &k2])),
                    1 => ("SINTER", inter(&m, &[&k, &k2])),
                    _ => ("SDIFF", diff(&m, &[&k, &k2])),
                };
                let got: BTreeSet<String> = q(&mut c, &[cmd, &k, &k2]);
                assert_eq!(got, want, "{ctx} {cmd}");
                let limit = rng.next(4);
                let got: i64 = q(
                    &mut c,
                    &["SINTERCARD", "3", &k, &k2, &k3, "LIMIT", &limit.to_string()],
                );
                let n = inter(&m, &[&k, &k2, &k3]).len() as i64;
                let want = if limit == 0 { n } else { n.min(limit as i64) };
                assert_eq!(got, want, "{ctx} SINTERCARD");
                vec![]
            }
            83..=91 => {
                let count = rng.next(8);
                let popped: Vec<String> = if rng.next(4) == 0 {
                    q::<Option<String>>(&mut c, &["SPOP", &k])
                        .into_iter()
                        .collect()
                } else {
                    q(&mut c, &["SPOP", &k, &count.to_string()])
                };
                let popped: BTreeSet<String> = popped.into_iter().collect();
                let before = m
                    .sets
                    .get(&k)
                    .map(|s| s.members.clone())
                    .unwrap_or_default();
                assert!(
                    popped.is_subset(&before),
                    "{ctx} SPOP {popped:?} from {before:?}"
                );
                if let Some(set) = m.sets.get_mut(&k) {
                    let size = set.members.len();
                    let want = if count as usize >= size {
                        size
                    } else {
                        count as usize
                    };
                    assert!(
                        popped.len() == want || popped.len() == 1,
                        "{ctx} SPOP count"
                    );
                    set.members.retain(|x| !popped.contains(x));
                    let remaining = set.members.len();
                    // Popping nearly all rebuilds the survivors (SPOP_MOVE_STRATEGY_MUL = 5).
                    if popped.len() > 1 && remaining > 0 && remaining * 5 <= popped.len() {
                        set.enc = match set.enc {
                            Enc::Intset => Enc::Intset,
                            _ if remaining <= l.lp_entries
                                && set.members.iter().all(|x| x.len() <= l.lp_value) =>
                            {
                                Enc::Listpack
                            }
                            _ => Enc::Hashtable,
                        };
                    }
                    if set.members.is_empty() {
                        m.sets.remove(&k);
                    }
                }
                vec![k.clone()]
            }
            _ => {
                let got: BTreeSet<String> = q(&mut c, &["SMEMBERS", &k]);
                let want = m
                    .sets
                    .get(&k)
                    .map(|s| s.members.clone())
                    .unwrap_or_default();
                assert_eq!(got, want, "{ctx} SMEMBERS {k}");
                let count = rng.next(10) as i64 - 3;
                let got: Vec<String> = q(&mut c, &["SRANDMEMBER", &k, &count.to_string()]);
                let want_len = if count < 0 {
                    -count as usize
                } else {
                    (count as usize).min(want.len())
                };
                if want.is_empty() {
                    assert!(got.is_empty(), "{ctx}");
                } else {
                    assert_eq!(got.len(), want_len, "{ctx} SRANDMEMBER {count}");
                }
                assert!(got.iter().all(|x| want.contains(x)), "{ctx}");
                vec![]
            }
        };
        for t in touched {
            let got: Option<String> = q(&mut c, &["OBJECT", "ENCODING", &t]);
            let want = m.sets.get(&t).map(|s| s.enc.name().to_string());
            assert_eq!(got, want, "{ctx} encoding of {t}: {:?}", m.sets.get(&t));
        }
    }
    for (k, set) in &m.sets {
        assert_eq!(members(&mut c, k), set.members, "seed {seed} final {k}");
    }
}

fn union(m: &Model, keys: &[&str]) -> BTreeSet<String> {
    keys.iter()
        .filter_map(|k| m.sets.get(*k))
        .flat_map(|s| s.members.iter().cloned())
        .collect()
}

fn inter(m: &Model, keys: &[&str]) -> BTreeSet<String> {
    let sets: Vec<Option<&ModelSet>> = keys.iter().map(|k| m.sets.get(*k)).collect();
    if sets.iter().any(Option::is_none) {
        return BTreeSet::new();
    }
    let first = &sets[0].unwrap().members;
    first
        .iter()
        .filter(|x| sets[1..].iter().all(|s| s.unwrap().members.contains(*x)))
        .cloned()
        .collect()
}

fn diff(m: &Model, keys: &[&str]) -> BTreeSet<String> {
    let Some(first) = m.sets.get(keys[0]) else {
        return BTreeSet::new();
    };
    first
        .members
        .iter()
        .filter(|x| {
            keys[1..]
                .iter()
                .all(|k| m.sets.get(*k).is_none_or(|s| !s.members.contains(*x)))
        })
        .cloned()
        .collect()
}

/// SDIFFSTORE's encoding: Redis' second algorithm adds the whole first set before removing,
/// so the result keeps the encoding the first set's members would have had.
fn sdiff_encoding(m: &Model, keys: &[&str], result: BTreeSet<String>) -> ModelSet {
    let l = m.l;
    let sameset = m.sets.contains_key(keys[0]) && keys[1..].contains(&keys[0]);
    let Some(first) = m.sets.get(keys[0]).filter(|_| !sameset) else {
        return ModelSet::canonical(result, l);
    };
    let sizes: Vec<usize> = keys
        .iter()
        .filter_map(|k| m.sets.get(*k))
        .map(|s| s.members.len())
        .collect();
    let algo_one = sizes.len() * first.members.len() / 2;
    let algo_two: usize = sizes.iter().sum();
    if algo_one <= algo_two {
        ModelSet::canonical(result, l)
    } else {
        let enc = ModelSet::canonical(first.members.clone(), l).enc;
        ModelSet {
            members: result,
            enc,
        }
    }
}

#[test]
fn model_integers_default_limits() {
    run_model(0x5e75_0001, 2, true, false);
}

#[test]
fn model_mixed_default_limits() {
    run_model(0x5e75_0002, 2, false, false);
}

#[test]
fn model_integers_small_limits() {
    run_model(0x5e75_0003, 2, true, true);
}

#[test]
fn model_mixed_small_limits() {
    run_model(0x5e75_0004, 1, false, true);
}
