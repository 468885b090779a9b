//! Running scripts and functions against the keyspace: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO,
//! FCALL, FCALL_RO, with BUSY and SCRIPT KILL / FUNCTION KILL. The Lua side (sandbox,
//! conversions, libraries, the script cache and function libraries) is `script`; this
//! module decides where a script runs and what its `redis.call`s may touch.
//!
//! A script runs one of three ways, all atomic and isolated. Which one depends on its
//! history (by SHA; functions by name): what it touched when it last ran.
//!
//! - **With every database locked**: a script never run yet, or one known to touch keys it
//!   does not declare (queue libraries build key names inside their scripts). The
//!   connection takes the whole-database locks of every shard, as Redis' single thread
//!   excludes everything while a script runs, and hands the script to its executor's
//!   script thread. Each `redis.call` comes back to the connection's task, which runs it
//!   where its keys live (as EXEC runs a command, `multi::run_step`) and answers the
//!   script thread. The executors stay free meanwhile: other clients get -BUSY after
//!   `busy-reply-threshold`, and SCRIPT KILL reaches the script.
//! - **On its keys' shard**: a script that so far touched only its declared keys, all on
//!   one shard (one key, a common hash tag, a one-shard server; no key: the connection's
//!   shard). It runs on that shard's thread, synchronously, in one message, nothing else
//!   running on the shard meanwhile; the message first checks that no cross-shard
//!   transaction holds a declared key (else it waits for the release).
//! - **With its declared keys locked**: such a script whose keys span shards. It runs on
//!   the script thread as above, under `coord::Tx` locks on its keys; a key it did not
//!   declare is locked on first use if nobody holds it (never waiting, so no deadlock).
//!
//! A run on its shard or under its declared keys' locks that needs more (a key of another
//! shard, a key somebody holds, a command over the whole keyspace) leaves that mode: if it
//! has not written anything yet, the run is dropped (it changed nothing) and made again
//! with every database locked, and the script is remembered as one that runs there. If it
//! already wrote, the call fails with an error (the writes stand, as after any script error
//! in Redis); this needs a script whose earlier runs never took that branch. A script on
//! its shard that runs past `busy-reply-threshold` without having written is likewise made
//! again on the script thread, where it can be killed; one that already wrote keeps its
//! shard until it ends.

use crate::client::Session;
use crate::command::meta::{self, flag};
use crate::command::{self, Route, Server};
use crate::coord;
use crate::dispatch::{self, Job};
use crate::local::{unix_ms, Local};
use crate::multi;
use crate::script::{
    Engine, Host, LogLevel, Prepared, RestorePolicy, RunningFunction, ScriptStore,
};
use crate::stats::Laps;
use ahash::AHashMap;
use bytes::Bytes;
use futures_lite::StreamExt;
use shard::locks::Mode;
use shard::num::parse_i64;
use shard::{Cmd, Reply};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Server-wide scripting state (in `Shared`).
pub struct Scripts {
    pub store: Arc<ScriptStore>,
    /// What each script (by SHA) and function (by name) did when it ran with every
    /// database locked: true if it touched only keys it declared. Only those run on their
    /// keys' shard; one never seen runs with every database locked first.
    history: Mutex<AHashMap<Vec<u8>, bool>>,
    /// Scripts running now.
    running: Mutex<Vec<Arc<Running>>>,
    /// A script has run past `busy-reply-threshold`: other clients get -BUSY.
    busy: AtomicBool,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            store: Arc::new(ScriptStore::new()),
            history: Mutex::default(),
            running: Mutex::default(),
            busy: AtomicBool::new(false),
        }
    }
}

/// A script in progress, as SCRIPT KILL, FUNCTION STATS and -BUSY see it.
pub struct Running {
    /// When it started running (not waiting for locks): set by [`Running::begin`].
    started: Mutex<Option<Instant>>,
    /// The function's name, or the script's SHA.
    name: Vec<u8>,
    function: bool,
    /// The FCALL that started it (FUNCTION STATS `running_script`); empty for scripts.
    command: Vec<Vec<u8>>,
    kill: AtomicBool,
    wrote: AtomicBool,
    /// Memory was over `maxmemory` with nothing to evict when a script without flags
    /// started: its first write refuses to grow memory (Redis' pre_command_oom_state).
    oom_at_start: bool,
    /// The run is being dropped (to be made again with every database locked): the script
    /// thread's hook stops it.
    abort: AtomicBool,
}

impl Scripts {
    /// May this script run on its keys' shard (it touched only declared keys so far)?
    fn is_clean(&self, id: &[u8]) -> bool {
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        history.get(id) == Some(&true)
    }

    /// Records a run with every database locked, or a run on one shard that had to leave it
    /// (`clean` false). Once unclean, always unclean (until SCRIPT FLUSH or new code).
    fn record(&self, id: &[u8], clean: bool) {
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let entry = history.entry(id.to_vec()).or_insert(clean);
        *entry &= clean;
    }

