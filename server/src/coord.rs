//! The cross-shard coordinator: multi-key commands whose keys live on several shards.
//!
//! Strict two-phase locking over the shards' lock tables (see `shard::locks`): take the locks
//! of every involved shard in ascending shard order, then execute each shard's part and
//! release its locks in one message per shard, in parallel. Another client never sees part of
//! the command: its single-key commands wait for the locks, its own transactions queue behind.
//! Transactions over disjoint keys never wait for each other. MULTI/EXEC and scripts reuse
//! [`Tx`].

use crate::blocking::{self, Attempt, Waiter};
use crate::command::{Multi, Route};
use crate::dispatch::Job;
use crate::local::{unix_ms, Local};
use bytes::Bytes;
use futures_channel::oneshot;
use shard::locks::{Mode, Request};
use shard::{bitops, keys, notify, string};
use shard::{Cmd, Handler, Reply};
use std::rc::Rc;
use std::sync::Arc;

/// The keys one transaction holds on one shard in one database.
struct Part {
    shard: usize,
    db: usize,
    mode: Mode,
    keys: Vec<Bytes>,
    /// Argument positions of these keys in the client's command.
    positions: Vec<usize>,
}

/// A set of key locks across shards, taken in one global order: (shard, database, mode).
#[derive(Default)]
pub struct Tx {
    parts: Vec<Part>,
}

impl Tx {
    /// Adds the key at argument `pos` of `cmd`, to be locked in `db` with `mode`.
    fn add(&mut self, local: &Local, db: usize, mode: Mode, cmd: &Cmd, pos: usize) {
        self.add_key(local, db, mode, cmd.arg_bytes(pos), Some(pos))
    }

    /// Adds `key` (argument `pos` of the command, if it is one), to be locked in `db` with
    /// `mode`.
    pub fn add_key(
        &mut self,
        local: &Local,
        db: usize,
        mode: Mode,
        key: Bytes,
        pos: Option<usize>,
    ) {
        let shard = local.shard_of(&key);
        let i = match self
            .parts
            .iter()
            .position(|p| p.shard == shard && p.db == db && p.mode == mode)
        {
            Some(i) => i,
            None => {
                self.parts.push(Part {
                    shard,
                    db,
                    mode,
                    keys: Vec::new(),
                    positions: Vec::new(),
                });
                self.parts.len() - 1
            }
        };
        let part = &mut self.parts[i];
        part.positions.extend(pos);
        if !part.keys.contains(&key) {
            part.keys.push(key);
        }
    }

    /// One part per shard for the keys at `positions`, all in `db` with `mode`.
    fn plan(
        local: &Local,
        db: usize,
        mode: Mode,
        cmd: &Cmd,
        positions: impl Iterator<Item = usize>,
    ) -> Tx {
        let mut tx = Tx::default();
        for pos in positions {
            tx.add(local, db, mode, cmd, pos);
        }
        tx
    }

    /// Puts the parts in the global lock order; a key locked both shared and exclusive on
    /// one shard is locked once, exclusive.
    fn normalize(&mut self) {
        let exclusive: Vec<(usize, usize, Bytes)> = self
            .parts
            .iter()
            .filter(|p| p.mode == Mode::Exclusive)
            .flat_map(|p| p.keys.iter().map(move |k| (p.shard, p.db, k.clone())))
            .collect();
        for p in self.parts.iter_mut().filter(|p| p.mode == Mode::Shared) {
            p.keys.retain(|k| {
                !exclusive
                    .iter()
                    .any(|(s, d, e)| *s == p.shard && *d == p.db && e == k)
            });
        }
        self.parts.retain(|p| !p.keys.is_empty());
        self.parts
            .sort_by_key(|p| (p.shard, p.db, p.mode == Mode::Exclusive));
    }

    /// Takes every lock, part after part in the global order. A transaction only ever waits
    /// at the highest part it has reached, while everything it holds is lower: no deadlock.
    pub async fn lock(&mut self, local: &Rc<Local>) {
        self.normalize();
        for i in 0..self.parts.len() {
            self.lock_part(local, i, |_, _| ()).await;
        }
    }

