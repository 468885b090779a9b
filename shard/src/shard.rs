//! The state of one shard and the context a command runs in.

use crate::cmd::Cmd;
use crate::db::{Db, Expiry};
use crate::effects::{Effects, Pending};
use crate::limits::Limits;
use crate::reply::Reply;
use crate::rng::Rng;
use crate::tracking::Tracking;

pub const DEFAULT_DATABASES: usize = 16;

/// Everything one core owns. Touched only by its own thread.
pub struct Shard {
    pub id: usize,
    pub dbs: Box<[Db]>,
    pub rng: Rng,
    /// Writes since the last save (INFO `rdb_changes_since_last_save`).
    pub dirty: u64,
    /// DEBUG SET-ACTIVE-EXPIRE: whether the cron reclaims expired keys.
    pub active_expire: bool,
    /// `proto-max-bulk-len`: the largest string a command may build (APPEND, SETRANGE,
    /// SETBIT, BITFIELD), as in Redis.
    pub max_string_len: u64,
    /// The collection encoding thresholds (`hash-max-listpack-entries`...).
    pub limits: Limits,
    /// `notify-keyspace-events` (see [`crate::notify`]).
    notify_flags: u16,
    /// CLIENT TRACKING: who reads which keys of this shard.
    pub tracking: Tracking,
    /// What the writes changed, for the AOF (see [`crate::effects`]).
    pub effects: Effects,
    /// On a replica: the client id of the master's stream (see [`Shard::set_replica`]).
    replica_of: Option<u64>,
    /// maxmemory eviction's candidates and count (see [`crate::evict`]).
    pub evictor: crate::evict::Evictor,
}

impl Shard {
    pub fn new(id: usize, databases: usize) -> Shard {
        Shard {
            id,
            dbs: (0..databases).map(|_| Db::default()).collect(),
            rng: Rng::new(0x5eed_0000 + id as u64),
            dirty: 0,
            active_expire: true,
            max_string_len: crate::string::PROTO_MAX_BULK_LEN,
            limits: Limits::default(),
            notify_flags: 0,
            tracking: Tracking::default(),
            effects: Effects::default(),
            replica_of: None,
            evictor: Default::default(),
        }
    }

    /// Replica mode (REPLICAOF), as Redis' replicas treat expiry: a key whose time passed
    /// looks absent to clients but is not removed (no lazy or active expiry: the master's
    /// DELs remove it), and the commands of `master` (the client id of the master's stream)
    /// see it whatever its TTL. `None`: a master again; the active expiry cycle reclaims
    /// what the replica kept.
    pub fn set_replica(&mut self, master: Option<u64>) {
        self.replica_of = master;
        let mode = if master.is_some() {
            Expiry::Replica
        } else {
            Expiry::Active
        };
        self.dbs.iter_mut().for_each(|d| d.expiry = mode);
    }

    /// Whether the shard is in replica mode.
    pub fn is_replica(&self) -> bool {
        self.replica_of.is_some()
    }

    /// Before running a command of `client`: on a replica, the master's commands and the
    /// others' see expired keys differently (see [`Shard::set_replica`]). One branch on a
    /// master.
    #[inline]
    pub fn serve_client(&mut self, client: u64) {
        if let Some(master) = self.replica_of {
            let mode = if client == master {
                Expiry::Master
            } else {
                Expiry::Replica
            };
            if self.dbs.first().is_some_and(|d| d.expiry != mode) {
                self.dbs.iter_mut().for_each(|d| d.expiry = mode);
            }
        }
    }

    /// Starts or stops recording effects (the AOF is on or off).
    pub fn set_effects(&mut self, on: bool) {
        self.effects.set_on(on);
        self.dbs.iter_mut().for_each(|d| {
            d.expired_log.on = on;
            d.expired_log.take();
        });
    }

    /// Replaying the AOF: no key expires meanwhile (see [`Db::loading`]).
    pub fn set_loading(&mut self, on: bool) {
        self.dbs.iter_mut().for_each(|d| d.loading = on);
    }

    /// After a command ran in `db`: the keys it found expired become DELs, then its own
    /// effects (the request `args` itself if its handler recorded none and it `wrote`).
    pub fn finish_effects<A: AsRef<[u8]>>(
        &mut self,
        db: usize,
        wrote: bool,
        args: impl ExactSizeIterator<Item = A>,
    ) {
        if self.effects.is_on() {
            self.record_expired();
            self.effects.finish(db, wrote, args);
        }
    }

