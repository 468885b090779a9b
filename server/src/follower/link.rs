//! The link task: one per REPLICAOF (epoch), on executor 0. Connects to the master,
//! handshakes as Redis' replica does (PING, AUTH, REPLCONF listening-port, REPLCONF capa,
//! PSYNC), then receives the RDB of a full synchronization or continues, and applies the
//! stream until the link breaks; then reconnects with backoff, until REPLICAOF changes.

use super::{stream, Follower, Transfer};
use crate::local::Local;
use crate::log;
use bytes::{Buf, BytesMut};
use futures_lite::{AsyncRead, AsyncWriteExt};
use glommio::net::TcpStream;
use replication::follower::line::first_line;
use replication::follower::reply::{parse_psync_reply, ping_accepted, PsyncReply};
use replication::follower::transfer::{parse_header, Header, Payload};
use replication::follower::{encode_command, psync_command, LinkState};
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The first wait before reconnecting; it doubles up to [`RETRY_MAX`] while attempts fail.
const RETRY_MIN: Duration = Duration::from_millis(100);
/// Redis retries once a second (its replication cron); so do we at most.
const RETRY_MAX: Duration = Duration::from_secs(1);
/// Bytes one socket read takes at most.
const READ_CHUNK: usize = 64 * 1024;

/// Why a link ended.
pub(super) enum Stop {
    /// REPLICAOF changed the master (or NO ONE): this task must end.
    Cancelled,
    /// The link failed (the message is logged) and is made again.
    Failed(String),
}

/// What the link's steps return: their value, or why the link ends.
pub(super) type LinkResult<T> = Result<T, Stop>;

fn failed<T>(msg: impl Into<String>) -> LinkResult<T> {
    Err(Stop::Failed(msg.into()))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Resolves when the link of `epoch` must stop.
async fn cancelled(f: &Follower, epoch: u64) {
    std::future::poll_fn(|cx| {
        f.link_waker.register(cx.waker());
        if f.cancelled(epoch) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// One TCP connection with the master and what arrived on it, not consumed yet.
pub(super) struct Link {
    /// The executor the link runs on (0).
    pub(super) local: Rc<Local>,
    /// The REPLICAOF this link serves (see `Follower::cancelled`).
    pub(super) epoch: u64,
    stream: TcpStream,
    /// Bytes received and not consumed yet.
    pub(super) rbuf: BytesMut,
    scratch: Vec<u8>,
    /// `repl-timeout`.
    pub(super) timeout: Duration,
}

impl Link {
    async fn connect(
        local: &Rc<Local>,
        epoch: u64,
        addr: SocketAddr,
        timeout: Duration,
    ) -> LinkResult<Link> {
        let f = &local.shared.follower;
        let connect = async { Some(TcpStream::connect_timeout(addr, timeout).await) };
        let stop = async {
            cancelled(f, epoch).await;
            None
        };
        let stream = match futures_lite::future::or(connect, stop).await {
            None => return Err(Stop::Cancelled),
            Some(Ok(s)) => s,
            Some(Err(e)) => return failed(format!("Error condition on socket for SYNC: {e}")),
        };
        let _ = stream.set_nodelay(true);
        Ok(Link {
            local: local.clone(),
            epoch,
            stream,
            rbuf: BytesMut::new(),
            scratch: vec![0; READ_CHUNK],
            timeout,
        })
    }

    /// The master's address (the master session's CLIENT address).
    pub(super) fn peer_addr(&self) -> SocketAddr {
        self.stream
            .peer_addr()
            .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into())
    }

    /// Our end of the connection.
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.stream
            .local_addr()
            .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into())
    }

    /// The socket's descriptor (the master session's `fd`).
    pub(super) fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.stream.as_raw_fd()
    }

    /// Reads what arrives within `wait` into `rbuf`: the bytes read, or None when nothing
    /// came. The master closing the connection is a failure.
    pub(super) async fn read(&mut self, wait: Duration) -> LinkResult<Option<usize>> {
        let f = &self.local.shared.follower;
        let epoch = self.epoch;
        let n = {
            let (stream, scratch) = (&mut self.stream, &mut self.scratch);
            let read = async {
                Some(Some(
                    std::future::poll_fn(|cx| {
                        std::pin::Pin::new(&mut *stream).poll_read(cx, scratch)
                    })
                    .await,
                ))
            };
            let stop = async {
                cancelled(f, epoch).await;
                None
            };
            let idle = async {
                glommio::timer::sleep(wait).await;
                Some(None)
            };
            futures_lite::future::or(read, futures_lite::future::or(stop, idle)).await
        };
        match n {
            None => Err(Stop::Cancelled),
            Some(None) => Ok(None),
            Some(Some(Ok(0))) => failed("Connection with master lost."),
            Some(Some(Ok(n))) => {
                self.rbuf.extend_from_slice(&self.scratch[..n]);
                self.local.stats.borrow_mut().net_input_bytes += n as u64;
                Ok(Some(n))
            }
            Some(Some(Err(e))) => failed(format!("Error reading from MASTER: {e}")),
        }
    }

    /// Writes `bytes` to the master (within `repl-timeout`).
    pub(super) async fn send(&mut self, bytes: &[u8]) -> LinkResult<()> {
        let f = &self.local.shared.follower;
        let epoch = self.epoch;
        let timeout = self.timeout;
        let r = {
            let stream = &mut self.stream;
            let write = async { Some(Some(stream.write_all(bytes).await)) };
            let stop = async {
                cancelled(f, epoch).await;
                None
            };
            let late = async {
                glommio::timer::sleep(timeout).await;
                Some(None)
            };
            futures_lite::future::or(write, futures_lite::future::or(stop, late)).await
        };
        match r {
            None => Err(Stop::Cancelled),
            Some(None) => failed("Timeout writing to MASTER"),
            Some(Some(Ok(()))) => {
                self.local.stats.borrow_mut().net_output_bytes += bytes.len() as u64;
                Ok(())
            }
            Some(Some(Err(e))) => failed(format!("Error writing to MASTER: {e}")),
        }
    }

    /// The next reply line (see `replication::follower::line`), waiting at most
    /// `repl-timeout` for each read.
    async fn line(&mut self, on_timeout: &str) -> LinkResult<Vec<u8>> {
        loop {
            match first_line(&self.rbuf) {
                Err(e) => return failed(e.to_string()),
                Ok(Some((line, n))) => {
                    let line = line.to_vec();
                    self.rbuf.advance(n);
                    return Ok(line);
                }
                Ok(None) => {
                    if self.read(self.timeout).await?.is_none() {
                        return failed(on_timeout);
                    }
                }
            }
        }
    }

    /// Sends one command of the handshake and reads its reply line.
    async fn ask<A: AsRef<[u8]>>(&mut self, args: &[A]) -> LinkResult<Vec<u8>> {
        self.send(&encode_command(args)).await?;
        self.line("Timeout connecting to the MASTER...").await
    }
}

