//! Sorted sets (t_zset.c in Redis): the sorted set value type (listpack while small, skiplist
//! beyond `zset-max-listpack-*`) and the sorted set command family.
//!
//! The geo family (`geo.rs`) stores its points in sorted sets through the API below
//! (`insert`, `score`, `remove`, `range_by_score`, `for_each`, `len`); keep it stable.

use std::collections::BTreeMap;

/// Placeholder representation; the family's implementation replaces it, keeping the API.
#[derive(Clone, Default)]
pub struct ZSetValue {
    by_member: BTreeMap<Box<[u8]>, f64>,
}

impl ZSetValue {
    pub fn new() -> ZSetValue {
        ZSetValue::default()
    }

    pub fn len(&self) -> usize {
        self.by_member.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_member.is_empty()
    }

    /// Sets `member`'s score, converting the encoding as Redis does at `limits`; true when
    /// the member is new.
    pub fn insert(&mut self, member: &[u8], score: f64, _limits: &crate::limits::Limits) -> bool {
        self.by_member.insert(member.into(), score).is_none()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.by_member.get(member).copied()
    }

    /// Removes `member`; true when it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        self.by_member.remove(member).is_some()
    }

    /// Visits the members with `min <= score <= max` in (score, member) order.
    pub fn range_by_score(&self, min: f64, max: f64, mut f: impl FnMut(&[u8], f64)) {
        let mut v: Vec<(&[u8], f64)> = self
            .by_member
            .iter()
            .filter(|(_, &s)| s >= min && s <= max)
            .map(|(m, &s)| (&m[..], s))
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        v.into_iter().for_each(|(m, s)| f(m, s));
    }

    /// Visits every member in (score, member) order.
    pub fn for_each(&self, f: impl FnMut(&[u8], f64)) {
        self.range_by_score(f64::NEG_INFINITY, f64::INFINITY, f)
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    pub fn heap_size(&self) -> usize {
        self.by_member.keys().map(|k| k.len() + 8).sum()
    }

    pub fn digest(&self, h: &mut sha1_smol::Sha1) {
        self.for_each(|m, s| {
            h.update(m);
            h.update(&s.to_le_bytes());
        });
    }
}
