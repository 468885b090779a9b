//! Streams in RDB files (t_stream.c's listpack layout, rdb.c's metadata).
//!
//! A stream is its nodes, each the 16-byte big-endian master ID and a listpack:
//!
//! ```text
//! master entry: live-count deleted-count num-fields field_1 .. field_N 0
//! entry:        flags ms-diff seq-diff [num-fields field_1 value_1 .. | value_1 ..] lp-count
//! ```
//!
//! (`flags`: 1 deleted, 2 the master's fields, so only values are stored; the diffs are
//! against the master ID; `lp-count` counts the entry's other elements). Then the length,
//! the last ID, and from STREAM_LISTPACKS_2 on the first ID, the largest deleted ID and the
//! entries ever added; then the consumer groups: name, last ID, (v2 on) entries read, the
//! PEL (raw ID, delivery time, delivery count), the consumers (name, seen time, v3 on active
//! time, their PEL's raw IDs).

use super::input::{Input, Result};
use super::kind;
use super::listpack::{self, Elem, Writer};
use super::write::write_blob;
use crate::rdb_string::{write_len, write_string};
use shard::stream::{Consumer, Nack, StreamId, StreamValue, INVALID_ENTRIES_READ};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.ms.to_be_bytes());
    k[8..].copy_from_slice(&id.seq.to_be_bytes());
    k
}

fn from_raw_id(k: &[u8; 16]) -> StreamId {
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&k[..8]);
    seq.copy_from_slice(&k[8..]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

/// Appends a stream's STREAM_LISTPACKS_2 payload.
pub(crate) fn write(s: &StreamValue, out: &mut Vec<u8>) {
    write_len(out, s.node_count() as u64);
    for node in s.nodes() {
        let master = node.master();
        write_blob(out, &raw_id(master));
        let mut lp = Writer::new();
        lp.push_int(node.live() as i64);
        lp.push_int(node.deleted() as i64);
        let names = node.master_names();
        lp.push_int(names.len() as i64);
        names.for_each(|f| lp.push(f));
        lp.push_int(0);
        for e in node.entries() {
            let same = e.has_master_fields();
            let mut flags = 0;
            if e.is_deleted() {
                flags |= FLAG_DELETED;
            }
            if same {
                flags |= FLAG_SAMEFIELDS;
            }
            lp.push_int(flags);
            lp.push_int(e.id.ms.wrapping_sub(master.ms) as i64);
            lp.push_int(e.id.seq.wrapping_sub(master.seq) as i64);
            let n = e.len() as i64;
            if same {
                e.pairs().for_each(|(_, v)| lp.push(v));
                lp.push_int(n + 3);
            } else {
                lp.push_int(n);
                e.pairs().for_each(|(f, v)| {
                    lp.push(f);
                    lp.push(v);
                });
                lp.push_int(2 * n + 4);
            }
        }
        write_blob(out, &lp.finish());
    }
    write_len(out, s.len() as u64);
    for id in [s.last_id, s.first_id, s.max_deleted] {
        write_len(out, id.ms);
        write_len(out, id.seq);
    }
    write_len(out, s.entries_added);
    write_len(out, s.group_count() as u64);
    for (name, g) in s.groups() {
        write_string(out, name);
        write_len(out, g.last_id.ms);
        write_len(out, g.last_id.seq);
        // -1 (unknown) is stored as the 64-bit length 2^64 - 1, as Redis stores it.
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&raw_id(*id));
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            write_len(out, nack.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for c in g.consumers.values() {
            write_string(out, &c.name);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&raw_id(*id));
            }
        }
    }
}

/// One entry of a node being read.
struct ParsedEntry {
    id: StreamId,
    deleted: bool,
    /// Where its pairs are in the node's pair list.
    pairs: std::ops::Range<usize>,
}