    /// Takes part `i`'s locks, retrying after each release that may let it through, and runs
    /// `then` on its shard in the same message once they are granted.
    async fn lock_part<R, F>(&self, local: &Rc<Local>, i: usize, then: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&Rc<Local>, &[usize]) -> R + Send + Clone + 'static,
    {
        let p = &self.parts[i];
        loop {
            let (db, mode, keys, pos, then) = (
                p.db,
                p.mode,
                p.keys.clone(),
                p.positions.clone(),
                then.clone(),
            );
            let attempt = local
                .call(p.shard, move |l| {
                    let slices: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
                    let req = Request::Keys {
                        db,
                        keys: &slices,
                        mode,
                    };
                    let (tx, rx) = oneshot::channel();
                    let granted = l.locks.borrow_mut().try_lock(&req, tx);
                    match granted {
                        Ok(()) => Ok(then(l, &pos)),
                        Err(_) => Err(rx),
                    }
                })
                .await;
            match attempt {
                Ok(r) => return r,
                Err(wake) => {
                    let _ = wake.await;
                }
            }
        }
    }

    /// Locks everything, runs `f` on every part and releases each part after its work.
    /// Results come in part order.
    ///
    /// The last part in the global order is locked, run and released in one message: once
    /// it is granted every other lock is already held, so its work can happen at once. Then
    /// the other parts run and release in parallel. Two shards cost one round trip when the
    /// coordinator owns the lower one.
    async fn run<R, F>(&mut self, local: &Rc<Local>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&Rc<Local>, &[usize]) -> R + Send + Clone + 'static,
    {
        self.normalize();
        let last = self.parts.len() - 1;
        for i in 0..last {
            self.lock_part(local, i, |_, _| ()).await;
        }
        let p = &self.parts[last];
        let (db, mode, keys, g) = (p.db, p.mode, p.keys.clone(), f.clone());
        let last_result = self
            .lock_part(local, last, move |l, pos| {
                let r = g(l, pos);
                release(l, db, mode, &keys);
                r
            })
            .await;
        let mut out = self.finish_parts(local, 0..last, f).await;
        out.push(last_result);
        out
    }

    /// Runs `f` on every part's shard with the part's argument positions, then releases that
    /// part's locks, all parts in parallel. Results come in part order.
    async fn finish<R, F>(&self, local: &Rc<Local>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&Rc<Local>, &[usize]) -> R + Send + Clone + 'static,
    {
        self.finish_parts(local, 0..self.parts.len(), f).await
    }

    async fn finish_parts<R, F>(
        &self,
        local: &Rc<Local>,
        range: std::ops::Range<usize>,
        f: F,
    ) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&Rc<Local>, &[usize]) -> R + Send + Clone + 'static,
    {
        let mut pending = Vec::with_capacity(range.len());
        let mut mine = Vec::new();
        for (i, p) in self.parts[range].iter().enumerate() {
            let (db, mode, keys, pos, f) =
                (p.db, p.mode, p.keys.clone(), p.positions.clone(), f.clone());
            let job = move |l: &Rc<Local>| {
                let r = f(l, &pos);
                release(l, db, mode, &keys);
                r
            };
            if p.shard == local.id {
                mine.push((i, job));
                pending.push(None);
            } else {
                pending.push(Some(local.send_call(p.shard, job)));
            }
        }
        let mut local_results: Vec<(usize, R)> =
            mine.into_iter().map(|(i, job)| (i, job(local))).collect();
        let mut out = Vec::with_capacity(pending.len());
        for (i, p) in pending.into_iter().enumerate() {
            out.push(match p {
                Some(rx) => rx.await.expect("shard mailbox dropped a job"),
                None => {
                    let at = local_results.iter().position(|(j, _)| *j == i).unwrap();
                    local_results.swap_remove(at).1
                }
            });
        }
        out
    }

    /// Releases every lock (after the work was done with [`on`](Self::on)).
    pub async fn release(&self, local: &Rc<Local>) {
        self.finish(local, |_, _| ()).await;
    }

    /// Runs `f` on `shard` while the transaction holds its locks.
    pub async fn on<R, F>(&self, local: &Rc<Local>, shard: usize, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&Rc<Local>) -> R + Send + 'static,
    {
        local.call(shard, f).await
    }
}

/// Releases a part's locks on this shard and wakes who waited for them.
fn release(l: &Local, db: usize, mode: Mode, keys: &[Bytes]) {
    let slices: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    let woken = l.locks.borrow_mut().unlock(&Request::Keys {
        db,
        keys: &slices,
        mode,
    });
    Local::wake(woken);
}

