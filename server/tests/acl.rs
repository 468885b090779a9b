//! ACL over TCP: ACL SETUSER rules and their errors, GETUSER / LIST output, AUTH and HELLO
//! as users, NOPERM for commands, keys and channels (also in MULTI, scripts and blocking
//! commands), the ACL log, DELUSER disconnecting, CLIENT LIST / KILL USER, the aclfile
//! (SAVE, LOAD, restart), `user` directives and the ACL parameters. `REFERENCE_PORT=<port>`
//! runs the tests that do not need a server of their own against a real Redis (see
//! `common::Target`): Redis 7.0 words NOPERM errors as 7.0 did, the tests accept both.

mod common;

use common::{q, qerr, Server, Target};
use redis::Value;

/// A server (or the reference) with the test users of an earlier run removed.
fn target() -> (Target, redis::Connection) {
    let t = Target::start(4);
    let mut c = t.client();
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    for u in users.iter().filter(|u| *u != "default") {
        let _: i64 = q(&mut c, &["ACL", "DELUSER", u]);
    }
    let _: () = q(&mut c, &["ACL", "LOG", "RESET"]);
    (t, c)
}

fn login(t: &Target, user: &str, pass: &str) -> redis::Connection {
    let mut c = t.client();
    let _: () = q(&mut c, &["AUTH", user, pass]);
    c
}

/// NOPERM for a command, as 7.2 words it (7.0: "this user has no permissions...").
fn noperm_cmd(t: &Target, user: &str, cmd: &str) -> String {
    if t.is_reference() {
        format!("NOPERM this user has no permissions to run the '{cmd}' command")
    } else {
        format!("NOPERM User {user} has no permissions to run the '{cmd}' command")
    }
}

fn noperm_key(t: &Target) -> &'static str {
    if t.is_reference() {
        "NOPERM this user has no permissions to access one of the keys used as arguments"
    } else {
        "NOPERM No permissions to access a key"
    }
}

fn noperm_channel(t: &Target) -> &'static str {
    if t.is_reference() {
        "NOPERM this user has no permissions to access one of the channels used as arguments"
    } else {
        "NOPERM No permissions to access a channel"
    }
}

/// Sends raw bytes and reads what comes back within the socket's read timeout.
fn send_raw(s: &mut std::net::TcpStream, data: &str) -> String {
    use std::io::{Read, Write};
    s.write_all(data.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Nil => "(nil)".into(),
        other => format!("{other:?}"),
    }
}

/// A RESP2 map (flat array) or RESP3 map as (field, value) pairs.
fn pairs(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .map(|p| (text(&p[0]), p[1].clone()))
            .collect(),
        Value::Map(items) => items.iter().map(|(k, v)| (text(k), v.clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn field(v: &Value, name: &str) -> Value {
    pairs(v)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no field {name} in {v:?}"))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) | Value::Set(items) => items.iter().map(text).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn setuser_rules_getuser_and_list() {
    let (_t, mut c) = target();
    let list: Vec<String> = q(&mut c, &["ACL", "LIST"]);
    assert_eq!(list, ["user default on nopass ~* &* +@all"]);
    let _: () = q(&mut c, &["ACL", "SETUSER", "x"]);
    let _: () = q(
        &mut c,
        &[
            "ACL", "SETUSER", "y", "on", ">p1", "~foo", "%R~bar", "%W~baz", "%RW~qux", "&ch",
            "-@all", "+get",
        ],
    );
    let list: Vec<String> = q(&mut c, &["ACL", "LIST"]);
    let p1 = "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a";
    assert_eq!(
        list,
        [
            "user default on nopass ~* &* +@all".to_string(),
            "user x off resetchannels -@all".to_string(),
            format!("user y on #{p1} ~foo %R~bar %W~baz ~qux resetchannels &ch -@all +get"),
        ]
    );
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["default", "x", "y"]);

    let u: Value = q(&mut c, &["ACL", "GETUSER", "y"]);
    let names: Vec<String> = pairs(&u).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "flags",
            "passwords",
            "commands",
            "keys",
            "channels",
            "selectors"
        ]
    );
    assert_eq!(strings(&field(&u, "flags")), ["on"]);
    assert_eq!(strings(&field(&u, "passwords")), [p1]);
    assert_eq!(text(&field(&u, "commands")), "-@all +get");
    assert_eq!(text(&field(&u, "keys")), "~foo %R~bar %W~baz ~qux");
    assert_eq!(text(&field(&u, "channels")), "&ch");
    assert_eq!(strings(&field(&u, "selectors")), Vec::<String>::new());
    let none: Value = q(&mut c, &["ACL", "GETUSER", "nope"]);
    assert_eq!(none, Value::Nil);

    // Rules add to what the user has; reset starts over.
    let _: () = q(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "y",
            "<p1",
            "nopass",
            "allkeys",
            "allchannels",
        ],
    );
    let u: Value = q(&mut c, &["ACL", "GETUSER", "y"]);
    assert_eq!(strings(&field(&u, "flags")), ["on", "nopass"]);
    assert_eq!(text(&field(&u, "keys")), "~*");
    assert_eq!(text(&field(&u, "channels")), "&*");
    let _: () = q(&mut c, &["ACL", "SETUSER", "y", "reset"]);
    let u: Value = q(&mut c, &["ACL", "GETUSER", "y"]);
    assert_eq!(strings(&field(&u, "flags")), ["off", "sanitize-payload"]);
    assert_eq!(text(&field(&u, "commands")), "-@all");
    assert_eq!(text(&field(&u, "keys")), "");
}

