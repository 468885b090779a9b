//! Blocking commands over TCP: waiting, timeouts, first-blocked-first-served, keys on
//! several shards, exactly-once delivery under races, disconnection and CLIENT UNBLOCK.

mod common;

use common::{key_on, q, qerr, Server};
use redis::Value;
use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(c: &mut redis::Connection, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = q(c, &["INFO", "clients"]);
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap();
        if blocked == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {n} blocked clients, have {blocked}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn timeout_answers_null_after_the_wait() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let t0 = Instant::now();
    let v: Value = q(&mut c, &["BLPOP", "empty", "0.2"]);
    assert_eq!(v, Value::Nil);
    assert!(
        t0.elapsed() >= Duration::from_millis(190),
        "{:?}",
        t0.elapsed()
    );
    let v: Value = q(&mut c, &["BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0.05"]);
    assert_eq!(v, Value::Nil);
    assert_eq!(
        qerr(&mut c, &["BLPOP", "k", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        qerr(&mut c, &["BLPOP", "k", "abc"]),
        "ERR timeout is not a float or out of range"
    );
    let info: String = q(&mut c, &["INFO", "clients"]);
    assert!(info.contains("blocked_clients:0"), "{info}");
}

#[test]
fn a_push_wakes_a_waiter_on_any_shard() {
    let s = Server::start(2, &[]);
    let (a, b) = (key_on(0, 2, "list-a"), key_on(1, 2, "list-b"));
    for (target, value) in [(&b, "x"), (&a, "y")] {
        let url = s.url();
        let (ka, kb) = (a.clone(), b.clone());
        let waiter = thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let v: Vec<String> = q(&mut c, &["BLPOP", &ka, &kb, "5"]);
            v
        });
        let mut c = s.client();
        wait_blocked(&mut c, 1);
        let _: i64 = q(&mut c, &["RPUSH", target, value]);
        assert_eq!(
            waiter.join().unwrap(),
            vec![target.to_string(), value.to_string()]
        );
        let len: i64 = q(&mut c, &["LLEN", target]);
        assert_eq!(len, 0, "the element went to the waiter, not left behind");
        wait_blocked(&mut c, 0);
    }
}

#[test]
fn first_blocked_first_served() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let mut waiters = Vec::new();
    for i in 0..3 {
        let url = s.url();
        waiters.push(thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let v: Vec<String> = q(&mut c, &["BLPOP", "fifo", "5"]);
            v[1].clone()
        }));
        wait_blocked(&mut c, i + 1);
    }
    let _: i64 = q(&mut c, &["RPUSH", "fifo", "a", "b", "c", "d"]);
    let got: Vec<String> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(got, ["a", "b", "c"]);
    let rest: Vec<String> = q(&mut c, &["LRANGE", "fifo", "0", "-1"]);
    assert_eq!(rest, ["d"]);
}

#[test]
fn blmove_across_shards_moves_on_wake() {
    let s = Server::start(2, &[]);
    let (src, dst) = (key_on(0, 2, "src"), key_on(1, 2, "dst"));
    let url = s.url();
    let (s2, d2) = (src.clone(), dst.clone());
    let waiter = thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let v: String = q(&mut c, &["BLMOVE", &s2, &d2, "LEFT", "RIGHT", "5"]);
        v
    });
    let mut c = s.client();
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", &src, "moved"]);
    assert_eq!(waiter.join().unwrap(), "moved");
    let d: Vec<String> = q(&mut c, &["LRANGE", &dst, "0", "-1"]);
    assert_eq!(d, ["moved"]);
    let n: i64 = q(&mut c, &["EXISTS", &src]);
    assert_eq!(n, 0);
}

#[test]
fn a_disconnected_waiter_takes_nothing() {
    let s = Server::start(2, &[]);
    let mut raw = s.raw();
    use std::io::Write;
    raw.write_all(b"*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n")
        .unwrap();
    let mut c = s.client();
    wait_blocked(&mut c, 1);
    drop(raw);
    wait_blocked(&mut c, 0);
    let _: i64 = q(&mut c, &["RPUSH", "gone", "kept"]);
    let v: Vec<String> = q(&mut c, &["LRANGE", "gone", "0", "-1"]);
    assert_eq!(v, ["kept"]);
}

#[test]
fn client_unblock_ends_the_wait() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    for (how, expect_err) in [("TIMEOUT", false), ("ERROR", true)] {
        let url = s.url();
        let waiter = thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let id: i64 = q(&mut c, &["CLIENT", "ID"]);
            let r = redis::cmd("BLPOP")
                .arg("never")
                .arg(0)
                .query::<Value>(&mut c);
            (
                id,
                r.map_err(|e| format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))),
            )
        });
        wait_blocked(&mut c, 1);
        let list: String = q(&mut c, &["CLIENT", "LIST"]);
        let line = list
            .lines()
            .find(|l| l.contains("flags=b"))
            .expect("a blocked client");
        let id = line.split(' ').next().unwrap().strip_prefix("id=").unwrap();
        let n: i64 = q(&mut c, &["CLIENT", "UNBLOCK", id, how]);
        assert_eq!(n, 1);
        let (wid, r) = waiter.join().unwrap();
        assert_eq!(wid.to_string(), id);
        if expect_err {
            assert_eq!(
                r.unwrap_err(),
                "UNBLOCKED client unblocked via CLIENT UNBLOCK"
            );
        } else {
            assert_eq!(r.unwrap(), Value::Nil);
        }
        wait_blocked(&mut c, 0);
    }
    let me: i64 = q(&mut c, &["CLIENT", "ID"]);
    let n: i64 = q(&mut c, &["CLIENT", "UNBLOCK", &me.to_string()]);
    assert_eq!(n, 0, "not blocked");
    assert_eq!(
        qerr(&mut c, &["CLIENT", "UNBLOCK", "1", "NOW"]),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
}

