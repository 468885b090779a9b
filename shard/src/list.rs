//! Lists (t_list.c in Redis): the list value type (listpack while small, quicklist beyond
//! `list-max-listpack-size`) and the list command family.

/// Placeholder representation; the family's implementation replaces it.
#[derive(Clone, Default)]
pub struct ListValue {
    items: Vec<Box<[u8]>>,
}

impl ListValue {
    /// A list of `items` in order, encoded as Redis would encode it (SORT ... STORE).
    pub fn from_items(items: Vec<Vec<u8>>, _limits: &crate::limits::Limits) -> ListValue {
        ListValue {
            items: items.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

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
