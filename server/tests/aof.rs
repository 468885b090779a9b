//! The append-only file: what a client was told succeeded survives the process being
//! killed, the files hold effects (never scripts or random commands), the layout is Redis
//! 7's (a real redis-server loads it), and bad files are handled as Redis does.

mod common;

use common::{key_on, q, qerr, write_everything, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A fresh data directory for one test.
fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shardis-aof-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn start(dir: &Path, shards: usize, extra: &[&str]) -> Server {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "--appendonly",
        "yes",
        "--dir",
        d,
        "--enable-debug-command",
        "yes",
    ];
    args.extend_from_slice(extra);
    Server::start(shards, &args)
}

/// Kills the server the hard way: nothing gets flushed on the way out.
fn kill(server: Server) {
    let pid = server.pid();
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    drop(server);
}

/// Everything a client can see of the data set, streams' consumer times aside (a replay
/// sets them to its own time, as Redis' does): every key's type, value digest and TTL in
/// every database, and each stream's groups and pending entries.
fn snapshot(c: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for db in 0..16 {
        q::<String>(c, &["SELECT", &db.to_string()]);
        let mut keys: Vec<String> = q(c, &["KEYS", "*"]);
        keys.sort();
        // One round trip for every key's type, expiry and digest.
        let mut pipe = redis::pipe();
        for k in &keys {
            pipe.cmd("TYPE").arg(k).cmd("PEXPIRETIME").arg(k);
            pipe.cmd("DEBUG").arg("DIGEST-VALUE").arg(k);
        }
        let facts: Vec<(String, i64, Vec<String>)> = if keys.is_empty() {
            Vec::new()
        } else {
            let flat: Vec<redis::Value> = pipe.query(c).unwrap();
            flat.chunks(3)
                .map(|f| {
                    (
                        redis::from_redis_value(&f[0]).unwrap(),
                        redis::from_redis_value(&f[1]).unwrap(),
                        redis::from_redis_value(&f[2]).unwrap(),
                    )
                })
                .collect()
        };
        for (k, (t, pttl, digest)) in keys.iter().zip(facts) {
            let mut line = format!("{db} {k} {t} {pttl}");
            if t == "stream" {
                // Idle times move on; who owns what and how often it was delivered does not.
                let pending: Vec<(String, String, i64, i64)> =
                    q(c, &["XPENDING", k, "g", "-", "+", "100"]);
                let pending: Vec<(String, String, i64)> = pending
                    .into_iter()
                    .map(|(id, c, _, n)| (id, c, n))
                    .collect();
                let info: redis::Value = q(c, &["XINFO", "GROUPS", k]);
                let len: i64 = q(c, &["XLEN", k]);
                line.push_str(&format!(" len={len} groups={info:?} pending={pending:?}"));
            } else {
                line.push(' ');
                line.push_str(&digest.concat());
            }
            out.push(line);
        }
    }
    q::<String>(c, &["SELECT", "0"]);
    out
}

/// Debian's redis-server with the AOF on, in `dir` (the directory Shardis wrote).
fn reference_redis_on(redis: &Path, dir: &Path) -> Server {
    let d = dir.to_str().unwrap();
    let args =
        "--bind 127.0.0.1 --save '' --appendonly yes --daemonize no --enable-debug-command yes";
    let mut args: Vec<&str> = args
        .split(' ')
        .map(|a| if a == "''" { "" } else { a })
        .collect();
    args.extend(["--dir", d]);
    Server::start_program(redis, &args)
}

/// The commands of an AOF text, arguments joined by spaces, SELECTs left out.
fn decode(text: &str) -> Vec<String> {
    let mut lines = text.split("\r\n");
    let mut out = Vec::new();
    while let Some(head) = lines.next() {
        let Some(n) = head.strip_prefix('*') else {
            continue;
        };
        let args: Vec<&str> = (0..n.parse::<usize>().unwrap())
            .map(|_| {
                lines.next();
                lines.next().unwrap()
            })
            .collect();
        if args[0] != "SELECT" {
            out.push(args.join(" "));
        }
    }
    out
}

