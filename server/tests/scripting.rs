//! Scripts and functions over TCP: EVAL and friends with keys on any shards (declared or
//! not), the script cache, read-only scripts, errors as Redis words them, EVAL inside MULTI,
//! -BUSY and SCRIPT KILL / FUNCTION KILL, functions, and a bank-transfer stress test run by
//! EVAL whose total never changes and whose every MGET snapshot is consistent.

mod common;

use common::{key_on, q, qerr, Server};
use redis::Value;
use std::thread;
use std::time::{Duration, Instant};

fn eval<T: redis::FromRedisValue>(
    c: &mut redis::Connection,
    script: &str,
    keys: &[&str],
    args: &[&str],
) -> T {
    let n = keys.len().to_string();
    let mut cmd = vec!["EVAL", script, &n];
    cmd.extend_from_slice(keys);
    cmd.extend_from_slice(args);
    q(c, &cmd)
}

/// Sends `cmd` until the server answers -BUSY (a script passed busy-reply-threshold);
/// returns the error's text.
fn wait_busy(c: &mut redis::Connection, cmd: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut req = redis::cmd(cmd[0]);
        for a in &cmd[1..] {
            req.arg(*a);
        }
        let r: redis::RedisResult<Value> = req.query(c);
        match r {
            Err(e) if e.to_string().contains("BUSY") => return e.to_string(),
            _ => {
                assert!(Instant::now() < deadline, "never busy");
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

#[test]
fn eval_runs_commands_on_declared_keys_of_any_shard() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let (a, b) = (key_on(0, 2, "ka"), key_on(1, 2, "kb"));
    // One shard.
    let v: i64 = eval(
        &mut c,
        "redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[1])",
        &[&a],
        &["41"],
    );
    assert_eq!(v, 42);
    // Two shards, atomically.
    let v: Vec<String> = eval(
        &mut c,
        "redis.call('set', KEYS[2], redis.call('get', KEYS[1])); return redis.call('mget', KEYS[1], KEYS[2])",
        &[&a, &b],
        &[],
    );
    assert_eq!(v, ["42", "42"]);
    // Keys the script does not declare, on both shards (queue libraries do this).
    let v: i64 = eval(
        &mut c,
        "redis.call('set', ARGV[1], 'x'); redis.call('set', ARGV[2], 'y'); return redis.call('exists', ARGV[1], ARGV[2])",
        &[],
        &[&key_on(0, 2, "u"), &key_on(1, 2, "u")],
    );
    assert_eq!(v, 2);
    // Undeclared keys from a script that declared one key: it starts on that key's shard,
    // reaches the other and is run again with every database locked; the result is the same.
    for _ in 0..3 {
        let v: String = eval(
            &mut c,
            "redis.call('incr', ARGV[1]); return redis.call('get', KEYS[1]) .. ':' .. redis.call('get', ARGV[1])",
            &[&a],
            &[&key_on(1, 2, "counter")],
        );
        assert!(v.starts_with("42:"), "{v}");
    }
    let n: i64 = q(&mut c, &["GET", &key_on(1, 2, "counter")]);
    assert_eq!(n, 3, "each run counted once");
}

/// A script that touched only its declared keys so far runs on their shard (one shard) or
/// with only its keys locked (several); when a later run reaches a key it did not declare,
/// the run is made again with every database locked, and its effects happen exactly once.
#[test]
fn scripts_that_start_touching_undeclared_keys_still_work() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let (a, b) = (key_on(0, 2, "da"), key_on(1, 2, "db"));
    let other = key_on(1, 2, "other");
    // One declared key: reads another shard's key before writing.
    let one = "if ARGV[1] ~= '' then redis.call('get', ARGV[1]) end; \
        return redis.call('incr', KEYS[1])";
    for (i, arg) in ["", "", "", &other, &other].into_iter().enumerate() {
        let n: i64 = eval(&mut c, one, &[&a], &[arg]);
        assert_eq!(n, i as i64 + 1);
    }
    // Two declared keys on two shards, then undeclared keys after writing.
    let two = "redis.call('incr', KEYS[1]); redis.call('incr', KEYS[2]); \
        if ARGV[1] ~= '' then redis.call('incr', ARGV[1]) end; return 1";
    for arg in ["", "", &other, &key_on(0, 2, "other"), ""] {
        let _: i64 = eval(&mut c, two, &[&a, &b], &[arg]);
    }
    let v: Vec<i64> = q(&mut c, &["MGET", &a, &b, &other, &key_on(0, 2, "other")]);
    assert_eq!(v, [10, 5, 1, 1]);
}

#[test]
fn script_cache_and_evalsha() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let sha: String = q(&mut c, &["SCRIPT", "LOAD", "return 'hello'"]);
    assert_eq!(sha, "1b936e3fe509bcbc9cd0664897bbe8fd0cac101b");
    let v: String = q(&mut c, &["EVALSHA", &sha, "0"]);
    assert_eq!(v, "hello");
    let v: String = q(&mut c, &["EVALSHA", &sha.to_uppercase(), "0"]);
    assert_eq!(v, "hello");
    // Another connection (maybe another executor) sees the same cache.
    let mut other = s.client();
    let v: String = q(&mut other, &["EVALSHA", &sha, "0"]);
    assert_eq!(v, "hello");
    let e: Vec<i64> = q(
        &mut c,
        &[
            "SCRIPT",
            "EXISTS",
            &sha,
            "ffffffffffffffffffffffffffffffffffffffff",
        ],
    );
    assert_eq!(e, [1, 0]);
    // EVAL caches too.
    let _: i64 = eval(&mut c, "return 1", &[], &[]);
    let e: Vec<i64> = q(
        &mut c,
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        ],
    );
    assert_eq!(e, [1]);
    let ok: String = q(&mut c, &["SCRIPT", "FLUSH"]);
    assert_eq!(ok, "OK");
    assert_eq!(
        qerr(&mut other, &["EVALSHA", &sha, "0"]),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    assert!(qerr(&mut c, &["SCRIPT", "LOAD", "return +"])
        .starts_with("ERR Error compiling script (new function): user_script:1:"));
}

