//! The string family over TCP with the `redis` crate, on a 2-shard server: every command, its
//! options, its errors (Redis' exact texts), edge cases, and the multi-key forms with their
//! keys on one shard and on both.

mod common;

use common::{
    arity, cross, get, invalid_expire, key_on, pttl, q, qb, qerr, start, ttl, NOT_INT, SYNTAX,
};
use redis::Value;

const NOT_FLOAT: &str = "ERR value is not a valid float";
const TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn ints(xs: &[i64]) -> Value {
    Value::Array(xs.iter().map(|&x| Value::Int(x)).collect())
}

// ---------------------------------------------------------------------------------------------
// GET / SET and its options

#[test]
fn get_returns_nil_for_missing_keys_and_the_value_otherwise() {
    let (_s, mut c) = start();
    assert_eq!(get(&mut c, "missing"), None);
    q::<()>(&mut c, &["SET", "k", "hello"]);
    assert_eq!(get(&mut c, "k").as_deref(), Some("hello"));
    q::<()>(&mut c, &["SET", "k", ""]);
    assert_eq!(
        get(&mut c, "k").as_deref(),
        Some(""),
        "an empty value is a value"
    );
    q::<()>(&mut c, &["SET", "", "empty key"]);
    assert_eq!(get(&mut c, "").as_deref(), Some("empty key"));
}

#[test]
fn set_and_get_are_binary_safe_in_keys_and_values() {
    let (_s, mut c) = start();
    let keys: [&[u8]; 4] = [b"a\x00b", b"\r\n", b"\xff\xfe", b"{\x00}tag"];
    for (i, k) in keys.iter().enumerate() {
        let v = [b"\x00\r\n\xff".as_slice(), &[i as u8]].concat();
        assert_eq!(qb::<String>(&mut c, &[b"SET", k, &v]), "OK");
        assert_eq!(qb::<Vec<u8>>(&mut c, &[b"GET", k]), v);
    }
    assert_eq!(qb::<Option<Vec<u8>>>(&mut c, &[b"GET", b"a\x00"]), None);
    assert_eq!(qb::<i64>(&mut c, &[b"STRLEN", b"a\x00b"]), 5);
}

#[test]
fn set_nx_and_xx_only_set_when_the_key_is_missing_or_present() {
    let (_s, mut c) = start();
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "1", "XX"]), None);
    assert_eq!(get(&mut c, "k"), None);
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "1", "NX"]).as_deref(),
        Some("OK")
    );
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "2", "nx"]), None);
    assert_eq!(get(&mut c, "k").as_deref(), Some("1"));
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "3", "XX"]).as_deref(),
        Some("OK")
    );
    assert_eq!(get(&mut c, "k").as_deref(), Some("3"));
}

#[test]
fn set_get_returns_the_old_value_also_with_nx_and_xx() {
    let (_s, mut c) = start();
    assert_eq!(q::<Option<String>>(&mut c, &["SET", "k", "1", "GET"]), None);
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "2", "GET"]).as_deref(),
        Some("1")
    );
    // NX GET (allowed since 7.0): the old value, and nothing is written.
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "3", "NX", "GET"]).as_deref(),
        Some("2")
    );
    assert_eq!(get(&mut c, "k").as_deref(), Some("2"));
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "new", "x", "NX", "GET"]),
        None
    );
    assert_eq!(get(&mut c, "new").as_deref(), Some("x"));
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "none", "x", "XX", "GET"]),
        None
    );
    assert_eq!(get(&mut c, "none"), None);
}

#[test]
fn set_expiry_options_set_the_ttl_and_plain_set_clears_it() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "ex", "v", "EX", "100"]);
    assert!((99..=100).contains(&ttl(&mut c, "ex")));
    q::<()>(&mut c, &["SET", "px", "v", "PX", "100000"]);
    assert!((99_000..=100_000).contains(&pttl(&mut c, "px")));
    let at = now_ms() / 1000 + 1000;
    q::<()>(&mut c, &["SET", "exat", "v", "EXAT", &at.to_string()]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "exat"]), at as i64);
    let pat = now_ms() + 1_000_000;
    q::<()>(&mut c, &["SET", "pxat", "v", "PXAT", &pat.to_string()]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "pxat"]), pat as i64);
    // KEEPTTL keeps it; a plain SET drops it.
    q::<()>(&mut c, &["SET", "pxat", "w", "KEEPTTL"]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "pxat"]), pat as i64);
    assert_eq!(get(&mut c, "pxat").as_deref(), Some("w"));
    q::<()>(&mut c, &["SET", "pxat", "x"]);
    assert_eq!(ttl(&mut c, "pxat"), -1);
    // Options are case-insensitive and may come in any order.
    q::<()>(&mut c, &["SET", "k", "v", "px", "100000", "nx"]);
    assert!(pttl(&mut c, "k") > 0);
}

