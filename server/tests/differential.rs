//! Differential test: the same long sequence of commands (scripted edge cases, then
//! thousands of randomized ones from a fixed seed, errors and wrong arities included) goes
//! to Debian's redis-server and to a 2-shard shardis-server, pipelined, over RESP2 and over
//! RESP3, and the replies must be the same byte for byte. Families: strings and the keyspace,
//! hashes, sorted sets, HyperLogLogs, geo; they share one key pool (each family mostly on its
//! own keys, sometimes on any: WRONGTYPE, RENAME / COPY of collections), on both shards, so
//! multi-key commands cross shards. The RESP2 run uses small encoding thresholds (conversions
//! after a few elements), the RESP3 run Redis' defaults. `DIFF_SEED` / `DIFF_STEPS` explore
//! other sequences, `DIFF_STATS=1` prints replies by command and outcome; the first
//! difference also dumps both keyspaces.
//!
//! What is not compared byte for byte, and why (see [`check_for`], [`Step`], [`known_bug`],
//! [`known_difference`] and [`score_difference`]):
//! - TTL / PTTL / EXPIRETIME / PEXPIRETIME after a relative expire: they depend on when each
//!   server ran the command. Compared with a small tolerance; -1 / -2 exactly.
//! - KEYS, HKEYS, HVALS, HGETALL: the order is the hash table's. Compared as sorted lists (a
//!   listpack hash's order is compared exactly by [`Step::Readback`]).
//! - SCAN: cursor values and key order are the table's. Compared as the set of keys of a full
//!   walk (with MATCH / COUNT / TYPE); invalid SCAN arguments are compared exactly. HSCAN /
//!   ZSCAN likewise ([`Step::CollScan`]), plus the single reply of a listpack exactly.
//! - RANDOMKEY: the choice is random. Compared as "nil or a key". HRANDFIELD / ZRANDMEMBER:
//!   the reply's shape, then the picks must be in the collection ([`Step::Sample`]).
//! - Lex ranges over members of different scores: undefined (Redis' answer follows its
//!   skiplist's random levels), so not sent ([`Step::Lex`]).
//! - OBJECT IDLETIME of an existing key: timing. Compared by reply type.
//! - DBSIZE: Redis stores a key SET with an EXAT / PXAT in the past (and counts it) until an
//!   access or its active expiry cycle removes it; Shardis never stores it. The count of such
//!   stale keys depends on timing, so DBSIZE is always sent right after an EXISTS of every key
//!   of the pool, which removes them from Redis too.
//! - HELLO: server version, connection id. Not compared (its shape is checked).
//! - TIME, INFO, DEBUG, CONFIG: inherently different, never compared.
//! - Known 7.0-vs-7.2 differences (the reference is Debian's Redis 7.0.15; Shardis follows
//!   7.2), each counted and printed with its first case:
//!   - `SCAN ... TYPE none`: 7.0 compares type *names* and a stale expired key looks up as
//!     "none", so it returns such keys; 7.2 filters after the lookup with objectTypeCompare,
//!     so a gone key never passes and "none" matches nothing. Shardis must return nothing.
//!   - Scores: 7.0 prints a double reply with %.17g, 7.2 with d2string (0.1, not
//!     0.10000000000000001); see [`score_difference`].
//!   - ZRANK / ZREVRANK WITHSCORE exists from 7.2 on.
//!   - HSET / ZADD with more pairs than the listpack limit: 7.2 converts up front (so the
//!     sequence never sends that many, [`MAX_PAIRS`]).
//!   - Lists and sets: 7.2 has listpack encodings; OBJECT ENCODING is checked against 7.2's
//!     rules instead of 7.0's answer.
//!   - HRANDFIELD / ZRANDMEMBER with a huge negative count in range: Redis builds that many
//!     replies (so it is never sent); Shardis refuses it.
//!   - Checked to be the same in 7.0.15 and 7.2 (so compared): BITCOUNT / BITPOS on a
//!     missing key answer 0 before checking their range arguments (errors first only from
//!     8.0), SCAN with an unknown TYPE is an empty filter (an error only from 8.0), GETEX
//!     checks its expire value only when the key exists, SCAN's cursor parsing.
//! - Open Shardis bugs ([`known_bug`]), counted and printed the same way.

mod common;

use common::{start_reference_redis, Server};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// The reference server

// ---------------------------------------------------------------------------------------------
// A raw RESP2/RESP3 connection that keeps every reply's exact bytes

/// A reply's shape, enough to normalize the few replies not compared byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Val {
    /// A one-line reply (`+ - : , # ( _`, and the null forms `$-1` / `*-1`): type and text.
    Line(u8, Vec<u8>),
    /// A length-prefixed string (`$ = !`): type and payload.
    Blob(u8, Vec<u8>),
    /// An aggregate (`* ~ > % |`): type and elements (a map's keys and values alternate).
    Agg(u8, Vec<Val>),
}

impl Val {
    fn int(&self) -> Option<i64> {
        match self {
            Val::Line(b':', n) => std::str::from_utf8(n).ok()?.parse().ok(),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Val::Line(b'_', _) | Val::Line(b'$' | b'*', _))
    }

    fn kind(&self) -> u8 {
        match self {
            Val::Line(t, _) | Val::Blob(t, _) | Val::Agg(t, _) => *t,
        }
    }
}

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
        w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        w.set_nodelay(true).unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        Conn { w, r }
    }

    fn send(&mut self, cmds: &[Vec<Vec<u8>>]) {
        let mut buf = Vec::new();
        for cmd in cmds {
            buf.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
            for a in cmd {
                buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                buf.extend_from_slice(a);
                buf.extend_from_slice(b"\r\n");
            }
        }
        self.w.write_all(&buf).unwrap();
    }

    /// Reads one reply: its exact bytes and its shape.
    fn recv(&mut self) -> (Vec<u8>, Val) {
        let mut raw = Vec::new();
        let v = self.read_val(&mut raw);
        (raw, v)
    }

    fn read_val(&mut self, raw: &mut Vec<u8>) -> Val {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).expect("read reply");
        assert!(
            line.len() >= 3 && line.ends_with(b"\r\n"),
            "truncated or malformed reply line {:?}",
            show(&line)
        );
        raw.extend_from_slice(&line);
        let (t, body) = (line[0], line[1..line.len() - 2].to_vec());
        let len = || -> i64 {
            std::str::from_utf8(&body)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad length in {:?}", show(&line)))
        };
        match t {
            b'$' | b'=' | b'!' => {
                let n = len();
                if n < 0 {
                    return Val::Line(t, body);
                }
                let mut data = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut data).expect("read bulk");
                raw.extend_from_slice(&data);
                assert_eq!(&data[n as usize..], b"\r\n", "bulk not ended by CRLF");
                data.truncate(n as usize);
                Val::Blob(t, data)
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = len();
                if n < 0 {
                    return Val::Line(t, body);
                }
                let n = if matches!(t, b'%' | b'|') { 2 * n } else { n };
                Val::Agg(t, (0..n).map(|_| self.read_val(raw)).collect())
            }
            _ => Val::Line(t, body),
        }
    }

    fn call(&mut self, cmd: &[&[u8]]) -> (Vec<u8>, Val) {
        self.send(&[cmd.iter().map(|a| a.to_vec()).collect()]);
        self.recv()
    }
}

fn show(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

fn show_cmd(cmd: &[Vec<u8>]) -> String {
    cmd.iter()
        .map(|a| format!("\"{}\"", show(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// How replies are compared

#[derive(Clone, Copy, Debug, PartialEq)]
enum Check {
    /// Byte for byte.
    Exact,
    /// The same elements, in any order (KEYS; HKEYS / HVALS of a hashtable...).
    Unordered,
    /// The same pairs, in any order (HGETALL of a hashtable: a flat array in RESP2, a map
    /// in RESP3).
    UnorderedPairs,
    /// Integers within `tolerance` of each other when both are non-negative, equal otherwise
    /// (TTL family after a relative expire: depends on when each server ran it).
    Time { tolerance: i64 },
    /// The same reply type (RANDOMKEY: nil or a key; OBJECT IDLETIME: an integer).
    Kind,
    /// The same reply types and lengths, recursively, and the same errors: the elements are
    /// random picks (HRANDFIELD, ZRANDMEMBER), checked apart by [`Step::Sample`].
    Shape,
}

fn name(cmd: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&cmd[0]).to_ascii_lowercase()
}

fn check_for(cmd: &[Vec<u8>]) -> Check {
    let sub = cmd
        .get(1)
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase());
    match name(cmd).as_str() {
        "ttl" | "expiretime" => Check::Time { tolerance: 2 },
        "pttl" | "pexpiretime" => Check::Time { tolerance: 2000 },
        // A hash's order is its listpack's (deterministic) or its table's; the random
        // sequence does not know which, [`Step::Readback`] compares listpacks exactly.
        "keys" | "hkeys" | "hvals" | "smembers" | "sunion" | "sinter" | "sdiff" => Check::Unordered,
        "hgetall" => Check::UnorderedPairs,
        "randomkey" => Check::Kind,
        "object" if sub.as_deref() == Some("idletime") => Check::Kind,
        _ => Check::Exact,
    }
}

/// Where the scores in a reply come from (see [`score_difference`]).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scores {
    /// No scores: compared as they are.
    None,
    /// Double replies (addReplyDouble) and a listpack zset's stored score texts: 7.0 and
    /// 7.2 print them differently.
    Replies,
    /// A skiplist zset's ZSCAN: "%.17Lg" in 7.0 and 7.2 alike (db.c scanCallback).
    SkiplistScan,
}

/// The sorted set commands' replies may hold scores.
fn has_scores(cmd: &[Vec<u8>]) -> Scores {
    if cmd[0]
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case(&b'z'))
    {
        Scores::Replies
    } else {
        Scores::None
    }
}

/// Open Shardis bugs, kept out of this comparison so that it keeps guarding everything
/// else. `None`: compare.
fn known_bug(cmd: &[Vec<u8>], redis: &[u8], shardis: &[u8]) -> Option<&'static str> {
    let sub = |s: &str| {
        cmd.get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
    };
    // ZSCAN parses its options first; Redis (t_zset.c zscanCommand, 7.0 and 7.2 alike)
    // parses the cursor, looks the key up (a missing key's empty scan, WRONGTYPE), and only
    // then the options (db.c scanGenericCommand).
    if name(cmd) == "zscan"
        && shardis.starts_with(b"-ERR")
        && (redis == b"*2\r\n$1\r\n0\r\n*0\r\n" || redis.starts_with(b"-WRONGTYPE"))
    {
        return Some(
            "bug: ZSCAN parses its options before looking the key up (a missing key's \
             empty scan, WRONGTYPE come first in Redis)",
        );
    }
    if name(cmd) == "object"
        && sub("refcount")
        && redis == b":1\r\n"
        && shardis == b":2147483647\r\n"
    {
        return Some(
            "bug: OBJECT REFCOUNT of a COPY of a small integer: Redis' copy is a private \
             object (keys.rs object_refcount_of_a_copied_small_integer_is_one)",
        );
    }
    None
}

/// Known, deliberate differences between the reference (Redis 7.0.15) and Redis 7.2, which
/// Shardis follows. `None`: compare.
fn known_difference(cmd: &[Vec<u8>], redis: &Val, _shardis: &Val) -> Option<&'static str> {
    let n = name(cmd);
    // ZRANK / ZREVRANK WITHSCORE is new in 7.2 (arity -3); 7.0's arity is 3.
    if (n == "zrank" || n == "zrevrank")
        && cmd.len() > 3
        && *redis
            == Val::Line(
                b'-',
                format!("ERR wrong number of arguments for '{n}' command").into(),
            )
    {
        return Some("7.2: ZRANK / ZREVRANK take WITHSCORE (7.0: wrong number of arguments)");
    }
    None
}

/// How one comparison came out.
enum Verdict {
    Same,
    /// A known 7.0/7.2 difference or a known Shardis bug: not compared.
    Known(&'static str),
    /// A difference, described.
    Differ(String),
}

const SCORE_FORMAT_72: &str = "7.2: scores printed by d2string (integers as such, else \
     fpconv's shortest digits), 7.0 by %.17g (networking.c addReplyDouble)";
const SCORE_FORMAT_BUG: &str = "bug: scores printed with %g's layout (1e+17, 1e-07, \
     -32372.624892582684), not 7.2's d2string (100000000000000000, 1e-7, \
     -3.2372624892582684e+4)";
const ZSCAN_SKIPLIST_BUG: &str = "bug: ZSCAN of a skiplist prints scores with the shortest \
     digits (1913311735.846659), Redis 7.0 and 7.2 with %.17Lg (1913311735.8466589)";

/// The elements of an aggregate as items of one element, or of two (`pairs`: flat field /
/// value arrays and maps), sorted; `None` for other replies.
fn sorted_items(v: &Val, pairs: bool) -> Option<(u8, Vec<Vec<Val>>)> {
    let Val::Agg(t, xs) = v else { return None };
    let mut items: Vec<Vec<Val>> = if pairs {
        xs.chunks(2).map(<[Val]>::to_vec).collect()
    } else {
        xs.iter().map(|x| vec![x.clone()]).collect()
    };
    items.sort();
    Some((*t, items))
}

fn same_shape(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Agg(x, xs), Val::Agg(y, ys)) => {
            x == y && xs.len() == ys.len() && xs.iter().zip(ys).all(|(a, b)| same_shape(a, b))
        }
        (Val::Blob(x, _), Val::Blob(y, _)) => x == y,
        // Errors and nulls exactly, other one-line replies by type.
        (Val::Line(x, p), Val::Line(y, q)) => {
            x == y && (!matches!(x, b'-' | b'_' | b'$' | b'*') || p == q)
        }
        _ => false,
    }
}

/// Compares two replies under `check`; `scores`: where the scores in them come from (see
/// [`score_difference`]).
fn compare(
    check: Check,
    scores: Scores,
    redis: &(Vec<u8>, Val),
    shardis: &(Vec<u8>, Val),
) -> Verdict {
    let same = match check {
        Check::Exact => redis.0 == shardis.0,
        Check::Kind => {
            redis.1.kind() == shardis.1.kind() && redis.1.is_null() == shardis.1.is_null()
        }
        Check::Shape => same_shape(&redis.1, &shardis.1),
        Check::Unordered | Check::UnorderedPairs => {
            let pairs = check == Check::UnorderedPairs;
            match (
                sorted_items(&redis.1, pairs),
                sorted_items(&shardis.1, pairs),
            ) {
                (Some(a), Some(b)) => a == b,
                _ => redis.0 == shardis.0,
            }
        }
        Check::Time { tolerance } => match (redis.1.int(), shardis.1.int()) {
            (Some(a), Some(b)) if a >= 0 && b >= 0 => (a - b).abs() <= tolerance,
            _ => redis.0 == shardis.0,
        },
    };
    if scores != Scores::None && check == Check::Exact {
        if let Some(verdict) = score_difference(&redis.1, &shardis.1, scores) {
            return verdict;
        }
    } else if same {
        return Verdict::Same;
    }
    Verdict::Differ(format!(
        "redis:   {}\n    shardis: {}",
        show(&redis.0),
        show(&shardis.0)
    ))
}