/// The link task of `epoch`: connects and reconnects until REPLICAOF changes.
pub(super) async fn run(local: Rc<Local>, epoch: u64) {
    let f = &local.shared.follower;
    let mut delay = RETRY_MIN;
    while !f.cancelled(epoch) {
        let mut reached = false;
        match connection(&local, epoch, &mut reached).await {
            Err(Stop::Cancelled) => break,
            Err(Stop::Failed(e)) => log::warning(&e),
            Ok(never) => match never {},
        }
        f.update_if(epoch, |s| {
            if s.link == LinkState::Connected {
                s.down_since = Some(Instant::now());
            }
            s.link = LinkState::Connect;
            s.last_io = None;
            s.transfer = None;
            s.read_offset = s.ids.offset;
        });
        if reached {
            delay = RETRY_MIN;
        }
        let stop = async {
            cancelled(f, epoch).await;
            true
        };
        let pause = async {
            glommio::timer::sleep(delay).await;
            false
        };
        if futures_lite::future::or(stop, pause).await {
            break;
        }
        delay = (delay * 2).min(RETRY_MAX);
    }
    f.link_running.store(false, Ordering::Release);
}

/// What the link needs from the configuration, read once per connection.
struct Settings {
    master: (String, u16),
    timeout: Duration,
    auth: Vec<u8>,
    user: Vec<u8>,
    port: u16,
}

