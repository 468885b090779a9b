//! Hashes (t_hash.c in Redis): the hash value type and the hash command family.
//!
//! A hash starts as a `listpack` ([`pack`]: one byte buffer, insertion order) and becomes a
//! `hashtable` ([`table`]) for good once it outgrows `hash-max-listpack-entries` pairs or
//! receives a field or value longer than `hash-max-listpack-value` bytes, at exactly the
//! points where Redis 7.2 converts: `hashTypeTryConversion` before HSET/HMSET/HSETNX write
//! (so HSET with more pairs than the limit converts even if the fields repeat), and
//! `hashTypeSet`'s checks on every write, HINCRBY and HINCRBYFLOAT included.

mod pack;
mod table;

use crate::cmd::Cmd;
use crate::db::{Db, Entry};
use crate::limits::Limits;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::scan::{parse_collection_scan, parse_cursor, ERR_INVALID_CURSOR};
use crate::shard::Ctx;
use crate::string::long_double::LongDouble;
use crate::value::{Value, WrongType};
use pack::{Pack, PackIter};
use table::{Table, TableIter};

const ERR_HASH_NOT_INT: &str = "ERR hash value is not an integer";
const ERR_HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const ERR_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";
const ERR_RESULT_NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
const ERR_OUT_OF_RANGE: &str = "ERR value is out of range";
/// HRANDFIELD's count must lie in [-LONG_MAX, LONG_MAX] (getRangeLongFromObjectOrReply).
const ERR_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// Redis' `LISTPACK_MAX_SAFETY_SIZE`: a listpack never grows past 1 GB.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

// ---------------------------------------------------------------------------------------------
// The value type
// ---------------------------------------------------------------------------------------------

/// A hash value: field/value pairs of binary strings.
#[derive(Clone, Default)]
pub struct HashValue(Repr);

#[derive(Clone)]
enum Repr {
    Pack(Pack),
    Table(Box<Table>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Pack(Pack::default())
    }
}

/// The pairs of a hash: in insertion order for a listpack, in table order otherwise.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Pack(PackIter<'a>),
    Table(TableIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Pack(i) => i.next(),
            IterRepr::Table(i) => i.next(),
        }
    }
}

impl HashValue {
    /// An empty hash (listpack encoded).
    pub fn new() -> HashValue {
        HashValue::default()
    }

