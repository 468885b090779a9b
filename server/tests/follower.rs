//! Shardis as a replica (REPLICAOF) of a real redis-server 7: the full synchronization
//! (diskless `$EOF:` and disk-based `$<len>` payloads), the command stream, offsets and
//! ACKs (WAIT on the master), a lost and restarted master, the replica's read-only and
//! stale-data rules, its expiry rules, INFO / ROLE / HELLO, the AOF, promotion.

mod common;

use common::{key_on, q, qerr, redis_server_binary, Server};
use redis::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh directory for one test, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("shardis-follower-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The arguments of a redis-server master in `dir`: no RDB saves, no delay before a
/// diskless transfer (Redis 7 waits 5 s for more replicas by default).
fn master_args<'a>(dir: &'a Dir, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--daemonize",
        "no",
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        dir.path(),
    ];
    args.extend_from_slice(extra);
    args
}

fn redis_bin() -> PathBuf {
    redis_server_binary().expect("redis-server not found: run scripts/test-setup.sh")
}

fn redis_master(dir: &Dir, extra: &[&str]) -> Server {
    Server::start_program(&redis_bin(), &master_args(dir, extra))
}

/// A redis-server on a given port (a master restarted where its replicas expect it).
struct Fixed(Child);

impl Fixed {
    fn start(port: u16, dir: &Dir, extra: &[&str]) -> Fixed {
        let child = Command::new(redis_bin())
            .args(["--port", &port.to_string()])
            .args(master_args(dir, extra))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("redis://127.0.0.1:{port}/");
        wait_until("the restarted master answers", || {
            redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok()
        });
        Fixed(child)
    }
}

impl Drop for Fixed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn follower(shards: usize, extra: &[&str]) -> Server {
    Server::start(shards, extra)
}

fn kill9(pid: u32) {
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
}

/// Polls `cond` every 20 ms for up to 15 s.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// INFO replication as field -> value, and the field names in order.
fn replication_info(c: &mut redis::Connection) -> (HashMap<String, String>, Vec<String>) {
    let text: String = q(c, &["INFO", "replication"]);
    let mut map = HashMap::new();
    let mut order = Vec::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(':') {
            map.insert(k.to_string(), v.to_string());
            order.push(k.to_string());
        }
    }
    (map, order)
}

/// The master's count of accepted partial resynchronizations.
fn partial_syncs(master: &mut redis::Connection) -> u64 {
    let text: String = q(master, &["INFO", "stats"]);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("sync_partial_ok:"))
        .expect("sync_partial_ok");
    line.parse().unwrap()
}

fn field(c: &mut redis::Connection, name: &str) -> String {
    replication_info(c).0.remove(name).unwrap_or_default()
}

/// Waits until the follower's link is up and it applied everything the master wrote.
fn wait_synced(master: &mut redis::Connection, follower: &mut redis::Connection) {
    wait_until("the follower caught up", || {
        let (f, _) = replication_info(follower);
        let m = field(master, "master_repl_offset");
        f.get("master_link_status").map(String::as_str) == Some("up")
            && f.get("slave_repl_offset") == Some(&m)
    });
}

