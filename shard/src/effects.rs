//! Effects: the deterministic form of what each write changed, for the AOF (and, later, the
//! replication stream). ARCHITECTURE.md, "How a command flows", step 6.
//!
//! A write's effect is, by default, the command as the client sent it, recorded when the
//! command changed something (the shard's `dirty` counter moved, as Redis propagates when
//! `server.dirty` moved). A command whose replay would not give the same result (a relative
//! TTL, a random pick, a generated stream ID, a blocking variant, a float) records what it
//! did instead through [`Ctx::propagate`](crate::Ctx::propagate): `SET ... PXAT`, `SREM`
//! for `SPOP`, `XADD` with the ID it chose. A key found expired by a lookup or by the active
//! expiry cycle is removed with a `DEL`, before the command that noticed it.
//!
//! The log is RESP, as an AOF file holds it: a `SELECT` goes in whenever the database
//! changes. The effects of a transaction or script whose commands run as several messages
//! (other clients' commands on other keys may run in between) are collected in a group and
//! enter the log as `MULTI ... EXEC` when it ends; a group of one command enters as itself,
//! as Redis 7 wraps only several.
//!
//! Nothing is recorded while the log is off (no AOF): the cost is one branch per command.

/// Encodes one command as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: impl ExactSizeIterator<Item = A>) {
    push_header(out, b'*', args.len());
    for a in args {
        let a = a.as_ref();
        push_header(out, b'$', a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Commands with the database each runs in.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// (database, end offset in `bytes`) of each command.
    ends: Vec<(usize, usize)>,
}

impl Batch {
    fn push<A: AsRef<[u8]>>(&mut self, db: usize, args: impl ExactSizeIterator<Item = A>) {
        encode_command(&mut self.bytes, args);
        self.ends.push((db, self.bytes.len()));
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    fn commands(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut start = 0;
        self.ends.iter().map(move |&(db, end)| {
            let c = &self.bytes[start..end];
            start = end;
            (db, c)
        })
    }
}

/// The effects of the command running now, as its handler records them.
#[derive(Default)]
pub struct Pending {
    on: bool,
    /// The handler recorded its own effects: the request itself is not one.
    replaced: bool,
    batch: Batch,
}

impl Pending {
    /// Records `args` as (one of) the effect(s) of the running command, in database `db`.
    pub fn push<A: AsRef<[u8]>>(&mut self, db: usize, args: impl ExactSizeIterator<Item = A>) {
        self.replaced = true;
        if self.on {
            self.batch.push(db, args);
        }
    }

    /// The running command changed something but its effect is nothing to replay (or is
    /// recorded by someone else, such as the coordinator of a cross-shard command).
    pub fn suppress(&mut self) {
        self.replaced = true;
    }

    pub fn is_on(&self) -> bool {
        self.on
    }
}

/// A piece of the log, as [`Effects::take_chunk`] hands it out.
pub struct Chunk {
    /// The database its first commands run in, unless it starts by selecting one (None:
    /// it does).
    pub start_db: Option<usize>,
    /// The database its reader is in after it (None: it holds no command).
    pub end_db: Option<usize>,
    /// The commands, RESP.
    pub bytes: Vec<u8>,
}

/// A transaction's effects on this shard, waiting for its end.
struct Group {
    id: u64,
    batch: Batch,
}

/// The effects log of one shard.
#[derive(Default)]
pub struct Effects {
    pub pending: Pending,
    /// RESP commands not yet taken by the writer.
    log: Vec<u8>,
    /// The database the log's reader is in after what was taken so far (None: unknown, so
    /// the next command is preceded by a SELECT).
    log_db: Option<usize>,
    /// The database the log's reader is in where the log now starts (what [`take_chunk`]
    /// reports).
    ///
    /// [`take_chunk`]: Effects::take_chunk
    chunk_db: Option<usize>,
    /// Bytes the writer took so far.
    taken: u64,
    /// Open groups; `current` is the one commands record into now.
    groups: Vec<Group>,
    current: Option<u64>,
    /// Reused to encode an expired key's DEL.
    scratch: Vec<u8>,
    /// Where `produced` is published for other threads (the AOF's progress).
    published: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl Effects {
    pub fn is_on(&self) -> bool {
        self.pending.on
    }

    /// Turns recording on or off. Turning it on starts with an unknown database.
    pub fn set_on(&mut self, on: bool) {
        self.pending.on = on;
        if !on {
            self.log.clear();
            self.groups.clear();
            self.current = None;
        }
        self.log_db = None;
        self.chunk_db = None;
    }

    /// Publishes [`produced`](Effects::produced) to `counter` whenever the log grows.
    pub fn publish_to(&mut self, counter: std::sync::Arc<std::sync::atomic::AtomicU64>) {
        counter.store(self.produced(), std::sync::atomic::Ordering::Release);
        self.published = Some(counter);
    }

    fn publish(&self) {
        if let Some(c) = &self.published {
            c.store(self.produced(), std::sync::atomic::Ordering::Release);
        }
    }

    /// Bytes ever appended to the log: what the writer took plus what the log holds.
    pub fn produced(&self) -> u64 {
        self.taken + self.log.len() as u64
    }

    /// Takes what the log holds, for the writer.
    pub fn take_log(&mut self) -> Vec<u8> {
        self.take_chunk().bytes
    }

    /// Takes what the log holds, with the databases its reader is in before and after it:
    /// a reader that interleaves several shards' logs (the replication stream) selects
    /// `start_db` before the chunk when it is elsewhere.
    pub fn take_chunk(&mut self) -> Chunk {
        self.taken += self.log.len() as u64;
        let start_db = std::mem::replace(&mut self.chunk_db, self.log_db);
        Chunk {
            start_db,
            end_db: self.log_db,
            bytes: std::mem::take(&mut self.log),
        }
    }

    /// Gives back a buffer (emptied) so the log does not reallocate.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.log.is_empty() {
            buf.clear();
            self.log = buf;
        }
    }

    /// The writer starts a new file: the next command is preceded by a SELECT.
    pub fn restart_file(&mut self) {
        self.log_db = None;
    }

    /// Before a command runs (what an earlier command left unfinished is dropped).
    #[inline]
    pub fn begin(&mut self) {
        self.pending.replaced = false;
        if self.pending.on {
            self.pending.batch.clear();
        }
    }

    /// After a command ran in `db`: its effects (or, if its handler recorded none and it
    /// `wrote`, the request `args` itself) go to the open group or the log.
    pub fn finish<A: AsRef<[u8]>>(
        &mut self,
        db: usize,
        wrote: bool,
        args: impl ExactSizeIterator<Item = A>,
    ) {
        if !self.pending.on {
            return;
        }
        if !self.pending.replaced && wrote {
            self.pending.batch.push(db, args);
        }
        if self.pending.batch.len() == 0 {
            return;
        }
        let mut batch = std::mem::take(&mut self.pending.batch);
        // Several effects of one command replay all or nothing, as Redis 7 wraps them (in a
        // group, the group's MULTI covers them).
        let wrap = batch.len() > 1 && self.current.is_none();
        if wrap {
            let multi: [&[u8]; 1] = [b"MULTI"];
            encode_command(&mut self.log, multi.iter());
        }
        for (db, c) in batch.commands() {
            self.route(db, c);
        }
        if wrap {
            let exec: [&[u8]; 1] = [b"EXEC"];
            encode_command(&mut self.log, exec.iter());
            self.publish();
        }
        batch.clear();
        self.pending.batch = batch;
    }

    /// Sends one encoded command run in `db` to the open group, or to the log.
    fn route(&mut self, db: usize, command: &[u8]) {
        match self.current {
            Some(id) => {
                let g = self.group_mut(id);
                g.bytes.extend_from_slice(command);
                g.ends.push((db, g.bytes.len()));
            }
            None => self.append(db, command),
        }
    }

    /// Records `args` run in `db` directly (effects a coordinator computed: a key written
    /// back from another shard, a key renamed away).
    pub fn record<A: AsRef<[u8]>>(&mut self, db: usize, args: impl ExactSizeIterator<Item = A>) {
        self.begin();
        self.pending.push(db, args);
        self.finish(db, false, std::iter::empty::<&[u8]>());
    }

    /// A key the server removed by itself (it expired, or was evicted): `DEL key` in `db`.
    pub fn expired(&mut self, db: usize, key: &[u8]) {
        if self.pending.on {
            let args: [&[u8]; 2] = [b"DEL", key];
            let mut c = std::mem::take(&mut self.scratch);
            c.clear();
            encode_command(&mut c, args.iter());
            self.route(db, &c);
            self.scratch = c;
        }
    }

    /// Commands from now on record into group `id` (opened if new), until [`leave`].
    ///
    /// [`leave`]: Effects::leave
    pub fn enter(&mut self, id: u64) {
        if !self.pending.on {
            return;
        }
        if !self.groups.iter().any(|g| g.id == id) {
            self.groups.push(Group {
                id,
                batch: Batch::default(),
            });
        }
        self.current = Some(id);
    }

    /// Commands from now on record into the log again.
    pub fn leave(&mut self) {
        self.current = None;
    }

    /// Group `id` ended: its effects enter the log, as MULTI ... EXEC when there are
    /// several.
    pub fn commit(&mut self, id: u64) {
        self.commit_batch(id);
    }

    /// [`commit`](Effects::commit), also returning the group's commands as (database,
    /// RESP command): the part of a transaction that spans shards, for a reader that joins
    /// every shard's part into one MULTI ... EXEC (the replication stream).
    pub fn commit_part(&mut self, id: u64) -> Vec<(usize, Vec<u8>)> {
        self.commit_batch(id)
            .map(|b| b.commands().map(|(db, c)| (db, c.to_vec())).collect())
            .unwrap_or_default()
    }

    fn commit_batch(&mut self, id: u64) -> Option<Batch> {
        let i = self.groups.iter().position(|g| g.id == id)?;
        let g = self.groups.swap_remove(i);
        if self.current == Some(id) {
            self.current = None;
        }
        let wrap = g.batch.len() > 1;
        if wrap {
            let multi: [&[u8]; 1] = [b"MULTI"];
            encode_command(&mut self.log, multi.iter());
        }
        for (db, c) in g.batch.commands() {
            self.append(db, c);
        }
        if wrap {
            let exec: [&[u8]; 1] = [b"EXEC"];
            encode_command(&mut self.log, exec.iter());
            self.publish();
        }
        Some(g.batch)
    }

    /// Commits every open group (a global command is about to start a new file: what came
    /// before it must be written first).
    pub fn commit_all(&mut self) {
        while let Some(g) = self.groups.first() {
            let id = g.id;
            self.commit(id);
        }
    }

    fn group_mut(&mut self, id: u64) -> &mut Batch {
        let i = match self.groups.iter().position(|g| g.id == id) {
            Some(i) => i,
            None => {
                self.groups.push(Group {
                    id,
                    batch: Batch::default(),
                });
                self.groups.len() - 1
            }
        };
        &mut self.groups[i].batch
    }

    /// Appends one encoded command run in `db`, selecting `db` first when the reader is
    /// elsewhere.
    fn append(&mut self, db: usize, command: &[u8]) {
        if self.log_db != Some(db) {
            let mut digits = itoa::Buffer::new();
            let select: [&[u8]; 2] = [b"SELECT", digits.format(db).as_bytes()];
            encode_command(&mut self.log, select.iter());
            self.log_db = Some(db);
        }
        self.log.extend_from_slice(command);
        self.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).replace("\r\n", " ")
    }

    #[test]
    fn a_handler_through_the_shard() {
        let mut shard = testing::recording_shard();
        let fx = testing::effects_of(&mut shard, 3, 1000, crate::string::set, &["SET", "k", "v"]);
        assert_eq!(fx, ["SELECT 3", "SET k v"]);
        let fx = testing::effects_of(&mut shard, 3, 1000, crate::string::get, &["GET", "k"]);
        assert!(fx.is_empty());
    }

    #[test]
    fn off_records_nothing() {
        let mut e = Effects::default();
        e.begin();
        e.pending.push(0, [b"SET".as_slice(), b"k", b"v"].iter());
        e.finish(0, true, [b"SET".as_slice(), b"k", b"v"].iter());
        assert_eq!(e.produced(), 0);
        assert!(e.take_log().is_empty());
    }

    #[test]
    fn the_request_is_the_effect_unless_replaced() {
        let mut e = Effects::default();
        e.set_on(true);
        e.begin();
        e.finish(0, true, [b"SET".as_slice(), b"k", b"v"].iter());
        e.begin();
        e.finish(0, false, [b"GET".as_slice(), b"k"].iter());
        e.begin();
        e.pending.push(2, [b"SREM".as_slice(), b"s", b"m"].iter());
        e.finish(2, true, [b"SPOP".as_slice(), b"s"].iter());
        let n = e.produced();
        let log = e.take_log();
        assert_eq!(n, log.len() as u64);
        assert_eq!(
            text(&log),
            "*2 $6 SELECT $1 0 *3 $3 SET $1 k $1 v *2 $6 SELECT $1 2 *3 $4 SREM $1 s $1 m "
        );
        assert_eq!(e.produced(), n);
    }

    #[test]
    fn expired_keys_and_groups() {
        let mut e = Effects::default();
        e.set_on(true);
        e.enter(7);
        e.expired(0, b"old");
        e.begin();
        e.finish(0, true, [b"INCR".as_slice(), b"n"].iter());
        e.leave();
        e.begin();
        e.finish(0, true, [b"SET".as_slice(), b"other", b"1"].iter());
        assert_eq!(
            text(&e.take_log()),
            "*2 $6 SELECT $1 0 *3 $3 SET $5 other $1 1 "
        );
        e.commit(7);
        assert_eq!(
            text(&e.take_log()),
            "*1 $5 MULTI *2 $3 DEL $3 old *2 $4 INCR $1 n *1 $4 EXEC "
        );
        // A group of one command enters as itself; a new file selects again.
        e.restart_file();
        e.enter(8);
        e.begin();
        e.finish(1, true, [b"DEL".as_slice(), b"x"].iter());
        e.leave();
        e.commit(8);
        assert_eq!(text(&e.take_log()), "*2 $6 SELECT $1 1 *2 $3 DEL $1 x ");
    }

    /// A chunk tells the database its reader must be in before and after it.
    #[test]
    fn chunks_carry_their_databases() {
        let mut e = Effects::default();
        e.set_on(true);
        let empty = e.take_chunk();
        assert_eq!((empty.start_db, empty.end_db), (None, None));
        e.begin();
        e.finish(3, true, [b"DEL".as_slice(), b"x"].iter());
        let c = e.take_chunk();
        assert_eq!((c.start_db, c.end_db), (None, Some(3)));
        assert_eq!(text(&c.bytes), "*2 $6 SELECT $1 3 *2 $3 DEL $1 x ");
        e.begin();
        e.finish(3, true, [b"DEL".as_slice(), b"y"].iter());
        e.begin();
        e.finish(5, true, [b"DEL".as_slice(), b"z"].iter());
        let c = e.take_chunk();
        assert_eq!((c.start_db, c.end_db), (Some(3), Some(5)));
        assert_eq!(
            text(&c.bytes),
            "*2 $3 DEL $1 y *2 $6 SELECT $1 5 *2 $3 DEL $1 z "
        );
    }
}

