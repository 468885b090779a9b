//! The leader side of replication: replicas (a real Redis 7, another Shardis, `redis-cli
//! --rdb`) connect with SYNC or PSYNC and receive the data set as an RDB, then the stream
//! of every write's effects. ARCHITECTURE.md, "Replication".
//!
//! - **The stream.** Every shard drains its effects log (`propagate::drain`) into one
//!   [`Stream`] (the "replication shard": a mutex-guarded sequence with offsets and a
//!   backlog, `replication::stream`). A shard's pieces keep their order; pieces of different
//!   shards interleave in the order they were drained, and no reply leaves before its
//!   effects are drained (`propagate::settle`), so a write a client saw acknowledged is in
//!   the stream before any write that client sends next. The stream starts when the first
//!   replica synchronizes (effects are recorded from then on, as Redis creates its backlog
//!   then) and stays on.
//! - **Full synchronization.** At one barrier (every database locked on every shard, as for
//!   FLUSHALL) each shard drains its log and starts a forkless snapshot (`shard::snapshot`)
//!   serialized as RDB entries; the stream's offset there is the one `+FULLRESYNC` names.
//!   Each shard then walks its snapshot between its connections' turns and hands the pieces
//!   to the replica's connection, which sends them as one RDB file: streamed with an EOF
//!   mark to replicas that announce `capa eof` (Redis' diskless transfer), through a
//!   temporary file in `dir` to the others (`redis-cli --rdb`, `repl-diskless-sync no`).
//!   Memory does not double and no shard stops for the snapshot.
//! - **Partial synchronization.** `PSYNC <replid> <offset>` continues (`+CONTINUE`) when
//!   the replication id is ours and the backlog still holds that offset.
//! - **Acknowledgements.** Replicas send `REPLCONF ACK <offset>` every second and when the
//!   stream asks (`REPLCONF GETACK *`, which WAIT appends); WAIT counts the replicas whose
//!   acknowledged offset reached the stream's offset when WAIT was called.
//!
//! A cross-shard transaction or script reaches the stream as one `MULTI ... EXEC` holding
//! every shard's part ([`Leader::append_group`]); in the AOF each shard's file has its part.

use crate::client::Session;
use crate::local::Local;
use crate::log;
use crate::socket::Socket;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use replication::stream::Stream;
use shard::effects::Chunk;
use shard::Reply;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

/// Bytes a replica may fall behind the stream before it is dropped (Redis'
/// `client-output-buffer-limit replica` hard limit, 256 MB).
const MAX_LAG: u64 = 256 << 20;

/// Bytes sent to a replica with one socket write.
const SEND_MAX: usize = 1 << 20;

/// A replica's state as INFO shows it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// Waiting for the snapshot to start.
    WaitBgsave,
    /// Receiving the RDB.
    SendBulk,
    /// Receiving the stream.
    Online,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::WaitBgsave => "wait_bgsave",
            State::SendBulk => "send_bulk",
            State::Online => "online",
        }
    }
}

/// One connected replica.
pub struct Replica {
    /// Its connection's client id.
    id: u64,
    ip: IpAddr,
    /// The port it listens on (`REPLCONF listening-port`).
    port: u16,
    state: AtomicU8,
    /// The stream offset the next byte sent to it has: the backlog keeps everything from
    /// there on.
    sent: AtomicU64,
    /// The offset it acknowledged.
    acked: AtomicU64,
    /// When it last acknowledged (Unix ms).
    acked_at: AtomicU64,
    /// It acknowledged at least once since it connected.
    heard: AtomicBool,
    /// Dropped: it fell too far behind, or a snapshot it needed was aborted.
    dropped: AtomicBool,
}

impl Replica {
    fn state(&self) -> State {
        match self.state.load(Ordering::Relaxed) {
            0 => State::WaitBgsave,
            1 => State::SendBulk,
            _ => State::Online,
        }
    }

    fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Relaxed);
    }
}

/// What the replica told us with REPLCONF before it asked to synchronize (in its session).
#[derive(Default, Clone)]
pub struct ReplConf {
    pub listening_port: u16,
    /// It understands the EOF-mark transfer (`capa eof`).
    pub capa_eof: bool,
    /// It only wants the RDB (`redis-cli --rdb`): no stream after it.
    pub rdb_only: bool,
}

