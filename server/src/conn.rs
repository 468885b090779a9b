//! One client connection: read, parse every complete request (pipelining), run the batch,
//! write all replies with one write.

use crate::client::{ClientInfo, Session};
use crate::dispatch::{self, Run};
use crate::local::Local;
use crate::resp::{self, Limits, ParseState, Parsed};
use crate::socket::Socket;
use bytes::BytesMut;
use futures_lite::AsyncWriteExt;
use glommio::net::TcpStream;
use shard::Reply;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Output buffer capacity a connection keeps between batches; more is given back.
const MAX_KEPT_OUTPUT: usize = 64 * 1024;

pub async fn serve(local: Rc<Local>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (Ok(addr), Ok(laddr)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    let mut stream = Socket::new(&local, stream);
    let id = local.shared.next_client_id();
    let info = Rc::new(ClientInfo::new(id, addr, laddr, stream.as_raw_fd()));
    local.clients.borrow_mut().insert(id, info.clone());
    crate::client::publish_meta(&local, &info);
    let authenticated = !local.shared.acl.default_needs_auth();
    let mut sess = Session::new(info.clone(), authenticated);
    let default = local.shared.acl.default_user();
    crate::acl::set_session_user(&local, &mut sess, default);
    let _ = serve_session(&local, &mut stream, &mut sess).await;
    if sess.info.is_killed() {
        // Redis frees a killed client with whatever output it had not sent.
        stream.discard();
    }
    crate::multi::forget_watches(&local, &mut sess);
    crate::pubsub::unsubscribe_all(&local, &mut sess);
    crate::tracking::disable(&local, &mut sess);
    crate::monitor::stop(&local, &sess);
    local.clients.borrow_mut().remove(&id);
    crate::client::forget_meta(&local, id);
    local
        .shared
        .connected_clients
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

async fn serve_session(
    local: &Rc<Local>,
    stream: &mut Socket,
    sess: &mut Session,
) -> std::io::Result<()> {
    let mut rbuf = BytesMut::new();
    let mut wbuf: Vec<u8> = Vec::new();
    let mut state = ParseState::default();
    let mut run = Run::default();
    let mut cmds = Vec::new();
    loop {
        let (max_bulk, query_limit, timeout) = {
            let c = local.shared.config();
            (
                c.proto_max_bulk_len as usize,
                c.client_query_buffer_limit as usize,
                c.timeout_secs,
            )
        };
        // Read what is available (at least one byte).
        let n = {
            let read = async { Some(read_into(local, stream, &mut rbuf, &state).await) };
            let killed = async {
                sess.info.killed().await;
                None
            };
            let idle = async {
                if timeout == 0 {
                    std::future::pending::<()>().await;
                }
                // Redis' `timeout`: close clients idle for that many seconds.
                glommio::timer::Timer::new(Duration::from_secs(timeout)).await;
                None
            };
            let mailbox = sess.mailbox.clone();
            let pushed = async {
                match &mailbox {
                    Some(mb) => mb.ready().await,
                    None => std::future::pending::<()>().await,
                }
                Some(Ok(usize::MAX))
            };
            let idle = async {
                // A subscriber waits for messages: the idle timeout does not apply to it.
                if sess.pubsub.count() > 0 {
                    std::future::pending::<()>().await;
                }
                idle.await
            };
            futures_lite::future::or(
                read,
                futures_lite::future::or(pushed, futures_lite::future::or(killed, idle)),
            )
            .await
        };
        let n = match n {
            None => {
                // Killed, or idle for `timeout`: freed with its unsent output, as Redis.
                stream.discard();
                return Ok(());
            }
            Some(r) => r?,
        };
        if n == usize::MAX {
            // Published messages are waiting: write them out.
            if !send_out(local, stream, sess, &mut wbuf).await? || sess.info.is_killed() {
                return Ok(());
            }
            continue;
        }
        if n == 0 {
            return Ok(());
        }
        if rbuf.len() > query_limit {
            // Redis closes a client whose query buffer passes client-query-buffer-limit.
            return Ok(());
        }
        local.stats.borrow_mut().net_input_bytes += n as u64;
        sess.info.last_interaction.set(Instant::now());
        if let Some(mb) = &sess.mailbox {
            // Messages that arrived before these commands go out before their replies.
            mb.drain_into(&mut wbuf);
        }

        let mut protocol_error = None;
        loop {
            let limits = Limits {
                max_bulk_len: max_bulk,
                authenticated: sess.authenticated,
                ..Limits::default()
            };
            match resp::parse(&mut rbuf, &mut state, &limits) {
                Ok(Parsed::Cmd(c)) => {
                    cmds.push(c);
                    if !sess.authenticated {
                        // AUTH changes the limits for what follows: run it before parsing on.
                        dispatch::run_batch(local, sess, cmds.drain(..), &mut run, &mut wbuf).await;
                    }
                }
                Ok(Parsed::Empty) => {}
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    protocol_error = Some(e.0);
                    break;
                }
            }
        }
        sess.info.qbuf.set(rbuf.len());
        if !cmds.is_empty() {
            dispatch::run_batch(local, sess, cmds.drain(..), &mut run, &mut wbuf).await;
        }
        if let Some(msg) = &protocol_error {
            let mut r = Reply::with_buf(std::mem::take(&mut wbuf), sess.resp3);
            r.error(&format!("ERR {msg}"));
            wbuf = r.buf;
            sess.closing = true;
        }
        if !send_out(local, stream, sess, &mut wbuf).await? {
            return Ok(());
        }
        if sess.closing && !sess.info.is_killed() {
            // QUIT's +OK, the protocol error: out before the connection closes.
            let flush = async { Some(stream.flush().await) };
            let killed = async {
                sess.info.killed().await;
                None
            };
            let _ = futures_lite::future::or(flush, killed).await;
        }
        if sess.closing || sess.info.is_killed() {
            return Ok(());
        }
        if let Some(req) = sess.sync_request.take() {
            // SYNC / PSYNC: from now on this is a replica's link.
            return crate::leader::serve_replica(local, stream, sess, req).await;
        }
    }
}

/// Writes the replies in `wbuf`, then any published messages waiting for this connection,
/// and empties the buffer. False: the client was killed meanwhile.
async fn send_out(
    local: &Local,
    stream: &mut Socket,
    sess: &Session,
    wbuf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    if let Some(mb) = &sess.mailbox {
        mb.drain_into(wbuf);
    }
    if wbuf.is_empty() {
        return Ok(true);
    }
    // Nothing is answered before the writes it follows are in the AOF and the stream.
    crate::propagate::settle(local).await;
    let len = wbuf.len();
    if !write_unless_killed(stream, wbuf, &sess.info).await? {
        return Ok(false);
    }
    local.stats.borrow_mut().net_output_bytes += len as u64;
    if wbuf.capacity() > MAX_KEPT_OUTPUT {
        *wbuf = Vec::new();
    } else {
        wbuf.clear();
    }
    Ok(true)
}

/// Writes `buf` out (leaving it empty), unless the client is killed first (CLIENT KILL, or a
/// subscriber over its output buffer limit while its socket is full): false then, and the
/// connection ends.
async fn write_unless_killed(
    stream: &mut Socket,
    buf: &mut Vec<u8>,
    info: &crate::client::ClientInfo,
) -> std::io::Result<bool> {
    let write = async { Some(stream.send(buf).await) };
    let killed = async {
        info.killed().await;
        None
    };
    match futures_lite::future::or(write, killed).await {
        Some(r) => r.map(|()| true),
        None => Ok(false),
    }
}

/// Reads what the socket has into `rbuf` through the executor's shared scratch buffer.
///
/// Neither path holds a buffer while it waits (the ring's receive takes one when data
/// arrives; glommio waits for readability, then receives into the scratch, borrowed only for
/// that synchronous step), so 10,000 idle clients cost little memory.
async fn read_into(
    local: &Local,
    stream: &mut Socket,
    rbuf: &mut BytesMut,
    state: &ParseState,
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| {
        let mut scratch = local.read_scratch.borrow_mut();
        stream.poll_read_with(cx, &mut scratch, |data| {
            if rbuf.is_empty() {
                // Reserve for the whole of a large pending bulk at once (no repeated doubling).
                let need = state.needed().unwrap_or(0).min(16 << 20);
                rbuf.reserve(need.max(data.len()));
            }
            rbuf.extend_from_slice(data);
        })
    })
    .await
}
