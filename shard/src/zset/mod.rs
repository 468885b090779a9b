//! Sorted sets (t_zset.c in Redis): the sorted set value type and the sorted set command
//! family.
//!
//! A sorted set is `listpack` encoded ([`pack`]: one sorted byte buffer) while it has at most
//! `zset-max-listpack-entries` members of at most `zset-max-listpack-value` bytes, and
//! `skiplist` encoded ([`tree`]: an order-statistic B+tree with a hash index, every member
//! stored once) beyond, converting where Redis 7.2 converts. The commands live in
//! [`commands`] and are re-exported here.
//!
//! The geo family stores its points in sorted sets through `insert`, `score`, `remove`,
//! `range_by_score`, `for_each` and `len`; keep them stable.

mod commands;
mod pack;
mod tree;

pub use commands::*;

use crate::limits::Limits;
use pack::Pack;
use tree::Big;

/// A sorted set value: members with scores, ordered by (score, member).
#[derive(Clone)]
pub struct ZSetValue {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Pack(Pack),
    Big(Box<Big>),
}

impl Default for ZSetValue {
    fn default() -> ZSetValue {
        ZSetValue::new()
    }
}

impl ZSetValue {
    /// An empty sorted set in the small encoding.
    pub fn new() -> ZSetValue {
        ZSetValue {
            repr: Repr::Pack(Pack::default()),
        }
    }

    /// An empty sorted set in the encoding Redis' `zsetTypeCreate` picks for about `size_hint`
    /// members of about `len_hint` bytes.
    pub fn with_hint(size_hint: usize, len_hint: usize, limits: &Limits) -> ZSetValue {
        if size_hint <= limits.zset_max_listpack_entries
            && len_hint <= limits.zset_max_listpack_value
        {
            ZSetValue::new()
        } else {
            ZSetValue {
                repr: Repr::Big(Box::new(Big::with_capacity(size_hint.min(1 << 20)))),
            }
        }
    }

    /// A sorted set of `entries`, which must be in ascending (score, member) order without
    /// repeated members, encoded as Redis encodes a stored result (ZUNIONSTORE,
    /// ZRANGESTORE...): small only when it fits the small encoding's limits.
    pub fn from_sorted<M: AsRef<[u8]>>(entries: &[(M, f64)], limits: &Limits) -> ZSetValue {
        let fits = entries.len() <= limits.zset_max_listpack_entries
            && entries
                .iter()
                .all(|(m, _)| m.as_ref().len() <= limits.zset_max_listpack_value);
        if fits {
            let mut p = Pack::default();
            for (m, s) in entries {
                p.push(m.as_ref(), *s);
            }
            p.shrink();
            ZSetValue {
                repr: Repr::Pack(p),
            }
        } else {
            let mut b = Big::with_capacity(entries.len());
            for (m, s) in entries {
                b.insert_new(m.as_ref(), *s);
            }
            ZSetValue {
                repr: Repr::Big(Box::new(b)),
            }
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len(),
            Repr::Big(b) => b.len(),
        }
    }

