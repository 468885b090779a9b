//! Forkless, incremental snapshots of a database: every key as it was when the snapshot
//! started, serialized while the shard keeps serving writes. The AOF rewrite serializes the
//! commands that recreate each key ([`rebuild_commands`], see [`crate::rebuild`]); a full
//! resynchronization or SAVE serializes RDB entries (a [`Serializer`] from `persist`).
//!
//! A snapshot started at epoch `E` (the key table's [`version`](DashTable::version)) walks
//! the table's segments in order, serializing each one whose version is still `<= E`
//! (nothing in it changed since `E`) and stamping it ([`touch_segment`]) so it is never
//! serialized again. Before any change to a key (and before a `&mut Entry` is handed out,
//! or an expired key is reclaimed) [`Db`](crate::Db) does the same to the key's segment
//! ([`visit`](DbSnapshot::visit)), so the walk never sees a change made after `E`: every key present at `E` is
//! serialized exactly once, as it was at `E`. Segments that splits create after `E` have
//! versions `> E` and hold only keys already serialized (the split segment was visited before
//! the insert that split it) or written after `E`, so the walk stops at the segment count of
//! `E`. See "# Snapshots" in [`crate::dash`].
//!
//! Entries whose TTL passed but that were not reclaimed yet are serialized too: their
//! `PEXPIREAT` lies in the past, so replaying the file deletes them.
//!
//! The output holds no database marker: [`Shard::snapshot_take`](crate::Shard::snapshot_take)
//! puts a `SELECT` before each database's part, and
//! [`Shard::snapshot_take_parts`](crate::Shard::snapshot_take_parts) hands the parts out by
//! database for the caller to mark. Serializing is a pure read: no effects, keyspace
//! events, WATCH touches or tracking invalidations.
//!
//! [`touch_segment`]: DashTable::touch_segment

use crate::dash::DashTable;
use crate::db::{Clock, Entry};
use crate::effects::encode_command;

/// Appends one key (its name, its entry, what to record of its access) to a snapshot's
/// output.
pub type Serializer = fn(&[u8], &Entry, Access, &mut Vec<u8>);

/// What a snapshot records of each key's access data, fixed when it starts (see
/// `evict::Policy::snapshot_access`): RDB files carry Redis' IDLE or FREQ before a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    /// Seconds since the key's last access, at `now_ms` (LRU policies).
    Idle {
        now_ms: u64,
    },
    /// The LFU counter as it reads at `now_ms` (LFU policies).
    Freq {
        clock: Clock,
        now_ms: u64,
    },
}

impl Access {
    /// `IDLE` seconds or the `FREQ` counter of `entry`; None when nothing is recorded.
    pub fn of(self, entry: &Entry) -> Option<AccessValue> {
        match self {
            Access::None => None,
            Access::Idle { now_ms } => {
                let idle = match entry.access {
                    0 => 0,
                    at => (now_ms / 1000).saturating_sub(at as u64),
                };
                Some(AccessValue::Idle(idle))
            }
            Access::Freq { clock, now_ms } => Some(AccessValue::Freq(crate::evict::frequency(
                entry, clock, now_ms,
            ))),
        }
    }
}

/// One key's recorded access: idle seconds or LFU counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessValue {
    Idle(u64),
    Freq(u8),
}

/// The AOF rewrite's serializer: the RESP commands that recreate the key.
pub fn rebuild_commands(key: &[u8], entry: &Entry, _: Access, out: &mut Vec<u8>) {
    crate::rebuild::rebuild(key, entry, &mut |args| encode_command(out, args.iter()));
}

/// The state of one database's snapshot.
pub struct DbSnapshot {
    serializer: Serializer,
    access: Access,
    /// The table version when the snapshot started.
    epoch: u64,
    /// The next segment the walk looks at.
    next: usize,
    /// The segments at the epoch: later ones hold nothing to serialize.
    end: usize,
    /// RESP of the rebuild commands serialized and not yet taken.
    out: Vec<u8>,
}