    /// Forgets the history of scripts (`functions` false) or of functions.
    fn forget(&self, functions: bool) {
        self.history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| id.starts_with(b"f:") != functions);
    }

    /// The script starts running (its locks are held): from now on it counts for -BUSY.
    fn start(&self, r: &Arc<Running>) {
        *r.started.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if !running.iter().any(|x| Arc::ptr_eq(x, r)) {
            running.push(r.clone());
        }
    }

    fn finish(&self, r: &Arc<Running>, threshold_ms: u64) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|x| !Arc::ptr_eq(x, r));
        let still = running.iter().any(|x| x.elapsed_ms() >= threshold_ms);
        self.busy.store(still, Ordering::Release);
    }

    /// The -BUSY error for a command that may not run while a script is busy, if one is.
    pub fn busy_error(&self) -> Option<&'static str> {
        if !self.busy.load(Ordering::Acquire) {
            return None;
        }
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let function = running.iter().any(|r| r.function);
        Some(if function {
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN \
             NOSAVE."
        } else {
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN \
             NOSAVE."
        })
    }

    /// SCRIPT KILL (`function` false) or FUNCTION KILL.
    fn kill(&self, function: bool, out: &mut Reply) {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let Some(r) = running.iter().find(|r| r.function == function) else {
            return out.error("NOTBUSY No scripts in execution right now.");
        };
        if r.wrote.load(Ordering::Acquire) {
            return out.error(
                "UNKILLABLE Sorry the script already executed write commands against the \
                 dataset. You can either wait the script termination or kill the server in a \
                 hard way using the SHUTDOWN NOSAVE command.",
            );
        }
        r.kill.store(true, Ordering::Release);
        out.ok();
    }
}

impl Running {
    /// A call now must not grow memory (see [`Running::oom_at_start`]).
    fn oom_now(&self) -> bool {
        self.oom_at_start && !self.wrote.load(Ordering::Acquire)
    }

    /// Milliseconds since it started running (0 while it waits for locks).
    fn elapsed_ms(&self) -> u64 {
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(0, |t| t.elapsed().as_millis() as u64)
    }
}

/// Which of the six commands runs the script.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call {
    Eval,
    EvalSha,
    Fcall,
}

/// The name undeclared-key history is kept by: the SHA, or `f:` and the function name.
fn history_id(p: &Prepared) -> Vec<u8> {
    match p.sha() {
        Some(sha) => sha.as_bytes().to_vec(),
        None => [b"f:".as_slice(), p.name()].concat(),
    }
}

/// A script ready to run.
#[derive(Clone)]
struct Invocation {
    prepared: Prepared,
    /// The client running the script: its `redis.call`s act for it (CLIENT TRACKING
    /// remembers the keys they read for it, NOLOOP spares it its own writes), as Redis'
    /// script caller.
    caller: Caller,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
    read_only: bool,
    resp3: bool,
    db: usize,
    running: Arc<Running>,
}

/// Who a script's commands act for.
#[derive(Clone)]
struct Caller {
    client: u64,
    /// Where the keys its read commands read are remembered, if it tracks them.
    track: Option<shard::tracking::Reader>,
    /// The caller's ACL user, when its commands need checking (a restricted user).
    acl: Option<Arc<crate::acl::ScriptAcl>>,
}

/// Parses `numkeys` and splits keys from arguments, with Redis' errors.
fn split_keys(cmd: &Cmd) -> Result<(Vec<Bytes>, Vec<Bytes>), &'static str> {
    let Some(n) = parse_i64(&cmd[2]) else {
        return Err(shard::reply::err::NOT_INT);
    };
    if n < 0 {
        return Err("ERR Number of keys can't be negative");
    }
    if n as usize > cmd.len() - 3 {
        return Err("ERR Number of keys can't be greater than number of args");
    }
    let n = n as usize;
    let keys = (3..3 + n).map(|i| cmd.arg_bytes(i)).collect();
    let args = (3 + n..cmd.len()).map(|i| cmd.arg_bytes(i)).collect();
    Ok((keys, args))
}

