//! The small encoding (Redis' `listpack`): every (member, score) pair in one contiguous
//! buffer, sorted by (score, member), scanned linearly as Redis scans its listpack.
//!
//! An entry is `varint(member length) member score`, the score in 1 to 9 bytes: integers
//! (the common case) as small as they fit, other values as the 8 bytes of the double. Like
//! Redis 7.2's listpack, an integral score is stored as an integer, so `-0` reads back as `0`.
//! The buffer grows and shrinks to its exact size, as a listpack is reallocated per change.

use std::cmp::Ordering;

/// Scores 0..=239 are the tag byte itself.
const SMALL_MAX: u8 = 0xEF;
const TAG_I16: u8 = 0xF0;
const TAG_I32: u8 = 0xF1;
const TAG_I64: u8 = 0xF2;
const TAG_F64: u8 = 0xF3;

/// The integer a score is stored as, when it is one: integral and within +-2^62, Redis'
/// `double2ll` rule (which also turns `-0` into `0`).
pub(super) fn as_int(v: f64) -> Option<i64> {
    (v == v.trunc() && v.abs() <= 4_611_686_018_427_387_904.0).then_some(v as i64)
}

fn encode_score(v: f64, out: &mut smallvec::SmallVec<[u8; 80]>) {
    match as_int(v) {
        Some(i) if (0..=SMALL_MAX as i64).contains(&i) => out.push(i as u8),
        Some(i) if i16::try_from(i).is_ok() => {
            out.push(TAG_I16);
            out.extend_from_slice(&(i as i16).to_le_bytes());
        }
        Some(i) if i32::try_from(i).is_ok() => {
            out.push(TAG_I32);
            out.extend_from_slice(&(i as i32).to_le_bytes());
        }
        Some(i) => {
            out.push(TAG_I64);
            out.extend_from_slice(&i.to_le_bytes());
        }
        None => {
            out.push(TAG_F64);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Decodes the score at `p`: (score, bytes used).
#[inline]
fn decode_score(b: &[u8], p: usize) -> (f64, usize) {
    let tag = b[p];
    let le = |n: usize| {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&b[p + 1..p + 1 + n]);
        a
    };
    match tag {
        0..=SMALL_MAX => (tag as f64, 1),
        TAG_I16 => (i16::from_le_bytes([b[p + 1], b[p + 2]]) as f64, 3),
        TAG_I32 => {
            let a = le(4);
            (i32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f64, 5)
        }
        TAG_I64 => (i64::from_le_bytes(le(8)) as f64, 9),
        _ => (f64::from_le_bytes(le(8)), 9),
    }
}

fn put_varint(mut n: usize, out: &mut smallvec::SmallVec<[u8; 80]>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn get_varint(b: &[u8], mut p: usize) -> (usize, usize) {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let c = b[p];
        p += 1;
        n |= ((c & 0x7F) as usize) << shift;
        if c < 0x80 {
            return (n, p);
        }
        shift += 7;
    }
}

/// One decoded entry and where it sits in the buffer.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub member: &'a [u8],
    pub score: f64,
    pub start: usize,
    pub end: usize,
}

/// Entries in order.
pub(super) struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = At<'a>;

    #[inline]
    fn next(&mut self) -> Option<At<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let (n, p) = get_varint(self.buf, start);
        let member = &self.buf[p..p + n];
        let (score, k) = decode_score(self.buf, p + n);
        self.pos = p + n + k;
        Some(At {
            member,
            score,
            start,
            end: self.pos,
        })
    }
}

#[derive(Clone, Default)]
pub(super) struct Pack {
    buf: Vec<u8>,
    len: u32,
}