    /// Records `key`'s whole state in `db` as its effect: `DEL key`, then the commands that
    /// rebuild its value and TTL (see [`crate::rebuild`]), replayed all or nothing. For
    /// writes a coordinator made from several shards (a key renamed or copied in from
    /// another shard, a cross-shard command's result written back).
    pub fn record_key_state(&mut self, db: usize, key: &[u8]) {
        if !self.effects.is_on() {
            return;
        }
        self.record_expired();
        self.effects.begin();
        let del: [&[u8]; 2] = [b"DEL", key];
        self.effects.pending.push(db, del.iter());
        let (dbs, effects) = (&mut self.dbs, &mut self.effects);
        // Time 0: the entry as it is, even if its TTL passed a moment ago (its PEXPIREAT
        // then removes it on replay).
        if let Some(entry) = dbs[db].peek(key, 0) {
            crate::rebuild::rebuild(key, entry, &mut |args| {
                effects.pending.push(db, args.iter())
            });
        }
        self.effects.finish(db, false, std::iter::empty::<&[u8]>());
    }

    /// The keys found expired since the last call become DELs in the effects log.
    pub fn record_expired(&mut self) {
        for (i, d) in self.dbs.iter_mut().enumerate() {
            if !d.expired_log.is_empty() {
                for k in d.expired_log.take() {
                    self.effects.expired(i, &k);
                }
            }
        }
    }

    /// Starts loading what looking up these `(db, key)`s will touch, in two passes (bucket
    /// metadata for all, then the likely slot of each), so a batch of pipelined commands
    /// waits for memory once rather than once per command.
    pub fn prefetch(&self, keys: &[(usize, &[u8])]) {
        for &(db, key) in keys {
            if let Some(d) = self.dbs.get(db) {
                d.prefetch_buckets(key);
            }
        }
        for &(db, key) in keys {
            if let Some(d) = self.dbs.get(db) {
                d.prefetch_slot(key);
            }
        }
    }

    /// Applies `notify-keyspace-events` to every database.
    pub fn set_notify_flags(&mut self, flags: u16) {
        self.notify_flags = flags;
        self.dbs.iter_mut().for_each(|d| d.events.set_flags(flags));
    }

    pub fn notify_flags(&self) -> u16 {
        self.notify_flags
    }

    /// Turns the databases' change logs on while tracking needs them, off when not.
    pub fn sync_change_logs(&mut self) {
        let on = self.tracking.is_active();
        if self.dbs.first().is_some_and(|d| d.changed.on != on) {
            self.dbs.iter_mut().for_each(|d| d.changed.on = on);
        }
    }

