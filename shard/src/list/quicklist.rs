//! The quicklist: a deque of listpack nodes, Redis' `quicklist.c` for large lists.
//!
//! Pushing and popping touch one end node (O(1)); lookups by index walk node counts from the
//! nearer end, then entries inside one node. The node layout follows Redis' rules exactly:
//! when a push starts a new node, when an insert splits one, when neighbours merge. The
//! layout is observable: a list converts back to a listpack only when it is down to a single
//! node, so OBJECT ENCODING answers what Redis would only if the nodes are Redis' nodes.

use super::listpack::{Node, Owned, LP_OVERHEAD};
use std::collections::VecDeque;

/// Byte limits of a node for `list-max-listpack-size` -1 to -5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest node when the limit is a number of entries (Redis' `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Redis' over-estimate of the bytes one new entry adds to a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Largest fill a quicklist keeps (Redis' `FILL_MAX`).
const FILL_MAX: i64 = (1 << 15) - 1;

/// A node's limits for `fill` (`list-max-listpack-size`): a byte size or an entry count
/// (Redis' `quicklistNodeLimit`).
pub fn node_limit(fill: i64) -> (usize, u64) {
    if fill >= 0 {
        (usize::MAX, fill.max(1) as u64)
    } else {
        let level = (fill.unsigned_abs() - 1).min(SIZE_LEVELS.len() as u64 - 1);
        (SIZE_LEVELS[level as usize], u64::MAX)
    }
}