#[test]
fn pipelined_commands_after_a_blocking_one_run_after_it() {
    let s = Server::start(2, &[]);
    let mut raw = s.raw();
    use std::io::{Read, Write};
    // A timed-out BLMOVE answers a null array like every blocking command (Redis'
    // replyToBlockedClientTimedOut), not LMOVE's null bulk.
    raw.write_all(b"BLPOP pipe 0.1\r\nBLMOVE pipe dst LEFT LEFT 0.05\r\nPING\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while !got.ends_with(b"+PONG\r\n") {
        let n = raw.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"*-1\r\n*-1\r\n+PONG\r\n");
}

/// Producers push unique elements while consumers pop with short timeouts from keys on both
/// shards: every element ends up either consumed exactly once or still in a list.
#[test]
fn every_element_is_delivered_exactly_once() {
    let s = Server::start(2, &[]);
    let keys = [key_on(0, 2, "race-a"), key_on(1, 2, "race-b")];
    const PER_PRODUCER: usize = 300;
    let mut consumers = Vec::new();
    for i in 0..4 {
        let url = s.url();
        let keys = keys.clone();
        consumers.push(thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut got = Vec::new();
            let mut idle = 0;
            while idle < 5 {
                // Alternate the key order and use tiny timeouts so waits often end while a
                // push is under way.
                let (k1, k2) = if i % 2 == 0 {
                    (&keys[0], &keys[1])
                } else {
                    (&keys[1], &keys[0])
                };
                let v: Option<(String, String)> = redis::cmd("BLPOP")
                    .arg(k1)
                    .arg(k2)
                    .arg("0.01")
                    .query(&mut c)
                    .unwrap();
                match v {
                    Some((_, e)) => {
                        got.push(e);
                        idle = 0;
                    }
                    None => idle += 1,
                }
            }
            got
        }));
    }
    let mut producers = Vec::new();
    for p in 0..2 {
        let url = s.url();
        let keys = keys.clone();
        producers.push(thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            for i in 0..PER_PRODUCER {
                let _: i64 = q(&mut c, &["RPUSH", &keys[i % 2], &format!("{p}-{i}")]);
            }
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    let mut seen = HashSet::new();
    for c in consumers {
        for e in c.join().unwrap() {
            assert!(seen.insert(e.clone()), "{e} delivered twice");
        }
    }
    let mut c = s.client();
    for k in &keys {
        let rest: Vec<String> = q(&mut c, &["LRANGE", k, "0", "-1"]);
        for e in rest {
            assert!(
                seen.insert(e.clone()),
                "{e} both delivered and left in the list"
            );
        }
    }
    assert_eq!(seen.len(), 2 * PER_PRODUCER, "no element lost");
}

/// The sorted-set and multi-pop forms wake like the list ones, across shards.
#[test]
fn zset_and_mpop_forms_wake_on_writes() {
    let s = Server::start(2, &[]);
    let (a, b) = (key_on(0, 2, "za"), key_on(1, 2, "zb"));
    let spawn = |args: Vec<String>| {
        let url = s.url();
        thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let v: Value = q(&mut c, &args);
            v
        })
    };
    let mut c = s.client();
    let w = spawn(vec!["BZPOPMIN".into(), a.clone(), b.clone(), "5".into()]);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["ZADD", &b, "2", "two", "1", "one"]);
    let got: Vec<String> = redis::from_redis_value(&w.join().unwrap()).unwrap();
    assert_eq!(got, [b.as_str(), "one", "1"]);
    let _: i64 = q(&mut c, &["DEL", &b]);

    let w = spawn(vec![
        "BZMPOP".into(),
        "5".into(),
        "2".into(),
        a.clone(),
        b.clone(),
        "MAX".into(),
        "COUNT".into(),
        "5".into(),
    ]);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["ZADD", &a, "7", "seven", "8", "eight"]);
    let got: (String, Vec<(String, f64)>) = redis::from_redis_value(&w.join().unwrap()).unwrap();
    assert_eq!(
        got,
        (
            a.clone(),
            vec![("eight".into(), 8.0), ("seven".into(), 7.0)]
        )
    );

    let (la, lb) = (key_on(0, 2, "la"), key_on(1, 2, "lb"));
    let w = spawn(vec![
        "BLMPOP".into(),
        "5".into(),
        "2".into(),
        la.clone(),
        lb.clone(),
        "RIGHT".into(),
        "COUNT".into(),
        "2".into(),
    ]);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", &lb, "x", "y", "z"]);
    let got: (String, Vec<String>) = redis::from_redis_value(&w.join().unwrap()).unwrap();
    assert_eq!(got, (lb.clone(), vec!["z".into(), "y".into()]));

    let w = spawn(vec![
        "BRPOPLPUSH".into(),
        la.clone(),
        lb.clone(),
        "5".into(),
    ]);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["LPUSH", &la, "moved"]);
    let got: String = redis::from_redis_value(&w.join().unwrap()).unwrap();
    assert_eq!(got, "moved");
    let l: Vec<String> = q(&mut c, &["LRANGE", &lb, "0", "-1"]);
    assert_eq!(l, ["moved", "x"]);
}
