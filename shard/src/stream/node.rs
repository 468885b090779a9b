//! A stream node: a run of consecutive entries packed into one byte buffer, as Redis packs
//! them into one listpack per radix tree node.
//!
//! Layout of `data`:
//!
//! ```text
//! master fields:  nfields, (len, bytes) * nfields
//! entry:          flags, ms-delta, seq-delta, then
//!                   SAMEFIELDS: (len, value) * nfields-of-master
//!                   otherwise:  nfields, (len, field, len, value) * nfields
//! ```
//!
//! Numbers are LEB128 varints; the sequence delta may be negative and is zigzag-encoded. IDs
//! are deltas against the node's master ID and field names are not repeated when an entry has
//! the master's fields, so an entry of `XADD s * f1 v1 f2 v2 f3 v3` takes about 12 bytes.
//! Deleted entries stay in place, flagged, as in Redis.
//!
//! The node also counts the bytes Redis' listpack would take for the same entries: Redis
//! starts a new node when that size or the entry count reaches `stream-node-max-bytes` /
//! `stream-node-max-entries`, and approximate trimming (`MAXLEN ~`) removes whole nodes only,
//! so matching Redis' node boundaries makes `~` trim exactly what Redis trims.

use super::id::StreamId;

/// Entry flag: deleted (a tombstone).
pub(super) const FLAG_DELETED: u8 = 1;
/// Entry flag: the entry has the master entry's field names (stored once, in the master).
pub(super) const FLAG_SAMEFIELDS: u8 = 2;

/// Redis' cap on a listpack (`STREAM_LISTPACK_MAX_SIZE`).
pub(super) const LISTPACK_MAX_SIZE: u64 = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Varints

#[inline]
pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a varint at `*pos` (the buffer was written by [`put_varint`]).
#[inline]
pub(super) fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[inline]
fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

#[inline]
fn get_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, pos) as usize;
    let b = &buf[*pos..*pos + n];
    *pos += n;
    b
}

// ---------------------------------------------------------------------------------------------
// Redis' listpack sizes

/// Bytes of a listpack element's back-length for an element of `len` bytes.
fn lp_backlen(len: u64) -> u64 {
    match len {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// Bytes of an integer element of a listpack.
pub(super) fn lp_int(v: i64) -> u64 {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    };
    enc + 1
}

/// Bytes of a string element of a listpack (stored as an integer when it is one's canonical
/// form, as `lpStringToInt64` decides).
pub(super) fn lp_str(s: &[u8]) -> u64 {
    if let Some(v) = crate::num::parse_i64(s) {
        return lp_int(v);
    }
    let len = s.len() as u64;
    let enc = match len {
        0..=63 => 1 + len,
        64..=4095 => 2 + len,
        _ => 5 + len,
    };
    enc + lp_backlen(enc)
}

// ---------------------------------------------------------------------------------------------
// Entries

/// One entry of a node, decoded lazily.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub(super) flags: u8,
    /// The master's field names (encoded), used when the entry has SAMEFIELDS.
    master: &'a [u8],
    nfields: usize,
    /// The entry's encoded values (SAMEFIELDS) or fields and values.
    body: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// Whether the entry is a tombstone.
    pub fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    /// Number of field-value pairs.
    pub fn len(&self) -> usize {
        self.nfields
    }

    /// Whether the entry has its node's master field names (Redis' `SAMEFIELDS` flag: only
    /// its values are stored).
    pub fn has_master_fields(&self) -> bool {
        self.flags & FLAG_SAMEFIELDS != 0
    }

    /// Whether it has no fields (never for an entry XADD stored).
    pub fn is_empty(&self) -> bool {
        self.nfields == 0
    }

    /// The field-value pairs in order.
    pub fn pairs(&self) -> Pairs<'a> {
        Pairs {
            same: self.flags & FLAG_SAMEFIELDS != 0,
            master: self.master,
            mpos: 0,
            body: self.body,
            pos: 0,
            left: self.nfields,
        }
    }
}