/// Runs a shard's part of `cmd` (the name plus the arguments at `args`) with `handler`,
/// bypassing lock checks (the transaction holds the locks). Returns the reply.
fn run_part(
    l: &Local,
    cmd: &Cmd,
    db: usize,
    args: &[usize],
    resp3: bool,
    handler: Handler,
    who: Who,
) -> (Vec<u8>, Vec<usize>) {
    let sub = cmd.select(std::iter::once(0).chain(args.iter().copied()));
    let mut reply = Reply::new(resp3);
    let mut shard = l.shard();
    let dirty = shard.dirty;
    shard.serve_client(who.client);
    if let Some(reader) = who.track {
        shard.remember_reads(args.iter().map(|&i| &cmd[i]), reader);
    }
    handler(&mut shard.ctx(db, unix_ms(), &mut reply), &sub);
    let wrote = shard.dirty != dirty;
    shard.finish_effects(db, wrote, sub.args());
    if wrote {
        for &i in args {
            shard.dbs[db].touch(&cmd[i]);
        }
        shard.changes_by(who.client);
    }
    let ends = vec![reply.buf.len()];
    (reply.buf, ends)
}

/// Who runs a part, for CLIENT TRACKING: the client (NOLOOP) and, for reads of a tracking
/// client, the reader to remember the keys for.
#[derive(Clone, Copy)]
pub struct Who {
    pub client: u64,
    pub track: Option<shard::tracking::Reader>,
}

impl Who {
    pub fn of(job: &Job) -> Who {
        Who {
            client: job.client,
            track: job.track,
        }
    }
}

/// Expands key positions to the argument positions of a key-value command (MSET: key, value).
fn with_values(positions: &[usize]) -> Vec<usize> {
    positions.iter().flat_map(|&i| [i, i + 1]).collect()
}

/// Parses an integer reply (`:n\r\n`).
fn parse_int_reply(buf: &[u8]) -> Option<i64> {
    let body = buf.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    shard::num::parse_i64(body)
}

/// Runs a multi-key command whose keys span shards, writing its reply to `out`.
pub async fn run(local: &Rc<Local>, kind: Multi, job: &Job, out: &mut Reply) {
    let resp3 = out.resp3;
    let db = job.db;
    let cmd = job.cmd.clone();
    let mode = job.lock_mode();
    if matches!(kind, Multi::Mset | Multi::Msetnx) && cmd.len().is_multiple_of(2) {
        // A key without a value: Redis' arity error, before anything is split.
        return out.error(&shard::reply::err::arity(&cmd[0]));
    }
    match kind {
        // These lock keys in different modes or databases: they plan their own locks.
        Multi::Copy => return copy(local, &cmd, db, out).await,
        Multi::Gather | Multi::Sort => {
            let (Route::Multi(_, handler) | Route::Blocking(handler)) = job.command.route else {
                unreachable!("gathered commands have a Multi or Blocking route")
            };
            if kind == Multi::Sort {
                return sort(local, &cmd, db, job.spec, handler, out).await;
            }
            return gather(local, &cmd, db, job.spec, handler, out).await;
        }
        Multi::Bitop => return bitop(local, &cmd, db, out).await,
        _ => {}
    }
    let Route::Multi(_, handler) = job.command.route else {
        unreachable!("coordinated commands have a Multi route")
    };
    let mut tx = Tx::plan(local, db, mode, &cmd, job.key_positions());
    let who = Who::of(job);
    match kind {
        Multi::Mget => {
            // Each shard replies one item per key; interleave them back into key order.
            let c = cmd.clone();
            let parts = tx
                .run(local, move |l, pos| {
                    run_mget_items(l, &c, db, pos, resp3, who)
                })
                .await;
            out.array(cmd.len() - 1);
            let mut cursors: Vec<(usize, usize)> = vec![(0, 0); parts.len()];
            for i in 1..cmd.len() {
                let shard = local.shard_of(&cmd[i]);
                let pi = tx.parts.iter().position(|p| p.shard == shard).unwrap();
                let (buf, ends) = &parts[pi];
                let (item, start) = &mut cursors[pi];
                out.raw(&buf[*start..ends[*item]]);
                *start = ends[*item];
                *item += 1;
            }
        }
        Multi::Mset => {
            let c = cmd.clone();
            tx.run(local, move |l, pos| {
                run_part(l, &c, db, &with_values(pos), resp3, handler, who)
            })
            .await;
            out.ok();
        }
        Multi::Msetnx => {
            tx.lock(local).await;
            let mut any = false;
            for p in &tx.parts {
                let (c, pos) = (cmd.clone(), p.positions.clone());
                any |= tx
                    .on(local, p.shard, move |l| {
                        let now = unix_ms();
                        let mut shard = l.shard();
                        pos.iter().any(|&i| shard.dbs[db].contains(&c[i], now))
                    })
                    .await;
            }
            let c = cmd.clone();
            tx.finish(local, move |l, pos| {
                if !any {
                    run_part(l, &c, db, &with_values(pos), resp3, string::mset, who);
                }
            })
            .await;
            out.int(!any as i64);
        }
        Multi::Rename { nx } => {
            tx.lock(local).await;
            rename(local, tx, &cmd, db, nx, out).await
        }
        Multi::Lcs => {
            tx.lock(local).await;
            lcs(local, tx, &cmd, db, out).await
        }
        Multi::Copy | Multi::Bitop | Multi::Gather | Multi::Sort => {
            unreachable!("planned above")
        }
        Multi::Count => {
            let c = cmd.clone();
            let parts = tx
                .run(local, move |l, pos| {
                    run_part(l, &c, db, pos, resp3, handler, who)
                })
                .await;
            let total: i64 = parts
                .iter()
                .map(|(buf, _)| parse_int_reply(buf).unwrap_or(0))
                .sum();
            out.int(total);
        }
    }
}

