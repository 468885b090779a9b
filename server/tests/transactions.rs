//! MULTI / EXEC / DISCARD / WATCH / UNWATCH over TCP: replies and errors as Redis, WATCH
//! broken by every kind of change (commands, expiry, FLUSHDB, SWAPDB) and not by others,
//! transactions over keys on several shards, and concurrent clients: the seed guides' WATCH
//! retry loop and lock release, and a bank-transfer stress test whose total never changes
//! and whose every MGET snapshot is consistent.

mod common;

use common::{key_on, q, qerr, roundtrip, Server};
use redis::Value;
use std::thread;
use std::time::Duration;

fn exec(c: &mut redis::Connection) -> Value {
    q(c, &["EXEC"])
}

fn multi(c: &mut redis::Connection) {
    let ok: String = q(c, &["MULTI"]);
    assert_eq!(ok, "OK");
}

#[test]
fn queued_commands_run_at_exec_in_order() {
    let s = Server::start(2, &[]);
    let mut raw = s.raw();
    let sent = b"MULTI\r\nSET a 1\r\nINCR a\r\nGET a\r\nEXEC\r\n";
    let expected: &[u8] = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n";
    assert_eq!(roundtrip(&mut raw, sent, expected.len()), expected);
    // An empty transaction answers an empty array.
    let sent = b"MULTI\r\nEXEC\r\n";
    let expected: &[u8] = b"+OK\r\n*0\r\n";
    assert_eq!(roundtrip(&mut raw, sent, expected.len()), expected);
}

#[test]
fn runtime_errors_do_not_stop_the_rest() {
    let s = Server::start(2, &[]);
    let mut raw = s.raw();
    let _ = roundtrip(&mut raw, b"SET s text\r\n", 5);
    let sent = b"MULTI\r\nINCR s\r\nSET t 1\r\nLPUSH s x\r\nGET t\r\nEXEC\r\n";
    let mut expected = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n".to_vec();
    expected.extend_from_slice(b"-ERR value is not an integer or out of range\r\n+OK\r\n");
    expected.extend_from_slice(
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n1\r\n",
    );
    assert_eq!(roundtrip(&mut raw, sent, expected.len()), expected);
}

