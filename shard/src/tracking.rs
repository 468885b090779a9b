//! CLIENT TRACKING on one shard: which clients read which of its keys (the default mode),
//! which key prefixes broadcasting clients follow (BCAST), and the invalidations a change
//! produces.
//!
//! As in Redis, the table of read keys ignores databases (a change to `foo` in any database
//! invalidates `foo`), a key's readers are forgotten once they were told, and a broadcast
//! prefix collects the keys changed under it until the server sends them in one message
//! per prefix. Which client changed a key travels with the invalidation, so the server can
//! honour NOLOOP on the reader's side.

use ahash::AHashMap;
use smallvec::SmallVec;
use std::collections::VecDeque;

/// A tracking client: its id and the executor that serves its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reader {
    pub client: u64,
    pub home: u32,
}

/// What a reader must be told.
#[derive(Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// A key it read changed (default mode); `by` is the client that changed it (0: the
    /// server itself, as for expiry).
    Key {
        reader: Reader,
        key: Box<[u8]>,
        by: u64,
    },
    /// Keys changed under one of its prefixes (BCAST), each with who changed it.
    Prefix {
        reader: Reader,
        keys: Vec<(Box<[u8]>, u64)>,
    },
}

struct Prefix {
    prefix: Box<[u8]>,
    readers: Vec<Reader>,
    /// Keys changed under it since the last [`Tracking::take`], with who changed them.
    changed: Vec<(Box<[u8]>, u64)>,
}

#[derive(Default)]
pub struct Tracking {
    keys: AHashMap<Box<[u8]>, SmallVec<[Reader; 2]>>,
    /// (key, reader) pairs in `keys` (INFO `tracking_total_items`).
    items: usize,
    /// Keys in the order they were first remembered, for `tracking-table-max-keys` (which
    /// drops the oldest; Redis drops random ones). May hold keys no longer tracked.
    order: VecDeque<Box<[u8]>>,
    prefixes: Vec<Prefix>,
    /// The client whose command runs now (0: none).
    pub current: u64,
    pending: Vec<Invalidation>,
}

impl Tracking {
    /// Whether anything here wants to hear about changes.
    pub fn is_active(&self) -> bool {
        !self.keys.is_empty() || !self.prefixes.is_empty()
    }

