//! One logical database (SELECT n) of one shard: the key table with expiry.
//!
//! Expiry times are absolute Unix milliseconds, stored in the entry (0 = no TTL). An expired
//! key is never visible: every lookup checks it and removes it lazily, and the active expiry
//! cycle walks the table incrementally to reclaim keys nobody reads.
//!
//! While a snapshot runs (see [`crate::snapshot`]), every change to the table, every `&mut
//! Entry` handed out and every lazy expiry first lets the snapshot serialize the key's
//! segment (`Db::guard`); the active expiry cycle pauses.

use crate::dash::{DashTable, Found};
use crate::notify::{self, Events};
use crate::snapshot::DbSnapshot;
use crate::value::Value;
use crate::watch::Watches;

pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix ms; 0 = persistent.
    pub expire_at: u64,
    /// Under an LRU (or no) eviction policy, the last access in seconds of the Unix clock
    /// (OBJECT IDLETIME); under an LFU policy, Redis' 24 bits of LFU data: the minute of
    /// the last decrement (16 bits) and the logarithmic access counter (8 bits). See
    /// [`Clock`]. 0 until the entry is first stored.
    pub access: u32,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: 0,
            access: 0,
        }
    }

    #[inline]
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }
}

#[derive(Default)]
pub struct Db {
    table: DashTable<Entry>,
    /// Keys with a TTL (INFO keyspace `expires=`).
    volatile: usize,
    /// Where the active expiry cycle resumes.
    expire_cursor: u64,
    /// Read lookups that found / did not find a key (INFO keyspace_hits/misses).
    pub hits: u64,
    pub misses: u64,
    /// Keys removed because their TTL passed.
    pub expired: u64,
    /// Keys clients WATCH here; every change to one of them must [`touch`](Db::touch) it.
    pub watches: Watches,
    /// Keyspace notifications recorded here, waiting for the server to publish them.
    pub events: Events,
    /// Keys changed since the server last looked, kept only while some client tracks keys
    /// of this shard (CLIENT TRACKING): the server turns them into invalidations.
    pub changed: ChangeLog,
    /// Keys removed because they expired, kept only while the shard records effects: each
    /// becomes a DEL in the effects log (see [`crate::effects`]).
    pub expired_log: ChangeLog,
    /// Replaying the AOF: keys whose time has passed stay until the replay ends, as in
    /// Redis (a later PERSIST in the file may still save them).
    pub loading: bool,
    /// How keys whose time has passed are treated (a replica's own rules, see [`Expiry`]).
    pub expiry: Expiry,
    /// The snapshot in progress (see [`crate::snapshot`]): every change to the table first
    /// [`guard`](Db::guard)s the key's segment.
    snap: Option<Box<DbSnapshot>>,
    /// What an access records in [`Entry::access`] (the eviction policy's kind).
    pub clock: Clock,
    /// The LFU counter's coin flips.
    lfu_rng: crate::rng::Rng,
}

/// What [`Entry::access`] holds: the time of the last access (LRU), or Redis' LFU data with
/// its `lfu-log-factor` and `lfu-decay-time` (minutes). Switching at run time reinterprets
/// the entries' data, as in Redis ("data will take some time to adjust").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    Lru,
    Lfu {
        log_factor: u32,
        decay_time: u32,
    },
}

impl Clock {
    /// The access data of an entry accessed now whose data was `old`.
    #[inline]
    fn touched(self, old: u32, now_ms: u64, rng: &mut crate::rng::Rng) -> u32 {
        match self {
            Clock::Lru => lru_clock(now_ms),
            Clock::Lfu {
                log_factor,
                decay_time,
            } => {
                let coin = rng.next_u64();
                let counter = crate::evict::lfu_decayed(old, decay_time, now_ms);
                let counter = crate::evict::lfu_incremented(counter, log_factor, coin);
                crate::evict::lfu_data(now_ms, counter)
            }
        }
    }

    /// The access data of an entry created now (Redis' LFU_INIT_VAL for a new key, so it
    /// is not the first to go).
    #[inline]
    pub fn fresh(self, now_ms: u64) -> u32 {
        match self {
            Clock::Lru => lru_clock(now_ms),
            Clock::Lfu { .. } => crate::evict::lfu_data(now_ms, crate::evict::LFU_INIT_VAL),
        }
    }
}