    /// An empty hash about to receive `pairs` pairs, encoded as HSET with that many pairs
    /// would leave it (`hashTypeTryConversion`): a hashtable with room for them beyond
    /// `hash-max-listpack-entries`, else a listpack (building a hash pair by pair with
    /// [`set`](Self::set): loading an RDB file). The caller caps `pairs` it did not count.
    pub fn with_capacity(pairs: usize, limits: &Limits) -> HashValue {
        let mut h = HashValue::new();
        if pairs > limits.hash_max_listpack_entries {
            h.convert(pairs);
        }
        h
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Pack(p) => p.len(),
            Repr::Table(t) => t.len(),
        }
    }

    /// True when the hash has no field (a stored hash never is: empty hashes are deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match &self.0 {
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes held.
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Pack(p) => p.bytes(),
            Repr::Table(t) => std::mem::size_of::<Table>() + t.heap_size(),
        }
    }

    /// The pairs (listpack: insertion order).
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.0 {
            Repr::Pack(p) => IterRepr::Pack(p.iter()),
            Repr::Table(t) => IterRepr::Table(t.iter()),
        })
    }

    /// Visits every pair, in [`HashValue::iter`]'s order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.iter().for_each(|(k, v)| f(k, v))
    }

    /// The value of `field` (also what SORT's `BY`/`GET key->field` patterns read).
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.0 {
            Repr::Pack(p) => p.get(field),
            Repr::Table(t) => t.get(field),
        }
    }

    /// Whether `field` is present.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value` as Redis' `hashTypeSet`: a listpack first becomes a hashtable
    /// if either string is longer than `hash-max-listpack-value`, and afterwards if it has
    /// more than `hash-max-listpack-entries` pairs. True when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        if let Repr::Pack(_) = self.0 {
            let max = limits.hash_max_listpack_value;
            if field.len() > max || value.len() > max {
                self.convert(0);
            }
        }
        match &mut self.0 {
            Repr::Pack(p) => {
                let new = p.set(field, value);
                if p.len() > limits.hash_max_listpack_entries {
                    self.convert(0);
                }
                new
            }
            Repr::Table(t) => t.set(field, value),
        }
    }

    /// Redis' `hashTypeTryConversion` before a write of the `field value ...` arguments
    /// `args`: a listpack becomes a hashtable when the arguments hold more pairs than
    /// `hash-max-listpack-entries` (even if fields repeat), when any of them is longer than
    /// `hash-max-listpack-value`, or when they would take the listpack past 1 GB.
    pub fn prepare<'a>(&mut self, args: impl ExactSizeIterator<Item = &'a [u8]>, limits: &Limits) {
        let Repr::Pack(p) = &self.0 else {
            return;
        };
        let new_fields = args.len() / 2;
        if new_fields > limits.hash_max_listpack_entries {
            self.convert(new_fields);
            return;
        }
        let mut sum = 0usize;
        for a in args {
            if a.len() > limits.hash_max_listpack_value {
                self.convert(0);
                return;
            }
            sum += a.len();
        }
        if p.bytes().saturating_add(sum) > LISTPACK_MAX_SAFETY_SIZE {
            self.convert(0);
        }
    }

    /// Removes `field`; true when it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Pack(p) => p.remove(field),
            Repr::Table(t) => t.remove(field),
        }
    }

    /// Turns a listpack into a hashtable sized for at least `reserve` pairs.
    fn convert(&mut self, reserve: usize) {
        if let Repr::Pack(p) = &self.0 {
            let mut t = Table::with_capacity(p.len().max(reserve));
            for (f, v) in p.iter() {
                t.insert_new(f, v);
            }
            self.0 = Repr::Table(Box::new(t));
        }
    }

    /// Random access to the pairs for HRANDFIELD: O(1) per pick on a hashtable; a listpack
    /// is indexed once.
    fn indexed(&self) -> Indexed<'_> {
        match &self.0 {
            Repr::Pack(p) => Indexed::Pairs(p.iter().collect()),
            Repr::Table(t) => Indexed::Table(t),
        }
    }
}

enum Indexed<'a> {
    Pairs(Vec<(&'a [u8], &'a [u8])>),
    Table(&'a Table),
}