/// One connection with the master, from connect to the end of its stream; `reached` is set
/// once the master accepted the synchronization (the backoff starts over).
async fn connection(
    local: &Rc<Local>,
    epoch: u64,
    reached: &mut bool,
) -> LinkResult<std::convert::Infallible> {
    let f = &local.shared.follower;
    let settings = {
        let Some(master) = f.state().master.clone() else {
            return Err(Stop::Cancelled);
        };
        let c = local.shared.config();
        Settings {
            master,
            timeout: Duration::from_secs(c.repl_timeout.max(1)),
            auth: c.masterauth.clone(),
            user: c.masteruser.clone(),
            port: local.shared.port,
        }
    };
    let (host, port) = &settings.master;
    if !f.update_if(epoch, |s| s.link = LinkState::Connecting) {
        return Err(Stop::Cancelled);
    }
    log::notice(&format!("Connecting to MASTER {host}:{port}"));
    // Resolving may block on DNS for a name; Redis resolves synchronously too.
    let addr = match (host.as_str(), *port).to_socket_addrs() {
        Ok(mut addrs) => match addrs.next() {
            Some(a) => a,
            None => {
                return failed(format!(
                    "Unable to connect to MASTER: no address for {host}"
                ))
            }
        },
        Err(e) => return failed(format!("Unable to connect to MASTER: {e}")),
    };
    let mut link = Link::connect(local, epoch, addr, settings.timeout).await?;
    log::notice("MASTER <-> REPLICA sync started");
    if !f.update_if(epoch, |s| s.link = LinkState::Handshake) {
        return Err(Stop::Cancelled);
    }
    handshake(&mut link, &settings).await?;

    let cursor = f.state().cursor();
    link.send(&psync_command(cursor.as_ref())).await?;
    let reply = loop {
        // Empty lines are the master's keep-alive while it prepares its answer.
        let line = link.line("Timeout connecting to the MASTER...").await?;
        if !line.is_empty() {
            break line;
        }
    };
    match parse_psync_reply(&reply) {
        PsyncReply::FullResync { replid, offset } => {
            log::notice(&format!(
                "Full resync from master: {}:{offset}",
                replid.as_deref().unwrap_or("")
            ));
            full_sync(&mut link, replid, offset).await?;
        }
        PsyncReply::Continue { replid } => {
            log::notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            let updated = f.update_if(epoch, |s| {
                if let Some(new) = replid {
                    if new != s.ids.replid {
                        // The master's history goes on under a new id (a failover): ours
                        // too, the old one valid up to here.
                        s.ids.replid2 = std::mem::replace(&mut s.ids.replid, new);
                        s.ids.second_offset = s.ids.offset as i64 + 1;
                    }
                }
                s.link = LinkState::Connected;
                s.last_io = Some(Instant::now());
                s.down_since = None;
                s.read_offset = s.ids.offset;
            });
            if !updated {
                return Err(Stop::Cancelled);
            }
        }
        PsyncReply::TryLater(e) => {
            return failed(format!(
                "Master is currently unable to PSYNC but should be in the future: {e}"
            ))
        }
        PsyncReply::Unsupported(e) => {
            return failed(format!("Unexpected reply to PSYNC from master: {e}"))
        }
    }
    *reached = true;
    stream::apply(&mut link).await
}

/// PING, AUTH, REPLCONF listening-port, REPLCONF capa: judged as Redis judges them.
async fn handshake(link: &mut Link, settings: &Settings) -> LinkResult<()> {
    let reply = link.ask(&["PING"]).await?;
    if !ping_accepted(&reply) {
        return failed(format!(
            "Error reply to PING from master: '{}'",
            lossy(&reply)
        ));
    }
    log::notice("Master replied to PING, replication can continue...");
    if !settings.auth.is_empty() {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if !settings.user.is_empty() {
            args.push(&settings.user);
        }
        args.push(&settings.auth);
        let reply = link.ask(&args).await?;
        if reply.starts_with(b"-") {
            return failed(format!("Unable to AUTH to MASTER: {}", lossy(&reply)));
        }
    }
    let port = settings.port.to_string();
    let reply = link.ask(&["REPLCONF", "listening-port", &port]).await?;
    if reply.starts_with(b"-") {
        log::notice(&format!(
            "(Non critical) Master does not understand REPLCONF listening-port: {}",
            lossy(&reply)
        ));
    }
    // eof: we take an EOF-marked payload (diskless masters); psync2: +CONTINUE <new id>.
    let reply = link
        .ask(&["REPLCONF", "capa", "eof", "capa", "psync2"])
        .await?;
    if reply.starts_with(b"-") {
        log::notice(&format!(
            "(Non critical) Master does not understand REPLCONF capa: {}",
            lossy(&reply)
        ));
    }
    Ok(())
}