#[test]
fn argument_errors_as_redis() {
    let s = Server::start(1, &[]);
    let mut c = s.client();
    assert_eq!(
        qerr(&mut c, &["EVAL", "return 1", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qerr(&mut c, &["EVAL", "return 1", "-1"]),
        "ERR Number of keys can't be negative"
    );
    assert_eq!(
        qerr(&mut c, &["EVAL", "return 1", "2", "a"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        qerr(&mut c, &["FCALL", "nosuch", "0"]),
        "ERR Function not found"
    );
    // Options come before the code; RESTORE takes at most a policy.
    assert_eq!(
        qerr(&mut c, &["FUNCTION", "LOAD", "a", "b", "code"]),
        "ERR Unknown option given: a"
    );
    assert_eq!(
        qerr(&mut c, &["FUNCTION", "RESTORE", "a", "b", "c"]),
        "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP."
    );
}

#[test]
fn calls_are_checked_like_redis() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let err = qerr(&mut c, &["EVAL", "return redis.call('nosuch')", "0"]);
    assert!(
        err.starts_with("ERR Unknown Redis command called from script"),
        "{err}"
    );
    let err = qerr(&mut c, &["EVAL", "return redis.call('get')", "0"]);
    assert!(
        err.starts_with("ERR Wrong number of args calling Redis command from script"),
        "{err}"
    );
    let err = qerr(&mut c, &["EVAL", "return redis.call('multi')", "0"]);
    assert!(
        err.starts_with("ERR This Redis command is not allowed from script"),
        "{err}"
    );
    let err = qerr(
        &mut c,
        &[
            "EVAL_RO",
            "return redis.call('set', KEYS[1], 'v')",
            "1",
            "k",
        ],
    );
    assert!(
        err.starts_with("ERR Write commands are not allowed from read-only scripts"),
        "{err}"
    );
    // redis.pcall turns the error into a value the script can look at.
    let _: () = q(&mut c, &["SET", "str", "text"]);
    let v: String = eval(
        &mut c,
        "local r = redis.pcall('incr', KEYS[1]); return r['err']",
        &["str"],
        &[],
    );
    assert_eq!(v, "ERR value is not an integer or out of range");
    // A blocking command inside a script does not block.
    let v: Value = eval(
        &mut c,
        "return redis.call('blpop', KEYS[1], 0)",
        &["nolist"],
        &[],
    );
    assert_eq!(v, Value::Nil);
}

#[test]
fn eval_inside_multi() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(&mut c, &["SET", &key_on(0, 2, "m"), "1"]);
    let _: String = q(
        &mut c,
        &[
            "EVAL",
            "return redis.call('incr', KEYS[1])",
            "1",
            &key_on(0, 2, "m"),
        ],
    );
    let _: String = q(
        &mut c,
        &[
            "EVAL",
            "return redis.call('incr', KEYS[1])",
            "1",
            &key_on(1, 2, "m"),
        ],
    );
    let v: Vec<Value> = q(&mut c, &["EXEC"]);
    assert_eq!(v, [Value::Okay, Value::Int(2), Value::Int(1)]);
}

#[test]
fn a_script_inside_exec_wakes_blocked_clients() {
    let s = Server::start(2, &[]);
    let url = s.url();
    let waiter = thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let v: Vec<String> = q(&mut c, &["BLPOP", "jobs", "10"]);
        v
    });
    let mut c = s.client();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !q::<String>(&mut c, &["INFO", "clients"]).contains("blocked_clients:1") {
        assert!(Instant::now() < deadline, "never blocked");
        thread::sleep(Duration::from_millis(10));
    }
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(
        &mut c,
        &[
            "EVAL",
            "return redis.call('rpush', KEYS[1], 'job1')",
            "1",
            "jobs",
        ],
    );
    let v: Vec<i64> = q(&mut c, &["EXEC"]);
    assert_eq!(v, [1]);
    assert_eq!(waiter.join().unwrap(), ["jobs", "job1"]);
}

