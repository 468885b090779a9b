//! Lists (t_list.c in Redis): the list value type and the list command family.
//!
//! A list is a `listpack` (one compact node) while small and a `quicklist` (a deque of such
//! nodes) beyond `list-max-listpack-size`, converting at exactly the sizes Redis 7.2 does:
//! to a quicklist when an addition would take the listpack over one node's limit, back to a
//! listpack when removals leave a single node at half the limit. Nodes store elements in
//! Redis' listpack entry format (integers in 1 to 9 bytes, strings behind a 1, 2 or 5-byte
//! header, each entry followed by its back-length), so memory per element is Redis' and the
//! node sizes Redis compares against the limit come out the same.

mod commands;
mod listpack;
mod quicklist;

pub use commands::*;
pub use listpack::{Elem, Owned};

use crate::limits::Limits;
use crate::reply::Reply;
use listpack::{Node, Pattern};
use quicklist::{exceeds_limit, node_limit, Quicklist};

/// A list value.
#[derive(Clone, Debug)]
pub struct ListValue(Repr);

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Node),
    Quicklist(Box<Quicklist>),
}

impl Default for ListValue {
    fn default() -> ListValue {
        ListValue(Repr::Listpack(Node::default()))
    }
}

impl ListValue {
    /// A list of `items` in order, encoded as Redis would encode it (SORT ... STORE builds a
    /// quicklist, then lets it become a listpack if it fits one node).
    pub fn from_items(items: Vec<Vec<u8>>, limits: &Limits) -> ListValue {
        if items.is_empty() {
            return ListValue::default();
        }
        let fill = limits.list_max_listpack_size;
        let mut q = Quicklist::new(fill);
        for i in &items {
            q.push_back(i);
        }
        let mut list = ListValue(Repr::Quicklist(Box::new(q)));
        list.listpack_if_fits(fill, false);
        list
    }

    /// Appends `v` at the tail as `RPUSH key v` does, converting to a quicklist where that
    /// would (building a list element by element: loading an RDB file).
    pub fn push_back(&mut self, v: &[u8], limits: &Limits) {
        self.grow(v.len(), 1, limits.list_max_listpack_size);
        self.push(v, false);
    }