#[test]
fn queuing_errors_abort_the_transaction() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    multi(&mut c);
    let _: String = q(&mut c, &["SET", "a", "1"]);
    assert!(
        qerr(&mut c, &["NOSUCHCOMMAND", "x"]).starts_with("ERR unknown command 'NOSUCHCOMMAND'")
    );
    assert_eq!(
        qerr(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    // Nothing ran, and the client is out of MULTI.
    let a: Option<String> = q(&mut c, &["GET", "a"]);
    assert_eq!(a, None);
    assert_eq!(qerr(&mut c, &["EXEC"]), "ERR EXEC without MULTI");

    multi(&mut c);
    assert_eq!(
        qerr(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    let _: String = q(&mut c, &["SET", "a", "1"]);
    assert!(qerr(&mut c, &["EXEC"]).starts_with("EXECABORT"));

    // SHUTDOWN is not allowed inside a transaction (no-multi): refused, and EXEC aborts.
    multi(&mut c);
    assert_eq!(
        qerr(&mut c, &["SHUTDOWN", "NOSAVE"]),
        "ERR Command not allowed inside a transaction"
    );
    assert!(qerr(&mut c, &["EXEC"]).starts_with("EXECABORT"));
}

#[test]
fn control_commands_inside_and_outside_multi() {
    let s = Server::start(1, &[]);
    let mut c = s.client();
    assert_eq!(qerr(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(qerr(&mut c, &["DISCARD"]), "ERR DISCARD without MULTI");
    multi(&mut c);
    assert_eq!(
        qerr(&mut c, &["MULTI"]),
        "ERR MULTI calls can not be nested"
    );
    assert_eq!(
        qerr(&mut c, &["WATCH", "x"]),
        "ERR WATCH inside MULTI is not allowed"
    );
    // Neither error aborts the transaction.
    let _: String = q(&mut c, &["SET", "x", "1"]);
    let v: Vec<String> = q(&mut c, &["EXEC"]);
    assert_eq!(v, ["OK"]);

    multi(&mut c);
    let _: String = q(&mut c, &["SET", "x", "2"]);
    let ok: String = q(&mut c, &["DISCARD"]);
    assert_eq!(ok, "OK");
    let x: String = q(&mut c, &["GET", "x"]);
    assert_eq!(x, "1", "a discarded transaction runs nothing");

    // CLIENT LIST shows the transaction: flag x and the queued count.
    multi(&mut c);
    let _: String = q(&mut c, &["PING"]);
    let mut other = s.client();
    let list: String = q(&mut other, &["CLIENT", "LIST"]);
    assert!(
        list.lines()
            .any(|l| l.contains(" flags=x ") && l.contains(" multi=1 ")),
        "{list}"
    );
    let _: Value = exec(&mut c);

    // RESET leaves the transaction.
    multi(&mut c);
    let reset: String = q(&mut c, &["RESET"]);
    assert_eq!(reset, "RESET");
    assert_eq!(qerr(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
}

#[test]
fn blocking_commands_do_not_block_inside_multi() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    multi(&mut c);
    for cmd in [
        &["BLPOP", "empty", "0"][..],
        &["BRPOP", "empty", "0"],
        &["BRPOPLPUSH", "empty", "dst", "0"],
        &["BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0"],
        &["BZPOPMIN", "empty", "0"],
        &["BZPOPMAX", "empty", "0"],
        &["BLMPOP", "0", "2", "empty", "other", "LEFT"],
        &["BZMPOP", "0", "2", "empty", "other", "MIN"],
    ] {
        let _: String = q(&mut c, cmd);
    }
    let v: Value = exec(&mut c);
    assert_eq!(v, Value::Array(vec![Value::Nil; 8]));
}

#[test]
fn a_transaction_over_several_shards_is_applied_whole() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let (a, b) = (key_on(0, 2, "acct"), key_on(1, 2, "acct"));
    let _: () = q(&mut c, &["MSET", &a, "100", &b, "0"]);
    multi(&mut c);
    let _: String = q(&mut c, &["DECRBY", &a, "30"]);
    let _: String = q(&mut c, &["INCRBY", &b, "30"]);
    let _: String = q(&mut c, &["MGET", &a, &b]);
    let _: String = q(&mut c, &["RENAME", &b, "renamed"]);
    let _: String = q(&mut c, &["EXISTS", &a, &b, "renamed"]);
    let v: Value = exec(&mut c);
    let Value::Array(items) = v else {
        panic!("{v:?}")
    };
    assert_eq!(items[0], Value::Int(70));
    assert_eq!(items[1], Value::Int(30));
    assert_eq!(
        items[2],
        Value::Array(vec![
            Value::BulkString(b"70".to_vec()),
            Value::BulkString(b"30".to_vec())
        ])
    );
    assert_eq!(items[4], Value::Int(2));
}

#[test]
fn select_inside_multi_moves_later_commands() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    multi(&mut c);
    let _: String = q(&mut c, &["SET", "k", "in0"]);
    let _: String = q(&mut c, &["SELECT", "3"]);
    let _: String = q(&mut c, &["SET", "k", "in3"]);
    let _: String = q(&mut c, &["DBSIZE"]);
    let _: String = q(&mut c, &["FLUSHDB"]);
    let _: String = q(&mut c, &["DBSIZE"]);
    let v: Value = exec(&mut c);
    assert_eq!(
        v,
        Value::Array(vec![
            Value::Okay,
            Value::Okay,
            Value::Okay,
            Value::Int(1),
            Value::Okay,
            Value::Int(0)
        ])
    );
    // The connection stays in database 3 afterwards, as after a SELECT outside MULTI.
    let n: i64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 0);
    let _: () = q(&mut c, &["SELECT", "0"]);
    let k: String = q(&mut c, &["GET", "k"]);
    assert_eq!(k, "in0");
}

/// WATCH `key` on a fresh connection, let `change` run on another, then MULTI PING EXEC:
/// returns whether the transaction ran.
fn survives(s: &Server, setup: &[&[&str]], key: &str, change: &[&[&str]]) -> bool {
    let mut c = s.client();
    let mut other = s.client();
    for cmd in setup {
        let _: Value = q(&mut other, cmd);
    }
    let _: () = q(&mut c, &["WATCH", key]);
    for cmd in change {
        let _: Value = q(&mut other, cmd);
    }
    multi(&mut c);
    let _: String = q(&mut c, &["PING"]);
    match exec(&mut c) {
        Value::Nil => false,
        Value::Array(v) if v == [Value::SimpleString("PONG".into())] => true,
        v => panic!("unexpected EXEC reply {v:?}"),
    }
}

#[test]
fn watch_sees_changes_by_other_clients_on_any_shard() {
    let s = Server::start(2, &[]);
    for shard in 0..2 {
        let k = key_on(shard, 2, "w");
        let k = k.as_str();
        assert!(survives(&s, &[&["SET", k, "1"]], k, &[]));
        assert!(!survives(&s, &[&["SET", k, "1"]], k, &[&["SET", k, "2"]]));
        assert!(!survives(&s, &[&["SET", k, "1"]], k, &[&["DEL", k]]));
        assert!(!survives(
            &s,
            &[&["SET", k, "1"]],
            k,
            &[&["EXPIRE", k, "100"]]
        ));
        assert!(!survives(&s, &[&["DEL", k]], k, &[&["LPUSH", k, "x"]]));
        // Commands that change nothing leave the watch alone.
        assert!(survives(
            &s,
            &[&["SET", k, "1"]],
            k,
            &[&["SET", k, "9", "NX"]]
        ));
        assert!(survives(&s, &[&["DEL", k]], k, &[&["DEL", k]]));
        assert!(survives(&s, &[&["SET", k, "1"]], k, &[&["GET", k]]));
        // A multi-key command across shards touches its keys.
        let other = key_on(1 - shard, 2, "w");
        assert!(!survives(
            &s,
            &[&["SET", k, "1"]],
            k,
            &[&["MSET", &other, "1", k, "2"]]
        ));
        assert!(!survives(
            &s,
            &[&["DEL", &other, k], &["SADD", &other, "m"]],
            k,
            &[&["SUNIONSTORE", k, &other]]
        ));
        assert!(!survives(
            &s,
            &[&["SET", &other, "v"], &["DEL", k]],
            k,
            &[&["RENAME", &other, k]]
        ));
    }
    // SORT ... STORE touches its destination even when the result is empty (Redis' test).
    assert!(!survives(
        &s,
        &[&["LPUSH", "foo", "bar"]],
        "foo",
        &[&["SORT", "emptylist", "STORE", "foo"]]
    ));
}

#[test]
fn watch_sees_expiry_flush_and_swapdb() {
    let s = Server::start(2, &["--enable-debug-command", "yes"]);
    // A key that expires after WATCH counts as changed.
    assert!(!survives(
        &s,
        &[&["SET", "x", "1", "PX", "50"]],
        "x",
        &[&["DEBUG", "SLEEP", "0.1"]]
    ));
    // A key already expired when watched does not (Redis' "WATCH stale keys should not
    // fail EXEC"), nor does deleting or flushing it.
    let mut c = s.client();
    let _: () = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let _: () = q(&mut c, &["SET", "stale", "1", "PX", "1"]);
    thread::sleep(Duration::from_millis(5));
    assert!(survives(&s, &[], "stale", &[]));
    let _: () = q(&mut c, &["SET", "stale", "1", "PX", "1"]);
    thread::sleep(Duration::from_millis(5));
    assert!(survives(&s, &[], "stale", &[&["DEL", "stale"]]));
    let _: () = q(&mut c, &["SET", "stale", "1", "PX", "1"]);
    thread::sleep(Duration::from_millis(5));
    assert!(survives(&s, &[], "stale", &[&["FLUSHDB"]]));
    let _: () = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);

    // FLUSHALL / FLUSHDB touch the watched keys that exist, and only those.
    assert!(!survives(&s, &[&["SET", "x", "30"]], "x", &[&["FLUSHALL"]]));
    assert!(survives(&s, &[&["DEL", "x"]], "x", &[&["FLUSHALL"]]));
    assert!(!survives(&s, &[&["SET", "x", "30"]], "x", &[&["FLUSHDB"]]));
    // A flush of another database leaves the watch alone.
    assert!(survives(
        &s,
        &[&["SET", "x", "30"]],
        "x",
        &[&["SELECT", "9"], &["FLUSHDB"], &["SELECT", "0"]]
    ));

    // SWAPDB touches watched keys present on either side.
    assert!(!survives(
        &s,
        &[&["FLUSHALL"], &["SET", "x", "1"]],
        "x",
        &[&["SWAPDB", "0", "1"]]
    ));
    assert!(!survives(
        &s,
        &[
            &["FLUSHALL"],
            &["SELECT", "1"],
            &["SET", "x", "1"],
            &["SELECT", "0"]
        ],
        "x",
        &[&["SWAPDB", "0", "1"]]
    ));
    assert!(survives(
        &s,
        &[&["FLUSHALL"], &["SET", "y", "1"]],
        "x",
        &[&["SWAPDB", "0", "1"]]
    ));
    // After a swap, the watch still follows database 0 (Redis keeps watches by number).
    let mut c = s.client();
    let mut other = s.client();
    let _: () = q(&mut other, &["FLUSHALL"]);
    let _: () = q(&mut c, &["WATCH", "z"]);
    let _: () = q(&mut other, &["SWAPDB", "0", "1"]);
    let _: () = q(&mut other, &["SET", "z", "now"]);
    multi(&mut c);
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(exec(&mut c), Value::Nil);
}

#[test]
fn watch_remembers_the_database_and_is_spent_by_exec() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let mut other = s.client();
    let _: () = q(&mut c, &["SELECT", "5"]);
    let _: () = q(&mut c, &["SET", "x", "30"]);
    let _: () = q(&mut c, &["WATCH", "x"]);
    let _: () = q(&mut other, &["SELECT", "1"]);
    let _: () = q(&mut other, &["SET", "x", "10"]);
    multi(&mut c);
    let _: String = q(&mut c, &["PING"]);
    assert_ne!(exec(&mut c), Value::Nil, "a change in another database");

    // After EXEC (successful or not) and after UNWATCH / DISCARD, nothing is watched.
    for end in [&["EXEC"][..], &["UNWATCH"], &["DISCARD"]] {
        let _: () = q(&mut c, &["WATCH", "x"]);
        let _: () = q(&mut other, &["SELECT", "5"]);
        let _: () = q(&mut other, &["SET", "x", "spoil"]);
        if end == ["UNWATCH"] {
            let _: () = q(&mut c, end);
        } else {
            multi(&mut c);
            let _: Value = q(&mut c, end);
        }
        let _: () = q(&mut other, &["SET", "x", "again"]);
        multi(&mut c);
        let _: String = q(&mut c, &["PING"]);
        assert_ne!(exec(&mut c), Value::Nil, "still watched after {end:?}");
    }
    let ok: String = q(&mut c, &["UNWATCH"]);
    assert_eq!(ok, "OK", "UNWATCH with nothing watched");
}

#[test]
fn watched_keys_on_several_shards() {
    let s = Server::start(2, &[]);
    let (a, b) = (key_on(0, 2, "wa"), key_on(1, 2, "wb"));
    let mut c = s.client();
    let mut other = s.client();
    let _: () = q(&mut c, &["MSET", &a, "1", &b, "1"]);
    let _: () = q(&mut c, &["WATCH", &a, &b]);
    let _: () = q(&mut other, &["INCR", &b]);
    multi(&mut c);
    let _: String = q(&mut c, &["SET", &a, "changed"]);
    assert_eq!(exec(&mut c), Value::Nil);
    let a_now: String = q(&mut c, &["GET", &a]);
    assert_eq!(a_now, "1", "a failed EXEC runs nothing");

    let _: () = q(&mut c, &["WATCH", &a, &b]);
    multi(&mut c);
    let _: String = q(&mut c, &["SET", &a, "changed"]);
    let _: String = q(&mut c, &["GET", &b]);
    let v: Value = exec(&mut c);
    assert_eq!(
        v,
        Value::Array(vec![Value::Okay, Value::BulkString(b"2".to_vec())])
    );
}

/// The seed guide's optimistic-locking loop (WATCH, read, MULTI, write, EXEC, retry on a
/// null reply), from many clients at once over accounts on both shards: no transfer is
/// lost or applied twice.
#[test]
fn watch_retry_loops_preserve_the_total() {
    let s = Server::start(2, &[]);
    let accounts: Vec<String> = (0..8).map(|i| format!("balance:{i}")).collect();
    let mut c = s.client();
    for a in &accounts {
        let _: () = q(&mut c, &["SET", a, "1000"]);
    }
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let url = s.url();
            let accounts = accounts.clone();
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut moved = 0;
                let mut retries = 0;
                for i in 0..60 {
                    let from = &accounts[(t + i) % accounts.len()];
                    let to = &accounts[(t * 3 + i * 5 + 1) % accounts.len()];
                    if from == to {
                        continue;
                    }
                    loop {
                        let _: () = q(&mut c, &["WATCH", from]);
                        let balance: i64 = q(&mut c, &["GET", from]);
                        if balance < 10 {
                            let _: () = q(&mut c, &["UNWATCH"]);
                            break;
                        }
                        multi(&mut c);
                        let _: String = q(&mut c, &["DECRBY", from, "10"]);
                        let _: String = q(&mut c, &["INCRBY", to, "10"]);
                        match exec(&mut c) {
                            Value::Nil => retries += 1,
                            Value::Array(_) => {
                                moved += 1;
                                break;
                            }
                            v => panic!("{v:?}"),
                        }
                    }
                }
                (moved, retries)
            })
        })
        .collect();
    let mut moved = 0;
    for t in threads {
        moved += t.join().unwrap().0;
    }
    assert!(moved > 0);
    let args: Vec<&str> = std::iter::once("MGET")
        .chain(accounts.iter().map(String::as_str))
        .collect();
    let balances: Vec<i64> = q(&mut c, &args);
    assert_eq!(balances.iter().sum::<i64>(), 8000);
    assert!(balances.iter().all(|&b| b >= 0));
}

