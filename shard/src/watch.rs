//! WATCH: the keys clients watch in one database, and who to tell when one changes.
//!
//! A client's watch is one flag (Redis' CLIENT_DIRTY_CAS) shared by every key it watches:
//! any change to any of them sets it, and EXEC, under the transaction's locks, refuses to
//! run when it is set. The table holds the flags weakly, so a client that went away
//! (UNWATCH, EXEC, DISCARD, disconnection) leaves nothing alive behind; its dead entries
//! are pruned whenever their key is watched or touched again, or by [`Watches::unwatch`].

use ahash::AHashMap;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

/// A client's "a watched key changed" flag.
pub type WatchFlag = Arc<AtomicBool>;

#[derive(Default)]
pub struct Watches {
    keys: AHashMap<Box<[u8]>, SmallVec<[Weak<AtomicBool>; 1]>>,
}

impl Watches {
    /// True when nobody watches anything here: writes skip every lookup.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Watched keys (live or not yet pruned).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// `flag` is set the next time `key` changes.
    pub fn watch(&mut self, key: &[u8], flag: &WatchFlag) {
        let list = self.keys.entry(key.into()).or_default();
        list.retain(|w| w.strong_count() > 0);
        if !list
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(flag)))
        {
            list.push(Arc::downgrade(flag));
        }
    }

    /// Forgets `flag` on `key` (and any watcher of it that is gone).
    pub fn unwatch(&mut self, key: &[u8], flag: &WatchFlag) {
        if let Some(list) = self.keys.get_mut(key) {
            list.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(flag)));
            if list.is_empty() {
                self.keys.remove(key);
            }
        }
    }

    /// `key` changed: flags every client watching it. Their watch is spent, so the entry
    /// goes.
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        if self.keys.is_empty() {
            return;
        }
        if let Some(list) = self.keys.remove(key) {
            for w in list {
                if let Some(flag) = w.upgrade() {
                    flag.store(true, Ordering::Release);
                }
            }
        }
    }

    /// The database was emptied or swapped: flags the watchers of every key for which
    /// `affected` says so (Redis touches only keys that existed on either side).
    pub fn touch_where(&mut self, mut affected: impl FnMut(&[u8]) -> bool) {
        let keys: Vec<Box<[u8]>> = self.keys.keys().filter(|k| affected(k)).cloned().collect();
        for k in keys {
            self.touch(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag() -> WatchFlag {
        Arc::new(AtomicBool::new(false))
    }

    #[test]
    fn a_change_flags_every_watcher_once() {
        let mut w = Watches::default();
        let (a, b) = (flag(), flag());
        w.watch(b"k", &a);
        w.watch(b"k", &a);
        w.watch(b"k", &b);
        w.touch(b"other");
        assert!(!a.load(Ordering::Acquire));
        w.touch(b"k");
        assert!(a.load(Ordering::Acquire) && b.load(Ordering::Acquire));
        assert!(w.is_empty(), "spent watches are gone");
    }

    #[test]
    fn departed_watchers_leave_nothing_behind() {
        let mut w = Watches::default();
        let a = flag();
        w.watch(b"k", &a);
        drop(a);
        let b = flag();
        w.watch(b"k", &b);
        w.unwatch(b"k", &b);
        assert!(w.is_empty());
    }

    #[test]
    fn touch_where_flags_only_affected_keys() {
        let mut w = Watches::default();
        let (a, b) = (flag(), flag());
        w.watch(b"present", &a);
        w.watch(b"absent", &b);
        w.touch_where(|k| k == b"present");
        assert!(a.load(Ordering::Acquire));
        assert!(!b.load(Ordering::Acquire));
        assert_eq!(w.len(), 1);
    }
}