// ---------------------------------------------------------------------------------------------
// Scores: Redis 7.0 prints a double reply with "%.17g"; 7.2 with d2string: an integer in
// ±2^62 as an integer, anything else with fpconv_dtoa's shortest round-trip digits and its
// own layout (networking.c addReplyDouble, util.c d2string, deps/fpconv/fpconv_dtoa.c). So
// the same score reads "0.10000000000000001" in 7.0 and "0.1" in 7.2.

/// Compares a reply that may hold scores: `Some(Same)` when equal and every RESP3 double in
/// it is in 7.2's format, `Some(Known)` when the only differences are scores of equal value
/// (7.0 and 7.2's formats, or a known Shardis format bug), `None` for any other difference.
fn score_difference(redis: &Val, shardis: &Val, scores: Scores) -> Option<Verdict> {
    fn walk(r: &Val, s: &Val, scan: bool, note: &mut Option<&'static str>) -> bool {
        let mut known = |why: &'static str| {
            if note.is_none() || why != SCORE_FORMAT_72 {
                *note = Some(why);
            }
        };
        match (r, s) {
            (Val::Agg(a, x), Val::Agg(b, y)) => {
                a == b && x.len() == y.len() && x.iter().zip(y).all(|(x, y)| walk(x, y, scan, note))
            }
            // A RESP3 double equal to 7.0's can still be unlike 7.2's (1e+17).
            (Val::Line(b',', x), Val::Line(b',', y)) if x == y => {
                let Some(v) = parse_double(y) else {
                    return true;
                };
                if *y != d2string_72(v).into_bytes() {
                    known(SCORE_FORMAT_BUG);
                }
                true
            }
            _ if r == s => true,
            (Val::Blob(b'$', x), Val::Blob(b'$', y)) | (Val::Line(b',', x), Val::Line(b',', y)) => {
                let Some(v) = parse_double(x) else {
                    return false;
                };
                let x_is_70 = *x == g17(v).into_bytes() || *x == d2string_72(v).into_bytes();
                if scan {
                    let bug = *x == g17(v).into_bytes() && *y == shardis_double(v).into_bytes();
                    if bug {
                        known(ZSCAN_SKIPLIST_BUG);
                    }
                    bug
                } else if x_is_70 && *y == d2string_72(v).into_bytes() {
                    known(SCORE_FORMAT_72);
                    true
                } else if x_is_70 && *y == shardis_double(v).into_bytes() {
                    known(SCORE_FORMAT_BUG);
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }
    let mut note = None;
    if !walk(redis, shardis, scores == Scores::SkiplistScan, &mut note) {
        return None;
    }
    Some(note.map_or(Verdict::Same, Verdict::Known))
}

fn parse_double(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// C's `%.17g`.
fn g17(v: f64) -> String {
    if !v.is_finite() {
        return d2string_72(v);
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:.16e}");
    let (mant, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').into()
        } else {
            s.into()
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        trim(&format!("{v:.*}", (16 - exp) as usize))
    }
}

/// Redis 7.2's util.c d2string: integers in ±LLONG_MAX/2 as integers, else fpconv_dtoa.
fn d2string_72(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let lim = (i64::MAX / 2) as f64;
    if (-lim..=lim).contains(&v) && v.trunc() == v {
        return (v as i64).to_string();
    }
    // The shortest round-trip digits, as grisu2 finds them, laid out by emit_digits.
    let sci = format!("{:e}", v.abs());
    let (mant, exp) = sci.split_once('e').unwrap();
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let nd = digits.len() as i32;
    let k = exp.parse::<i32>().unwrap() - (nd - 1);
    let exp = (k + nd - 1).abs();
    let mut out = String::from(if v < 0.0 { "-" } else { "" });
    if k >= 0 && exp < nd + 7 {
        out += &digits;
        out += &"0".repeat(k as usize);
    } else if k < 0 && (k > -7 || exp < 4) {
        let offset = nd + k;
        if offset <= 0 {
            out += "0.";
            out += &"0".repeat((-offset) as usize);
            out += &digits;
        } else {
            out += &digits[..offset as usize];
            out.push('.');
            out += &digits[offset as usize..];
        }
    } else {
        out += &digits[..1];
        if nd > 1 {
            out.push('.');
            out += &digits[1..];
        }
        out.push('e');
        out.push(if k + nd - 1 < 0 { '-' } else { '+' });
        out += &exp.to_string();
    }
    out
}

/// Shardis' current score format (the known bug above): `%g`'s layout and exponent
/// padding, with the shortest round-trip digits.
fn shardis_double(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return d2string_72(v);
    }
    if !(1e-5..1e17).contains(&v.abs()) {
        let sci = format!("{v:e}");
        let (mant, exp) = sci.split_once('e').unwrap();
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mant}e{sign}{digits:0>2}");
    }
    format!("{v}")
}

/// A reply's bytes again (for compared values built from several replies).
fn encode(v: &Val, out: &mut Vec<u8>) {
    match v {
        Val::Line(t, s) => {
            out.push(*t);
            out.extend_from_slice(s);
            out.extend_from_slice(b"\r\n");
        }
        Val::Blob(t, s) => {
            out.extend_from_slice(format!("{}{}\r\n", *t as char, s.len()).as_bytes());
            out.extend_from_slice(s);
            out.extend_from_slice(b"\r\n");
        }
        Val::Agg(t, xs) => {
            let n = if matches!(t, b'%' | b'|') {
                xs.len() / 2
            } else {
                xs.len()
            };
            out.extend_from_slice(format!("{}{n}\r\n", *t as char).as_bytes());
            for x in xs {
                encode(x, out);
            }
        }
    }
}

fn encoded(v: Val) -> (Vec<u8>, Val) {
    let mut raw = Vec::new();
    encode(&v, &mut raw);
    (raw, v)
}

// ---------------------------------------------------------------------------------------------
// The two servers side by side

enum Step {
    /// One command to both servers.
    Cmd(Vec<Vec<u8>>),
    /// A full SCAN walk with these options on both; the sets of keys must be equal.
    ScanWalk(Vec<Vec<u8>>),
    /// Wait (for expiries), after the pending commands were answered.
    Sleep(Duration),
    /// This command (which touches keys), then DBSIZE.
    Counted(Vec<Vec<u8>>),
    /// A random pick from a collection (HRANDFIELD, ZRANDMEMBER, SRANDMEMBER): the same
    /// shape as Redis' reply; then `all` (the collection, compared too) must hold every
    /// element Shardis picked, without repeats unless the count is negative, and all of them
    /// when the count covers the collection. `pairs`: `all` answers pairs (HGETALL, ZRANGE
    /// WITHSCORES).
    Sample {
        cmd: Vec<Vec<u8>>,
        all: Vec<Vec<u8>>,
        pairs: bool,
    },
    /// A full HSCAN / ZSCAN / SSCAN walk (`cmd` is the name and the key) with these options:
    /// the sets of elements must be equal, and a compact encoding's single reply exactly.
    CollScan {
        cmd: Vec<Vec<u8>>,
        opts: Vec<Vec<u8>>,
    },
    /// TYPE and OBJECT ENCODING of a key (lists and sets have 7.2-only encodings).
    Encoding(Vec<u8>),
    /// Every key of the pool read back by its type: the states must be equal.
    Readback,
    /// A lex-range command (ZRANGEBYLEX, ZLEXCOUNT...). Redis defines lex ranges only over
    /// members of one score; over different scores its answer follows the encoding's layout
    /// (a skiplist's random levels, t_zset.c zslFirstInLexRange). So it is sent only when
    /// its source key is not a sorted set of several scores.
    Lex(Vec<Vec<u8>>),
}

/// The encoding thresholds both servers run with (Shardis' set-max-listpack-* are 7.2-only,
/// used to check its answers where 7.0 has no listpack sets).
#[derive(Clone, Copy)]
struct Limits {
    set_max_intset_entries: usize,
    set_max_listpack_entries: usize,
    set_max_listpack_value: usize,
    list_max_listpack_size: i64,
}

const DEFAULT_LIMITS: Limits = Limits {
    set_max_intset_entries: 512,
    set_max_listpack_entries: 128,
    set_max_listpack_value: 64,
    list_max_listpack_size: -2,
};

struct Pair {
    redis: Conn,
    shardis: Conn,
    limits: Limits,
    /// Commands sent but not answered yet (one pipelined batch).
    pending: Vec<Vec<Vec<u8>>>,
    /// The last commands, for context in reports.
    history: Vec<String>,
    mismatches: Vec<String>,
    compared: usize,
    /// Replies not compared, by reason (a known 7.0/7.2 difference or a known bug): count
    /// and the first case.
    known: BTreeMap<&'static str, (usize, String)>,
    /// Whether the keyspaces were dumped (with the first mismatch).
    dumped: bool,
    /// Replies by command and outcome (`DIFF_STATS=1` prints them): how much of the
    /// sequence reaches past the errors.
    stats: BTreeMap<(String, &'static str), usize>,
}

const BATCH: usize = 16;

/// The command that reads a key of this type back whole.
fn read_cmd(ty: &[u8], key: &[u8]) -> Option<Vec<Vec<u8>>> {
    let parts: &[&[u8]] = match ty {
        b"string" => &[b"GET", key],
        b"hash" => &[b"HGETALL", key],
        b"zset" => &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"],
        b"list" => &[b"LRANGE", key, b"0", b"-1"],
        b"set" => &[b"SMEMBERS", key],
        _ => return None,
    };
    Some(parts.iter().map(arg).collect())
}

/// The items of a random pick or of a whole collection: elements, or (field, value) pairs
/// when `pairs` (flat in RESP2 and in maps, nested arrays in RESP3 arrays). `None` for an
/// error or a null.
fn pick_items(v: &Val, pairs: bool) -> Option<Vec<Vec<Val>>> {
    match v {
        Val::Blob(..) => Some(vec![vec![v.clone()]]),
        Val::Agg(_, xs) if pairs => {
            if xs.first().is_some_and(|x| matches!(x, Val::Agg(..))) {
                xs.iter()
                    .map(|x| match x {
                        Val::Agg(_, p) if p.len() == 2 => Some(p.clone()),
                        _ => None,
                    })
                    .collect()
            } else if xs.len() % 2 == 0 {
                Some(xs.chunks(2).map(<[Val]>::to_vec).collect())
            } else {
                None
            }
        }
        Val::Agg(_, xs) => Some(xs.iter().map(|x| vec![x.clone()]).collect()),
        Val::Line(..) => None,
    }
}

/// A full xSCAN walk of one server: the first reply, and the elements (pairs for HSCAN /
/// ZSCAN) of every page, or the reply that was not a scan page.
fn coll_walk(c: &mut Conn, cmd: &[Vec<u8>], opts: &[Vec<u8>], pairs: bool) -> CollWalk {
    let mut cursor = b"0".to_vec();
    let mut first = None;
    let mut items = BTreeSet::new();
    for _ in 0..100_000 {
        let mut full: Vec<&[u8]> = cmd.iter().map(|a| &a[..]).collect();
        full.push(&cursor);
        full.extend(opts.iter().map(|o| &o[..]));
        let reply = c.call(&full);
        let page = match &reply.1 {
            Val::Agg(_, parts) => match &parts[..] {
                [Val::Blob(_, next), found @ Val::Agg(..)] => {
                    pick_items(found, pairs).map(|found| (next.clone(), found))
                }
                _ => None,
            },
            _ => None,
        };
        let raw = reply.0.clone();
        first.get_or_insert(reply);
        let Some((next, found)) = page else {
            return CollWalk {
                first: first.unwrap(),
                items: Err(show(&raw)),
            };
        };
        items.extend(found);
        if next == b"0" {
            return CollWalk {
                first: first.unwrap(),
                items: Ok(items),
            };
        }
        cursor = next;
    }
    CollWalk {
        first: first.unwrap(),
        items: Err("the walk never ended".into()),
    }
}

struct CollWalk {
    first: (Vec<u8>, Val),
    items: Result<BTreeSet<Vec<Val>>, String>,
}

impl Pair {
    fn new(redis_port: u16, shardis_port: u16, limits: Limits) -> Pair {
        Pair {
            redis: Conn::open(redis_port),
            shardis: Conn::open(shardis_port),
            limits,
            pending: Vec::new(),
            history: Vec::new(),
            mismatches: Vec::new(),
            compared: 0,
            known: BTreeMap::new(),
            dumped: false,
            stats: BTreeMap::new(),
        }
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Cmd(cmd) => {
                self.pending.push(cmd);
                if self.pending.len() >= BATCH {
                    self.flush();
                }
            }
            Step::ScanWalk(opts) => {
                self.flush();
                self.scan_walk(&opts);
            }
            Step::Sleep(d) => {
                self.flush();
                std::thread::sleep(d);
            }
            Step::Counted(cmd) => {
                self.step(Step::Cmd(cmd));
                self.step(Step::Cmd(vec![arg("DBSIZE")]));
            }
            Step::Sample { cmd, all, pairs } => self.sample(&cmd, &all, pairs),
            Step::CollScan { cmd, opts } => self.coll_scan(&cmd, &opts),
            Step::Encoding(key) => self.encoding(&key),
            Step::Readback => self.readback(),
            Step::Lex(cmd) => self.lex(cmd),
        }
        self.dump_once();
    }

    /// Sends the pending batch to both servers (pipelined) and compares the replies.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        self.redis.send(&batch);
        self.shardis.send(&batch);
        for cmd in &batch {
            let (r, s) = (self.redis.recv(), self.shardis.recv());
            self.record(cmd, &r, &s);
        }
    }

    /// Both servers' keys (of the current database) with their types, values and TTLs, to
    /// go with the first mismatch: replies may agree for a while after the states diverged.
    fn dump_keyspaces(&mut self) -> String {
        let dump = |c: &mut Conn| {
            let (_, v) = c.call(&[b"KEYS", b"*"]);
            let mut keys = match v {
                Val::Agg(_, keys) => keys,
                other => vec![other],
            };
            keys.sort();
            let mut out = Vec::new();
            for k in keys {
                let Val::Blob(_, k) = k else { continue };
                let (_, ty) = c.call(&[b"TYPE", &k]);
                let Val::Line(_, ty) = ty else { continue };
                let (v, _) = match read_cmd(&ty, &k) {
                    Some(cmd) => c.call(&cmd.iter().map(|a| &a[..]).collect::<Vec<_>>()),
                    None => (Vec::new(), Val::Line(b'+', Vec::new())),
                };
                let (e, _) = c.call(&[b"OBJECT", b"ENCODING", &k]);
                let (t, _) = c.call(&[b"PTTL", &k]);
                out.push(format!(
                    "{} = {} {} (encoding {}, pttl {})",
                    show(&k),
                    show(&ty),
                    show(&v),
                    show(&e),
                    show(&t)
                ));
            }
            out.join("\n      ")
        };
        let (r, s) = (dump(&mut self.redis), dump(&mut self.shardis));
        format!("\n    redis keys:\n      {r}\n    shardis keys:\n      {s}")
    }

    fn record(&mut self, cmd: &[Vec<u8>], r: &(Vec<u8>, Val), s: &(Vec<u8>, Val)) {
        self.record_as(cmd, check_for(cmd), has_scores(cmd), r, s);
    }

    /// Compares two replies to `cmd` under `check` (`scores`: see [`compare`]).
    fn record_as(
        &mut self,
        cmd: &[Vec<u8>],
        check: Check,
        scores: Scores,
        r: &(Vec<u8>, Val),
        s: &(Vec<u8>, Val),
    ) {
        let verdict = match known_bug(cmd, &r.0, &s.0).or_else(|| known_difference(cmd, &r.1, &s.1))
        {
            Some(why) => Verdict::Known(why),
            None => compare(check, scores, r, s),
        };
        let outcome = match &r.1 {
            Val::Line(b'-', e) if e.starts_with(b"WRONGTYPE") => "wrongtype",
            Val::Line(b'-', _) => "error",
            v if v.is_null() => "null",
            Val::Agg(_, xs) if xs.is_empty() => "empty",
            _ => "ok",
        };
        *self.stats.entry((name(cmd), outcome)).or_default() += 1;
        match verdict {
            Verdict::Same => self.compared += 1,
            Verdict::Known(why) => self.note_known(why, cmd, r, s),
            Verdict::Differ(diff) => {
                self.compared += 1;
                self.fail(format!("{}\n    {diff}", show_cmd(cmd)));
            }
        }
        self.history.push(show_cmd(cmd));
    }

    fn note_known(
        &mut self,
        why: &'static str,
        cmd: &[Vec<u8>],
        r: &(Vec<u8>, Val),
        s: &(Vec<u8>, Val),
    ) {
        let first = || {
            format!(
                "{}\n      redis:   {}\n      shardis: {}",
                show_cmd(cmd),
                show(&r.0),
                show(&s.0)
            )
        };
        self.known.entry(why).or_insert_with(|| (0, first())).0 += 1;
    }

    /// Records a mismatch with the commands before it (and both keyspaces, for the first).
    fn fail(&mut self, what: String) {
        let n = env_or("DIFF_HISTORY", 6) as usize;
        let context = self.history[self.history.len().saturating_sub(n)..].join("\n      ");
        self.mismatches
            .push(format!("{what}\n    after:\n      {context}"));
    }

    /// Appends both keyspaces to the first mismatch, once no reply is pending.
    fn dump_once(&mut self) {
        if !self.dumped && !self.mismatches.is_empty() && self.pending.is_empty() {
            self.dumped = true;
            let dump = self.dump_keyspaces();
            self.mismatches[0].push_str(&dump);
        }
    }

    /// Both servers' replies to `cmd` now (outside the pipeline), not compared.
    fn both(&mut self, cmd: &[Vec<u8>]) -> ((Vec<u8>, Val), (Vec<u8>, Val)) {
        self.flush();
        let refs: Vec<&[u8]> = cmd.iter().map(|a| &a[..]).collect();
        (self.redis.call(&refs), self.shardis.call(&refs))
    }

    /// Both servers answer one command now (outside the pipeline), compared under its check.
    fn call(&mut self, cmd: &[&[u8]]) -> (Val, Val) {
        let cmd: Vec<Vec<u8>> = cmd.iter().map(arg).collect();
        self.call_as(&cmd, check_for(&cmd), has_scores(&cmd))
    }

    fn call_as(&mut self, cmd: &[Vec<u8>], check: Check, scores: Scores) -> (Val, Val) {
        let (r, s) = self.both(cmd);
        self.record_as(cmd, check, scores, &r, &s);
        self.dump_once();
        (r.1, s.1)
    }

    /// OBJECT ENCODING on both, not compared.
    fn encodings(&mut self, key: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (r, s) = self.both(&[arg("OBJECT"), arg("ENCODING"), key.to_vec()]);
        let text = |v: Val| match v {
            Val::Blob(_, t) => t,
            _ => Vec::new(),
        };
        (text(r.1), text(s.1))
    }

    fn sample(&mut self, cmd: &[Vec<u8>], all: &[Vec<u8>], pairs: bool) {
        let (r, s) = self.both(cmd);
        self.record_as(cmd, Check::Shape, Scores::None, &r, &s);
        let (_, universe) = self.call(&all.iter().map(|a| &a[..]).collect::<Vec<_>>());
        let with_values = cmd.len() > 3;
        let (Some(picks), Some(universe)) =
            (pick_items(&s.1, with_values), pick_items(&universe, pairs))
        else {
            return;
        };
        let keys: BTreeSet<&Val> = universe.iter().map(|i| &i[0]).collect();
        let universe: BTreeSet<&Vec<Val>> = universe.iter().collect();
        let count = cmd
            .get(2)
            .and_then(|c| std::str::from_utf8(c).ok()?.parse::<i64>().ok());
        let mut problems = Vec::new();
        if let Some(p) = picks
            .iter()
            .find(|p| !(universe.contains(p) || p.len() == 1 && keys.contains(&p[0])))
        {
            problems.push(format!("{p:?} is not in the collection"));
        }
        let picked: BTreeSet<&Val> = picks.iter().map(|p| &p[0]).collect();
        if !matches!(count, Some(n) if n < 0) && picked.len() != picks.len() {
            problems.push("repeated elements".into());
        }
        if count.is_some_and(|n| n > 0 && n as usize >= keys.len()) && picked != keys {
            problems.push("not the whole collection".into());
        }
        if !problems.is_empty() {
            self.fail(format!(
                "{}: {}\n    shardis: {}",
                show_cmd(cmd),
                problems.join(", "),
                show(&s.0)
            ));
        }
    }

    fn coll_scan(&mut self, cmd: &[Vec<u8>], opts: &[Vec<u8>]) {
        self.flush();
        let sscan = cmd[0].eq_ignore_ascii_case(b"sscan");
        let (er, es) = self.encodings(&cmd[1]);
        // A listpack (hash, zset) or intset answers in one reply, in its own order: exact.
        let compact = er == es && (er == b"intset" || !sscan && er == b"listpack");
        // A listpack zset's scores are the texts it stored (7.0: %.17g, 7.2: d2string); a
        // skiplist's are printed by "%.17Lg" in both (db.c scanCallback).
        let scores = match has_scores(cmd) {
            Scores::Replies if er == b"skiplist" => Scores::SkiplistScan,
            scores => scores,
        };
        let r = coll_walk(&mut self.redis, cmd, opts, !sscan);
        let s = coll_walk(&mut self.shardis, cmd, opts, !sscan);
        let mut shown = cmd.to_vec();
        shown.push(arg("0"));
        shown.extend(opts.iter().cloned());
        match (r.items, s.items) {
            (Ok(ri), Ok(si)) => {
                let flat = |items: BTreeSet<Vec<Val>>| {
                    encoded(Val::Agg(b'*', items.into_iter().flatten().collect()))
                };
                shown[0] = [b"walk ", &cmd[0][..]].concat();
                self.record_as(&shown, Check::Exact, scores, &flat(ri), &flat(si));
                if compact {
                    shown[0] = cmd[0].clone();
                    self.record_as(&shown, Check::Exact, scores, &r.first, &s.first);
                }
            }
            (ri, si) => {
                // An error (WRONGTYPE, a bad option): the first replies must be the same.
                self.record_as(&shown, Check::Exact, Scores::None, &r.first, &s.first);
                if ri.is_ok() != si.is_ok() || r.first.0 == s.first.0 && ri.err() != si.err() {
                    self.fail(format!("{}: one walk failed", show_cmd(&shown)));
                }
            }
        }
    }

    fn encoding(&mut self, key: &[u8]) {
        let (ty, _) = self.call(&[b"TYPE", key]);
        let cmd = vec![arg("OBJECT"), arg("ENCODING"), key.to_vec()];
        let (r, s) = self.both(&cmd);
        let ty = match ty {
            Val::Line(b'+', t) => t,
            _ => Vec::new(),
        };
        if r.0 == s.0 || (ty != b"set" && ty != b"list") {
            self.record(&cmd, &r, &s);
            return;
        }
        let Val::Blob(_, enc) = &s.1 else {
            self.record(&cmd, &r, &s);
            return;
        };
        match self.check_72_encoding(&ty, key, enc) {
            Ok(why) => {
                self.note_known(why, &cmd, &r, &s);
                self.history.push(show_cmd(&cmd));
            }
            Err(problem) => {
                self.compared += 1;
                self.fail(format!(
                    "{}: {problem}\n    redis:   {}\n    shardis: {}",
                    show_cmd(&cmd),
                    show(&r.0),
                    show(&s.0)
                ));
                self.history.push(show_cmd(&cmd));
            }
        }
    }

    /// Whether Shardis' encoding of a list or set, unlike Redis 7.0's, is one 7.2 may have.
    fn check_72_encoding(
        &mut self,
        ty: &[u8],
        key: &[u8],
        enc: &[u8],
    ) -> Result<&'static str, String> {
        let l = self.limits;
        if ty == b"list" {
            // 7.2 keeps a list that fits one node as a plain listpack (t_list.c
            // listTypeTryConversion); 7.0 always has a quicklist.
            let (_, len) = self.both(&[arg("LLEN"), key.to_vec()]);
            let len = len.1.int().unwrap_or(-1);
            let fits = l.list_max_listpack_size < 0 || len <= l.list_max_listpack_size;
            return match enc {
                b"listpack" if fits => Ok("7.2: small lists are listpacks (7.0: quicklist)"),
                _ => Err(format!("not a 7.2 encoding for a list of {len}")),
            };
        }
        // 7.2 has listpack sets (t_set.c setTypeAdd / setTypeCreate); 7.0 goes from intset
        // to hashtable.
        let (_, members) = self.both(&[arg("SMEMBERS"), key.to_vec()]);
        let members = pick_items(&members.1, false).unwrap_or_default();
        let n = members.len();
        let is_int = |m: &Vec<Val>| match &m[0] {
            Val::Blob(_, b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .is_some_and(|i| i.to_string().as_bytes() == &b[..]),
            _ => false,
        };
        let small =
            |m: &Vec<Val>| matches!(&m[0], Val::Blob(_, b) if b.len() <= l.set_max_listpack_value);
        match enc {
            b"listpack" if n <= l.set_max_listpack_entries && members.iter().all(small) => {
                Ok("7.2: small sets of strings are listpacks (7.0: hashtable)")
            }
            b"intset" if n <= l.set_max_intset_entries && members.iter().all(is_int) => {
                Ok("7.2: a set's encoding may follow a size hint (t_set.c setTypeCreate)")
            }
            _ => Err(format!("not a 7.2 encoding for a set of {n}")),
        }
    }

    fn lex(&mut self, cmd: Vec<Vec<u8>>) {
        let src = &cmd[if name(&cmd) == "zrangestore" { 2 } else { 1 }];
        let (r, _) = self.both(&[
            arg("ZRANGE"),
            src.clone(),
            arg("0"),
            arg("-1"),
            arg("WITHSCORES"),
        ]);
        let scores: BTreeSet<Val> = pick_items(&r.1, true)
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| item.pop().unwrap())
            .collect();
        if scores.len() > 1 {
            let why = "undefined: a lex range over members of different scores (not sent)";
            self.known
                .entry(why)
                .or_insert_with(|| (0, show_cmd(&cmd)))
                .0 += 1;
            return;
        }
        self.step(Step::Cmd(cmd));
    }

    fn readback(&mut self) {
        for k in KEYS {
            let (r, s) = self.call(&[b"TYPE", k]);
            let Val::Line(_, ty) = r else { continue };
            if Val::Line(b'+', ty.clone()) != s {
                continue;
            }
            let Some(cmd) = read_cmd(&ty, k) else {
                continue;
            };
            let check = match &ty[..] {
                b"hash" | b"set" => {
                    let (er, es) = self.encodings(k);
                    let pairs = ty == b"hash";
                    if er == es && (er == b"intset" || pairs && er == b"listpack") {
                        Check::Exact
                    } else if pairs {
                        Check::UnorderedPairs
                    } else {
                        Check::Unordered
                    }
                }
                _ => Check::Exact,
            };
            self.call_as(&cmd, check, has_scores(&cmd));
        }
    }

    fn scan_walk(&mut self, opts: &[Vec<u8>]) {
        let walk = |c: &mut Conn| -> Result<BTreeSet<Vec<u8>>, String> {
            let mut cursor = b"0".to_vec();
            let mut keys = BTreeSet::new();
            for _ in 0..100_000 {
                let mut cmd: Vec<&[u8]> = vec![b"SCAN", &cursor];
                cmd.extend(opts.iter().map(|o| &o[..]));
                let (raw, v) = c.call(&cmd);
                let Val::Agg(_, parts) = v else {
                    return Err(show(&raw));
                };
                let [Val::Blob(_, next), Val::Agg(_, found)] = &parts[..] else {
                    return Err(show(&raw));
                };
                for k in found {
                    let Val::Blob(_, k) = k else {
                        return Err(show(&raw));
                    };
                    keys.insert(k.clone());
                }
                if next == b"0" {
                    return Ok(keys);
                }
                cursor = next.clone();
            }
            Err("the walk never ended".into())
        };
        let (r, s) = (walk(&mut self.redis), walk(&mut self.shardis));
        let shown = format!("SCAN walk {}", show_cmd(opts));
        let type_none = opts
            .windows(2)
            .any(|w| w[0].eq_ignore_ascii_case(b"type") && w[1].eq_ignore_ascii_case(b"none"));
        if type_none {
            // The known 7.0/7.2 difference (see the module docs): Redis 7.0 returns stale
            // expired keys for `TYPE none`, 7.2 (and Shardis) nothing at all.
            let found = s.as_ref().map(|set| set.len()).unwrap_or(usize::MAX);
            if found != 0 {
                self.fail(format!("{shown}\n    shardis should find nothing: {s:?}"));
            }
            let why = "7.2: SCAN TYPE none finds nothing (7.0: stale expired keys)";
            self.known
                .entry(why)
                .or_insert_with(|| (0, shown.clone()))
                .0 += 1;
            self.history.push(shown);
            return;
        }
        self.compared += 1;
        if r != s {
            let fmt = |x: &Result<BTreeSet<Vec<u8>>, String>| match x {
                Ok(set) => set.iter().map(|k| show(k)).collect::<Vec<_>>().join(", "),
                Err(e) => format!("error: {e}"),
            };
            self.fail(format!(
                "{shown}\n    redis:   {}\n    shardis: {}",
                fmt(&r),
                fmt(&s)
            ));
        }
        self.history.push(shown);
    }

    fn finish(mut self, what: &str) {
        self.flush();
        self.dump_once();
        eprintln!("{what}: {} replies compared", self.compared);
        if env_or("DIFF_STATS", 0) == 1 {
            for ((cmd, outcome), n) in &self.stats {
                eprintln!("  {cmd:>20} {outcome:>9} {n}");
            }
        }
        for (why, (n, first)) in &self.known {
            eprintln!("  not compared: {n} x {why}\n    first: {first}");
        }
        if !self.mismatches.is_empty() {
            let n = self.mismatches.len();
            self.mismatches.truncate(25);
            panic!(
                "{what}: {n} replies differ from Redis (first {}):\n\n{}",
                self.mismatches.len(),
                self.mismatches.join("\n\n")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command sequence

/// SplitMix64: a fixed seed gives the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// The keys the sequence works on: some on each shard of two, a `{t}` group that shares a
/// shard, a binary key and the empty key. The first [`STRING_KEYS`] are the strings' (and
/// the keyspace commands'), then come the other families' own keys (on both shards too):
/// each family mostly works on its own keys, so that its collections live long enough to
/// grow, and sometimes on any key (WRONGTYPE, RENAME or COPY of a collection...).
const KEYS: &[&[u8]] = &[
    b"a",
    b"b",
    b"c",
    b"d",
    b"{t}x",
    b"{t}y",
    b"{t}z",
    b"n1",
    b"n2",
    b"bin\x00\r\n\xff",
    b"",
    b"h1",
    b"h2",
    b"{t}h",
    b"z1",
    b"z2",
    b"z3",
    b"z4",
    b"{t}w",
    b"p1",
    b"p2",
];

const STRING_KEYS: usize = 11;

const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "-7",
    "10",
    "100",
    "-100",
    "9999",
    "10000",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "x",
    "1.5",
    "",
    " 3",
    "3 ",
    "+3",
    "0x10",
    "007",
    "-0",
];

const FLOATS: &[&str] = &[
    "1.5",
    "-0.0",
    "3e2",
    "0.1",
    "-0.1",
    "1e308",
    "-1e308",
    "1e-10",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "1.",
    ".5",
    " 2.5",
    "2.5 ",
    "0x10",
    "1e-400",
    "5.0e3",
    "3.0000000000000001",
    "1.7976931348623157e308",
    "123456789012345678901234567890",
    "abc",
    "",
];

const PATTERNS: &[&str] = &[
    "*", "?", "a*", "*x", "{t}*", "\\{t\\}*", "[a-c]", "[c-a]", "[^a]*", "[!a]*", "n[12]", "n[^1]",
    "bin*", "*\\*", "[", "[a-", "a\\", "\\", "*?*", "", "??", "*[xy]", "[\\]]", "{*", "*}?",
    "b\\in*",
];

fn arg(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

/// Any key of the pool.
fn key(rng: &mut Rng) -> Vec<u8> {
    arg(rng.pick(KEYS))
}

/// A key for the string and keyspace commands: mostly one of the strings'.
fn skey(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(85) {
        arg(rng.pick(&KEYS[..STRING_KEYS]))
    } else {
        key(rng)
    }
}

fn value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(12) {
        0 | 1 => arg(rng.pick(INTS)),
        2 => arg(rng.pick(FLOATS)),
        3 if rng.chance(50) => float(rng),
        3 => Vec::new(),
        4 => (0..rng.below(8))
            .map(|_| *rng.pick(&[&0u8, &b'\r', &b'\n', &0xffu8, &b'a', &0x80u8]))
            .collect(),
        5 => vec![b'x'; 43 + rng.below(4) as usize],
        6 => (0..46 + rng.below(40))
            .map(|_| b'a' + rng.below(26) as u8)
            .collect(),
        7 => rng.range(-20000, 20000).to_string().into_bytes(),
        _ => (0..1 + rng.below(12))
            .map(|_| b'a' + rng.below(3) as u8)
            .collect(),
    }
}

/// A random decimal float: sign, digits, fraction, exponent.
fn float(rng: &mut Rng) -> Vec<u8> {
    let mut f = String::new();
    if rng.chance(30) {
        f.push('-');
    }
    let digits = |rng: &mut Rng, n: u64| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    let n = 1 + rng.below(12);
    f += &digits(rng, n);
    if rng.chance(70) {
        f.push('.');
        let n = rng.below(20);
        f += &digits(rng, n);
    }
    if rng.chance(30) {
        f += &format!("e{}", rng.range(-30, 30));
    }
    f.into_bytes()
}

/// A random glob pattern over the characters of the key pool and the glob syntax.
fn pattern(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(50) {
        return arg(rng.pick(PATTERNS));
    }
    const CHARS: &[u8] = b"abcdnxyz12{}t*?*?[[]]^-\\\x00";
    (0..rng.below(8))
        .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize])
        .collect()
}

