//! The list family over TCP with the `redis` crate, on a 2-shard server: every command, its
//! errors (Redis 7.2's exact texts and check order), RESP2 and RESP3 null forms, encoding
//! conversions at Redis' sizes, the multi-key forms across shards, the blocking commands'
//! immediate paths, and random command sequences checked against a `VecDeque` model.

mod common;

use common::{arity, cross, key_on, q, qb, qerr, start, NOT_INT, SYNTAX};
use redis::Value;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn bulks(xs: &[&str]) -> Value {
    Value::Array(xs.iter().map(|s| bulk(s)).collect())
}

fn ints(xs: &[i64]) -> Value {
    Value::Array(xs.iter().map(|&x| Value::Int(x)).collect())
}

fn val(c: &mut redis::Connection, args: &[&str]) -> Value {
    q(c, args)
}

fn range(c: &mut redis::Connection, k: &str) -> Vec<String> {
    q(c, &["LRANGE", k, "0", "-1"])
}

fn encoding(c: &mut redis::Connection, k: &str) -> String {
    q(c, &["OBJECT", "ENCODING", k])
}

fn exists(c: &mut redis::Connection, k: &str) -> bool {
    q::<i64>(c, &["EXISTS", k]) == 1
}

fn push(c: &mut redis::Connection, cmd: &str, k: &str, vals: &[&str]) -> i64 {
    let mut args = vec![cmd, k];
    args.extend_from_slice(vals);
    q(c, &args)
}

/// A raw connection reading whole replies, for the exact bytes of null forms and RESP3.
struct Raw {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn new(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { s, buf: Vec::new() }
    }

    fn call(&mut self, args: &[&str]) -> String {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.s.write_all(req.as_bytes()).unwrap();
        loop {
            if let Some(n) = reply_len(&self.buf) {
                let r: Vec<u8> = self.buf.drain(..n).collect();
                return String::from_utf8_lossy(&r).into_owned();
            }
            let mut chunk = [0u8; 4096];
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The length of the first complete RESP2/RESP3 reply in `b`, if it is all there.
fn reply_len(b: &[u8]) -> Option<usize> {
    let line = b.windows(2).position(|w| w == b"\r\n")? + 2;
    let n = || -> i64 {
        std::str::from_utf8(&b[1..line - 2])
            .unwrap()
            .parse()
            .unwrap()
    };
    match b[0] {
        b'$' | b'=' if n() >= 0 => {
            let end = line + n() as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' if n() >= 0 => {
            let items = if b[0] == b'%' { 2 * n() } else { n() };
            let mut at = line;
            for _ in 0..items {
                at += reply_len(&b[at..])?;
            }
            Some(at)
        }
        _ => Some(line),
    }
}

// ---------------------------------------------------------------------------------------------
// Pushes, lengths, type errors

#[test]
fn pushes_return_the_length_and_keep_order() {
    let (_s, mut c) = start();
    assert_eq!(push(&mut c, "RPUSH", "l", &["a", "b"]), 2);
    assert_eq!(push(&mut c, "LPUSH", "l", &["x", "y"]), 4);
    assert_eq!(push(&mut c, "RPUSHX", "l", &["z"]), 5);
    assert_eq!(push(&mut c, "LPUSHX", "l", &["w", "v"]), 7);
    assert_eq!(range(&mut c, "l"), ["v", "w", "y", "x", "a", "b", "z"]);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 7);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "missing"]), 0);
    // The X forms never create a key.
    assert_eq!(push(&mut c, "LPUSHX", "none", &["a"]), 0);
    assert_eq!(push(&mut c, "RPUSHX", "none", &["a", "b"]), 0);
    assert!(!exists(&mut c, "none"));
    assert_eq!(q::<String>(&mut c, &["TYPE", "l"]), "list");
}

#[test]
fn elements_are_binary_safe_and_integers_read_back_as_sent() {
    let (_s, mut c) = start();
    let vals: [&[u8]; 9] = [
        b"",
        b"\x00\r\n\xff",
        b"0",
        b"-0",
        b"007",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"9223372036854775808",
        b" 1",
    ];
    for v in vals {
        qb::<i64>(&mut c, &[b"RPUSH", b"bin", v]);
    }
    let got: Vec<Vec<u8>> = qb(&mut c, &[b"LRANGE", b"bin", b"0", b"-1"]);
    assert_eq!(got, vals.map(|v| v.to_vec()));
    assert_eq!(
        qb::<i64>(&mut c, &[b"LREM", b"bin", b"0", b"\x00\r\n\xff"]),
        1
    );
    assert_eq!(qb::<i64>(&mut c, &[b"LPOS", b"bin", b"-0"]), 2);
    assert_eq!(qb::<Option<i64>>(&mut c, &[b"LPOS", b"bin", b"7"]), None);
}

#[test]
fn every_command_rejects_other_types() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "s", "v"]);
    q::<i64>(&mut c, &["RPUSH", "l", "a"]);
    for args in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LLEN", "s"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LRANGE", "s", "0", "-1"],
        &["LTRIM", "s", "0", "-1"],
        &["LPOS", "s", "a"],
        &["LREM", "s", "0", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "l"],
        &["RPOPLPUSH", "l", "s"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "nokey", "s", "0"],
        &["BRPOP", "s", "0"],
        &["BLMOVE", "s", "l", "LEFT", "LEFT", "0"],
        &["BLMOVE", "l", "s", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "l", "s", "0"],
        &["BLMPOP", "0", "1", "s", "RIGHT"],
    ] {
        assert_eq!(qerr(&mut c, args), WRONGTYPE, "{args:?}");
    }
    // Nothing moved when the destination had the wrong type.
    assert_eq!(range(&mut c, "l"), ["a"]);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "v");
}