/// SYNC or PSYNC, left in the session for the connection to serve once the reply buffer
/// is out (the connection then belongs to the replica).
pub enum SyncRequest {
    Sync,
    Psync { replid: Vec<u8>, offset: i64 },
}

struct Inner {
    stream: Stream,
    /// The stream's offset after the last write's effects (not counting the leader's own
    /// PINGs and GETACKs): what WAIT waits for. A replica acknowledges a GETACK with the
    /// offset before it, as Redis replicas do.
    written: u64,
    replid: String,
    replicas: Vec<Arc<Replica>>,
}

/// Tasks waiting for something another thread changes (the stream growing, an
/// acknowledgement), woken all at once when it may have happened.
#[derive(Default)]
struct Waiters(Mutex<Vec<Waker>>);

impl Waiters {
    fn wake_all(&self) {
        let woken = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        woken.into_iter().for_each(Waker::wake);
    }

    /// Resolves once `ready` holds (checked again after registering, so a wake between
    /// the check and the registration is not lost).
    async fn until(&self, ready: impl Fn() -> bool) {
        std::future::poll_fn(|cx| {
            if ready() {
                return Poll::Ready(());
            }
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(cx.waker().clone());
            if ready() {
                return Poll::Ready(());
            }
            Poll::Pending
        })
        .await
    }
}

/// Server-wide leader state (in `Shared`).
pub struct Leader {
    /// The stream runs: shards drain into it.
    on: AtomicBool,
    inner: Mutex<Inner>,
    /// Replica connections waiting for the stream to grow.
    data_waiters: Waiters,
    /// WAIT callers waiting for acknowledgements.
    ack_waiters: Waiters,
    /// INFO stats' synchronization counts.
    pub syncs: SyncCounts,
}

/// Synchronizations served (INFO `sync_full`, `sync_partial_ok`, `sync_partial_err`).
#[derive(Default)]
pub struct SyncCounts {
    pub full: AtomicU64,
    pub partial_ok: AtomicU64,
    /// PSYNCs that named a replication id or offset the backlog could not continue from.
    pub partial_err: AtomicU64,
}

impl Leader {
    pub fn new(replid: String, backlog_size: u64) -> Leader {
        Leader {
            on: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                stream: Stream::new(0, backlog_size),
                written: 0,
                replid,
                replicas: Vec::new(),
            }),
            data_waiters: Waiters::default(),
            ack_waiters: Waiters::default(),
            syncs: SyncCounts::default(),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the stream runs (shards drain their effects into it).
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// `master_replid`.
    pub fn replid(&self) -> String {
        self.inner().replid.clone()
    }

    /// `master_repl_offset`.
    pub fn offset(&self) -> u64 {
        self.inner().stream.offset()
    }

    /// Where the last write's effects end in the stream.
    fn written(&self) -> u64 {
        self.inner().written
    }

    /// A promotion (REPLICAOF NO ONE) started a new history with this id.
    pub fn set_replid(&self, replid: String) {
        self.inner().replid = replid;
    }

    /// The server became a replica: its replicas go (no chained replication).
    pub fn disconnect_replicas(&self) {
        for r in self.inner().replicas.iter() {
            r.dropped.store(true, Ordering::Release);
        }
        self.wake_senders();
    }

    /// Stream bytes held beyond `repl-backlog-size` for replicas still reading them: like
    /// Redis' replica output buffers, not counted toward `maxmemory` (a slow replica must
    /// not make the server evict its data set).
    pub fn held_for_replicas(&self, backlog_size: u64) -> u64 {
        self.inner()
            .stream
            .backlog_len()
            .saturating_sub(backlog_size)
    }

    /// Memory held for replication (MEMORY STATS): the backlog proper, the stream bytes held
    /// beyond it for slow replicas (see [`Leader::held_for_replicas`]), and the replicas.
    pub fn memory(&self, backlog_size: u64) -> (u64, u64, usize) {
        let inner = self.inner();
        let len = inner.stream.backlog_len();
        let held = len.saturating_sub(backlog_size);
        (len - held, held, inner.replicas.len())
    }

    /// `repl-backlog-size` changed.
    pub fn set_backlog_size(&self, size: u64) {
        self.inner().stream.set_size(size);
    }

