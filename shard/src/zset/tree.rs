//! The large encoding (Redis' `skiplist`): an order-statistic B+tree over (score, member) plus
//! a hash index from member to slot, with every member stored once.
//!
//! Layout, per member: one [`Slot`] (score + member bytes: inline up to 22 bytes, else one heap
//! allocation) in a slab addressed by a `u32` id; a `u32` in the hash index (hashbrown
//! `HashTable`, hashing the member through the slab); a (score, id) pair in a B+tree leaf.
//! Inner nodes keep each child's entry count, so ranks and range bounds are O(log n), and
//! each child's smallest key, so searches descend without touching the leaves' neighbours.
//! Ties in score compare the members, read through the slab (no member is copied into the
//! tree). Nothing is shared by pointer: ids tie the three parts together, and no `unsafe` is
//! needed.

use hashbrown::HashTable;
use std::cmp::Ordering;
use std::sync::OnceLock;

/// Entries per leaf: 63 (score, id) pairs plus the length fill a 768-byte allocation.
const LEAF_CAP: usize = 63;
/// Children per inner node.
const INNER_CAP: usize = 64;
/// A node below a quarter full is merged with, or refilled from, a sibling.
const LEAF_MIN: usize = LEAF_CAP / 4;
const INNER_MIN: usize = INNER_CAP / 4;
/// Members up to this many bytes live inside their slot, without an allocation.
const INLINE: usize = 22;

/// The process-wide hash seed for member hashing (random per process, as Redis' siphash key).
fn hasher() -> &'static ahash::RandomState {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new)
}

fn hash(member: &[u8]) -> u64 {
    hasher().hash_one(member)
}

/// A member's bytes, or a free slot.
#[derive(Clone)]
enum Member {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
    Free,
}

impl Member {
    fn new(b: &[u8]) -> Member {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Member::Inline(b.len() as u8, buf)
        } else {
            Member::Heap(b.into())
        }
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        match self {
            Member::Inline(n, b) => &b[..*n as usize],
            Member::Heap(b) => b,
            Member::Free => &[],
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Member::Heap(b) => b.len(),
            _ => 0,
        }
    }
}

#[derive(Clone)]
struct Slot {
    score: f64,
    member: Member,
}

/// Orders (score, member) keys as Redis does: by score (`-0` equals `0`), then bytewise.
#[inline]
fn cmp_keys(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    if a_score < b_score {
        Ordering::Less
    } else if a_score > b_score {
        Ordering::Greater
    } else {
        a_member.cmp(b_member)
    }
}

// ---------------------------------------------------------------------------------------------
// The tree

#[derive(Clone)]
struct Leaf {
    scores: [f64; LEAF_CAP],
    ids: [u32; LEAF_CAP],
    len: u32,
}

impl Leaf {
    fn new() -> Box<Leaf> {
        Box::new(Leaf {
            scores: [0.0; LEAF_CAP],
            ids: [0; LEAF_CAP],
            len: 0,
        })
    }

    #[inline]
    fn len(&self) -> usize {
        self.len as usize
    }

    fn insert_at(&mut self, pos: usize, score: f64, id: u32) {
        let n = self.len();
        debug_assert!(n < LEAF_CAP && pos <= n);
        self.scores.copy_within(pos..n, pos + 1);
        self.ids.copy_within(pos..n, pos + 1);
        self.scores[pos] = score;
        self.ids[pos] = id;
        self.len += 1;
    }

    fn remove_at(&mut self, pos: usize) -> u32 {
        let n = self.len();
        let id = self.ids[pos];
        self.scores.copy_within(pos + 1..n, pos);
        self.ids.copy_within(pos + 1..n, pos);
        self.len -= 1;
        id
    }

    /// Moves entries `from..` to the end of `to`.
    fn move_tail(&mut self, from: usize, to: &mut Leaf) {
        let n = self.len();
        let (m, k) = (to.len(), n - from);
        to.scores[m..m + k].copy_from_slice(&self.scores[from..n]);
        to.ids[m..m + k].copy_from_slice(&self.ids[from..n]);
        to.len += k as u32;
        self.len = from as u32;
    }