impl DbSnapshot {
    /// A snapshot of `table` as it is now, each key serialized by `serializer` with
    /// `access`.
    pub fn start(table: &DashTable<Entry>, serializer: Serializer, access: Access) -> DbSnapshot {
        DbSnapshot {
            serializer,
            access,
            epoch: table.version(),
            next: 0,
            end: table.segment_count(),
            out: Vec::new(),
        }
    }

    /// Whether the walk has passed every segment.
    pub fn walked(&self) -> bool {
        self.next >= self.end
    }

    /// Serializes `seg` if it still holds what it held at the epoch, and stamps it so it is
    /// not serialized again. Returns the entries serialized.
    pub fn visit(&mut self, table: &mut DashTable<Entry>, seg: usize) -> usize {
        if table.segment_version(seg) > self.epoch {
            return 0;
        }
        let mut n = 0;
        let (out, serialize, access) = (&mut self.out, self.serializer, self.access);
        table.scan_segment(seg, |k, e| {
            n += 1;
            serialize(k, e, access, out);
        });
        table.touch_segment(seg);
        n
    }

    /// Walks whole segments until at least `budget` entries (at least one segment) were
    /// visited or the walk ended. Returns whether it ended, and the entries visited.
    pub fn step(&mut self, table: &mut DashTable<Entry>, budget: usize) -> (bool, usize) {
        let mut visited = 0;
        while self.next < self.end {
            let seg = self.next;
            self.next += 1;
            visited += self.visit(table, seg);
            if visited >= budget {
                break;
            }
        }
        (self.walked(), visited)
    }

    /// What was serialized since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use crate::digest::{db_digest, hex, Digest};
    use crate::effects::testing::{effects_of, handler, recording_shard};
    use crate::Shard;

    const NOW: u64 = 1_700_000_000_000;

    /// Runs a command (arguments split on spaces) in `db` at `now`, as the server does.
    fn run(shard: &mut Shard, db: usize, now: u64, command: &str) {
        let args: Vec<&str> = command.split(' ').collect();
        effects_of(shard, db, now, handler(args[0]), &args);
    }

    /// The commands of a RESP stream, each as its arguments.
    fn decode(mut log: &[u8]) -> Vec<Vec<Vec<u8>>> {
        fn line(b: &mut &[u8]) -> usize {
            let i = b.windows(2).position(|w| w == b"\r\n").expect("CRLF");
            let n = std::str::from_utf8(&b[1..i]).unwrap().parse().unwrap();
            *b = &b[i + 2..];
            n
        }
        let mut out = Vec::new();
        while !log.is_empty() {
            assert_eq!(log[0], b'*');
            let n = line(&mut log);
            let mut args = Vec::with_capacity(n);
            for _ in 0..n {
                assert_eq!(log[0], b'$');
                let len = line(&mut log);
                args.push(log[..len].to_vec());
                assert_eq!(&log[len..len + 2], b"\r\n");
                log = &log[len + 2..];
            }
            out.push(args);
        }
        out
    }

    /// Replays a whole snapshot on a fresh shard at `now` (SELECT switches the database).
    fn replay(snapshot: &[u8], now: u64) -> Shard {
        // The string form of the commands is checked against the raw form.
        let texts = crate::effects::testing::decode(snapshot);
        let cmds = decode(snapshot);
        assert_eq!(texts.len(), cmds.len());
        let mut shard = recording_shard();
        let mut db = 0;
        for args in &cmds {
            if args[0] == b"SELECT" {
                db = std::str::from_utf8(&args[1]).unwrap().parse().unwrap();
                continue;
            }
            let name = String::from_utf8_lossy(&args[0]).into_owned();
            let cmd = crate::Cmd::from_args(args);
            let mut reply = crate::Reply::new(false);
            handler(&name)(&mut shard.ctx(db, now, &mut reply), &cmd);
            assert_ne!(
                reply.buf.first(),
                Some(&b'-'),
                "{name}: {}",
                String::from_utf8_lossy(&reply.buf)
            );
        }
        shard
    }

    fn digests(shard: &Shard, now: u64) -> Vec<String> {
        let d: Vec<Digest> = shard.dbs.iter().map(|d| db_digest(d, now)).collect();
        d.iter().map(|d| hex(d)).collect()
    }

