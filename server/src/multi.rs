//! Transactions: MULTI / EXEC / DISCARD and WATCH / UNWATCH, over keys on any shards.
//!
//! MULTI queues commands, checking each as it arrives: an unknown command, a wrong arity or
//! a command not allowed in a transaction is answered at once and makes EXEC refuse with
//! EXECABORT, as in Redis. EXEC plans the queue: every key each command touches (by its key
//! specs) in the database it runs in (a SELECT inside the transaction is followed), plus the
//! WATCHed keys. Then one of three ways, all atomic and isolated:
//!
//! - **One shard** (one key, keys sharing a hash tag, a one-shard server) and no command
//!   that needs the connection: ONE message to that shard checks that no cross-shard
//!   transaction holds any of the keys, checks the watches, runs every command and then
//!   serves the clients blocked on what it wrote. Nothing else runs on that shard
//!   meanwhile, so no lock is taken at all.
//! - **Keys on several shards**: the coordinator's two-phase locking (`coord::Tx`): all keys
//!   locked in the global order (shared to read, exclusive to write), watches checked, each
//!   command run on its keys' shard; a command whose own keys span shards runs on copies
//!   gathered here (`coord::gather_held`). Then the locks go, and blocked clients are
//!   served. Transactions over disjoint keys never wait for each other.
//! - **The whole keyspace** (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB, DEBUG,
//!   scripts and functions, or SORT whose BY / GET patterns name keys not known in advance): every database of every
//!   shard is locked, which is what Redis' single thread does to every transaction, then as
//!   above.
//!
//! WATCH registers the client's flag with each key's shard (`shard::watch`); any change to
//! the key (a command, expiry, FLUSHDB, SWAPDB) sets it. EXEC looks each watched key up under
//! the transaction's locks (so a key that expired since WATCH counts as changed), then reads
//! the flag: set means a null reply and nothing run.

use crate::blocking;
use crate::client::Session;
use crate::command::{self, meta::flag, Route, Server};
use crate::coord::{self, Tx};
use crate::dispatch::{self, Job, Refusal};
use crate::local::{unix_ms, Local};
use crate::stats::Laps;
use bytes::Bytes;
use futures_channel::oneshot;
use shard::locks::Mode;
use shard::num::parse_i64;
use shard::watch::WatchFlag;
use shard::{Cmd, Reply};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The commands queued since MULTI.
#[derive(Default)]
pub struct Queued {
    jobs: Vec<Job>,
    /// A command was refused while queuing: EXEC answers EXECABORT.
    aborted: bool,
}

/// What a client WATCHes: its keys, and the flag a change to any of them sets.
pub struct Watching {
    flag: WatchFlag,
    keys: Vec<(usize, Bytes)>,
}

/// A key a transaction touches: database, name, whether it may write it.
pub(crate) type TxKey = (usize, Bytes, bool);