/// EVAL / EVALSHA / FCALL and their _RO forms.
pub async fn run(
    local: &Rc<Local>,
    sess: &mut Session,
    cmd: &Cmd,
    call: Call,
    ro_command: bool,
    out: &mut Reply,
) {
    // First: it also ends a CLIENT CACHING yes, whatever happens next.
    let caller = Caller {
        client: sess.info.id,
        track: crate::tracking::script_reader(local, sess),
        acl: crate::acl::ScriptAcl::for_session(local, sess),
    };
    crate::monitor::feed_script(local, sess, cmd);
    let (keys, args) = match split_keys(cmd) {
        Ok(k) => k,
        Err(e) => return out.error(e),
    };
    let scripts = &local.shared.scripts;
    let prepared = with_engine(local, |e| match call {
        Call::Eval => e.prepare_eval(&cmd[1]),
        Call::EvalSha => e.prepare_evalsha(&cmd[1]),
        Call::Fcall => e.prepare_fcall(&cmd[1]),
    });
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => return out.error_bytes(&e.0),
    };
    let flags = prepared.flags();
    // On a replica, a script is refused as a command with the flags it declared would be.
    let refusal = local.shared.follower.script_refusal(
        sess.info.id,
        flags.eval_compat_mode(),
        !flags.no_writes(),
        flags.contains(crate::script::ScriptFlags::ALLOW_STALE),
    );
    if let Some(e) = refusal {
        return out.error(e);
    }
    if ro_command && !flags.no_writes() && !flags.eval_compat_mode() {
        return out.error("ERR Can not execute a script with write flag using *_ro command.");
    }
    let oom = crate::maxmemory::out_of_memory(local);
    if oom
        && !flags.eval_compat_mode()
        && !flags.no_writes()
        && !flags.contains(crate::script::ScriptFlags::ALLOW_OOM)
    {
        // A script that may write is a `denyoom` command (Redis' evalGetCommandFlags).
        return out.error(crate::maxmemory::OOM);
    }
    let inv = Invocation {
        caller,
        keys,
        args,
        read_only: ro_command || flags.no_writes(),
        resp3: sess.resp3,
        db: sess.db,
        running: Arc::new(Running {
            started: Mutex::new(None),
            name: prepared.name().to_vec(),
            function: call == Call::Fcall,
            // Only FUNCTION STATS shows it: EVALs do not pay for the copy.
            command: if call == Call::Fcall {
                cmd.args().map(<[u8]>::to_vec).collect()
            } else {
                Vec::new()
            },
            kill: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
            oom_at_start: oom && flags.eval_compat_mode(),
            abort: AtomicBool::new(false),
        }),
        prepared,
    };
    let reply = execute(local, sess, inv.clone()).await;
    let threshold = local.shared.config().busy_reply_threshold;
    scripts.finish(&inv.running, threshold);
    out.errors += reply.errors;
    out.raw(&reply.buf);
}

/// Runs on the declared keys' shard when it can, with every database locked otherwise.
async fn execute(local: &Rc<Local>, sess: &mut Session, inv: Invocation) -> Reply {
    let scripts = &local.shared.scripts;
    if sess.holds_db_locks {
        // Inside EXEC, which locked every database for it.
        return run_on_script_thread(local, sess, inv, Locking::Held).await;
    }
    if !scripts.is_clean(&history_id(&inv.prepared)) {
        // Never run yet, or known to touch keys it does not declare.
        return run_on_script_thread(local, sess, inv, Locking::All).await;
    }
    let mut shards = inv.keys.iter().map(|k| local.shard_of(k));
    let first = shards.next().unwrap_or(local.id);
    if !shards.all(|s| s == first) {
        return run_on_script_thread(local, sess, inv, Locking::Declared).await;
    }
    loop {
        let i = inv.clone();
        match local.call(first, move |l| run_on_shard(l, i)).await {
            OnShard::Done(reply) => return reply,
            OnShard::Wait(wake) => {
                let _ = wake.await;
            }
            OnShard::Escalate => {
                scripts.record(&history_id(&inv.prepared), false);
                return run_on_script_thread(local, sess, inv, Locking::All).await;
            }
        }
    }
}

/// How a run on one shard ended.
enum OnShard {
    Done(Reply),
    /// A transaction holds a declared key: try again after its release.
    Wait(futures_channel::oneshot::Receiver<()>),
    /// The script needs more than this shard and changed nothing: run it everywhere.
    Escalate,
}

thread_local! {
    /// This thread's Lua engine (one per executor thread and one per script thread).
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Bytes held by this thread's Lua states, EVAL's and FUNCTION's (0 before its first script,
/// and while a script runs on this thread: asked from inside that script).
pub fn thread_vm_memory() -> (usize, usize) {
    ENGINE.with(|e| match e.try_borrow() {
        Ok(engine) => engine.as_ref().map_or((0, 0), Engine::vm_memory),
        Err(_) => (0, 0),
    })
}

/// Runs `f` with this thread's engine, creating it on first use.
fn with_engine<R>(local: &Local, f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| {
        let mut e = e.borrow_mut();
        let engine = e.get_or_insert_with(|| Engine::new(local.shared.scripts.store.clone()));
        f(engine)
    })
}

/// The script on its shard, in this one message.
fn run_on_shard(l: &Rc<Local>, inv: Invocation) -> OnShard {
    {
        let mut locks = l.locks.borrow_mut();
        if !locks.is_empty() {
            let mode = if inv.read_only {
                Mode::Shared
            } else {
                Mode::Exclusive
            };
            if let Some(k) = inv.keys.iter().find(|k| !locks.is_free(inv.db, k, mode)) {
                let (tx, rx) = futures_channel::oneshot::channel();
                locks.wait_key(inv.db, k, tx);
                return OnShard::Wait(rx);
            }
        }
    }
    l.shared.scripts.start(&inv.running);
    let mut host = ShardHost {
        l,
        caller: inv.caller.clone(),
        db: inv.db,
        declared: &inv.keys,
        read_only: inv.read_only,
        running: &inv.running,
        threshold_ms: l.shared.config().busy_reply_threshold,
        escalate: false,
        written: Vec::new(),
    };
    // One message runs it all: its effects enter the AOF as one MULTI ... EXEC.
    let group = l.fx_group_begin();
    let reply = with_engine(l, |engine| engine_run(engine, &inv, &mut host));
    l.fx_group_end(group);
    let (escalate, written) = (host.escalate, std::mem::take(&mut host.written));
    if escalate {
        return OnShard::Escalate;
    }
    multi::serve_blocked(l, &written);
    OnShard::Done(reply)
}