/// Whether a node of `size` bytes and `count` entries is over the limit for `fill` (Redis'
/// `quicklistNodeExceedsLimit`).
pub fn exceeds_limit(fill: i64, size: usize, count: u64) -> bool {
    let (size_limit, count_limit) = node_limit(fill);
    if size_limit != usize::MAX {
        size > size_limit
    } else {
        size > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// Whether `v` may join `node` (Redis' `_quicklistNodeAllowInsert`).
fn allow_insert(node: &Node, fill: i64, v: &[u8]) -> bool {
    let size = node.lp_bytes() + v.len() + SIZE_ESTIMATE_OVERHEAD;
    !exceeds_limit(fill, size, node.count() as u64 + 1)
}

/// Whether two nodes may become one (Redis' `_quicklistNodeAllowMerge`).
fn allow_merge(a: &Node, b: &Node, fill: i64) -> bool {
    let size = a.lp_bytes() + b.lp_bytes() - LP_OVERHEAD;
    !exceeds_limit(fill, size, (a.count() + b.count()) as u64)
}

/// A list in nodes of at most one node's limit each.
#[derive(Clone, Debug)]
pub struct Quicklist {
    pub(super) nodes: VecDeque<Node>,
    /// Elements in all nodes.
    count: usize,
    /// The node limit this list was created with, as Redis keeps it per quicklist.
    fill: i64,
}

impl Quicklist {
    /// An empty quicklist with nodes limited by `fill` (`list-max-listpack-size`).
    pub fn new(fill: i64) -> Quicklist {
        Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: fill.clamp(-(SIZE_LEVELS.len() as i64), FILL_MAX),
        }
    }

    /// A quicklist holding `node` as its only node (a listpack that outgrew its encoding).
    pub fn from_node(node: Node, fill: i64) -> Quicklist {
        let mut q = Quicklist::new(fill);
        if node.count() > 0 {
            q.count = node.count();
            q.nodes.push_back(node);
        }
        q
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The only node, taken out, if the list has exactly one.
    pub fn into_single_node(self) -> Result<Node, Quicklist> {
        if self.nodes.len() == 1 {
            let mut nodes = self.nodes;
            Ok(nodes.pop_front().expect("one node"))
        } else {
            Err(self)
        }
    }

    /// The only node, if the list has exactly one.
    pub fn single_node(&self) -> Option<&Node> {
        (self.nodes.len() == 1).then(|| &self.nodes[0])
    }

    /// Heap bytes held by the node table and the nodes.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(Node::heap_size).sum::<usize>()
    }

    /// A node started by a push at an end. Once a list has grown past two nodes, pushes at
    /// an end most likely fill the new node to its byte limit: it gets that room at once,
    /// instead of growing through every allocator size class (which leaves a partly used
    /// page behind in each). The node it replaces at that end is full: it gives back its
    /// spare room.
    fn end_node(&mut self, front: bool) -> Node {
        let (size, _) = node_limit(self.fill);
        let old = if front {
            self.nodes.front_mut()
        } else {
            self.nodes.back_mut()
        };
        if let Some(old) = old {
            old.shrink_to_fit();
        }
        if self.fill < 0 && self.nodes.len() >= 2 {
            Node::with_capacity(size - LP_OVERHEAD)
        } else {
            Node::default()
        }
    }

    /// Adds `v` at the head: into the head node if it has room, else in a new node.
    pub fn push_front(&mut self, v: &[u8]) {
        match self.nodes.front_mut() {
            Some(head) if allow_insert(head, self.fill, v) => head.push_front(v),
            _ => {
                let mut n = self.end_node(true);
                n.push_front(v);
                self.nodes.push_front(n);
            }
        }
        self.count += 1;
    }

    /// Adds `v` at the tail: into the tail node if it has room, else in a new node.
    pub fn push_back(&mut self, v: &[u8]) {
        match self.nodes.back_mut() {
            Some(tail) if allow_insert(tail, self.fill, v) => tail.push_back(v),
            _ => {
                let mut n = self.end_node(false);
                n.push_back(v);
                self.nodes.push_back(n);
            }
        }
        self.count += 1;
    }

    /// Removes the head element (and the head node if it empties).
    pub fn pop_front(&mut self) -> Option<Owned> {
        let head = self.nodes.front_mut()?;
        let v = head.get(0).to_owned();
        head.remove(0);
        if head.count() == 0 {
            self.nodes.pop_front();
        }
        self.count -= 1;
        Some(v)
    }

    /// Removes the tail element (and the tail node if it empties).
    pub fn pop_back(&mut self) -> Option<Owned> {
        let tail = self.nodes.back_mut()?;
        let off = tail.prev(tail.end());
        let v = tail.get(off).to_owned();
        tail.remove(off);
        if tail.count() == 0 {
            self.nodes.pop_back();
        }
        self.count -= 1;
        Some(v)
    }

    /// The node holding element `idx` (< len) and the element's index inside it, found by
    /// walking node counts from the nearer end.
    pub fn locate(&self, idx: usize) -> (usize, usize) {
        debug_assert!(idx < self.count);
        if idx <= (self.count - 1) / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                if acc + n.count() > idx {
                    return (i, idx - acc);
                }
                acc += n.count();
            }
        } else {
            let mut acc = self.count;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                acc -= n.count();
                if acc <= idx {
                    return (i, idx - acc);
                }
            }
        }
        unreachable!("index {idx} within the count {}", self.count)
    }

    /// Removes `n` elements starting at element `start` (Redis' `quicklistDelRange` with the
    /// range already clamped to the list): whole nodes go, partly covered nodes shrink, and
    /// nothing merges.
    pub fn remove_range(&mut self, start: usize, n: usize) {
        if n == 0 || start >= self.count {
            return;
        }
        let mut extent = n.min(self.count - start);
        let (mut ni, mut idx) = self.locate(start);
        self.count -= extent;
        while extent > 0 {
            let node = &mut self.nodes[ni];
            let del = (node.count() - idx).min(extent);
            if del == node.count() {
                self.nodes.remove(ni);
            } else {
                node.remove_range(idx, del);
                ni += 1;
            }
            extent -= del;
            idx = 0;
        }
    }

    /// Bookkeeping after entries were removed from node `ni` directly: drops the node if it
    /// emptied. Returns whether it did.
    pub fn removed_from(&mut self, ni: usize, n: usize) -> bool {
        self.count -= n;
        if self.nodes[ni].count() == 0 {
            self.nodes.remove(ni);
            true
        } else {
            false
        }
    }

    /// Inserts `v` next to entry `idx` (at byte offset `off`) of node `ni`, after it or
    /// before it, deciding where it goes as Redis' `_quicklistInsert` does: into that node if
    /// it has room; else into the neighbour node when inserting at the node's edge and the
    /// neighbour has room; else into a new node at the edge; else the node is split around
    /// the entry and the pieces merged with their neighbours where they fit.
    pub fn insert(&mut self, ni: usize, idx: usize, off: usize, v: &[u8], after: bool) {
        let fill = self.fill;
        let node = &self.nodes[ni];
        let full = !allow_insert(node, fill, v);
        let at_tail = after && idx == node.count() - 1;
        let at_head = !after && idx == 0;
        let avail_next =
            at_tail && ni + 1 < self.nodes.len() && allow_insert(&self.nodes[ni + 1], fill, v);
        let avail_prev = at_head && ni > 0 && allow_insert(&self.nodes[ni - 1], fill, v);
        self.count += 1;
        if !full {
            let node = &mut self.nodes[ni];
            let at = if after { node.get_next(off).1 } else { off };
            node.insert(at, v);
        } else if avail_next {
            self.nodes[ni + 1].push_front(v);
        } else if avail_prev {
            self.nodes[ni - 1].push_back(v);
        } else if at_tail || at_head {
            let mut n = Node::default();
            n.push_back(v);
            self.nodes.insert(if after { ni + 1 } else { ni }, n);
        } else if after {
            // The node keeps entries ..=idx, the new node takes the rest behind `v`.
            let node = &mut self.nodes[ni];
            let split = node.get_next(off).1;
            let mut rest = node.split_off(split, idx + 1);
            rest.push_front(v);
            self.nodes.insert(ni + 1, rest);
            self.merge_around(ni);
        } else {
            // The new node takes entries ..idx followed by `v`, the node keeps the rest.
            let node = &mut self.nodes[ni];
            let rest = node.split_off(off, idx);
            let mut front = std::mem::replace(node, rest);
            front.push_back(v);
            self.nodes.insert(ni, front);
            self.merge_around(ni + 1);
        }
    }

    /// Merges node `i + 1` into node `i`.
    fn merge_at(&mut self, i: usize) {
        let b = self.nodes.remove(i + 1).expect("node to merge");
        let a = &mut self.nodes[i];
        // Move the smaller buffer into the larger one, as Redis' lpMerge does.
        if b.end() > a.end() {
            let a = std::mem::replace(a, b);
            self.nodes[i].prepend(a);
        } else {
            a.append(b);
        }
    }

    fn can_merge(&self, a: usize, b: usize) -> bool {
        allow_merge(&self.nodes[a], &self.nodes[b], self.fill)
    }

    /// Redis' `_quicklistMergeNodes` around node `center`: the two nodes before it, the two
    /// after it, then the center with its previous and next nodes, as far as each pair fits
    /// in one node.
    fn merge_around(&mut self, mut center: usize) {
        if center >= 2 && self.can_merge(center - 1, center - 2) {
            self.merge_at(center - 2);
            center -= 1;
        }
        if center + 2 < self.nodes.len() && self.can_merge(center + 1, center + 2) {
            self.merge_at(center + 1);
        }
        let target = if center >= 1 && self.can_merge(center, center - 1) {
            self.merge_at(center - 1);
            center - 1
        } else {
            center
        };
        if target + 1 < self.nodes.len() && self.can_merge(target, target + 1) {
            self.merge_at(target);
        }
    }

    /// The elements front to back.
    #[cfg(test)]
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = super::listpack::Elem<'_>> {
        self.nodes.iter().flat_map(Node::iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(q: &Quicklist) -> Vec<usize> {
        q.nodes.iter().map(Node::count).collect()
    }

    fn items(q: &Quicklist) -> Vec<Vec<u8>> {
        q.iter().map(|e| e.with_bytes(|b| b.to_vec())).collect()
    }

    #[test]
    fn limits_as_redis() {
        assert_eq!(node_limit(-2), (8192, u64::MAX));
        assert_eq!(node_limit(-100), (65536, u64::MAX));
        assert_eq!(node_limit(0), (usize::MAX, 1));
        assert_eq!(node_limit(5), (usize::MAX, 5));
        assert!(exceeds_limit(5, 100, 6));
        assert!(!exceeds_limit(5, 100, 5));
        assert!(
            exceeds_limit(5, 8193, 1),
            "the safety limit applies to counts"
        );
        assert!(exceeds_limit(-1, 4097, 1));
        assert!(!exceeds_limit(-1, 4096, 100_000));
    }

    #[test]
    fn pushes_fill_nodes_up_to_the_limit() {
        let mut q = Quicklist::new(3);
        for i in 0..7 {
            q.push_back(format!("{i}").as_bytes());
        }
        assert_eq!(counts(&q), [3, 3, 1]);
        q.push_front(b"x");
        assert_eq!(counts(&q), [1, 3, 3, 1]);
        assert_eq!(q.pop_front(), Some(Owned::Str(b"x".to_vec())));
        assert_eq!(q.pop_back(), Some(Owned::Int(6)));
        assert_eq!(counts(&q), [3, 3]);
        assert_eq!(q.locate(4), (1, 1));
        assert_eq!(q.locate(0), (0, 0));
        assert_eq!(q.locate(5), (1, 2));
    }

    #[test]
    fn insert_splits_full_nodes_and_merges_neighbours() {
        let mut q = Quicklist::new(4);
        for i in 0..8 {
            q.push_back(format!("v{i}").as_bytes());
        }
        assert_eq!(counts(&q), [4, 4]);
        // After entry 1 of a full node: split into [v0 v1] [x v2 v3], then the halves merge
        // with what fits.
        let off = q.nodes[0].seek(1);
        q.insert(0, 1, off, b"x", true);
        assert_eq!(
            items(&q),
            ["v0", "v1", "x", "v2", "v3", "v4", "v5", "v6", "v7"].map(|s| s.as_bytes().to_vec())
        );
        assert_eq!(counts(&q), [2, 3, 4]);
        // At the tail of a full node whose next node is full: a new node between.
        let off = q.nodes[2].seek(3);
        q.insert(2, 3, off, b"y", true);
        assert_eq!(counts(&q), [2, 3, 4, 1]);
        // Before the head of a node whose previous node has room: goes there.
        let off = q.nodes[2].seek(0);
        q.insert(2, 0, off, b"z", false);
        assert_eq!(counts(&q), [2, 4, 4, 1]);
        assert_eq!(q.len(), 11);
        assert_eq!(items(&q)[5..7].to_vec(), [b"z".to_vec(), b"v4".to_vec()]);
    }

    fn from_nodes(fill: i64, nodes: &[&[&str]]) -> Quicklist {
        let mut q = Quicklist::new(fill);
        for n in nodes {
            let mut node = Node::default();
            n.iter().for_each(|v| node.push_back(v.as_bytes()));
            q.count += node.count();
            q.nodes.push_back(node);
        }
        q
    }

    #[test]
    fn a_split_merges_the_two_nodes_before_then_the_center_as_redis_does() {
        let mut q = from_nodes(4, &[&["a"], &["b"], &["c", "d", "e", "f"], &["g"], &["h"]]);
        let off = q.nodes[2].seek(1);
        q.insert(2, 1, off, b"x", true);
        // Split into [c d] [x e f]; then the two before the center merge ([a b]), the two
        // after it ([x e f g]), the center joins [a b]; [a b c d] + [x e f g] would be 8.
        assert_eq!(counts(&q), [4, 4, 1]);
        assert_eq!(
            items(&q),
            ["a", "b", "c", "d", "x", "e", "f", "g", "h"].map(|s| s.as_bytes().to_vec())
        );
        // Before an inner entry: the new node takes the front part and `v`.
        let mut q = from_nodes(3, &[&["a", "b", "c"]]);
        let off = q.nodes[0].seek(2);
        q.insert(0, 2, off, b"x", false);
        assert_eq!(counts(&q), [3, 1]);
        assert_eq!(
            items(&q),
            ["a", "b", "x", "c"].map(|s| s.as_bytes().to_vec())
        );
    }

    #[test]
    fn remove_range_drops_and_shrinks_nodes() {
        let mut q = Quicklist::new(3);
        for i in 0..10 {
            q.push_back(format!("{i}").as_bytes());
        }
        q.remove_range(2, 5);
        assert_eq!(counts(&q), [2, 2, 1]);
        assert_eq!(
            items(&q),
            ["0", "1", "7", "8", "9"].map(|s| s.as_bytes().to_vec())
        );
        q.remove_range(0, 100);
        assert_eq!(q.len(), 0);
        assert!(q.nodes.is_empty());
    }
}
