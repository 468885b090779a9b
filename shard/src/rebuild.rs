//! The commands that recreate one key, as Redis' AOF rewrite writes them when it does not use
//! an RDB preamble (`rewriteAppendOnlyFileRio` in aof.c): a string is a `SET`; a list,
//! set, sorted set or hash is built by `RPUSH`, `SADD`, `ZADD` or `HMSET` commands of at
//! most [`AOF_REWRITE_ITEMS_PER_CMD`] items each; a stream by its `XADD`s, an `XSETID`
//! restoring its counters, then `XGROUP CREATE`, `XGROUP CREATECONSUMER` and `XCLAIM`s
//! restoring its groups; then `PEXPIREAT` when the key has a TTL.
//!
//! Like Redis' rewrite, this does not keep consumers' seen and active times (replay
//! stamps them with its own time), nor pending entries whose stream entry was deleted
//! (their `XCLAIM` finds no entry and drops them), nor a -0 score that the replay's first
//! `ZADD` stores in a listpack (which keeps integral scores as integers).

use crate::db::Entry;
use crate::hash::HashValue;
use crate::list::ListValue;
use crate::set::SetValue;
use crate::stream::{StreamId, StreamValue};
use crate::value::Value;
use crate::zset::ZSetValue;
use smallvec::SmallVec;
use std::fmt::Write as _;

/// Items per variadic command, as Redis' `AOF_REWRITE_ITEMS_PER_CMD`.
pub const AOF_REWRITE_ITEMS_PER_CMD: usize = 64;

/// Where the commands go: each is its arguments, the command name first.
pub type Emit<'a> = dyn FnMut(&[&[u8]]) + 'a;

/// Calls `emit` with each command (arguments, the command name first) that recreates `key`
/// as `entry` holds it, on a database where `key` does not exist.
pub fn rebuild(key: &[u8], entry: &Entry, emit: &mut Emit) {
    match &entry.value {
        Value::Str(s) => {
            let mut digits = itoa::Buffer::new();
            emit(&[b"SET", key, s.bytes(&mut digits)]);
        }
        Value::List(l) => list(key, l, emit),
        Value::Set(s) => set(key, s, emit),
        Value::ZSet(z) => zset(key, z, emit),
        Value::Hash(h) => hash(key, h, emit),
        Value::Stream(s) => stream(key, s, emit),
    }
    if entry.expire_at != 0 {
        let mut digits = itoa::Buffer::new();
        emit(&[b"PEXPIREAT", key, digits.format(entry.expire_at).as_bytes()]);
    }
}

fn list(key: &[u8], l: &ListValue, emit: &mut Emit) {
    let mut b = Batches::new(b"RPUSH", key);
    l.for_each(|e| b.item(emit, |a| a.push(e)));
    b.finish(emit);
}

fn set(key: &[u8], s: &SetValue, emit: &mut Emit) {
    let mut b = Batches::new(b"SADD", key);
    s.for_each(|m| b.item(emit, |a| a.push(m)));
    b.finish(emit);
}

fn zset(key: &[u8], z: &ZSetValue, emit: &mut Emit) {
    let mut b = Batches::new(b"ZADD", key);
    z.for_each(|m, score| {
        b.item(emit, |a| {
            a.push_score(score);
            a.push(m);
        })
    });
    b.finish(emit);
}

fn hash(key: &[u8], h: &HashValue, emit: &mut Emit) {
    let mut b = Batches::new(b"HMSET", key);
    h.for_each(|f, v| {
        b.item(emit, |a| {
            a.push(f);
            a.push(v);
        })
    });
    b.finish(emit);
}