/// `redis.call` for a script running on its shard.
struct ShardHost<'a> {
    l: &'a Rc<Local>,
    caller: Caller,
    /// The script's database (SELECT inside it changes it).
    db: usize,
    declared: &'a [Bytes],
    read_only: bool,
    running: &'a Running,
    threshold_ms: u64,
    /// The script needs more than this shard and has not written: drop this run.
    escalate: bool,
    /// Keys written, for the clients blocked on them (served after the script).
    written: Vec<(usize, Bytes)>,
}

/// The error a script gets when it must leave its shard but has written already.
const ERR_OTHER_SHARD: &[u8] = b"-ERR this script wrote on one shard, then called a command on \
    a key of another shard (or one a transaction holds); Shardis runs it with every database \
    locked from now on: run it again\r\n";
/// What every call answers once a run is being dropped.
const ERR_RESTART: &[u8] = b"-ERR script restarting with every database locked\r\n";

impl ShardHost<'_> {
    /// The script must leave this shard: drop the run if nothing was written yet.
    fn leave(&mut self) -> Vec<u8> {
        if self.running.wrote.load(Ordering::Acquire) {
            ERR_OTHER_SHARD.to_vec()
        } else {
            self.escalate = true;
            ERR_RESTART.to_vec()
        }
    }
}

impl Host for ShardHost<'_> {
    fn call(&mut self, args: &[&[u8]], resp3: bool) -> Vec<u8> {
        if self.escalate {
            return ERR_RESTART.to_vec();
        }
        let oom = self.running.oom_now();
        let job = match check_call(self.l, args, self.db, self.read_only, &self.caller, oom) {
            Ok(job) => job,
            Err(e) => return e,
        };
        match job.command.route {
            Route::Server(which) => match local_server_command(which, &job, resp3) {
                Some(reply) => return reply,
                None => return self.leave(),
            },
            Route::Multi(command::Multi::Sort, _)
                if self.l.shards() > 1 && coord::sort_reads_other_keys(&job.cmd) =>
            {
                return self.leave();
            }
            _ => {}
        }
        {
            let locks = self.l.locks.borrow();
            let mode = job.lock_mode();
            for pos in job.key_positions() {
                let key = &job.cmd[pos];
                if self.l.shard_of(key) != self.l.id {
                    drop(locks);
                    return self.leave();
                }
                let declared = self.declared.iter().any(|d| d == key);
                if !declared && !locks.is_empty() && !locks.is_free(job.db, key, mode) {
                    drop(locks);
                    return self.leave();
                }
            }
        }
        let mut reply = Reply::new(resp3);
        let mut shard = self.l.shard();
        let mut stats = self.l.stats.borrow_mut();
        let (wrote, usec) = dispatch::execute_recorded(
            &mut shard,
            &mut stats,
            &mut Laps::start(),
            &job,
            unix_ms(),
            &mut reply,
            &mut Vec::new(),
        );
        // Logged for the script's own client (`?:0`), as Redis logs its Lua client's calls.
        crate::dispatch::completed(self.l, 0, job.db, job.spec, &job.cmd, usec);
        if wrote {
            self.running.wrote.store(true, Ordering::Release);
        }
        if job.spec.flags & flag::WRITE != 0 {
            self.written
                .extend(job.key_positions().map(|i| (job.db, job.cmd.arg_bytes(i))));
        }
        reply.buf
    }

    fn on_hook(&mut self) -> Result<(), String> {
        let scripts = &self.l.shared.scripts;
        match scripts.hook(self.running, self.threshold_ms, true) {
            None => Ok(()),
            Some(Stop::Killed) => Err(self.running.killed_error()),
            Some(Stop::Restart) => {
                self.escalate = true;
                Err("ERR script restarting on the script thread".into())
            }
        }
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        script_log(level, msg);
    }
}

/// Why the instruction hook stops a script.
enum Stop {
    /// SCRIPT KILL / FUNCTION KILL.
    Killed,
    /// It ran past busy-reply-threshold on a shard without writing: make it again on the
    /// script thread, where it can be killed.
    Restart,
}

impl Scripts {
    /// The instruction hook's checks, for a script on a shard (`on_shard`) or on the script
    /// thread; past the threshold, others get -BUSY from now on.
    fn hook(&self, running: &Running, threshold_ms: u64, on_shard: bool) -> Option<Stop> {
        if running.kill.load(Ordering::Acquire) {
            return Some(Stop::Killed);
        }
        if running.elapsed_ms() >= threshold_ms {
            if on_shard && !running.wrote.load(Ordering::Acquire) {
                return Some(Stop::Restart);
            }
            self.busy.store(true, Ordering::Release);
        }
        None
    }
}

impl Running {
    /// The error a killed script ends with.
    fn killed_error(&self) -> String {
        if self.function {
            "ERR Script killed by user with FUNCTION KILL...".into()
        } else {
            "ERR Script killed by user with SCRIPT KILL...".into()
        }
    }
}