/// Kills `server`, starts one with `shards` shards on `dir` and asserts it holds what the
/// killed one held; returns it and that snapshot.
fn kill_and_reload(server: Server, dir: &Path, shards: usize) -> (Server, Vec<String>) {
    let before = snapshot(&mut server.client());
    kill(server);
    let server = start(dir, shards, &[]);
    assert_eq!(
        snapshot(&mut server.client()),
        before,
        "reloaded with {shards} shard(s)"
    );
    (server, before)
}

/// All the AOF files' bytes, in manifest order.
fn aof_text(dir: &Path) -> String {
    let d = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(d.join("appendonly.aof.manifest")).unwrap();
    let mut text = String::new();
    for line in manifest.lines() {
        let name = line.split(' ').nth(1).unwrap();
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(d.join(name)).unwrap(),
        ));
    }
    text
}

#[test]
fn every_write_survives_a_kill() {
    for policy in ["always", "everysec"] {
        let dir = data_dir(&format!("kill-{policy}"));
        let server = start(&dir, 2, &["--appendfsync", policy]);
        write_everything(&server, 2);
        let (server, before) = kill_and_reload(server, &dir, 2);
        assert!(before.len() > 25, "appendfsync {policy}: {before:?}");
        let mut c = server.client();
        assert_eq!(q::<i64>(&mut c, &["FCALL", "bump", "1", "bumped"]), 10);
        // And again: the second start replays the first start's files plus its own.
        q::<()>(&mut c, &["SET", "second-life", "1"]);
        kill_and_reload(server, &dir, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_files_hold_effects_not_requests() {
    let dir = data_dir("effects");
    let server = start(&dir, 2, &[]);
    write_everything(&server, 2);
    drop(server);
    let text = aof_text(&dir);
    for request in [
        "EVAL",
        "FCALL",
        "SPOP",
        "BLPOP",
        "XREADGROUP",
        "INCRBYFLOAT",
        "HINCRBYFLOAT",
        "SETEX",
        "\r\nEXPIRE\r\n",
        "\r\nEX\r\n",
        "*\r\n",
    ] {
        assert!(
            !text.to_uppercase().contains(request),
            "the AOF holds {request:?}:\n{text}"
        );
    }
    for effect in [
        "SREM",
        "PXAT",
        "PEXPIREAT",
        "KEEPTTL",
        "XCLAIM",
        "LPOP",
        "FUNCTION",
    ] {
        assert!(text.contains(effect), "no {effect} in the AOF:\n{text}");
    }
    // Scripts and transactions replay all or nothing on each shard: a script's effects
    // (its first run, on the script thread, under every database's lock), a cross-shard
    // transaction's part on each shard.
    let commands = decode(&text);
    let (a, b) = (key_on(0, 2, "a"), key_on(1, 2, "b"));
    for window in [
        vec!["MULTI", "SET {t}a x", "INCR {t}n", "EXEC"],
        vec![
            "MULTI",
            &format!("SET {{{a}}}-tx 1"),
            &format!("SET {{{a}}}-tx2 1"),
            "EXEC",
        ],
        vec![
            "MULTI",
            &format!("SET {{{b}}}-tx 2"),
            &format!("SET {{{b}}}-tx2 2"),
            "EXEC",
        ],
    ] {
        let found = commands.windows(window.len()).any(|w| {
            w.iter()
                .zip(&window)
                .all(|(c, want)| c == want || c.starts_with(&format!("{want} ")))
        });
        assert!(found, "{window:?} not in {commands:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_different_number_of_shards_loads_the_same_data() {
    let dir = data_dir("reshard");
    let server = start(&dir, 3, &[]);
    write_everything(&server, 3);
    let before = snapshot(&mut server.client());
    kill(server);
    for shards in [1, 2, 4] {
        let server = start(&dir, shards, &[]);
        assert_eq!(snapshot(&mut server.client()), before, "{shards} shards");
        kill(server);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flushall_orders_every_shards_files() {
    let dir = data_dir("flushall");
    let server = start(&dir, 2, &[]);
    let mut c = server.client();
    let keys: Vec<String> = (0..2).map(|s| key_on(s, 2, "k")).collect();
    for k in &keys {
        q::<()>(&mut c, &["SET", k, "old"]);
    }
    q::<()>(&mut c, &["FLUSHALL"]);
    q::<()>(&mut c, &["SET", &keys[1], "new"]);
    q::<()>(&mut c, &["SELECT", "2"]);
    q::<()>(&mut c, &["SET", &keys[0], "db2"]);
    q::<()>(&mut c, &["FLUSHDB"]);
    q::<()>(&mut c, &["SET", &keys[1], "db2-new"]);
    kill(server);
    let server = start(&dir, 2, &[]);
    let mut c = server.client();
    assert_eq!(common::get(&mut c, &keys[0]), None);
    assert_eq!(common::get(&mut c, &keys[1]).as_deref(), Some("new"));
    q::<()>(&mut c, &["SELECT", "2"]);
    assert_eq!(common::get(&mut c, &keys[0]), None);
    assert_eq!(common::get(&mut c, &keys[1]).as_deref(), Some("db2-new"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ttls_are_absolute_and_loading_expires_nothing_early() {
    let dir = data_dir("ttl");
    let server = start(&dir, 1, &[]);
    let mut c = server.client();
    q::<()>(&mut c, &["SET", "short", "v", "PX", "300"]);
    q::<()>(&mut c, &["SET", "saved", "v", "PX", "300"]);
    q::<i64>(&mut c, &["PERSIST", "saved"]);
    q::<()>(&mut c, &["SET", "long", "v", "EX", "1000"]);
    let long_at: i64 = q(&mut c, &["PEXPIRETIME", "long"]);
    kill(server);
    std::thread::sleep(Duration::from_millis(500));
    let server = start(&dir, 1, &[]);
    let mut c = server.client();
    assert_eq!(common::get(&mut c, "short"), None, "expired while down");
    assert_eq!(common::get(&mut c, "saved").as_deref(), Some("v"));
    assert_eq!(common::ttl(&mut c, "saved"), -1);
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "long"]), long_at);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cut_off_last_command_is_dropped_or_refused() {
    let dir = data_dir("truncated");
    let server = start(&dir, 1, &[]);
    let mut c = server.client();
    q::<()>(&mut c, &["SET", "a", "1"]);
    q::<()>(&mut c, &["SET", "b", "2"]);
    kill(server);
    // A crash in the middle of a write leaves half a command.
    let d = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(d.join("appendonly.aof.manifest")).unwrap();
    let last = manifest
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap().to_string())
        .rfind(|n| std::fs::metadata(d.join(n)).unwrap().len() > 0)
        .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(d.join(&last))
        .unwrap();
    std::io::Write::write_all(&mut f, b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhal").unwrap();
    drop(f);

    // aof-load-truncated no: refuses to start, with a message and exit code 1.
    let out = Command::new(env!("CARGO_BIN_EXE_shardis-server"))
        .args([
            "--port",
            "0",
            "--appendonly",
            "yes",
            "--aof-load-truncated",
            "no",
        ])
        .args(["--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("Unexpected end of file"), "{log}");

    // The default: the half command is cut off, the rest loads.
    let server = start(&dir, 1, &[]);
    let mut c = server.client();
    assert_eq!(common::get(&mut c, "a").as_deref(), Some("1"));
    assert_eq!(common::get(&mut c, "b").as_deref(), Some("2"));
    assert_eq!(common::get(&mut c, "c"), None);
    q::<()>(&mut c, &["SET", "c", "3"]);
    kill(server);
    let server = start(&dir, 1, &[]);
    assert_eq!(common::get(&mut server.client(), "c").as_deref(), Some("3"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_real_redis_loads_the_directory() {
    let Some(redis) = common::redis_server_binary() else {
        panic!("redis-server not found: run scripts/test-setup.sh");
    };
    let dir = data_dir("redis");
    let server = start(&dir, 2, &[]);
    write_everything(&server, 2);
    let ours = snapshot(&mut server.client());
    let our_digest: String = q(&mut server.client(), &["DEBUG", "DIGEST"]);
    kill(server);
    let reference = reference_redis_on(&redis, &dir);
    let mut c = reference.client();
    // Digests are computed as Redis computes them: every key's value digest, and the whole
    // dataset's, are Redis' own.
    assert_eq!(snapshot(&mut c), ours);
    assert_eq!(q::<String>(&mut c, &["DEBUG", "DIGEST"]), our_digest);
    assert_eq!(common::get(&mut c, "float").as_deref(), Some("3.35"));
    let members: Vec<String> = q(&mut c, &["LRANGE", "list", "0", "-1"]);
    assert_eq!(members, ["1", "2", "3", "4"]);
    assert_eq!(q::<i64>(&mut c, &["FCALL", "bump", "1", "bumped"]), 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configuration_and_info() {
    let dir = data_dir("config");
    let server = start(&dir, 2, &[]);
    let mut c = server.client();
    let get =
        |c: &mut redis::Connection, name: &str| -> Vec<String> { q(c, &["CONFIG", "GET", name]) };
    assert_eq!(get(&mut c, "appendonly"), ["appendonly", "yes"]);
    assert_eq!(get(&mut c, "appendfsync"), ["appendfsync", "everysec"]);
    assert_eq!(
        get(&mut c, "appenddirname"),
        ["appenddirname", "appendonlydir"]
    );
    q::<()>(&mut c, &["CONFIG", "SET", "appendfsync", "always"]);
    assert_eq!(get(&mut c, "appendfsync"), ["appendfsync", "always"]);
    q::<()>(&mut c, &["SET", "k", "v"]);
    assert!(qerr(&mut c, &["CONFIG", "SET", "appendfsync", "sometimes"])
        .contains("argument(s) must be one of the following: always, everysec, no"));
    assert!(qerr(&mut c, &["CONFIG", "SET", "appendfilename", "x"]).contains("immutable"));
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("aof_enabled:1"), "{info}");
    assert!(info.contains("aof_last_write_status:ok"), "{info}");
    // Redis 7's field list (no fork here: no copy-on-write to report).
    for field in [
        "aof_rewrites_consecutive_failures:0",
        "aof_last_cow_size:0",
        "rdb_saves:0",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
    let size: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("aof_current_size:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(size > 0);
    drop(server);

    // Switching the AOF on or off needs a restart; BGREWRITEAOF needs it on.
    let off = Server::start(1, &[]);
    let mut c = off.client();
    assert_eq!(get(&mut c, "appendonly"), ["appendonly", "no"]);
    assert!(qerr(&mut c, &["CONFIG", "SET", "appendonly", "yes"]).contains("restart"));
    assert!(qerr(&mut c, &["BGREWRITEAOF"]).contains("appendonly yes"));
    let info: String = q(&mut c, &["INFO", "persistence"]);
    assert!(info.contains("aof_enabled:0"), "{info}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small tmpfs to fill up; None when this machine does not let the test mount one.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(name: &str, size: &str) -> Option<SmallDisk> {
        let dir = data_dir(name);
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk(dir))
    }

    /// Fills what is left of the disk; returns the filler file.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![b'x'; 4096];
        while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_full_disk_refuses_writes_and_loses_nothing() {
    for policy in ["everysec", "always"] {
        let Some(disk) = SmallDisk::mount(&format!("full-{policy}"), "4m") else {
            eprintln!(
                "SKIPPED a_full_disk_refuses_writes_and_loses_nothing: cannot mount a tmpfs here"
            );
            return;
        };
        let server = start(&disk.0, 1, &["--appendfsync", policy]);
        let mut c = server.client();
        q::<()>(&mut c, &["SET", "before", "1"]);
        let filler = disk.fill();
        let big = "v".repeat(64 * 1024);
        if policy == "everysec" {
            // As Redis: the write that failed to reach the file is answered (it waits in
            // memory for the retry), the next ones are refused.
            q::<()>(&mut c, &["SET", "during", &big]);
            let e = qerr(&mut c, &["SET", "refused", "1"]);
            assert!(
                e.starts_with("MISCONF Errors writing to the AOF file: No space left on device"),
                "{e}"
            );
            assert!(qerr(&mut c, &["PING"]).starts_with("MISCONF"));
            let script = qerr(&mut c, &["EVAL", "return redis.call('SET', 'x', '1')", "0"]);
            assert!(
                script.contains("MISCONF Errors writing to the AOF file"),
                "{script}"
            );
            let read: Option<String> =
                q(&mut c, &["EVAL", "return redis.call('GET', 'before')", "0"]);
            assert_eq!(read.as_deref(), Some("1"), "scripts still read");
            assert_eq!(
                common::get(&mut c, "before").as_deref(),
                Some("1"),
                "reads work"
            );
            let info: String = q(&mut c, &["INFO", "persistence"]);
            assert!(info.contains("aof_last_write_status:err"), "{info}");
            std::fs::remove_file(&filler).unwrap();
        } else {
            // `always`: the reply waits until the write is on disk.
            let url = server.url();
            let big2 = big.clone();
            let writer = std::thread::spawn(move || {
                let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
                q::<String>(&mut w, &["SET", "during", &big2])
            });
            std::thread::sleep(Duration::from_millis(500));
            assert!(
                !writer.is_finished(),
                "answered before its write was on disk"
            );
            std::fs::remove_file(&filler).unwrap();
            assert_eq!(writer.join().unwrap(), "OK");
        }
        // The cron retries; writes are accepted again once it worked.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while qerr_or_ok(&mut c, &["SET", "after", "1"]).is_err() {
            assert!(std::time::Instant::now() < deadline, "writes stay refused");
            std::thread::sleep(Duration::from_millis(50));
        }
        kill(server);
        let server = start(&disk.0, 1, &[]);
        let mut c = server.client();
        assert_eq!(common::get(&mut c, "before").as_deref(), Some("1"));
        assert_eq!(
            common::get(&mut c, "during").as_deref(),
            Some(big.as_str()),
            "{policy}"
        );
        assert_eq!(common::get(&mut c, "after").as_deref(), Some("1"));
        assert_eq!(common::get(&mut c, "refused"), None);
        drop(server);
    }
}

fn qerr_or_ok(c: &mut redis::Connection, args: &[&str]) -> Result<(), String> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<()>(c).map_err(|e| e.to_string())
}

/// The bank of the transactions tests, with the AOF on: 50 clients move money between 1000
/// accounts on both shards with MULTI/EXEC and with a script; after a kill the accounts hold
/// exactly what they held, and the total is intact.
#[test]
fn bank_transfers_survive_a_kill() {
    let dir = data_dir("bank");
    let server = start(&dir, 2, &[]);
    common::bank_stress(&server, common::multi_and_script_transfer, false);
    let accounts: Vec<String> = (0..1000).map(|i| format!("acct:{i}")).collect();
    let mut mget = vec!["MGET"];
    mget.extend(accounts.iter().map(String::as_str));
    let before: Vec<i64> = q(&mut server.client(), &mget);
    assert_eq!(before.iter().sum::<i64>(), 100_000);
    kill(server);
    let server = start(&dir, 2, &[]);
    let after: Vec<i64> = q(&mut server.client(), &mget);
    assert_eq!(after, before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A field of INFO persistence.
fn info_field(c: &mut redis::Connection, name: &str) -> String {
    let info: String = q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .trim()
        .to_string()
}

/// Waits until no rewrite runs; returns how many finished so far.
fn rewrites_done(c: &mut redis::Connection) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while info_field(c, "aof_rewrite_in_progress") != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the rewrite never ends"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    info_field(c, "aof_rewrites").parse().unwrap()
}

fn manifest_files(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    text.lines().map(str::to_string).collect()
}

/// Enough keys that a rewrite takes many steps, written while it walks.
fn many_keys(c: &mut redis::Connection, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["MSET".to_string()];
        for i in chunk {
            args.push(format!("{{k{}}}:{i}", i % 64));
            args.push(format!("value-{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        q::<()>(c, &args);
    }
}

#[test]
fn a_rewrite_keeps_everything_while_clients_write() {
    let dir = data_dir("rewrite");
    let server = start(&dir, 2, &[]);
    write_everything(&server, 2);
    let mut c = server.client();
    many_keys(&mut c, 20_000);
    let files_before = manifest_files(&dir).len();
    // Writers keep changing keys the snapshot has and has not reached yet.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, stop) = (server.url(), stop.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut i = 0usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let k = format!("{{k{}}}:{}", (i * 7 + w) % 64, (i * 7919 + w) % 20_000);
                    match i % 4 {
                        0 => q::<()>(&mut c, &["SET", &k, &format!("new-{i}")]),
                        1 => q::<()>(&mut c, &["DEL", &k]),
                        2 => q::<()>(&mut c, &["APPEND", &k, "+"]),
                        _ => q::<()>(&mut c, &["SET", &format!("fresh:{w}:{i}"), "1"]),
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let started: String = q(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(started, "Background append only file rewriting started");
    assert_eq!(rewrites_done(&mut c), 1);
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writers.into_iter().for_each(|w| w.join().unwrap());
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");

    // The manifest is the base and the files written since the rewrite started.
    let files = manifest_files(&dir);
    assert!(
        files[0].ends_with("type b") && files[0].contains(".base.aof"),
        "{files:?}"
    );
    assert!(
        files[1..].iter().all(|f| f.ends_with("type i")),
        "{files:?}"
    );
    assert!(files.len() <= files_before + 1, "{files:?}");
    let on_disk = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .count();
    assert_eq!(on_disk, files.len() + 1, "old files are deleted");

    let (server, _) = kill_and_reload(server, &dir, 2);
    let mut c = server.client();
    assert_eq!(
        q::<i64>(&mut c, &["FCALL", "bump", "1", "bumped"]),
        10,
        "functions kept"
    );
    // A second rewrite of what the first one left; then a real redis-server loads it.
    q::<String>(&mut c, &["BGREWRITEAOF"]);
    rewrites_done(&mut c);
    let (server, before) = kill_and_reload(server, &dir, 1);
    kill(server);
    if let Some(redis) = common::redis_server_binary() {
        let reference = reference_redis_on(&redis, &dir);
        let keys: i64 = q(&mut reference.client(), &["DBSIZE"]);
        let ours = before.iter().filter(|l| l.starts_with("0 ")).count() as i64;
        assert_eq!(keys, ours);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn whole_database_commands_during_a_rewrite_keep_the_files_right() {
    let dir = data_dir("rewrite-flush");
    let server = start(&dir, 2, &[]);
    let mut c = server.client();
    many_keys(&mut c, 20_000);
    q::<()>(&mut c, &["SELECT", "1"]);
    q::<()>(&mut c, &["SET", "one", "1"]);
    q::<()>(&mut c, &["SELECT", "0"]);
    q::<String>(&mut c, &["BGREWRITEAOF"]);
    q::<()>(&mut c, &["SWAPDB", "0", "1"]);
    q::<()>(&mut c, &["SET", "after", "swap"]);
    rewrites_done(&mut c);
    kill_and_reload(server, &dir, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_aof_rewrites_itself_as_it_grows() {
    let dir = data_dir("auto-rewrite");
    let server = start(
        &dir,
        2,
        &[
            "--auto-aof-rewrite-min-size",
            "1mb",
            "--auto-aof-rewrite-percentage",
            "100",
        ],
    );
    let mut c = server.client();
    let value = "x".repeat(1000);
    // The same 100 keys over and over: the files grow, the data does not.
    for round in 0..40 {
        let mut args = vec!["MSET".to_string()];
        for k in 0..100 {
            args.push(format!("{{k}}:{k}"));
            args.push(format!("{round}{value}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        q::<()>(&mut c, &args);
    }
    // 4 MB of writes for 100 KB of data: rewritten (once or more) back to about the data.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let size: u64 = info_field(&mut c, "aof_current_size").parse().unwrap();
        if size < 1 << 20 && info_field(&mut c, "aof_rewrite_in_progress") == "0" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{size} bytes, not rewritten"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(rewrites_done(&mut c) >= 1);
    kill_and_reload(server, &dir, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