    /// Moves the first `k` entries to the end of `to`.
    fn move_head(&mut self, k: usize, to: &mut Leaf) {
        let (n, m) = (self.len(), to.len());
        to.scores[m..m + k].copy_from_slice(&self.scores[..k]);
        to.ids[m..m + k].copy_from_slice(&self.ids[..k]);
        to.len += k as u32;
        self.scores.copy_within(k..n, 0);
        self.ids.copy_within(k..n, 0);
        self.len -= k as u32;
    }

    /// Moves the last `k` entries to the front of `to`.
    fn move_last_to_front(&mut self, k: usize, to: &mut Leaf) {
        let (n, m) = (self.len(), to.len());
        to.scores.copy_within(0..m, k);
        to.ids.copy_within(0..m, k);
        to.scores[..k].copy_from_slice(&self.scores[n - k..n]);
        to.ids[..k].copy_from_slice(&self.ids[n - k..n]);
        to.len += k as u32;
        self.len -= k as u32;
    }
}

#[derive(Clone)]
struct Kid {
    node: Node,
    /// Entries in the subtree.
    count: usize,
    /// The subtree's smallest key.
    score: f64,
    id: u32,
}

impl Kid {
    fn new(node: Node) -> Kid {
        let (score, id) = node.first();
        Kid {
            count: node.count(),
            node,
            score,
            id,
        }
    }

    fn refresh_first(&mut self) {
        (self.score, self.id) = self.node.first();
    }
}

#[derive(Clone)]
enum Node {
    Leaf(Box<Leaf>),
    Inner(Vec<Kid>),
}

impl Node {
    /// Entries (leaf) or children (inner node).
    fn size(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Inner(k) => k.len(),
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len(),
            Node::Inner(k) => k.iter().map(|k| k.count).sum(),
        }
    }

    /// The smallest key; the node must not be empty.
    fn first(&self) -> (f64, u32) {
        match self {
            Node::Leaf(l) => (l.scores[0], l.ids[0]),
            Node::Inner(k) => (k[0].score, k[0].id),
        }
    }
}

/// The slab the tree's ids point into, for comparing members.
struct Slots<'a>(&'a [Slot]);

impl Slots<'_> {
    #[inline]
    fn member(&self, id: u32) -> &[u8] {
        self.0[id as usize].member.bytes()
    }

    #[inline]
    fn cmp(&self, score: f64, id: u32, t_score: f64, t_member: &[u8]) -> Ordering {
        cmp_keys(score, self.member(id), t_score, t_member)
    }
}

/// Index of the child whose range holds `key`: the last child whose smallest key is <= key
/// (0 when key is below them all).
fn child_for(kids: &[Kid], slots: &Slots, score: f64, member: &[u8]) -> usize {
    kids.partition_point(|k| slots.cmp(k.score, k.id, score, member) != Ordering::Greater)
        .saturating_sub(1)
}