/// Helpers for the command families' tests of their effects.
#[cfg(test)]
pub mod testing {
    use crate::{Cmd, Handler, Reply, Shard};

    /// The handler of `name` (any case), for the tests that run, record and replay
    /// commands: the commands they build data with and every form an effect or a rebuild
    /// is written in. One table, so a family's tests and the replays agree.
    pub fn handler(name: &str) -> Handler {
        use crate::{geo, hash, hll, keys, list, set, stream, zset};
        match name.to_ascii_uppercase().as_str() {
            "DEL" => keys::del,
            "UNLINK" => keys::unlink,
            "TOUCH" => keys::touch,
            "EXPIRE" => keys::expire,
            "PEXPIRE" => keys::pexpire,
            "EXPIREAT" => keys::expireat,
            "PEXPIREAT" => keys::pexpireat,
            "PERSIST" => keys::persist,
            "TTL" => keys::ttl,
            "RENAME" => keys::rename,
            "RENAMENX" => keys::renamenx,
            "COPY" => keys::copy,
            "PFADD" => hll::pfadd,
            "PFCOUNT" => hll::pfcount,
            "PFMERGE" => hll::pfmerge,
            "RPUSH" => list::rpush,
            "LPUSH" => list::lpush,
            "LREM" => list::lrem,
            "LPOP" => list::lpop,
            "RPOP" => list::rpop,
            "LMOVE" => list::lmove,
            "RPOPLPUSH" => list::rpoplpush,
            "LMPOP" => list::lmpop,
            "BLPOP" => list::blpop,
            "BRPOP" => list::brpop,
            "BLMOVE" => list::blmove,
            "BRPOPLPUSH" => list::brpoplpush,
            "BLMPOP" => list::blmpop,
            "SADD" => set::sadd,
            "SREM" => set::srem,
            "SPOP" => set::spop,
            "HSET" | "HMSET" => hash::hset,
            "HDEL" => hash::hdel,
            "HINCRBY" => hash::hincrby,
            "HINCRBYFLOAT" => hash::hincrbyfloat,
            "ZADD" => zset::zadd,
            "ZREM" => zset::zrem,
            "ZINCRBY" => zset::zincrby,
            "ZPOPMIN" => zset::zpopmin,
            "ZPOPMAX" => zset::zpopmax,
            "ZMPOP" => zset::zmpop,
            "BZPOPMIN" => zset::bzpopmin,
            "BZPOPMAX" => zset::bzpopmax,
            "BZMPOP" => zset::bzmpop,
            "GEOADD" => geo::geoadd,
            "GEORADIUS" => geo::georadius,
            "GEOSEARCHSTORE" => geo::geosearchstore,
            "XADD" => stream::xadd,
            "XDEL" => stream::xdel,
            "XSETID" => stream::xsetid,
            "XGROUP" => stream::xgroup,
            "XREADGROUP" => stream::xreadgroup,
            "XCLAIM" => stream::xclaim,
            "XACK" => stream::xack,
            "XINFO" => stream::xinfo,
            "XTRIM" => stream::xtrim,
            "XAUTOCLAIM" => stream::xautoclaim,
            "XRANGE" => stream::xrange,
            "XPENDING" => stream::xpending,
            // Strings and bits.
            _ => crate::string::testkit::handler(name),
        }
    }