#[test]
fn set_with_an_expiry_in_the_past_leaves_no_visible_key() {
    let (_s, mut c) = start();
    assert_eq!(q::<String>(&mut c, &["SET", "k", "v", "EXAT", "1"]), "OK");
    assert_eq!(get(&mut c, "k"), None);
    assert_eq!(
        q::<String>(
            &mut c,
            &["SET", "k", "v", "PXAT", &(now_ms() - 1).to_string()]
        ),
        "OK"
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
}

#[test]
fn set_rejects_conflicting_unknown_and_incomplete_options() {
    let (_s, mut c) = start();
    for args in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "KEEPTTL", "EXAT", "10"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "PXAT"],
        &["SET", "k", "v", "bogus"],
        &["SET", "k", "v", "GET", "GET", "NX", "EX"],
    ] {
        assert_eq!(qerr(&mut c, args), SYNTAX, "{args:?}");
    }
    for t in ["0", "-1", "9223372036854775807"] {
        assert_eq!(
            qerr(&mut c, &["SET", "k", "v", "EX", t]),
            invalid_expire("set"),
            "EX {t}"
        );
        assert_eq!(
            qerr(&mut c, &["SET", "k", "v", "PX", t]),
            invalid_expire("set"),
            "PX {t}"
        );
    }
    assert_eq!(
        qerr(&mut c, &["SET", "k", "v", "EXAT", "0"]),
        invalid_expire("set")
    );
    assert_eq!(
        qerr(&mut c, &["SET", "k", "v", "PXAT", "-5"]),
        invalid_expire("set")
    );
    assert_eq!(qerr(&mut c, &["SET", "k", "v", "EX", "1.5"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["SET", "k", "v", "PX", "abc"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["SET", "k"]), arity("set"));
    assert_eq!(get(&mut c, "k"), None, "a failed SET writes nothing");
}

#[test]
fn setnx_setex_and_psetex() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["SETNX", "k", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETNX", "k", "2"]), 0);
    assert_eq!(get(&mut c, "k").as_deref(), Some("1"));
    assert_eq!(q::<String>(&mut c, &["SETEX", "k", "100", "v"]), "OK");
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    assert_eq!(q::<String>(&mut c, &["PSETEX", "k", "100000", "w"]), "OK");
    assert!((99_000..=100_000).contains(&pttl(&mut c, "k")));
    assert_eq!(get(&mut c, "k").as_deref(), Some("w"));
    for t in ["0", "-10"] {
        assert_eq!(
            qerr(&mut c, &["SETEX", "k", t, "v"]),
            invalid_expire("setex")
        );
        assert_eq!(
            qerr(&mut c, &["PSETEX", "k", t, "v"]),
            invalid_expire("psetex")
        );
    }
    assert_eq!(qerr(&mut c, &["SETEX", "k", "x", "v"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["SETEX", "k", "10"]), arity("setex"));
    assert_eq!(qerr(&mut c, &["SETNX", "k"]), arity("setnx"));
    assert_eq!(get(&mut c, "k").as_deref(), Some("w"));
}

#[test]
fn getex_reads_the_value_and_changes_the_ttl() {
    let (_s, mut c) = start();
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETEX", "missing", "EX", "10"]),
        None
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "missing"]), 0);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(q::<String>(&mut c, &["GETEX", "k"]), "v");
    assert_eq!(
        ttl(&mut c, "k"),
        -1,
        "GETEX without options leaves the TTL alone"
    );
    assert_eq!(q::<String>(&mut c, &["GETEX", "k", "EX", "100"]), "v");
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    assert_eq!(q::<String>(&mut c, &["GETEX", "k", "PX", "500000"]), "v");
    assert!(pttl(&mut c, "k") > 100_000);
    let at = now_ms() / 1000 + 5000;
    q::<String>(&mut c, &["GETEX", "k", "EXAT", &at.to_string()]);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "k"]), at as i64);
    let pat = now_ms() + 7_000_000;
    q::<String>(&mut c, &["GETEX", "k", "PXAT", &pat.to_string()]);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "k"]), pat as i64);
    assert_eq!(q::<String>(&mut c, &["GETEX", "k", "PERSIST"]), "v");
    assert_eq!(ttl(&mut c, "k"), -1);
    // An absolute time in the past: the value is returned and the key is gone.
    assert_eq!(q::<String>(&mut c, &["GETEX", "k", "PXAT", "1"]), "v");
    assert_eq!(get(&mut c, "k"), None);
}