/// MGET part on one shard, one reply item per key with its end offset.
fn run_mget_items(
    l: &Local,
    cmd: &Cmd,
    db: usize,
    pos: &[usize],
    resp3: bool,
    who: Who,
) -> (Vec<u8>, Vec<usize>) {
    let now = unix_ms();
    let mut reply = Reply::new(resp3);
    let mut ends = Vec::with_capacity(pos.len());
    let mut shard = l.shard();
    if let Some(reader) = who.track {
        shard.remember_reads(pos.iter().map(|&i| &cmd[i]), reader);
    }
    for &i in pos {
        let one = cmd.select([0, i]);
        shard::string::mget(&mut shard.ctx(db, now, &mut reply), &one);
        ends.push(reply.buf.len());
    }
    (reply.buf, ends)
}

/// Runs `f` on every shard while holding whole-database locks on `dbs` everywhere
/// (FLUSHDB, FLUSHALL, SWAPDB): no transaction is half on either side of it. `held`: the
/// caller (a transaction over the whole keyspace) holds them already. `effect`: the command
/// to log in the AOF, in that database, at a point every shard's file agrees on
/// (`aof::rotate_all`).
pub async fn with_db_locks<F>(
    local: &Rc<Local>,
    held: bool,
    dbs: Vec<usize>,
    effect: (usize, Vec<Vec<u8>>),
    f: F,
) where
    F: Fn(&Rc<Local>) + Send + Clone + 'static,
{
    if !held {
        lock_dbs(local, &dbs).await;
    }
    crate::aof::rotate_all(local).await;
    crate::aof::log_global(local, effect.0, effect.1).await;
    if held {
        local.call_all(f).await;
        return;
    }
    local
        .call_all(move |l| {
            f(l);
            let woken = l.locks.borrow_mut().unlock(&Request::Dbs { dbs: &dbs });
            Local::wake(woken);
        })
        .await;
}

/// RENAME / RENAMENX across shards: the entry (value and TTL) moves to the destination's
/// shard while both keys are locked.
async fn rename(local: &Rc<Local>, tx: Tx, cmd: &Cmd, db: usize, nx: bool, out: &mut Reply) {
    let (src, dst) = (cmd.arg_bytes(1), cmd.arg_bytes(2));
    let (src_shard, dst_shard) = (local.shard_of(&src), local.shard_of(&dst));
    let s = src.clone();
    let exists = tx
        .on(local, src_shard, move |l| {
            l.shard().dbs[db].contains(&s, unix_ms())
        })
        .await;
    if !exists {
        tx.release(local).await;
        return out.error(shard::reply::err::NO_SUCH_KEY);
    }
    if nx {
        let d = dst.clone();
        let taken = tx
            .on(local, dst_shard, move |l| {
                l.shard().dbs[db].contains(&d, unix_ms())
            })
            .await;
        if taken {
            tx.release(local).await;
            return out.int(0);
        }
    }
    let s = src.clone();
    let entry = tx
        .on(local, src_shard, move |l| {
            // The destination shard counts the change (RENAME is one change, as in Redis).
            let mut shard = l.shard();
            let d = &mut shard.dbs[db];
            let entry = keys::take_entry(d, &s, unix_ms());
            d.touch(&s);
            d.notify(notify::GENERIC, "rename_from", &s);
            shard.record_key_state(db, &s);
            entry
        })
        .await;
    if let Some(entry) = entry {
        tx.on(local, dst_shard, move |l| {
            let mut shard = l.shard();
            shard.dirty += 1;
            keys::put_entry(&mut shard.dbs[db], &dst, entry, true, unix_ms());
            shard.dbs[db].touch(&dst);
            shard.dbs[db].notify(notify::GENERIC, "rename_to", &dst);
            shard.record_key_state(db, &dst);
            blocking::signal(l, &mut shard, db, &dst);
        })
        .await;
    }
    tx.release(local).await;
    if nx {
        out.int(1)
    } else {
        out.ok()
    }
}

