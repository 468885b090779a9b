//! The two socket paths (`client-ring yes`, the default: each executor's own io_uring;
//! `client-ring no`: glommio's sockets) under what stresses them differently: bursts from
//! many clients at once, clients that stop reading, closing after a reply, kills.

mod common;

use common::{info_field, q, Server};
use std::io::{Read, Write};
use std::time::Duration;

const PATHS: [(&str, &str); 2] = [("yes", "ring"), ("no", "glommio")];

fn assert_alive(s: &Server) {
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
}

/// Reads exactly `len` bytes.
fn read_n(s: &mut std::net::TcpStream, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    s.read_exact(&mut out).unwrap();
    out
}

#[test]
fn both_paths_serve_and_say_which_they_use() {
    for (flag, name) in PATHS {
        let s = Server::start(2, &["--client-ring", flag]);
        let mut c = s.client();
        let used = info_field(&mut c, "client_sockets");
        assert_eq!(used.as_deref(), Some(name));
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "client-ring"]);
        assert_eq!(got, ["client-ring", flag]);
        // A pipeline spread over both shards, and a value larger than any receive buffer.
        let mut pipe = redis::pipe();
        for i in 0..500 {
            pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
        }
        let big: Vec<u8> = (0..5_000_000).map(|i| (i % 253) as u8).collect();
        pipe.cmd("SET").arg("big").arg(&big).ignore();
        pipe.cmd("GET").arg("k499").cmd("GET").arg("big");
        let (last, back): (String, Vec<u8>) = pipe.query(&mut c).unwrap();
        assert_eq!(last, "499");
        assert!(back == big, "{name}: the big value came back different");
    }
}

#[test]
fn quit_and_protocol_errors_are_answered_before_the_close() {
    for (flag, name) in PATHS {
        let s = Server::start(1, &["--client-ring", flag]);
        let mut c = s.raw();
        c.write_all(b"SET a b\r\nQUIT\r\nPING\r\n").unwrap();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        assert_eq!(got, b"+OK\r\n+OK\r\n", "{name}");
        let mut c = s.raw();
        c.write_all(b"PING\r\n*-\r\n").unwrap();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        assert_eq!(
            String::from_utf8_lossy(&got),
            "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
            "{name}"
        );
        assert_alive(&s);
    }
}

/// Many more clients than the ring has receive buffers (4 here) send while the shard is busy
/// (DEBUG SLEEP holds its thread), so all their data is there at once when it comes back:
/// receives find no buffer in a pass and must be armed again, none may be lost.
#[test]
fn a_burst_from_many_clients_at_once_is_all_answered() {
    for (flag, name) in PATHS {
        let s = Server::start(
            1,
            &[
                "--client-ring",
                flag,
                "--client-ring-buffers",
                "4",
                "--enable-debug-command",
                "yes",
            ],
        );
        let mut conns: Vec<_> = (0..700).map(|_| s.raw()).collect();
        assert_alive(&s);
        for round in 0..3 {
            let mut sleeper = s.raw();
            sleeper.write_all(b"DEBUG SLEEP 0.3\r\n").unwrap();
            std::thread::sleep(Duration::from_millis(50));
            for (i, c) in conns.iter_mut().enumerate() {
                let req = format!("SET burst:{i} {round}\r\nGET burst:{i}\r\n");
                c.write_all(req.as_bytes()).unwrap();
            }
            for (i, c) in conns.iter_mut().enumerate() {
                let want = format!("+OK\r\n$1\r\n{round}\r\n");
                let got = read_n(c, want.len());
                assert_eq!(got, want.as_bytes(), "{name}: client {i}, round {round}");
            }
            assert_eq!(read_n(&mut sleeper, 5), b"+OK\r\n");
        }
    }
}

/// A client pipelines reads of a large value and does not read the replies: its output
/// waits (the socket and the server's queue fill up) while everyone else is served; once it
/// reads, every reply arrives whole and in order. A client stuck like that can be killed.
#[test]
fn a_client_that_stops_reading_stalls_only_itself() {
    for (flag, name) in PATHS {
        let s = Server::start(1, &["--client-ring", flag]);
        let mut c = s.client();
        let value: Vec<u8> = (0..1_000_000).map(|i| (i % 241) as u8).collect();
        redis::cmd("SET")
            .arg("v")
            .arg(&value)
            .query::<()>(&mut c)
            .unwrap();
        let mut slow = s.raw();
        let n = 40;
        for _ in 0..n {
            slow.write_all(b"GET v\r\n").unwrap();
        }
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..20 {
            assert_alive(&s);
        }
        let header = format!("${}\r\n", value.len());
        for i in 0..n {
            let got = read_n(&mut slow, header.len() + value.len() + 2);
            assert_eq!(&got[..header.len()], header.as_bytes(), "{name}: reply {i}");
            assert!(
                got[header.len()..header.len() + value.len()] == value[..],
                "{name}: reply {i} differs"
            );
        }

        // Stuck again, then killed: its connection closes, the server carries on.
        let mut stuck = s.raw();
        stuck.write_all(b"CLIENT SETNAME stuck\r\n").unwrap();
        assert_eq!(read_n(&mut stuck, 5), b"+OK\r\n");
        for _ in 0..n {
            stuck.write_all(b"GET v\r\n").unwrap();
        }
        std::thread::sleep(Duration::from_millis(300));
        let list: String = q(&mut c, &["CLIENT", "LIST"]);
        let id = list
            .lines()
            .find(|l| l.contains("name=stuck"))
            .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
            .expect("the stuck client is listed")
            .to_string();
        assert_eq!(q::<i64>(&mut c, &["CLIENT", "KILL", "ID", &id]), 1);
        stuck
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut sink = vec![0u8; 1 << 20];
        loop {
            match stuck.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => {
                    assert!(
                        e.kind() != std::io::ErrorKind::WouldBlock
                            && e.kind() != std::io::ErrorKind::TimedOut,
                        "{name}: the killed client's connection stayed open"
                    );
                    break;
                }
            }
        }
        assert_alive(&s);
        let list: String = q(&mut c, &["CLIENT", "LIST"]);
        assert!(!list.contains("name=stuck"), "{name}: {list}");
    }
}
