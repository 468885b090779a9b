//! The `listpack` encoding of a small set: every member in one contiguous buffer, in insertion
//! order, as Redis 7.2's listpack sets. The buffer starts with the member count (4 bytes, so
//! SCARD is O(1)) followed by one `varint length + bytes` entry per member; it is sized
//! exactly, like Redis' listpacks, so a small set costs its members plus about one byte each.

/// Members in insertion order, linear search (the encoding only holds small sets).
#[derive(Clone, Debug)]
pub struct Listpack {
    buf: Vec<u8>,
}

const HEADER: usize = 4;

impl Default for Listpack {
    fn default() -> Listpack {
        Listpack::with_capacity(0)
    }
}

/// Appends `n` as a LEB128 varint.
fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Reads a LEB128 varint at `pos`: (value, bytes used).
pub(super) fn get_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let b = buf[i];
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (n, i - pos);
        }
        shift += 7;
    }
}

/// Bytes a varint of `n` takes.
pub(super) fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Writes the `varint length + bytes` entry of `member` to `buf`.
pub(super) fn put_entry(buf: &mut Vec<u8>, member: &[u8]) {
    put_varint(buf, member.len());
    buf.extend_from_slice(member);
}

/// The entry at `pos`: (member, position of the next entry).
pub(super) fn entry_at(buf: &[u8], pos: usize) -> (&[u8], usize) {
    let (len, used) = get_varint(buf, pos);
    let start = pos + used;
    (&buf[start..start + len], start + len)
}

impl Listpack {
    /// An empty listpack with room for `bytes` bytes of entries.
    pub fn with_capacity(bytes: usize) -> Listpack {
        let mut buf = Vec::with_capacity(HEADER + bytes);
        buf.extend_from_slice(&0u32.to_le_bytes());
        Listpack { buf }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        u32::from_le_bytes(self.buf[..HEADER].try_into().expect("4-byte header")) as usize
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_len(&mut self, n: usize) {
        let n = u32::try_from(n).expect("a listpack holds at most u32::MAX members");
        self.buf[..HEADER].copy_from_slice(&n.to_le_bytes());
    }

    /// The members in order, each with its entry's offset.
    pub fn entries(&self) -> Entries<'_> {
        Entries {
            buf: &self.buf,
            pos: HEADER,
        }
    }

    /// The members in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.entries().map(|(_, m)| m)
    }

    /// The offset of `member`'s entry, if present.
    pub fn find(&self, member: &[u8]) -> Option<usize> {
        self.entries()
            .find(|(_, m)| *m == member)
            .map(|(pos, _)| pos)
    }

    /// Appends `member` (the caller knows it is absent), growing the buffer exactly.
    pub fn push(&mut self, member: &[u8]) {
        self.buf
            .reserve_exact(varint_len(member.len()) + member.len());
        put_entry(&mut self.buf, member);
        let n = self.len() + 1;
        self.set_len(n);
    }

    /// Appends `member` with amortized growth (building a listpack from scratch).
    pub fn push_amortized(&mut self, member: &[u8]) {
        put_entry(&mut self.buf, member);
        let n = self.len() + 1;
        self.set_len(n);
    }

    /// Removes the entry at offset `pos` (from [`find`](Self::find) or [`entries`](Self::entries)).
    pub fn remove_at(&mut self, pos: usize) {
        let (_, next) = entry_at(&self.buf, pos);
        self.buf.drain(pos..next);
        self.buf.shrink_to_fit();
        let n = self.len() - 1;
        self.set_len(n);
    }

    /// Removes `member`; true if it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some(pos) => {
                self.remove_at(pos);
                true
            }
            None => false,
        }
    }

    /// The offset of the `i`th entry.
    pub fn offset_of(&self, i: usize) -> usize {
        self.entries().nth(i).expect("index below len").0
    }

    /// The member whose entry starts at `pos`.
    pub fn member_at(&self, pos: usize) -> &[u8] {
        entry_at(&self.buf, pos).0
    }

    /// Removes the entries whose indexes are listed (ascending) in `drop`, in one pass.
    pub fn remove_indexes(&mut self, drop: &[usize]) {
        let mut out = Vec::with_capacity(self.buf.len());
        out.extend_from_slice(&self.buf[..HEADER]);
        let mut d = drop.iter().peekable();
        for (i, (_, m)) in self.entries().enumerate() {
            if d.peek() == Some(&&i) {
                d.next();
            } else {
                put_entry(&mut out, m);
            }
        }
        out.shrink_to_fit();
        let n = self.len() - drop.len();
        self.buf = out;
        self.set_len(n);
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Heap bytes held.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }
}

/// Iterator over a listpack's `(offset, member)` pairs.
pub struct Entries<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let at = self.pos;
        let (m, next) = entry_at(self.buf, at);
        self.pos = next;
        Some((at, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_through_removals() {
        let mut lp = Listpack::default();
        let long = vec![b'x'; 300];
        for m in [&b"a"[..], b"", &long, b"b"] {
            lp.push(m);
        }
        assert_eq!(lp.len(), 4);
        assert!(lp.find(&long).is_some() && lp.find(b"c").is_none());
        assert!(lp.remove(b""));
        assert!(!lp.remove(b""));
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"a"[..], &long, b"b"]);
        lp.remove_indexes(&[0, 2]);
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&long[..]]);
        assert_eq!(lp.len(), 1);
        let pos = lp.offset_of(0);
        assert_eq!(lp.member_at(pos), &long[..]);
    }

    #[test]
    fn varints_round_trip() {
        for n in [0, 1, 127, 128, 16_383, 16_384, usize::MAX >> 1] {
            let mut b = Vec::new();
            put_varint(&mut b, n);
            assert_eq!(get_varint(&b, 0), (n, b.len()));
            assert_eq!(varint_len(n), b.len());
        }
    }
}