    /// Appends a piece of a shard's effects log (`propagate::drain`).
    pub fn append(&self, chunk: &Chunk) {
        if chunk.bytes.is_empty() {
            return;
        }
        {
            let mut inner = self.inner();
            inner
                .stream
                .append_chunk(chunk.start_db, chunk.end_db, &chunk.bytes);
            inner.written = inner.stream.offset();
            trim(&mut inner);
        }
        self.wake_senders();
    }

    /// Appends a transaction's parts from every shard (`propagate::commit_group`) as one
    /// MULTI ... EXEC (a single command as itself).
    pub fn append_group(&self, parts: Vec<Vec<(usize, Vec<u8>)>>) {
        let commands: Vec<(usize, Vec<u8>)> = parts.into_iter().flatten().collect();
        if commands.is_empty() {
            return;
        }
        {
            let mut inner = self.inner();
            let wrap = commands.len() > 1;
            if wrap {
                inner.stream.append_command(None, &[b"MULTI"]);
            }
            for (db, c) in &commands {
                inner.stream.append_chunk(Some(*db), Some(*db), c);
            }
            if wrap {
                inner.stream.append_command(None, &[b"EXEC"]);
            }
            inner.written = inner.stream.offset();
            trim(&mut inner);
        }
        self.wake_senders();
    }

    /// Appends a command of the leader's own (PING, REPLCONF GETACK).
    fn append_command(&self, args: &[&[u8]]) {
        {
            let mut inner = self.inner();
            inner.stream.append_command(None, args);
            trim(&mut inner);
        }
        self.wake_senders();
    }

    fn wake_senders(&self) {
        self.data_waiters.wake_all();
    }

    /// Replicas whose acknowledged offset reached `offset`.
    fn count_acked(&self, offset: u64) -> usize {
        self.inner()
            .replicas
            .iter()
            .filter(|r| r.state() == State::Online && r.acked.load(Ordering::Acquire) >= offset)
            .count()
    }

    fn remove(&self, replica: &Arc<Replica>) {
        self.inner().replicas.retain(|r| !Arc::ptr_eq(r, replica));
    }
}

