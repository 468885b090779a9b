//! From parsed requests to replies: checks, routing and batching by shard.
//!
//! A pipelined batch is cut into runs of commands that each touch one shard. A run's commands
//! are grouped by shard; each group travels to its shard in ONE message and comes back as one
//! buffer of replies, which are copied to the client in request order. Commands that are not
//! bound to one shard (cross-shard multi-key commands, server commands) end the run: they see
//! every earlier command of the batch applied.

use crate::blocking;
use crate::client::Session;
use crate::command::meta::{self, flag, CommandSpec};
use crate::command::{self, Command, Route};
use crate::coord;
use crate::local::{unix_ms, Local};
use crate::stats::Laps;
use futures_channel::oneshot;
use shard::locks::Mode;
use shard::{Cmd, Handler, Reply};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A command bound for one shard.
pub struct Job {
    pub cmd: Cmd,
    pub command: &'static Command,
    /// The spec that describes its keys (the subcommand's for containers like OBJECT).
    pub spec: &'static CommandSpec,
    pub db: usize,
    /// The client that sent it (0: the server itself), for CLIENT TRACKING's NOLOOP.
    pub client: u64,
    /// CLIENT TRACKING: the reader its keys are remembered for, when it reads.
    pub track: Option<shard::tracking::Reader>,
}

/// Commands of the current run, by shard, and the order they came in.
#[derive(Default)]
pub struct Run {
    by_shard: Vec<Vec<Job>>,
    order: Vec<usize>,
}

impl Run {
    fn push(&mut self, shard: usize, job: Job) {
        if self.by_shard.len() <= shard {
            self.by_shard.resize_with(shard + 1, Vec::new);
        }
        self.by_shard[shard].push(job);
        self.order.push(shard);
    }

    fn single_shard(&self) -> Option<usize> {
        let first = *self.order.first()?;
        self.order.iter().all(|&s| s == first).then_some(first)
    }
}

