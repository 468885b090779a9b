//! The keyspace hash table: a segmented, extendible hash table in the spirit of Dragonfly's
//! Dashtable. It grows one segment at a time, so no insert ever pays for a whole-table rehash.
//!
//! # Layout
//!
//! A 64-bit ahash `h` of the key (seeded once per table, so it never changes while the table
//! lives) is cut into three disjoint fields:
//!
//! * bits 0..6: the *home bucket* `b` inside a segment (64 regular buckets);
//! * bits 8..16: a one-byte *fingerprint*, compared for all 16 slots of a bucket at once
//!   before any key is touched;
//! * the top `depth` bits: the *directory* index (at most 48 bits).
//!
//! The directory maps the top `global depth` bits to a segment. A segment of *local depth*
//! `d` owns every hash whose top `d` bits equal its prefix, so `2^(global - d)` consecutive
//! directory cells point at it. A segment is 64 regular buckets plus 4 stash buckets, each
//! of `width` slots (at most 16). An entry lives in its home bucket `b`, in the neighbour
//! `b + 1` (a *displaced* entry) or in a stash bucket (which records `b`). Inserts pick the
//! emptier of `b` and `b + 1` and may shift one neighbour entry aside to make room, so at
//! full width a segment is ~97% full before anything fails to fit. Then the segment grows
//! on its own:
//!
//! * below full width it *widens* (every bucket gets more slots: new columns, see
//!   `Segment`; entries keep their bucket and slot);
//! * at full width it *splits*: its entries are placed anew into two segments of depth
//!   `d + 1`, by hash bit `63 - d`, each at the narrowest width that leaves it ~80% full,
//!   and the directory cells of the upper half point at the new segment. Only when `d`
//!   equals the global depth does the directory double, which copies segment indices only.
//!
//! Every growth step touches one segment (at most 1088 entries), so the slowest insert
//! costs tens of microseconds at any table size. The widths also keep the load high: plain
//! extendible hashing halves a segment's load at every split, and since uniform hashing
//! fills all segments together the whole table swings between ~50% and ~97% full; here a
//! segment stays roughly 75-97% full (87-92% table-wide, measured). Symmetrically, a
//! segment that removals leave under 30% full is rebuilt narrower (segments never merge).
//! A new table allocates nothing; its first segment starts 1 slot wide (a few KB).
//!
//! A slot is an `Option<(Key, V)>`: the key is a [`CompactBytes`] (24 bytes with up to 23
//! bytes inline, longer keys take one `Box<[u8]>`), and the `Option` costs nothing thanks to
//! the key's niche.
//! Per slot the metadata adds one fingerprint byte plus a few bits. A pathological
//! multicollision (a segment's worth of keys agreeing on 48+ hash bits) panics; the hash
//! seed is random per table, so clients cannot aim for one.
//!
//! # SCAN cursor
//!
//! Every hash has a fixed *scan position*: `s(h) = b << 58 | h >> 6`, i.e. the home bucket
//! in the top 6 bits, then the hash's top 58 bits. The entries of home bucket `b` in a
//! segment of depth `d` are exactly those whose `s` starts with `b` followed by the
//! segment's `d`-bit prefix: one contiguous, aligned interval of length `2^(58 - d)`. A
//! cursor is the first scan position not yet visited. One step visits the interval that
//! contains the cursor (one home bucket of one segment: at most 96 entries) and returns the
//! interval's end, or 0 once that wraps past the last bucket.
//!
//! Why the guarantee holds across splits and directory doubling: `s(h)` depends on the hash
//! alone, never on the table's shape. A step starting at cursor `c` visits every entry with
//! `s` in `[c, next)`: segment depths only grow, so `c` (aligned to an older, smaller depth)
//! is still the start of the interval at the current depth. The returned cursors
//! therefore increase strictly and their intervals tile the whole space, so an entry present
//! for the whole walk is visited when the walk passes its position; the walk ends because
//! every step advances by at least `2^(58 - MAX_DEPTH)`. Entries that move (bumps, widening,
//! splits, narrowing) keep their scan position, so a move can neither hide an entry nor
//! make the walk see it twice. After [`clear`](DashTable::clear) depths
//! restart at 0, which only makes a step's interval start before `c` (repeats, no misses).
//!
//! # Snapshots
//!
//! Segments are numbered `0..segment_count()` in creation order; a split appends the new
//! segment, so numbers are stable until `clear`. Every mutation through the table API
//! (insert, replace, remove, `get_mut`, a `scan_mut` step, widening, narrowing, both halves
//! of a split) stamps the segment it touches with a fresh value of a table-wide clock
//! ([`version`]). A forkless snapshot taken at epoch `E = version()` walks the segments in
//! order and, before a write to a key, also visits [`segment_of`] the key. Visiting a
//! segment whose [`segment_version`] is still `<= E` (untouched since the epoch) means
//! serializing it with [`scan_segment`] and stamping it with [`touch_segment`]. A write
//! stamps its segment `> E` too, so nothing is serialized twice or after a change, and
//! segments created by later splits (also `> E`) only hold entries already serialized or
//! written after `E`. `clear` renumbers everything: a snapshot in progress must finish (or
//! restart) first.
//!
//! [`version`]: DashTable::version
//! [`scan_segment`]: DashTable::scan_segment
//! [`segment_version`]: DashTable::segment_version
//! [`segment_of`]: DashTable::segment_of
//! [`touch_segment`]: DashTable::touch_segment

use crate::compact::CompactBytes;
use crate::rng::Rng;

/// Slots per bucket: one `u16` occupancy mask, 16 fingerprint bytes.
const SLOTS: usize = 16;
const BUCKET_BITS: u32 = 6;
/// Regular (home) buckets per segment.
const REGULAR: usize = 1 << BUCKET_BITS;
/// Overflow buckets per segment, shared by all home buckets.
const STASH: usize = 4;
const BUCKETS: usize = REGULAR + STASH;
/// Slots per bucket a segment moves through as it fills (widening in place), before it
/// splits at full width. Small first steps keep small tables small.
const WIDTHS: [usize; 8] = [1, 2, 4, 8, 10, 12, 14, SLOTS];
/// A rebuilt segment (split half, narrowed segment) gets the narrowest width it fills to
/// at most this much.
const FRESH_LOAD_PERCENT: usize = 80;
/// A segment that removals leave less full than this is rebuilt narrower.
const SHRINK_LOAD_PERCENT: usize = 30;
/// Cursor bits below the bucket field: the hash-prefix part of a scan position.
const POS_BITS: u32 = 64 - BUCKET_BITS;
/// The directory uses the top hash bits, which must stay clear of the bucket and
/// fingerprint bits (0..16).
const MAX_DEPTH: u32 = 48;
/// Blind draws [`DashTable::random`] makes before walking to the nearest entry.
const RANDOM_TRIES: usize = 32;

fn home_bucket(h: u64) -> usize {
    (h as usize) & (REGULAR - 1)
}

fn fingerprint(h: u64) -> u8 {
    (h >> 8) as u8
}

fn next_bucket(b: usize) -> usize {
    (b + 1) % REGULAR
}

fn prev_bucket(b: usize) -> usize {
    (b + REGULAR - 1) % REGULAR
}

/// The set bits of `m`, lowest first.
fn bits(mut m: u16) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (m != 0).then(|| {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            i
        })
    })
}