/// Redis' `rewriteStreamObject`.
fn stream(key: &[u8], s: &StreamValue, emit: &mut Emit) {
    let mut a = Args::default();
    if s.is_empty() {
        // An empty stream is still a key: add an entry and trim it away at once.
        a.push_all(&[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
        a.emit(emit);
    }
    for e in s.range(StreamId::MIN, StreamId::MAX, false) {
        a.push_all(&[b"XADD", key]);
        a.push_id(e.id);
        for (f, v) in e.pairs() {
            a.push(f);
            a.push(v);
        }
        a.emit(emit);
    }
    // The counters the XADDs do not give back (XDEL'ed entries, a last ID set by XSETID).
    a.push_all(&[b"XSETID", key]);
    a.push_id(s.last_id);
    a.push(b"ENTRIESADDED");
    a.push_int(s.entries_added as i64);
    a.push(b"MAXDELETEDID");
    a.push_id(s.max_deleted);
    a.emit(emit);
    for (name, g) in s.groups() {
        a.push_all(&[b"XGROUP", b"CREATE", key, name]);
        a.push_id(g.last_id);
        a.push(b"ENTRIESREAD");
        a.push_int(g.entries_read);
        a.emit(emit);
        for c in g.consumers.values() {
            if c.pel.is_empty() {
                a.push_all(&[b"XGROUP", b"CREATECONSUMER", key, name, &c.name]);
                a.emit(emit);
            }
            // Claiming an entry creates its consumer and sets its delivery time and count.
            for id in &c.pel {
                let nack = &g.pel[id];
                a.push_all(&[b"XCLAIM", key, name, &c.name, b"0"]);
                a.push_id(*id);
                a.push(b"TIME");
                a.push_int(nack.delivery_time);
                a.push(b"RETRYCOUNT");
                a.push_int(nack.delivery_count as i64);
                a.push_all(&[b"JUSTID", b"FORCE"]);
                a.emit(emit);
            }
        }
    }
}

/// The arguments of the command being built, copied into one buffer (the value's iterators
/// lend members only for the time of a callback, and numbers need formatting anyway).
#[derive(Default)]
struct Args {
    text: Vec<u8>,
    /// The end of each argument in `text`.
    ends: Vec<usize>,
}

impl Args {
    fn push(&mut self, arg: &[u8]) {
        self.text.extend_from_slice(arg);
        self.ends.push(self.text.len());
    }

    fn push_all(&mut self, args: &[&[u8]]) {
        args.iter().for_each(|a| self.push(a));
    }

    fn push_int(&mut self, v: i64) {
        self.push(itoa::Buffer::new().format(v).as_bytes());
    }

    fn push_id(&mut self, id: StreamId) {
        self.push(id.fmt(&mut [0; 41]));
    }

    /// A score as Redis' `rioWriteBulkDouble` writes it (`%.17g`: reads back to the same
    /// double).
    fn push_score(&mut self, v: f64) {
        format_g17(&mut self.text, v);
        self.ends.push(self.text.len());
    }

    /// Hands the command to `emit` and starts the next one.
    fn emit(&mut self, emit: &mut Emit) {
        {
            let mut start = 0;
            let args: SmallVec<[&[u8]; 16]> = self
                .ends
                .iter()
                .map(|&end| {
                    let a = &self.text[start..end];
                    start = end;
                    a
                })
                .collect();
            emit(&args);
        }
        self.text.clear();
        self.ends.clear();
    }
}

/// Variadic commands `name key item...` of at most [`AOF_REWRITE_ITEMS_PER_CMD`] items.
struct Batches<'k> {
    name: &'static [u8],
    key: &'k [u8],
    args: Args,
    items: usize,
}

impl<'k> Batches<'k> {
    fn new(name: &'static [u8], key: &'k [u8]) -> Batches<'k> {
        Batches {
            name,
            key,
            args: Args::default(),
            items: 0,
        }
    }

    /// Adds one item (its arguments pushed by `push`), sending the command when it is full.
    fn item(&mut self, emit: &mut Emit, push: impl FnOnce(&mut Args)) {
        if self.items == 0 {
            self.args.push_all(&[self.name, self.key]);
        }
        push(&mut self.args);
        self.items += 1;
        if self.items == AOF_REWRITE_ITEMS_PER_CMD {
            self.finish(emit);
        }
    }

    /// Sends the command holding the last items, if any.
    fn finish(&mut self, emit: &mut Emit) {
        if self.items > 0 {
            self.args.emit(emit);
            self.items = 0;
        }
    }
}