/// What happens to a key whose time has passed, by role (Redis' `expireIfNeeded`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expiry {
    /// A master: the key is removed when a lookup finds it and by the active expiry cycle.
    #[default]
    Active,
    /// A replica serving its clients: the key looks absent but stays (the master's DEL
    /// removes it); no active expiry.
    Replica,
    /// A replica running its master's commands: the key is there, whatever its TTL (the
    /// master decides when it expires).
    Master,
}

/// The keys [`Db::touch`] saw, while someone wants to know.
#[derive(Default)]
pub struct ChangeLog {
    pub on: bool,
    keys: Vec<Box<[u8]>>,
}

impl ChangeLog {
    #[inline]
    fn record(&mut self, key: &[u8]) {
        if self.on {
            self.keys.push(key.into());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn take(&mut self) -> Vec<Box<[u8]>> {
        std::mem::take(&mut self.keys)
    }
}

fn lru_clock(now_ms: u64) -> u32 {
    (now_ms / 1000) as u32
}

impl Db {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn volatile(&self) -> usize {
        self.volatile
    }

    /// Bytes of the key table itself: directory, segments, slots (MEMORY STATS'
    /// `overhead.hashtable.main`).
    pub fn table_bytes(&self) -> usize {
        self.table.table_bytes()
    }

    /// MEMORY USAGE: the bytes `key` and its value take: its table slot (a key of up to 23
    /// bytes and the entry live there), a longer key's own allocation, the value's heap.
    /// Not an access: no hit or miss, no LRU/LFU update. `None` if missing or expired.
    pub fn memory_usage(&mut self, key: &[u8], now_ms: u64) -> Option<usize> {
        let slot = DashTable::<Entry>::slot_bytes();
        let key_heap = if key.len() > crate::compact::INLINE_MAX {
            key.len()
        } else {
            0
        };
        let value = self.peek(key, now_ms)?.value.heap_size();
        Some(slot + key_heap + value)
    }

    /// Bytes of the key table's empty slots (see [`DashTable::free_slot_bytes`]).
    pub fn free_table_bytes(&self) -> usize {
        self.table.free_slot_bytes()
    }

    /// Where the live entry of `key` is, with one lookup: an entry whose TTL has passed is
    /// removed on the way (with its "expired" event), as Redis' lookups do.
    fn locate_live(&mut self, key: &[u8], now_ms: u64) -> Option<Found> {
        let f = self.table.locate(key)?;
        if !self.table.found(f).is_expired(now_ms) || self.loading {
            return Some(f);
        }
        match self.expiry {
            Expiry::Active => {}
            Expiry::Replica => return None,
            Expiry::Master => return Some(f),
        }
        // A snapshot serializes the segment first (a pure read: `f` stays valid).
        self.guard(key);
        self.table.remove_found(f);
        self.volatile -= 1;
        self.expired += 1;
        self.touch(key);
        self.expired_log.record(key);
        self.events.push(notify::EXPIRED, "expired", key);
        None
    }

    /// Whether a lookup here finds `e`: its time has not passed, or this database shows
    /// such keys (loading; the master's commands on a replica, see [`Expiry`]).
    #[inline]
    pub fn is_live(&self, e: &Entry, now_ms: u64) -> bool {
        !e.is_expired(now_ms) || self.loading || self.expiry == Expiry::Master
    }

    /// See [`DashTable::prefetch_buckets`].
    pub fn prefetch_buckets(&self, key: &[u8]) {
        self.table.prefetch_buckets(key);
    }

    /// See [`DashTable::prefetch_slot`].
    pub fn prefetch_slot(&self, key: &[u8]) {
        self.table.prefetch_slot(key);
    }

    /// A lookup on behalf of a reading command: counts hits and misses, updates access time.
    pub fn get(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        match self.locate_live(key, now_ms) {
            Some(f) => {
                self.hits += 1;
                self.guard(key);
                let e = self.table.found_mut(f);
                e.access = self.clock.touched(e.access, now_ms, &mut self.lfu_rng);
                Some(e)
            }
            None => {
                self.misses += 1;
                self.events.push(notify::KEY_MISS, "keymiss", key);
                None
            }
        }
    }

    /// A lookup on behalf of a writing command (no hit/miss accounting).
    pub fn get_mut(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let f = self.locate_live(key, now_ms)?;
        self.guard(key);
        let e = self.table.found_mut(f);
        e.access = self.clock.touched(e.access, now_ms, &mut self.lfu_rng);
        Some(e)
    }

    /// A lookup that neither counts nor touches the access time (TYPE-free introspection,
    /// OBJECT, TTL, SCAN filters).
    pub fn peek(&mut self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        let f = self.locate_live(key, now_ms)?;
        Some(self.table.found(f))
    }

    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.peek(key, now_ms).is_some()
    }

    /// Sets `key` to `value`, replacing any previous value; `expire_at` 0 = no TTL. A key
    /// that had expired unseen is reclaimed first, as Redis' write lookup would ("expired",
    /// then "new").
    pub fn set(&mut self, key: &[u8], value: Value, expire_at: u64, now_ms: u64) {
        let mut e = Entry::new(value);
        e.expire_at = expire_at;
        e.access = self.clock.fresh(now_ms);
        match self.insert(key, e) {
            // The master's write replaces a key it still had: nothing expired.
            Some(old) if !old.is_expired(now_ms) || self.expiry == Expiry::Master => {
                if let Clock::Lfu { .. } = self.clock {
                    // An overwrite counts as an access of the key, as in Redis (whose
                    // write lookup bumps the counter and whose dbSetValue keeps it).
                    let access = self.clock.touched(old.access, now_ms, &mut self.lfu_rng);
                    if let Some(e) = self.table.get_mut(key) {
                        e.access = access;
                    }
                }
            }
            Some(_) => {
                self.expired += 1;
                self.events.push(notify::EXPIRED, "expired", key);
                self.events.push(notify::NEW, "new", key);
            }
            None => self.events.push(notify::NEW, "new", key),
        }
    }

    /// Inserts a whole entry (value and TTL), replacing any previous one; a new key is a
    /// "new" keyspace event. An entry never stored before counts as created at `now_ms`.
    pub fn insert_entry(&mut self, key: &[u8], mut e: Entry, now_ms: u64) {
        if e.access == 0 {
            e.access = self.clock.fresh(now_ms);
        }
        if self.insert(key, e).is_none() {
            self.events.push(notify::NEW, "new", key);
        }
    }

    /// Puts back an entry computed elsewhere (in a scratch database, whose events are
    /// published for it; loaded from a file): like [`insert_entry`](Db::insert_entry),
    /// without the event.
    pub fn write_back(&mut self, key: &[u8], mut e: Entry, now_ms: u64) {
        if e.access == 0 {
            e.access = self.clock.fresh(now_ms);
        }
        self.insert(key, e);
    }

    /// Inserts or replaces; returns the replaced entry.
    fn insert(&mut self, key: &[u8], e: Entry) -> Option<Entry> {
        self.guard(key);
        if e.expire_at != 0 {
            self.volatile += 1;
        }
        let old = self.table.insert(key, e);
        if old.as_ref().is_some_and(|o| o.expire_at != 0) {
            self.volatile -= 1;
        }
        old
    }

    /// Removes a key (expired or not) and returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.guard(key);
        let e = self.table.remove(key)?;
        if e.expire_at != 0 {
            self.volatile -= 1;
        }
        Some(e)
    }