    /// Runs the snapshot to its end with steps of `budget`, taking the output after every
    /// step and running `between(step)` between steps. Returns the output.
    fn finish(
        shard: &mut Shard,
        budget: usize,
        mut between: impl FnMut(&mut Shard, usize),
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut step = 0;
        loop {
            let done = shard.snapshot_step(budget);
            out.extend(shard.snapshot_take());
            if done {
                break;
            }
            between(shard, step);
            out.extend(shard.snapshot_take());
            step += 1;
            assert!(step < 1_000_000, "the walk ends");
        }
        assert!(!shard.snapshot_active());
        out
    }

    /// Keys of every type in databases 0 and 3, some with TTLs (some already passed).
    fn populate(shard: &mut Shard, n: usize) {
        for i in 0..n {
            let db = if i.is_multiple_of(5) { 3 } else { 0 };
            match i % 7 {
                0 => run(shard, db, NOW, &format!("SET s{i} v{i}")),
                1 => run(shard, db, NOW, &format!("SET n{i} {i}")),
                2 => run(shard, db, NOW, &format!("RPUSH l{i} a b c {i}")),
                3 => run(shard, db, NOW, &format!("SADD st{i} x y {i}")),
                4 => run(shard, db, NOW, &format!("HSET h{i} f1 v1 f2 {i}")),
                5 => run(shard, db, NOW, &format!("ZADD z{i} 1 a 2.5 b {i} c")),
                _ => run(shard, db, NOW, &format!("XADD x{i} {i}-1 f v")),
            }
            if i.is_multiple_of(11) {
                let key = shard_key(i);
                // Some expire during the writes below, some at the epoch already.
                let at = NOW + (i % 3) as u64 * 50;
                run(shard, db, NOW - 1000, &format!("PEXPIREAT {key} {at}"));
            }
        }
        run(shard, 0, NOW, "XADD stream 1-1 a 1");
        run(shard, 0, NOW, "XADD stream 2-1 b 2");
        run(shard, 0, NOW, "XGROUP CREATE stream g 0");
        run(
            shard,
            0,
            NOW,
            "XREADGROUP GROUP g alice COUNT 1 STREAMS stream >",
        );
    }

    fn shard_key(i: usize) -> String {
        let prefix = ["s", "n", "l", "st", "h", "z", "x"][i % 7];
        format!("{prefix}{i}")
    }

    /// A write per call: existing keys changed or deleted, new keys, expiring keys.
    fn write(shard: &mut Shard, w: usize, n: usize) {
        let now = NOW + w as u64;
        let i = (w * 7919) % n;
        let db = if i.is_multiple_of(5) { 3 } else { 0 };
        let key = shard_key(i);
        match w % 12 {
            0 => run(shard, db, now, &format!("DEL {key}")),
            1 => run(shard, db, now, &format!("SET {key} changed{w}")),
            2 => run(shard, db, now, &format!("SET new{w} {w}")),
            3 => run(shard, 0, now, &format!("INCR counter{}", w % 50)),
            4 => run(shard, db, now, &format!("LPUSH newlist{} {w}", w % 100)),
            5 => run(shard, db, now, &format!("HSET newhash{} f{w} {w}", w % 100)),
            6 => run(shard, db, now, &format!("PEXPIRE {key} 10")),
            7 => run(shard, db, now, &format!("GET {key}")),
            8 => run(shard, 3, now, &format!("SET s{i} {w}")),
            _ => run(shard, 0, now, &format!("SET new{w} {w}")),
        }
    }

    #[test]
    fn snapshot_under_writes_is_the_epoch() {
        let n = 3000;
        for budget in [1, 17, 500, usize::MAX] {
            let mut shard = recording_shard();
            populate(&mut shard, n);
            let at_epoch = digests(&shard, NOW);
            let segments = shard.dbs[0].segment_count();
            shard.snapshot_start(super::rebuild_commands);
            assert!(shard.snapshot_active());
            let mut w = 0;
            let out = finish(&mut shard, budget, |s, _| {
                for _ in 0..300 {
                    write(s, w, n);
                    w += 1;
                }
                // Enough new keys that segments split.
                for j in 0..3000 {
                    run(s, 0, NOW, &format!("SET fresh{w}-{j} {j}"));
                }
            });
            if budget < 500 {
                // Enough new keys that the table split while the snapshot ran.
                assert!(
                    shard.dbs[0].segment_count() > segments,
                    "no split: {segments} segments, {} keys, {w} writes",
                    shard.dbs[0].len()
                );
            }
            let copy = replay(&out, NOW);
            assert_eq!(digests(&copy, NOW), at_epoch, "budget {budget}");
            if w > 0 {
                // The shard did change meanwhile.
                assert_ne!(digests(&shard, NOW), at_epoch);
            }
        }
    }