/// Drops backlog bytes nobody needs; replicas that fell more than [`MAX_LAG`] behind are
/// dropped rather than kept.
fn trim(inner: &mut Inner) {
    let offset = inner.stream.offset();
    let floor = offset.saturating_sub(MAX_LAG);
    let mut keep = u64::MAX;
    for r in &inner.replicas {
        let sent = r.sent.load(Ordering::Acquire);
        if sent < floor {
            if !r.dropped.swap(true, Ordering::AcqRel) {
                log::warning(&format!(
                    "Client id={} (replica {}:{}) scheduled to be closed ASAP for overcoming \
                     of output buffer limits.",
                    r.id, r.ip, r.port
                ));
            }
        } else {
            keep = keep.min(sent);
        }
    }
    inner.stream.trim(keep);
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// REPLCONF: what a replica tells about itself before and after it synchronizes.
pub fn replconf(sess: &mut Session, cmd: &shard::Cmd, out: &mut Reply) {
    if !(cmd.len() - 1).is_multiple_of(2) {
        return out.error("ERR syntax error");
    }
    let mut i = 1;
    while i + 1 < cmd.len() {
        let (opt, val) = (&cmd[i], &cmd[i + 1]);
        let name = String::from_utf8_lossy(opt);
        match name.to_ascii_lowercase().as_str() {
            "listening-port" => match std::str::from_utf8(val).ok().and_then(|v| v.parse().ok()) {
                Some(p) => sess.replconf.listening_port = p,
                None => return out.error("ERR value is not an integer or out of range"),
            },
            "capa" => {
                if val.eq_ignore_ascii_case(b"eof") {
                    sess.replconf.capa_eof = true;
                }
            }
            "rdb-only" => match val {
                b"1" => sess.replconf.rdb_only = true,
                b"0" => sess.replconf.rdb_only = false,
                _ => return out.error("ERR value is not an integer or out of range"),
            },
            // Acknowledgements only mean something on a replica's link (served there);
            // Redis ignores them elsewhere, without a reply.
            "ack" | "fack" => return,
            "ip-address" | "getack" | "rdb-filter-only" => {}
            _ => return out.error(&format!("ERR Unrecognized REPLCONF option: {name}")),
        }
        i += 2;
    }
    out.simple("OK");
}

/// SYNC / PSYNC: answered by the connection once its replies are out ([`serve_replica`]).
pub fn sync(local: &Local, sess: &mut Session, cmd: &shard::Cmd, out: &mut Reply) {
    if local.shared.follower.is_replica() {
        return out.error(
            "ERR Shardis serves no replicas while it is a replica itself (chained \
             replication is not supported)",
        );
    }
    let req = if cmd[0].eq_ignore_ascii_case(b"psync") {
        let offset = std::str::from_utf8(&cmd[2])
            .ok()
            .and_then(|v| v.parse::<i64>().ok());
        let Some(offset) = offset else {
            return out.error("ERR value is not an integer or out of range");
        };
        SyncRequest::Psync {
            replid: cmd[1].to_vec(),
            offset,
        }
    } else {
        SyncRequest::Sync
    };
    sess.sync_request = Some(req);
}

/// WAIT numreplicas timeout.
pub async fn wait(local: &Rc<Local>, cmd: &shard::Cmd, out: &mut Reply) {
    let parse = |a: &[u8]| {
        std::str::from_utf8(a)
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
    };
    let Some(needed) = parse(&cmd[1]) else {
        return out.error("ERR value is not an integer or out of range");
    };
    let Some(timeout) = parse(&cmd[2]) else {
        return out.error("ERR timeout is not an integer or out of range");
    };
    if timeout < 0 {
        return out.error("ERR timeout is negative");
    }
    if local.shared.follower.is_replica() {
        return out.error(
            "ERR WAIT cannot be used with replica instances. Please also note that since \
             Redis 4.0 if a replica is configured to be writable (which is not the default) \
             writes to replicas are just local and are not propagated.",
        );
    }
    let leader = &local.shared.leader;
    // Everything this client wrote is in the stream (its replies waited for that).
    let target = leader.written();
    let acked = leader.count_acked(target);
    if acked as i64 >= needed || !leader.is_on() {
        return out.int(acked as i64);
    }
    leader.append_command(&[b"REPLCONF", b"GETACK", b"*"]);
    let reached = leader
        .ack_waiters
        .until(|| leader.count_acked(target) as i64 >= needed);
    if timeout == 0 {
        reached.await;
    } else {
        let timer = async {
            glommio::timer::sleep(Duration::from_millis(timeout as u64)).await;
        };
        futures_lite::future::or(reached, timer).await;
    }
    out.int(leader.count_acked(target) as i64);
}

/// Replicas that acknowledged everything in the stream so far (WAIT inside MULTI).
pub fn acked_now(local: &Local) -> i64 {
    let leader = &local.shared.leader;
    leader.count_acked(leader.written()) as i64
}

/// The replicas for ROLE: (ip, port, acknowledged offset).
pub fn role_replicas(local: &Local) -> Vec<(String, u16, u64)> {
    local
        .shared
        .leader
        .inner()
        .replicas
        .iter()
        .filter(|r| r.state() == State::Online)
        .map(|r| (r.ip.to_string(), r.port, r.acked.load(Ordering::Relaxed)))
        .collect()
}

/// INFO's `# Replication` fields from `connected_slaves` on, for a leader (`ids`: the
/// previous history, from a promotion, see `follower`).
pub fn info(local: &Local, ids: &crate::follower::ReplIds, out: &mut String) {
    use std::fmt::Write;
    let leader = &local.shared.leader;
    let inner = leader.inner();
    let now = crate::local::unix_ms();
    let _ = write!(out, "connected_slaves:{}\r\n", inner.replicas.len());
    for (i, r) in inner.replicas.iter().enumerate() {
        let lag = now.saturating_sub(r.acked_at.load(Ordering::Relaxed)) / 1000;
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state={},offset={},lag={lag}\r\n",
            r.ip,
            r.port,
            r.state().name(),
            r.acked.load(Ordering::Relaxed),
        );
    }
    let on = leader.is_on();
    let _ = write!(
        out,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\n\
         master_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\n\
         repl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\n\
         repl_backlog_histlen:{}\r\n",
        inner.replid,
        ids.replid2,
        inner.stream.offset(),
        ids.second_offset,
        on as u8,
        local.shared.config().repl_backlog_size,
        if on {
            inner.stream.backlog_start() + 1
        } else {
            0
        },
        inner.stream.backlog_len(),
    );
}