/// Waits until both sides show the same data set, then compares it (a clear diff if not).
fn assert_converges(master: &mut redis::Connection, follower: &mut redis::Connection) {
    wait_synced(master, follower);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (m, f) = (common::contents(master), common::contents(follower));
        if m == f {
            return;
        }
        if Instant::now() > deadline {
            let only_f: Vec<_> = f.iter().filter(|l| !m.contains(l)).collect();
            let only_m: Vec<_> = m.iter().filter(|l| !f.contains(l)).collect();
            panic!("the follower's data differs: only there {only_f:#?}, only on the master {only_m:#?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const LIBRARY: &str = "#!lua name=lib\n\
    redis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)\n\
    redis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}";

/// Data of every type in a few databases, with TTLs and stream groups.
fn populate(c: &mut redis::Connection, tag: &str) {
    for i in 0..50 {
        let k = format!("{tag}:s{i}");
        q::<()>(c, &["SET", &k, &format!("value-{i}")]);
    }
    q::<()>(c, &["SET", &format!("{tag}:ttl"), "v", "EX", "1000"]);
    q::<()>(c, &["SET", &format!("{tag}:int"), "12345"]);
    q::<i64>(c, &["RPUSH", &format!("{tag}:list"), "a", "b", "c", "d"]);
    let long: Vec<String> = (0..300).map(|i| format!("element-{i}")).collect();
    let mut args = vec!["RPUSH".to_string(), format!("{tag}:biglist")];
    args.extend(long.iter().cloned());
    q::<i64>(c, &args.iter().map(String::as_str).collect::<Vec<_>>());
    q::<i64>(c, &["HSET", &format!("{tag}:hash"), "f1", "v1", "f2", "2"]);
    let mut args = vec!["HSET".to_string(), format!("{tag}:bighash")];
    for i in 0..200 {
        args.extend([format!("field{i}"), "x".repeat(i % 80)]);
    }
    q::<i64>(c, &args.iter().map(String::as_str).collect::<Vec<_>>());
    q::<i64>(c, &["SADD", &format!("{tag}:intset"), "1", "2", "3"]);
    q::<i64>(c, &["SADD", &format!("{tag}:set"), "a", "b", "c"]);
    q::<i64>(
        c,
        &[
            "ZADD",
            &format!("{tag}:zset"),
            "1",
            "a",
            "2.5",
            "b",
            "-3",
            "c",
        ],
    );
    let mut args = vec!["ZADD".to_string(), format!("{tag}:bigzset")];
    for i in 0..200 {
        args.extend([format!("{i}.5"), format!("member{i}")]);
    }
    q::<i64>(c, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let stream = format!("{tag}:stream");
    for i in 0..20 {
        q::<String>(c, &["XADD", &stream, "*", "n", &i.to_string()]);
    }
    q::<()>(c, &["XGROUP", "CREATE", &stream, "g", "0"]);
    q::<Value>(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "5",
            "STREAMS",
            &stream,
            ">",
        ],
    );
    q::<()>(c, &["SELECT", "3"]);
    q::<()>(c, &["SET", &format!("{tag}:in3"), "three"]);
    q::<()>(
        c,
        &["SET", &format!("{tag}:in3ttl"), "three", "PX", "900000"],
    );
    q::<()>(c, &["SELECT", "0"]);
}

#[test]
fn follows_a_redis_master_through_sync_stream_restart_and_promotion() {
    let dir = Dir::new("main");
    let master = redis_master(&dir, &["--appendonly", "yes"]);
    let port = master.port;
    let mut m = master.client();
    populate(&mut m, "pre");
    q::<String>(&mut m, &["FUNCTION", "LOAD", LIBRARY]);

    let f = follower(1, &[]);
    let mut c = f.client();
    let reply: String = q(&mut c, &["REPLICAOF", "127.0.0.1", &port.to_string()]);
    assert_eq!(reply, "OK");
    // The full synchronization (a diskless master: an EOF-marked payload).
    assert_converges(&mut m, &mut c);
    // Asked again once loaded (while it loads, REPLICAOF gets -LOADING, as
    // from redis-server, whose REPLICAOF lacks the `loading` flag).
    let again: String = q(&mut c, &["REPLICAOF", "127.0.0.1", &port.to_string()]);
    assert_eq!(again, "OK Already connected to specified master");

    // The stream.
    let script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('INCR', KEYS[2]); return 1";
    let writes: &[&[&str]] = &[
        &["SELECT", "5"],
        &["SET", "five", "5"],
        &["EXPIRE", "five", "1000"],
        &["SELECT", "0"],
        &["PEXPIREAT", "pre:s1", "99999999999999"],
        &["INCRBYFLOAT", "float", "1.25"],
        &["INCRBYFLOAT", "float", "3.0e2"],
        &["SPOP", "pre:set"],
        &["SADD", "big", "1", "2", "3", "4", "5", "6"],
        &["SPOP", "big", "3"],
        &["EVAL", script, "2", "ev1", "ev2", "x"],
        &["MULTI"],
        &["LPUSH", "pre:list", "z"],
        &["HINCRBY", "pre:hash", "f2", "40"],
        &["ZINCRBY", "pre:zset", "2", "a"],
        &["EXEC"],
        &["XADD", "pre:stream", "*", "after", "1"],
        &["XACK", "pre:stream", "g", "0-1"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "COUNT",
            "3",
            "STREAMS",
            "pre:stream",
            ">",
        ],
        &["SELECT", "3"],
        &["FLUSHDB"],
        &["SELECT", "0"],
        &["DEL", "pre:s2", "pre:s3"],
        &["FUNCTION", "LOAD", "REPLACE", LIBRARY],
        &["FCALL", "bump", "1", "counter", "7"],
        &["SET", "pre:s4", "gone", "PX", "1"],
    ];
    for w in writes {
        q::<Value>(&mut m, w);
    }
    assert_converges(&mut m, &mut c);

    // Reads work; writes do not, in every form.
    assert_eq!(q::<String>(&mut c, &["GET", "pre:s10"]), "value-10");
    assert_eq!(
        qerr(&mut c, &["SET", "x", "1"]),
        "READONLY You can't write against a read only replica."
    );
    q::<()>(&mut c, &["MULTI"]);
    assert!(qerr(&mut c, &["SET", "x", "1"]).starts_with("READONLY"));
    assert_eq!(
        qerr(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    let e = qerr(&mut c, &["EVAL", "return redis.call('SET','x','1')", "0"]);
    assert!(
        e.starts_with("READONLY You can't write against a read only replica."),
        "{e}"
    );
    let ro: String = q(
        &mut c,
        &[
            "EVAL_RO",
            "return redis.call('GET', KEYS[1])",
            "1",
            "pre:s5",
        ],
    );
    assert_eq!(ro, "value-5");
    assert_eq!(q::<i64>(&mut c, &["FCALL_RO", "peek", "1", "counter"]), 7);
    // A function that may write is a write command (also through FCALL_RO).
    for call in ["FCALL", "FCALL_RO"] {
        assert_eq!(
            qerr(&mut c, &[call, "bump", "1", "counter", "1"]),
            "READONLY You can't write against a read only replica."
        );
    }
    let e = qerr(&mut c, &["EVAL", "#!lua\nreturn 1", "0"]);
    assert_eq!(e, "READONLY You can't write against a read only replica.");

    // What the follower says about itself.
    let (info, order) = replication_info(&mut c);
    assert_eq!(info["role"], "slave");
    assert_eq!(info["master_host"], "127.0.0.1");
    assert_eq!(info["master_port"], port.to_string());
    assert_eq!(info["master_link_status"], "up");
    assert_eq!(info["master_sync_in_progress"], "0");
    assert_eq!(info["slave_read_only"], "1");
    let (minfo, _) = replication_info(&mut m);
    assert_eq!(info["master_replid"], minfo["master_replid"]);
    assert_eq!(
        order,
        [
            "role",
            "master_host",
            "master_port",
            "master_link_status",
            "master_last_io_seconds_ago",
            "master_sync_in_progress",
            "slave_read_repl_offset",
            "slave_repl_offset",
            "slave_priority",
            "slave_read_only",
            "replica_announced",
            "connected_slaves",
            "master_failover_state",
            "master_replid",
            "master_replid2",
            "master_repl_offset",
            "second_repl_offset",
            "repl_backlog_active",
            "repl_backlog_size",
            "repl_backlog_first_byte_offset",
            "repl_backlog_histlen",
        ]
    );
    let role: Vec<Value> = q(&mut c, &["ROLE"]);
    assert_eq!(role.len(), 5);
    assert_eq!(role[0], Value::BulkString(b"slave".to_vec()));
    assert_eq!(role[1], Value::BulkString(b"127.0.0.1".to_vec()));
    assert_eq!(role[2], Value::Int(port as i64));
    assert_eq!(role[3], Value::BulkString(b"connected".to_vec()));
    assert!(matches!(role[4], Value::Int(o) if o > 0));
    let hello: HashMap<String, Value> = q(&mut c, &["HELLO", "2"]);
    assert_eq!(hello["role"], Value::BulkString(b"replica".to_vec()));
    // The master sees us, and our ACKs.
    let minfo: String = q(&mut m, &["INFO", "replication"]);
    assert!(minfo.contains("connected_slaves:1"), "{minfo}");
    q::<()>(&mut m, &["SET", "acked", "1"]);
    assert_eq!(q::<i64>(&mut m, &["WAIT", "1", "2000"]), 1);

    // The master drops the link: the follower continues where it was (+CONTINUE).
    assert_eq!(q::<i64>(&mut m, &["CLIENT", "KILL", "TYPE", "replica"]), 1);
    q::<()>(&mut m, &["SET", "during-drop", "1"]);
    assert_converges(&mut m, &mut c);
    assert_eq!(partial_syncs(&mut m), 1);

    // The master dies: the link goes down; it comes back with its AOF: the link comes back.
    kill9(master.pid());
    wait_until("the link is down", || {
        field(&mut c, "master_link_status") == "down"
    });
    let (down, order) = replication_info(&mut c);
    assert!(order.contains(&"master_link_down_since_seconds".to_string()));
    assert_eq!(down["master_last_io_seconds_ago"], "-1");
    let role: Vec<Value> = q(&mut c, &["ROLE"]);
    assert_eq!(role[4], Value::Int(-1));
    // Still a replica meanwhile: reads are served (replica-serve-stale-data yes).
    assert_eq!(q::<String>(&mut c, &["GET", "pre:s10"]), "value-10");
    let restarted = Fixed::start(port, &dir, &["--appendonly", "yes"]);
    let mut m = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    q::<()>(&mut m, &["SET", "after-restart", "yes"]);
    q::<i64>(&mut m, &["RPUSH", "pre:list", "tail"]);
    assert_converges(&mut m, &mut c);

    // Promotion: writable, a history of its own (the master's is the second id).
    let old_replid = field(&mut c, "master_replid");
    let offset: u64 = field(&mut c, "master_repl_offset").parse().unwrap();
    assert_eq!(q::<String>(&mut c, &["REPLICAOF", "NO", "ONE"]), "OK");
    q::<()>(&mut c, &["SET", "mine", "1"]);
    let (info, _) = replication_info(&mut c);
    assert_eq!(info["role"], "master");
    assert_eq!(info["master_replid2"], old_replid);
    assert_ne!(info["master_replid"], old_replid);
    assert_eq!(info["second_repl_offset"], (offset + 1).to_string());
    let role: Vec<Value> = q(&mut c, &["ROLE"]);
    assert_eq!(role[0], Value::BulkString(b"master".to_vec()));
    // The master's later writes no longer arrive.
    q::<()>(&mut m, &["SET", "after-promotion", "1"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        q::<Option<String>>(&mut c, &["GET", "after-promotion"]),
        None
    );
    drop(restarted);
}

#[test]
fn two_shard_follower_from_the_config_with_auth_and_a_sized_payload() {
    let dir = Dir::new("shards");
    // A disk-based master sends `$<len>` payloads.
    let master = redis_master(
        &dir,
        &["--repl-diskless-sync", "no", "--requirepass", "secret"],
    );
    let mut m = redis::Client::open(format!("redis://:secret@127.0.0.1:{}/", master.port))
        .unwrap()
        .get_connection()
        .unwrap();
    populate(&mut m, "two");
    let a = key_on(0, 2, "spread:a");
    let b = key_on(1, 2, "spread:b");
    q::<()>(&mut m, &["MSET", &a, "on-0", &b, "on-1"]);
    for i in 0..200 {
        q::<()>(&mut m, &["SET", &format!("many:{i}"), &i.to_string()]);
    }

    let port = master.port.to_string();
    let f = follower(
        2,
        &["--replicaof", "127.0.0.1", &port, "--masterauth", "secret"],
    );
    let mut c = f.client();
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "replicaof"]),
        ["replicaof", &format!("127.0.0.1 {port}")]
    );
    assert_converges(&mut m, &mut c);
    assert_eq!(q::<String>(&mut c, &["GET", &a]), "on-0");
    assert_eq!(q::<String>(&mut c, &["GET", &b]), "on-1");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), q::<i64>(&mut m, &["DBSIZE"]));

    // Commands whose keys live on both shards.
    let c1 = key_on(0, 2, "cross:c");
    let c2 = key_on(1, 2, "cross:d");
    let s1 = key_on(0, 2, "cross:s");
    let s2 = key_on(1, 2, "cross:t");
    let l2 = key_on(1, 2, "cross:l");
    let writes: &[&[&str]] = &[
        &["MSET", &c1, "1", &c2, "2"],
        &["DEL", &a, &b],
        &["SADD", &s1, "x", "y"],
        &["SADD", &s2, "y", "z"],
        &["SUNIONSTORE", &c1, &s1, &s2],
        &["RENAME", &s1, &c2],
        &["LMOVE", "two:list", &l2, "LEFT", "RIGHT"],
    ];
    for w in writes {
        q::<Value>(&mut m, w);
    }
    assert_converges(&mut m, &mut c);
}