#[test]
fn getex_rejects_bad_options() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        qerr(&mut c, &["GETEX", "k", "EX", "10", "PX", "10"]),
        SYNTAX
    );
    assert_eq!(qerr(&mut c, &["GETEX", "k", "PERSIST", "EX", "10"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["GETEX", "k", "KEEPTTL"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["GETEX", "k", "EX"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["GETEX", "k", "bogus"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["GETEX", "k", "EX", "0"]),
        invalid_expire("getex")
    );
    assert_eq!(
        qerr(&mut c, &["GETEX", "k", "PX", "-1"]),
        invalid_expire("getex")
    );
    assert_eq!(qerr(&mut c, &["GETEX", "k", "EX", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["GETEX"]), arity("getex"));
    assert_eq!(ttl(&mut c, "k"), -1);
}

#[test]
fn getdel_returns_the_value_and_deletes_the_key() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "k", "v", "EX", "100"]);
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETDEL", "k"]).as_deref(),
        Some("v")
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]), 0);
    assert_eq!(q::<Option<String>>(&mut c, &["GETDEL", "k"]), None);
    assert_eq!(qerr(&mut c, &["GETDEL", "k", "x"]), arity("getdel"));
}

#[test]
fn getset_returns_the_old_value_and_drops_the_ttl() {
    let (_s, mut c) = start();
    assert_eq!(q::<Option<String>>(&mut c, &["GETSET", "k", "1"]), None);
    q::<()>(&mut c, &["EXPIRE", "k", "100"]);
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETSET", "k", "2"]).as_deref(),
        Some("1")
    );
    assert_eq!(get(&mut c, "k").as_deref(), Some("2"));
    assert_eq!(ttl(&mut c, "k"), -1);
}

// ---------------------------------------------------------------------------------------------
// MGET / MSET / MSETNX

#[test]
fn mget_keeps_key_order_across_shards_with_missing_and_repeated_keys() {
    let (_s, mut c) = start();
    let (a, b) = cross("mget:");
    let (t1, t2) = ("{m}1", "{m}2");
    q::<()>(&mut c, &["MSET", &a, "A", &b, "B", t1, "T1", t2, "T2"]);
    let got: Vec<Option<String>> = q(&mut c, &["MGET", &a, "nokey", &b, &a, t2, t1]);
    let want = [
        Some("A"),
        None,
        Some("B"),
        Some("A"),
        Some("T2"),
        Some("T1"),
    ];
    assert_eq!(got, want.map(|v| v.map(String::from)));
    let same: Vec<Option<String>> = q(&mut c, &["MGET", t1, t2, "{m}3"]);
    assert_eq!(same, [Some("T1".into()), Some("T2".into()), None]);
    assert_eq!(qerr(&mut c, &["MGET"]), arity("mget"));
}

#[test]
fn mset_writes_every_pair_across_shards_and_the_last_duplicate_wins() {
    let (_s, mut c) = start();
    let (a, b) = cross("mset:");
    q::<()>(&mut c, &["SET", &a, "old", "EX", "100"]);
    assert_eq!(
        q::<String>(&mut c, &["MSET", &a, "1", &b, "2", &a, "3"]),
        "OK"
    );
    assert_eq!(get(&mut c, &a).as_deref(), Some("3"));
    assert_eq!(get(&mut c, &b).as_deref(), Some("2"));
    assert_eq!(ttl(&mut c, &a), -1, "MSET drops the TTL like SET");
    q::<()>(&mut c, &["MSET", "{s}x", "1", "{s}x", "2"]);
    assert_eq!(get(&mut c, "{s}x").as_deref(), Some("2"));
    // A key without a value: nothing is written, on either shard.
    assert_eq!(
        qerr(&mut c, &["MSET", &a, "x", &b, "y", "z"]),
        arity("mset")
    );
    assert_eq!(qerr(&mut c, &["MSET", &a]), arity("mset"));
    assert_eq!(get(&mut c, &a).as_deref(), Some("3"));
    assert_eq!(get(&mut c, &b).as_deref(), Some("2"));
}

#[test]
fn msetnx_writes_all_or_nothing_on_one_shard_and_across_shards() {
    let (_s, mut c) = start();
    let (a, b) = cross("msetnx:");
    assert_eq!(q::<i64>(&mut c, &["MSETNX", &a, "1", &b, "2"]), 1);
    let (a2, b2) = cross("msetnx2:");
    assert_eq!(
        q::<i64>(&mut c, &["MSETNX", &a2, "x", &b2, "y", &b, "z"]),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &a2, &b2]), 0);
    assert_eq!(get(&mut c, &b).as_deref(), Some("2"));
    assert_eq!(q::<i64>(&mut c, &["MSETNX", "{n}1", "x", "{n}1", "y"]), 1);
    assert_eq!(get(&mut c, "{n}1").as_deref(), Some("y"));
    assert_eq!(q::<i64>(&mut c, &["MSETNX", "{n}1", "x", "{n}2", "y"]), 0);
    assert_eq!(get(&mut c, "{n}2"), None);
    assert_eq!(qerr(&mut c, &["MSETNX", &a, "1", &b]), arity("msetnx"));
}

