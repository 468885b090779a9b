//! CLIENT TRACKING (client-side caching) over real connections, speaking RESP3 (push
//! frames) and RESP2 (REDIRECT to a `__redis__:invalidate` subscriber): default mode with
//! keys on both shards, NOLOOP, OPTIN / OPTOUT, BCAST prefixes, flushes, expiry, a broken
//! redirect, tracking-table-max-keys, and Redis' errors. `REFERENCE_PORT=<port>` runs the
//! same expectations against a real Redis (see `common::Target`).

mod common;

use common::{cross, Target};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A RESP value, pushes and attributes included.
#[derive(Debug, Clone, PartialEq)]
enum F {
    Str(String),
    Err(String),
    Int(i64),
    Null,
    Arr(Vec<F>),
    Push(Vec<F>),
}

fn b(s: &str) -> F {
    F::Str(s.into())
}

fn keys(ks: &[&str]) -> F {
    F::Arr(ks.iter().map(|k| b(k)).collect())
}

fn invalidate(ks: &[&str]) -> F {
    F::Push(vec![b("invalidate"), keys(ks)])
}

struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(t: &Target, resp3: bool) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", t.port())).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut c = Conn {
            r: BufReader::new(s),
        };
        if resp3 {
            c.send(&["HELLO", "3"]);
            c.read();
        }
        c
    }

    fn send(&mut self, args: &[&str]) {
        let mut buf = format!("*{}\r\n", args.len());
        for a in args {
            buf += &format!("${}\r\n{a}\r\n", a.len());
        }
        self.r.get_mut().write_all(buf.as_bytes()).unwrap();
    }

    /// Sends a command and reads frames up to its reply (not a push), returning the pushes
    /// read on the way and the reply.
    fn call(&mut self, args: &[&str]) -> (Vec<F>, F) {
        self.send(args);
        let mut pushes = Vec::new();
        loop {
            match self.read() {
                F::Push(p) => pushes.push(F::Push(p)),
                reply => return (pushes, reply),
            }
        }
    }

    /// A command whose reply is all that comes.
    fn q(&mut self, args: &[&str]) -> F {
        let (pushes, reply) = self.call(args);
        assert!(
            pushes.is_empty(),
            "unexpected pushes before {args:?}: {pushes:?}"
        );
        reply
    }

    fn id(&mut self) -> String {
        match self.q(&["CLIENT", "ID"]) {
            F::Int(n) => n.to_string(),
            other => panic!("CLIENT ID: {other:?}"),
        }
    }

    /// The frames that arrive within a short while (nothing is expected: an empty list).
    fn pending(&mut self) -> Vec<F> {
        self.r
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut out = Vec::new();
        while let Some(f) = self.try_read() {
            out.push(f);
        }
        self.r
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        out
    }

    fn read(&mut self) -> F {
        self.try_read().expect("a frame")
    }

    fn try_read(&mut self) -> Option<F> {
        let mut line = String::new();
        self.r.read_line(&mut line).ok()?;
        if line.is_empty() {
            return None;
        }
        let (kind, rest) = line.split_at(1);
        let rest = rest.trim_end();
        Some(match kind {
            "+" => F::Str(rest.into()),
            "-" => F::Err(rest.into()),
            ":" => F::Int(rest.parse().unwrap()),
            "_" => F::Null,
            "$" | "=" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    F::Null
                } else {
                    let mut buf = vec![0; n as usize + 2];
                    self.r.read_exact(&mut buf).unwrap();
                    buf.truncate(n as usize);
                    if kind == "=" {
                        buf.drain(..4); // the verbatim string's "txt:"
                    }
                    F::Str(String::from_utf8(buf).unwrap())
                }
            }
            "*" | ">" | "~" | "%" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Some(F::Null);
                }
                let n = if kind == "%" { 2 * n } else { n };
                let items = (0..n).map(|_| self.read()).collect();
                if kind == ">" {
                    F::Push(items)
                } else {
                    F::Arr(items)
                }
            }
            other => panic!("unexpected frame type {other:?} in {line:?}"),
        })
    }
}

fn ok() -> F {
    b("OK")
}

