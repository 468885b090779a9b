//! The `hashtable` encoding of a large hash: a chained hash table laid out for memory.
//!
//! * `entries`: one allocation per pair, `[LEB128 field length][field][value]` (the value's
//!   length is what remains), in a dense vector;
//! * `next`: the chain link of each entry (an index into `entries`);
//! * `buckets`: the head of each chain, a power-of-two number of them.
//!
//! Per pair that is the allocation itself, 16 bytes of (fat) pointer, 4 bytes of link and
//! 4-8 bytes of bucket head: Redis' dict spends a 24-byte entry, two sds allocations and 8-16
//! bytes of bucket per pair. Removal swaps the last entry into the hole, so the entries stay
//! dense, which also makes a uniformly random pair (HRANDFIELD) one index away.
//!
//! The bucket array follows Redis' dict sizing (grow to the next power of two when the
//! entries reach the bucket count, shrink when under 10% full), and elements live in bucket
//! `hash & mask` exactly like in Redis' chained dict, so HSCAN can use Redis' reverse-binary
//! cursor, which returns every element present for a whole scan even when the table grows
//! or shrinks between calls. The table rehashes at once instead of incrementally; with the
//! hash seed fixed for the table's lifetime, element positions depend on nothing else.
//!
//! Indexes are `u32`, so a hash holds fewer than 2^32 - 1 fields (Redis' own limit for
//! hash length in several places is the same order).

use super::pack::{get_varint, put_varint, varint_len};

const NIL: u32 = u32::MAX;
/// Redis' `DICT_HT_INITIAL_SIZE`.
const MIN_BUCKETS: usize = 4;
/// Redis' `HASHTABLE_MIN_FILL`: shrink when fewer than 1 in 10 buckets would be used.
const MIN_FILL_PERCENT: usize = 10;

#[derive(Clone)]
pub(super) struct Table {
    entries: Vec<Box<[u8]>>,
    next: Vec<u32>,
    buckets: Box<[u32]>,
    hasher: ahash::RandomState,
    /// Sum of the entries' lengths (for MEMORY USAGE without a walk).
    bytes: usize,
}

/// Splits an entry into field and value.
fn split(e: &[u8]) -> (&[u8], &[u8]) {
    let mut pos = 0;
    let flen = get_varint(e, &mut pos);
    (&e[pos..pos + flen], &e[pos + flen..])
}

fn field_of(e: &[u8]) -> &[u8] {
    split(e).0
}

fn make_entry(field: &[u8], value: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    put_varint(&mut v, field.len());
    v.extend_from_slice(field);
    v.extend_from_slice(value);
    v.into_boxed_slice()
}

impl Table {
    /// An empty table sized for `capacity` pairs.
    pub fn with_capacity(capacity: usize) -> Table {
        Table {
            entries: Vec::with_capacity(capacity),
            next: Vec::with_capacity(capacity),
            buckets: vec![NIL; bucket_count(capacity)].into_boxed_slice(),
            hasher: ahash::RandomState::new(),
            bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        self.bytes
            + self.entries.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.next.capacity() * 4
            + self.buckets.len() * 4
    }

    fn bucket_of(&self, field: &[u8]) -> usize {
        self.hasher.hash_one(field) as usize & (self.buckets.len() - 1)
    }

    /// The index of `field`'s entry.
    fn find(&self, field: &[u8]) -> Option<usize> {
        let mut i = self.buckets[self.bucket_of(field)];
        while i != NIL {
            if field_of(&self.entries[i as usize]) == field {
                return Some(i as usize);
            }
            i = self.next[i as usize];
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|i| split(&self.entries[i]).1)
    }

    /// The pair at dense index `i` (< len): every pair has one, which makes random picks
    /// uniform and O(1).
    pub fn at(&self, i: usize) -> (&[u8], &[u8]) {
        split(&self.entries[i])
    }

    pub fn iter(&self) -> TableIter<'_> {
        TableIter(self.entries.iter())
    }