    /// The elements node by node (a listpack is a single node): the quicklist nodes an RDB
    /// file stores.
    pub fn nodes(&self) -> impl Iterator<Item = impl DoubleEndedIterator<Item = Elem<'_>>> {
        let (a, b) = self.node_slices();
        a.iter().chain(b).map(Node::iter)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Listpack(n) => n.count(),
            Repr::Quicklist(q) => q.len(),
        }
    }

    /// Whether the list has no elements (stored lists never are).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.0 {
            Repr::Listpack(_) => "listpack",
            Repr::Quicklist(_) => "quicklist",
        }
    }

    /// Heap bytes held (the nodes' buffers and the node table).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Listpack(n) => n.heap_size(),
            Repr::Quicklist(q) => std::mem::size_of::<Quicklist>() + q.heap_size(),
        }
    }

    /// Visits every element in list order (SORT reads lists through this).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.iter().for_each(|e| e.with_bytes(&mut f))
    }

    /// The elements front to back (`.rev()` for back to front).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Elem<'_>> {
        let (a, b) = self.node_slices();
        a.iter().chain(b).flat_map(Node::iter)
    }

    // -----------------------------------------------------------------------------------------
    // Nodes

    fn node_slices(&self) -> (&[Node], &[Node]) {
        match &self.0 {
            Repr::Listpack(n) => (std::slice::from_ref(n), &[]),
            Repr::Quicklist(q) => q.nodes.as_slices(),
        }
    }

    fn node(&self, i: usize) -> &Node {
        match &self.0 {
            Repr::Listpack(n) => n,
            Repr::Quicklist(q) => &q.nodes[i],
        }
    }

    fn is_quicklist(&self) -> bool {
        matches!(self.0, Repr::Quicklist(_))
    }

    /// Element `index` (negative: from the end) as (node, index in node, byte offset).
    fn locate(&self, index: i64) -> Option<(usize, usize, usize)> {
        let len = self.len() as i64;
        let idx = if index < 0 { len + index } else { index };
        if idx < 0 || idx >= len {
            return None;
        }
        let idx = idx as usize;
        Some(match &self.0 {
            Repr::Listpack(n) => (0, idx, n.seek(idx)),
            Repr::Quicklist(q) => {
                let (ni, i) = q.locate(idx);
                (ni, i, q.nodes[ni].seek(i))
            }
        })
    }

    // -----------------------------------------------------------------------------------------
    // Encoding conversions

    /// Before `n` elements of `bytes` bytes in all are added: a listpack that would outgrow
    /// one node becomes a quicklist holding it as its first node (Redis'
    /// `listTypeTryConvertListpack`). `fill` is `list-max-listpack-size`.
    fn grow(&mut self, bytes: usize, n: usize, fill: i64) {
        if let Repr::Listpack(node) = &mut self.0 {
            let size = node.lp_bytes().saturating_add(bytes);
            if exceeds_limit(fill, size, (node.count() + n) as u64) {
                let node = std::mem::take(node);
                self.0 = Repr::Quicklist(Box::new(Quicklist::from_node(node, fill)));
            }
        }
    }

    /// A quicklist down to a single node that fits the limit (`shrinking`: half the limit,
    /// so a list at the edge does not convert back and forth) becomes a listpack (Redis'
    /// `listTypeTryConvertQuicklist`).
    fn listpack_if_fits(&mut self, fill: i64, shrinking: bool) {
        let Repr::Quicklist(q) = &mut self.0 else {
            return;
        };
        let Some(node) = q.single_node() else {
            return;
        };
        let (mut size, mut count) = node_limit(fill);
        if shrinking {
            size /= 2;
            count /= 2;
        }
        if node.lp_bytes() > size || node.count() as u64 > count {
            return;
        }
        let q = std::mem::replace(q, Box::new(Quicklist::new(fill)));
        if let Ok(node) = q.into_single_node() {
            self.0 = Repr::Listpack(node);
        }
    }

    /// After elements were removed: true if the list is now empty (the caller deletes the
    /// key), else the list may go back to a listpack.
    fn settle(&mut self, fill: i64) -> bool {
        if self.is_empty() {
            return true;
        }
        self.listpack_if_fits(fill, true);
        false
    }

    // -----------------------------------------------------------------------------------------
    // Element operations

    fn push(&mut self, v: &[u8], front: bool) {
        match (&mut self.0, front) {
            (Repr::Listpack(n), true) => n.push_front(v),
            (Repr::Listpack(n), false) => n.push_back(v),
            (Repr::Quicklist(q), true) => q.push_front(v),
            (Repr::Quicklist(q), false) => q.push_back(v),
        }
    }

    fn pop(&mut self, front: bool) -> Option<Owned> {
        match &mut self.0 {
            Repr::Listpack(n) => {
                if n.count() == 0 {
                    return None;
                }
                let off = if front { 0 } else { n.prev(n.end()) };
                let v = n.get(off).to_owned();
                n.remove(off);
                Some(v)
            }
            Repr::Quicklist(q) if front => q.pop_front(),
            Repr::Quicklist(q) => q.pop_back(),
        }
    }

    /// Element `index` (negative: from the end).
    pub fn get(&self, index: i64) -> Option<Elem<'_>> {
        let (ni, _, off) = self.locate(index)?;
        Some(self.node(ni).get(off))
    }

    /// Replaces element `index`; false if there is no such element.
    fn replace(&mut self, index: i64, v: &[u8]) -> bool {
        let Some((ni, _, off)) = self.locate(index) else {
            return false;
        };
        match &mut self.0 {
            Repr::Listpack(n) => n.replace(off, v),
            Repr::Quicklist(q) => q.nodes[ni].replace(off, v),
        }
        true
    }

    /// Writes `n` elements as bulk strings (no array header), from element `start` towards
    /// the tail, or towards the head when `reverse`.
    fn reply_elements(&self, out: &mut Reply, start: usize, n: usize, reverse: bool) {
        let Some((mut ni, _, mut off)) = self.locate(start as i64) else {
            return;
        };
        if !reverse {
            let mut left = n;
            while left > 0 {
                let node = self.node(ni);
                while off < node.end() && left > 0 {
                    let (e, next) = node.get_next(off);
                    e.reply(out);
                    off = next;
                    left -= 1;
                }
                ni += 1;
                off = 0;
            }
        } else {
            for i in 0..n {
                let node = self.node(ni);
                node.get(off).reply(out);
                if i + 1 == n {
                    break;
                }
                if off > 0 {
                    off = node.prev(off);
                } else {
                    ni -= 1;
                    let prev = self.node(ni);
                    off = prev.prev(prev.end());
                }
            }
        }
    }

    /// LRANGE's reply: elements `start..=end` (negative: from the end), clamped to the list.
    fn reply_range(&self, out: &mut Reply, start: i64, end: i64) {
        let len = self.len() as i64;
        let start = if start < 0 { len + start } else { start }.max(0);
        let end = if end < 0 { len + end } else { end };
        if start > end || start >= len {
            out.array(0);
            return;
        }
        let end = end.min(len - 1);
        let n = (end - start + 1) as usize;
        out.array(n);
        self.reply_elements(out, start as usize, n, false);
    }

    /// Removes `n` elements from element `start` on (clamped to the list).
    fn remove_range(&mut self, start: usize, n: usize) {
        match &mut self.0 {
            Repr::Listpack(node) => {
                let start = start.min(node.count());
                let n = n.min(node.count() - start);
                node.remove_range(start, n);
            }
            Repr::Quicklist(q) => q.remove_range(start, n),
        }
    }

    /// Replies with the first `n` (<= len) elements, or the last ones in reverse order, as an
    /// array, and removes them.
    fn pop_range(&mut self, out: &mut Reply, n: usize, front: bool) {
        out.array(n);
        if n == 0 {
            return;
        }
        let len = self.len();
        if front {
            self.reply_elements(out, 0, n, false);
            self.remove_range(0, n);
        } else {
            self.reply_elements(out, len - 1, n, true);
            self.remove_range(len - n, n);
        }
    }

    /// Inserts `v` before or after the first element equal to `pivot`; false if there is none.
    fn insert_at(&mut self, pivot: &Pattern, v: &[u8], after: bool) -> bool {
        let mut found = None;
        'search: for ni in 0.. {
            let (a, b) = self.node_slices();
            let Some(node) = a.get(ni).or_else(|| b.get(ni - a.len())) else {
                break;
            };
            let mut off = 0;
            let mut idx = 0;
            while off < node.end() {
                let (e, next) = node.get_next(off);
                if pivot.matches(e) {
                    found = Some((ni, idx, off));
                    break 'search;
                }
                off = next;
                idx += 1;
            }
        }
        let Some((ni, idx, off)) = found else {
            return false;
        };
        match &mut self.0 {
            Repr::Listpack(n) => {
                let at = if after { n.get_next(off).1 } else { off };
                n.insert(at, v);
            }
            Repr::Quicklist(q) => q.insert(ni, idx, off, v, after),
        }
        true
    }

    /// LREM: removes elements equal to `pat`: the first `count` (count > 0), the last
    /// `-count` (count < 0) or all (0). Returns how many went.
    fn remove_matching(&mut self, pat: &Pattern, count: i64) -> usize {
        let from_tail = count < 0;
        // Redis negates a negative count; LONG_MIN stays negative there and never matches
        // the number removed, so every match goes.
        let limit = match count {
            0 | i64::MIN => usize::MAX,
            c => c.unsigned_abs() as usize,
        };
        match &mut self.0 {
            Repr::Listpack(n) => n.remove_matching(pat, limit, from_tail),
            Repr::Quicklist(q) => {
                let mut left = limit;
                let mut removed = 0;
                if from_tail {
                    let mut ni = q.nodes.len();
                    while ni > 0 && left > 0 {
                        ni -= 1;
                        let r = q.nodes[ni].remove_matching(pat, left, true);
                        q.removed_from(ni, r);
                        left -= r;
                        removed += r;
                    }
                } else {
                    let mut ni = 0;
                    while ni < q.nodes.len() && left > 0 {
                        let r = q.nodes[ni].remove_matching(pat, left, false);
                        if !q.removed_from(ni, r) {
                            ni += 1;
                        }
                        left -= r;
                        removed += r;
                    }
                }
                removed
            }
        }
    }

    /// LPOS: the indexes of the elements equal to `pat`, starting at the `rank`-th match
    /// (counted from the tail when `reverse`), at most `count` of them (0: all), scanning at
    /// most `maxlen` elements (0: all).
    fn positions(
        &self,
        pat: &Pattern,
        rank: u64,
        count: u64,
        maxlen: u64,
        reverse: bool,
    ) -> Vec<i64> {
        let len = self.len() as i64;
        let mut out = Vec::new();
        let mut matches = 0u64;
        let mut scan = |index: usize, e: Elem| {
            if maxlen != 0 && index as u64 >= maxlen {
                return false;
            }
            if pat.matches(e) {
                matches += 1;
                if matches >= rank {
                    out.push(if reverse {
                        len - index as i64 - 1
                    } else {
                        index as i64
                    });
                    if count != 0 && out.len() as u64 >= count {
                        return false;
                    }
                }
            }
            true
        };
        if reverse {
            for (i, e) in self.iter().rev().enumerate() {
                if !scan(i, e) {
                    break;
                }
            }
        } else {
            for (i, e) in self.iter().enumerate() {
                if !scan(i, e) {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