/// Shard 0's cron: PING in the stream every `repl-ping-replica-period` seconds while
/// replicas are connected (their link timeouts count on it); replicas silent for
/// `repl-timeout` are dropped.
pub fn cron(local: &Local, tick: u64) {
    let leader = &local.shared.leader;
    if !leader.is_on() {
        return;
    }
    let (period, timeout) = {
        let c = local.shared.config();
        (c.repl_ping_replica_period.max(1), c.repl_timeout.max(1))
    };
    let now = crate::local::unix_ms();
    let mut any = false;
    for r in leader.inner().replicas.iter() {
        any = true;
        let silent = now.saturating_sub(r.acked_at.load(Ordering::Relaxed)) / 1000;
        if r.state() == State::Online && silent > timeout && !r.dropped.swap(true, Ordering::AcqRel)
        {
            log::warning(&format!(
                "Disconnecting timedout replica (streaming sync): {}:{}",
                r.ip, r.port
            ));
        }
    }
    if any && tick.is_multiple_of(period) {
        leader.append_command(&[b"PING"]);
    }
    leader.wake_senders();
}

// ---------------------------------------------------------------------------------------------
// Serving a replica
// ---------------------------------------------------------------------------------------------

/// The connection became a replica's: synchronize it, then stream to it until it goes.
pub async fn serve_replica(
    local: &Rc<Local>,
    stream: &mut Socket,
    sess: &mut Session,
    req: SyncRequest,
) -> std::io::Result<()> {
    let leader = &local.shared.leader;
    let conf = sess.replconf.clone();
    let ip = sess.info.addr.ip();
    let psync = matches!(req, SyncRequest::Psync { .. });
    if let SyncRequest::Psync { replid, offset } = &req {
        if let Some(from) = can_continue(leader, replid, *offset) {
            leader.syncs.partial_ok.fetch_add(1, Ordering::Relaxed);
            let replica = register(leader, sess, ip, &conf, State::Online, from);
            let line = format!("+CONTINUE {}\r\n", leader.replid());
            log::notice(&format!(
                "Partial resynchronization request from {ip}:{} accepted. Sending {} bytes \
                 of backlog starting from offset {offset}.",
                conf.listening_port,
                leader.offset() - from
            ));
            let r = match stream.write_all(line.as_bytes()).await {
                Ok(()) => feed(local, stream, &replica, false).await,
                Err(e) => Err(e),
            };
            leader.remove(&replica);
            return r;
        }
    }
    if let SyncRequest::Psync { replid, .. } = &req {
        // A replica's first PSYNC (`?`) asks for a full one; others wanted to continue.
        if replid.as_slice() != b"?" {
            leader.syncs.partial_err.fetch_add(1, Ordering::Relaxed);
        }
    }
    leader.syncs.full.fetch_add(1, Ordering::Relaxed);
    log::notice(&format!(
        "Replica {ip}:{} asks for synchronization",
        conf.listening_port
    ));
    let (replica, rx, aborted, header) = begin_full_sync(local, sess, ip, &conf).await;
    let offset = replica.sent.load(Ordering::Acquire);
    let r = async {
        if psync {
            let line = format!("+FULLRESYNC {} {offset}\r\n", leader.replid());
            stream.write_all(line.as_bytes()).await?;
        }
        replica.set_state(State::SendBulk);
        let diskless = conf.capa_eof && local.shared.config().repl_diskless_sync;
        if diskless {
            send_rdb_streamed(stream, header, rx, &aborted).await?;
        } else {
            send_rdb_from_file(local, stream, header, rx, &aborted).await?;
        }
        // Out of our hands (the client socket queues what it is given).
        stream.flush().await?;
        log::notice(&format!(
            "Synchronization with replica {ip}:{} succeeded",
            conf.listening_port
        ));
        if conf.rdb_only {
            return Ok(());
        }
        replica.set_state(State::Online);
        replica
            .acked_at
            .store(crate::local::unix_ms(), Ordering::Relaxed);
        // After an EOF-marked transfer the replica finds the end by the mark being the last
        // bytes it read: the stream waits for its first acknowledgement (it has loaded), as
        // Redis' masters do.
        feed(local, stream, &replica, diskless).await
    }
    .await;
    leader.remove(&replica);
    if let Err(e) = &r {
        log::warning(&format!(
            "Connection with replica {ip}:{} lost: {e}",
            conf.listening_port
        ));
    }
    Ok(())
}