/// `redis.log`: the server log at the script's level.
fn script_log(level: LogLevel, msg: &[u8]) {
    use crate::log::Level;
    let level = match level {
        LogLevel::Debug => Level::Debug,
        LogLevel::Verbose => Level::Verbose,
        LogLevel::Notice => Level::Notice,
        LogLevel::Warning => Level::Warning,
    };
    crate::log::log(level, &String::from_utf8_lossy(msg));
}

/// Checks a command called from a script (Redis' scriptCall): it exists, its arity, it is
/// allowed from scripts, and a read-only script does not write. Errors come as RESP.
fn check_call(
    local: &Local,
    args: &[&[u8]],
    db: usize,
    read_only: bool,
    caller: &Caller,
    oom: bool,
) -> Result<Job, Vec<u8>> {
    let Some(name) = args.first() else {
        return Err(
            b"-ERR Please specify at least one argument for this redis lib call\r\n".to_vec(),
        );
    };
    let Some(command) = command::lookup(name) else {
        return Err(b"-ERR Unknown Redis command called from script\r\n".to_vec());
    };
    let mut spec = command.spec;
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        if let Some(sub) = meta::lookup_sub(spec, args[1]) {
            spec = sub;
        }
    }
    if !meta::arity_ok(spec.arity, args.len()) {
        return Err(b"-ERR Wrong number of args calling Redis command from script\r\n".to_vec());
    }
    if spec.flags & flag::NOSCRIPT != 0 {
        return Err(b"-ERR This Redis command is not allowed from script\r\n".to_vec());
    }
    if let Some(acl) = &caller.acl {
        acl.check(local, spec, args)?;
    }
    if read_only && spec.flags & flag::WRITE != 0 {
        return Err(b"-ERR Write commands are not allowed from read-only scripts.\r\n".to_vec());
    }
    if let Some(e) = local
        .shared
        .follower
        .call_refusal(caller.client, spec.flags)
    {
        return Err(format!("-{e}\r\n").into_bytes());
    }
    if oom && spec.flags & flag::DENYOOM != 0 {
        // Redis' scriptVerifyOOM: only before the script's first write (it cannot be
        // stopped half-way after that).
        return Err(format!("-{}\r\n", crate::maxmemory::OOM).into_bytes());
    }
    if spec.flags & flag::WRITE != 0 {
        // After a failed AOF write, as for clients (Redis' scriptVerifyWriteCommandAllow).
        if let Some(e) = local.shared.aof.as_ref().and_then(|a| a.refusal()) {
            return Err(format!("-{e}\r\n").into_bytes());
        }
    }
    let cmd = Cmd::from_args(args);
    if matches!(spec.name, "xread" | "xreadgroup") {
        // Redis refuses BLOCK there rather than answer as a timeout.
        if let Some(e) = shard::stream::script_block_error(&cmd) {
            return Err(format!("-{e}\r\n").into_bytes());
        }
    }
    let reads = spec.flags & flag::READONLY != 0 && spec.flags & flag::PUBSUB == 0;
    Ok(Job {
        cmd,
        command,
        spec,
        db,
        client: caller.client,
        track: caller.track.filter(|_| reads),
    })
}

/// Server commands a script on one shard can answer there; None: it needs the connection
/// or every shard.
fn local_server_command(which: Server, job: &Job, resp3: bool) -> Option<Vec<u8>> {
    let mut out = Reply::new(resp3);
    match which {
        Server::Ping => command::connection::ping(&job.cmd, &mut out),
        Server::Echo => command::connection::echo(&job.cmd, &mut out),
        Server::Time => command::admin::time(&mut out),
        _ => return None,
    }
    Some(out.buf)
}

/// How a script on the script thread is isolated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Locking {
    /// The caller (EXEC) holds every database's lock already.
    Held,
    /// Every database of every shard.
    All,
    /// Its declared keys; a key it did not declare is locked on first use if nobody holds
    /// it (never waiting: no deadlock), else the run leaves for `All`.
    Declared,
}

/// What a run on the script thread came to.
enum Outcome {
    Done(Reply),
    /// The run needs every database locked and changed nothing: make it again so.
    Restart,
}

/// On the executor's script thread, with `locking`, making the run again with every
/// database locked if a declared-keys run must leave.
async fn run_on_script_thread(
    local: &Rc<Local>,
    sess: &mut Session,
    inv: Invocation,
    locking: Locking,
) -> Reply {
    if locking == Locking::Declared {
        match script_thread_run(local, sess, inv.clone(), Locking::Declared).await {
            Outcome::Done(reply) => return reply,
            Outcome::Restart => {
                local
                    .shared
                    .scripts
                    .record(&history_id(&inv.prepared), false);
                inv.running.abort.store(false, Ordering::Release);
            }
        }
        return match script_thread_run(local, sess, inv, Locking::All).await {
            Outcome::Done(reply) => reply,
            Outcome::Restart => unreachable!("a run with every database locked never leaves"),
        };
    }
    match script_thread_run(local, sess, inv, locking).await {
        Outcome::Done(reply) => reply,
        Outcome::Restart => unreachable!("only declared-keys runs leave"),
    }
}

