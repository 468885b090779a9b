//! The stream family over TCP with the `redis` crate, on a 2-shard server: every command, its
//! options and errors (Redis' exact texts), consumer groups with several consumers, recovery
//! of a vanished consumer's entries, blocking XREAD / XREADGROUP woken from other clients and
//! across shards, RESP3 replies, and a seeded randomized model test.
//!
//! `REFERENCE_PORT=<port>` runs the tests against a real Redis instead (see
//! `common::Target`); the few 7.2-only behaviours are skipped there (the reference is 7.0).

mod common;

use common::{arity, key_on, q, qerr, start, NOT_INT, SYNTAX};
use redis::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A reply as compact text: bulk strings as they are, `nil`, `[a b]` for arrays, `{k: v}` for
/// maps, `:n` for integers.
fn show(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(i) => format!(":{i}"),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(a) | Value::Set(a) => {
            format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(" "))
        }
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

/// Runs a command and shows its reply (see [`show`]).
fn s(c: &mut redis::Connection, args: &[&str]) -> String {
    show(&q::<Value>(c, args))
}

/// A map reply (RESP2: flat pairs) as field -> shown value.
fn fields(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::Array(a) => a.chunks(2).map(|p| (show(&p[0]), show(&p[1]))).collect(),
        Value::Map(m) => m.iter().map(|(k, v)| (show(k), show(v))).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn info(c: &mut redis::Connection, key: &str) -> BTreeMap<String, String> {
    fields(&q::<Value>(c, &["XINFO", "STREAM", key]))
}

fn groups(c: &mut redis::Connection, key: &str) -> Vec<BTreeMap<String, String>> {
    match q::<Value>(c, &["XINFO", "GROUPS", key]) {
        Value::Array(a) => a.iter().map(fields).collect(),
        other => panic!("{other:?}"),
    }
}

fn xadd(c: &mut redis::Connection, key: &str, id: &str, pairs: &[&str]) -> String {
    let mut args = vec!["XADD", key, id];
    args.extend_from_slice(pairs);
    q(c, &args)
}

fn config_set(c: &mut redis::Connection, name: &str, value: &str) {
    q::<()>(c, &["CONFIG", "SET", name, value]);
}

// ---------------------------------------------------------------------------------------------
// A raw RESP connection: exact bytes, RESP3, and commands that block.

struct Raw {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Raw {
    fn open(port: u16, resp3: bool) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut raw = Raw {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        };
        if resp3 {
            raw.call(&["HELLO", "3"]);
        }
        raw
    }

    fn send(&mut self, args: &[&str]) {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            buf.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.w.write_all(&buf).unwrap();
    }

    fn recv(&mut self) -> String {
        let mut out = Vec::new();
        self.read_into(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn read_into(&mut self, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).unwrap();
        assert!(line.len() >= 3, "connection closed");
        out.extend_from_slice(&line);
        let head = std::str::from_utf8(&line[1..line.len() - 2]).unwrap_or("");
        let n: i64 = head.parse().unwrap_or(0);
        match line[0] {
            b'$' | b'=' | b'!' if n >= 0 => {
                let mut body = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut body).unwrap();
                out.extend_from_slice(&body);
            }
            b'*' | b'~' | b'>' => (0..n.max(0)).for_each(|_| self.read_into(out)),
            b'%' | b'|' => (0..2 * n).for_each(|_| self.read_into(out)),
            _ => {}
        }
    }

    fn call(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.recv()
    }
}

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(c: &mut redis::Connection, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info: String = q(c, &["INFO", "clients"]);
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .map(|v| v.trim().parse::<usize>().unwrap())
            .unwrap_or(0);
        if blocked == n {
            return;
        }
        assert!(Instant::now() < deadline, "{blocked} blocked, expected {n}");
        thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------------------------
// XADD

#[test]
fn xadd_ids_explicit_automatic_and_partial() {
    let (_s, mut c) = start();
    assert_eq!(xadd(&mut c, "s", "1-1", &["a", "1"]), "1-1");
    assert_eq!(qerr(&mut c, &["XADD", "s", "1-1", "a", "1"]), TOO_SMALL);
    assert_eq!(qerr(&mut c, &["XADD", "s", "1-0", "a", "1"]), TOO_SMALL);
    assert_eq!(xadd(&mut c, "s", "1-*", &["a", "2"]), "1-2");
    assert_eq!(xadd(&mut c, "s", "5-*", &["a", "3"]), "5-0");
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "5", "a", "4"]),
        TOO_SMALL,
        "5 is 5-0"
    );
    assert_eq!(xadd(&mut c, "s", "6", &["a", "4"]), "6-0");
    assert_eq!(qerr(&mut c, &["XADD", "s", "4-*", "a", "1"]), TOO_SMALL);
    let auto = xadd(&mut c, "s", "*", &["a", "5"]);
    let (ms, seq) = auto.split_once('-').unwrap();
    assert!(ms.parse::<u64>().unwrap() > 1_600_000_000_000 && seq == "0");
    assert_eq!(
        qerr(&mut c, &["XADD", "t", "0-0", "a", "1"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "t"]), 0, "no key left behind");
    assert_eq!(xadd(&mut c, "t", "0-*", &["a", "1"]), "0-1");
    for bad in ["abc", "-", "+", "1-x", "-1", "1-2-3", "", "1--1"] {
        assert_eq!(
            qerr(&mut c, &["XADD", "u", bad, "a", "1"]),
            INVALID_ID,
            "{bad}"
        );
    }
    // Redis reads a number as C's strtoull would.
    assert_eq!(xadd(&mut c, "u", "007-+1", &["a", "1"]), "7-1");
    // The largest ID, then nothing more.
    let max = "18446744073709551615-18446744073709551615";
    assert_eq!(xadd(&mut c, "m", max, &["a", "1"]), max);
    assert_eq!(
        qerr(&mut c, &["XADD", "m", "*", "a", "1"]),
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );
    assert_eq!(
        xadd(&mut c, "n", "18446744073709551615-*", &["a", "1"]),
        "18446744073709551615-0"
    );
}