#[test]
fn setuser_errors_are_redis_errors() {
    let (_t, mut c) = target();
    let modifier = |op: &str, msg: &str| format!("ERR Error in ACL SETUSER modifier '{op}': {msg}");
    for (op, msg) in [
        ("bad", "Syntax error"),
        ("+nope", "Unknown command or category name in ACL"),
        ("+@nope", "Unknown command or category name in ACL"),
        ("-select|0", "Unknown command or category name in ACL"),
        ("+select|", "Syntax error"),
        (
            "+config|get|x",
            "Allowing first-arg of a subcommand is not supported",
        ),
        (
            "#abc",
            "The password hash must be exactly 64 characters and contain only lowercase \
             hexadecimal characters",
        ),
        (
            "<nope",
            "The password you are trying to remove from the user does not exist",
        ),
    ] {
        assert_eq!(
            qerr(&mut c, &["ACL", "SETUSER", "z", op]),
            modifier(op, msg),
            "{op}"
        );
    }
    assert_eq!(
        qerr(&mut c, &["ACL", "SETUSER", "z", "~*", "~a"]),
        modifier(
            "~a",
            "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does \
             not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        )
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "SETUSER", "z", "allchannels", "&a"]),
        modifier(
            "&a",
            "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and \
             does not have any effect. Try 'resetchannels' to start with an empty list of \
             channels"
        )
    );
    // All or nothing: the user was never created.
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["default"]);
    assert_eq!(
        qerr(&mut c, &["ACL", "SETUSER", "z", "(+get"]),
        "ERR Unmatched parenthesis in acl selector starting at '(+get'."
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "SETUSER", "a b"]),
        "ERR Usernames can't contain spaces or null characters"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "DELUSER", "default"]),
        "ERR The 'default' user cannot be removed"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "SETUSER"]),
        "ERR wrong number of arguments for 'acl|setuser' command"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "CAT", "nope"]),
        "ERR Unknown category 'nope'"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "GENPASS", "0"]),
        "ERR ACL GENPASS argument must be the number of bits for the output password, a \
         positive number up to 4096"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "LOG", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "DRYRUN", "nope", "get", "x"]),
        "ERR User 'nope' not found"
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "DRYRUN", "default", "nope"]),
        "ERR Command 'nope' not found"
    );
    assert!(qerr(&mut c, &["ACL", "NOPE"]).starts_with("ERR unknown subcommand 'NOPE'"));
}

