//! The state of one shard and the context a command runs in.

use crate::cmd::Cmd;
use crate::db::Db;
use crate::limits::Limits;
use crate::reply::Reply;
use crate::rng::Rng;

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
        }
    }

    /// The context for one command on database `db`, stamped with the time `now_ms` that the
    /// whole command sees (as Redis caches the time per command).
    pub fn ctx<'a>(&'a mut self, db: usize, now_ms: u64, out: &'a mut Reply) -> Ctx<'a> {
        Ctx {
            db: &mut self.dbs[db],
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
}

/// What a command handler works with: the selected database of this shard, the reply buffer
/// and the shard's counters. Fields are separate borrows so a handler can hold an entry of
/// `db` while it writes to `out`.
pub struct Ctx<'a> {
    pub db: &'a mut Db,
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
    /// Records that the command changed the dataset.
    #[inline]
    pub fn wrote(&mut self, changes: u64) {
        *self.dirty += changes;
    }
}

/// A command implementation that runs on the shard owning its key(s).
pub type Handler = fn(&mut Ctx, &Cmd);