enum Plan {
    /// Refused before running: the command's name when it is known, and the error.
    Reject(Option<&'static str>, Vec<u8>),
    Shard(usize, Job),
    Multi(command::Multi, Job),
    /// A blocking command: may wait for a key (see `blocking`).
    Block(Handler, Job),
    Server(command::Server, Cmd, &'static CommandSpec),
}

/// Runs a batch of requests and appends their replies to `out`, in order.
pub async fn run_batch(
    local: &Rc<Local>,
    sess: &mut Session,
    cmds: impl IntoIterator<Item = Cmd>,
    run: &mut Run,
    out: &mut Vec<u8>,
) {
    for cmd in cmds {
        if sess.closing {
            break;
        }
        if let Some(wait) = paused(local, &cmd) {
            flush(local, sess, run, out).await;
            wait_out_pause(local, &cmd, wait).await;
        }
        if sess.multi.is_some() && !crate::multi::runs_now(&cmd) {
            // Inside MULTI: checked and queued, answered +QUEUED (or the error that will
            // make EXEC refuse).
            flush(local, sess, run, out).await;
            let mut r = Reply::with_buf(std::mem::take(out), sess.resp3);
            let prepared = prepare(local, sess, cmd);
            if let Err((name, msg)) = &prepared {
                local.stats.borrow_mut().reject(*name, msg);
            }
            crate::multi::queue(sess, prepared, &mut r);
            *out = r.buf;
            continue;
        }
        let plan = match prepare(local, sess, cmd) {
            Ok(job) => route(local, job),
            Err((name, msg)) => Plan::Reject(name, msg),
        };
        match plan {
            Plan::Shard(shard, job) => run.push(shard, job),
            Plan::Reject(name, msg) => {
                flush(local, sess, run, out).await;
                let mut r = Reply::with_buf(std::mem::take(out), sess.resp3);
                r.error_bytes(&msg);
                *out = r.buf;
                local.stats.borrow_mut().reject(name, &msg);
            }
            Plan::Multi(kind, job) => {
                flush(local, sess, run, out).await;
                let (t0, start) = (Instant::now(), out.len());
                let mut r = Reply::with_buf(std::mem::take(out), sess.resp3);
                coord::run(local, kind, &job, &mut r).await;
                let failed = r.errors > 0;
                *out = r.buf;
                let usec = t0.elapsed().as_micros() as u64;
                local
                    .stats
                    .borrow_mut()
                    .record(job.spec.name, usec, failed, &out[start..]);
                completed(local, sess.info.id, job.db, job.spec, &job.cmd, usec);
            }
            Plan::Block(handler, job) => {
                flush(local, sess, run, out).await;
                let (t0, start) = (Instant::now(), out.len());
                let mut r = Reply::with_buf(std::mem::take(out), sess.resp3);
                blocking::run(local, sess, &job, handler, &mut r).await;
                crate::monitor::feed(local, sess.info.id, job.db, job.spec, &job.cmd);
                let failed = r.errors > 0;
                *out = r.buf;
                let usec = t0.elapsed().as_micros() as u64;
                let mut stats = local.stats.borrow_mut();
                stats.record(job.spec.name, usec, failed, &out[start..]);
            }
            Plan::Server(which, cmd, spec) => {
                flush(local, sess, run, out).await;
                let (t0, start) = (Instant::now(), out.len());
                let mut r = Reply::with_buf(std::mem::take(out), sess.resp3);
                command::run_server(local, sess, which, &cmd, &mut r).await;
                let failed = r.errors > 0;
                *out = r.buf;
                let usec = t0.elapsed().as_micros() as u64;
                local
                    .stats
                    .borrow_mut()
                    .record(spec.name, usec, failed, &out[start..]);
                completed(local, sess.info.id, sess.db, spec, &cmd, usec);
            }
        }
    }
    flush(local, sess, run, out).await;
}

/// CLIENT PAUSE: how long `cmd` must wait, if a pause applies to it (every command, or
/// only writes for `PAUSE ... WRITE`, as Redis).
fn paused(local: &Local, cmd: &Cmd) -> Option<std::time::Duration> {
    let until = local.shared.pause_until_ms.load(Ordering::Relaxed);
    if until == 0 {
        // Not paused: no clock read per command.
        return None;
    }
    let now = unix_ms();
    if until <= now {
        // The pause is over: back to the fast path (unless a new one began meanwhile).
        let _ = local.shared.pause_until_ms.compare_exchange(
            until,
            0,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        return None;
    }
    if local.shared.pause_writes_only.load(Ordering::Relaxed) {
        let write = command::lookup(&cmd[0]).is_some_and(|c| c.spec.flags & flag::WRITE != 0);
        if !write {
            return None;
        }
    }
    Some(std::time::Duration::from_millis(until - now))
}

async fn wait_out_pause(local: &Local, cmd: &Cmd, mut wait: std::time::Duration) {
    loop {
        // Wake up now and then: CLIENT UNPAUSE may end the pause early.
        glommio::timer::sleep(wait.min(std::time::Duration::from_millis(10))).await;
        match paused(local, cmd) {
            Some(w) => wait = w,
            None => return,
        }
    }
}

/// A command refused before running: its name when it is known, and the error.
pub type Refusal = (Option<&'static str>, Vec<u8>);

/// Looks the command up and checks it (existence, arity, authentication) before routing.
pub fn prepare(local: &Local, sess: &mut Session, cmd: Cmd) -> Result<Job, Refusal> {
    let Some(command) = command::lookup(&cmd[0]) else {
        return Err((None, unknown_command(&cmd)));
    };
    let mut spec = command.spec;
    if !spec.subcommands.is_empty() && cmd.len() >= 2 {
        if let Some(sub) = meta::lookup_sub(spec, &cmd[1]) {
            spec = sub;
        }
    }
    if !meta::arity_ok(spec.arity, cmd.len()) {
        return Err((
            Some(spec.name),
            format!("ERR wrong number of arguments for '{}' command", spec.name).into(),
        ));
    }
    if !sess.authenticated
        && spec.flags & flag::NO_AUTH == 0
        && local.shared.acl.default_needs_auth()
    {
        return Err((Some(spec.name), b"NOAUTH Authentication required.".to_vec()));
    }
    // ACL: one atomic load and a flag test for a user allowed everything.
    if let Err(e) = crate::acl::check(local, sess, spec, &cmd) {
        return Err((Some(spec.name), e));
    }
    // A replica: -READONLY, -MASTERDOWN, -LOADING (one atomic load on a master).
    if let Some(e) = local.shared.follower.refusal(sess.info.id, spec.flags) {
        return Err((Some(spec.name), e.as_bytes().to_vec()));
    }
    if !sess.resp3
        && sess.pubsub.count() > 0
        && !crate::pubsub::allowed_when_subscribed(command.spec.name)
    {
        return Err((
            Some(spec.name),
            format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            )
            .into(),
        ));
    }
    if spec.flags & flag::ALLOW_BUSY == 0 {
        if let Some(busy) = local.shared.scripts.busy_error() {
            return Err((Some(spec.name), busy.as_bytes().to_vec()));
        }
    }
    if let Some(aof) = &local.shared.aof {
        // After a failed AOF write, as Redis: writes (and PING, so monitoring notices) are
        // refused until a write works again.
        if spec.flags & flag::WRITE != 0 || spec.name == "ping" {
            if let Some(e) = aof.refusal() {
                return Err((Some(spec.name), e.into_bytes()));
            }
        }
    }
    if local.shared.maxmemory.limit() != 0 && out_of_memory(local, sess, &cmd, command, spec) {
        return Err((Some(spec.name), crate::maxmemory::OOM.as_bytes().to_vec()));
    }
    sess.info.last_cmd.set(spec.name);
    let track = (sess.tracking.is_some()
        && spec.flags & flag::READONLY != 0
        && spec.flags & flag::PUBSUB == 0)
        .then(|| crate::tracking::reader_for(local, sess))
        .flatten();
    crate::tracking::command_done(sess, spec.name);
    Ok(Job {
        cmd,
        command,
        spec,
        db: sess.db,
        client: sess.info.id,
        track,
    })
}

/// With `maxmemory` set: whether `cmd` is refused with -OOM before it is routed. Inside MULTI
/// every command but those acting at once is (queuing grows memory too, as Redis says); a
/// `denyoom` command bound to one shard is decided there (`run_jobs`), so that the shard
/// that writes is the one that evicts; the others here, with this executor's shard.
fn out_of_memory(
    local: &Local,
    sess: &Session,
    cmd: &Cmd,
    command: &Command,
    spec: &CommandSpec,
) -> bool {
    let queued = sess.multi.is_some() && !crate::multi::runs_now(cmd);
    let elsewhere = spec.flags & flag::DENYOOM != 0
        && !matches!(command.route, Route::Keyed(_) | Route::Shard(_));
    (queued || elsewhere) && crate::maxmemory::out_of_memory(local)
}

/// Where a checked command runs.
fn route(local: &Rc<Local>, job: Job) -> Plan {
    match job.command.route {
        Route::Keyed(_) | Route::Shard(_) => {
            let shard = job
                .key_positions()
                .next()
                .map_or(local.id, |i| local.shard_of(&job.cmd[i]));
            Plan::Shard(shard, job)
        }
        Route::Multi(command::Multi::Sort, _)
            if local.shards() > 1 && coord::sort_reads_other_keys(&job.cmd) =>
        {
            Plan::Multi(command::Multi::Sort, job)
        }
        Route::Multi(kind, _) | Route::MultiShard(kind, _) => match job.single_shard(local) {
            Some(shard) => Plan::Shard(shard, job),
            None => Plan::Multi(kind, job),
        },
        Route::Blocking(h) => Plan::Block(h, job),
        Route::Server(which) => Plan::Server(which, job.cmd, job.spec),
    }
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` as Redis words it: the
/// name and the arguments as C's `%.*s` prints them (raw bytes, cut at a NUL), the name to
/// 128 bytes, the arguments within one budget of 128 bytes.
fn unknown_command(cmd: &Cmd) -> Vec<u8> {
    fn c_str(b: &[u8], max: usize) -> &[u8] {
        let b = &b[..b.len().min(max)];
        b.split(|&c| c == 0).next().unwrap_or_default()
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(c_str(&cmd[0], 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    let mut args = Vec::new();
    for a in cmd.args().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let budget = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(c_str(a, budget));
        args.extend_from_slice(b"' ");
    }
    msg.extend_from_slice(&args);
    msg
}

impl Job {
    pub fn key_positions(&self) -> command::KeyPositions {
        command::command_keys(self.spec, &self.cmd)
    }

    /// The shard all keys live on, if they share one.
    fn single_shard(&self, local: &Local) -> Option<usize> {
        let mut keys = self.key_positions();
        let first = local.shard_of(&self.cmd[keys.next()?]);
        keys.all(|i| local.shard_of(&self.cmd[i]) == first)
            .then_some(first)
    }

    pub fn lock_mode(&self) -> Mode {
        if self.spec.flags & flag::WRITE != 0 {
            Mode::Exclusive
        } else {
            Mode::Shared
        }
    }
}

impl Local {
    #[inline]
    pub fn shard_of(&self, key: &[u8]) -> usize {
        shard::slot::key_shard(key, self.shards())
    }
}

/// Runs the current run's commands and appends their replies in request order.
async fn flush(local: &Rc<Local>, sess: &Session, run: &mut Run, out: &mut Vec<u8>) {
    if run.order.is_empty() {
        return;
    }
    if let Some(s) = run.single_shard() {
        let jobs = std::mem::take(&mut run.by_shard[s]);
        let mut ends = Vec::new();
        let jobs = exec_on(local, s, jobs, sess.resp3, out, &mut ends).await;
        run.by_shard[s] = jobs;
        run.by_shard[s].clear();
        run.order.clear();
        return;
    }
    // Several shards: send every remote group first so they run in parallel, run ours, then
    // collect.
    let n = run.by_shard.len();
    let mut results: Vec<(Vec<u8>, Vec<usize>)> = Vec::with_capacity(n);
    enum Group {
        None,
        Here(Vec<Job>),
        Sent(oneshot::Receiver<GroupResult>),
    }
    let groups: Vec<Group> = (0..n)
        .map(|s| {
            let jobs = std::mem::take(&mut run.by_shard[s]);
            if jobs.is_empty() {
                Group::None
            } else if s == local.id {
                Group::Here(jobs)
            } else {
                Group::Sent(send_jobs(local, s, jobs, sess.resp3))
            }
        })
        .collect();
    for (s, group) in groups.into_iter().enumerate() {
        let mut buf = Vec::new();
        let mut ends = Vec::new();
        match group {
            Group::None => {}
            Group::Here(jobs) => {
                exec_on(local, s, jobs, sess.resp3, &mut buf, &mut ends).await;
            }
            Group::Sent(rx) => {
                let r = rx.await.expect("shard mailbox dropped a job");
                finish_remote(local, s, r, sess.resp3, &mut buf, &mut ends).await;
            }
        }
        results.push((buf, ends));
    }
    let mut next = vec![0usize; n];
    for &s in &run.order {
        let (buf, ends) = &results[s];
        let i = next[s];
        let start = if i == 0 { 0 } else { ends[i - 1] };
        out.extend_from_slice(&buf[start..ends[i]]);
        next[s] += 1;
    }
    run.order.clear();
}

/// What a shard sends back for a group: replies, their end offsets, and, when a command had
/// to wait for a transaction's lock, the commands not run yet and the wake-up to wait for.
type GroupResult = (
    Vec<u8>,
    Vec<usize>,
    Option<(Vec<Job>, oneshot::Receiver<()>)>,
);

fn send_jobs(
    local: &Rc<Local>,
    shard: usize,
    jobs: Vec<Job>,
    resp3: bool,
) -> oneshot::Receiver<GroupResult> {
    local.send_call(shard, move |l| {
        let mut buf = Vec::new();
        let mut ends = Vec::new();
        let blocked = run_jobs(l, &jobs, resp3, &mut buf, &mut ends);
        let rest = blocked.map(|(i, rx)| (jobs.into_iter().skip(i).collect(), rx));
        (buf, ends, rest)
    })
}

/// Completes a remote group: waits out transaction locks and re-sends what is left.
async fn finish_remote(
    local: &Rc<Local>,
    shard: usize,
    mut r: GroupResult,
    resp3: bool,
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) {
    loop {
        let base = out.len();
        out.extend_from_slice(&r.0);
        ends.extend(r.1.iter().map(|e| e + base));
        let Some((rest, wake)) = r.2 else {
            return;
        };
        let _ = wake.await;
        r = send_jobs(local, shard, rest, resp3)
            .await
            .expect("shard mailbox dropped a job");
    }
}

/// Runs `jobs` on `shard` (inline when it is ours), appending replies to `out`.
/// Returns the emptied job vector for reuse.
async fn exec_on(
    local: &Rc<Local>,
    shard: usize,
    jobs: Vec<Job>,
    resp3: bool,
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Vec<Job> {
    if shard != local.id {
        let r = send_jobs(local, shard, jobs, resp3)
            .await
            .expect("shard mailbox dropped a job");
        finish_remote(local, shard, r, resp3, out, ends).await;
        return Vec::new();
    }
    let mut from = 0;
    while let Some((i, wake)) = run_jobs(local, &jobs[from..], resp3, out, ends) {
        from += i;
        let _ = wake.await;
    }
    jobs
}

/// Runs jobs on this shard in order, appending each reply to `out` and its end offset to
/// `ends`. Stops before the first job whose key a transaction holds, returning its index and
/// the wake-up that fires when the lock is released.
pub fn run_jobs(
    local: &Local,
    jobs: &[Job],
    resp3: bool,
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Option<(usize, oneshot::Receiver<()>)> {
    let now = unix_ms();
    let mut shard = local.shard();
    let mut stats = local.stats.borrow_mut();
    let mut reply = Reply::with_buf(std::mem::take(out), resp3);
    let mut laps = Laps::start();
    let maxmemory = local.shared.maxmemory.limit() != 0;
    for (i, job) in jobs.iter().enumerate() {
        if jobs.len() > 1 && i % PREFETCH_WINDOW == 0 {
            prefetch(&shard, &jobs[i..jobs.len().min(i + PREFETCH_WINDOW)]);
        }
        if let Some(wake) = wait_for_locks(local, job) {
            let busy = (job.spec.flags & flag::ALLOW_BUSY == 0)
                .then(|| local.shared.scripts.busy_error())
                .flatten();
            if let Some(busy) = busy {
                // Held by a script past busy-reply-threshold: answer as Redis would.
                reply.error(busy);
                stats.reject(Some(job.spec.name), busy.as_bytes());
                ends.push(reply.buf.len());
                continue;
            }
            *out = reply.buf;
            return Some((i, wake));
        }
        // Over `maxmemory`, the shard that runs a command evicts first (Redis evicts before
        // every command), and a command that may grow memory is refused if it could not.
        if maxmemory
            && !crate::maxmemory::make_room(local, &mut shard)
            && job.spec.flags & flag::DENYOOM != 0
        {
            reply.error(crate::maxmemory::OOM);
            stats.reject(Some(job.spec.name), crate::maxmemory::OOM.as_bytes());
            ends.push(reply.buf.len());
            laps.restart();
            continue;
        }
        let (_, usec) = execute_recorded(
            &mut shard, &mut stats, &mut laps, job, now, &mut reply, ends,
        );
        completed(local, job.client, job.db, job.spec, &job.cmd, usec);
        if job.spec.flags & flag::WRITE != 0 && !local.blocked.borrow().is_empty() {
            // Serve the clients blocked on what this command wrote, before the next command.
            for pos in job.key_positions() {
                blocking::signal(local, &mut shard, job.db, &job.cmd[pos]);
            }
            laps.restart();
        }
    }
    *out = reply.buf;
    None
}

/// A command finished (`client` 0: one a script called): SLOWLOG, the latency monitor and
/// MONITOR see it.
pub fn completed(local: &Local, client: u64, db: usize, spec: &CommandSpec, cmd: &Cmd, usec: u64) {
    crate::slowlog::record(local, client, spec, cmd, usec);
    crate::latency::command_ran(local, spec.flags & flag::FAST != 0, usec);
    crate::monitor::feed(local, client, db, spec, cmd);
}

/// Pipelined commands whose keys are prefetched together (see [`shard::Shard::prefetch`]):
/// enough to overlap the cache misses of a typical pipeline, few enough that the lines
/// are still in L1 when their commands run.
const PREFETCH_WINDOW: usize = 16;

/// Prefetches the first key of each job.
fn prefetch(shard: &shard::Shard, jobs: &[Job]) {
    let keys: smallvec::SmallVec<[(usize, &[u8]); PREFETCH_WINDOW]> = jobs
        .iter()
        .filter_map(|job| Some((job.db, &job.cmd[job.key_positions().next()?][..])))
        .collect();
    shard.prefetch(&keys);
}

/// [`execute`], then counts the command in INFO commandstats, timed as the lap of `laps`
/// that ends with it, and records where its reply ends in `ends`. Returns whether it wrote
/// and how long it ran (microseconds).
pub fn execute_recorded(
    shard: &mut shard::Shard,
    stats: &mut crate::stats::ShardStats,
    laps: &mut Laps,
    job: &Job,
    now: u64,
    reply: &mut Reply,
    ends: &mut Vec<usize>,
) -> (bool, u64) {
    let (start, errors) = (reply.buf.len(), reply.errors);
    let wrote = execute(shard, job, now, reply);
    let usec = laps.lap();
    stats.record(
        job.spec.name,
        usec,
        reply.errors > errors,
        &reply.buf[start..],
    );
    ends.push(reply.buf.len());
    (wrote, usec)
}

/// Runs one job on this shard's data without looking at transaction locks (the caller
/// checked them, or holds them), replying to `reply`. A blocking command that finds nothing
/// answers its timeout reply: it may not block here. Returns whether the command changed
/// anything; if so, clients WATCHing its keys are told (blocked clients are the caller's
/// business: EXEC serves them only once the whole transaction ran).
pub fn execute(shard: &mut shard::Shard, job: &Job, now: u64, reply: &mut Reply) -> bool {
    let dirty = shard.dirty;
    shard.serve_client(job.client);
    shard.effects.begin();
    if let Some(reader) = job.track {
        shard.remember_reads(job.key_positions().map(|i| &job.cmd[i]), reader);
    }
    let ran = crate::panics::guarded(|| {
        catch_unwind(AssertUnwindSafe(|| match job.command.route {
            Route::Keyed(h) | Route::Multi(_, h) => h(&mut shard.ctx(job.db, now, reply), &job.cmd),
            Route::Blocking(h) => {
                let before = reply.buf.len();
                h(&mut shard.ctx(job.db, now, reply), &job.cmd);
                if reply.buf.len() == before {
                    command::timeout_reply(job.spec.name, reply);
                }
            }
            Route::Shard(h) | Route::MultiShard(_, h) => h(shard, job.db, &job.cmd, now, reply),
            Route::Server(_) => unreachable!("server commands do not run as shard jobs"),
        }))
    });
    if ran.is_err() {
        // A bug in one command must not take the server down: report it to the client.
        reply.error("ERR internal error while executing the command");
    }
    let wrote = shard.dirty != dirty;
    shard.finish_effects(job.db, wrote, job.cmd.args());
    if wrote {
        // MOVE and COPY ... DB reach into other databases: tell watchers in all of them.
        let every_db = matches!(job.command.route, Route::Shard(_) | Route::MultiShard(..));
        for pos in job.key_positions() {
            let key = &job.cmd[pos];
            if every_db {
                shard.dbs.iter_mut().for_each(|d| d.touch(key));
            } else {
                shard.dbs[job.db].touch(key);
            }
        }
        shard.changes_by(job.client);
    }
    wrote
}

/// If a transaction holds one of the job's keys, queues a wake-up for its release.
fn wait_for_locks(local: &Local, job: &Job) -> Option<oneshot::Receiver<()>> {
    let mut locks = local.locks.borrow_mut();
    if locks.is_empty() {
        return None;
    }
    let mode = job.lock_mode();
    let key = job
        .key_positions()
        .map(|i| &job.cmd[i])
        .find(|k| !locks.is_free(job.db, k, mode))?;
    let (tx, rx) = oneshot::channel();
    locks.wait_key(job.db, key, tx);
    Some(rx)
}