/// Reads a stream of type `t` (STREAM_LISTPACKS 1, 2 or 3).
pub(crate) fn read<R: Read>(r: &mut Input<R>, t: u8) -> Result<StreamValue> {
    let mut s = StreamValue::new();
    let nodes = r.len()?;
    // The largest master or entry ID so far: every later one must be above it.
    let mut last_seen: Option<StreamId> = None;
    let mut max_entry: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = r.string()?;
        let key: [u8; 16] = key
            .as_slice()
            .try_into()
            .map_err(|_| r.corrupt("stream node key of the wrong size"))?;
        let master = from_raw_id(&key);
        let blob = r.string()?;
        let elems = listpack::decode(&blob).map_err(|e| r.corrupt(e))?;
        if last_seen.is_some_and(|last| master <= last) {
            return Err(r.corrupt("stream nodes out of order"));
        }
        let node = parse_node(&elems, master).map_err(|e| r.corrupt(e))?;
        last_seen = Some(master);
        if let Some(e) = node.entries.last() {
            last_seen = Some(e.id);
            max_entry = Some(e.id);
        }
        let pairs: Vec<(&[u8], &[u8])> = node.pairs.iter().map(|(f, v)| (&**f, &**v)).collect();
        let names: Vec<&[u8]> = node.names.iter().map(|f| &**f).collect();
        s.restore_node(
            master,
            &names,
            node.entries
                .iter()
                .map(|e| (e.id, e.deleted, &pairs[e.pairs.clone()])),
        );
    }
    let length = r.len()?;
    s.last_id = read_id(r)?;
    if t >= kind::STREAM_LISTPACKS_2 {
        s.first_id = read_id(r)?;
        s.max_deleted = read_id(r)?;
        s.entries_added = r.len()?;
    } else {
        // What Redis 7 assumes of a Redis 5/6 stream.
        s.entries_added = length;
        s.first_id = s
            .range(StreamId::MIN, StreamId::MAX, false)
            .next()
            .map_or(StreamId::MIN, |e| e.id);
    }
    if s.len() as u64 != length {
        return Err(r.corrupt(format_args!(
            "stream says {length} entries but holds {}",
            s.len()
        )));
    }
    if max_entry.is_some_and(|max| max > s.last_id) {
        return Err(r.corrupt("stream's last ID below one of its entries"));
    }
    let groups = r.len()?;
    for _ in 0..groups {
        read_group(r, t, &mut s)?;
    }
    Ok(s)
}

fn read_id<R: Read>(r: &mut Input<R>) -> Result<StreamId> {
    Ok(StreamId::new(r.len()?, r.len()?))
}

fn read_group<R: Read>(r: &mut Input<R>, t: u8, s: &mut StreamValue) -> Result<()> {
    let name = r.string()?;
    let last_id = read_id(r)?;
    let entries_read = if t >= kind::STREAM_LISTPACKS_2 {
        r.len()? as i64
    } else {
        INVALID_ENTRIES_READ
    };
    if !s.create_group(&name, last_id, entries_read) {
        return Err(r.corrupt("duplicate consumer group"));
    }
    let Some((g, view)) = s.split_group(&name) else {
        return Err(r.corrupt("consumer group vanished"));
    };
    if t < kind::STREAM_LISTPACKS_2 {
        // Redis 7's estimate for groups of a Redis 5/6 stream.
        g.entries_read = view
            .estimate_distance(last_id)
            .map_or(INVALID_ENTRIES_READ, |d| d as i64);
    }
    // The group's PEL first, its owners named by the consumers that follow.
    let mut unowned: BTreeMap<StreamId, (i64, u64)> = BTreeMap::new();
    for _ in 0..r.len()? {
        let id = from_raw_id(&r.array()?);
        let delivery_time = r.i64_le()?;
        let delivery_count = r.len()?;
        if unowned
            .insert(id, (delivery_time, delivery_count))
            .is_some()
        {
            return Err(r.corrupt("duplicate pending entry in a consumer group"));
        }
    }
    for _ in 0..r.len()? {
        let cname: Arc<[u8]> = r.string()?.into();
        let seen_time = r.i64_le()?;
        // Before Redis 7.2 there was no active time: 7.2 takes the seen time for it.
        let active_time = if t >= kind::STREAM_LISTPACKS_3 {
            r.i64_le()?
        } else {
            seen_time
        };
        if g.consumers.contains_key(&cname) {
            return Err(r.corrupt("duplicate consumer in a consumer group"));
        }
        let mut pel = BTreeSet::new();
        for _ in 0..r.len()? {
            let id = from_raw_id(&r.array()?);
            let Some((delivery_time, delivery_count)) = unowned.remove(&id) else {
                return Err(r.corrupt(
                    "consumer's pending entry missing from its group's PEL, or owned twice",
                ));
            };
            g.pel.insert(
                id,
                Nack {
                    delivery_time,
                    delivery_count,
                    consumer: cname.clone(),
                },
            );
            pel.insert(id);
        }
        g.consumers.insert(
            cname.clone(),
            Consumer {
                name: cname,
                seen_time,
                active_time,
                pel,
            },
        );
    }
    if !unowned.is_empty() {
        return Err(r.corrupt("pending entry without a consumer"));
    }
    Ok(())
}