/// The offset a PSYNC can continue from, if it can.
fn can_continue(leader: &Leader, replid: &[u8], offset: i64) -> Option<u64> {
    if !leader.is_on() || offset < 1 {
        return None;
    }
    let inner = leader.inner();
    let from = offset as u64 - 1;
    (replid == inner.replid.as_bytes() && inner.stream.has(from)).then_some(from)
}

fn register(
    leader: &Leader,
    sess: &Session,
    ip: IpAddr,
    conf: &ReplConf,
    state: State,
    from: u64,
) -> Arc<Replica> {
    let r = Arc::new(Replica {
        id: sess.info.id,
        ip,
        port: conf.listening_port,
        state: AtomicU8::new(state as u8),
        sent: AtomicU64::new(from),
        acked: AtomicU64::new(0),
        acked_at: AtomicU64::new(crate::local::unix_ms()),
        heard: AtomicBool::new(false),
        dropped: AtomicBool::new(false),
    });
    leader.inner().replicas.push(r.clone());
    r
}

use crate::snapshot::Pieces;

/// Starts a full synchronization: at the snapshot's barrier the stream starts (if it had
/// not), every shard drains its log, and the stream's offset there becomes the replica's.
/// Returns the replica (registered, its `sent` at that offset, so the backlog keeps what
/// follows), the walks' pieces, and the RDB's header.
async fn begin_full_sync(
    local: &Rc<Local>,
    sess: &Session,
    ip: IpAddr,
    conf: &ReplConf,
) -> (Arc<Replica>, Pieces, crate::snapshot::Aborted, Vec<u8>) {
    let leader = &local.shared.leader;
    let prepare = |l: &Rc<Local>| {
        l.shared.leader.on.store(true, Ordering::Release);
        {
            let mut shard = l.shard();
            if !shard.effects.is_on() {
                shard.set_effects(true);
                shard
                    .effects
                    .publish_to(l.shared.propagation.produced_counter(l.id));
            }
            shard.effects.commit_all();
        }
        crate::propagate::drain(l);
    };
    let (rx, aborted, (replica, replid, offset, db)) =
        crate::snapshot::start(local, prepare, || {
            let (replid, offset, db) = {
                let inner = leader.inner();
                (
                    inner.replid.clone(),
                    inner.stream.offset(),
                    inner.stream.db(),
                )
            };
            let replica = register(leader, sess, ip, conf, State::WaitBgsave, offset);
            (replica, replid, offset, db)
        })
        .await;
    log::notice(&format!(
        "Starting BGSAVE for SYNC with target: replicas sockets (forkless snapshot), \
         replication offset {offset}"
    ));
    let (db, off) = (db.unwrap_or(0).to_string(), offset.to_string());
    let aux: [(&str, &[u8]); 3] = [
        ("repl-stream-db", db.as_bytes()),
        ("repl-id", replid.as_bytes()),
        ("repl-offset", off.as_bytes()),
    ];
    (replica, rx, aborted, crate::snapshot::header(local, &aux))
}

/// Sends the RDB as it is produced, between `$EOF:<mark>` and the mark.
async fn send_rdb_streamed(
    stream: &mut Socket,
    header: Vec<u8>,
    pieces: Pieces,
    aborted: &AtomicBool,
) -> std::io::Result<()> {
    let mark = eof_mark();
    stream
        .write_all(format!("$EOF:{mark}\r\n").as_bytes())
        .await?;
    let send = async |bytes: &[u8]| stream.write_all(bytes).await;
    crate::snapshot::write_rdb(&header, pieces, aborted, send).await?;
    stream.write_all(mark.as_bytes()).await
}

