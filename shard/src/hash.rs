//! Hashes (t_hash.c in Redis): the hash value type (listpack while small, hashtable beyond
//! `hash-max-listpack-entries`/`-value`) and the hash command family.

/// Placeholder representation; the family's implementation replaces it.
#[derive(Clone, Default)]
pub struct HashValue {
    items: Vec<Box<[u8]>>,
}

impl HashValue {
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

    /// The value of `field`, if the hash has it (SORT's `->field` patterns read hashes
    /// through this).
    pub fn get_field(&self, field: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        self.items
            .chunks_exact(2)
            .find(|pair| *pair[0] == *field)
            .map(|pair| std::borrow::Cow::Borrowed(&*pair[1]))
    }

    pub fn digest(&self, h: &mut sha1_smol::Sha1) {
        for i in &self.items {
            h.update(i);
        }
    }
}