    #[test]
    fn writes_before_the_walk_reaches_them() {
        // Every key written before any step: all of it forced by the guard.
        let n = 2000;
        let mut shard = recording_shard();
        populate(&mut shard, n);
        let at_epoch = digests(&shard, NOW);
        shard.snapshot_start(super::rebuild_commands);
        let mut out = Vec::new();
        for w in 0..6000 {
            write(&mut shard, w, n);
            if w.is_multiple_of(1000) {
                out.extend(shard.snapshot_take());
            }
        }
        // Expired keys reclaimed lazily, after the epoch, are in the snapshot too.
        run(&mut shard, 0, NOW + 100_000, "GET s0");
        out.extend(finish(&mut shard, 100, |_, _| {}));
        assert_eq!(digests(&replay(&out, NOW), NOW), at_epoch);
    }

    #[test]
    fn every_chunk_is_self_contained() {
        let mut shard = recording_shard();
        populate(&mut shard, 500);
        let at_epoch = digests(&shard, NOW);
        shard.snapshot_start(super::rebuild_commands);
        let mut chunks = Vec::new();
        loop {
            let done = shard.snapshot_step(10);
            chunks.push(shard.snapshot_take());
            if done {
                break;
            }
        }
        // Replaying the chunks in any order (here reversed, and each after another shard's
        // chunk in another database) gives the same data.
        let mut file = Vec::new();
        for c in chunks.iter().rev() {
            crate::effects::encode_command(&mut file, [&b"SELECT"[..], b"7"].iter());
            crate::effects::encode_command(&mut file, [&b"SET"[..], b"other", b"x"].iter());
            file.extend_from_slice(c);
        }
        let mut copy = replay(&file, NOW);
        copy.dbs[7] = Default::default();
        assert_eq!(digests(&copy, NOW), at_epoch);
    }

    /// Each way a command reaches an entry, as the very first thing after the start: the
    /// key's segment must be serialized before (else it is lost, or changed, or skipped).
    #[test]
    fn every_access_path_guards() {
        let later = NOW + 120;
        let paths: &[(u64, &str)] = &[
            (later, "GET n22"),         // get of a key expired since the epoch (removal)
            (later, "TTL h11"),         // peek of a key expired since the epoch (removal)
            (later, "GET s7"),          // get (&mut Entry for the access time)
            (later, "INCR n1"),         // get_mut
            (later, "PEXPIRE n8 1000"), // set_expire
            (NOW + 20, "PERSIST h88"),  // set_expire to 0
            (later, "RPUSH l2 more"),   // get_mut of a collection
            (later, "SET s7 other"),    // insert over a key
            (later, "SET brandnew 1"),  // insert of a new key
            (later, "DEL s7"),          // remove
            (later, "LPOP l2 4"),       // collection emptied and removed
        ];
        for &(now, command) in paths {
            for n in [100, 3000] {
                let mut shard = recording_shard();
                populate(&mut shard, n);
                let at_epoch = digests(&shard, NOW);
                shard.snapshot_start(super::rebuild_commands);
                run(&mut shard, 0, now, command);
                let out = finish(&mut shard, 1, |_, _| {});
                assert_eq!(digests(&replay(&out, NOW), NOW), at_epoch, "{command}");
            }
        }
        // Db::set_expire called directly (its commands look the key up with get_mut first).
        let mut shard = recording_shard();
        populate(&mut shard, 100);
        let at_epoch = digests(&shard, NOW);
        shard.snapshot_start(super::rebuild_commands);
        assert!(shard.dbs[0].set_expire(b"n1", NOW + 5000, NOW));
        let out = finish(&mut shard, 1, |_, _| {});
        assert_eq!(digests(&replay(&out, NOW), NOW), at_epoch);
        // RANDOMKEY reclaims the expired keys it draws: here every key but one.
        let mut shard = recording_shard();
        for i in 0..100 {
            run(
                &mut shard,
                0,
                NOW,
                &format!("SET k{i} {i} PXAT {}", NOW + 1 + i),
            );
        }
        run(&mut shard, 0, NOW, "SET stays 1");
        let at_epoch = digests(&shard, NOW);
        shard.snapshot_start(super::rebuild_commands);
        let mut rng = crate::rng::Rng::new(7);
        for _ in 0..20 {
            crate::keys::random_key(&mut shard.dbs[0], &mut rng, NOW + 1000);
        }
        assert!(shard.dbs[0].len() < 101);
        let out = finish(&mut shard, 1, |_, _| {});
        assert_eq!(digests(&replay(&out, NOW), NOW), at_epoch);
    }

