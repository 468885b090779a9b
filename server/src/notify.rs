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
use shard::notify::{KEYEVENT, KEYSPACE};
use shard::Shard;

/// Publishes and forgets the events `shard` recorded.
pub fn publish_recorded(local: &Local, shard: &mut Shard) {
    let flags = shard.notify_flags();
    let mut messages: Vec<(Bytes, Bytes)> = Vec::new();
    for (db, d) in shard.dbs.iter_mut().enumerate() {
        if d.events.is_empty() {
            continue;
        }
        for ev in d.events.take() {
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
    }
    if !messages.is_empty() {
        crate::pubsub::broadcast(local, messages);
    }
}
