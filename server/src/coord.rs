//! The cross-shard coordinator: multi-key commands whose keys live on several shards.
//!
//! Strict two-phase locking over the shards' lock tables (see `shard::locks`): take the locks
//! of every involved shard in ascending shard order, then execute each shard's part and
//! release its locks in one message per shard, in parallel. Another client never sees part of
//! the command: its single-key commands wait for the locks, its own transactions queue behind.
//! Transactions over disjoint keys never wait for each other. MULTI/EXEC and scripts reuse
//! [`Tx`].

use crate::command::{Multi, Route};
use crate::dispatch::Job;
use crate::local::Local;
use bytes::Bytes;
use futures_channel::oneshot;
use shard::locks::{Mode, Request};
use shard::{Cmd, Reply};
use std::rc::Rc;

/// The keys one transaction holds on one shard.
struct Part {
    shard: usize,
    keys: Vec<Bytes>,
    /// Argument positions of these keys in the client's command.
    positions: Vec<usize>,
}

/// A set of key locks across shards, taken in ascending shard order.
pub struct Tx {
    db: usize,
    mode: Mode,
    parts: Vec<Part>,
}

impl Tx {
    /// Groups the keys at `positions` of `cmd` by shard.
    fn plan(
        local: &Local,
        db: usize,
        mode: Mode,
        cmd: &Cmd,
        positions: impl Iterator<Item = usize>,
    ) -> Tx {
        let mut parts: Vec<Part> = Vec::new();
        for i in positions {
            let shard = local.shard_of(&cmd[i]);
            let part = match parts.iter_mut().find(|p| p.shard == shard) {
                Some(p) => p,
                None => {
                    parts.push(Part {
                        shard,
                        keys: Vec::new(),
                        positions: Vec::new(),
                    });
                    parts.last_mut().unwrap()
                }
            };
            part.positions.push(i);
            let key = cmd.arg_bytes(i);
            if !part.keys.contains(&key) {
                part.keys.push(key);
            }
        }
        parts.sort_by_key(|p| p.shard);
        Tx { db, mode, parts }
    }

    /// Takes every lock, shard after shard in ascending order (no deadlock: a transaction
    /// only ever waits on the highest shard it has reached).
    async fn lock(&self, local: &Rc<Local>) {
        for p in &self.parts {
            let (db, mode, keys) = (self.db, self.mode, p.keys.clone());
            loop {
                let keys = keys.clone();
                let refused: Option<oneshot::Receiver<()>> = local
                    .call(p.shard, move |l| {
                        let slices: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
                        let req = Request::Keys {
                            db,
                            keys: &slices,
                            mode,
                        };
                        let (tx, rx) = oneshot::channel();
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

    /// Runs `f` on every shard of the transaction with its part's argument positions, then
    /// releases that shard's locks, all shards in parallel. Results come in shard order.
    async fn finish<R, F>(&self, local: &Rc<Local>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&Rc<Local>, &[usize]) -> R + Send + Clone + 'static,
    {
        let mut pending = Vec::with_capacity(self.parts.len());
        let mut mine = None;
        for p in &self.parts {
            let (db, mode, keys, pos, f) = (
                self.db,
                self.mode,
                p.keys.clone(),
                p.positions.clone(),
                f.clone(),
            );
            let job = move |l: &Rc<Local>| {
                let r = f(l, &pos);
                let slices: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
                let woken = l.locks.borrow_mut().unlock(&Request::Keys {
                    db,
                    keys: &slices,
                    mode,
                });
                Local::wake(woken);
                r
            };
            if p.shard == local.id {
                mine = Some(job);
                pending.push(None);
            } else {
                pending.push(Some(local.send_call(p.shard, job)));
            }
        }
        let mut mine = mine.map(|job| job(local));
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            out.push(match p {
                Some(rx) => rx.await.expect("shard mailbox dropped a job"),
                None => mine.take().expect("one local part"),
            });
        }
        out
    }

    /// Runs `f` on every shard of the transaction without releasing anything.
    async fn each<R, F>(&self, local: &Rc<Local>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(&Rc<Local>, &[usize]) -> R + Send + Clone + 'static,
    {
        let mut out = Vec::with_capacity(self.parts.len());
        let rxs: Vec<_> = self
            .parts
            .iter()
            .map(|p| {
                let (f, pos) = (f.clone(), p.positions.clone());
                (p.shard != local.id).then(|| local.send_call(p.shard, move |l| f(l, &pos)))
            })
            .collect();
        for (p, rx) in self.parts.iter().zip(rxs) {
            out.push(match rx {
                Some(rx) => rx.await.expect("shard mailbox dropped a job"),
                None => f(local, &p.positions),
            });
        }
        out
    }
}

/// Runs a shard's part of `cmd` (the name plus the arguments at `args`) with the command's
/// shard handler, bypassing lock checks (the transaction holds the locks). Returns the
/// replies and their end offsets.
fn run_part(
    l: &Local,
    job_cmd: &Cmd,
    db: usize,
    args: &[usize],
    resp3: bool,
    route: Route,
) -> (Vec<u8>, Vec<usize>) {
    let sub = job_cmd.select(std::iter::once(0).chain(args.iter().copied()));
    let (Route::Multi(_, handler) | Route::Keyed(handler)) = route else {
        unreachable!("only keyed handlers run as transaction parts")
    };
    let now = crate::local::unix_ms();
    let mut reply = Reply::new(resp3);
    let mut shard = l.shard.borrow_mut();
    handler(&mut shard.ctx(db, now, &mut reply), &sub);
    let ends = vec![reply.buf.len()];
    (reply.buf, ends)
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
    let route = job.command.route;
    let mode = job.lock_mode();
    let tx = Tx::plan(local, db, mode, &cmd, job.key_positions());
    tx.lock(local).await;
    match kind {
        Multi::Mget => {
            // Each shard replies one item per key; interleave them back into key order.
            let c = cmd.clone();
            let parts = tx
                .finish(local, move |l, pos| run_mget_items(l, &c, db, pos, resp3))
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
            tx.finish(local, move |l, pos| {
                run_part(l, &c, db, &with_values(pos), resp3, route)
            })
            .await;
            out.ok();
        }
        Multi::Msetnx => {
            let c = cmd.clone();
            let any = tx
                .each(local, move |l, pos| {
                    let now = crate::local::unix_ms();
                    let mut shard = l.shard.borrow_mut();
                    pos.iter().any(|&i| shard.dbs[db].contains(&c[i], now))
                })
                .await
                .into_iter()
                .any(|x| x);
            let c = cmd.clone();
            tx.finish(local, move |l, pos| {
                if !any {
                    run_part(
                        l,
                        &c,
                        db,
                        &with_values(pos),
                        resp3,
                        Route::Keyed(shard::string::mset),
                    );
                }
            })
            .await;
            out.int(!any as i64);
        }
        Multi::Count => {
            let c = cmd.clone();
            let parts = tx
                .finish(local, move |l, pos| run_part(l, &c, db, pos, resp3, route))
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
) -> (Vec<u8>, Vec<usize>) {
    let now = crate::local::unix_ms();
    let mut reply = Reply::new(resp3);
    let mut ends = Vec::with_capacity(pos.len());
    let mut shard = l.shard.borrow_mut();
    for &i in pos {
        let one = cmd.select([0, i]);
        shard::string::mget(&mut shard.ctx(db, now, &mut reply), &one);
        ends.push(reply.buf.len());
    }
    (reply.buf, ends)
}