/// COPY source destination [DB n] [REPLACE] with the keys on different shards.
async fn copy(local: &Rc<Local>, cmd: &Cmd, db: usize, out: &mut Reply) {
    let databases = local.shared.config().databases;
    let opts = match keys::parse_copy_options(cmd, databases) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let dst_db = opts.db.unwrap_or(db);
    let mut tx = Tx::default();
    tx.add(local, db, Mode::Shared, cmd, 1);
    tx.add(local, dst_db, Mode::Exclusive, cmd, 2);
    tx.lock(local).await;
    let (src, dst) = (cmd.arg_bytes(1), cmd.arg_bytes(2));
    let (src_shard, dst_shard) = (local.shard_of(&src), local.shard_of(&dst));
    if !opts.replace {
        let d = dst.clone();
        let taken = tx
            .on(local, dst_shard, move |l| {
                l.shard().dbs[dst_db].contains(&d, unix_ms())
            })
            .await;
        if taken {
            tx.release(local).await;
            return out.int(0);
        }
    }
    let entry = tx
        .on(local, src_shard, move |l| {
            keys::clone_entry(&mut l.shard().dbs[db], &src, unix_ms())
        })
        .await;
    let copied = match entry {
        None => false,
        Some(mut entry) => {
            // A new object, as Redis' COPY makes: its access data starts afresh.
            entry.access = 0;
            tx.on(local, dst_shard, move |l| {
                let mut shard = l.shard();
                shard.dirty += 1;
                let put = keys::put_entry(&mut shard.dbs[dst_db], &dst, entry, true, unix_ms());
                shard.dbs[dst_db].touch(&dst);
                shard.record_key_state(dst_db, &dst);
                shard.dbs[dst_db].notify(notify::GENERIC, "copy_to", &dst);
                blocking::signal(l, &mut shard, dst_db, &dst);
                put
            })
            .await
        }
    };
    tx.release(local).await;
    out.int(copied as i64);
}

/// Reads the string at argument `pos` of `cmd` from its shard (a copy: it crosses shards).
async fn fetch_string(
    local: &Rc<Local>,
    cmd: &Cmd,
    db: usize,
    pos: usize,
) -> Result<Option<Vec<u8>>, string::WrongType> {
    let key = cmd.arg_bytes(pos);
    local
        .call(local.shard_of(&key), move |l| {
            let mut shard = l.shard();
            string::read_string(&mut shard.dbs[db], &key, unix_ms())
                .map(|v| v.map(|v| v.into_owned()))
        })
        .await
}

/// LCS with the two keys on different shards: both values are read under shared locks and
/// compared here.
async fn lcs(local: &Rc<Local>, tx: Tx, cmd: &Cmd, db: usize, out: &mut Reply) {
    let a = fetch_string(local, cmd, db, 1).await;
    let b = fetch_string(local, cmd, db, 2).await;
    tx.release(local).await;
    let (Ok(a), Ok(b)) = (a, b) else {
        return out.error(string::ERR_LCS_TYPES);
    };
    match string::parse_lcs_opts(cmd) {
        Ok(opts) => string::lcs_reply(
            out,
            a.as_deref().unwrap_or_default(),
            b.as_deref().unwrap_or_default(),
            &opts,
        ),
        Err(e) => out.error(e),
    }
}

/// BITOP op destkey key... with keys on several shards: the sources are read under shared
/// locks and folded here, and the result is stored on the destination's shard under its
/// exclusive lock.
async fn bitop(local: &Rc<Local>, cmd: &Cmd, db: usize, out: &mut Reply) {
    let op = match bitops::parse_bitop(cmd) {
        Ok(op) => op,
        Err(e) => return out.error(e),
    };
    let mut tx = Tx::default();
    tx.add(local, db, Mode::Exclusive, cmd, 2);
    for pos in 3..cmd.len() {
        tx.add(local, db, Mode::Shared, cmd, pos);
    }
    tx.lock(local).await;
    let mut fold = bitops::BitopFold::new(op);
    for pos in 3..cmd.len() {
        match fetch_string(local, cmd, db, pos).await {
            Ok(v) => fold.feed(v.as_deref().unwrap_or_default()),
            Err(string::WrongType) => {
                tx.release(local).await;
                return out.error(shard::reply::err::WRONGTYPE);
            }
        }
    }
    let (dest, result, resp3) = (cmd.arg_bytes(2), fold.finish(), out.resp3);
    let reply = tx
        .on(local, local.shard_of(&dest), move |l| {
            let mut r = Reply::new(resp3);
            let mut shard = l.shard();
            let dirty = shard.dirty;
            bitops::bitop_store(&mut shard.ctx(db, unix_ms(), &mut r), &dest, result);
            shard.dbs[db].touch(&dest);
            if shard.dirty != dirty {
                shard.record_key_state(db, &dest);
            }
            r.buf
        })
        .await;
    tx.release(local).await;
    out.raw(&reply);
}

