//! Consumer groups: the group's pending entries list (PEL), its consumers and their own PELs.

use super::id::StreamId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A delivered entry not acknowledged yet.
#[derive(Clone, Debug)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer owning it (its name, shared with the group's consumer table).
    pub consumer: Arc<[u8]>,
}

/// A consumer of a group.
#[derive(Clone, Debug)]
pub struct Consumer {
    pub name: Arc<[u8]>,
    /// Unix ms of its last attempted interaction (XREADGROUP, XCLAIM, XAUTOCLAIM).
    pub seen_time: i64,
    /// Unix ms of its last successful interaction; -1 = never.
    pub active_time: i64,
    /// The IDs it owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// The read counter of `last_id` (`entries-read`); [`super::INVALID_ENTRIES_READ`] when
    /// unknown.
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    /// By name, in byte order.
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

impl Group {
    /// A group that has delivered up to `last_id`, with that ID's read counter.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer `name`, created if missing (the bool says whether it was). Its seen time
    /// becomes `now` either way.
    pub fn touch_consumer(&mut self, name: &[u8], now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        if created {
            self.create_consumer(name, now);
        }
        let c = self.consumers.get_mut(name).expect("present");
        c.seen_time = now as i64;
        (c, created)
    }

    /// Creates consumer `name`; false if it exists.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        let name: Arc<[u8]> = name.into();
        self.consumers.insert(
            name.clone(),
            Consumer {
                name,
                seen_time: now as i64,
                active_time: -1,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Deletes consumer `name` and its pending entries; returns how many it had, or None if
    /// there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Removes `id` from the PELs (group and owner). False if it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(nack) => {
                if let Some(c) = self.consumers.get_mut(&nack.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives pending entry `id` to `consumer` (which must exist), creating the entry if it is
    /// not pending (delivered once, now, as Redis' `streamCreateNACK`). Returns the entry.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], now: u64) -> &mut Nack {
        let owner = self
            .consumers
            .get_key_value(consumer)
            .map(|(k, _)| k.clone())
            .expect("the consumer exists");
        let previous = self.pel.get(&id).map(|n| n.consumer.clone());
        if let Some(prev) = previous {
            if *prev != *owner {
                if let Some(c) = self.consumers.get_mut(&prev) {
                    c.pel.remove(&id);
                }
            }
        }
        self.consumers
            .get_mut(consumer)
            .expect("the consumer exists")
            .pel
            .insert(id);
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            delivery_time: now as i64,
            delivery_count: 1,
            consumer: owner.clone(),
        });
        nack.consumer = owner;
        nack
    }

    /// Heap bytes held, approximately.
    pub fn heap_size(&self) -> usize {
        let nack = std::mem::size_of::<(StreamId, Nack)>();
        let consumers: usize = self
            .consumers
            .values()
            .map(|c| {
                c.name.len()
                    + std::mem::size_of::<Consumer>()
                    + c.pel.len() * std::mem::size_of::<StreamId>()
            })
            .sum();
        self.pel.len() * nack + consumers
    }

    /// Feeds the group's state to a digest.
    pub(super) fn digest(&self, part: &mut impl FnMut(&[u8])) {
        part(&self.last_id.to_bytes());
        part(&self.entries_read.to_le_bytes());
        for (id, n) in &self.pel {
            part(&id.to_bytes());
            part(&n.consumer);
            part(&n.delivery_time.to_le_bytes());
            part(&n.delivery_count.to_le_bytes());
        }
        for c in self.consumers.values() {
            part(&c.name);
            part(&c.seen_time.to_le_bytes());
            part(&c.active_time.to_le_bytes());
        }
    }
}
