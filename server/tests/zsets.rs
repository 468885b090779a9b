//! The sorted set family over TCP with the `redis` crate, on a 2-shard server: every command,
//! its options and errors (Redis' exact texts), RESP3 replies, encodings at the thresholds,
//! multi-key forms on one shard and across shards, and a randomized model test.
//!
//! With `REFERENCE_PORT=<port>` the tests run against a real Redis instead (see
//! `common::Target`); the few that need 7.2 (ZRANK WITHSCORE) check `is_reference`.

mod common;

use common::{arity, cross, key_on, q, qb, qerr, start, Target, NOT_INT, SYNTAX};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

type Conn = redis::Connection;

fn zrange_all(c: &mut Conn, key: &str) -> Vec<String> {
    q(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"])
}

fn encoding(c: &mut Conn, key: &str) -> String {
    q(c, &["OBJECT", "ENCODING", key])
}

fn exists(c: &mut Conn, key: &str) -> bool {
    q::<i64>(c, &["EXISTS", key]) == 1
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn seed(c: &mut Conn, key: &str) {
    q::<i64>(
        c,
        &[
            "ZADD", key, "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// A raw connection for exact reply bytes (RESP3 and the differential test)

struct Raw {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Raw {
    fn open(port: u16, resp3: bool) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut raw = Raw {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        };
        if resp3 {
            raw.call(&[b"HELLO", b"3"]);
        }
        raw
    }

    fn send(&mut self, args: &[&[u8]]) {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&buf).unwrap();
    }

    /// Reads one whole reply, returning its exact bytes.
    fn recv(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_into(&mut out);
        out
    }

    fn read_into(&mut self, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).unwrap();
        out.extend_from_slice(&line);
        let head = std::str::from_utf8(&line[1..line.len() - 2]).unwrap_or("");
        match line[0] {
            b'$' | b'=' | b'!' => {
                let n: i64 = head.parse().unwrap();
                if n >= 0 {
                    let mut body = vec![0u8; n as usize + 2];
                    self.r.read_exact(&mut body).unwrap();
                    out.extend_from_slice(&body);
                }
            }
            b'*' | b'~' | b'>' => {
                let n: i64 = head.parse().unwrap();
                for _ in 0..n.max(0) {
                    self.read_into(out);
                }
            }
            b'%' => {
                let n: i64 = head.parse().unwrap();
                for _ in 0..2 * n {
                    self.read_into(out);
                }
            }
            _ => {}
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(args);
        self.recv()
    }

    fn call_str(&mut self, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        String::from_utf8(self.call(&args)).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD and ZINCRBY

#[test]
fn zadd_adds_updates_and_counts_with_ch() {
    let (_s, mut c) = start();
    assert_eq!(q::<i64>(&mut c, &["ZADD", "z", "1", "a", "2", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["ZADD", "z", "3", "a", "4", "c"]), 1);
    assert_eq!(
        zrange_all(&mut c, "z"),
        strs(&["b", "2", "a", "3", "c", "4"])
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "CH", "3", "a", "9", "b", "1", "d"]),
        2,
        "CH counts the changed score and the new member, not the unchanged one"
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "1", "m", "2", "m"]),
        1,
        "the last score of a repeated member wins"
    );
    assert_eq!(q::<String>(&mut c, &["ZSCORE", "z", "m"]), "2");
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "z"]), 5);
}

#[test]
fn zadd_nx_xx_gt_lt_conditions() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["ZADD", "z", "5", "a"]);
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "NX", "1", "a", "1", "b"]),
        1
    );
    assert_eq!(q::<String>(&mut c, &["ZSCORE", "z", "a"]), "5");
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "XX", "CH", "7", "a", "1", "c"]),
        1
    );
    assert_eq!(q::<Option<String>>(&mut c, &["ZSCORE", "z", "c"]), None);
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "GT", "CH", "6", "a", "8", "b"]),
        1
    );
    assert_eq!(zrange_all(&mut c, "z"), strs(&["a", "7", "b", "8"]));
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "LT", "CH", "9", "a", "2", "b"]),
        1
    );
    assert_eq!(zrange_all(&mut c, "z"), strs(&["b", "2", "a", "7"]));
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "gt", "1", "new"]),
        1,
        "GT and LT never stop a new member"
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "XX", "GT", "CH", "10", "b"]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["ZADD", "missing", "XX", "1", "a"]), 0);
    assert!(!exists(&mut c, "missing"), "XX never creates the key");
}

#[test]
fn zadd_incr_replies_the_new_score_or_nil() {
    let (_s, mut c) = start();
    assert_eq!(
        q::<String>(&mut c, &["ZADD", "z", "INCR", "1.5", "a"]),
        "1.5"
    );
    assert_eq!(q::<String>(&mut c, &["ZADD", "z", "INCR", "2", "a"]), "3.5");
    assert_eq!(
        q::<Option<String>>(&mut c, &["ZADD", "z", "NX", "INCR", "1", "a"]),
        None
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["ZADD", "z", "XX", "INCR", "1", "b"]),
        None
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["ZADD", "z", "GT", "INCR", "-1", "a"]),
        None
    );
    assert_eq!(
        q::<String>(&mut c, &["ZADD", "z", "LT", "INCR", "-1", "a"]),
        "2.5"
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["ZADD", "nokey", "XX", "INCR", "1", "a"]),
        None
    );
    assert_eq!(q::<String>(&mut c, &["ZINCRBY", "z", "-0.5", "a"]), "2");
    assert_eq!(q::<String>(&mut c, &["ZINCRBY", "z", "10", "new"]), "10");
    assert_eq!(q::<String>(&mut c, &["ZINCRBY", "z", "+inf", "new"]), "inf");
    assert_eq!(
        qerr(&mut c, &["ZINCRBY", "z", "-inf", "new"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(
        q::<String>(&mut c, &["ZSCORE", "z", "new"]),
        "inf",
        "unchanged"
    );
    assert_eq!(qerr(&mut c, &["ZINCRBY", "z", "abc", "a"]), NOT_FLOAT);
    assert_eq!(
        qerr(&mut c, &["ZINCRBY", "z", "incr", "a"]),
        SYNTAX,
        "ZINCRBY parses ZADD's options too"
    );
}

#[test]
fn zadd_rejects_bad_options_and_scores() {
    let (_s, mut c) = start();
    let xxnx = "ERR XX and NX options at the same time are not compatible";
    let gtlt = "ERR GT, LT, and/or NX options at the same time are not compatible";
    assert_eq!(qerr(&mut c, &["ZADD", "z", "NX", "XX", "1", "a"]), xxnx);
    assert_eq!(qerr(&mut c, &["ZADD", "z", "GT", "LT", "1", "a"]), gtlt);
    assert_eq!(qerr(&mut c, &["ZADD", "z", "NX", "GT", "1", "a"]), gtlt);
    assert_eq!(qerr(&mut c, &["ZADD", "z", "NX", "LT", "1", "a"]), gtlt);
    assert_eq!(
        qerr(&mut c, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "ERR INCR option supports a single increment-element pair"
    );
    assert_eq!(qerr(&mut c, &["ZADD", "z", "1", "a", "2"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZADD", "z", "NX", "XX"]),
        SYNTAX,
        "no pairs at all"
    );
    assert_eq!(qerr(&mut c, &["ZADD", "z", "1", "a", "x", "b"]), NOT_FLOAT);
    assert_eq!(qerr(&mut c, &["ZADD", "z", "nan", "a"]), NOT_FLOAT);
    assert_eq!(qerr(&mut c, &["ZADD", "z", "1e400", "a"]), NOT_FLOAT);
    assert_eq!(qerr(&mut c, &["ZADD", "z", " 1", "a"]), NOT_FLOAT);
    assert_eq!(qerr(&mut c, &["ZADD", "z", "", "a"]), NOT_FLOAT);
    assert!(!exists(&mut c, "z"), "nothing is added when a score is bad");
    assert_eq!(
        q::<i64>(
            &mut c,
            &["ZADD", "z", "0x10", "hex", "-inf", "lo", "1e3", "e"]
        ),
        3
    );
    assert_eq!(
        zrange_all(&mut c, "z"),
        strs(&["lo", "-inf", "hex", "16", "e", "1000"])
    );
    q::<()>(&mut c, &["SET", "s", "x"]);
    assert_eq!(qerr(&mut c, &["ZADD", "s", "1", "a"]), WRONGTYPE);
    assert_eq!(
        qerr(&mut c, &["ZADD", "s", "x", "a"]),
        NOT_FLOAT,
        "scores first"
    );
}

#[test]
fn scores_format_like_redis() {
    let (_s, mut c) = start();
    for (input, shown) in [
        ("1.5", "1.5"),
        ("-3", "-3"),
        ("1e20", "1e+20"),
        ("0.25", "0.25"),
        ("-0", "0"),
        ("+inf", "inf"),
        ("-INF", "-inf"),
        ("100000000000000000", "1e+17"),
    ] {
        q::<i64>(&mut c, &["ZADD", "z", input, "m"]);
        assert_eq!(q::<String>(&mut c, &["ZSCORE", "z", "m"]), shown, "{input}");
    }
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK

#[test]
fn zrem_removes_members_and_the_emptied_key() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    assert_eq!(q::<i64>(&mut c, &["ZREM", "z", "a", "x", "a", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "z"]), 3);
    assert_eq!(q::<i64>(&mut c, &["ZREM", "missing", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["ZREM", "z", "c", "d", "e", "f"]), 3);
    assert!(!exists(&mut c, "z"));
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "z"]), 0);
}

#[test]
fn zscore_and_zmscore() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    assert_eq!(
        q::<Option<String>>(&mut c, &["ZSCORE", "z", "c"]).as_deref(),
        Some("3")
    );
    assert_eq!(q::<Option<String>>(&mut c, &["ZSCORE", "z", "x"]), None);
    assert_eq!(q::<Option<String>>(&mut c, &["ZSCORE", "nokey", "x"]), None);
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["ZMSCORE", "z", "a", "x", "e"]),
        vec![Some("1".into()), None, Some("5".into())]
    );
    assert_eq!(
        q::<Vec<Option<String>>>(&mut c, &["ZMSCORE", "nokey", "a", "b"]),
        vec![None, None]
    );
}

