//! MONITOR over TCP: every command from every client, on any shard, as Redis writes the
//! line (`+<time> [<db> <address>] "arg" ...`, arguments quoted as sdscatrepr, secrets
//! redacted, admin commands hidden, a script's calls as the `lua` client after the script),
//! until RESET. `REFERENCE_PORT=<port>` runs the same expectations against a real Redis.

mod common;

use common::{cross, q, Target};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

struct Monitor {
    r: BufReader<TcpStream>,
}

impl Monitor {
    fn start(t: &Target) -> Monitor {
        let s = TcpStream::connect(("127.0.0.1", t.port())).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut m = Monitor {
            r: BufReader::new(s),
        };
        m.r.get_mut().write_all(b"MONITOR\r\n").unwrap();
        assert_eq!(m.line(), "+OK");
        m
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).unwrap();
        l.trim_end_matches("\r\n").to_string()
    }

    /// The next line, checked and cut to "<db> <who>] <args>".
    fn next(&mut self) -> String {
        let l = self.line();
        let rest = l.strip_prefix('+').unwrap_or_else(|| panic!("{l:?}"));
        let (time, rest) = rest.split_once(" [").unwrap();
        let (secs, micros) = time.split_once('.').unwrap();
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{l:?}");
        rest.to_string()
    }

    /// The next line, skipping a client library's CLIENT SETINFO calls at connect (Redis
    /// 7.2 shows them; 7.0 rejects the subcommand and does not).
    fn next_command(&mut self) -> String {
        loop {
            let l = self.next();
            if !l.contains("\"SETINFO\"") {
                return l;
            }
        }
    }

    /// What arrives within a short while.
    fn pending(&mut self) -> Vec<String> {
        self.r
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut out = Vec::new();
        loop {
            let mut l = String::new();
            match self.r.read_line(&mut l) {
                Ok(n) if n > 0 => out.push(l),
                _ => break,
            }
        }
        self.r
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        out
    }
}

#[test]
fn every_command_as_redis_shows_it() {
    let t = Target::start(2);
    let mut m = Monitor::start(&t);
    let mut c = t.client();
    let addr = q::<String>(&mut c, &["CLIENT", "INFO"])
        .split_whitespace()
        .find_map(|f| f.strip_prefix("addr=").map(str::to_string))
        .unwrap();
    let who = |db: u32| format!("{db} {addr}]");
    assert_eq!(m.next_command(), format!("{} \"CLIENT\" \"INFO\"", who(0)));
    let (k0, k1) = cross("mon");
    q::<()>(&mut c, &["SET", &k0, "a b\"c\n\x01\\"]);
    assert_eq!(
        m.next(),
        format!("{} \"SET\" \"{k0}\" \"a b\\\"c\\n\\x01\\\\\"", who(0))
    );
    q::<()>(&mut c, &["MSET", &k0, "1", &k1, "2"]);
    assert_eq!(
        m.next(),
        format!("{} \"MSET\" \"{k0}\" \"1\" \"{k1}\" \"2\"", who(0))
    );
    // After SELECT, its new database.
    q::<()>(&mut c, &["SELECT", "3"]);
    assert_eq!(m.next(), format!("{} \"SELECT\" \"3\"", who(3)));
    q::<()>(&mut c, &["SELECT", "0"]);
    m.next();
    // Admin commands are not shown; secrets are redacted.
    q::<Vec<String>>(&mut c, &["CONFIG", "GET", "maxclients"]);
    let _ = redis::cmd("AUTH")
        .arg("who")
        .arg("secret")
        .query::<()>(&mut c);
    assert_eq!(
        m.next(),
        format!("{} \"AUTH\" \"(redacted)\" \"(redacted)\"", who(0))
    );
    // A script, then what it calls.
    let script = "return redis.call('get', KEYS[1])";
    q::<String>(&mut c, &["EVAL", script, "1", &k1]);
    assert_eq!(
        m.next(),
        format!("{} \"EVAL\" \"{script}\" \"1\" \"{k1}\"", who(0))
    );
    assert_eq!(m.next(), format!("0 lua] \"get\" \"{k1}\""));
    // Another client's commands too; RESET ends it.
    let mut other = t.client();
    q::<()>(&mut other, &["PING"]);
    assert!(m.next_command().ends_with("] \"PING\""));
    // (CLIENT LIST is an admin command: not shown.)
    let list: String = q(&mut other, &["CLIENT", "LIST"]);
    assert!(list.contains(" flags=O "), "{list}");
    m.r.get_mut().write_all(b"RESET\r\n").unwrap();
    assert_eq!(m.line(), "+RESET");
    q::<()>(&mut other, &["PING"]);
    assert_eq!(m.pending(), Vec::<String>::new());
}
