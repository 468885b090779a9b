//! Sets (t_set.c in Redis): the set value type (intset, listpack, hashtable by Redis' thresholds)
//! and the set command family.

/// Placeholder representation; the family's implementation replaces it.
#[derive(Clone, Default)]
pub struct SetValue {
    items: Vec<Box<[u8]>>,
}

impl SetValue {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    pub fn heap_size(&self) -> usize {
        self.items.iter().map(|i| i.len()).sum()
    }

    /// Visits every element (in list order for lists). SORT reads collections through this.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.items.iter().for_each(|i| f(i))
    }

    pub fn digest(&self, h: &mut sha1_smol::Sha1) {
        for i in &self.items {
            h.update(i);
        }
    }
}
