//! The deterministic effects of the consumer group commands, as Redis propagates them
//! (`streamPropagateXCLAIM`, `streamPropagateGroupID`, `streamPropagateConsumerCreation`):
//! XREADGROUP, XCLAIM and XAUTOCLAIM are never replayed as themselves, since what they
//! deliver depends on the time (idle times) and on what was delivered before.

use super::group::Nack;
use super::id::StreamId;
use crate::effects::Pending;

/// Records the effects of a command on one group of one stream. Holds the command's pending
/// effects only while they are recorded, so nothing is built when the AOF is off. Taken from
/// `Ctx::fx` beside the borrowed database (the fields are separate borrows).
pub(super) struct GroupFx<'a> {
    fx: Option<&'a mut Pending>,
    db: usize,
    key: &'a [u8],
    group: &'a [u8],
}

impl<'a> GroupFx<'a> {
    pub(super) fn new(fx: &'a mut Pending, db: usize, key: &'a [u8], group: &'a [u8]) -> Self {
        GroupFx {
            fx: fx.is_on().then_some(fx),
            db,
            key,
            group,
        }
    }

    /// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last`: gives
    /// `id` to the NACK's owner with its delivery time and count, creating the NACK if
    /// missing, or drops it from the PEL if the entry is gone by then; and moves the group's
    /// last ID up to `last_id`.
    pub(super) fn xclaim(&mut self, id: &[u8], nack: &Nack, last_id: StreamId) {
        let Some(fx) = self.fx.as_deref_mut() else {
            return;
        };
        let (mut time, mut count) = (itoa::Buffer::new(), itoa::Buffer::new());
        let mut last = [0; 41];
        let args: [&[u8]; 14] = [
            b"XCLAIM",
            self.key,
            self.group,
            &nack.consumer,
            b"0",
            id,
            b"TIME",
            time.format(nack.delivery_time).as_bytes(),
            b"RETRYCOUNT",
            count.format(nack.delivery_count).as_bytes(),
            b"FORCE",
            b"JUSTID",
            b"LASTID",
            last_id.fmt(&mut last),
        ];
        fx.push(self.db, args.iter());
    }

    /// [`GroupFx::xclaim`] with the ID formatted.
    pub(super) fn xclaim_id(&mut self, id: StreamId, nack: &Nack, last_id: StreamId) {
        if self.fx.is_some() {
            self.xclaim(id.fmt(&mut [0; 41]), nack, last_id);
        }
    }

    /// `XGROUP SETID key group last-id ENTRIESREAD n`: the group's last delivered ID and its
    /// read counter (XCLAIM's LASTID moves the ID but not the counter).
    pub(super) fn setid(&mut self, last_id: StreamId, entries_read: i64) {
        let Some(fx) = self.fx.as_deref_mut() else {
            return;
        };
        let mut last = [0; 41];
        let mut read = itoa::Buffer::new();
        let args: [&[u8]; 7] = [
            b"XGROUP",
            b"SETID",
            self.key,
            self.group,
            last_id.fmt(&mut last),
            b"ENTRIESREAD",
            read.format(entries_read).as_bytes(),
        ];
        fx.push(self.db, args.iter());
    }

    /// `XGROUP CREATECONSUMER key group consumer`: for a consumer the command created that
    /// no propagated XCLAIM names (it would create it on replay).
    pub(super) fn create_consumer(&mut self, consumer: &[u8]) {
        let Some(fx) = self.fx.as_deref_mut() else {
            return;
        };
        let args: [&[u8]; 5] = [b"XGROUP", b"CREATECONSUMER", self.key, self.group, consumer];
        fx.push(self.db, args.iter());
    }
}
