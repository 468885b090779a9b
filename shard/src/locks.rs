//! Key locks for transactions that span shards (MSET, MGET, RENAME across shards; later
//! MULTI/EXEC and scripts).
//!
//! Strict two-phase locking: a transaction takes the locks of all its keys shard by shard in
//! ascending shard order, executes, then releases. On one shard it takes all its keys at once
//! or none, so while it waits here it holds nothing here; with the global shard order this
//! rules out deadlock. A whole database can be locked too (FLUSHDB, SWAPDB): it conflicts with
//! every key lock of that database.
//!
//! Plain single-key commands do not lock: they check [`LockTable::is_free`] (one comparison
//! when no transaction is active) and wait for the release when their key is taken, so a
//! client never observes half of a transaction.
//!
//! The table is generic over the waiter `W` (the server stores wake-up handles): it never
//! blocks, it only says who to wake.

use ahash::AHashMap;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Shared,
    Exclusive,
}

struct KeyLock<W> {
    readers: u32,
    writer: bool,
    waiters: Vec<W>,
}

impl<W> Default for KeyLock<W> {
    fn default() -> Self {
        KeyLock {
            readers: 0,
            writer: false,
            waiters: Vec::new(),
        }
    }
}

impl<W> KeyLock<W> {
    fn admits(&self, mode: Mode) -> bool {
        match mode {
            Mode::Shared => !self.writer,
            Mode::Exclusive => !self.writer && self.readers == 0,
        }
    }

    fn is_idle(&self) -> bool {
        !self.writer && self.readers == 0 && self.waiters.is_empty()
    }
}

/// The locks of one database: key locks held in it, and the whole-database lock.
struct DbLock<W> {
    keys: AHashMap<Box<[u8]>, KeyLock<W>>,
    /// Key locks held (a shared key lock held by two transactions counts twice).
    held_keys: usize,
    whole: KeyLock<W>,
}

impl<W> Default for DbLock<W> {
    fn default() -> Self {
        DbLock {
            keys: AHashMap::default(),
            held_keys: 0,
            whole: KeyLock::default(),
        }
    }
}

impl<W> DbLock<W> {
    fn is_idle(&self) -> bool {
        self.held_keys == 0 && self.keys.is_empty() && self.whole.is_idle()
    }

    /// Does the whole-database lock let a key access with `mode` through?
    fn whole_admits(&self, mode: Mode) -> bool {
        !self.whole.writer && (mode == Mode::Shared || self.whole.readers == 0)
    }
}

pub struct LockTable<W> {
    dbs: AHashMap<usize, DbLock<W>>,
    /// Locks held (key or database), for the fast path.
    held: usize,
}

impl<W> Default for LockTable<W> {
    fn default() -> Self {
        LockTable {
            dbs: AHashMap::default(),
            held: 0,
        }
    }
}

/// A lock request was refused and its waiter queued: wait for it, then try again.
#[derive(Debug, PartialEq, Eq)]
pub struct Queued;

/// A request for locks on one shard.
pub enum Request<'a> {
    Keys {
        db: usize,
        keys: &'a [&'a [u8]],
        mode: Mode,
    },
    /// Whole databases (FLUSHDB, FLUSHALL, SWAPDB).
    Dbs { dbs: &'a [usize] },
}

impl<W> LockTable<W> {
    /// True when no transaction holds anything: single-key commands skip all checks.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// May a plain command access `key` of `db` with `mode` now?
    #[inline]
    pub fn is_free(&self, db: usize, key: &[u8], mode: Mode) -> bool {
        if self.held == 0 {
            return true;
        }
        let Some(d) = self.dbs.get(&db) else {
            return true;
        };
        d.whole_admits(mode) && d.keys.get(key).is_none_or(|l| l.admits(mode))
    }

    /// Registers `waiter` to be returned by the release that frees `key` (call after
    /// [`is_free`](Self::is_free) said no).
    pub fn wait_key(&mut self, db: usize, key: &[u8], waiter: W) {
        let d = self.dbs.entry(db).or_default();
        match d.keys.get_mut(key) {
            Some(l) if l.writer || l.readers > 0 => l.waiters.push(waiter),
            _ => d.whole.waiters.push(waiter),
        }
    }