#[test]
fn xadd_arguments_and_errors() {
    let (_s, mut c) = start();
    assert_eq!(qerr(&mut c, &["XADD", "s", "*", "a"]), arity("xadd"));
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "*", "a", "1", "b"]),
        arity("xadd")
    );
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "MAXLEN", "5", "*"]),
        arity("xadd")
    );
    assert_eq!(qerr(&mut c, &["XADD", "s"]), arity("xadd"));
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "MAXLEN", "-1", "*", "a", "1"]),
        "ERR The MAXLEN argument must be >= 0."
    );
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "MAXLEN", "x", "*", "a", "1"]),
        NOT_INT
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "1"]
        ),
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
    );
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "LIMIT", "5", "*", "a", "1"]),
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XADD", "s", "MAXLEN", "5", "LIMIT", "5", "*", "a", "1"]
        ),
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "1"]
        ),
        "ERR The LIMIT argument must be >= 0."
    );
    assert_eq!(
        qerr(&mut c, &["XADD", "s", "MINID", "x", "*", "a", "1"]),
        INVALID_ID
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    // NOMKSTREAM: nil and no key when missing, an entry when present.
    assert_eq!(
        s(&mut c, &["XADD", "s", "NOMKSTREAM", "*", "a", "1"]),
        "nil"
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    xadd(&mut c, "s", "1-1", &["a", "1"]);
    assert_eq!(
        s(&mut c, &["XADD", "s", "nomkstream", "2-1", "a", "1"]),
        "2-1"
    );
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XADD", "str", "*", "a", "1"]), WRONGTYPE);
    // Binary and empty fields and values, a field repeated.
    let bin = "\u{0}\r\n\u{ff}";
    xadd(&mut c, "b", "1-1", &[bin, "", "", bin, "f", "1", "f", "2"]);
    assert_eq!(
        s(&mut c, &["XRANGE", "b", "-", "+"]),
        format!("[[1-1 [{bin}   {bin} f 1 f 2]]]")
    );
}

#[test]
fn xadd_and_xtrim_trim_exactly_or_by_whole_nodes() {
    let (_s, mut c) = start();
    config_set(&mut c, "stream-node-max-entries", "10");
    config_set(&mut c, "stream-node-max-bytes", "4096");
    let fill = |c: &mut redis::Connection, key: &str, n: u64| {
        for i in 1..=n {
            xadd(c, key, &format!("{i}-0"), &["f", "v"]);
        }
    };
    // 35 entries: nodes of 10, 10, 10 and 5.
    fill(&mut c, "s", 35);
    assert_eq!(info(&mut c, "s")["radix-tree-keys"], ":4");
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MAXLEN", "~", "12"]), 20);
    assert_eq!(q::<i64>(&mut c, &["XLEN", "s"]), 15);
    assert_eq!(
        q::<i64>(&mut c, &["XTRIM", "s", "MAXLEN", "~", "12"]),
        0,
        "whole nodes only"
    );
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MAXLEN", "=", "12"]), 3);
    assert_eq!(
        s(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "1"]),
        "[[24-0 [f v]]]"
    );
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MAXLEN", "12"]), 0);
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MINID", "30"]), 6);
    // The node of 21..30 holds one live entry now, and its last ID is below 35.
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MINID", "~", "35"]), 1);
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MINID", "=", "35"]), 4);
    assert_eq!(q::<i64>(&mut c, &["XLEN", "s"]), 1);
    // LIMIT caps what ~ removes.
    fill(&mut c, "l", 35);
    assert_eq!(
        q::<i64>(&mut c, &["XTRIM", "l", "MAXLEN", "~", "0", "LIMIT", "15"]),
        10
    );
    assert_eq!(
        q::<i64>(&mut c, &["XTRIM", "l", "MAXLEN", "~", "0", "LIMIT", "0"]),
        25,
        "LIMIT 0: no limit"
    );
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "l"]),
        1,
        "an empty stream stays"
    );
    // XADD trims after adding.
    fill(&mut c, "a", 5);
    assert_eq!(
        s(&mut c, &["XADD", "a", "MAXLEN", "2", "6-0", "f", "v"]),
        "6-0"
    );
    assert_eq!(
        s(&mut c, &["XRANGE", "a", "-", "+"]),
        "[[5-0 [f v]] [6-0 [f v]]]"
    );
    assert_eq!(
        s(&mut c, &["XADD", "a", "MINID", "=", "6", "7-0", "f", "v"]),
        "7-0"
    );
    assert_eq!(q::<i64>(&mut c, &["XLEN", "a"]), 2);
    assert_eq!(
        s(
            &mut c,
            &["XADD", "a", "MAXLEN", "~", "1", "LIMIT", "100", "8-0", "f", "v"]
        ),
        "8-0"
    );
    assert_eq!(
        q::<i64>(&mut c, &["XLEN", "a"]),
        3,
        "one node, not trimmed by ~"
    );
    assert_eq!(
        s(&mut c, &["XADD", "a", "MAXLEN", "0", "9-0", "f", "v"]),
        "9-0"
    );
    assert_eq!(q::<i64>(&mut c, &["XLEN", "a"]), 0);
    assert_eq!(info(&mut c, "a")["last-generated-id"], "9-0");
    // Errors.
    assert_eq!(
        qerr(&mut c, &["XTRIM", "s", "LIMIT", "1"]),
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    );
    assert_eq!(
        qerr(&mut c, &["XTRIM", "s", "LIMIT", "0"]),
        "ERR syntax error, XTRIM must be called with a trimming strategy"
    );
    assert_eq!(qerr(&mut c, &["XTRIM", "s", "FOO", "1"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["XTRIM", "s", "MAXLEN"]), arity("xtrim"));
    assert_eq!(
        qerr(&mut c, &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"]),
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    );
    assert_eq!(qerr(&mut c, &["XTRIM", "s", "MINID", "-"]), INVALID_ID);
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "nokey", "MAXLEN", "0"]), 0);
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XTRIM", "str", "MAXLEN", "0"]), WRONGTYPE);
    assert_eq!(
        s(&mut c, &["CONFIG", "GET", "stream-node-max-entries"]),
        "[stream-node-max-entries 10]"
    );
    assert_eq!(
        s(&mut c, &["CONFIG", "GET", "stream-node-max-bytes"]),
        "[stream-node-max-bytes 4096]"
    );
}

#[test]
fn nodes_also_split_by_bytes() {
    let (_s, mut c) = start();
    config_set(&mut c, "stream-node-max-bytes", "100");
    config_set(&mut c, "stream-node-max-entries", "100");
    let big = "x".repeat(40);
    for i in 1..=6 {
        xadd(&mut c, "s", &format!("{i}-0"), &["f", &big]);
    }
    // A listpack of one entry: header and end 7, counters 2 + 2, master fields 2 + 3 + 2,
    // the entry 2 + 2 + 2 + 42 + 2: 68 bytes; 68 + 41 >= 100, so every entry gets a node.
    assert_eq!(info(&mut c, "s")["radix-tree-keys"], ":6");
    assert_eq!(q::<i64>(&mut c, &["XTRIM", "s", "MAXLEN", "~", "2"]), 4);
}

// ---------------------------------------------------------------------------------------------
// XRANGE, XREVRANGE, XLEN, XDEL

#[test]
fn xrange_and_xrevrange_bounds_and_count() {
    let (_s, mut c) = start();
    for id in ["1-1", "1-2", "2-0", "3-5"] {
        xadd(&mut c, "s", id, &["k", id]);
    }
    let ids = |c: &mut redis::Connection, args: &[&str]| -> Vec<String> {
        let v: Vec<(String, Vec<String>)> = q(c, args);
        v.into_iter().map(|e| e.0).collect()
    };
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "-", "+"]),
        ["1-1", "1-2", "2-0", "3-5"]
    );
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "1", "2"]),
        ["1-1", "1-2", "2-0"]
    );
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "(1-1", "(3-5"]),
        ["1-2", "2-0"]
    );
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "(1", "+"]),
        ["1-1", "1-2", "2-0", "3-5"]
    );
    assert_eq!(ids(&mut c, &["XRANGE", "s", "2-0", "2-0"]), ["2-0"]);
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "3", "1"]),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "2"]),
        ["1-1", "1-2"]
    );
    assert_eq!(
        ids(&mut c, &["XRANGE", "s", "-", "+", "count", "-5"]).len(),
        0
    );
    assert_eq!(s(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "0"]), "nil");
    assert_eq!(
        s(
            &mut c,
            &["XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "3"]
        ),
        "[[1-1 [k 1-1]] [1-2 [k 1-2]] [2-0 [k 2-0]]]"
    );
    assert_eq!(
        ids(&mut c, &["XREVRANGE", "s", "+", "-"]),
        ["3-5", "2-0", "1-2", "1-1"]
    );
    assert_eq!(
        ids(&mut c, &["XREVRANGE", "s", "(3-5", "1-2"]),
        ["2-0", "1-2"]
    );
    assert_eq!(
        ids(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "1"]),
        ["3-5"]
    );
    assert_eq!(ids(&mut c, &["XREVRANGE", "s", "1", "1"]), ["1-2", "1-1"]);
    assert_eq!(s(&mut c, &["XRANGE", "nokey", "-", "+"]), "[]");
    assert_eq!(
        qerr(
            &mut c,
            &[
                "XRANGE",
                "s",
                "(18446744073709551615-18446744073709551615",
                "+"
            ]
        ),
        "ERR invalid start ID for the interval"
    );
    assert_eq!(
        qerr(&mut c, &["XRANGE", "s", "-", "(0-0"]),
        "ERR invalid end ID for the interval"
    );
    assert_eq!(qerr(&mut c, &["XRANGE", "s", "(-", "+"]), INVALID_ID);
    assert_eq!(qerr(&mut c, &["XRANGE", "s", "x", "+"]), INVALID_ID);
    assert_eq!(qerr(&mut c, &["XRANGE", "s", "-", "+", "COUNT"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "x"]),
        NOT_INT
    );
    assert_eq!(qerr(&mut c, &["XRANGE", "s", "-"]), arity("xrange"));
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XRANGE", "str", "-", "+"]), WRONGTYPE);
    assert_eq!(qerr(&mut c, &["XREVRANGE", "str", "+", "-"]), WRONGTYPE);
    assert_eq!(
        qerr(&mut c, &["XRANGE", "str", "x", "+"]),
        INVALID_ID,
        "arguments first"
    );
}