#[test]
fn selectors() {
    let (t, mut c) = target();
    let _: () = q(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "s",
            "on",
            ">p",
            "+get",
            "~a*",
            "(+set",
            "~b*)",
            "resetchannels",
        ],
    );
    let u: Value = q(&mut c, &["ACL", "GETUSER", "s"]);
    let sels = match field(&u, "selectors") {
        Value::Array(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(sels.len(), 1);
    assert_eq!(text(&field(&sels[0], "commands")), "-@all +set");
    assert_eq!(text(&field(&sels[0], "keys")), "~b*");
    let mut s = login(&t, "s", "p");
    let _: Option<String> = q(&mut s, &["GET", "a1"]);
    let _: () = q(&mut s, &["SET", "b1", "v"]);
    assert_eq!(qerr(&mut s, &["SET", "a1", "v"]), noperm_key(&t));
    let _: () = q(&mut c, &["ACL", "SETUSER", "s", "clearselectors"]);
    assert_eq!(
        qerr(&mut s, &["SET", "b1", "v"]),
        noperm_cmd(&t, "s", "set")
    );
}

#[test]
fn auth_hello_whoami_and_client_list() {
    let (t, mut c) = target();
    let _: () = q(
        &mut c,
        &["ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all"],
    );
    let _: () = q(
        &mut c,
        &["ACL", "SETUSER", "off-user", "off", ">p", "+@all"],
    );
    let wrong = "WRONGPASS invalid username-password pair or user is disabled.";
    assert_eq!(qerr(&mut c, &["AUTH", "alice", "bad"]), wrong);
    assert_eq!(qerr(&mut c, &["AUTH", "nobody", "bad"]), wrong);
    assert_eq!(qerr(&mut c, &["AUTH", "off-user", "p"]), wrong);
    assert_eq!(
        qerr(&mut c, &["AUTH", "pass"]),
        "ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?"
    );
    let who: String = q(&mut c, &["ACL", "WHOAMI"]);
    assert_eq!(who, "default");
    let _: () = q(&mut c, &["AUTH", "alice", "secret"]);
    let who: String = q(&mut c, &["ACL", "WHOAMI"]);
    assert_eq!(who, "alice");
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(info.contains(" user=alice "), "{info}");
    let mut other = t.client();
    let list: String = q(&mut other, &["CLIENT", "LIST"]);
    assert!(list.contains(" user=alice "), "{list}");
    assert!(list.contains(" user=default "), "{list}");

    // HELLO ... AUTH
    let mut h = t.client();
    let hello: Value = q(&mut h, &["HELLO", "2", "AUTH", "alice", "secret"]);
    assert_eq!(text(&field(&hello, "proto")), "2");
    let who: String = q(&mut h, &["ACL", "WHOAMI"]);
    assert_eq!(who, "alice");
    assert_eq!(
        qerr(&mut h, &["HELLO", "2", "AUTH", "alice", "nope"]),
        wrong
    );
    // A disabled user cannot log in, but its connections keep working.
    let _: () = q(&mut c, &["ACL", "SETUSER", "alice", "off"]);
    let _: Option<String> = q(&mut h, &["GET", "k"]);
    let mut new = t.client();
    assert_eq!(qerr(&mut new, &["AUTH", "alice", "secret"]), wrong);
    // RESET goes back to the default user.
    let _: String = q(&mut h, &["RESET"]);
    let who: String = q(&mut h, &["ACL", "WHOAMI"]);
    assert_eq!(who, "default");
}

#[test]
fn requirepass_is_the_default_users_password() {
    let (t, mut c) = target();
    let _: () = q(&mut c, &["CONFIG", "SET", "requirepass", "pw"]);
    let mut n = t.client();
    assert_eq!(
        qerr(&mut n, &["GET", "k"]),
        "NOAUTH Authentication required."
    );
    let _: () = q(&mut n, &["AUTH", "pw"]);
    let _: Option<String> = q(&mut n, &["GET", "k"]);
    let mut m = t.client();
    let _: () = q(&mut m, &["AUTH", "default", "pw"]);
    let u: Value = q(&mut m, &["ACL", "GETUSER", "default"]);
    assert_eq!(strings(&field(&u, "flags")), ["on"]);
    assert_eq!(strings(&field(&u, "passwords")).len(), 1);
    let _: () = q(&mut m, &["CONFIG", "SET", "requirepass", ""]);
    let u: Value = q(&mut m, &["ACL", "GETUSER", "default"]);
    assert_eq!(strings(&field(&u, "flags")), ["on", "nopass"]);
    let mut fresh = t.client();
    let _: Option<String> = q(&mut fresh, &["GET", "k"]);
}

#[test]
fn noperm_for_commands_keys_and_channels() {
    let (t, mut c) = target();
    let _: () = q(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "u",
            "on",
            ">pw",
            "~k*",
            "&ch",
            "+get",
            "+set",
            "+publish",
            "+subscribe",
            "+psubscribe",
            "+blpop",
            "+select|0",
            "+config|get",
        ],
    );
    let mut u = login(&t, "u", "pw");
    let _: () = q(&mut u, &["SET", "k1", "v"]);
    assert_eq!(qerr(&mut u, &["GET", "x"]), noperm_key(&t));
    assert_eq!(qerr(&mut u, &["INCR", "k1"]), noperm_cmd(&t, "u", "incr"));
    assert_eq!(qerr(&mut u, &["PUBLISH", "zz", "m"]), noperm_channel(&t));
    let n: i64 = q(&mut u, &["PUBLISH", "ch", "m"]);
    assert_eq!(n, 0);
    // First arguments and subcommands.
    let _: () = q(&mut u, &["SELECT", "0"]);
    assert_eq!(
        qerr(&mut u, &["SELECT", "1"]),
        noperm_cmd(&t, "u", "select")
    );
    let _: Value = q(&mut u, &["CONFIG", "GET", "maxclients"]);
    assert_eq!(
        qerr(&mut u, &["CONFIG", "SET", "maxclients", "10"]),
        noperm_cmd(&t, "u", "config|set")
    );
    // A blocking command is checked before it blocks.
    assert_eq!(qerr(&mut u, &["BLPOP", "x", "0"]), noperm_key(&t));
    // A pattern subscription needs the pattern itself.
    assert_eq!(qerr(&mut u, &["PSUBSCRIBE", "c*"]), noperm_channel(&t));
    assert_eq!(
        qerr(&mut u, &["SUBSCRIBE", "ch", "other"]),
        noperm_channel(&t)
    );

    // Read and write key permissions follow the key specs.
    let _: () = q(
        &mut c,
        &[
            "ACL", "SETUSER", "rw", "on", ">pw", "+@all", "%R~r*", "%W~w*",
        ],
    );
    let mut rw = login(&t, "rw", "pw");
    let _: Option<String> = q(&mut rw, &["GET", "r1"]);
    let _: () = q(&mut rw, &["SET", "w1", "v"]);
    assert_eq!(qerr(&mut rw, &["GET", "w1"]), noperm_key(&t));
    assert_eq!(qerr(&mut rw, &["SET", "r1", "v"]), noperm_key(&t));
    assert_eq!(qerr(&mut rw, &["SET", "w1", "v", "GET"]), noperm_key(&t));
    assert_eq!(qerr(&mut rw, &["INCR", "w1"]), noperm_key(&t));
    // LMOVE writes its source too.
    assert_eq!(
        qerr(&mut rw, &["LMOVE", "r1", "w2", "LEFT", "LEFT"]),
        noperm_key(&t)
    );
}

