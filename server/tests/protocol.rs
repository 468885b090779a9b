//! The wire protocol under good and bad input: pipelining, inline commands, RESP3, protocol
//! errors, limits, partial frames and disconnects. The server must answer like Redis and keep
//! serving everyone else.

mod common;

use common::{q, qerr, roundtrip, Server};
use std::io::{Read, Write};
use std::time::Duration;

fn assert_alive(s: &Server) {
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

/// Reads until the peer closes the connection (or the read times out).
fn read_to_close(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn protocol_errors_close_the_connection_with_redis_messages() {
    let s = Server::start(2, &[]);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$600000000\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            "-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            b"*3000000000\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"SET \"a b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, expect) in cases {
        let mut c = s.raw();
        c.write_all(input).unwrap();
        let got = read_to_close(&mut c);
        assert_eq!(String::from_utf8_lossy(&got), *expect, "input {input:?}");
    }
    assert_alive(&s);
}

#[test]
fn commands_before_a_protocol_error_are_answered() {
    let s = Server::start(1, &[]);
    let mut c = s.raw();
    c.write_all(b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n").unwrap();
    let got = read_to_close(&mut c);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
    );
}

#[test]
fn unknown_commands_and_arity_errors() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    assert_eq!(
        qerr(&mut c, &["NOSUCH", "a", "b"]),
        "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b'"
    );
    assert_eq!(
        qerr(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        qerr(&mut c, &["get", "a", "b"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_alive(&s);
}

#[test]
fn inline_commands_and_empty_lines() {
    let s = Server::start(2, &[]);
    let mut c = s.raw();
    let got = roundtrip(&mut c, b"SET k1 hello\r\n\r\nGET k1\nPING\r\n", 22);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "+OK\r\n$5\r\nhello\r\n+PONG\r\n"
    );
    let got = roundtrip(&mut c, b"SET \"a b\" 'c\\'d'\r\nGET \"a b\"\r\n", 15);
    assert_eq!(String::from_utf8_lossy(&got), "+OK\r\n$3\r\nc'd\r\n");
}

#[test]
fn a_deep_pipeline_keeps_request_order_across_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.raw();
    let mut req = Vec::new();
    let n = 2000;
    for i in 0..n {
        req.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$6\r\nk{i:05}\r\n$5\r\n{i:05}\r\n").as_bytes(),
        );
    }
    for i in 0..n {
        req.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n$6\r\nk{i:05}\r\n").as_bytes());
    }
    let mut expect = "+OK\r\n".repeat(n);
    for i in 0..n {
        expect.push_str(&format!("$5\r\n{i:05}\r\n"));
    }
    let got = roundtrip(&mut c, &req, expect.len());
    assert_eq!(String::from_utf8_lossy(&got), expect);
}

#[test]
fn binary_safe_keys_and_values() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let key: &[u8] = b"bin\x00key\r\n\xff";
    let val: &[u8] = b"\x00\x01\r\n$5\r\n*\xfe";
    redis::cmd("SET")
        .arg(key)
        .arg(val)
        .query::<()>(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg(key).query(&mut c).unwrap();
    assert_eq!(got, val);
}

#[test]
fn a_100mb_value_round_trips() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let big: Vec<u8> = (0..100 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query::<()>(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg("big").query(&mut c).unwrap();
    assert!(got == big, "100 MB value came back different");
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "big"]), big.len() as i64);
}

#[test]
fn slow_partial_frames_do_not_block_others() {
    let s = Server::start(1, &[]);
    let mut slow = s.raw();
    let frame = b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$5\r\nvalue\r\n";
    for chunk in frame.chunks(3) {
        slow.write_all(chunk).unwrap();
        // Everyone else is served while the frame trickles in.
        assert_alive(&s);
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut buf = [0u8; 5];
    slow.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+OK\r\n");
}

#[test]
fn abrupt_disconnects_mid_pipeline_are_harmless() {
    let s = Server::start(2, &[]);
    for i in 0..50 {
        let mut c = s.raw();
        let mut req = Vec::new();
        for j in 0..100 {
            req.extend_from_slice(
                format!(
                    "*3\r\n$3\r\nSET\r\n$3\r\nd{:02}\r\n$1\r\n{}\r\n",
                    j % 100,
                    j % 10
                )
                .as_bytes(),
            );
        }
        req.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$5\r\nhal");
        c.write_all(&req[..req.len() - (i % 7)]).unwrap();
        drop(c);
    }
    assert_alive(&s);
}

#[test]
fn resp3_hello_and_types() {
    let s = Server::start(2, &[]);
    let mut c = s.raw();
    let got = roundtrip(&mut c, b"HELLO 3\r\n", 10);
    assert!(
        got.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{got:?}"
    );
    let mut rest = got;
    // Drain the HELLO map, then check a null in RESP3.
    std::thread::sleep(Duration::from_millis(50));
    let mut buf = [0u8; 4096];
    if let Ok(n) = c.read(&mut buf) {
        rest.extend_from_slice(&buf[..n]);
    }
    let got = roundtrip(&mut c, b"GET nokey\r\n", 3);
    assert_eq!(got, b"_\r\n");
    let got = roundtrip(&mut c, b"HELLO 4\r\n", 10);
    assert!(
        got.starts_with(b"-NOPROTO"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn many_idle_connections_are_fine_and_cheap() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let used = |c: &mut redis::Connection| -> i64 {
        let info: String = q(c, &["INFO", "memory"]);
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let before = used(&mut c);
    let n = 2000;
    let conns: Vec<_> = (0..n).map(|_| s.raw()).collect();
    assert_alive(&s);
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    assert!(
        list.lines().count() > n,
        "{} clients listed",
        list.lines().count()
    );
    // An idle connection holds no read buffer (see conn::read_into); Redis 7 spends about
    // 20 KB on one. Allow 16 KB to stay well clear of allocator noise.
    let per_conn = (used(&mut c) - before) / n as i64;
    assert!(per_conn < 16 * 1024, "{per_conn} bytes per idle connection");
    drop(conns);
}