#[test]
fn xdel_and_xlen_keep_the_stream_and_its_bookkeeping() {
    let (_s, mut c) = start();
    for id in ["1-1", "2-1", "3-1"] {
        xadd(&mut c, "s", id, &["f", "v"]);
    }
    assert_eq!(q::<i64>(&mut c, &["XDEL", "s", "2-1", "2-1", "9-9"]), 1);
    assert_eq!(qerr(&mut c, &["XDEL", "s", "1-1", "x"]), INVALID_ID);
    assert_eq!(q::<i64>(&mut c, &["XLEN", "s"]), 2, "all or nothing");
    assert_eq!(q::<i64>(&mut c, &["XDEL", "s", "1-1"]), 1);
    let i = info(&mut c, "s");
    assert_eq!(i["max-deleted-entry-id"], "2-1");
    assert_eq!(i["recorded-first-entry-id"], "3-1");
    assert_eq!(i["entries-added"], ":3");
    assert_eq!(q::<i64>(&mut c, &["XDEL", "s", "3-1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["XLEN", "s"]), 0);
    assert_eq!(s(&mut c, &["TYPE", "s"]), "stream", "an empty stream stays");
    let i = info(&mut c, "s");
    assert_eq!(
        (
            i["length"].as_str(),
            i["first-entry"].as_str(),
            i["recorded-first-entry-id"].as_str()
        ),
        (":0", "nil", "0-0")
    );
    assert_eq!(qerr(&mut c, &["XADD", "s", "3-1", "f", "v"]), TOO_SMALL);
    assert_eq!(
        q::<i64>(&mut c, &["XDEL", "nokey", "x"]),
        0,
        "the key is looked up first"
    );
    assert_eq!(q::<i64>(&mut c, &["XLEN", "nokey"]), 0);
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XDEL", "str", "1-1"]), WRONGTYPE);
    assert_eq!(qerr(&mut c, &["XLEN", "str"]), WRONGTYPE);
}

#[test]
fn xsetid_rules() {
    let (t, mut c) = start();
    xadd(&mut c, "s", "5-0", &["f", "v"]);
    assert_eq!(
        qerr(&mut c, &["XSETID", "s", "4-0"]),
        "ERR The ID specified in XSETID is smaller than the target stream top item"
    );
    q::<()>(
        &mut c,
        &[
            "XSETID",
            "s",
            "10-0",
            "ENTRIESADDED",
            "7",
            "MAXDELETEDID",
            "6-0",
        ],
    );
    let i = info(&mut c, "s");
    assert_eq!(
        (
            &*i["last-generated-id"],
            &*i["entries-added"],
            &*i["max-deleted-entry-id"]
        ),
        ("10-0", ":7", "6-0")
    );
    assert_eq!(qerr(&mut c, &["XADD", "s", "9-0", "f", "v"]), TOO_SMALL);
    assert_eq!(
        qerr(&mut c, &["XSETID", "s", "10-0", "ENTRIESADDED", "0"]),
        "ERR The entries_added specified in XSETID is smaller than the target stream length"
    );
    assert_eq!(
        qerr(&mut c, &["XSETID", "s", "10-0", "ENTRIESADDED", "-1"]),
        "ERR entries_added must be positive"
    );
    assert_eq!(
        qerr(&mut c, &["XSETID", "s", "10-0", "MAXDELETEDID", "11-0"]),
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
    );
    if !t.is_reference() {
        // 7.2 refuses a last ID below the largest deleted one (7.0 did not check).
        assert_eq!(
            qerr(&mut c, &["XSETID", "s", "5-5"]),
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
        );
    }
    assert_eq!(qerr(&mut c, &["XSETID", "s", "x"]), INVALID_ID);
    assert_eq!(qerr(&mut c, &["XSETID", "s", "20-0", "FOO"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["XSETID", "nokey", "1-0"]), "ERR no such key");
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XSETID", "str", "1-0"]), WRONGTYPE);
}

// ---------------------------------------------------------------------------------------------
// XINFO

#[test]
fn xinfo_stream_groups_consumers_and_help() {
    let (t, mut c) = start();
    xadd(&mut c, "s", "1-1", &["a", "1"]);
    xadd(&mut c, "s", "2-1", &["b", "2", "c", "3"]);
    let i = info(&mut c, "s");
    assert_eq!(i["length"], ":2");
    assert_eq!(i["radix-tree-keys"], ":1");
    assert_eq!(i["radix-tree-nodes"], ":2");
    assert_eq!(i["first-entry"], "[1-1 [a 1]]");
    assert_eq!(i["last-entry"], "[2-1 [b 2 c 3]]");
    assert_eq!(i["groups"], ":0");
    assert_eq!(i.len(), 10);
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    q::<Value>(
        &mut c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
    );
    let full = fields(&q::<Value>(&mut c, &["XINFO", "STREAM", "s", "FULL"]));
    assert_eq!(full.len(), 9);
    assert_eq!(full["entries"], "[[1-1 [a 1]] [2-1 [b 2 c 3]]]");
    let g = &full["groups"];
    assert!(g.starts_with("[[name g last-delivered-id 1-1 entries-read :1 lag :1 pel-count :1 pending [[1-1 alice :"), "{g}");
    let full1 = fields(&q::<Value>(
        &mut c,
        &["XINFO", "STREAM", "s", "FULL", "COUNT", "1"],
    ));
    assert_eq!(full1["entries"], "[[1-1 [a 1]]]");
    assert_eq!(
        qerr(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT", "x"]),
        NOT_INT
    );
    let syntax =
        "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.";
    assert_eq!(qerr(&mut c, &["XINFO", "STREAM", "s", "FOO"]), syntax);
    assert_eq!(
        qerr(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT"]),
        syntax
    );
    assert_eq!(
        qerr(&mut c, &["XINFO", "FOO", "s"]),
        "ERR unknown subcommand 'FOO'. Try XINFO HELP."
    );
    assert_eq!(
        qerr(&mut c, &["XINFO", "STREAM", "nokey"]),
        "ERR no such key"
    );
    assert_eq!(
        qerr(&mut c, &["XINFO", "GROUPS", "nokey"]),
        "ERR no such key"
    );
    assert_eq!(
        qerr(&mut c, &["XINFO", "CONSUMERS", "s", "nog"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XINFO", "STREAM", "str"]), WRONGTYPE);
    assert_eq!(qerr(&mut c, &["XINFO", "STREAM"]), arity("xinfo|stream"));
    let gs = groups(&mut c, "s");
    assert_eq!(gs.len(), 1);
    assert_eq!(
        (
            &*gs[0]["name"],
            &*gs[0]["consumers"],
            &*gs[0]["pending"],
            &*gs[0]["lag"]
        ),
        ("g", ":1", ":1", ":1")
    );
    let cons: Vec<BTreeMap<String, String>> =
        match q::<Value>(&mut c, &["XINFO", "CONSUMERS", "s", "g"]) {
            Value::Array(a) => a.iter().map(fields).collect(),
            other => panic!("{other:?}"),
        };
    assert_eq!(cons[0]["name"], "alice");
    assert_eq!(cons[0]["pending"], ":1");
    if !t.is_reference() {
        assert_eq!(cons[0].len(), 4, "7.2 adds inactive");
        assert!(cons[0].contains_key("inactive"));
    }
    let help: Vec<String> = q(&mut c, &["XINFO", "HELP"]);
    assert_eq!(
        help[0],
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(help.len(), 9);
}

// ---------------------------------------------------------------------------------------------
// Consumer groups

#[test]
fn xgroup_subcommands_and_errors() {
    let (_s, mut c) = start();
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want \
         to use the MKSTREAM option to create an empty stream automatically."
    );
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(s(&mut c, &["TYPE", "s"]), "stream");
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]),
        "BUSYGROUP Consumer Group name already exists"
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATE", "s", "g2", "x"]),
        INVALID_ID
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATE", "s", "g2", "-"]),
        INVALID_ID
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-2"]
        ),
        "ERR value for ENTRIESREAD must be positive or -1"
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATE", "s", "g2", "0", "FOO"]),
        "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."
    );
    q::<()>(
        &mut c,
        &["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "3"],
    );
    assert_eq!(
        q::<i64>(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]),
        1
    );
    assert_eq!(
        q::<i64>(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]),
        0
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATECONSUMER", "s", "nog", "c1"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "SETID", "s", "nog", "0"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    q::<()>(&mut c, &["XGROUP", "SETID", "s", "g", "+"]);
    q::<()>(
        &mut c,
        &["XGROUP", "SETID", "s", "g2", "$", "ENTRIESREAD", "0"],
    );
    let gs = groups(&mut c, "s");
    assert_eq!(
        gs[0]["last-delivered-id"],
        "18446744073709551615-18446744073709551615"
    );
    assert_eq!(
        gs[0]["entries-read"], "nil",
        "SETID without ENTRIESREAD forgets it"
    );
    assert_eq!(gs[1]["entries-read"], ":0");
    assert_eq!(
        q::<i64>(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "nobody"]),
        0
    );
    assert_eq!(
        q::<i64>(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "c1"]),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g2"]), 1);
    assert_eq!(q::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g2"]), 0);
    assert_eq!(
        qerr(&mut c, &["XGROUP", "DESTROY", "nokey", "g"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want \
         to use the MKSTREAM option to create an empty stream automatically."
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "FOO", "s", "g"]),
        "ERR unknown subcommand 'FOO'. Try XGROUP HELP."
    );
    assert_eq!(
        qerr(&mut c, &["XGROUP", "DESTROY", "s"]),
        arity("xgroup|destroy")
    );
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(
        qerr(&mut c, &["XGROUP", "CREATE", "str", "g", "0"]),
        WRONGTYPE
    );
    let help: Vec<String> = q(&mut c, &["xgroup", "help"]);
    assert_eq!(
        help[0],
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(help.last().unwrap(), "    Prints this help.");
}

#[test]
fn consumer_groups_share_entries_between_consumers() {
    let (t, mut c) = start();
    for i in 1..=6 {
        xadd(&mut c, "s", &format!("{i}-0"), &["n", &i.to_string()]);
    }
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    let read = |c: &mut redis::Connection, consumer: &str, count: &str, id: &str| {
        s(
            c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                consumer,
                "COUNT",
                count,
                "STREAMS",
                "s",
                id,
            ],
        )
    };
    assert_eq!(
        read(&mut c, "alice", "2", ">"),
        "[[s [[1-0 [n 1]] [2-0 [n 2]]]]]"
    );
    assert_eq!(
        read(&mut c, "bob", "3", ">"),
        "[[s [[3-0 [n 3]] [4-0 [n 4]] [5-0 [n 5]]]]]"
    );
    assert_eq!(read(&mut c, "carol", "5", ">"), "[[s [[6-0 [n 6]]]]]");
    assert_eq!(
        s(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"]
        ),
        "nil",
        "nothing new"
    );
    // Each consumer's history is its own.
    assert_eq!(
        read(&mut c, "alice", "10", "0"),
        "[[s [[1-0 [n 1]] [2-0 [n 2]]]]]"
    );
    assert_eq!(read(&mut c, "bob", "1", "3-0"), "[[s [[4-0 [n 4]]]]]");
    assert_eq!(read(&mut c, "nobody", "10", "0"), "[[s []]]");
    // XACK
    assert_eq!(
        q::<i64>(&mut c, &["XACK", "s", "g", "1-0", "3-0", "3-0", "9-0"]),
        2
    );
    assert_eq!(qerr(&mut c, &["XACK", "s", "g", "x"]), INVALID_ID);
    assert_eq!(
        q::<i64>(&mut c, &["XACK", "s", "nog", "x"]),
        0,
        "no group: 0 before parsing"
    );
    assert_eq!(q::<i64>(&mut c, &["XACK", "nokey", "g", "1-0"]), 0);
    // XPENDING summary and extended forms.
    assert_eq!(
        s(&mut c, &["XPENDING", "s", "g"]),
        "[:4 2-0 6-0 [[alice 1] [bob 2] [carol 1]]]"
    );
    let ext: Vec<(String, String, i64, i64)> = q(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]);
    let owners: Vec<(&str, &str, i64)> = ext
        .iter()
        .map(|e| (e.0.as_str(), e.1.as_str(), e.3))
        .collect();
    assert_eq!(
        owners,
        [
            ("2-0", "alice", 2),
            ("4-0", "bob", 2),
            ("5-0", "bob", 1),
            ("6-0", "carol", 1)
        ]
    );
    assert!(
        ext.iter().all(|e| (0..5000).contains(&e.2)),
        "idle times: {ext:?}"
    );
    let bob: Vec<(String, String, i64, i64)> =
        q(&mut c, &["XPENDING", "s", "g", "(4-0", "+", "10", "bob"]);
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].0, "5-0");
    let none: Vec<Value> = q(
        &mut c,
        &["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"],
    );
    assert!(none.is_empty());
    let two: Vec<Value> = q(&mut c, &["XPENDING", "s", "g", "IDLE", "0", "-", "+", "2"]);
    assert_eq!(two.len(), 2);
    assert_eq!(
        s(&mut c, &["XPENDING", "s", "g", "-", "+", "5", "nobody"]),
        "[]"
    );
    assert_eq!(qerr(&mut c, &["XPENDING", "s", "g", "-", "+"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["XPENDING", "s", "g", "IDLE", "1", "-", "+"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["XPENDING", "s", "g", "-", "+", "x"]),
        NOT_INT
    );
    assert_eq!(
        qerr(&mut c, &["XPENDING", "s", "nog"]),
        "NOGROUP No such key 's' or consumer group 'nog'"
    );
    // Entries read, lag, deleted entries in a consumer's history.
    let gs = groups(&mut c, "s");
    assert_eq!((&*gs[0]["entries-read"], &*gs[0]["lag"]), (":6", ":0"));
    xadd(&mut c, "s", "7-0", &["n", "7"]);
    assert_eq!(groups(&mut c, "s")[0]["lag"], ":1");
    q::<i64>(&mut c, &["XDEL", "s", "2-0"]);
    assert_eq!(read(&mut c, "alice", "10", "0"), "[[s [[2-0 nil]]]]");
    assert_eq!(
        groups(&mut c, "s")[0]["lag"],
        ":1",
        "the tombstone is behind the group"
    );
    q::<i64>(&mut c, &["XDEL", "s", "7-0"]);
    assert_eq!(
        groups(&mut c, "s")[0]["lag"],
        "nil",
        "a tombstone ahead: unknown"
    );
    // NOACK delivers without pending entries.
    xadd(&mut c, "s", "8-0", &["n", "8"]);
    assert_eq!(
        s(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "dave",
                "NOACK",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "[[s [[8-0 [n 8]]]]]"
    );
    assert_eq!(
        s(&mut c, &["XPENDING", "s", "g", "-", "+", "10", "dave"]),
        "[]"
    );
    // Deleting a consumer drops its pending entries.
    assert_eq!(
        q::<i64>(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "bob"]),
        2
    );
    assert_eq!(
        s(&mut c, &["XPENDING", "s", "g"]).split(' ').next(),
        Some("[:2")
    );
    if !t.is_reference() {
        // 7.2 creates the consumer on every XREADGROUP, even when it gets nothing.
        q::<Value>(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "eve", "STREAMS", "s", ">"],
        );
        assert_eq!(groups(&mut c, "s")[0]["consumers"], ":5");
    }
}

#[test]
fn a_vanished_consumers_entries_are_recovered_with_xautoclaim() {
    let (_s, mut c) = start();
    for i in 1..=5 {
        xadd(&mut c, "s", &format!("{i}-0"), &["job", &i.to_string()]);
    }
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    // The worker reads everything and dies without acknowledging.
    q::<Value>(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "worker", "STREAMS", "s", ">"],
    );
    // Not idle long enough: nothing claimed, the whole PEL looked at.
    assert_eq!(
        s(
            &mut c,
            &[
                "XAUTOCLAIM",
                "s",
                "g",
                "rescuer",
                "60000",
                "0",
                "COUNT",
                "2"
            ]
        ),
        "[0-0 [] []]"
    );
    q::<i64>(&mut c, &["XDEL", "s", "3-0"]);
    thread::sleep(Duration::from_millis(30));
    // COUNT 2: two entries claimed, the cursor points at the next.
    assert_eq!(
        s(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "rescuer", "20", "0", "COUNT", "2"]
        ),
        "[3-0 [[1-0 [job 1]] [2-0 [job 2]]] []]"
    );
    // The deleted entry is dropped from the PEL and reported.
    assert_eq!(
        s(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "rescuer", "20", "3-0", "JUSTID"]
        ),
        "[0-0 [4-0 5-0] [3-0]]"
    );
    assert_eq!(
        s(&mut c, &["XPENDING", "s", "g"]),
        "[:4 1-0 5-0 [[rescuer 4]]]"
    );
    let pending: Vec<(String, String, i64, i64)> =
        q(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]);
    let counts: Vec<i64> = pending.iter().map(|p| p.3).collect();
    assert_eq!(counts, [2, 2, 1, 1], "JUSTID does not count a delivery");
    // The rescuer finishes the work.
    assert_eq!(
        q::<i64>(&mut c, &["XACK", "s", "g", "1-0", "2-0", "4-0", "5-0"]),
        4
    );
    assert_eq!(s(&mut c, &["XPENDING", "s", "g"]), "[:0 nil nil nil]");
    // Errors.
    assert_eq!(
        qerr(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "r", "0", "0", "COUNT", "0"]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "r", "0", "0", "COUNT", "x"]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        qerr(
            &mut c,
            &[
                "XAUTOCLAIM",
                "s",
                "g",
                "r",
                "0",
                "0",
                "COUNT",
                "9223372036854775807"
            ]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        qerr(&mut c, &["XAUTOCLAIM", "s", "g", "r", "x", "0"]),
        "ERR Invalid min-idle-time argument for XAUTOCLAIM"
    );
    assert_eq!(
        qerr(&mut c, &["XAUTOCLAIM", "s", "g", "r", "0", "x"]),
        INVALID_ID
    );
    assert_eq!(
        qerr(&mut c, &["XAUTOCLAIM", "s", "g", "r", "0", "0", "FOO"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["XAUTOCLAIM", "s", "nog", "r", "0", "0"]),
        "NOGROUP No such key 's' or consumer group 'nog'"
    );
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(
        qerr(&mut c, &["XAUTOCLAIM", "str", "g", "r", "0", "0"]),
        WRONGTYPE
    );
}

