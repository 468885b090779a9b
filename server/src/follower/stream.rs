//! Applying the master's command stream: every whole command goes through the normal
//! command path (`dispatch::run_batch`, as the AOF loader replays a file) in the session of
//! the master, whose replies are dropped. The applied offset counts whole commands once they
//! ran (`replication::follower::offsets`); `REPLCONF GETACK` is answered with it, and an
//! ACK goes out every second. No byte from the master for `repl-timeout` drops the link.

use super::link::{Link, LinkResult, Stop};
use super::MASTER_CLIENT;
use crate::client::{ClientInfo, Session};
use crate::dispatch::{self, Run};
use crate::resp::{self, Limits, ParseState, Parsed};
use replication::follower::ack_command;
use replication::follower::offsets::StreamOffsets;
use shard::Cmd;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How often the follower reports its offset unasked (Redis' replication cron).
const ACK_PERIOD: Duration = Duration::from_secs(1);

/// The session the master's commands run in: authenticated, allowed to write on a
/// read-only replica (see `Follower::refusal`), in database `db`.
pub(super) fn master_session(link: &Link, db: usize) -> Session {
    let info = Rc::new(ClientInfo::new(
        MASTER_CLIENT,
        link.peer_addr(),
        link.local_addr(),
        link.fd(),
    ));
    let mut sess = Session::new(info, true);
    sess.set_db(db);
    sess
}

/// Applies the stream until the link breaks or REPLICAOF changes; never returns Ok.
pub(super) async fn apply(link: &mut Link) -> LinkResult<std::convert::Infallible> {
    let local = link.local.clone();
    let f = &local.shared.follower;
    let epoch = link.epoch;
    let (applied, db) = {
        let s = f.state();
        (s.ids.offset, s.stream_db)
    };
    let mut sess = master_session(link, db);
    crate::client::publish_meta(&local, &sess.info);
    let r = apply_in(link, &mut sess, applied).await;
    crate::multi::abandon(&local, &mut sess);
    crate::client::forget_meta(&local, MASTER_CLIENT);
    // Whatever the master session's database is now, a continuation resumes in it.
    f.update_if(epoch, |s| s.stream_db = sess.db);
    r
}

async fn apply_in(
    link: &mut Link,
    sess: &mut Session,
    applied: u64,
) -> LinkResult<std::convert::Infallible> {
    let local = link.local.clone();
    let f = &local.shared.follower;
    let epoch = link.epoch;
    let mut offsets = StreamOffsets::new(applied);
    // What is buffered already was read from the stream.
    let mut read_offset = applied + link.rbuf.len() as u64;
    let limits = Limits {
        // Redis applies no bulk limit to its master.
        max_bulk_len: usize::MAX,
        ..Limits::default()
    };
    let mut state = ParseState::default();
    let mut run = Run::default();
    let mut out = Vec::new();
    let mut batch: Vec<Cmd> = Vec::new();
    // The first ACK at once: a diskless master starts streaming only once it has one.
    link.send(&ack_command(applied)).await?;
    let mut last_ack = Instant::now();
    let mut last_io = Instant::now();
    loop {
        let mut protocol_error = None;
        loop {
            let before = link.rbuf.len();
            match resp::parse(&mut link.rbuf, &mut state, &limits) {
                Ok(Parsed::Cmd(cmd)) => {
                    let len = (before - link.rbuf.len()) as u64;
                    if cmd[0].eq_ignore_ascii_case(b"replconf") {
                        // Answered here, after everything before it ran; counted once
                        // answered, as Redis counts it.
                        run_batch(link, sess, &mut batch, &mut run, &mut out).await;
                        if cmd.len() >= 2 && cmd[1].eq_ignore_ascii_case(b"getack") {
                            link.send(&ack_command(offsets.applied())).await?;
                            last_ack = Instant::now();
                        }
                        offsets.command(&cmd[0], len);
                    } else {
                        offsets.command(&cmd[0], len);
                        batch.push(cmd);
                    }
                }
                Ok(Parsed::Empty) => offsets.skip((before - link.rbuf.len()) as u64),
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    protocol_error = Some(e.0);
                    break;
                }
            }
        }
        run_batch(link, sess, &mut batch, &mut run, &mut out).await;
        let published = f.update_if(epoch, |s| {
            s.ids.offset = offsets.applied();
            s.read_offset = read_offset;
            s.stream_db = sess.db;
            s.last_io = Some(last_io);
        });
        if !published {
            return Err(Stop::Cancelled);
        }
        if let Some(e) = protocol_error {
            return Err(Stop::Failed(format!("Protocol error from MASTER: {e}")));
        }
        let now = Instant::now();
        if now >= last_ack + ACK_PERIOD {
            link.send(&ack_command(offsets.applied())).await?;
            last_ack = now;
        }
        let wait = (last_ack + ACK_PERIOD).saturating_duration_since(Instant::now());
        if let Some(n) = link.read(wait.max(Duration::from_millis(1))).await? {
            read_offset += n as u64;
            last_io = Instant::now();
            sess.info.last_interaction.set(last_io);
        } else if last_io.elapsed() > link.timeout {
            return Err(Stop::Failed(
                "MASTER timeout: no data nor PING received...".into(),
            ));
        }
    }
}

/// Runs the commands gathered so far; their replies are dropped.
async fn run_batch(
    link: &Link,
    sess: &mut Session,
    batch: &mut Vec<Cmd>,
    run: &mut Run,
    out: &mut Vec<u8>,
) {
    if batch.is_empty() {
        return;
    }
    dispatch::run_batch(&link.local, sess, batch.drain(..), run, out).await;
    out.clear();
}