    /// Runs `args` in database 0 at time 1000 (the families' effect tests) and returns
    /// its effects.
    pub fn run(shard: &mut Shard, args: &[&str]) -> Vec<String> {
        effects_of(shard, 0, 1000, handler(args[0]), args)
    }

    /// Replays logged effects (arguments joined by spaces, none holding one) on a fresh
    /// shard at `now`, with an RNG of its own, as loading the AOF would: SELECT switches
    /// the database; MULTI and EXEC only group (one command at a time here).
    pub fn replay(now: u64, effects: &[String]) -> Shard {
        let mut s = recording_shard();
        s.rng = crate::rng::Rng::new(0xdec0de);
        let mut db = 0;
        for c in effects {
            let args: Vec<&str> = c.split(' ').collect();
            match args[0] {
                "SELECT" => db = args[1].parse().expect("a database index"),
                "MULTI" | "EXEC" => {}
                name => {
                    effects_of(&mut s, db, now, handler(name), &args);
                }
            }
        }
        s
    }

    /// A shard that records effects.
    pub fn recording_shard() -> Shard {
        let mut s = Shard::new(0, crate::shard::DEFAULT_DATABASES);
        s.set_effects(true);
        s
    }

    /// Runs `handler` on `args` in database `db` at time `now` (Unix ms) as the server does
    /// (dirty counter, effects), and returns the effects the log got, one command per item,
    /// arguments joined by spaces (SELECTs included).
    pub fn effects_of(
        shard: &mut Shard,
        db: usize,
        now: u64,
        handler: Handler,
        args: &[&str],
    ) -> Vec<String> {
        let cmd = Cmd::from_args(args);
        let mut reply = Reply::new(false);
        let dirty = shard.dirty;
        handler(&mut shard.ctx(db, now, &mut reply), &cmd);
        let wrote = shard.dirty != dirty;
        shard.finish_effects(db, wrote, cmd.args());
        decode(&shard.effects.take_log())
    }