    /// CLIENT TRACKING: `reader` reads `keys` (remembered before the reply leaves, so any
    /// later change is invalidated).
    pub fn remember_reads<'k>(
        &mut self,
        keys: impl IntoIterator<Item = &'k [u8]>,
        reader: crate::tracking::Reader,
    ) {
        for k in keys {
            self.tracking.remember(k, reader);
        }
        self.sync_change_logs();
    }

    /// Turns the keys changed so far into invalidations that name `client` as the one who
    /// changed them (NOLOOP).
    pub fn changes_by(&mut self, client: u64) {
        if self.tracking.is_active() {
            self.tracking.current = client;
            self.collect_changes();
            self.tracking.current = 0;
        }
    }

    /// Feeds the keys the databases saw change to the tracking table.
    pub fn collect_changes(&mut self) {
        for d in self.dbs.iter_mut() {
            if !d.changed.is_empty() {
                for k in d.changed.take() {
                    self.tracking.changed(&k);
                }
            }
        }
    }

    /// The context for one command on database `db`, stamped with the time `now_ms` that the
    /// whole command sees (as Redis caches the time per command).
    pub fn ctx<'a>(&'a mut self, db: usize, now_ms: u64, out: &'a mut Reply) -> Ctx<'a> {
        self.effects.begin();
        Ctx {
            db: &mut self.dbs[db],
            db_index: db,
            fx: &mut self.effects.pending,
            out,
            now: now_ms,
            dirty: &mut self.dirty,
            rng: &mut self.rng,
            max_string_len: self.max_string_len,
            limits: &self.limits,
        }
    }

    pub fn keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }

    /// Starts a snapshot of every database as it is now, each key serialized by
    /// `serializer` (see [`crate::snapshot`]); one in progress starts over.
    pub fn snapshot_start(&mut self, serializer: crate::snapshot::Serializer) {
        self.snapshot_start_with(serializer, crate::snapshot::Access::None);
    }

    /// [`Shard::snapshot_start`] recording each key's access data as `access` says.
    pub fn snapshot_start_with(
        &mut self,
        serializer: crate::snapshot::Serializer,
        access: crate::snapshot::Access,
    ) {
        self.dbs
            .iter_mut()
            .for_each(|d| d.snapshot_start(serializer, access));
    }

    /// Drops the snapshot in progress and everything it serialized.
    pub fn snapshot_abort(&mut self) {
        self.dbs.iter_mut().for_each(Db::snapshot_abort);
    }

    /// Whether a snapshot runs or its last output was not taken yet.
    pub fn snapshot_active(&self) -> bool {
        self.dbs.iter().any(Db::snapshot_active)
    }

    /// Walks the databases in order, serializing whole segments until at least `budget`
    /// entries were visited or every walk ended. Returns whether every walk ended (then
    /// [`snapshot_take`](Shard::snapshot_take) returns the rest and ends the snapshot).
    pub fn snapshot_step(&mut self, budget: usize) -> bool {
        let mut left = budget.max(1);
        for d in self.dbs.iter_mut() {
            if d.snapshot_walked() {
                continue;
            }
            if left == 0 {
                return false;
            }
            let (done, visited) = d.snapshot_walk(left);
            if !done {
                return false;
            }
            left = left.saturating_sub(visited);
        }
        true
    }

    /// What was serialized since the last call, by the walk and by writes that came first:
    /// RESP where each database's part starts with its `SELECT`, so every output stands on
    /// its own (outputs of several shards interleave in one file).
    pub fn snapshot_take(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, part) in self.snapshot_take_parts() {
            let mut digits = itoa::Buffer::new();
            let select: [&[u8]; 2] = [b"SELECT", digits.format(i).as_bytes()];
            crate::effects::encode_command(&mut out, select.iter());
            out.extend_from_slice(&part);
        }
        out
    }

    /// What was serialized since the last call, as (database, output) for each database
    /// that has some.
    pub fn snapshot_take_parts(&mut self) -> Vec<(usize, Vec<u8>)> {
        let mut parts = Vec::new();
        for (i, d) in self.dbs.iter_mut().enumerate() {
            let part = d.snapshot_take();
            if !part.is_empty() {
                parts.push((i, part));
            }
        }
        parts
    }
}

/// What a command handler works with: the selected database of this shard, the reply buffer
/// and the shard's counters. Fields are separate borrows so a handler can hold an entry of
/// `db` while it writes to `out`.
pub struct Ctx<'a> {
    pub db: &'a mut Db,
    /// Which database `db` is (SELECT index), for the effects.
    pub db_index: usize,
    /// The effects the command records instead of itself (see [`Ctx::propagate`]).
    pub fx: &'a mut Pending,
    pub out: &'a mut Reply,
    /// The command's time, Unix ms.
    pub now: u64,
    pub dirty: &'a mut u64,
    pub rng: &'a mut Rng,
    /// `proto-max-bulk-len` (see [`Shard::max_string_len`]).
    pub max_string_len: u64,
    /// The collection encoding thresholds.
    pub limits: &'a Limits,
}

impl Ctx<'_> {
    /// Records `args` as (one of) the effect(s) of this command, replacing the request
    /// itself in the AOF: the deterministic form of what it did (see [`crate::effects`]).
    /// Cheap when nothing records effects, but callers that build arguments should check
    /// [`Ctx::propagating`] first.
    #[inline]
    pub fn propagate<A: AsRef<[u8]>>(
        &mut self,
        args: impl IntoIterator<Item = A, IntoIter: ExactSizeIterator>,
    ) {
        self.fx.push(self.db_index, args.into_iter());
    }

    /// Whether effects are being recorded (worth building rewritten arguments for).
    #[inline]
    pub fn propagating(&self) -> bool {
        self.fx.is_on()
    }

    /// The command changed something, but the request is not its effect and nothing is to
    /// replay (its effect is recorded elsewhere, by the coordinator).
    #[inline]
    pub fn suppress_effect(&mut self) {
        self.fx.suppress();
    }

    /// Records that the command changed the dataset.
    #[inline]
    pub fn wrote(&mut self, changes: u64) {
        *self.dirty += changes;
    }

    /// Records the keyspace event `name` of `class` (a [`crate::notify`] constant) on
    /// `key`, where Redis calls notifyKeyspaceEvent.
    #[inline]
    pub fn notify(&mut self, class: u16, name: &'static str, key: &[u8]) {
        self.db.notify(class, name, key);
    }

    /// Deletes `key` because a store command's result is empty (Redis' dbDelete: an expired
    /// key counts too): the "del" event and one change when there was a key.
    pub fn delete_stored(&mut self, key: &[u8]) {
        if self.db.remove(key).is_some() {
            self.notify(crate::notify::GENERIC, "del", key);
            self.wrote(1);
        }
    }

    /// Deletes `key` if `emptied` (a collection the command left empty: Redis never keeps
    /// one), with the "del" event.
    pub fn delete_if_emptied(&mut self, key: &[u8], emptied: bool) {
        if emptied {
            self.db.remove(key);
            self.notify(crate::notify::GENERIC, "del", key);
        }
    }
}