// ---------------------------------------------------------------------------------------------
// APPEND / STRLEN / counters

#[test]
fn append_creates_or_extends_and_strlen_measures() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "k"]), 0);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "k", "Hello"]), 5);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "k", " World"]), 11);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "k", ""]), 11);
    assert_eq!(get(&mut c, "k").as_deref(), Some("Hello World"));
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "k"]), 11);
    // Integers are strings too.
    q::<()>(&mut c, &["SET", "n", "-123"]);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "n"]), 4);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "n", "4"]), 5);
    assert_eq!(get(&mut c, "n").as_deref(), Some("-1234"));
    q::<()>(&mut c, &["EXPIRE", "n", "100"]);
    q::<i64>(&mut c, &["APPEND", "n", "5"]);
    assert!(ttl(&mut c, "n") > 0, "APPEND keeps the TTL");
}

#[test]
fn incr_and_decr_count_from_zero_and_keep_the_ttl() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["INCR", "n"]), 1);
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "41"]), 42);
    assert_eq!(q::<i64>(&mut c, &["DECR", "n"]), 41);
    assert_eq!(q::<i64>(&mut c, &["DECRBY", "n", "-9"]), 50);
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "-100"]), -50);
    assert_eq!(q::<i64>(&mut c, &["DECR", "m"]), -1);
    q::<()>(&mut c, &["EXPIRE", "n", "100"]);
    q::<i64>(&mut c, &["INCR", "n"]);
    assert!(ttl(&mut c, "n") > 0, "INCR keeps the TTL");
    q::<()>(&mut c, &["SET", "n", "  "]);
    q::<()>(&mut c, &["SET", "n", "0010"]);
    assert_eq!(
        qerr(&mut c, &["INCR", "n"]),
        NOT_INT,
        "leading zeros are not an integer"
    );
}