    /// The effects of one command without the MULTI ... EXEC that wraps several (checking
    /// it is there exactly when there are several).
    pub fn unwrapped(fx: Vec<String>) -> Vec<String> {
        let commands = fx.iter().filter(|c| !c.starts_with("SELECT ")).count();
        let wrapped = fx.first().is_some_and(|c| c == "MULTI");
        let inner = commands - if wrapped { 2 } else { 0 };
        assert_eq!(
            wrapped,
            inner > 1,
            "MULTI/EXEC wraps several effects: {fx:?}"
        );
        if wrapped {
            assert_eq!(fx.last().map(String::as_str), Some("EXEC"), "{fx:?}");
            return fx[1..fx.len() - 1].to_vec();
        }
        fx
    }

    /// The commands of a RESP log, arguments joined by spaces.
    pub fn decode(mut log: &[u8]) -> Vec<String> {
        fn line<'a>(b: &mut &'a [u8]) -> &'a [u8] {
            let i = b.windows(2).position(|w| w == b"\r\n").expect("CRLF");
            let l = &b[..i];
            *b = &b[i + 2..];
            l
        }
        let mut out = Vec::new();
        while !log.is_empty() {
            let head = line(&mut log);
            assert_eq!(head[0], b'*', "an array");
            let n: usize = std::str::from_utf8(&head[1..]).unwrap().parse().unwrap();
            let mut args = Vec::with_capacity(n);
            for _ in 0..n {
                let h = line(&mut log);
                assert_eq!(h[0], b'$', "a bulk string");
                let len: usize = std::str::from_utf8(&h[1..]).unwrap().parse().unwrap();
                args.push(String::from_utf8_lossy(&log[..len]).into_owned());
                log = &log[len + 2..];
            }
            out.push(args.join(" "));
        }
        out
    }
}
