//! The replication stream: the effects of every shard, in one order, as a replica applies
//! them (RESP commands, a `SELECT` wherever the database changes), each byte numbered by its
//! offset (`master_repl_offset` counts every byte ever appended). The backlog keeps the
//! latest bytes so a replica that reconnects can continue (PSYNC) and so replicas that are
//! behind read from it instead of each keeping a copy.
//!
//! Offsets here are 0-based byte counts: a replica that has applied `n` bytes asks Redis'
//! `PSYNC <replid> <n + 1>`; the backlog's `repl_backlog_first_byte_offset` is
//! [`Stream::backlog_start`] + 1.

use shard::effects::encode_command;
use std::collections::VecDeque;

/// Bytes per backlog block: appends fill the last block, trimming drops whole blocks.
const BLOCK: usize = 64 * 1024;

/// The stream and its backlog.
pub struct Stream {
    /// Bytes ever appended (`master_repl_offset`).
    offset: u64,
    /// The database a replica applying the stream is in now (None: not known yet, the next
    /// command selects one).
    db: Option<usize>,
    /// The latest bytes, in blocks; `start` is the offset of the first block's first byte.
    blocks: VecDeque<Vec<u8>>,
    start: u64,
    /// Bytes the backlog keeps at least (`repl-backlog-size`).
    size: u64,
}

impl Stream {
    /// An empty stream starting at `offset`, keeping `size` bytes of backlog.
    pub fn new(offset: u64, size: u64) -> Stream {
        Stream {
            offset,
            db: None,
            blocks: VecDeque::new(),
            start: offset,
            size,
        }
    }

    /// `master_repl_offset`.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The database a replica applying the stream is in now (`repl-stream-db`).
    pub fn db(&self) -> Option<usize> {
        self.db
    }

    /// The offset of the oldest byte the backlog holds.
    pub fn backlog_start(&self) -> u64 {
        self.start
    }

    /// Bytes the backlog holds (`repl_backlog_histlen`).
    pub fn backlog_len(&self) -> u64 {
        self.offset - self.start
    }

    /// `repl-backlog-size` changed.
    pub fn set_size(&mut self, size: u64) {
        self.size = size;
    }

    /// Appends a piece of one shard's effects log: `bytes` whose first commands run in
    /// `start_db` (unless they select a database first) and after which the reader is in
    /// `end_db` (see `shard::effects::Chunk`).
    pub fn append_chunk(&mut self, start_db: Option<usize>, end_db: Option<usize>, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(db) = start_db {
            if self.db != Some(db) {
                self.append_select(db);
            }
        }
        self.append(bytes);
        self.db = end_db.or(self.db);
    }

    /// Appends a command that runs in no particular database (PING, REPLCONF GETACK), or
    /// in `db` when given.
    pub fn append_command(&mut self, db: Option<usize>, args: &[&[u8]]) {
        if let Some(db) = db {
            if self.db != Some(db) {
                self.append_select(db);
            }
        }
        let mut c = Vec::new();
        encode_command(&mut c, args.iter());
        self.append(&c);
    }

    fn append_select(&mut self, db: usize) {
        let n = db.to_string();
        let mut c = Vec::new();
        let select: [&[u8]; 2] = [b"SELECT", n.as_bytes()];
        encode_command(&mut c, select.iter());
        self.append(&c);
        self.db = Some(db);
    }

    fn append(&mut self, mut bytes: &[u8]) {
        self.offset += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = match self.blocks.back() {
                Some(b) if b.len() < BLOCK => BLOCK - b.len(),
                _ => {
                    self.blocks.push_back(Vec::with_capacity(BLOCK));
                    BLOCK
                }
            };
            let n = room.min(bytes.len());
            let last = self.blocks.back_mut().expect("a block was just ensured");
            last.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
    }

    /// Drops whole blocks that lie before both `keep_from` (what a replica still needs)
    /// and the last `size` bytes.
    pub fn trim(&mut self, keep_from: u64) {
        let cut = keep_from.min(self.offset.saturating_sub(self.size));
        while let Some(first) = self.blocks.front() {
            let end = self.start + first.len() as u64;
            if end > cut || self.blocks.len() == 1 {
                break;
            }
            self.start = end;
            self.blocks.pop_front();
        }
    }

    /// Whether the bytes from `from` on are all here (a PSYNC can continue from there).
    pub fn has(&self, from: u64) -> bool {
        from >= self.start && from <= self.offset
    }

    /// Copies up to `max` bytes from offset `from` into `out`; returns how many (0 when
    /// `from` is the end). None: `from` is no longer (or not yet) in the backlog.
    pub fn read(&self, from: u64, max: usize, out: &mut Vec<u8>) -> Option<usize> {
        if !self.has(from) {
            return None;
        }
        let mut skip = (from - self.start) as usize;
        let mut copied = 0;
        for b in &self.blocks {
            if skip >= b.len() {
                skip -= b.len();
                continue;
            }
            let n = (b.len() - skip).min(max - copied);
            out.extend_from_slice(&b[skip..skip + n]);
            copied += n;
            skip = 0;
            if copied == max {
                break;
            }
        }
        Some(copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &Stream, from: u64) -> Vec<u8> {
        let mut out = Vec::new();
        s.read(from, usize::MAX, &mut out).expect("in the backlog");
        out
    }

    fn all(s: &Stream, from: u64) -> String {
        String::from_utf8(bytes(s, from)).unwrap()
    }

    #[test]
    fn chunks_are_selected_into_their_database() {
        let mut s = Stream::new(100, 1 << 20);
        s.append_chunk(None, Some(0), b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\nA");
        s.append_chunk(Some(0), Some(0), b"B");
        s.append_chunk(Some(2), Some(3), b"C");
        s.append_chunk(Some(3), Some(3), b"D");
        s.append_chunk(Some(0), Some(0), b"");
        assert_eq!(
            all(&s, 100),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\nAB*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\nCD"
        );
        assert_eq!(s.offset(), 100 + all(&s, 100).len() as u64);
        assert_eq!(s.db(), Some(3));
        s.append_command(None, &[b"PING"]);
        assert!(all(&s, 100).ends_with("D*1\r\n$4\r\nPING\r\n"));
        assert_eq!(all(&s, s.offset()), "");
        assert!(s.read(99, 10, &mut Vec::new()).is_none());
        assert!(s.read(s.offset() + 1, 10, &mut Vec::new()).is_none());
    }

    #[test]
    fn the_backlog_keeps_its_size_and_what_replicas_need() {
        let mut s = Stream::new(0, 100_000);
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for piece in data.chunks(7_777) {
            s.append_chunk(Some(0), Some(0), piece);
        }
        let total = s.offset();
        // A replica still at 10 keeps everything.
        s.trim(10);
        assert_eq!(s.backlog_start(), 0);
        let mut out = Vec::new();
        assert_eq!(s.read(10, 50_000, &mut out), Some(50_000));
        assert_eq!(&out[..], &bytes(&s, 0)[10..50_010]);
        // Nobody behind: only about `size` stays (whole blocks).
        s.trim(u64::MAX);
        assert!(s.backlog_len() >= 100_000 && s.backlog_len() < 100_000 + BLOCK as u64);
        assert!(!s.has(0) && s.has(total) && s.has(total - 100_000));
        let mut tail = Vec::new();
        s.read(total - 100_000, usize::MAX, &mut tail).unwrap();
        assert_eq!(tail.len(), 100_000);
        assert_eq!(*tail.last().unwrap(), ((data.len() - 1) % 251) as u8);
    }
}
