//! SORT and SORT_RO over TCP: numeric and ALPHA order, ASC/DESC, LIMIT, BY patterns (incl.
//! `nosort` and hash fields), GET patterns (incl. `#`), STORE, the errors, RESP3 nulls, and
//! keys on two shards. Patterns read other keys, so the pattern tests run on a 1-shard server.
//!
//! Lists are built with SORT ... STORE itself (weights give the order, GET gives the items),
//! and read back with `SORT key BY nosort`, so these tests only need the set and string
//! families; the sorted-set and hash tests run where ZADD / HSET exist.

mod common;

use common::{key_on, q, qerr, Server, Target, NOT_INT, SYNTAX};
use redis::Value;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

fn start1() -> (Target, redis::Connection) {
    let s = Target::start(1);
    let c = s.client();
    (s, c)
}

fn strs(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn sort(c: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    let mut all = vec!["SORT"];
    all.extend_from_slice(args);
    q(c, &all)
}

fn sort_opt(c: &mut redis::Connection, args: &[&str]) -> Vec<Option<String>> {
    let mut all = vec!["SORT"];
    all.extend_from_slice(args);
    q(c, &all)
}

/// Makes `key` a list of `items` in this order (duplicates allowed), with SORT ... STORE.
fn make_list(c: &mut redis::Connection, key: &str, items: &[&str]) {
    q::<()>(c, &["DEL", "tmp:idx"]);
    for (i, item) in items.iter().enumerate() {
        let i = i.to_string();
        q::<i64>(c, &["SADD", "tmp:idx", &i]);
        q::<()>(c, &["SET", &format!("tmp:w_{i}"), &i]);
        q::<()>(c, &["SET", &format!("tmp:v_{i}"), item]);
    }
    let n: i64 = q(
        c,
        &[
            "SORT", "tmp:idx", "BY", "tmp:w_*", "GET", "tmp:v_*", "STORE", key,
        ],
    );
    assert_eq!(n, items.len() as i64);
    let mut del = vec!["DEL".to_string(), "tmp:idx".to_string()];
    for i in 0..items.len() {
        del.push(format!("tmp:w_{i}"));
        del.push(format!("tmp:v_{i}"));
    }
    let del: Vec<&str> = del.iter().map(String::as_str).collect();
    q::<i64>(c, &del);
}

/// A list's items in order.
fn list(c: &mut redis::Connection, key: &str) -> Vec<String> {
    sort(c, &[key, "BY", "nosort"])
}

fn has_command(c: &mut redis::Connection, name: &str) -> bool {
    let info: Vec<Value> = q(c, &["COMMAND", "INFO", name]);
    !matches!(info.first(), None | Some(Value::Nil))
}

#[test]
fn numeric_and_alpha_order_over_sets_and_lists() {
    let (_s, mut c) = start1();
    q::<i64>(&mut c, &["SADD", "s", "3", "1", "2", "10", "-5"]);
    assert_eq!(sort(&mut c, &["s"]), strs(&["-5", "1", "2", "3", "10"]));
    assert_eq!(
        sort(&mut c, &["s", "DESC"]),
        strs(&["10", "3", "2", "1", "-5"])
    );
    assert_eq!(
        sort(&mut c, &["s", "ALPHA"]),
        strs(&["-5", "1", "10", "2", "3"])
    );
    assert_eq!(
        sort(&mut c, &["s", "alpha", "desc"]),
        strs(&["3", "2", "10", "1", "-5"])
    );
    // The last ASC/DESC wins.
    assert_eq!(
        sort(&mut c, &["s", "DESC", "ASC"]),
        strs(&["-5", "1", "2", "3", "10"])
    );
    make_list(&mut c, "l", &["3.5", "1e1", "2", "0x10", " 7", "2"]);
    assert_eq!(
        list(&mut c, "l"),
        strs(&["3.5", "1e1", "2", "0x10", " 7", "2"])
    );
    // strtod's rules: exponents, hex, leading spaces.
    assert_eq!(
        sort(&mut c, &["l"]),
        strs(&["2", "2", "3.5", " 7", "1e1", "0x10"])
    );
    q::<i64>(&mut c, &["SADD", "words", "b", "a", "C", "aa"]);
    assert_eq!(
        sort(&mut c, &["words", "ALPHA"]),
        strs(&["C", "a", "aa", "b"])
    );
    assert_eq!(qerr(&mut c, &["SORT", "words"]), NOT_DOUBLE);
    // (1e400 last: Redis checks a stale errno, so an ERANGE can leak into the next SORT.)
    for bad in ["", "nan", "1x", "abc", "1e400"] {
        q::<()>(&mut c, &["DEL", "b"]);
        q::<i64>(&mut c, &["SADD", "b", "1", bad]);
        let r: redis::RedisResult<Vec<String>> = redis::cmd("SORT").arg("b").query(&mut c);
        if bad.is_empty() {
            // strtod reads "" as 0.
            assert_eq!(r.unwrap(), strs(&["", "1"]));
        } else {
            assert_eq!(qerr(&mut c, &["SORT", "b"]), NOT_DOUBLE, "{bad:?}");
        }
    }
    assert_eq!(sort(&mut c, &["nokey"]), Vec::<String>::new());
}

#[test]
fn equal_scores_are_ordered_by_the_element() {
    let (_s, mut c) = start1();
    make_list(&mut c, "l", &["b", "c", "a", "d"]);
    for (e, w) in [("a", "1"), ("b", "1"), ("c", "0"), ("d", "1")] {
        q::<()>(&mut c, &["SET", &format!("w_{e}"), w]);
    }
    assert_eq!(
        sort(&mut c, &["l", "BY", "w_*"]),
        strs(&["c", "a", "b", "d"])
    );
    // DESC reverses the whole comparison, the tie-break included.
    assert_eq!(
        sort(&mut c, &["l", "BY", "w_*", "DESC"]),
        strs(&["d", "b", "a", "c"])
    );
    // Missing weights count as 0.
    q::<()>(&mut c, &["DEL", "w_a"]);
    assert_eq!(
        sort(&mut c, &["l", "BY", "w_*"]),
        strs(&["a", "c", "b", "d"])
    );
    // ALPHA BY: a missing value sorts first.
    for (e, w) in [("b", "x"), ("c", "y"), ("d", "a")] {
        q::<()>(&mut c, &["SET", &format!("v_{e}"), w]);
    }
    assert_eq!(
        sort(&mut c, &["l", "BY", "v_*", "ALPHA"]),
        strs(&["a", "d", "b", "c"])
    );
    // A weight of another type counts as missing.
    q::<i64>(&mut c, &["DEL", "w_b"]);
    q::<i64>(&mut c, &["SADD", "w_b", "x"]);
    q::<()>(&mut c, &["DEL", "w_c", "w_d"]);
    assert_eq!(
        sort(&mut c, &["l", "BY", "w_*"]),
        strs(&["a", "b", "c", "d"])
    );
    // A non-numeric weight is an error.
    q::<()>(&mut c, &["SET", "w_a", "heavy"]);
    assert_eq!(qerr(&mut c, &["SORT", "l", "BY", "w_*"]), NOT_DOUBLE);
}

#[test]
fn by_nosort_keeps_the_order_of_lists_and_applies_limit_and_desc_to_it() {
    let (_s, mut c) = start1();
    make_list(&mut c, "l", &["c", "a", "b", "a"]);
    assert_eq!(
        sort(&mut c, &["l", "BY", "nosort"]),
        strs(&["c", "a", "b", "a"])
    );
    assert_eq!(
        sort(&mut c, &["l", "BY", "nosort", "DESC"]),
        strs(&["a", "b", "a", "c"])
    );
    assert_eq!(
        sort(&mut c, &["l", "BY", "nosort", "LIMIT", "1", "2"]),
        strs(&["a", "b"])
    );
    assert_eq!(
        sort(&mut c, &["l", "BY", "nosort", "DESC", "LIMIT", "1", "2"]),
        strs(&["b", "a"])
    );
    // No conversion happens when nothing is sorted.
    assert_eq!(sort(&mut c, &["l", "BY", "constant"]).len(), 4);
    // A BY without `*` disables sorting even if a later BY has one.
    assert_eq!(
        sort(&mut c, &["l", "BY", "nosort", "BY", "w_*"]),
        strs(&["c", "a", "b", "a"])
    );
    // A set keeps its own order, unless stored: then it is sorted ALPHA.
    q::<i64>(&mut c, &["SADD", "s", "b", "10", "a", "9"]);
    let mut got = sort(&mut c, &["s", "BY", "nosort"]);
    got.sort();
    assert_eq!(got, strs(&["10", "9", "a", "b"]));
    assert_eq!(
        q::<i64>(&mut c, &["SORT", "s", "BY", "nosort", "STORE", "d"]),
        4
    );
    assert_eq!(list(&mut c, "d"), strs(&["10", "9", "a", "b"]));
    assert_eq!(
        q::<i64>(
            &mut c,
            &["SORT", "s", "BY", "nosort", "DESC", "LIMIT", "0", "2", "STORE", "d"]
        ),
        2
    );
    assert_eq!(list(&mut c, "d"), strs(&["b", "a"]));
}

#[test]
fn limit_is_clamped_like_redis() {
    let (_s, mut c) = start1();
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "4", "5"]);
    let cases: &[(&str, &str, &[&str])] = &[
        ("0", "2", &["1", "2"]),
        ("2", "-1", &["3", "4", "5"]),
        ("-10", "2", &["1", "2"]),
        ("3", "100", &["4", "5"]),
        ("5", "1", &[]),
        ("100", "1", &[]),
        ("1", "0", &[]),
        ("0", "-5", &["1", "2", "3", "4", "5"]),
        (
            "-9223372036854775808",
            "9223372036854775807",
            &["1", "2", "3", "4", "5"],
        ),
        ("9223372036854775807", "9223372036854775807", &[]),
    ];
    for (offset, count, want) in cases {
        assert_eq!(
            sort(&mut c, &["s", "LIMIT", offset, count]),
            strs(want),
            "{offset} {count}"
        );
    }
    assert_eq!(
        sort(&mut c, &["s", "DESC", "LIMIT", "1", "2"]),
        strs(&["4", "3"])
    );
    q::<()>(&mut c, &["SET", "w_1", "9"]);
    assert_eq!(
        sort(&mut c, &["s", "BY", "w_*", "LIMIT", "3", "5"]),
        strs(&["5", "1"])
    );
    assert_eq!(qerr(&mut c, &["SORT", "s", "LIMIT", "1"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["SORT", "s", "LIMIT", "x", "1"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["SORT", "s", "LIMIT", "1", "1.5"]), NOT_INT);
}

#[test]
fn get_patterns() {
    let (_s, mut c) = start1();
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3"]);
    q::<()>(&mut c, &["SET", "name_1", "one"]);
    q::<()>(&mut c, &["SET", "name_3", "three"]);
    q::<()>(&mut c, &["SET", "age_2", "20"]);
    q::<i64>(&mut c, &["SADD", "name_2", "not a string"]);
    let got = sort_opt(&mut c, &["s", "GET", "name_*"]);
    assert_eq!(got, vec![Some("one".into()), None, Some("three".into())]);
    let got = sort_opt(&mut c, &["s", "GET", "#", "GET", "name_*", "GET", "age_*"]);
    let want: Vec<Option<String>> = [
        Some("1"),
        Some("one"),
        None,
        Some("2"),
        None,
        Some("20"),
        Some("3"),
        Some("three"),
        None,
    ]
    .iter()
    .map(|o| o.map(String::from))
    .collect();
    assert_eq!(got, want);
    // A pattern without `*` names no key: nil for every element.
    assert_eq!(
        sort_opt(&mut c, &["s", "GET", "name_1"]),
        vec![None, None, None]
    );
    // Only the first `*` is replaced.
    q::<()>(&mut c, &["SET", "x_2_*", "star"]);
    assert_eq!(
        sort_opt(&mut c, &["s", "GET", "x_*_*", "LIMIT", "1", "1"]),
        vec![Some("star".into())]
    );
    // GET with BY and DESC.
    q::<()>(&mut c, &["SET", "w_1", "3"]);
    q::<()>(&mut c, &["SET", "w_2", "1"]);
    q::<()>(&mut c, &["SET", "w_3", "2"]);
    assert_eq!(
        sort_opt(&mut c, &["s", "BY", "w_*", "DESC", "GET", "name_*"]),
        vec![Some("one".into()), Some("three".into()), None]
    );
}

#[test]
fn store_writes_a_list_and_replaces_the_destination() {
    let (_s, mut c) = start1();
    q::<i64>(&mut c, &["SADD", "s", "3", "1", "2"]);
    q::<()>(&mut c, &["SET", "d", "old", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["SORT", "s", "STORE", "d"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "d"]), "list");
    assert_eq!(q::<i64>(&mut c, &["TTL", "d"]), -1);
    assert_eq!(list(&mut c, "d"), strs(&["1", "2", "3"]));
    // GET results are stored, a missing one as an empty string.
    q::<()>(&mut c, &["SET", "n_2", "two"]);
    assert_eq!(
        q::<i64>(
            &mut c,
            &["SORT", "s", "GET", "#", "GET", "n_*", "STORE", "d"]
        ),
        6
    );
    assert_eq!(list(&mut c, "d"), strs(&["1", "", "2", "two", "3", ""]));
    // The source itself may be the destination.
    assert_eq!(q::<i64>(&mut c, &["SORT", "s", "DESC", "STORE", "s"]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", "s"]), "list");
    assert_eq!(list(&mut c, "s"), strs(&["3", "2", "1"]));
    // An empty result deletes the destination.
    assert_eq!(q::<i64>(&mut c, &["SORT", "nokey", "STORE", "d"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["SORT", "s", "LIMIT", "0", "0", "STORE", "s"]),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    // The last STORE counts; an error stores nothing.
    q::<i64>(&mut c, &["SADD", "t", "a"]);
    assert_eq!(qerr(&mut c, &["SORT", "t", "STORE", "x"]), NOT_DOUBLE);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "x"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["SORT", "t", "ALPHA", "STORE", "x", "STORE", "y"]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "x", "y"]), 1);
    assert_eq!(list(&mut c, "y"), strs(&["a"]));
}

#[test]
fn sort_ro_reads_only() {
    let (_s, mut c) = start1();
    q::<i64>(&mut c, &["SADD", "s", "b", "a", "c"]);
    q::<()>(&mut c, &["SET", "v_a", "1"]);
    let got: Vec<Option<String>> = q(
        &mut c,
        &["SORT_RO", "s", "ALPHA", "DESC", "GET", "#", "GET", "v_*"],
    );
    let want: Vec<Option<String>> = vec![
        Some("c".into()),
        None,
        Some("b".into()),
        None,
        Some("a".into()),
        Some("1".into()),
    ];
    assert_eq!(got, want);
    assert_eq!(
        qerr(&mut c, &["SORT_RO", "s", "ALPHA", "STORE", "d"]),
        SYNTAX
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SORT_RO", "nokey"]),
        Vec::<String>::new()
    );
}

#[test]
fn errors_as_redis() {
    let (_s, mut c) = start1();
    q::<()>(&mut c, &["SET", "str", "1"]);
    q::<i64>(&mut c, &["SADD", "s", "1"]);
    assert_eq!(qerr(&mut c, &["SORT", "str"]), WRONGTYPE);
    assert_eq!(qerr(&mut c, &["SORT_RO", "str"]), WRONGTYPE);
    // Options are checked before the key.
    assert_eq!(qerr(&mut c, &["SORT", "str", "BOGUS"]), SYNTAX);
    for args in [
        &["SORT", "s", "BY"][..],
        &["SORT", "s", "GET"],
        &["SORT", "s", "STORE"],
        &["SORT", "s", "ASC", "foo"],
        &["SORT", "s", "LIMIT", "0"],
    ] {
        assert_eq!(qerr(&mut c, args), SYNTAX, "{args:?}");
    }
    assert_eq!(
        qerr(&mut c, &["SORT"]),
        "ERR wrong number of arguments for 'sort' command"
    );
    // A STORE into a key of another type is fine; sorting it is not.
    assert_eq!(q::<i64>(&mut c, &["SORT", "s", "STORE", "str"]), 1);
}

#[test]
fn resp3_nulls_for_missing_get_values() {
    let s = Server::start(1, &[]);
    let mut c = redis::Client::open(format!("{}?protocol=resp3", s.url()))
        .unwrap()
        .get_connection()
        .unwrap();
    q::<i64>(&mut c, &["SADD", "s", "1", "2"]);
    q::<()>(&mut c, &["SET", "v_1", "x"]);
    let got: Value = q(&mut c, &["SORT", "s", "GET", "v_*"]);
    assert_eq!(
        got,
        Value::Array(vec![Value::BulkString(b"x".to_vec()), Value::Nil])
    );
}

#[test]
fn hash_fields_in_patterns() {
    let (_s, mut c) = start1();
    if !has_command(&mut c, "hset") {
        return; // the hash family is not in this build
    }
    q::<i64>(&mut c, &["SADD", "s", "1", "2", "3"]);
    q::<i64>(&mut c, &["HSET", "h_1", "w", "30", "name", "one"]);
    q::<i64>(&mut c, &["HSET", "h_2", "w", "10"]);
    q::<i64>(&mut c, &["HSET", "h_3", "w", "20", "name", "three"]);
    assert_eq!(sort(&mut c, &["s", "BY", "h_*->w"]), strs(&["2", "3", "1"]));
    assert_eq!(
        sort_opt(
            &mut c,
            &["s", "BY", "h_*->w", "GET", "h_*->name", "GET", "h_*->nope"]
        ),
        vec![
            None,
            None,
            Some("three".into()),
            None,
            Some("one".into()),
            None
        ]
    );
    // `->` on a string key, or nothing after `->`: no value.
    q::<()>(&mut c, &["SET", "str_1", "v"]);
    assert_eq!(
        sort_opt(&mut c, &["s", "GET", "str_*->f", "LIMIT", "0", "1"]),
        vec![None]
    );
    q::<()>(&mut c, &["SET", "h_1->", "plain"]);
    assert_eq!(
        sort_opt(&mut c, &["s", "GET", "h_*->", "LIMIT", "0", "1"]),
        vec![Some("plain".into())]
    );
}

#[test]
fn sorted_sets_in_score_order_with_nosort() {
    let (_s, mut c) = start1();
    if !has_command(&mut c, "zadd") {
        return; // the sorted set family is not in this build
    }
    q::<i64>(
        &mut c,
        &["ZADD", "z", "1", "c", "2", "a", "3", "b", "4", "d"],
    );
    assert_eq!(sort(&mut c, &["z", "ALPHA"]), strs(&["a", "b", "c", "d"]));
    assert_eq!(
        sort(&mut c, &["z", "BY", "nosort"]),
        strs(&["c", "a", "b", "d"])
    );
    assert_eq!(
        sort(&mut c, &["z", "BY", "nosort", "DESC"]),
        strs(&["d", "b", "a", "c"])
    );
    assert_eq!(
        sort(&mut c, &["z", "BY", "nosort", "LIMIT", "1", "2"]),
        strs(&["a", "b"])
    );
    assert_eq!(
        sort(&mut c, &["z", "BY", "nosort", "DESC", "LIMIT", "1", "2"]),
        strs(&["b", "a"])
    );
    assert_eq!(qerr(&mut c, &["SORT", "z"]), NOT_DOUBLE);
}

#[test]
fn keys_on_two_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let (src, dst) = (key_on(0, 2, "src"), key_on(1, 2, "dst"));
    q::<i64>(&mut c, &["SADD", &src, "3", "1", "2"]);
    q::<()>(&mut c, &["SET", &dst, "old"]);
    assert_eq!(sort(&mut c, &[&src]), strs(&["1", "2", "3"]));
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SORT_RO", &src, "DESC"]),
        strs(&["3", "2", "1"])
    );
    assert_eq!(q::<i64>(&mut c, &["SORT", &src, "DESC", "STORE", &dst]), 3);
    assert_eq!(q::<String>(&mut c, &["TYPE", &dst]), "list");
    assert_eq!(
        sort(&mut c, &[&dst, "BY", "nosort"]),
        strs(&["3", "2", "1"])
    );
    // Sorting a list on shard 1 into shard 0, and an empty result deleting a remote key.
    assert_eq!(
        q::<i64>(&mut c, &["SORT", &dst, "LIMIT", "0", "2", "STORE", &src]),
        2
    );
    assert_eq!(sort(&mut c, &[&src, "BY", "nosort"]), strs(&["1", "2"]));
    assert_eq!(q::<i64>(&mut c, &["SORT", "nokey", "STORE", &dst]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &dst]), 0);
    let keys: Vec<String> = q(
        &mut c,
        &[
            "COMMAND", "GETKEYS", "SORT", &src, "LIMIT", "0", "1", "STORE", &dst,
        ],
    );
    assert_eq!(keys, vec![src.clone(), dst.clone()]);
}

