//! Pub/sub over TCP: Redis' exact frames in RESP2 (subscribed mode) and RESP3 (push
//! frames, other commands allowed), delivery exactly once per matching subscription from
//! publishers on any executor in each publisher's order, PUBSUB introspection, and a slow
//! subscriber cut off by client-output-buffer-limit without stalling the publisher.

mod common;

use common::{q, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

/// Sends `send`, then reads until exactly `expected` has arrived (or times out).
fn exchange(s: &mut TcpStream, send: &[u8], expected: &[u8]) {
    s.write_all(send).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < expected.len() && Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

fn raw(s: &Server) -> TcpStream {
    let c = s.raw();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    c
}

/// The frames are the ones Redis 7.0.15 sends for the same exchange.
#[test]
fn resp2_subscribed_mode_frames_as_redis() {
    let s = Server::start(2, &[]);
    let mut a = raw(&s);
    let mut b = raw(&s);
    exchange(
        &mut a,
        b"SUBSCRIBE a b\r\nGET x\r\nPING\r\nPING hi\r\nPSUBSCRIBE a*\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n\
-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n\
*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:3\r\n",
    );
    exchange(&mut b, b"PUBLISH a m1\r\n", b":2\r\n");
    exchange(
        &mut a,
        b"",
        b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm1\r\n*4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$2\r\nm1\r\n",
    );
    exchange(
        &mut a,
        b"UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nPING\r\n",
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n\
*3\r\n$12\r\npunsubscribe\r\n$2\r\na*\r\n:0\r\n*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n+PONG\r\n",
    );
}

#[test]
fn resp3_push_frames_and_shard_channels() {
    let s = Server::start(2, &[]);
    let mut c = raw(&s);
    let mut b = raw(&s);
    c.write_all(b"HELLO 3\r\n").unwrap();
    let mut hello = Vec::new();
    let mut buf = [0u8; 1024];
    while !hello.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        if let Ok(n) = c.read(&mut buf) {
            hello.extend_from_slice(&buf[..n]);
        }
    }
    // Other commands work on a subscribed RESP3 connection.
    exchange(
        &mut c,
        b"SUBSCRIBE r3\r\nGET x\r\n",
        b">3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n_\r\n",
    );
    exchange(&mut b, b"PUBLISH r3 hey\r\n", b":1\r\n");
    exchange(
        &mut c,
        b"",
        b">3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$3\r\nhey\r\n",
    );
    // Shard channels count on their own.
    exchange(
        &mut c,
        b"SSUBSCRIBE sc\r\n",
        b">3\r\n$10\r\nssubscribe\r\n$2\r\nsc\r\n:1\r\n",
    );
    exchange(
        &mut b,
        b"SPUBLISH sc s1\r\nPUBSUB SHARDCHANNELS\r\nPUBSUB SHARDNUMSUB sc\r\nPUBLISH sc plain\r\n",
        b":1\r\n*1\r\n$2\r\nsc\r\n*2\r\n$2\r\nsc\r\n:1\r\n:0\r\n",
    );
    exchange(
        &mut c,
        b"",
        b">3\r\n$8\r\nsmessage\r\n$2\r\nsc\r\n$2\r\ns1\r\n",
    );
    exchange(
        &mut c,
        b"SUNSUBSCRIBE\r\nUNSUBSCRIBE\r\n",
        b">3\r\n$12\r\nsunsubscribe\r\n$2\r\nsc\r\n:0\r\n>3\r\n$11\r\nunsubscribe\r\n$2\r\nr3\r\n:0\r\n",
    );
}

/// Subscribers on connections spread over both executors, publishers on both: every
/// subscriber gets every message once per matching subscription, in each publisher's order.
#[test]
fn every_message_once_per_subscription_in_publisher_order() {
    let s = Server::start(2, &[]);
    const SUBSCRIBERS: usize = 6;
    const PUBLISHERS: usize = 4;
    const MESSAGES: usize = 200;
    let mut subs: Vec<redis::Connection> = (0..SUBSCRIBERS).map(|_| s.client()).collect();
    for (i, c) in subs.iter_mut().enumerate() {
        let _: () = redis::cmd("SUBSCRIBE").arg("feed").query(c).unwrap();
        if i % 2 == 0 {
            // Also a matching pattern: these get every message twice.
            let _: () = redis::cmd("PSUBSCRIBE").arg("fe*").query(c).unwrap();
        }
    }
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let url = s.url();
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for m in 0..MESSAGES {
                    let n: i64 = q(&mut c, &["PUBLISH", "feed", &format!("{p}:{m}")]);
                    assert_eq!(n, (SUBSCRIBERS + SUBSCRIBERS / 2) as i64);
                }
            })
        })
        .collect();
    for p in publishers {
        p.join().unwrap();
    }
    for (i, c) in subs.iter_mut().enumerate() {
        let per_sub = if i % 2 == 0 { 2 } else { 1 };
        let mut next = vec![[0usize; 2]; PUBLISHERS];
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for _ in 0..PUBLISHERS * MESSAGES * per_sub {
            let msg = c.recv_response().unwrap();
            let redis::Value::Array(parts) = msg else {
                panic!("{msg:?}")
            };
            let kind =
                matches!(&parts[0], redis::Value::BulkString(k) if k == b"pmessage") as usize;
            let redis::Value::BulkString(payload) = parts.last().unwrap() else {
                panic!()
            };
            let text = String::from_utf8(payload.clone()).unwrap();
            let (p, m) = text.split_once(':').unwrap();
            let (p, m): (usize, usize) = (p.parse().unwrap(), m.parse().unwrap());
            assert_eq!(
                m, next[p][kind],
                "publisher {p}'s messages out of order or twice"
            );
            next[p][kind] += 1;
        }
        for counts in &next {
            assert_eq!(counts[0], MESSAGES);
            assert_eq!(counts[1], if per_sub == 2 { MESSAGES } else { 0 });
        }
    }
}