/// A command implementation that runs on the shard owning its key(s).
pub type Handler = fn(&mut Ctx, &Cmd);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Entry;
    use crate::string::StrValue;
    use crate::value::Value;

    const MASTER: u64 = 77;
    const NOW: u64 = 1_000_000;

    fn shard_with_expired_key() -> Shard {
        let mut s = Shard::new(0, 2);
        let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
        e.expire_at = NOW - 1;
        s.dbs[0].insert_entry(b"old", e, NOW);
        s.dbs[0].set(b"live", Value::Str(StrValue::from_bytes(b"x")), 0, NOW);
        s
    }

    #[test]
    fn a_master_removes_expired_keys() {
        let mut s = shard_with_expired_key();
        assert!(s.dbs[0].get(b"old", NOW).is_none());
        assert_eq!(s.dbs[0].len(), 1, "removed by the lookup");
    }

    #[test]
    fn a_replica_hides_expired_keys_from_clients_without_removing_them() {
        let mut s = shard_with_expired_key();
        s.set_replica(Some(MASTER));
        assert!(s.is_replica());
        s.serve_client(5);
        assert!(s.dbs[0].get(b"old", NOW).is_none());
        assert!(s.dbs[0].get_mut(b"old", NOW).is_none());
        // A client's DEL finds nothing to delete.
        let mut out = crate::reply::Reply::new(false);
        crate::keys::del(
            &mut s.ctx(0, NOW, &mut out),
            &Cmd::from_args(&["DEL", "old"]),
        );
        assert_eq!(out.buf, b":0\r\n");
        assert!(!s.dbs[0].contains(b"old", NOW));
        assert!(s.dbs[0].get(b"live", NOW).is_some());
        assert_eq!(s.dbs[0].len(), 2, "kept for the master's DEL");
        assert_eq!(s.dbs[0].active_expire(NOW, 1000), 0, "no active expiry");
        assert_eq!(s.dbs[0].len(), 2);
        assert_eq!(s.dbs[0].expired, 0);
    }

    #[test]
    fn the_masters_commands_see_expired_keys() {
        let mut s = shard_with_expired_key();
        s.set_replica(Some(MASTER));
        s.serve_client(MASTER);
        assert!(s.dbs[0].get(b"old", NOW).is_some());
        assert!(s.dbs[1].expiry == Expiry::Master, "every database");
        // The master's DEL removes it.
        let mut out = crate::reply::Reply::new(false);
        let del = Cmd::from_args(&["DEL", "old"]);
        crate::keys::del(&mut s.ctx(0, NOW, &mut out), &del);
        assert_eq!(out.buf, b":1\r\n");
        assert_eq!(s.dbs[0].len(), 1);
        // Back to a client: hidden again.
        let mut s = shard_with_expired_key();
        s.set_replica(Some(MASTER));
        s.serve_client(MASTER);
        s.serve_client(6);
        assert!(s.dbs[0].get(b"old", NOW).is_none());
        assert_eq!(s.dbs[0].len(), 2);
    }

    #[test]
    fn promotion_brings_expiry_back() {
        let mut s = shard_with_expired_key();
        s.set_replica(Some(MASTER));
        s.serve_client(MASTER);
        s.set_replica(None);
        assert!(!s.is_replica());
        s.serve_client(MASTER);
        assert_eq!(s.dbs[0].expiry, Expiry::Active);
        assert_eq!(s.dbs[0].active_expire(NOW, 1000), 1);
        assert_eq!(s.dbs[0].len(), 1);
    }
}