#[test]
fn xclaim_options() {
    let (_s, mut c) = start();
    for i in 1..=4 {
        xadd(&mut c, "s", &format!("{i}-0"), &["f", "v"]);
    }
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    q::<Value>(
        &mut c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "COUNT",
            "3",
            "STREAMS",
            "s",
            ">",
        ],
    );
    // min-idle-time not reached: nothing.
    assert_eq!(s(&mut c, &["XCLAIM", "s", "g", "b", "60000", "1-0"]), "[]");
    assert_eq!(
        s(&mut c, &["XCLAIM", "s", "g", "b", "0", "1-0", "4-0"]),
        "[[1-0 [f v]]]"
    );
    assert_eq!(
        s(
            &mut c,
            &[
                "XCLAIM",
                "s",
                "g",
                "b",
                "0",
                "2-0",
                "JUSTID",
                "RETRYCOUNT",
                "9",
                "IDLE",
                "5000"
            ]
        ),
        "[2-0]"
    );
    let p: Vec<(String, String, i64, i64)> = q(&mut c, &["XPENDING", "s", "g", "2-0", "2-0", "1"]);
    assert_eq!((p[0].1.as_str(), p[0].3), ("b", 9));
    assert!((5000..10000).contains(&p[0].2), "{p:?}");
    // FORCE creates the pending entry (for an entry that exists).
    assert_eq!(
        s(
            &mut c,
            &["XCLAIM", "s", "g", "c", "0", "4-0", "9-0", "FORCE", "JUSTID"]
        ),
        "[4-0]"
    );
    // TIME sets the delivery time; a future one means now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t = (now - 100_000).to_string();
    q::<Value>(
        &mut c,
        &["XCLAIM", "s", "g", "c", "0", "3-0", "TIME", &t, "JUSTID"],
    );
    let p: Vec<(String, String, i64, i64)> = q(&mut c, &["XPENDING", "s", "g", "3-0", "3-0", "1"]);
    assert!(p[0].2 >= 100_000, "{p:?}");
    // LASTID moves the group's last ID forward only.
    q::<Value>(
        &mut c,
        &[
            "XCLAIM", "s", "g", "c", "0", "3-0", "LASTID", "100-0", "JUSTID",
        ],
    );
    assert_eq!(groups(&mut c, "s")[0]["last-delivered-id"], "100-0");
    q::<Value>(
        &mut c,
        &[
            "XCLAIM", "s", "g", "c", "0", "3-0", "LASTID", "1-0", "JUSTID",
        ],
    );
    assert_eq!(groups(&mut c, "s")[0]["last-delivered-id"], "100-0");
    // A deleted entry leaves the PEL.
    q::<i64>(&mut c, &["XDEL", "s", "3-0"]);
    assert_eq!(s(&mut c, &["XCLAIM", "s", "g", "c", "0", "3-0"]), "[]");
    assert_eq!(s(&mut c, &["XPENDING", "s", "g", "3-0", "3-0", "1"]), "[]");
    // Errors.
    assert_eq!(
        qerr(&mut c, &["XCLAIM", "s", "g", "c", "x", "1-0"]),
        "ERR Invalid min-idle-time argument for XCLAIM"
    );
    assert_eq!(
        qerr(&mut c, &["XCLAIM", "s", "g", "c", "0", "1-0", "FOO"]),
        "ERR Unrecognized XCLAIM option 'FOO'"
    );
    assert_eq!(
        qerr(&mut c, &["XCLAIM", "s", "g", "c", "0", "1-0", "IDLE", "x"]),
        "ERR Invalid IDLE option argument for XCLAIM"
    );
    assert_eq!(
        qerr(&mut c, &["XCLAIM", "s", "g", "c", "0", "1-0", "TIME", "x"]),
        "ERR Invalid TIME option argument for XCLAIM"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XCLAIM", "s", "g", "c", "0", "1-0", "RETRYCOUNT", "x"]
        ),
        "ERR Invalid RETRYCOUNT option argument for XCLAIM"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XCLAIM", "s", "g", "c", "0", "1-0", "LASTID", "x"]
        ),
        INVALID_ID
    );
    assert_eq!(
        qerr(&mut c, &["XCLAIM", "s", "nog", "c", "0", "1-0"]),
        "NOGROUP No such key 's' or consumer group 'nog'"
    );
    assert_eq!(
        qerr(&mut c, &["XCLAIM", "nokey", "g", "c", "0", "1-0"]),
        "NOGROUP No such key 'nokey' or consumer group 'g'"
    );
}

