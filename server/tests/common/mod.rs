//! Starts a real shardis-server on a free loopback port for a test and stops it afterwards.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod events;

pub struct Server {
    pub port: u16,
    child: Child,
    /// A data directory of its own, removed on drop (see [`Server::start`]).
    scratch: Option<std::path::PathBuf>,
}

impl Server {
    /// A server with `shards` shards and extra `--name value` arguments, in a fresh data
    /// directory of its own unless `extra` names one (a stray `dump.rdb` in the working
    /// directory would otherwise be loaded).
    pub fn start(shards: usize, extra: &[&str]) -> Server {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let scratch = std::env::temp_dir().join(format!("shardis-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let (shards, dir) = (shards.to_string(), scratch.to_string_lossy().into_owned());
        let mut args = vec!["--shards", shards.as_str(), "--dir", dir.as_str()];
        args.extend_from_slice(extra);
        let mut server =
            Server::start_program(env!("CARGO_BIN_EXE_shardis-server").as_ref(), &args);
        server.scratch = Some(scratch);
        server
    }

    /// Any Redis-protocol server (`program --port P args...`) on a free loopback port, once
    /// it answers PING.
    pub fn start_program(program: &std::path::Path, args: &[&str]) -> Server {
        Server::start_program_with(program, &[], args)
    }

    /// A shardis-server started with a configuration file (`shardis-server FILE --port P
    /// --dir D args...`).
    pub fn start_with_config(
        config: &std::path::Path,
        dir: &std::path::Path,
        args: &[&str],
    ) -> Server {
        let (config, dir) = (config.to_string_lossy(), dir.to_string_lossy());
        let mut rest = vec!["--dir", &*dir];
        rest.extend_from_slice(args);
        let program = env!("CARGO_BIN_EXE_shardis-server").as_ref();
        Server::start_program_with(program, &[&config], &rest)
    }

    /// `program leading... --port P args...` on a free loopback port, once it answers PING.
    pub fn start_program_with(
        program: &std::path::Path,
        leading: &[&str],
        args: &[&str],
    ) -> Server {
        for _ in 0..20 {
            let port = free_port();
            let mut child = Command::new(program)
                .args(leading)
                .args(["--port", &port.to_string()])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken in between: try another
                }
                if ping(port) {
                    return Server {
                        port,
                        child,
                        scratch: None,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{} did not start", program.display());
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn client(&self) -> redis::Connection {
        let c = redis::Client::open(self.url()).unwrap();
        let conn = c.get_connection().expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        conn
    }

    /// A raw TCP connection, for protocol-level tests.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(d) = &self.scratch {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    // A password-protected server answers -NOAUTH: it is up all the same.
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && (&buf == b"+PONG\r\n" || buf.starts_with(b"-NOAUTH"))
}

/// Sends raw bytes and reads until `expect_len` bytes or the connection closes.
pub fn roundtrip(s: &mut TcpStream, send: &[u8], expect_len: usize) -> Vec<u8> {
    s.write_all(send).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < expect_len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Runs a command and returns the value, panicking with the command on error.
pub fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Runs a command expected to fail and returns the error text as Redis sent it
/// (`CODE message`).
pub fn qerr(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Ok(v) => panic!("{args:?} should have failed, got {v:?}"),
        Err(e) => {
            let code = e.code().unwrap_or("");
            let detail = e.detail().unwrap_or("");
            format!("{code} {detail}").trim().to_string()
        }
    }
}

/// The Redis Cluster hash slot of `key`: CRC16/XMODEM of the key, or of its hash tag (the
/// bytes between the first `{` and the next `}`, when not empty). Written here from the
/// cluster spec rather than taken from the server, so tests check the server's routing.
pub fn slot(key: &[u8]) -> u16 {
    let mut hashed = key;
    if let Some(open) = key.iter().position(|&c| c == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&c| c == b'}') {
            if len > 0 {
                hashed = &key[open + 1..open + 1 + len];
            }
        }
    }
    let mut crc: u16 = 0;
    for &b in hashed {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc & 16383
}

/// The shard that owns `key` when the server runs `shards` shards (contiguous slot ranges).
pub fn shard_of(key: &[u8], shards: usize) -> usize {
    slot(key) as usize * shards / 16384
}

/// `prefix` followed by the first number that puts the key on `shard` of `shards`.
pub fn key_on(shard: usize, shards: usize, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|k| shard_of(k.as_bytes(), shards) == shard)
        .unwrap()
}

/// Like [`q`], with binary arguments.
pub fn qb<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&[u8]]) -> T {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// The server a test talks to: normally a fresh shardis-server; with `REFERENCE_PORT=<port>`
/// in the environment, an already running Redis on that loopback port instead (flushed
/// first), to check the tests' own expectations against the reference. Run the tests one at
/// a time then (`--test-threads 1`): they share that server.
pub enum Target {
    Shardis(Server),
    Reference(u16),
}

impl Target {
    pub fn start(shards: usize) -> Target {
        Target::start_with(shards, &[])
    }

    /// [`Target::start`] with extra arguments for a fresh shardis-server (the reference
    /// Redis must have been started with their equivalent).
    pub fn start_with(shards: usize, extra: &[&str]) -> Target {
        match std::env::var("REFERENCE_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
        {
            Some(port) => {
                let t = Target::Reference(port);
                let _: () = redis::cmd("FLUSHALL").query(&mut t.client()).unwrap();
                t
            }
            None => Target::Shardis(Server::start(shards, extra)),
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Target::Shardis(s) => s.port,
            Target::Reference(p) => *p,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port())
    }

    pub fn client(&self) -> redis::Connection {
        let conn = redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        conn
    }

    pub fn is_reference(&self) -> bool {
        matches!(self, Target::Reference(_))
    }
}

// -------------------------------------------------------------------------------------------
// Shared by the command-family tests (strings.rs, keys.rs)

/// Redis' error texts the family tests compare against.
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";

pub fn arity(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

pub fn invalid_expire(name: &str) -> String {
    format!("ERR invalid expire time in '{name}' command")
}

/// A 2-shard server (or the reference Redis, see [`Target`]) and a connection to it.
pub fn start() -> (Target, redis::Connection) {
    let s = Target::start(2);
    let c = s.client();
    (s, c)
}

/// Two keys on different shards (0 and 1 of 2).
pub fn cross(prefix: &str) -> (String, String) {
    (key_on(0, 2, prefix), key_on(1, 2, prefix))
}

pub fn get(c: &mut redis::Connection, k: &str) -> Option<String> {
    q(c, &["GET", k])
}

pub fn ttl(c: &mut redis::Connection, k: &str) -> i64 {
    q(c, &["TTL", k])
}

pub fn pttl(c: &mut redis::Connection, k: &str) -> i64 {
    q(c, &["PTTL", k])
}

/// A transfer for [`bank_stress`]: DECRBY and INCRBY in one MULTI/EXEC.
pub fn multi_transfer(c: &mut redis::Connection, from: &str, to: &str, amount: i64) {
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("DECRBY")
        .arg(from)
        .arg(amount)
        .cmd("INCRBY")
        .arg(to)
        .arg(amount);
    let _: (i64, i64) = pipe.query(c).unwrap();
}

/// A transfer for [`bank_stress`] made twice: once by [`multi_transfer`], then back by a
/// script (the persistence and replication tests check both paths' effects).
pub fn multi_and_script_transfer(c: &mut redis::Connection, from: &str, to: &str, amount: i64) {
    multi_transfer(c, from, to, amount);
    let script = "redis.call('DECRBY', KEYS[1], ARGV[1]) \
                  return redis.call('INCRBY', KEYS[2], ARGV[1])";
    let _: i64 = q(c, &["EVAL", script, "2", to, from, &amount.to_string()]);
}

/// The bank-transfer stress test (issue #4): `ACCOUNTS` accounts of 100 each spread over the
/// server's shards, 50 writer threads each making 20 transfers with `transfer(conn, from, to,
/// amount)`, and readers taking MGET snapshots of every account meanwhile (the first one
/// inside MULTI/EXEC). Every snapshot, and the final state, must sum to the opening total;
/// no balance may go negative when `transfer` refuses overdrafts.
pub fn bank_stress(
    s: &Server,
    transfer: fn(&mut redis::Connection, &str, &str, i64),
    no_overdraft: bool,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    const ACCOUNTS: usize = 1000;
    let accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
    let mut c = s.client();
    for chunk in accounts.chunks(100) {
        let mut args = vec!["MSET"];
        for a in chunk {
            args.extend([a.as_str(), "100"]);
        }
        let _: () = q(&mut c, &args);
    }
    let total = (ACCOUNTS * 100) as i64;
    let mget: Vec<String> = std::iter::once("MGET".to_string())
        .chain(accounts.iter().cloned())
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let (url, mget, stop) = (s.url(), mget.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let args: Vec<&str> = mget.iter().map(String::as_str).collect();
                let mut snapshots = 0;
                while !stop.load(Ordering::Relaxed) || snapshots < 5 {
                    let balances: Vec<i64> = if r == 0 {
                        let _: () = q(&mut c, &["MULTI"]);
                        let _: String = q(&mut c, &args);
                        let v: Vec<Vec<i64>> = q(&mut c, &["EXEC"]);
                        v.into_iter().next().unwrap()
                    } else {
                        q(&mut c, &args)
                    };
                    assert_eq!(balances.iter().sum::<i64>(), total, "torn snapshot");
                    snapshots += 1;
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..50)
        .map(|t| {
            let (url, accounts) = (s.url(), accounts.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (t as u64 + 1);
                for _ in 0..20 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let from = &accounts[rng as usize % ACCOUNTS];
                    let to = &accounts[(rng >> 20) as usize % ACCOUNTS];
                    transfer(&mut c, from, to, ((rng >> 40) % 20) as i64);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let args: Vec<&str> = mget.iter().map(String::as_str).collect();
    let balances: Vec<i64> = q(&mut c, &args);
    assert_eq!(balances.iter().sum::<i64>(), total);
    if no_overdraft {
        assert!(balances.iter().all(|&b| b >= 0));
    }
}

// -------------------------------------------------------------------------------------------
// The reference server

pub fn redis_server_binary() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([std::path::PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
}

/// Debian's redis-server on a free loopback port, killed on drop (also when a test panics).
pub fn start_reference_redis() -> Server {
    let dir = std::env::temp_dir().to_string_lossy().into_owned();
    start_redis(&["--dir", &dir])
}

/// Debian's redis-server without persistence, with `extra` arguments (later ones win).
pub fn start_redis(extra: &[&str]) -> Server {
    let bin = redis_server_binary().unwrap_or_else(|| {
        panic!(
            "redis-server not found: the tests need Debian's redis-server as their reference; \
             run scripts/test-setup.sh to install it"
        )
    });
    let mut args = vec![
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ];
    args.extend_from_slice(extra);
    Server::start_program(&bin, &args)
}

// -------------------------------------------------------------------------------------------
// Data sets (persistence and replication tests)

/// Runs a command written as one line of space-separated words.
pub fn words(c: &mut redis::Connection, line: &str) -> redis::Value {
    q(c, &line.split(' ').collect::<Vec<_>>())
}

/// Writes of every type, through every path that records effects: plain commands,
/// rewritten ones (relative TTLs, random pops, generated IDs, floats), blocking commands
/// served later, scripts, functions, transactions, cross-shard commands, other databases.
pub fn write_everything(server: &Server, shards: usize) {
    let mut c = server.client();
    let (a, b) = (key_on(0, shards, "a"), key_on(shards - 1, shards, "b"));
    q::<()>(&mut c, &["SET", "str", "v", "EX", "1000"]);
    q::<()>(&mut c, &["SETEX", "str2", "500", "w"]);
    q::<f64>(&mut c, &["INCRBYFLOAT", "float", "1.1"]);
    q::<f64>(&mut c, &["INCRBYFLOAT", "float", "2.25"]);
    q::<i64>(&mut c, &["EXPIRE", "float", "300"]);
    q::<i64>(&mut c, &["RPUSH", "list", "1", "2", "3", "4"]);
    q::<i64>(&mut c, &["SADD", "set", "a", "b", "c", "d", "e", "f"]);
    q::<Vec<String>>(&mut c, &["SPOP", "set", "2"]);
    q::<String>(&mut c, &["SPOP", "set"]);
    q::<i64>(&mut c, &["HSET", "hash", "f", "1", "g", "x"]);
    q::<f64>(&mut c, &["HINCRBYFLOAT", "hash", "f", "0.5"]);
    q::<i64>(&mut c, &["ZADD", "zset", "1.5", "a", "-inf", "b", "3", "c"]);
    q::<redis::Value>(&mut c, &["ZPOPMIN", "zset"]);
    q::<String>(&mut c, &["XADD", "stream", "*", "f", "1"]);
    q::<String>(
        &mut c,
        &["XADD", "stream", "MAXLEN", "~", "100", "*", "f", "2"],
    );
    q::<String>(&mut c, &["XGROUP", "CREATE", "stream", "g", "0"]);
    words(&mut c, "XREADGROUP GROUP g alice COUNT 1 STREAMS stream >");
    q::<i64>(&mut c, &["PFADD", "hll", "a", "b", "c"]);
    q::<i64>(&mut c, &["SETBIT", "bits", "100", "1"]);
    // Across shards.
    q::<()>(&mut c, &["MSET", &a, "1", &b, "2"]);
    q::<()>(&mut c, &["RENAME", &a, &format!("{a}-renamed")]);
    q::<i64>(&mut c, &["SADD", &format!("{a}-s"), "x", "y"]);
    q::<i64>(&mut c, &["SADD", &format!("{b}-s"), "y", "z"]);
    q::<i64>(
        &mut c,
        &[
            "SUNIONSTORE",
            &format!("{b}-u"),
            &format!("{a}-s"),
            &format!("{b}-s"),
        ],
    );
    q::<i64>(&mut c, &["COPY", &b, &format!("{a}-copy")]);
    // A blocked client, served by another client's push.
    let url = server.url();
    let waiter = std::thread::spawn(move || {
        let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
        let r: Vec<String> = q(&mut w, &["BLPOP", "queue", "10"]);
        r
    });
    std::thread::sleep(Duration::from_millis(200));
    q::<i64>(&mut c, &["RPUSH", "queue", "job1", "job2"]);
    assert_eq!(waiter.join().unwrap(), ["queue", "job1"]);
    // Scripts and functions.
    q::<i64>(
        &mut c,
        &[
            "EVAL",
            "redis.call('SET', KEYS[1], 'x'); redis.call('SPOP', KEYS[2]); return redis.call('INCR', KEYS[3])",
            "3",
            "{t}a",
            "{t}set",
            "{t}n",
        ],
    );
    q::<i64>(&mut c, &["SADD", "{t}set", "p", "q", "r"]);
    q::<redis::Value>(
        &mut c,
        &["EVAL", "return redis.call('SPOP', KEYS[1])", "1", "{t}set"],
    );
    q::<String>(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('bump', function(k) return redis.call('INCRBY', k[1], 5) end)",
        ],
    );
    q::<i64>(&mut c, &["FCALL", "bump", "1", "bumped"]);
    // A transaction on one shard, one across shards.
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["SET", "{t}m1", "1"]);
    q::<()>(&mut c, &["INCR", "{t}m2"]);
    q::<Vec<redis::Value>>(&mut c, &["EXEC"]);
    q::<()>(&mut c, &["MULTI"]);
    q::<()>(&mut c, &["SET", &format!("{{{a}}}-tx"), "1"]);
    q::<()>(&mut c, &["SET", &format!("{{{b}}}-tx"), "2"]);
    q::<()>(&mut c, &["SET", &format!("{{{a}}}-tx2"), "1"]);
    q::<()>(&mut c, &["SET", &format!("{{{b}}}-tx2"), "2"]);
    q::<Vec<redis::Value>>(&mut c, &["EXEC"]);
    // Other databases, FLUSHDB and SWAPDB in between.
    q::<()>(&mut c, &["SELECT", "3"]);
    q::<()>(&mut c, &["SET", "gone", "1"]);
    q::<()>(&mut c, &["FLUSHDB"]);
    q::<()>(&mut c, &["SET", "kept", "1"]);
    q::<()>(&mut c, &["SWAPDB", "3", "4"]);
    q::<()>(&mut c, &["SELECT", "0"]);
}

/// Everything a client can see of the data set, read the way Redis and Shardis answer
/// alike (no digests): every key's type, expiry time and value (read with the type's own
/// commands, sorted where the type has no order) in every database, each stream's groups
/// and pending entries, the function libraries.
pub fn contents(c: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for db in 0..16 {
        q::<String>(c, &["SELECT", &db.to_string()]);
        let mut keys: Vec<String> = q(c, &["KEYS", "*"]);
        keys.sort();
        for k in keys {
            let t: String = q(c, &["TYPE", &k]);
            let at: i64 = q(c, &["PEXPIRETIME", &k]);
            let value = match t.as_str() {
                "string" => format!("{:?}", q::<Vec<u8>>(c, &["GET", &k])),
                "list" => format!("{:?}", q::<Vec<Vec<u8>>>(c, &["LRANGE", &k, "0", "-1"])),
                "hash" => {
                    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = q(c, &["HGETALL", &k]);
                    pairs.sort();
                    format!("{pairs:?}")
                }
                "set" => {
                    let mut members: Vec<Vec<u8>> = q(c, &["SMEMBERS", &k]);
                    members.sort();
                    format!("{members:?}")
                }
                "zset" => format!(
                    "{:?}",
                    q::<Vec<(Vec<u8>, String)>>(c, &["ZRANGE", &k, "0", "-1", "WITHSCORES"])
                ),
                "stream" => stream_state(c, &k),
                // Its time passed since KEYS listed it.
                "none" => continue,
                other => panic!("unexpected type {other} of {k} in {db}"),
            };
            out.push(format!("{db} {k} {t} {at} {value}"));
        }
    }
    q::<String>(c, &["SELECT", "0"]);
    // Each library's fields, its functions in name order (Redis keeps them in a hash table).
    let libs: Vec<Vec<redis::Value>> = q(c, &["FUNCTION", "LIST", "WITHCODE"]);
    for lib in libs {
        let mut line = String::new();
        for pair in lib.chunks(2) {
            let mut value = pair[1].clone();
            if let redis::Value::Array(functions) = &mut value {
                functions.sort_by_key(|f| format!("{f:?}"));
            }
            line.push_str(&format!("{:?}={value:?} ", pair[0]));
        }
        out.push(line);
    }
    out
}

/// A stream's entries, groups and pending entries. Idle times move on; and a Redis 7.0
/// master propagates XREADGROUP as XCLAIM ... LASTID, which does not carry the group's
/// `entries-read` (its own replicas differ from it there too), so that and `lag` are left
/// out.
fn stream_state(c: &mut redis::Connection, k: &str) -> String {
    let entries: redis::Value = q(c, &["XRANGE", k, "-", "+"]);
    let mut line = format!("{entries:?}");
    let groups: Vec<Vec<redis::Value>> = q(c, &["XINFO", "GROUPS", k]);
    for g in groups {
        let name: String = redis::from_redis_value(&g[1]).unwrap();
        for pair in g.chunks(2) {
            let field: String = redis::from_redis_value(&pair[0]).unwrap();
            if field != "entries-read" && field != "lag" {
                line.push_str(&format!(" {field}={:?}", pair[1]));
            }
        }
        let pending: Vec<(String, String, i64, i64)> =
            q(c, &["XPENDING", k, &name, "-", "+", "100"]);
        let pending: Vec<(String, String, i64)> =
            pending.into_iter().map(|(i, o, _, n)| (i, o, n)).collect();
        line.push_str(&format!(" {name}={pending:?}"));
    }
    line
}

/// Polls `check` every 20 ms until it holds or `secs` pass; false if it never did.
pub fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// One field of INFO (all sections).
pub fn info_field(c: &mut redis::Connection, name: &str) -> Option<String> {
    let info: String = q(c, &["INFO", "everything"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
}
