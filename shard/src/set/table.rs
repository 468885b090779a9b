//! The `hashtable` encoding of a large set: an open-addressing (linear probing) table of 8-byte
//! slots over one byte arena holding the members.
//!
//! # Layout
//!
//! Each member is stored once in `arena` as `varint length + bytes`; no allocation per member.
//! A slot is a `u64`: the low 40 bits are the member's arena offset plus one (0 = empty slot),
//! the high 24 bits the top 24 bits of its 64-bit hash (a tag compared before any member is
//! touched, and the source of its home slot while the table has at most 2^24 slots). The
//! home slot of a hash `h` is its top `bits` bits, so a member's home only depends on its hash
//! and the table size. The table grows at 3/4 load and shrinks below 1/8; removals use
//! backward-shift deletion (no tombstones) and leave their arena bytes as garbage, reclaimed
//! by rewriting the arena when garbage outweighs live bytes.
//!
//! For one million 10-byte members that is 16 MB of slots plus 11 MB of arena, against about
//! 48 MB for Redis' dict (24-byte entry + sds allocation + 8-byte bucket per member).
//!
//! # SSCAN cursor
//!
//! A cursor is a position in hash space: the first hash value not yet visited. One step visits
//! every member whose home slot is the slot containing the cursor (they all sit in the probe
//! run that starts at that slot) and returns the first hash of the next slot, 0 after the
//! last. Because home slots are hash prefixes, a slot of a grown table covers a sub-range of
//! an old slot's range and a slot of a shrunk table a super-range: a member present during a
//! whole iteration is returned at least once whatever resizes happen in between (a shrink may
//! return some members twice), the guarantee Redis gives.

use super::listpack::{entry_at, put_entry, varint_len};
use crate::rng::Rng;

const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
const TAG_BITS: u32 = 64 - OFFSET_BITS;
const MIN_BITS: u32 = 2;
/// Arena bytes below which garbage is never collected (not worth a rewrite).
const MIN_COMPACT: usize = 4096;

/// A set of byte strings: linear-probing slots over one arena (see the module docs).
#[derive(Clone)]
pub struct Table {
    slots: Vec<u64>,
    arena: Vec<u8>,
    len: usize,
    /// Arena bytes of removed members.
    garbage: usize,
    /// log2 of the slot count.
    bits: u32,
    hasher: ahash::RandomState,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

fn tag_of(h: u64) -> u64 {
    h >> OFFSET_BITS
}

/// The smallest table size (as log2) that holds `n` members under 3/4 load.
fn bits_for(n: usize) -> u32 {
    let need = n.saturating_mul(4) / 3 + 1;
    need.next_power_of_two().trailing_zeros().max(MIN_BITS)
}

impl Table {
    /// An empty table presized for `cap` members.
    pub fn with_capacity(cap: usize) -> Table {
        let bits = bits_for(cap);
        Table {
            slots: vec![0; 1 << bits],
            arena: Vec::new(),
            len: 0,
            garbage: 0,
            bits,
            hasher: ahash::RandomState::new(),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mask(&self) -> usize {
        (1 << self.bits) - 1
    }

    fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn member(&self, slot: u64) -> &[u8] {
        entry_at(&self.arena, ((slot & OFFSET_MASK) - 1) as usize).0
    }

    /// The home slot of a stored slot value in a table of `bits` bits.
    fn home_in(&self, slot: u64, bits: u32) -> usize {
        if bits <= TAG_BITS {
            ((slot >> OFFSET_BITS) >> (TAG_BITS - bits)) as usize
        } else {
            (self.hash(self.member(slot)) >> (64 - bits)) as usize
        }
    }

    /// The slot index holding `member`, if present.
    fn find(&self, member: &[u8], h: u64) -> Option<usize> {
        let tag = tag_of(h);
        let mask = self.mask();
        let mut i = (h >> (64 - self.bits)) as usize;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s >> OFFSET_BITS == tag && self.member(s) == member {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether `member` is a member.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member, self.hash(member)).is_some()
    }

    /// Places a slot value in the first free slot from `home`.
    fn place(slots: &mut [u64], mask: usize, home: usize, slot: u64) {
        let mut i = home;
        while slots[i] != 0 {
            i = (i + 1) & mask;
        }
        slots[i] = slot;
    }

    /// Adds `member`; true if it was new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        let h = self.hash(member);
        if self.find(member, h).is_some() {
            return false;
        }
        if (self.len + 1) * 4 > (3usize << self.bits) {
            self.resize(bits_for(self.len + 1).max(self.bits + 1));
        }
        let offset = self.arena.len() as u64;
        assert!(offset < OFFSET_MASK, "set arena beyond 1 TB");
        put_entry(&mut self.arena, member);
        let slot = (tag_of(h) << OFFSET_BITS) | (offset + 1);
        let mask = self.mask();
        Self::place(
            &mut self.slots,
            mask,
            (h >> (64 - self.bits)) as usize,
            slot,
        );
        self.len += 1;
        true
    }

    /// Removes `member`; true if it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member, self.hash(member)) {
            Some(i) => {
                self.remove_slot(i);
                true
            }
            None => false,
        }
    }