#[test]
fn reads_are_invalidated_once_on_every_shard() {
    let t = Target::start(2);
    let (k0, k1) = cross("trk");
    let mut a = Conn::open(&t, true);
    let mut w = Conn::open(&t, true);
    assert_eq!(a.q(&["CLIENT", "TRACKING", "on"]), ok());
    a.q(&["GET", &k0]);
    a.q(&["MGET", &k0, &k1]);
    assert_eq!(w.q(&["SET", &k1, "v"]), ok());
    assert_eq!(w.q(&["SET", &k0, "v"]), ok());
    let mut got = a.pending();
    got.sort_by_key(|f| format!("{f:?}"));
    let mut want = vec![invalidate(&[&k0]), invalidate(&[&k1])];
    want.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(got, want);
    // Told once: not tracked until read again.
    w.q(&["SET", &k0, "w"]);
    assert_eq!(a.pending(), vec![]);
    a.q(&["GET", &k0]);
    w.q(&["DEL", &k0]);
    assert_eq!(a.pending(), vec![invalidate(&[&k0])]);
    // The writer's own change is told after its reply (without NOLOOP).
    a.q(&["GET", &k1]);
    let (pushes, reply) = a.call(&["SET", &k1, "mine"]);
    assert_eq!((pushes, reply), (vec![], ok()));
    assert_eq!(a.pending(), vec![invalidate(&[&k1])]);
    // INFO counts them.
    a.q(&["GET", &k0]);
    let info = match w.q(&["INFO", "stats"]) {
        F::Str(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(info.contains("tracking_total_keys:1"), "{info}");
    let clients = match w.q(&["INFO", "clients"]) {
        F::Str(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(clients.contains("tracking_clients:1"), "{clients}");
}

#[test]
fn noloop_expiry_and_flush() {
    let t = Target::start(2);
    let (k0, k1) = cross("nl");
    let mut a = Conn::open(&t, true);
    let mut w = Conn::open(&t, true);
    a.q(&["CLIENT", "TRACKING", "on", "NOLOOP"]);
    a.q(&["GET", &k0]);
    a.q(&["SET", &k0, "mine"]);
    assert_eq!(a.pending(), vec![], "NOLOOP: not told of its own change");
    // Expiry is a change too.
    a.q(&["SET", &k1, "v", "PX", "50"]);
    a.q(&["GET", &k1]);
    std::thread::sleep(Duration::from_millis(100));
    w.q(&["GET", &k1]);
    assert_eq!(a.pending(), vec![invalidate(&[&k1])]);
    // A flush tells every tracking client to drop everything.
    w.q(&["FLUSHALL"]);
    assert_eq!(a.pending(), vec![F::Push(vec![b("invalidate"), F::Null])]);
}

#[test]
fn scripts_read_and_write_for_their_caller() {
    let t = Target::start(2);
    let (k0, k1) = cross("scr");
    let mut a = Conn::open(&t, true);
    let mut w = Conn::open(&t, true);
    let get = "return redis.call('get', KEYS[1])";
    let set = "return redis.call('set', KEYS[1], ARGV[1])";
    a.q(&["CLIENT", "TRACKING", "on", "NOLOOP"]);
    // Keys a script reads are tracked for the client that ran it, on any shard.
    assert_eq!(a.q(&["EVAL", get, "1", &k0]), F::Null);
    assert_eq!(a.q(&["EVAL", get, "1", &k1]), F::Null);
    w.q(&["SET", &k0, "1"]);
    assert_eq!(a.pending(), vec![invalidate(&[&k0])]);
    // A script's writes are the caller's own: NOLOOP spares it.
    a.q(&["GET", &k1]);
    assert_eq!(a.q(&["EVAL", set, "1", &k1, "mine"]), ok());
    assert_eq!(a.pending(), vec![]);
    // ... and not another client's, whose reads are tracked for it.
    assert_eq!(a.q(&["EVAL", get, "1", &k0]), b("1"));
    w.q(&["EVAL", set, "1", &k0, "2"]);
    assert_eq!(a.pending(), vec![invalidate(&[&k0])]);

    // OPTIN: CLIENT CACHING yes covers the script that follows, and only it.
    let mut o = Conn::open(&t, true);
    o.q(&["CLIENT", "TRACKING", "on", "OPTIN"]);
    assert_eq!(o.q(&["CLIENT", "CACHING", "yes"]), ok());
    assert_eq!(o.q(&["EVAL", get, "1", &k0]), b("2"));
    o.q(&["EVAL", get, "1", &k1]);
    w.q(&["MSET", &k0, "3", &k1, "3"]);
    assert_eq!(o.pending(), vec![invalidate(&[&k0])]);
}

#[test]
fn optin_and_optout() {
    let t = Target::start(2);
    let (k0, k1) = cross("opt");
    let mut a = Conn::open(&t, true);
    let mut o = Conn::open(&t, true);
    let mut w = Conn::open(&t, true);
    a.q(&["CLIENT", "TRACKING", "on", "OPTIN"]);
    a.q(&["GET", &k0]);
    assert_eq!(a.q(&["CLIENT", "CACHING", "yes"]), ok());
    a.q(&["GET", &k1]);
    o.q(&["CLIENT", "TRACKING", "on", "OPTOUT"]);
    o.q(&["GET", &k0]);
    o.q(&["CLIENT", "CACHING", "no"]);
    o.q(&["GET", &k1]);
    w.q(&["MSET", &k0, "1", &k1, "2"]);
    assert_eq!(
        a.pending(),
        vec![invalidate(&[&k1])],
        "OPTIN: only after CACHING yes"
    );
    assert_eq!(
        o.pending(),
        vec![invalidate(&[&k0])],
        "OPTOUT: all but after CACHING no"
    );
    assert_eq!(
        a.q(&["CLIENT", "CACHING", "no"]),
        F::Err(
            "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.".into()
        )
    );
}

#[test]
fn broadcast_prefixes() {
    let t = Target::start(2);
    let mut a = Conn::open(&t, true);
    let mut n = Conn::open(&t, true);
    let mut w = Conn::open(&t, true);
    a.q(&[
        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:",
    ]);
    n.q(&["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"]);
    // Keys on both shards, one command each.
    w.q(&["SET", "user:1", "a"]);
    w.q(&["SET", "other", "b"]);
    w.q(&["SET", "obj:9", "c"]);
    let mut got = a.pending();
    got.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(got, vec![invalidate(&["obj:9"]), invalidate(&["user:1"])]);
    assert_eq!(n.pending().len(), 3, "every key for an empty prefix");
    // NOLOOP in BCAST: its own changes are left out.
    n.q(&["SET", "user:2", "x"]);
    assert_eq!(n.pending(), vec![]);
    assert_eq!(a.pending(), vec![invalidate(&["user:2"])]);
    let info = a.q(&["CLIENT", "TRACKINGINFO"]);
    assert_eq!(
        info,
        F::Arr(vec![
            b("flags"),
            F::Arr(vec![b("on"), b("bcast")]),
            b("redirect"),
            F::Int(0),
            b("prefixes"),
            keys(&["obj:", "user:"]),
        ])
    );
    // Switching off drops the prefixes.
    a.q(&["CLIENT", "TRACKING", "off"]);
    w.q(&["SET", "user:3", "y"]);
    assert_eq!(a.pending(), vec![]);
}

#[test]
fn redirect_to_a_resp2_subscriber_and_broken_redirect() {
    let t = Target::start(2);
    let (k0, k1) = cross("redir");
    let mut sub = Conn::open(&t, false);
    let sub_id = sub.id();
    sub.q(&["SUBSCRIBE", "__redis__:invalidate"]);
    let mut a = Conn::open(&t, false);
    let mut w = Conn::open(&t, false);
    assert_eq!(
        a.q(&["CLIENT", "TRACKING", "on", "REDIRECT", &sub_id]),
        ok()
    );
    assert_eq!(
        a.q(&["CLIENT", "GETREDIR"]),
        F::Int(sub_id.parse().unwrap())
    );
    a.q(&["GET", &k0]);
    a.q(&["GET", &k1]);
    w.q(&["SET", &k0, "1"]);
    w.q(&["SET", &k1, "2"]);
    let mut got = vec![sub.read(), sub.read()];
    got.sort_by_key(|f| format!("{f:?}"));
    let msg = |k: &str| F::Arr(vec![b("message"), b("__redis__:invalidate"), keys(&[k])]);
    let mut want = vec![msg(&k0), msg(&k1)];
    want.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(got, want);
    // A RESP2 client without REDIRECT hears nothing (no push frames in RESP2).
    let mut plain = Conn::open(&t, false);
    plain.q(&["CLIENT", "TRACKING", "on"]);
    plain.q(&["GET", &k0]);
    w.q(&["SET", &k0, "3"]);
    assert_eq!(plain.pending(), vec![]);
    // The target goes away: a RESP3 tracker is told, and TRACKINGINFO shows it.
    let mut r3 = Conn::open(&t, true);
    let mut target = Conn::open(&t, true);
    let target_id = target.id();
    r3.q(&["CLIENT", "TRACKING", "on", "REDIRECT", &target_id]);
    r3.q(&["GET", &k1]);
    w.q(&["SET", &k1, "3"]);
    assert_eq!(
        target.pending(),
        vec![invalidate(&[&k1])],
        "a RESP3 target gets pushes"
    );
    r3.q(&["GET", &k1]);
    drop(target);
    std::thread::sleep(Duration::from_millis(100));
    w.q(&["SET", &k1, "4"]);
    assert_eq!(
        r3.pending(),
        vec![F::Push(vec![
            b("tracking-redir-broken"),
            F::Int(target_id.parse().unwrap())
        ])]
    );
    let F::Arr(info) = r3.q(&["CLIENT", "TRACKINGINFO"]) else {
        panic!("TRACKINGINFO is a map")
    };
    assert_eq!(info[1], F::Arr(vec![b("on"), b("broken_redirect")]));
}

#[test]
fn table_limit_invalidates_the_oldest() {
    let t = Target::start(1);
    if t.is_reference() {
        return; // Redis evicts random keys; Shardis the oldest.
    }
    let mut a = Conn::open(&t, true);
    let mut w = Conn::open(&t, true);
    w.q(&["CONFIG", "SET", "tracking-table-max-keys", "2"]);
    a.q(&["CLIENT", "TRACKING", "on"]);
    a.q(&["GET", "a"]);
    a.q(&["GET", "b"]);
    a.q(&["GET", "c"]);
    assert_eq!(a.pending(), vec![invalidate(&["a"])]);
}

#[test]
fn errors_and_info_as_redis() {
    let t = Target::start(2);
    let mut a = Conn::open(&t, false);
    let err = |s: &str| F::Err(s.into());
    assert_eq!(a.q(&["CLIENT", "GETREDIR"]), F::Int(-1));
    assert_eq!(
        a.q(&["CLIENT", "TRACKINGINFO"]),
        F::Arr(vec![
            b("flags"),
            F::Arr(vec![b("off")]),
            b("redirect"),
            F::Int(-1),
            b("prefixes"),
            F::Arr(vec![]),
        ])
    );
    for (args, want) in [
        (&["CLIENT", "TRACKING", "maybe"][..], "ERR syntax error"),
        (&["CLIENT", "TRACKING", "on", "foo"], "ERR syntax error"),
        (
            &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
            "ERR PREFIX option requires BCAST mode to be enabled",
        ),
        (
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            "ERR You can't specify both OPTIN mode and OPTOUT mode",
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
            "ERR OPTIN and OPTOUT are not compatible with BCAST",
        ),
        (
            &[
                "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab",
            ],
            "ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single \
             client must not overlap.",
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
            "ERR The client ID you want redirect to does not exist",
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["CLIENT", "CACHING", "yes"],
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with \
             OPTIN or OPTOUT mode enabled",
        ),
    ] {
        assert_eq!(a.q(args), err(want), "{args:?}");
    }
    assert_eq!(a.q(&["CLIENT", "TRACKING", "on", "OPTIN"]), ok());
    assert_eq!(
        a.q(&["CLIENT", "TRACKING", "on", "OPTOUT"]),
        err(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this \
             client, and then re-enabling it with a different mode."
        )
    );
    assert_eq!(
        a.q(&["CLIENT", "TRACKING", "on", "BCAST"]),
        err(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this \
             client, and then re-enabling it with a different mode."
        )
    );
    a.q(&["CLIENT", "CACHING", "yes"]);
    assert_eq!(
        a.q(&["CLIENT", "TRACKINGINFO"]),
        F::Arr(vec![
            b("flags"),
            F::Arr(vec![b("on"), b("optin"), b("caching-yes")]),
            b("redirect"),
            F::Int(0),
            b("prefixes"),
            F::Arr(vec![]),
        ])
    );
    assert_eq!(a.q(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(a.q(&["CLIENT", "TRACKING", "on", "BCAST"]), ok());
    assert_eq!(
        a.q(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x"]),
        err(
            "ERR Prefix 'x' overlaps with an existing prefix ''. Prefixes for a single client \
             must not overlap."
        )
    );
    assert_eq!(a.q(&["RESET"]), b("RESET"));
    assert_eq!(a.q(&["CLIENT", "GETREDIR"]), F::Int(-1));
}
