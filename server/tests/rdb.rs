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