/// Appends `v` as C's `printf("%.17g", v)` writes it: 17 significant digits, trailing
/// zeros dropped, exponent notation when the exponent is below -4 or at least 17.
fn format_g17(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        return out.extend_from_slice(b"nan");
    }
    if v.is_infinite() {
        return out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
    }
    // Rust rounds exactly, ties to even, as glibc does: `-d.dddddddddddddddde-X`.
    let mut sci = StackText::default();
    write!(sci, "{v:.16e}").expect("a double fits");
    let text = sci.as_bytes();
    let e = text.iter().position(|&c| c == b'e').expect("an exponent");
    let exp: i32 = std::str::from_utf8(&text[e + 1..])
        .ok()
        .and_then(|x| x.parse().ok())
        .expect("a decimal exponent");
    let mantissa = &text[..e];
    let (negative, mantissa) = match mantissa.strip_prefix(b"-") {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let mut digits = [0u8; 17];
    digits[0] = mantissa[0];
    digits[1..].copy_from_slice(&mantissa[2..]);
    if negative {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        push_fraction(out, &digits[1..]);
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        if exp.abs() < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(exp.abs()).as_bytes());
    } else if exp >= 0 {
        let int = exp as usize + 1;
        out.extend_from_slice(&digits[..int]);
        push_fraction(out, &digits[int..]);
    } else {
        out.push(b'0');
        let mut frac = [b'0'; 20];
        let lead = (-exp - 1) as usize;
        frac[lead..lead + 17].copy_from_slice(&digits);
        push_fraction(out, &frac[..lead + 17]);
    }
}

/// `.digits` without trailing zeros; nothing when no digit is left.
fn push_fraction(out: &mut Vec<u8>, digits: &[u8]) {
    let n = digits.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    if n > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[..n]);
    }
}

/// A small formatting buffer on the stack.
#[derive(Default)]
struct StackText {
    buf: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{db_digest, hex};
    use crate::effects::testing::{effects_of, handler, recording_shard};
    use crate::{Cmd, Reply, Shard};

    const NOW: u64 = 1_700_000_000_000;