// ---------------------------------------------------------------------------------------------
// XREAD / XREADGROUP without blocking

#[test]
fn xread_and_xreadgroup_arguments() {
    let (t, mut c) = start();
    xadd(&mut c, "a", "1-1", &["x", "1"]);
    xadd(&mut c, "a", "2-1", &["x", "2"]);
    xadd(&mut c, "b", "5-1", &["y", "1"]);
    assert_eq!(
        s(&mut c, &["XREAD", "STREAMS", "a", "b", "0", "0"]),
        "[[a [[1-1 [x 1]] [2-1 [x 2]]]] [b [[5-1 [y 1]]]]]"
    );
    assert_eq!(
        s(
            &mut c,
            &["XREAD", "COUNT", "1", "STREAMS", "a", "nokey", "b", "1-1", "0", "5-1"]
        ),
        "[[a [[2-1 [x 2]]]]]"
    );
    assert_eq!(s(&mut c, &["XREAD", "STREAMS", "a", "$"]), "nil");
    assert_eq!(
        s(&mut c, &["XREAD", "COUNT", "-3", "STREAMS", "b", "0"]),
        "[[b [[5-1 [y 1]]]]]"
    );
    if !t.is_reference() {
        // 7.0 says "Unbalanced XREAD list" for both commands.
        assert_eq!(
            qerr(&mut c, &["XREAD", "STREAMS", "a", "b", "0"]),
            "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be \
             specified."
        );
        assert_eq!(
            qerr(
                &mut c,
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", ">", "0"]
            ),
            "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must \
             be specified."
        );
    }
    assert_eq!(qerr(&mut c, &["XREAD", "COUNT", "1", "a", "0"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["XREAD", "STREAMS", "a", "x"]), INVALID_ID);
    assert_eq!(
        qerr(&mut c, &["XREAD", "COUNT", "x", "STREAMS", "a", "0"]),
        NOT_INT
    );
    assert_eq!(
        qerr(&mut c, &["XREAD", "BLOCK", "x", "STREAMS", "a", "0"]),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        qerr(&mut c, &["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        qerr(&mut c, &["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"]),
        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
    );
    assert_eq!(
        qerr(&mut c, &["XREAD", "NOACK", "STREAMS", "a", "0"]),
        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
    );
    assert_eq!(
        qerr(&mut c, &["XREAD", "STREAMS", "a", ">"]),
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> \
         <consumer> option."
    );
    q::<()>(&mut c, &["SET", "str", "x"]);
    assert_eq!(qerr(&mut c, &["XREAD", "STREAMS", "str", "0"]), WRONGTYPE);
    assert_eq!(
        qerr(&mut c, &["XREAD", "STREAMS", "str", "a", "x", "0"]),
        WRONGTYPE
    );
    assert_eq!(
        qerr(&mut c, &["XREAD", "STREAMS", "a", "str", "x", "0"]),
        INVALID_ID
    );
    // XREADGROUP
    q::<()>(&mut c, &["XGROUP", "CREATE", "a", "g", "0"]);
    assert_eq!(
        qerr(
            &mut c,
            &[
                "XREADGROUP",
                "COUNT",
                "1",
                "BLOCK",
                "0",
                "STREAMS",
                "a",
                ">"
            ]
        ),
        "ERR Missing GROUP option for XREADGROUP"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "$"]
        ),
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history \
         of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ \
         ID would just return an empty result set."
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "a", ">"]
        ),
        "NOGROUP No such key 'a' or consumer group 'nog' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"]
        ),
        "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"]
        ),
        WRONGTYPE
    );
    assert_eq!(
        qerr(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a"]),
        arity("xreadgroup")
    );
}

