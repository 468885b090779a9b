//! Shardis as a replication leader: a real redis-server 7 follows it (full synchronization
//! from a forkless snapshot, then the stream of effects), `redis-cli --rdb` downloads a
//! snapshot, WAIT counts acknowledgements, and a follower that reconnects continues from
//! the backlog.

mod common;

use common::{contents, eventually, info_field, key_on, q, write_everything, Server};
use std::time::Duration;

/// Debian's redis-server following `leader`.
fn redis_follower(leader: &Server) -> Server {
    let dir = std::env::temp_dir().to_string_lossy().into_owned();
    let port = leader.port.to_string();
    common::start_redis(&["--dir", &dir, "--replicaof", "127.0.0.1", &port])
}

/// Waits until `follower` has applied everything `leader` streamed so far.
fn caught_up(leader: &Server, follower: &Server) {
    let (mut l, mut f) = (leader.client(), follower.client());
    let ok = eventually(20, || {
        let link = info_field(&mut f, "master_link_status");
        let ours = info_field(&mut l, "master_repl_offset");
        let theirs = info_field(&mut f, "slave_repl_offset");
        link.as_deref() == Some("up") && ours.is_some() && ours == theirs
    });
    assert!(
        ok,
        "the follower did not catch up: leader {:?}, follower {:?} ({:?})",
        info_field(&mut l, "master_repl_offset"),
        info_field(&mut f, "slave_repl_offset"),
        info_field(&mut f, "master_link_status"),
    );
}

#[test]
fn a_real_redis_follows_every_write() {
    let leader = Server::start(2, &[]);
    // What exists before the follower comes arrives in the snapshot...
    write_everything(&leader, 2);
    let mut c = leader.client();
    for i in 0..2000 {
        q::<()>(&mut c, &["SET", &format!("k{i}"), &"v".repeat(i % 50)]);
    }
    let follower = redis_follower(&leader);
    caught_up(&leader, &follower);
    assert_eq!(contents(&mut follower.client()), contents(&mut c));

    // ... what comes after, in the stream: effects, not requests (scripts, random pops,
    // relative TTLs, blocking pops, cross-shard transactions, other databases, FLUSHDB),
    // after FLUSHALL and FUNCTION FLUSH (which the stream carries too).
    q::<()>(&mut c, &["FLUSHALL"]);
    q::<()>(&mut c, &["FUNCTION", "FLUSH"]);
    write_everything(&leader, 2);
    let (a, b) = (key_on(0, 2, "x"), key_on(1, 2, "y"));
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["INCRBY", &a, "5"]);
    q::<()>(&mut c, &["LPUSH", &b, "p", "q"]);
    q::<Vec<redis::Value>>(&mut c, &["EXEC"]);
    q::<redis::Value>(
        &mut c,
        &[
            "EVAL",
            "redis.call('SET', KEYS[1], math.random()); return redis.call('SPOP', KEYS[2])",
            "2",
            "{s}r",
            "{s}set",
        ],
    );
    q::<()>(&mut c, &["SELECT", "5"]);
    q::<()>(&mut c, &["SET", "in5", "1", "PX", "100000"]);
    q::<()>(&mut c, &["SELECT", "0"]);
    caught_up(&leader, &follower);
    let mut f = follower.client();
    assert_eq!(contents(&mut f), contents(&mut c));

    // INFO and ROLE on both sides.
    assert_eq!(info_field(&mut c, "connected_slaves").as_deref(), Some("1"));
    let slave0 = info_field(&mut c, "slave0").unwrap();
    assert!(slave0.contains("state=online"), "{slave0}");
    assert_eq!(
        info_field(&mut f, "master_replid"),
        info_field(&mut c, "master_replid")
    );
    assert_eq!(
        info_field(&mut c, "repl_backlog_active").as_deref(),
        Some("1")
    );
    // The follower refuses writes, as a Redis replica does.
    let e = common::qerr(&mut f, &["SET", "x", "1"]);
    assert!(e.starts_with("READONLY"), "{e}");
}