#[test]
fn replicaof_replies_and_the_replicas_rules_without_a_master() {
    let f = follower(1, &[]);
    let mut c = f.client();
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        qerr(&mut c, &["REPLICAOF", "127.0.0.1", "x"]),
        "ERR Invalid master port"
    );
    assert_eq!(
        qerr(&mut c, &["REPLICAOF", "127.0.0.1", "+5"]),
        "ERR Invalid master port"
    );
    assert_eq!(
        qerr(&mut c, &["SLAVEOF", "127.0.0.1", "70000"]),
        "ERR Invalid master port"
    );
    assert_eq!(
        qerr(&mut c, &["REPLICAOF", "127.0.0.1"]),
        "ERR wrong number of arguments for 'replicaof' command"
    );
    let before = field(&mut c, "master_replid");
    // A master is a master already.
    assert_eq!(q::<String>(&mut c, &["REPLICAOF", "NO", "ONE"]), "OK");
    assert_eq!(field(&mut c, "master_replid"), before);
    // Nobody listens there: the link stays down.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    assert_eq!(
        q::<String>(&mut c, &["SLAVEOF", "localhost", &port.to_string()]),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut c, &["REPLICAOF", "LOCALHOST", &port.to_string()]),
        "OK Already connected to specified master"
    );
    let (info, order) = replication_info(&mut c);
    assert_eq!(info["role"], "slave");
    assert_eq!(info["master_host"], "localhost");
    assert_eq!(info["master_link_status"], "down");
    assert_eq!(info["master_link_down_since_seconds"], "-1");
    assert_eq!(info["master_last_io_seconds_ago"], "-1");
    assert_eq!(info["slave_repl_offset"], "0");
    assert_eq!(
        order[order.iter().position(|f| f == "slave_repl_offset").unwrap() + 1],
        "master_link_down_since_seconds"
    );
    let role: Vec<Value> = q(&mut c, &["ROLE"]);
    assert_eq!(role[0], Value::BulkString(b"slave".to_vec()));
    assert!(matches!(&role[3], Value::BulkString(s) if s == b"connect" || s == b"connecting"));
    assert_eq!(role[4], Value::Int(-1));
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "replicaof"]),
        ["replicaof", &format!("localhost {port}")]
    );
    assert!(
        qerr(&mut c, &["CONFIG", "SET", "replicaof", "a 1"]).contains("can't set immutable config")
    );

    // Read-only by default; stale data served by default.
    assert!(qerr(&mut c, &["DEL", "k"]).starts_with("READONLY"));
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    q::<()>(&mut c, &["CONFIG", "SET", "replica-read-only", "no"]);
    q::<()>(&mut c, &["SET", "k", "w"]);
    assert_eq!(field(&mut c, "slave_read_only"), "0");
    q::<()>(&mut c, &["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    assert_eq!(
        qerr(&mut c, &["GET", "k"]),
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    );
    // Commands flagged `stale` still run; scripts only when they allow it.
    assert_eq!(field(&mut c, "role"), "slave");
    assert!(qerr(&mut c, &["PING"]).starts_with("MASTERDOWN"));
    for script in ["return 1", "#!lua flags=no-writes\nreturn 1"] {
        assert!(qerr(&mut c, &["EVAL", script, "0"]).starts_with("MASTERDOWN"));
    }
    let stale_ok = "#!lua flags=no-writes,allow-stale\nreturn 1";
    assert_eq!(q::<i64>(&mut c, &["EVAL", stale_ok, "0"]), 1);
    let e = qerr(
        &mut c,
        &[
            "EVAL",
            "#!lua flags=no-writes,allow-stale\nreturn redis.call('get','k')",
            "0",
        ],
    );
    assert!(
        e.starts_with("ERR Can not execute the command on a stale replica"),
        "{e}"
    );
    q::<()>(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "replica-serve-stale-data",
            "yes",
            "replica-read-only",
            "yes",
        ],
    );

    // Promotion.
    let old = field(&mut c, "master_replid");
    assert_eq!(q::<String>(&mut c, &["REPLICAOF", "NO", "ONE"]), "OK");
    let (info, _) = replication_info(&mut c);
    assert_eq!(info["role"], "master");
    assert_eq!(info["master_replid2"], old);
    assert_eq!(info["second_repl_offset"], "1");
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "replicaof"]),
        ["replicaof", ""]
    );
    q::<()>(&mut c, &["SET", "k", "x"]);
    let role: Vec<Value> = q(&mut c, &["ROLE"]);
    assert_eq!(
        role,
        [
            Value::BulkString(b"master".to_vec()),
            Value::Int(0),
            Value::Array(vec![])
        ]
    );
    let hello: HashMap<String, Value> = q(&mut c, &["HELLO", "2"]);
    assert_eq!(hello["role"], Value::BulkString(b"master".to_vec()));
}