/// +FULLRESYNC: receives the RDB into a temporary file, replaces the data set from it and
/// takes the master's history as ours.
async fn full_sync(link: &mut Link, replid: Option<String>, offset: u64) -> LinkResult<()> {
    let local = link.local.clone();
    let f = &local.shared.follower;
    let epoch = link.epoch;
    // Whatever we had is about to go: nothing to continue from until this succeeds.
    let started = f.update_if(epoch, |s| {
        s.psync = false;
        s.link = LinkState::Transfer;
        s.transfer = Some(Transfer {
            total: -1,
            read: 0,
            last_io: Instant::now(),
        });
    });
    if !started {
        return Err(Stop::Cancelled);
    }
    let file = receive_rdb(link).await?;
    replace_data_set(&local, &file.0).await.or_else(|e| {
        failed(format!(
            "Failed trying to load the MASTER synchronization DB from disk: {e}"
        ))
    })?;
    drop(file);
    let done = f.update_if(epoch, |s| {
        s.ids.replid = replid.clone().unwrap_or_else(|| "0".repeat(40));
        s.ids.replid2 = "0".repeat(40);
        s.ids.second_offset = -1;
        s.ids.offset = offset;
        s.psync = replid.is_some();
        s.stream_db = 0;
        s.read_offset = offset;
        s.link = LinkState::Connected;
        s.last_io = Some(Instant::now());
        s.down_since = None;
        s.transfer = None;
    });
    if !done {
        return Err(Stop::Cancelled);
    }
    log::notice("MASTER <-> REPLICA sync: Finished with success");
    Ok(())
}

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Receives the payload (`$<len>` or `$EOF:<mark>`) into `temp-<time>.<pid>.rdb` in `dir`,
/// as Redis' disk-based load does. What follows it stays in the link's buffer.
async fn receive_rdb(link: &mut Link) -> LinkResult<TempFile> {
    let local = link.local.clone();
    let f = &local.shared.follower;
    let epoch = link.epoch;
    let progress = |read: u64, total: Option<i64>| {
        f.update_if(epoch, |s| {
            if let Some(t) = s.transfer.as_mut() {
                t.read = read;
                t.last_io = Instant::now();
                if let Some(total) = total {
                    t.total = total;
                }
            }
        })
    };
    let framing = loop {
        let line = link
            .line("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.")
            .await?;
        match parse_header(&line) {
            Ok(Header::KeepAlive) => {
                progress(0, None);
            }
            Ok(Header::Payload(framing)) => break framing,
            Err(e) => return failed(e.0),
        }
    };
    let mut payload = Payload::new(framing);
    if payload.total() > 0 {
        log::notice(&format!(
            "MASTER <-> REPLICA sync: receiving {} bytes from master to disk",
            payload.total()
        ));
    } else {
        log::notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
    }
    progress(0, Some(payload.total() as i64));
    let dir = local.shared.config().dir.clone();
    let path = temp_path(&dir);
    let mut file = std::fs::File::create(&path).map_err(|e| {
        Stop::Failed(format!(
            "Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}"
        ))
    })?;
    let temp = TempFile(path);
    let mut done = payload.is_empty();
    while !done {
        if link.rbuf.is_empty() && link.read(link.timeout).await?.is_none() {
            return failed(
                "Timeout receiving bulk data from MASTER... If the problem persists try to set \
                 the 'repl-timeout' parameter in redis.conf to a larger value.",
            );
        }
        let fed = payload.feed(&link.rbuf);
        file.write_all(&link.rbuf[..fed.used]).map_err(|e| {
            Stop::Failed(format!(
                "Write error or short write writing to the DB dump file needed for MASTER <-> \
                 REPLICA synchronization: {e}"
            ))
        })?;
        link.rbuf.advance(fed.used);
        done = fed.done;
        if !progress(payload.read(), None) {
            return Err(Stop::Cancelled);
        }
    }
    // The EOF mark is not RDB data.
    file.set_len(payload.read() - payload.trailer_len())
        .map_err(|e| {
            Stop::Failed(format!(
                "Error truncating the RDB file received from the master for SYNC: {e}"
            ))
        })?;
    Ok(temp)
}

/// `temp-<unix time>.<pid>.rdb` in `dir`, Redis' name for the file of a full
/// synchronization.
fn temp_path(dir: &Path) -> PathBuf {
    let secs = crate::local::unix_ms() / 1000;
    dir.join(format!("temp-{secs}.{}.rdb", std::process::id()))
}

/// Replaces the data set with the master's RDB at `path`; the server answers -LOADING to
/// its clients meanwhile.
async fn replace_data_set(local: &Rc<Local>, path: &std::path::Path) -> Result<(), String> {
    let f = &local.shared.follower;
    f.update(|s| s.loading = true);
    let r = crate::rdb_load::replace(local, path).await;
    f.update(|s| s.loading = false);
    r
}