    /// Tracked keys (INFO `tracking_total_keys`), their readers (`tracking_total_items`)
    /// and the broadcast prefixes (`tracking_total_prefixes`).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.keys.len(), self.items, self.prefixes.len())
    }

    /// `reader` read `key`: it hears of the next change.
    pub fn remember(&mut self, key: &[u8], reader: Reader) {
        let readers = match self.keys.get_mut(key) {
            Some(r) => r,
            None => {
                self.order.push_back(key.into());
                self.keys.entry(key.into()).or_default()
            }
        };
        if !readers.contains(&reader) {
            readers.push(reader);
            self.items += 1;
        }
    }

    /// `reader` follows every key starting with `prefix` (empty: every key).
    pub fn add_prefix(&mut self, prefix: &[u8], reader: Reader) {
        match self.prefixes.iter_mut().find(|p| &*p.prefix == prefix) {
            Some(p) if p.readers.contains(&reader) => {}
            Some(p) => p.readers.push(reader),
            None => self.prefixes.push(Prefix {
                prefix: prefix.into(),
                readers: vec![reader],
                changed: Vec::new(),
            }),
        }
    }

    /// `reader` stopped tracking: it no longer follows any prefix. (Keys it read stay until
    /// they change, as in Redis: the invalidation is then dropped by the server.)
    pub fn forget_prefixes(&mut self, reader: Reader) {
        for p in &mut self.prefixes {
            p.readers.retain(|r| *r != reader);
        }
        self.prefixes.retain(|p| !p.readers.is_empty());
    }

    /// `key` changed.
    pub fn changed(&mut self, key: &[u8]) {
        if let Some(readers) = self.keys.remove(key) {
            self.items -= readers.len();
            for reader in readers {
                self.pending.push(Invalidation::Key {
                    reader,
                    key: key.into(),
                    by: self.current,
                });
            }
        }
        for p in &mut self.prefixes {
            if key.starts_with(&p.prefix) {
                p.changed.push((key.into(), self.current));
            }
        }
    }

    /// Forgets every tracked key (FLUSHALL / FLUSHDB: the server tells every tracking client
    /// to drop its whole cache instead).
    pub fn forget_keys(&mut self) {
        self.keys.clear();
        self.order.clear();
        self.items = 0;
    }

    /// Drops the oldest tracked keys beyond `max` (`tracking-table-max-keys`, 0 = no
    /// limit), telling their readers as if they changed.
    pub fn shrink_to(&mut self, max: usize) {
        if max != 0 {
            while self.keys.len() > max {
                let Some(key) = self.order.pop_front() else {
                    break;
                };
                let current = std::mem::take(&mut self.current);
                self.changed(&key);
                self.current = current;
            }
        }
        if self.order.len() > 2 * self.keys.len() + 64 {
            let keys = &self.keys;
            self.order.retain(|k| keys.contains_key(k));
        }
    }

    /// The invalidations produced since the last call, oldest first; broadcast prefixes
    /// give one each to each of their readers.
    pub fn take(&mut self) -> Vec<Invalidation> {
        let mut out = std::mem::take(&mut self.pending);
        for p in &mut self.prefixes {
            if p.changed.is_empty() {
                continue;
            }
            // As Redis' per-prefix radix tree: each key once, in byte order, its last change
            // deciding NOLOOP (the sort is stable).
            let mut keys = std::mem::take(&mut p.changed);
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            keys.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    kept.1 = later.1;
                }
                same
            });
            for &reader in &p.readers {
                out.push(Invalidation::Prefix {
                    reader,
                    keys: keys.clone(),
                });
            }
        }
        out
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.prefixes.iter().any(|p| !p.changed.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Reader = Reader { client: 1, home: 0 };
    const B: Reader = Reader { client: 2, home: 1 };

    #[test]
    fn a_read_key_is_invalidated_once() {
        let mut t = Tracking::default();
        t.remember(b"k", A);
        t.remember(b"k", A);
        t.remember(b"k", B);
        assert_eq!(t.counts(), (1, 2, 0));
        t.current = 7;
        t.changed(b"k");
        t.changed(b"k");
        let got = t.take();
        assert_eq!(got.len(), 2);
        assert!(
            matches!(&got[0], Invalidation::Key { reader, key, by: 7 } if *reader == A && &**key == b"k")
        );
        assert_eq!(t.counts(), (0, 0, 0));
        assert!(!t.is_active());
    }

    #[test]
    fn prefixes_collect_their_keys() {
        let mut t = Tracking::default();
        t.add_prefix(b"user:", A);
        t.add_prefix(b"", B);
        t.current = 9;
        t.changed(b"user:1");
        t.current = 0;
        t.changed(b"other");
        t.changed(b"user:1");
        let got = t.take();
        assert_eq!(
            got,
            vec![
                Invalidation::Prefix {
                    reader: A,
                    keys: vec![(b"user:1"[..].into(), 0)]
                },
                Invalidation::Prefix {
                    reader: B,
                    // Once each, sorted, the last change's author kept.
                    keys: vec![(b"other"[..].into(), 0), (b"user:1"[..].into(), 0)]
                },
            ]
        );
        assert!(!t.has_pending());
        t.forget_prefixes(A);
        t.forget_prefixes(B);
        assert!(!t.is_active());
    }

    #[test]
    fn shrinking_invalidates_what_it_drops() {
        let mut t = Tracking::default();
        for k in [&b"a"[..], b"b", b"c"] {
            t.remember(k, A);
        }
        t.shrink_to(1);
        assert_eq!(t.counts().0, 1);
        let dropped: Vec<_> = t
            .take()
            .into_iter()
            .map(|i| match i {
                Invalidation::Key { key, .. } => key,
                _ => unreachable!(),
            })
            .collect();
        let want: Vec<Box<[u8]>> = vec![b"a"[..].into(), b"b"[..].into()];
        assert_eq!(dropped, want);
    }
}