    /// Takes all the locks of `req`, or none. On refusal the waiter is queued where it
    /// conflicted and is returned by the release that may let it through (the caller then
    /// tries again).
    pub fn try_lock(&mut self, req: &Request, waiter: W) -> Result<(), Queued> {
        match *req {
            Request::Keys { db, keys, mode } => {
                let d = self.dbs.entry(db).or_default();
                if !d.whole_admits(mode) {
                    d.whole.waiters.push(waiter);
                    return Err(Queued);
                }
                let conflict = keys
                    .iter()
                    .find(|k| d.keys.get(**k).is_some_and(|l| !l.admits(mode)));
                if let Some(k) = conflict {
                    d.keys.get_mut(*k).unwrap().waiters.push(waiter);
                    return Err(Queued);
                }
                for k in keys {
                    let l = d.keys.entry(Box::from(*k)).or_default();
                    match mode {
                        Mode::Shared => l.readers += 1,
                        Mode::Exclusive => l.writer = true,
                    }
                }
                d.held_keys += keys.len();
                self.held += keys.len();
                Ok(())
            }
            Request::Dbs { dbs } => {
                for db in dbs {
                    if let Some(d) = self.dbs.get_mut(db) {
                        if d.held_keys > 0 || d.whole.writer || d.whole.readers > 0 {
                            d.whole.waiters.push(waiter);
                            return Err(Queued);
                        }
                    }
                }
                for db in dbs {
                    self.dbs.entry(*db).or_default().whole.writer = true;
                }
                self.held += dbs.len();
                Ok(())
            }
        }
    }

    /// Every waiter, to be woken without any lock changing hands: each will look again (a
    /// script went busy, and plain commands waiting behind its locks must answer -BUSY).
    /// Waiting transactions simply queue again.
    pub fn take_all_waiters(&mut self) -> Vec<W> {
        let mut wake = Vec::new();
        for d in self.dbs.values_mut() {
            for l in d.keys.values_mut() {
                wake.append(&mut l.waiters);
            }
            d.keys.retain(|_, l| !l.is_idle());
            wake.append(&mut d.whole.waiters);
        }
        self.dbs.retain(|_, d| !d.is_idle());
        wake
    }