impl<'a> Indexed<'a> {
    fn at(&self, i: usize) -> (&'a [u8], &'a [u8]) {
        match self {
            Indexed::Pairs(v) => v[i],
            Indexed::Table(t) => t.at(i),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

/// The hash at `key` for a reading command (counts a keyspace hit or miss).
pub fn lookup_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a HashValue>, WrongType> {
    match db.get(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        Some(_) => Err(WrongType),
    }
}

/// The hash at `key` for a writing command; changing it in place keeps the key's TTL.
pub fn lookup_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut HashValue>, WrongType> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(Entry {
            value: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        Some(_) => Err(WrongType),
    }
}

/// The hash at `key`, created empty when missing (Redis' `hashTypeLookupWriteOrCreate`).
/// Callers always add a field to a hash they created, so no empty hash is left behind.
fn lookup_create<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<&'a mut HashValue, WrongType> {
    if lookup_write(db, key, now)?.is_none() {
        db.set(key, Value::Hash(Box::new(HashValue::new())), 0, now);
    }
    lookup_write(db, key, now)?.ok_or(WrongType)
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// HSET key field value [field value ...] and HMSET (which answers +OK instead of the count
/// of new fields).
pub fn hset(ctx: &mut Ctx, cmd: &Cmd) {
    if cmd.len() % 2 == 1 {
        return ctx.out.error(&err::arity(&cmd[0]));
    }
    let limits = ctx.limits;
    let h = match lookup_create(ctx.db, &cmd[1], ctx.now) {
        Ok(h) => h,
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
    };
    h.prepare(cmd.args().skip(2), limits);
    let mut created = 0;
    for i in (2..cmd.len()).step_by(2) {
        created += h.set(&cmd[i], &cmd[i + 1], limits) as i64;
    }
    if cmd[0][1].eq_ignore_ascii_case(&b's') {
        ctx.out.int(created);
    } else {
        ctx.out.ok();
    }
    ctx.wrote((cmd.len() as u64 - 2) / 2);
    ctx.notify(notify::HASH, "hset", &cmd[1]);
}

/// HSETNX key field value
pub fn hsetnx(ctx: &mut Ctx, cmd: &Cmd) {
    let limits = ctx.limits;
    let h = match lookup_create(ctx.db, &cmd[1], ctx.now) {
        Ok(h) => h,
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
    };
    if h.contains(&cmd[2]) {
        return ctx.out.int(0);
    }
    h.prepare(cmd.args().skip(2), limits);
    h.set(&cmd[2], &cmd[3], limits);
    ctx.out.int(1);
    ctx.wrote(1);
    ctx.notify(notify::HASH, "hset", &cmd[1]);
}

/// HGET key field
pub fn hget(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(h) => reply_field(ctx.out, h, &cmd[2]),
    }
}

fn reply_field(out: &mut Reply, h: Option<&HashValue>, field: &[u8]) {
    match h.and_then(|h| h.get(field)) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
}

/// HMGET key field [field ...]: a missing key is an empty hash (all nulls).
pub fn hmget(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(h) => {
            ctx.out.array(cmd.len() - 2);
            for f in cmd.args().skip(2) {
                reply_field(ctx.out, h, f);
            }
        }
    }
}

/// HDEL key field [field ...]; the key goes when its last field does.
pub fn hdel(ctx: &mut Ctx, cmd: &Cmd) {
    let h = match lookup_write(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(h)) => h,
    };
    let mut deleted = 0;
    for f in cmd.args().skip(2) {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let emptied = h.is_empty();
    if deleted > 0 {
        ctx.notify(notify::HASH, "hdel", &cmd[1]);
    }
    ctx.delete_if_emptied(&cmd[1], emptied);
    ctx.wrote(deleted);
    ctx.out.int(deleted as i64);
}

/// HLEN key
pub fn hlen(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(h) => ctx.out.int(h.map_or(0, HashValue::len) as i64),
    }
}

/// HEXISTS key field
pub fn hexists(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(h) => ctx.out.int(h.is_some_and(|h| h.contains(&cmd[2])) as i64),
    }
}

/// HSTRLEN key field
pub fn hstrlen(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(h) => ctx
            .out
            .int(h.and_then(|h| h.get(&cmd[2])).map_or(0, <[u8]>::len) as i64),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

/// HGETALL key: a map under RESP3.
pub fn hgetall(ctx: &mut Ctx, cmd: &Cmd) {
    get_all(ctx, cmd, Part::Both)
}

/// HKEYS key
pub fn hkeys(ctx: &mut Ctx, cmd: &Cmd) {
    get_all(ctx, cmd, Part::Fields)
}

/// HVALS key
pub fn hvals(ctx: &mut Ctx, cmd: &Cmd) {
    get_all(ctx, cmd, Part::Values)
}

fn get_all(ctx: &mut Ctx, cmd: &Cmd, part: Part) {
    let h = match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(h) => h,
    };
    let n = h.map_or(0, HashValue::len);
    if part == Part::Both {
        ctx.out.map(n);
    } else {
        ctx.out.array(n);
    }
    for (f, v) in h.into_iter().flat_map(HashValue::iter) {
        if part != Part::Values {
            ctx.out.bulk(f);
        }
        if part != Part::Fields {
            ctx.out.bulk(v);
        }
    }
}

