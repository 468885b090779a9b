//! Blocking commands (BLPOP, BZPOPMIN, BLMOVE...): clients waiting for keys on any shard.
//!
//! A blocking command first runs like any other: its handler serves the client when one of
//! its keys has data. When every key is empty the handler writes nothing, and in that same
//! step (the same shard message, or under the same transaction locks when the keys span
//! shards) the client is registered as a waiter with every shard owning one of its keys, so
//! no push can slip between the check and the registration.
//!
//! After any write to a key with waiters, the key's shard serves them in arrival order. A
//! waiter whose keys all live on that shard is served right there by running its command's
//! handler, as Redis does: the push and the pop happen back to back, nobody can take the
//! element in between, first blocked is first served. A waiter whose keys span shards is told
//! to retry: its connection runs the command again through the coordinator (and, if it finds
//! nothing, registers again at the back of the queues).
//!
//! Exactly once: whoever serves or ends a wait first claims the waiter with one atomic
//! transition (a shard serving it, its own attempt, its timeout, its disconnection, CLIENT
//! UNBLOCK); the others see it claimed and leave it alone. A shard that claimed a waiter and
//! found nothing to serve releases the claim and wakes the connection, so a timeout that lost
//! the race tries again.

use crate::client::Session;
use crate::dispatch::Job;
use crate::local::{unix_ms, Local};
use ahash::AHashMap;
use atomic_waker::AtomicWaker;
use bytes::Bytes;
use shard::{Cmd, Handler, Reply, Shard};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

const WAITING: u8 = 0;
const CLAIMED: u8 = 1;

/// How often a blocked connection checks whether its peer went away.
const PEER_CHECK: Duration = Duration::from_millis(100);

/// One blocked client. Shared by the connection and the queues of the shards owning its keys.
pub struct Waiter {
    pub client_id: u64,
    db: usize,
    cmd: Cmd,
    handler: Handler,
    resp3: bool,
    /// The keys, with the shard owning each.
    keys: Vec<(usize, Bytes)>,
    /// The shard owning every key, when there is one: that shard can serve the waiter alone.
    home: Option<usize>,
    state: AtomicU8,
    /// A shard saw a key ready but cannot serve this waiter alone: run the command again.
    retry: AtomicBool,
    /// The reply, once served (or ended by CLIENT UNBLOCK).
    reply: Mutex<Option<Vec<u8>>>,
    /// Bumped on every change the connection must look at.
    generation: AtomicU64,
    waker: AtomicWaker,
}

/// What woke a blocked connection.
enum Event {
    Reply(Vec<u8>),
    Retry,
    Changed,
}

impl Waiter {
    pub fn handler(&self) -> Handler {
        self.handler
    }

    pub fn resp3(&self) -> bool {
        self.resp3
    }

    /// Ends the claim an attempt took once the waiter is registered everywhere.
    pub fn release_claim(&self) {
        self.state.store(WAITING, Ordering::Release);
    }

    /// The shards owning the waiter's keys, each once.
    pub fn shards(&self) -> Vec<usize> {
        let mut shards: Vec<usize> = self.keys.iter().map(|(s, _)| *s).collect();
        shards.sort_unstable();
        shards.dedup();
        shards
    }

    fn new(local: &Local, sess: &Session, job: &Job, handler: Handler) -> Waiter {
        let keys: Vec<(usize, Bytes)> = job
            .key_positions()
            .map(|i| (local.shard_of(&job.cmd[i]), job.cmd.arg_bytes(i)))
            .collect();
        let home = keys
            .first()
            .map(|k| k.0)
            .filter(|&s| keys.iter().all(|k| k.0 == s));
        Waiter {
            client_id: sess.info.id,
            db: job.db,
            cmd: job.cmd.clone(),
            handler,
            resp3: sess.resp3,
            keys,
            home,
            state: AtomicU8::new(WAITING),
            retry: AtomicBool::new(false),
            reply: Mutex::new(None),
            generation: AtomicU64::new(0),
            waker: AtomicWaker::new(),
        }
    }

    /// Takes the waiter for serving or ending it; false if someone else has it.
    pub fn claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn is_claimed(&self) -> bool {
        self.state.load(Ordering::Acquire) == CLAIMED
    }

    /// Gives a claim back (nothing was served) and lets the connection look again.
    fn unclaim(&self) {
        self.state.store(WAITING, Ordering::Release);
        self.notify();
    }

    /// Hands the reply to the connection. The caller holds the claim.
    pub fn deliver(&self, reply: Vec<u8>) {
        *self.reply.lock().unwrap_or_else(|e| e.into_inner()) = Some(reply);
        self.notify();
    }