/// A field or value of a node: borrowed from the listpack, or an integer entry's text.
type Text<'a> = Cow<'a, [u8]>;

/// A node's listpack, decoded: master field names, entries, and their pairs.
struct ParsedNode<'a> {
    names: Vec<Text<'a>>,
    entries: Vec<ParsedEntry>,
    pairs: Vec<(Text<'a>, Text<'a>)>,
}

fn bytes(e: Elem<'_>) -> Cow<'_, [u8]> {
    match e {
        Elem::Str(s) => Cow::Borrowed(s),
        Elem::Int(v) => Cow::Owned(itoa::Buffer::new().format(v).as_bytes().to_vec()),
    }
}

/// The elements of a node, read in order.
struct Cursor<'e, 'a> {
    elems: &'e [Elem<'a>],
    p: usize,
}

type Parse<T> = std::result::Result<T, String>;

impl<'a> Cursor<'_, 'a> {
    fn next(&mut self) -> Parse<Elem<'a>> {
        let e = self
            .elems
            .get(self.p)
            .copied()
            .ok_or("stream node cut short")?;
        self.p += 1;
        Ok(e)
    }

    fn int(&mut self) -> Parse<i64> {
        Ok(self
            .next()?
            .as_int()
            .ok_or("stream node: a number expected")?)
    }

    /// A count: a number that is not negative.
    fn count(&mut self) -> Parse<i64> {
        let n = self.int()?;
        if n < 0 {
            return Err("stream node with a negative count".into());
        }
        Ok(n)
    }

    fn done(&self) -> bool {
        self.p >= self.elems.len()
    }
}

/// Parses and checks a node's elements: counts that match, IDs increasing from the master
/// on, `lp-count`s right.
fn parse_node<'a>(elems: &[Elem<'a>], master: StreamId) -> Parse<ParsedNode<'a>> {
    let mut c = Cursor { elems, p: 0 };
    let live = c.count()?;
    let deleted = c.count()?;
    let nfields = c.count()?;
    let mut names = Vec::new();
    for _ in 0..nfields {
        names.push(bytes(c.next()?));
    }
    if c.int()? != 0 {
        return Err("stream node's master entry not terminated".into());
    }
    let mut node = ParsedNode {
        names,
        entries: Vec::new(),
        pairs: Vec::new(),
    };
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    let mut prev: Option<StreamId> = None;
    while !c.done() {
        let flags = c.int()?;
        let ms = master.ms.wrapping_add(c.int()? as u64);
        let seq = master.seq.wrapping_add(c.int()? as u64);
        let id = StreamId::new(ms, seq);
        if id < master || prev.is_some_and(|prev| id <= prev) {
            return Err("stream entries out of order".into());
        }
        prev = Some(id);
        let start = node.pairs.len();
        let lp_count = if flags & FLAG_SAMEFIELDS != 0 {
            for i in 0..node.names.len() {
                let v = bytes(c.next()?);
                node.pairs.push((node.names[i].clone(), v));
            }
            node.names.len() as i64 + 3
        } else {
            let n = c.count()?;
            for _ in 0..n {
                let f = bytes(c.next()?);
                let v = bytes(c.next()?);
                node.pairs.push((f, v));
            }
            2 * n + 4
        };
        if c.int()? != lp_count {
            return Err("stream entry with a wrong lp-count".into());
        }
        let is_deleted = flags & FLAG_DELETED != 0;
        if is_deleted {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        node.entries.push(ParsedEntry {
            id,
            deleted: is_deleted,
            pairs: start..node.pairs.len(),
        });
    }
    if (seen_live, seen_deleted) != (live, deleted) {
        return Err("stream node's counts do not match its entries".into());
    }
    Ok(node)
}