/// One run on the script thread: locks, then each `redis.call` run where its keys live.
async fn script_thread_run(
    local: &Rc<Local>,
    sess: &mut Session,
    inv: Invocation,
    locking: Locking,
) -> Outcome {
    let all: Vec<usize> = (0..local.shared.config().databases).collect();
    let key_mode = if inv.read_only {
        Mode::Shared
    } else {
        Mode::Exclusive
    };
    let mut tx = coord::Tx::default();
    match locking {
        Locking::Held => {}
        Locking::All => coord::lock_dbs(local, &all).await,
        Locking::Declared => {
            for k in &inv.keys {
                tx.add_key(local, inv.db, key_mode, k.clone(), None);
            }
            tx.lock(local).await;
        }
    }
    local.shared.scripts.start(&inv.running);
    let threshold = local.shared.config().busy_reply_threshold;
    let mut touched_undeclared = false;
    // Keys not declared, locked on first use (Declared runs).
    let mut extra: Vec<(usize, Bytes, Mode)> = Vec::new();
    let mut leaving = false;
    let (requests_tx, mut requests) = futures_channel::mpsc::unbounded();
    worker::submit(local, inv.clone(), requests_tx);
    // The script's own session: its database follows SELECT inside the script only.
    let mut script_sess = Session {
        db: inv.db,
        resp3: inv.resp3,
        holds_db_locks: locking != Locking::Declared,
        // Inside EXEC, the transaction's group; otherwise the script's own.
        fx_group: match locking {
            Locking::Held => sess.fx_group,
            _ => local.fx_group_open(),
        },
        ..Session::new(sess.info.clone(), true)
    };
    let databases = all.len();
    let mut written: Vec<(usize, Bytes)> = Vec::new();
    let mut busy_announced = false;
    let reply = loop {
        let next = if busy_announced {
            requests.next().await
        } else {
            let remaining = threshold.saturating_sub(inv.running.elapsed_ms());
            let timer = async {
                glommio::timer::sleep(std::time::Duration::from_millis(remaining)).await;
                None
            };
            match futures_lite::future::or(async { Some(requests.next().await) }, timer).await {
                Some(next) => next,
                None => {
                    // Past busy-reply-threshold: others get -BUSY, also those already
                    // waiting for the locks this script holds.
                    busy_announced = true;
                    local.shared.scripts.busy.store(true, Ordering::Release);
                    local
                        .call_all(|l| {
                            let waiters = l.locks.borrow_mut().take_all_waiters();
                            Local::wake(waiters);
                        })
                        .await;
                    continue;
                }
            }
        };
        match next {
            Some(worker::Request::Call { args, resp3, reply }) => {
                let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                let oom = inv.running.oom_now();
                let job = match check_call(
                    local,
                    &refs,
                    script_sess.db,
                    inv.read_only,
                    &inv.caller,
                    oom,
                ) {
                    Err(e) => {
                        let _ = reply.send(e);
                        continue;
                    }
                    Ok(job) => job,
                };
                if leaving {
                    let _ = reply.send(ERR_RESTART.to_vec());
                    continue;
                }
                let (step, keys, global) = multi::step_of(local, &job, databases);
                let undeclared: Vec<(usize, Bytes, bool)> = keys
                    .into_iter()
                    .filter(|(db, k, _)| *db != inv.db || !inv.keys.iter().any(|d| d == k))
                    .collect();
                touched_undeclared |= global || !undeclared.is_empty();
                if locking == Locking::Declared {
                    let mut ok = !global;
                    for (db, key, _) in &undeclared {
                        if !ok {
                            break;
                        }
                        if extra.iter().any(|(d, k, _)| d == db && k == key) {
                            continue;
                        }
                        ok = coord::try_lock_key(local, *db, key.clone(), key_mode).await;
                        if ok {
                            extra.push((*db, key.clone(), key_mode));
                        }
                    }
                    if !ok {
                        let answer = if inv.running.wrote.load(Ordering::Acquire) {
                            ERR_OTHER_SHARD.to_vec()
                        } else {
                            leaving = true;
                            inv.running.abort.store(true, Ordering::Release);
                            ERR_RESTART.to_vec()
                        };
                        let _ = reply.send(answer);
                        continue;
                    }
                }
                let before = written.len();
                let r = Box::pin(multi::run_step(
                    local,
                    &mut script_sess,
                    job,
                    step,
                    resp3,
                    &mut written,
                    true,
                ))
                .await;
                if written.len() > before {
                    inv.running.wrote.store(true, Ordering::Release);
                }
                if inv.running.elapsed_ms() >= threshold {
                    // A script busy with calls may not reach the instruction hook.
                    local.shared.scripts.busy.store(true, Ordering::Release);
                }
                let _ = reply.send(r.buf);
            }
            Some(worker::Request::Done(buf)) => {
                let mut r = Reply::new(inv.resp3);
                r.raw(&buf);
                if buf.first() == Some(&b'-') {
                    r.errors += 1;
                }
                break r;
            }
            None => {
                let mut r = Reply::new(inv.resp3);
                r.error("ERR the script thread stopped");
                break r;
            }
        }
    };
    if locking != Locking::Held {
        // Before the locks go: nobody else's write to these keys can be logged first.
        local.fx_group_commit(script_sess.fx_group).await;
    }
    match locking {
        Locking::Held => {}
        Locking::All => coord::unlock_dbs(local, &all).await,
        Locking::Declared => {
            tx.release(local).await;
            for (db, key, mode) in extra {
                coord::unlock_key(local, db, key, mode).await;
            }
        }
    }
    if leaving {
        return Outcome::Restart;
    }
    if locking != Locking::Declared || touched_undeclared {
        local
            .shared
            .scripts
            .record(&history_id(&inv.prepared), !touched_undeclared);
    }
    // Inside EXEC the keys are still locked: the clients blocked on them retry through the
    // coordinator, which waits for EXEC's locks to go.
    serve_written(local, written).await;
    Outcome::Done(reply)
}