/// HINCRBY key field increment
pub fn hincrby(ctx: &mut Ctx, cmd: &Cmd) {
    let Some(incr) = parse_i64(&cmd[3]) else {
        return ctx.out.error(err::NOT_INT);
    };
    let limits = ctx.limits;
    let h = match lookup_create(ctx.db, &cmd[1], ctx.now) {
        Ok(h) => h,
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
    };
    let old = match h.get(&cmd[2]) {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(n) => n,
            None => return ctx.out.error(ERR_HASH_NOT_INT),
        },
    };
    let Some(new) = old.checked_add(incr) else {
        return ctx.out.error(err::OVERFLOW);
    };
    h.set(&cmd[2], itoa::Buffer::new().format(new).as_bytes(), limits);
    ctx.out.int(new);
    ctx.wrote(1);
    ctx.notify(notify::HASH, "hincrby", &cmd[1]);
}

/// HINCRBYFLOAT key field increment, in the `long double` arithmetic and formatting of
/// Redis on x86-64 (as INCRBYFLOAT). The stored value is the reply's text; the effect is
/// `HSET key field <that text>`.
pub fn hincrbyfloat(ctx: &mut Ctx, cmd: &Cmd) {
    let Some(incr) = LongDouble::parse(&cmd[3]) else {
        return ctx.out.error(err::NOT_FLOAT);
    };
    if !incr.is_finite() {
        return ctx.out.error(ERR_NAN_OR_INFINITY);
    }
    let limits = ctx.limits;
    let h = match lookup_create(ctx.db, &cmd[1], ctx.now) {
        Ok(h) => h,
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
    };
    let old = match h.get(&cmd[2]) {
        None => LongDouble::ZERO,
        Some(v) => match LongDouble::parse(v) {
            Some(n) => n,
            None => return ctx.out.error(ERR_HASH_NOT_FLOAT),
        },
    };
    let sum = old + incr;
    if !sum.is_finite() {
        return ctx.out.error(ERR_RESULT_NAN_OR_INFINITY);
    }
    let text = sum.to_human_string();
    h.set(&cmd[2], text.as_bytes(), limits);
    ctx.out.bulk(text.as_bytes());
    ctx.wrote(1);
    ctx.notify(notify::HASH, "hincrbyfloat", &cmd[1]);
    // As Redis: HSET of the final value, so no replay depends on float precision or
    // formatting.
    if ctx.propagating() {
        ctx.propagate([&b"HSET"[..], &cmd[1], &cmd[2], text.as_bytes()]);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
pub fn hrandfield(ctx: &mut Ctx, cmd: &Cmd) {
    if cmd.len() >= 3 {
        let count = match parse_i64(&cmd[2]) {
            None => return ctx.out.error(err::NOT_INT),
            Some(i64::MIN) => return ctx.out.error(ERR_COUNT_RANGE),
            Some(n) => n,
        };
        let withvalues = cmd.len() == 4;
        if cmd.len() > 4 || (withvalues && !cmd[3].eq_ignore_ascii_case(b"withvalues")) {
            return ctx.out.error(err::SYNTAX);
        }
        // Redis keeps count * 2 representable when it also returns values.
        if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return ctx.out.error(ERR_OUT_OF_RANGE);
        }
        return random_fields(ctx, &cmd[1], count, withvalues);
    }
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(None) => ctx.out.null(),
        Ok(Some(h)) => {
            let i = ctx.rng.below(h.len() as u64) as usize;
            ctx.out.bulk(h.indexed().at(i).0);
        }
    }
}

