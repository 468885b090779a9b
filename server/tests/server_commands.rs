//! Connection and server commands over TCP: PING, ECHO, SELECT, AUTH, HELLO, CLIENT, DBSIZE,
//! FLUSHDB, TIME, INFO, CONFIG, COMMAND, DEBUG, QUIT, RESET.

mod common;

use common::{q, qerr, Server};
use std::collections::HashMap;

fn info_fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn ping_echo_time() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert_eq!(q::<String>(&mut c, &["PING", "hi"]), "hi");
    assert_eq!(q::<String>(&mut c, &["ECHO", "hello"]), "hello");
    assert_eq!(
        qerr(&mut c, &["PING", "a", "b"]),
        "ERR wrong number of arguments for 'ping' command"
    );
    let t: Vec<String> = q(&mut c, &["TIME"]);
    let secs: u64 = t[0].parse().unwrap();
    let micros: u64 = t[1].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) < 5 && micros < 1_000_000);
}

#[test]
fn select_and_databases_are_separate() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "k", "db0"]);
    q::<()>(&mut c, &["SELECT", "3"]);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "k"]), None);
    q::<()>(&mut c, &["SET", "k", "db3"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 1);
    q::<()>(&mut c, &["FLUSHDB"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    q::<()>(&mut c, &["SELECT", "0"]);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "db0");
    assert_eq!(
        qerr(&mut c, &["SELECT", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        qerr(&mut c, &["SELECT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(qerr(&mut c, &["FLUSHDB", "NOW"]), "ERR syntax error");
    q::<()>(&mut c, &["FLUSHALL", "ASYNC"]);
    assert_eq!(
        qerr(&mut c, &["SWAPDB", "0", "x"]),
        "ERR invalid second DB index"
    );
    assert_eq!(
        qerr(&mut c, &["SWAPDB", "0", "99"]),
        "ERR DB index is out of range"
    );
}

#[test]
fn auth_and_requirepass() {
    let s = Server::start(2, &["--requirepass", "s3cret"]);
    let mut c = s.client();
    assert_eq!(
        qerr(&mut c, &["GET", "k"]),
        "NOAUTH Authentication required."
    );
    assert_eq!(
        qerr(&mut c, &["AUTH", "wrong"]),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    q::<()>(&mut c, &["AUTH", "s3cret"]);
    q::<()>(&mut c, &["SET", "k", "v"]);
    let mut c2 = s.client();
    q::<()>(&mut c2, &["AUTH", "default", "s3cret"]);
    assert_eq!(q::<String>(&mut c2, &["GET", "k"]), "v");
    // A client that authenticates through the URL, as redis-py and friends do.
    let mut c3 = redis::Client::open(format!("redis://:s3cret@127.0.0.1:{}/", s.port))
        .unwrap()
        .get_connection()
        .unwrap();
    assert_eq!(q::<String>(&mut c3, &["GET", "k"]), "v");
    // RESET drops authentication.
    q::<String>(&mut c2, &["RESET"]);
    assert_eq!(
        qerr(&mut c2, &["GET", "k"]),
        "NOAUTH Authentication required."
    );

    let open = Server::start(1, &[]);
    let mut c = open.client();
    assert!(qerr(&mut c, &["AUTH", "x"]).starts_with("ERR AUTH <password> called without"));
}

#[test]
fn hello_switches_protocol_and_authenticates() {
    let s = Server::start(2, &["--requirepass", "pw"]);
    let mut c = s.client();
    assert!(qerr(&mut c, &["HELLO", "3"]).starts_with("NOAUTH HELLO must be called"));
    let reply: HashMap<String, redis::Value> = q(
        &mut c,
        &["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "me"],
    );
    assert_eq!(reply["server"], redis::Value::BulkString(b"redis".to_vec()));
    assert_eq!(reply["proto"], redis::Value::Int(2));
    assert_eq!(
        reply["mode"],
        redis::Value::BulkString(b"standalone".to_vec())
    );
    assert_eq!(q::<String>(&mut c, &["CLIENT", "GETNAME"]), "me");
    assert_eq!(
        qerr(&mut c, &["HELLO", "4"]),
        "NOPROTO unsupported protocol version"
    );
}

#[test]
fn client_commands() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let id: i64 = q(&mut c, &["CLIENT", "ID"]);
    assert!(id > 0);
    assert_eq!(q::<Option<String>>(&mut c, &["CLIENT", "GETNAME"]), None);
    q::<()>(&mut c, &["CLIENT", "SETNAME", "worker-1"]);
    assert_eq!(q::<String>(&mut c, &["CLIENT", "GETNAME"]), "worker-1");
    assert_eq!(
        qerr(&mut c, &["CLIENT", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    q::<()>(&mut c, &["CLIENT", "SETINFO", "LIB-NAME", "redis-rs"]);
    q::<()>(&mut c, &["CLIENT", "SETINFO", "LIB-VER", "0.27"]);
    let info: String = q(&mut c, &["CLIENT", "INFO"]);
    assert!(
        info.starts_with(&format!("id={id} addr=127.0.0.1:")),
        "{info}"
    );
    assert!(
        info.contains(" name=worker-1 ") && info.contains("lib-name=redis-rs"),
        "{info}"
    );

    let mut other = s.client();
    q::<()>(&mut other, &["CLIENT", "SETNAME", "victim"]);
    let other_id: i64 = q(&mut other, &["CLIENT", "ID"]);
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    assert!(
        list.contains("name=victim") && list.contains("name=worker-1"),
        "{list}"
    );
    let only: String = q(&mut c, &["CLIENT", "LIST", "ID", &other_id.to_string()]);
    assert_eq!(only.lines().count(), 1);
    assert_eq!(
        q::<i64>(&mut c, &["CLIENT", "KILL", "ID", &other_id.to_string()]),
        1
    );
    assert!(redis::cmd("PING").query::<String>(&mut other).is_err());
    assert_eq!(
        qerr(&mut c, &["CLIENT", "KILL", "1.2.3.4:5"]),
        "ERR No such client"
    );
    assert_eq!(
        qerr(&mut c, &["CLIENT", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try CLIENT HELP."
    );
    q::<()>(&mut c, &["CLIENT", "NO-EVICT", "on"]);
    q::<()>(&mut c, &["CLIENT", "NO-TOUCH", "off"]);
    let help: Vec<String> = q(&mut c, &["CLIENT", "HELP"]);
    assert!(help[0].starts_with("CLIENT <subcommand>"));
}

#[test]
fn client_pause_holds_writes() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    q::<()>(&mut c, &["CLIENT", "PAUSE", "300", "WRITE"]);
    let t0 = std::time::Instant::now();
    // Reads go through, writes wait for the pause to end.
    let _: Option<String> = q(&mut c, &["GET", "p"]);
    assert!(t0.elapsed().as_millis() < 250);
    q::<()>(&mut c, &["SET", "p", "1"]);
    assert!(
        t0.elapsed().as_millis() >= 250,
        "a write ran during CLIENT PAUSE WRITE"
    );
    // PAUSE ALL holds every command, CLIENT UNPAUSE included, as in Redis.
    q::<()>(&mut c, &["CLIENT", "PAUSE", "300", "ALL"]);
    let t0 = std::time::Instant::now();
    q::<()>(&mut c, &["CLIENT", "UNPAUSE"]);
    assert!(t0.elapsed().as_millis() >= 250);
    q::<()>(&mut c, &["SET", "p", "2"]);
}

#[test]
fn info_sections_and_counters() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    q::<()>(&mut c, &["SET", "a", "1"]);
    q::<()>(&mut c, &["SET", "b", "2"]);
    q::<()>(&mut c, &["EXPIRE", "b", "100"]);
    let _: Option<String> = q(&mut c, &["GET", "a"]);
    let _: Option<String> = q(&mut c, &["GET", "missing"]);
    let all: String = q(&mut c, &["INFO"]);
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Keyspace",
    ] {
        assert!(all.contains(section), "{section} missing");
    }
    let f = info_fields(&all);
    assert!(f["redis_version"].starts_with("7.2"));
    for field in [
        "used_memory",
        "used_memory_human",
        "used_memory_peak_human",
        "mem_fragmentation_ratio",
        "connected_clients",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "evicted_keys",
        "expired_keys",
        "uptime_in_seconds",
        "tcp_port",
        "used_cpu_sys",
    ] {
        assert!(f.contains_key(field), "{field} missing");
    }
    assert_eq!(f["keyspace_hits"], "1");
    assert_eq!(f["keyspace_misses"], "1");
    assert_eq!(f["db0"], "keys=2,expires=1,avg_ttl=0");
    let ks: String = q(&mut c, &["INFO", "keyspace"]);
    assert!(!ks.contains("# Server"));
    let stats: String = q(&mut c, &["INFO", "commandstats"]);
    assert!(stats.contains("cmdstat_set:calls=2,"), "{stats}");
    let _ = common::qerr(&mut c, &["GET"]);
    let _ = common::qerr(&mut c, &["NOSUCH"]);
    let _ = common::qerr(&mut c, &["INCR", "a", "b"]);
    let errs = info_fields(&q::<String>(&mut c, &["INFO", "errorstats"]));
    assert_eq!(errs["errorstat_ERR"], "count=3");
    let stats = info_fields(&q::<String>(&mut c, &["INFO", "commandstats"]));
    assert!(
        stats["cmdstat_get"].ends_with("rejected_calls=1,failed_calls=0"),
        "{stats:?}"
    );
    q::<()>(&mut c, &["CONFIG", "RESETSTAT"]);
    let f = info_fields(&q::<String>(&mut c, &["INFO", "stats"]));
    assert_eq!(f["keyspace_hits"], "0");
}

#[test]
fn config_get_and_set() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let port: Vec<String> = q(&mut c, &["CONFIG", "GET", "port"]);
    assert_eq!(port, vec!["port".to_string(), s.port.to_string()]);
    let many: HashMap<String, String> = q(&mut c, &["CONFIG", "GET", "*max*"]);
    assert!(many.contains_key("maxclients") && many.contains_key("proto-max-bulk-len"));
    q::<()>(
        &mut c,
        &["CONFIG", "SET", "timeout", "100", "maxclients", "500"],
    );
    let v: HashMap<String, String> = q(&mut c, &["CONFIG", "GET", "timeout", "maxclients"]);
    assert_eq!(v["timeout"], "100");
    assert_eq!(v["maxclients"], "500");
    assert!(qerr(&mut c, &["CONFIG", "SET", "nosuch", "1"])
        .starts_with("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"));
    assert!(
        qerr(&mut c, &["CONFIG", "SET", "databases", "4"]).contains("can't set immutable config")
    );
    // All or nothing: a bad second parameter leaves the first unchanged.
    assert!(qerr(&mut c, &["CONFIG", "SET", "timeout", "5", "hz", "x"])
        .starts_with("ERR CONFIG SET failed"));
    let v: HashMap<String, String> = q(&mut c, &["CONFIG", "GET", "timeout"]);
    assert_eq!(v["timeout"], "100");
    // Parameters of features that are not built yet are unknown, not silently accepted.
    let none: HashMap<String, String> = q(&mut c, &["CONFIG", "GET", "maxmemory-clients"]);
    assert!(none.is_empty());
    // The AOF is switched on or off by a restart: it reports what is true and refuses to be
    // switched at run time. Save points are set at run time (none by default).
    let aof: HashMap<String, String> = q(&mut c, &["CONFIG", "GET", "appendonly", "save"]);
    assert_eq!(aof["appendonly"], "no");
    assert_eq!(aof["save"], "");
    assert!(qerr(&mut c, &["CONFIG", "SET", "appendonly", "yes"]).contains("restart"));
    q::<()>(&mut c, &["CONFIG", "SET", "save", "900 1 300 10"]);
    let save: Vec<String> = q(&mut c, &["CONFIG", "GET", "save"]);
    assert_eq!(save, ["save", "900 1 300 10"]);
    q::<()>(&mut c, &["CONFIG", "SET", "save", ""]);
    assert!(qerr(&mut c, &["CONFIG", "SET", "save", "900"]).contains("Invalid save parameters"));
}

#[test]
fn command_introspection() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let n: i64 = q(&mut c, &["COMMAND", "COUNT"]);
    assert!(n >= 69, "{n} commands");
    let info: Vec<redis::Value> = q(&mut c, &["COMMAND", "INFO", "get", "nosuch"]);
    assert_eq!(info.len(), 2);
    assert_eq!(info[1], redis::Value::Nil);
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]);
    assert_eq!(keys, vec!["a", "b"]);
    let list: Vec<String> = q(&mut c, &["COMMAND", "LIST"]);
    assert!(list.iter().any(|n| n == "getrange"));
    let docs: HashMap<String, redis::Value> = q(&mut c, &["COMMAND", "DOCS", "set"]);
    assert!(docs.contains_key("set"));
}

#[test]
fn debug_is_off_by_default_and_works_when_enabled() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    assert!(qerr(&mut c, &["DEBUG", "SLEEP", "0"]).starts_with("ERR DEBUG command not allowed"));
    let s = Server::start(2, &["--enable-debug-command", "yes"]);
    let mut c = s.client();
    q::<()>(&mut c, &["DEBUG", "SLEEP", "0"]);
    let empty: String = q(&mut c, &["DEBUG", "DIGEST"]);
    assert_eq!(empty, "0".repeat(40));
    q::<()>(&mut c, &["SET", "a", "1"]);
    let d1: String = q(&mut c, &["DEBUG", "DIGEST"]);
    assert_ne!(d1, empty);
    let v: Vec<String> = q(&mut c, &["DEBUG", "DIGEST-VALUE", "a", "nokey"]);
    assert_eq!(v.len(), 2);
    assert_eq!(v[1], "0".repeat(40));
    let obj: String = q(&mut c, &["DEBUG", "OBJECT", "a"]);
    assert!(obj.contains("encoding:int"), "{obj}");
    assert_eq!(q::<i64>(&mut c, &["DEBUG", "PROTOCOL", "integer"]), 12345);
    q::<()>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    q::<()>(&mut c, &["SET", "e", "1", "PX", "10"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let f = info_fields(&q::<String>(&mut c, &["INFO", "keyspace"]));
    assert_eq!(
        f["db0"], "keys=2,expires=1,avg_ttl=0",
        "active expiry is off"
    );
    q::<()>(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let f = info_fields(&q::<String>(&mut c, &["INFO", "keyspace"]));
    assert_eq!(
        f["db0"], "keys=1,expires=0,avg_ttl=0",
        "active expiry reclaimed the key"
    );
}

#[test]
fn quit_closes_after_ok() {
    let s = Server::start(1, &[]);
    let mut raw = s.raw();
    let got = common::roundtrip(&mut raw, b"QUIT\r\nPING\r\n", 100);
    assert_eq!(got, b"+OK\r\n");
}