    /// Runs one command in database 0 at `now` and returns its reply, which must not be an
    /// error.
    fn run<A: AsRef<[u8]>>(shard: &mut Shard, now: u64, args: &[A]) -> Vec<u8> {
        let cmd = Cmd::from_args(args);
        let mut out = Reply::new(false);
        let name = String::from_utf8_lossy(&cmd[0]).into_owned();
        handler(&name)(&mut shard.ctx(0, now, &mut out), &cmd);
        assert_ne!(
            out.buf.first(),
            Some(&b'-'),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.buf)
        );
        out.buf
    }

    /// Builds a dataset with the real handlers, as the server runs them (effects on).
    fn build(commands: &[&str]) -> Shard {
        let mut shard = recording_shard();
        for c in commands {
            let args: Vec<&str> = c.split(' ').collect();
            effects_of(&mut shard, 0, NOW, handler(args[0]), &args);
        }
        shard
    }

    /// The rebuild of every key of database 0, one command per item.
    fn rebuild_all(shard: &Shard) -> Vec<Vec<Vec<u8>>> {
        let mut cmds = Vec::new();
        shard.dbs[0].for_each(NOW, |k, e| {
            rebuild(k, e, &mut |args| {
                cmds.push(args.iter().map(|a| a.to_vec()).collect())
            })
        });
        cmds
    }

    fn texts(cmds: &[Vec<Vec<u8>>]) -> Vec<String> {
        cmds.iter()
            .map(|c| {
                let args: Vec<_> = c.iter().map(|a| String::from_utf8_lossy(a)).collect();
                args.join(" ")
            })
            .collect()
    }

    /// Replays `cmds` on a fresh shard at `NOW`.
    fn replay(cmds: &[Vec<Vec<u8>>]) -> Shard {
        let mut shard = recording_shard();
        for c in cmds {
            run(&mut shard, NOW, c);
        }
        shard
    }

    fn encoding(shard: &mut Shard, key: &str) -> &'static str {
        shard.dbs[0]
            .peek(key.as_bytes(), NOW)
            .unwrap()
            .value
            .encoding()
    }

    /// Builds `commands`, rebuilds, replays: the same data (and TTLs), the same encodings
    /// (`keys`, which must be encoded as `encodings`). Returns the rebuild.
    fn round_trip(commands: &[&str], keys: &[(&str, &str)]) -> Vec<String> {
        let mut original = build(commands);
        let cmds = rebuild_all(&original);
        let mut copy = replay(&cmds);
        assert_eq!(original.dbs[0].len(), copy.dbs[0].len());
        assert_eq!(
            hex(&db_digest(&original.dbs[0], NOW)),
            hex(&db_digest(&copy.dbs[0], NOW))
        );
        for (key, enc) in keys {
            assert_eq!(encoding(&mut original, key), *enc, "{key}");
            assert_eq!(encoding(&mut copy, key), *enc, "{key} rebuilt");
        }
        texts(&cmds)
    }

    #[test]
    fn strings_and_ttls() {
        let expire = (NOW + 5000).to_string();
        let rebuilt = round_trip(
            &[
                "SET s hello",
                "SET n -12345",
                "SET raw abc",
                "APPEND raw def",
                "PFADD hll a b c",
                "SET t v PX 5000",
            ],
            // APPEND's raw string comes back embstr, as from Redis' rewrite.
            &[("n", "int"), ("s", "embstr")],
        );
        let mut sorted = rebuilt.clone();
        sorted.sort();
        assert!(sorted.contains(&"SET n -12345".to_string()));
        assert!(sorted.contains(&"SET raw abcdef".to_string()));
        let t = rebuilt.iter().position(|c| c == "SET t v").unwrap();
        assert_eq!(rebuilt[t + 1], format!("PEXPIREAT t {expire}"));
        assert_eq!(rebuilt.len(), 6);
    }

    #[test]
    fn lists_in_batches_of_64() {
        let items: Vec<String> = (0..130).map(|i| format!("{}", i - 3)).collect();
        let big: Vec<String> = (0..200)
            .map(|i| format!("{i}-{}", "x".repeat(100)))
            .collect();
        let rebuilt = round_trip(
            &[
                "RPUSH small a 1 b -7 a",
                "LPUSH small front",
                "LREM small 1 a",
                &format!("RPUSH ints {}", items.join(" ")),
                &format!("RPUSH big {}", big.join(" ")),
                "SET tmp x",
                "PEXPIREAT small 1800000000000",
            ],
            &[
                ("small", "listpack"),
                ("ints", "listpack"),
                ("big", "quicklist"),
            ],
        );
        let small = rebuilt
            .iter()
            .position(|c| c.starts_with("RPUSH small"))
            .unwrap();
        assert_eq!(rebuilt[small], "RPUSH small front 1 b -7 a");
        assert_eq!(rebuilt[small + 1], "PEXPIREAT small 1800000000000");
        let ints: Vec<&String> = rebuilt
            .iter()
            .filter(|c| c.starts_with("RPUSH ints "))
            .collect();
        let sizes: Vec<usize> = ints.iter().map(|c| c.split(' ').count() - 2).collect();
        assert_eq!(sizes, [64, 64, 2]);
        assert_eq!(*ints[2], "RPUSH ints 125 126");
        assert_eq!(
            rebuilt
                .iter()
                .filter(|c| c.starts_with("RPUSH big "))
                .count(),
            4
        );
    }

    #[test]
    fn sets_in_every_encoding() {
        let strings: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let rebuilt = round_trip(
            &[
                "SADD ints 5 -3 100 7",
                "SREM ints 7",
                "SADD small a b 1",
                &format!("SADD big {}", strings.join(" ")),
                "SREM big m5",
            ],
            &[
                ("ints", "intset"),
                ("small", "listpack"),
                ("big", "hashtable"),
            ],
        );
        assert!(rebuilt.contains(&"SADD ints -3 5 100".to_string()));
        assert!(rebuilt.contains(&"SADD small a b 1".to_string()));
        let big: Vec<&String> = rebuilt
            .iter()
            .filter(|c| c.starts_with("SADD big "))
            .collect();
        let sizes: Vec<usize> = big.iter().map(|c| c.split(' ').count() - 2).collect();
        assert_eq!(sizes, [64, 64, 64, 7]);
    }

    #[test]
    fn sorted_sets_with_scores_that_read_back_exactly() {
        let members: Vec<String> = (0..200)
            .map(|i| format!("{} m{i}", i as f64 * 0.1 - 7.0))
            .collect();
        let rebuilt = round_trip(
            &[
                "ZADD small inf top -inf bottom -2.5 neg 0.1 tenth 1e300 huge 3 three -0 zero",
                "ZADD small 1.5e-7 tiny 123456789012345678 long",
                "ZREM small three",
                &format!("ZADD big {}", members.join(" ")),
                "ZADD big -inf low inf high",
            ],
            &[("small", "listpack"), ("big", "skiplist")],
        );
        // A listpack stores an integral score as an integer, -0 as 0 (Redis' double2ll).
        let small = rebuilt
            .iter()
            .find(|c| c.starts_with("ZADD small"))
            .unwrap();
        assert_eq!(
            small,
            "ZADD small -inf bottom -2.5 neg 0 zero 1.4999999999999999e-07 tiny \
             0.10000000000000001 tenth 1.2345678901234568e+17 long 1.0000000000000001e+300 huge \
             inf top"
        );
        let big: Vec<&String> = rebuilt
            .iter()
            .filter(|c| c.starts_with("ZADD big "))
            .collect();
        let pairs: Vec<usize> = big.iter().map(|c| (c.split(' ').count() - 2) / 2).collect();
        assert_eq!(pairs, [64, 64, 64, 10]);
        assert!(big[0].starts_with("ZADD big -inf low -7 m0 -6.9000000000000004 m1 "));
    }

    #[test]
    fn hashes_in_both_encodings() {
        let fields: Vec<String> = (0..150).map(|i| format!("f{i} {i}")).collect();
        let rebuilt = round_trip(
            &[
                "HSET small a 1 b two c 3",
                "HDEL small b",
                &format!("HSET big {}", fields.join(" ")),
                &format!("HSET long f {}", "v".repeat(100)),
            ],
            &[
                ("small", "listpack"),
                ("big", "listpack"),
                ("long", "hashtable"),
            ],
        );
        assert!(rebuilt.contains(&"HMSET small a 1 c 3".to_string()));
        let big: Vec<&String> = rebuilt
            .iter()
            .filter(|c| c.starts_with("HMSET big "))
            .collect();
        let pairs: Vec<usize> = big.iter().map(|c| (c.split(' ').count() - 2) / 2).collect();
        assert_eq!(pairs, [64, 64, 22]);
    }

    #[test]
    fn g17_is_printf() {
        // What glibc's printf("%.17g") writes (checked with Python's '%.17g').
        let cases: [(f64, &str); 14] = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.10000000000000001"),
            (1.0 / 3.0, "0.33333333333333331"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (10001.0 / 1048576.0, "0.0095376968383789062"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            format_g17(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
        let mut rng = crate::rng::Rng::new(17);
        for _ in 0..10_000 {
            let v = f64::from_bits(rng.next_u64());
            if v.is_nan() {
                continue;
            }
            let mut out = Vec::new();
            format_g17(&mut out, v);
            let back = crate::zset::parse_score(&out).unwrap();
            assert_eq!(
                back.to_bits(),
                v.to_bits(),
                "{}",
                String::from_utf8_lossy(&out)
            );
        }
    }

    /// XINFO STREAM `key` FULL with every entry, pending entry and consumer.
    fn xinfo_full(shard: &mut Shard, key: &str) -> String {
        let reply = run(shard, NOW, &["XINFO", "STREAM", key, "FULL", "COUNT", "0"]);
        String::from_utf8(reply).unwrap()
    }

    /// Streams rebuilt: entries (deleted ones gone, the counters kept), groups, consumers
    /// and pending entries with their delivery times and counts.
    #[test]
    fn streams_with_groups_and_pending_entries() {
        let early = (NOW - 10_000).to_string();
        let mut commands = vec![
            "XADD s 1-1 a 1 b 2".to_string(),
            "XADD s 1-2 a 3 b 4".into(),
            "XADD s 2-0 other x".into(),
            "XADD s 3-0 a 5 b 6".into(),
            "XADD s 4-0 a 7".into(),
            "XADD s 5-0 a 8".into(),
            "XDEL s 1-2 5-0".into(),
            "XSETID s 9-0".into(),
            "XGROUP CREATE s g1 0".into(),
            "XGROUP CREATE s g2 1-1".into(),
            "XGROUP CREATE s g3 $ ENTRIESREAD 6".into(),
            // g1: alice owns 1-1 (delivered twice), carol 2-0 (claimed), bob 3-0; dave
            // has nothing pending.
            "XREADGROUP GROUP g1 alice COUNT 2 STREAMS s >".into(),
            "XREADGROUP GROUP g1 bob COUNT 1 STREAMS s >".into(),
            "XREADGROUP GROUP g1 alice STREAMS s 0".into(),
            "XCLAIM s g1 carol 0 2-0 IDLE 3000".into(),
            "XGROUP CREATECONSUMER s g1 dave".into(),
            // g2: erin keeps 4-0 after acknowledging 2-0 and gives 3-0 to frank.
            "XREADGROUP GROUP g2 erin STREAMS s >".into(),
            "XACK s g2 2-0".into(),
            format!("XCLAIM s g2 frank 0 3-0 TIME {early} RETRYCOUNT 7 JUSTID"),
            "XGROUP CREATECONSUMER s g2 zed".into(),
        ];
        // A stream of several nodes.
        commands.extend((1..=250).map(|i| format!("XADD long {i}-0 n {i}")));
        let commands: Vec<&str> = commands.iter().map(|c| c.as_str()).collect();
        let mut original = build(&commands);
        let cmds = rebuild_all(&original);
        let mut copy = replay(&cmds);
        assert_eq!(
            hex(&db_digest(&original.dbs[0], NOW)),
            hex(&db_digest(&copy.dbs[0], NOW))
        );
        for key in ["s", "long"] {
            assert_eq!(xinfo_full(&mut original, key), xinfo_full(&mut copy, key));
        }
        let rebuilt: Vec<String> = texts(&cmds)
            .into_iter()
            .filter(|c| !c.contains(" long "))
            .collect();
        let claimed = (NOW - 3000).to_string();
        let now = NOW.to_string();
        let want = [
            "XADD s 1-1 a 1 b 2".to_string(),
            "XADD s 2-0 other x".into(),
            "XADD s 3-0 a 5 b 6".into(),
            "XADD s 4-0 a 7".into(),
            "XSETID s 9-0 ENTRIESADDED 6 MAXDELETEDID 5-0".into(),
            // Tombstones after the group's last ID: its read counter is unknown.
            "XGROUP CREATE s g1 3-0 ENTRIESREAD -1".into(),
            format!("XCLAIM s g1 alice 0 1-1 TIME {now} RETRYCOUNT 2 JUSTID FORCE"),
            format!("XCLAIM s g1 bob 0 3-0 TIME {now} RETRYCOUNT 1 JUSTID FORCE"),
            format!("XCLAIM s g1 carol 0 2-0 TIME {claimed} RETRYCOUNT 3 JUSTID FORCE"),
            "XGROUP CREATECONSUMER s g1 dave".into(),
            "XGROUP CREATE s g2 4-0 ENTRIESREAD -1".into(),
            format!("XCLAIM s g2 erin 0 4-0 TIME {now} RETRYCOUNT 1 JUSTID FORCE"),
            format!("XCLAIM s g2 frank 0 3-0 TIME {early} RETRYCOUNT 7 JUSTID FORCE"),
            "XGROUP CREATECONSUMER s g2 zed".into(),
            "XGROUP CREATE s g3 9-0 ENTRIESREAD 6".into(),
        ];
        assert_eq!(rebuilt, want);
        let long = texts(&cmds).iter().filter(|c| c.contains(" long ")).count();
        assert_eq!(long, 251, "250 XADDs and an XSETID");
    }

    /// An empty stream is still a key: added to and trimmed at once, then its counters set.
    #[test]
    fn empty_streams() {
        let commands = [
            "XGROUP CREATE fresh g $ MKSTREAM",
            "XADD emptied 1-0 f v",
            "XADD emptied 2-0 f v",
            "XDEL emptied 1-0 2-0",
            "XADD trimmed MAXLEN 0 7-0 f v",
            "PEXPIREAT trimmed 1800000000000",
        ];
        let mut original = build(&commands);
        let cmds = rebuild_all(&original);
        let mut copy = replay(&cmds);
        assert_eq!(
            hex(&db_digest(&original.dbs[0], NOW)),
            hex(&db_digest(&copy.dbs[0], NOW))
        );
        for key in ["fresh", "emptied", "trimmed"] {
            assert_eq!(xinfo_full(&mut original, key), xinfo_full(&mut copy, key));
        }
        let mut rebuilt = texts(&cmds);
        rebuilt.sort();
        assert_eq!(
            rebuilt,
            [
                "PEXPIREAT trimmed 1800000000000",
                "XADD emptied MAXLEN 0 0-1 x y",
                "XADD fresh MAXLEN 0 0-1 x y",
                "XADD trimmed MAXLEN 0 0-1 x y",
                "XGROUP CREATE fresh g 0-0 ENTRIESREAD -1",
                "XSETID emptied 2-0 ENTRIESADDED 2 MAXDELETEDID 2-0",
                "XSETID fresh 0-0 ENTRIESADDED 0 MAXDELETEDID 0-0",
                "XSETID trimmed 7-0 ENTRIESADDED 1 MAXDELETEDID 0-0",
            ]
        );
    }
}