/// The field-value pairs of an entry.
pub struct Pairs<'a> {
    same: bool,
    master: &'a [u8],
    mpos: usize,
    body: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = if self.same {
            get_bytes(self.master, &mut self.mpos)
        } else {
            get_bytes(self.body, &mut self.pos)
        };
        let value = get_bytes(self.body, &mut self.pos);
        Some((field, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

// ---------------------------------------------------------------------------------------------
// Nodes

#[derive(Clone)]
pub(super) struct Node {
    /// The ID of the entry that created the node; entry IDs are stored relative to it.
    pub master: StreamId,
    data: Vec<u8>,
    /// Where the first entry starts (after the master fields).
    entries_at: u32,
    /// Entries not deleted.
    pub live: u64,
    /// Entries flagged as deleted.
    pub deleted: u64,
    /// Redis' listpack size for these entries, without the live and deleted counters.
    lp_base: u64,
}

/// The fields of an entry being added.
pub(super) type Fields<'a> = &'a [(&'a [u8], &'a [u8])];

impl Node {
    /// A node whose master entry takes its fields from `fields`, holding that one entry.
    pub fn new(id: StreamId, fields: Fields, capacity: usize) -> Node {
        let mut n = Node::empty(id, fields.iter().map(|(f, _)| *f), capacity);
        n.push(id, fields);
        n
    }

    /// A node without entries, master ID `master`, master field names `names`.
    pub fn empty<'a>(
        master: StreamId,
        names: impl ExactSizeIterator<Item = &'a [u8]>,
        capacity: usize,
    ) -> Node {
        let mut data = Vec::with_capacity(capacity);
        put_varint(&mut data, names.len() as u64);
        // Listpack header and end byte, the master's field count, fields and terminator.
        let mut lp_base = 7 + lp_int(names.len() as i64) + lp_int(0);
        for f in names {
            put_bytes(&mut data, f);
            lp_base += lp_str(f);
        }
        Node {
            master,
            entries_at: data.len() as u32,
            data,
            live: 0,
            deleted: 0,
            lp_base,
        }
    }

    /// The master entry's field names.
    pub fn master_names(&self) -> MasterNames<'_> {
        let (left, buf) = self.master_fields();
        MasterNames { buf, pos: 0, left }
    }

    /// Appends an entry restored from a snapshot, a tombstone when `deleted` (its ID greater
    /// than every ID in the node).
    pub fn push_restored(&mut self, id: StreamId, fields: Fields, deleted: bool) {
        let at = self.data.len() as u32;
        self.push(id, fields);
        if deleted {
            self.mark_deleted(at);
        }
    }

    /// Redis' `lpBytes` of the node's listpack.
    pub fn lp_bytes(&self) -> u64 {
        self.lp_base + lp_int(self.live as i64) + lp_int(self.deleted as i64)
    }

    /// Entries stored, deleted ones included.
    pub fn stored(&self) -> u64 {
        self.live + self.deleted
    }

    fn master_fields(&self) -> (usize, &[u8]) {
        let mut pos = 0;
        let n = get_varint(&self.data, &mut pos) as usize;
        (n, &self.data[pos..self.entries_at as usize])
    }

    /// Whether `fields` has exactly the master's field names.
    fn same_fields(&self, fields: Fields) -> bool {
        let (n, master) = self.master_fields();
        let mut pos = 0;
        n == fields.len()
            && fields
                .iter()
                .all(|(f, _)| get_bytes(master, &mut pos) == *f)
    }

    /// Appends an entry (its ID greater than every ID in the node).
    pub fn push(&mut self, id: StreamId, fields: Fields) {
        let same = self.same_fields(fields);
        let flags = if same { FLAG_SAMEFIELDS } else { 0 };
        let ms_delta = id.ms.wrapping_sub(self.master.ms);
        let seq_delta = id.seq.wrapping_sub(self.master.seq) as i64;
        self.data.push(flags);
        put_varint(&mut self.data, ms_delta);
        put_varint(&mut self.data, zigzag(seq_delta));
        let mut lp = lp_int(flags as i64) + lp_int(ms_delta as i64) + lp_int(seq_delta);
        let n = fields.len() as i64;
        let mut lp_count = n + 3;
        if !same {
            put_varint(&mut self.data, fields.len() as u64);
            lp += lp_int(n);
            lp_count += n + 1;
        }
        for (f, v) in fields {
            if !same {
                put_bytes(&mut self.data, f);
                lp += lp_str(f);
            }
            put_bytes(&mut self.data, v);
            lp += lp_str(v);
        }
        lp += lp_int(lp_count);
        self.lp_base += lp;
        self.live += 1;
    }

    /// Gives back the spare capacity of a node no more entries will go to.
    pub fn seal(&mut self) {
        self.data.shrink_to_fit();
    }

    /// Decodes the entry at `pos`, returning it and where the next one starts.
    fn entry_at(&self, pos: usize) -> (EntryRef<'_>, usize) {
        let d = &self.data;
        let (mcount, master) = self.master_fields();
        let mut p = pos;
        let flags = d[p];
        p += 1;
        let ms = self.master.ms.wrapping_add(get_varint(d, &mut p));
        let seq = self
            .master
            .seq
            .wrapping_add(unzigzag(get_varint(d, &mut p)) as u64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        let nfields = if same {
            mcount
        } else {
            get_varint(d, &mut p) as usize
        };
        let start = p;
        for _ in 0..nfields * if same { 1 } else { 2 } {
            let n = get_varint(d, &mut p) as usize;
            p += n;
        }
        let e = EntryRef {
            id: StreamId::new(ms, seq),
            flags,
            master,
            nfields,
            body: &d[start..p],
        };
        (e, p)
    }

    /// Every entry with its position, deleted ones included, in ID order.
    pub fn entries(&self) -> NodeIter<'_> {
        NodeIter {
            node: self,
            pos: self.entries_at as usize,
        }
    }

    /// The positions of every entry (for walking a node backwards).
    pub fn positions(&self) -> Vec<u32> {
        self.entries().map(|(p, _)| p as u32).collect()
    }

    /// The entry at `pos` (a position from [`Node::positions`]).
    pub fn entry(&self, pos: u32) -> EntryRef<'_> {
        self.entry_at(pos as usize).0
    }

    /// The last entry, deleted or not (Redis' `lpGetEdgeStreamID` for the last one).
    pub fn last(&self) -> EntryRef<'_> {
        self.entries()
            .last()
            .expect("nodes hold at least one entry")
            .1
    }

    /// Flags the entry at `pos` as deleted (it must be live).
    pub fn mark_deleted(&mut self, pos: u32) {
        debug_assert!(self.data[pos as usize] & FLAG_DELETED == 0);
        self.data[pos as usize] |= FLAG_DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    /// Heap bytes of the node's buffer.
    pub fn heap_size(&self) -> usize {
        self.data.capacity()
    }
}