#[test]
fn argument_errors_come_before_the_type_check_where_redis_checks_them_first() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "s", "v"]);
    assert_eq!(qerr(&mut c, &["LRANGE", "s", "a", "1"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["LTRIM", "s", "0", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["LREM", "s", "x", "a"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["LINSERT", "s", "middle", "a", "b"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["LPOP", "s", "-1"]), MUST_BE_POSITIVE);
    assert_eq!(qerr(&mut c, &["LMOVE", "s", "s", "UP", "LEFT"]), SYNTAX);
    assert!(qerr(&mut c, &["LPOS", "s", "a", "RANK", "0"]).starts_with("ERR RANK can't be zero"));
    // ... and after it where Redis looks the key up first.
    assert_eq!(qerr(&mut c, &["LINDEX", "s", "x"]), WRONGTYPE);
    assert_eq!(qerr(&mut c, &["LSET", "s", "x", "v"]), WRONGTYPE);
    // On a missing key those never parse the index.
    assert_eq!(q::<Option<String>>(&mut c, &["LINDEX", "none", "x"]), None);
    assert_eq!(qerr(&mut c, &["LSET", "none", "x", "v"]), "ERR no such key");
    assert_eq!(qerr(&mut c, &["LRANGE", "none", "x", "0"]), NOT_INT);
}

// ---------------------------------------------------------------------------------------------
// Pops

#[test]
fn pops_with_and_without_count() {
    let (_s, mut c) = start();
    push(&mut c, "RPUSH", "l", &["a", "b", "c", "d", "e"]);
    assert_eq!(val(&mut c, &["LPOP", "l"]), bulk("a"));
    assert_eq!(val(&mut c, &["RPOP", "l"]), bulk("e"));
    assert_eq!(val(&mut c, &["LPOP", "l", "2"]), bulks(&["b", "c"]));
    assert_eq!(val(&mut c, &["LPOP", "l", "0"]), bulks(&[]));
    assert_eq!(range(&mut c, "l"), ["d"]);
    push(&mut c, "RPUSH", "l", &["e", "f"]);
    assert_eq!(val(&mut c, &["RPOP", "l", "2"]), bulks(&["f", "e"]));
    assert_eq!(val(&mut c, &["RPOP", "l", "100"]), bulks(&["d"]));
    assert!(!exists(&mut c, "l"), "an emptied list is deleted");
    assert_eq!(val(&mut c, &["LPOP", "l"]), Value::Nil);
    assert_eq!(val(&mut c, &["LPOP", "l", "3"]), Value::Nil);
    assert_eq!(
        val(&mut c, &["RPOP", "l", "0"]),
        Value::Nil,
        "missing before zero"
    );
    assert_eq!(qerr(&mut c, &["LPOP", "l", "-1"]), MUST_BE_POSITIVE);
    assert_eq!(qerr(&mut c, &["LPOP", "l", "abc"]), MUST_BE_POSITIVE);
    assert_eq!(qerr(&mut c, &["RPOP", "l", "1", "2"]), arity("rpop"));
    assert_eq!(qerr(&mut c, &["LPOP"]), arity("lpop"));
    // Huge counts are fine.
    push(&mut c, "RPUSH", "l", &["1", "2"]);
    assert_eq!(
        val(&mut c, &["LPOP", "l", "9223372036854775807"]),
        bulks(&["1", "2"])
    );
}

#[test]
fn null_replies_in_resp2_and_resp3() {
    let (s, mut c) = start();
    push(&mut c, "RPUSH", "l", &["a"]);
    for (proto, null, null_array) in [("2", "$-1\r\n", "*-1\r\n"), ("3", "_\r\n", "_\r\n")] {
        let mut r = Raw::new(s.port());
        r.call(&["HELLO", proto]);
        assert_eq!(r.call(&["LPOP", "none"]), null, "RESP{proto}");
        assert_eq!(r.call(&["RPOP", "none", "2"]), null_array, "RESP{proto}");
        assert_eq!(r.call(&["LPOP", "l", "0"]), "*0\r\n", "RESP{proto}");
        assert_eq!(r.call(&["LINDEX", "l", "5"]), null);
        assert_eq!(r.call(&["LINDEX", "none", "0"]), null);
        assert_eq!(r.call(&["LPOS", "l", "x"]), null);
        assert_eq!(r.call(&["LPOS", "none", "x"]), null);
        assert_eq!(r.call(&["LPOS", "none", "x", "COUNT", "0"]), "*0\r\n");
        assert_eq!(r.call(&["LRANGE", "none", "0", "-1"]), "*0\r\n");
        assert_eq!(r.call(&["LMOVE", "none", "l", "LEFT", "LEFT"]), null);
        assert_eq!(r.call(&["RPOPLPUSH", "none", "l"]), null);
        assert_eq!(r.call(&["LMPOP", "2", "none", "none2", "LEFT"]), null_array);
        // Empty keys and a short timeout: the timeout reply.
        assert_eq!(r.call(&["BLPOP", "none", "0.05"]), null_array);
        assert_eq!(r.call(&["BRPOP", "none", "none2", "0.05"]), null_array);
        assert_eq!(r.call(&["BLMPOP", "0.05", "1", "none", "LEFT"]), null_array);
        // Redis answers a timed out BLMOVE with a null array, the same command inside MULTI
        // with a null bulk string: either is a timeout here.
        for args in [
            &["BLMOVE", "none", "l", "LEFT", "LEFT", "0.05"][..],
            &["BRPOPLPUSH", "none", "l", "0.05"],
        ] {
            let got = r.call(args);
            assert!(got == null || got == null_array, "{args:?}: {got:?}");
        }
    }
    assert_eq!(range(&mut c, "l"), ["a"]);
}

// ---------------------------------------------------------------------------------------------
// Reads and changes by index

#[test]
fn lrange_and_lindex_take_negative_and_out_of_range_indexes() {
    let (_s, mut c) = start();
    push(&mut c, "RPUSH", "l", &["a", "b", "c", "d"]);
    let r = |c: &mut redis::Connection, a: &str, b: &str| -> Vec<String> {
        q(c, &["LRANGE", "l", a, b])
    };
    assert_eq!(r(&mut c, "1", "2"), ["b", "c"]);
    assert_eq!(r(&mut c, "-3", "-2"), ["b", "c"]);
    assert_eq!(r(&mut c, "-100", "100"), ["a", "b", "c", "d"]);
    assert_eq!(r(&mut c, "2", "1"), Vec::<String>::new());
    assert_eq!(r(&mut c, "4", "10"), Vec::<String>::new());
    assert_eq!(r(&mut c, "0", "-5"), Vec::<String>::new());
    assert_eq!(
        r(&mut c, "-9223372036854775808", "9223372036854775807"),
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        qerr(&mut c, &["LRANGE", "l", "0", "9223372036854775808"]),
        NOT_INT
    );
    let i = |c: &mut redis::Connection, i: &str| -> Option<String> { q(c, &["LINDEX", "l", i]) };
    assert_eq!(i(&mut c, "0").as_deref(), Some("a"));
    assert_eq!(i(&mut c, "-1").as_deref(), Some("d"));
    assert_eq!(i(&mut c, "-4").as_deref(), Some("a"));
    assert_eq!(i(&mut c, "4"), None);
    assert_eq!(i(&mut c, "-5"), None);
    assert_eq!(i(&mut c, "-9223372036854775808"), None);
    assert_eq!(qerr(&mut c, &["LINDEX", "l", "1.5"]), NOT_INT);
}

#[test]
fn lset_replaces_by_index() {
    let (_s, mut c) = start();
    push(&mut c, "RPUSH", "l", &["a", "b", "c"]);
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "1", "B"]), "OK");
    assert_eq!(q::<String>(&mut c, &["LSET", "l", "-1", "12345"]), "OK");
    assert_eq!(range(&mut c, "l"), ["a", "B", "12345"]);
    assert_eq!(
        qerr(&mut c, &["LSET", "l", "3", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        qerr(&mut c, &["LSET", "l", "-4", "x"]),
        "ERR index out of range"
    );
    assert_eq!(qerr(&mut c, &["LSET", "l", "x", "x"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["LSET", "none", "0", "x"]), "ERR no such key");
    // Redis 7.2 hands the index on as a C int: only its low 32 bits count.
    assert_eq!(
        q::<String>(&mut c, &["LSET", "l", "4294967296", "first"]),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut c, &["LSET", "l", "4294967295", "last"]),
        "OK"
    );
    assert_eq!(range(&mut c, "l"), ["first", "B", "last"]);
}

#[test]
fn pushes_and_changes_keep_the_ttl() {
    let (_s, mut c) = start();
    push(&mut c, "RPUSH", "l", &["a", "b", "c"]);
    q::<i64>(&mut c, &["EXPIRE", "l", "100"]);
    push(&mut c, "LPUSH", "l", &["x"]);
    q::<String>(&mut c, &["LSET", "l", "0", "y"]);
    q::<String>(&mut c, &["LPOP", "l"]);
    q::<i64>(&mut c, &["LINSERT", "l", "AFTER", "a", "z"]);
    assert!(q::<i64>(&mut c, &["TTL", "l"]) > 0);
}

#[test]
fn linsert_before_and_after_the_first_pivot() {
    let (_s, mut c) = start();
    push(&mut c, "RPUSH", "l", &["a", "b", "a", "1"]);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "a", "x"]), 5);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "after", "a", "y"]), 6);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "After", "1", "2"]), 7);
    assert_eq!(range(&mut c, "l"), ["x", "a", "y", "b", "a", "1", "2"]);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "01", "z"]), -1);
    assert_eq!(
        q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "nope", "z"]),
        -1
    );
    assert_eq!(
        q::<i64>(&mut c, &["LINSERT", "none", "BEFORE", "a", "z"]),
        0
    );
    assert!(!exists(&mut c, "none"));
    assert_eq!(qerr(&mut c, &["LINSERT", "l", "BETWEEN", "a", "z"]), SYNTAX);
}

