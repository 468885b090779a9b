//! MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
//! [AUTH2 username password] [KEYS key ...] (Redis' `migrateCommand`): the keys are sent to
//! another Redis-protocol server as RESTORE commands and deleted here once it acknowledged
//! them (unless COPY).
//!
//! The keys stay locked (exclusive, `coord::Tx`) from their DUMP to their deletion, so nobody
//! sees or changes them in between, as Redis' single thread guarantees; other keys flow
//! meanwhile. The connection to the target is asynchronous, on the connection's executor:
//! no shard waits for it. Deviation: Redis keeps target connections for 10 s; here each call
//! opens its own (so it always sends SELECT, and there is no reconnection after a failure
//! of a cached socket).

use crate::client::Session;
use crate::coord::Tx;
use crate::local::{unix_ms, Local};
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use replication::follower::line::first_line;
use shard::effects::encode_command;
use shard::locks::Mode;
use shard::num::parse_i64;
use shard::reply::err;
use shard::{Cmd, Reply};
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::time::Duration;

const IOERR_CONNECT: &str = "IOERR error or timeout connecting to the client";
const IOERR_WRITE: &str = "IOERR error or timeout writing to target instance";
const IOERR_READ: &str = "IOERR error or timeout reading to target instance";
const KEYS_NEED_EMPTY_KEY: &str =
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";

/// MIGRATE's arguments, parsed.
#[derive(Debug, PartialEq)]
struct Request {
    copy: bool,
    replace: bool,
    /// AUTH password, or AUTH2 username password.
    auth: Option<(Option<Vec<u8>>, Vec<u8>)>,
    /// Argument positions of the keys.
    keys: std::ops::Range<usize>,
    db: i64,
    /// Milliseconds, for each step (connect, write, each reply).
    timeout: Duration,
}

