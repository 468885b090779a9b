//! Decoding: every encoding Redis 7.0-7.2 writes (plain, ziplist, listpack, intset, zipmap,
//! quicklist, stream listpacks v1-v3, functions), into Shardis' values.
//!
//! Values are built directly, element by element, with the encodings the limits choose,
//! as the commands that add elements would choose them (a listpack hash of 1000 fields in
//! the file becomes a hashtable when `hash-max-listpack-entries` is 512). As Redis' loader:
//! an empty collection is skipped; repeated members of a hash, set or sorted set, NaN scores,
//! and blobs that fail their integrity checks are errors; IDLE and FREQ are read and
//! ignored (Shardis keeps no LRU/LFU state from a file). Streams keep their nodes as the file
//! holds them (tombstones included; a node without live entries is dropped).
//!
//! Not supported, with an error naming it: module values and MODULE_AUX data, the FUNCTION
//! opcode of Redis 7.0's release candidates, RDB versions above 11.

use super::input::{Input, Result};
use super::listpack::{self, Elem};
use super::{container, intset, kind, opcode, stream, ziplist, READ_VERSION};
use shard::hash::HashValue;
use shard::limits::Limits;
use shard::list::ListValue;
use shard::set::SetValue;
use shard::snapshot::AccessValue;
use shard::string::StrValue;
use shard::zset::{parse_score, ZSetValue};
use shard::{Entry, Value};
use std::io::Read;

/// What an RDB file holds, in file order.
pub enum Item {
    /// An AUX field (`repl-id`, `redis-ver`...).
    Aux { key: Vec<u8>, value: Vec<u8> },
    /// A FUNCTION2 library's code.
    Function(Vec<u8>),
    /// One key of database `db`, with its expiry in `entry.expire_at` (0: none) and the
    /// idle time (IDLE) or LFU counter (FREQ) the file recorded for it, which the loader
    /// turns into access data under its own eviction policy.
    Key {
        db: usize,
        key: Vec<u8>,
        entry: Entry,
        access: Option<AccessValue>,
    },
}

/// Why a file could not be read, as a line for the log / an error reply.
#[derive(Debug)]
pub struct RdbError(pub String);

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RdbError {}

/// Members allocated ahead of their arrival at most (a count in the file may lie).
const PREALLOC_MEMBERS: u64 = 1 << 16;

/// Reads a whole RDB file from `input`, calling `sink` with each item; stops at the first
/// error (its own, or one `sink` returns). Verifies the checksum when the file has one.
/// Values get the encodings `limits` choose (as if built by commands on a shard with them).
///
/// Reads exactly the file's bytes and no more (a socket may carry data after it), in small
/// reads: wrap an unbuffered source in a `BufReader`. The checksum is verified at the end:
/// when this fails, the items already handed to `sink` are the caller's to discard. Keys
/// whose expiry passed are handed over like the others (the caller decides: a master drops
/// them, a replica keeps them); an expiry at or before the epoch becomes 1 ms after it.
pub fn read_rdb<R: std::io::Read>(
    input: R,
    limits: &shard::limits::Limits,
    sink: &mut dyn FnMut(Item) -> std::result::Result<(), String>,
) -> std::result::Result<(), RdbError> {
    let mut r = Input::new(input);
    let magic: [u8; 9] = r.array()?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError("not an RDB file (wrong signature)".into()));
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u16>().ok())
        .ok_or_else(|| RdbError("not an RDB file (bad version)".into()))?;
    if version == 0 || version > READ_VERSION {
        return Err(RdbError(format!(
            "RDB format version {version} is not supported (versions 1 to {READ_VERSION} are)"
        )));
    }
    let sunk = |r: std::result::Result<(), String>| r.map_err(RdbError);
    let mut db = 0usize;
    let mut expire: Option<i64> = None;
    let mut access: Option<AccessValue> = None;
    loop {
        let t = r.u8()?;
        match t {
            opcode::EXPIRETIME => {
                expire = Some(i32::from_le_bytes(r.array()?) as i64 * 1000);
            }
            opcode::EXPIRETIME_MS => expire = Some(r.i64_le()?),
            opcode::FREQ => access = Some(AccessValue::Freq(r.u8()?)),
            opcode::IDLE => access = Some(AccessValue::Idle(r.len()?)),
            opcode::EOF => break,
            opcode::SELECTDB => {
                let n = r.len()?;
                db = usize::try_from(n).map_err(|_| r.corrupt("database index too large"))?;
            }
            opcode::RESIZEDB => {
                r.len()?;
                r.len()?;
            }
            opcode::AUX => {
                let key = r.string()?;
                let value = r.string()?;
                sunk(sink(Item::Aux { key, value }))?;
            }
            opcode::MODULE_AUX => {
                return Err(
                    r.corrupt("module data (MODULE_AUX) is not supported: Shardis has no modules")
                );
            }
            opcode::FUNCTION => {
                return Err(r.corrupt(
                    "a function library in the format of Redis 7.0's release candidates \
                     (FUNCTION opcode) is not supported",
                ));
            }
            opcode::FUNCTION2 => {
                let code = r.string()?;
                sunk(sink(Item::Function(code)))?;
            }
            _ => {
                let key = r.string()?;
                let value = read_value(&mut r, t, limits)
                    .map_err(|e| RdbError(format!("key '{}': {}", show(&key), e.0)))?;
                if let Some(value) = value {
                    let mut entry = Entry::new(value);
                    entry.expire_at = expire.map_or(0, |ms| ms.max(1) as u64);
                    sunk(sink(Item::Key {
                        db,
                        key,
                        entry,
                        access,
                    }))?;
                }
                expire = None;
                access = None;
            }
        }
    }
    if version >= 5 {
        let expected = r.crc();
        let stored = u64::from_le_bytes(r.array()?);
        // 0: saved with rdbchecksum no.
        if stored != 0 && stored != expected {
            return Err(RdbError(format!(
                "wrong RDB checksum: the file says {stored:016x}, its contents {expected:016x}"
            )));
        }
    }
    Ok(())
}