    /// Empties slot `i` (occupied), shifting the following probe run back over it.
    fn remove_slot(&mut self, mut i: usize) {
        let removed = self.member(self.slots[i]).len();
        self.garbage += varint_len(removed) + removed;
        self.slots[i] = 0;
        let mask = self.mask();
        let mut j = (i + 1) & mask;
        while self.slots[j] != 0 {
            let home = self.home_in(self.slots[j], self.bits);
            // The member at j may fill the hole at i unless its home lies in (i, j].
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(i) & mask) {
                self.slots[i] = self.slots[j];
                self.slots[j] = 0;
                i = j;
            }
            j = (j + 1) & mask;
        }
        self.len -= 1;
        if self.bits > MIN_BITS && self.len * 8 < (1 << self.bits) {
            self.resize(bits_for(self.len));
        }
        if self.garbage > MIN_COMPACT && self.garbage > self.arena.len() / 2 {
            self.compact();
        }
    }

    /// Rebuilds the slot array with `2^bits` slots.
    fn resize(&mut self, bits: u32) {
        let mut slots = vec![0u64; 1 << bits];
        let mask = (1usize << bits) - 1;
        for &s in self.slots.iter().filter(|&&s| s != 0) {
            Self::place(&mut slots, mask, self.home_in(s, bits), s);
        }
        self.slots = slots;
        self.bits = bits;
    }

    /// Rewrites the arena without the removed members' bytes.
    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.arena.len() - self.garbage);
        for i in 0..self.slots.len() {
            let s = self.slots[i];
            if s != 0 {
                let offset = arena.len() as u64;
                put_entry(&mut arena, self.member(s));
                self.slots[i] = (s & !OFFSET_MASK) | (offset + 1);
            }
        }
        self.arena = arena;
        self.garbage = 0;
    }

    /// The members in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.slots
            .iter()
            .filter(|&&s| s != 0)
            .map(move |&s| self.member(s))
    }

    /// A uniformly random occupied slot (the table is not empty).
    fn random_slot(&self, rng: &mut Rng) -> usize {
        // The table is at least 1/8 full, so rejection sampling ends fast and is unbiased.
        loop {
            let i = rng.below(self.slots.len() as u64) as usize;
            if self.slots[i] != 0 {
                return i;
            }
        }
    }

    /// A uniformly random member (the table is not empty).
    pub fn random(&self, rng: &mut Rng) -> &[u8] {
        self.member(self.slots[self.random_slot(rng)])
    }

    /// Removes and returns a uniformly random member (the table is not empty).
    pub fn pop_random(&mut self, rng: &mut Rng) -> Vec<u8> {
        let i = self.random_slot(rng);
        let m = self.member(self.slots[i]).to_vec();
        self.remove_slot(i);
        m
    }

    /// One SSCAN step from `cursor` (see the module documentation): calls `f` for every
    /// member whose home slot contains the cursor and returns the next cursor (0 at the end).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        let shift = 64 - self.bits;
        let home = (cursor >> shift) as usize;
        let mask = self.mask();
        let mut i = home;
        while self.slots[i] != 0 {
            let s = self.slots[i];
            if self.home_in(s, self.bits) == home {
                f(self.member(s));
            }
            i = (i + 1) & mask;
            if i == home {
                break;
            }
        }
        if home == mask {
            0
        } else {
            ((home + 1) as u64) << shift
        }
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        self.slots.capacity() * 8 + self.arena.capacity() + std::mem::size_of::<Table>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn members(t: &Table) -> BTreeSet<Vec<u8>> {
        t.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn matches_a_model_through_growth_shrinking_and_compaction() {
        let mut t = Table::with_capacity(0);
        let mut model = BTreeSet::new();
        let mut rng = Rng::new(7);
        for step in 0..60_000u64 {
            let m = format!("m{}", rng.below(5000)).into_bytes();
            // Mostly inserts first, then mostly removals, so the table grows and shrinks.
            let insert = rng.below(100) < if step < 30_000 { 70 } else { 20 };
            if insert {
                assert_eq!(t.insert(&m), model.insert(m.clone()));
            } else {
                assert_eq!(t.remove(&m), model.remove(&m));
            }
            assert_eq!(t.len(), model.len());
        }
        assert_eq!(members(&t), model);
        for m in &model {
            assert!(t.contains(m));
        }
        assert!(!t.contains(b"absent"));
        while !t.is_empty() {
            let m = t.pop_random(&mut rng);
            assert!(model.remove(&m));
        }
        assert!(model.is_empty());
    }

    #[test]
    fn a_scan_returns_every_member_present_throughout_despite_resizes() {
        let mut t = Table::with_capacity(0);
        for i in 0..1000 {
            t.insert(format!("stay{i}").as_bytes());
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = t.scan_step(cursor, |m| {
                seen.insert(m.to_vec());
            });
            // Grow, then shrink, while the scan is under way.
            if step < 40 {
                for k in 0..200 {
                    t.insert(format!("tmp{step}-{k}").as_bytes());
                }
            } else if step == 40 {
                for s in 0..40 {
                    for k in 0..200 {
                        t.remove(format!("tmp{s}-{k}").as_bytes());
                    }
                }
            }
            step += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("stay{i}").as_bytes()), "stay{i}");
        }
    }

    #[test]
    fn big_tables_hash_members_for_their_home() {
        // 2^25 slots exceeds what the 24-bit tag can place: homes come from rehashing.
        let mut t = Table::with_capacity(0);
        t.resize(25);
        for i in 0..100 {
            t.insert(format!("{i}").as_bytes());
        }
        for i in 0..50 {
            assert!(t.remove(format!("{i}").as_bytes()));
        }
        for i in 50..100 {
            assert!(t.contains(format!("{i}").as_bytes()));
        }
    }
}
