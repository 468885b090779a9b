//! Streams: the value type and the stream command family (Redis' `t_stream.c`).
//!
//! Entries live in nodes of consecutive entries packed into byte buffers (`node`), kept in ID
//! order in a deque: new nodes are appended, trimming removes them from the front, and a node
//! whose entries were all deleted goes away, as Redis' radix tree of listpacks behaves. The
//! consumer groups (`group`) hang off the stream. The commands are in `commands` (entries),
//! `read` (XREAD, XREADGROUP), `groups_cmd` (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and
//! `info` (XINFO); `propagate` builds the effects the group commands record instead of
//! themselves; `restore` shows the nodes as they are to an RDB writer and rebuilds them
//! from a file.

mod commands;
mod group;
mod groups_cmd;
mod id;
mod info;
mod node;
mod propagate;
mod read;
mod restore;
#[cfg(test)]
mod tests;

pub use commands::{xadd, xdel, xlen, xrange, xrevrange, xsetid, xtrim};
pub use group::{Consumer, Group, Nack};
pub use groups_cmd::{xack, xautoclaim, xclaim, xgroup, xpending};
pub use id::{parse_id, parse_interval, parse_strict, StreamId, ERR_INVALID_ID};
pub use info::xinfo;
pub use node::{EntryRef, MasterNames, Pairs};
pub use read::{block_deadline, dollar_ids, script_block_error, xread, xreadgroup};
pub use restore::{NodeView, RestoredEntry};

use crate::db::Db;
use crate::limits::Limits;
use crate::reply::Reply;
use crate::value::{Value, WrongType};
use node::{Fields, Node, FLAG_DELETED, LISTPACK_MAX_SIZE};
use std::collections::{BTreeMap, VecDeque};

/// Redis' "no valid read counter" (`SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// The consumer groups of a stream, by name (in byte order, as Redis' radix tree keeps them).
pub type Groups = BTreeMap<Box<[u8]>, Group>;

/// A stream value.
#[derive(Clone, Default)]
pub struct StreamValue {
    nodes: VecDeque<Node>,
    /// Entries not deleted.
    length: u64,
    /// The largest ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// Redis' cached first entry ID (`recorded-first-entry-id`).
    pub first_id: StreamId,
    /// The largest ID deleted by XDEL (`max-deleted-entry-id`).
    pub max_deleted: StreamId,
    /// Entries added over the stream's life.
    pub entries_added: u64,
    /// Created on demand: most streams have no groups.
    groups: Option<Box<Groups>>,
}

/// Why an entry could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the stream's last ID (or the sequence would overflow).
    NotGreater,
    /// The fields and values exceed what one node may hold.
    TooLarge,
}

/// How XADD / XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Keep no entry with an ID below this one.
    MinId(StreamId),
}

impl StreamValue {
    /// An empty stream.
    pub fn new() -> StreamValue {
        StreamValue::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.length as usize
    }

    /// Whether it has no entries (an empty stream is still a key, as in Redis).
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Heap bytes held, approximately.
    pub fn heap_size(&self) -> usize {
        let nodes: usize = self.nodes.iter().map(Node::heap_size).sum::<usize>()
            + self.nodes.capacity() * std::mem::size_of::<Node>();
        let groups = self.groups.as_ref().map_or(0, |g| {
            g.iter()
                .map(|(name, g)| name.len() + g.heap_size())
                .sum::<usize>()
        });
        nodes + groups
    }