    #[test]
    fn empty_shard() {
        let mut shard = recording_shard();
        let at_epoch = digests(&shard, NOW);
        shard.snapshot_start(super::rebuild_commands);
        assert!(shard.snapshot_active());
        assert!(shard.snapshot_step(1));
        assert!(shard.snapshot_take().is_empty());
        assert!(!shard.snapshot_active());
        // Keys written meanwhile are not the epoch's.
        shard.snapshot_start(super::rebuild_commands);
        run(&mut shard, 0, NOW, "SET a 1");
        let out = finish(&mut shard, 1, |_, _| {});
        assert!(
            out.is_empty(),
            "{:?}",
            crate::effects::testing::decode(&out)
        );
        assert_eq!(digests(&replay(&out, NOW), NOW), at_epoch);
    }

    #[test]
    fn abort_then_second_snapshot() {
        let n = 1500;
        let mut shard = recording_shard();
        populate(&mut shard, n);
        shard.snapshot_start(super::rebuild_commands);
        for w in 0..300 {
            shard.snapshot_step(3);
            write(&mut shard, w, n);
        }
        shard.snapshot_abort();
        assert!(!shard.snapshot_active());
        assert!(shard.snapshot_take().is_empty());
        assert!(shard.snapshot_step(10));
        // Writes after the abort cost nothing and serialize nothing.
        for w in 300..600 {
            write(&mut shard, w, n);
        }
        assert!(shard.snapshot_take().is_empty());
        // A new snapshot sees the data as it is now, twice in a row.
        for round in 0..2 {
            let at_epoch = digests(&shard, NOW + 600);
            shard.snapshot_start(super::rebuild_commands);
            let mut w = 600 + round * 1000;
            let out = finish(&mut shard, 50, |s, _| {
                write(s, w, n);
                w += 1;
            });
            // Replayed at the time the stream's consumer was made (replay stamps its own
            // seen time); the digest then drops what expired by the epoch's time.
            let copy = replay(&out, NOW);
            assert_eq!(digests(&copy, NOW + 600), at_epoch);
        }
    }

    #[test]
    fn flush_and_swap_abort_their_databases() {
        let mut shard = recording_shard();
        populate(&mut shard, 300);
        shard.snapshot_start(super::rebuild_commands);
        shard.dbs[0].clear();
        assert!(!shard.dbs[0].snapshot_active());
        assert!(shard.dbs[3].snapshot_active());
        let (lo, hi) = shard.dbs.split_at_mut(3);
        crate::Db::swap_data(&mut lo[1], &mut hi[0]);
        assert!(!shard.dbs[1].snapshot_active());
        assert!(!shard.dbs[3].snapshot_active());
        assert!(shard.dbs[2].snapshot_active());
        shard.snapshot_abort();
        assert!(!shard.snapshot_active());
    }

    #[test]
    fn no_active_expiry_while_a_snapshot_runs() {
        let mut shard = recording_shard();
        populate(&mut shard, 300);
        shard.snapshot_start(super::rebuild_commands);
        let late = NOW + 1_000_000;
        assert_eq!(shard.dbs[0].active_expire(late, usize::MAX), 0);
        shard.snapshot_abort();
        assert!(shard.dbs[0].active_expire(late, usize::MAX) > 0);
    }
}