/// BY and GET patterns name keys that live on other shards than the sorted key: the
/// coordinator gathers them, for SORT, SORT_RO and SORT ... STORE.
#[test]
fn patterns_read_keys_on_every_shard() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let src = key_on(0, 2, "src");
    let _: i64 = q(&mut c, &["SADD", &src, "a", "b", "c", "d"]);
    // Weights and payloads spread over both shards (the element decides the key).
    let weights = [("a", "3"), ("b", "1"), ("c", "4"), ("d", "2")];
    let mut shards_used = std::collections::HashSet::new();
    for (e, w) in weights {
        let wk = format!("w_{e}");
        shards_used.insert(common::shard_of(wk.as_bytes(), 2));
        let _: () = q(&mut c, &["SET", &wk, w]);
        let _: i64 = q(
            &mut c,
            &["HSET", &format!("obj_{e}"), "name", &format!("N{e}")],
        );
    }
    assert_eq!(shards_used.len(), 2, "the weights must span both shards");
    let by = sort(&mut c, &[&src, "BY", "w_*"]);
    assert_eq!(by, strs(&["b", "d", "a", "c"]));
    let got = sort(
        &mut c,
        &[&src, "BY", "w_*", "DESC", "GET", "#", "GET", "obj_*->name"],
    );
    assert_eq!(got, strs(&["c", "Nc", "a", "Na", "d", "Nd", "b", "Nb"]));
    let ro: Vec<String> = q(&mut c, &["SORT_RO", &src, "BY", "w_*", "GET", "w_*"]);
    assert_eq!(ro, strs(&["1", "2", "3", "4"]));
    let dst = key_on(1, 2, "dst");
    let n: i64 = q(
        &mut c,
        &[
            "SORT",
            &src,
            "BY",
            "w_*",
            "GET",
            "obj_*->name",
            "STORE",
            &dst,
        ],
    );
    assert_eq!(n, 4);
    assert_eq!(list(&mut c, &dst), strs(&["Nb", "Nd", "Na", "Nc"]));
}