#[test]
fn changes_apply_at_once_on_every_thread() {
    let (t, mut c) = target();
    let _: () = q(&mut c, &["ACL", "SETUSER", "v", "on", ">pw", "~*", "+get"]);
    // Connections spread over the server's executors.
    let mut conns: Vec<_> = (0..8).map(|_| login(&t, "v", "pw")).collect();
    for u in conns.iter_mut() {
        let _: Option<String> = q(u, &["GET", "k"]);
    }
    let _: () = q(&mut c, &["ACL", "SETUSER", "v", "-get"]);
    for u in conns.iter_mut() {
        assert_eq!(qerr(u, &["GET", "k"]), noperm_cmd(&t, "v", "get"));
    }
    let _: () = q(&mut c, &["ACL", "SETUSER", "v", "+get"]);
    for u in conns.iter_mut() {
        let _: Option<String> = q(u, &["GET", "k"]);
    }
}

/// A connection of `user` that sent `subscribe` (inline) and read its confirmation.
fn subscriber(port: u16, user: &str, subscribe: &str) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let got = send_raw(&mut s, &format!("AUTH {user} pw\r\n{subscribe}\r\n"));
    assert!(got.starts_with("+OK\r\n*3\r\n"), "{got:?}");
    s
}

/// Whether the server closed `s` (read returns end of file within the read timeout).
fn closed(s: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn setuser_disconnects_subscribers_whose_channels_it_revokes() {
    let (t, mut c) = target();
    let rules = [
        "on",
        ">pw",
        "+@all",
        "~*",
        "resetchannels",
        "&news:*",
        "&other",
    ];
    let _: () = q(&mut c, &[&["ACL", "SETUSER", "s"][..], &rules].concat());
    let mut news = subscriber(t.port(), "s", "SUBSCRIBE news:1");
    let mut pattern = subscriber(t.port(), "s", "PSUBSCRIBE news:*");
    let mut other = subscriber(t.port(), "s", "SSUBSCRIBE other");
    // news:1 is still allowed; the pattern news:* is not (patterns are checked literally).
    let _: () = q(
        &mut c,
        &["ACL", "SETUSER", "s", "resetchannels", "&news:1", "&other"],
    );
    assert!(closed(&mut pattern));
    assert!(!closed(&mut news));
    assert!(!closed(&mut other));
    let _: () = q(&mut c, &["ACL", "SETUSER", "s", "resetchannels"]);
    assert!(closed(&mut news));
    assert!(closed(&mut other));
    // Other users' subscribers are not touched by a rule change of this one.
    let _: () = q(&mut c, &["ACL", "SETUSER", "s", "allchannels"]);
    let _: () = q(
        &mut c,
        &["ACL", "SETUSER", "t", "on", ">pw", "+@all", "allchannels"],
    );
    let mut theirs = subscriber(t.port(), "t", "SUBSCRIBE news:1");
    let _: () = q(&mut c, &["ACL", "SETUSER", "s", "resetchannels"]);
    assert!(!closed(&mut theirs));
}

#[test]
fn deluser_disconnects_the_users_clients() {
    let (t, mut c) = target();
    let _: () = q(&mut c, &["ACL", "SETUSER", "d", "on", ">pw", "+@all", "~*"]);
    let mut conns: Vec<_> = (0..6).map(|_| login(&t, "d", "pw")).collect();
    let deleted: i64 = q(&mut c, &["ACL", "DELUSER", "d", "nobody"]);
    assert_eq!(deleted, 1);
    for u in conns.iter_mut() {
        let r = redis::cmd("PING").query::<String>(u);
        assert!(r.is_err(), "{r:?}");
    }
    // CLIENT KILL USER
    let _: () = q(&mut c, &["ACL", "SETUSER", "k", "on", ">pw", "+@all", "~*"]);
    let mut ks: Vec<_> = (0..3).map(|_| login(&t, "k", "pw")).collect();
    let n: i64 = q(&mut c, &["CLIENT", "KILL", "USER", "k"]);
    assert_eq!(n, 3);
    for u in ks.iter_mut() {
        assert!(redis::cmd("PING").query::<String>(u).is_err());
    }
    assert_eq!(
        qerr(&mut c, &["CLIENT", "KILL", "USER", "nobody"]),
        "ERR No such user 'nobody'"
    );
}

#[test]
fn transactions_check_at_queue_time_and_at_exec() {
    let (t, mut c) = target();
    let _: () = q(
        &mut c,
        &[
            "ACL", "SETUSER", "m", "on", ">pw", "~k*", "+multi", "+exec", "+get", "+set",
        ],
    );
    let mut u = login(&t, "m", "pw");
    let _: () = q(&mut u, &["MULTI"]);
    assert_eq!(qerr(&mut u, &["INCR", "k"]), noperm_cmd(&t, "m", "incr"));
    assert_eq!(qerr(&mut u, &["GET", "x"]), noperm_key(&t));
    assert_eq!(
        qerr(&mut u, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    // Allowed when queued, denied by the time EXEC runs: EXEC answers the error in its
    // place and runs the rest.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", t.port())).unwrap();
    raw.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let first = send_raw(&mut raw, "AUTH m pw\r\nMULTI\r\nSET k1 v\r\nGET k1\r\n");
    assert_eq!(first, "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    let _: () = q(&mut c, &["ACL", "SETUSER", "m", "-set"]);
    let exec = send_raw(&mut raw, "EXEC\r\n");
    assert_eq!(
        exec,
        "*2\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated \
         and the EXEC call. This command is no longer allowed for the following reason: no \
         permission to execute the command or subcommand\r\n$-1\r\n"
    );
    let log: Value = q(&mut c, &["ACL", "LOG"]);
    let entries = match log {
        Value::Array(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(text(&field(&entries[0], "context")), "multi");
    assert_eq!(text(&field(&entries[0], "object")), "set");
}

#[test]
fn scripts_are_checked_per_call() {
    let (t, mut c) = target();
    let _: () = q(
        &mut c,
        &["ACL", "SETUSER", "l", "on", ">pw", "~k*", "+eval", "+get"],
    );
    let mut u = login(&t, "l", "pw");
    let e = qerr(&mut u, &["EVAL", "return redis.call('incr','k')", "0"]);
    if t.is_reference() {
        assert!(
            e.starts_with("ERR The user executing the script can't run this command"),
            "{e}"
        );
    } else {
        assert!(
            e.starts_with(
                "ERR ACL failure in script: User l has no permissions to run the 'incr' command \
                 script:"
            ),
            "{e}"
        );
    }
    let e = qerr(&mut u, &["EVAL", "return redis.call('get','x')", "0"]);
    if !t.is_reference() {
        assert!(
            e.starts_with("ERR ACL failure in script: No permissions to access a key script:"),
            "{e}"
        );
    }
    // pcall gets the error as a value (here returned as the script's reply).
    let e = qerr(&mut u, &["EVAL", "return redis.pcall('incr','k')", "0"]);
    if !t.is_reference() {
        assert_eq!(
            e,
            "ERR ACL failure in script: User l has no permissions to run the 'incr' command"
        );
    }
    let ok: Option<String> = q(&mut u, &["EVAL", "return redis.call('get','k1')", "0"]);
    assert_eq!(ok, None);
    // Declared keys are checked like any command's keys.
    assert_eq!(
        qerr(&mut u, &["EVAL", "return 1", "1", "x"]),
        noperm_key(&t)
    );
    let log: Value = q(&mut c, &["ACL", "LOG"]);
    let Value::Array(entries) = log else { panic!() };
    assert!(entries
        .iter()
        .any(|e| text(&field(e, "context")) == "lua" && text(&field(e, "object")) == "incr"));
}

#[test]
fn acl_log_entries() {
    let (t, mut c) = target();
    let _: () = q(&mut c, &["ACL", "SETUSER", "g", "on", ">pw", "~k*", "+get"]);
    let mut u = login(&t, "g", "pw");
    let _ = qerr(&mut u, &["GET", "x"]);
    let _ = qerr(&mut u, &["GET", "x"]);
    let _ = qerr(&mut u, &["SET", "k", "v"]);
    let _ = qerr(&mut c, &["AUTH", "g", "wrong"]);
    let log: Value = q(&mut c, &["ACL", "LOG"]);
    let Value::Array(entries) = log else { panic!() };
    assert_eq!(entries.len(), 3);
    let summary: Vec<(String, String, String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                text(&field(e, "count")),
                text(&field(e, "reason")),
                text(&field(e, "context")),
                text(&field(e, "object")),
                text(&field(e, "username")),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (
            a.to_string(),
            b.to_string(),
            c.to_string(),
            d.to_string(),
            e.to_string(),
        )
    };
    assert_eq!(
        summary,
        [
            s("1", "auth", "toplevel", "AUTH", "g"),
            s("1", "command", "toplevel", "set", "g"),
            s("2", "key", "toplevel", "x", "g"),
        ]
    );
    let info = text(&field(&entries[2], "client-info"));
    assert!(
        info.contains(" user=g ") && info.contains(" cmd=get "),
        "{info}"
    );
    if !t.is_reference() {
        // 7.2's fields.
        let names: Vec<String> = pairs(&entries[0]).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "count",
                "reason",
                "context",
                "object",
                "username",
                "age-seconds",
                "client-info",
                "entry-id",
                "timestamp-created",
                "timestamp-last-updated"
            ]
        );
    }
    let one: Value = q(&mut c, &["ACL", "LOG", "1"]);
    assert!(matches!(&one, Value::Array(e) if e.len() == 1));
    let _: () = q(&mut c, &["CONFIG", "SET", "acllog-max-len", "1"]);
    let _ = qerr(&mut u, &["INCR", "k"]);
    let log: Value = q(&mut c, &["ACL", "LOG"]);
    assert!(matches!(&log, Value::Array(e) if e.len() == 1));
    let _: () = q(&mut c, &["CONFIG", "SET", "acllog-max-len", "128"]);
    let _: () = q(&mut c, &["ACL", "LOG", "RESET"]);
    let log: Value = q(&mut c, &["ACL", "LOG"]);
    assert_eq!(log, Value::Array(vec![]));
}

#[test]
fn dryrun_cat_genpass_help() {
    let (_t, mut c) = target();
    // Wrong argument counts name the subcommand as typed, as Redis does.
    for (args, sub) in [
        (&["ACL", "CaT", "a", "b"][..], "CaT"),
        (&["ACL", "GENPASS", "1", "2"], "GENPASS"),
        (&["ACL", "Log", "1", "2", "3"], "Log"),
    ] {
        assert_eq!(
            qerr(&mut c, args),
            format!(
                "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try ACL HELP."
            )
        );
    }
    let _: () = q(
        &mut c,
        &[
            "ACL", "SETUSER", "dr", "on", "~k*", "&ch", "+get", "+publish",
        ],
    );
    let ok: String = q(&mut c, &["ACL", "DRYRUN", "dr", "get", "k1"]);
    assert_eq!(ok, "OK");
    // 7.0 says "This user has ..."; 7.2 names the user.
    let e: String = q(&mut c, &["ACL", "DRYRUN", "dr", "set", "k1", "v"]);
    assert!(
        e.ends_with("has no permissions to run the 'set' command"),
        "{e}"
    );
    let e: String = q(&mut c, &["ACL", "DRYRUN", "dr", "get", "x"]);
    assert!(e.ends_with("ermissions to access the 'x' key"), "{e}");
    let e: String = q(&mut c, &["ACL", "DRYRUN", "dr", "publish", "x", "m"]);
    assert!(e.ends_with("ermissions to access the 'x' channel"), "{e}");

    let cats: Vec<String> = q(&mut c, &["ACL", "CAT"]);
    assert_eq!(cats.len(), 21);
    assert_eq!(cats[0], "keyspace");
    let mut cmds: Vec<String> = q(&mut c, &["ACL", "CAT", "hyperloglog"]);
    cmds.sort();
    assert_eq!(
        cmds,
        ["pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest"]
    );
    let pass: String = q(&mut c, &["ACL", "GENPASS"]);
    assert_eq!(pass.len(), 64);
    assert!(pass.bytes().all(|b| b.is_ascii_hexdigit()));
    let pass: String = q(&mut c, &["ACL", "GENPASS", "5"]);
    assert_eq!(pass.len(), 2);
    let help: Vec<String> = q(&mut c, &["ACL", "HELP"]);
    assert!(help[0].starts_with("ACL <subcommand>"));
}

#[test]
fn acl_config_parameters() {
    let (_t, mut c) = target();
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "acl*"]);
    let mut pairs: Vec<(String, String)> =
        v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            (
                "acl-pubsub-default".to_string(),
                "resetchannels".to_string()
            ),
            ("aclfile".to_string(), "".to_string()),
            ("acllog-max-len".to_string(), "128".to_string()),
        ]
    );
    assert_eq!(
        qerr(&mut c, &["CONFIG", "SET", "acllog-max-len", "-1"]),
        "ERR CONFIG SET failed (possibly related to argument 'acllog-max-len') - argument must \
         be between 0 and 9223372036854775807 inclusive"
    );
    assert_eq!(
        qerr(&mut c, &["CONFIG", "SET", "acl-pubsub-default", "foo"]),
        "ERR CONFIG SET failed (possibly related to argument 'acl-pubsub-default') - \
         argument(s) must be one of the following: allchannels, resetchannels"
    );
    assert_eq!(
        qerr(&mut c, &["CONFIG", "SET", "aclfile", "x"]),
        "ERR CONFIG SET failed (possibly related to argument 'aclfile') - can't set immutable \
         config"
    );
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "acl-pubsub-default", "allchannels"],
    );
    let _: () = q(&mut c, &["ACL", "SETUSER", "pd"]);
    let list: Vec<String> = q(&mut c, &["ACL", "LIST"]);
    assert!(
        list.contains(&"user pd off &* -@all".to_string()),
        "{list:?}"
    );
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "acl-pubsub-default", "resetchannels"],
    );
    assert_eq!(
        qerr(&mut c, &["ACL", "SAVE"]),
        "ERR This Redis instance is not configured to use an ACL file. You may want to specify \
         users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a \
         Redis configuration file set) in order to store users in the Redis configuration."
    );
}