/// Parses as Redis: the options first (syntax errors), then the timeout and the database
/// (integers); a timeout of 0 or less means 1000 ms.
fn parse(cmd: &Cmd) -> Result<Request, &'static str> {
    let (mut copy, mut replace, mut auth) = (false, false, None);
    let mut keys = 3..4;
    let mut j = 6;
    while j < cmd.len() {
        let more = cmd.len() - 1 - j;
        let a = &cmd[j];
        if a.eq_ignore_ascii_case(b"copy") {
            copy = true;
        } else if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if a.eq_ignore_ascii_case(b"auth") {
            if more < 1 {
                return Err(err::SYNTAX);
            }
            auth = Some((None, cmd[j + 1].to_vec()));
            j += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            if more < 2 {
                return Err(err::SYNTAX);
            }
            auth = Some((Some(cmd[j + 1].to_vec()), cmd[j + 2].to_vec()));
            j += 2;
        } else if a.eq_ignore_ascii_case(b"keys") {
            if !cmd[3].is_empty() {
                return Err(KEYS_NEED_EMPTY_KEY);
            }
            keys = j + 1..cmd.len();
            break;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    let timeout = parse_i64(&cmd[5]).ok_or(err::NOT_INT)?;
    let db = parse_i64(&cmd[4]).ok_or(err::NOT_INT)?;
    let timeout = if timeout <= 0 { 1000 } else { timeout as u64 };
    Ok(Request {
        copy,
        replace,
        auth,
        keys,
        db,
        timeout: Duration::from_millis(timeout),
    })
}

/// A key found here: its name, payload and absolute expiry (0: none).
struct Found {
    key: Bytes,
    payload: Vec<u8>,
    expire_at: u64,
}

pub async fn migrate(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let req = match parse(cmd) {
        Ok(r) => r,
        Err(e) => return out.error(e),
    };
    let db = sess.db;
    let names: Vec<Bytes> = req.keys.clone().map(|i| cmd.arg_bytes(i)).collect();
    // Inside EXEC or a script every database is locked already (MIGRATE needs the whole
    // keyspace there, see `multi::whole_keyspace`).
    let mut tx = Tx::default();
    let own_locks = !sess.holds_db_locks;
    if own_locks {
        for k in &names {
            tx.add_key(local, db, Mode::Exclusive, k.clone(), None);
        }
        tx.lock(local).await;
    }
    migrate_locked(local, sess, cmd, &req, names, out).await;
    if own_locks {
        tx.release(local).await;
    }
}

/// MIGRATE while its keys are locked.
async fn migrate_locked(
    local: &Rc<Local>,
    sess: &Session,
    cmd: &Cmd,
    req: &Request,
    names: Vec<Bytes>,
    out: &mut Reply,
) {
    let found = dump_keys(local, sess.db, names).await;
    if found.is_empty() {
        return out.simple("NOKEY");
    }
    let mut target = match Target::connect(&cmd[1], &cmd[2], req.timeout).await {
        Ok(t) => t,
        Err(e) => return out.error(e),
    };
    // Keys that expired since their lookup are left out, as Redis leaves them.
    let now = unix_ms();
    let sent: Vec<&Found> = found
        .iter()
        .filter(|f| f.expire_at == 0 || f.expire_at >= now)
        .collect();
    let mut request = Vec::new();
    if let Some((user, password)) = &req.auth {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        args.extend(user.as_deref());
        args.push(password);
        encode_command(&mut request, args.into_iter());
    }
    let db = itoa::Buffer::new().format(req.db).to_owned();
    encode_command(&mut request, [&b"SELECT"[..], db.as_bytes()].into_iter());
    for f in &sent {
        let ttl = match f.expire_at {
            0 => 0,
            at => at.saturating_sub(now).max(1),
        };
        let ttl = itoa::Buffer::new().format(ttl).to_owned();
        let mut args: Vec<&[u8]> = vec![b"RESTORE", &f.key, ttl.as_bytes(), &f.payload];
        if req.replace {
            args.push(b"REPLACE");
        }
        encode_command(&mut request, args.into_iter());
    }
    if !target.send(&request).await {
        return out.error(IOERR_WRITE);
    }
    // The AUTH and SELECT replies, then one per RESTORE. An error in the first two fails
    // every RESTORE; the first error is reported, and the keys acknowledged around it are
    // deleted all the same, as in Redis.
    let mut preamble_error: Option<Vec<u8>> = None;
    for _ in 0..req.auth.is_some() as usize + 1 {
        let Some(line) = target.line().await else {
            return out.error(IOERR_READ);
        };
        if line.first() == Some(&b'-') && preamble_error.is_none() {
            preamble_error = Some(line);
        }
    }
    let mut first_error = None;
    let mut acknowledged: Vec<Bytes> = Vec::new();
    let mut socket_error = false;
    for f in &sent {
        let Some(line) = target.line().await else {
            socket_error = true;
            break;
        };
        if preamble_error.is_some() || line.first() == Some(&b'-') {
            first_error.get_or_insert_with(|| preamble_error.clone().unwrap_or(line));
        } else if !req.copy {
            acknowledged.push(f.key.clone());
        }
    }
    if !acknowledged.is_empty() {
        delete_keys(local, sess, acknowledged).await;
    }
    match first_error {
        Some(e) => {
            let mut msg = b"ERR Target instance replied with error: ".to_vec();
            msg.extend_from_slice(&e[1..]);
            out.error_bytes(&msg);
        }
        None if socket_error => out.error(IOERR_READ),
        None => out.ok(),
    }
}

/// Looks each key up as DUMP does (a read lookup), in the order given: the ones that exist,
/// with their payloads. One message per shard.
async fn dump_keys(local: &Rc<Local>, db: usize, names: Vec<Bytes>) -> Vec<Found> {
    let mut by_shard: Vec<(usize, Vec<(usize, Bytes)>)> = Vec::new();
    for (i, k) in names.into_iter().enumerate() {
        let s = local.shard_of(&k);
        match by_shard.iter_mut().find(|(x, _)| *x == s) {
            Some((_, v)) => v.push((i, k)),
            None => by_shard.push((s, vec![(i, k)])),
        }
    }
    let mut found: Vec<(usize, Found)> = Vec::new();
    for (s, keys) in by_shard {
        let part = local
            .call(s, move |l| {
                let now = unix_ms();
                let mut shard = l.shard();
                let d = &mut shard.dbs[db];
                keys.into_iter()
                    .filter_map(|(i, key)| {
                        let e = d.get(&key, now)?;
                        let f = Found {
                            payload: persist::dump::dump(&e.value),
                            expire_at: e.expire_at,
                            key,
                        };
                        Some((i, f))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        found.extend(part);
    }
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, f)| f).collect()
}

/// Deletes the migrated keys from their shards as DELs: their effects (the AOF and replicas
/// see DEL, in one transaction when they span shards), "del" events, WATCH and tracking.
async fn delete_keys(local: &Rc<Local>, sess: &Session, keys: Vec<Bytes>) {
    let (db, client) = (sess.db, sess.info.id);
    let by_shard = crate::multi::by_shard(local, keys.into_iter().map(|k| (db, k)));
    let own_group = sess.fx_group.is_none() && by_shard.len() > 1;
    let group = if own_group {
        local.fx_group_open()
    } else {
        sess.fx_group
    };
    for (s, keys) in by_shard {
        local
            .call(s, move |l| {
                let keys: Vec<Bytes> = keys.into_iter().map(|(_, k)| k).collect();
                let mut args: Vec<&[u8]> = vec![b"DEL"];
                args.extend(keys.iter().map(|k| &k[..]));
                let del = Cmd::from_args(&args);
                let mut shard = l.shard();
                if let Some(g) = group {
                    shard.effects.enter(g);
                }
                shard.serve_client(client);
                let dirty = shard.dirty;
                let mut reply = Reply::new(false);
                shard::keys::del(&mut shard.ctx(db, unix_ms(), &mut reply), &del);
                let wrote = shard.dirty != dirty;
                shard.finish_effects(db, wrote, del.args());
                if wrote {
                    for k in &keys {
                        shard.dbs[db].touch(k);
                    }
                    shard.changes_by(client);
                }
                if group.is_some() {
                    shard.effects.leave();
                }
            })
            .await;
    }
    if own_group {
        local.fx_group_commit(group).await;
    }
}

/// The connection to the target server.
struct Target {
    stream: TcpStream,
    timeout: Duration,
    rbuf: Vec<u8>,
}

/// `work`, or None when `timeout` passes first.
async fn within<T>(timeout: Duration, work: impl Future<Output = T>) -> Option<T> {
    let late = async {
        glommio::timer::sleep(timeout).await;
        None
    };
    futures_lite::future::or(async { Some(work.await) }, late).await
}

impl Target {
    /// Connects to `host`:`port` within `timeout`, failing with the error Redis 7.2 gives:
    /// an address that does not resolve fails "connecting", a connection refused or timed
    /// out fails "writing" (Redis' non-blocking connect reports it at the first write). The
    /// port is read as Redis' `atoi` reads it, wrapping as its `htons` does. A host name is
    /// resolved on a thread of its own: DNS must not stall the executor.
    async fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<Target, &'static str> {
        let port = atoi_port(port).ok_or(IOERR_CONNECT)?;
        let host = std::str::from_utf8(host)
            .map_err(|_| IOERR_CONNECT)?
            .to_owned();
        let addr = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => {
                let (tx, rx) = futures_channel::oneshot::channel();
                std::thread::spawn(move || {
                    let addr = (host.as_str(), port).to_socket_addrs().ok()?.next();
                    tx.send(addr).ok()
                });
                let resolved = within(timeout, rx).await.and_then(Result::ok).flatten();
                resolved.ok_or(IOERR_CONNECT)?
            }
        };
        let stream = TcpStream::connect_timeout(addr, timeout)
            .await
            .map_err(|_| IOERR_WRITE)?;
        let _ = stream.set_nodelay(true);
        Ok(Target {
            stream,
            timeout,
            rbuf: Vec::new(),
        })
    }

    /// Writes `bytes` within the timeout.
    async fn send(&mut self, bytes: &[u8]) -> bool {
        matches!(
            within(self.timeout, self.stream.write_all(bytes)).await,
            Some(Ok(()))
        )
    }

    /// The next reply line, each read within the timeout; None on a timeout, a closed
    /// connection or an endless line.
    async fn line(&mut self) -> Option<Vec<u8>> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((line, n)) = first_line(&self.rbuf).ok()? {
                let line = line.to_vec();
                self.rbuf.drain(..n);
                return Some(line);
            }
            match within(self.timeout, self.stream.read(&mut chunk)).await? {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.rbuf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// A port as C's `atoi` reads it and `htons` keeps it: leading blanks and digits, the rest
/// ignored ("abc" is 0), modulo 2^16. A negative number names no service: None.
fn atoi_port(arg: &[u8]) -> Option<u16> {
    let s = arg.trim_ascii_start();
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u32, |n, &c| {
            n.wrapping_mul(10).wrapping_add((c - b'0') as u32)
        });
    if negative && n != 0 {
        return None;
    }
    Some(n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(args: &[&str]) -> Result<Request, &'static str> {
        let mut all = vec!["MIGRATE", "h", "1"];
        all.extend_from_slice(args);
        parse(&Cmd::from_args(&all))
    }

    #[test]
    fn arguments_as_redis_reads_them() {
        let r = req(&["k", "3", "0"]).unwrap();
        assert_eq!(
            (r.keys, r.db, r.timeout),
            (3..4, 3, Duration::from_millis(1000))
        );
        let r = req(&[
            "", "0", "50", "COPY", "replace", "AUTH2", "u", "p", "KEYS", "a", "b",
        ])
        .unwrap();
        assert!(r.copy && r.replace);
        assert_eq!(r.auth, Some((Some(b"u".to_vec()), b"p".to_vec())));
        assert_eq!((r.keys, r.timeout), (12..14, Duration::from_millis(50)));
        assert_eq!(
            req(&["", "0", "5", "AUTH", "KEYS"]).unwrap().auth,
            Some((None, b"KEYS".to_vec()))
        );
        assert_eq!(req(&["k", "0", "5", "KEYS", "a"]), Err(KEYS_NEED_EMPTY_KEY));
        assert_eq!(req(&["k", "0", "5", "AUTH"]), Err(err::SYNTAX));
        assert_eq!(req(&["k", "0", "5", "AUTH2", "u"]), Err(err::SYNTAX));
        assert_eq!(req(&["k", "0", "5", "NOPE"]), Err(err::SYNTAX));
        assert_eq!(
            req(&["k", "x", "5", "NOPE"]),
            Err(err::SYNTAX),
            "options first"
        );
        assert_eq!(req(&["k", "x", "5"]), Err(err::NOT_INT));
        assert_eq!(
            req(&["k", "0", "-5"]).unwrap().timeout,
            Duration::from_millis(1000)
        );
    }

    #[test]
    fn ports_as_atoi_reads_them() {
        assert_eq!(atoi_port(b"6379"), Some(6379));
        assert_eq!(atoi_port(b" 6379x"), Some(6379));
        assert_eq!(atoi_port(b"abc"), Some(0));
        assert_eq!(atoi_port(b"99999"), Some(99999u32 as u16));
        assert_eq!(atoi_port(b"-1"), None);
    }
}