#[test]
fn lrem_from_the_head_the_tail_or_everywhere() {
    let (_s, mut c) = start();
    let fresh = |c: &mut redis::Connection| {
        q::<i64>(c, &["DEL", "l"]);
        push(c, "RPUSH", "l", &["a", "b", "a", "c", "a", "10"]);
    };
    fresh(&mut c);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "2", "a"]), 2);
    assert_eq!(range(&mut c, "l"), ["b", "c", "a", "10"]);
    fresh(&mut c);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "-2", "a"]), 2);
    assert_eq!(range(&mut c, "l"), ["a", "b", "c", "10"]);
    fresh(&mut c);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "a"]), 3);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "10"]), 1);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "010"]), 0);
    assert_eq!(range(&mut c, "l"), ["b", "c"]);
    // Redis negates a negative count; LONG_MIN stays negative and removes every match.
    fresh(&mut c);
    assert_eq!(
        q::<i64>(&mut c, &["LREM", "l", "-9223372036854775808", "a"]),
        3
    );
    assert_eq!(
        q::<i64>(&mut c, &["LREM", "l", "9223372036854775807", "b"]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "0", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "1", "10"]), 1);
    assert!(!exists(&mut c, "l"));
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "1", "10"]), 0);
}

#[test]
fn ltrim_keeps_a_range_and_deletes_an_emptied_list() {
    let (_s, mut c) = start();
    let fresh = |c: &mut redis::Connection| {
        q::<i64>(c, &["DEL", "l"]);
        push(c, "RPUSH", "l", &["a", "b", "c", "d", "e"]);
    };
    for (start, stop, want) in [
        ("1", "-2", &["b", "c", "d"][..]),
        ("0", "0", &["a"]),
        ("-2", "100", &["d", "e"]),
        ("-100", "1", &["a", "b"]),
        (
            "-9223372036854775808",
            "9223372036854775807",
            &["a", "b", "c", "d", "e"],
        ),
    ] {
        fresh(&mut c);
        assert_eq!(q::<String>(&mut c, &["LTRIM", "l", start, stop]), "OK");
        assert_eq!(range(&mut c, "l"), want, "{start} {stop}");
    }
    for (start, stop) in [("3", "1"), ("5", "10"), ("0", "-6")] {
        fresh(&mut c);
        assert_eq!(q::<String>(&mut c, &["LTRIM", "l", start, stop]), "OK");
        assert!(!exists(&mut c, "l"), "{start} {stop}");
    }
    assert_eq!(q::<String>(&mut c, &["LTRIM", "none", "0", "1"]), "OK");
}