    fn ask_retry(&self) {
        self.retry.store(true, Ordering::Release);
        self.notify();
    }

    fn notify(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.waker.wake();
    }

    /// What a connection says when its wait ends without data (timeout, CLIENT UNBLOCK
    /// TIMEOUT): a null array for every blocking command, BLMOVE included, as Redis'
    /// `replyToBlockedClientTimedOut` (only a BLMOVE that may not block answers a null bulk).
    pub fn timeout_reply(&self) -> Vec<u8> {
        let mut r = Reply::new(self.resp3);
        r.null_array();
        r.buf
    }

    /// Resolves at the next event after `seen` (a generation the caller already handled).
    async fn event(&self, seen: &mut u64) -> Event {
        std::future::poll_fn(|cx| {
            self.waker.register(cx.waker());
            if let Some(r) = self.reply.lock().unwrap_or_else(|e| e.into_inner()).take() {
                return Poll::Ready(Event::Reply(r));
            }
            if self.retry.swap(false, Ordering::AcqRel) {
                return Poll::Ready(Event::Retry);
            }
            let g = self.generation.load(Ordering::Acquire);
            if g != *seen {
                *seen = g;
                return Poll::Ready(Event::Changed);
            }
            Poll::Pending
        })
        .await
    }
}

/// The waiters of one shard, by (database, key), in arrival order.
#[derive(Default)]
pub struct BlockedKeys {
    queues: AHashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
}

impl BlockedKeys {
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Clients waiting on this shard (INFO `blocked_clients` sums the distinct ones).
    pub fn waiting_clients(&self) -> impl Iterator<Item = u64> + '_ {
        self.queues
            .values()
            .flatten()
            .filter(|w| !w.is_claimed())
            .map(|w| w.client_id)
    }

    /// Keys with waiters (INFO `blocking_keys`).
    pub fn keys(&self) -> usize {
        self.queues.len()
    }

    /// The keys with waiters in databases `dbs`.
    pub fn keys_in(&self, dbs: &[usize]) -> Vec<(usize, Bytes)> {
        self.queues
            .keys()
            .filter(|(db, _)| dbs.contains(db))
            .cloned()
            .collect()
    }

    fn front(&mut self, db: usize, key: &[u8]) -> Option<Arc<Waiter>> {
        let k = (db, Bytes::copy_from_slice(key));
        let q = self.queues.get_mut(&k)?;
        let w = q.front().cloned();
        if w.is_none() {
            self.queues.remove(&k);
        }
        w
    }

    fn remove(&mut self, db: usize, key: &Bytes, w: &Arc<Waiter>) {
        let k = (db, key.clone());
        if let Some(q) = self.queues.get_mut(&k) {
            q.retain(|x| !Arc::ptr_eq(x, w));
            if q.is_empty() {
                self.queues.remove(&k);
            }
        }
    }
}

/// Registers `w` on this shard for each of its keys the shard owns (once per key).
pub fn register(l: &Local, w: &Arc<Waiter>) {
    let mut b = l.blocked.borrow_mut();
    for (s, key) in &w.keys {
        if *s != l.id {
            continue;
        }
        let q = b.queues.entry((w.db, key.clone())).or_default();
        if !q.iter().any(|x| Arc::ptr_eq(x, w)) {
            q.push_back(w.clone());
        }
    }
}

/// Removes `w` from this shard's queues. A departing waiter may leave data behind that the
/// next one in line can take, so its keys are looked at again.
fn unregister(l: &Local, w: &Arc<Waiter>) {
    {
        let mut b = l.blocked.borrow_mut();
        for (s, key) in &w.keys {
            if *s == l.id {
                b.remove(w.db, key, w);
            }
        }
    }
    let mut shard = l.shard();
    for (s, key) in &w.keys {
        if *s == l.id {
            signal(l, &mut shard, w.db, key);
        }
    }
}