#[test]
fn a_replica_keeps_expired_keys_until_the_master_deletes_them() {
    let dir = Dir::new("expiry");
    let master = redis_master(&dir, &[]);
    let mut m = master.client();
    // The master expires keys only when they are read.
    q::<()>(&mut m, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let f = follower(1, &[]);
    let mut c = f.client();
    q::<String>(
        &mut c,
        &["REPLICAOF", "127.0.0.1", &master.port.to_string()],
    );
    q::<()>(&mut m, &["SET", "short", "v", "PX", "300"]);
    q::<()>(&mut m, &["SET", "long", "v"]);
    wait_synced(&mut m, &mut c);
    assert_eq!(q::<String>(&mut c, &["GET", "short"]), "v");
    std::thread::sleep(Duration::from_millis(400));
    // Its time passed: clients do not see it, but it stays for the master's DEL.
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "short"]), None);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "short"]), 0);
    assert_eq!(q::<i64>(&mut c, &["TTL", "short"]), -2);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 2);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        q::<i64>(&mut c, &["DBSIZE"]),
        2,
        "no active expiry on a replica"
    );
    // The master finds it expired and sends its DEL.
    assert_eq!(q::<Option<String>>(&mut m, &["GET", "short"]), None);
    wait_until("the master's DEL arrives", || {
        q::<i64>(&mut c, &["DBSIZE"]) == 1
    });
    // Promoted, the replica expires keys itself again.
    q::<()>(&mut m, &["SET", "short2", "v", "PX", "100"]);
    wait_synced(&mut m, &mut c);
    q::<String>(&mut c, &["REPLICAOF", "NO", "ONE"]);
    wait_until("the active expiry removes it", || {
        q::<i64>(&mut c, &["DBSIZE"]) == 1
    });
}