    /// Removes `key` to free memory (maxmemory): WATCH and tracking see the change and an
    /// "evicted" event is recorded. Returns whether the key was there.
    pub fn evict(&mut self, key: &[u8]) -> bool {
        if self.remove(key).is_none() {
            return false;
        }
        self.touch(key);
        self.events.push(notify::EVICTED, "evicted", key);
        true
    }

    /// Eviction sampling (Redis' dictGetSomeKeys): visits at least `n` keys if there are
    /// (only keys with a TTL when `volatile`), whole bucket groups from a random spot on,
    /// wrapping around at most once. A group is taken whole: its slots fill in insertion
    /// order, so its first few entries would be the oldest keys, not a fair sample.
    /// Expired keys are included: evicting one frees memory as well.
    pub fn sample(&self, seed: u64, n: usize, volatile: bool, mut f: impl FnMut(&[u8], &Entry)) {
        if self.table.is_empty() || (volatile && self.volatile == 0) {
            return;
        }
        let start = crate::rng::mix(seed);
        let (mut cursor, mut wrapped, mut found, mut examined) = (start, false, 0, 0);
        loop {
            cursor = self.table.scan(cursor, |k, e| {
                examined += 1;
                if !volatile || e.expire_at != 0 {
                    found += 1;
                    f(k, e);
                }
            });
            // A few TTL keys among many: take what a bounded walk found.
            let enough = found >= n || (found > 0 && examined >= n * 64);
            if cursor == 0 {
                if wrapped {
                    break;
                }
                wrapped = true;
            }
            if enough || (wrapped && cursor >= start) || examined >= self.table.len() * 2 {
                break;
            }
        }
    }