/// The position of the first entry of the leaf not below `key`.
fn lower_bound(l: &Leaf, slots: &Slots, score: f64, member: &[u8]) -> usize {
    let (mut lo, mut hi) = (0, l.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if slots.cmp(l.scores[mid], l.ids[mid], score, member) == Ordering::Less {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Inserts a key known to be absent; returns a new right sibling when the node split.
fn insert_node(node: &mut Node, score: f64, id: u32, member: &[u8], slots: &Slots) -> Option<Node> {
    match node {
        Node::Leaf(l) => {
            let n = l.len();
            let pos = lower_bound(l, slots, score, member);
            if n < LEAF_CAP {
                l.insert_at(pos, score, id);
                return None;
            }
            // Full: split. Appending (or prepending) keeps the old node full, so ascending
            // and descending loads leave packed leaves.
            let mut right = Leaf::new();
            let split = if pos == n {
                n
            } else if pos == 0 {
                0
            } else {
                n.div_ceil(2)
            };
            l.move_tail(split, &mut right);
            if pos < split || (pos == split && split == 0) {
                l.insert_at(pos, score, id);
            } else {
                right.insert_at(pos - split, score, id);
            }
            Some(Node::Leaf(right))
        }
        Node::Inner(kids) => {
            let i = child_for(kids, slots, score, member);
            let split = insert_node(&mut kids[i].node, score, id, member, slots);
            kids[i].count += 1;
            kids[i].refresh_first();
            let right = split?;
            let kid = Kid::new(right);
            kids[i].count -= kid.count;
            kids.insert(i + 1, kid);
            if kids.len() <= INNER_CAP {
                return None;
            }
            let at = if i + 1 == kids.len() - 1 {
                kids.len() - 1
            } else {
                kids.len() / 2
            };
            Some(Node::Inner(kids.split_off(at)))
        }
    }
}

/// Removes the key (score, member); returns its id if it was there.
fn remove_node(node: &mut Node, score: f64, member: &[u8], slots: &Slots) -> Option<u32> {
    match node {
        Node::Leaf(l) => {
            let (n, lo) = (l.len(), lower_bound(l, slots, score, member));
            (lo < n && slots.cmp(l.scores[lo], l.ids[lo], score, member) == Ordering::Equal)
                .then(|| l.remove_at(lo))
        }
        Node::Inner(kids) => {
            let i = child_for(kids, slots, score, member);
            let id = remove_node(&mut kids[i].node, score, member, slots)?;
            kids[i].count -= 1;
            if kids[i].count == 0 {
                kids.remove(i);
            } else {
                let min = match kids[i].node {
                    Node::Leaf(_) => LEAF_MIN,
                    Node::Inner(_) => INNER_MIN,
                };
                if kids[i].node.size() < min && kids.len() > 1 {
                    rebalance(kids, i);
                } else {
                    kids[i].refresh_first();
                }
            }
            Some(id)
        }
    }
}

/// Merges the underfull child `i` with a neighbour, or evens the two out when they do not fit
/// in one node.
fn rebalance(kids: &mut Vec<Kid>, i: usize) {
    let j = if i + 1 < kids.len() { i + 1 } else { i - 1 };
    let (a, b) = (i.min(j), i.max(j));
    let (left, right) = kids.split_at_mut(b);
    let (ka, kb) = (&mut left[a], &mut right[0]);
    match (&mut ka.node, &mut kb.node) {
        (Node::Leaf(la), Node::Leaf(lb)) => {
            let (na, nb) = (la.len(), lb.len());
            if na + nb <= LEAF_CAP {
                lb.move_tail(0, la);
            } else {
                let half = (na + nb) / 2;
                if na < half {
                    lb.move_head(half - na, la);
                } else {
                    la.move_last_to_front(na - half, lb);
                }
            }
        }
        (Node::Inner(ia), Node::Inner(ib)) => {
            let (na, nb) = (ia.len(), ib.len());
            if na + nb <= INNER_CAP {
                ia.append(ib);
            } else {
                let half = (na + nb) / 2;
                if na < half {
                    ia.extend(ib.drain(..half - na));
                } else {
                    let moved = ia.split_off(half);
                    ib.splice(0..0, moved);
                }
            }
        }
        _ => unreachable!("siblings are at the same depth"),
    }
    ka.count = ka.node.count();
    kb.count = kb.node.count();
    ka.refresh_first();
    if kb.count == 0 {
        kids.remove(b);
    } else {
        kb.refresh_first();
    }
}

/// Entries of the subtree for which `before` holds; `before` must hold on a prefix of the
/// order (false from some key on).
fn count_before(node: &Node, before: &mut impl FnMut(f64, u32) -> bool) -> usize {
    match node {
        Node::Leaf(l) => {
            let (mut lo, mut hi) = (0, l.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if before(l.scores[mid], l.ids[mid]) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        }
        Node::Inner(kids) => {
            let (mut lo, mut hi) = (0, kids.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if before(kids[mid].score, kids[mid].id) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if lo == 0 {
                return 0;
            }
            let full: usize = kids[..lo - 1].iter().map(|k| k.count).sum();
            full + count_before(&kids[lo - 1].node, before)
        }
    }
}

/// Calls `f` for the entries of ranks `start..end` of the subtree, ascending or descending.
fn visit(node: &Node, start: usize, end: usize, rev: bool, f: &mut impl FnMut(f64, u32)) {
    match node {
        Node::Leaf(l) => {
            if rev {
                (start..end).rev().for_each(|k| f(l.scores[k], l.ids[k]));
            } else {
                (start..end).for_each(|k| f(l.scores[k], l.ids[k]));
            }
        }
        Node::Inner(kids) => {
            let mut off = 0;
            let mut spans: smallvec::SmallVec<[(usize, usize, usize); 8]> = Default::default();
            for (i, k) in kids.iter().enumerate() {
                let (lo, hi) = (off, off + k.count);
                off = hi;
                if hi <= start {
                    continue;
                }
                if lo >= end {
                    break;
                }
                spans.push((i, start.max(lo) - lo, end.min(hi) - lo));
            }
            if rev {
                spans.reverse();
            }
            for (i, s, e) in spans {
                visit(&kids[i].node, s, e, rev, f);
            }
        }
    }
}

fn node_bytes(node: &Node) -> usize {
    match node {
        Node::Leaf(_) => std::mem::size_of::<Leaf>(),
        Node::Inner(kids) => {
            kids.capacity() * std::mem::size_of::<Kid>()
                + kids.iter().map(|k| node_bytes(&k.node)).sum::<usize>()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The set: slab + index + tree

/// A sorted set in the large encoding. Ids are slab positions, stable while the member lives
/// (ZSCAN's cursor walks them), until a rebuild after heavy shrinking.
#[derive(Clone)]
pub(super) struct Big {
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: HashTable<u32>,
    root: Node,
    len: usize,
    /// Bytes of members stored out of line.
    heap: usize,
}

impl Big {
    pub(super) fn with_capacity(n: usize) -> Big {
        Big {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            index: HashTable::with_capacity(n),
            root: Node::Leaf(Leaf::new()),
            len: 0,
            heap: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash(member), |&id| {
                slots[id as usize].member.bytes() == member
            })
            .copied()
    }

    pub(super) fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.slots[id as usize].score)
    }

    /// Adds a member known to be absent.
    pub(super) fn insert_new(&mut self, member: &[u8], score: f64) {
        let slot = Slot {
            score,
            member: Member::new(member),
        };
        self.heap += slot.member.heap_bytes();
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).expect("sorted set slab within u32 ids")
            }
        };
        let slots = &self.slots;
        self.index.insert_unique(hash(member), id, |&i| {
            hash(slots[i as usize].member.bytes())
        });
        let split = insert_node(&mut self.root, score, id, member, &Slots(slots));
        if let Some(right) = split {
            let left = std::mem::replace(&mut self.root, Node::Inner(Vec::new()));
            self.root = Node::Inner(vec![Kid::new(left), Kid::new(right)]);
        }
        self.len += 1;
    }

    /// Sets the score of an existing member; true when it changed.
    pub(super) fn update(&mut self, member: &[u8], score: f64) -> bool {
        let Some(id) = self.find(member) else {
            return false;
        };
        let old = self.slots[id as usize].score;
        if old == score {
            return false;
        }
        let slots = Slots(&self.slots);
        remove_node(&mut self.root, old, member, &slots).expect("indexed member is in the tree");
        self.slots[id as usize].score = score;
        let split = insert_node(&mut self.root, score, id, member, &Slots(&self.slots));
        if let Some(right) = split {
            let left = std::mem::replace(&mut self.root, Node::Inner(Vec::new()));
            self.root = Node::Inner(vec![Kid::new(left), Kid::new(right)]);
        }
        self.shrink_root();
        true
    }

    /// Removes a member; its score if it was there.
    pub(super) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let h = hash(member);
        let slots = &self.slots;
        let entry = self
            .index
            .find_entry(h, |&id| slots[id as usize].member.bytes() == member)
            .ok()?;
        let (id, _) = entry.remove();
        let score = self.slots[id as usize].score;
        remove_node(&mut self.root, score, member, &Slots(&self.slots))
            .expect("indexed member is in the tree");
        self.shrink_root();
        let slot = &mut self.slots[id as usize];
        self.heap -= slot.member.heap_bytes();
        slot.member = Member::Free;
        self.free.push(id);
        self.len -= 1;
        if self.slots.len() >= 64 && self.len * 4 < self.slots.len() {
            self.rebuild();
        }
        Some(score)
    }

    /// Collapses a root left with a single child (or none).
    fn shrink_root(&mut self) {
        loop {
            match &mut self.root {
                Node::Inner(kids) if kids.is_empty() => self.root = Node::Leaf(Leaf::new()),
                Node::Inner(kids) if kids.len() == 1 => {
                    let kid = kids.pop().expect("one child");
                    self.root = kid.node;
                }
                _ => return,
            }
        }
    }

    /// Rebuilds the slab, index and tree densely (after most members were removed).
    fn rebuild(&mut self) {
        let mut entries = Vec::with_capacity(self.len);
        let slots = &mut self.slots;
        visit(&self.root, 0, self.len, false, &mut |score, id| {
            let member = std::mem::replace(&mut slots[id as usize].member, Member::Free);
            entries.push(Slot { score, member });
        });
        let mut fresh = Big::with_capacity(entries.len());
        for e in entries {
            fresh.insert_new(e.member.bytes(), e.score);
        }
        *self = fresh;
    }

    /// The ascending rank of a member and its score.
    pub(super) fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let score = self.score(member)?;
        let slots = Slots(&self.slots);
        let r = count_before(&self.root, &mut |s, id| {
            slots.cmp(s, id, score, member) == Ordering::Less
        });
        Some((r, score))
    }

    /// Entries (in order) for which `before(member, score)` holds; it must hold on a prefix.
    pub(super) fn count_before(&self, mut before: impl FnMut(&[u8], f64) -> bool) -> usize {
        let slots = Slots(&self.slots);
        count_before(&self.root, &mut |s, id| before(slots.member(id), s))
    }

    /// The entry of ascending rank `rank` (< len).
    pub(super) fn select(&self, rank: usize) -> (&[u8], f64) {
        let mut node = &self.root;
        let mut r = rank;
        loop {
            match node {
                Node::Leaf(l) => {
                    let id = l.ids[r];
                    return (self.slots[id as usize].member.bytes(), l.scores[r]);
                }
                Node::Inner(kids) => {
                    let mut next = None;
                    for k in kids {
                        if r < k.count {
                            next = Some(&k.node);
                            break;
                        }
                        r -= k.count;
                    }
                    node = next.expect("rank below length");
                }
            }
        }
    }

    /// Calls `f` for ranks `start..end`, ascending, or descending with `rev`.
    pub(super) fn range(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if start >= end {
            return;
        }
        let slots = Slots(&self.slots);
        visit(&self.root, start, end.min(self.len), rev, &mut |s, id| {
            f(slots.member(id), s)
        });
    }

    /// Members of slab positions `cursor..`, until `count` were visited; the next cursor, 0
    /// at the end (ZSCAN).
    pub(super) fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
        let mut seen = 0;
        while i < self.slots.len() && seen < count {
            let slot = &self.slots[i];
            if !matches!(slot.member, Member::Free) {
                f(slot.member.bytes(), slot.score);
                seen += 1;
            }
            i += 1;
        }
        if i >= self.slots.len() {
            0
        } else {
            i as u64
        }
    }

    pub(super) fn heap_size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.free.capacity() * 4
            + self.index.capacity() * 5
            + self.heap
            + node_bytes(&self.root)
    }

    /// Checks the tree's invariants (tests).
    #[cfg(test)]
    pub(super) fn check(&self) {
        fn walk(node: &Node, out: &mut Vec<(f64, u32)>) -> usize {
            match node {
                Node::Leaf(l) => {
                    out.extend((0..l.len()).map(|k| (l.scores[k], l.ids[k])));
                    l.len()
                }
                Node::Inner(kids) => {
                    assert!(!kids.is_empty());
                    let mut total = 0;
                    for k in kids {
                        let at = out.len();
                        let n = walk(&k.node, out);
                        assert_eq!(n, k.count);
                        assert!(n > 0);
                        assert_eq!((k.score, k.id), out[at]);
                        total += n;
                    }
                    total
                }
            }
        }
        let slots = Slots(&self.slots);
        let mut all = Vec::new();
        assert_eq!(walk(&self.root, &mut all), self.len);
        for w in all.windows(2) {
            assert_eq!(
                slots.cmp(w[0].0, w[0].1, w[1].0, slots.member(w[1].1)),
                Ordering::Less
            );
        }
        for &(s, id) in &all {
            assert_eq!(self.slots[id as usize].score, s);
            assert_eq!(self.find(slots.member(id)), Some(id));
        }
        assert_eq!(self.index.len(), self.len);
    }
}
