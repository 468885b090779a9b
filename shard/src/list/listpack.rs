//! One listpack node: a contiguous buffer of self-describing entries, Redis' `listpack.c`
//! entry format.
//!
//! Every entry is `header [payload] backlen`. The header says whether the entry is an integer
//! (7, 13, 16, 24, 32 or 64 bits) or a string (6, 12 or 32-bit length), and `backlen` is the
//! length of `header + payload` written backwards in 7-bit groups, so the buffer can be walked
//! in both directions. Strings that are canonical decimal integers are stored as integers, as
//! Redis does. The entries take exactly the bytes Redis' entries take, which matters twice:
//! memory per element is Redis', and the sizes Redis compares against `list-max-listpack-size`
//! (a listpack's `lpBytes`: the entries plus a 6-byte header and a 1-byte end marker, which
//! are not stored here) come out the same, so encodings convert where Redis converts them.

use crate::num::parse_i64;
use crate::reply::Reply;

/// Bytes Redis counts in a listpack besides its entries: the header (total bytes, element
/// count) and the end marker.
pub const LP_OVERHEAD: usize = 7;

/// Header bytes of the fixed-width entry types.
const INT16: u8 = 0xF1;
const INT24: u8 = 0xF2;
const INT32: u8 = 0xF3;
const INT64: u8 = 0xF4;
const STR32: u8 = 0xF0;
/// Strings of 4 GiB and more (which Redis would keep in a "plain" node of their own): a
/// 64-bit length. Never produced by Redis' listpacks; only its size class differs.
const STR64: u8 = 0xF5;

/// An element as stored: an integer or a byte string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// How `v` is stored: as an integer when it is the canonical text of one.
    #[inline]
    pub fn classify(v: &'a [u8]) -> Elem<'a> {
        match parse_i64(v) {
            Some(i) => Elem::Int(i),
            None => Elem::Str(v),
        }
    }

    /// Writes the element as a bulk string reply.
    #[inline]
    pub fn reply(self, out: &mut Reply) {
        match self {
            Elem::Int(i) => out.bulk(itoa::Buffer::new().format(i).as_bytes()),
            Elem::Str(s) => out.bulk(s),
        }
    }

    /// Calls `f` with the element's text (integers are formatted on the stack).
    #[inline]
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(i) => f(itoa::Buffer::new().format(i).as_bytes()),
            Elem::Str(s) => f(s),
        }
    }

    /// A copy that outlives the node.
    pub fn to_owned(self) -> Owned {
        match self {
            Elem::Int(i) => Owned::Int(i),
            Elem::Str(s) => Owned::Str(s.to_vec()),
        }
    }
}

/// An element taken out of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owned {
    Int(i64),
    Str(Vec<u8>),
}

impl Owned {
    /// The element, borrowed.
    pub fn as_elem(&self) -> Elem<'_> {
        match self {
            Owned::Int(i) => Elem::Int(*i),
            Owned::Str(s) => Elem::Str(s),
        }
    }

    /// The element's text.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Owned::Int(i) => itoa::Buffer::new().format(i).as_bytes().to_vec(),
            Owned::Str(s) => s,
        }
    }
}

/// A value searched for (LREM, LPOS, LINSERT's pivot), classified once: a stored integer
/// equals it exactly when the value is that integer's canonical text.
#[derive(Clone, Copy)]
pub struct Pattern<'a> {
    int: Option<i64>,
    bytes: &'a [u8],
}