// ---------------------------------------------------------------------------------------------
// Blocking

#[test]
fn blocking_xread_waits_for_entries_after_dollar() {
    let (t, mut c) = start();
    xadd(&mut c, "s", "1-1", &["old", "1"]);
    let mut r = Raw::open(t.port(), false);
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    xadd(&mut c, "s", "2-1", &["new", "1"]);
    assert_eq!(
        r.recv(),
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$1\r\n1\r\n"
    );
    // `$` is the last ID when the client blocked: an entry added then deleted before the
    // wake-up does not move it.
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    let mut p = redis::pipe();
    p.cmd("XADD").arg("s").arg("3-1").arg("a").arg("1");
    p.cmd("XADD").arg("s").arg("4-1").arg("b").arg("2");
    let _: Vec<String> = p.query(&mut c).unwrap();
    let got = r.recv();
    assert!(got.contains("3-1"), "the first entry after blocking: {got}");
    assert!(!got.contains("2-1"), "{got}");
    // A missing key's `$` is 0-0: any entry wakes it.
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "fresh", "$"]);
    wait_blocked(&mut c, 1);
    xadd(&mut c, "fresh", "0-1", &["f", "v"]);
    assert!(r.recv().contains("0-1"));
    // A timeout answers nil; COUNT applies to what is served.
    assert_eq!(
        r.call(&["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]),
        "*-1\r\n"
    );
    r.send(&[
        "XREAD", "COUNT", "1", "BLOCK", "5000", "STREAMS", "s", "4-1",
    ]);
    wait_blocked(&mut c, 1);
    let mut p = redis::pipe();
    p.cmd("MULTI");
    p.cmd("XADD").arg("s").arg("5-1").arg("a").arg("1");
    p.cmd("XADD").arg("s").arg("6-1").arg("b").arg("2");
    p.cmd("EXEC");
    let _: Value = p.query(&mut c).unwrap();
    let got = r.recv();
    assert!(got.contains("5-1") && !got.contains("6-1"), "{got}");
    // An entry that already exists is served at once; a deleted key keeps XREAD waiting.
    assert!(r
        .call(&["XREAD", "BLOCK", "0", "STREAMS", "s", "0"])
        .contains("1-1"));
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["DEL", "s"]);
    thread::sleep(Duration::from_millis(20));
    wait_blocked(&mut c, 1);
    xadd(&mut c, "s", "100-1", &["back", "1"]);
    assert!(r.recv().contains("100-1"));
}

#[test]
fn blocking_xread_across_shards() {
    let (t, mut c) = start();
    let (a, b) = (key_on(0, 2, "sa"), key_on(1, 2, "sb"));
    xadd(&mut c, &a, "1-1", &["f", "v"]);
    let mut r = Raw::open(t.port(), false);
    r.send(&["XREAD", "BLOCK", "5000", "STREAMS", &a, &b, "$", "$"]);
    wait_blocked(&mut c, 1);
    xadd(&mut c, &b, "7-1", &["g", "w"]);
    let got = r.recv();
    assert_eq!(
        got,
        format!(
            "*1\r\n*2\r\n${}\r\n{b}\r\n*1\r\n*2\r\n$3\r\n7-1\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n",
            b.len()
        )
    );
    // Both have data: both served, in argument order.
    let got = r.call(&["XREAD", "BLOCK", "5000", "STREAMS", &a, &b, "0", "0"]);
    assert!(
        got.starts_with("*2\r\n") && got.find(&a) < got.find(&b),
        "{got}"
    );
    // Non-blocking across shards: nil when nothing.
    assert_eq!(r.call(&["XREAD", "STREAMS", &a, &b, "$", "$"]), "*-1\r\n");
}

#[test]
fn blocking_xreadgroup_woken_destroyed_and_deleted() {
    let (t, mut c) = start();
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut r = Raw::open(t.port(), false);
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    xadd(&mut c, "s", "1-1", &["job", "1"]);
    assert!(r.recv().contains("1-1"));
    assert_eq!(
        s(&mut c, &["XPENDING", "s", "g"]),
        "[:1 1-1 1-1 [[alice 1]]]"
    );
    // History IDs never block.
    assert_eq!(
        r.call(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            "1-1"
        ]),
        "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"
    );
    assert_eq!(
        r.call(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "20",
            "STREAMS",
            "s",
            ">"
        ]),
        "*-1\r\n"
    );
    if t.is_reference() {
        return; // 7.0 words the errors below differently
    }
    // The group destroyed: NOGROUP, as the command run again finds.
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(
        r.recv(),
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    // The key deleted: the same.
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]);
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    q::<i64>(&mut c, &["DEL", "s"]);
    assert!(r.recv().starts_with("-NOGROUP No such key 's'"));
    // The database flushed: the same.
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    q::<()>(&mut c, &["FLUSHALL"]);
    assert!(r.recv().starts_with("-NOGROUP No such key 's'"));
    // Replaced by another type: WRONGTYPE.
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    q::<()>(&mut c, &["SET", "s", "x"]);
    assert_eq!(r.recv(), format!("-{WRONGTYPE}\r\n"));
}

