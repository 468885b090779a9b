//! Keyspace notifications, compared with Redis: the same commands go to Debian's
//! redis-server and to a 2-shard shardis-server, both with `notify-keyspace-events KEA`
//! plus `n` and `m` unless told otherwise; a subscriber on each collects the
//! `__keyspace@*` / `__keyevent@*` messages every command causes, and the replies and the
//! messages must be the same.
//!
//! After each command the test PUBLISHes a marker from the commanding connection; the
//! subscriber reads up to it. Shardis delivers a command's events before anything published
//! after its reply, so the marker closes exactly that command's events.

use super::{start_reference_redis, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One server under comparison: a connection for commands, one subscribed to every
/// keyspace channel and to the marker channel.
struct Side {
    name: &'static str,
    _server: Server,
    cmd: redis::Connection,
    sub: BufReader<TcpStream>,
}

const MARKER: &str = "__events_marker__";

impl Side {
    fn new(name: &'static str, server: Server, flags: &str) -> Side {
        let client = redis::Client::open(server.url()).unwrap();
        let mut cmd = client.get_connection().expect("connect");
        cmd.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("notify-keyspace-events")
            .arg(flags)
            .query(&mut cmd)
            .unwrap();
        let mut sub = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(sub, "PSUBSCRIBE __key*@*\r\nSUBSCRIBE {MARKER}\r\n").unwrap();
        let mut sub = BufReader::new(sub);
        for _ in 0..2 {
            read_array(&mut sub); // the confirmations
        }
        Side {
            name,
            _server: server,
            cmd,
            sub,
        }
    }

    /// Runs one command; returns its reply (errors as text) and the events it caused.
    fn run(&mut self, args: &[&str], n: u64) -> (String, Vec<(String, String)>) {
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        let reply = match c.query::<redis::Value>(&mut self.cmd) {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error: {}", e.detail().unwrap_or_default()),
        };
        let _: i64 = redis::cmd("PUBLISH")
            .arg(MARKER)
            .arg(n)
            .query(&mut self.cmd)
            .unwrap();
        let mut events = Vec::new();
        loop {
            let mut msg = read_array(&mut self.sub);
            assert!(
                msg.len() >= 3,
                "{}: no marker after {args:?}: {msg:?}",
                self.name
            );
            let payload = msg.pop().unwrap();
            let channel = msg.pop().unwrap();
            if channel == MARKER {
                if payload == n.to_string() {
                    break;
                }
                continue;
            }
            events.push((channel, payload));
        }
        (reply, events)
    }
}

/// Reads one RESP2 array of bulk strings (a pub/sub message); empty on a timeout.
fn read_array(r: &mut BufReader<TcpStream>) -> Vec<String> {
    let mut line = String::new();
    if r.read_line(&mut line).is_err() || !line.starts_with('*') {
        return Vec::new();
    }
    let n: usize = line[1..].trim().parse().unwrap();
    (0..n)
        .map(|_| {
            line.clear();
            r.read_line(&mut line).unwrap();
            if let Some(int) = line.strip_prefix(':') {
                return int.trim().to_string();
            }
            let len: usize = line[1..].trim().parse().unwrap();
            let mut buf = vec![0; len + 2];
            r.read_exact(&mut buf).unwrap();
            buf.truncate(len);
            String::from_utf8_lossy(&buf).into_owned()
        })
        .collect()
}

/// Redis and Shardis side by side.
pub struct EventDiff {
    redis: Side,
    shardis: Side,
    steps: u64,
}

impl EventDiff {
    /// Both servers with `notify-keyspace-events` set to `flags` (e.g. "KEA").
    pub fn with_flags(flags: &str) -> EventDiff {
        EventDiff {
            redis: Side::new("redis", start_reference_redis(), flags),
            shardis: Side::new("shardis", Server::start(2, &[]), flags),
            steps: 0,
        }
    }

    /// Every class, both channels, and new-key and miss events too.
    pub fn start() -> EventDiff {
        EventDiff::with_flags("KEAnm")
    }

    /// Runs `args` on both servers: the replies and the events must be the same, in order.
    /// Returns the events.
    pub fn run(&mut self, args: &[&str]) -> Vec<(String, String)> {
        self.run_checked(args, false)
    }

    /// As [`run`](Self::run), but the events may come in another order (a command over
    /// keys of several shards publishes each shard's events on its own).
    pub fn run_unordered(&mut self, args: &[&str]) -> Vec<(String, String)> {
        self.run_checked(args, true)
    }

    /// Runs `args` on both servers without comparing the replies (TTLs, random picks), only
    /// the events.
    pub fn run_events_only(&mut self, args: &[&str]) -> Vec<(String, String)> {
        self.steps += 1;
        let (_, a) = self.redis.run(args, self.steps);
        let (_, b) = self.shardis.run(args, self.steps);
        assert_eq!(b, a, "events of {args:?} (shardis left, redis right)");
        b
    }

    fn run_checked(&mut self, args: &[&str], unordered: bool) -> Vec<(String, String)> {
        self.steps += 1;
        let (ra, mut a) = self.redis.run(args, self.steps);
        let (rb, mut b) = self.shardis.run(args, self.steps);
        assert_eq!(rb, ra, "reply to {args:?} (shardis left, redis right)");
        let shown = b.clone();
        if unordered {
            a.sort();
            b.sort();
        }
        assert_eq!(b, a, "events of {args:?} (shardis left, redis right)");
        shown
    }

    /// Runs every command of `steps` with [`run`](Self::run).
    pub fn script(&mut self, steps: &[&[&str]]) {
        for s in steps {
            self.run(s);
        }
    }
}