#[test]
fn wait_counts_acknowledged_followers() {
    let leader = Server::start(2, &[]);
    let mut c = leader.client();
    // No follower: WAIT answers at once.
    q::<()>(&mut c, &["SET", "a", "1"]);
    assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "100"]), 0);
    let follower = redis_follower(&leader);
    caught_up(&leader, &follower);
    for i in 0..20 {
        q::<()>(&mut c, &["SET", &format!("w{i}"), "1"]);
        assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "5000"]), 1);
    }
    // More followers than there are: the timeout answers with the count.
    assert_eq!(q::<i64>(&mut c, &["WAIT", "2", "200"]), 1);
    // Inside a transaction WAIT does not block: it counts.
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["WAIT", "5", "0"]);
    let counted: Vec<i64> = q(&mut c, &["EXEC"]);
    assert_eq!(counted, [1]);
    let e = common::qerr(&mut c, &["WAIT", "1", "-1"]);
    assert_eq!(e, "ERR timeout is negative");
    let e = common::qerr(&mut c, &["WAIT", "x", "1"]);
    assert_eq!(e, "ERR value is not an integer or out of range");
}

#[test]
fn a_follower_that_reconnects_continues_from_the_backlog() {
    let leader = Server::start(2, &[]);
    let mut c = leader.client();
    q::<()>(&mut c, &["SET", "before", "1"]);
    let follower = redis_follower(&leader);
    caught_up(&leader, &follower);
    let mut f = follower.client();
    let full = info_field(&mut c, "sync_full").unwrap();
    // The follower drops its link and asks to continue where it was.
    q::<i64>(&mut f, &["CLIENT", "KILL", "TYPE", "master"]);
    for i in 0..100 {
        q::<i64>(&mut c, &["INCR", "counter"]);
        q::<()>(&mut c, &["SET", &format!("after{i}"), "x"]);
    }
    caught_up(&leader, &follower);
    assert_eq!(contents(&mut f), contents(&mut c));
    assert_eq!(info_field(&mut c, "sync_full").unwrap(), full);
    assert_eq!(info_field(&mut c, "sync_partial_ok").as_deref(), Some("1"));
}