/// Commands that act at once inside MULTI instead of being queued (as Redis).
pub fn runs_now(cmd: &Cmd) -> bool {
    const NOW: [&[u8]; 6] = [b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"];
    NOW.iter().any(|n| cmd[0].eq_ignore_ascii_case(n))
}

/// Queues a command checked by the dispatcher, or answers why it cannot be.
pub fn queue(sess: &mut Session, prepared: Result<Job, Refusal>, out: &mut Reply) {
    let q = sess
        .multi
        .as_mut()
        .expect("queue is only called inside MULTI");
    match prepared {
        Err((_, msg)) => {
            out.error_bytes(&msg);
            q.aborted = true;
        }
        Ok(job) if job.spec.flags & flag::NO_MULTI != 0 => {
            out.error("ERR Command not allowed inside a transaction");
            q.aborted = true;
        }
        Ok(job) => {
            q.jobs.push(job);
            sess.info.multi.set(q.jobs.len() as i64);
            out.simple("QUEUED");
        }
    }
}

pub fn multi(sess: &mut Session, out: &mut Reply) {
    if sess.multi.is_some() {
        return out.error("ERR MULTI calls can not be nested");
    }
    sess.multi = Some(Queued::default());
    sess.info.multi.set(0);
    out.ok();
}

pub fn discard(local: &Rc<Local>, sess: &mut Session, out: &mut Reply) {
    if sess.multi.take().is_none() {
        return out.error("ERR DISCARD without MULTI");
    }
    sess.info.multi.set(-1);
    forget_watches(local, sess);
    out.ok();
}

/// Ends a transaction in progress without running it (RESET).
pub fn abandon(local: &Rc<Local>, sess: &mut Session) {
    sess.multi = None;
    sess.info.multi.set(-1);
    forget_watches(local, sess);
}

pub async fn watch(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    if sess.multi.is_some() {
        return out.error("ERR WATCH inside MULTI is not allowed");
    }
    let w = sess.watching.get_or_insert_with(|| Watching {
        flag: Arc::new(AtomicBool::new(false)),
        keys: Vec::new(),
    });
    let mut new: Vec<Bytes> = Vec::new();
    for key in cmd.args().skip(1) {
        if !w.keys.iter().any(|(d, k)| *d == sess.db && k == key) && !new.iter().any(|k| k == key) {
            new.push(Bytes::copy_from_slice(key));
        }
    }
    let db = sess.db;
    for (shard, keys) in by_shard(local, new.iter().map(|k| (db, k.clone()))) {
        let flag = w.flag.clone();
        local
            .call(shard, move |l| {
                let now = unix_ms();
                let mut shard = l.shard();
                for (db, key) in keys {
                    // A key already expired counts as absent from here on: its removal by
                    // this lookup is not a change the watch should see.
                    shard.dbs[db].peek(&key, now);
                    shard.dbs[db].watches.watch(&key, &flag);
                }
            })
            .await;
    }
    w.keys.extend(new.into_iter().map(|k| (db, k)));
    out.ok();
}

pub fn unwatch(local: &Rc<Local>, sess: &mut Session, out: &mut Reply) {
    forget_watches(local, sess);
    out.ok();
}

/// Drops the client's watches (UNWATCH, EXEC, DISCARD, RESET, disconnection). The shards'
/// tables hold the flag weakly, so this is correct at once; the messages only tidy them.
pub fn forget_watches(local: &Rc<Local>, sess: &mut Session) {
    let Some(w) = sess.watching.take() else {
        return;
    };
    for (shard, keys) in by_shard(local, w.keys.into_iter()) {
        let flag = w.flag.clone();
        let job = move |l: &Rc<Local>| {
            let mut shard = l.shard();
            for (db, key) in keys {
                shard.dbs[db].watches.unwatch(&key, &flag);
            }
        };
        if shard == local.id {
            job(local);
        } else {
            drop(local.send_call(shard, job));
        }
    }
}

/// Groups (database, key) pairs by the shard that owns the key.
pub(crate) fn by_shard(
    local: &Local,
    keys: impl Iterator<Item = (usize, Bytes)>,
) -> Vec<(usize, Vec<(usize, Bytes)>)> {
    let mut out: Vec<(usize, Vec<(usize, Bytes)>)> = Vec::new();
    for (db, key) in keys {
        let s = local.shard_of(&key);
        match out.iter_mut().find(|(x, _)| *x == s) {
            Some((_, v)) => v.push((db, key)),
            None => out.push((s, vec![(db, key)])),
        }
    }
    out
}

/// How one queued command runs.
pub(crate) enum Step {
    /// On this shard: all its keys live there.
    On(usize),
    /// Its keys span shards: on copies gathered here (`coord::gather_held`).
    Gather(Vec<TxKey>),
    /// SORT whose patterns read keys: its keys are found from the sorted elements.
    Sort,
    /// By the connection (PING, SELECT, DBSIZE, FLUSHDB...).
    Server(Server),
}

/// The queue, planned.
struct Plan {
    steps: Vec<Step>,
    keys: Vec<TxKey>,
    /// Needs every database of every shard locked.
    global: bool,
}

/// Server commands that read or change a whole database (or all of them), and MIGRATE,
/// which then finds its keys locked (it locks them itself outside a transaction).
fn whole_keyspace(which: Server) -> bool {
    use Server::*;
    matches!(
        which,
        Dbsize
            | FlushDb
            | FlushAll
            | SwapDb
            | Keys
            | Scan
            | RandomKey
            | Debug
            | Eval
            | EvalSha
            | EvalRo
            | EvalShaRo
            | Fcall
            | FcallRo
            | Migrate
    )
}

/// A database index argument, if valid.
fn db_index(arg: &[u8], databases: usize) -> Option<usize> {
    parse_i64(arg)
        .filter(|&n| n >= 0 && (n as usize) < databases)
        .map(|n| n as usize)
}

/// The keys `job` touches, each in its database: the key specs', plus the other database
/// MOVE and COPY ... DB reach into.
fn job_keys(job: &Job, databases: usize) -> Vec<TxKey> {
    let mut keys: Vec<TxKey> = coord::spec_keys(job.spec, &job.cmd)
        .into_iter()
        .map(|(k, w)| (job.db, k, w))
        .collect();
    match job.spec.name {
        "move" if job.cmd.len() == 3 => {
            if let Some(to) = db_index(&job.cmd[2], databases) {
                keys.push((to, job.cmd.arg_bytes(1), true));
            }
        }
        "copy" => {
            if let Ok(opts) = shard::keys::parse_copy_options(&job.cmd, databases) {
                if let (Some(to), Some(dst)) = (opts.db, keys.get_mut(1)) {
                    dst.0 = to;
                }
            }
        }
        _ => {}
    }
    keys
}

fn plan(local: &Local, mut db: usize, jobs: &mut [Job]) -> Plan {
    let databases = local.shared.config().databases;
    let mut p = Plan {
        steps: Vec::with_capacity(jobs.len()),
        keys: Vec::new(),
        global: false,
    };
    for job in jobs.iter_mut() {
        job.db = db;
        if job.spec.name == "select" && job.cmd.len() == 2 {
            db = db_index(&job.cmd[1], databases).unwrap_or(db);
        }
        let (step, keys, global) = step_of(local, job, databases);
        p.global |= global;
        p.keys.extend(keys);
        p.steps.push(step);
    }
    p
}

/// How `job` runs inside a transaction or script, the keys it touches, and whether it needs
/// the whole keyspace locked.
pub(crate) fn step_of(local: &Local, job: &Job, databases: usize) -> (Step, Vec<TxKey>, bool) {
    let keys = job_keys(job, databases);
    match job.command.route {
        Route::Server(which) => (Step::Server(which), keys, whole_keyspace(which)),
        Route::Multi(command::Multi::Sort, _)
            if local.shards() > 1 && coord::sort_reads_other_keys(&job.cmd) =>
        {
            (Step::Sort, keys, true)
        }
        _ => {
            let mut shards = keys.iter().map(|(_, k, _)| local.shard_of(k));
            let first = shards.next().unwrap_or(local.id);
            let step = if shards.all(|s| s == first) {
                Step::On(first)
            } else {
                Step::Gather(keys.clone())
            };
            (step, keys, false)
        }
    }
}

/// Runs one planned command while its locks are held (a transaction's, or every database's
/// for a script), appending the keys it wrote to `written` (their blocked clients are the
/// caller's to serve once the locks go). `from_script`: a script's command, which SLOWLOG
/// logs for the script's client rather than the caller (as Redis' `?:0` Lua client).
pub(crate) async fn run_step(
    local: &Rc<Local>,
    sess: &mut Session,
    job: Job,
    step: Step,
    resp3: bool,
    written: &mut Vec<(usize, Bytes)>,
    from_script: bool,
) -> Reply {
    match step {
        Step::On(shard) => {
            let group = sess.fx_group;
            let (reply, w) = local
                .call(shard, move |l| {
                    let mut reply = Reply::new(resp3);
                    let w = run_here(
                        l,
                        std::slice::from_ref(&job),
                        unix_ms(),
                        &mut reply,
                        &mut Vec::new(),
                        from_script,
                        group,
                    );
                    (reply, w)
                })
                .await;
            written.extend(w);
            reply
        }
        Step::Gather(keys) => gathered(local, sess, &job, &keys, resp3, written, from_script).await,
        Step::Sort => {
            let keys = sort_keys(local, &job).await;
            gathered(local, sess, &job, &keys, resp3, written, from_script).await
        }
        Step::Server(which) => {
            let (t0, mut reply) = (Instant::now(), Reply::new(resp3));
            if which == Server::Wait {
                // As Redis: inside a transaction WAIT does not block; it counts.
                reply.int(crate::leader::acked_now(local));
            } else {
                command::run_server(local, sess, which, &job.cmd, &mut reply).await;
            }
            let usec = t0.elapsed().as_micros() as u64;
            let failed = reply.errors > 0;
            local
                .stats
                .borrow_mut()
                .record(job.spec.name, usec, failed, &reply.buf);
            let who = if from_script { 0 } else { job.client };
            dispatch::completed(local, who, job.db, job.spec, &job.cmd, usec);
            reply
        }
    }
}

pub async fn exec(local: &Rc<Local>, sess: &mut Session, out: &mut Reply) {
    let Some(queued) = sess.multi.take() else {
        return out.error("ERR EXEC without MULTI");
    };
    sess.info.multi.set(-1);
    if queued.aborted {
        forget_watches(local, sess);
        return out.error("EXECABORT Transaction discarded because of previous errors.");
    }
    let grows = queued
        .jobs
        .iter()
        .any(|j| j.spec.flags & flag::DENYOOM != 0);
    if grows && crate::maxmemory::out_of_memory(local) {
        // As Redis' rejectCommand for EXEC: the transaction is discarded.
        forget_watches(local, sess);
        return out.error(&format!(
            "EXECABORT Transaction discarded because of: {}",
            crate::maxmemory::OOM
        ));
    }
    let mut jobs = queued.jobs;
    for job in jobs.iter_mut() {
        // The ACL rules may have changed since the command was queued.
        if let Some(reason) = crate::acl::recheck_queued(local, sess, job.spec, &job.cmd) {
            job.command = command::acl_denied(reason);
            job.spec = job.command.spec;
        }
    }
    let plan = plan(local, sess.db, &mut jobs);
    let watched: Vec<(usize, Bytes)> = sess
        .watching
        .as_ref()
        .map(|w| w.keys.clone())
        .unwrap_or_default();
    let flag = sess.watching.as_ref().map(|w| w.flag.clone());

    let one_shard = if plan.global {
        None
    } else {
        plan.steps
            .iter()
            .map(|s| match s {
                Step::On(s) => Some(*s),
                _ => None,
            })
            .chain(plan.keys.iter().map(|(_, k, _)| Some(local.shard_of(k))))
            .chain(watched.iter().map(|(_, k)| Some(local.shard_of(k))))
            .try_fold(None, |acc: Option<usize>, s| match (acc, s) {
                (_, None) => Err(()),
                (None, Some(s)) => Ok(Some(s)),
                (Some(a), Some(s)) if a == s => Ok(Some(a)),
                _ => Err(()),
            })
            .ok()
            .map(|s| s.unwrap_or(local.id))
    };
    let tx = Planned {
        jobs,
        plan,
        watched,
        flag,
    };
    match one_shard {
        Some(shard) => exec_on_one_shard(local, shard, tx, out).await,
        None => exec_coordinated(local, sess, tx, out).await,
    }
    forget_watches(local, sess);
}

/// A transaction ready to run: its commands, their plan, and the client's watch.
struct Planned {
    jobs: Vec<Job>,
    plan: Plan,
    watched: Vec<(usize, Bytes)>,
    flag: Option<WatchFlag>,
}

/// Everything the transaction touches lives on `shard`: one message runs it all.
async fn exec_on_one_shard(local: &Rc<Local>, shard: usize, tx: Planned, out: &mut Reply) {
    let Planned {
        jobs,
        plan,
        watched,
        flag,
    } = tx;
    let resp3 = out.resp3;
    let mut keys: Vec<(usize, Bytes)> = plan.keys.into_iter().map(|(d, k, _)| (d, k)).collect();
    keys.extend(watched.iter().cloned());
    let mut attempt = (jobs, keys, watched, flag);
    loop {
        let (jobs, keys, watched, flag) = attempt;
        let r = local
            .call(shard, move |l| {
                {
                    let mut locks = l.locks.borrow_mut();
                    if !locks.is_empty() {
                        let held = keys
                            .iter()
                            .find(|(db, k)| !locks.is_free(*db, k, Mode::Exclusive));
                        if let Some((db, k)) = held {
                            // A cross-shard transaction holds a key: wait for its release.
                            let (tx, rx) = oneshot::channel();
                            locks.wait_key(*db, k, tx);
                            return Err((rx, (jobs, keys, watched, flag)));
                        }
                    }
                }
                let now = unix_ms();
                if let Some(flag) = &flag {
                    if watch_broken(l, flag, &watched, now) {
                        return Ok(None);
                    }
                }
                let mut reply = Reply::new(resp3);
                reply.array(jobs.len());
                // One message runs it all: its effects enter the AOF as one MULTI ... EXEC.
                let group = l.fx_group_begin();
                let written = run_here(l, &jobs, now, &mut reply, &mut Vec::new(), false, None);
                l.fx_group_end(group);
                serve_blocked(l, &written);
                Ok(Some(reply))
            })
            .await;
        match r {
            Ok(Some(reply)) => {
                out.errors += reply.errors;
                return out.raw(&reply.buf);
            }
            Ok(None) => return out.null_array(),
            Err((wake, again)) => {
                let _ = wake.await;
                attempt = again;
            }
        }
    }
}

/// Looks up the watched keys of this shard (expiring what expired: that sets the flag) and
/// tells whether any of them changed since WATCH.
fn watch_broken(l: &Local, flag: &WatchFlag, watched: &[(usize, Bytes)], now: u64) -> bool {
    let mut shard = l.shard();
    for (db, key) in watched {
        if l.shard_of(key) == l.id {
            shard.dbs[*db].peek(key, now);
        }
    }
    flag.load(Ordering::Acquire)
}

/// Runs `jobs` on this shard, bypassing lock checks (the transaction holds or checked the
/// locks), recording stats and each reply's end in `ends`. Returns the keys written, for
/// the blocked clients.
fn run_here(
    l: &Local,
    jobs: &[Job],
    now: u64,
    reply: &mut Reply,
    ends: &mut Vec<usize>,
    from_script: bool,
    group: Option<u64>,
) -> Vec<(usize, Bytes)> {
    let mut shard = l.shard();
    if let Some(g) = group {
        shard.effects.enter(g);
    }
    let mut stats = l.stats.borrow_mut();
    let mut written = Vec::new();
    let mut laps = Laps::start();
    for job in jobs {
        let (_, usec) =
            dispatch::execute_recorded(&mut shard, &mut stats, &mut laps, job, now, reply, ends);
        let who = if from_script { 0 } else { job.client };
        dispatch::completed(l, who, job.db, job.spec, &job.cmd, usec);
        if job.spec.flags & flag::WRITE != 0 {
            written.extend(job.key_positions().map(|i| (job.db, job.cmd.arg_bytes(i))));
        }
    }
    if group.is_some() {
        shard.effects.leave();
    }
    written
}

/// Serves the clients blocked on keys of this shard the transaction wrote.
pub(crate) fn serve_blocked(l: &Local, written: &[(usize, Bytes)]) {
    if written.is_empty() || l.blocked.borrow().is_empty() {
        return;
    }
    let mut shard = l.shard();
    for (db, key) in written {
        if l.shard_of(key) == l.id {
            blocking::signal(l, &mut shard, *db, key);
        }
    }
}

/// A transaction over several shards (or the whole keyspace): locks, watches, then each
/// command where it runs.
async fn exec_coordinated(local: &Rc<Local>, sess: &mut Session, tx: Planned, out: &mut Reply) {
    let Planned {
        jobs,
        plan,
        watched,
        flag,
    } = tx;
    let resp3 = out.resp3;
    let all_dbs: Vec<usize> = (0..local.shared.config().databases).collect();
    let mut tx = Tx::default();
    if plan.global {
        coord::lock_dbs(local, &all_dbs).await;
    } else {
        for (db, key, writes) in &plan.keys {
            let mode = if *writes {
                Mode::Exclusive
            } else {
                Mode::Shared
            };
            tx.add_key(local, *db, mode, key.clone(), None);
        }
        for (db, key) in &watched {
            tx.add_key(local, *db, Mode::Shared, key.clone(), None);
        }
        tx.lock(local).await;
    }

    let mut broken = false;
    if let Some(flag) = &flag {
        for (shard, keys) in by_shard(local, watched.iter().cloned()) {
            let f = flag.clone();
            broken |= local
                .call(shard, move |l| watch_broken(l, &f, &keys, unix_ms()))
                .await;
        }
    }

    let mut written: Vec<(usize, Bytes)> = Vec::new();
    if broken {
        out.null_array();
    } else {
        out.array(jobs.len());
        sess.holds_db_locks = plan.global;
        sess.fx_group = local.fx_group_open();
        // Consecutive commands that each run on one shard go out as one message per shard,
        // all shards at once: with every key locked, commands on different shards cannot
        // see each other, and each shard runs its own in order. A command that gathers or
        // needs the connection waits for everything before it.
        let mut segment: Vec<(usize, Job)> = Vec::new();
        for (job, step) in jobs.into_iter().zip(plan.steps) {
            if let Step::On(shard) = step {
                segment.push((shard, job));
                continue;
            }
            run_segment(local, &mut segment, resp3, out, &mut written, sess.fx_group).await;
            let reply =
                Box::pin(run_step(local, sess, job, step, resp3, &mut written, false)).await;
            out.errors += reply.errors;
            out.raw(&reply.buf);
        }
        run_segment(local, &mut segment, resp3, out, &mut written, sess.fx_group).await;
        sess.holds_db_locks = false;
        // Before the locks go: nobody else's write to these keys can be logged first.
        local.fx_group_commit(sess.fx_group.take()).await;
    }

    if plan.global {
        coord::unlock_dbs(local, &all_dbs).await;
    } else {
        tx.release(local).await;
    }
    for (shard, keys) in by_shard(local, written.into_iter()) {
        local.call(shard, move |l| serve_blocked(l, &keys)).await;
    }
}

/// Runs a segment of one-shard commands: one message per shard, all shards in parallel,
/// replies appended to `out` in the segment's order.
async fn run_segment(
    local: &Rc<Local>,
    segment: &mut Vec<(usize, Job)>,
    resp3: bool,
    out: &mut Reply,
    written: &mut Vec<(usize, Bytes)>,
    group: Option<u64>,
) {
    if segment.is_empty() {
        return;
    }
    let order: Vec<usize> = segment.iter().map(|(s, _)| *s).collect();
    let mut groups: Vec<(usize, Vec<Job>)> = Vec::new();
    for (shard, job) in segment.drain(..) {
        match groups.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, jobs)) => jobs.push(job),
            None => groups.push((shard, vec![job])),
        }
    }
    let run = move |l: &Rc<Local>, jobs: Vec<Job>| {
        let (mut reply, mut ends) = (Reply::new(resp3), Vec::with_capacity(jobs.len()));
        let w = run_here(l, &jobs, unix_ms(), &mut reply, &mut ends, false, group);
        (reply.buf, ends, reply.errors, w)
    };
    let mut pending = Vec::with_capacity(groups.len());
    let mut mine = None;
    for (shard, jobs) in groups {
        if shard == local.id {
            mine = Some((shard, jobs));
            pending.push((shard, None));
        } else {
            pending.push((shard, Some(local.send_call(shard, move |l| run(l, jobs)))));
        }
    }
    let mine = mine.map(|(_, jobs)| run(local, jobs));
    let mut results: Vec<(usize, Vec<u8>, Vec<usize>)> = Vec::with_capacity(pending.len());
    for (shard, rx) in pending {
        let (buf, ends, errors, w) = match rx {
            Some(rx) => rx.await.expect("shard mailbox dropped a job"),
            None => mine.clone().expect("this shard's group ran here"),
        };
        out.errors += errors;
        written.extend(w);
        results.push((shard, buf, ends));
    }
    let mut next = vec![0usize; results.len()];
    for shard in order {
        let i = results.iter().position(|(s, _, _)| *s == shard).unwrap();
        let (_, buf, ends) = &results[i];
        let k = next[i];
        let start = if k == 0 { 0 } else { ends[k - 1] };
        out.raw(&buf[start..ends[k]]);
        next[i] += 1;
    }
}

