//! The keyspace hash table. (Interim implementation over a std HashMap: being replaced by a
//! segmented, incrementally growing table with the same API.)

use std::collections::HashMap;

type Map<V> = HashMap<Box<[u8]>, V, ahash::RandomState>;

pub struct DashTable<V> {
    map: Map<V>,
}

impl<V> Default for DashTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> DashTable<V> {
    pub fn new() -> Self {
        DashTable {
            map: Map::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        if let Some(v) = self.map.get_mut(key) {
            return Some(std::mem::replace(v, value));
        }
        self.map.insert(key.into(), value);
        None
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.map.remove(key)
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Visits the entries of the bucket group at `cursor` and returns the next cursor, 0 when
    /// the walk is complete. An entry present for the whole walk is visited at least once.
    pub fn scan(&self, _cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        for (k, v) in &self.map {
            f(k, v);
        }
        0
    }

    /// Like [`scan`](Self::scan), but `f` may change values and returns false to remove the
    /// entry.
    pub fn scan_mut(&mut self, _cursor: u64, mut f: impl FnMut(&[u8], &mut V) -> bool) -> u64 {
        self.map.retain(|k, v| f(k, v));
        0
    }

    /// An entry chosen at random (roughly uniformly), driven by `seed`.
    pub fn random(&self, seed: u64) -> Option<(&[u8], &V)> {
        if self.map.is_empty() {
            return None;
        }
        let n = (seed % self.map.len() as u64) as usize;
        self.map.iter().nth(n).map(|(k, v)| (&**k, v))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.map.iter().map(|(k, v)| (&**k, v))
    }
}