#[test]
fn busy_scripts_can_be_killed() {
    for shards in [1, 2] {
        let s = Server::start(shards, &[]);
        let mut c = s.client();
        let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
        let runner = {
            let url = s.url();
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let r: redis::RedisResult<Value> = redis::cmd("EVAL")
                    .arg("while true do end")
                    .arg(0)
                    .query(&mut c);
                r.unwrap_err().to_string()
            })
        };
        // Others get -BUSY once the threshold passed.
        wait_busy(&mut c, &["PING"]);
        let err = qerr(&mut c, &["GET", "x"]);
        assert_eq!(
            err,
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        );
        assert_eq!(
            qerr(&mut c, &["FUNCTION", "KILL"]),
            "NOTBUSY No scripts in execution right now."
        );
        let ok: String = q(&mut c, &["SCRIPT", "KILL"]);
        assert_eq!(ok, "OK");
        let err = runner.join().unwrap();
        assert!(
            err.contains("Script killed by user with SCRIPT KILL"),
            "{err}"
        );
        let pong: String = q(&mut c, &["PING"]);
        assert_eq!(pong, "PONG");
        assert_eq!(
            qerr(&mut c, &["SCRIPT", "KILL"]),
            "NOTBUSY No scripts in execution right now."
        );
    }
}

#[test]
fn a_script_that_wrote_cannot_be_killed() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let runner = {
        let url = s.url();
        thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let script = "redis.call('set', KEYS[1], 'v'); \
                local function now() local t = redis.call('time'); \
                return tonumber(t[1]) * 1000000 + tonumber(t[2]) end; \
                local start = now(); while now() - start < 700000 do end; return 'done'";
            let r: String = redis::cmd("EVAL")
                .arg(script)
                .arg(1)
                .arg("w")
                .query(&mut c)
                .unwrap();
            r
        })
    };
    wait_busy(&mut c, &["PING"]);
    let err = qerr(&mut c, &["SCRIPT", "KILL"]);
    assert!(
        err.starts_with("UNKILLABLE Sorry the script already executed write commands"),
        "{err}"
    );
    assert_eq!(runner.join().unwrap(), "done");
}

#[test]
fn functions_load_list_call_delete() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let lib = "#!lua name=mylib\n\
        redis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n\
        redis.register_function{function_name='myget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    let name: String = q(&mut c, &["FUNCTION", "LOAD", lib]);
    assert_eq!(name, "mylib");
    assert_eq!(
        qerr(&mut c, &["FUNCTION", "LOAD", lib]),
        "ERR Library 'mylib' already exists"
    );
    let (a, b) = (key_on(0, 2, "f"), key_on(1, 2, "f"));
    let ok: String = q(&mut c, &["FCALL", "myset", "1", &a, "v1"]);
    assert_eq!(ok, "OK");
    let ok: String = q(&mut c, &["FCALL", "myset", "1", &b, "v2"]);
    assert_eq!(ok, "OK");
    let v: String = q(&mut c, &["FCALL_RO", "myget", "1", &b]);
    assert_eq!(v, "v2");
    let err = qerr(&mut c, &["FCALL_RO", "myset", "1", &a, "x"]);
    assert_eq!(
        err,
        "ERR Can not execute a script with write flag using *_ro command."
    );
    let list: Value = q(&mut c, &["FUNCTION", "LIST"]);
    let text = format!("{list:?}");
    assert!(
        text.contains("mylib") && text.contains("myget") && text.contains("no-writes"),
        "{text}"
    );
    let dump: Vec<u8> = q(&mut c, &["FUNCTION", "DUMP"]);
    let ok: String = q(&mut c, &["FUNCTION", "DELETE", "mylib"]);
    assert_eq!(ok, "OK");
    assert_eq!(
        qerr(&mut c, &["FCALL", "myget", "1", &a]),
        "ERR Function not found"
    );
    let mut restore = redis::cmd("FUNCTION");
    restore.arg("RESTORE").arg(dump);
    let ok: String = restore.query(&mut c).unwrap();
    assert_eq!(ok, "OK");
    let v: String = q(&mut c, &["FCALL", "myget", "1", &a]);
    assert_eq!(v, "v1");
    let ok: String = q(&mut c, &["FUNCTION", "FLUSH"]);
    assert_eq!(ok, "OK");
    assert_eq!(
        qerr(&mut c, &["FCALL", "myget", "1", &a]),
        "ERR Function not found"
    );
}