    /// Feeds what Redis' digest leaves out of a stream (its counters, its groups) to a
    /// digest: Shardis' own tests compare streams with it too (`digest::db_digest`).
    pub fn digest_metadata(&self, mut part: impl FnMut(&[u8])) {
        part(&self.last_id.to_bytes());
        part(&self.entries_added.to_le_bytes());
        part(&self.max_deleted.to_bytes());
        for (name, g) in self.groups() {
            part(name);
            g.digest(&mut part);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Entries

    /// Adds an entry: with the next ID after the last one (`*`), or with `id`; when its
    /// sequence was not given (`<ms>-*`), with the next sequence in that millisecond.
    /// Returns the ID used.
    pub fn add(
        &mut self,
        id: Option<(StreamId, bool)>,
        fields: Fields,
        now: u64,
        limits: &Limits,
    ) -> Result<StreamId, AddError> {
        let id = match id {
            Some((id, true)) => id,
            Some((id, false)) if id.ms == self.last_id.ms => {
                if self.last_id.seq == u64::MAX {
                    return Err(AddError::NotGreater);
                }
                StreamId::new(id.ms, self.last_id.seq + 1)
            }
            Some((id, false)) => id,
            None if now > self.last_id.ms => StreamId::new(now, 0),
            // The clock went back, or the stream is ahead: never go backwards.
            None => self.last_id.incr().unwrap_or(StreamId::MIN),
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        let total: u64 = fields.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let max_bytes = match limits.stream_node_max_bytes {
            0 => LISTPACK_MAX_SIZE,
            b => b.min(LISTPACK_MAX_SIZE),
        };
        let max_entries = limits.stream_node_max_entries;
        let full = match self.nodes.back() {
            None => true,
            Some(tail) => {
                tail.lp_bytes() + total >= max_bytes
                    || (max_entries != 0 && tail.stored() >= max_entries)
            }
        };
        if full {
            if let Some(tail) = self.nodes.back_mut() {
                tail.seal();
            }
            let cap = (total as usize + 16 * fields.len() + 32).max(64);
            self.nodes.push_back(Node::new(id, fields, cap));
        } else {
            self.nodes
                .back_mut()
                .expect("checked above")
                .push(id, fields);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// The entries with IDs in `start..=end`, deleted ones skipped, in ID order or reversed.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let node = if rev {
            // The last node that may hold IDs up to `end`.
            self.nodes.partition_point(|n| n.master <= end) as isize - 1
        } else {
            (self.nodes.partition_point(|n| n.master <= start) as isize - 1).max(0)
        };
        Range {
            nodes: &self.nodes,
            start,
            end,
            rev,
            node,
            fwd: None,
            back: Vec::new(),
            loaded: false,
            done: start > end,
        }
    }

    /// The entry with ID `id`, if it exists (not deleted).
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    /// The ID of the last entry not deleted (Redis' `streamLastValidID`); 0-0 when empty.
    pub fn last_valid_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX, true)
            .next()
            .map_or(StreamId::MIN, |e| e.id)
    }

    /// The ID of the first entry not deleted; 0-0 when empty.
    fn first_valid_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX, false)
            .next()
            .map_or(StreamId::MIN, |e| e.id)
    }

    /// The ID of the first entry, deleted or not; the largest ID when there is none (Redis'
    /// `streamGetEdgeID` with tombstones): what approximate MINID trimming kept.
    fn first_entry_id(&self) -> StreamId {
        self.nodes
            .front()
            .and_then(|n| n.entries().next())
            .map_or(StreamId::MAX, |(_, e)| e.id)
    }

    /// Deletes the entry `id` (XDEL); false if there is none. A node left without live
    /// entries is removed, as Redis removes a listpack when its last entry goes.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let i = self.nodes.partition_point(|n| n.master <= id);
        if i == 0 {
            return false;
        }
        let node = &mut self.nodes[i - 1];
        let Some(pos) = node
            .entries()
            .find(|(_, e)| e.id == id && e.flags & FLAG_DELETED == 0)
            .map(|(p, _)| p as u32)
        else {
            return false;
        };
        if node.live == 1 {
            self.nodes.remove(i - 1);
        } else {
            node.mark_deleted(pos);
        }
        self.length -= 1;
        true
    }

    /// XDEL's bookkeeping after deleting `ids` (the ones that existed): the largest deleted
    /// ID and the first entry.
    pub fn after_delete(&mut self, deleted: &[StreamId]) {
        let mut first_gone = false;
        for &id in deleted {
            first_gone |= id == self.first_id;
            if id > self.max_deleted {
                self.max_deleted = id;
            }
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if first_gone {
            self.first_id = self.first_valid_id();
        }
    }

    /// Trims as Redis' `streamTrim`: whole nodes from the front while they may all go, then
    /// (unless `approx`) the entries of the next node that must go. `limit` (0 = none) caps
    /// the entries removed. Returns how many were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some(node) = self.nodes.front_mut() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let entries = node.live;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last().id < min,
            };
            if remove {
                self.nodes.pop_front();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut doomed = Vec::new();
            let mut length = self.length;
            for (pos, e) in node.entries() {
                let stop = match how {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.is_deleted() {
                    doomed.push(pos as u32);
                    length -= 1;
                }
            }
            for pos in &doomed {
                node.mark_deleted(*pos);
            }
            self.length = length;
            deleted += doomed.len() as u64;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_valid_id();
        }
        deleted
    }

    /// The node count (XINFO `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes Redis' radix tree would have for these node keys (XINFO
    /// `radix-tree-nodes`): the nodes of a compressed trie of the 16-byte big-endian keys.
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self
            .nodes
            .iter()
            .map(|n| {
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&n.master.ms.to_be_bytes());
                k[8..].copy_from_slice(&n.master.seq.to_be_bytes());
                k
            })
            .collect();
        if keys.is_empty() {
            return 1;
        }
        rax_nodes(&keys, 0)
    }

    // -----------------------------------------------------------------------------------------
    // Groups

    /// The consumer groups, by name.
    pub fn groups(&self) -> impl Iterator<Item = (&[u8], &Group)> {
        self.groups
            .iter()
            .flat_map(|g| g.iter().map(|(k, v)| (&**k, v)))
    }

    /// Number of consumer groups.
    pub fn group_count(&self) -> usize {
        self.groups.as_ref().map_or(0, |g| g.len())
    }

    /// The group `name`.
    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.as_ref()?.get(name)
    }

    /// The group `name`, to change it.
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.as_mut()?.get_mut(name)
    }

    /// The stream and one of its groups, both mutable.
    pub fn split_group(&mut self, name: &[u8]) -> Option<(&mut Group, StreamView<'_>)> {
        let StreamValue {
            nodes,
            length,
            last_id,
            first_id,
            max_deleted,
            entries_added,
            groups,
        } = self;
        let g = groups.as_mut()?.get_mut(name)?;
        let view = StreamView {
            nodes,
            length: *length,
            last_id: *last_id,
            first_id: *first_id,
            max_deleted: *max_deleted,
            entries_added: *entries_added,
        };
        Some((g, view))
    }

    /// Creates a group; false if one of that name exists.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        let groups = self.groups.get_or_insert_with(Default::default);
        if groups.contains_key(name) {
            return false;
        }
        groups.insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    /// Removes the group `name`; false if there was none.
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        let Some(groups) = self.groups.as_mut() else {
            return false;
        };
        let gone = groups.remove(name).is_some();
        if groups.is_empty() {
            self.groups = None;
        }
        gone
    }

    /// A group's lag (XINFO): entries not yet delivered to it, when it can be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        self.view().lag(g)
    }

    fn view(&self) -> StreamView<'_> {
        StreamView {
            nodes: &self.nodes,
            length: self.length,
            last_id: self.last_id,
            first_id: self.first_id,
            max_deleted: self.max_deleted,
            entries_added: self.entries_added,
        }
    }
}