impl<'a> Pattern<'a> {
    /// The pattern for the argument `bytes`.
    pub fn new(bytes: &'a [u8]) -> Pattern<'a> {
        Pattern {
            int: parse_i64(bytes),
            bytes,
        }
    }

    /// Whether the stored element `e` equals the pattern.
    #[inline]
    pub fn matches(&self, e: Elem) -> bool {
        match (e, self.int) {
            (Elem::Int(v), Some(p)) => v == p,
            // Strings are never stored in integer form, so a string entry cannot equal an
            // integer pattern.
            (Elem::Str(s), None) => s == self.bytes,
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entry sizes and encoding

fn int_len(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

fn str_len(n: usize) -> usize {
    if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else if n <= u32::MAX as usize {
        5 + n
    } else {
        9 + n
    }
}

/// Bytes of the back-length of an entry whose header and payload take `l` bytes (Redis'
/// thresholds, quirks included: 16383 needs three bytes).
fn backlen_len(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else if l < (1 << 35) {
        5
    } else {
        10
    }
}

fn enc_len(e: Elem) -> usize {
    match e {
        Elem::Int(v) => int_len(v),
        Elem::Str(s) => str_len(s.len()),
    }
}

/// Total bytes of the entry storing `e`.
pub fn entry_len(e: Elem) -> usize {
    let l = enc_len(e);
    l + backlen_len(l)
}

/// Writes `e` as an entry into `out`, which is exactly [`entry_len`] bytes long.
fn write_entry(e: Elem, out: &mut [u8]) {
    let l = match e {
        Elem::Int(v) => {
            let b = v.to_le_bytes();
            match int_len(v) {
                1 => out[0] = v as u8,
                2 => {
                    let u = (v as u64) & 0x1FFF;
                    out[0] = 0xC0 | (u >> 8) as u8;
                    out[1] = u as u8;
                }
                3 => {
                    out[0] = INT16;
                    out[1..3].copy_from_slice(&b[..2]);
                }
                4 => {
                    out[0] = INT24;
                    out[1..4].copy_from_slice(&b[..3]);
                }
                5 => {
                    out[0] = INT32;
                    out[1..5].copy_from_slice(&b[..4]);
                }
                _ => {
                    out[0] = INT64;
                    out[1..9].copy_from_slice(&b);
                }
            }
            int_len(v)
        }
        Elem::Str(s) => {
            let n = s.len();
            let h = if n < 64 {
                out[0] = 0x80 | n as u8;
                1
            } else if n < 4096 {
                out[0] = 0xE0 | (n >> 8) as u8;
                out[1] = n as u8;
                2
            } else if let Ok(n32) = u32::try_from(n) {
                out[0] = STR32;
                out[1..5].copy_from_slice(&n32.to_le_bytes());
                5
            } else {
                out[0] = STR64;
                out[1..9].copy_from_slice(&(n as u64).to_le_bytes());
                9
            };
            out[h..h + n].copy_from_slice(s);
            h + n
        }
    };
    // The back-length: most significant 7-bit group first; every byte but the first has the
    // high bit set, so a reader walking backwards knows when to stop.
    let k = backlen_len(l);
    let back = &mut out[l..l + k];
    for (i, byte) in back.iter_mut().enumerate() {
        let group = ((l as u64) >> (7 * (k - 1 - i))) as u8 & 0x7F;
        *byte = if i == 0 { group } else { group | 0x80 };
    }
}

/// Decodes the entry starting at `buf[0]`: the element and the entry's total length.
#[inline]
fn decode(buf: &[u8]) -> (Elem<'_>, usize) {
    let b = buf[0];
    let (e, l) = if b & 0x80 == 0 {
        (Elem::Int(b as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3F) as usize;
        (Elem::Str(&buf[1..1 + n]), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1F) as u16) << 8) | buf[1] as u16;
        // Sign-extend the 13-bit value.
        let v = ((u << 3) as i16 >> 3) as i64;
        (Elem::Int(v), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0F) as usize) << 8) | buf[1] as usize;
        (Elem::Str(&buf[2..2 + n]), 2 + n)
    } else {
        match b {
            INT16 => (Elem::Int(i16::from_le_bytes([buf[1], buf[2]]) as i64), 3),
            INT24 => {
                let v = i32::from_le_bytes([0, buf[1], buf[2], buf[3]]) >> 8;
                (Elem::Int(v as i64), 4)
            }
            INT32 => (
                Elem::Int(i32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]) as i64),
                5,
            ),
            INT64 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&buf[1..9]);
                (Elem::Int(i64::from_le_bytes(a)), 9)
            }
            STR32 => {
                let n = u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
                (Elem::Str(&buf[5..5 + n]), 5 + n)
            }
            _ => {
                debug_assert_eq!(b, STR64);
                let mut a = [0u8; 8];
                a.copy_from_slice(&buf[1..9]);
                let n = u64::from_le_bytes(a) as usize;
                (Elem::Str(&buf[9..9 + n]), 9 + n)
            }
        }
    };
    (e, l + backlen_len(l))
}