#[test]
fn counters_reject_non_integers_and_overflow() {
    let (_s, mut c) = start();
    for v in [
        "abc",
        "",
        " 1",
        "1 ",
        "1.5",
        "0x10",
        "9223372036854775808",
        "+",
    ] {
        q::<()>(&mut c, &["SET", "n", v]);
        assert_eq!(qerr(&mut c, &["INCR", "n"]), NOT_INT, "value {v:?}");
        assert_eq!(get(&mut c, "n").as_deref(), Some(v), "unchanged");
    }
    for by in ["x", "1.0", "", "9223372036854775808"] {
        assert_eq!(qerr(&mut c, &["INCRBY", "k", by]), NOT_INT, "by {by:?}");
        assert_eq!(qerr(&mut c, &["DECRBY", "k", by]), NOT_INT, "by {by:?}");
    }
    q::<()>(&mut c, &["SET", "n", "9223372036854775807"]);
    assert_eq!(
        qerr(&mut c, &["INCR", "n"]),
        "ERR increment or decrement would overflow"
    );
    q::<()>(&mut c, &["SET", "n", "-9223372036854775808"]);
    assert_eq!(
        qerr(&mut c, &["DECR", "n"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        qerr(&mut c, &["DECRBY", "z", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    assert_eq!(
        q::<i64>(&mut c, &["INCRBY", "z", "-9223372036854775808"]),
        i64::MIN
    );
    assert_eq!(qerr(&mut c, &["INCR"]), arity("incr"));
    assert_eq!(qerr(&mut c, &["INCRBY", "n"]), arity("incrby"));
}

#[test]
fn incrbyfloat_formats_like_redis() {
    let (_s, mut c) = start();
    let mut incr = |by: &str| -> String { q(&mut c, &["INCRBYFLOAT", "f", by]) };
    assert_eq!(incr("10.5"), "10.5");
    assert_eq!(incr("0.1"), "10.6");
    // Long double arithmetic, printed with 17 significant digits like Redis.
    assert_eq!(incr("-5.0e3"), "-4989.39999999999999991");
    assert_eq!(incr("4989.4"), "0");
    assert_eq!(incr("3.0e3"), "3000");
    assert_eq!(incr("1e20"), "100000000000000003000");
    q::<()>(&mut c, &["SET", "i", "5"]);
    assert_eq!(q::<String>(&mut c, &["INCRBYFLOAT", "i", "1.25"]), "6.25");
    q::<()>(&mut c, &["EXPIRE", "i", "100"]);
    q::<String>(&mut c, &["INCRBYFLOAT", "i", "1"]);
    assert!(ttl(&mut c, "i") > 0, "INCRBYFLOAT keeps the TTL");
}

#[test]
fn incrbyfloat_rejects_non_floats_nan_and_infinity() {
    let (_s, mut c) = start();
    for by in ["abc", "", "1.5x", " 1", "nan", "1e5000"] {
        assert_eq!(
            qerr(&mut c, &["INCRBYFLOAT", "f", by]),
            NOT_FLOAT,
            "by {by:?}"
        );
    }
    q::<()>(&mut c, &["SET", "f", "not a number"]);
    assert_eq!(qerr(&mut c, &["INCRBYFLOAT", "f", "1"]), NOT_FLOAT);
    q::<()>(&mut c, &["SET", "f", "1"]);
    for by in ["inf", "-inf", "+inf"] {
        assert_eq!(
            qerr(&mut c, &["INCRBYFLOAT", "f", by]),
            "ERR increment would produce NaN or Infinity",
            "by {by:?}"
        );
    }
    assert_eq!(get(&mut c, "f").as_deref(), Some("1"));
}

// ---------------------------------------------------------------------------------------------
// Ranges

#[test]
fn getrange_and_substr_clamp_and_count_from_the_end() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "k", "This is a string"]);
    for (start, end, want) in [
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        ("5", "3", ""),
        ("-100", "2", "Thi"),
        ("100", "200", ""),
        ("-1", "-100", ""),
        ("0", "9223372036854775807", "This is a string"),
    ] {
        assert_eq!(
            q::<String>(&mut c, &["GETRANGE", "k", start, end]),
            want,
            "{start} {end}"
        );
        assert_eq!(
            q::<String>(&mut c, &["SUBSTR", "k", start, end]),
            want,
            "{start} {end}"
        );
    }
    q::<()>(&mut c, &["SET", "n", "12345"]);
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "n", "1", "2"]), "23");
    assert_eq!(q::<String>(&mut c, &["GETRANGE", "missing", "0", "-1"]), "");
    assert_eq!(qerr(&mut c, &["GETRANGE", "k", "x", "1"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["GETRANGE", "k", "0"]), arity("getrange"));
}

#[test]
fn setrange_pads_with_zero_bytes_and_returns_the_length() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "k", "0", ""]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "k"]),
        0,
        "writing nothing creates nothing"
    );
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "k", "3", "ab"]), 5);
    assert_eq!(qb::<Vec<u8>>(&mut c, &[b"GET", b"k"]), b"\0\0\0ab");
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "k", "1", "XYZW"]), 5);
    assert_eq!(qb::<Vec<u8>>(&mut c, &[b"GET", b"k"]), b"\0XYZW");
    assert_eq!(
        q::<i64>(&mut c, &["SETRANGE", "k", "100", ""]),
        5,
        "nothing to write"
    );
    q::<()>(&mut c, &["SET", "n", "12345"]);
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "n", "1", "x"]), 5);
    assert_eq!(get(&mut c, "n").as_deref(), Some("1x345"));
    assert_eq!(
        qerr(&mut c, &["SETRANGE", "k", "-1", "a"]),
        "ERR offset is out of range"
    );
    assert_eq!(qerr(&mut c, &["SETRANGE", "k", "x", "a"]), NOT_INT);
}

#[test]
fn setrange_and_append_refuse_to_grow_past_512mb() {
    // Only the error path: nothing near 512 MB is ever allocated.
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "k", "abc"]);
    assert_eq!(qerr(&mut c, &["SETRANGE", "k", "536870911", "ab"]), TOO_BIG);
    assert_eq!(qerr(&mut c, &["SETRANGE", "k", "536870912", "a"]), TOO_BIG);
    assert_eq!(
        qerr(&mut c, &["SETRANGE", "new", "536870912", "a"]),
        TOO_BIG
    );
    assert_eq!(
        qerr(&mut c, &["SETRANGE", "k", "9223372036854775807", "a"]),
        TOO_BIG
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "new"]), 0);
    // Writing nothing at a huge offset is not growing.
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "k", "536870912", ""]), 3);
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "new", "536870912", ""]), 0);
    assert_eq!(get(&mut c, "k").as_deref(), Some("abc"));
}