    /// Releases what `req` took; returns the waiters to wake.
    pub fn unlock(&mut self, req: &Request) -> Vec<W> {
        let mut wake = Vec::new();
        match *req {
            Request::Keys { db, keys, mode } => {
                let Some(d) = self.dbs.get_mut(&db) else {
                    debug_assert!(false, "unlock of a database that holds no locks");
                    return wake;
                };
                for k in keys {
                    if let Some(l) = d.keys.get_mut(*k) {
                        match mode {
                            Mode::Shared => l.readers -= 1,
                            Mode::Exclusive => l.writer = false,
                        }
                        if l.readers == 0 && !l.writer {
                            wake.append(&mut l.waiters);
                            d.keys.remove(*k);
                        }
                    }
                }
                d.held_keys -= keys.len();
                self.held -= keys.len();
                if d.held_keys == 0 {
                    wake.append(&mut d.whole.waiters);
                }
                if d.is_idle() {
                    self.dbs.remove(&db);
                }
            }
            Request::Dbs { dbs } => {
                for db in dbs {
                    if let Some(d) = self.dbs.get_mut(db) {
                        d.whole.writer = false;
                        wake.append(&mut d.whole.waiters);
                        if d.is_idle() {
                            self.dbs.remove(db);
                        }
                    }
                }
                self.held -= dbs.len();
            }
        }
        wake
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waiter_can_be_woken_without_a_release() {
        let mut t = LockTable::<u32>::default();
        let a: &[&[u8]] = &[b"a"];
        t.try_lock(&Request::Dbs { dbs: &[0] }, 9).unwrap();
        assert!(t
            .try_lock(
                &Request::Keys {
                    db: 0,
                    keys: a,
                    mode: Mode::Shared
                },
                1
            )
            .is_err());
        t.wait_key(0, b"a", 2);
        let mut woken = t.take_all_waiters();
        woken.sort();
        assert_eq!(woken, vec![1, 2]);
        assert!(!t.is_free(0, b"a", Mode::Shared), "the locks stay");
        assert!(t.take_all_waiters().is_empty());
        assert!(t.unlock(&Request::Dbs { dbs: &[0] }).is_empty());
        assert!(t.is_empty());
    }

    fn keys<'a>(db: usize, k: &'a [&'a [u8]], mode: Mode) -> Request<'a> {
        Request::Keys { db, keys: k, mode }
    }

    #[test]
    fn exclusive_blocks_readers_and_writers_until_release() {
        let mut t = LockTable::<u32>::default();
        assert!(t.is_empty());
        let ab: &[&[u8]] = &[b"a", b"b"];
        t.try_lock(&keys(0, ab, Mode::Exclusive), 1).unwrap();
        assert!(!t.is_free(0, b"a", Mode::Shared));
        assert!(t.is_free(0, b"c", Mode::Exclusive));
        assert!(t.is_free(1, b"a", Mode::Exclusive), "other database");
        let b: &[&[u8]] = &[b"b"];
        assert!(t.try_lock(&keys(0, b, Mode::Shared), 2).is_err());
        t.wait_key(0, b"a", 3);
        let mut woken = t.unlock(&keys(0, ab, Mode::Exclusive));
        woken.sort();
        assert_eq!(woken, vec![2, 3]);
        assert!(t.is_empty());
        assert!(t.is_free(0, b"a", Mode::Exclusive));
    }

    #[test]
    fn shared_locks_coexist() {
        let mut t = LockTable::<u32>::default();
        let a: &[&[u8]] = &[b"a"];
        t.try_lock(&keys(0, a, Mode::Shared), 1).unwrap();
        t.try_lock(&keys(0, a, Mode::Shared), 2).unwrap();
        assert!(t.is_free(0, b"a", Mode::Shared));
        assert!(!t.is_free(0, b"a", Mode::Exclusive));
        assert!(t.try_lock(&keys(0, a, Mode::Exclusive), 3).is_err());
        assert!(t.unlock(&keys(0, a, Mode::Shared)).is_empty());
        assert_eq!(t.unlock(&keys(0, a, Mode::Shared)), vec![3]);
        assert!(t.is_empty());
    }

    #[test]
    fn all_or_nothing_on_one_shard() {
        let mut t = LockTable::<u32>::default();
        let b: &[&[u8]] = &[b"b"];
        let ab: &[&[u8]] = &[b"a", b"b"];
        t.try_lock(&keys(0, b, Mode::Exclusive), 1).unwrap();
        assert!(t.try_lock(&keys(0, ab, Mode::Exclusive), 2).is_err());
        assert!(
            t.is_free(0, b"a", Mode::Exclusive),
            "a refused request holds nothing"
        );
    }

    #[test]
    fn database_lock_conflicts_with_key_locks() {
        let mut t = LockTable::<u32>::default();
        let a: &[&[u8]] = &[b"a"];
        t.try_lock(&keys(0, a, Mode::Shared), 1).unwrap();
        assert!(t.try_lock(&Request::Dbs { dbs: &[0] }, 2).is_err());
        assert_eq!(t.unlock(&keys(0, a, Mode::Shared)), vec![2]);
        t.try_lock(&Request::Dbs { dbs: &[0] }, 2).unwrap();
        assert!(!t.is_free(0, b"zzz", Mode::Shared));
        assert!(t.try_lock(&keys(0, a, Mode::Exclusive), 3).is_err());
        t.wait_key(0, b"q", 4);
        let mut w = t.unlock(&Request::Dbs { dbs: &[0] });
        w.sort();
        assert_eq!(w, vec![3, 4]);
        assert!(t.is_empty());
    }
}
