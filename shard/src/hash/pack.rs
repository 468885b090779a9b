//! The `listpack` encoding of a small hash: every field and value, in insertion order, in
//! one exactly sized byte buffer. Each string is a LEB128 length followed by its bytes, a
//! field always directly followed by its value. Lookups are linear scans, as in Redis'
//! listpack, which is cheap at the sizes this encoding is kept for (at most
//! `hash-max-listpack-entries` pairs of at most `hash-max-listpack-value` bytes).
//!
//! The buffer is a `Box<[u8]>`, not a `Vec`: no spare capacity and 8 bytes less per key, at
//! the cost of one reallocation per change (Redis reallocates its listpack the same way).

use std::ops::Range;

/// Appends `n` as LEB128.
pub(super) fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The number of bytes [`put_varint`] writes for `n`.
pub(super) fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Reads a LEB128 number at `*pos` and moves `*pos` past it. Only ever reads buffers this
/// module wrote, so the encoding is well formed.
pub(super) fn get_varint(buf: &[u8], pos: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

/// The encoded size of one string.
fn encoded_len(s: &[u8]) -> usize {
    varint_len(s.len()) + s.len()
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len());
    out.extend_from_slice(s);
}

/// Where one pair sits in the buffer.
struct Found {
    /// From the field's length byte to the end of the value.
    pair: Range<usize>,
    /// From the value's length byte to the end of the value.
    value: Range<usize>,
}

#[derive(Clone, Default)]
pub(super) struct Pack {
    buf: Box<[u8]>,
    /// Number of pairs. A listpack never reaches 2^32 pairs: Redis' 1 GB listpack safety
    /// limit converts long before (see `HashValue::prepare`).
    len: u32,
}

impl Pack {
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Bytes of the encoded pairs.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            pos: 0,
        }
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let buf = &self.buf[..];
        let mut pos = 0;
        while pos < buf.len() {
            let start = pos;
            let flen = get_varint(buf, &mut pos);
            let fstart = pos;
            pos += flen;
            let vstart = pos;
            let vlen = get_varint(buf, &mut pos);
            pos += vlen;
            if flen == field.len() && &buf[fstart..fstart + flen] == field {
                return Some(Found {
                    pair: start..pos,
                    value: vstart..pos,
                });
            }
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let f = self.find(field)?;
        let mut pos = f.value.start;
        let vlen = get_varint(&self.buf, &mut pos);
        Some(&self.buf[pos..pos + vlen])
    }

    /// Sets `field` to `value`: a new pair goes to the end, an existing one keeps its place.
    /// True when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(f) => {
                self.replace(f.value, value);
                false
            }
            None => {
                let mut v = std::mem::take(&mut self.buf).into_vec();
                v.reserve_exact(encoded_len(field) + encoded_len(value));
                put_str(&mut v, field);
                put_str(&mut v, value);
                self.buf = v.into_boxed_slice();
                self.len += 1;
                true
            }
        }
    }

    /// Replaces the encoded string at `range` by `value`.
    fn replace(&mut self, range: Range<usize>, value: &[u8]) {
        let new_len = encoded_len(value);
        if new_len == range.len() {
            let mut enc = Vec::with_capacity(new_len);
            put_str(&mut enc, value);
            self.buf[range].copy_from_slice(&enc);
            return;
        }
        let mut v = Vec::with_capacity(self.buf.len() - range.len() + new_len);
        v.extend_from_slice(&self.buf[..range.start]);
        put_str(&mut v, value);
        v.extend_from_slice(&self.buf[range.end..]);
        self.buf = v.into_boxed_slice();
    }

    /// Removes `field`; true when it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let Some(f) = self.find(field) else {
            return false;
        };
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.drain(f.pair);
        self.buf = v.into_boxed_slice();
        self.len -= 1;
        true
    }
}

/// The pairs of a [`Pack`] in order.
pub(super) struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let buf = self.buf;
        let flen = get_varint(buf, &mut self.pos);
        let field = &buf[self.pos..self.pos + flen];
        self.pos += flen;
        let vlen = get_varint(buf, &mut self.pos);
        let value = &buf[self.pos..self.pos + vlen];
        self.pos += vlen;
        Some((field, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for n in [0, 1, 127, 128, 300, 16383, 16384, 1 << 30, usize::MAX] {
            let mut v = Vec::new();
            put_varint(&mut v, n);
            assert_eq!(v.len(), varint_len(n));
            let mut pos = 0;
            assert_eq!(get_varint(&v, &mut pos), n);
            assert_eq!(pos, v.len());
        }
    }

    #[test]
    fn keeps_insertion_order_and_updates_in_place() {
        let mut p = Pack::default();
        assert!(p.set(b"a", b"1"));
        assert!(p.set(b"b", b"2"));
        assert!(p.set(b"", b""));
        assert!(!p.set(b"a", b"a much longer value than before"));
        assert!(!p.set(b"b", b"3"));
        let pairs: Vec<_> = p.iter().collect();
        assert_eq!(
            pairs,
            vec![
                (&b"a"[..], &b"a much longer value than before"[..]),
                (b"b", b"3"),
                (b"", b""),
            ]
        );
        assert_eq!(p.len(), 3);
        assert!(p.remove(b"b"));
        assert!(!p.remove(b"b"));
        assert_eq!(p.get(b"b"), None);
        assert_eq!(p.get(b""), Some(&b""[..]));
        assert!(!p.set(b"a", b"x"));
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![(&b"a"[..], &b"x"[..]), (b"", b"")]
        );
        assert_eq!(p.bytes(), 4 + 2);
    }

    #[test]
    fn long_strings_use_longer_length_prefixes() {
        let mut p = Pack::default();
        let big = vec![7u8; 200_000];
        p.set(&big, &big[..300]);
        p.set(b"k", &big);
        assert_eq!(p.get(&big), Some(&big[..300]));
        assert_eq!(p.get(b"k"), Some(&big[..]));
        assert_eq!(p.get(&big[..1]), None);
    }
}
