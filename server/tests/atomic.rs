//! Multi-key commands across shards are atomic: another client sees all of one or none of it.
//! And shards flooding each other with hops never stall.

mod common;

use common::{q, Server};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Ten keys that land on different shards (no hash tags).
fn keys() -> Vec<String> {
    (0..10).map(|i| format!("atomic:key:{i}")).collect()
}

#[test]
fn readers_never_see_half_an_mset() {
    let s = Server::start(2, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let keys = keys();
    {
        let mut c = s.client();
        let mut cmd = redis::cmd("MSET");
        for k in &keys {
            cmd.arg(k).arg("w0-0");
        }
        cmd.query::<()>(&mut c).unwrap();
    }
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, keys, stop) = (s.url(), keys.clone(), stop.clone());
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) && i < 3000 {
                    let v = format!("w{w}-{i}");
                    let mut cmd = redis::cmd("MSET");
                    for k in &keys {
                        cmd.arg(k).arg(&v);
                    }
                    cmd.query::<()>(&mut c).unwrap();
                    i += 1;
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (url, keys, stop) = (s.url(), keys.clone(), stop.clone());
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) && reads < 3000 {
                    let vals: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
                    assert!(
                        vals.iter().all(|v| v == &vals[0]),
                        "MGET saw a mix of two MSETs: {vals:?}"
                    );
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
}

#[test]
fn cross_shard_rename_is_never_half_done() {
    let s = Server::start(2, &[]);
    let (a, b) = ("rename:a", "rename:b"); // shards 0 and 1 of 2
    let mut c = s.client();
    q::<()>(&mut c, &["SET", a, "v"]);
    let stop = Arc::new(AtomicBool::new(false));
    let mover = {
        let (url, stop) = (s.url(), stop.clone());
        thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 5000 {
                let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
                q::<()>(&mut c, &["RENAME", from, to]);
                i += 1;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let n: i64 = q(&mut c, &["EXISTS", a, b]);
        assert_eq!(n, 1, "the key was on both sides or neither");
    }
    stop.store(true, Ordering::Relaxed);
    mover.join().unwrap();
}

#[test]
fn shards_flooding_each_other_do_not_stall() {
    let s = Server::start(2, &[]);
    // Many connections (spread over both shards by the kernel), each pipelining deep batches
    // that hop to every shard, all at once.
    let workers: Vec<_> = (0..16)
        .map(|w| {
            let url = s.url();
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for round in 0..20 {
                    let mut p = redis::pipe();
                    for i in 0..500 {
                        p.cmd("SET")
                            .arg(format!("flood:{w}:{i}"))
                            .arg(round)
                            .ignore();
                        p.cmd("MGET")
                            .arg(format!("flood:{w}:{i}"))
                            .arg(format!("flood:{}:{i}", (w + 1) % 16))
                            .ignore();
                    }
                    p.query::<()>(&mut c).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut c = s.client();
    assert_eq!(q::<String>(&mut c, &["GET", "flood:3:7"]), "19");
}

#[test]
fn multi_key_counts_sum_over_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let keys = keys();
    for k in &keys {
        q::<()>(&mut c, &["SET", k, "1"]);
    }
    let n: i64 = redis::cmd("EXISTS")
        .arg(&keys)
        .arg(&keys[0])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 11, "EXISTS counts repeated keys");
    let n: i64 = redis::cmd("DEL")
        .arg(&keys)
        .arg("nokey")
        .arg(&keys[0])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 10, "DEL counts each deleted key once");
    let n: i64 = redis::cmd("EXISTS").arg(&keys).query(&mut c).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn msetnx_is_all_or_nothing_across_shards() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    assert_eq!(
        q::<i64>(&mut c, &["MSETNX", "nx:a", "1", "nx:b", "2", "nx:c", "3"]),
        1
    );
    assert_eq!(q::<i64>(&mut c, &["MSETNX", "nx:d", "4", "nx:b", "5"]), 0);
    assert_eq!(q::<Option<String>>(&mut c, &["GET", "nx:d"]), None);
    assert_eq!(q::<String>(&mut c, &["GET", "nx:b"]), "2");
}

#[test]
fn flushall_and_swapdb_are_atomic_barriers() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    for i in 0..100 {
        q::<()>(&mut c, &["SET", &format!("f:{i}"), "1"]);
    }
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 100);
    q::<()>(&mut c, &["SWAPDB", "0", "1"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
    q::<()>(&mut c, &["SELECT", "1"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 100);
    q::<()>(&mut c, &["FLUSHALL"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
}