    /// Whether there are no members (a stored sorted set never is: empty ones are deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    /// Whether the set is in the small (listpack) encoding.
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Pack(_))
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(p) => p.find(member).map(|e| e.score),
            Repr::Big(b) => b.score(member),
        }
    }

    /// Sets `member`'s score, converting the encoding as ZADD does at `limits`; true when the
    /// member is new.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(member) {
                Some(e) => {
                    if e.score != score {
                        p.remove(member);
                        p.insert(member, score);
                    }
                    return false;
                }
                None => {
                    if p.len() < limits.zset_max_listpack_entries
                        && member.len() <= limits.zset_max_listpack_value
                    {
                        p.insert(member, score);
                        return true;
                    }
                    let cap = p.len() + 1;
                    self.convert(cap);
                }
            },
            Repr::Big(b) => {
                if b.update(member, score) || b.score(member).is_some() {
                    return false;
                }
            }
        }
        match &mut self.repr {
            Repr::Big(b) => b.insert_new(member, score),
            Repr::Pack(_) => unreachable!("converted above"),
        }
        true
    }

    /// Converts to the large encoding (with room for `cap` members).
    fn convert(&mut self, cap: usize) {
        if let Repr::Pack(p) = &self.repr {
            let mut b = Big::with_capacity(cap.max(p.len()));
            for e in p.iter() {
                b.insert_new(e.member, e.score);
            }
            self.repr = Repr::Big(Box::new(b));
        }
    }

    /// Redis' `zsetTypeMaybeConvert`: a small set about to receive `size_hint` members
    /// beyond the small encoding's limit converts at once.
    pub fn maybe_convert(&mut self, size_hint: usize, limits: &Limits) {
        if self.is_compact() && size_hint > limits.zset_max_listpack_entries {
            let cap = self.len() + size_hint;
            self.convert(cap);
        }
    }

    /// Prepares for a batch of up to `count` new members totalling `bytes` bytes (ZADD with
    /// many pairs): the small encoding then grows its buffer once, not once per member.
    /// [`shrink_to_fit`](Self::shrink_to_fit) afterwards gives back what was not used.
    pub fn reserve(&mut self, count: usize, bytes: usize) {
        if let Repr::Pack(p) = &mut self.repr {
            p.reserve(bytes + count * 12);
        }
    }

    /// Releases spare capacity of the small encoding.
    pub fn shrink_to_fit(&mut self) {
        if let Repr::Pack(p) = &mut self.repr {
            p.shrink();
        }
    }

    /// Removes `member`; true when it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => p.remove(member).is_some(),
            Repr::Big(b) => b.remove(member).is_some(),
        }
    }

    /// The ascending 0-based rank of `member` and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Pack(p) => p
                .iter()
                .enumerate()
                .find(|(_, e)| e.member == member)
                .map(|(i, e)| (i, e.score)),
            Repr::Big(b) => b.rank(member),
        }
    }

    /// The member of ascending rank `rank` and its score.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        if rank >= self.len() {
            return None;
        }
        Some(match &self.repr {
            Repr::Pack(p) => {
                let e = p.nth(rank);
                (e.member, e.score)
            }
            Repr::Big(b) => b.select(rank),
        })
    }

    /// How many members, from the lowest, satisfy `before(member, score)`; `before` must hold
    /// for a prefix of the order and fail from some member on (a range bound).
    pub fn count_before(&self, mut before: impl FnMut(&[u8], f64) -> bool) -> usize {
        match &self.repr {
            Repr::Pack(p) => p
                .iter()
                .position(|e| !before(e.member, e.score))
                .unwrap_or(p.len()),
            Repr::Big(b) => b.count_before(before),
        }
    }

    /// Visits the members of ascending ranks `start..end` (clamped to the length), in
    /// ascending order, or descending with `rev`.
    pub fn range_by_rank(
        &self,
        start: usize,
        end: usize,
        rev: bool,
        mut f: impl FnMut(&[u8], f64),
    ) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &self.repr {
            Repr::Pack(p) => {
                let it = p.iter().skip(start).take(end - start);
                if rev {
                    let v: Vec<_> = it.collect();
                    v.iter().rev().for_each(|e| f(e.member, e.score));
                } else {
                    it.for_each(|e| f(e.member, e.score));
                }
            }
            Repr::Big(b) => b.range(start, end, rev, f),
        }
    }

    /// Visits the members with `min <= score <= max` in (score, member) order.
    pub fn range_by_score(&self, min: f64, max: f64, f: impl FnMut(&[u8], f64)) {
        let lo = self.count_before(|_, s| s < min);
        let hi = self.count_before(|_, s| s <= max);
        self.range_by_rank(lo, hi, false, f);
    }

    /// Visits every member in (score, member) order.
    pub fn for_each(&self, f: impl FnMut(&[u8], f64)) {
        self.range_by_rank(0, self.len(), false, f);
    }

    /// Removes the members of ascending ranks `start..end`; how many were removed.
    pub fn remove_range_by_rank(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Pack(p) => p.remove_ranks(start, end),
            Repr::Big(b) => {
                let mut doomed: Vec<Box<[u8]>> = Vec::with_capacity(end - start);
                b.range(start, end, false, |m, _| doomed.push(m.into()));
                for m in &doomed {
                    b.remove(m);
                }
            }
        }
        end - start
    }

    /// Removes the lowest (or, with `max`, the highest) member, showing it to `f` first.
    pub fn pop(&mut self, max: bool, f: impl FnOnce(&[u8], f64)) -> bool {
        let n = self.len();
        if n == 0 {
            return false;
        }
        let rank = if max { n - 1 } else { 0 };
        match &mut self.repr {
            Repr::Pack(p) => {
                let e = p.nth(rank);
                let (start, end) = (e.start, e.end);
                f(e.member, e.score);
                p.remove_bytes(start, end, 1);
            }
            Repr::Big(b) => {
                let (m, s) = b.select(rank);
                let m: smallvec::SmallVec<[u8; 32]> = m.into();
                f(&m, s);
                b.remove(&m);
            }
        }
        true
    }

    /// One ZSCAN step from `cursor`: calls `f` for about `count` members and returns the next
    /// cursor (0 when done). The small encoding is returned whole in one step, as Redis does;
    /// `f` then also gets whether the score is stored as an integer (Redis prints those as
    /// integers in ZSCAN).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64, bool)) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                for e in p.iter() {
                    f(e.member, e.score, pack::as_int(e.score).is_some());
                }
                0
            }
            Repr::Big(b) => b.scan(cursor, count, |m, s| f(m, s, false)),
        }
    }

    /// Approximate heap bytes held (MEMORY USAGE, eviction).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.heap_size(),
            Repr::Big(b) => std::mem::size_of::<Big>() + b.heap_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use std::collections::BTreeMap;

    fn limits(entries: usize) -> Limits {
        Limits {
            zset_max_listpack_entries: entries,
            ..Limits::default()
        }
    }

    /// The reference: members by (score bits ordered, member).
    fn model_order(m: &BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, &s)| (k.clone(), s)).collect();
        v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then(a.0.cmp(&b.0)));
        v
    }

    fn contents(z: &ZSetValue) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::new();
        z.for_each(|m, s| v.push((m.to_vec(), s)));
        v
    }

    #[test]
    fn random_operations_match_a_model_in_both_encodings() {
        for entries in [0, 4, 128, 100_000] {
            let lim = limits(entries);
            let mut rng = Rng::new(entries as u64 + 7);
            let mut z = ZSetValue::new();
            let mut m: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            for step in 0..8_000 {
                let k = rng.below(700);
                let member = if k.is_multiple_of(50) {
                    format!("long-member-{k}-{}", "x".repeat(40)).into_bytes()
                } else {
                    format!("m{k}").into_bytes()
                };
                let score =
                    (rng.below(60) as f64) - 30.0 + if k.is_multiple_of(3) { 0.5 } else { 0.0 };
                match rng.below(10) {
                    0..=5 => {
                        let new = z.insert(&member, score, &lim);
                        assert_eq!(new, m.insert(member.clone(), score).is_none());
                    }
                    6 | 7 => assert_eq!(z.remove(&member), m.remove(&member).is_some()),
                    8 => {
                        let order = model_order(&m);
                        let want = order.iter().position(|(k, _)| *k == member);
                        assert_eq!(z.rank(&member).map(|r| r.0), want);
                        if !order.is_empty() {
                            let r = rng.below(order.len() as u64) as usize;
                            let (gm, gs) = z.get_by_rank(r).unwrap();
                            assert_eq!((gm.to_vec(), gs), order[r]);
                        }
                    }
                    _ => {
                        let (lo, hi) = (score - 5.0, score + 5.0);
                        let mut got = Vec::new();
                        z.range_by_score(lo, hi, |k, s| got.push((k.to_vec(), s)));
                        let want: Vec<_> = model_order(&m)
                            .into_iter()
                            .filter(|(_, s)| *s >= lo && *s <= hi)
                            .collect();
                        assert_eq!(got, want);
                    }
                }
                assert_eq!(z.len(), m.len());
                if step % 997 == 0 {
                    assert_eq!(contents(&z), model_order(&m));
                    if let Repr::Big(b) = &z.repr {
                        b.check();
                    }
                }
            }
            assert_eq!(contents(&z), model_order(&m));
            if let Repr::Big(b) = &z.repr {
                b.check();
            }
        }
    }

    #[test]
    fn big_encoding_handles_ordered_loads_ranges_and_shrinking() {
        let lim = limits(0);
        for descending in [false, true] {
            let mut z = ZSetValue::new();
            let n = 20_000;
            for i in 0..n {
                let i = if descending { n - 1 - i } else { i };
                z.insert(format!("{i:06}").as_bytes(), i as f64, &lim);
            }
            assert_eq!(z.encoding(), "skiplist");
            let Repr::Big(b) = &z.repr else { panic!() };
            b.check();
            for r in [0, 1, 62, 63, 64, 9_999, n - 1] {
                let (m, s) = z.get_by_rank(r).unwrap();
                assert_eq!((m, s), (format!("{r:06}").as_bytes(), r as f64));
                assert_eq!(z.rank(m), Some((r, s)));
            }
            let mut rev = Vec::new();
            z.range_by_rank(100, 105, true, |_, s| rev.push(s as usize));
            assert_eq!(rev, vec![104, 103, 102, 101, 100]);
            assert_eq!(z.count_before(|_, s| s < 500.0), 500);
            assert_eq!(z.remove_range_by_rank(10, 19_990), 19_980);
            let Repr::Big(b) = &z.repr else { panic!() };
            b.check();
            let left: Vec<usize> = contents(&z).iter().map(|e| e.1 as usize).collect();
            assert_eq!(left, (0..10).chain(19_990..20_000).collect::<Vec<_>>());
            let mut popped = Vec::new();
            while z.pop(true, |_, s| popped.push(s as usize)) {}
            assert_eq!(popped.len(), 20);
            assert_eq!(popped[0], 19_999);
            assert!(z.is_empty());
        }
    }

    #[test]
    fn updates_move_members_and_scan_visits_everything() {
        let lim = limits(0);
        let mut z = ZSetValue::new();
        for i in 0..1000 {
            z.insert(format!("k{i}").as_bytes(), i as f64, &lim);
        }
        for i in 0..1000 {
            assert!(!z.insert(format!("k{i}").as_bytes(), -(i as f64), &lim));
        }
        assert_eq!(z.get_by_rank(0).unwrap(), (&b"k999"[..], -999.0));
        let Repr::Big(b) = &z.repr else { panic!() };
        b.check();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, 7, |m, _, _| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn conversion_follows_the_limits() {
        let lim = Limits {
            zset_max_listpack_entries: 3,
            zset_max_listpack_value: 5,
            ..Limits::default()
        };
        let mut z = ZSetValue::new();
        for m in ["a", "b", "c"] {
            z.insert(m.as_bytes(), 1.0, &lim);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"a", 2.0, &lim);
        assert_eq!(z.encoding(), "listpack", "updates never convert");
        z.insert(b"d", 1.0, &lim);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSetValue::new();
        z.insert(b"toolong", 1.0, &lim);
        assert_eq!(z.encoding(), "skiplist");
        let small = ZSetValue::from_sorted(&[(b"a", 1.0), (b"b", 2.0)], &lim);
        assert_eq!(small.encoding(), "listpack");
        let big = ZSetValue::from_sorted(&[(&b"a"[..], 1.0), (&b"toolong"[..], 2.0)], &lim);
        assert_eq!(big.encoding(), "skiplist");
        assert_eq!(contents(&small).len(), 2);
        let mut z1 = ZSetValue::new();
        let mut z2 = ZSetValue::new();
        for i in 0..10 {
            z1.insert(format!("{i}").as_bytes(), i as f64, &Limits::default());
            z2.insert(format!("{i}").as_bytes(), i as f64, &limits(0));
        }
        let d = |z: ZSetValue| crate::digest::value_digest(&crate::value::Value::ZSet(Box::new(z)));
        assert_eq!(d(z1), d(z2), "digest ignores the encoding");
    }
}