/// Any multi-key command whose keys span shards, run by its own single-shard handler.
///
/// Every key is locked (exclusive when the key specs say the command may write it), copied
/// into a scratch database here, the handler runs there exactly as it would on one shard, and
/// if it changed anything the keys it may write are written back to their shards (replaced,
/// or deleted when the handler left them absent) before the locks go. Atomic like every
/// coordinated command; the price is copying the values involved, so a command on large
/// collections spread over shards costs a copy of them (keys with a common hash tag avoid it).
async fn gather(
    local: &Rc<Local>,
    cmd: &Cmd,
    db: usize,
    spec: &'static crate::command::meta::CommandSpec,
    handler: Handler,
    out: &mut Reply,
) {
    let keys = spec_keys(spec, cmd);
    let reply = gather_run(local, db, keys, out.resp3, |scratch, reply| {
        handler(&mut scratch.ctx(db, unix_ms(), reply), cmd);
        if reply.buf.is_empty() {
            // A blocking command that may not block here (it found every key empty).
            crate::command::timeout_reply(spec.name, reply);
        }
        None
    })
    .await;
    out.errors += reply.errors;
    out.raw(&reply.buf);
}

/// A blocking command whose keys span shards: one attempt under the keys' locks, registering
/// the waiter with every shard of its keys (before the locks go) when it finds nothing.
pub async fn gather_blocking(local: &Rc<Local>, job: &Job, w: &Arc<Waiter>) -> Attempt {
    let (cmd, handler) = (&job.cmd, w.handler());
    let mut attempt = None;
    let keys = spec_keys(job.spec, cmd);
    let reply = gather_run(local, job.db, keys, w.resp3(), |scratch, reply| {
        if !w.claim() {
            attempt = Some(Attempt::Claimed);
            return None;
        }
        handler(&mut scratch.ctx(job.db, unix_ms(), reply), cmd);
        if reply.buf.is_empty() {
            attempt = Some(Attempt::Registered);
            return Some(w.clone());
        }
        None
    })
    .await;
    match attempt {
        Some(a) => a,
        None => Attempt::Done(reply.buf),
    }
}

/// The keys of `cmd` by its key specs, each with whether the command may write it.
pub fn spec_keys(spec: &crate::command::meta::CommandSpec, cmd: &Cmd) -> Vec<(Bytes, bool)> {
    use crate::command::meta::{self, key_flag};
    let args: Vec<&[u8]> = cmd.args().collect();
    let found = meta::key_positions_with_flags(spec, &args).unwrap_or_default();
    found
        .into_iter()
        .map(|(pos, flags)| {
            // XREADGROUP's keys are RO in Redis' key specs, yet it updates their groups.
            let writes = flags & (key_flag::RW | key_flag::OW | key_flag::RM) != 0
                || spec.name == "xreadgroup";
            (cmd.arg_bytes(pos), writes)
        })
        .collect()
}

/// Whether SORT's BY or GET patterns read keys (a pattern with `*`, not BY nosort or GET #).
pub fn sort_reads_other_keys(cmd: &Cmd) -> bool {
    !shard::sort::pattern_keys(cmd, &[b"x".to_vec()]).is_empty()
}

/// The elements SORT would sort, from a copy of the sorted key's value.
fn sort_elements(v: Option<&shard::Value>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match v {
        Some(shard::Value::List(l)) => l.for_each(|e| out.push(e.to_vec())),
        Some(shard::Value::Set(s)) => s.for_each(|e| out.push(e.to_vec())),
        Some(shard::Value::ZSet(z)) => z.for_each(|m, _| out.push(m.to_vec())),
        _ => {}
    }
    out
}

/// The elements SORT would sort in `source`, read on its shard (under the caller's lock).
pub async fn sort_elements_of(local: &Rc<Local>, db: usize, source: Bytes) -> Vec<Vec<u8>> {
    local
        .call(local.shard_of(&source), move |l| {
            let mut shard = l.shard();
            let e = keys::clone_entry(&mut shard.dbs[db], &source, unix_ms());
            sort_elements(e.as_ref().map(|e| &e.value))
        })
        .await
}