#[test]
fn lpos_rank_count_and_maxlen() {
    let (_s, mut c) = start();
    push(
        &mut c,
        "RPUSH",
        "l",
        &["a", "b", "c", "1", "2", "3", "c", "c"],
    );
    let p = |c: &mut redis::Connection, extra: &[&str]| -> Value {
        let mut args = vec!["LPOS", "l"];
        args.extend_from_slice(extra);
        q(c, &args)
    };
    assert_eq!(p(&mut c, &["c"]), Value::Int(2));
    assert_eq!(p(&mut c, &["c", "RANK", "2"]), Value::Int(6));
    assert_eq!(p(&mut c, &["c", "RANK", "-1"]), Value::Int(7));
    assert_eq!(p(&mut c, &["c", "RANK", "-3"]), Value::Int(2));
    assert_eq!(p(&mut c, &["c", "RANK", "4"]), Value::Nil);
    assert_eq!(p(&mut c, &["c", "COUNT", "0"]), ints(&[2, 6, 7]));
    assert_eq!(p(&mut c, &["c", "COUNT", "2"]), ints(&[2, 6]));
    assert_eq!(p(&mut c, &["c", "COUNT", "2", "RANK", "-1"]), ints(&[7, 6]));
    assert_eq!(p(&mut c, &["c", "RANK", "2", "COUNT", "10"]), ints(&[6, 7]));
    assert_eq!(p(&mut c, &["c", "MAXLEN", "3"]), Value::Int(2));
    assert_eq!(p(&mut c, &["c", "MAXLEN", "2"]), Value::Nil);
    assert_eq!(
        p(&mut c, &["c", "COUNT", "0", "MAXLEN", "7"]),
        ints(&[2, 6])
    );
    assert_eq!(
        p(&mut c, &["c", "RANK", "-1", "MAXLEN", "1", "COUNT", "0"]),
        ints(&[7])
    );
    assert_eq!(p(&mut c, &["2"]), Value::Int(4));
    assert_eq!(p(&mut c, &["x", "COUNT", "5"]), ints(&[]));
    assert_eq!(p(&mut c, &["c", "RANK", "9223372036854775807"]), Value::Nil);
    assert_eq!(
        p(&mut c, &["c", "RANK", "-9223372036854775807"]),
        Value::Nil
    );
    for (args, err) in [
        (
            &["c", "RANK", "0"][..],
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second \
             ... or use negative to start from the end of the list",
        ),
        (
            &["c", "RANK", "-9223372036854775808"],
            "ERR value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ),
        (&["c", "RANK", "x"], NOT_INT),
        (&["c", "COUNT", "-1"], "ERR COUNT can't be negative"),
        (&["c", "COUNT", "x"], "ERR COUNT can't be negative"),
        (&["c", "MAXLEN", "-1"], "ERR MAXLEN can't be negative"),
        (&["c", "MAXLEN"], SYNTAX),
        (&["c", "FOO", "1"], SYNTAX),
    ] {
        let mut full = vec!["LPOS", "l"];
        full.extend_from_slice(args);
        assert_eq!(qerr(&mut c, &full), err, "{args:?}");
    }
    // Options are parsed before the key is looked up.
    assert!(qerr(&mut c, &["LPOS", "none", "c", "RANK", "0"]).starts_with("ERR RANK can't"));
    assert_eq!(val(&mut c, &["LPOS", "none", "c", "COUNT", "1"]), ints(&[]));
}

// ---------------------------------------------------------------------------------------------
// Moves and multi-key pops, on one shard and across shards

#[test]
fn lmove_in_every_direction_and_rpoplpush() {
    let (_s, mut c) = start();
    let (src, dst) = cross("mv");
    push(&mut c, "RPUSH", &src, &["a", "b", "c"]);
    assert_eq!(
        val(&mut c, &["LMOVE", &src, &dst, "LEFT", "LEFT"]),
        bulk("a")
    );
    assert_eq!(
        val(&mut c, &["LMOVE", &src, &dst, "right", "left"]),
        bulk("c")
    );
    assert_eq!(
        val(&mut c, &["LMOVE", &src, &dst, "LEFT", "RIGHT"]),
        bulk("b")
    );
    assert!(!exists(&mut c, &src), "the emptied source is deleted");
    assert_eq!(range(&mut c, &dst), ["c", "a", "b"]);
    assert_eq!(
        val(&mut c, &["LMOVE", &dst, &src, "RIGHT", "RIGHT"]),
        bulk("b")
    );
    assert_eq!(val(&mut c, &["RPOPLPUSH", &dst, &src]), bulk("a"));
    assert_eq!(range(&mut c, &src), ["a", "b"]);
    assert_eq!(range(&mut c, &dst), ["c"]);
    // The same list: a rotation.
    push(&mut c, "RPUSH", "r", &["1", "2", "3"]);
    assert_eq!(val(&mut c, &["RPOPLPUSH", "r", "r"]), bulk("3"));
    assert_eq!(
        val(&mut c, &["LMOVE", "r", "r", "LEFT", "RIGHT"]),
        bulk("3")
    );
    assert_eq!(range(&mut c, "r"), ["1", "2", "3"]);
    push(&mut c, "RPUSH", "one", &["x"]);
    assert_eq!(
        val(&mut c, &["LMOVE", "one", "one", "LEFT", "LEFT"]),
        bulk("x")
    );
    assert_eq!(range(&mut c, "one"), ["x"]);
    // Missing source: nil, and no destination appears.
    assert_eq!(
        val(&mut c, &["LMOVE", "none", "new", "LEFT", "LEFT"]),
        Value::Nil
    );
    assert!(!exists(&mut c, "new"));
    assert_eq!(qerr(&mut c, &["LMOVE", "r", "r", "LEFT", "MIDDLE"]), SYNTAX);
    // A destination of another type on the other shard: error, nothing moved.
    let (a, b) = cross("wt");
    push(&mut c, "RPUSH", &a, &["x"]);
    q::<()>(&mut c, &["SET", &b, "s"]);
    assert_eq!(qerr(&mut c, &["LMOVE", &a, &b, "LEFT", "LEFT"]), WRONGTYPE);
    assert_eq!(range(&mut c, &a), ["x"]);
}

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let (_s, mut c) = start();
    let (a, b) = cross("mp");
    push(&mut c, "RPUSH", &b, &["1", "2", "3"]);
    assert_eq!(
        val(&mut c, &["LMPOP", "2", &a, &b, "LEFT"]),
        Value::Array(vec![bulk(&b), bulks(&["1"])])
    );
    assert_eq!(
        val(&mut c, &["LMPOP", "2", &a, &b, "RIGHT", "COUNT", "5"]),
        Value::Array(vec![bulk(&b), bulks(&["3", "2"])])
    );
    assert!(!exists(&mut c, &b));
    assert_eq!(val(&mut c, &["LMPOP", "2", &a, &b, "LEFT"]), Value::Nil);
    push(&mut c, "RPUSH", &a, &["x", "y"]);
    push(&mut c, "RPUSH", &b, &["z"]);
    assert_eq!(
        val(&mut c, &["LMPOP", "2", &a, &b, "left", "count", "1"]),
        Value::Array(vec![bulk(&a), bulks(&["x"])])
    );
    for (args, err) in [
        (
            &["LMPOP", "0", "k", "LEFT"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["LMPOP", "-1", "k", "LEFT"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["LMPOP", "x", "k", "LEFT"],
            "ERR numkeys should be greater than 0",
        ),
        (&["LMPOP", "2", "k", "LEFT"], SYNTAX),
        (&["LMPOP", "9223372036854775807", "k", "LEFT"], SYNTAX),
        (&["LMPOP", "1", "k", "UP"], SYNTAX),
        (&["LMPOP", "1", "k", "LEFT", "COUNT"], SYNTAX),
        (
            &["LMPOP", "1", "k", "LEFT", "COUNT", "0"],
            "ERR count should be greater than 0",
        ),
        (
            &["LMPOP", "1", "k", "LEFT", "COUNT", "x"],
            "ERR count should be greater than 0",
        ),
        (
            &["LMPOP", "1", "k", "LEFT", "COUNT", "1", "COUNT", "1"],
            SYNTAX,
        ),
        (&["LMPOP", "1", "k"], arity("lmpop").as_str()),
    ] {
        assert_eq!(qerr(&mut c, args), err, "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking commands: the paths that answer at once

#[test]
fn blocking_pops_serve_lists_with_data_at_once() {
    let (_s, mut c) = start();
    let (a, b) = cross("bp");
    push(&mut c, "RPUSH", &b, &["1", "2", "3"]);
    assert_eq!(
        val(&mut c, &["BLPOP", &a, &b, "0"]),
        Value::Array(vec![bulk(&b), bulk("1")])
    );
    assert_eq!(
        val(&mut c, &["BRPOP", &a, &b, "1.5"]),
        Value::Array(vec![bulk(&b), bulk("3")])
    );
    assert_eq!(
        val(&mut c, &["BLMPOP", "0", "2", &a, &b, "LEFT", "COUNT", "10"]),
        Value::Array(vec![bulk(&b), bulks(&["2"])])
    );
    assert!(!exists(&mut c, &b));
    push(&mut c, "RPUSH", &a, &["x", "y"]);
    assert_eq!(
        val(&mut c, &["BLMOVE", &a, &b, "RIGHT", "LEFT", "0"]),
        bulk("y")
    );
    assert_eq!(val(&mut c, &["BRPOPLPUSH", &a, &b, "0"]), bulk("x"));
    assert_eq!(range(&mut c, &b), ["x", "y"]);
    assert!(!exists(&mut c, &a));
    // Empty keys and a short timeout: the timeout reply.
    assert_eq!(val(&mut c, &["BLPOP", &a, "0.05"]), Value::Nil);
    assert_eq!(
        val(&mut c, &["BLMOVE", &a, &b, "LEFT", "LEFT", "0.05"]),
        Value::Nil
    );
    // An empty source blocks even when the destination has another type.
    q::<()>(&mut c, &["SET", "str", "v"]);
    assert_eq!(
        val(&mut c, &["BLMOVE", &a, "str", "LEFT", "LEFT", "0.05"]),
        Value::Nil
    );
    assert_eq!(val(&mut c, &["BRPOPLPUSH", &a, "str", "0.05"]), Value::Nil);
}

#[test]
fn blocking_commands_check_their_arguments() {
    let (_s, mut c) = start();
    const NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
    const NEGATIVE: &str = "ERR timeout is negative";
    for (args, err) in [
        (&["BLPOP", "k", "-1"][..], NEGATIVE),
        (&["BLPOP", "k", "x"], NOT_FLOAT),
        (&["BRPOP", "k", "inf"], "ERR timeout is out of range"),
        (&["BRPOP", "k", "nan"], NOT_FLOAT),
        (&["BLMOVE", "k", "d", "LEFT", "UP", "0"], SYNTAX),
        (&["BLMOVE", "k", "d", "LEFT", "LEFT", "-2"], NEGATIVE),
        (&["BRPOPLPUSH", "k", "d", "x"], NOT_FLOAT),
        (&["BLMPOP", "x", "1", "k", "LEFT"], NOT_FLOAT),
        (
            &["BLMPOP", "0", "0", "k", "LEFT"],
            "ERR numkeys should be greater than 0",
        ),
        // numkeys, where and count are parsed before the timeout.
        (&["BLMPOP", "x", "2", "k", "LEFT"], SYNTAX),
        (
            &["BLMPOP", "-1", "1", "k", "LEFT", "COUNT", "0"],
            "ERR count should be greater than 0",
        ),
        (&["BLPOP", "k"], arity("blpop").as_str()),
        (&["BLMPOP", "0", "1", "k"], arity("blmpop").as_str()),
    ] {
        assert_eq!(qerr(&mut c, args), err, "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Encodings

#[test]
fn encoding_follows_the_byte_limit_of_one_node() {
    let (_s, mut c) = start();
    let v = "x".repeat(100);
    // 100-byte strings take 103 bytes; the 80th would take the listpack past 8192 bytes.
    for _ in 0..79 {
        push(&mut c, "RPUSH", "l", &[&v]);
    }
    assert_eq!(encoding(&mut c, "l"), "listpack");
    push(&mut c, "RPUSH", "l", &[&v]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    // Back only at a single node of half the limit: 39 elements (7 + 39 * 103 <= 4096).
    q::<Vec<String>>(&mut c, &["RPOP", "l", "40"]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    q::<String>(&mut c, &["RPOP", "l"]);
    assert_eq!(encoding(&mut c, "l"), "listpack");
    // A single element bigger than a node.
    push(&mut c, "RPUSH", "big", &[&"y".repeat(9000)]);
    assert_eq!(encoding(&mut c, "big"), "quicklist");
    // Redis weighs pushed arguments by their length, stored elements by their encoding:
    // 2000 small integers in one push weigh 6890 bytes, then take 5872 + 7 stored.
    let nums: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = nums.iter().map(String::as_str).collect();
    push(&mut c, "RPUSH", "n", &refs);
    assert_eq!(encoding(&mut c, "n"), "listpack");
    // 5879 + 2300 <= 8192, and the entry takes 2304 bytes: 8183.
    push(&mut c, "RPUSH", "n", &[&"x".repeat(2300)]);
    assert_eq!(encoding(&mut c, "n"), "listpack");
    push(&mut c, "RPUSH", "n", &["a"]);
    assert_eq!(encoding(&mut c, "n"), "listpack", "8183 + 1, then 8186");
    push(&mut c, "RPUSH", "n", &["abcdefg"]);
    assert_eq!(encoding(&mut c, "n"), "quicklist", "8186 + 7 > 8192");
}

#[test]
fn encoding_follows_a_count_limit_set_by_config() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
    push(&mut c, "RPUSH", "l", &["a", "b", "c", "d"]);
    assert_eq!(encoding(&mut c, "l"), "listpack");
    push(&mut c, "RPUSH", "l", &["e"]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    q::<String>(&mut c, &["RPOP", "l"]);
    q::<String>(&mut c, &["RPOP", "l"]);
    assert_eq!(
        encoding(&mut c, "l"),
        "quicklist",
        "3 elements: over half of 4"
    );
    q::<String>(&mut c, &["LPOP", "l"]);
    assert_eq!(encoding(&mut c, "l"), "listpack");
    // LINSERT converts before searching the pivot, even when it is missing.
    push(&mut c, "RPUSH", "i", &["a", "b", "c", "d"]);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "i", "BEFORE", "zz", "x"]), -1);
    assert_eq!(encoding(&mut c, "i"), "quicklist");
    // So does LSET, which may then shrink back at once.
    push(&mut c, "RPUSH", "s", &["a", "b"]);
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "2"]);
    assert_eq!(
        qerr(&mut c, &["LSET", "s", "5", "x"]),
        "ERR index out of range"
    );
    assert_eq!(encoding(&mut c, "s"), "quicklist");
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
    q::<String>(&mut c, &["LSET", "s", "0", "x"]);
    assert_eq!(encoding(&mut c, "s"), "listpack");
    // LTRIM and LREM shrink too; LMOVE grows the destination.
    push(&mut c, "RPUSH", "t", &["1", "2", "3", "4", "5", "6"]);
    assert_eq!(encoding(&mut c, "t"), "quicklist");
    q::<String>(&mut c, &["LTRIM", "t", "0", "1"]);
    assert_eq!(encoding(&mut c, "t"), "listpack");
    push(&mut c, "RPUSH", "t", &["3", "4"]);
    q::<String>(&mut c, &["LMOVE", "l", "t", "LEFT", "RIGHT"]);
    assert_eq!(encoding(&mut c, "t"), "quicklist");
    // Nodes [1 2 3 4] [b]: removals keep two nodes until one goes.
    assert_eq!(q::<i64>(&mut c, &["LREM", "t", "0", "3"]), 1);
    assert_eq!(q::<i64>(&mut c, &["LREM", "t", "-2", "4"]), 1);
    assert_eq!(encoding(&mut c, "t"), "quicklist");
    assert_eq!(q::<i64>(&mut c, &["LREM", "t", "1", "b"]), 1);
    assert_eq!(encoding(&mut c, "t"), "listpack");
    assert_eq!(range(&mut c, "t"), ["1", "2"]);
    // Size limits from config: -1 is 4096 bytes.
    q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "-1"]);
    let v = "v".repeat(100);
    for _ in 0..39 {
        push(&mut c, "RPUSH", "s1", &[&v]);
    }
    assert_eq!(encoding(&mut c, "s1"), "listpack");
    push(&mut c, "RPUSH", "s1", &[&v]);
    assert_eq!(encoding(&mut c, "s1"), "quicklist");
}

#[test]
fn moved_and_copied_lists_keep_their_contents_and_encoding() {
    let (_s, mut c) = start();
    let (a, b) = cross("cp");
    let vals: Vec<String> = (0..3000).map(|i| format!("e{i}")).collect();
    let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
    push(&mut c, "RPUSH", &a, &refs);
    assert_eq!(q::<i64>(&mut c, &["COPY", &a, &b]), 1);
    assert_eq!(encoding(&mut c, &b), "quicklist");
    assert_eq!(range(&mut c, &b), vals);
    q::<()>(&mut c, &["RENAME", &b, "renamed"]);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "renamed"]), 3000);
    assert_eq!(q::<String>(&mut c, &["LINDEX", "renamed", "1500"]), "e1500");
}