/// HRANDFIELD with a count: distinct fields for a positive count (the whole hash when it
/// asks for as many or more), `-count` independent picks for a negative one. With values,
/// RESP2 gets a flat array and RESP3 an array of [field, value] pairs, as in Redis 7.2.
fn random_fields(ctx: &mut Ctx, key: &[u8], count: i64, withvalues: bool) {
    let h = match lookup_read(ctx.db, key, ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(None) => return ctx.out.array(0),
        Ok(Some(h)) => h,
    };
    let (n, unique) = (count.unsigned_abs(), count >= 0);
    if n == 0 {
        return ctx.out.array(0);
    }
    let size = h.len() as u64;
    let pairs = withvalues && ctx.out.resp3;
    let per_item = if withvalues && !pairs { 2 } else { 1 };
    let emit = |out: &mut Reply, (f, v): (&[u8], &[u8])| {
        if pairs {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    if !unique || n == 1 {
        // Redis writes this reply whatever its size (and stops only if the client is
        // dropped); here a reply that cannot fit in proto-max-bulk-len (at 6 bytes for the
        // smallest element) is refused instead of exhausting memory.
        if n.saturating_mul(6 * per_item) > ctx.max_string_len {
            return ctx.out.error(ERR_OUT_OF_RANGE);
        }
        ctx.out.array((n * per_item) as usize);
        let idx = h.indexed();
        for _ in 0..n {
            let i = ctx.rng.below(size) as usize;
            emit(ctx.out, idx.at(i));
        }
        return;
    }
    if n >= size {
        ctx.out.array((size * per_item) as usize);
        for p in h.iter() {
            emit(ctx.out, p);
        }
        return;
    }
    ctx.out.array((n * per_item) as usize);
    let idx = h.indexed();
    let mut picked = sample_distinct(ctx.rng, size as usize, n as usize);
    if let Indexed::Pairs(_) = idx {
        // Like Redis for a listpack: distinct picks in the hash's order.
        picked.sort_unstable();
    }
    for i in picked {
        emit(ctx.out, idx.at(i));
    }
}

/// `k` distinct indexes of `0..n` (k < n), uniformly: a partial Fisher-Yates shuffle when
/// `k` is a good part of `n`, Floyd's algorithm (memory in `k` only) otherwise.
fn sample_distinct(rng: &mut crate::rng::Rng, n: usize, k: usize) -> Vec<usize> {
    if k.saturating_mul(3) > n {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below((n - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(k);
        return all;
    }
    let mut chosen = ahash::AHashSet::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    for j in n - k..n {
        let t = rng.below(j as u64 + 1) as usize;
        let pick = if chosen.contains(&t) { j } else { t };
        chosen.insert(pick);
        out.push(pick);
    }
    out
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A listpack hash answers everything in one call with cursor 0 (COUNT is ignored, as in
/// Redis); a hashtable is walked with Redis' reverse-binary bucket cursor.
pub fn hscan(ctx: &mut Ctx, cmd: &Cmd) {
    // Redis checks the cursor, then the key, and only then the options.
    if parse_cursor(&cmd[2]).is_none() {
        return ctx.out.error(ERR_INVALID_CURSOR);
    }
    let h = match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(None) => {
            ctx.out.array(2);
            ctx.out.bulk(b"0");
            return ctx.out.array(0);
        }
        Ok(Some(h)) => h,
    };
    let (cursor, opts) = match parse_collection_scan(cmd) {
        Ok(x) => x,
        Err(e) => return ctx.out.error(e),
    };
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = match &h.0 {
        Repr::Pack(p) => {
            found.extend(p.iter().filter(|(f, _)| opts.matches(f)));
            0
        }
        Repr::Table(t) => {
            // As Redis 7.2: visit buckets until COUNT fields were seen (matching or not) or
            // 10 x COUNT more buckets were visited.
            let mut cursor = cursor;
            let mut seen = 0usize;
            let mut budget = opts.count.saturating_mul(10);
            loop {
                cursor = t.scan(cursor, |f, v| {
                    seen += 1;
                    if opts.matches(f) {
                        found.push((f, v));
                    }
                });
                if cursor == 0 || budget == 0 || seen >= opts.count {
                    break cursor;
                }
                budget -= 1;
            }
        }
    };
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(found.len() * 2);
    for (f, v) in found {
        ctx.out.bulk(f);
        ctx.out.bulk(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn limits(entries: usize, value: usize) -> Limits {
        Limits {
            hash_max_listpack_entries: entries,
            hash_max_listpack_value: value,
            ..Limits::default()
        }
    }

    fn digest(h: &HashValue) -> [u8; 20] {
        crate::digest::value_digest(&Value::Hash(Box::new(h.clone())))
    }

    #[test]
    fn converts_at_the_entry_limit_and_never_back() {
        let l = limits(3, 64);
        let mut h = HashValue::new();
        for i in 0..3 {
            assert!(h.set(format!("f{i}").as_bytes(), b"v", &l));
        }
        assert_eq!(h.encoding(), "listpack");
        let before = digest(&h);
        assert!(h.set(b"f3", b"v", &l));
        assert_eq!(h.encoding(), "hashtable");
        assert!(h.remove(b"f3"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(digest(&h), before, "the digest ignores the encoding");
    }

    #[test]
    fn converts_on_long_strings_and_on_prepare() {
        let l = limits(128, 4);
        let mut h = HashValue::new();
        h.set(b"ab", b"1234", &l);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"ab", b"12345", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"ab"), Some(&b"12345"[..]));

        let mut h = HashValue::new();
        h.prepare(
            [&b"f"[..], b"v", b"f", b"w", b"f", b"x"].into_iter(),
            &limits(2, 64),
        );
        assert_eq!(
            h.encoding(),
            "hashtable",
            "more pairs than the limit, repeats or not"
        );
        let mut h = HashValue::new();
        h.prepare([&b"f"[..], b"12345"].into_iter(), &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = HashValue::new();
        h.prepare([&b"f"[..], b"1234"].into_iter(), &l);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn both_encodings_agree_with_a_map() {
        let mut rng = crate::rng::Rng::new(3);
        for l in [limits(8, 6), limits(512, 64)] {
            let mut h = HashValue::new();
            let mut model = BTreeMap::new();
            for _ in 0..3000 {
                let f = format!("f{}", rng.below(40)).into_bytes();
                if rng.below(3) == 0 {
                    assert_eq!(h.remove(&f), model.remove(&f).is_some());
                } else {
                    let v = "x".repeat(rng.below(8) as usize).into_bytes();
                    assert_eq!(h.set(&f, &v, &l), model.insert(f, v).is_none());
                }
                assert_eq!(h.len(), model.len());
            }
            let got: BTreeMap<Vec<u8>, Vec<u8>> =
                h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            assert_eq!(got, model);
        }
    }

    #[test]
    fn distinct_samples_are_distinct_and_in_range() {
        let mut rng = crate::rng::Rng::new(5);
        for (n, k) in [(10, 9), (1000, 5), (1000, 400), (2, 1)] {
            let mut s = sample_distinct(&mut rng, n, k);
            assert_eq!(s.len(), k);
            s.sort_unstable();
            s.dedup();
            assert_eq!(s.len(), k);
            assert!(s.iter().all(|&i| i < n));
        }
    }

    mod effects {
        use crate::effects::testing::{recording_shard, replay, run};
        use crate::Shard;

        #[test]
        fn hincrbyfloat_propagates_the_value_it_stored() {
            let mut s = recording_shard();
            let mut all = run(&mut s, &["HSET", "h", "f", "1.5", "n", "7"]);
            assert_eq!(all, ["SELECT 0", "HSET h f 1.5 n 7"]);
            for (args, want) in [
                (&["HINCRBYFLOAT", "h", "f", "0.1"][..], "HSET h f 1.6"),
                (&["HINCRBYFLOAT", "h", "f", "1e2"], "HSET h f 101.6"),
                (&["HINCRBYFLOAT", "h", "g", "-3"], "HSET h g -3"),
                (&["HINCRBY", "h", "n", "5"], "HINCRBY h n 5"),
            ] {
                let fx = run(&mut s, args);
                assert_eq!(fx, [want]);
                all.extend(fx);
            }
            // Errors change nothing and record nothing.
            assert!(run(&mut s, &["HINCRBYFLOAT", "h", "f", "inf"]).is_empty());
            let r = replay(5000, &all);
            let d = |s: &Shard| crate::digest::db_digest(&s.dbs[0], 1000);
            assert_eq!(d(&r), d(&s));
        }
    }
}