/// 50 clients move money between 1000 accounts on both shards with EVAL (declared keys),
/// while readers take MGET snapshots: the total never changes in any snapshot.
#[test]
fn bank_transfers_by_script_keep_every_snapshot_consistent() {
    let s = Server::start(2, &[]);
    const ACCOUNTS: usize = 1000;
    let accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
    let mut c = s.client();
    for chunk in accounts.chunks(100) {
        let mut args = vec!["MSET"];
        for a in chunk {
            args.push(a);
            args.push("100");
        }
        let _: () = q(&mut c, &args);
    }
    let total = (ACCOUNTS * 100) as i64;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (url, accounts, stop) = (s.url(), accounts.clone(), stop.clone());
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut args = vec!["MGET"];
                args.extend(accounts.iter().map(String::as_str));
                let mut snapshots = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || snapshots < 5 {
                    let balances: Vec<i64> = q(&mut c, &args);
                    assert_eq!(balances.iter().sum::<i64>(), total, "torn snapshot");
                    snapshots += 1;
                }
            })
        })
        .collect();
    let transfer = "local b = tonumber(redis.call('get', KEYS[1])); \
        local n = tonumber(ARGV[1]); \
        if b < n then return 0 end; \
        redis.call('decrby', KEYS[1], n); redis.call('incrby', KEYS[2], n); return 1";
    let writers: Vec<_> = (0..50)
        .map(|t| {
            let (url, accounts) = (s.url(), accounts.clone());
            thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (t as u64 + 1);
                for _ in 0..20 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let from = &accounts[rng as usize % ACCOUNTS];
                    let to = &accounts[(rng >> 20) as usize % ACCOUNTS];
                    let amount = ((rng >> 40) % 20).to_string();
                    let _: i64 = eval(&mut c, transfer, &[from, to], &[&amount]);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let mut args = vec!["MGET"];
    args.extend(accounts.iter().map(String::as_str));
    let balances: Vec<i64> = q(&mut c, &args);
    assert_eq!(balances.iter().sum::<i64>(), total);
    assert!(balances.iter().all(|&b| b >= 0));
}

#[test]
fn shutdown_nosave_works_while_a_script_is_busy() {
    let mut s = Server::start(2, &[]);
    let mut c = s.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let url = s.url();
    let _runner = thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: redis::RedisResult<Value> = redis::cmd("EVAL")
            .arg("while true do end")
            .arg(0)
            .query(&mut c);
    });
    // GET may first wait for the locks the script holds: it must answer -BUSY all the same.
    wait_busy(&mut c, &["GET", "x"]);
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.is_running() {
        assert!(
            Instant::now() < deadline,
            "still running after SHUTDOWN NOSAVE"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn busy_functions_can_be_killed() {
    let s = Server::start(2, &[]);
    let mut c = s.client();
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let lib =
        "#!lua name=spinlib\nredis.register_function('spin', function() while true do end end)";
    let _: String = q(&mut c, &["FUNCTION", "LOAD", lib]);
    let url = s.url();
    let runner = thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let r: redis::RedisResult<Value> = redis::cmd("FCALL").arg("spin").arg(0).query(&mut c);
        r.unwrap_err().to_string()
    });
    let busy = wait_busy(&mut c, &["PING"]);
    assert!(
        busy.contains("You can only call FUNCTION KILL or SHUTDOWN NOSAVE"),
        "{busy}"
    );
    let stats: Value = q(&mut c, &["FUNCTION", "STATS"]);
    assert!(format!("{stats:?}").contains("spin"), "{stats:?}");
    assert_eq!(
        qerr(&mut c, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    let ok: String = q(&mut c, &["FUNCTION", "KILL"]);
    assert_eq!(ok, "OK");
    let err = runner.join().unwrap();
    assert!(
        err.contains("Script killed by user with FUNCTION KILL"),
        "{err}"
    );
}