#[test]
fn writes_during_the_snapshot_arrive_once() {
    let leader = Server::start(2, &[]);
    let mut c = leader.client();
    let mut pipe = redis::pipe();
    const KEYS: usize = 30_000;
    for i in 0..KEYS {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    // Writers run while the follower synchronizes: INCRs are not idempotent, so a write
    // both in the snapshot and in the stream would show.
    let url = leader.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    q::<i64>(&mut c, &["INCR", &format!("counter{w}")]);
                    let k = format!("key:{}", (n as usize * 7 + w) % KEYS);
                    q::<()>(&mut c, &["APPEND", &k, "+"]);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let follower = redis_follower(&leader);
    let mut f = follower.client();
    assert!(eventually(20, || info_field(&mut f, "master_link_status")
        .as_deref()
        == Some("up")));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let counts: Vec<u64> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    caught_up(&leader, &follower);
    for (w, n) in counts.iter().enumerate() {
        let got: u64 = q(&mut f, &["GET", &format!("counter{w}")]);
        assert_eq!(got, *n);
    }
    // APPENDs are not idempotent either: every value matches.
    assert_eq!(q::<i64>(&mut f, &["DBSIZE"]), q::<i64>(&mut c, &["DBSIZE"]));
    let keys: Vec<String> = (0..KEYS).map(|i| format!("key:{i}")).collect();
    for batch in keys.chunks(1000) {
        let mut mget = redis::cmd("MGET");
        batch.iter().for_each(|k| {
            mget.arg(k);
        });
        let ours: Vec<String> = mget.query(&mut c).unwrap();
        let theirs: Vec<String> = mget.query(&mut f).unwrap();
        assert_eq!(ours, theirs);
    }
}

#[test]
fn redis_cli_downloads_a_snapshot_redis_loads() {
    let leader = Server::start(2, &[]);
    write_everything(&leader, 2);
    let mut c = leader.client();
    let dir = std::env::temp_dir().join(format!("shardis-rdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dump.rdb");
    let status = std::process::Command::new("redis-cli")
        .args(["-p", &leader.port.to_string(), "--rdb"])
        .arg(&file)
        .status()
        .expect("redis-cli: run scripts/test-setup.sh");
    assert!(status.success());
    if let Ok(out) = std::process::Command::new("redis-check-rdb")
        .arg(&file)
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("RDB looks OK"), "{text}");
    }
    let reference = common::start_redis(&["--dir", dir.to_str().unwrap()]);
    assert_eq!(contents(&mut reference.client()), contents(&mut c));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads what a raw replica receives after `SYNC`: the RDB's length-prefixed payload is
/// skipped, the stream that follows is returned as text once `until` appears in it.
fn raw_stream(leader: &Server, writes: impl FnOnce(), until: &str) -> String {
    use std::io::{Read, Write};
    let mut s = leader.raw();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"SYNC\r\n").unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    // `$<len>\r\n`, then the RDB.
    while !buf.ends_with(b"\r\n") {
        s.read_exact(&mut byte).unwrap();
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let len: usize = head.trim().trim_start_matches('$').parse().expect(&head);
    let mut rdb = vec![0u8; len];
    s.read_exact(&mut rdb).unwrap();
    assert!(rdb.starts_with(b"REDIS0010"));
    writes();
    let mut text = String::new();
    let mut chunk = [0u8; 4096];
    while !text.contains(until) {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "the stream ended: {text}");
        text.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    text
}

#[test]
fn the_stream_holds_effects_not_scripts() {
    let leader = Server::start(2, &[]);
    let mut c = leader.client();
    q::<i64>(&mut c, &["SADD", "{t}set", "a", "b", "c"]);
    let url = leader.url();
    let text = raw_stream(
        &leader,
        move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            q::<redis::Value>(
                &mut c,
                &[
                    "EVAL",
                    "redis.call('SET', KEYS[1], 'v', 'EX', 100); redis.call('SPOP', KEYS[2]); \
                     return redis.call('INCRBYFLOAT', KEYS[3], '1.5')",
                    "3",
                    "{t}a",
                    "{t}set",
                    "{t}f",
                ],
            );
            q::<()>(&mut c, &["SET", "done", "1"]);
        },
        "done",
    );
    assert!(!text.contains("EVAL"), "{text}");
    // One MULTI ... EXEC holding each call's effect: SET with an absolute time, SREM for
    // SPOP, SET ... KEEPTTL for INCRBYFLOAT.
    let multi = text.find("MULTI").expect(&text);
    let exec = text.find("EXEC").expect(&text);
    let block = &text[multi..exec];
    assert!(block.contains("PXAT"), "{block}");
    assert!(block.contains("SREM"), "{block}");
    assert!(block.contains("KEEPTTL"), "{block}");
}

#[test]
fn shardis_follows_shardis() {
    let leader = Server::start(2, &[]);
    write_everything(&leader, 2);
    let port = leader.port.to_string();
    let follower = Server::start(3, &["--replicaof", "127.0.0.1", &port]);
    caught_up(&leader, &follower);
    let (mut c, mut f) = (leader.client(), follower.client());
    assert_eq!(contents(&mut f), contents(&mut c));
    // The stream: a script, a cross-shard transaction, FLUSHDB in another database.
    let (a, b) = (key_on(0, 2, "p"), key_on(1, 2, "q"));
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["SET", &a, "1"]);
    q::<()>(&mut c, &["RPUSH", &b, "x", "y"]);
    q::<Vec<redis::Value>>(&mut c, &["EXEC"]);
    q::<redis::Value>(
        &mut c,
        &[
            "EVAL",
            "return redis.call('SPOP', KEYS[1], 2)",
            "1",
            "{t}set",
        ],
    );
    q::<()>(&mut c, &["SELECT", "4"]);
    q::<()>(&mut c, &["FLUSHDB"]);
    q::<()>(&mut c, &["SELECT", "0"]);
    assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "5000"]), 1);
    caught_up(&leader, &follower);
    assert_eq!(contents(&mut f), contents(&mut c));
    // ROLE on both sides.
    let role: (String, i64, Vec<(String, String, String)>) = q(&mut c, &["ROLE"]);
    assert_eq!(role.0, "master");
    assert_eq!(role.2.len(), 1);
    let theirs: (String, String, i64, String, i64) = q(&mut f, &["ROLE"]);
    assert_eq!(
        (theirs.0.as_str(), theirs.3.as_str()),
        ("slave", "connected")
    );
    assert_eq!(theirs.4, role.1);
    // Chained replication is refused by a replica.
    let e = common::qerr(&mut f, &["WAIT", "1", "1"]);
    assert!(
        e.starts_with("ERR WAIT cannot be used with replica instances"),
        "{e}"
    );
}