#[test]
fn zrank_and_zrevrank_with_and_without_score() {
    let (s, mut c) = start();
    seed(&mut c, "z");
    assert_eq!(q::<Option<i64>>(&mut c, &["ZRANK", "z", "a"]), Some(0));
    assert_eq!(q::<Option<i64>>(&mut c, &["ZRANK", "z", "e"]), Some(4));
    assert_eq!(q::<Option<i64>>(&mut c, &["ZREVRANK", "z", "e"]), Some(0));
    assert_eq!(q::<Option<i64>>(&mut c, &["ZRANK", "z", "x"]), None);
    assert_eq!(q::<Option<i64>>(&mut c, &["ZREVRANK", "nokey", "x"]), None);
    if s.is_reference() {
        return; // WITHSCORE is 7.2's
    }
    let v: (i64, String) = q(&mut c, &["ZRANK", "z", "c", "WITHSCORE"]);
    assert_eq!(v, (2, "3".to_string()));
    let v: (i64, String) = q(&mut c, &["ZREVRANK", "z", "b", "withscore"]);
    assert_eq!(v, (3, "2".to_string()));
    assert_eq!(
        q::<redis::Value>(&mut c, &["ZRANK", "z", "x", "WITHSCORE"]),
        redis::Value::Nil
    );
    assert_eq!(qerr(&mut c, &["ZRANK", "z", "a", "WITHSCORES"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZRANK", "z", "a", "WITHSCORE", "x"]),
        arity("zrank")
    );
    let mut raw = Raw::open(s.port(), false);
    assert_eq!(raw.call_str(&["ZRANK", "z", "x", "WITHSCORE"]), "*-1\r\n");
    assert_eq!(
        raw.call_str(&["ZRANK", "nokey", "x", "WITHSCORE"]),
        "*-1\r\n"
    );
    assert_eq!(raw.call_str(&["ZRANK", "nokey", "x"]), "$-1\r\n");
}

#[test]
fn every_command_rejects_other_types() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["SET", "s", "x"]);
    let cmds: &[&[&str]] = &[
        &["ZADD", "s", "1", "a"],
        &["ZINCRBY", "s", "1", "a"],
        &["ZREM", "s", "a"],
        &["ZCARD", "s"],
        &["ZCOUNT", "s", "0", "1"],
        &["ZLEXCOUNT", "s", "-", "+"],
        &["ZSCORE", "s", "a"],
        &["ZMSCORE", "s", "a"],
        &["ZRANK", "s", "a"],
        &["ZREVRANK", "s", "a"],
        &["ZRANGE", "s", "0", "1"],
        &["ZREVRANGE", "s", "0", "1"],
        &["ZRANGEBYSCORE", "s", "0", "1"],
        &["ZREVRANGEBYSCORE", "s", "1", "0"],
        &["ZRANGEBYLEX", "s", "-", "+"],
        &["ZREVRANGEBYLEX", "s", "+", "-"],
        &["ZRANGESTORE", "d", "s", "0", "1"],
        &["ZREMRANGEBYRANK", "s", "0", "1"],
        &["ZREMRANGEBYSCORE", "s", "0", "1"],
        &["ZREMRANGEBYLEX", "s", "-", "+"],
        &["ZPOPMIN", "s"],
        &["ZPOPMAX", "s", "2"],
        &["ZMPOP", "1", "s", "MIN"],
        &["BZPOPMIN", "s", "0"],
        &["BZPOPMAX", "s", "0"],
        &["BZMPOP", "0", "1", "s", "MAX"],
        &["ZRANDMEMBER", "s"],
        &["ZRANDMEMBER", "s", "2"],
        &["ZSCAN", "s", "0"],
        &["ZUNION", "1", "s"],
        &["ZINTER", "1", "s"],
        &["ZDIFF", "1", "s"],
        &["ZUNIONSTORE", "d", "1", "s"],
        &["ZINTERSTORE", "d", "1", "s"],
        &["ZDIFFSTORE", "d", "1", "s"],
        &["ZINTERCARD", "1", "s"],
    ];
    for cmd in cmds {
        assert_eq!(qerr(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
}

#[test]
fn every_command_checks_its_arity() {
    let (_s, mut c) = start();
    for (cmd, n) in [
        ("ZADD", 3),
        ("ZINCRBY", 3),
        ("ZREM", 2),
        ("ZCARD", 1),
        ("ZCOUNT", 3),
        ("ZLEXCOUNT", 2),
        ("ZSCORE", 2),
        ("ZMSCORE", 2),
        ("ZRANK", 2),
        ("ZREVRANK", 2),
        ("ZRANGE", 3),
        ("ZREVRANGE", 3),
        ("ZRANGEBYSCORE", 3),
        ("ZREVRANGEBYSCORE", 3),
        ("ZRANGEBYLEX", 3),
        ("ZREVRANGEBYLEX", 3),
        ("ZRANGESTORE", 4),
        ("ZREMRANGEBYRANK", 3),
        ("ZREMRANGEBYSCORE", 2),
        ("ZREMRANGEBYLEX", 5),
        ("ZPOPMIN", 1),
        ("ZPOPMAX", 1),
        ("ZMPOP", 3),
        ("BZPOPMIN", 2),
        ("BZPOPMAX", 2),
        ("BZMPOP", 4),
        ("ZRANDMEMBER", 1),
        ("ZSCAN", 2),
        ("ZUNION", 2),
        ("ZINTER", 2),
        ("ZDIFF", 2),
        ("ZUNIONSTORE", 3),
        ("ZINTERSTORE", 3),
        ("ZDIFFSTORE", 3),
        ("ZINTERCARD", 2),
    ] {
        let mut args = vec![cmd];
        args.extend(std::iter::repeat_n("k", n - 1));
        assert_eq!(qerr(&mut c, &args), arity(&cmd.to_lowercase()), "{cmd}");
    }
}

// ---------------------------------------------------------------------------------------------
// Ranges

#[test]
fn zrange_by_rank_clamps_and_counts_from_the_end() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    let r = |c: &mut Conn, a: &[&str]| -> Vec<String> {
        let mut args = vec!["ZRANGE", "z"];
        args.extend_from_slice(a);
        q(c, &args)
    };
    assert_eq!(r(&mut c, &["0", "-1"]), strs(&["a", "b", "c", "d", "e"]));
    assert_eq!(r(&mut c, &["1", "2"]), strs(&["b", "c"]));
    assert_eq!(r(&mut c, &["-2", "100"]), strs(&["d", "e"]));
    assert_eq!(r(&mut c, &["-100", "0"]), strs(&["a"]));
    assert_eq!(r(&mut c, &["3", "1"]), Vec::<String>::new());
    assert_eq!(r(&mut c, &["5", "10"]), Vec::<String>::new());
    assert_eq!(
        r(&mut c, &["-9223372036854775808", "9223372036854775807"]).len(),
        5
    );
    assert_eq!(r(&mut c, &["0", "1", "REV"]), strs(&["e", "d"]));
    assert_eq!(
        r(&mut c, &["0", "1", "rev", "withscores"]),
        strs(&["e", "5", "d", "4"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZREVRANGE", "z", "1", "-2", "WITHSCORES"]),
        strs(&["d", "4", "c", "3", "b", "2"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZRANGE", "nokey", "0", "-1"]),
        Vec::<String>::new()
    );
    assert_eq!(qerr(&mut c, &["ZRANGE", "z", "a", "1"]), NOT_INT);
    assert_eq!(
        qerr(&mut c, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    );
    assert_eq!(
        r(&mut c, &["0", "0", "LIMIT", "5", "-1"]),
        strs(&["a"]),
        "a LIMIT count of -1 reads as no LIMIT, as in Redis"
    );
    assert_eq!(qerr(&mut c, &["ZRANGE", "z", "0", "1", "FOO"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZRANGE", "z", "0", "1", "LIMIT", "0"]),
        SYNTAX
    );
    assert_eq!(qerr(&mut c, &["ZREVRANGE", "z", "0", "1", "REV"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]),
        SYNTAX
    );
}

#[test]
fn zrange_by_score_with_exclusive_bounds_infinities_and_limit() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    q::<i64>(&mut c, &["ZADD", "z", "-inf", "lo", "+inf", "hi"]);
    let r = |c: &mut Conn, a: &[&str]| -> Vec<String> {
        let mut args = vec!["ZRANGE", "z"];
        args.extend_from_slice(a);
        q(c, &args)
    };
    assert_eq!(r(&mut c, &["2", "4", "BYSCORE"]), strs(&["b", "c", "d"]));
    assert_eq!(r(&mut c, &["(2", "(4", "BYSCORE"]), strs(&["c"]));
    assert_eq!(r(&mut c, &["-inf", "(1", "BYSCORE"]), strs(&["lo"]));
    assert_eq!(r(&mut c, &["(5", "+inf", "BYSCORE"]), strs(&["hi"]));
    assert_eq!(r(&mut c, &["4", "2", "BYSCORE"]), Vec::<String>::new());
    assert_eq!(r(&mut c, &["(3", "(3", "BYSCORE"]), Vec::<String>::new());
    assert_eq!(
        r(&mut c, &["4", "2", "BYSCORE", "REV"]),
        strs(&["d", "c", "b"])
    );
    assert_eq!(
        r(
            &mut c,
            &["-inf", "+inf", "BYSCORE", "LIMIT", "1", "2", "WITHSCORES"]
        ),
        strs(&["a", "1", "b", "2"])
    );
    assert_eq!(
        r(
            &mut c,
            &["+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "3"]
        ),
        strs(&["e", "d", "c"])
    );
    assert_eq!(
        r(&mut c, &["1", "5", "BYSCORE", "LIMIT", "3", "-5"]),
        strs(&["d", "e"])
    );
    assert_eq!(
        r(&mut c, &["1", "5", "BYSCORE", "LIMIT", "-1", "2"]),
        Vec::<String>::new()
    );
    assert_eq!(
        r(&mut c, &["1", "5", "BYSCORE", "LIMIT", "7", "2"]),
        Vec::<String>::new()
    );
    assert_eq!(
        r(&mut c, &["1", "5", "BYSCORE", "LIMIT", "0", "0"]),
        Vec::<String>::new()
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZRANGEBYSCORE", "z", "(1", "3", "WITHSCORES"]),
        strs(&["b", "2", "c", "3"])
    );
    assert_eq!(
        q::<Vec<String>>(
            &mut c,
            &["ZREVRANGEBYSCORE", "z", "3", "(1", "LIMIT", "0", "1"]
        ),
        strs(&["c"])
    );
    assert_eq!(
        qerr(&mut c, &["ZRANGE", "z", "a", "1", "BYSCORE"]),
        NOT_FLOAT_RANGE
    );
    assert_eq!(
        qerr(&mut c, &["ZRANGEBYSCORE", "z", "1", "nan"]),
        NOT_FLOAT_RANGE
    );
    assert_eq!(
        qerr(&mut c, &["ZRANGEBYSCORE", "z", "((1", "2"]),
        NOT_FLOAT_RANGE
    );
    assert_eq!(
        qerr(&mut c, &["ZRANGEBYSCORE", "z", "1", "2", "REV"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "x", "1"]),
        NOT_INT
    );
}

#[test]
fn zrange_by_lex_and_its_errors() {
    let (_s, mut c) = start();
    q::<i64>(
        &mut c,
        &[
            "ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "",
        ],
    );
    let r = |c: &mut Conn, a: &[&str]| -> Vec<String> {
        let mut args = vec!["ZRANGE", "z"];
        args.extend_from_slice(a);
        q(c, &args)
    };
    assert_eq!(r(&mut c, &["[b", "(d", "BYLEX"]), strs(&["b", "c"]));
    assert_eq!(r(&mut c, &["-", "[a", "BYLEX"]), strs(&["", "a"]));
    assert_eq!(r(&mut c, &["(d", "+", "BYLEX"]), strs(&["e"]));
    assert_eq!(r(&mut c, &["+", "-", "BYLEX"]), Vec::<String>::new());
    assert_eq!(
        r(&mut c, &["+", "-", "BYLEX", "REV", "LIMIT", "1", "2"]),
        strs(&["d", "c"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZRANGEBYLEX", "z", "(a", "[c", "LIMIT", "1", "5"]),
        strs(&["c"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZREVRANGEBYLEX", "z", "[c", "(a"]),
        strs(&["c", "b"])
    );
    assert_eq!(q::<i64>(&mut c, &["ZLEXCOUNT", "z", "[b", "[d"]), 3);
    assert_eq!(q::<i64>(&mut c, &["ZLEXCOUNT", "z", "-", "+"]), 6);
    assert_eq!(q::<i64>(&mut c, &["ZLEXCOUNT", "nokey", "-", "+"]), 0);
    for (min, max) in [("a", "+"), ("[a", "c"), ("", "+"), ("+a", "+"), ("-", "--")] {
        assert_eq!(qerr(&mut c, &["ZRANGEBYLEX", "z", min, max]), NOT_LEX_RANGE);
        assert_eq!(qerr(&mut c, &["ZLEXCOUNT", "z", min, max]), NOT_LEX_RANGE);
    }
    assert_eq!(
        qerr(&mut c, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    );
    assert_eq!(
        qerr(&mut c, &["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]),
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    );
}

#[test]
fn zcount_counts_score_ranges() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "2", "4"]), 3);
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "(2", "(4"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "-inf", "+inf"]), 5);
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "4", "2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "nokey", "0", "1"]), 0);
    assert_eq!(qerr(&mut c, &["ZCOUNT", "z", "x", "1"]), NOT_FLOAT_RANGE);
}

#[test]
fn zremrange_by_rank_score_and_lex() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYRANK", "z", "1", "2"]), 2);
    assert_eq!(
        zrange_all(&mut c, "z"),
        strs(&["a", "1", "d", "4", "e", "5"])
    );
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYRANK", "z", "5", "9"]), 0);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYRANK", "z", "-1", "-1"]), 1);
    assert_eq!(
        q::<i64>(&mut c, &["ZREMRANGEBYSCORE", "z", "(1", "+inf"]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYSCORE", "z", "-inf", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYSCORE", "z", "-inf", "1"]), 1);
    assert!(!exists(&mut c, "z"), "emptied by a range removal");
    q::<i64>(&mut c, &["ZADD", "l", "0", "a", "0", "b", "0", "c"]);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYLEX", "l", "(a", "+"]), 2);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYLEX", "l", "-", "+"]), 1);
    assert!(!exists(&mut c, "l"));
    assert_eq!(
        q::<i64>(&mut c, &["ZREMRANGEBYRANK", "nokey", "0", "-1"]),
        0
    );
    assert_eq!(qerr(&mut c, &["ZREMRANGEBYRANK", "z", "0", "x"]), NOT_INT);
    assert_eq!(
        qerr(&mut c, &["ZREMRANGEBYSCORE", "z", "0", "x"]),
        NOT_FLOAT_RANGE
    );
    assert_eq!(
        qerr(&mut c, &["ZREMRANGEBYLEX", "z", "0", "+"]),
        NOT_LEX_RANGE
    );
}

// ---------------------------------------------------------------------------------------------
// Pops

#[test]
fn zpopmin_and_zpopmax_with_counts() {
    let (_s, mut c) = start();
    seed(&mut c, "z");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMIN", "z"]),
        strs(&["a", "1"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMAX", "z", "2"]),
        strs(&["e", "5", "d", "4"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMIN", "z", "0"]),
        Vec::<String>::new()
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMIN", "z", "10"]),
        strs(&["b", "2", "c", "3"])
    );
    assert!(!exists(&mut c, "z"));
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMIN", "z"]),
        Vec::<String>::new()
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMAX", "z", "3"]),
        Vec::<String>::new()
    );
    let positive = "ERR value is out of range, must be positive";
    assert_eq!(qerr(&mut c, &["ZPOPMIN", "z", "-1"]), positive);
    assert_eq!(qerr(&mut c, &["ZPOPMIN", "z", "abc"]), positive);
    assert_eq!(qerr(&mut c, &["ZPOPMIN", "z", "1", "2"]), SYNTAX);
}

#[test]
fn zmpop_pops_from_the_first_non_empty_key() {
    let (_s, mut c) = start();
    let (k0, k1) = cross("mp");
    q::<i64>(&mut c, &["ZADD", &k1, "1", "a", "2", "b", "3", "c"]);
    let v: (String, Vec<(String, String)>) = q(&mut c, &["ZMPOP", "2", &k0, &k1, "MIN"]);
    assert_eq!(v, (k1.clone(), vec![("a".into(), "1".into())]));
    let v: (String, Vec<(String, String)>) =
        q(&mut c, &["ZMPOP", "2", &k0, &k1, "max", "COUNT", "10"]);
    assert_eq!(
        v,
        (
            k1.clone(),
            vec![("c".into(), "3".into()), ("b".into(), "2".into())]
        )
    );
    assert!(
        !exists(&mut c, &k1),
        "the popped-out key is deleted on its own shard"
    );
    assert_eq!(
        q::<redis::Value>(&mut c, &["ZMPOP", "2", &k0, &k1, "MIN"]),
        redis::Value::Nil
    );
    let numkeys = "ERR numkeys should be greater than 0";
    let count = "ERR count should be greater than 0";
    assert_eq!(qerr(&mut c, &["ZMPOP", "0", "a", "MIN"]), numkeys);
    assert_eq!(qerr(&mut c, &["ZMPOP", "x", "a", "MIN"]), numkeys);
    assert_eq!(qerr(&mut c, &["ZMPOP", "1", "a", "MID"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["ZMPOP", "3", "a", "MIN"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZMPOP", "1", "a", "MIN", "COUNT", "0"]),
        count
    );
    assert_eq!(
        qerr(&mut c, &["ZMPOP", "1", "a", "MIN", "COUNT", "x"]),
        count
    );
    assert_eq!(qerr(&mut c, &["ZMPOP", "1", "a", "MIN", "COUNT"]), SYNTAX);
    assert_eq!(
        qerr(
            &mut c,
            &["ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "1"]
        ),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["ZMPOP", "9223372036854775807", "a", "MIN"]),
        SYNTAX
    );
}

#[test]
fn blocking_pops_serve_ready_keys_and_check_arguments() {
    let (_s, mut c) = start();
    let (k0, k1) = cross("bp");
    q::<i64>(&mut c, &["ZADD", &k1, "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["BZPOPMIN", &k0, &k1, "0"]),
        strs(&[&k1, "a", "1"])
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["BZPOPMAX", &k1, "1.5"]),
        strs(&[&k1, "c", "3"])
    );
    let v: (String, Vec<(String, String)>) =
        q(&mut c, &["BZMPOP", "0", "2", &k0, &k1, "MIN", "COUNT", "5"]);
    assert_eq!(v, (k1.clone(), vec![("b".into(), "2".into())]));
    assert!(!exists(&mut c, &k1));
    assert_eq!(
        qerr(&mut c, &["BZPOPMIN", "k", "abc"]),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(
        qerr(&mut c, &["BZPOPMIN", "k", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        qerr(&mut c, &["BZMPOP", "-1", "1", "k", "MIN"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        qerr(&mut c, &["BZMPOP", "0", "0", "k", "MIN"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(qerr(&mut c, &["BZMPOP", "0", "1", "k", "LEFT"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["BZMPOP", "x", "1", "k", "MIN", "COUNT", "0"]),
        "ERR count should be greater than 0",
        "BZMPOP checks its options before the timeout"
    );
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER and ZSCAN

#[test]
fn zrandmember_counts_and_scores() {
    let (_s, mut c) = start();
    assert_eq!(q::<Option<String>>(&mut c, &["ZRANDMEMBER", "nokey"]), None);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZRANDMEMBER", "nokey", "3"]),
        Vec::<String>::new()
    );
    for n in [5, 300] {
        q::<i64>(&mut c, &["DEL", "z"]);
        let mut model = HashMap::new();
        for i in 0..n {
            q::<i64>(&mut c, &["ZADD", "z", &i.to_string(), &format!("m{i}")]);
            model.insert(format!("m{i}"), i.to_string());
        }
        let one: String = q(&mut c, &["ZRANDMEMBER", "z"]);
        assert!(model.contains_key(&one));
        for count in [1, 3, n - 1, n, n + 10] {
            let got: Vec<String> = q(&mut c, &["ZRANDMEMBER", "z", &count.to_string()]);
            assert_eq!(got.len(), count.min(n), "distinct members, at most all");
            let set: std::collections::HashSet<_> = got.iter().collect();
            assert_eq!(set.len(), got.len());
            assert!(got.iter().all(|m| model.contains_key(m)));
        }
        let got: Vec<String> = q(&mut c, &["ZRANDMEMBER", "z", "-20", "WITHSCORES"]);
        assert_eq!(got.len(), 40, "repeats allowed");
        for p in got.chunks(2) {
            assert_eq!(model[&p[0]], p[1]);
        }
        let all: Vec<String> = q(&mut c, &["ZRANDMEMBER", "z", &n.to_string(), "WITHSCORES"]);
        assert_eq!(all.len(), 2 * n);
        assert_eq!(
            q::<Vec<String>>(&mut c, &["ZRANDMEMBER", "z", "0"]),
            Vec::<String>::new()
        );
    }
    assert_eq!(qerr(&mut c, &["ZRANDMEMBER", "z", "x"]), NOT_INT);
    assert_eq!(
        qerr(&mut c, &["ZRANDMEMBER", "z", "1", "WITHSCORE"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["ZRANDMEMBER", "z", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        qerr(
            &mut c,
            &["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"]
        ),
        "ERR value is out of range"
    );
}

#[test]
fn zscan_walks_both_encodings() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["ZADD", "small", "1", "a", "2.5", "b", "3", "c"]);
    let (cur, items): (String, Vec<String>) = q(&mut c, &["ZSCAN", "small", "0"]);
    assert_eq!(cur, "0");
    assert_eq!(items, strs(&["a", "1", "b", "2.5", "c", "3"]));
    let (_, items): (String, Vec<String>) = q(&mut c, &["ZSCAN", "small", "0", "MATCH", "[ab]"]);
    assert_eq!(items, strs(&["a", "1", "b", "2.5"]));
    let mut want = BTreeMap::new();
    for i in 0..500 {
        q::<i64>(
            &mut c,
            &["ZADD", "big", &format!("{i}.5"), &format!("m{i}")],
        );
        want.insert(format!("m{i}"), format!("{i}.5"));
    }
    assert_eq!(encoding(&mut c, "big"), "skiplist");
    let mut got = BTreeMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut c, &["ZSCAN", "big", &cursor, "COUNT", "50"]);
        for p in items.chunks(2) {
            got.insert(p[0].clone(), p[1].clone());
        }
        calls += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(got, want);
    assert!(calls > 2, "a big set is walked in several steps");
    let (cur, items): (String, Vec<String>) = q(&mut c, &["ZSCAN", "nokey", "0"]);
    assert_eq!((cur.as_str(), items.len()), ("0", 0));
    assert_eq!(qerr(&mut c, &["ZSCAN", "big", "x"]), "ERR invalid cursor");
    assert_eq!(qerr(&mut c, &["ZSCAN", "big", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["ZSCAN", "big", "0", "MATCH"]), SYNTAX);
}

// ---------------------------------------------------------------------------------------------
// Set operations

#[test]
fn zunion_zinter_zdiff_with_weights_and_aggregates() {
    let (_s, mut c) = start();
    let (a, b) = cross("ops");
    q::<i64>(&mut c, &["ZADD", &a, "1", "x", "2", "y", "3", "z"]);
    q::<i64>(&mut c, &["ZADD", &b, "10", "y", "20", "z", "30", "w"]);
    let u: Vec<String> = q(&mut c, &["ZUNION", "2", &a, &b, "WITHSCORES"]);
    assert_eq!(u, strs(&["x", "1", "y", "12", "z", "23", "w", "30"]));
    let u: Vec<String> = q(
        &mut c,
        &[
            "ZUNION",
            "2",
            &a,
            &b,
            "WEIGHTS",
            "2",
            "0.5",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ],
    );
    assert_eq!(u, strs(&["x", "2", "y", "5", "z", "10", "w", "15"]));
    let i: Vec<String> = q(
        &mut c,
        &["ZINTER", "2", &a, &b, "AGGREGATE", "min", "WITHSCORES"],
    );
    assert_eq!(i, strs(&["y", "2", "z", "3"]));
    let i: Vec<String> = q(&mut c, &["ZINTER", "2", &a, &b]);
    assert_eq!(i, strs(&["y", "z"]));
    let d: Vec<String> = q(&mut c, &["ZDIFF", "2", &a, &b, "WITHSCORES"]);
    assert_eq!(d, strs(&["x", "1"]));
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZDIFF", "2", &a, &a]),
        Vec::<String>::new()
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZDIFF", "2", "nokey", &a]),
        Vec::<String>::new()
    );
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "2", &a, &b]), 2);
    assert_eq!(
        q::<i64>(&mut c, &["ZINTERCARD", "2", &a, &b, "LIMIT", "1"]),
        1
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZINTERCARD", "2", &a, &b, "LIMIT", "0"]),
        2
    );
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "2", &a, "nokey"]), 0);
    // Stores, across shards.
    let (d0, d1) = cross("dst");
    assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", &d0, "2", &a, &b]), 4);
    assert_eq!(
        zrange_all(&mut c, &d0),
        strs(&["x", "1", "y", "12", "z", "23", "w", "30"])
    );
    assert_eq!(
        q::<i64>(
            &mut c,
            &["ZINTERSTORE", &d1, "2", &a, &b, "WEIGHTS", "1", "-1"]
        ),
        2
    );
    assert_eq!(zrange_all(&mut c, &d1), strs(&["z", "-17", "y", "-8"]));
    assert_eq!(q::<i64>(&mut c, &["ZDIFFSTORE", &d1, "2", &b, &a]), 1);
    assert_eq!(zrange_all(&mut c, &d1), strs(&["w", "30"]));
    q::<i64>(&mut c, &["EXPIRE", &d1, "100"]);
    assert_eq!(q::<i64>(&mut c, &["ZINTERSTORE", &d1, "2", &a, "nokey"]), 0);
    assert!(
        !exists(&mut c, &d1),
        "an empty result deletes the destination"
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZUNIONSTORE", &a, "2", &a, &b]),
        4,
        "in place"
    );
    assert_eq!(q::<i64>(&mut c, &["TTL", &a]), -1);
}

#[test]
fn set_operations_handle_infinities() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["ZADD", "{t}z", "+inf", "x", "5", "q"]);
    q::<i64>(&mut c, &["ZADD", "{t}n", "-inf", "x"]);
    let u: Vec<String> = q(&mut c, &["ZUNION", "2", "{t}z", "{t}n", "WITHSCORES"]);
    assert_eq!(u, strs(&["x", "0", "q", "5"]), "inf + -inf is 0");
    let u: Vec<String> = q(
        &mut c,
        &["ZUNION", "1", "{t}z", "WEIGHTS", "0", "WITHSCORES"],
    );
    assert_eq!(u, strs(&["q", "0", "x", "0"]), "inf * 0 is 0");
    let i: Vec<String> = q(
        &mut c,
        &[
            "ZINTER",
            "2",
            "{t}z",
            "{t}n",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ],
    );
    assert_eq!(i, strs(&["x", "inf"]));
    let i: Vec<String> = q(&mut c, &["ZINTER", "2", "{t}z", "{t}z", "WITHSCORES"]);
    assert_eq!(
        i,
        strs(&["q", "10", "x", "inf"]),
        "a key given twice meets itself"
    );
}

/// Sets are inputs with score 1. Runs once the set family's SADD is there (it is written in
/// parallel with this family).
#[test]
fn set_operations_take_sets_as_inputs() {
    let (_s, mut c) = start();
    if redis::cmd("SADD")
        .arg("{t}s")
        .arg("x")
        .arg("y")
        .query::<i64>(&mut c)
        .is_err()
    {
        return;
    }
    q::<i64>(&mut c, &["ZADD", "{t}z", "+inf", "x", "5", "q"]);
    let u: Vec<String> = q(&mut c, &["ZUNION", "2", "{t}s", "{t}z", "WITHSCORES"]);
    assert_eq!(u, strs(&["y", "1", "q", "5", "x", "inf"]));
    let i: Vec<String> = q(&mut c, &["ZINTER", "2", "{t}s", "{t}z", "WITHSCORES"]);
    assert_eq!(i, strs(&["x", "inf"]));
    let d: Vec<String> = q(&mut c, &["ZDIFF", "2", "{t}s", "{t}z", "WITHSCORES"]);
    assert_eq!(d, strs(&["y", "1"]));
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "2", "{t}s", "{t}z"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", "{t}d", "1", "{t}s"]), 2);
    assert_eq!(zrange_all(&mut c, "{t}d"), strs(&["x", "1", "y", "1"]));
}

#[test]
fn set_operation_errors() {
    let (_s, mut c) = start();
    q::<i64>(&mut c, &["ZADD", "z", "1", "a"]);
    assert_eq!(
        qerr(&mut c, &["ZUNION", "0", "z"]),
        "ERR at least 1 input key is needed for 'zunion' command"
    );
    assert_eq!(
        qerr(&mut c, &["ZINTERSTORE", "d", "0", "z"]),
        "ERR at least 1 input key is needed for 'zinterstore' command"
    );
    assert_eq!(qerr(&mut c, &["ZUNION", "x", "z"]), NOT_INT);
    assert_eq!(qerr(&mut c, &["ZUNION", "3", "z", "z"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["ZUNION", "1", "z", "WEIGHTS"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZUNION", "1", "z", "WEIGHTS", "x"]),
        "ERR weight value is not a float"
    );
    assert_eq!(
        qerr(&mut c, &["ZUNION", "1", "z", "AGGREGATE", "AVG"]),
        SYNTAX
    );
    assert_eq!(qerr(&mut c, &["ZDIFF", "1", "z", "WEIGHTS", "1"]), SYNTAX);
    assert_eq!(
        qerr(&mut c, &["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["ZINTERCARD", "1", "z", "WITHSCORES"]),
        SYNTAX
    );
    assert_eq!(
        qerr(&mut c, &["ZINTERCARD", "1", "z", "LIMIT", "-1"]),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(
        qerr(&mut c, &["ZINTERCARD", "1", "z", "LIMIT", "x"]),
        "ERR LIMIT can't be negative"
    );
    assert_eq!(
        qerr(&mut c, &["ZINTERCARD", "0", "z"]),
        "ERR at least 1 input key is needed for 'zintercard' command"
    );
}

#[test]
fn zrangestore_stores_any_range_across_shards() {
    let (_s, mut c) = start();
    let (src, dst) = cross("rs");
    seed(&mut c, &src);
    assert_eq!(q::<i64>(&mut c, &["ZRANGESTORE", &dst, &src, "1", "-2"]), 3);
    assert_eq!(
        zrange_all(&mut c, &dst),
        strs(&["b", "2", "c", "3", "d", "4"])
    );
    assert_eq!(
        q::<i64>(
            &mut c,
            &[
                "ZRANGESTORE",
                &dst,
                &src,
                "(5",
                "2",
                "BYSCORE",
                "REV",
                "LIMIT",
                "1",
                "2"
            ]
        ),
        2
    );
    assert_eq!(zrange_all(&mut c, &dst), strs(&["b", "2", "c", "3"]));
    assert_eq!(
        q::<i64>(&mut c, &["ZRANGESTORE", &dst, &src, "[a", "(c", "BYLEX"]),
        2
    );
    assert_eq!(q::<i64>(&mut c, &["ZRANGESTORE", &dst, &src, "5", "9"]), 0);
    assert!(!exists(&mut c, &dst));
    assert_eq!(
        q::<i64>(&mut c, &["ZRANGESTORE", &dst, "nokey", "0", "-1"]),
        0
    );
    assert_eq!(
        qerr(
            &mut c,
            &["ZRANGESTORE", &dst, &src, "0", "-1", "WITHSCORES"]
        ),
        SYNTAX
    );
}

// ---------------------------------------------------------------------------------------------
// Encodings

#[test]
fn encodings_convert_at_the_configured_limits() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
    q::<()>(&mut c, &["CONFIG", "SET", "zset-max-listpack-value", "8"]);
    q::<i64>(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    );
    assert_eq!(encoding(&mut c, "z"), "listpack");
    q::<i64>(&mut c, &["ZADD", "z", "5", "e"]);
    assert_eq!(encoding(&mut c, "z"), "skiplist");
    q::<i64>(&mut c, &["ZREM", "z", "a", "b", "c", "d"]);
    assert_eq!(
        encoding(&mut c, "z"),
        "skiplist",
        "never converted back on shrinking"
    );
    q::<i64>(&mut c, &["ZADD", "long", "1", "123456789"]);
    assert_eq!(
        encoding(&mut c, "long"),
        "skiplist",
        "a member over the value limit"
    );
    q::<i64>(&mut c, &["ZADD", "l2", "1", "a"]);
    q::<i64>(&mut c, &["ZADD", "l2", "2", "123456789"]);
    assert_eq!(encoding(&mut c, "l2"), "skiplist");
    q::<i64>(
        &mut c,
        &[
            "ZADD", "many", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
    );
    assert_eq!(encoding(&mut c, "many"), "skiplist");
    // Stored results pick their encoding by their size.
    assert_eq!(q::<i64>(&mut c, &["ZRANGESTORE", "r", "many", "0", "2"]), 3);
    assert_eq!(encoding(&mut c, "r"), "listpack");
    assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", "u", "1", "many"]), 5);
    assert_eq!(encoding(&mut c, "u"), "skiplist");
    assert_eq!(q::<i64>(&mut c, &["ZINTERSTORE", "u", "2", "many", "r"]), 3);
    assert_eq!(encoding(&mut c, "u"), "listpack");
    assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", "u2", "1", "l2"]), 2);
    assert_eq!(
        encoding(&mut c, "u2"),
        "skiplist",
        "a long member keeps it big"
    );
    q::<()>(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    q::<i64>(&mut c, &["ZADD", "zero", "1", "a"]);
    assert_eq!(encoding(&mut c, "zero"), "skiplist");
    q::<()>(
        &mut c,
        &["CONFIG", "SET", "zset-max-listpack-entries", "128"],
    );
    q::<()>(&mut c, &["CONFIG", "SET", "zset-max-listpack-value", "64"]);
    let mut args = vec!["ZADD".to_string(), "d".to_string()];
    for i in 0..128 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    q::<i64>(&mut c, &argv);
    assert_eq!(
        encoding(&mut c, "d"),
        "listpack",
        "the default limit is 128"
    );
    q::<i64>(&mut c, &["ZADD", "d", "1", "x"]);
    assert_eq!(encoding(&mut c, "d"), "skiplist");
}

#[test]
fn big_sets_answer_the_same_as_small_ones() {
    let (_s, mut c) = start();
    q::<()>(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    seed(&mut c, "z");
    assert_eq!(encoding(&mut c, "z"), "skiplist");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZRANGE", "z", "1", "3"]),
        strs(&["b", "c", "d"])
    );
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "(1", "4"]), 3);
    assert_eq!(q::<Option<i64>>(&mut c, &["ZREVRANK", "z", "b"]), Some(3));
    assert_eq!(
        q::<Vec<String>>(&mut c, &["ZPOPMAX", "z"]),
        strs(&["e", "5"])
    );
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYSCORE", "z", "2", "3"]), 2);
    assert_eq!(zrange_all(&mut c, "z"), strs(&["a", "1", "d", "4"]));
    q::<i64>(&mut c, &["ZADD", "z", "-0", "neg"]);
    assert_eq!(
        q::<String>(&mut c, &["ZSCORE", "z", "neg"]),
        "-0",
        "the big encoding keeps -0, as Redis' skiplist does"
    );
}

// ---------------------------------------------------------------------------------------------
// RESP3

#[test]
fn resp3_replies_use_doubles_and_nested_pairs() {
    let (s, mut c) = start();
    seed(&mut c, "z");
    let mut r = Raw::open(s.port(), true);
    assert_eq!(r.call_str(&["ZSCORE", "z", "c"]), ",3\r\n");
    assert_eq!(r.call_str(&["ZSCORE", "z", "x"]), "_\r\n");
    assert_eq!(r.call_str(&["ZMSCORE", "z", "a", "x"]), "*2\r\n,1\r\n_\r\n");
    assert_eq!(r.call_str(&["ZINCRBY", "z", "0.5", "a"]), ",1.5\r\n");
    assert_eq!(
        r.call_str(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(r.call_str(&["ZRANGE", "z", "0", "0"]), "*1\r\n$1\r\na\r\n");
    assert_eq!(r.call_str(&["ZPOPMIN", "z"]), "*2\r\n$1\r\na\r\n,1.5\r\n");
    assert_eq!(
        r.call_str(&["ZPOPMIN", "z", "1"]),
        "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(r.call_str(&["ZPOPMIN", "nokey", "1"]), "*0\r\n");
    assert_eq!(r.call_str(&["ZMPOP", "1", "nokey", "MIN"]), "_\r\n");
    assert_eq!(
        r.call_str(&["ZMPOP", "1", "z", "MAX"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\ne\r\n,5\r\n"
    );
    assert_eq!(
        r.call_str(&["BZPOPMAX", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\nd\r\n,4\r\n"
    );
    assert_eq!(
        r.call_str(&["ZUNION", "1", "z", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"
    );
    assert_eq!(
        r.call_str(&["ZRANDMEMBER", "z", "1", "WITHSCORES"]),
        "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"
    );
    assert_eq!(r.call_str(&["ZADD", "z", "INCR", "inf", "c"]), ",inf\r\n");
    assert_eq!(
        r.call_str(&["ZSCAN", "z", "0"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nc\r\n$3\r\ninf\r\n",
        "ZSCAN scores stay strings"
    );
    if !s.is_reference() {
        assert_eq!(
            r.call_str(&["ZRANK", "z", "c", "WITHSCORE"]),
            "*2\r\n:0\r\n,inf\r\n"
        );
        assert_eq!(r.call_str(&["ZRANK", "z", "x", "WITHSCORE"]), "_\r\n");
    }
    let mut r2 = Raw::open(s.port(), false);
    assert_eq!(
        r2.call_str(&["ZRANGE", "z", "0", "0", "WITHSCORES"]),
        "*2\r\n$1\r\nc\r\n$3\r\ninf\r\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Randomized model test

/// The reference model: member -> score.
#[derive(Default, Clone)]
struct Model(BTreeMap<String, f64>);

impl Model {
    fn sorted(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = self.0.iter().map(|(k, &s)| (k.clone(), s)).collect();
        v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then(a.0.cmp(&b.0)));
        v
    }
}

/// Redis' reply text for a score (the model uses integral and half scores only).
fn fmt(s: f64) -> String {
    if s == s.trunc() && s.abs() < 1e15 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn score(&mut self) -> f64 {
        (self.below(21) as f64 - 10.0) / if self.below(3) == 0 { 2.0 } else { 1.0 }
    }
}

fn score_bound(rng: &mut Rng) -> (String, f64, bool) {
    match rng.below(10) {
        0 => ("-inf".into(), f64::NEG_INFINITY, false),
        1 => ("+inf".into(), f64::INFINITY, false),
        _ => {
            let s = rng.score();
            if rng.below(3) == 0 {
                (format!("({}", fmt(s)), s, true)
            } else {
                (fmt(s), s, false)
            }
        }
    }
}

fn in_min(v: f64, b: &(String, f64, bool)) -> bool {
    if b.2 {
        v > b.1
    } else {
        v >= b.1
    }
}

fn in_max(v: f64, b: &(String, f64, bool)) -> bool {
    if b.2 {
        v < b.1
    } else {
        v <= b.1
    }
}

fn pairs(v: &[(String, f64)], withscores: bool) -> Vec<String> {
    v.iter()
        .flat_map(|(m, s)| {
            let mut out = vec![m.clone()];
            if withscores {
                out.push(fmt(*s));
            }
            out
        })
        .collect()
}

/// Redis' rank clamping over `n` members.
fn clamp(start: i64, end: i64, n: usize) -> Option<(usize, usize)> {
    let n = n as i64;
    let s = if start < 0 { start + n } else { start }.max(0);
    let e = if end < 0 { end + n } else { end }.min(n - 1);
    (s <= e && s < n).then_some((s as usize, e as usize))
}

fn model_run(c: &mut Conn, rng: &mut Rng, keys: &[String], steps: usize) {
    let mut models: Vec<Model> = vec![Model::default(); keys.len()];
    for step in 0..steps {
        let ki = rng.below(keys.len() as u64) as usize;
        let key = keys[ki].as_str();
        let member = format!("m{}", rng.below(24));
        let m = &mut models[ki];
        match rng.below(16) {
            0 | 1 => {
                let s = rng.score();
                let flag = ["", "NX", "XX", "GT", "LT", "CH"][rng.below(6) as usize];
                let mut args = vec!["ZADD", key];
                if !flag.is_empty() {
                    args.push(flag);
                }
                let st = fmt(s);
                args.extend([st.as_str(), member.as_str()]);
                let cur = m.0.get(&member).copied();
                let (set, changed) = match (flag, cur) {
                    ("NX", Some(_)) | ("XX", None) => (false, false),
                    ("GT", Some(c)) if s <= c => (false, false),
                    ("LT", Some(c)) if s >= c => (false, false),
                    (_, Some(c)) => (true, s != c),
                    (_, None) => (true, true),
                };
                let want = match (flag, cur) {
                    ("CH", _) => changed as i64,
                    (_, None) => set as i64,
                    _ => 0,
                };
                assert_eq!(q::<i64>(c, &args), want, "step {step}: {args:?}");
                if set {
                    m.0.insert(member, s);
                }
            }
            2 => {
                let s = rng.score();
                let want = m.0.get(&member).copied().unwrap_or(0.0) + s;
                let got: String = q(c, &["ZINCRBY", key, &fmt(s), &member]);
                assert_eq!(got, fmt(want), "step {step}");
                m.0.insert(member, want);
            }
            3 => {
                let other = format!("m{}", rng.below(24));
                let want =
                    m.0.remove(&member).is_some() as i64 + m.0.remove(&other).is_some() as i64;
                assert_eq!(
                    q::<i64>(c, &["ZREM", key, &member, &other]),
                    want,
                    "step {step}"
                );
            }
            4 => {
                let got: Option<String> = q(c, &["ZSCORE", key, &member]);
                assert_eq!(got, m.0.get(&member).map(|s| fmt(*s)), "step {step}");
            }
            5 => {
                let rev = rng.below(2) == 0;
                let sorted = m.sorted();
                let want = sorted.iter().position(|(k, _)| *k == member).map(|r| {
                    if rev {
                        (sorted.len() - 1 - r) as i64
                    } else {
                        r as i64
                    }
                });
                let cmd = if rev { "ZREVRANK" } else { "ZRANK" };
                assert_eq!(
                    q::<Option<i64>>(c, &[cmd, key, &member]),
                    want,
                    "step {step}"
                );
            }
            6 | 7 => {
                // By rank.
                let (a, b) = (rng.below(30) as i64 - 15, rng.below(30) as i64 - 15);
                let rev = rng.below(2) == 0;
                let ws = rng.below(2) == 0;
                let mut sorted = m.sorted();
                if rev {
                    sorted.reverse();
                }
                let want =
                    clamp(a, b, sorted.len()).map_or(vec![], |(s, e)| pairs(&sorted[s..=e], ws));
                let (sa, sb) = (a.to_string(), b.to_string());
                let mut args = vec!["ZRANGE", key, &sa, &sb];
                if rev {
                    args.push("REV");
                }
                if ws {
                    args.push("WITHSCORES");
                }
                assert_eq!(q::<Vec<String>>(c, &args), want, "step {step}: {args:?}");
            }
            8 | 9 => {
                // By score, with LIMIT.
                let (lo, hi) = (score_bound(rng), score_bound(rng));
                let rev = rng.below(2) == 0;
                let ws = rng.below(2) == 0;
                let limit =
                    (rng.below(3) == 0).then(|| (rng.below(4) as i64, rng.below(5) as i64 - 1));
                let mut v: Vec<(String, f64)> = m
                    .sorted()
                    .into_iter()
                    .filter(|(_, s)| in_min(*s, &lo) && in_max(*s, &hi))
                    .collect();
                if rev {
                    v.reverse();
                }
                if let Some((off, cnt)) = limit {
                    v = v.into_iter().skip(off as usize).collect();
                    if cnt >= 0 {
                        v.truncate(cnt as usize);
                    }
                }
                let (off, cnt) = limit.map_or((String::new(), String::new()), |(o, n)| {
                    (o.to_string(), n.to_string())
                });
                let mut args = vec!["ZRANGE", key];
                if rev {
                    args.extend([hi.0.as_str(), lo.0.as_str(), "BYSCORE", "REV"]);
                } else {
                    args.extend([lo.0.as_str(), hi.0.as_str(), "BYSCORE"]);
                }
                if limit.is_some() {
                    args.extend(["LIMIT", off.as_str(), cnt.as_str()]);
                }
                if ws {
                    args.push("WITHSCORES");
                }
                assert_eq!(
                    q::<Vec<String>>(c, &args),
                    pairs(&v, ws),
                    "step {step}: {args:?}"
                );
                let count: i64 = q(c, &["ZCOUNT", key, &lo.0, &hi.0]);
                let n =
                    m.0.values()
                        .filter(|s| in_min(**s, &lo) && in_max(**s, &hi))
                        .count();
                assert_eq!(count, n as i64, "step {step}");
            }
            10 => {
                // By lex, on a key whose members all share score 0.
                let lk = format!("{key}:lex");
                q::<i64>(c, &["ZADD", &lk, "0", &member]);
                let a = format!("[m{}", rng.below(24));
                let b = format!("(m{}", rng.below(24));
                let all: Vec<String> = q(c, &["ZRANGE", &lk, "-", "+", "BYLEX"]);
                let want: Vec<String> = all
                    .iter()
                    .filter(|x| x.as_str() >= &a[1..] && x.as_str() < &b[1..])
                    .cloned()
                    .collect();
                assert_eq!(q::<Vec<String>>(c, &["ZRANGEBYLEX", &lk, &a, &b]), want);
                assert_eq!(q::<i64>(c, &["ZLEXCOUNT", &lk, &a, &b]), want.len() as i64);
                let mut rev = want.clone();
                rev.reverse();
                assert_eq!(q::<Vec<String>>(c, &["ZREVRANGEBYLEX", &lk, &b, &a]), rev);
            }
            11 => {
                let (a, b) = (rng.below(12) as i64 - 6, rng.below(12) as i64 - 6);
                let sorted = m.sorted();
                let doomed =
                    clamp(a, b, sorted.len()).map_or(vec![], |(s, e)| sorted[s..=e].to_vec());
                let got: i64 = q(c, &["ZREMRANGEBYRANK", key, &a.to_string(), &b.to_string()]);
                assert_eq!(got, doomed.len() as i64, "step {step}");
                doomed.iter().for_each(|(k, _)| {
                    m.0.remove(k);
                });
            }
            12 => {
                let (lo, hi) = (score_bound(rng), score_bound(rng));
                let doomed: Vec<String> =
                    m.0.iter()
                        .filter(|(_, s)| in_min(**s, &lo) && in_max(**s, &hi))
                        .map(|(k, _)| k.clone())
                        .collect();
                let got: i64 = q(c, &["ZREMRANGEBYSCORE", key, &lo.0, &hi.0]);
                assert_eq!(got, doomed.len() as i64, "step {step}");
                doomed.iter().for_each(|k| {
                    m.0.remove(k);
                });
            }
            13 => {
                let max = rng.below(2) == 0;
                let n = rng.below(4) as usize;
                let mut sorted = m.sorted();
                if max {
                    sorted.reverse();
                }
                let popped: Vec<(String, f64)> = sorted.into_iter().take(n).collect();
                let cmd = if max { "ZPOPMAX" } else { "ZPOPMIN" };
                let got: Vec<String> = q(c, &[cmd, key, &n.to_string()]);
                assert_eq!(got, pairs(&popped, true), "step {step}");
                popped.iter().for_each(|(k, _)| {
                    m.0.remove(k);
                });
            }
            _ => {
                // A store of two keys (maybe on two shards) with weights and an aggregate.
                let oi = rng.below(keys.len() as u64) as usize;
                let di = rng.below(keys.len() as u64) as usize;
                // Positive weights: a -0 result would print as "-0" or "0" by encoding.
                let weights = [0.5, 1.0, 2.0, 3.0];
                let w1 = weights[rng.below(4) as usize];
                let w2 = weights[rng.below(4) as usize];
                let agg = ["SUM", "MIN", "MAX"][rng.below(3) as usize];
                let union = rng.below(2) == 0;
                let (a, b) = (models[ki].clone(), models[oi].clone());
                let mut out: BTreeMap<String, f64> = BTreeMap::new();
                let combine = |x: f64, y: f64| match agg {
                    "SUM" => x + y,
                    "MIN" => x.min(y),
                    _ => x.max(y),
                };
                let same = ki == oi;
                for (k, s) in &a.0 {
                    match b.0.get(k) {
                        Some(t) => {
                            out.insert(k.clone(), combine(s * w1, t * w2));
                        }
                        None if union => {
                            out.insert(k.clone(), s * w1);
                        }
                        None => {}
                    }
                }
                if union && !same {
                    for (k, t) in &b.0 {
                        out.entry(k.clone()).or_insert(t * w2);
                    }
                }
                let cmd = if union { "ZUNIONSTORE" } else { "ZINTERSTORE" };
                let (sw1, sw2) = (fmt(w1), fmt(w2));
                let got: i64 = q(
                    c,
                    &[
                        cmd,
                        &keys[di],
                        "2",
                        &keys[ki],
                        &keys[oi],
                        "WEIGHTS",
                        &sw1,
                        &sw2,
                        "AGGREGATE",
                        agg,
                    ],
                );
                assert_eq!(got, out.len() as i64, "step {step}");
                models[di] = Model(out);
                if models[di].0.is_empty() {
                    assert!(!exists(c, &keys[di]));
                }
            }
        }
        if step % 25 == 0 || step + 1 == steps {
            for (k, m) in keys.iter().zip(&models) {
                let got: Vec<String> = q(c, &["ZRANGE", k, "0", "-1", "WITHSCORES"]);
                assert_eq!(got, pairs(&m.sorted(), true), "step {step}: {k}");
                assert_eq!(q::<i64>(c, &["ZCARD", k]), m.0.len() as i64);
            }
        }
    }
}

#[test]
fn random_commands_agree_with_a_model_with_small_and_default_limits() {
    let s = Target::start(2);
    let mut c = s.client();
    let keys = vec![
        key_on(0, 2, "mz"),
        key_on(1, 2, "mz"),
        key_on(0, 2, "other"),
        key_on(1, 2, "other"),
    ];
    let mut rng = Rng(0x2e75);
    q::<()>(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
    model_run(&mut c, &mut rng, &keys, 1500);
    q::<()>(&mut c, &["FLUSHALL"]);
    q::<()>(
        &mut c,
        &["CONFIG", "SET", "zset-max-listpack-entries", "128"],
    );
    model_run(&mut c, &mut rng, &keys, 1500);
}

#[test]
fn binary_members_round_trip() {
    let (_s, mut c) = start();
    let m1: &[u8] = b"\x00\xff\r\n";
    let m2: &[u8] = b"";
    assert_eq!(qb::<i64>(&mut c, &[b"ZADD", b"z", b"1", m1, b"2", m2]), 2);
    let got: Vec<Vec<u8>> = qb(&mut c, &[b"ZRANGE", b"z", b"0", b"-1"]);
    assert_eq!(got, vec![m1.to_vec(), m2.to_vec()]);
    assert_eq!(qb::<String>(&mut c, &[b"ZSCORE", b"z", m1]), "1");
}

// ---------------------------------------------------------------------------------------------
// Differential test against Debian's redis-server

/// A random sorted set command over a small pool of keys (on both shards), members and
/// dyadic scores (printed alike by Redis 7.0's `%.17g` and 7.2's shortest form), errors
/// included. Lex commands only touch the lex keys, whose members all score 0 (lex ranges
/// over mixed scores are unspecified in Redis).
fn random_zset_command(rng: &mut Rng, keys: &[String], lex: &[String]) -> Vec<String> {
    let pick = |rng: &mut Rng, v: &[String]| v[rng.below(v.len() as u64) as usize].clone();
    let key = pick(rng, keys);
    let member = |rng: &mut Rng| format!("m{}", rng.below(12));
    let score = |rng: &mut Rng| match rng.below(12) {
        0 => "+inf".to_string(),
        1 => "-inf".to_string(),
        2 => "x".to_string(),
        _ => fmt((rng.below(40) as f64 - 20.0) / 4.0),
    };
    let bound = |rng: &mut Rng| match rng.below(8) {
        0 => "-inf".to_string(),
        1 => "+inf".to_string(),
        2 => format!("({}", rng.below(10) as i64 - 5),
        3 if rng.below(10) == 0 => "nope".to_string(),
        _ => fmt((rng.below(40) as f64 - 20.0) / 4.0),
    };
    let lexb = |rng: &mut Rng| match rng.below(6) {
        0 => "-".to_string(),
        1 => "+".to_string(),
        2 => format!("(m{}", rng.below(12)),
        3 if rng.below(10) == 0 => "bad".to_string(),
        _ => format!("[m{}", rng.below(12)),
    };
    let int = |rng: &mut Rng| (rng.below(16) as i64 - 8).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut c: Vec<String> = match rng.below(30) {
        0..=3 => {
            let mut c = s(&["ZADD", &key]);
            for f in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if rng.below(6) == 0 {
                    c.push(f.into());
                }
            }
            for _ in 0..1 + rng.below(3) {
                c.push(score(rng));
                c.push(member(rng));
            }
            c
        }
        4 => s(&["ZINCRBY", &key, &score(rng), &member(rng)]),
        5 => s(&["ZREM", &key, &member(rng), &member(rng)]),
        6 => s(&["ZSCORE", &key, &member(rng)]),
        7 => s(&["ZMSCORE", &key, &member(rng), &member(rng)]),
        8 => s(&[
            ["ZRANK", "ZREVRANK"][rng.below(2) as usize],
            &key,
            &member(rng),
        ]),
        9 | 10 => {
            let mut c = match rng.below(3) {
                0 => s(&["ZRANGE", &key, &int(rng), &int(rng)]),
                1 => s(&["ZRANGE", &key, &bound(rng), &bound(rng), "BYSCORE"]),
                _ => s(&["ZRANGE", &pick(rng, lex), &lexb(rng), &lexb(rng), "BYLEX"]),
            };
            if rng.below(2) == 0 {
                c.push("REV".into());
            }
            if rng.below(3) == 0 {
                c.extend(s(&["LIMIT", &int(rng), &int(rng)]));
            }
            if rng.below(2) == 0 {
                c.push("WITHSCORES".into());
            }
            c
        }
        11 => s(&["ZREVRANGE", &key, &int(rng), &int(rng), "WITHSCORES"]),
        12 => {
            let mut c = s(&[
                ["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"][rng.below(2) as usize],
                &key,
                &bound(rng),
                &bound(rng),
            ]);
            if rng.below(2) == 0 {
                c.push("WITHSCORES".into());
            }
            if rng.below(2) == 0 {
                c.extend(s(&["LIMIT", &int(rng), &int(rng)]));
            }
            c
        }
        13 => {
            let cmd = ["ZRANGEBYLEX", "ZREVRANGEBYLEX"][rng.below(2) as usize];
            let mut c = s(&[cmd, &pick(rng, lex), &lexb(rng), &lexb(rng)]);
            if rng.below(2) == 0 {
                c.extend(s(&["LIMIT", &int(rng), &int(rng)]));
            }
            c
        }
        14 => s(&["ZCOUNT", &key, &bound(rng), &bound(rng)]),
        15 => s(&["ZLEXCOUNT", &pick(rng, lex), &lexb(rng), &lexb(rng)]),
        16 => match rng.below(3) {
            0 => s(&["ZREMRANGEBYRANK", &key, &int(rng), &int(rng)]),
            1 => s(&["ZREMRANGEBYSCORE", &key, &bound(rng), &bound(rng)]),
            _ => s(&["ZREMRANGEBYLEX", &pick(rng, lex), &lexb(rng), &lexb(rng)]),
        },
        17 => {
            let mut c = s(&[["ZPOPMIN", "ZPOPMAX"][rng.below(2) as usize], &key]);
            if rng.below(2) == 0 {
                c.push((rng.below(4) as i64 - 1).to_string());
            }
            c
        }
        18 => {
            let mut c = s(&[
                "ZMPOP",
                "2",
                &key,
                &pick(rng, keys),
                ["MIN", "MAX"][rng.below(2) as usize],
            ]);
            if rng.below(2) == 0 {
                c.extend(s(&["COUNT", &(rng.below(4) as i64).to_string()]));
            }
            c
        }
        19 => s(&[
            ["BZPOPMIN", "BZPOPMAX"][rng.below(2) as usize],
            &key,
            &pick(rng, keys),
            "0.01",
        ]),
        20 => s(&["BZMPOP", "0.01", "1", &key, "MAX", "COUNT", "2"]),
        21 => {
            let dst = pick(rng, keys);
            let mut c = match rng.below(3) {
                0 => s(&["ZRANGESTORE", &dst, &key, &int(rng), &int(rng)]),
                1 => s(&[
                    "ZRANGESTORE",
                    &dst,
                    &key,
                    &bound(rng),
                    &bound(rng),
                    "BYSCORE",
                ]),
                _ => s(&[
                    "ZRANGESTORE",
                    &dst,
                    &pick(rng, lex),
                    &lexb(rng),
                    &lexb(rng),
                    "BYLEX",
                ]),
            };
            if rng.below(2) == 0 {
                c.push("REV".into());
            }
            c
        }
        22..=25 => {
            let op = ["ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"][rng.below(4) as usize];
            let store = op != "ZINTERCARD" && rng.below(2) == 0;
            let mut c = vec![if store {
                format!("{op}STORE")
            } else {
                op.to_string()
            }];
            if store {
                c.push(pick(rng, keys));
            }
            let n = 1 + rng.below(3);
            c.push(n.to_string());
            for _ in 0..n {
                c.push(if rng.below(5) == 0 {
                    pick(rng, lex)
                } else {
                    pick(rng, keys)
                });
            }
            if op != "ZDIFF" && op != "ZINTERCARD" && rng.below(2) == 0 {
                c.push("WEIGHTS".into());
                for _ in 0..n {
                    c.push(["1", "2", "0.5", "-1", "0"][rng.below(5) as usize].into());
                }
            }
            if op != "ZDIFF" && op != "ZINTERCARD" && rng.below(2) == 0 {
                c.extend(s(&[
                    "AGGREGATE",
                    ["SUM", "MIN", "MAX"][rng.below(3) as usize],
                ]));
            }
            if op == "ZINTERCARD" && rng.below(2) == 0 {
                c.extend(s(&["LIMIT", &rng.below(3).to_string()]));
            }
            if !store && op != "ZINTERCARD" && rng.below(2) == 0 {
                c.push("WITHSCORES".into());
            }
            c
        }
        26 => s(&[
            "ZADD",
            &pick(rng, lex),
            "0",
            &member(rng),
            "0",
            &member(rng),
        ]),
        27 => s(&["OBJECT", "ENCODING", &key]),
        28 => s(&["ZCARD", &key]),
        _ => s(&["DEL", &key]),
    };
    if rng.below(60) == 0 {
        c.pop(); // a truncated command: arity or syntax errors
    }
    c
}

fn run_zset_differential(resp3: bool, seed: u64, steps: usize) {
    let redis = common::start_reference_redis();
    let shardis = common::Server::start(2, &[]);
    let mut r = Raw::open(redis.port, resp3);
    let mut s = Raw::open(shardis.port, resp3);
    for conn in [&mut r, &mut s] {
        conn.call(&[b"CONFIG", b"SET", b"zset-max-listpack-entries", b"6"]);
    }
    let mut keys: Vec<String> = (0..2)
        .flat_map(|i| {
            [
                key_on(0, 2, &format!("z{i}-")),
                key_on(1, 2, &format!("z{i}-")),
            ]
        })
        .collect();
    keys.push("str".into());
    let lex = vec![key_on(0, 2, "lex"), key_on(1, 2, "lex")];
    for conn in [&mut r, &mut s] {
        conn.call(&[b"SET", b"str", b"x"]);
    }
    let mut rng = Rng(seed);
    let mut done = 0;
    while done < steps {
        let batch: Vec<Vec<String>> = (0..40)
            .map(|_| random_zset_command(&mut rng, &keys, &lex))
            .collect();
        for conn in [&mut r, &mut s] {
            for c in &batch {
                let args: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
                conn.send(&args);
            }
        }
        for c in &batch {
            let (a, b) = (r.recv(), s.recv());
            assert_eq!(
                String::from_utf8_lossy(&b),
                String::from_utf8_lossy(&a),
                "step {done} (seed {seed}, resp3 {resp3}): {c:?}"
            );
            done += 1;
        }
    }
    // The final contents too.
    for k in keys.iter().chain(&lex) {
        let cmd: [&[u8]; 5] = [b"ZRANGE", k.as_bytes(), b"0", b"-1", b"WITHSCORES"];
        assert_eq!(s.call(&cmd), r.call(&cmd), "{k}");
    }
}

#[test]
fn zset_commands_answer_like_redis_over_resp2() {
    run_zset_differential(false, 0x5e_ed2a, 2000);
}

#[test]
fn zset_commands_answer_like_redis_over_resp3() {
    run_zset_differential(true, 0x5e_ed3b, 2000);
}
