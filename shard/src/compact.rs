//! A byte string in 24 bytes: up to 23 bytes inline, longer ones in one exact-size heap
//! allocation. The keyspace stores every key this way, and short string values too, so a
//! typical key-value pair costs no allocation at all.
//!
//! The inline length is an enum with 24 valid values rather than a `u8`: its unused values
//! are a niche, so `Option<CompactBytes>` and enums holding a `CompactBytes` next to
//! 8- or 16-byte variants (see [`StrValue`](crate::string::StrValue)) stay 24 bytes.

use std::fmt;
use std::ops::Deref;

/// The longest string stored inline.
pub const INLINE_MAX: usize = 23;

macro_rules! inline_len {
    ($($v:ident = $n:literal),* $(,)?) => {
        /// Length of an inline string: only its 24 values are valid (see the module doc).
        #[derive(Clone, Copy)]
        #[repr(u8)]
        enum InlineLen { $($v = $n),* }
        const INLINE_LENS: [InlineLen; INLINE_MAX + 1] = [$(InlineLen::$v),*];
    };
}

#[rustfmt::skip]
inline_len! {
    L0 = 0, L1 = 1, L2 = 2, L3 = 3, L4 = 4, L5 = 5, L6 = 6, L7 = 7, L8 = 8, L9 = 9, L10 = 10,
    L11 = 11, L12 = 12, L13 = 13, L14 = 14, L15 = 15, L16 = 16, L17 = 17, L18 = 18, L19 = 19,
    L20 = 20, L21 = 21, L22 = 22, L23 = 23,
}

/// The inline form. `repr(C)` puts the length (the niche) in the last byte, so the other
/// variant, and the variants of enums that wrap this type, fit in the first 16 bytes.
#[derive(Clone, Copy)]
#[repr(C)]
struct Inline {
    bytes: [u8; INLINE_MAX],
    len: InlineLen,
}

/// A byte string of any length; see the module doc for the layout.
#[derive(Clone)]
pub struct CompactBytes(Repr);

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<CompactBytes>() == 24);
const _: () = assert!(std::mem::size_of::<Option<CompactBytes>>() == 24);

impl CompactBytes {
    /// A copy of `b`: inline up to [`INLINE_MAX`] bytes, else one exact-size allocation.
    #[inline]
    pub fn new(b: &[u8]) -> CompactBytes {
        if b.len() <= INLINE_MAX {
            let mut bytes = [0; INLINE_MAX];
            bytes[..b.len()].copy_from_slice(b);
            CompactBytes(Repr::Inline(Inline {
                bytes,
                len: INLINE_LENS[b.len()],
            }))
        } else {
            CompactBytes(Repr::Heap(b.into()))
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(i) => &i.bytes[..i.len as usize],
            Repr::Heap(b) => b,
        }
    }

    /// Whether the bytes are stored inline (no allocation).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline(_))
    }

    /// Bytes allocated on the heap: 0 when inline.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline(_) => 0,
            Repr::Heap(b) => b.len(),
        }
    }

    /// The bytes as a `Vec`, reusing the allocation when there is one.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline(i) => i.bytes[..i.len as usize].to_vec(),
            Repr::Heap(b) => b.into_vec(),
        }
    }
}

impl From<Vec<u8>> for CompactBytes {
    /// Takes over the allocation of a long `v` (shrunk to fit); short ones move inline.
    fn from(v: Vec<u8>) -> CompactBytes {
        if v.len() <= INLINE_MAX {
            CompactBytes::new(&v)
        } else {
            CompactBytes(Repr::Heap(v.into_boxed_slice()))
        }
    }
}

impl Deref for CompactBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for CompactBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for CompactBytes {}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_bytes().escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 37 + n) as u8).collect()
    }

    #[test]
    fn inline_up_to_23_bytes_then_heap() {
        for n in [0, 1, 12, 22, 23, 24, 25, 44, 45, 1000] {
            let b = bytes(n);
            let c = CompactBytes::new(&b);
            assert_eq!(c.as_bytes(), &b[..], "{n} bytes");
            assert_eq!(c.len(), n);
            assert_eq!(c.is_inline(), n <= INLINE_MAX, "{n} bytes");
            assert_eq!(c.heap_size(), if n <= INLINE_MAX { 0 } else { n });
            assert_eq!(CompactBytes::from(b.clone()), c);
            assert_eq!(c.clone().into_vec(), b);
        }
    }

    #[test]
    fn empty() {
        let c = CompactBytes::new(b"");
        assert!(c.is_inline() && c.is_empty());
        assert_eq!(c.as_bytes(), b"");
        assert_eq!(CompactBytes::from(Vec::new()), c);
    }

    #[test]
    fn binary_data_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for w in all.windows(23).chain(all.windows(24)).chain([&all[..]]) {
            assert_eq!(CompactBytes::new(w).as_bytes(), w);
        }
        assert_eq!(CompactBytes::new(&[0; 23]).as_bytes(), &[0; 23]);
        assert_ne!(CompactBytes::new(&[0; 22]), CompactBytes::new(&[0; 23]));
    }

    #[test]
    fn debug_escapes() {
        assert_eq!(
            format!("{:?}", CompactBytes::new(b"a\0\xff")),
            r#"b"a\x00\xff""#
        );
    }

    #[test]
    fn layout_leaves_niches() {
        assert_eq!(std::mem::size_of::<Option<Option<CompactBytes>>>(), 24);
        assert_eq!(std::mem::size_of::<(CompactBytes, [u64; 5])>(), 64);
        assert_eq!(std::mem::size_of::<Option<(CompactBytes, [u64; 5])>>(), 64);
    }
}