impl Pack {
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    pub(super) fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            pos: 0,
        }
    }

    pub(super) fn find(&self, member: &[u8]) -> Option<At<'_>> {
        self.iter().find(|e| e.member == member)
    }

    /// The entry of rank `r` (< len).
    pub(super) fn nth(&self, r: usize) -> At<'_> {
        self.iter().nth(r).expect("rank below length")
    }

    /// Adds a member known to be absent at its place in the order.
    pub(super) fn insert(&mut self, member: &[u8], score: f64) {
        let pos = self
            .iter()
            .find(|e| {
                (if e.score == score {
                    e.member.cmp(member)
                } else if e.score > score {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }) == Ordering::Greater
            })
            .map_or(self.buf.len(), |e| e.start);
        let mut enc = smallvec::SmallVec::<[u8; 80]>::new();
        put_varint(member.len(), &mut enc);
        enc.extend_from_slice(member);
        encode_score(score, &mut enc);
        self.buf.reserve_exact(enc.len());
        self.buf.splice(pos..pos, enc);
        self.len += 1;
    }

    /// Appends an entry known to sort after every other one.
    pub(super) fn push(&mut self, member: &[u8], score: f64) {
        let mut enc = smallvec::SmallVec::<[u8; 80]>::new();
        put_varint(member.len(), &mut enc);
        enc.extend_from_slice(member);
        encode_score(score, &mut enc);
        self.buf.extend_from_slice(&enc);
        self.len += 1;
    }

    /// Removes the entries in bytes `start..end` (whole entries, `count` of them).
    pub(super) fn remove_bytes(&mut self, start: usize, end: usize, count: usize) {
        self.buf.drain(start..end);
        self.len -= count as u32;
        if self.buf.capacity() - self.buf.len() > self.buf.len() / 8 + 16 {
            self.buf.shrink_to_fit();
        }
    }

    /// Removes a member; its score if it was there.
    pub(super) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let e = self.find(member)?;
        let (score, start, end) = (e.score, e.start, e.end);
        self.remove_bytes(start, end, 1);
        Some(score)
    }

    /// Byte offsets of every entry start, plus the end of the buffer.
    pub(super) fn offsets(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.iter().map(|e| e.start).collect();
        v.push(self.buf.len());
        v
    }

    /// Removes the entries of ranks `start..end`.
    pub(super) fn remove_ranks(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let offs = self.offsets();
        self.remove_bytes(offs[start], offs[end], end - start);
    }

    pub(super) fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// Shrinks the buffer to its contents (after a bulk build).
    pub(super) fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Makes room for `bytes` more, so a batch of inserts reallocates once.
    pub(super) fn reserve(&mut self, bytes: usize) {
        self.buf.reserve_exact(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_in_every_width() {
        for v in [
            0.0,
            1.0,
            239.0,
            240.0,
            -1.0,
            32767.0,
            -32768.0,
            40000.0,
            -3e9,
            1e15,
            4.611686018427388e18,
            1e19,
            0.5,
            -2.25,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            1e-300,
        ] {
            let mut p = Pack::default();
            p.insert(b"m", v);
            assert_eq!(p.find(b"m").unwrap().score, v, "{v}");
        }
        let mut p = Pack::default();
        p.insert(b"m", -0.0);
        assert!(
            p.find(b"m").unwrap().score.is_sign_positive(),
            "-0 is stored as 0"
        );
    }

    #[test]
    fn entries_stay_sorted_and_long_members_work() {
        let mut p = Pack::default();
        let long = vec![b'x'; 300];
        p.insert(b"b", 1.0);
        p.insert(b"a", 1.0);
        p.insert(&long, 0.5);
        p.insert(b"c", -1.0);
        let got: Vec<(Vec<u8>, f64)> = p.iter().map(|e| (e.member.to_vec(), e.score)).collect();
        assert_eq!(
            got,
            vec![
                (b"c".to_vec(), -1.0),
                (long.clone(), 0.5),
                (b"a".to_vec(), 1.0),
                (b"b".to_vec(), 1.0)
            ]
        );
        assert_eq!(p.remove(&long), Some(0.5));
        assert_eq!(p.len(), 3);
        p.remove_ranks(0, 2);
        assert_eq!(p.nth(0).member, b"b");
        assert_eq!(p.len(), 1);
    }
}