/// A write touched `key` on this shard: serves the clients blocked on it, first come first
/// served, for as long as they find data. Cheap when nobody is blocked.
pub fn signal(l: &Local, shard: &mut Shard, db: usize, key: &[u8]) {
    if l.blocked.borrow().is_empty() {
        return;
    }
    let mut ready: Vec<(usize, Bytes)> = vec![(db, Bytes::copy_from_slice(key))];
    while let Some((db, key)) = ready.pop() {
        loop {
            let Some(w) = l.blocked.borrow_mut().front(db, &key) else {
                break;
            };
            if w.is_claimed() {
                // Served elsewhere, timed out, unblocked or gone: no longer in line.
                l.blocked.borrow_mut().remove(db, &key, &w);
                continue;
            }
            let free = {
                let locks = l.locks.borrow();
                locks.is_empty()
                    || w.keys
                        .iter()
                        .all(|(_, k)| locks.is_free(w.db, k, shard::locks::Mode::Exclusive))
            };
            if w.home != Some(l.id) || !free {
                // Needs the coordinator (keys on several shards, or held by a transaction).
                l.blocked.borrow_mut().remove(db, &key, &w);
                w.ask_retry();
                break;
            }
            if !w.claim() {
                l.blocked.borrow_mut().remove(db, &key, &w);
                continue;
            }
            let mut reply = Reply::new(w.resp3);
            let dirty = shard.dirty;
            (w.handler)(&mut shard.ctx(w.db, unix_ms(), &mut reply), &w.cmd);
            let wrote = shard.dirty != dirty;
            shard.finish_effects(w.db, wrote, w.cmd.args());
            if reply.buf.is_empty() {
                // The write left nothing this waiter can take: it keeps its place.
                w.unclaim();
                break;
            }
            {
                let mut b = l.blocked.borrow_mut();
                for (_, k) in &w.keys {
                    b.remove(w.db, k, &w);
                }
            }
            for (_, k) in &w.keys {
                shard.dbs[w.db].touch(k);
            }
            w.deliver(reply.buf);
            // The served command may have written its other keys (BLMOVE's destination).
            ready.extend(w.keys.iter().map(|(_, k)| (w.db, k.clone())));
        }
    }
}

/// The argument holding a blocking command's timeout.
fn timeout_position(job: &Job) -> usize {
    match job.spec.name {
        "blmpop" | "bzmpop" => 1,
        _ => job.cmd.len() - 1,
    }
}

/// When a blocked client's wait ends (Unix ms, 0 = never): XREAD and XREADGROUP give
/// milliseconds after BLOCK, the others seconds as their timeout argument.
fn deadline(job: &Job) -> u64 {
    let now = unix_ms();
    match job.spec.name {
        "xread" | "xreadgroup" => shard::stream::block_deadline(&job.cmd, now).unwrap_or(0),
        _ => shard::blocking::parse_timeout(&job.cmd[timeout_position(job)], now).unwrap_or(0),
    }
}

/// How one try to run a blocking command went.
pub enum Attempt {
    /// It ran (served, or answered an error): the reply.
    Done(Vec<u8>),
    /// Every key was empty: the waiter is registered with the shards of its keys.
    Registered,
    /// Someone else holds the waiter's claim: its reply or release is on the way.
    Claimed,
}

/// Runs a blocking command on the one shard owning all its keys, registering the waiter in
/// the same step when it finds nothing. `Err` when a transaction holds one of the keys: the
/// receiver fires when it lets go.
fn attempt_here(
    l: &Local,
    w: &Arc<Waiter>,
) -> Result<Attempt, futures_channel::oneshot::Receiver<()>> {
    {
        let mut locks = l.locks.borrow_mut();
        if !locks.is_empty() {
            if let Some((_, k)) = w
                .keys
                .iter()
                .find(|(_, k)| !locks.is_free(w.db, k, shard::locks::Mode::Exclusive))
            {
                let (tx, rx) = futures_channel::oneshot::channel();
                locks.wait_key(w.db, k, tx);
                return Err(rx);
            }
        }
    }
    Ok(run_or_register(l, w, &mut l.shard(), w.db, |l| {
        register(l, w)
    }))
}

/// Runs the waiter's command on `shard` (database `db`) under its claim; registers it with
/// `register` when it finds nothing.
fn run_or_register(
    l: &Local,
    w: &Arc<Waiter>,
    shard: &mut Shard,
    db: usize,
    register: impl FnOnce(&Local),
) -> Attempt {
    if !w.claim() {
        return Attempt::Claimed;
    }
    let mut reply = Reply::new(w.resp3);
    let dirty = shard.dirty;
    (w.handler)(&mut shard.ctx(db, unix_ms(), &mut reply), &w.cmd);
    let wrote = shard.dirty != dirty;
    shard.finish_effects(db, wrote, w.cmd.args());
    if reply.buf.is_empty() {
        register(l);
        w.state.store(WAITING, Ordering::Release);
        return Attempt::Registered;
    }
    for (_, k) in &w.keys {
        shard.dbs[db].touch(k);
    }
    Attempt::Done(reply.buf)
}

async fn attempt(local: &Rc<Local>, w: &Arc<Waiter>, job: &Job) -> Attempt {
    match w.home {
        Some(home) => loop {
            let wc = w.clone();
            match local.call(home, move |l| attempt_here(l, &wc)).await {
                Ok(a) => return a,
                Err(wake) => {
                    let _ = wake.await;
                }
            }
        },
        None => crate::coord::gather_blocking(local, job, w).await,
    }
}