#[test]
fn the_aof_of_a_follower_holds_the_synchronized_data() {
    let mdir = Dir::new("aof-master");
    let fdir = Dir::new("aof-follower");
    let master = redis_master(&mdir, &[]);
    let mut m = master.client();
    populate(&mut m, "aof");
    let port = master.port.to_string();
    let aof_args = ["--appendonly", "yes", "--dir", fdir.path()];
    let f = follower(2, &aof_args);
    let mut c = f.client();
    q::<String>(&mut c, &["REPLICAOF", "127.0.0.1", &port]);
    assert_converges(&mut m, &mut c);
    // The full synchronization's data set goes into the AOF by a rewrite.
    wait_until("the rewrite after the sync ends", || {
        let text: String = q(&mut c, &["INFO", "persistence"]);
        text.contains("aof_rewrite_in_progress:0") && !text.contains("aof_rewrites:0\r")
    });
    q::<()>(&mut m, &["SET", "streamed", "1"]);
    q::<i64>(&mut m, &["HSET", "aof:hash", "f9", "9"]);
    assert_converges(&mut m, &mut c);
    let expected = common::contents(&mut m);
    kill9(f.pid());
    drop(f);
    // Back up from its AOF alone (no master).
    let f = follower(2, &aof_args);
    let mut c = f.client();
    assert_eq!(common::contents(&mut c), expected);
}

#[test]
fn a_silent_master_times_out_and_the_stream_continues() {
    let dir = Dir::new("silent");
    // The master PINGs its replicas every second, well within their timeout of two.
    let master = redis_master(&dir, &["--repl-ping-replica-period", "1"]);
    let mut m = master.client();
    q::<()>(&mut m, &["SET", "before", "1"]);
    let f = follower(1, &["--repl-timeout", "2"]);
    let mut c = f.client();
    q::<String>(
        &mut c,
        &["REPLICAOF", "127.0.0.1", &master.port.to_string()],
    );
    assert_converges(&mut m, &mut c);
    // A master that sends nothing (not even its PINGs) for repl-timeout is given up on.
    let pid = master.pid().to_string();
    Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    let stopped = Instant::now();
    wait_until("the link times out", || {
        field(&mut c, "master_link_status") == "down"
    });
    assert!(stopped.elapsed() >= Duration::from_millis(900));
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    q::<()>(&mut m, &["SET", "after", "2"]);
    assert_converges(&mut m, &mut c);
    assert_eq!(
        partial_syncs(&mut m),
        1,
        "continued, not synchronized again"
    );
}