/// The master entry's field names of a node.
pub struct MasterNames<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for MasterNames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(get_bytes(self.buf, &mut self.pos))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for MasterNames<'_> {}

/// The entries of a node with their positions.
pub(super) struct NodeIter<'a> {
    node: &'a Node,
    pos: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = (usize, EntryRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.node.data.len() {
            return None;
        }
        let at = self.pos;
        let (e, next) = self.node.entry_at(at);
        self.pos = next;
        Some((at, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut p = 0;
            assert_eq!(get_varint(&b, &mut p), v);
            assert_eq!(p, b.len());
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn listpack_sizes_as_redis() {
        assert_eq!(lp_int(0), 2);
        assert_eq!(lp_int(127), 2);
        assert_eq!(lp_int(128), 3);
        assert_eq!(lp_int(-1), 3);
        assert_eq!(lp_int(40000), 5);
        assert_eq!(lp_int(i64::MAX), 10);
        assert_eq!(lp_str(b"v1"), 4);
        assert_eq!(lp_str(b"12"), 2, "integers are stored as such");
        assert_eq!(lp_str(b"012"), 5);
        assert_eq!(lp_str(&[b'x'; 64]), 67);
        assert_eq!(lp_str(&[b'x'; 200]), 204);
    }

    #[test]
    fn entries_decode_with_and_without_the_master_fields() {
        let a: Fields = &[(b"f1", b"v1"), (b"f2", b"v2")];
        let b: Fields = &[(b"other", b"x")];
        let mut n = Node::new(StreamId::new(10, 5), a, 64);
        n.push(StreamId::new(10, 6), b);
        n.push(StreamId::new(11, 0), a);
        type Pairs = Vec<(Vec<u8>, Vec<u8>)>;
        let got: Vec<(StreamId, Pairs)> = n
            .entries()
            .map(|(_, e)| {
                (
                    e.id,
                    e.pairs().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                )
            })
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, StreamId::new(10, 6));
        assert_eq!(got[1].1, vec![(b"other".to_vec(), b"x".to_vec())]);
        assert_eq!(got[2].0, StreamId::new(11, 0), "negative sequence delta");
        assert_eq!(got[2].1[1], (b"f2".to_vec(), b"v2".to_vec()));
        let pos = n.positions();
        n.mark_deleted(pos[1]);
        assert!(n.entry(pos[1]).is_deleted());
        assert_eq!((n.live, n.deleted), (2, 1));
        assert_eq!(n.last().id, StreamId::new(11, 0));
    }

    #[test]
    fn listpack_size_of_a_known_node() {
        // XADD s 1-1 a 1 (a fresh listpack as Redis builds it): header 6, count 1 (2),
        // deleted 0 (2), master nfields 1 (2), "a" (3), terminator 0 (2); entry: flags (2),
        // ms 0 (2), seq 0 (2), "1" (2), lp-count 4 (2); end byte 1. Total 28.
        let n = Node::new(StreamId::new(1, 1), &[(b"a", b"1")], 16);
        assert_eq!(n.lp_bytes(), 28);
    }
}