// ---------------------------------------------------------------------------------------------
// Random command sequences against a model

struct Rand(u64);

impl Rand {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn call(c: &mut redis::Connection, args: &[String]) -> Result<Value, String> {
    let mut cmd = redis::cmd(&args[0]);
    for a in &args[1..] {
        cmd.arg(a.as_str());
    }
    cmd.query::<Value>(c).map_err(|e| {
        format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))
            .trim()
            .to_string()
    })
}

fn norm(i: i64, len: usize) -> i64 {
    if i < 0 {
        len as i64 + i
    } else {
        i
    }
}

/// What the model answers for `args` (the keys are lists 0 and 1 of `m`).
fn model_apply(
    m: &mut [VecDeque<String>; 2],
    keys: &[String; 2],
    args: &[String],
) -> Result<Value, String> {
    let k = |name: &String| keys.iter().position(|x| x == name).unwrap();
    let b = |s: &String| Value::BulkString(s.as_bytes().to_vec());
    let arr = |v: Vec<Value>| Value::Array(v);
    let cmd = args[0].as_str();
    let l = k(&args[1]);
    let int = |s: &String| s.parse::<i64>().unwrap();
    Ok(match cmd {
        "LPUSH" | "RPUSH" => {
            for v in &args[2..] {
                if cmd == "LPUSH" {
                    m[l].push_front(v.clone());
                } else {
                    m[l].push_back(v.clone());
                }
            }
            Value::Int(m[l].len() as i64)
        }
        "LPOP" | "RPOP" => {
            let front = cmd == "LPOP";
            match args.get(2) {
                None => {
                    let v = if front {
                        m[l].pop_front()
                    } else {
                        m[l].pop_back()
                    };
                    v.map_or(Value::Nil, |v| b(&v))
                }
                Some(_) if m[l].is_empty() => Value::Nil,
                Some(n) => {
                    let n = int(n) as usize;
                    let got: Vec<Value> = (0..n)
                        .map_while(|_| {
                            if front {
                                m[l].pop_front()
                            } else {
                                m[l].pop_back()
                            }
                        })
                        .map(|v| b(&v))
                        .collect();
                    arr(got)
                }
            }
        }
        "LLEN" => Value::Int(m[l].len() as i64),
        "LRANGE" => {
            let len = m[l].len() as i64;
            let s = norm(int(&args[2]), m[l].len()).max(0);
            let e = norm(int(&args[3]), m[l].len()).min(len - 1);
            arr(if s > e || s >= len {
                vec![]
            } else {
                (s..=e).map(|i| b(&m[l][i as usize])).collect()
            })
        }
        "LINDEX" => {
            let i = norm(int(&args[2]), m[l].len());
            m[l].get(usize::try_from(i).unwrap_or(usize::MAX))
                .map_or(Value::Nil, b)
        }
        "LSET" => {
            if m[l].is_empty() {
                return Err("ERR no such key".into());
            }
            let i = norm(int(&args[2]), m[l].len());
            match m[l].get_mut(usize::try_from(i).unwrap_or(usize::MAX)) {
                Some(x) => {
                    *x = args[3].clone();
                    Value::Okay
                }
                None => return Err("ERR index out of range".into()),
            }
        }
        "LINSERT" => {
            if m[l].is_empty() {
                return Ok(Value::Int(0));
            }
            match m[l].iter().position(|x| *x == args[3]) {
                Some(p) => {
                    let at = if args[2] == "AFTER" { p + 1 } else { p };
                    m[l].insert(at, args[4].clone());
                    Value::Int(m[l].len() as i64)
                }
                None => Value::Int(-1),
            }
        }
        "LREM" => {
            let count = int(&args[2]);
            let limit = if count == 0 {
                usize::MAX
            } else {
                count.unsigned_abs() as usize
            };
            let mut idx: Vec<usize> = (0..m[l].len()).filter(|&i| m[l][i] == args[3]).collect();
            if count < 0 {
                idx.reverse();
            }
            idx.truncate(limit);
            idx.sort_unstable();
            for &i in idx.iter().rev() {
                m[l].remove(i);
            }
            Value::Int(idx.len() as i64)
        }
        "LTRIM" => {
            let len = m[l].len() as i64;
            let s = norm(int(&args[2]), m[l].len()).max(0);
            let e = norm(int(&args[3]), m[l].len()).min(len - 1);
            if s > e || s >= len {
                m[l].clear();
            } else {
                m[l].truncate(e as usize + 1);
                m[l].drain(..s as usize);
            }
            Value::Okay
        }
        "LPOS" => {
            let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
            let mut j = 3;
            while j < args.len() {
                let v = int(&args[j + 1]);
                match args[j].as_str() {
                    "RANK" => rank = v,
                    "COUNT" => count = Some(v as usize),
                    _ => maxlen = v as usize,
                }
                j += 2;
            }
            let len = m[l].len();
            let order: Vec<usize> = if rank < 0 {
                (0..len).rev().collect()
            } else {
                (0..len).collect()
            };
            let mut found = Vec::new();
            let mut matches = 0;
            for (scanned, i) in order.into_iter().enumerate() {
                if maxlen != 0 && scanned >= maxlen {
                    break;
                }
                if m[l][i] == args[2] {
                    matches += 1;
                    if matches >= rank.unsigned_abs() {
                        found.push(Value::Int(i as i64));
                        if found.len() >= count.unwrap_or(1).max(1) && count != Some(0) {
                            break;
                        }
                    }
                }
            }
            match count {
                Some(_) => arr(found),
                None => found.pop().unwrap_or(Value::Nil),
            }
        }
        "LMOVE" => {
            let d = k(&args[2]);
            let v = if args[3] == "LEFT" {
                m[l].pop_front()
            } else {
                m[l].pop_back()
            };
            match v {
                None => Value::Nil,
                Some(v) => {
                    if args[4] == "LEFT" {
                        m[d].push_front(v.clone());
                    } else {
                        m[d].push_back(v.clone());
                    }
                    b(&v)
                }
            }
        }
        other => unreachable!("{other}"),
    })
}