/// Redis' radix tree node count for sorted, distinct 16-byte keys below the node at `depth`
/// (which starts a tree node of its own).
fn rax_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if keys.len() == 1 {
        // A compressed node holding the rest of the key, then the key's node.
        return if depth == 16 { 1 } else { 2 };
    }
    let first = &keys[0];
    let last = &keys[keys.len() - 1];
    let mut d = depth;
    while first[d] == last[d] {
        d += 1;
    }
    // A compressed node down to the branching point, if any, then the branching node.
    let mut count = usize::from(d > depth) + 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][d];
        let j = i + keys[i..].partition_point(|k| k[d] == b);
        count += rax_nodes(&keys[i..j], d + 1);
        i = j;
    }
    count
}

/// The parts of a stream a group's bookkeeping reads, borrowed beside a mutable group.
pub struct StreamView<'a> {
    nodes: &'a VecDeque<Node>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
}

impl<'a> StreamView<'a> {
    /// The entries with IDs in `start..=end` (see [`StreamValue::range`]).
    pub fn range(&self, start: StreamId, end: StreamId) -> Range<'a> {
        let node = (self.nodes.partition_point(|n| n.master <= start) as isize - 1).max(0);
        Range {
            nodes: self.nodes,
            start,
            end,
            rev: false,
            node,
            fwd: None,
            back: Vec::new(),
            loaded: false,
            done: start > end,
        }
    }

    /// The entry `id`, if it exists (not deleted).
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'a>> {
        self.range(id, id).next()
    }

    /// Whether a deleted entry may lie in `start..=end` (Redis' `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            // The latest tombstone is before the first entry.
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// The number of entries added up to `id` when it can be known (Redis'
    /// `streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            // No fragmentation ahead.
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => {
                    return Some(self.entries_added.saturating_sub(self.length))
                }
                std::cmp::Ordering::Equal => {
                    return Some(self.entries_added.saturating_sub(self.length) + 1)
                }
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// The group's lag, when it can be known (Redis' `streamReplyWithCGLag`).
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        self.estimate_distance(g.last_id)
            .map(|read| self.entries_added as i64 - read as i64)
    }
}