fn int(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(50) {
        arg(rng.range(-20, 20).to_string())
    } else {
        arg(rng.pick(INTS))
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Relative seconds: mostly far enough that nothing expires during the test and distinct
/// enough that GT / LT never compare two equal deadlines set in the same millisecond.
fn secs(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(80) {
        arg(rng.range(1_000, 10_000_000).to_string())
    } else {
        arg(rng.pick(&[
            "0",
            "-1",
            "-100",
            "x",
            "1.5",
            "",
            "9223372036854775807",
            "9223372036854775",
            "9223372036854776",
            "-9223372036854775808",
        ]))
    }
}

fn millis(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(80) {
        arg(rng.range(1_000_000, 10_000_000_000).to_string())
    } else {
        arg(rng.pick(&[
            "0",
            "-1",
            "x",
            "9223372036854775807",
            "-9223372036854775808",
        ]))
    }
}

/// Absolute seconds: far future, the past (deletes), or bad.
fn unix_secs(rng: &mut Rng, now: i64) -> Vec<u8> {
    match rng.below(10) {
        0..=5 => arg((now + rng.range(10_000, 100_000_000)).to_string()),
        6 => arg("1"),
        7 => arg((now - 1000).to_string()),
        8 => arg(rng.pick(&["0", "-1", "x", "9223372036854775807"])),
        _ => arg("9223372036854775"),
    }
}

fn unix_millis(rng: &mut Rng, now: i64) -> Vec<u8> {
    match rng.below(10) {
        0..=5 => {
            arg(((now + rng.range(10_000, 100_000_000)) * 1000 + rng.range(0, 999)).to_string())
        }
        6 => arg("1"),
        7 => arg(((now - 1000) * 1000).to_string()),
        _ => arg(rng.pick(&["0", "-1", "x", "9223372036854775807"])),
    }
}

/// `SET`/`GETEX` expiration options (possibly bad ones).
fn expiry_opts(rng: &mut Rng, now: i64, out: &mut Vec<Vec<u8>>, getex: bool) {
    match rng.below(if getex { 7 } else { 8 }) {
        0 => out.extend([arg("EX"), secs(rng)]),
        1 => out.extend([arg("PX"), millis(rng)]),
        2 => out.extend([arg("EXAT"), unix_secs(rng, now)]),
        3 => out.extend([arg("PXAT"), unix_millis(rng, now)]),
        4 => out.push(arg(if getex { "PERSIST" } else { "KEEPTTL" })),
        5 => out.push(arg(rng.pick(&["EX", "px", "bogus"]))),
        _ => {}
    }
}

fn keys_list(rng: &mut Rng, min: u64, max: u64) -> Vec<Vec<u8>> {
    (0..rng.range(min as i64, max as i64))
        .map(|_| skey(rng))
        .collect()
}

const BITFIELD_TYPES: &[&str] = &[
    "i1", "i8", "u8", "i16", "u15", "i64", "u63", "u64", "i65", "x8", "i0", "u1", "I8",
];
const BIT_OFFSETS: &[&str] = &["0", "3", "7", "9", "#1", "#2", "100", "-1", "x", "#-1"];

/// Commands as (name, arity), as in Redis' command table, for wrong-arity requests.
const ARITIES: &[(&str, i32)] = &[
    ("get", 2),
    ("set", -3),
    ("setnx", 3),
    ("setex", 4),
    ("psetex", 4),
    ("getex", -2),
    ("getdel", 2),
    ("getset", 3),
    ("mget", -2),
    ("mset", -3),
    ("msetnx", -3),
    ("append", 3),
    ("strlen", 2),
    ("incr", 2),
    ("decr", 2),
    ("incrby", 3),
    ("decrby", 3),
    ("incrbyfloat", 3),
    ("getrange", 4),
    ("substr", 4),
    ("setrange", 4),
    ("lcs", -3),
    ("setbit", 4),
    ("getbit", 3),
    ("bitcount", -2),
    ("bitpos", -3),
    ("bitop", -4),
    ("bitfield", -2),
    ("bitfield_ro", -2),
    ("del", -2),
    ("unlink", -2),
    ("exists", -2),
    ("type", 2),
    ("expire", -3),
    ("pexpire", -3),
    ("expireat", -3),
    ("pexpireat", -3),
    ("ttl", 2),
    ("pttl", 2),
    ("expiretime", 2),
    ("pexpiretime", 2),
    ("persist", 2),
    ("keys", 2),
    ("scan", -2),
    ("randomkey", 1),
    ("rename", 3),
    ("renamenx", 3),
    ("copy", -3),
    ("move", 3),
    ("touch", -2),
    ("object", -2),
    ("dbsize", 1),
    ("select", 2),
    ("swapdb", 3),
    ("hset", -4),
    ("hmset", -4),
    ("hsetnx", 4),
    ("hget", 3),
    ("hmget", -3),
    ("hdel", -3),
    ("hlen", 2),
    ("hexists", 3),
    ("hstrlen", 3),
    ("hgetall", 2),
    ("hkeys", 2),
    ("hvals", 2),
    ("hincrby", 4),
    ("hincrbyfloat", 4),
    ("hrandfield", -2),
    ("hscan", -3),
    ("zadd", -4),
    ("zincrby", 4),
    ("zrem", -3),
    ("zcard", 2),
    ("zcount", 4),
    ("zlexcount", 4),
    ("zscore", 3),
    ("zmscore", -3),
    // 7.0's arity is 3 (no WITHSCORE): only fewer arguments are compared.
    ("zrank", -3),
    ("zrevrank", -3),
    ("zrange", -4),
    ("zrangestore", -5),
    ("zrevrange", -4),
    ("zrangebyscore", -4),
    ("zrevrangebyscore", -4),
    ("zrangebylex", -4),
    ("zrevrangebylex", -4),
    ("zremrangebyrank", 4),
    ("zremrangebyscore", 4),
    ("zremrangebylex", 4),
    ("zpopmin", -2),
    ("zpopmax", -2),
    ("zmpop", -4),
    ("zrandmember", -2),
    ("zunion", -3),
    ("zinter", -3),
    ("zdiff", -3),
    ("zunionstore", -4),
    ("zinterstore", -4),
    ("zdiffstore", -4),
    ("zintercard", -3),
    ("zscan", -3),
    ("pfadd", -2),
    ("pfcount", -2),
    ("pfmerge", -2),
    ("geoadd", -5),
    ("geopos", -2),
    ("geodist", -4),
    ("geohash", -2),
    ("geosearch", -7),
    ("geosearchstore", -8),
];

fn wrong_arity(rng: &mut Rng) -> Vec<Vec<u8>> {
    loop {
        let (name, arity) = ARITIES[rng.below(ARITIES.len() as u64) as usize];
        let argc = if arity > 0 {
            // Fewer (at least the name) or one more.
            if arity > 1 && rng.chance(60) {
                rng.range(1, arity as i64 - 1)
            } else {
                arity as i64 + 1
            }
        } else if -arity > 1 {
            rng.range(1, -arity as i64 - 1)
        } else {
            continue;
        };
        let mut cmd = vec![arg(if rng.chance(50) {
            name.to_string()
        } else {
            name.to_uppercase()
        })];
        cmd.extend((1..argc).map(|_| key(rng)));
        return cmd;
    }
}

/// One step of the randomized sequence: a command of one family, by weight.
fn random_step(rng: &mut Rng, now: i64) -> Step {
    match rng.below(100) {
        0..=35 => string_step(rng, now),
        36..=54 => hash_step(rng),
        55..=82 => zset_step(rng),
        83..=91 => hll_step(rng),
        92..=97 => geo_step(rng),
        _ => match rng.below(3) {
            0 => Step::Encoding(key(rng)),
            _ => Step::Cmd(vec![arg("TYPE"), key(rng)]),
        },
    }
}

/// Strings and the keyspace commands (on keys of every type).
fn string_step(rng: &mut Rng, now: i64) -> Step {
    let mut c: Vec<Vec<u8>> = Vec::new();
    let k = skey(rng);
    match rng.below(100) {
        0..=5 => {
            c.extend([arg("SET"), k, value(rng)]);
            if rng.chance(30) {
                c.push(arg(rng.pick(&["NX", "XX", "nx"])));
            }
            if rng.chance(25) {
                c.push(arg("GET"));
            }
            if rng.chance(50) {
                expiry_opts(rng, now, &mut c, false);
            }
            if rng.chance(5) {
                c.push(arg(rng.pick(&["NX", "XX", "GET", "KEEPTTL", "EX", "bogus"])));
            }
        }
        6..=8 => c.extend([arg("GET"), k]),
        9 => c.extend([arg("SETNX"), k, value(rng)]),
        10 => {
            let (n, t) = if rng.chance(50) {
                ("SETEX", secs(rng))
            } else {
                ("PSETEX", millis(rng))
            };
            c.extend([arg(n), k, t, value(rng)]);
        }
        11 | 12 => {
            c.extend([arg("GETEX"), k]);
            expiry_opts(rng, now, &mut c, true);
            if rng.chance(5) {
                c.push(arg(rng.pick(&["PERSIST", "EX", "KEEPTTL"])));
            }
        }
        13 => c.extend([arg("GETDEL"), k]),
        14 => c.extend([arg("GETSET"), k, value(rng)]),
        15 | 16 => {
            c.push(arg("MGET"));
            c.extend(keys_list(rng, 1, 5));
        }
        17 | 18 => {
            c.push(arg(if rng.chance(50) { "MSET" } else { "MSETNX" }));
            for _ in 0..rng.range(1, 4) {
                c.extend([skey(rng), value(rng)]);
            }
            if rng.chance(5) {
                c.push(key(rng)); // a key without a value
            }
        }
        19 | 20 => c.extend([arg("APPEND"), k, value(rng)]),
        21 => c.extend([arg("STRLEN"), k]),
        22..=25 => match rng.below(5) {
            0 => c.extend([arg("INCR"), k]),
            1 => c.extend([arg("DECR"), k]),
            2 => c.extend([arg("INCRBY"), k, int(rng)]),
            3 => c.extend([arg("DECRBY"), k, int(rng)]),
            _ => c.extend([
                arg("INCRBYFLOAT"),
                k,
                if rng.chance(50) {
                    float(rng)
                } else {
                    arg(rng.pick(FLOATS))
                },
            ]),
        },
        26 | 27 => {
            let n = if rng.chance(80) { "GETRANGE" } else { "SUBSTR" };
            c.extend([arg(n), k, int(rng), int(rng)]);
        }
        28 | 29 => {
            let (offset, v) = match rng.below(10) {
                // Near the 512 MB limit: only values that fail (or write nothing), never
                // an allocation of 512 MB.
                0 => (arg("536870911"), arg(rng.pick(&["ab", ""]))),
                1 => (arg("536870912"), arg(rng.pick(&["a", ""]))),
                2 => (
                    arg(rng.pick(&["-1", "x", "9223372036854775807"])),
                    value(rng),
                ),
                _ => (arg(rng.range(0, 40).to_string()), value(rng)),
            };
            c.extend([arg("SETRANGE"), k, offset, v]);
        }
        30..=32 => {
            c.extend([arg("LCS"), k, key(rng)]);
            for _ in 0..rng.below(3) {
                match rng.below(6) {
                    0 => c.push(arg("LEN")),
                    1 | 2 => c.push(arg("IDX")),
                    3 => c.extend([
                        arg("MINMATCHLEN"),
                        arg(rng.pick(&["0", "1", "2", "4", "-1", "x"])),
                    ]),
                    4 => c.push(arg("WITHMATCHLEN")),
                    _ => c.push(arg(rng.pick(&["bogus", "MINMATCHLEN"]))),
                }
            }
        }
        33 | 34 => {
            let offset = arg(rng.pick(&[
                "0",
                "1",
                "7",
                "8",
                "15",
                "63",
                "100",
                "1000",
                "-1",
                "x",
                "4294967296",
            ]));
            let bit = arg(rng.pick(&["0", "1", "1", "2", "-1", "x"]));
            c.extend([arg("SETBIT"), k, offset, bit]);
        }
        35 => {
            let offset = arg(rng.pick(&[
                "0",
                "1",
                "7",
                "8",
                "100",
                "-1",
                "x",
                "4294967295",
                "4294967296",
            ]));
            c.extend([arg("GETBIT"), k, offset]);
        }
        36 | 37 => {
            c.extend([arg("BITCOUNT"), k]);
            let n = rng.below(4);
            for _ in 0..n {
                c.push(int(rng));
            }
            if n >= 2 && rng.chance(50) {
                c.push(arg(rng.pick(&["BIT", "BYTE", "byte", "bits"])));
            }
        }
        38 | 39 => {
            c.extend([arg("BITPOS"), k, arg(rng.pick(&["0", "1", "1", "2", "x"]))]);
            let n = rng.below(3);
            for _ in 0..n {
                c.push(int(rng));
            }
            if n >= 2 && rng.chance(50) {
                c.push(arg(rng.pick(&["BIT", "BYTE", "bit", "nope"])));
            }
        }
        40 | 41 => {
            let op = rng.pick(&["AND", "OR", "XOR", "NOT", "and", "Not", "DIFF", "nope"]);
            c.extend([arg("BITOP"), arg(op), k]);
            let n = if op.eq_ignore_ascii_case("not") && rng.chance(80) {
                1
            } else {
                rng.range(1, 4)
            };
            c.extend((0..n).map(|_| skey(rng)));
        }
        42 | 43 => {
            let ro = rng.chance(25);
            c.extend([arg(if ro { "BITFIELD_RO" } else { "BITFIELD" }), k]);
            for _ in 0..rng.below(4) {
                let (t, o) = (arg(rng.pick(BITFIELD_TYPES)), arg(rng.pick(BIT_OFFSETS)));
                match rng.below(if ro { 5 } else { 8 }) {
                    0..=2 => c.extend([arg("GET"), t, o]),
                    3 => c.push(arg(rng.pick(&["GET", "bogus"]))),
                    4 => c.extend([arg("SET"), t, o, int(rng)]),
                    5 => c.extend([arg("INCRBY"), t, o, int(rng)]),
                    6 => c.extend([
                        arg("OVERFLOW"),
                        arg(rng.pick(&["WRAP", "SAT", "FAIL", "fail", "nope"])),
                    ]),
                    _ => c.extend([arg("SET"), t, o]),
                }
            }
        }
        44..=47 => {
            c.push(arg(
                rng.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH", "EXISTS"])
            ));
            c.extend(keys_list(rng, 1, 5));
        }
        48 => c.extend([arg("TYPE"), k]),
        49..=52 => {
            let (n, t) = match rng.below(4) {
                0 => ("EXPIRE", secs(rng)),
                1 => ("PEXPIRE", millis(rng)),
                2 => ("EXPIREAT", unix_secs(rng, now)),
                _ => ("PEXPIREAT", unix_millis(rng, now)),
            };
            c.extend([arg(n), k, t]);
            for _ in 0..rng.below(3).saturating_sub(1) + u64::from(rng.chance(30)) {
                c.push(arg(rng.pick(&["NX", "XX", "GT", "LT", "gt", "bogus"])));
            }
        }
        53..=56 => {
            c.push(arg(rng.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"])));
            c.push(k);
        }
        57 => c.extend([arg("PERSIST"), k]),
        58 | 59 => c.extend([arg("KEYS"), pattern(rng)]),
        60 => {
            let mut opts = Vec::new();
            if rng.chance(50) {
                opts.extend([arg("MATCH"), pattern(rng)]);
            }
            if rng.chance(50) {
                opts.extend([arg("COUNT"), arg(rng.pick(&["1", "2", "10", "1000"]))]);
            }
            if rng.chance(30) {
                opts.extend([
                    arg("TYPE"),
                    arg(rng.pick(&[
                        "string", "STRING", "hash", "zset", "set", "list", "none", "bogus",
                    ])),
                ]);
            }
            return Step::ScanWalk(opts);
        }
        61 => {
            // Invalid SCANs only: a valid one's cursors are the table's.
            c.push(arg("SCAN"));
            match rng.below(7) {
                0 => c.push(arg(rng.pick(&[
                    "x",
                    "1.5",
                    " ",
                    "-",
                    "18446744073709551616",
                ]))),
                1 => c.extend([arg("0"), arg("COUNT"), arg(rng.pick(&["0", "-1", "x"]))]),
                2 => c.extend([arg("0"), arg("MATCH")]),
                3 => c.extend([arg("0"), arg("TYPE")]),
                4 => c.extend([arg("0"), arg("bogus"), arg("1")]),
                5 => c.extend([arg("0"), arg("COUNT")]),
                _ => c.extend([arg("x"), arg("COUNT"), arg("0")]),
            }
        }
        62 => c.push(arg("RANDOMKEY")),
        63..=66 => {
            c.extend([
                arg(if rng.chance(60) { "RENAME" } else { "RENAMENX" }),
                k,
                skey(rng),
            ]);
        }
        67..=69 => {
            c.extend([arg("COPY"), k, skey(rng)]);
            for _ in 0..rng.below(3) {
                match rng.below(4) {
                    0 | 1 => {
                        c.extend([arg("DB"), arg(rng.pick(&["0", "1", "2", "16", "-1", "x"]))])
                    }
                    2 => c.push(arg("REPLACE")),
                    _ => c.push(arg(rng.pick(&["bogus", "DB"]))),
                }
            }
        }
        70 | 71 => c.extend([
            arg("MOVE"),
            k,
            arg(rng.pick(&["0", "1", "2", "16", "-1", "x"])),
        ]),
        72..=74 => {
            c.push(arg("OBJECT"));
            match rng.below(8) {
                0..=2 => return Step::Encoding(k),
                3 => c.extend([arg("REFCOUNT"), k]),
                4 => c.extend([arg("FREQ"), k]),
                5 => c.extend([arg("IDLETIME"), k]),
                6 => c.push(arg(rng.pick(&["HELP", "help"]))),
                _ => c.extend([arg(rng.pick(&["bogus", "ENCODING", "help"])), k, key(rng)]),
            }
        }
        75 => {
            // A key SET with an EXAT / PXAT in the past is stored expired by Redis and
            // reclaimed at its next access or active expiry cycle, so DBSIZE would depend on
            // timing. Touching every key first makes the count exact on both servers.
            let mut exists = vec![arg("EXISTS")];
            exists.extend(KEYS.iter().map(arg));
            return Step::Counted(exists);
        }
        76 | 77 => c.extend([
            arg("SELECT"),
            arg(rng.pick(&["0", "0", "1", "2", "16", "-1", "x"])),
        ]),
        78 => {
            let dbs = ["0", "1", "2", "16", "-1", "x"];
            c.extend([arg("SWAPDB"), arg(rng.pick(&dbs[..3])), arg(rng.pick(&dbs))]);
        }
        79 => {
            if rng.chance(10) {
                c.push(arg(rng.pick(&["FLUSHDB", "FLUSHALL"])));
                if rng.chance(30) {
                    c.push(arg(rng.pick(&["ASYNC", "SYNC", "bogus"])));
                }
            } else {
                c.extend([arg("ECHO"), value(rng)]);
            }
        }
        80..=85 => c = wrong_arity(rng),
        86 => c.extend([arg(rng.pick(&["NOSUCHCOMMAND", "GETT", "SETX"])), k]),
        // The rest: more of the common writes, to keep the keyspace populated.
        87..=92 => c.extend([arg("SET"), k, value(rng)]),
        _ => c.extend([arg(rng.pick(&["INCR", "APPEND", "SETBIT"])), k]),
    }
    // SETBIT / APPEND drawn above without their last arguments: complete them.
    match name(&c).as_str() {
        "append" if c.len() == 2 => c.push(value(rng)),
        "setbit" if c.len() == 2 => c.extend([arg(rng.range(0, 200).to_string()), arg("1")]),
        _ => {}
    }
    Step::Cmd(c)
}

// ---------------------------------------------------------------------------------------------
// Hashes, sorted sets, HyperLogLogs and geo commands

/// Keys each family prefers (so that its collections grow), out of the shared pool: every
/// family also works on any key, for WRONGTYPE and conversions between types.
const HASH_KEYS: &[&[u8]] = &[b"h1", b"h2", b"{t}h"];
const ZSET_KEYS: &[&[u8]] = &[b"z1", b"z2", b"{t}w"];
const HLL_KEYS: &[&[u8]] = &[b"p1", b"p2"];
/// Sorted sets whose members mostly share one score (lex ranges, see [`Step::Lex`]).
const LEX_KEYS: &[&[u8]] = &[b"z3", b"z4"];
/// Sources of the multi-key sorted set commands.
const ALL_ZSET_KEYS: &[&[u8]] = &[b"z1", b"z2", b"{t}w", b"z3", b"z4"];

/// The most field-value or score-member pairs in one HSET / ZADD: 7.2 converts a listpack
/// to a hashtable / skiplist up front when one command brings more pairs than the
/// *-max-listpack-entries, duplicates included (t_hash.c hashTypeTryConversion, t_zset.c
/// zsetTypeCreate / zsetTypeMaybeConvert); 7.0 counts the fields it ends up with. Kept at
/// the small run's limit so that both convert at the same time.
const MAX_PAIRS: i64 = 16;

fn fam_key(rng: &mut Rng, home: &[&[u8]]) -> Vec<u8> {
    if rng.chance(88) {
        arg(rng.pick(home))
    } else {
        key(rng)
    }
}

const FIELDS: &[&str] = &[
    "f1", "f2", "f3", "f4", "f5", "a", "b", "1", "-1", "", "f1 ", "F1",
];

fn field(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(80) {
        arg(rng.pick(FIELDS))
    } else {
        value(rng)
    }
}

const MEMBERS: &[&str] = &[
    "a", "b", "c", "d", "e", "m1", "m2", "m3", "", "1", "-", "+", "[a", "(b", "aa", "ab", "\x00z",
];

fn member(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(85) {
        arg(rng.pick(MEMBERS))
    } else {
        value(rng)
    }
}

/// Scores: mostly small integers (ties, ordered by member), then edge cases of parsing and
/// of printing (7.0 and 7.2 print some differently), then random decimals.
const SCORES: &[&str] = &[
    "0",
    "1",
    "-1",
    "1.5",
    "-2.5",
    "0.1",
    "0.3",
    "10",
    "inf",
    "-inf",
    "+inf",
    "-0",
    "1e17",
    "1e-7",
    "0.000012",
    "123456.789",
    "12345678.123456789",
    "1e308",
    "4611686018427387904",
    "9007199254740993",
    "1e-5",
    "nan",
    "x",
    "",
    "1e400",
    "1e-400",
    "(1",
    " 1",
    "0x10",
];

fn score(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0..=5 => arg(rng.range(-5, 5).to_string()),
        6 | 7 => arg(rng.pick(SCORES)),
        _ => float(rng),
    }
}

const SCORE_RANGES: &[&str] = &[
    "-inf", "+inf", "inf", "-inf", "0", "1", "(1", "(0", "-1", "(-1", "2.5", "(2.5", "3", "(3",
    "10", "x", "(x", "(", "nan", "(inf", "(-inf", "1e17", "-0", "(1e-7", "",
];

const LEX_RANGES: &[&[u8]] = &[
    b"-", b"+", b"-", b"+", b"[a", b"(a", b"[b", b"(b", b"[c", b"(d", b"[m", b"(m2", b"[aa", b"[",
    b"(", b"a", b"+inf", b"[\x00", b"(\xff", b"",
];

fn score_range(rng: &mut Rng) -> Vec<u8> {
    arg(rng.pick(SCORE_RANGES))
}

fn lex_range(rng: &mut Rng) -> Vec<u8> {
    arg(rng.pick(LEX_RANGES))
}

/// Counts of the random-pick commands: small, negative (repeats allowed), or out of range.
/// Never a huge negative count in range: Redis would build that many replies (it checks
/// ±LONG_MAX/2 only with WITHVALUES / WITHSCORES, where both servers refuse it).
fn rand_count(rng: &mut Rng, with_values: bool) -> Vec<u8> {
    if rng.chance(90) {
        return arg(rng.pick(&[
            "0", "1", "2", "3", "5", "10", "100", "-1", "-2", "-5", "-10", "-30",
        ]));
    }
    let huge: &[&str] = if with_values {
        &["-4611686018427387904", "4611686018427387904"]
    } else {
        &["9223372036854775807"]
    };
    match rng.below(5) {
        0 => arg(rng.pick(huge)),
        _ => arg(rng.pick(&["x", "", "1.5", "-9223372036854775808"])),
    }
}

/// A glob for the elements of a collection (HSCAN / ZSCAN MATCH).
fn elem_pattern(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(30) {
        return pattern(rng);
    }
    arg(rng.pick(&[
        "*", "f*", "*1", "?", "[ab]", "m?", "[^a]*", "", "\\[*", "*\x00*",
    ]))
}

/// Invalid arguments of an xSCAN (compared exactly: errors, or the empty scan of a missing
/// key, which Redis answers before parsing the options).
fn bad_scan_args(rng: &mut Rng, c: &mut Vec<Vec<u8>>) {
    match rng.below(7) {
        0 => c.push(arg(rng.pick(&[
            "x",
            "1.5",
            " ",
            "18446744073709551616",
            "",
        ]))),
        1 => c.extend([arg("0"), arg("COUNT"), arg(rng.pick(&["0", "-1", "x"]))]),
        2 => c.extend([arg("0"), arg("MATCH")]),
        3 => c.extend([arg("0"), arg("COUNT")]),
        4 => c.extend([arg("0"), arg("bogus"), arg("1")]),
        5 => c.extend([arg("0"), arg("NOVALUES")]),
        _ => c.extend([arg("x"), arg("COUNT"), arg("0")]),
    }
}

fn coll_scan(rng: &mut Rng, name: &str, k: Vec<u8>) -> Step {
    let mut c = vec![arg(name), k];
    if rng.chance(25) {
        bad_scan_args(rng, &mut c);
        return Step::Cmd(c);
    }
    let mut opts = Vec::new();
    if rng.chance(40) {
        opts.extend([arg("MATCH"), elem_pattern(rng)]);
    }
    if rng.chance(40) {
        opts.extend([arg("COUNT"), arg(rng.pick(&["1", "2", "10", "1000"]))]);
    }
    Step::CollScan { cmd: c, opts }
}

fn hash_step(rng: &mut Rng) -> Step {
    let k = fam_key(rng, HASH_KEYS);
    let mut c: Vec<Vec<u8>> = Vec::new();
    match rng.below(40) {
        0..=7 => {
            c.extend([arg(if rng.chance(80) { "HSET" } else { "HMSET" }), k]);
            let n = if rng.chance(8) {
                rng.range(5, MAX_PAIRS)
            } else {
                rng.range(1, 3)
            };
            for _ in 0..n {
                c.extend([field(rng), value(rng)]);
            }
            if rng.chance(3) {
                c.push(field(rng)); // a field without a value
            }
        }
        8 => c.extend([arg("HSETNX"), k, field(rng), value(rng)]),
        9..=11 => c.extend([arg("HGET"), k, field(rng)]),
        12 | 13 => {
            c.extend([arg("HMGET"), k]);
            c.extend((0..rng.range(1, 4)).map(|_| field(rng)));
        }
        14..=16 => {
            c.extend([arg("HDEL"), k]);
            c.extend((0..rng.range(1, 3)).map(|_| field(rng)));
        }
        17 => c.extend([arg("HLEN"), k]),
        18 => c.extend([arg("HEXISTS"), k, field(rng)]),
        19 => c.extend([arg("HSTRLEN"), k, field(rng)]),
        20 | 21 => c.extend([arg("HGETALL"), k]),
        22 => c.extend([arg(rng.pick(&["HKEYS", "HVALS"])), k]),
        23..=25 => c.extend([arg("HINCRBY"), k, field(rng), int(rng)]),
        26 | 27 => {
            let by = if rng.chance(50) {
                float(rng)
            } else {
                arg(rng.pick(FLOATS))
            };
            c.extend([arg("HINCRBYFLOAT"), k, field(rng), by]);
        }
        28..=31 => {
            c.extend([arg("HRANDFIELD"), k.clone()]);
            match rng.below(10) {
                0..=2 => {}
                3..=6 => c.push(rand_count(rng, false)),
                7 | 8 => c.extend([rand_count(rng, true), arg("WITHVALUES")]),
                _ => c.push(arg(rng.pick(&["WITHVALUES", "withvalues"]))),
            }
            if rng.chance(3) {
                c.push(arg("bogus"));
            }
            let all = vec![arg("HGETALL"), k];
            return Step::Sample {
                cmd: c,
                all,
                pairs: true,
            };
        }
        32..=35 => return coll_scan(rng, "HSCAN", k),
        36 => return Step::Encoding(k),
        // Start again from an empty (listpack) hash.
        37 => c.extend([arg("DEL"), k]),
        _ => c.extend([arg("HSET"), k, field(rng), value(rng)]),
    }
    Step::Cmd(c)
}

/// ZRANGE / ZRANGESTORE options after start and stop: BY, REV, LIMIT, WITHSCORES, in some
/// order, sometimes invalid.
fn zrange_opts(rng: &mut Rng, by: u64, store: bool, c: &mut Vec<Vec<u8>>) {
    let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
    match by {
        1 if rng.chance(95) => opts.push(vec![arg(rng.pick(&["BYSCORE", "byscore"]))]),
        2 if rng.chance(95) => opts.push(vec![arg("BYLEX")]),
        _ if rng.chance(5) => opts.push(vec![arg(rng.pick(&["BYSCORE", "BYLEX"]))]),
        _ => {}
    }
    if rng.chance(30) {
        opts.push(vec![arg("REV")]);
    }
    if rng.chance(30) {
        let n = |rng: &mut Rng| arg(rng.pick(&["0", "1", "2", "-1", "5", "x", "-5", "1.5"]));
        let mut limit = vec![arg("LIMIT"), n(rng), n(rng)];
        if rng.chance(5) {
            limit.pop();
        }
        opts.push(limit);
    }
    if rng.chance(if store { 3 } else { 35 }) {
        opts.push(vec![arg("WITHSCORES")]);
    }
    if rng.chance(3) {
        opts.push(vec![arg(rng.pick(&["bogus", "LIMIT", "REV"]))]);
    }
    if opts.len() > 1 && rng.chance(30) {
        let i = rng.below(opts.len() as u64) as usize;
        let last = opts.len() - 1;
        opts.swap(i, last);
    }
    c.extend(opts.into_iter().flatten());
}

fn range_args(rng: &mut Rng, by: u64) -> [Vec<u8>; 2] {
    match by {
        0 => [int(rng), int(rng)],
        1 => [score_range(rng), score_range(rng)],
        _ => [lex_range(rng), lex_range(rng)],
    }
}

/// `numkeys` and that many keys (sometimes a wrong count).
fn numkeys(rng: &mut Rng, home: &[&[u8]], c: &mut Vec<Vec<u8>>) {
    let n = rng.range(1, 3);
    c.push(if rng.chance(92) {
        arg(n.to_string())
    } else {
        arg(rng.pick(&["0", "-1", "x", "4", "3"]))
    });
    c.extend((0..n).map(|_| fam_key(rng, home)));
}

fn zset_step(rng: &mut Rng) -> Step {
    let roll = rng.below(60);
    let lex_range_cmd = matches!(roll, 18 | 24..=38);
    let k = if rng.chance(if lex_range_cmd { 85 } else { 20 }) {
        fam_key(rng, LEX_KEYS)
    } else {
        fam_key(rng, ZSET_KEYS)
    };
    // Their members share one score, for lex ranges.
    let lexy = LEX_KEYS.contains(&&k[..]);
    let mut c: Vec<Vec<u8>> = Vec::new();
    match roll {
        0..=9 => {
            c.extend([arg("ZADD"), k]);
            let mut incr = false;
            if rng.chance(35) {
                for _ in 0..rng.range(1, 2) {
                    let flag = rng.pick(&["NX", "XX", "GT", "LT", "CH", "INCR", "nx", "ch"]);
                    incr |= flag == "INCR";
                    c.push(arg(flag));
                }
            }
            let n = if incr && rng.chance(80) {
                1
            } else if rng.chance(8) {
                rng.range(5, MAX_PAIRS)
            } else {
                rng.range(1, 3)
            };
            for _ in 0..n {
                let score = if lexy && rng.chance(97) {
                    arg("0")
                } else {
                    score(rng)
                };
                c.extend([score, member(rng)]);
            }
            if rng.chance(3) {
                c.push(score(rng)); // a score without a member
            }
        }
        10 | 11 => {
            let by = if lexy && rng.chance(90) {
                arg("0")
            } else {
                score(rng)
            };
            c.extend([arg("ZINCRBY"), k, by, member(rng)]);
        }
        12..=14 => {
            c.extend([arg("ZREM"), k]);
            c.extend((0..rng.range(1, 3)).map(|_| member(rng)));
        }
        15 => c.extend([arg("ZCARD"), k]),
        16 | 17 => c.extend([arg("ZCOUNT"), k, score_range(rng), score_range(rng)]),
        18 => c.extend([arg("ZLEXCOUNT"), k, lex_range(rng), lex_range(rng)]),
        19 | 20 => c.extend([arg("ZSCORE"), k, member(rng)]),
        21 => {
            c.extend([arg("ZMSCORE"), k]);
            c.extend((0..rng.range(1, 4)).map(|_| member(rng)));
        }
        22 | 23 => {
            c.extend([arg(rng.pick(&["ZRANK", "ZREVRANK"])), k, member(rng)]);
            if rng.chance(5) {
                c.push(arg(rng.pick(&["WITHSCORE", "withscore", "bogus"])));
            }
        }
        24..=29 => {
            let by = rng.below(3);
            let [a, b] = range_args(rng, by);
            c.extend([arg("ZRANGE"), k, a, b]);
            zrange_opts(rng, by, false, &mut c);
        }
        30 => {
            let by = rng.below(3);
            let [a, b] = range_args(rng, by);
            c.extend([arg("ZRANGESTORE"), fam_key(rng, ZSET_KEYS), k, a, b]);
            zrange_opts(rng, by, true, &mut c);
        }
        31 => {
            c.extend([arg("ZREVRANGE"), k, int(rng), int(rng)]);
            if rng.chance(40) {
                c.push(arg("WITHSCORES"));
            }
        }
        32..=35 => {
            let lex = rng.chance(50);
            let name = match (lex, rng.chance(50)) {
                (false, false) => "ZRANGEBYSCORE",
                (false, true) => "ZREVRANGEBYSCORE",
                (true, false) => "ZRANGEBYLEX",
                (true, true) => "ZREVRANGEBYLEX",
            };
            let [a, b] = range_args(rng, if lex { 2 } else { 1 });
            c.extend([arg(name), k, a, b]);
            if !lex && rng.chance(40) || rng.chance(3) {
                c.push(arg("WITHSCORES"));
            }
            if rng.chance(30) {
                let n = |rng: &mut Rng| arg(rng.pick(&["0", "1", "2", "-1", "x", "3"]));
                c.extend([arg("LIMIT"), n(rng), n(rng)]);
            }
        }
        36 => c.extend([arg("ZREMRANGEBYRANK"), k, int(rng), int(rng)]),
        37 => c.extend([
            arg("ZREMRANGEBYSCORE"),
            k,
            score_range(rng),
            score_range(rng),
        ]),
        38 => c.extend([arg("ZREMRANGEBYLEX"), k, lex_range(rng), lex_range(rng)]),
        39 | 40 => {
            c.extend([arg(rng.pick(&["ZPOPMIN", "ZPOPMAX"])), k]);
            if rng.chance(50) {
                c.push(arg(
                    rng.pick(&["0", "1", "2", "5", "-1", "-100", "x", "100"])
                ));
            }
        }
        41 => {
            c.push(arg("ZMPOP"));
            numkeys(rng, ALL_ZSET_KEYS, &mut c);
            c.push(arg(rng.pick(&["MIN", "MAX", "max", "bogus"])));
            if rng.chance(50) {
                c.extend([
                    arg("COUNT"),
                    arg(rng.pick(&["1", "2", "10", "0", "-1", "x"])),
                ]);
            }
        }
        42..=44 => {
            c.extend([arg("ZRANDMEMBER"), k.clone()]);
            match rng.below(10) {
                0..=2 => {}
                3..=6 => c.push(rand_count(rng, false)),
                7 | 8 => c.extend([rand_count(rng, true), arg("WITHSCORES")]),
                _ => c.push(arg("WITHSCORES")),
            }
            if rng.chance(3) {
                c.push(arg("bogus"));
            }
            let all = [&b"ZRANGE"[..], &k, b"0", b"-1", b"WITHSCORES"];
            return Step::Sample {
                cmd: c,
                all: all.iter().map(arg).collect(),
                pairs: true,
            };
        }
        45..=49 => {
            let op = rng.pick(&[
                "ZUNION",
                "ZINTER",
                "ZDIFF",
                "ZUNIONSTORE",
                "ZINTERSTORE",
                "ZDIFFSTORE",
            ]);
            let store = op.ends_with("STORE");
            c.push(arg(op));
            if store {
                c.push(k);
            }
            let before = c.len();
            numkeys(rng, ALL_ZSET_KEYS, &mut c);
            let n = c.len() - before - 1;
            let diff = op.starts_with("ZDIFF");
            if rng.chance(if diff { 3 } else { 30 }) {
                c.push(arg("WEIGHTS"));
                let w = if rng.chance(90) { n } else { n + 1 };
                for _ in 0..w {
                    let weights = ["1", "2", "0", "-1", "1.5", "inf", "-inf", "x", "1e308"];
                    c.push(arg(rng.pick(&weights)));
                }
            }
            if rng.chance(if diff { 3 } else { 30 }) {
                c.extend([
                    arg("AGGREGATE"),
                    arg(rng.pick(&["SUM", "MIN", "MAX", "min", "bogus"])),
                ]);
            }
            if rng.chance(if store { 3 } else { 40 }) {
                c.push(arg("WITHSCORES"));
            }
        }
        50 => {
            c.push(arg("ZINTERCARD"));
            numkeys(rng, ALL_ZSET_KEYS, &mut c);
            if rng.chance(40) {
                c.extend([
                    arg("LIMIT"),
                    arg(rng.pick(&["0", "1", "2", "-1", "x", "100"])),
                ]);
            }
        }
        51..=54 => return coll_scan(rng, "ZSCAN", k),
        55 | 56 => return Step::Encoding(k),
        // Start again from an empty (listpack) sorted set.
        57 => c.extend([arg("DEL"), k]),
        _ => c.extend([arg("ZADD"), k, score(rng), member(rng)]),
    }
    let lex = c[0].ends_with(b"BYLEX")
        || c[0] == b"ZLEXCOUNT"
        || c.iter().any(|a| a.eq_ignore_ascii_case(b"BYLEX"));
    if lex {
        Step::Lex(c)
    } else {
        Step::Cmd(c)
    }
}

fn hll_step(rng: &mut Rng) -> Step {
    let k = fam_key(rng, HLL_KEYS);
    let mut c: Vec<Vec<u8>> = Vec::new();
    let elem = |rng: &mut Rng| {
        if rng.chance(85) {
            arg(format!("e{}", rng.below(3000)))
        } else {
            value(rng)
        }
    };
    match rng.below(13) {
        0..=4 => {
            c.extend([arg("PFADD"), k]);
            let n = if rng.chance(10) {
                rng.range(50, 400)
            } else {
                rng.range(0, 6)
            };
            c.extend((0..n).map(|_| elem(rng)));
        }
        5 | 6 => {
            c.extend([arg("PFCOUNT"), k]);
            c.extend((0..rng.below(3)).map(|_| fam_key(rng, HLL_KEYS)));
        }
        7 => {
            c.extend([arg("PFMERGE"), k]);
            c.extend((0..rng.below(4)).map(|_| fam_key(rng, HLL_KEYS)));
        }
        // The registers and their sparse or dense encoding, byte for byte.
        8..=10 => c.extend([arg("GET"), k]),
        11 => return Step::Encoding(k),
        // Start again from an empty (sparse) HyperLogLog.
        _ => c.extend([arg("DEL"), k]),
    }
    Step::Cmd(c)
}

fn geo_step(rng: &mut Rng) -> Step {
    let k = fam_key(rng, ZSET_KEYS);
    let mut c: Vec<Vec<u8>> = Vec::new();
    let lon = |rng: &mut Rng| {
        if rng.chance(95) {
            arg(format!(
                "{:.6}",
                rng.range(-180_000_000, 180_000_000) as f64 / 1e6
            ))
        } else {
            arg(rng.pick(&["180.1", "x", "-180", ""]))
        }
    };
    let lat = |rng: &mut Rng| {
        if rng.chance(95) {
            arg(format!(
                "{:.6}",
                rng.range(-85_000_000, 85_000_000) as f64 / 1e6
            ))
        } else {
            arg(rng.pick(&["85.06", "-90", "x"]))
        }
    };
    let unit = |rng: &mut Rng| arg(rng.pick(&["m", "km", "mi", "ft", "KM", "bogus"]));
    match rng.below(10) {
        0..=3 => {
            c.extend([arg("GEOADD"), k]);
            if rng.chance(20) {
                c.push(arg(rng.pick(&["NX", "XX", "CH", "GT"])));
            }
            for _ in 0..rng.range(1, 4) {
                c.extend([lon(rng), lat(rng), member(rng)]);
            }
        }
        4 => {
            c.extend([arg("GEOPOS"), k]);
            c.extend((0..rng.range(1, 3)).map(|_| member(rng)));
        }
        5 => {
            c.extend([arg("GEODIST"), k, member(rng), member(rng)]);
            if rng.chance(50) {
                c.push(unit(rng));
            }
        }
        6 => {
            c.extend([arg("GEOHASH"), k]);
            c.extend((0..rng.range(1, 3)).map(|_| member(rng)));
        }
        _ => {
            let store = rng.chance(25);
            if store {
                c.extend([arg("GEOSEARCHSTORE"), fam_key(rng, ZSET_KEYS), k]);
            } else {
                c.extend([arg("GEOSEARCH"), k]);
            }
            if rng.chance(50) {
                c.extend([arg("FROMMEMBER"), member(rng)]);
            } else {
                c.extend([arg("FROMLONLAT"), lon(rng), lat(rng)]);
            }
            let dist =
                |rng: &mut Rng| arg(rng.pick(&["1", "100", "500", "5000", "20000", "0", "-1"]));
            if rng.chance(50) {
                c.extend([arg("BYRADIUS"), dist(rng), unit(rng)]);
            } else {
                c.extend([arg("BYBOX"), dist(rng), dist(rng), unit(rng)]);
            }
            if rng.chance(85) {
                c.push(arg(rng.pick(&["ASC", "DESC"])));
            }
            if rng.chance(40) {
                c.extend([arg("COUNT"), arg(rng.pick(&["1", "3", "0", "-1"]))]);
                if rng.chance(20) {
                    c.push(arg("ANY"));
                }
            }
            let with: &[&str] = if store {
                &["STOREDIST"]
            } else {
                &["WITHCOORD", "WITHDIST", "WITHHASH"]
            };
            for w in with {
                if rng.chance(30) {
                    c.push(arg(w));
                }
            }
        }
    }
    Step::Cmd(c)
}

fn cmd(parts: &[&str]) -> Step {
    Step::Cmd(parts.iter().map(arg).collect())
}

/// Hand-written cases for hashes, sorted sets and HyperLogLogs: printing of scores and
/// floats, arithmetic at the edges, every range form on a known set, encodings at the
/// thresholds, and the multi-key forms with keys on both shards.
fn scripted_collections() -> Vec<Step> {
    let mut s = vec![
        // Scores: 7.0 and 7.2 print some of them differently (see `score_difference`).
        cmd(&[
            "ZADD",
            "z1",
            "0.1",
            "a",
            "1e17",
            "b",
            "1.5e-7",
            "c",
            "12345678.123456789",
            "d",
            "-0",
            "e",
            "inf",
            "f",
            "-inf",
            "g",
            "3",
            "h",
            "4611686018427387904",
            "i",
        ]),
        cmd(&["ZRANGE", "z1", "0", "-1", "WITHSCORES"]),
        cmd(&["ZSCORE", "z1", "a"]),
        cmd(&["ZMSCORE", "z1", "b", "c", "nosuch", "e"]),
        cmd(&["ZINCRBY", "z1", "inf", "g"]),
        cmd(&["ZINCRBY", "z1", "1", "f"]),
        cmd(&["ZINCRBY", "z1", "0.2", "a"]),
        cmd(&["ZADD", "z1", "INCR", "-inf", "f"]),
        cmd(&["ZADD", "z1", "nan", "x"]),
        cmd(&["ZADD", "z1", "1e400", "x"]),
        cmd(&["ZCOUNT", "z1", "-inf", "+inf"]),
        cmd(&["ZCOUNT", "z1", "(0", "(inf"]),
        cmd(&[
            "ZRANGEBYSCORE",
            "z1",
            "(-inf",
            "(inf",
            "WITHSCORES",
            "LIMIT",
            "1",
            "3",
        ]),
        cmd(&["ZREVRANGEBYSCORE", "z1", "+inf", "0", "LIMIT", "0", "-1"]),
        cmd(&[
            "ZRANGE",
            "z1",
            "(4",
            "0",
            "BYSCORE",
            "REV",
            "LIMIT",
            "1",
            "2",
            "WITHSCORES",
        ]),
        cmd(&["ZRANK", "z1", "d"]),
        cmd(&["ZREVRANK", "z1", "d"]),
        // inf - inf is NaN: ZINCRBY refuses it; an aggregate makes it 0.
        cmd(&["ZADD", "{t}x", "inf", "m", "1", "n"]),
        cmd(&["ZADD", "{t}y", "-inf", "m", "2", "n"]),
        cmd(&["ZINCRBY", "{t}x", "-inf", "m"]),
        cmd(&["ZUNIONSTORE", "{t}z", "2", "{t}x", "{t}y"]),
        cmd(&["ZRANGE", "{t}z", "0", "-1", "WITHSCORES"]),
        cmd(&[
            "ZUNION",
            "2",
            "{t}x",
            "{t}y",
            "WEIGHTS",
            "0",
            "1",
            "WITHSCORES",
        ]),
        cmd(&[
            "ZINTER",
            "2",
            "{t}x",
            "{t}y",
            "AGGREGATE",
            "MAX",
            "WITHSCORES",
        ]),
        cmd(&[
            "ZINTER",
            "2",
            "{t}x",
            "{t}y",
            "WEIGHTS",
            "-1",
            "inf",
            "WITHSCORES",
        ]),
        // Multi-key forms across the shards (z1 and z2 are on different shards).
        cmd(&["ZADD", "z2", "1", "a", "2", "b", "3", "zz"]),
        cmd(&[
            "ZUNIONSTORE",
            "{t}w",
            "3",
            "z1",
            "z2",
            "{t}x",
            "AGGREGATE",
            "MIN",
        ]),
        cmd(&["ZRANGE", "{t}w", "0", "-1", "WITHSCORES"]),
        cmd(&["ZINTERSTORE", "z2", "2", "z1", "z2", "WEIGHTS", "2", "3"]),
        cmd(&["ZRANGE", "z2", "0", "-1", "WITHSCORES"]),
        cmd(&["ZDIFFSTORE", "z1", "2", "z1", "{t}w"]),
        cmd(&["EXISTS", "z1"]),
        cmd(&["ZINTERCARD", "3", "{t}w", "z2", "{t}x", "LIMIT", "1"]),
        cmd(&["ZRANGESTORE", "z1", "{t}w", "0", "2"]),
        cmd(&["ZMPOP", "3", "nokey", "z1", "{t}w", "MAX", "COUNT", "2"]),
        cmd(&["ZRANGE", "z1", "0", "-1", "WITHSCORES"]),
        cmd(&["ZMPOP", "1", "z1", "MIN", "COUNT", "10"]),
        cmd(&["ZPOPMIN", "{t}w", "2"]),
        cmd(&["ZPOPMAX", "{t}w"]),
        // Lex ranges over one score.
        cmd(&[
            "ZADD", "z3", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ab",
        ]),
        cmd(&["ZRANGEBYLEX", "z3", "-", "+", "LIMIT", "1", "3"]),
        cmd(&["ZRANGEBYLEX", "z3", "(a", "[c"]),
        cmd(&["ZREVRANGEBYLEX", "z3", "[d", "(ab"]),
        cmd(&[
            "ZRANGE", "z3", "[e", "(b", "BYLEX", "REV", "LIMIT", "0", "2",
        ]),
        cmd(&["ZLEXCOUNT", "z3", "[b", "+"]),
        cmd(&["ZRANGEBYLEX", "z3", "a", "+"]),
        cmd(&["ZREMRANGEBYLEX", "z3", "[ab", "[c"]),
        cmd(&["ZRANGE", "z3", "0", "-1"]),
        // Errors in argument order.
        cmd(&["ZRANGE", "z3", "0", "1", "LIMIT", "0", "1"]),
        cmd(&["ZRANGE", "z3", "-", "+", "BYLEX", "WITHSCORES"]),
        cmd(&["ZADD", "z3", "NX", "XX", "1", "a"]),
        cmd(&["ZADD", "z3", "GT", "LT", "1", "a"]),
        cmd(&["ZADD", "z3", "GT", "NX", "1", "a"]),
        cmd(&["ZADD", "z3", "INCR", "1", "a", "2", "b"]),
        cmd(&["ZADD", "z3", "1", "a", "2"]),
        cmd(&[
            "ZADD", "z3", "XX", "CH", "GT", "5", "a", "-1", "b", "7", "nosuch",
        ]),
        cmd(&["ZADD", "z3", "LT", "INCR", "1", "a"]),
        cmd(&["ZUNIONSTORE", "z3", "2", "z3"]),
        cmd(&["ZUNION", "2", "z3", "z2", "WEIGHTS", "1"]),
        cmd(&["ZINTERCARD", "0", "z3"]),
        cmd(&["ZMPOP", "1", "z3", "MIN", "COUNT", "0"]),
        cmd(&["SET", "s", "x"]),
        cmd(&["ZUNION", "2", "z3", "s"]),
        cmd(&["ZADD", "s", "1", "a"]),
        // Hashes: float increments print as long doubles, integers overflow.
        cmd(&[
            "HSET",
            "h1",
            "f",
            "10.50",
            "i",
            "9223372036854775807",
            "s",
            "abc",
        ]),
        cmd(&["HINCRBYFLOAT", "h1", "f", "0.1"]),
        cmd(&["HINCRBYFLOAT", "h1", "f", "-5.0e3"]),
        cmd(&["HINCRBYFLOAT", "h1", "f", "1e20"]),
        cmd(&["HINCRBYFLOAT", "h1", "f", "inf"]),
        cmd(&["HINCRBYFLOAT", "h1", "n", "3.0000000000000001"]),
        cmd(&["HINCRBYFLOAT", "h1", "s", "1"]),
        cmd(&["HINCRBY", "h1", "i", "1"]),
        cmd(&["HINCRBY", "h1", "i", "-1"]),
        cmd(&["HINCRBY", "h1", "f", "1"]),
        cmd(&["HINCRBY", "h1", "new", "-9223372036854775808"]),
        cmd(&["HGETALL", "h1"]),
        cmd(&["HSTRLEN", "h1", "i"]),
        cmd(&["HSETNX", "h1", "s", "x"]),
        cmd(&["HSETNX", "h1", "t", "x"]),
        cmd(&["HDEL", "h1", "s", "t", "s", "nosuch"]),
        cmd(&["HMSET", "h1", "a"]),
        cmd(&["HRANDFIELD", "h1", "0"]),
        cmd(&["HRANDFIELD", "h1", "-3", "WITHVALUES", "x"]),
        cmd(&["HRANDFIELD", "nokey", "-3", "WITHVALUES"]),
        cmd(&["HSCAN", "h1", "0", "MATCH", "[fi]", "COUNT", "100"]),
        // HyperLogLogs: the registers byte for byte, sparse and dense.
        cmd(&["PFADD", "p1", "a", "b", "c"]),
        cmd(&["GET", "p1"]),
        cmd(&["PFCOUNT", "p1"]),
        cmd(&["GET", "p1"]),
        cmd(&["PFADD", "p2", "c", "d"]),
        cmd(&["PFCOUNT", "p1", "p2"]),
        cmd(&["PFMERGE", "{t}h", "p1", "p2"]),
        cmd(&["GET", "{t}h"]),
        cmd(&["PFMERGE", "p2"]),
        cmd(&["PFCOUNT", "nokey"]),
        cmd(&["PFADD", "s", "a"]),
        cmd(&["PFCOUNT", "s", "p1"]),
        cmd(&[
            "SET",
            "p3",
            "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ]),
        cmd(&["PFCOUNT", "p3"]),
        cmd(&["PFADD", "p3", "a"]),
        cmd(&["SETRANGE", "p1", "4", "\x07"]),
        cmd(&["PFCOUNT", "p1"]),
        cmd(&["PFADD", "p1", "x"]),
        cmd(&["FLUSHALL"]),
    ];
    // Growth across the encoding thresholds (the small run's, then the defaults), one
    // command at a time and in one command.
    for n in [17, 65, 129, 513] {
        let h = (0..n).map(|i| format!("f{i}")).collect::<Vec<_>>();
        for f in &h {
            s.push(cmd(&["HSET", "h2", f, "v"]));
        }
        s.push(cmd(&["OBJECT", "ENCODING", "h2"]));
        s.push(cmd(&["HLEN", "h2"]));
        let mut zadd = vec!["ZADD", "z4"];
        let scores: Vec<String> = (0..n).map(|i| (i % 7).to_string()).collect();
        for (sc, m) in scores.iter().zip(&h) {
            zadd.extend([sc.as_str(), m.as_str()]);
        }
        s.push(cmd(&zadd));
        s.push(cmd(&["OBJECT", "ENCODING", "z4"]));
        s.push(cmd(&["ZRANGE", "z4", "5", "9", "WITHSCORES"]));
        s.push(cmd(&["ZRANK", "z4", "f3"]));
        let mut pfadd = vec!["PFADD", "p1"];
        pfadd.extend(h.iter().map(String::as_str));
        s.push(cmd(&pfadd));
        s.push(cmd(&["GET", "p1"]));
        s.push(cmd(&["PFCOUNT", "p1"]));
        s.push(cmd(&["DEL", "h2", "z4"]));
    }
    // Values at the length threshold (64 bytes).
    for len in [64, 65] {
        let v = "v".repeat(len);
        s.push(cmd(&["HSET", "h1", "f", &v]));
        s.push(cmd(&["OBJECT", "ENCODING", "h1"]));
        s.push(cmd(&["ZADD", "z1", "1", &v]));
        s.push(cmd(&["OBJECT", "ENCODING", "z1"]));
        s.push(cmd(&["ZRANGESTORE", "z2", "z1", "0", "-1"]));
        s.push(cmd(&["OBJECT", "ENCODING", "z2"]));
    }
    s.push(cmd(&["FLUSHALL"]));
    s
}

/// Hand-written cases: edge cases worth a deterministic check, and expiry with real waits.
fn scripted() -> Vec<Step> {
    let mut s = vec![
        // Encodings and their transitions.
        cmd(&["SET", "a", "12345"]),
        cmd(&["OBJECT", "ENCODING", "a"]),
        cmd(&["OBJECT", "REFCOUNT", "a"]),
        cmd(&["SET", "a", "123"]),
        cmd(&["OBJECT", "REFCOUNT", "a"]),
        cmd(&["APPEND", "a", "4"]),
        cmd(&["OBJECT", "ENCODING", "a"]),
        cmd(&["INCR", "a"]),
        cmd(&["OBJECT", "ENCODING", "a"]),
        cmd(&["APPEND", "new", "77"]),
        cmd(&["OBJECT", "ENCODING", "new"]),
        cmd(&["SET", "b", &"x".repeat(44)]),
        cmd(&["OBJECT", "ENCODING", "b"]),
        cmd(&["SET", "b", &"x".repeat(45)]),
        cmd(&["OBJECT", "ENCODING", "b"]),
        cmd(&["INCRBYFLOAT", "c", "1.5"]),
        cmd(&["OBJECT", "ENCODING", "c"]),
        cmd(&["SETRANGE", "d", "0", "1"]),
        cmd(&["OBJECT", "ENCODING", "d"]),
        cmd(&["SET", "d", "00"]),
        cmd(&["OBJECT", "ENCODING", "d"]),
        cmd(&["SET", "d", "9223372036854775807"]),
        cmd(&["OBJECT", "ENCODING", "d"]),
        cmd(&["INCR", "d"]),
        cmd(&["SET", "d", "-9223372036854775808"]),
        cmd(&["DECR", "d"]),
        cmd(&["DECRBY", "d", "-9223372036854775808"]),
        cmd(&["SETBIT", "e", "7", "1"]),
        cmd(&["OBJECT", "ENCODING", "e"]),
        cmd(&["COPY", "a", "{t}copy"]),
        cmd(&["OBJECT", "ENCODING", "{t}copy"]),
        // Float formatting.
        cmd(&["SET", "f", "10.50"]),
        cmd(&["INCRBYFLOAT", "f", "0.1"]),
        cmd(&["INCRBYFLOAT", "f", "-5.0e3"]),
        cmd(&["INCRBYFLOAT", "f", "1e20"]),
        cmd(&["INCRBYFLOAT", "f", "1.7976931348623157e308"]),
        cmd(&["INCRBYFLOAT", "f", "1e308"]),
        cmd(&["SET", "f", "3"]),
        cmd(&["INCRBYFLOAT", "f", "0.0000001"]),
        cmd(&["INCRBYFLOAT", "f", "-3.0000001"]),
        cmd(&["GET", "f"]),
        // LCS, same and cross shard, every option.
        cmd(&[
            "MSET",
            "{t}x",
            "ohmytext",
            "{t}y",
            "mynewtext",
            "a",
            "ohmytext",
            "n1",
            "mynewtext",
        ]),
        cmd(&["LCS", "{t}x", "{t}y"]),
        cmd(&["LCS", "a", "n1", "LEN"]),
        cmd(&["LCS", "a", "n1", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
        cmd(&["LCS", "{t}x", "{t}y", "IDX"]),
        cmd(&["LCS", "a", "n1", "LEN", "IDX"]),
        cmd(&["LCS", "a", "nokey"]),
        // BITOP and the bit commands on a known string.
        cmd(&["SET", "b", "foobar"]),
        cmd(&["BITCOUNT", "b"]),
        cmd(&["BITCOUNT", "b", "1", "1"]),
        cmd(&["BITCOUNT", "b", "5", "30", "BIT"]),
        cmd(&["BITPOS", "b", "1", "2", "-1", "BYTE"]),
        cmd(&["BITPOS", "b", "1", "7", "15", "BIT"]),
        cmd(&["BITOP", "AND", "dest", "a", "b", "{t}x"]),
        cmd(&["GET", "dest"]),
        cmd(&["BITOP", "NOT", "dest", "b"]),
        cmd(&["GET", "dest"]),
        cmd(&[
            "BITFIELD", "bf", "SET", "i8", "0", "100", "INCRBY", "i8", "0", "100", "GET", "u4", "0",
        ]),
        cmd(&[
            "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "OVERFLOW", "FAIL",
            "INCRBY", "i8", "0", "100",
        ]),
        // Keys across shards.
        cmd(&["DEL", "a", "b", "{t}x", "a", "nokey"]),
        cmd(&["MSET", "a", "1", "b", "2", "c", "3"]),
        cmd(&["EXISTS", "a", "b", "c", "a", "nokey"]),
        cmd(&["TOUCH", "a", "b", "c", "a"]),
        cmd(&["UNLINK", "c", "c"]),
        cmd(&["RENAME", "a", "n1"]),
        cmd(&["RENAME", "a", "n1"]),
        cmd(&["RENAMENX", "n1", "b"]),
        cmd(&["RENAME", "n1", "n1"]),
        cmd(&["RENAME", "nokey", "nokey"]),
        cmd(&["COPY", "n1", "n1"]),
        cmd(&["COPY", "n1", "n1", "DB", "1"]),
        cmd(&["COPY", "n1", "b"]),
        cmd(&["COPY", "n1", "b", "REPLACE"]),
        cmd(&["MOVE", "b", "0"]),
        cmd(&["MOVE", "b", "1"]),
        cmd(&["SELECT", "1"]),
        cmd(&["KEYS", "*"]),
        cmd(&["SELECT", "0"]),
        cmd(&["EXPIRE", "n1", "100000"]),
        cmd(&["RENAME", "n1", "a"]),
        cmd(&["TTL", "a"]),
        cmd(&["COPY", "a", "{t}y", "REPLACE"]),
        cmd(&["TTL", "{t}y"]),
        cmd(&["EXPIRE", "a", "100", "GT"]),
        cmd(&["EXPIRE", "a", "100", "LT"]),
        cmd(&["EXPIRE", "a", "100", "NX", "XX"]),
        cmd(&["EXPIRE", "a", "100", "GT", "LT"]),
        cmd(&["EXPIREAT", "a", "1"]),
        cmd(&["EXISTS", "a"]),
        cmd(&["SET", "a", "v", "EXAT", "1"]),
        cmd(&["GET", "a"]),
        cmd(&["SET", "a", "v", "PXAT", "9223372036854775807"]),
        cmd(&["SET", "a", "v", "EX", "9223372036854775"]),
        cmd(&["FLUSHALL"]),
    ];
    // LCS on longer strings over a small alphabet: many equally long answers, so the exact
    // matches list checks that ties are broken as Redis does. On one shard and across.
    let abc = |seed: u64, n: usize| -> String {
        let mut rng = Rng(seed);
        (0..n)
            .map(|_| char::from(b'a' + rng.below(3) as u8))
            .collect()
    };
    let (x, y) = (abc(1, 300), abc(2, 250));
    for (k1, k2) in [("{t}x", "{t}y"), ("a", "n1")] {
        s.push(cmd(&["MSET", k1, &x, k2, &y]));
        s.push(cmd(&["LCS", k1, k2]));
        s.push(cmd(&["LCS", k1, k2, "IDX", "WITHMATCHLEN"]));
        s.push(cmd(&["LCS", k2, k1, "IDX", "MINMATCHLEN", "3"]));
    }
    // Glob patterns that make a recursive matcher explode, and Redis' limit of 1000 nested
    // stars (matching gives up past it).
    for k in [
        "a".repeat(1100),
        format!("{}b", "a".repeat(999)),
        "ab".repeat(600),
    ] {
        s.push(cmd(&["SET", &k, "v"]));
    }
    for p in [
        format!("{}a", "a*".repeat(1001)),
        format!("{}a", "a*".repeat(999)),
        format!("{}*", "*a".repeat(1000)),
        "*a".repeat(1001),
        format!("{}b", "a*".repeat(500)),
        format!("{}b", "*".repeat(5000)),
        "*?".repeat(1200),
    ] {
        s.push(cmd(&["KEYS", &p]));
    }
    s.push(cmd(&["FLUSHALL"]));
    // Expiry with real time: the keys are gone after their TTL, lazily on access.
    s.extend([
        cmd(&["SET", "a", "v", "PX", "40"]),
        cmd(&["PSETEX", "n1", "40", "v"]),
        cmd(&["SET", "{t}x", "v"]),
        cmd(&["PEXPIRE", "{t}x", "40"]),
        cmd(&["GETEX", "b", "PX", "40"]),
        cmd(&["SET", "b", "v"]),
        cmd(&["GETEX", "b", "PX", "40"]),
        Step::Sleep(Duration::from_millis(150)),
        cmd(&["GET", "a"]),
        cmd(&["EXISTS", "n1"]),
        cmd(&["TTL", "{t}x"]),
        cmd(&["GET", "b"]),
        cmd(&["DBSIZE"]),
        cmd(&["FLUSHALL"]),
    ]);
    // Transactions: queued replies, runtime errors inside EXEC, queuing errors (EXECABORT),
    // misplaced control commands, SELECT and whole-database commands inside, keys on both
    // shards, and WATCH broken by the client's own writes (Redis flags every watcher).
    s.extend([
        cmd(&["MULTI"]),
        cmd(&["SET", "a", "text"]),
        cmd(&["INCR", "a"]),
        cmd(&["LPUSH", "a", "x"]),
        cmd(&["MSET", "n1", "1", "{t}x", "2"]),
        cmd(&["MGET", "a", "n1", "{t}x"]),
        cmd(&["EXEC"]),
        cmd(&["MULTI"]),
        cmd(&["SET", "a", "1"]),
        cmd(&["NOSUCH"]),
        cmd(&["GET"]),
        cmd(&["EXEC"]),
        cmd(&["GET", "a"]),
        cmd(&["EXEC"]),
        cmd(&["DISCARD"]),
        cmd(&["MULTI"]),
        cmd(&["MULTI"]),
        cmd(&["WATCH", "a"]),
        cmd(&["SELECT", "2"]),
        cmd(&["SET", "a", "in2"]),
        cmd(&["DBSIZE"]),
        cmd(&["SELECT", "0"]),
        cmd(&["DBSIZE"]),
        cmd(&["EXEC"]),
        cmd(&["MULTI"]),
        cmd(&["BLPOP", "nolist", "0"]),
        cmd(&["BZPOPMIN", "nozset", "0"]),
        cmd(&["BLMOVE", "nolist", "b", "LEFT", "LEFT", "0"]),
        cmd(&["DISCARD"]),
        cmd(&["WATCH", "a", "b"]),
        cmd(&["SET", "b", "mine"]),
        cmd(&["MULTI"]),
        cmd(&["GET", "b"]),
        cmd(&["EXEC"]),
        cmd(&["WATCH", "a", "b"]),
        cmd(&["GET", "b"]),
        cmd(&["MULTI"]),
        cmd(&["GET", "b"]),
        cmd(&["EXEC"]),
        cmd(&["WATCH", "b"]),
        cmd(&["UNWATCH"]),
        cmd(&["SET", "b", "again"]),
        cmd(&["MULTI"]),
        cmd(&["GET", "b"]),
        cmd(&["EXEC"]),
        cmd(&["FLUSHALL"]),
    ]);
    s
}

// ---------------------------------------------------------------------------------------------
// The tests

/// Both servers' replies to each of `cmds`, one connection each.
fn replies_of_both(cmds: &[&[&[u8]]]) -> Vec<(String, String)> {
    let redis = start_reference_redis();
    let shardis = Server::start(2, &[]);
    let (mut r, mut s) = (Conn::open(redis.port), Conn::open(shardis.port));
    cmds.iter()
        .map(|cmd| (show(&r.call(cmd).0), show(&s.call(cmd).0)))
        .collect()
}

#[test]
fn unknown_command_errors_quote_arguments_like_redis() {
    let long_a = vec![b'a'; 100];
    let long_b = vec![b'b'; 100];
    let cases: &[&[&[u8]]] = &[
        &[b"NOSUCH", b"a\x00b", b"c"],
        &[b"NOSUCH", b"\xff\xfe"],
        &[b"NO\x00SUCH", b"x"],
        &[b"NOSUCH", &long_a, &long_b, b"c"],
    ];
    for (i, (r, s)) in replies_of_both(cases).into_iter().enumerate() {
        assert_eq!(r, s, "case {i}");
    }
}

#[test]
fn container_subcommand_errors_quote_names_like_redis() {
    let long = vec![b'x'; 200];
    let cases: &[&[&[u8]]] = &[
        &[b"OBJECT", b"a\x00b", b"k"],
        &[b"OBJECT", b"\xff\r\n", b"k"],
        &[b"OBJECT", &long, b"k"],
        &[b"NOSUCH", b"plain", b"args"],
        &[&long],
    ];
    for (i, (r, s)) in replies_of_both(cases).into_iter().enumerate() {
        assert_eq!(r, s, "case {i}");
    }
}

/// Steps of the randomized part; `DIFF_STEPS` and `DIFF_SEED` override it and the seed,
/// to explore further than the fixed run does.
const RANDOM_STEPS: usize = 6000;

fn env_or(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Small encoding thresholds, so that collections convert after a few elements.
const SMALL_LIMITS: Limits = Limits {
    set_max_intset_entries: 16,
    set_max_listpack_entries: 8,
    set_max_listpack_value: 64,
    list_max_listpack_size: 8,
};

/// A state check ([`Step::Readback`]) after every so many random steps.
const READBACK_EVERY: usize = 250;

fn run_differential(resp3: bool, seed: u64, limits: Limits) {
    // The key pool must span both shards, and the `{t}` keys must share one.
    let shards: BTreeSet<usize> = KEYS.iter().map(|k| common::shard_of(k, 2)).collect();
    assert_eq!(shards.len(), 2, "the key pool should span both shards");
    let tagged: BTreeSet<usize> = KEYS
        .iter()
        .filter(|k| k.starts_with(b"{t}"))
        .map(|k| common::shard_of(k, 2))
        .collect();
    assert_eq!(tagged.len(), 1, "the {{t}} keys should share a shard");
    let redis = start_reference_redis();
    let shardis = Server::start(2, &[]);
    let mut pair = Pair::new(redis.port, shardis.port, limits);
    if resp3 {
        for c in [&mut pair.redis, &mut pair.shardis] {
            let (raw, v) = c.call(&[b"HELLO", b"3"]);
            assert_eq!(
                v.kind(),
                b'%',
                "HELLO 3 should answer a map: {}",
                show(&raw)
            );
        }
    }
    let (_, version) = pair.redis.call(&[b"INFO", b"server"]);
    if let Val::Blob(_, info) = version {
        let info = String::from_utf8_lossy(&info);
        if let Some(v) = info.lines().find(|l| l.starts_with("redis_version:")) {
            eprintln!("reference: {v}");
        }
    }
    let small = limits.set_max_intset_entries != DEFAULT_LIMITS.set_max_intset_entries;
    if small {
        let (intset, lp) = (
            limits.set_max_intset_entries,
            limits.set_max_listpack_entries,
        );
        let settings = [
            ("hash-max-listpack-entries", "16".to_string()),
            ("zset-max-listpack-entries", "16".to_string()),
            ("set-max-intset-entries", intset.to_string()),
            (
                "list-max-listpack-size",
                limits.list_max_listpack_size.to_string(),
            ),
            ("hll-sparse-max-bytes", "200".to_string()),
        ];
        for (name, value) in &settings {
            let cmd: Vec<Vec<u8>> = vec![arg("CONFIG"), arg("SET"), arg(name), arg(value)];
            let (r, s) = pair.both(&cmd);
            assert_eq!(
                (&r.0[..], &s.0[..]),
                (&b"+OK\r\n"[..], &b"+OK\r\n"[..]),
                "{name}"
            );
        }
        // 7.2 only.
        let lp = lp.to_string();
        let (_, s) = pair.shardis.call(&[
            b"CONFIG",
            b"SET",
            b"set-max-listpack-entries",
            lp.as_bytes(),
        ]);
        assert_eq!(s, Val::Line(b'+', b"OK".to_vec()));
    }
    for step in scripted().into_iter().chain(scripted_collections()) {
        pair.step(step);
    }
    let now = unix_now();
    let seed = env_or("DIFF_SEED", seed);
    eprintln!("seed: {seed}");
    let mut rng = Rng(seed);
    for i in 0..env_or("DIFF_STEPS", RANDOM_STEPS as u64) as usize {
        let step = random_step(&mut rng, now);
        pair.step(step);
        if i % READBACK_EVERY == READBACK_EVERY - 1 {
            pair.step(Step::Readback);
        }
    }
    // The final state, key by key, in every database the sequence used.
    for db in [b"0", b"1", b"2"] {
        pair.call(&[b"SELECT", db]);
        for k in KEYS {
            pair.call(&[b"EXISTS", k]);
        }
        pair.call(&[b"DBSIZE"]);
        pair.step(Step::Readback);
        for k in KEYS {
            pair.call(&[b"TTL", k]);
        }
    }
    pair.finish(if resp3 { "RESP3" } else { "RESP2" });
}

#[test]
fn commands_answer_like_redis_over_resp2() {
    run_differential(false, 0x5eed_0001, SMALL_LIMITS);
}

#[test]
fn commands_answer_like_redis_over_resp3() {
    run_differential(true, 0x5eed_0002, DEFAULT_LIMITS);
}