fn random_command(r: &mut Rand, keys: &[String; 2], values: &[&str]) -> Vec<String> {
    let key = keys[r.below(2) as usize].clone();
    let v = |r: &mut Rand| values[r.below(values.len() as u64) as usize].to_string();
    let idx = |r: &mut Rand| (r.below(30) as i64 - 15).to_string();
    let s = |x: &str| x.to_string();
    match r.below(14) {
        0 | 1 => {
            let mut a = vec![s(if r.below(2) == 0 { "LPUSH" } else { "RPUSH" }), key];
            for _ in 0..1 + r.below(6) {
                a.push(v(r));
            }
            a
        }
        2 => {
            let mut a = vec![s(if r.below(2) == 0 { "LPOP" } else { "RPOP" }), key];
            if r.below(2) == 0 {
                a.push(r.below(5).to_string());
            }
            a
        }
        3 => vec![s("LRANGE"), key, idx(r), idx(r)],
        4 => vec![s("LINDEX"), key, idx(r)],
        5 => vec![s("LSET"), key, idx(r), v(r)],
        6 => {
            let w = s(if r.below(2) == 0 { "BEFORE" } else { "AFTER" });
            vec![s("LINSERT"), key, w, v(r), v(r)]
        }
        7 => vec![s("LREM"), key, (r.below(7) as i64 - 3).to_string(), v(r)],
        8 => vec![s("LTRIM"), key, idx(r), idx(r)],
        9 => {
            let mut a = vec![s("LPOS"), key, v(r)];
            if r.below(2) == 0 {
                let rank = r.below(3) as i64 + 1;
                a.extend([
                    s("RANK"),
                    (if r.below(2) == 0 { rank } else { -rank }).to_string(),
                ]);
            }
            if r.below(2) == 0 {
                a.extend([s("COUNT"), r.below(3).to_string()]);
            }
            if r.below(3) == 0 {
                a.extend([s("MAXLEN"), r.below(8).to_string()]);
            }
            a
        }
        10 | 11 => {
            let end = |r: &mut Rand| s(if r.below(2) == 0 { "LEFT" } else { "RIGHT" });
            let other = keys[r.below(2) as usize].clone();
            vec![s("LMOVE"), key, other, end(r), end(r)]
        }
        12 => vec![s("LLEN"), key],
        _ => vec![s("LRANGE"), key, s("0"), s("-1")],
    }
}