#[test]
fn pubsub_introspection() {
    let s = Server::start(2, &[]);
    let mut subs: Vec<redis::Connection> = (0..4).map(|_| s.client()).collect();
    let _: () = redis::cmd("SUBSCRIBE")
        .arg("news.a")
        .arg("news.b")
        .query(&mut subs[0])
        .unwrap();
    let _: () = redis::cmd("SUBSCRIBE")
        .arg("news.a")
        .query(&mut subs[1])
        .unwrap();
    let _: () = redis::cmd("PSUBSCRIBE")
        .arg("news.*")
        .query(&mut subs[2])
        .unwrap();
    let _: () = redis::cmd("PSUBSCRIBE")
        .arg("news.*")
        .arg("x*")
        .query(&mut subs[3])
        .unwrap();
    let mut c = s.client();
    let mut channels: Vec<String> = q(&mut c, &["PUBSUB", "CHANNELS"]);
    channels.sort();
    assert_eq!(channels, ["news.a", "news.b"]);
    let only: Vec<String> = q(&mut c, &["PUBSUB", "CHANNELS", "*.b"]);
    assert_eq!(only, ["news.b"]);
    let numsub: Vec<redis::Value> = q(&mut c, &["PUBSUB", "NUMSUB", "news.a", "nobody"]);
    assert_eq!(
        numsub,
        [
            redis::Value::BulkString(b"news.a".to_vec()),
            redis::Value::Int(2),
            redis::Value::BulkString(b"nobody".to_vec()),
            redis::Value::Int(0)
        ]
    );
    assert_eq!(
        common::qerr(&mut c, &["PUBSUB", "NOSUCH"]),
        "ERR unknown subcommand 'NOSUCH'. Try PUBSUB HELP."
    );
    assert_eq!(
        common::qerr(&mut c, &["PUBSUB", "CHANNELS", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    );
    let numpat: i64 = q(&mut c, &["PUBSUB", "NUMPAT"]);
    assert_eq!(numpat, 2, "unique patterns");
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    assert!(
        list.contains("flags=P") && list.contains("sub=2 psub=0"),
        "{list}"
    );
    drop(subs);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let channels: Vec<String> = q(&mut c, &["PUBSUB", "CHANNELS"]);
        if channels.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "disconnected subscribers still listed"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A subscriber that stops reading is disconnected once its pending messages pass the
/// pubsub hard limit; the publisher keeps going and other subscribers get everything.
#[test]
fn a_slow_subscriber_is_cut_off_not_the_publisher() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 256kb 128kb 60",
        ],
    );
    let limit: Vec<String> = q(&mut c, &["CONFIG", "GET", "client-output-buffer-limit"]);
    assert_eq!(
        limit[1],
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 262144 131072 60"
    );
    // The slow one subscribes and never reads again.
    let mut slow = raw(&s);
    exchange(
        &mut slow,
        b"CLIENT SETNAME slow\r\nSUBSCRIBE big\r\n",
        b"+OK\r\n*3\r\n$9\r\nsubscribe\r\n$3\r\nbig\r\n:1\r\n",
    );
    let payload = "x".repeat(64 * 1024);
    let t0 = Instant::now();
    for _ in 0..200 {
        let _: i64 = q(&mut c, &["PUBLISH", "big", &payload]);
    }
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the publisher was stalled"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list: String = q(&mut c, &["CLIENT", "LIST"]);
        if !list.contains("name=slow") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slow subscriber is still connected"
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        q::<i64>(&mut c, &["PUBLISH", "big", "after"]),
        0,
        "no subscriber left"
    );
}