/// Hints the CPU to start loading the cache line at `p` into L1.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has, and it is only a hint:
    // it never faults, and it neither reads into the program nor writes anything, whatever
    // address `p` holds.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Which of the 16 bytes equal `x` (bit i for byte i), eight bytes per word at a time.
fn byte_mask(bytes: &[u8; SLOTS], x: u8) -> u16 {
    let splat = u64::from(x) * 0x0101_0101_0101_0101;
    let (lo, hi) = bytes.split_at(8);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes")) ^ splat;
    zero_bytes(word(lo)) | zero_bytes(word(hi)) << 8
}

/// Bit i set iff byte i of `w` is zero (exact: no false positives).
fn zero_bytes(w: u64) -> u16 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // Per byte, the high bit of `nonzero` is set iff the byte is not zero; no carries
    // cross bytes since (b & 0x7f) + 0x7f <= 0xfe.
    let nonzero = ((w & LOW7).wrapping_add(LOW7)) | w;
    let zero_high_bits = !nonzero & !LOW7;
    // Gathers bits 7, 15, .., 63 into the top byte: the partial products never collide.
    ((zero_high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16
}

// ---------------------------------------------------------------------------------------
// Keys

/// A key: 24 bytes, inline up to 23 bytes, else one exact-size heap allocation. Its niche
/// keeps `Option<(Key, V)>` at 24 bytes + `V`.
type Key = CompactBytes;

const _: () = assert!(std::mem::size_of::<Option<(Key, [u64; 3])>>() == 48);

// ---------------------------------------------------------------------------------------
// Segments

#[derive(Clone, Copy, Default)]
struct Bucket {
    fps: [u8; SLOTS],
    used: u16,
    /// Regular buckets: the slots holding an entry whose home is the previous bucket.
    displaced: u16,
    /// Regular buckets: how many of the entries of this home bucket are in the stash, so
    /// lookups skip the stash when 0. Kept here to share the cache line.
    stashed: u8,
}

/// A slot of a segment: bucket and index in the bucket.
type Pos = (usize, usize);

/// Where [`DashTable::locate`] found a key: its segment and slot.
#[derive(Clone, Copy, Debug)]
pub struct Found {
    seg: usize,
    pos: Pos,
}

type Slot<V> = Option<(Key, V)>;

/// An entry on its way between segments, with its hash.
type Moving<V> = (u64, (Key, V));

/// Slot `i` of each of the `N` buckets of a kind (regular or stash): one column.
type Column<V, const N: usize> = Box<[Slot<V>; N]>;

fn new_column<V, const N: usize>() -> Column<V, N> {
    match (0..N).map(|_| None).collect::<Box<[Slot<V>]>>().try_into() {
        Ok(column) => column,
        Err(_) => unreachable!("collected N slots"),
    }
}

/// The slots are stored by column: column `i` holds slot `i` of every bucket, for
/// `i < width`. Widening adds columns, so it neither moves entries nor frees memory, and
/// all columns of a kind have one size (4 KiB of regular slots with the keyspace's 64-byte
/// entries: an allocator size class with no rounding, one page), so the columns a split
/// frees are reused by the next allocations. One array per segment, reallocated at every
/// widening (sizes a fifth apart), left the arrays freed during a bulk load resident in
/// partly used allocator pages that no other size could reuse: 14 B per key at 1M keys.
/// Column-major costs no locality: a slot is a cache line of its own either way.
struct Segment<V> {
    buckets: [Bucket; BUCKETS],
    /// The home bucket of each stash slot's entry.
    stash_home: [[u8; SLOTS]; STASH],
    depth: u32,
    /// Slots in use per bucket, one of [`WIDTHS`]: the number of columns.
    width: usize,
    len: usize,
    version: u64,
    regular: [Option<Column<V, REGULAR>>; SLOTS],
    stash: [Option<Column<V, STASH>>; SLOTS],
}

impl<V> Segment<V> {
    fn new(depth: u32, width: usize, version: u64) -> Box<Self> {
        let mut seg = Box::new(Segment {
            buckets: [Bucket::default(); BUCKETS],
            stash_home: [[0; SLOTS]; STASH],
            depth,
            width: 0,
            len: 0,
            version,
            regular: [const { None }; SLOTS],
            stash: [const { None }; SLOTS],
        });
        seg.set_width(width);
        seg
    }

    /// Adds the columns up to `width`.
    fn set_width(&mut self, width: usize) {
        for i in self.width..width {
            self.regular[i] = Some(new_column());
            self.stash[i] = Some(new_column());
        }
        self.width = width;
    }

    fn slot(&self, (b, i): Pos) -> &Slot<V> {
        debug_assert!(i < self.width);
        if b < REGULAR {
            &self.regular[i]
                .as_ref()
                .expect("dash: column within the width")[b]
        } else {
            &self.stash[i]
                .as_ref()
                .expect("dash: column within the width")[b - REGULAR]
        }
    }

    fn slot_mut(&mut self, (b, i): Pos) -> &mut Slot<V> {
        debug_assert!(i < self.width);
        if b < REGULAR {
            &mut self.regular[i]
                .as_mut()
                .expect("dash: column within the width")[b]
        } else {
            &mut self.stash[i]
                .as_mut()
                .expect("dash: column within the width")[b - REGULAR]
        }
    }

    /// Every entry, column by column.
    fn entries(&self) -> impl Iterator<Item = &(Key, V)> {
        let regular = self.regular.iter().flatten().flat_map(|c| c.iter());
        let stash = self.stash.iter().flatten().flat_map(|c| c.iter());
        regular.chain(stash).flatten()
    }

    /// A new segment for `entries` entries: the narrowest width they fill to at most
    /// [`FRESH_LOAD_PERCENT`].
    fn with_room_for(entries: usize, depth: u32, version: u64) -> Box<Self> {
        let width = WIDTHS
            .into_iter()
            .find(|&w| entries <= BUCKETS * w * FRESH_LOAD_PERCENT / 100)
            .unwrap_or(SLOTS);
        Segment::new(depth, width, version)
    }

    /// Inserts an absent entry, widening as needed. What does not fit even at full width
    /// (only under extreme hash clustering) goes to `overflow`, for the table to place.
    fn insert_widening(&mut self, h: u64, mut entry: (Key, V), overflow: &mut Vec<Moving<V>>) {
        loop {
            match self.try_insert(h, entry) {
                Ok(()) => return,
                Err(back) if self.width < SLOTS => {
                    entry = back;
                    self.widen();
                }
                Err(back) => return overflow.push((h, back)),
            }
        }
    }

    /// Grows to the next width: new columns, entries stay where they are.
    fn widen(&mut self) {
        let width = WIDTHS[WIDTHS.iter().position(|&w| w == self.width).unwrap() + 1];
        self.set_width(width);
    }

    /// The slots of a bucket that are beyond the current width count as used.
    fn free_mask(&self, b: usize) -> u16 {
        !self.buckets[b].used & (u16::MAX >> (SLOTS - self.width))
    }

    fn free(&self, b: usize) -> u32 {
        self.free_mask(b).count_ones()
    }

    fn free_slot(&self, b: usize) -> Option<usize> {
        let m = self.free_mask(b);
        (m != 0).then(|| m.trailing_zeros() as usize)
    }

    fn entry(&self, pos: Pos) -> &(Key, V) {
        self.slot(pos).as_ref().expect("dash: used slot is empty")
    }

    fn entry_mut(&mut self, pos: Pos) -> &mut (Key, V) {
        self.slot_mut(pos)
            .as_mut()
            .expect("dash: used slot is empty")
    }

    fn fingerprint_at(&self, (b, i): Pos) -> u8 {
        self.buckets[b].fps[i]
    }

    /// The home bucket of the entry at `pos`.
    fn home_of(&self, (b, i): Pos) -> usize {
        if b >= REGULAR {
            self.stash_home[b - REGULAR][i] as usize
        } else if self.buckets[b].displaced & (1 << i) != 0 {
            prev_bucket(b)
        } else {
            b
        }
    }

    /// Per bucket that may hold entries of home bucket `b`, the slots that do.
    fn group_masks(&self, b: usize) -> [(usize, u16); 2 + STASH] {
        let n = next_bucket(b);
        let mut masks = [(0, 0); 2 + STASH];
        masks[0] = (b, self.buckets[b].used & !self.buckets[b].displaced);
        masks[1] = (n, self.buckets[n].used & self.buckets[n].displaced);
        if self.buckets[b].stashed > 0 {
            for s in 0..STASH {
                let used = self.buckets[REGULAR + s].used;
                masks[2 + s] = (REGULAR + s, used & byte_mask(&self.stash_home[s], b as u8));
            }
        }
        masks
    }

    /// The slots holding entries of home bucket `b`. Owns its data, so the segment may be
    /// changed while iterating.
    fn group(&self, b: usize) -> impl Iterator<Item = Pos> {
        self.group_masks(b)
            .into_iter()
            .flat_map(|(bucket, mask)| bits(mask).map(move |i| (bucket, i)))
    }

    /// The used slots of `bucket` whose fingerprint is `fp`.
    fn matches(&self, bucket: usize, fp: u8) -> u16 {
        byte_mask(&self.buckets[bucket].fps, fp) & self.buckets[bucket].used
    }

    /// Candidates for hash `h` in its home bucket, or else (displaced) in the next one.
    fn candidates(&self, h: u64) -> (usize, u16) {
        let (b, fp) = (home_bucket(h), fingerprint(h));
        let home = self.matches(b, fp) & !self.buckets[b].displaced;
        if home != 0 {
            return (b, home);
        }
        let n = next_bucket(b);
        (n, self.matches(n, fp) & self.buckets[n].displaced)
    }

    fn find(&self, h: u64, key: &[u8]) -> Option<Pos> {
        let b = home_bucket(h);
        let fp = fingerprint(h);
        let hit = |bucket: usize, mask: u16| {
            bits(mask)
                .map(|i| (bucket, i))
                .find(|&pos| self.entry(pos).0.as_bytes() == key)
        };
        let matches = |bucket: usize| self.matches(bucket, fp);
        if let Some(pos) = hit(b, matches(b) & !self.buckets[b].displaced) {
            return Some(pos);
        }
        let n = next_bucket(b);
        if let Some(pos) = hit(n, matches(n) & self.buckets[n].displaced) {
            return Some(pos);
        }
        if self.buckets[b].stashed == 0 {
            return None;
        }
        (0..STASH).find_map(|s| {
            let mask = matches(REGULAR + s) & byte_mask(&self.stash_home[s], b as u8);
            hit(REGULAR + s, mask)
        })
    }

    /// Stores `entry` in the free slot `pos`, recording its fingerprint and home bucket.
    fn place(&mut self, (b, i): Pos, fp: u8, home: usize, entry: (Key, V)) {
        let meta = &mut self.buckets[b];
        debug_assert!(meta.used & (1 << i) == 0 && i < self.width);
        meta.fps[i] = fp;
        meta.used |= 1 << i;
        if b >= REGULAR {
            self.stash_home[b - REGULAR][i] = home as u8;
            self.buckets[home].stashed += 1;
        } else if b != home {
            meta.displaced |= 1 << i;
        }
        *self.slot_mut((b, i)) = Some(entry);
        self.len += 1;
    }

    /// Empties the used slot `pos` and returns its entry.
    fn take(&mut self, (b, i): Pos) -> (Key, V) {
        if b >= REGULAR {
            self.buckets[self.stash_home[b - REGULAR][i] as usize].stashed -= 1;
        }
        let meta = &mut self.buckets[b];
        meta.used &= !(1 << i);
        meta.displaced &= !(1 << i);
        self.len -= 1;
        self.slot_mut((b, i))
            .take()
            .expect("dash: used slot is empty")
    }

    /// Moves the entry at `from` to a free slot of bucket `to` (a bucket it may live in).
    fn relocate(&mut self, from: Pos, to: usize) {
        let Some(i) = self.free_slot(to) else {
            return;
        };
        let fp = self.fingerprint_at(from);
        let home = self.home_of(from);
        let entry = self.take(from);
        self.place((to, i), fp, home, entry);
    }

    /// Frees a slot in the full bucket `b` by moving one of its displaced entries back home
    /// to `b - 1`, or one of its home entries on to `b + 1`.
    fn make_room(&mut self, b: usize) -> bool {
        let meta = self.buckets[b];
        let (prev, next) = (prev_bucket(b), next_bucket(b));
        if meta.displaced != 0 && self.free(prev) > 0 {
            self.relocate((b, meta.displaced.trailing_zeros() as usize), prev);
            return true;
        }
        let own = meta.used & !meta.displaced;
        if own != 0 && self.free(next) > 0 {
            self.relocate((b, own.trailing_zeros() as usize), next);
            return true;
        }
        false
    }

    /// Inserts an entry known to be absent; gives it back when the segment is full.
    fn try_insert(&mut self, h: u64, entry: (Key, V)) -> Result<(), (Key, V)> {
        let b = home_bucket(h);
        let n = next_bucket(b);
        let (free_b, free_n) = (self.free(b), self.free(n));
        let bucket = if free_b > 0 && free_b >= free_n {
            Some(b)
        } else if free_n > 0 {
            Some(n)
        } else if self.make_room(b) {
            Some(b)
        } else if self.make_room(n) {
            Some(n)
        } else {
            (REGULAR..BUCKETS).find(|&s| self.free(s) > 0)
        };
        let Some(bucket) = bucket else {
            return Err(entry);
        };
        let i = self.free_slot(bucket).expect("dash: bucket has room");
        self.place((bucket, i), fingerprint(h), b, entry);
        Ok(())
    }

    /// Moves every entry into new segments of depth `depth`, each at the width that suits
    /// its share: entries whose hash has `bit` clear into the first, the others into the
    /// second (none when `bit` is 0). Entries are placed anew, not copied by position,
    /// which spreads them out again.
    fn redistribute(
        &mut self,
        hasher: &ahash::RandomState,
        bit: u64,
        depth: u32,
        version: u64,
        overflow: &mut Vec<Moving<V>>,
    ) -> (Box<Self>, Option<Box<Self>>) {
        let mut hashes = [0u64; BUCKETS * SLOTS];
        let mut upper_len = 0;
        for b in 0..BUCKETS {
            for i in bits(self.buckets[b].used) {
                let h = hasher.hash_one(self.entry((b, i)).0.as_bytes());
                hashes[b * SLOTS + i] = h;
                upper_len += usize::from(h & bit != 0);
            }
        }
        let mut lower = Segment::with_room_for(self.len - upper_len, depth, version);
        let mut upper = (bit != 0).then(|| Segment::with_room_for(upper_len, depth, version));
        for b in 0..BUCKETS {
            for i in bits(self.buckets[b].used) {
                let h = hashes[b * SLOTS + i];
                let half = match &mut upper {
                    Some(upper) if h & bit != 0 => upper,
                    _ => &mut lower,
                };
                half.insert_widening(h, self.take((b, i)), overflow);
            }
        }
        (lower, upper)
    }
}

// ---------------------------------------------------------------------------------------
// The table

pub struct DashTable<V> {
    /// Segment index per value of the top `depth` hash bits. Empty until the first insert.
    dir: Vec<u32>,
    /// Boxed so growing this vector moves pointers, not ~1.5 KB segments (a multi-MB
    /// copy at 10M keys would be a stop-the-world pause of its own).
    #[allow(clippy::vec_box)]
    segs: Vec<Box<Segment<V>>>,
    /// The global depth: log2 of the directory length.
    depth: u32,
    len: usize,
    /// Source of segment versions; increases on every mutation.
    clock: u64,
    /// Per entry of [`WIDTHS`], how many segments are that wide: gives
    /// [`random`](Self::random) the widest.
    width_census: [usize; WIDTHS.len()],
    hasher: ahash::RandomState,
}

impl<V> Default for DashTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> DashTable<V> {
    /// An empty table with a random hash seed (chosen once: SCAN cursors stay valid for the
    /// table's life). Allocates nothing until the first insert.
    pub fn new() -> Self {
        Self::with_hasher(ahash::RandomState::new())
    }

    /// An empty table whose hashing is deterministic (tests, reproducible layouts).
    pub fn with_seed(seed: u64) -> Self {
        Self::with_hasher(ahash::RandomState::with_seeds(
            seed,
            seed ^ 0x243F_6A88_85A3_08D3,
            seed ^ 0x1319_8A2E_0370_7344,
            seed ^ 0xA409_3822_299F_31D0,
        ))
    }

    fn with_hasher(hasher: ahash::RandomState) -> Self {
        DashTable {
            dir: Vec::new(),
            segs: Vec::new(),
            depth: 0,
            len: 0,
            clock: 0,
            width_census: [0; WIDTHS.len()],
            hasher,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots allocated (the load factor is `len / capacity`).
    pub fn capacity(&self) -> usize {
        let slots = WIDTHS.iter().zip(&self.width_census).map(|(w, n)| w * n);
        BUCKETS * slots.sum::<usize>()
    }

    /// Bytes of one slot: a 24-byte key and a `V`.
    pub const fn slot_bytes() -> usize {
        std::mem::size_of::<Slot<V>>()
    }

    /// Bytes of the slots allocated but empty: room new keys take without allocating.
    pub fn free_slot_bytes(&self) -> usize {
        (self.capacity() - self.len) * std::mem::size_of::<Slot<V>>()
    }

    /// Bytes held by the table itself: directory, segment metadata and slots (each slot is
    /// a 24-byte key plus a `V`). Not included: keys over 23 bytes and the values' own heap.
    pub fn table_bytes(&self) -> usize {
        self.dir.capacity() * std::mem::size_of::<u32>()
            + self.segs.capacity() * std::mem::size_of::<Box<Segment<V>>>()
            + self.segs.len() * std::mem::size_of::<Segment<V>>()
            + self.capacity() * std::mem::size_of::<Slot<V>>()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The directory cell of a hash (or of a scan position shifted left by the bucket bits).
    fn dir_index(&self, top: u64) -> usize {
        top.checked_shr(64 - self.depth).unwrap_or(0) as usize
    }

    fn seg_index(&self, h: u64) -> usize {
        self.dir[self.dir_index(h)] as usize
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn lookup(&self, key: &[u8]) -> Option<(usize, Pos)> {
        if self.segs.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let si = self.seg_index(h);
        self.segs[si].find(h, key).map(|pos| (si, pos))
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.locate(key).map(|f| self.found(f))
    }

    /// Starts loading what a lookup of `key` touches first: its buckets' metadata and the
    /// segment's column pointers. The first half of a batched lookup: call it for every key
    /// of a batch, then [`prefetch_slot`](Self::prefetch_slot) for each, then look them up,
    /// and the cache misses of the batch overlap instead of coming one after another (they
    /// were most of a pipelined GET's time in the table).
    pub fn prefetch_buckets(&self, key: &[u8]) {
        if self.segs.is_empty() {
            return;
        }
        let h = self.hash(key);
        let seg = &self.segs[self.seg_index(h)];
        let b = home_bucket(h);
        prefetch(&seg.buckets[b]);
        prefetch((&seg.buckets[next_bucket(b)] as *const Bucket).wrapping_add(1));
        prefetch(&seg.regular);
    }

    /// The second half (see [`prefetch_buckets`](Self::prefetch_buckets)): starts loading
    /// the slot where `key` most likely is, found from the (by now loaded) metadata.
    pub fn prefetch_slot(&self, key: &[u8]) {
        if self.segs.is_empty() {
            return;
        }
        let h = self.hash(key);
        let seg = &self.segs[self.seg_index(h)];
        let (b, mask) = seg.candidates(h);
        if mask != 0 {
            prefetch(seg.slot((b, mask.trailing_zeros() as usize)));
        }
    }

    /// Where `key` is, for [`found`](Self::found), [`found_mut`](Self::found_mut) or
    /// [`remove_found`](Self::remove_found): one lookup serves a read and a decision to
    /// remove (an expired key). The handle is valid until the table next changes.
    pub fn locate(&self, key: &[u8]) -> Option<Found> {
        self.lookup(key).map(|(seg, pos)| Found { seg, pos })
    }

    pub fn found(&self, f: Found) -> &V {
        &self.segs[f.seg].entry(f.pos).1
    }

    /// Counts as a change of the entry's segment, as [`get_mut`](Self::get_mut).
    pub fn found_mut(&mut self, f: Found) -> &mut V {
        let version = self.tick();
        let seg = &mut self.segs[f.seg];
        seg.version = version;
        &mut seg.entry_mut(f.pos).1
    }

    /// Removes the entry at `f`, as [`remove`](Self::remove) would.
    pub fn remove_found(&mut self, f: Found) -> V {
        let version = self.tick();
        let seg = &mut self.segs[f.seg];
        seg.version = version;
        self.len -= 1;
        let (_, value) = seg.take(f.pos);
        self.shrink_if_sparse(f.seg);
        value
    }

    /// Counts as a change of the entry's segment (see the module doc on snapshots).
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let f = self.locate(key)?;
        Some(self.found_mut(f))
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        let h = self.hash(key);
        if self.segs.is_empty() {
            let version = self.tick();
            self.segs.push(Segment::new(0, WIDTHS[0], version));
            self.dir.push(0);
            self.count_width(WIDTHS[0], 1);
        }
        let si = self.seg_index(h);
        if let Some(pos) = self.segs[si].find(h, key) {
            let version = self.tick();
            let seg = &mut self.segs[si];
            seg.version = version;
            return Some(std::mem::replace(&mut seg.entry_mut(pos).1, value));
        }
        self.insert_new(h, (Key::new(key), value));
        self.len += 1;
        None
    }

    /// Inserts an absent entry, growing segments until it fits.
    fn insert_new(&mut self, h: u64, entry: (Key, V)) {
        // Entries a split could not place (extreme clustering only): usually stays empty.
        let mut overflow = Vec::new();
        let mut next = Some((h, entry));
        while let Some((h, entry)) = next.take().or_else(|| overflow.pop()) {
            let si = self.seg_index(h);
            match self.segs[si].try_insert(h, entry) {
                Ok(()) => self.segs[si].version = self.tick(),
                Err(back) => {
                    self.grow(si, h, &mut overflow);
                    next = Some((h, back));
                }
            }
        }
    }

    /// Makes room in the full segment `si` (which owns hash `h`): widens its buckets, or
    /// at full width splits it in two by hash bit `63 - d`. The directory doubles (copying
    /// segment indices only) when the segment was as deep as the directory.
    fn grow(&mut self, si: usize, h: u64, overflow: &mut Vec<Moving<V>>) {
        let version = self.tick();
        let seg = &mut self.segs[si];
        seg.version = version;
        if seg.width < SLOTS {
            let narrow = seg.width;
            seg.widen();
            let wide = seg.width;
            self.count_width(narrow, -1);
            self.count_width(wide, 1);
            return;
        }
        let d = seg.depth;
        assert!(
            d < MAX_DEPTH,
            "dash: hash multicollision, cannot split further"
        );
        let (lower, upper) =
            seg.redistribute(&self.hasher, 1 << (63 - d), d + 1, version, overflow);
        let upper = upper.expect("split has an upper half");
        self.count_width(SLOTS, -1);
        self.count_width(lower.width, 1);
        self.count_width(upper.width, 1);
        self.segs[si] = lower;
        let upper_index = u32::try_from(self.segs.len()).expect("dash: too many segments");
        self.segs.push(upper);
        if d == self.depth {
            self.dir = self.dir.iter().flat_map(|&s| [s, s]).collect();
            self.depth += 1;
        }
        let span = 1usize << (self.depth - d);
        let start = self.dir_index(h) & !(span - 1);
        self.dir[start + span / 2..start + span].fill(upper_index);
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let f = self.locate(key)?;
        Some(self.remove_found(f))
    }

    /// Rebuilds segment `si` at a narrower width when removals left it mostly empty, so
    /// memory comes back without waiting for a `clear` (segments never merge, though).
    fn shrink_if_sparse(&mut self, si: usize) {
        let seg = &mut self.segs[si];
        if seg.width == WIDTHS[0] || seg.len * 100 >= BUCKETS * seg.width * SHRINK_LOAD_PERCENT {
            return;
        }
        let mut overflow = Vec::new();
        let (narrow, _) = seg.redistribute(&self.hasher, 0, seg.depth, seg.version, &mut overflow);
        let wide = seg.width;
        self.count_width(wide, -1);
        self.count_width(narrow.width, 1);
        self.segs[si] = narrow;
        // Only under extreme clustering can a subset of the entries fail to fit again.
        for (h, entry) in overflow {
            self.insert_new(h, entry);
        }
    }

    /// Removes everything and frees the segments (the hash seed is kept).
    pub fn clear(&mut self) {
        self.dir = Vec::new();
        self.segs = Vec::new();
        self.depth = 0;
        self.len = 0;
        self.width_census = [0; WIDTHS.len()];
    }

    fn count_width(&mut self, width: usize, delta: isize) {
        let i = WIDTHS
            .iter()
            .position(|&w| w == width)
            .expect("a listed width");
        self.width_census[i] = self.width_census[i].wrapping_add_signed(delta);
    }

    /// The segment a cursor points into and the cursor that follows its bucket group.
    fn cursor_target(&self, cursor: u64) -> (usize, usize, u64) {
        let b = (cursor >> POS_BITS) as usize;
        let si = self.dir[self.dir_index(cursor << BUCKET_BITS)] as usize;
        let below = (1u64 << (POS_BITS - self.segs[si].depth)) - 1;
        let next = (cursor | below).checked_add(1).unwrap_or(0);
        (si, b, next)
    }

    /// Visits the entries of the bucket group at `cursor` and returns the next cursor, 0 when
    /// the walk is complete. An entry present for the whole walk is visited at least once.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.segs.is_empty() {
            return 0;
        }
        let (si, b, next) = self.cursor_target(cursor);
        let seg = &self.segs[si];
        for pos in seg.group(b) {
            let (k, v) = seg.entry(pos);
            f(k.as_bytes(), v);
        }
        next
    }

    /// Like [`scan`](Self::scan), but `f` may change values and returns false to remove the
    /// entry. A step that visits anything counts as a change of its segment.
    pub fn scan_mut(&mut self, cursor: u64, mut f: impl FnMut(&[u8], &mut V) -> bool) -> u64 {
        if self.segs.is_empty() {
            return 0;
        }
        let (si, b, next) = self.cursor_target(cursor);
        let version = self.tick();
        let seg = &mut self.segs[si];
        let (mut visited, mut removed) = (false, false);
        for pos in seg.group(b) {
            visited = true;
            let (k, v) = seg.entry_mut(pos);
            if !f(k.as_bytes(), v) {
                seg.take(pos);
                self.len -= 1;
                removed = true;
            }
        }
        if visited {
            seg.version = version;
        }
        if removed {
            self.shrink_if_sparse(si);
        }
        next
    }

    /// An entry chosen uniformly at random, driven by `seed`: blind draws over all slots of
    /// all segments, each counted at the widest segment's width, and for a very sparse
    /// table (when those keep missing) the entry of a random rank, found by a walk over the
    /// segments.
    pub fn random(&self, seed: u64) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let mut rng = Rng::new(seed);
        let segs = self.segs.len() as u64;
        let widest = WIDTHS[self.width_census.iter().rposition(|&n| n > 0)?];
        for _ in 0..RANDOM_TRIES {
            let seg = &self.segs[rng.below(segs) as usize];
            let slot = rng.below((BUCKETS * widest) as u64) as usize;
            let (b, i) = (slot / widest, slot % widest);
            if i < seg.width {
                if let Some((k, v)) = seg.slot((b, i)) {
                    return Some((k.as_bytes(), v));
                }
            }
        }
        let mut rank = rng.below(self.len as u64) as usize;
        let seg = self.segs.iter().find(|seg| {
            let here = rank < seg.len;
            if !here {
                rank -= seg.len;
            }
            here
        })?;
        let (k, v) = seg.entries().nth(rank)?;
        Some((k.as_bytes(), v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.segs
            .iter()
            .flat_map(|seg| seg.entries().map(|(k, v)| (k.as_bytes(), v)))
    }

    /// The table-wide clock: the version the next mutation will exceed. A snapshot's epoch.
    pub fn version(&self) -> u64 {
        self.clock
    }

    /// Segments are numbered `0..segment_count()`; splits append, so numbers are stable
    /// until [`clear`](Self::clear).
    pub fn segment_count(&self) -> usize {
        self.segs.len()
    }

    /// The clock value of the last mutation of segment `seg`.
    pub fn segment_version(&self, seg: usize) -> u64 {
        self.segs[seg].version
    }

    /// Entries in segment `seg`.
    pub fn segment_len(&self, seg: usize) -> usize {
        self.segs[seg].len
    }

    /// The segment that holds `key`, or would hold it if inserted now (None while the table
    /// has no segment). An insert may split that segment, but only moves its entries.
    pub fn segment_of(&self, key: &[u8]) -> Option<usize> {
        (!self.segs.is_empty()).then(|| self.seg_index(self.hash(key)))
    }

    /// Stamps segment `seg` with a new version, as a write would: a snapshotter calls it
    /// after serializing a segment ahead of a write that may turn out to change nothing.
    pub fn touch_segment(&mut self, seg: usize) {
        self.segs[seg].version = self.tick();
    }

    /// Visits every entry of segment `seg`.
    pub fn scan_segment(&self, seg: usize, mut f: impl FnMut(&[u8], &V)) {
        for (k, v) in self.segs[seg].entries() {
            f(k.as_bytes(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::collections::{HashMap, HashSet};
    use std::rc::Rc;

    fn key(i: u64) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    /// Checks the invariants that tie metadata, slots and counters together.
    fn check_invariants<V>(t: &DashTable<V>) {
        let mut total = 0;
        for (si, seg) in t.segs.iter().enumerate() {
            let mut stashed = [0u8; REGULAR];
            let mut count = 0;
            assert!(WIDTHS.contains(&seg.width));
            for (i, (r, s)) in seg.regular.iter().zip(&seg.stash).enumerate() {
                assert_eq!(
                    r.is_some(),
                    i < seg.width,
                    "column {i} of width {}",
                    seg.width
                );
                assert_eq!(
                    s.is_some(),
                    i < seg.width,
                    "column {i} of width {}",
                    seg.width
                );
            }
            for pos @ (bucket, i) in (0..BUCKETS).flat_map(|b| (0..SLOTS).map(move |i| (b, i))) {
                let used = seg.buckets[bucket].used & (1 << i) != 0;
                if i >= seg.width {
                    assert!(!used, "slot beyond the width");
                    continue;
                }
                let present = seg.slot(pos).is_some();
                assert_eq!(used, present, "slot {pos:?} occupancy");
                if !used {
                    continue;
                }
                count += 1;
                let h = t.hash(seg.entry(pos).0.as_bytes());
                assert_eq!(seg.home_of(pos), home_bucket(h));
                assert_eq!(seg.fingerprint_at(pos), fingerprint(h));
                assert_eq!(t.seg_index(h), si, "entry in the wrong segment");
                if bucket >= REGULAR {
                    stashed[home_bucket(h)] += 1;
                }
            }
            let counted: Vec<u8> = seg.buckets[..REGULAR].iter().map(|b| b.stashed).collect();
            assert_eq!(&stashed[..], &counted[..]);
            assert_eq!(count, seg.len);
            total += count;
            let cells = t.dir.iter().filter(|&&s| s as usize == si).count();
            assert_eq!(cells, 1 << (t.depth - seg.depth), "directory share");
        }
        assert_eq!(total, t.len());
        for (i, &w) in WIDTHS.iter().enumerate() {
            let n = t.segs.iter().filter(|seg| seg.width == w).count();
            assert_eq!(t.width_census[i], n, "segments {w} wide");
        }
        assert_eq!(
            t.dir.len(),
            (1 << t.depth) * usize::from(!t.segs.is_empty())
        );
    }

    #[test]
    fn byte_mask_is_exact() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            let mut bytes = [0u8; SLOTS];
            bytes
                .iter_mut()
                .for_each(|b| *b = rng.below(4) as u8 * 0x55);
            let x = rng.below(4) as u8 * 0x55;
            let want = (0..SLOTS).fold(0u16, |m, i| m | u16::from(bytes[i] == x) << i);
            assert_eq!(byte_mask(&bytes, x), want);
        }
        assert_eq!(byte_mask(&[0x80; SLOTS], 0x80), u16::MAX);
        assert_eq!(byte_mask(&[0x01; SLOTS], 0x81), 0);
    }

    #[test]
    fn key_layout_and_boundaries() {
        let mut t = DashTable::with_seed(1);
        let lens = [0, 1, 22, 23, 24, 25, 100, 1 << 20];
        for &n in &lens {
            let k: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(t.insert(&k, n), None);
            assert_eq!(Key::new(&k).as_bytes(), &k[..]);
        }
        for &n in &lens {
            let k: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(t.get(&k), Some(&n));
            assert_eq!(t.insert(&k, n + 1), Some(n));
        }
        assert_eq!(t.get(b"x"), None);
        assert_eq!(t.remove(b""), Some(1));
        assert_eq!(t.get(b""), None);
        assert_eq!(t.len(), lens.len() - 1);
        check_invariants(&t);
    }

    #[test]
    fn matches_hashmap_model_under_random_ops() {
        for seed in 0..3 {
            let mut t = DashTable::with_seed(seed);
            let mut model: HashMap<Vec<u8>, u64> = HashMap::new();
            let mut rng = Rng::new(seed + 100);
            let mut max_segments = 0;
            for op in 0..300_000u64 {
                // The key space grows over time so the table splits many times, while
                // replacements and removals keep hitting present keys.
                let space = 2000 + op / 2;
                let k = key(rng.below(space));
                match rng.below(100) {
                    0..=54 => assert_eq!(t.insert(&k, op), model.insert(k, op)),
                    55..=74 => assert_eq!(t.remove(&k), model.remove(&k)),
                    75..=89 => assert_eq!(t.get(&k), model.get(&k)),
                    90..=94 => {
                        if let Some(v) = t.get_mut(&k) {
                            *v += 1;
                        }
                        if let Some(v) = model.get_mut(&k) {
                            *v += 1;
                        }
                    }
                    95..=97 => {
                        // Prefetching is only a hint; the one-lookup path agrees with the
                        // plain one.
                        t.prefetch_buckets(&k);
                        t.prefetch_slot(&k);
                        match t.locate(&k) {
                            Some(f) => {
                                assert_eq!(Some(t.found(f)), model.get(&k));
                                *t.found_mut(f) += 1;
                                *model.get_mut(&k).unwrap() += 1;
                            }
                            None => assert!(!model.contains_key(&k)),
                        }
                    }
                    _ => match t.locate(&k) {
                        Some(f) => assert_eq!(Some(t.remove_found(f)), model.remove(&k)),
                        None => assert!(!model.contains_key(&k)),
                    },
                }
                if op == 50_000 {
                    t.clear();
                    model.clear();
                }
                assert_eq!(t.len(), model.len());
                max_segments = max_segments.max(t.segment_count());
                if op % 25_000 == 0 {
                    check_invariants(&t);
                }
            }
            check_invariants(&t);
            assert!(
                max_segments > 50,
                "only {max_segments} segments, len {} cap {}",
                t.len(),
                t.capacity()
            );
            let contents: HashMap<Vec<u8>, u64> = t.iter().map(|(k, v)| (k.to_vec(), *v)).collect();
            assert_eq!(contents, model);
            assert_eq!(t.iter().count(), t.len());
        }
    }

    #[test]
    fn grows_and_splits_keep_every_key() {
        let mut t = DashTable::with_seed(7);
        for i in 0..200_000 {
            t.insert(&key(i), i);
        }
        check_invariants(&t);
        assert!(t.segment_count() > 200);
        assert!(t.len() as f64 / t.capacity() as f64 > 0.5);
        for i in 0..200_000 {
            assert_eq!(t.get(&key(i)), Some(&i));
        }
        for i in (0..200_000).step_by(2) {
            assert_eq!(t.remove(&key(i)), Some(i));
        }
        check_invariants(&t);
        assert_eq!(t.len(), 100_000);
        assert_eq!(t.iter().count(), 100_000);
    }

    #[test]
    fn removals_give_memory_back() {
        let mut t = DashTable::with_seed(15);
        for i in 0..100_000 {
            t.insert(&key(i), i);
        }
        let (full_capacity, segments) = (t.capacity(), t.segment_count());
        for i in 0..100_000 {
            if i % 100 != 0 {
                assert_eq!(t.remove(&key(i)), Some(i));
            }
        }
        check_invariants(&t);
        assert_eq!(t.segment_count(), segments);
        assert!(
            t.capacity() * 10 < full_capacity,
            "{} of {full_capacity}",
            t.capacity()
        );
        for i in (0..100_000).step_by(100) {
            assert_eq!(t.get(&key(i)), Some(&i));
        }
        // Expiry-style removal through scan_mut narrows segments as well.
        let mut cursor = 0;
        loop {
            cursor = t.scan_mut(cursor, |_, v| *v % 1000 == 0);
            if cursor == 0 {
                break;
            }
        }
        check_invariants(&t);
        assert_eq!(t.len(), 100);
        assert_eq!(t.capacity(), segments * BUCKETS * WIDTHS[0]);
        let mut found = HashSet::new();
        for s in 0..5000 {
            found.insert(t.random(s).unwrap().0.to_vec());
        }
        assert_eq!(found.len(), 100);
    }

    /// Keys sharing their home bucket and top 4 hash bits: splits on those bits leave one
    /// half with everything, and more than a segment's bucket group can hold must still fit.
    #[test]
    fn clustered_hashes_force_repeated_splits() {
        let mut t = DashTable::with_seed(13);
        let clustered: Vec<Vec<u8>> = (0..)
            .map(key)
            .filter(|k| {
                let h = t.hash(k);
                home_bucket(h) == 5 && h >> 60 == 0
            })
            .take(300)
            .collect();
        for (i, k) in clustered.iter().enumerate() {
            assert_eq!(t.insert(k, i), None);
        }
        check_invariants(&t);
        assert!(t.depth >= 5, "depth {}", t.depth);
        for (i, k) in clustered.iter().enumerate() {
            assert_eq!(t.get(k), Some(&i));
        }
        let seen = walk(&mut t, |_, _| {});
        assert_eq!(seen.len(), clustered.len());
    }

    #[test]
    fn full_segment_widens_then_overflows() {
        let t: DashTable<u64> = DashTable::with_seed(14);
        let mut seg: Box<Segment<u64>> = Segment::new(0, WIDTHS[0], 0);
        let mut overflow = Vec::new();
        let same_home = (0..)
            .map(key)
            .filter(|k| home_bucket(t.hash(k)) == REGULAR - 1);
        for (i, k) in same_home.take(200).enumerate() {
            seg.insert_widening(t.hash(&k), (Key::new(&k), i as u64), &mut overflow);
        }
        // The last home bucket, its neighbour 0 and the stash hold 96; bumps free no more.
        assert_eq!(seg.width, SLOTS);
        assert_eq!(seg.len, 2 * SLOTS + STASH * SLOTS);
        assert_eq!(overflow.len(), 200 - seg.len);
    }

    /// Runs a full walk, calling `between` after every step, and returns every key seen.
    fn walk<V>(
        t: &mut DashTable<V>,
        mut between: impl FnMut(&mut DashTable<V>, usize),
    ) -> HashSet<Vec<u8>> {
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            let mut group = 0;
            cursor = t.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
                group += 1;
            });
            assert!(group <= 2 * SLOTS + STASH * SLOTS, "group of {group}");
            steps += 1;
            assert!(steps < 50_000_000, "walk does not end");
            if cursor == 0 {
                return seen;
            }
            between(t, steps);
        }
    }

    #[test]
    fn scan_visits_everything_exactly_once_when_unchanged() {
        let mut t = DashTable::with_seed(3);
        assert_eq!(t.scan(0, |_, _| panic!("empty")), 0);
        for i in 0..50_000 {
            t.insert(&key(i), i);
        }
        let mut count = 0;
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, |_, _| count += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(count, 50_000);
    }

    #[test]
    fn scan_survives_splits_and_directory_doubling() {
        for seed in 0..4 {
            let mut t = DashTable::with_seed(seed);
            // Start small (depth 0), so the walk crosses many doublings.
            let stable = 100 + seed * 300;
            for i in 0..stable {
                t.insert(&key(i), i);
            }
            // Grows ~1000x during the walk (then stops: unbounded growth would outrun it).
            let mut next = 1_000_000;
            let mut rng = Rng::new(seed);
            let seen = walk(&mut t, |t, _| {
                for _ in 0..400 * usize::from(t.len() < 250_000) {
                    t.insert(&key(next), next);
                    next += 1;
                }
                // Remove some of the transient keys too.
                let victim = 1_000_000 + rng.below(next - 1_000_000);
                t.remove(&key(victim));
            });
            assert!(t.segment_count() > 100, "walk saw too few splits");
            for i in 0..stable {
                assert!(seen.contains(&key(i)), "seed {seed}: key {i} missed");
            }
            check_invariants(&t);
        }
    }

    #[test]
    fn scan_survives_removals_and_reinserts() {
        let mut t = DashTable::with_seed(11);
        for i in 0..20_000 {
            t.insert(&key(i), i);
        }
        let mut rng = Rng::new(5);
        let seen = walk(&mut t, |t, _| {
            // Churn among keys 10_000.. only; 0..10_000 stay present all along.
            let k = key(10_000 + rng.below(10_000));
            if t.remove(&k).is_none() {
                t.insert(&k, 0);
            }
            t.insert(&key(100_000 + rng.below(1 << 20)), 1);
        });
        for i in 0..10_000 {
            assert!(seen.contains(&key(i)), "key {i} missed");
        }
    }

    #[test]
    fn scan_survives_narrowing() {
        let mut t = DashTable::with_seed(16);
        for i in 0..100_000 {
            t.insert(&key(i), i);
        }
        let full_capacity = t.capacity();
        let mut doomed = (0..100_000).filter(|i| i % 50 != 0);
        let seen = walk(&mut t, |t, _| {
            for i in doomed.by_ref().take(300) {
                t.remove(&key(i));
            }
        });
        assert!(t.capacity() * 4 < full_capacity, "segments did not narrow");
        for i in (0..100_000).step_by(50) {
            assert!(seen.contains(&key(i)), "key {i} missed");
        }
    }

    #[test]
    fn scan_mut_updates_and_removes() {
        let mut t = DashTable::with_seed(2);
        for i in 0..30_000u64 {
            t.insert(&key(i), i);
        }
        let mut cursor = 0;
        let mut extra = 1_000_000;
        loop {
            cursor = t.scan_mut(cursor, |_, v| {
                *v += 1;
                *v % 3 != 0
            });
            if cursor == 0 {
                break;
            }
            // Inserts between steps split segments under the cursor.
            t.insert(&key(extra), 1);
            extra += 1;
        }
        check_invariants(&t);
        for i in 0..30_000u64 {
            // Every original key was visited (at least) once.
            match t.get(&key(i)) {
                Some(&v) => assert!(v > i && v % 3 != 0),
                None => assert!((i + 1) % 3 == 0 || (i + 2) % 3 == 0),
            }
        }
    }

    #[test]
    fn any_cursor_is_safe() {
        let mut t = DashTable::with_seed(9);
        for i in 0..5000 {
            t.insert(&key(i), i);
        }
        let mut rng = Rng::new(1);
        for c in [u64::MAX, 1, 1 << 63, 12345]
            .into_iter()
            .chain((0..1000).map(|_| rng.next_u64()))
        {
            let next = t.scan(c, |_, _| {});
            assert!(next == 0 || next > c);
        }
        // A cursor from a big table still works after clear (repeats allowed, no panic).
        let c = t.scan(rng.next_u64(), |_, _| {});
        t.clear();
        t.insert(b"a", 1);
        t.scan(c, |_, _| {});
    }

    #[test]
    fn random_reaches_every_key_and_is_roughly_uniform() {
        let mut t: DashTable<u64> = DashTable::new();
        assert!(t.random(1).is_none());
        t.insert(b"only", 1);
        assert_eq!(t.random(2), Some((&b"only"[..], &1)));
        let mut t = DashTable::with_seed(4);
        let n = 2000;
        for i in 0..n {
            t.insert(&key(i), i);
        }
        let mut counts = vec![0u32; n as usize];
        let mut rng = Rng::new(8);
        let draws = 400_000;
        for _ in 0..draws {
            let (k, &v) = t.random(rng.next_u64()).unwrap();
            assert_eq!(k, key(v));
            counts[v as usize] += 1;
        }
        let mean = draws / n as u32;
        assert!(
            counts.iter().all(|&c| c > mean / 2 && c < mean * 2),
            "skewed draws"
        );

        // A very sparse table (blind draws mostly miss): still uniform.
        for i in 0..200_000 {
            t.insert(&key(i), i);
        }
        for i in 20..200_000 {
            t.remove(&key(i));
        }
        let mut counts = [0u32; 20];
        for _ in 0..20_000 {
            counts[*t.random(rng.next_u64()).unwrap().1 as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 500 && c < 2000), "{counts:?}");
        t.clear();
        assert!(t.random(3).is_none());
    }

    struct Counted(Rc<Cell<usize>>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn values_are_dropped_exactly_once() {
        let drops = Rc::new(Cell::new(0));
        let v = || Counted(drops.clone());
        let mut t = DashTable::with_seed(6);
        let mut created = 0;
        for i in 0..40_000 {
            t.insert(&key(i), v());
            created += 1;
        }
        assert_eq!(drops.get(), 0, "splits must move, not drop");
        for i in 0..1000 {
            drop(t.insert(&key(i), v()));
            created += 1;
        }
        assert_eq!(drops.get(), 1000);
        for i in 1000..2000 {
            drop(t.remove(&key(i)));
        }
        assert_eq!(drops.get(), 2000);
        let mut cursor = 0;
        for _ in 0..50 {
            cursor = t.scan_mut(cursor, |_, _| false);
        }
        let live = t.len();
        t.insert(&vec![b'L'; 1 << 20], v());
        created += 1;
        assert_eq!(drops.get(), created - live - 1);
        t.clear();
        assert_eq!(drops.get(), created);
        for i in 0..5000 {
            t.insert(&key(i), v());
            created += 1;
        }
        drop(t);
        assert_eq!(drops.get(), created);
    }

    #[test]
    fn versions_track_mutations() {
        let mut t = DashTable::with_seed(10);
        assert_eq!(t.segment_count(), 0);
        assert_eq!(t.segment_of(b"a"), None);
        t.insert(b"a", 1);
        let seg = t.segment_of(b"a").unwrap();
        let v0 = t.segment_version(seg);
        t.get(b"a");
        t.scan(0, |_, _| {});
        t.iter().count();
        t.random(1);
        assert_eq!(t.segment_version(seg), v0, "reads are not changes");
        let mut last = v0;
        let mut bumped = |t: &DashTable<i32>, what: &str| {
            let v = t.segment_version(seg);
            assert!(v > last, "{what} did not bump");
            assert!(v <= t.version());
            last = v;
        };
        t.insert(b"a", 2);
        bumped(&t, "replace");
        t.get_mut(b"a");
        bumped(&t, "get_mut");
        t.insert(b"b", 2);
        bumped(&t, "insert");
        t.remove(b"b");
        bumped(&t, "remove");
        let mut cursor = 0;
        loop {
            cursor = t.scan_mut(cursor, |_, _| true);
            if cursor == 0 {
                break;
            }
        }
        bumped(&t, "scan_mut");
        // A split stamps both halves.
        let before = t.version();
        let mut i = 0;
        while t.segment_count() == 1 {
            t.insert(&key(i), 0);
            i += 1;
        }
        assert!(t.segment_version(0) > before && t.segment_version(1) > before);
        let total: usize = (0..t.segment_count()).map(|s| t.segment_len(s)).sum();
        assert_eq!(total, t.len());
    }

    /// The snapshot protocol of the module doc: serialize untouched segments lazily, and a
    /// segment about to be written first. The result must equal the table at the epoch.
    #[test]
    fn segment_walk_supports_forkless_snapshots() {
        let mut t = DashTable::with_seed(12);
        for i in 0..60_000 {
            t.insert(&key(i), i);
        }
        let expected: HashMap<Vec<u8>, u64> = t.iter().map(|(k, v)| (k.to_vec(), *v)).collect();
        let epoch = t.version();
        let segments_at_epoch = t.segment_count();
        let mut snap: HashMap<Vec<u8>, u64> = HashMap::new();
        // Serializes a segment untouched since the epoch, then stamps it so it is not
        // serialized again.
        let serialize = |t: &mut DashTable<u64>, seg: usize, snap: &mut HashMap<Vec<u8>, u64>| {
            if t.segment_version(seg) <= epoch {
                t.scan_segment(seg, |k, v| {
                    assert!(snap.insert(k.to_vec(), *v).is_none(), "serialized twice");
                });
                t.touch_segment(seg);
            }
        };
        let mut rng = Rng::new(3);
        let mut next_seg = 0;
        let mut extra = 1_000_000;
        while next_seg < t.segment_count() {
            serialize(&mut t, next_seg, &mut snap);
            next_seg += 1;
            // Writes between snapshot steps: each runs the pre-write hook first.
            for _ in 0..1000 {
                let k = match rng.below(3) {
                    0 => key(rng.below(60_000)),
                    _ => {
                        extra += 1;
                        key(extra)
                    }
                };
                if let Some(seg) = t.segment_of(&k) {
                    serialize(&mut t, seg, &mut snap);
                }
                match rng.below(3) {
                    0 => drop(t.remove(&k)),
                    1 => drop(t.get_mut(&k).map(|v| *v += 1)),
                    _ => drop(t.insert(&k, 0)),
                }
            }
        }
        let grown = t.segment_count();
        assert!(
            grown > segments_at_epoch + 10,
            "{segments_at_epoch} -> {grown} segments"
        );
        assert_eq!(snap, expected);
    }
}