/// Writes the RDB to a temporary file in `dir`, then sends it as `$<length>` and its bytes
/// (replicas that cannot read an EOF-marked transfer).
async fn send_rdb_from_file(
    local: &Local,
    stream: &mut Socket,
    header: Vec<u8>,
    pieces: Pieces,
    aborted: &AtomicBool,
) -> std::io::Result<()> {
    use std::io::{Read, Seek, Write};
    let path = local.shared.config().dir.join(format!(
        "temp-sync-{}-{}.rdb",
        std::process::id(),
        crate::local::unix_ms()
    ));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    // The name goes at once; the open file stays ours.
    let _ = std::fs::remove_file(&path);
    let to_file = async |bytes: &[u8]| file.write_all(bytes);
    crate::snapshot::write_rdb(&header, pieces, aborted, to_file).await?;
    let len = file.stream_position()?;
    file.rewind()?;
    stream.write_all(format!("${len}\r\n").as_bytes()).await?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// 40 random hex characters: the EOF mark of a diskless transfer.
fn eof_mark() -> String {
    let mut rng = shard::rng::Rng::new(crate::local::unix_ms() ^ std::process::id() as u64);
    (0..40)
        .map(|_| char::from_digit(rng.below(16) as u32, 16).expect("a hex digit"))
        .collect()
}

/// Streams to an online replica from its `sent` offset on (after its first
/// acknowledgement when `after_ack`), and reads its acknowledgements (also while the stream
/// flows), until it disconnects or is dropped.
async fn feed(
    local: &Local,
    stream: &mut Socket,
    replica: &Arc<Replica>,
    after_ack: bool,
) -> std::io::Result<()> {
    let leader = &local.shared.leader;
    let (mut rx, mut tx) = futures_lite::io::split(stream);
    let send = async {
        let mut wbuf = Vec::new();
        if after_ack {
            let heard =
                || replica.heard.load(Ordering::Acquire) || replica.dropped.load(Ordering::Acquire);
            leader.ack_waiters.until(heard).await;
        }
        loop {
            let from = replica.sent.load(Ordering::Acquire);
            // Wait for the stream to grow past what the replica has.
            let grown = || leader.offset() > from || replica.dropped.load(Ordering::Acquire);
            leader.data_waiters.until(grown).await;
            if replica.dropped.load(Ordering::Acquire) {
                return Err(std::io::Error::other("dropped"));
            }
            wbuf.clear();
            let n = leader.inner().stream.read(from, SEND_MAX, &mut wbuf);
            let Some(n) = n else {
                return Err(std::io::Error::other("fell out of the backlog"));
            };
            tx.write_all(&wbuf).await?;
            replica.sent.store(from + n as u64, Ordering::Release);
        }
    };
    let hear = async {
        let mut rbuf = bytes::BytesMut::new();
        let mut state = crate::resp::ParseState::default();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = rx.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            rbuf.extend_from_slice(&chunk[..n]);
            if acks(&mut rbuf, &mut state, replica) {
                leader.ack_waiters.wake_all();
            }
        }
    };
    futures_lite::future::or(send, hear).await
}

/// Takes the complete commands a replica sent (`REPLCONF ACK <offset> [FACK <offset>]`)
/// out of `buf`; returns whether it acknowledged.
fn acks(
    bytes: &mut bytes::BytesMut,
    state: &mut crate::resp::ParseState,
    replica: &Replica,
) -> bool {
    let mut heard = false;
    let limits = crate::resp::Limits {
        authenticated: true,
        ..Default::default()
    };
    loop {
        match crate::resp::parse(bytes, state, &limits) {
            Ok(crate::resp::Parsed::Cmd(c)) => {
                if c.len() >= 3
                    && c[0].eq_ignore_ascii_case(b"replconf")
                    && c[1].eq_ignore_ascii_case(b"ack")
                {
                    if let Some(off) = std::str::from_utf8(&c[2])
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                    {
                        replica.acked.fetch_max(off, Ordering::AcqRel);
                        replica.heard.store(true, Ordering::Release);
                        heard = true;
                        replica
                            .acked_at
                            .store(crate::local::unix_ms(), Ordering::Relaxed);
                    }
                }
            }
            Ok(crate::resp::Parsed::Empty) => {}
            Ok(crate::resp::Parsed::Incomplete) => break,
            Err(_) => {
                // Not a replica speaking: nothing more to learn from it.
                bytes.clear();
                *state = crate::resp::ParseState::default();
                break;
            }
        }
    }
    heard
}