/// One value without its key, as a DUMP payload's body holds it: the type byte, then the
/// value. An empty collection is an error (Redis' loader refuses to RESTORE one); bytes
/// after the value are ignored, as Redis ignores them.
pub fn read_value_only(body: &[u8], limits: &Limits) -> std::result::Result<Value, RdbError> {
    let mut r = Input::new(body);
    let t = r.u8()?;
    read_value(&mut r, t, limits)?.ok_or_else(|| r.corrupt("an empty collection"))
}

/// A key for an error message: lossy, and not too long.
fn show(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(&key[..key.len().min(64)]).into_owned();
    if key.len() > 64 {
        text + "..."
    } else {
        text
    }
}

/// The value of type `t`; None for an empty collection (Redis skips those).
fn read_value<R: Read>(r: &mut Input<R>, t: u8, limits: &Limits) -> Result<Option<Value>> {
    let value = match t {
        kind::STRING => Value::Str(string_value(r.string()?)),
        kind::LIST => {
            let mut l = ListValue::default();
            for _ in 0..r.len()? {
                l.push_back(&r.string()?, limits);
            }
            Value::List(Box::new(l))
        }
        kind::LIST_ZIPLIST => {
            let blob = r.string()?;
            let mut l = ListValue::default();
            push_elems(
                &mut l,
                &ziplist::decode(&blob).map_err(|e| r.corrupt(e))?,
                limits,
            );
            Value::List(Box::new(l))
        }
        kind::LIST_QUICKLIST | kind::LIST_QUICKLIST_2 => {
            Value::List(Box::new(quicklist(r, t, limits)?))
        }
        kind::SET => {
            let len = r.len()?;
            // Redis' loader: a hashtable from the start beyond set-max-intset-entries.
            let mut s = if len > intset_max(limits) {
                SetValue::new_hashtable(len.min(PREALLOC_MEMBERS) as usize)
            } else {
                SetValue::default()
            };
            for _ in 0..len {
                let m = r.string()?;
                add_member(r, &mut s, &m, limits)?;
            }
            Value::Set(Box::new(s))
        }
        kind::SET_INTSET => {
            let blob = r.string()?;
            let mut s = SetValue::default();
            let mut digits = itoa::Buffer::new();
            for v in intset::decode(&blob).map_err(|e| r.corrupt(e))? {
                add_member(r, &mut s, digits.format(v).as_bytes(), limits)?;
            }
            Value::Set(Box::new(s))
        }
        kind::SET_LISTPACK => {
            let blob = r.string()?;
            let mut s = SetValue::new_listpack();
            for e in listpack::decode(&blob).map_err(|e| r.corrupt(e))? {
                e.with_bytes(|m| add_member(r, &mut s, m, limits))?;
            }
            Value::Set(Box::new(s))
        }
        kind::ZSET | kind::ZSET_2 => {
            let len = r.len()?;
            let mut z = ZSetValue::with_hint(zset_hint(len, limits), 0, limits);
            for _ in 0..len {
                let m = r.string()?;
                let score = if t == kind::ZSET_2 {
                    f64::from_le_bytes(r.array()?)
                } else {
                    text_score(r)?
                };
                insert_member(r, &mut z, &m, score, limits)?;
            }
            Value::ZSet(Box::new(z))
        }
        kind::ZSET_ZIPLIST | kind::ZSET_LISTPACK => {
            let blob = r.string()?;
            let elems = if t == kind::ZSET_LISTPACK {
                listpack::decode(&blob)
            } else {
                ziplist::decode(&blob)
            }
            .map_err(|e| r.corrupt(e))?;
            if elems.len() % 2 != 0 {
                return Err(r.corrupt("sorted set listpack with an odd number of elements"));
            }
            let len = (elems.len() / 2) as u64;
            let mut z = ZSetValue::with_hint(zset_hint(len, limits), 0, limits);
            for pair in elems.chunks_exact(2) {
                let score = match pair[1] {
                    Elem::Int(v) => v as f64,
                    Elem::Str(s) => {
                        parse_score(s).ok_or_else(|| r.corrupt("sorted set score not a number"))?
                    }
                };
                pair[0].with_bytes(|m| insert_member(r, &mut z, m, score, limits))?;
            }
            Value::ZSet(Box::new(z))
        }
        kind::HASH => {
            let len = r.len()?;
            let mut h = HashValue::with_capacity(hash_hint(len, limits), limits);
            for _ in 0..len {
                let f = r.string()?;
                let v = r.string()?;
                set_field(r, &mut h, &f, &v, limits)?;
            }
            Value::Hash(Box::new(h))
        }
        kind::HASH_ZIPMAP => {
            let blob = r.string()?;
            let pairs = ziplist::decode_zipmap(&blob).map_err(|e| r.corrupt(e))?;
            let mut h = HashValue::with_capacity(hash_hint(pairs.len() as u64, limits), limits);
            for (f, v) in pairs {
                set_field(r, &mut h, f, v, limits)?;
            }
            Value::Hash(Box::new(h))
        }
        kind::HASH_ZIPLIST | kind::HASH_LISTPACK => {
            let blob = r.string()?;
            let elems = if t == kind::HASH_LISTPACK {
                listpack::decode(&blob)
            } else {
                ziplist::decode(&blob)
            }
            .map_err(|e| r.corrupt(e))?;
            if elems.len() % 2 != 0 {
                return Err(r.corrupt("hash listpack with an odd number of elements"));
            }
            let len = (elems.len() / 2) as u64;
            let mut h = HashValue::with_capacity(hash_hint(len, limits), limits);
            let mut digits = itoa::Buffer::new();
            for pair in elems.chunks_exact(2) {
                let v = pair[1];
                pair[0].with_bytes(|f| match v {
                    Elem::Str(v) => set_field(r, &mut h, f, v, limits),
                    Elem::Int(v) => set_field(r, &mut h, f, digits.format(v).as_bytes(), limits),
                })?;
            }
            Value::Hash(Box::new(h))
        }
        kind::STREAM_LISTPACKS | kind::STREAM_LISTPACKS_2 | kind::STREAM_LISTPACKS_3 => {
            // A stream is a key even when empty.
            return Ok(Some(Value::Stream(Box::new(stream::read(r, t)?))));
        }
        kind::MODULE | kind::MODULE_2 => {
            return Err(r.corrupt("module values are not supported: Shardis has no modules"));
        }
        _ => return Err(r.corrupt(format_args!("unknown value type {t}"))),
    };
    let empty = match &value {
        Value::Str(_) | Value::Stream(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Hash(h) => h.is_empty(),
    };
    Ok((!empty).then_some(value))
}

/// Strings from this size on keep the buffer they were read into (a `raw` string, as
/// OBJECT ENCODING names every string beyond 44 bytes) instead of a copy.
const KEEP_BUFFER: usize = 64 << 10;

/// A string value as SET would store it (an integer when it is one's canonical text).
fn string_value(bytes: Vec<u8>) -> StrValue {
    if bytes.len() >= KEEP_BUFFER {
        StrValue::raw(bytes)
    } else {
        StrValue::from_bytes(&bytes)
    }
}

/// LIST_QUICKLIST (ziplist nodes) and LIST_QUICKLIST_2 (listpack or plain nodes).
fn quicklist<R: Read>(r: &mut Input<R>, t: u8, limits: &Limits) -> Result<ListValue> {
    let mut l = ListValue::default();
    for _ in 0..r.len()? {
        let node = if t == kind::LIST_QUICKLIST_2 {
            r.len()?
        } else {
            container::PACKED
        };
        if node != container::PACKED && node != container::PLAIN {
            return Err(r.corrupt(format_args!("unknown quicklist node container {node}")));
        }
        let blob = r.string()?;
        if blob.is_empty() {
            return Err(r.corrupt("empty quicklist node"));
        }
        if node == container::PLAIN {
            l.push_back(&blob, limits);
            continue;
        }
        let elems = if t == kind::LIST_QUICKLIST_2 {
            listpack::decode(&blob)
        } else {
            ziplist::decode(&blob)
        }
        .map_err(|e| r.corrupt(e))?;
        push_elems(&mut l, &elems, limits);
    }
    Ok(l)
}

fn push_elems(l: &mut ListValue, elems: &[Elem], limits: &Limits) {
    for e in elems {
        e.with_bytes(|v| l.push_back(v, limits));
    }
}

/// Redis caps intsets at 2^30 members whatever `set-max-intset-entries` says.
fn intset_max(limits: &Limits) -> u64 {
    limits.set_max_intset_entries.min(1 << 30) as u64
}

fn add_member<R: Read>(r: &Input<R>, s: &mut SetValue, m: &[u8], limits: &Limits) -> Result<()> {
    if s.add(m, limits) {
        Ok(())
    } else {
        Err(r.corrupt("duplicate set member"))
    }
}

/// A size hint for a collection of `len` members (from the file) that picks the encoding
/// `len` would pick with a limit of `max` small-encoding entries, without reserving room for
/// more members than [`PREALLOC_MEMBERS`] unless the limit itself is larger.
fn capped_hint(len: u64, max: usize) -> usize {
    len.min((max as u64).saturating_add(1).max(PREALLOC_MEMBERS)) as usize
}

fn zset_hint(len: u64, limits: &Limits) -> usize {
    capped_hint(len, limits.zset_max_listpack_entries)
}

fn hash_hint(len: u64, limits: &Limits) -> usize {
    capped_hint(len, limits.hash_max_listpack_entries)
}

fn insert_member<R: Read>(
    r: &Input<R>,
    z: &mut ZSetValue,
    m: &[u8],
    score: f64,
    limits: &Limits,
) -> Result<()> {
    if score.is_nan() {
        return Err(r.corrupt("sorted set with a NaN score"));
    }
    if z.insert(m, score, limits) {
        Ok(())
    } else {
        Err(r.corrupt("duplicate sorted set member"))
    }
}

/// A score of the old ZSET type: a length byte (253 NaN, 254 +inf, 255 -inf) and text.
fn text_score<R: Read>(r: &mut Input<R>) -> Result<f64> {
    Ok(match r.u8()? {
        253 => f64::NAN,
        254 => f64::INFINITY,
        255 => f64::NEG_INFINITY,
        n => {
            let text = r.bytes(n as u64)?;
            parse_score(&text).ok_or_else(|| r.corrupt("sorted set score not a number"))?
        }
    })
}

fn set_field<R: Read>(
    r: &Input<R>,
    h: &mut HashValue,
    f: &[u8],
    v: &[u8],
    limits: &Limits,
) -> Result<()> {
    if h.set(f, v, limits) {
        Ok(())
    } else {
        Err(r.corrupt("duplicate hash field"))
    }
}
