//! The RDB codec against a real Redis (Debian's redis-server 7.0.15; the tests print
//! SKIPPED and pass when `redis-server` is not on PATH):
//!
//! 1. Redis filled with every type in every encoding (its encoding thresholds lowered,
//!    compressed quicklist nodes, a PLAIN node, LZF strings, streams with tombstones,
//!    groups, pending entries and consumers, functions, TTLs, three databases) saves its
//!    `dump.rdb`; Shardis reads it, and every key holds what Redis reports.
//! 2. Shardis writes a `dump.rdb` of the same dataset; Redis starts on it and reports what
//!    Shardis holds (and `redis-check-rdb`, when installed, finds the file OK).

mod common;

use common::*;
use redis::Value;
use shard::Shard;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}

/// A redis-server of this test, killed (by its own handle) on drop.
struct Redis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Redis {
    /// Starts redis-server in `dir` on `dbfilename` (loaded if it exists), configured with
    /// the test's encoding limits.
    fn start(dir: &Path, dbfilename: &str) -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--enable-debug-command", "yes", "--logfile", "redis.log"])
            .arg("--dir")
            .arg(dir)
            .args(["--dbfilename", dbfilename])
            .args(
                REDIS_CONFIG
                    .iter()
                    .flat_map(|(k, v)| [format!("--{k}"), v.to_string()]),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let mut r = Redis {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = r.try_connect() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return r;
                }
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("redis-server exited ({status}): {}", r.log());
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn try_connect(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?.get_connection()
    }

    fn connect(&self) -> redis::Connection {
        self.try_connect().expect("a connection")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory of this test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shardis-rdb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn query(con: &mut redis::Connection, args: &[Vec<u8>]) -> Value {
    let mut cmd = redis::cmd(std::str::from_utf8(&args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(&a[..]);
    }
    cmd.query(con).unwrap_or_else(|e| {
        panic!(
            "{:?}: {e}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        )
    })
}

/// Every database of Redis and of `shard` holds the same keys with the same contents.
fn assert_same_data(shard: &mut Shard, con: &mut redis::Connection) {
    let mut compared = 0;
    for db in 0..16 {
        let _: () = redis::cmd("SELECT").arg(db).query(con).unwrap();
        let mut names: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(con).unwrap();
        names.sort();
        assert_eq!(names, keys(shard, db), "keys of db {db}");
        let mut theirs = Vec::new();
        for key in &names {
            let kind: String = redis::cmd("TYPE").arg(&key[..]).query(con).unwrap();
            for (probe, args) in probes(key, &kind) {
                theirs.push((key.clone(), canonical(probe, &query(con, &args))));
            }
        }
        let ours = describe(shard, db);
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "db {db}, key {}", String::from_utf8_lossy(&a.0));
        }
        assert_eq!(ours.len(), theirs.len());
        compared += names.len();
    }
    assert!(compared >= 40, "the dataset is there ({compared} keys)");
}

/// Whether a reply holds the bulk string `b` somewhere.
fn holds(v: &Value, b: &[u8]) -> bool {
    match v {
        Value::BulkString(s) => s == b,
        Value::Array(items) => items.iter().any(|i| holds(i, b)),
        _ => false,
    }
}

fn words(text: &str) -> Vec<Vec<u8>> {
    text.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

/// Redis writes a `dump.rdb` of every encoding it has; Shardis reads every key as Redis
/// holds it.
#[test]
fn shardis_reads_what_redis_saves() {
    if !on_path("redis-server") {
        println!("SKIPPED: redis-server is not on PATH");
        return;
    }
    let dir = temp_dir("from-redis");
    let redis = Redis::start(&dir, "dump.rdb");
    let mut con = redis.connect();
    // Compressed quicklist nodes (all but the head and tail), and elements of 1000 bytes
    // or more in PLAIN nodes of their own.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("list-compress-depth")
        .arg("1")
        .query(&mut con)
        .unwrap();
    let _: Value = query(&mut con, &words("DEBUG QUICKLIST-PACKED-THRESHOLD 1000"));
    for f in FUNCTIONS {
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg(*f)
            .query(&mut con)
            .unwrap();
    }
    let mut db = 0;
    for (want_db, args) in dataset() {
        if want_db != db {
            let _: () = redis::cmd("SELECT").arg(want_db).query(&mut con).unwrap();
            db = want_db;
        }
        query(&mut con, &args);
    }
    // The encodings under test are really the ones Redis saves.
    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    for (key, enc) in [
        ("sint", "intset"),
        ("sbig", "hashtable"),
        ("zsmall", "listpack"),
        ("zbig", "skiplist"),
        ("hsmall", "listpack"),
        ("hbig", "hashtable"),
        ("lbig", "quicklist"),
    ] {
        let got: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(key)
            .query(&mut con)
            .unwrap();
        assert_eq!(got, enc, "{key} in Redis");
    }
    let _: String = redis::cmd("SAVE").query(&mut con).unwrap();
    let file = std::fs::read(dir.join("dump.rdb")).unwrap();

    let mut loaded = load(&file, limits()).unwrap_or_else(|e| panic!("reading Redis' file: {e}"));
    let mut codes: Vec<&[u8]> = FUNCTIONS.iter().map(|f| f.as_bytes()).collect();
    codes.sort();
    loaded.functions.sort();
    assert_eq!(
        loaded.functions, codes,
        "Redis saves its libraries in its own order"
    );
    assert!(loaded
        .aux
        .iter()
        .any(|(k, v)| k == b"redis-ver" && v == b"7.0.15"));
    assert_same_data(&mut loaded.shard, &mut con);
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Shardis writes a `dump.rdb` of the dataset; Redis 7.0 loads it and holds what Shardis
/// holds.
#[test]
fn redis_loads_what_shardis_writes() {
    if !on_path("redis-server") {
        println!("SKIPPED: redis-server is not on PATH");
        return;
    }
    let dir = temp_dir("from-shardis");
    let mut shard = dataset_shard();
    let file = dump(&shard, FUNCTIONS);
    std::fs::write(dir.join("x.rdb"), &file).unwrap();
    if on_path("redis-check-rdb") {
        let out = Command::new("redis-check-rdb")
            .arg(dir.join("x.rdb"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("RDB looks OK"), "redis-check-rdb: {text}");
    }
    let redis = Redis::start(&dir, "x.rdb");
    assert!(redis.log().contains("Done loading RDB"), "{}", redis.log());
    let mut con = redis.connect();
    let libs: Value = query(&mut con, &words("FUNCTION LIST WITHCODE"));
    for f in FUNCTIONS {
        assert!(holds(&libs, f.as_bytes()), "{f} loaded");
    }
    assert_same_data(&mut shard, &mut con);
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}