/// Serves the clients blocked on keys a script wrote, once its locks are gone.
async fn serve_written(local: &Rc<Local>, written: Vec<(usize, Bytes)>) {
    for (shard, keys) in multi::by_shard(local, written.into_iter()) {
        local
            .call(shard, move |l| multi::serve_blocked(l, &keys))
            .await;
    }
}

/// Runs `inv` with `engine` and `host`.
fn engine_run(engine: &mut Engine, inv: &Invocation, host: &mut dyn Host) -> Reply {
    let keys: Vec<&[u8]> = inv.keys.iter().map(|k| &k[..]).collect();
    let args: Vec<&[u8]> = inv.args.iter().map(|a| &a[..]).collect();
    let buf = engine.run(&inv.prepared, &keys, &args, inv.resp3, inv.read_only, host);
    let mut r = Reply::new(inv.resp3);
    if buf.first() == Some(&b'-') {
        r.errors += 1;
    }
    r.raw(&buf);
    r
}

/// The script threads: one per executor, started on first use, each with its own engine.
mod worker {
    use super::*;
    use std::sync::mpsc;

    /// What a script thread asks its connection's task.
    pub enum Request {
        /// Run this command (`redis.call`); answer its RESP reply.
        Call {
            args: Vec<Vec<u8>>,
            resp3: bool,
            reply: mpsc::SyncSender<Vec<u8>>,
        },
        /// The script ended with this reply.
        Done(Vec<u8>),
    }

    struct Job {
        inv: Invocation,
        requests: futures_channel::mpsc::UnboundedSender<Request>,
        threshold_ms: u64,
        local_shared: Arc<crate::local::Shared>,
    }

    thread_local! {
        /// This executor's script thread.
        static THREAD: RefCell<Option<mpsc::Sender<Job>>> = const { RefCell::new(None) };
    }

    /// Hands `inv` to this executor's script thread; its calls and its end arrive on
    /// `requests`.
    pub fn submit(
        local: &Local,
        inv: Invocation,
        requests: futures_channel::mpsc::UnboundedSender<Request>,
    ) {
        let job = Job {
            inv,
            requests,
            threshold_ms: local.shared.config().busy_reply_threshold,
            local_shared: local.shared.clone(),
        };
        THREAD.with(|t| {
            let mut t = t.borrow_mut();
            let sender = t.get_or_insert_with(|| spawn(local.shared.scripts.store.clone()));
            if let Err(mpsc::SendError(job)) = sender.send(job) {
                // The thread died (a bug in a library): start a new one.
                let fresh = spawn(local.shared.scripts.store.clone());
                let _ = fresh.send(job);
                *t = Some(fresh);
            }
        });
    }

    fn spawn(store: Arc<ScriptStore>) -> mpsc::Sender<Job> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("shardis-script".into())
            .spawn(move || {
                let mut engine = Engine::new(store);
                for job in rx {
                    let mut host = ThreadHost {
                        requests: &job.requests,
                        running: &job.inv.running,
                        threshold_ms: job.threshold_ms,
                        shared: &job.local_shared,
                    };
                    let reply = engine_run(&mut engine, &job.inv, &mut host);
                    let _ = job.requests.unbounded_send(Request::Done(reply.buf));
                }
            })
            .expect("cannot start a script thread");
        tx
    }

    /// `redis.call` from the script thread: the connection's task runs it.
    struct ThreadHost<'a> {
        requests: &'a futures_channel::mpsc::UnboundedSender<Request>,
        running: &'a Running,
        threshold_ms: u64,
        shared: &'a crate::local::Shared,
    }

    impl Host for ThreadHost<'_> {
        fn call(&mut self, args: &[&[u8]], resp3: bool) -> Vec<u8> {
            let (tx, rx) = mpsc::sync_channel(1);
            let req = Request::Call {
                args: args.iter().map(|a| a.to_vec()).collect(),
                resp3,
                reply: tx,
            };
            if self.requests.unbounded_send(req).is_err() {
                return b"-ERR the connection running this script is gone\r\n".to_vec();
            }
            rx.recv()
                .unwrap_or_else(|_| b"-ERR the connection running this script is gone\r\n".to_vec())
        }

        fn on_hook(&mut self) -> Result<(), String> {
            if self.running.abort.load(Ordering::Acquire) {
                return Err("ERR script restarting with every database locked".into());
            }
            match self
                .shared
                .scripts
                .hook(self.running, self.threshold_ms, false)
            {
                Some(_) => Err(self.running.killed_error()),
                None => Ok(()),
            }
        }

        fn log(&mut self, level: LogLevel, msg: &[u8]) {
            script_log(level, msg);
        }
    }
}