#[test]
fn a_flushall_during_the_snapshot_makes_the_follower_synchronize_again() {
    let leader = Server::start(2, &[]);
    let mut c = leader.client();
    let mut pipe = redis::pipe();
    for i in 0..50_000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let follower = redis_follower(&leader);
    // Whole-database commands while the follower's snapshot may be walking: it is aborted
    // and the follower synchronizes again, or it finished and the stream carries them.
    for i in 0..20 {
        q::<()>(&mut c, &["SELECT", &(i % 3).to_string()]);
        q::<()>(&mut c, &["FLUSHDB"]);
        q::<()>(&mut c, &["SET", &format!("after{i}"), "1"]);
    }
    q::<()>(&mut c, &["SWAPDB", "0", "1"]);
    q::<()>(&mut c, &["SELECT", "0"]);
    caught_up(&leader, &follower);
    assert_eq!(contents(&mut follower.client()), contents(&mut c));
}

#[test]
fn a_cross_shard_transaction_is_one_block_in_the_stream() {
    let leader = Server::start(2, &[]);
    let (a, b) = (key_on(0, 2, "left"), key_on(1, 2, "right"));
    let url = leader.url();
    let (ka, kb) = (a.clone(), b.clone());
    let text = raw_stream(
        &leader,
        move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            q::<()>(&mut c, &["MULTI"]);
            q::<()>(&mut c, &["SET", &ka, "1"]);
            q::<()>(&mut c, &["SET", &kb, "2"]);
            q::<()>(&mut c, &["INCR", &ka]);
            q::<Vec<redis::Value>>(&mut c, &["EXEC"]);
            // A script whose undeclared keys span shards, too.
            q::<()>(
                &mut c,
                &[
                    "EVAL",
                    "redis.call('SET', ARGV[1], 'x'); redis.call('SET', ARGV[2], 'y')",
                    "0",
                    &format!("{ka}-s"),
                    &format!("{kb}-s"),
                ],
            );
            q::<()>(&mut c, &["SET", "done", "1"]);
        },
        "done",
    );
    // Each is one MULTI ... EXEC holding the writes of both shards.
    let blocks: Vec<&str> = text.split("MULTI").skip(1).collect();
    assert!(blocks.len() >= 2, "{text}");
    let tx = blocks[0].split("EXEC").next().unwrap();
    assert!(
        tx.contains(&a) && tx.contains(&b) && tx.contains("INCR"),
        "{text}"
    );
    let script = blocks[1].split("EXEC").next().unwrap();
    assert!(
        script.contains(&format!("{a}-s")) && script.contains(&format!("{b}-s")),
        "{text}"
    );
}

/// The bank of the transactions tests with a real Redis following: 50 clients move money
/// between 1000 accounts on both shards with MULTI/EXEC and with a script, the AOF on too;
/// the follower ends with exactly the leader's balances.
#[test]
fn bank_transfers_reach_the_follower_whole() {
    let dir = std::env::temp_dir().join(format!("shardis-repl-bank-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let leader = Server::start(2, &["--appendonly", "yes", "--dir", dir.to_str().unwrap()]);
    let follower = redis_follower(&leader);
    caught_up(&leader, &follower);
    common::bank_stress(&leader, common::multi_and_script_transfer, false);
    caught_up(&leader, &follower);
    let accounts: Vec<String> = (0..1000).map(|i| format!("acct:{i}")).collect();
    let mut mget = redis::cmd("MGET");
    accounts.iter().for_each(|a| {
        mget.arg(a);
    });
    let ours: Vec<i64> = mget.query(&mut leader.client()).unwrap();
    let theirs: Vec<i64> = mget.query(&mut follower.client()).unwrap();
    assert_eq!(theirs.iter().sum::<i64>(), 100_000);
    assert_eq!(theirs, ours);
    let _ = std::fs::remove_dir_all(&dir);
}