#[test]
fn string_growth_limit_follows_the_configured_proto_max_bulk_len() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    assert_eq!(
        q::<i64>(&mut c, &["SETRANGE", "k", "1048575", "a"]),
        1 << 20
    );
    assert_eq!(qerr(&mut c, &["APPEND", "k", "b"]), TOO_BIG);
    assert_eq!(qerr(&mut c, &["SETRANGE", "j", "1048576", "a"]), TOO_BIG);
    assert_eq!(
        qerr(&mut c, &["SETBIT", "j", "8388608", "1"]),
        "ERR bit offset is not an integer or out of range"
    );
    q::<()>(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "512mb"]);
}

#[test]
fn a_one_megabyte_value_round_trips() {
    let (_s, mut c) = start();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    assert_eq!(qb::<String>(&mut c, &[b"SET", b"big", &big]), "OK");
    assert_eq!(qb::<Vec<u8>>(&mut c, &[b"GET", b"big"]), big);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "big", "x"]), (1 << 20) + 1);
    let tail: Vec<u8> = qb(&mut c, &[b"GETRANGE", b"big", b"-2", b"-1"]);
    assert_eq!(tail, [big[big.len() - 1], b'x']);
}

// ---------------------------------------------------------------------------------------------
// LCS

fn lcs_fixture(c: &mut redis::Connection, a: &str, b: &str) {
    q::<()>(c, &["MSET", a, "ohmytext", b, "mynewtext"]);
}

#[test]
fn lcs_finds_the_common_subsequence_on_one_shard_and_across_shards() {
    let (_s, mut c) = start();
    let (a, b) = cross("lcs:");
    for (k1, k2) in [("{l}a", "{l}b"), (a.as_str(), b.as_str())] {
        lcs_fixture(&mut c, k1, k2);
        assert_eq!(q::<String>(&mut c, &["LCS", k1, k2]), "mytext", "{k1} {k2}");
        assert_eq!(q::<i64>(&mut c, &["LCS", k1, k2, "LEN"]), 6);
        assert_eq!(q::<String>(&mut c, &["LCS", k1, "missing"]), "");
        assert_eq!(q::<i64>(&mut c, &["LCS", "missing", k2, "LEN"]), 0);
    }
}

#[test]
fn lcs_idx_lists_matches_with_minmatchlen_and_withmatchlen() {
    let (_s, mut c) = start();
    let (a, b) = cross("lcsidx:");
    for (k1, k2) in [("{l}a", "{l}b"), (a.as_str(), b.as_str())] {
        lcs_fixture(&mut c, k1, k2);
        let all: Value = q(&mut c, &["LCS", k1, k2, "IDX"]);
        let want = Value::Array(vec![
            bulk("matches"),
            Value::Array(vec![
                Value::Array(vec![ints(&[4, 7]), ints(&[5, 8])]),
                Value::Array(vec![ints(&[2, 3]), ints(&[0, 1])]),
            ]),
            bulk("len"),
            Value::Int(6),
        ]);
        assert_eq!(all, want, "{k1} {k2}");
        let long: Value = q(
            &mut c,
            &["LCS", k1, k2, "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
        );
        let want = Value::Array(vec![
            bulk("matches"),
            Value::Array(vec![Value::Array(vec![
                ints(&[4, 7]),
                ints(&[5, 8]),
                Value::Int(4),
            ])]),
            bulk("len"),
            Value::Int(6),
        ]);
        assert_eq!(long, want, "{k1} {k2}");
    }
}

#[test]
fn lcs_rejects_bad_options() {
    let (_s, mut c) = start();
    let (a, b) = cross("lcserr:");
    for (k1, k2) in [("{l}a", "{l}b"), (a.as_str(), b.as_str())] {
        assert_eq!(
            qerr(&mut c, &["LCS", k1, k2, "LEN", "IDX"]),
            "ERR If you want both the length and indexes, please just use IDX."
        );
        assert_eq!(qerr(&mut c, &["LCS", k1, k2, "bogus"]), SYNTAX);
        assert_eq!(qerr(&mut c, &["LCS", k1, k2, "MINMATCHLEN"]), SYNTAX);
        assert_eq!(qerr(&mut c, &["LCS", k1, k2, "MINMATCHLEN", "x"]), NOT_INT);
    }
    assert_eq!(qerr(&mut c, &["LCS", "a"]), arity("lcs"));
}

// ---------------------------------------------------------------------------------------------
// Bits

#[test]
fn setbit_returns_the_old_bit_and_grows_the_string() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "7", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "7", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "7", "0"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "b", "17", "1"]), 0);
    assert_eq!(qb::<Vec<u8>>(&mut c, &[b"GET", b"b"]), b"\x00\x00\x40");
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "b", "17"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "b", "16"]), 0);
    assert_eq!(
        q::<i64>(&mut c, &["GETBIT", "b", "100000"]),
        0,
        "past the end reads 0"
    );
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "missing", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "missing"]), 0);
    q::<()>(&mut c, &["SET", "n", "1"]); // '1' = 0x31 = 00110001
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "n", "2"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "n", "6", "1"]), 0);
    assert_eq!(get(&mut c, "n").as_deref(), Some("3"));
}