/// Runs `job` on copies of `keys` gathered here (its keys span shards).
async fn gathered(
    local: &Rc<Local>,
    sess: &Session,
    job: &Job,
    keys: &[TxKey],
    resp3: bool,
    written: &mut Vec<(usize, Bytes)>,
    from_script: bool,
) -> Reply {
    let t0 = Instant::now();
    let (reply, w) = coord::gather_held(
        local,
        keys,
        resp3,
        false,
        sess.fx_group,
        |scratch, reply| {
            dispatch::execute(scratch, job, unix_ms(), reply);
        },
    )
    .await;
    written.extend(w);
    let usec = t0.elapsed().as_micros() as u64;
    local
        .stats
        .borrow_mut()
        .record(job.spec.name, usec, reply.errors > 0, &reply.buf);
    let who = if from_script { 0 } else { job.client };
    dispatch::completed(local, who, job.db, job.spec, &job.cmd, usec);
    reply
}

/// SORT's keys, the ones its BY / GET patterns name included (the whole keyspace is locked,
/// so the elements cannot change before the sort runs).
async fn sort_keys(local: &Rc<Local>, job: &Job) -> Vec<TxKey> {
    let (db, source) = (job.db, job.cmd.arg_bytes(1));
    let elements = coord::sort_elements_of(local, db, source).await;
    let mut keys: Vec<TxKey> = coord::spec_keys(job.spec, &job.cmd)
        .into_iter()
        .map(|(k, w)| (db, k, w))
        .collect();
    keys.extend(
        shard::sort::pattern_keys(&job.cmd, &elements)
            .into_iter()
            .map(|k| (db, Bytes::from(k), false)),
    );
    keys
}