#[test]
fn blocking_xreadgroup_across_shards_updates_both_groups() {
    let (t, mut c) = start();
    let (a, b) = (key_on(0, 2, "ga"), key_on(1, 2, "gb"));
    for k in [&a, &b] {
        q::<()>(&mut c, &["XGROUP", "CREATE", k, "g", "$", "MKSTREAM"]);
    }
    xadd(&mut c, &a, "1-1", &["f", "1"]);
    let got = s(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", &a, &b, ">", ">"],
    );
    assert_eq!(got, format!("[[{a} [[1-1 [f 1]]]]]"));
    let mut r = Raw::open(t.port(), false);
    r.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "5000",
        "STREAMS",
        &a,
        &b,
        ">",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    xadd(&mut c, &b, "2-1", &["f", "2"]);
    assert!(r.recv().contains("2-1"));
    assert_eq!(s(&mut c, &["XPENDING", &a, "g"]), "[:1 1-1 1-1 [[c 1]]]");
    assert_eq!(s(&mut c, &["XPENDING", &b, "g"]), "[:1 2-1 2-1 [[c 1]]]");
    assert_eq!(groups(&mut c, &b)[0]["last-delivered-id"], "2-1");
}

#[test]
fn blocking_forms_answer_at_once_in_multi_and_refuse_in_scripts() {
    let (_s, mut c) = start();
    xadd(&mut c, "s", "1-1", &["f", "v"]);
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]);
    let mut p = redis::pipe();
    p.atomic();
    p.cmd("XREAD")
        .arg("BLOCK")
        .arg("0")
        .arg("STREAMS")
        .arg("s")
        .arg("$");
    p.cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("BLOCK")
        .arg("0")
        .arg("STREAMS")
        .arg("s")
        .arg(">");
    p.cmd("XREAD")
        .arg("BLOCK")
        .arg("0")
        .arg("STREAMS")
        .arg("s")
        .arg("0");
    let v: Value = p.query(&mut c).unwrap();
    assert_eq!(show(&v), "[nil nil [[s [[1-1 [f v]]]]]]");
    let e = qerr(
        &mut c,
        &[
            "EVAL",
            "return redis.call('xread','block','0','streams','s','$')",
            "0",
        ],
    );
    assert!(
        e.starts_with("ERR xread command is not allowed with BLOCK option from scripts"),
        "{e}"
    );
    let v: Value = q(
        &mut c,
        &["EVAL", "return redis.call('xread','streams','s','0')", "0"],
    );
    assert_eq!(show(&v), "[[s [[1-1 [f v]]]]]");
}

// ---------------------------------------------------------------------------------------------
// RESP3, keyspace integration, metadata