/// Reads the back-length ending just before `buf.len()`: the length of the previous entry's
/// header and payload, and the bytes the back-length itself takes.
#[inline]
fn decode_backlen(buf: &[u8]) -> (usize, usize) {
    let mut val = 0u64;
    let mut shift = 0;
    let mut i = buf.len();
    loop {
        i -= 1;
        let b = buf[i];
        val |= ((b & 0x7F) as u64) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (val as usize, buf.len() - i)
}

// ---------------------------------------------------------------------------------------------
// The node

/// A listpack: the entries, back to back, and their number. The buffer is kept at (or close
/// to) its exact size, as Redis reallocates a listpack on every change.
#[derive(Clone, Default, Debug)]
pub struct Node {
    buf: Vec<u8>,
    count: u32,
}

impl Node {
    /// An empty node with room for `bytes` of entries.
    pub fn with_capacity(bytes: usize) -> Node {
        Node {
            buf: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    /// Releases unused capacity.
    pub fn shrink_to_fit(&mut self) {
        if self.buf.capacity() > self.buf.len() {
            self.buf.shrink_to_fit();
        }
    }

    /// Number of entries.
    #[inline]
    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// The size Redis' `lpBytes` reports for this listpack.
    #[inline]
    pub fn lp_bytes(&self) -> usize {
        self.buf.len() + LP_OVERHEAD
    }

    /// Bytes of the entries (the offset just past the last one).
    #[inline]
    pub fn end(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// The element at byte offset `off` (which must start an entry).
    #[inline]
    pub fn get(&self, off: usize) -> Elem<'_> {
        decode(&self.buf[off..]).0
    }

    /// The element at `off` and the offset of the next entry.
    #[inline]
    pub fn get_next(&self, off: usize) -> (Elem<'_>, usize) {
        let (e, l) = decode(&self.buf[off..]);
        (e, off + l)
    }

    /// The offset of the entry before the one at `off` (`off` may be [`Node::end`]).
    #[inline]
    pub fn prev(&self, off: usize) -> usize {
        let (l, k) = decode_backlen(&self.buf[..off]);
        off - k - l
    }

    /// The byte offset of entry `idx` (< count), walking from the nearer end.
    pub fn seek(&self, idx: usize) -> usize {
        debug_assert!(idx < self.count());
        if idx <= self.count() / 2 {
            let mut off = 0;
            for _ in 0..idx {
                off = self.get_next(off).1;
            }
            off
        } else {
            let mut off = self.end();
            for _ in idx..self.count() {
                off = self.prev(off);
            }
            off
        }
    }

    /// Opens a gap of `n` bytes at `off`.
    fn make_room(&mut self, off: usize, n: usize) {
        // Exact growth keeps a node at its size (the allocator rounds it to its size class);
        // growing within that class is an in-place reallocation.
        self.buf.reserve_exact(n);
        let old = self.buf.len();
        self.buf.resize(old + n, 0);
        self.buf.copy_within(off..old, off + n);
    }

    /// Gives memory back once enough of the buffer is unused.
    fn trim(&mut self) {
        let (len, cap) = (self.buf.len(), self.buf.capacity());
        if cap - len > len / 8 + 64 {
            self.buf.shrink_to_fit();
        }
    }

    /// Inserts `v` as a new entry at byte offset `off` (before the entry there, or at the end).
    pub fn insert(&mut self, off: usize, v: &[u8]) {
        let e = Elem::classify(v);
        let n = entry_len(e);
        self.make_room(off, n);
        write_entry(e, &mut self.buf[off..off + n]);
        self.count += 1;
    }

    /// Inserts `v` before the first entry.
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert(0, v);
    }

    /// Appends `v` after the last entry.
    pub fn push_back(&mut self, v: &[u8]) {
        self.insert(self.end(), v);
    }

    /// Replaces the entry at `off` with `v`.
    pub fn replace(&mut self, off: usize, v: &[u8]) {
        let old = decode(&self.buf[off..]).1;
        let e = Elem::classify(v);
        let n = entry_len(e);
        if n > old {
            self.make_room(off + old, n - old);
        } else if n < old {
            self.buf.copy_within(off + old.., off + n);
            self.buf.truncate(self.buf.len() - (old - n));
            self.trim();
        }
        write_entry(e, &mut self.buf[off..off + n]);
    }

    /// Removes the `n` entries in bytes `from..to`.
    fn remove_bytes(&mut self, from: usize, to: usize, n: usize) {
        self.buf.drain(from..to);
        self.count -= n as u32;
        self.trim();
    }

    /// Removes the entry at `off`.
    pub fn remove(&mut self, off: usize) {
        let l = decode(&self.buf[off..]).1;
        self.remove_bytes(off, off + l, 1);
    }

    /// Removes `n` entries starting with entry `idx`.
    pub fn remove_range(&mut self, idx: usize, n: usize) {
        debug_assert!(idx + n <= self.count());
        if n == 0 {
            return;
        }
        if n == self.count() {
            self.buf = Vec::new();
            self.count = 0;
            return;
        }
        let from = self.seek(idx);
        let mut to = from;
        for _ in 0..n {
            to = self.get_next(to).1;
        }
        self.remove_bytes(from, to, n);
    }

    /// Removes the entries from `off` on (the first `idx` entries stay) and returns them as
    /// a node of their own.
    pub fn split_off(&mut self, off: usize, idx: usize) -> Node {
        let tail = Node {
            buf: self.buf[off..].to_vec(),
            count: self.count - idx as u32,
        };
        self.buf.truncate(off);
        self.count = idx as u32;
        self.buf.shrink_to_fit();
        tail
    }

    /// Appends the entries of `other`.
    pub fn append(&mut self, other: Node) {
        self.buf.reserve_exact(other.buf.len());
        self.buf.extend_from_slice(&other.buf);
        self.count += other.count;
    }

    /// Puts the entries of `other` before this node's.
    pub fn prepend(&mut self, other: Node) {
        self.make_room(0, other.buf.len());
        self.buf[..other.buf.len()].copy_from_slice(&other.buf);
        self.count += other.count;
    }

    /// Removes up to `limit` entries equal to `pat` (all of them for `usize::MAX`), the first
    /// ones or, `from_tail`, the last ones. Returns how many it removed.
    pub fn remove_matching(&mut self, pat: &Pattern, limit: usize, from_tail: bool) -> usize {
        // Entries to delete, as byte ranges, in buffer order.
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let mut off = 0;
        while off < self.buf.len() {
            let (e, next) = self.get_next(off);
            if pat.matches(e) {
                hits.push((off, next));
                if !from_tail && hits.len() == limit {
                    break;
                }
            }
            off = next;
        }
        if from_tail && hits.len() > limit {
            hits.drain(..hits.len() - limit);
        }
        if hits.is_empty() {
            return 0;
        }
        // Compact in place: slide each kept run left over the removed entries.
        let mut write = hits[0].0;
        for (i, &(_, end)) in hits.iter().enumerate() {
            let next_start = hits.get(i + 1).map_or(self.buf.len(), |h| h.0);
            self.buf.copy_within(end..next_start, write);
            write += next_start - end;
        }
        self.buf.truncate(write);
        self.count -= hits.len() as u32;
        self.trim();
        hits.len()
    }

    /// The elements front to back.
    pub fn iter(&self) -> NodeIter<'_> {
        NodeIter {
            node: self,
            off: 0,
            end: self.end(),
        }
    }
}

/// Walks a node's elements in either direction.
pub struct NodeIter<'a> {
    node: &'a Node,
    off: usize,
    end: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.off >= self.end {
            return None;
        }
        let (e, next) = self.node.get_next(self.off);
        self.off = next;
        Some(e)
    }
}