// ---------------------------------------------------------------------------------------------
// Servers of their own (start-up configuration).

fn scratch(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shardis-acl-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn aclfile_save_load_and_restart() {
    let dir = scratch("file");
    let file = dir.join("users.acl");
    std::fs::write(&file, "user alice on >a ~a* +get\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    let s = Server::start(2, &["--aclfile", &path]);
    let mut c = s.client();
    let mut a = s.client();
    let _: () = q(&mut a, &["AUTH", "alice", "a"]);
    let _: () = q(
        &mut c,
        &[
            "ACL",
            "SETUSER",
            "bob",
            "on",
            ">b",
            "~b*",
            "+@read",
            "(+set ~s*)",
        ],
    );
    let _: () = q(&mut c, &["ACL", "SAVE"]);
    let saved = std::fs::read_to_string(&file).unwrap();
    let list: Vec<String> = q(&mut c, &["ACL", "LIST"]);
    assert_eq!(
        saved,
        list.iter().map(|l| format!("{l}\n")).collect::<String>()
    );
    assert!(saved.contains("user bob on #"), "{saved}");
    assert!(saved.contains("(~s* resetchannels -@all +set)"), "{saved}");

    // LOAD: all or nothing.
    std::fs::write(&file, "user carol on >c +@all ~*\nuser broken +nope\n").unwrap();
    let e = qerr(&mut c, &["ACL", "LOAD"]);
    assert!(
        e.starts_with(&format!(
            "ERR {path}:2: Unknown command or category name in ACL."
        )),
        "{e}"
    );
    assert!(e.ends_with("WARNING: ACL errors detected, no change to the previously active ACL rules was performed"), "{e}");
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["alice", "bob", "default"]);
    // A good file replaces every user; alice is gone, so is her connection.
    std::fs::write(&file, saved.replace("user alice", "user carol")).unwrap();
    let _: () = q(&mut c, &["ACL", "LOAD"]);
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["bob", "carol", "default"]);
    assert!(redis::cmd("PING").query::<String>(&mut a).is_err());
    drop(c);
    drop(s);

    // A restart loads the file.
    let s = Server::start(2, &["--aclfile", &path]);
    let mut c = s.client();
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["bob", "carol", "default"]);
    let mut b = s.client();
    let _: () = q(&mut b, &["AUTH", "bob", "b"]);
    let _: Option<String> = q(&mut b, &["GET", "b1"]);
    let _: () = q(&mut b, &["SET", "s1", "v"]);
    // A LOAD that takes a channel away disconnects the user's subscribers to it.
    std::fs::write(&file, "user dan on >pw +@all ~* &feed &keep\n").unwrap();
    let _: () = q(&mut c, &["ACL", "LOAD"]);
    let mut feed = subscriber(s.port, "dan", "SUBSCRIBE feed");
    let mut keep = subscriber(s.port, "dan", "SUBSCRIBE keep");
    std::fs::write(&file, "user dan on >pw +@all ~* &keep\n").unwrap();
    let _: () = q(&mut c, &["ACL", "LOAD"]);
    assert!(closed(&mut feed));
    assert!(!closed(&mut keep));
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn user_directives_and_conflicting_configuration() {
    let dir = scratch("conf");
    let dirs = dir.to_string_lossy().into_owned();
    let bin = env!("CARGO_BIN_EXE_shardis-server");
    // `--user name rules...` as redis-server takes it, and one quoted argument.
    let s = Server::start_program(
        bin.as_ref(),
        &[
            "--shards",
            "2",
            "--dir",
            &dirs,
            "--user",
            "default",
            "on",
            ">adminpw",
            "~*",
            "&*",
            "+@all",
            "--user",
            "worker",
            "on",
            ">w",
            "~jobs:*",
            "resetchannels",
            "-@all",
            "+@list",
            "--user",
            "reader on >r ~* +@read",
        ],
    );
    let mut c = s.client();
    assert_eq!(qerr(&mut c, &["PING"]), "NOAUTH Authentication required.");
    let _: () = q(&mut c, &["AUTH", "adminpw"]);
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]);
    assert_eq!(users, ["default", "reader", "worker"]);
    let mut w = s.client();
    let _: () = q(&mut w, &["AUTH", "worker", "w"]);
    let _: i64 = q(&mut w, &["LPUSH", "jobs:1", "x"]);
    assert_eq!(
        qerr(&mut w, &["LPUSH", "other", "x"]),
        "NOPERM No permissions to access a key"
    );
    let mut r = s.client();
    let _: () = q(&mut r, &["AUTH", "reader", "r"]);
    let _: Option<String> = q(&mut r, &["GET", "x"]);
    drop(s);

    // aclfile and user directives together: refused at start-up, as Redis.
    let conf = dir.join("redis.conf");
    std::fs::write(&conf, "user worker on >w ~jobs:* +@list\n").unwrap();
    let confs = conf.to_string_lossy().into_owned();
    let out = std::process::Command::new(bin)
        .args([&confs, "--port", "0", "--aclfile", "/tmp/none.acl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("users defined in redis.conf and at the same setting an ACL file"),
        "{err}"
    );
    // A bad rule in a directive is a configuration error naming it.
    let out = std::process::Command::new(bin)
        .args(["--port", "0", "--user", "x", "on", "bogus"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error in user declaration 'bogus': Syntax error"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn acl_commands_are_documented() {
    let (_t, mut c) = target();
    let info: Value = q(&mut c, &["COMMAND", "INFO", "acl|setuser", "acl|whoami"]);
    let Value::Array(items) = info else { panic!() };
    let Value::Array(setuser) = &items[0] else {
        panic!()
    };
    assert_eq!(text(&setuser[0]), "acl|setuser");
    assert_eq!(setuser[1], Value::Int(-3));
    assert_eq!(strings(&setuser[6]), ["@admin", "@slow", "@dangerous"]);
    let docs: Value = q(&mut c, &["COMMAND", "DOCS", "acl"]);
    let acl = field(&docs, "acl");
    let subs: Vec<String> = pairs(&field(&acl, "subcommands"))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(subs.len(), 13);
    assert!(subs.contains(&"acl|dryrun".to_string()));
}