/// Whether the peer of the connection behind `fd` has closed it (EOF pending), without
/// consuming anything it sent.
fn peer_closed(fd: i32) -> bool {
    use std::os::fd::BorrowedFd;
    // SAFETY: `fd` is the socket of the connection this session belongs to; the connection
    // task owns the stream and awaits this command, so the descriptor stays open for the
    // whole borrow (which ends within this function).
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&fd);
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    match sock.recv_with_flags(&mut buf, libc::MSG_PEEK | libc::MSG_DONTWAIT) {
        Ok(n) => n == 0,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
        ),
    }
}

/// Why a wait ended without a reply from a shard.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Timeout,
    Gone,
}

/// Runs a blocking command for `sess`: at once when a key has data, otherwise after waiting
/// for one (or for the timeout, CLIENT UNBLOCK, or the client going away). Appends the reply
/// to `out`; nothing when the client went away.
pub async fn run(
    local: &Rc<Local>,
    sess: &mut Session,
    job: &Job,
    handler: Handler,
    out: &mut Reply,
) {
    // XREAD ... BLOCK ... $ waits for entries after the streams' last IDs as they are now,
    // not as they are whenever the command runs again: the `$` are rewritten first.
    let resolved = crate::command::stream::resolve_dollar_ids(local, job)
        .await
        .map(|cmd| Job {
            cmd,
            command: job.command,
            spec: job.spec,
            db: job.db,
            client: job.client,
            track: job.track,
        });
    let job = resolved.as_ref().unwrap_or(job);
    let deadline = deadline(job);
    let w = Arc::new(Waiter::new(local, sess, job, handler));
    let reply = loop {
        match attempt(local, &w, job).await {
            Attempt::Done(r) => break Some(r),
            Attempt::Registered | Attempt::Claimed => {}
        }
        *sess.info.blocked.borrow_mut() = Some(w.clone());
        let blocked = &local.shared.blocked_clients;
        blocked.fetch_add(1, Ordering::Relaxed);
        let outcome = wait(sess, &w, deadline).await;
        blocked.fetch_sub(1, Ordering::Relaxed);
        *sess.info.blocked.borrow_mut() = None;
        match outcome {
            Some(Event::Reply(r)) => break Some(r),
            Some(Event::Retry) => continue,
            Some(Event::Changed) => unreachable!("wait returns replies and retries only"),
            None => break None,
        }
    };
    // Leave every queue (a served waiter is already out of its server's queues).
    for s in w.shards() {
        let wc = w.clone();
        local.call(s, move |l| unregister(l, &wc)).await;
    }
    match reply {
        Some(r) => {
            if r.first() == Some(&b'-') {
                out.errors += 1;
            }
            out.raw(&r)
        }
        None => sess.closing = true,
    }
}

/// Waits for the waiter's reply or retry; on timeout or disconnection claims it and answers
/// for itself. `None`: the client went away (or was killed) and nothing was served to it.
async fn wait(sess: &Session, w: &Arc<Waiter>, deadline: u64) -> Option<Event> {
    let mut seen = w.generation.load(Ordering::Acquire);
    let mut ended: Option<End> = None;
    loop {
        if let Some(end) = ended {
            // The wait is over for us; whoever holds the claim must finish or give it back.
            if w.claim() {
                return match end {
                    End::Timeout => Some(Event::Reply(w.timeout_reply())),
                    End::Gone => None,
                };
            }
            match w.event(&mut seen).await {
                Event::Reply(r) => return (end == End::Timeout).then_some(Event::Reply(r)),
                Event::Retry | Event::Changed => continue,
            }
        }
        let ev = async { Ok(w.event(&mut seen).await) };
        let timer = async {
            if deadline == 0 {
                std::future::pending::<()>().await;
            }
            let now = unix_ms();
            glommio::timer::sleep(Duration::from_millis(deadline.saturating_sub(now))).await;
            Err(End::Timeout)
        };
        let fd = sess.info.fd;
        let info = sess.info.clone();
        let gone = async move {
            loop {
                if info.is_killed() || peer_closed(fd) {
                    return Err(End::Gone);
                }
                glommio::timer::sleep(PEER_CHECK).await;
            }
        };
        match futures_lite::future::or(ev, futures_lite::future::or(timer, gone)).await {
            Ok(Event::Changed) => continue,
            Ok(e) => return Some(e),
            Err(end) => ended = Some(end),
        }
    }
}