    /// Sets `field` to `value`; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(i) => {
                let e = &mut self.entries[i];
                let header = e.len() - split(e).1.len();
                self.bytes -= e.len();
                let mut v = std::mem::take(e).into_vec();
                v.truncate(header);
                v.reserve_exact(value.len());
                v.extend_from_slice(value);
                *e = v.into_boxed_slice();
                self.bytes += e.len();
                false
            }
            None => {
                self.insert_new(field, value);
                true
            }
        }
    }

    /// Adds a pair whose field is known to be absent.
    pub fn insert_new(&mut self, field: &[u8], value: &[u8]) {
        if self.entries.len() >= self.buckets.len() {
            self.rehash(bucket_count(self.entries.len() + 1));
        }
        let b = self.bucket_of(field);
        let idx = self.entries.len() as u32;
        let e = make_entry(field, value);
        self.bytes += e.len();
        self.entries.push(e);
        self.next.push(self.buckets[b]);
        self.buckets[b] = idx;
    }

    /// Removes `field`; true when it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let b = self.bucket_of(field);
        let mut prev = NIL;
        let mut i = self.buckets[b];
        while i != NIL && field_of(&self.entries[i as usize]) != field {
            prev = i;
            i = self.next[i as usize];
        }
        if i == NIL {
            return false;
        }
        let after = self.next[i as usize];
        if prev == NIL {
            self.buckets[b] = after;
        } else {
            self.next[prev as usize] = after;
        }
        let last = (self.entries.len() - 1) as u32;
        self.bytes -= self.entries[i as usize].len();
        self.entries.swap_remove(i as usize);
        self.next.swap_remove(i as usize);
        if i != last {
            // The last entry moved to `i`: repoint the link that led to it.
            let mb = self.bucket_of(field_of(&self.entries[i as usize]));
            if self.buckets[mb] == last {
                self.buckets[mb] = i;
            } else {
                let mut j = self.buckets[mb];
                while self.next[j as usize] != last {
                    j = self.next[j as usize];
                }
                self.next[j as usize] = i;
            }
        }
        let n = self.buckets.len();
        if n > MIN_BUCKETS && self.entries.len() * 100 / n < MIN_FILL_PERCENT {
            self.rehash(bucket_count(self.entries.len()));
            self.entries.shrink_to_fit();
            self.next.shrink_to_fit();
        }
        true
    }

    /// Rebuilds the chains over `n` buckets (a power of two).
    fn rehash(&mut self, n: usize) {
        self.buckets = vec![NIL; n].into_boxed_slice();
        for i in 0..self.entries.len() {
            let b = self.bucket_of(field_of(&self.entries[i]));
            self.next[i] = self.buckets[b];
            self.buckets[b] = i as u32;
        }
    }

    /// One step of Redis' `dictScan`: visits the chain of bucket `cursor & mask` and returns
    /// the next cursor (0 when the walk is complete). The cursor's bits are reversed and
    /// incremented, so a walk started at 0 covers every bucket of any table size in the
    /// meantime, and an element present for the whole walk is visited at least once.
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        let mask = (self.buckets.len() - 1) as u64;
        let mut i = self.buckets[(cursor & mask) as usize];
        while i != NIL {
            let (k, v) = split(&self.entries[i as usize]);
            f(k, v);
            i = self.next[i as usize];
        }
        let v = (cursor | !mask).reverse_bits().wrapping_add(1);
        v.reverse_bits()
    }

    /// Number of buckets (tests).
    #[cfg(test)]
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }
}

/// The pairs of a [`Table`] in dense order.
pub(super) struct TableIter<'a>(std::slice::Iter<'a, Box<[u8]>>);

impl<'a> Iterator for TableIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|e| split(e))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