#[test]
fn bit_offsets_and_values_are_checked() {
    let (_s, mut c) = start();
    let bad_offset = "ERR bit offset is not an integer or out of range";
    for off in ["-1", "4294967296", "x", "1.5"] {
        assert_eq!(
            qerr(&mut c, &["SETBIT", "b", off, "1"]),
            bad_offset,
            "{off}"
        );
        assert_eq!(qerr(&mut c, &["GETBIT", "b", off]), bad_offset, "{off}");
    }
    for bit in ["2", "-1", "x", ""] {
        assert_eq!(
            qerr(&mut c, &["SETBIT", "b", "0", bit]),
            "ERR bit is not an integer or out of range"
        );
    }
    // The largest offset is fine to read (and is not allocated by a read).
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "b", "4294967295"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "b"]), 0);
}

#[test]
fn bitcount_counts_whole_strings_and_byte_or_bit_ranges() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "k", "foobar"]);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k"]), 26);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k", "0", "0"]), 4);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k", "1", "1"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k", "1", "1", "BYTE"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k", "5", "30", "BIT"]), 17);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k", "-2", "-1"]), 7);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "k", "3", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "missing"]), 0);
    assert_eq!(qerr(&mut c, &["BITCOUNT", "k", "0"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["BITCOUNT", "k", "0", "1", "bits"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["BITCOUNT", "k", "0", "1", "BIT", "x"]),
        SYNTAX
    );
    assert_eq!(qerr(&mut c, &["BITCOUNT", "k", "a", "1"]), NOT_INT);
}

#[test]
fn bitpos_finds_the_first_set_or_clear_bit() {
    let (_s, mut c) = start();
    qb::<()>(&mut c, &[b"SET", b"k", b"\xff\xf0\x00"]);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "k", "0"]), 12);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "k", "1", "2"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "k", "1", "7", "15", "BIT"]), 7);
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "k", "0", "0", "-1", "BYTE"]),
        12
    );
    qb::<()>(&mut c, &[b"SET", b"ones", b"\xff\xff"]);
    // Looking for a 0 with no end given: the bit just past the string.
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0"]), 16);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0", "0", "-1"]), -1);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "missing", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "missing", "1"]), -1);
    assert_eq!(
        qerr(&mut c, &["BITPOS", "k", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(
        qerr(&mut c, &["BITPOS", "k", "1", "0", "1", "nope"]),
        SYNTAX
    );
    assert_eq!(qerr(&mut c, &["BITPOS", "k", "1", "x"]), NOT_INT);
}

#[test]
fn bitop_combines_keys_on_one_shard_and_across_shards() {
    let (_s, mut c) = start();
    let (a, b) = cross("bitop:");
    let dest = key_on(1, 2, "bitop:dest:");
    for (k1, k2, d) in [
        ("{b}1", "{b}2", "{b}d"),
        (a.as_str(), b.as_str(), dest.as_str()),
    ] {
        qb::<()>(
            &mut c,
            &[
                b"MSET",
                k1.as_bytes(),
                b"\x0f\xf0\xaa",
                k2.as_bytes(),
                b"\xff\x00",
            ],
        );
        let get = |c: &mut redis::Connection| qb::<Vec<u8>>(c, &[b"GET", d.as_bytes()]);
        assert_eq!(q::<i64>(&mut c, &["BITOP", "AND", d, k1, k2]), 3);
        assert_eq!(get(&mut c), b"\x0f\x00\x00", "{k1} {k2}");
        assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", d, k1, k2]), 3);
        assert_eq!(get(&mut c), b"\xff\xf0\xaa");
        assert_eq!(q::<i64>(&mut c, &["BITOP", "XOR", d, k1, k2, "missing"]), 3);
        assert_eq!(get(&mut c), b"\xf0\xf0\xaa");
        assert_eq!(q::<i64>(&mut c, &["bitop", "not", d, k1]), 3);
        assert_eq!(get(&mut c), b"\xf0\x0f\x55");
        // Every source missing: the destination is deleted.
        assert_eq!(
            q::<i64>(&mut c, &["BITOP", "AND", d, "nokey1", "nokey2"]),
            0
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", d]), 0);
    }
}

#[test]
fn bitop_rejects_unknown_operations_and_not_with_several_keys() {
    let (_s, mut c) = start();
    let (a, b) = cross("bitoperr:");
    assert_eq!(
        qerr(&mut c, &["BITOP", "NOT", "d", &a, &b]),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(qerr(&mut c, &["BITOP", "NAND", "d", &a, &b]), SYNTAX);
    assert_eq!(qerr(&mut c, &["BITOP", "AND", "d"]), arity("bitop"));
}

#[test]
fn bitfield_gets_sets_and_increments_with_overflow_control() {
    let (_s, mut c) = start();
    let r: Vec<i64> = q(
        &mut c,
        &["BITFIELD", "f", "SET", "i8", "0", "100", "GET", "i8", "0"],
    );
    assert_eq!(r, [0, 100]);
    let r: Vec<i64> = q(
        &mut c,
        &[
            "BITFIELD", "f", "INCRBY", "i8", "0", "100", "GET", "u4", "0",
        ],
    );
    assert_eq!(r, [-56, 12], "wraps by default");
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "f", "SET", "u8", "#1", "250", "OVERFLOW", "SAT", "INCRBY", "u8", "#1",
            "10", "OVERFLOW", "FAIL", "INCRBY", "u8", "#1", "1", "OVERFLOW", "WRAP", "INCRBY",
            "u8", "#1", "1",
        ],
    );
    assert_eq!(r, [Some(0), Some(255), None, Some(0)]);
    let r: Vec<i64> = q(
        &mut c,
        &[
            "BITFIELD", "f", "SET", "i64", "64", "-1", "GET", "u63", "64",
        ],
    );
    assert_eq!(r, [0, i64::MAX]);
    let r: Vec<i64> = q(
        &mut c,
        &["BITFIELD_RO", "f", "GET", "u8", "8", "GET", "i1", "7"],
    );
    assert_eq!(r, [0, 0]);
    let none: Vec<i64> = q(&mut c, &["BITFIELD", "f"]);
    assert!(none.is_empty());
    let r: Vec<i64> = q(&mut c, &["BITFIELD", "missing", "GET", "u8", "0"]);
    assert_eq!(r, [0]);
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "missing"]),
        0,
        "GET alone creates nothing"
    );
}