/// SORT / SORT_RO whose BY or GET patterns read keys, on a server of several shards.
///
/// The keys the patterns read are named by the sorted elements, so they are found in two
/// steps: read the elements (under a shared lock), then gather the sorted key, the STORE
/// destination and every pattern key together under their locks. If the sorted key changed
/// in between so that the patterns name keys not gathered, the attempt is dropped before
/// anything is written and made again.
async fn sort(
    local: &Rc<Local>,
    cmd: &Cmd,
    db: usize,
    spec: &'static crate::command::meta::CommandSpec,
    handler: Handler,
    out: &mut Reply,
) {
    let source = cmd.arg_bytes(1);
    loop {
        let mut tx = Tx::default();
        tx.add_key(local, db, Mode::Shared, source.clone(), Some(1));
        tx.lock(local).await;
        let elements = sort_elements_of(local, db, source.clone()).await;
        tx.release(local).await;

        let wanted = shard::sort::pattern_keys(cmd, &elements);
        let mut keys = spec_keys(spec, cmd);
        keys.extend(wanted.iter().map(|k| (Bytes::copy_from_slice(k), false)));
        let mut stale = false;
        let reply = gather_run(local, db, keys, out.resp3, |scratch, reply| {
            let now = unix_ms();
            let current = sort_elements(scratch.dbs[db].peek(&source, now).map(|e| &e.value));
            let needed = shard::sort::pattern_keys(cmd, &current);
            if needed.iter().any(|k| !wanted.contains(k)) {
                stale = true;
                return None;
            }
            handler(&mut scratch.ctx(db, now, reply), cmd);
            None
        })
        .await;
        if !stale {
            out.errors += reply.errors;
            out.raw(&reply.buf);
            return;
        }
    }
}

/// The body of [`gather`]: locks, copies in, runs `body` on the scratch shard, writes back,
/// and, when `body` returns a waiter, registers it with every involved shard before the locks
/// are released. Returns the reply `body` wrote.
async fn gather_run(
    local: &Rc<Local>,
    db: usize,
    keys: Vec<(Bytes, bool)>,
    resp3: bool,
    body: impl FnOnce(&mut shard::Shard, &mut Reply) -> Option<Arc<Waiter>>,
) -> Reply {
    let mut tx = Tx::default();
    for (key, writes) in &keys {
        let mode = if *writes {
            Mode::Exclusive
        } else {
            Mode::Shared
        };
        tx.add_key(local, db, mode, key.clone(), None);
    }
    tx.lock(local).await;
    let keys: Vec<(usize, Bytes, bool)> = keys.into_iter().map(|(k, w)| (db, k, w)).collect();
    let mut waiter = None;
    let (reply, _) = gather_held(local, &keys, resp3, true, None, |scratch, reply| {
        waiter = body(scratch, reply);
    })
    .await;
    if let Some(w) = waiter {
        for s in w.shards() {
            let wc = w.clone();
            tx.on(local, s, move |l| blocking::register(l, &wc)).await;
        }
        w.release_claim();
    }
    tx.release(local).await;
    reply
}

