//! SLOWLOG over TCP: what is logged (commands from clients on any shard, each command of a
//! MULTI but not EXEC, EVAL and what its script calls), the entry format (id, time,
//! duration, arguments cut at 32 x 128 bytes, secrets redacted, client address and name),
//! GET/LEN/RESET/HELP, the two parameters and Redis' errors. `REFERENCE_PORT=<port>` runs
//! the same expectations against a real Redis (see `common::Target`).

mod common;

use common::{cross, q, qerr, Target};
use redis::Value;

/// An entry as the tests look at it: id, duration, arguments, client address, client name.
#[derive(Debug)]
struct Entry {
    id: i64,
    usec: i64,
    args: Vec<String>,
    addr: String,
    name: String,
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn entries(c: &mut redis::Connection, count: &str) -> Vec<Entry> {
    let v: Value = q(c, &["SLOWLOG", "GET", count]);
    let Value::Array(items) = v else {
        panic!("SLOWLOG GET: {v:?}")
    };
    items
        .iter()
        .map(|e| {
            let Value::Array(f) = e else {
                panic!("entry: {e:?}")
            };
            assert_eq!(f.len(), 6, "{f:?}");
            let int = |v: &Value| match v {
                Value::Int(n) => *n,
                other => panic!("not an integer: {other:?}"),
            };
            let Value::Array(args) = &f[3] else {
                panic!("arguments: {:?}", f[3])
            };
            Entry {
                id: int(&f[0]),
                usec: int(&f[2]),
                args: args.iter().map(text).collect(),
                addr: text(&f[4]),
                name: text(&f[5]),
            }
        })
        .collect()
}

/// The logged commands, oldest first, without the SLOWLOG calls themselves.
fn commands(c: &mut redis::Connection) -> Vec<String> {
    let mut out: Vec<String> = entries(c, "-1")
        .into_iter()
        .map(|e| e.args.join(" "))
        .filter(|a| !a.starts_with("SLOWLOG") && !a.starts_with("slowlog"))
        .collect();
    out.reverse();
    out
}

#[test]
fn logs_what_redis_logs() {
    let t = Target::start(2);
    let mut c = t.client();
    let (k0, k1) = cross("slow");
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        "OK"
    );
    assert_eq!(q::<String>(&mut c, &["SLOWLOG", "RESET"]), "OK");
    q::<()>(&mut c, &["CLIENT", "SETNAME", "logger"]);
    q::<()>(&mut c, &["SET", &k0, "v"]);
    q::<()>(&mut c, &["SET", &k1, "v"]);
    q::<()>(&mut c, &["MGET", &k0, &k1]);
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["INCR", "counter"]);
    q::<()>(&mut c, &["EXEC"]);
    let script = "return redis.call('get', KEYS[1])";
    q::<()>(&mut c, &["EVAL", script, "1", &k0]);
    assert_eq!(
        commands(&mut c),
        vec![
            "CLIENT SETNAME logger".to_string(),
            format!("SET {k0} v"),
            format!("SET {k1} v"),
            format!("MGET {k0} {k1}"),
            "MULTI".into(),
            "INCR counter".into(),
            format!("get {k0}"),
            format!("EVAL {script} 1 {k0}"),
        ]
    );
    // The script's call is logged for the script's client, as Redis' Lua client.
    let inner = entries(&mut c, "-1")
        .into_iter()
        .find(|e| e.args[0] == "get")
        .unwrap();
    assert_eq!((inner.addr.as_str(), inner.name.as_str()), ("?:0", ""));
    let newest = &entries(&mut c, "1")[0];
    assert_eq!(newest.name, "logger");
    assert!(newest.addr.starts_with("127.0.0.1:"), "{newest:?}");
    assert!(newest.usec >= 0);
    // Ids grow by one, whichever shard ran the command.
    let all = entries(&mut c, "-1");
    for pair in all.windows(2) {
        assert_eq!(pair[0].id, pair[1].id + 1, "{all:?}");
    }

    // Secrets are redacted; long commands are cut.
    q::<()>(&mut c, &["SLOWLOG", "RESET"]);
    let _ = qerr(&mut c, &["AUTH", "nobody", "secret"]);
    q::<()>(&mut c, &["CONFIG", "SET", "requirepass", ""]);
    q::<()>(&mut c, &["HELLO", "2", "AUTH", "default", "nopass"]);
    let big = "x".repeat(130);
    q::<()>(&mut c, &["SET", &k0, &big]);
    let many: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(many.iter().map(String::as_str));
    q::<()>(&mut c, &sadd);
    let got = commands(&mut c);
    assert_eq!(got[0], "AUTH (redacted) (redacted)");
    assert_eq!(got[1], "CONFIG SET requirepass (redacted)");
    assert_eq!(got[2], "HELLO 2 AUTH (redacted) (redacted)");
    assert_eq!(
        got[3],
        format!("SET {k0} {}... (2 more bytes)", "x".repeat(128))
    );
    let sadd_args = entries(&mut c, "2")
        .into_iter()
        .find(|e| e.args[0] == "SADD")
        .unwrap()
        .args;
    assert_eq!(sadd_args.len(), 32);
    assert_eq!(sadd_args[30], "m28");
    assert_eq!(sadd_args[31], "... (11 more arguments)");

    // slowlog-max-len keeps the newest; a negative threshold logs nothing.
    q::<()>(&mut c, &["CONFIG", "SET", "slowlog-max-len", "3"]);
    q::<()>(&mut c, &["PING"]);
    q::<()>(&mut c, &["PING"]);
    assert_eq!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]), 3);
    assert_eq!(entries(&mut c, "10").len(), 3);
    q::<()>(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    q::<()>(&mut c, &["SLOWLOG", "RESET"]);
    q::<()>(&mut c, &["SET", &k1, "v"]);
    assert_eq!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]), 0);
    // The defaults are back with a plain threshold: fast commands are not logged.
    q::<()>(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "slowlog-log-slower-than",
            "10000",
            "slowlog-max-len",
            "128",
        ],
    );
    q::<()>(&mut c, &["GET", &k1]);
    assert_eq!(q::<i64>(&mut c, &["SLOWLOG", "LEN"]), 0);
}

#[test]
fn help_and_errors() {
    let t = Target::start(2);
    let mut c = t.client();
    let help: Vec<String> = q(&mut c, &["SLOWLOG", "HELP"]);
    assert_eq!(
        help[0],
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert!(help.contains(&"LEN".to_string()), "{help:?}");
    let count_err = "ERR count should be greater than or equal to -1";
    assert_eq!(qerr(&mut c, &["SLOWLOG", "GET", "-2"]), count_err);
    assert_eq!(qerr(&mut c, &["SLOWLOG", "GET", "abc"]), count_err);
    assert_eq!(
        qerr(&mut c, &["SLOWLOG", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try SLOWLOG HELP."
    );
    assert_eq!(
        qerr(&mut c, &["SLOWLOG", "GET", "1", "x"]),
        "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
    );
    assert_eq!(
        qerr(&mut c, &["SLOWLOG", "LEN", "x"]),
        "ERR wrong number of arguments for 'slowlog|len' command"
    );
    assert_eq!(
        qerr(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "-2"]),
        "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - \
         argument must be between -1 and 9223372036854775807 inclusive"
    );
    let cfg: Vec<String> = q(&mut c, &["CONFIG", "GET", "slowlog-*"]);
    assert_eq!(cfg.len(), 4);
}
