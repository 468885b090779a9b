//! A stream's nodes as a snapshot stores them (Redis' RDB keeps a stream's listpacks as they
//! are: master entry, flags, tombstones): read-only views for the writer, and rebuilding the
//! same nodes when a snapshot is loaded.

use super::node::{EntryRef, MasterNames, Node};
use super::{StreamId, StreamValue};

/// One node of a stream, read-only.
#[derive(Clone, Copy)]
pub struct NodeView<'a> {
    node: &'a Node,
}

impl<'a> NodeView<'a> {
    /// The node's master ID (its first entry's, the key of Redis' radix tree node).
    pub fn master(&self) -> StreamId {
        self.node.master
    }

    /// Entries not deleted.
    pub fn live(&self) -> u64 {
        self.node.live
    }

    /// Tombstones.
    pub fn deleted(&self) -> u64 {
        self.node.deleted
    }

    /// The master entry's field names.
    pub fn master_names(&self) -> MasterNames<'a> {
        self.node.master_names()
    }

    /// Every entry, tombstones included, in ID order.
    pub fn entries(&self) -> impl Iterator<Item = EntryRef<'a>> {
        self.node.entries().map(|(_, e)| e)
    }
}

/// An entry of a node being restored: its ID, whether it is a tombstone, its pairs.
pub type RestoredEntry<'a> = (StreamId, bool, &'a [(&'a [u8], &'a [u8])]);

impl StreamValue {
    /// The nodes in ID order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeView<'_>> {
        self.nodes.iter().map(|node| NodeView { node })
    }

    /// Appends a node as a snapshot stored it: master ID `master`, master field names
    /// `names`, then `entries` (tombstones included). The caller guarantees the order: IDs
    /// increasing, none below `master`, `master` above every ID already stored. A node
    /// without a live entry is not kept (XDEL removes such nodes). The stream's length grows
    /// by the live entries; its counters (`last_id`, `first_id`, `max_deleted`,
    /// `entries_added`) are the caller's to set.
    pub fn restore_node<'a>(
        &mut self,
        master: StreamId,
        names: &[&[u8]],
        entries: impl IntoIterator<Item = RestoredEntry<'a>>,
    ) {
        let mut node = Node::empty(master, names.iter().copied(), 0);
        for (id, deleted, fields) in entries {
            node.push_restored(id, fields, deleted);
        }
        if node.live == 0 {
            return;
        }
        node.seal();
        self.length += node.live;
        self.nodes.push_back(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    /// Nodes copied through their views come back identical: master fields, flags,
    /// tombstones, and Redis' listpack size.
    #[test]
    fn nodes_copy_through_their_views() {
        let limits = Limits {
            stream_node_max_entries: 3,
            ..Limits::default()
        };
        let mut s = StreamValue::new();
        for i in 1..=7u64 {
            let fields: &[(&[u8], &[u8])] = if i % 3 == 0 {
                &[(b"other", b"x")]
            } else {
                &[(b"a", b"1"), (b"b", b"2")]
            };
            s.add(Some((StreamId::new(i, 0), true)), fields, 0, &limits)
                .unwrap();
        }
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(s.delete(StreamId::new(5, 0)));
        let mut copy = StreamValue::new();
        for n in s.nodes() {
            let names: Vec<&[u8]> = n.master_names().collect();
            type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;
            let entries: Vec<(StreamId, bool, Pairs)> = n
                .entries()
                .map(|e| (e.id, e.is_deleted(), e.pairs().collect()))
                .collect();
            copy.restore_node(
                n.master(),
                &names,
                entries.iter().map(|(id, d, p)| (*id, *d, p.as_slice())),
            );
        }
        // A node of tombstones only is not kept.
        let pairs: &[(&[u8], &[u8])] = &[(b"a", b"1")];
        copy.restore_node(
            StreamId::new(9, 0),
            &[b"a"],
            [(StreamId::new(9, 0), true, pairs)],
        );
        assert_eq!(copy.node_count(), 3);
        assert_eq!(copy.len(), s.len());
        let shape = |s: &StreamValue| -> Vec<(StreamId, u64, u64, u64)> {
            s.nodes
                .iter()
                .map(|n| (n.master, n.live, n.deleted, n.lp_bytes()))
                .collect()
        };
        assert_eq!(shape(&copy), shape(&s));
        let ids = |s: &StreamValue| -> Vec<StreamId> {
            s.range(StreamId::MIN, StreamId::MAX, false)
                .map(|e| e.id)
                .collect()
        };
        assert_eq!(ids(&copy), ids(&s));
        let flags: Vec<bool> = copy
            .nodes()
            .flat_map(|n| {
                n.entries()
                    .map(|e| e.has_master_fields())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(flags, [true, true, false, true, true, false, true]);
    }
}