/// Runs `body` over copies of `keys` (database, key, may it be written), for a caller that
/// holds their locks: the entries are copied from their shards into a scratch shard here
/// (each into its own database), `body` runs there as a command would on one shard, and if
/// it changed anything the keys it may write are written back to their shards (replaced, or
/// deleted when `body` left them absent), their watchers told and, with `signal`, the
/// clients blocked on them served. Returns the reply and the keys written back.
pub async fn gather_held(
    local: &Rc<Local>,
    keys: &[(usize, Bytes, bool)],
    resp3: bool,
    signal: bool,
    group: Option<u64>,
    body: impl FnOnce(&mut shard::Shard, &mut Reply),
) -> (Reply, Vec<(usize, Bytes)>) {
    let mut scratch = {
        let mut home = local.shard();
        let mut s = shard::Shard::new(local.id, home.dbs.len());
        s.limits = home.limits;
        s.max_string_len = home.max_string_len;
        s.set_clock(home.dbs[0].clock);
        s.rng = shard::rng::Rng::new(home.rng.next_u64());
        s
    };
    // Per shard: (database, key, is it read): a key only written (a destination) is looked
    // up as a write, the others as reads (hits, misses, "keymiss"), as Redis does.
    type Wanted = Vec<(usize, Bytes, bool)>;
    let mut by_shard: Vec<(usize, Wanted)> = Vec::new();
    for (db, key, writes) in keys {
        let s = local.shard_of(key);
        let i = match by_shard.iter().position(|(x, _)| *x == s) {
            Some(i) => i,
            None => {
                by_shard.push((s, Vec::new()));
                by_shard.len() - 1
            }
        };
        match by_shard[i]
            .1
            .iter_mut()
            .find(|(d, k, _)| d == db && k == key)
        {
            Some(known) => known.2 |= !writes,
            None => by_shard[i].1.push((*db, key.clone(), !writes)),
        }
    }
    for (s, wanted) in by_shard {
        let entries = local
            .call(s, move |l| {
                let now = unix_ms();
                let mut shard = l.shard();
                wanted
                    .into_iter()
                    .filter_map(|(db, k, read)| {
                        let d = &mut shard.dbs[db];
                        let e = if read {
                            keys::clone_entry(d, &k, now)
                        } else {
                            keys::clone_entry_for_write(d, &k, now)
                        };
                        e.map(|e| (db, k, e))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        for (db, k, e) in entries {
            scratch.dbs[db].insert_entry(&k, e, unix_ms());
        }
    }

    // Events of the body, not of the loading above; misses were counted (and announced)
    // where the keys were read.
    let flags = local.shard_ref().notify_flags();
    scratch.set_notify_flags(flags & !notify::KEY_MISS);
    let mut reply = Reply::new(resp3);
    body(&mut scratch, &mut reply);
    let events = crate::notify::take_events(&mut scratch);
    let mut written: Vec<(usize, Bytes)> = Vec::new();
    if scratch.dirty > 0 {
        let mut dirty = scratch.dirty;
        for (db, key, writes) in keys {
            if !writes || written.iter().any(|(d, k)| d == db && k == key) {
                continue;
            }
            written.push((*db, key.clone()));
            let (db, key) = (*db, key.clone());
            let entry = scratch.dbs[db].remove(&key);
            let changes = std::mem::take(&mut dirty);
            local
                .call(local.shard_of(&key), move |l| {
                    let mut shard = l.shard();
                    shard.dirty += changes;
                    let d = &mut shard.dbs[db];
                    match entry {
                        Some(e) => d.write_back(&key, e, crate::local::unix_ms()),
                        None => {
                            d.remove(&key);
                        }
                    }
                    d.touch(&key);
                    match group {
                        Some(g) => {
                            shard.effects.enter(g);
                            shard.record_key_state(db, &key);
                            shard.effects.leave();
                        }
                        None => shard.record_key_state(db, &key),
                    }
                    if signal {
                        blocking::signal(l, &mut shard, db, &key);
                    }
                })
                .await;
        }
    }
    crate::notify::publish_events(local, flags, events);
    (reply, written)
}

/// Takes whole-database locks on `dbs` on every shard, in shard order (FLUSHDB, FLUSHALL,
/// SWAPDB, and transactions that need the whole keyspace). Release with [`unlock_dbs`].
pub async fn lock_dbs(local: &Rc<Local>, dbs: &[usize]) {
    for s in 0..local.shards() {
        loop {
            let dbs = dbs.to_vec();
            let refused: Option<oneshot::Receiver<()>> = local
                .call(s, move |l| {
                    let (tx, rx) = oneshot::channel();
                    let req = Request::Dbs { dbs: &dbs };
                    l.locks.borrow_mut().try_lock(&req, tx).err().map(|_| rx)
                })
                .await;
            match refused {
                None => break,
                Some(wake) => {
                    let _ = wake.await;
                }
            }
        }
    }
}

/// Takes `key`'s lock in `db` if nobody holds it in a conflicting way, without waiting: a
/// transaction that already holds other locks may add one this way without risking a
/// deadlock. Release with [`unlock_key`].
pub async fn try_lock_key(local: &Rc<Local>, db: usize, key: Bytes, mode: Mode) -> bool {
    local
        .call(local.shard_of(&key), move |l| {
            let mut locks = l.locks.borrow_mut();
            if !locks.is_free(db, &key, mode) {
                return false;
            }
            let (tx, _never) = oneshot::channel();
            let keys: [&[u8]; 1] = [&key];
            locks
                .try_lock(
                    &Request::Keys {
                        db,
                        keys: &keys,
                        mode,
                    },
                    tx,
                )
                .is_ok()
        })
        .await
}

/// Releases a lock [`try_lock_key`] took.
pub async fn unlock_key(local: &Rc<Local>, db: usize, key: Bytes, mode: Mode) {
    local
        .call(local.shard_of(&key), move |l| release(l, db, mode, &[key]))
        .await
}

/// Releases what [`lock_dbs`] took, on every shard.
pub async fn unlock_dbs(local: &Rc<Local>, dbs: &[usize]) {
    let dbs = dbs.to_vec();
    local
        .call_all(move |l| {
            let woken = l.locks.borrow_mut().unlock(&Request::Dbs { dbs: &dbs });
            Local::wake(woken);
        })
        .await;
}