/// Entries of a stream in an ID range (see [`StreamValue::range`]).
pub struct Range<'a> {
    nodes: &'a VecDeque<Node>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    /// The node being walked (forward: from the first that may hold `start`; backward: from
    /// the last that may hold `end`).
    node: isize,
    fwd: Option<node::NodeIter<'a>>,
    /// Backward: the positions of the current node's entries not walked yet.
    back: Vec<u32>,
    loaded: bool,
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        if self.done {
            return None;
        }
        loop {
            if self.node < 0 || self.node as usize >= self.nodes.len() {
                self.done = true;
                return None;
            }
            let node = &self.nodes[self.node as usize];
            let e = if !self.rev {
                let it = self.fwd.get_or_insert_with(|| node.entries());
                match it.next() {
                    Some((_, e)) => e,
                    None => {
                        self.fwd = None;
                        self.node += 1;
                        continue;
                    }
                }
            } else {
                if !self.loaded {
                    self.back = node.positions();
                    self.loaded = true;
                }
                match self.back.pop() {
                    Some(pos) => node.entry(pos),
                    None => {
                        self.loaded = false;
                        self.node -= 1;
                        continue;
                    }
                }
            };
            if e.is_deleted() {
                continue;
            }
            if !self.rev {
                if e.id < self.start {
                    continue;
                }
                if e.id > self.end {
                    self.done = true;
                    return None;
                }
            } else {
                if e.id > self.end {
                    continue;
                }
                if e.id < self.start {
                    self.done = true;
                    return None;
                }
            }
            return Some(e);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups and replies shared by the commands

fn as_stream(v: &mut Value) -> Result<&mut StreamValue, WrongType> {
    match v {
        Value::Stream(s) => Ok(s),
        _ => Err(WrongType),
    }
}

/// The stream at `key` for a reading command (counts a keyspace hit or miss).
pub fn lookup_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut StreamValue>, WrongType> {
    db.get(key, now)
        .map(|e| as_stream(&mut e.value))
        .transpose()
}

/// The stream at `key` for a writing command.
pub fn lookup_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut StreamValue>, WrongType> {
    db.get_mut(key, now)
        .map(|e| as_stream(&mut e.value))
        .transpose()
}

/// An ID as a bulk string.
pub fn reply_id(out: &mut Reply, id: StreamId) {
    out.bulk(id.fmt(&mut [0; 41]));
}

/// An entry as Redis replies it: `[id, [field, value, ...]]`.
pub fn reply_entry(out: &mut Reply, e: &EntryRef) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.len() * 2);
    for (f, v) in e.pairs() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Entries as an array (counted as they are written, then prefixed with the count).
pub fn reply_entries<'a>(out: &mut Reply, entries: impl Iterator<Item = EntryRef<'a>>) -> usize {
    let mut body = Reply::new(out.resp3);
    let mut n = 0;
    for e in entries {
        reply_entry(&mut body, &e);
        n += 1;
    }
    out.array(n);
    out.raw(&body.buf);
    n
}