#[test]
fn random_commands_agree_with_a_model() {
    // Small node limits make pushes, inserts and removals split and merge nodes.
    for (fill, seed, values) in [
        (
            "4",
            0x1234_5678_9abc_def1u64,
            &["a", "b", "c", "1", "-2", "300"][..],
        ),
        ("1", 0x0fed_cba9_8765_4321, &["a", "b", "7"]),
        (
            "-1",
            0x5555_aaaa_3333_cccc,
            &["x", "y", "1", &"long".repeat(150)],
        ),
        (
            "-2",
            0x2468_ace0_1357_9bdf,
            &["a", "b", "c", "d", "10", "20", "abc"],
        ),
    ] {
        let (_s, mut c) = start();
        q::<()>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", fill]);
        let keys = [key_on(0, 2, "ma"), key_on(1, 2, "mb")];
        let mut model = [VecDeque::new(), VecDeque::new()];
        let mut r = Rand(seed);
        for step in 0..1500 {
            let args = random_command(&mut r, &keys, values);
            let want = model_apply(&mut model, &keys, &args);
            let got = call(&mut c, &args);
            assert_eq!(got, want, "fill {fill} step {step}: {args:?}");
            if step % 50 == 0 {
                for (i, k) in keys.iter().enumerate() {
                    assert_eq!(range(&mut c, k), Vec::from(model[i].clone()), "step {step}");
                }
            }
        }
    }
}