#[test]
fn resp3_replies() {
    let (t, mut c) = start();
    xadd(&mut c, "s", "1-1", &["f", "v"]);
    q::<()>(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    let mut r = Raw::open(t.port(), true);
    assert_eq!(
        r.call(&["XREAD", "STREAMS", "s", "0"]),
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(r.call(&["XREAD", "STREAMS", "s", "$"]), "_\r\n");
    assert_eq!(r.call(&["XRANGE", "s", "-", "+", "COUNT", "0"]), "_\r\n");
    assert_eq!(
        r.call(&["XADD", "none", "NOMKSTREAM", "*", "f", "v"]),
        "_\r\n"
    );
    assert_eq!(
        r.call(&["XPENDING", "s", "g"]),
        "*4\r\n:0\r\n_\r\n_\r\n_\r\n"
    );
    assert!(r
        .call(&["XINFO", "GROUPS", "s"])
        .starts_with("*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n"));
    let i = r.call(&["XINFO", "STREAM", "s"]);
    assert!(i.starts_with("%10\r\n$6\r\nlength\r\n:1\r\n"), "{i}");
    let got = r.call(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    assert!(got.starts_with("%1\r\n$1\r\ns\r\n"), "{got}");
    q::<i64>(&mut c, &["XDEL", "s", "1-1"]);
    assert_eq!(
        r.call(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"]),
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n_\r\n"
    );
    r.send(&["XREAD", "BLOCK", "10", "STREAMS", "s", "$"]);
    assert_eq!(r.recv(), "_\r\n");
}

#[test]
fn streams_in_the_keyspace() {
    let (_t, mut c) = start();
    let (a, b) = (key_on(0, 2, "ka"), key_on(1, 2, "kb"));
    xadd(&mut c, &a, "1-1", &["f", "v"]);
    q::<()>(&mut c, &["XGROUP", "CREATE", &a, "g", "0"]);
    q::<Value>(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", &a, ">"],
    );
    assert_eq!(s(&mut c, &["TYPE", &a]), "stream");
    assert_eq!(s(&mut c, &["OBJECT", "ENCODING", &a]), "stream");
    q::<()>(&mut c, &["SET", "str", "x"]);
    let mut keys = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, found): (String, Vec<String>) = q(
            &mut c,
            &["SCAN", &cursor, "TYPE", "stream", "COUNT", "1000"],
        );
        keys.extend(found);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(keys, std::slice::from_ref(&a));
    // COPY and RENAME across shards keep entries, groups and pending entries.
    assert_eq!(q::<i64>(&mut c, &["COPY", &a, &b]), 1);
    assert_eq!(s(&mut c, &["XRANGE", &b, "-", "+"]), "[[1-1 [f v]]]");
    assert_eq!(s(&mut c, &["XPENDING", &b, "g"]), "[:1 1-1 1-1 [[c 1]]]");
    q::<i64>(&mut c, &["DEL", &b]);
    q::<()>(&mut c, &["RENAME", &a, &b]);
    assert_eq!(s(&mut c, &["XPENDING", &b, "g"]), "[:1 1-1 1-1 [[c 1]]]");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", &a]), 0);
    assert_eq!(q::<i64>(&mut c, &["DEL", &b]), 1);
}

#[test]
fn digests_follow_the_contents() {
    let srv = common::Server::start(2, &["--enable-debug-command", "yes"]);
    let mut c = srv.client();
    let (a, b) = (key_on(0, 2, "da"), key_on(1, 2, "db"));
    xadd(&mut c, &a, "1-1", &["f", "v"]);
    q::<()>(&mut c, &["XGROUP", "CREATE", &a, "g", "0"]);
    q::<i64>(&mut c, &["COPY", &a, &b]);
    let digest = |c: &mut redis::Connection, k: &str| -> String {
        let v: Vec<String> = q(c, &["DEBUG", "DIGEST-VALUE", k]);
        v.into_iter().next().unwrap()
    };
    let da = digest(&mut c, &a);
    assert_eq!(da, digest(&mut c, &b));
    assert_ne!(da, "0".repeat(40));
    xadd(&mut c, &b, "2-1", &["f", "v"]);
    assert_ne!(da, digest(&mut c, &b));
    q::<i64>(&mut c, &["XDEL", &b, "2-1"]);
    // As Redis': entries only (the last ID, counters and groups are not digested).
    assert_eq!(da, digest(&mut c, &b));
}

#[test]
fn command_metadata() {
    let (_s, mut c) = start();
    let keys: Vec<String> = q(
        &mut c,
        &[
            "COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0",
        ],
    );
    assert_eq!(keys, ["a", "b"]);
    let keys: Vec<String> = q(
        &mut c,
        &[
            "COMMAND",
            "GETKEYS",
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "STREAMS",
            "a",
            ">",
        ],
    );
    assert_eq!(keys, ["a"]);
    let keys: Vec<String> = q(
        &mut c,
        &["COMMAND", "GETKEYS", "XGROUP", "CREATE", "k", "g", "$"],
    );
    assert_eq!(keys, ["k"]);
    let info = s(&mut c, &["COMMAND", "INFO", "xadd", "xread", "xinfo"]);
    assert!(
        info.starts_with("[[xadd :-5 [write denyoom fast] :1 :1 :1 [@write @stream @fast]"),
        "{info}"
    );
    assert!(
        info.contains(
            "[xread :-4 [readonly blocking movablekeys] :0 :0 :0 [@read @stream @slow @blocking]"
        ),
        "{info}"
    );
}

// ---------------------------------------------------------------------------------------------
// Randomized model test

/// A stream as a map, with Redis' counters.
#[derive(Default)]
struct Model {
    entries: BTreeMap<(u64, u64), Vec<(String, String)>>,
    last: (u64, u64),
    first: (u64, u64),
    max_deleted: (u64, u64),
    added: u64,
}

impl Model {
    fn refresh_first(&mut self) {
        self.first = self.entries.keys().next().copied().unwrap_or((0, 0));
    }

    fn trim_len(&mut self, max: usize) -> usize {
        let mut n = 0;
        while self.entries.len() > max {
            self.entries.pop_first();
            n += 1;
        }
        n
    }

    fn trim_min(&mut self, min: (u64, u64)) -> usize {
        let before = self.entries.len();
        self.entries.retain(|k, _| *k >= min);
        before - self.entries.len()
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn id_str(id: (u64, u64)) -> String {
    format!("{}-{}", id.0, id.1)
}

#[test]
fn randomized_against_a_model() {
    let seed: u64 = std::env::var("STREAM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_5eed);
    let (_s, mut c) = start();
    // Small nodes: many of them, removed and split often.
    config_set(&mut c, "stream-node-max-entries", "4");
    config_set(&mut c, "stream-node-max-bytes", "4096");
    let mut rng = Rng(seed);
    let mut m = Model::default();
    let key = "model";
    let random_id = |rng: &mut Rng, m: &Model| -> (u64, u64) {
        let top = m.last.0 + 3;
        (rng.below(top + 1), rng.below(4))
    };
    for step in 0..1500 {
        let ctx = format!("seed {seed} step {step}");
        match rng.below(12) {
            0..=3 => {
                // XADD with an explicit ID, `ms-*`, or a too small one.
                let nf = 1 + rng.below(3) as usize;
                let pairs: Vec<(String, String)> = (0..nf)
                    .map(|i| {
                        let f = if rng.below(3) == 0 {
                            format!("x{i}")
                        } else {
                            format!("f{i}")
                        };
                        (f, rng.below(100).to_string())
                    })
                    .collect();
                let (arg, expect) = match rng.below(5) {
                    0 => {
                        let ms = m.last.0 + rng.below(2);
                        let id = if ms == m.last.0 {
                            (ms, m.last.1 + 1)
                        } else {
                            (ms, 0)
                        };
                        (format!("{ms}-*"), Some(id))
                    }
                    1 if m.last != (0, 0) => (id_str((m.last.0, m.last.1)), None),
                    _ => {
                        let id = (m.last.0 + 1 + rng.below(3), rng.below(3));
                        (id_str(id), Some(id))
                    }
                };
                let mut args = vec!["XADD".to_string(), key.to_string()];
                let maxlen = rng.below(6) == 0;
                let keep = rng.below(12) as usize;
                if maxlen {
                    args.extend(["MAXLEN".into(), "=".into(), keep.to_string()]);
                }
                args.push(arg);
                for (f, v) in &pairs {
                    args.extend([f.clone(), v.clone()]);
                }
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                match expect {
                    Some(id) => {
                        assert_eq!(q::<String>(&mut c, &refs), id_str(id), "{ctx}");
                        m.entries.insert(id, pairs);
                        m.last = id;
                        m.added += 1;
                        if m.entries.len() == 1 {
                            m.first = id;
                        }
                        if maxlen && m.trim_len(keep) > 0 {
                            m.refresh_first();
                        }
                    }
                    None => assert_eq!(qerr(&mut c, &refs), TOO_SMALL, "{ctx}"),
                }
            }
            4 => {
                let keep = rng.below(15) as usize;
                let n: i64 = q(&mut c, &["XTRIM", key, "MAXLEN", &keep.to_string()]);
                let expect = m.trim_len(keep);
                assert_eq!(n as usize, expect, "{ctx}");
                if expect > 0 {
                    m.refresh_first();
                }
            }
            5 => {
                let min = random_id(&mut rng, &m);
                let n: i64 = q(&mut c, &["XTRIM", key, "MINID", &id_str(min)]);
                let expect = m.trim_min(min);
                assert_eq!(n as usize, expect, "{ctx}");
                if expect > 0 {
                    m.refresh_first();
                }
            }
            6 => {
                let ids: Vec<(u64, u64)> = (0..1 + rng.below(3))
                    .map(|_| {
                        match m
                            .entries
                            .keys()
                            .nth(rng.below(m.entries.len() as u64 + 1) as usize)
                        {
                            Some(k) if rng.below(3) > 0 => *k,
                            _ => random_id(&mut rng, &m),
                        }
                    })
                    .collect();
                let mut args = vec!["XDEL".to_string(), key.to_string()];
                args.extend(ids.iter().map(|&i| id_str(i)));
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                let n: i64 = q(&mut c, &refs);
                let mut expect = 0;
                let mut first_gone = false;
                for id in ids {
                    if m.entries.remove(&id).is_some() {
                        expect += 1;
                        first_gone |= id == m.first;
                        m.max_deleted = m.max_deleted.max(id);
                    }
                }
                if m.entries.is_empty() || first_gone {
                    m.refresh_first();
                }
                assert_eq!(n, expect, "{ctx}");
            }
            7..=9 => {
                let rev = rng.below(2) == 0;
                let mut a = random_id(&mut rng, &m);
                let mut b = random_id(&mut rng, &m);
                if a > b {
                    std::mem::swap(&mut a, &mut b);
                }
                // `(0-0` as an end has no predecessor: an error, not what this test is about.
                let (lo_ex, hi_ex) = (rng.below(4) == 0, rng.below(4) == 0 && b != (0, 0));
                let lo = if rng.below(6) == 0 {
                    "-".to_string()
                } else {
                    format!("{}{}", if lo_ex { "(" } else { "" }, id_str(a))
                };
                let hi = if rng.below(6) == 0 {
                    "+".to_string()
                } else {
                    format!("{}{}", if hi_ex { "(" } else { "" }, id_str(b))
                };
                let count = rng.below(4) == 0;
                let n = 1 + rng.below(5) as usize;
                let mut args = if rev {
                    vec!["XREVRANGE", key, &hi, &lo]
                } else {
                    vec!["XRANGE", key, &lo, &hi]
                };
                let ns = n.to_string();
                if count {
                    args.extend(["COUNT", &ns]);
                }
                let got: Vec<(String, Vec<String>)> = q(&mut c, &args);
                let lo_id = if lo == "-" {
                    (0, 0)
                } else if lo_ex {
                    if a.1 == u64::MAX {
                        (a.0 + 1, 0)
                    } else {
                        (a.0, a.1 + 1)
                    }
                } else {
                    a
                };
                let in_range = |k: &(u64, u64)| {
                    *k >= lo_id && (hi == "+" || if hi_ex { *k < b } else { *k <= b })
                };
                let mut expect: Vec<(String, Vec<String>)> = m
                    .entries
                    .iter()
                    .filter(|(k, _)| in_range(k))
                    .map(|(k, v)| {
                        (
                            id_str(*k),
                            v.iter().flat_map(|(f, x)| [f.clone(), x.clone()]).collect(),
                        )
                    })
                    .collect();
                if rev {
                    expect.reverse();
                }
                if count {
                    expect.truncate(n);
                }
                assert_eq!(got, expect, "{ctx}: {args:?}");
            }
            10 => {
                assert_eq!(q::<usize>(&mut c, &["XLEN", key]), m.entries.len(), "{ctx}");
            }
            _ => {
                if m.added == 0 {
                    continue;
                }
                let i = info(&mut c, key);
                assert_eq!(i["length"], format!(":{}", m.entries.len()), "{ctx}");
                assert_eq!(i["last-generated-id"], id_str(m.last), "{ctx}");
                assert_eq!(i["max-deleted-entry-id"], id_str(m.max_deleted), "{ctx}");
                assert_eq!(i["entries-added"], format!(":{}", m.added), "{ctx}");
                assert_eq!(i["recorded-first-entry-id"], id_str(m.first), "{ctx}");
            }
        }
    }
}