#[test]
fn bitfield_rejects_bad_types_offsets_and_overflow_modes() {
    let (_s, mut c) = start();
    let bad_type = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    for t in ["u64", "i65", "x8", "i0", "u"] {
        assert_eq!(
            qerr(&mut c, &["BITFIELD", "f", "GET", t, "0"]),
            bad_type,
            "{t}"
        );
    }
    let bad_offset = "ERR bit offset is not an integer or out of range";
    for off in ["-1", "x", "#-1", "4294967296"] {
        assert_eq!(
            qerr(&mut c, &["BITFIELD", "f", "GET", "u8", off]),
            bad_offset,
            "{off}"
        );
    }
    assert_eq!(
        qerr(&mut c, &["BITFIELD", "f", "OVERFLOW", "MAYBE"]),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(qerr(&mut c, &["BITFIELD", "f", "GET", "u8"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["BITFIELD", "f", "SET", "u8", "0"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["BITFIELD", "f", "bogus"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["BITFIELD", "f", "SET", "u8", "0", "x"]),
        NOT_INT
    );
    assert_eq!(
        qerr(&mut c, &["BITFIELD_RO", "f", "SET", "u8", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "f"]),
        0,
        "a rejected BITFIELD writes nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// Arity

#[test]
fn every_string_command_checks_its_arity() {
    let (_s, mut c) = start();
    for args in [
        &["GET"][..],
        &["GET", "a", "b"],
        &["SET", "a"],
        &["SETNX", "a"],
        &["SETEX", "a", "1"],
        &["PSETEX", "a", "1"],
        &["GETEX"],
        &["GETDEL"],
        &["GETSET", "a"],
        &["MGET"],
        &["MSET", "a"],
        &["MSETNX", "a"],
        &["APPEND", "a"],
        &["STRLEN"],
        &["INCR"],
        &["DECR", "a", "b"],
        &["INCRBY", "a"],
        &["DECRBY", "a"],
        &["INCRBYFLOAT", "a"],
        &["GETRANGE", "a", "0"],
        &["SUBSTR", "a", "0"],
        &["SETRANGE", "a", "0"],
        &["LCS", "a"],
        &["SETBIT", "a", "0"],
        &["GETBIT", "a"],
        &["BITCOUNT"],
        &["BITPOS", "a"],
        &["BITOP", "AND", "d"],
        &["BITFIELD"],
        &["BITFIELD_RO"],
    ] {
        let name = args[0].to_ascii_lowercase();
        assert_eq!(qerr(&mut c, args), arity(&name), "{args:?}");
    }
}
