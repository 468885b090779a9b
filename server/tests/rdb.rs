//! RDB files: SAVE, BGSAVE, LASTSAVE, `save` points and SHUTDOWN SAVE write `dump.rdb`
//! without fork; a real redis-server loads it, and Shardis loads it at start-up.

mod common;

use common::{contents, eventually, info_field, q, write_everything, Server};
use std::path::{Path, PathBuf};

/// A fresh data directory for one test.
fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shardis-rdb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(dir: &Path, shards: usize, extra: &[&str]) -> Server {
    let mut args = vec![
        "--dir",
        dir.to_str().unwrap(),
        "--enable-debug-command",
        "yes",
    ];
    args.extend_from_slice(extra);
    Server::start(shards, &args)
}

/// Debian's redis-server on `dir`'s dump.rdb.
fn redis_on(dir: &Path) -> Server {
    common::start_redis(&["--dir", dir.to_str().unwrap()])
}

#[test]
fn bgsave_writes_a_file_redis_loads_and_shardis_reloads() {
    let dir = data_dir("bgsave");
    let server = start(&dir, 2, &[]);
    write_everything(&server, 2);
    let mut c = server.client();
    let before: i64 = q(&mut c, &["LASTSAVE"]);
    assert_eq!(
        info_field(&mut c, "rdb_changes_since_last_save").map(|v| v != "0"),
        Some(true)
    );
    let reply: String = q(&mut c, &["BGSAVE"]);
    assert_eq!(reply, "Background saving started");
    assert!(eventually(20, || info_field(&mut c, "rdb_saves")
        .as_deref()
        == Some("1")));
    assert_eq!(
        info_field(&mut c, "rdb_bgsave_in_progress").as_deref(),
        Some("0")
    );
    assert_eq!(
        info_field(&mut c, "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
    assert_eq!(
        info_field(&mut c, "rdb_changes_since_last_save").as_deref(),
        Some("0")
    );
    assert!(q::<i64>(&mut c, &["LASTSAVE"]) >= before);
    let ours = contents(&mut c);
    assert!(dir.join("dump.rdb").exists());
    let reference = redis_on(&dir);
    assert_eq!(contents(&mut reference.client()), ours);
    drop(reference);
    // Shardis loads it at start-up (with another shard count too).
    drop(server);
    let again = start(&dir, 3, &[]);
    assert_eq!(contents(&mut again.client()), ours);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_points_and_shutdown_save() {
    let dir = data_dir("points");
    let server = start(&dir, 2, &[]);
    let mut c = server.client();
    q::<()>(&mut c, &["CONFIG", "SET", "save", "1 2"]);
    let points: Vec<String> = q(&mut c, &["CONFIG", "GET", "save"]);
    assert_eq!(points, ["save", "1 2"]);
    q::<()>(&mut c, &["SET", "a", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // One change is not enough for the point.
    assert!(!dir.join("dump.rdb").exists());
    q::<()>(&mut c, &["SET", "b", "2"]);
    assert!(eventually(10, || dir.join("dump.rdb").exists()));
    // SAVE answers once the file is in place; SHUTDOWN saves when points are set.
    q::<()>(&mut c, &["SET", "c", "3"]);
    q::<()>(&mut c, &["SAVE"]);
    q::<()>(&mut c, &["SET", "d", "4"]);
    let _ = redis::cmd("SHUTDOWN").query::<()>(&mut c);
    let mut server = server;
    assert!(eventually(10, || !server.is_running()));
    let again = start(&dir, 2, &[]);
    let mut c = again.client();
    let got: Vec<Option<String>> = q(&mut c, &["MGET", "a", "b", "c", "d"]);
    assert_eq!(
        got,
        [
            Some("1".into()),
            Some("2".into()),
            Some("3".into()),
            Some("4".into())
        ]
    );
    let e = common::qerr(&mut c, &["CONFIG", "SET", "save", "10"]);
    assert!(e.contains("Invalid save parameters"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shardis_loads_what_redis_saves() {
    let dir = data_dir("fromredis");
    let reference = redis_on(&dir);
    let mut r = reference.client();
    q::<i64>(&mut r, &["RPUSH", "list", "a", "b", "c"]);
    q::<i64>(&mut r, &["HSET", "hash", "f", "v", "g", "w"]);
    q::<i64>(&mut r, &["ZADD", "zset", "1", "a", "2.5", "b"]);
    q::<i64>(&mut r, &["SADD", "set", "1", "2", "3"]);
    q::<()>(&mut r, &["SET", "str", "v", "EX", "1000"]);
    q::<String>(&mut r, &["XADD", "stream", "1-1", "f", "v"]);
    q::<()>(&mut r, &["SAVE"]);
    let theirs = contents(&mut r);
    drop(reference);
    let ours = start(&dir, 2, &[]);
    assert_eq!(contents(&mut ours.client()), theirs);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn debug_reload_saves_and_loads_back() {
    let dir = data_dir("reload");
    let server = start(&dir, 2, &[]);
    write_everything(&server, 2);
    let mut c = server.client();
    let before = contents(&mut c);
    q::<()>(&mut c, &["DEBUG", "RELOAD"]);
    assert_eq!(contents(&mut c), before);
    assert_eq!(q::<i64>(&mut c, &["FCALL", "bump", "1", "bumped"]), 10);
    // NOSAVE: back to what the file holds.
    q::<()>(&mut c, &["SET", "later", "1"]);
    q::<()>(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]);
    assert_eq!(common::get(&mut c, "later"), None);
    let e = common::qerr(&mut c, &["DEBUG", "RELOAD", "NOPE"]);
    assert!(e.contains("syntax error"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `key`'s DUMP payload from a scratch connection (RESTORE needs one to set access data).
fn dump_of(c: &mut redis::Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP").arg(key).query(c).unwrap()
}

/// RESTORE `key` with its access data set by `option` (`IDLETIME n` / `FREQ n`).
fn restore_with(c: &mut redis::Connection, key: &str, payload: &[u8], option: &[&str]) {
    let _: () = redis::cmd("RESTORE")
        .arg(key)
        .arg(0)
        .arg(payload)
        .arg("REPLACE")
        .arg(option)
        .query(c)
        .unwrap();
}

#[test]
fn files_carry_idle_times_under_lru_and_counters_under_lfu() {
    // Shardis -> Shardis and Shardis -> Redis, under an LFU policy: FREQ.
    let dir = data_dir("lfu");
    let lfu = ["--maxmemory-policy", "allkeys-lfu"];
    let server = start(&dir, 2, &lfu);
    let mut c = server.client();
    q::<()>(&mut c, &["SET", "k", "v"]);
    let payload = dump_of(&mut c, "k");
    restore_with(&mut c, "k", &payload, &["FREQ", "77"]);
    q::<()>(&mut c, &["SAVE"]);
    drop(server);
    let again = start(&dir, 3, &lfu);
    let freq: i64 = q(&mut again.client(), &["OBJECT", "FREQ", "k"]);
    assert!((76..=77).contains(&freq), "{freq}");
    drop(again);
    let reference = common::start_redis(&[
        "--dir",
        dir.to_str().unwrap(),
        "--maxmemory-policy",
        "allkeys-lfu",
    ]);
    let freq: i64 = q(&mut reference.client(), &["OBJECT", "FREQ", "k"]);
    assert!((76..=77).contains(&freq), "redis read {freq}");
    drop(reference);
    let _ = std::fs::remove_dir_all(&dir);

    // Redis -> Shardis under an LRU policy: IDLE.
    let dir = data_dir("lru");
    let lru = ["--maxmemory-policy", "allkeys-lru"];
    let reference = common::start_redis(&[
        "--dir",
        dir.to_str().unwrap(),
        "--maxmemory-policy",
        "allkeys-lru",
    ]);
    let mut r = reference.client();
    q::<()>(&mut r, &["SET", "k", "v"]);
    let payload = dump_of(&mut r, "k");
    restore_with(&mut r, "k", &payload, &["IDLETIME", "5000"]);
    q::<()>(&mut r, &["SAVE"]);
    drop(reference);
    let ours = start(&dir, 2, &lru);
    let mut c = ours.client();
    let idle: i64 = q(&mut c, &["OBJECT", "IDLETIME", "k"]);
    assert!((5000..5100).contains(&idle), "{idle}");
    // ... and writes it back out: a restart keeps it.
    q::<()>(&mut c, &["SAVE"]);
    drop(ours);
    let again = start(&dir, 1, &lru);
    let idle: i64 = q(&mut again.client(), &["OBJECT", "IDLETIME", "k"]);
    assert!((5000..5100).contains(&idle), "{idle}");
    // Without an LRU/LFU policy nothing is recorded: a load starts the key fresh.
    q::<()>(
        &mut again.client(),
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    );
    q::<()>(&mut again.client(), &["SAVE"]);
    drop(again);
    let fresh = start(&dir, 1, &lru);
    let idle: i64 = q(&mut fresh.client(), &["OBJECT", "IDLETIME", "k"]);
    assert!(idle < 100, "{idle}");
    let _ = std::fs::remove_dir_all(&dir);
}