/// The seed guide's lock: SET NX EX to take it, WATCH / GET / MULTI / DEL / EXEC to release
/// it only if still ours. Many clients increment a counter under the lock with a
/// read-modify-write; no increment is lost, so no two clients held the lock at once.
#[test]
fn set_nx_locks_with_watched_release_exclude_each_other() {
    let s = Server::start(2, &[]);
    let threads: Vec<_> = (0..5)
        .map(|t| {
            let url = s.url();
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for i in 0..40 {
                    let me = format!("{t}-{i}");
                    loop {
                        let took: Option<String> =
                            q(&mut c, &["SET", "lock:resource", &me, "NX", "EX", "10"]);
                        if took.is_some() {
                            break;
                        }
                        thread::sleep(Duration::from_micros(200));
                    }
                    // The critical section: a read-modify-write that would lose updates if
                    // two clients were in it together.
                    let n: Option<i64> = q(&mut c, &["GET", "guarded"]);
                    let _: () = q(
                        &mut c,
                        &["SET", "guarded", &(n.unwrap_or(0) + 1).to_string()],
                    );
                    loop {
                        let _: () = q(&mut c, &["WATCH", "lock:resource"]);
                        let holder: Option<String> = q(&mut c, &["GET", "lock:resource"]);
                        assert_eq!(holder.as_deref(), Some(me.as_str()), "lock lost");
                        multi(&mut c);
                        let _: String = q(&mut c, &["DEL", "lock:resource"]);
                        if exec(&mut c) != Value::Nil {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = s.client();
    let n: i64 = q(&mut c, &["GET", "guarded"]);
    assert_eq!(n, 200);
}

/// 50 clients move money between 1000 accounts on both shards with MULTI/EXEC while readers
/// take MGET snapshots of every account (and snapshots inside MULTI): the sum never changes
/// in any snapshot.
#[test]
fn bank_transfers_keep_every_snapshot_consistent() {
    let s = Server::start(2, &[]);
    common::bank_stress(&s, common::multi_transfer, false);
}

#[test]
fn exec_serves_blocked_clients_after_the_whole_transaction() {
    let s = Server::start(2, &[]);
    let waiter = {
        let url = s.url();
        thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let v: Vec<String> = q(&mut c, &["BLPOP", "jobs", "5"]);
            v
        })
    };
    let mut c = s.client();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let info: String = q(&mut c, &["INFO", "clients"]);
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        thread::sleep(Duration::from_millis(5));
    }
    multi(&mut c);
    let _: String = q(&mut c, &["RPUSH", "jobs", "a", "b"]);
    let _: String = q(&mut c, &["LLEN", "jobs"]);
    let v: Vec<i64> = q(&mut c, &["EXEC"]);
    // Inside the transaction the list held both; the waiter got its element afterwards.
    assert_eq!(v, [2, 2]);
    assert_eq!(waiter.join().unwrap(), ["jobs", "a"]);
    let left: Vec<String> = q(&mut c, &["LRANGE", "jobs", "0", "-1"]);
    assert_eq!(left, ["b"]);
}

#[test]
fn resp3_transaction_replies() {
    let s = Server::start(2, &[]);
    let mut raw = s.raw();
    use std::io::{Read, Write};
    raw.write_all(b"HELLO 3\r\n").unwrap();
    let mut hello = Vec::new();
    let mut buf = [0u8; 1024];
    while !hello.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        let n = raw.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed during HELLO");
        hello.extend_from_slice(&buf[..n]);
    }
    assert_eq!(hello[0], b'%');
    let sent = b"HSET h f v\r\nMULTI\r\nHGETALL h\r\nEXEC\r\n";
    let expected: &[u8] = b":1\r\n+OK\r\n+QUEUED\r\n*1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_eq!(roundtrip(&mut raw, sent, expected.len()), expected);
    // A broken watch answers RESP3's null.
    let mut other = s.client();
    let _ = roundtrip(&mut raw, b"WATCH h\r\n", 5);
    let _: () = q(&mut other, &["HSET", "h", "f", "w"]);
    let sent = b"MULTI\r\nPING\r\nEXEC\r\n";
    let expected: &[u8] = b"+OK\r\n+QUEUED\r\n_\r\n";
    assert_eq!(roundtrip(&mut raw, sent, expected.len()), expected);
}
