//! Keyspace notifications: publishes the events commands recorded on a shard
//! (`shard::notify`) as Redis does, on `__keyspace@<db>__:<key>` (K) and
//! `__keyevent@<db>__:<event>` (E).
//!
//! A shard publishes when the borrow its commands ran under ends ([`crate::local::ShardMut`]):
//! to its own executor's subscribers at once, to every other executor in one message each,
//! before the commands' replies leave the shard. So a client that PUBLISHes after a reply
//! is delivered after that command's events, and each executor sees one shard's events in
//! the order they happened.

use crate::local::Local;
use bytes::Bytes;
use shard::notify::{Event, KEYEVENT, KEYSPACE};
use shard::Shard;

/// Publishes and forgets the events `shard` recorded.
pub fn publish_recorded(local: &Local, shard: &mut Shard) {
    let events = take_events(shard);
    publish_events(local, shard.notify_flags(), events);
}

/// The events `shard` recorded, with their databases, oldest first.
pub fn take_events(shard: &mut Shard) -> Vec<(usize, Event)> {
    let mut events = Vec::new();
    let mut dbs = 0;
    for (db, d) in shard.dbs.iter_mut().enumerate() {
        if !d.events.is_empty() {
            events.extend(d.events.take().into_iter().map(|e| (db, e)));
            dbs += 1;
        }
    }
    if dbs > 1 {
        events.sort_by_key(|(_, e)| e.seq);
    }
    events
}

/// Publishes `events` on the channels `flags` (`notify-keyspace-events`) asks for.
pub fn publish_events(local: &Local, flags: u16, events: Vec<(usize, Event)>) {
    let mut messages: Vec<(Bytes, Bytes)> = Vec::new();
    for (db, ev) in events {
        if flags & KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{db}__:").into_bytes();
            channel.extend_from_slice(&ev.key);
            messages.push((channel.into(), Bytes::from_static(ev.name.as_bytes())));
        }
        if flags & KEYEVENT != 0 {
            let channel = format!("__keyevent@{db}__:{}", ev.name);
            messages.push((channel.into(), Bytes::from(Vec::from(ev.key))));
        }
    }
    if !messages.is_empty() {
        crate::pubsub::broadcast(local, messages);
    }
}