/// Redis' `_dictNextExp`: the smallest power of two >= `n`, at least 4.
fn bucket_count(n: usize) -> usize {
    n.max(MIN_BUCKETS).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn check(t: &Table, model: &BTreeMap<Vec<u8>, Vec<u8>>) {
        assert_eq!(t.len(), model.len());
        let got: BTreeMap<Vec<u8>, Vec<u8>> =
            t.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert_eq!(&got, model);
        for (k, v) in model {
            assert_eq!(t.get(k), Some(&v[..]));
        }
        assert_eq!(t.bytes, t.entries.iter().map(|e| e.len()).sum::<usize>());
    }

    #[test]
    fn agrees_with_a_map_through_growth_and_shrinking() {
        let mut t = Table::with_capacity(0);
        let mut model = BTreeMap::new();
        let mut rng = crate::rng::Rng::new(7);
        for step in 0..20_000u32 {
            let k = format!("f{}", rng.below(3000)).into_bytes();
            match rng.below(3) {
                0 | 1 => {
                    let v = format!("v{step}").into_bytes();
                    assert_eq!(t.set(&k, &v), model.insert(k, v).is_none());
                }
                _ => assert_eq!(t.remove(&k), model.remove(&k).is_some()),
            }
        }
        check(&t, &model);
        let keys: Vec<_> = model.keys().cloned().collect();
        for k in keys {
            assert!(t.remove(&k));
            model.remove(&k);
        }
        check(&t, &model);
        assert_eq!(t.buckets(), MIN_BUCKETS, "shrinks back when emptied");
        assert_eq!(t.get(b"f1"), None);
        assert!(t.set(b"", b""));
        assert_eq!(t.get(b""), Some(&b""[..]));
    }

    fn full_scan(t: &Table) -> BTreeSet<Vec<u8>> {
        let mut seen = BTreeSet::new();
        let mut c = 0;
        loop {
            c = t.scan(c, |k, _| {
                seen.insert(k.to_vec());
            });
            if c == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn scan_visits_everything_once_without_changes() {
        let mut t = Table::with_capacity(0);
        for i in 0..1000 {
            t.set(format!("k{i}").as_bytes(), b"v");
        }
        let mut n = 0;
        let mut c = 0;
        loop {
            c = t.scan(c, |_, _| n += 1);
            if c == 0 {
                break;
            }
        }
        assert_eq!(n, 1000);
        assert_eq!(full_scan(&t).len(), 1000);
    }

    #[test]
    fn scan_returns_stable_elements_while_the_table_grows_and_shrinks() {
        let mut rng = crate::rng::Rng::new(11);
        for round in 0..6 {
            let mut t = Table::with_capacity(0);
            let stable: Vec<Vec<u8>> = (0..200).map(|i| format!("s{i}").into_bytes()).collect();
            for k in &stable {
                t.set(k, b"v");
            }
            let mut churn: Vec<Vec<u8>> = Vec::new();
            let mut next_id = 0;
            let mut add = |t: &mut Table, churn: &mut Vec<Vec<u8>>| {
                let k = format!("c{next_id}").into_bytes();
                next_id += 1;
                t.set(&k, b"x");
                churn.push(k);
            };
            // Odd rounds start big and mostly shrink; even ones start small and mostly grow.
            for _ in 0..if round % 2 == 1 { 2000 } else { 0 } {
                add(&mut t, &mut churn);
            }
            let mut seen = BTreeSet::new();
            let mut sizes = BTreeSet::from([t.buckets()]);
            let mut c = 0;
            loop {
                c = t.scan(c, |k, _| {
                    seen.insert(k.to_vec());
                });
                sizes.insert(t.buckets());
                let (max_add, max_remove) = if round % 2 == 0 { (40, 15) } else { (3, 40) };
                if churn.len() < 2000 {
                    for _ in 0..rng.below(max_add) {
                        add(&mut t, &mut churn);
                    }
                }
                for _ in 0..rng.below(max_remove) {
                    if churn.is_empty() {
                        break;
                    }
                    let i = rng.below(churn.len() as u64) as usize;
                    let k = churn.swap_remove(i);
                    assert!(t.remove(&k));
                }
                if c == 0 {
                    break;
                }
            }
            for k in &stable {
                assert!(seen.contains(k), "round {round}: {k:?} missed");
            }
            assert!(sizes.len() > 1, "round {round}: no resize during the walk");
        }
    }
}