/// SCRIPT subcommands.
pub fn script_command(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let store = &local.shared.scripts.store;
    let sub = cmd[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"load" => match with_engine(local, |e| e.script_load(&cmd[2])) {
            Ok(sha) => out.bulk(sha.as_bytes()),
            Err(e) => out.error_bytes(&e.0),
        },
        b"exists" => {
            let shas: Vec<Vec<u8>> = cmd.args().skip(2).map(|s| s.to_ascii_lowercase()).collect();
            let refs: Vec<&[u8]> = shas.iter().map(Vec::as_slice).collect();
            let found = store.scripts_exist(&refs);
            out.array(found.len());
            for f in found {
                out.int(f as i64);
            }
        }
        b"flush" => {
            match cmd.len() {
                2 => {}
                3 if cmd[2].eq_ignore_ascii_case(b"async") || cmd[2].eq_ignore_ascii_case(b"sync") => {}
                _ => return out.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option"),
            }
            store.script_flush();
            local.shared.scripts.forget(false);
            out.ok();
        }
        b"kill" => local.shared.scripts.kill(false, out),
        b"debug" => out.error("ERR SCRIPT DEBUG is not supported by Shardis"),
        b"help" => command::connection::write_help(
            out,
            &[
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DEBUG (YES|SYNC|NO)",
                "    Set the debug mode for subsequent scripts executed.",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.",
                "    * SYNC: Synchronously flush the scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
                "HELP",
                "    Print this help.",
            ],
        ),
        _ => command::connection::subcommand_error(out, "SCRIPT", &cmd[1], false),
    }
}

/// FUNCTION subcommands.
/// FUNCTION ...; returns whether it changed the libraries (the AOF logs it then).
pub fn function_command(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) -> bool {
    let scripts = &local.shared.scripts;
    let store = &scripts.store;
    let sub = cmd[1].to_ascii_lowercase();
    let changed = match sub.as_slice() {
        b"kill" => {
            scripts.kill(true, out);
            false
        }
        b"stats" => {
            let running = scripts.running.lock().unwrap_or_else(|e| e.into_inner());
            let r = running.iter().find(|r| r.function);
            let command: Vec<&[u8]> = r
                .map(|r| r.command.iter().map(Vec::as_slice).collect())
                .unwrap_or_default();
            let now = r.map(|r| RunningFunction {
                name: &r.name,
                command: &command,
                duration_ms: r.elapsed_ms() as i64,
            });
            store.function_stats(now, out);
            false
        }
        b"load" => {
            // Options before the code (Redis' functionLoadCommand): only REPLACE.
            let mut replace = false;
            for opt in cmd.args().take(cmd.len() - 1).skip(2) {
                if !opt.eq_ignore_ascii_case(b"replace") {
                    out.error(&format!(
                        "ERR Unknown option given: {}",
                        String::from_utf8_lossy(opt)
                    ));
                    return false;
                }
                replace = true;
            }
            match with_engine(local, |e| e.function_load(&cmd[cmd.len() - 1], replace)) {
                Ok(name) => out.bulk(&name),
                Err(e) => out.error_bytes(&e.0),
            }
            true
        }
        b"delete" => {
            match store.function_delete(&cmd[2]) {
                Ok(()) => out.ok(),
                Err(e) => out.error_bytes(&e.0),
            }
            true
        }
        b"flush" => {
            match cmd.len() {
                2 => {}
                3 if cmd[2].eq_ignore_ascii_case(b"async")
                    || cmd[2].eq_ignore_ascii_case(b"sync") => {}
                _ => {
                    out.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
                    return false;
                }
            }
            store.function_flush();
            out.ok();
            true
        }
        b"list" => {
            let args: Vec<&[u8]> = cmd.args().skip(2).collect();
            store.function_list(&args, out);
            false
        }
        b"dump" => {
            out.bulk(&store.function_dump());
            false
        }
        b"restore" => {
            let policy = match cmd.len() {
                3 => Ok(RestorePolicy::Append),
                4 => RestorePolicy::parse(&cmd[3]),
                _ => {
                    command::connection::subcommand_error(out, "FUNCTION", &cmd[1], true);
                    return false;
                }
            };
            match policy.and_then(|p| with_engine(local, |e| e.function_restore(&cmd[2], p))) {
                Ok(()) => out.ok(),
                Err(e) => out.error_bytes(&e.0),
            }
            true
        }
        b"help" => {
            command::connection::write_help(out, FUNCTION_HELP);
            false
        }
        _ => {
            command::connection::subcommand_error(out, "FUNCTION", &cmd[1], false);
            false
        }
    };
    if changed {
        // New or removed code: forget what the old code touched.
        scripts.forget(true);
    }
    changed
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously delete the libraries.",
    "    * SYNC: Synchronously delete the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that on collision, the old libraries will be deleted).",
    "HELP",
    "    Print this help.",
];