impl DoubleEndedIterator for NodeIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.off >= self.end {
            return None;
        }
        self.end = self.node.prev(self.end);
        Some(self.node.get(self.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(items: &[&[u8]]) -> Node {
        let mut n = Node::default();
        for i in items {
            n.push_back(i);
        }
        n
    }

    fn items(n: &Node) -> Vec<Vec<u8>> {
        n.iter().map(|e| e.with_bytes(|b| b.to_vec())).collect()
    }

    #[test]
    fn every_encoding_round_trips_both_ways() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 100];
        let values: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "-4097",
            "32767",
            "-32768",
            "32768",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "",
            "a",
            "01",
            "-0",
            "+1",
            "9223372036854775808",
            " 1",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([long, mid, b"\x00\xff\r\n".to_vec()])
        .collect();
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        let n = node(&refs);
        assert_eq!(n.count(), values.len());
        assert_eq!(items(&n), values);
        let back: Vec<Vec<u8>> = n
            .iter()
            .rev()
            .map(|e| e.with_bytes(|b| b.to_vec()))
            .collect();
        assert_eq!(back, values.iter().rev().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn entry_sizes_are_redis_listpack_sizes() {
        let size = |v: &[u8]| entry_len(Elem::classify(v));
        assert_eq!(size(b"5"), 2); // 7-bit uint + backlen
        assert_eq!(size(b"-1"), 3); // 13-bit int
        assert_eq!(size(b"10000"), 4); // 16-bit int
        assert_eq!(size(b"1000000"), 5); // 24-bit int
        assert_eq!(size(b"100000000"), 6); // 32-bit int
        assert_eq!(size(b"10000000000"), 10); // 64-bit int
        assert_eq!(size(b"hello"), 7); // 6-bit string: 1 + 5 + 1
        assert_eq!(size(&[b'a'; 63]), 65);
        assert_eq!(size(&[b'a'; 64]), 67); // 12-bit string, backlen 1 (66 <= 127)
        assert_eq!(size(&[b'a'; 126]), 130); // 128 bytes of header+payload: 2-byte backlen
        assert_eq!(size(&[b'a'; 4096]), 4101 + 2);
        assert_eq!(node(&[b"a", b"1"]).lp_bytes(), 7 + 3 + 2);
    }

    #[test]
    fn seek_insert_replace_remove() {
        let mut n = node(&[b"a", b"b", b"c", b"d", b"e"]);
        assert_eq!(n.get(n.seek(3)), Elem::Str(b"d"));
        assert_eq!(n.get(n.seek(1)), Elem::Str(b"b"));
        let off = n.seek(2);
        n.insert(off, b"12345");
        assert_eq!(items(&n), [&b"a"[..], b"b", b"12345", b"c", b"d", b"e"]);
        let off = n.seek(0);
        n.replace(off, &[b'z'; 300]);
        let off = n.seek(5);
        n.replace(off, b"E");
        assert_eq!(n.get(n.seek(0)), Elem::Str(&[b'z'; 300]));
        n.remove_range(1, 3);
        assert_eq!(items(&n), [vec![b'z'; 300], b"d".to_vec(), b"E".to_vec()]);
        n.remove(n.seek(1));
        assert_eq!(n.count(), 2);
        let tail = n.split_off(n.seek(1), 1);
        assert_eq!(items(&tail), [b"E".to_vec()]);
        n.append(tail);
        n.prepend(node(&[b"first"]));
        assert_eq!(
            items(&n),
            [b"first".to_vec(), vec![b'z'; 300], b"E".to_vec()]
        );
        assert_eq!(n.lp_bytes(), 7 + 7 + 304 + 3);
    }

    #[test]
    fn remove_matching_from_either_end() {
        let mut n = node(&[b"x", b"1", b"x", b"y", b"x", b"01", b"1"]);
        assert_eq!(n.remove_matching(&Pattern::new(b"x"), 2, true), 2);
        assert_eq!(items(&n), [&b"x"[..], b"1", b"y", b"01", b"1"]);
        assert_eq!(n.remove_matching(&Pattern::new(b"1"), usize::MAX, false), 2);
        assert_eq!(items(&n), [&b"x"[..], b"y", b"01"]);
        assert_eq!(n.remove_matching(&Pattern::new(b"01"), 1, false), 1);
        assert_eq!(n.remove_matching(&Pattern::new(b"nope"), 1, false), 0);
        assert_eq!(items(&n), [&b"x"[..], b"y"]);
    }
}