    /// Sets or clears the TTL of an existing, live key. Returns false if there is no such key.
    pub fn set_expire(&mut self, key: &[u8], expire_at: u64, now_ms: u64) -> bool {
        let Some(f) = self.locate_live(key, now_ms) else {
            return false;
        };
        self.guard(key);
        let e = self.table.found_mut(f);
        match (e.expire_at != 0, expire_at != 0) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        e.expire_at = expire_at;
        true
    }

    /// Changes to `key` that WATCH must see: clients watching it will have EXEC fail.
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        self.watches.touch(key);
        self.changed.record(key);
    }

    /// Records the keyspace event `name` of `class` on `key` (see [`crate::notify`]).
    #[inline]
    pub fn notify(&mut self, class: u16, name: &'static str, key: &[u8]) {
        self.events.push(class, name, key);
    }

    /// SWAPDB: exchanges the data of two databases. Watches belong to the database number,
    /// so they stay; watchers of a key present on either side are told (as Redis).
    pub fn swap_data(a: &mut Db, b: &mut Db) {
        a.snapshot_abort();
        b.snapshot_abort();
        std::mem::swap(a, b);
        std::mem::swap(&mut a.watches, &mut b.watches);
        std::mem::swap(&mut a.events, &mut b.events);
        std::mem::swap(&mut a.changed, &mut b.changed);
        std::mem::swap(&mut a.expired_log, &mut b.expired_log);
        for flip in [false, true] {
            let (x, y) = if flip { (&mut *b, &*a) } else { (&mut *a, &*b) };
            if !x.watches.is_empty() {
                let (tx, ty) = (&x.table, &y.table);
                x.watches
                    .touch_where(|k| tx.get(k).is_some() || ty.get(k).is_some());
            }
        }
    }

    /// Empties the database (FLUSHDB); watchers of keys that existed are told. Aborts a
    /// snapshot in progress (its segment numbers are gone).
    pub fn clear(&mut self) {
        self.snapshot_abort();
        if !self.watches.is_empty() {
            let table = &self.table;
            self.watches.touch_where(|k| table.get(k).is_some());
        }
        self.table.clear();
        self.volatile = 0;
        self.expire_cursor = 0;
    }

    /// One step of the active expiry cycle: walks bucket groups from where the last step
    /// stopped until `budget` entries were examined or the walk wrapped, removing expired
    /// keys. Returns how many keys it removed.
    pub fn active_expire(&mut self, now_ms: u64, budget: usize) -> usize {
        // Not while a snapshot runs: lazy expiry still reclaims what is read.
        if self.volatile == 0
            || self.loading
            || self.expiry != Expiry::Active
            || self.snap.is_some()
        {
            return 0;
        }
        let mut examined = 0;
        let mut removed = 0;
        let mut cursor = self.expire_cursor;
        let (watches, events, changed, expired_log) = (
            &mut self.watches,
            &mut self.events,
            &mut self.changed,
            &mut self.expired_log,
        );
        loop {
            cursor = self.table.scan_mut(cursor, |k, e| {
                examined += 1;
                if e.is_expired(now_ms) {
                    removed += 1;
                    watches.touch(k);
                    changed.record(k);
                    expired_log.record(k);
                    events.push(notify::EXPIRED, "expired", k);
                    false
                } else {
                    true
                }
            });
            if cursor == 0 || examined >= budget {
                break;
            }
        }
        self.expire_cursor = cursor;
        self.volatile -= removed;
        self.expired += removed as u64;
        removed
    }

    /// Visits one bucket group of live keys (SCAN). Expired keys are skipped, not returned.
    pub fn scan(&self, cursor: u64, now_ms: u64, mut f: impl FnMut(&[u8], &Entry)) -> u64 {
        self.table.scan(cursor, |k, e| {
            if !e.is_expired(now_ms) {
                f(k, e)
            }
        })
    }

    /// A random live key (RANDOMKEY, eviction sampling). Gives up after a few tries when
    /// nearly every key is expired, as Redis does.
    pub fn random_key(&mut self, seed: u64, now_ms: u64) -> Option<Box<[u8]>> {
        let mut s = seed;
        for _ in 0..100 {
            let (k, e) = self.table.random(s)?;
            if !e.is_expired(now_ms) {
                return Some(k.into());
            }
            let k: Box<[u8]> = k.into();
            self.locate_live(&k, now_ms);
            s = crate::rng::mix(s);
        }
        None
    }

    /// Every live key (KEYS). Expensive by nature, as in Redis.
    pub fn for_each(&self, now_ms: u64, mut f: impl FnMut(&[u8], &Entry)) {
        for (k, e) in self.table.iter() {
            if !e.is_expired(now_ms) {
                f(k, e)
            }
        }
    }

    /// Before any change to `key` (or a `&mut` to its entry): while a snapshot runs, its
    /// segment is serialized first unless that was done or it changed since the epoch.
    #[inline]
    fn guard(&mut self, key: &[u8]) {
        if self.snap.is_some() {
            self.guard_segment(key);
        }
    }

    #[cold]
    #[inline(never)]
    fn guard_segment(&mut self, key: &[u8]) {
        if let (Some(snap), Some(seg)) = (self.snap.as_deref_mut(), self.table.segment_of(key)) {
            snap.visit(&mut self.table, seg);
        }
    }

    /// Starts a snapshot of the keys as they are now (restarting one in progress), each key
    /// serialized by `serializer`.
    pub fn snapshot_start(
        &mut self,
        serializer: crate::snapshot::Serializer,
        access: crate::snapshot::Access,
    ) {
        self.snap = Some(Box::new(DbSnapshot::start(&self.table, serializer, access)));
    }

    /// Drops the snapshot in progress and what it serialized.
    pub fn snapshot_abort(&mut self) {
        self.snap = None;
    }

    /// Whether a snapshot runs or its last output was not taken yet.
    pub fn snapshot_active(&self) -> bool {
        self.snap.is_some()
    }

    /// Serializes whole segments until at least `budget` entries were visited or the walk
    /// ended. Returns whether the walk ended (true when no snapshot runs).
    pub fn snapshot_step(&mut self, budget: usize) -> bool {
        self.snapshot_walk(budget).0
    }

    /// [`snapshot_step`](Db::snapshot_step), also returning the entries visited.
    pub(crate) fn snapshot_walk(&mut self, budget: usize) -> (bool, usize) {
        match self.snap.as_deref_mut() {
            Some(snap) => snap.step(&mut self.table, budget),
            None => (true, 0),
        }
    }

    /// Whether no walk is left to do (none runs, or it ended).
    pub(crate) fn snapshot_walked(&self) -> bool {
        self.snap.as_ref().is_none_or(|s| s.walked())
    }

    /// The RESP (no SELECT) serialized since the last call, by the walk and by writes that
    /// came first. Once the walk ended this ends the snapshot.
    pub fn snapshot_take(&mut self) -> Vec<u8> {
        let Some(snap) = self.snap.as_deref_mut() else {
            return Vec::new();
        };
        let out = snap.take();
        if snap.walked() {
            self.snap = None;
        }
        out
    }

    /// Segments of the key table (tests: that a snapshot saw splits).
    #[cfg(test)]
    pub(crate) fn segment_count(&self) -> usize {
        self.table.segment_count()
    }
}
