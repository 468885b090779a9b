//! Strings: the value type and the string command family (t_string.c in Redis).
//!
//! The bit commands (SETBIT, BITCOUNT, BITFIELD...) live in `bitops.rs`; they share the value
//! type and the lookup helpers defined here. Commands whose keys may sit on different shards
//! (MGET, MSET, MSETNX, LCS) expose the per-shard halves and pure helpers the coordinator
//! combines; their same-shard handlers are built from those same pieces.

use crate::cmd::Cmd;
use crate::compact::CompactBytes;
use crate::db::Db;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::shard::Ctx;
use crate::value::Value;
use long_double::LongDouble;
use std::borrow::Cow;

/// Redis reports short strings as `embstr` (at most 44 bytes, never modified in place).
const EMBSTR_MAX: usize = 44;

/// The largest string a command may build: Redis' default `proto-max-bulk-len` (512 MB).
pub const PROTO_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;

pub const ERR_TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
const ERR_OFFSET_RANGE: &str = "ERR offset is out of range";
const ERR_DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";
const ERR_NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
/// LCS when either key holds another type (checked before the options are parsed).
pub const ERR_LCS_TYPES: &str = "ERR The specified keys must contain string values";
const ERR_LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
const ERR_LCS_TOO_LONG: &str = "ERR String too long for LCS";
const ERR_LCS_MEMORY: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

// ---------------------------------------------------------------------------------------------
// The value type
// ---------------------------------------------------------------------------------------------

/// A string value. OBJECT ENCODING reports `int`, `embstr` or `raw` as Redis would for the
/// same history of commands.
///
/// 24 bytes, like every [`Value`], with room inline for the short strings most keys hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrValue {
    /// A canonical decimal integer, stored as a number (`int`).
    Int(i64),
    /// A string as SET stores it: `embstr` up to 44 bytes, `raw` beyond. Up to 23 bytes
    /// are stored inline, so a short value costs no allocation.
    Text(CompactBytes),
    /// A string a command modified in place: `raw` at any length, as in Redis, where
    /// APPEND, SETRANGE, SETBIT, BITFIELD and the PF commands turn any string into a raw
    /// one. Growable; boxed because a `Vec` next to the inline bytes would make every
    /// value 8 bytes larger, while only these strings pay the 24-byte box.
    Raw(Box<Vec<u8>>),
}

impl StrValue {
    /// Stores `b` as SET does: as an integer when it is the canonical form of one.
    #[inline]
    pub fn from_bytes(b: &[u8]) -> StrValue {
        match parse_i64(b) {
            Some(i) => StrValue::Int(i),
            None => StrValue::from_text(b),
        }
    }

    /// Stores `b` as text even when it reads as an integer (INCRBYFLOAT's results are
    /// `embstr`, never `int`, in Redis).
    #[inline]
    pub fn from_text(b: &[u8]) -> StrValue {
        StrValue::Text(CompactBytes::new(b))
    }

    /// A `raw` string made of `v` (the result of BITOP, a new bitmap or HLL).
    pub fn raw(v: Vec<u8>) -> StrValue {
        StrValue::Raw(Box::new(v))
    }

    /// The bytes, formatting an integer into a new allocation (prefer [`bytes`](Self::bytes)).
    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            StrValue::Int(i) => Cow::Owned(itoa::Buffer::new().format(*i).as_bytes().to_vec()),
            StrValue::Text(b) => Cow::Borrowed(b),
            StrValue::Raw(v) => Cow::Borrowed(v),
        }
    }

    /// The bytes of the value without allocating: integers are formatted into `buf`.
    #[inline]
    pub fn bytes<'a>(&'a self, buf: &'a mut itoa::Buffer) -> &'a [u8] {
        match self {
            StrValue::Int(i) => buf.format(*i).as_bytes(),
            StrValue::Text(b) => b,
            StrValue::Raw(v) => v,
        }
    }

    /// The bytes of a string stored as text (None for an integer).
    pub fn text(&self) -> Option<&[u8]> {
        match self {
            StrValue::Int(_) => None,
            StrValue::Text(b) => Some(b),
            StrValue::Raw(v) => Some(v),
        }
    }

    /// Length in bytes (of the decimal form, for an integer).
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(i) => itoa::Buffer::new().format(*i).len(),
            StrValue::Text(b) => b.len(),
            StrValue::Raw(v) => v.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Text(b) if b.len() <= EMBSTR_MAX => "embstr",
            StrValue::Text(_) | StrValue::Raw(_) => "raw",
        }
    }

    /// Bytes allocated beside the value itself (0 for integers and inline strings).
    pub fn heap_size(&self) -> usize {
        match self {
            StrValue::Int(_) => 0,
            StrValue::Text(b) => b.heap_size(),
            StrValue::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
        }
    }

    /// The bytes as a growable buffer for a command that modifies the string in place
    /// (Redis' `dbUnshareStringValue`): the value becomes `raw` from then on.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StrValue::Raw(_)) {
            let bytes = match std::mem::replace(self, StrValue::Int(0)) {
                StrValue::Int(i) => itoa::Buffer::new().format(i).as_bytes().to_vec(),
                StrValue::Text(b) => b.into_vec(),
                StrValue::Raw(_) => unreachable!("checked above"),
            };
            *self = StrValue::raw(bytes);
        }
        match self {
            StrValue::Raw(v) => v,
            _ => unreachable!("converted to raw above"),
        }
    }

    /// The value as an integer (INCR and friends), if it is one.
    fn to_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(i) => Some(*i),
            StrValue::Text(b) => parse_i64(b),
            StrValue::Raw(v) => parse_i64(v),
        }
    }

    /// The value as a long double (INCRBYFLOAT), if it reads as one.
    fn to_long_double(&self) -> Option<LongDouble> {
        match self {
            StrValue::Int(i) => Some(LongDouble::from_i64(*i)),
            StrValue::Text(b) => LongDouble::parse(b),
            StrValue::Raw(v) => LongDouble::parse(v),
        }
    }
}

/// Writes a string value as a bulk reply without materialising integers on the heap.
pub fn reply_str(out: &mut Reply, s: &StrValue) {
    out.bulk(s.bytes(&mut itoa::Buffer::new()));
}

// ---------------------------------------------------------------------------------------------
// Lookups and small shared helpers
// ---------------------------------------------------------------------------------------------

pub use crate::value::WrongType;

/// An error reply: almost always a constant, sometimes naming the command.
pub type ErrReply = Cow<'static, str>;

fn as_str(v: &Value) -> Result<&StrValue, WrongType> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(WrongType),
    }
}

fn as_str_mut(v: &mut Value) -> Result<&mut StrValue, WrongType> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(WrongType),
    }
}

/// The string at `key` for a reading command (counts a keyspace hit or miss).
pub fn lookup_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a StrValue>, WrongType> {
    db.get(key, now).map(|e| as_str(&e.value)).transpose()
}

/// The string at `key` for a writing command (no hit/miss accounting); modifying it in
/// place keeps the key's TTL.
pub fn lookup_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut StrValue>, WrongType> {
    db.get_mut(key, now)
        .map(|e| as_str_mut(&mut e.value))
        .transpose()
}

/// The value of `key` as bytes, for the coordinator to feed a string held on another shard
/// into LCS or BITOP. `Ok(None)` when the key does not exist; counts a hit or miss as
/// Redis' `lookupKeyRead` does.
pub fn read_string<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<Cow<'a, [u8]>>, WrongType> {
    Ok(lookup_read(db, key, now)?.map(StrValue::as_bytes))
}

/// Writes the error of a handler that failed, if it did.
pub fn reply_result(out: &mut Reply, r: Result<(), ErrReply>) {
    if let Err(e) = r {
        out.error(&e);
    }
}

impl From<WrongType> for ErrReply {
    fn from(_: WrongType) -> ErrReply {
        Cow::Borrowed(err::WRONGTYPE)
    }
}

fn int_arg(arg: &[u8]) -> Result<i64, ErrReply> {
    parse_i64(arg).ok_or(Cow::Borrowed(err::NOT_INT))
}

/// Fails when a string of `size` bytes grown by `append` bytes would exceed `limit`
/// (`proto-max-bulk-len`).
fn check_string_length(size: u64, append: u64, limit: u64) -> Result<(), ErrReply> {
    match size.checked_add(append) {
        Some(total) if total <= limit => Ok(()),
        _ => Err(Cow::Borrowed(ERR_TOO_BIG)),
    }
}

/// Resolves Redis' `start`/`end` indexes (negative ones count from the end, both
/// inclusive) against a length, clamped to it; None when the range is empty.
pub fn clamp_range(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    (start <= end).then_some((start, end))
}

// ---------------------------------------------------------------------------------------------
// Expiry arguments (shared with the keys family)
// ---------------------------------------------------------------------------------------------

/// How an expiry argument is expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireUnit {
    /// EX: seconds from now.
    Seconds,
    /// PX: milliseconds from now.
    Millis,
    /// EXAT: a Unix time in seconds.
    UnixSeconds,
    /// PXAT: a Unix time in milliseconds.
    UnixMillis,
}

impl ExpireUnit {
    fn is_absolute(self) -> bool {
        matches!(self, ExpireUnit::UnixSeconds | ExpireUnit::UnixMillis)
    }

    fn in_seconds(self) -> bool {
        matches!(self, ExpireUnit::Seconds | ExpireUnit::UnixSeconds)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireError {
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR invalid expire time in '<command>' command`
    Invalid,
}

impl ExpireError {
    /// The error message, naming the command as Redis does (lower-cased).
    pub fn message(self, cmd_name: &[u8]) -> ErrReply {
        match self {
            ExpireError::NotInteger => Cow::Borrowed(err::NOT_INT),
            ExpireError::Invalid => Cow::Owned(err::invalid_expire(
                &String::from_utf8_lossy(cmd_name).to_lowercase(),
            )),
        }
    }
}

/// Parses the expiry argument of SET, SETEX, PSETEX and GETEX into an absolute Unix time in
/// ms, with Redis' rules: the number must be positive, and neither the conversion to ms nor
/// the addition of `now` may overflow. An absolute time in the past is valid (the key then
/// expires at once).
pub fn parse_expire(arg: &[u8], unit: ExpireUnit, now: u64) -> Result<u64, ExpireError> {
    let v = parse_i64(arg).ok_or(ExpireError::NotInteger)?;
    if v <= 0 {
        return Err(ExpireError::Invalid);
    }
    let ms = if unit.in_seconds() {
        v.checked_mul(1000).ok_or(ExpireError::Invalid)?
    } else {
        v
    };
    let at = if unit.is_absolute() {
        ms
    } else {
        i64::try_from(now)
            .ok()
            .and_then(|now| ms.checked_add(now))
            .ok_or(ExpireError::Invalid)?
    };
    Ok(at as u64)
}

// ---------------------------------------------------------------------------------------------
// SET and GET with options
// ---------------------------------------------------------------------------------------------

/// Which command's options are being parsed: SET takes NX/XX/GET/KEEPTTL, GETEX PERSIST.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionsOf {
    Set,
    GetEx,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfAbsent,
    IfPresent,
}

/// An explicit choice about the key's TTL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TtlOption<'a> {
    Keep,
    Persist,
    Expire(ExpireUnit, &'a [u8]),
}

impl TtlOption<'_> {
    /// Redis accepts an option repeated but not two different TTL options.
    fn compatible(current: Option<Self>, new: Self) -> bool {
        match (current, new) {
            (None, _) => true,
            (Some(TtlOption::Expire(a, _)), TtlOption::Expire(b, _)) => a == b,
            (Some(a), b) => a == b,
        }
    }
}

struct StringOptions<'a> {
    condition: Condition,
    get: bool,
    ttl: Option<TtlOption<'a>>,
}

impl StringOptions<'_> {
    const NONE: StringOptions<'static> = StringOptions {
        condition: Condition::Always,
        get: false,
        ttl: None,
    };
}

fn expire_unit(opt: &[u8]) -> Option<ExpireUnit> {
    [
        (&b"EX"[..], ExpireUnit::Seconds),
        (b"PX", ExpireUnit::Millis),
        (b"EXAT", ExpireUnit::UnixSeconds),
        (b"PXAT", ExpireUnit::UnixMillis),
    ]
    .into_iter()
    .find(|(name, _)| opt.eq_ignore_ascii_case(name))
    .map(|(_, unit)| unit)
}

/// Parses the options of SET (from argument 3) or GETEX (from argument 2).
fn parse_options(cmd: &Cmd, of: OptionsOf) -> Result<StringOptions<'_>, ErrReply> {
    let mut opts = StringOptions::NONE;
    let mut i = if of == OptionsOf::Set { 3 } else { 2 };
    while i < cmd.len() {
        let opt = &cmd[i];
        let next = (i + 1 < cmd.len()).then(|| &cmd[i + 1]);
        let is_set = of == OptionsOf::Set;
        let current = opts.ttl;
        let ttl = |t: TtlOption<'_>| TtlOption::compatible(current, t);
        if is_set && opt.eq_ignore_ascii_case(b"NX") && opts.condition != Condition::IfPresent {
            opts.condition = Condition::IfAbsent;
        } else if is_set && opt.eq_ignore_ascii_case(b"XX") && opts.condition != Condition::IfAbsent
        {
            opts.condition = Condition::IfPresent;
        } else if is_set && opt.eq_ignore_ascii_case(b"GET") {
            opts.get = true;
        } else if is_set && opt.eq_ignore_ascii_case(b"KEEPTTL") && ttl(TtlOption::Keep) {
            opts.ttl = Some(TtlOption::Keep);
        } else if !is_set && opt.eq_ignore_ascii_case(b"PERSIST") && ttl(TtlOption::Persist) {
            opts.ttl = Some(TtlOption::Persist);
        } else if let (Some(unit), Some(arg)) = (expire_unit(opt), next) {
            if !ttl(TtlOption::Expire(unit, arg)) {
                return Err(Cow::Borrowed(err::SYNTAX));
            }
            opts.ttl = Some(TtlOption::Expire(unit, arg));
            i += 1;
        } else {
            return Err(Cow::Borrowed(err::SYNTAX));
        }
        i += 1;
    }
    Ok(opts)
}

/// The absolute expiry the options ask for, if any.
fn options_expiry(opts: &StringOptions, cmd: &Cmd, now: u64) -> Result<Option<u64>, ErrReply> {
    match opts.ttl {
        Some(TtlOption::Expire(unit, arg)) => parse_expire(arg, unit, now)
            .map(Some)
            .map_err(|e| e.message(&cmd[0])),
        _ => Ok(None),
    }
}

/// How a SET-like command answers: SET says +OK or null, SETNX 1 or 0.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    OkOrNull,
    OneOrZero,
}

impl Answer {
    fn done(self, out: &mut Reply) {
        match self {
            Answer::OkOrNull => out.ok(),
            Answer::OneOrZero => out.int(1),
        }
    }

    fn skipped(self, out: &mut Reply) {
        match self {
            Answer::OkOrNull => out.null(),
            Answer::OneOrZero => out.int(0),
        }
    }
}

/// Replies the current value of `key` (or null); fails on a non-string without replying.
fn reply_current(ctx: &mut Ctx, key: &[u8]) -> Result<(), WrongType> {
    match lookup_read(ctx.db, key, ctx.now)? {
        Some(s) => reply_str(ctx.out, s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// The core of SET, SETNX, SETEX and PSETEX (Redis' `setGenericCommand`).
fn set_generic(
    ctx: &mut Ctx,
    cmd: &Cmd,
    key: &[u8],
    value: &[u8],
    opts: &StringOptions,
    answer: Answer,
) -> Result<(), ErrReply> {
    let expire_at = options_expiry(opts, cmd, ctx.now)?;
    if opts.get {
        reply_current(ctx, key)?;
    }
    if opts.condition != Condition::Always {
        let found = ctx.db.get_mut(key, ctx.now).is_some();
        if found == (opts.condition == Condition::IfAbsent) {
            if !opts.get {
                answer.skipped(ctx.out);
            }
            return Ok(());
        }
    }
    let v = Value::Str(StrValue::from_bytes(value));
    // KEEPTTL replaces the value in place; otherwise the entry is replaced with its TTL.
    let keep_ttl_of = match opts.ttl {
        Some(TtlOption::Keep) => ctx.db.get_mut(key, ctx.now),
        _ => None,
    };
    match keep_ttl_of {
        Some(e) => e.value = v,
        None => ctx.db.set(key, v, expire_at.unwrap_or(0), ctx.now),
    }
    ctx.notify(notify::STRING, "set", key);
    if expire_at.is_some() {
        ctx.notify(notify::GENERIC, "expire", key);
    }
    ctx.wrote(1);
    if ctx.propagating() {
        propagate_set(ctx, cmd, key, value, opts, expire_at);
    }
    if !opts.get {
        answer.done(ctx.out);
    }
    Ok(())
}

/// The effect of a SET-like command that wrote, as Redis' setGenericCommand rewrites it: an
/// expiry other than PXAT becomes `SET key value PXAT <ms>` (the other options dropped: the
/// write happened); without an expiry GET is dropped, which makes GETSET `SET key value`.
/// Otherwise the request itself.
fn propagate_set(
    ctx: &mut Ctx,
    cmd: &Cmd,
    key: &[u8],
    value: &[u8],
    opts: &StringOptions,
    expire_at: Option<u64>,
) {
    match (opts.ttl, expire_at) {
        (Some(TtlOption::Expire(ExpireUnit::UnixMillis, _)), _) => {}
        (_, Some(at)) => {
            let mut digits = itoa::Buffer::new();
            let at = digits.format(at).as_bytes();
            ctx.propagate([&b"SET"[..], key, value, b"PXAT", at]);
        }
        (_, None) if opts.get => {
            // Without an expiry no option takes an argument: every GET after the value is one.
            let rest = cmd
                .args()
                .skip(3)
                .filter(|a| !a.eq_ignore_ascii_case(b"GET"));
            let args: Vec<&[u8]> = [&b"SET"[..], key, value].into_iter().chain(rest).collect();
            ctx.propagate(args);
        }
        _ => {}
    }
}

/// GET key
pub fn get(ctx: &mut Ctx, cmd: &Cmd) {
    if reply_current(ctx, &cmd[1]).is_err() {
        ctx.out.error(err::WRONGTYPE);
    }
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
pub fn set(ctx: &mut Ctx, cmd: &Cmd) {
    let r = parse_options(cmd, OptionsOf::Set)
        .and_then(|opts| set_generic(ctx, cmd, &cmd[1], &cmd[2], &opts, Answer::OkOrNull));
    reply_result(ctx.out, r);
}

/// SETNX key value
pub fn setnx(ctx: &mut Ctx, cmd: &Cmd) {
    let opts = StringOptions {
        condition: Condition::IfAbsent,
        ..StringOptions::NONE
    };
    let r = set_generic(ctx, cmd, &cmd[1], &cmd[2], &opts, Answer::OneOrZero);
    reply_result(ctx.out, r);
}

/// SETEX key seconds value
pub fn setex(ctx: &mut Ctx, cmd: &Cmd) {
    set_expiring(ctx, cmd, ExpireUnit::Seconds);
}

/// PSETEX key milliseconds value
pub fn psetex(ctx: &mut Ctx, cmd: &Cmd) {
    set_expiring(ctx, cmd, ExpireUnit::Millis);
}

fn set_expiring(ctx: &mut Ctx, cmd: &Cmd, unit: ExpireUnit) {
    let opts = StringOptions {
        ttl: Some(TtlOption::Expire(unit, &cmd[2])),
        ..StringOptions::NONE
    };
    let r = set_generic(ctx, cmd, &cmd[1], &cmd[3], &opts, Answer::OkOrNull);
    reply_result(ctx.out, r);
}

/// GETSET key value: SET that replies the old value (and clears the TTL).
pub fn getset(ctx: &mut Ctx, cmd: &Cmd) {
    let r = set_generic(
        ctx,
        cmd,
        &cmd[1],
        &cmd[2],
        &StringOptions {
            get: true,
            ..StringOptions::NONE
        },
        Answer::OkOrNull,
    );
    reply_result(ctx.out, r);
}

/// GETDEL key
pub fn getdel(ctx: &mut Ctx, cmd: &Cmd) {
    let key = &cmd[1];
    match lookup_read(ctx.db, key, ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(None) => ctx.out.null(),
        Ok(Some(s)) => {
            reply_str(ctx.out, s);
            ctx.db.remove(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.wrote(1);
            // As Redis (DEL, or UNLINK with lazyfree-lazy-user-del, which we do not have).
            if ctx.propagating() {
                ctx.propagate([&b"DEL"[..], key]);
            }
        }
    }
}

/// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]
pub fn getex(ctx: &mut Ctx, cmd: &Cmd) {
    let r = parse_options(cmd, OptionsOf::GetEx).and_then(|opts| getex_with(ctx, cmd, &opts));
    reply_result(ctx.out, r);
}

fn getex_with(ctx: &mut Ctx, cmd: &Cmd, opts: &StringOptions) -> Result<(), ErrReply> {
    let key = &cmd[1];
    let Some(e) = ctx.db.get(key, ctx.now) else {
        ctx.out.null();
        return Ok(());
    };
    let s = as_str(&e.value)?;
    let had_ttl = e.expire_at != 0;
    // Redis validates the time only once it knows the key is a string.
    let expire_at = options_expiry(opts, cmd, ctx.now)?;
    reply_str(ctx.out, s);
    // GETEX is never propagated as sent (Redis' getexCommand): its effect is a DEL, a
    // PEXPIREAT with the absolute time or a PERSIST.
    let mut digits = itoa::Buffer::new();
    match (opts.ttl, expire_at) {
        (Some(TtlOption::Expire(unit, _)), Some(at)) if unit.is_absolute() && at <= ctx.now => {
            ctx.db.remove(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.wrote(1);
            if ctx.propagating() {
                ctx.propagate([&b"DEL"[..], key]);
            }
        }
        (_, Some(at)) => {
            ctx.db.set_expire(key, at, ctx.now);
            ctx.notify(notify::GENERIC, "expire", key);
            ctx.wrote(1);
            if ctx.propagating() {
                ctx.propagate([&b"PEXPIREAT"[..], key, digits.format(at).as_bytes()]);
            }
        }
        (Some(TtlOption::Persist), None) if had_ttl => {
            ctx.db.set_expire(key, 0, ctx.now);
            ctx.notify(notify::GENERIC, "persist", key);
            ctx.wrote(1);
            if ctx.propagating() {
                ctx.propagate([&b"PERSIST"[..], key]);
            }
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Multi-key commands
// ---------------------------------------------------------------------------------------------

/// MGET key [key ...], the part for the keys of one shard.
///
/// Contract with the coordinator: `cmd` is `[name, k1, k2, ...]` (keys of this shard only);
/// the reply is one item per key, in the order given (a bulk string, or null for a missing
/// key or a key of another type, as Redis' MGET), with NO array header. The coordinator
/// writes `*N` itself and interleaves the per-shard parts back into the client's key order.
pub fn mget(ctx: &mut Ctx, cmd: &Cmd) {
    for key in cmd.args().skip(1) {
        match lookup_read(ctx.db, key, ctx.now) {
            Ok(Some(s)) => reply_str(ctx.out, s),
            _ => ctx.out.null(),
        }
    }
}

/// Sets every `key value` pair of `[name, k1, v1, k2, v2, ...]` (clearing their TTLs) and
/// returns how many were set. Writes no reply: the set half of MSET and MSETNX.
pub fn set_pairs(ctx: &mut Ctx, cmd: &Cmd) -> usize {
    let pairs = (cmd.len() - 1) / 2;
    for p in 0..pairs {
        let v = Value::Str(StrValue::from_bytes(&cmd[2 + 2 * p]));
        ctx.db.set(&cmd[1 + 2 * p], v, 0, ctx.now);
        ctx.notify(notify::STRING, "set", &cmd[1 + 2 * p]);
    }
    ctx.wrote(pairs as u64);
    pairs
}

/// MSET key value [key value ...] (for a cross-shard MSET, the part of one shard).
pub fn mset(ctx: &mut Ctx, cmd: &Cmd) {
    if cmd.len().is_multiple_of(2) {
        ctx.out.error(&err::arity(&cmd[0]));
        return;
    }
    set_pairs(ctx, cmd);
    ctx.out.ok();
}

/// Does any key of `[name, k1, v1, k2, v2, ...]` exist? The check half of MSETNX: across
/// shards the coordinator runs it on every shard under the keys' locks, then
/// [`set_pairs`] on every shard if none exists, and replies `:1` / `:0` itself.
pub fn msetnx_any_exists(db: &mut Db, cmd: &Cmd, now: u64) -> bool {
    (1..cmd.len())
        .step_by(2)
        .any(|i| db.get_mut(&cmd[i], now).is_some())
}

/// MSETNX key value [key value ...] when all keys are on this shard.
pub fn msetnx(ctx: &mut Ctx, cmd: &Cmd) {
    if cmd.len().is_multiple_of(2) {
        ctx.out.error(&err::arity(&cmd[0]));
    } else if msetnx_any_exists(ctx.db, cmd, ctx.now) {
        ctx.out.int(0);
    } else {
        set_pairs(ctx, cmd);
        ctx.out.int(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Length, ranges, in-place edits
// ---------------------------------------------------------------------------------------------

/// STRLEN key
pub fn strlen(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(s) => ctx.out.int(s.map_or(0, StrValue::len) as i64),
    }
}

/// APPEND key value
pub fn append(ctx: &mut Ctx, cmd: &Cmd) {
    let (key, suffix, max) = (&cmd[1], &cmd[2], ctx.max_string_len);
    let r = match lookup_write(ctx.db, key, ctx.now) {
        Err(WrongType) => Err(WrongType.into()),
        Ok(None) => {
            let v = StrValue::from_bytes(suffix);
            let len = v.len();
            ctx.db.set(key, Value::Str(v), 0, ctx.now);
            Ok(len)
        }
        Ok(Some(s)) => check_string_length(s.len() as u64, suffix.len() as u64, max).map(|()| {
            let buf = s.make_raw();
            buf.extend_from_slice(suffix);
            buf.len()
        }),
    };
    match r {
        Ok(len) => {
            ctx.notify(notify::STRING, "append", key);
            ctx.wrote(1);
            ctx.out.int(len as i64);
        }
        Err(e) => ctx.out.error(&e),
    }
}

/// GETRANGE key start end
pub fn getrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = getrange_with(ctx, cmd);
    reply_result(ctx.out, r);
}

/// SUBSTR key start end (the old name of GETRANGE)
pub fn substr(ctx: &mut Ctx, cmd: &Cmd) {
    getrange(ctx, cmd);
}

fn getrange_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let start = int_arg(&cmd[2])?;
    let end = int_arg(&cmd[3])?;
    let Some(s) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let bytes = s.bytes(&mut buf);
    // Two negative indexes in the wrong order select nothing, even when both clamp to 0.
    let range = if start < 0 && end < 0 && start > end {
        None
    } else {
        clamp_range(start, end, bytes.len() as i64)
    };
    match range {
        Some((s, e)) => ctx.out.bulk(&bytes[s as usize..=e as usize]),
        None => ctx.out.bulk(b""),
    }
    Ok(())
}

/// SETRANGE key offset value
pub fn setrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = setrange_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn setrange_with(ctx: &mut Ctx, cmd: &Cmd) -> Result<(), ErrReply> {
    let (key, patch) = (&cmd[1], &cmd[3]);
    let offset = int_arg(&cmd[2])?;
    if offset < 0 {
        return Err(Cow::Borrowed(ERR_OFFSET_RANGE));
    }
    let offset = offset as u64;
    match lookup_write(ctx.db, key, ctx.now)? {
        // Writing nothing changes nothing (and creates no key).
        None if patch.is_empty() => ctx.out.int(0),
        Some(s) if patch.is_empty() => ctx.out.int(s.len() as i64),
        None => {
            check_string_length(offset, patch.len() as u64, ctx.max_string_len)?;
            // Zeroed in one allocation (lazily by the OS for big offsets).
            let mut buf = vec![0; offset as usize + patch.len()];
            write_at(&mut buf, offset as usize, patch);
            ctx.out.int(buf.len() as i64);
            ctx.db.set(key, Value::Str(StrValue::raw(buf)), 0, ctx.now);
            ctx.notify(notify::STRING, "setrange", key);
            ctx.wrote(1);
        }
        Some(s) => {
            check_string_length(offset, patch.len() as u64, ctx.max_string_len)?;
            let buf = s.make_raw();
            write_at(buf, offset as usize, patch);
            ctx.out.int(buf.len() as i64);
            ctx.notify(notify::STRING, "setrange", key);
            ctx.wrote(1);
        }
    }
    Ok(())
}

/// Copies `patch` into `buf` at `offset`, zero-padding the gap.
fn write_at(buf: &mut Vec<u8>, offset: usize, patch: &[u8]) {
    let end = offset + patch.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(patch);
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

/// INCR key
pub fn incr(ctx: &mut Ctx, cmd: &Cmd) {
    incr_by(ctx, &cmd[1], 1);
}

/// DECR key
pub fn decr(ctx: &mut Ctx, cmd: &Cmd) {
    incr_by(ctx, &cmd[1], -1);
}

/// INCRBY key increment
pub fn incrby(ctx: &mut Ctx, cmd: &Cmd) {
    match parse_i64(&cmd[2]) {
        Some(delta) => incr_by(ctx, &cmd[1], delta),
        None => ctx.out.error(err::NOT_INT),
    }
}

/// DECRBY key decrement
pub fn decrby(ctx: &mut Ctx, cmd: &Cmd) {
    match parse_i64(&cmd[2]) {
        None => ctx.out.error(err::NOT_INT),
        // -i64::MIN does not exist.
        Some(i64::MIN) => ctx.out.error(ERR_DECREMENT_OVERFLOW),
        Some(delta) => incr_by(ctx, &cmd[1], -delta),
    }
}

fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64) {
    match add_to_counter(ctx, key, delta) {
        Ok(new) => {
            ctx.notify(notify::STRING, "incrby", key);
            ctx.wrote(1);
            ctx.out.int(new);
        }
        Err(e) => ctx.out.error(e),
    }
}

/// Adds `delta` to the integer at `key` (0 if absent), keeping its TTL.
fn add_to_counter(ctx: &mut Ctx, key: &[u8], delta: i64) -> Result<i64, &'static str> {
    let cur = lookup_write(ctx.db, key, ctx.now).map_err(|_| err::WRONGTYPE)?;
    let old = match &cur {
        None => 0,
        Some(s) => s.to_i64().ok_or(err::NOT_INT)?,
    };
    let new = old.checked_add(delta).ok_or(err::OVERFLOW)?;
    match cur {
        Some(s) => *s = StrValue::Int(new),
        None => ctx.db.set(key, Value::Str(StrValue::Int(new)), 0, ctx.now),
    }
    Ok(new)
}

/// INCRBYFLOAT key increment, in Redis' x86-64 `long double` arithmetic and formatting.
///
/// The stored result is the formatted text, so its effect for replication and the AOF is
/// `SET key <reply> KEEPTTL`: a replay never redoes float arithmetic.
pub fn incrbyfloat(ctx: &mut Ctx, cmd: &Cmd) {
    match add_float(ctx, &cmd[1], &cmd[2]) {
        Ok(text) => {
            ctx.notify(notify::STRING, "incrbyfloat", &cmd[1]);
            ctx.wrote(1);
            if ctx.propagating() {
                ctx.propagate([&b"SET"[..], &cmd[1], text.as_bytes(), b"KEEPTTL"]);
            }
            ctx.out.bulk(text.as_bytes());
        }
        Err(e) => ctx.out.error(e),
    }
}

/// Adds `incr` to the number at `key` (0 if absent), keeping its TTL; returns the new text.
fn add_float(ctx: &mut Ctx, key: &[u8], incr: &[u8]) -> Result<String, &'static str> {
    // Redis checks the key's type before it looks at the increment.
    let cur = lookup_write(ctx.db, key, ctx.now).map_err(|_| err::WRONGTYPE)?;
    let old = match &cur {
        None => LongDouble::ZERO,
        Some(s) => s.to_long_double().ok_or(err::NOT_FLOAT)?,
    };
    let sum = old + LongDouble::parse(incr).ok_or(err::NOT_FLOAT)?;
    if !sum.is_finite() {
        return Err(ERR_NAN_OR_INFINITY);
    }
    let text = sum.to_human_string();
    let v = StrValue::from_text(text.as_bytes());
    match cur {
        Some(s) => *s = v,
        None => ctx.db.set(key, Value::Str(v), 0, ctx.now),
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

/// The options of LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LcsOpts {
    pub len: bool,
    pub idx: bool,
    pub min_match_len: u64,
    pub with_match_len: bool,
}

/// Parses LCS' options (from argument 3). Redis reports a key of the wrong type before a
/// bad option, so a coordinator should fetch (and type-check) both values first.
pub fn parse_lcs_opts(cmd: &Cmd) -> Result<LcsOpts, &'static str> {
    let mut opts = LcsOpts::default();
    let mut i = 3;
    while i < cmd.len() {
        let opt = &cmd[i];
        if opt.eq_ignore_ascii_case(b"IDX") {
            opts.idx = true;
        } else if opt.eq_ignore_ascii_case(b"LEN") {
            opts.len = true;
        } else if opt.eq_ignore_ascii_case(b"WITHMATCHLEN") {
            opts.with_match_len = true;
        } else if opt.eq_ignore_ascii_case(b"MINMATCHLEN") && i + 1 < cmd.len() {
            opts.min_match_len = parse_i64(&cmd[i + 1]).ok_or(err::NOT_INT)?.max(0) as u64;
            i += 1;
        } else {
            return Err(err::SYNTAX);
        }
        i += 1;
    }
    if opts.len && opts.idx {
        return Err(ERR_LCS_LEN_AND_IDX);
    }
    Ok(opts)
}

/// One run of common bytes: inclusive ranges in `a` and in `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
}

impl LcsMatch {
    fn len(&self) -> u32 {
        self.a.1 - self.a.0 + 1
    }
}

/// The dynamic-programming table of LCS lengths: `at(i, j)` is the LCS length of
/// `a[..i]` and `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    fn build(a: &[u8], b: &[u8]) -> LcsTable {
        let width = b.len() + 1;
        let mut cells = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            let (prev, row) = cells[(i - 1) * width..(i + 1) * width].split_at_mut(width);
            for j in 1..width {
                row[j] = if a[i - 1] == b[j - 1] {
                    prev[j - 1] + 1
                } else {
                    prev[j].max(row[j - 1])
                };
            }
        }
        LcsTable { cells, width }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }
}

/// The LCS length alone, in two rows of memory.
fn lcs_len(a: &[u8], b: &[u8]) -> u32 {
    let mut prev = vec![0u32; b.len() + 1];
    let mut row = prev.clone();
    for &x in a {
        for j in 1..=b.len() {
            row[j] = if x == b[j - 1] {
                prev[j - 1] + 1
            } else {
                prev[j].max(row[j - 1])
            };
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

/// Walks the table back from the end, as Redis does: the LCS string and its runs of
/// contiguous matches, last run first.
fn lcs_backtrack(t: &LcsTable, a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<LcsMatch>) {
    let mut lcs = vec![0u8; t.at(a.len(), b.len()) as usize];
    let mut k = lcs.len();
    let mut runs = Vec::new();
    let mut run: Option<LcsMatch> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            k -= 1;
            lcs[k] = a[i - 1];
            let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
            run = match run {
                Some(r) if r.a.0 == ai + 1 && r.b.0 == bj + 1 => Some(LcsMatch {
                    a: (ai, r.a.1),
                    b: (bj, r.b.1),
                }),
                other => {
                    runs.extend(other);
                    Some(LcsMatch {
                        a: (ai, ai),
                        b: (bj, bj),
                    })
                }
            };
            i -= 1;
            j -= 1;
        } else {
            if t.at(i - 1, j) > t.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            runs.extend(run.take());
        }
    }
    runs.extend(run);
    (lcs, runs)
}

/// Computes the LCS of `a` and `b` and writes the reply LCS gives with `opts`: the string,
/// its length (LEN), or the matching ranges (IDX). Pure: the coordinator calls it with values
/// fetched from two shards.
pub fn lcs_reply(out: &mut Reply, a: &[u8], b: &[u8], opts: &LcsOpts) {
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return out.error(ERR_LCS_TOO_LONG);
    }
    let table_bytes = (a.len() as u64 + 1) * (b.len() as u64 + 1) * 4;
    if table_bytes > PROTO_MAX_BULK_LEN {
        return out.error(ERR_LCS_MEMORY);
    }
    if opts.len {
        return out.int(lcs_len(a, b) as i64);
    }
    let table = LcsTable::build(a, b);
    let (lcs, runs) = lcs_backtrack(&table, a, b);
    if !opts.idx {
        return out.bulk(&lcs);
    }
    let kept = |m: &&LcsMatch| m.len() as u64 >= opts.min_match_len;
    out.map(2);
    out.bulk(b"matches");
    out.array(runs.iter().filter(kept).count());
    for m in runs.iter().filter(kept) {
        out.array(2 + opts.with_match_len as usize);
        for (start, end) in [m.a, m.b] {
            out.array(2);
            out.int(start as i64);
            out.int(end as i64);
        }
        if opts.with_match_len {
            out.int(m.len() as i64);
        }
    }
    out.bulk(b"len");
    out.int(lcs.len() as i64);
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] when both keys are on this
/// shard.
pub fn lcs(ctx: &mut Ctx, cmd: &Cmd) {
    // `a` is copied: both values cannot stay borrowed from the database at once, and the
    // quadratic LCS dwarfs a linear copy.
    let a = match read_string(ctx.db, &cmd[1], ctx.now) {
        Ok(a) => a.map(Cow::into_owned).unwrap_or_default(),
        Err(WrongType) => return ctx.out.error(ERR_LCS_TYPES),
    };
    let b = match read_string(ctx.db, &cmd[2], ctx.now) {
        Ok(b) => b.unwrap_or_default(),
        Err(WrongType) => return ctx.out.error(ERR_LCS_TYPES),
    };
    match parse_lcs_opts(cmd) {
        Ok(opts) => lcs_reply(ctx.out, &a, &b, &opts),
        Err(e) => ctx.out.error(e),
    }
}

// ---------------------------------------------------------------------------------------------
// x86-64 long double arithmetic for INCRBYFLOAT
// ---------------------------------------------------------------------------------------------

pub mod long_double {
    //! A software model of the x87 80-bit `long double` (64-bit mantissa, 15-bit exponent)
    //! that Redis uses for INCRBYFLOAT and HINCRBYFLOAT on x86-64: glibc's `strtold`
    //! parsing, round-to-nearest-even addition, and `%.17Lf` formatting with trailing zeros
    //! trimmed. Users see the extra precision (`1000 + 0.1` is
    //! `1000.09999999999999998`, `0.1 + 0.2` is `0.3`), so an `f64` would not do.
    //!
    //! Values are `mant * 2^exp`; normal values keep the top mantissa bit set, subnormals
    //! sit at the smallest exponent. Parsing and formatting of extreme values use a small
    //! big-integer type; ordinary inputs stay within a few machine words.

    use std::cmp::Ordering;

    /// Exponent of the subnormals (the smallest normal is `2^63 * 2^EXP_MIN = 2^-16382`).
    const EXP_MIN: i64 = -16445;
    /// Largest exponent of a finite value (values stay below `2^16384`).
    const EXP_MAX: i64 = 16320;
    /// Redis refuses to parse strings this long (`MAX_LONG_DOUBLE_CHARS`).
    const MAX_CHARS: usize = 5 * 1024;
    /// Decimal digits after the point in `%.17Lf`.
    const FRACTION_DIGITS: u32 = 17;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Class {
        Zero,
        Finite { mant: u64, exp: i64 },
        Inf,
        NaN,
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct LongDouble {
        neg: bool,
        class: Class,
    }

    impl LongDouble {
        pub const ZERO: LongDouble = LongDouble {
            neg: false,
            class: Class::Zero,
        };

        pub fn from_i64(i: i64) -> LongDouble {
            round(i < 0, i.unsigned_abs() as u128, 0, false)
        }

        pub fn is_finite(&self) -> bool {
            matches!(self.class, Class::Zero | Class::Finite { .. })
        }

        /// Parses `s` as Redis' `string2ld` does: the whole string must be a number for
        /// `strtold` (decimal, hex, `inf`/`infinity`), no leading space, no NaN, and no
        /// result that overflows or underflows to zero.
        pub fn parse(s: &[u8]) -> Option<LongDouble> {
            if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
                return None;
            }
            let (neg, body) = match s[0] {
                b'-' => (true, &s[1..]),
                b'+' => (false, &s[1..]),
                _ => (false, s),
            };
            if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
                return Some(LongDouble {
                    neg,
                    class: Class::Inf,
                });
            }
            let hex = body.len() > 1 && body[0] == b'0' && (body[1] | 0x20) == b'x';
            let v = if hex {
                parse_hex(neg, &body[2..])?
            } else {
                parse_decimal(neg, body)?
            };
            v.is_finite().then_some(v)
        }

        /// Formats as Redis' `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, trailing zeros and
        /// point removed, `-0` written `0`.
        pub fn to_human_string(&self) -> String {
            let (mant, exp) = match self.class {
                Class::Zero => return "0".into(),
                Class::Inf => return if self.neg { "-inf" } else { "inf" }.into(),
                Class::NaN => return "nan".into(),
                Class::Finite { mant, exp } => (mant, exp),
            };
            let (int_part, fraction) = if exp >= 0 {
                (
                    BigUint::from_u64(mant)
                        .shifted_left(exp as u64)
                        .to_decimal(),
                    0,
                )
            } else {
                let shift = exp.unsigned_abs();
                let (int, frac_bits) = if shift < 64 {
                    (mant >> shift, mant & ((1u64 << shift) - 1))
                } else {
                    (0, mant)
                };
                let (fraction, carry) = round_fraction(frac_bits, shift);
                ((int + carry).to_string(), fraction)
            };
            let mut s = String::with_capacity(int_part.len() + 20);
            if self.neg && (int_part != "0" || fraction != 0) {
                s.push('-');
            }
            s.push_str(&int_part);
            if fraction != 0 {
                let digits = format!("{fraction:0width$}", width = FRACTION_DIGITS as usize);
                s.push('.');
                s.push_str(digits.trim_end_matches('0'));
            }
            s
        }
    }

    impl std::ops::Add for LongDouble {
        type Output = LongDouble;

        /// `self + other`, rounded to nearest, ties to even.
        fn add(self, other: LongDouble) -> LongDouble {
            use Class::*;
            match (self.class, other.class) {
                (NaN, _) | (_, NaN) => LongDouble {
                    neg: false,
                    class: NaN,
                },
                (Inf, Inf) if self.neg != other.neg => LongDouble {
                    neg: false,
                    class: NaN,
                },
                (Inf, _) => self,
                (_, Inf) => other,
                (Zero, Zero) => zero(self.neg && other.neg),
                (Zero, _) => other,
                (_, Zero) => self,
                (Finite { mant: ma, exp: ea }, Finite { mant: mb, exp: eb }) => {
                    add_finite((self.neg, ma, ea), (other.neg, mb, eb))
                }
            }
        }
    }

    fn zero(neg: bool) -> LongDouble {
        LongDouble {
            neg,
            class: Class::Zero,
        }
    }

    /// C's `isspace` in the "C" locale.
    fn is_c_space(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// Rounds `n * 2^exp` to a long double, ties to even. `sticky` says a nonzero amount
    /// below the last bit of `n` was dropped; callers then pass at least 66 bits in `n`.
    fn round(neg: bool, n: u128, exp: i64, sticky: bool) -> LongDouble {
        if n == 0 {
            return zero(neg);
        }
        let width = 128 - n.leading_zeros() as i64;
        let shift = (width - 64).max(EXP_MIN - exp);
        if shift <= 0 {
            return finite(neg, (n << -shift) as u64, exp + shift);
        }
        let shift = shift as u32;
        let mut mant = n.checked_shr(shift).unwrap_or(0) as u64;
        let half_bit = n.checked_shr(shift - 1).unwrap_or(0) & 1 == 1;
        let below_mask = match shift - 1 {
            0 => 0,
            s if s >= 128 => u128::MAX,
            s => (1u128 << s) - 1,
        };
        let below_half = n & below_mask != 0;
        let mut exp = exp + shift as i64;
        if half_bit && (below_half || sticky || mant & 1 == 1) {
            mant = mant.wrapping_add(1);
            if mant == 0 {
                mant = 1 << 63;
                exp += 1;
            }
        }
        if mant == 0 {
            return zero(neg);
        }
        finite(neg, mant, exp)
    }

    fn finite(neg: bool, mant: u64, exp: i64) -> LongDouble {
        let class = if exp > EXP_MAX {
            Class::Inf
        } else {
            Class::Finite { mant, exp }
        };
        LongDouble { neg, class }
    }

    /// Adds two finite nonzero values exactly, then rounds once.
    fn add_finite(a: (bool, u64, i64), b: (bool, u64, i64)) -> LongDouble {
        // Order by magnitude: mantissas are normalized, so (exp, mant) orders values.
        let (big, small) = if (a.2, a.1) >= (b.2, b.1) {
            (a, b)
        } else {
            (b, a)
        };
        // 62 guard bits below the mantissa make the single final rounding exact.
        const GUARD: u32 = 62;
        let distance = (big.2 - small.2) as u64;
        let x = (big.1 as u128) << GUARD;
        let y_full = (small.1 as u128) << GUARD;
        let (y, sticky) = if distance >= 127 {
            (0, true)
        } else {
            let d = distance as u32;
            (y_full >> d, y_full & ((1u128 << d) - 1) != 0)
        };
        let exp = big.2 - GUARD as i64;
        if big.0 == small.0 {
            return round(big.0, x + y, exp, sticky);
        }
        // x - (y + f) with 0 < f < 1 equals (x - y - 1) + (1 - f): still a sticky remainder.
        let diff = x - y - sticky as u128;
        if diff == 0 && !sticky {
            return zero(false);
        }
        round(big.0, diff, exp, sticky)
    }

    /// The 17 fractional digits of `frac / 2^shift`, rounded half to even, and the carry
    /// into the integer part when they round up to 1.
    fn round_fraction(frac: u64, shift: u64) -> (u64, u64) {
        let scale = 10u128.pow(FRACTION_DIGITS);
        if shift > 122 {
            // frac * 10^17 < 2^121 <= half a unit: rounds to zero.
            return (0, 0);
        }
        let f = frac as u128 * scale;
        let q = f >> shift;
        let r = f & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let q = if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        };
        if q == scale {
            (0, 1)
        } else {
            (q as u64, 0)
        }
    }

    /// A decimal exponent beyond this is saturated: the value is certainly out of range.
    const EXP_LIMIT: i64 = 1_000_000_000;

    /// Reads `[sign] digits` (at least one), saturating at [`EXP_LIMIT`].
    fn parse_exponent(s: &[u8]) -> Option<i64> {
        let (neg, digits) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = digits
            .iter()
            .fold(0i64, |v, &d| (v * 10 + (d - b'0') as i64).min(EXP_LIMIT));
        Some(if neg { -v } else { v })
    }

    /// Splits `digits[.digits][<marker>exponent]` into the mantissa digits (point removed),
    /// the number of digits after the point, and the exponent.
    fn split_number(
        s: &[u8],
        is_digit: fn(&u8) -> bool,
        marker: u8,
    ) -> Option<(Vec<u8>, i64, i64)> {
        let int_len = s.iter().take_while(|&c| is_digit(c)).count();
        let mut digits = s[..int_len].to_vec();
        let mut rest = &s[int_len..];
        let mut frac_len = 0;
        if let Some(r) = rest.strip_prefix(b".") {
            frac_len = r.iter().take_while(|&c| is_digit(c)).count();
            digits.extend_from_slice(&r[..frac_len]);
            rest = &r[frac_len..];
        }
        if digits.is_empty() {
            return None;
        }
        let exp = match rest.first() {
            None => 0,
            Some(&c) if (c | 0x20) == marker => parse_exponent(&rest[1..])?,
            Some(_) => return None,
        };
        Some((digits, frac_len as i64, exp))
    }

    fn parse_decimal(neg: bool, s: &[u8]) -> Option<LongDouble> {
        let (digits, frac_len, exp) = split_number(s, u8::is_ascii_digit, b'e')?;
        let first = digits.iter().position(|&d| d != b'0');
        let Some(first) = first else {
            return Some(zero(neg));
        };
        let last = digits.iter().rposition(|&d| d != b'0').unwrap_or(first);
        let significant = &digits[first..=last];
        // value = significant * 10^exp10
        let exp10 = exp - frac_len + (digits.len() - 1 - last) as i64;
        let magnitude = significant.len() as i64 + exp10;
        if magnitude > 4934 {
            return None; // above 1e4933: overflow
        }
        if magnitude < -4952 {
            return None; // below 1e-4952: rounds to zero
        }
        let d = BigUint::from_decimal(significant);
        let v = if exp10 >= 0 {
            let (top, shift, sticky) = d.mul_pow10(exp10 as u32).top_bits();
            round(neg, top, shift, sticky)
        } else {
            divide_rounded(neg, &d, &BigUint::pow10(exp10.unsigned_abs() as u32))
        };
        (v.class != Class::Zero).then_some(v)
    }

    /// `num / den` rounded: a 67-bit quotient plus a sticky remainder is enough.
    fn divide_rounded(neg: bool, num: &BigUint, den: &BigUint) -> LongDouble {
        // Scale so that the quotient lies in [2^65, 2^67).
        let shift = den.bit_len() as i64 - num.bit_len() as i64 + 66;
        let (x, y) = if shift >= 0 {
            (num.shifted_left(shift as u64), den.clone())
        } else {
            (num.clone(), den.shifted_left(shift.unsigned_abs()))
        };
        let (q, remainder) = x.div_small_quotient(&y, 67);
        round(neg, q, -shift, remainder)
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
        let (digits, frac_len, exp) = split_number(s, u8::is_ascii_hexdigit, b'p')?;
        let h = BigUint::from_hex(&digits);
        if h.is_zero() {
            return Some(zero(neg));
        }
        let (top, shift, sticky) = h.top_bits();
        let v = round(neg, top, shift + exp - 4 * frac_len, sticky);
        (v.class != Class::Zero).then_some(v)
    }

    /// Just enough of an arbitrary-precision unsigned integer (little-endian 32-bit limbs)
    /// for exact parsing and printing of extreme values.
    #[derive(Clone, Debug)]
    struct BigUint(Vec<u32>);

    impl BigUint {
        fn from_u64(v: u64) -> BigUint {
            let mut b = BigUint(vec![v as u32, (v >> 32) as u32]);
            b.trim();
            b
        }

        fn from_decimal(digits: &[u8]) -> BigUint {
            let mut b = BigUint(Vec::new());
            for chunk in digits.chunks(9) {
                let v = chunk.iter().fold(0u32, |v, &d| v * 10 + (d - b'0') as u32);
                b.mul_add_small(10u32.pow(chunk.len() as u32), v);
            }
            b
        }

        fn from_hex(digits: &[u8]) -> BigUint {
            let mut b = BigUint(Vec::new());
            for chunk in digits.chunks(7) {
                let v = chunk
                    .iter()
                    .fold(0u32, |v, &d| v * 16 + (d as char).to_digit(16).unwrap_or(0));
                b.mul_add_small(16u32.pow(chunk.len() as u32), v);
            }
            b
        }

        fn pow10(k: u32) -> BigUint {
            BigUint(vec![1]).mul_pow10(k)
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        fn bit_len(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(top) => self.0.len() as u64 * 32 - top.leading_zeros() as u64,
            }
        }

        fn bit(&self, i: u64) -> bool {
            self.0
                .get((i / 32) as usize)
                .is_some_and(|limb| limb >> (i % 32) & 1 == 1)
        }

        /// self = self * m + a
        fn mul_add_small(&mut self, m: u32, a: u32) {
            let mut carry = a as u64;
            for limb in &mut self.0 {
                let v = *limb as u64 * m as u64 + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        fn mul_pow10(mut self, mut k: u32) -> BigUint {
            while k > 0 {
                let step = k.min(9);
                self.mul_add_small(10u32.pow(step), 0);
                k -= step;
            }
            self
        }

        /// self / d, leaving the quotient in self; returns the remainder.
        fn div_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for limb in self.0.iter_mut().rev() {
                let v = (rem << 32) | *limb as u64;
                *limb = (v / d as u64) as u32;
                rem = v % d as u64;
            }
            self.trim();
            rem as u32
        }

        fn shifted_left(&self, n: u64) -> BigUint {
            let (limbs, bits) = ((n / 32) as usize, (n % 32) as u32);
            let mut out = vec![0u32; limbs];
            let mut carry = 0u32;
            for &limb in &self.0 {
                out.push(if bits == 0 {
                    limb
                } else {
                    (limb << bits) | carry
                });
                carry = if bits == 0 { 0 } else { limb >> (32 - bits) };
            }
            out.push(carry);
            let mut b = BigUint(out);
            b.trim();
            b
        }

        fn shr1(&mut self) {
            let mut carry = 0u32;
            for limb in self.0.iter_mut().rev() {
                let next = *limb & 1;
                *limb = (*limb >> 1) | (carry << 31);
                carry = next;
            }
            self.trim();
        }

        fn compare(&self, other: &BigUint) -> Ordering {
            self.0
                .len()
                .cmp(&other.0.len())
                .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
        }

        /// self -= other (other <= self).
        fn subtract(&mut self, other: &BigUint) {
            let mut borrow = 0i64;
            for (i, limb) in self.0.iter_mut().enumerate() {
                let v = *limb as i64 - other.0.get(i).copied().unwrap_or(0) as i64 - borrow;
                borrow = (v < 0) as i64;
                *limb = v.rem_euclid(1 << 32) as u32;
            }
            self.trim();
        }

        /// floor(self / y) when it is known to be below `2^bits`, and whether a remainder
        /// is left (shift-and-subtract: cheap because the quotient is short).
        fn div_small_quotient(mut self, y: &BigUint, bits: u32) -> (u128, bool) {
            let mut q = 0u128;
            let mut step = y.shifted_left(bits as u64 - 1);
            for i in (0..bits).rev() {
                if self.compare(&step) != Ordering::Less {
                    self.subtract(&step);
                    q |= 1 << i;
                }
                step.shr1();
            }
            (q, !self.is_zero())
        }

        /// The value as `top * 2^shift + rest` with `top` holding its leading (at most 128)
        /// bits; the flag says `rest` is nonzero.
        fn top_bits(&self) -> (u128, i64, bool) {
            let len = self.bit_len();
            let shift = len.saturating_sub(128);
            let top = (shift..len)
                .rev()
                .fold(0u128, |t, i| (t << 1) | self.bit(i) as u128);
            let sticky = (0..shift).any(|i| self.bit(i));
            (top, shift as i64, sticky)
        }

        fn to_decimal(&self) -> String {
            let mut n = self.clone();
            let mut chunks = Vec::new();
            while !n.is_zero() {
                chunks.push(n.div_small(1_000_000_000));
            }
            let mut s = chunks.pop().map_or("0".to_string(), |c| c.to_string());
            for c in chunks.iter().rev() {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn sum(a: &str, b: &str) -> String {
            let a = LongDouble::parse(a.as_bytes()).unwrap();
            let b = LongDouble::parse(b.as_bytes()).unwrap();
            (a + b).to_human_string()
        }

        #[test]
        fn matches_redis_on_x86_64() {
            // Replies of redis-server 7.0.15 on x86-64 to `SET k a; INCRBYFLOAT k b`.
            assert_eq!(sum("10.5", "0.1"), "10.6");
            assert_eq!(sum("1000", "0.1"), "1000.09999999999999998");
            assert_eq!(sum("0.1", "0.2"), "0.3");
            assert_eq!(sum("12345678", "0.9"), "12345678.8999999999996362");
            assert_eq!(sum("123456789012", "0.3"), "123456789012.29999999701976776");
            assert_eq!(sum("99999", "0.00001"), "99999.00001000000000317");
            assert_eq!(sum("3", "0.1"), "3.1");
            assert_eq!(sum("5", "-5"), "0");
            assert_eq!(sum("-0.0", "0"), "0");
            assert_eq!(sum("0", "1e-20"), "0");
            assert_eq!(sum("0", "-2.5e-18"), "0");
            assert_eq!(sum("0", "1e-17"), "0.00000000000000001");
            assert_eq!(sum("0", "5e-18"), "0");
            assert_eq!(sum("0", "5.000000001e-18"), "0.00000000000000001");
            assert_eq!(sum("0", "0.000003814697265625"), "0.00000381469726562");
            assert_eq!(sum("0", "0.000011444091796875"), "0.00001144409179688");
            assert_eq!(sum("0", "1e19"), "10000000000000000000");
            assert_eq!(sum("0", "18446744073709551617"), "18446744073709551616");
            assert_eq!(sum("0", "-9223372036854775808"), "-9223372036854775808");
            assert_eq!(sum("0", "0x1.8p1"), "3");
            assert_eq!(sum("0", "0X.8"), "0.5");
            assert_eq!(sum("0", "-7e-1"), "-0.7");
            assert_eq!(
                sum("1e308", "1e308"),
                "19999999999999999999337175931169129132112019969483113441559409598984346973767612374420025384377707864089349445010802644630426949918792116719484162886039283753591820003920638155732621920901421333587830679157787782912108712612253672980323726043417317850688976324758260171151463628484902090545651009268785715609\
                 6"
            );
            assert_eq!(
                sum("1.7976931348623157e308", "1"),
                "17976931348623156999592104677410443404838644694432917848531442076517662852312439635470186860838708556442879341942552068930870836345113605535789727802647761707349897768628839483561816329404559443492953744729062748066941738464887912277621833359895385283210328250475161169120811772015998592637680246686333953638\
                 4"
            );
            assert_eq!(sum("0", "1e4932").len(), 4933);
            assert!(sum("0", "1e4932").starts_with(
                "100000000000000000000601894938796389132383777425453311477378504135253301948660872240753332777943314277366652556366627768206186090644046033662341616493109754210865362373994723782427360775564628207733774677062828108346124470945764363340927284485142091466676540833985649773830675645413703761844047618298"
            ));
        }

        #[test]
        fn parses_like_strtold() {
            for ok in [
                "1",
                "+1.5",
                ".5",
                "5.",
                "1e5",
                "1E+5",
                "0x10",
                "0x1p-2",
                "inf",
                "-Infinity",
                "0e-99999",
                "2e-4951",
                "0x1p-16445",
                "1.18973149535723176502e+4932",
            ] {
                assert!(LongDouble::parse(ok.as_bytes()).is_some(), "{ok}");
            }
            for bad in [
                "",
                " 1",
                "1 ",
                "\t1",
                "abc",
                "nan",
                "1e",
                "1e+",
                ".",
                "-",
                "+-1",
                "0x",
                "0x.",
                "0x1p",
                "infinit",
                "1e5000",
                "1.2e4932",
                "1e-5000",
                "1.5e-4951",
                "0x1p-16446",
                "1.18973149535723176508e+4932",
                "1\0",
                "\0",
                "1_0",
                "12a",
            ] {
                assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
            }
            assert!(!LongDouble::parse(b"inf").unwrap().is_finite());
            assert!(LongDouble::parse(&[b'1'; MAX_CHARS]).is_none());
        }

        #[test]
        fn infinities_and_nan() {
            let inf = LongDouble::parse(b"inf").unwrap();
            let ninf = LongDouble::parse(b"-inf").unwrap();
            assert!(!(inf + LongDouble::ZERO).is_finite());
            assert!(!(inf + ninf).is_finite());
            assert_eq!((inf + ninf).to_human_string(), "nan");
            let max = LongDouble::parse(b"1.18973149535723176502e+4932").unwrap();
            assert!(!(max + max).is_finite());
        }

        #[test]
        fn integers_are_exact() {
            for i in [0, 1, -1, 42, i64::MAX, i64::MIN] {
                assert_eq!(LongDouble::from_i64(i).to_human_string(), i.to_string());
            }
            let big = LongDouble::from_i64(i64::MAX);
            assert_eq!(
                (big + LongDouble::from_i64(1)).to_human_string(),
                "9223372036854775808"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// Drives handlers through a real shard and returns the RESP they wrote (shared with the
/// bit commands' tests).
#[cfg(test)]
pub(crate) mod testkit {
    use crate::cmd::Cmd;
    use crate::reply::Reply;
    use crate::shard::{Handler, Shard};

    pub const NOW: u64 = 1_700_000_000_000;

    pub(crate) fn handler(name: &str) -> Handler {
        use super::*;
        use crate::bitops;
        match name.to_ascii_lowercase().as_str() {
            "get" => get,
            "set" => set,
            "setnx" => setnx,
            "setex" => setex,
            "psetex" => psetex,
            "getset" => getset,
            "getdel" => getdel,
            "getex" => getex,
            "mget" => mget,
            "mset" => mset,
            "msetnx" => msetnx,
            "strlen" => strlen,
            "append" => append,
            "getrange" => getrange,
            "substr" => substr,
            "setrange" => setrange,
            "incr" => incr,
            "decr" => decr,
            "incrby" => incrby,
            "decrby" => decrby,
            "incrbyfloat" => incrbyfloat,
            "lcs" => lcs,
            "setbit" => bitops::setbit,
            "getbit" => bitops::getbit,
            "bitcount" => bitops::bitcount,
            "bitpos" => bitops::bitpos,
            "bitop" => bitops::bitop,
            "bitfield" => bitops::bitfield,
            "bitfield_ro" => bitops::bitfield_ro,
            other => panic!("no handler for {other}"),
        }
    }

    /// Runs one command at time `now` with RESP2 or RESP3 and returns its reply.
    pub fn run_with(shard: &mut Shard, now: u64, resp3: bool, args: &[&[u8]]) -> String {
        let cmd = Cmd::from_args(args);
        let mut out = Reply::new(resp3);
        let name = String::from_utf8_lossy(args[0]).into_owned();
        handler(&name)(&mut shard.ctx(0, now, &mut out), &cmd);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    pub fn run(shard: &mut Shard, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        run_with(shard, NOW, false, &args)
    }

    pub fn run_at(shard: &mut Shard, now: u64, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        run_with(shard, now, false, &args)
    }

    pub fn run3(shard: &mut Shard, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        run_with(shard, NOW, true, &args)
    }

    pub fn run_bytes(shard: &mut Shard, args: &[&[u8]]) -> String {
        run_with(shard, NOW, false, args)
    }

    pub fn shard() -> Shard {
        Shard::new(0, 16)
    }

    pub fn bulk(s: &str) -> String {
        format!("${}\r\n{}\r\n", s.len(), s)
    }

    pub fn int(i: i64) -> String {
        format!(":{i}\r\n")
    }

    pub fn error(msg: &str) -> String {
        format!("-{msg}\r\n")
    }

    pub const OK: &str = "+OK\r\n";
    pub const NULL: &str = "$-1\r\n";

    /// Stores a value of another type under `key`, for WRONGTYPE tests. Until another type
    /// exists in `Value`, there is nothing to store and the tests using it are skipped.
    pub fn other_type(_shard: &mut Shard, _key: &str) -> bool {
        false
    }

    pub fn encoding(shard: &mut Shard, key: &str) -> &'static str {
        let e = shard.dbs[0].peek(key.as_bytes(), NOW).expect("key exists");
        e.value.encoding()
    }

    pub fn value_bytes(shard: &mut Shard, key: &str) -> Vec<u8> {
        let e = shard.dbs[0].peek(key.as_bytes(), NOW).expect("key exists");
        match &e.value {
            crate::value::Value::Str(s) => s.as_bytes().into_owned(),
            other => panic!("{key} holds a {}", other.type_name()),
        }
    }

    pub fn ttl_ms(shard: &mut Shard, key: &str) -> Option<u64> {
        shard.dbs[0].peek(key.as_bytes(), NOW).map(|e| e.expire_at)
    }

    /// Runs `args` in database 0 of a recording shard at `now` and returns its effects,
    /// without the SELECT that precedes the first one.
    pub fn effects(shard: &mut Shard, now: u64, args: &[&str]) -> Vec<String> {
        let h = crate::effects::testing::handler(args[0]);
        let fx = crate::effects::testing::effects_of(shard, 0, now, h, args);
        fx.into_iter().filter(|c| c != "SELECT 0").collect()
    }

    /// Runs `script` (commands in database 0) on a recording shard at `now` and returns
    /// the shard with every effect it logged.
    pub fn record(now: u64, script: &[&[&str]]) -> (Shard, Vec<String>) {
        let mut s = crate::effects::testing::recording_shard();
        let fx = script
            .iter()
            .flat_map(|c| effects(&mut s, now, c))
            .collect();
        (s, fx)
    }

    pub use crate::effects::testing::replay;

    /// The effects of each command of `script`, run in order at `NOW`.
    pub fn effects_each(script: &[&[&str]]) -> Vec<Vec<String>> {
        let mut s = crate::effects::testing::recording_shard();
        script.iter().map(|c| effects(&mut s, NOW, c)).collect()
    }

    /// Asserts that replaying what `script` logged, later (TTLs are absolute) and with
    /// another RNG, gives the same data. (Not after a TTL the script set passed: a replay
    /// then deletes the key, unless the loader, as Redis', keeps expired keys while
    /// loading.)
    pub fn assert_replays(script: &[&[&str]]) {
        let later = NOW + 150;
        let (original, fx) = record(NOW, script);
        let replayed = replay(later, &fx);
        assert!(same_data(&original, &replayed, later), "{fx:?}");
    }

    /// Asserts that each command of `script` is its own effect, except those at the
    /// indices `unchanged` (they changed nothing: not logged), and that the effects replay.
    pub fn assert_own_effects(script: &[&[&str]], unchanged: &[usize]) {
        let expected: Vec<Vec<String>> = script
            .iter()
            .enumerate()
            .map(|(i, c)| match unchanged.contains(&i) {
                true => vec![],
                false => vec![c.join(" ")],
            })
            .collect();
        assert_eq!(effects_each(script), expected);
        assert_replays(script);
    }

    /// Whether the two shards hold the same keys, values and TTLs at time `at`.
    pub fn same_data(a: &Shard, b: &Shard, at: u64) -> bool {
        let digest = |s: &Shard| -> Vec<_> {
            let dbs = s.dbs.iter();
            dbs.map(|d| crate::digest::db_digest(d, at)).collect()
        };
        digest(a) == digest(b)
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;

    #[test]
    fn get_and_set() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["GET", "k"]), NULL);
        assert_eq!(run(&mut s, &["SET", "k", "v"]), OK);
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("v"));
        assert_eq!(run(&mut s, &["SET", "k", ""]), OK);
        assert_eq!(run(&mut s, &["GET", "k"]), bulk(""));
        assert_eq!(run3(&mut s, &["GET", "missing"]), "_\r\n");
        assert_eq!(s.dirty, 2);
        assert_eq!(s.dbs[0].hits, 2);
        assert_eq!(s.dbs[0].misses, 2);
    }

    #[test]
    fn set_conditions() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["SET", "k", "1", "XX"]), NULL);
        assert_eq!(run(&mut s, &["SET", "k", "1", "nx"]), OK);
        assert_eq!(run(&mut s, &["SET", "k", "2", "NX"]), NULL);
        assert_eq!(run(&mut s, &["SET", "k", "2", "XX"]), OK);
        assert_eq!(run(&mut s, &["SET", "k", "3", "NX", "NX"]), NULL);
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("2"));
        assert_eq!(run(&mut s, &["SETNX", "k", "x"]), int(0));
        assert_eq!(run(&mut s, &["SETNX", "n", "x"]), int(1));
        assert_eq!(run(&mut s, &["GET", "n"]), bulk("x"));
    }

    #[test]
    fn set_get_option() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["SET", "k", "v", "GET"]), NULL);
        assert_eq!(run(&mut s, &["SET", "k", "w", "get", "GET"]), bulk("v"));
        // NX + GET: replies the old value, writes nothing.
        assert_eq!(run(&mut s, &["SET", "k", "x", "NX", "GET"]), bulk("w"));
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("w"));
        assert_eq!(run(&mut s, &["SET", "new", "x", "NX", "GET"]), NULL);
        assert_eq!(run(&mut s, &["GET", "new"]), bulk("x"));
        assert_eq!(run(&mut s, &["SET", "none", "x", "XX", "GET"]), NULL);
        assert_eq!(run(&mut s, &["GET", "none"]), NULL);
        s.dbs[0].set(b"i", Value::Str(StrValue::Int(12)), 0, NOW);
        assert_eq!(run(&mut s, &["SET", "i", "x", "GET"]), bulk("12"));
    }

    #[test]
    fn set_option_syntax() {
        let mut s = shard();
        for bad in [
            &["SET", "k", "v", "NX", "XX"][..],
            &["SET", "k", "v", "XX", "NX"],
            &["SET", "k", "v", "KEEPTTL", "EX", "10"],
            &["SET", "k", "v", "EX", "10", "KEEPTTL"],
            &["SET", "k", "v", "EX", "10", "PX", "100"],
            &["SET", "k", "v", "PXAT", "10", "EXAT", "100"],
            &["SET", "k", "v", "PERSIST"],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "foo"],
            &["SET", "k", "v", "NXX"],
        ] {
            assert_eq!(run(&mut s, bad), error(err::SYNTAX), "{bad:?}");
        }
        assert_eq!(s.dbs[0].len(), 0);
    }

    #[test]
    fn set_expiry() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["SET", "k", "v", "EX", "10"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 10_000));
        assert_eq!(run(&mut s, &["SET", "k", "v", "px", "10", "PX", "20"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 20));
        assert_eq!(run(&mut s, &["SET", "k", "v", "EXAT", "2000000000"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(2_000_000_000_000));
        assert_eq!(run(&mut s, &["SET", "k", "v2", "KEEPTTL"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(2_000_000_000_000));
        assert_eq!(run(&mut s, &["SET", "k", "v3", "KEEPTTL", "KEEPTTL"]), OK);
        assert_eq!(run(&mut s, &["SET", "k", "v4"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(0));
        assert_eq!(
            run(&mut s, &["SET", "k", "v", "PXAT", "9223372036854775807"]),
            OK
        );
        assert_eq!(ttl_ms(&mut s, "k"), Some(i64::MAX as u64));
        // A time in the past: accepted, and the key is gone at once.
        assert_eq!(run(&mut s, &["SET", "k", "v", "EXAT", "1"]), OK);
        assert_eq!(run(&mut s, &["GET", "k"]), NULL);
        // The key expires when its time comes.
        assert_eq!(run(&mut s, &["SET", "t", "v", "PX", "5"]), OK);
        assert_eq!(run_at(&mut s, NOW + 4, &["GET", "t"]), bulk("v"));
        assert_eq!(run_at(&mut s, NOW + 5, &["GET", "t"]), NULL);
    }

    #[test]
    fn invalid_expire_times() {
        let mut s = shard();
        let invalid = error("ERR invalid expire time in 'set' command");
        for t in ["0", "-1", "9223372036854775"] {
            assert_eq!(run(&mut s, &["SET", "k", "v", "EX", t]), invalid, "{t}");
        }
        assert_eq!(
            run(&mut s, &["SET", "k", "v", "PX", "9223372036854775807"]),
            invalid
        );
        assert_eq!(
            run(&mut s, &["SET", "k", "v", "EXAT", "9223372036854776"]),
            invalid
        );
        assert_eq!(run(&mut s, &["SET", "k", "v", "PXAT", "0"]), invalid);
        assert_eq!(
            run(&mut s, &["SET", "k", "v", "EX", "abc"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["SETEX", "k", "0", "v"]),
            error("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            run(&mut s, &["psetex", "k", "-5", "v"]),
            error("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(run(&mut s, &["SETEX", "k", "x", "v"]), error(err::NOT_INT));
        assert_eq!(s.dbs[0].len(), 0);
        assert_eq!(run(&mut s, &["SETEX", "k", "10", "v"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 10_000));
        assert_eq!(run(&mut s, &["PSETEX", "k", "10", "v"]), OK);
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 10));
    }

    #[test]
    fn parse_expire_rules() {
        use ExpireError::*;
        use ExpireUnit::*;
        assert_eq!(parse_expire(b"5", Seconds, 1000), Ok(6000));
        assert_eq!(parse_expire(b"5", Millis, 1000), Ok(1005));
        assert_eq!(parse_expire(b"5", UnixSeconds, 1000), Ok(5000));
        assert_eq!(parse_expire(b"5", UnixMillis, 1000), Ok(5));
        assert_eq!(parse_expire(b"0", UnixMillis, 1000), Err(Invalid));
        assert_eq!(parse_expire(b"x", Seconds, 1000), Err(NotInteger));
        assert_eq!(
            parse_expire(b"9223372036854775807", Millis, 1),
            Err(Invalid)
        );
        assert_eq!(
            parse_expire(b"9223372036854775807", UnixMillis, 1),
            Ok(i64::MAX as u64)
        );
        assert_eq!(
            Invalid.message(b"GETEX"),
            "ERR invalid expire time in 'getex' command"
        );
    }

    #[test]
    fn getset_getdel() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["GETSET", "k", "1"]), NULL);
        assert_eq!(run(&mut s, &["SET", "k", "v", "EX", "100"]), OK);
        assert_eq!(run(&mut s, &["GETSET", "k", "5"]), bulk("v"));
        assert_eq!(ttl_ms(&mut s, "k"), Some(0));
        assert_eq!(encoding(&mut s, "k"), "int");
        assert_eq!(run(&mut s, &["GETDEL", "k"]), bulk("5"));
        assert_eq!(run(&mut s, &["GETDEL", "k"]), NULL);
        assert_eq!(s.dbs[0].len(), 0);
    }

    #[test]
    fn getex() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["GETEX", "missing", "EX", "abc"]), NULL);
        assert_eq!(
            run(&mut s, &["GETEX", "missing", "foo"]),
            error(err::SYNTAX)
        );
        assert_eq!(run(&mut s, &["SET", "k", "v"]), OK);
        assert_eq!(run(&mut s, &["GETEX", "k"]), bulk("v"));
        assert_eq!(
            run(&mut s, &["GETEX", "k", "EX", "abc"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["GETEX", "k", "PX", "0"]),
            error("ERR invalid expire time in 'getex' command")
        );
        for bad in [
            &["GETEX", "k", "EX", "100", "PERSIST"][..],
            &["GETEX", "k", "PERSIST", "EX", "100"],
            &["GETEX", "k", "KEEPTTL"],
            &["GETEX", "k", "NX"],
            &["GETEX", "k", "GET"],
            &["GETEX", "k", "EX"],
        ] {
            assert_eq!(run(&mut s, bad), error(err::SYNTAX), "{bad:?}");
        }
        let dirty = s.dirty;
        assert_eq!(
            run(&mut s, &["GETEX", "k", "PERSIST", "persist"]),
            bulk("v")
        );
        assert_eq!(s.dirty, dirty, "no TTL to remove");
        assert_eq!(
            run(&mut s, &["GETEX", "k", "EX", "10", "EX", "20"]),
            bulk("v")
        );
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 20_000));
        assert_eq!(run(&mut s, &["GETEX", "k", "PERSIST"]), bulk("v"));
        assert_eq!(ttl_ms(&mut s, "k"), Some(0));
        assert_eq!(
            run(&mut s, &["GETEX", "k", "PXAT", "2000000000000"]),
            bulk("v")
        );
        assert_eq!(ttl_ms(&mut s, "k"), Some(2_000_000_000_000));
        assert_eq!(run(&mut s, &["GETEX", "k", "EXAT", "1"]), bulk("v"));
        assert_eq!(s.dbs[0].len(), 0);
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["MSET", "a", "1", "b", "xyz"]), OK);
        assert_eq!(encoding(&mut s, "a"), "int");
        assert_eq!(encoding(&mut s, "b"), "embstr");
        // No array header: the coordinator writes it.
        assert_eq!(
            run(&mut s, &["MGET", "a", "missing", "b"]),
            format!("{}{NULL}{}", bulk("1"), bulk("xyz"))
        );
        let arity = error("ERR wrong number of arguments for 'mset' command");
        assert_eq!(run(&mut s, &["MSET", "a", "1", "b"]), arity);
        assert_eq!(run(&mut s, &["MSETNX", "a", "1", "c", "2"]), int(0));
        assert_eq!(run(&mut s, &["GET", "c"]), NULL);
        assert_eq!(run(&mut s, &["MSETNX", "c", "1", "c", "2"]), int(1));
        assert_eq!(run(&mut s, &["GET", "c"]), bulk("2"));
        assert_eq!(
            run(&mut s, &["MSETNX", "x", "1", "y"]),
            error("ERR wrong number of arguments for 'msetnx' command")
        );
        let cmd = Cmd::from_args(&["MSETNX", "q", "1", "a", "2"]);
        assert!(msetnx_any_exists(&mut s.dbs[0], &cmd, NOW));
        let cmd = Cmd::from_args(&["MSETNX", "q", "1", "r", "2"]);
        assert!(!msetnx_any_exists(&mut s.dbs[0], &cmd, NOW));
        // MSET clears TTLs.
        assert_eq!(run(&mut s, &["SET", "t", "v", "EX", "100"]), OK);
        assert_eq!(run(&mut s, &["MSET", "t", "w"]), OK);
        assert_eq!(ttl_ms(&mut s, "t"), Some(0));
    }

    #[test]
    fn encodings() {
        let mut s = shard();
        let cases = [
            (&["SET", "k", "123"][..], "int"),
            (&["SET", "k", "-9223372036854775808"], "int"),
            (&["SET", "k", "9223372036854775808"], "embstr"),
            (&["SET", "k", "007"], "embstr"),
            (&["SET", "k", ""], "embstr"),
            (&["SET", "k", &"x".repeat(44)], "embstr"),
            (&["SET", "k", &"x".repeat(45)], "raw"),
        ];
        for (cmd, enc) in cases {
            run(&mut s, cmd);
            assert_eq!(encoding(&mut s, "k"), enc, "{cmd:?}");
        }
        // Modified in place: raw whatever the length.
        run(&mut s, &["SET", "k", "a"]);
        run(&mut s, &["APPEND", "k", "b"]);
        assert_eq!(encoding(&mut s, "k"), "raw");
        run(&mut s, &["SET", "k", "123"]);
        run(&mut s, &["APPEND", "k", ""]);
        assert_eq!(encoding(&mut s, "k"), "raw");
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("123"));
        // APPEND creating the key encodes as SET does.
        run(&mut s, &["APPEND", "n", "123"]);
        assert_eq!(encoding(&mut s, "n"), "int");
        run(&mut s, &["APPEND", "n2", "abc"]);
        assert_eq!(encoding(&mut s, "n2"), "embstr");
        // INCR always stores an integer; INCRBYFLOAT never does.
        run(&mut s, &["INCR", "k"]);
        assert_eq!(encoding(&mut s, "k"), "int");
        run(&mut s, &["INCRBYFLOAT", "k", "2"]);
        assert_eq!(encoding(&mut s, "k"), "embstr");
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("126"));
        // SETRANGE with nothing to write leaves the value alone.
        run(&mut s, &["SET", "k", "5"]);
        run(&mut s, &["SETRANGE", "k", "0", ""]);
        assert_eq!(encoding(&mut s, "k"), "int");
        run(&mut s, &["SETRANGE", "k", "0", "6"]);
        assert_eq!(encoding(&mut s, "k"), "raw");
        run(&mut s, &["SETRANGE", "nk", "0", "1"]);
        assert_eq!(encoding(&mut s, "nk"), "raw");
    }

    #[test]
    fn str_value_helpers() {
        let mut v = StrValue::from_bytes(b"-42");
        assert_eq!(v, StrValue::Int(-42));
        assert_eq!(v.len(), 3);
        assert_eq!(&*v.as_bytes(), b"-42");
        assert_eq!(v.text(), None);
        assert_eq!(v.heap_size(), 0);
        v.make_raw().push(b'0');
        assert_eq!(v, StrValue::raw(b"-420".to_vec()));
        assert_eq!(v.text(), Some(&b"-420"[..]));
        let mut e = StrValue::from_bytes(b"hello");
        assert_eq!(e.heap_size(), 0, "short strings are inline");
        assert!(!e.is_empty());
        e.make_raw().extend_from_slice(b"!");
        assert_eq!(e.encoding(), "raw");
        assert_eq!(&*e.as_bytes(), b"hello!");
        assert!(e.heap_size() >= 6);
        assert!(StrValue::from_bytes(b"").is_empty());
        assert_eq!(StrValue::from_text(b"12").encoding(), "embstr");
        assert_eq!(std::mem::size_of::<StrValue>(), 24);
    }

    /// Every length around the inline limit (23 bytes) and the embstr limit (44 bytes),
    /// binary bytes included, reads back as written with Redis' encoding.
    #[test]
    fn str_value_lengths() {
        for n in [0, 1, 21, 22, 23, 24, 25, 43, 44, 45, 100, 5000] {
            let b: Vec<u8> = (0..n).map(|i| (i * 31 + 7) as u8).collect();
            let v = StrValue::from_bytes(&b);
            assert_eq!(v.len(), n);
            assert_eq!(&*v.as_bytes(), &b[..]);
            assert_eq!(v.bytes(&mut itoa::Buffer::new()), &b[..]);
            assert_eq!(v.text(), Some(&b[..]));
            let want = if n <= EMBSTR_MAX { "embstr" } else { "raw" };
            assert_eq!(v.encoding(), want, "{n} bytes");
            let heap = if n <= crate::compact::INLINE_MAX {
                0
            } else {
                n
            };
            assert_eq!(v.heap_size(), heap, "{n} bytes");
            assert_eq!(v.clone(), v);
            let mut r = v.clone();
            assert_eq!(r.make_raw(), &b);
            assert_eq!(r.encoding(), "raw");
            assert_eq!(&*r.as_bytes(), &b[..]);
        }
        // Integer-looking text is kept as text by from_text, converted by from_bytes.
        assert_eq!(StrValue::from_text(b"123").text(), Some(&b"123"[..]));
        assert_eq!(StrValue::from_bytes(b"123"), StrValue::Int(123));
        assert_eq!(StrValue::from_bytes(b"0123").encoding(), "embstr");
    }

    /// The same boundaries through the commands: SET, GET, STRLEN, GETRANGE, APPEND,
    /// SETRANGE, SETBIT and INCR.
    #[test]
    fn inline_boundaries_through_commands() {
        let mut s = shard();
        for n in [0usize, 1, 22, 23, 24, 44, 45] {
            let v: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            run(&mut s, &["SET", "k", &v]);
            assert_eq!(run(&mut s, &["GET", "k"]), bulk(&v));
            assert_eq!(run(&mut s, &["STRLEN", "k"]), int(n as i64));
            let enc = if n <= 44 { "embstr" } else { "raw" };
            assert_eq!(encoding(&mut s, "k"), enc, "{n} bytes");
            let tail = &v[n.saturating_sub(3)..];
            assert_eq!(run(&mut s, &["GETRANGE", "k", "-3", "-1"]), bulk(tail));
            assert_eq!(
                run(&mut s, &["GETRANGE", "k", "1", "100"]),
                bulk(v.get(1..).unwrap_or(""))
            );
            // APPEND makes it raw, crossing the inline limit or not.
            assert_eq!(run(&mut s, &["APPEND", "k", "!"]), int(n as i64 + 1));
            assert_eq!(encoding(&mut s, "k"), "raw");
            assert_eq!(run(&mut s, &["GET", "k"]), bulk(&format!("{v}!")));
            // SETRANGE on an embstr value, inside and past its end.
            run(&mut s, &["SET", "k", &v]);
            assert_eq!(
                run(&mut s, &["SETRANGE", "k", "0", "Z"]),
                int(n.max(1) as i64)
            );
            assert_eq!(encoding(&mut s, "k"), "raw");
            run(&mut s, &["SET", "k", &v]);
            run(&mut s, &["SETRANGE", "k", &(n + 1).to_string(), "x"]);
            assert_eq!(value_bytes(&mut s, "k"), [v.as_bytes(), b"\0x"].concat());
            // SETBIT too.
            run(&mut s, &["SET", "k", &v]);
            run(&mut s, &["SETBIT", "k", "7", "1"]);
            assert_eq!(encoding(&mut s, "k"), "raw");
            assert_eq!(value_bytes(&mut s, "k").len(), n.max(1));
        }
        // Binary values at the inline limit keep every byte.
        let bin: Vec<u8> = (0..23u8).map(|i| i.wrapping_mul(97) ^ 0x80).collect();
        run_bytes(&mut s, &[b"SET", b"b", &bin]);
        assert_eq!(value_bytes(&mut s, "b"), bin);
        assert_eq!(encoding(&mut s, "b"), "embstr");
        // INCR on an int, on integer text, and across the digit counts.
        run(&mut s, &["SET", "n", "9"]);
        assert_eq!(run(&mut s, &["INCR", "n"]), int(10));
        assert_eq!(encoding(&mut s, "n"), "int");
        run(&mut s, &["SET", "n", "-9223372036854775807"]);
        assert_eq!(run(&mut s, &["DECR", "n"]), int(i64::MIN));
        assert_eq!(run(&mut s, &["GET", "n"]), bulk("-9223372036854775808"));
        run(&mut s, &["APPEND", "m", "41"]);
        run(&mut s, &["APPEND", "m", "1"]);
        assert_eq!(encoding(&mut s, "m"), "raw");
        assert_eq!(run(&mut s, &["INCR", "m"]), int(412));
        assert_eq!(encoding(&mut s, "m"), "int");
    }

    #[test]
    fn append_and_strlen() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["STRLEN", "k"]), int(0));
        assert_eq!(run(&mut s, &["APPEND", "k", "hello"]), int(5));
        assert_eq!(run(&mut s, &["APPEND", "k", " world"]), int(11));
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("hello world"));
        assert_eq!(run(&mut s, &["STRLEN", "k"]), int(11));
        run(&mut s, &["SET", "n", "-123"]);
        assert_eq!(run(&mut s, &["STRLEN", "n"]), int(4));
        // APPEND keeps the TTL.
        run(&mut s, &["SET", "t", "a", "EX", "100"]);
        assert_eq!(run(&mut s, &["APPEND", "t", "b"]), int(2));
        assert_eq!(ttl_ms(&mut s, "t"), Some(NOW + 100_000));
    }

    #[test]
    fn append_past_the_limit() {
        let mut s = shard();
        let big = vec![b'x'; PROTO_MAX_BULK_LEN as usize];
        s.dbs[0].set(b"k", Value::Str(StrValue::raw(big)), 0, NOW);
        assert_eq!(run(&mut s, &["APPEND", "k", "y"]), error(ERR_TOO_BIG));
        assert_eq!(
            run(&mut s, &["APPEND", "k", ""]),
            int(PROTO_MAX_BULK_LEN as i64)
        );
    }

    #[test]
    fn getrange() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "hello"]);
        let cases = [
            ("0", "-1", "hello"),
            ("-3", "-1", "llo"),
            ("3", "100", "lo"),
            ("5", "10", ""),
            ("-1", "-5", ""),
            ("-100", "-200", ""),
            ("-100", "0", "h"),
            ("0", "9223372036854775807", "hello"),
            ("-9223372036854775808", "-1", "hello"),
            ("2", "1", ""),
        ];
        for (start, end, want) in cases {
            assert_eq!(
                run(&mut s, &["GETRANGE", "k", start, end]),
                bulk(want),
                "{start} {end}"
            );
        }
        assert_eq!(run(&mut s, &["SUBSTR", "k", "1", "2"]), bulk("el"));
        assert_eq!(run(&mut s, &["GETRANGE", "missing", "0", "-1"]), bulk(""));
        assert_eq!(
            run(&mut s, &["GETRANGE", "missing", "a", "1"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["GETRANGE", "k", "0", "b"]),
            error(err::NOT_INT)
        );
        run(&mut s, &["SET", "e", ""]);
        assert_eq!(run(&mut s, &["GETRANGE", "e", "0", "0"]), bulk(""));
        run(&mut s, &["SET", "n", "12345"]);
        assert_eq!(run(&mut s, &["GETRANGE", "n", "1", "2"]), bulk("23"));
    }

    #[test]
    fn setrange() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "Hello World"]);
        assert_eq!(run(&mut s, &["SETRANGE", "k", "6", "Redis"]), int(11));
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("Hello Redis"));
        assert_eq!(run(&mut s, &["SETRANGE", "k", "13", "!"]), int(14));
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("Hello Redis\0\0!"));
        assert_eq!(run(&mut s, &["SETRANGE", "new", "2", "ab"]), int(4));
        assert_eq!(run(&mut s, &["GET", "new"]), bulk("\0\0ab"));
        assert_eq!(run(&mut s, &["SETRANGE", "none", "5", ""]), int(0));
        assert_eq!(run(&mut s, &["SETRANGE", "none", "536870912", ""]), int(0));
        assert!(s.dbs[0].peek(b"none", NOW).is_none());
        assert_eq!(run(&mut s, &["SETRANGE", "k", "0", ""]), int(14));
        assert_eq!(
            run(&mut s, &["SETRANGE", "k", "-1", "x"]),
            error(ERR_OFFSET_RANGE)
        );
        assert_eq!(
            run(&mut s, &["SETRANGE", "k", "a", "x"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["SETRANGE", "k", "536870912", "x"]),
            error(ERR_TOO_BIG)
        );
        assert_eq!(
            run(&mut s, &["SETRANGE", "k", "9223372036854775807", "x"]),
            error(ERR_TOO_BIG)
        );
        assert_eq!(
            run(&mut s, &["SETRANGE", "z", "536870912", "x"]),
            error(ERR_TOO_BIG)
        );
        run(&mut s, &["SET", "n", "12", "EX", "100"]);
        assert_eq!(run(&mut s, &["SETRANGE", "n", "1", "9"]), int(2));
        assert_eq!(run(&mut s, &["GET", "n"]), bulk("19"));
        assert_eq!(ttl_ms(&mut s, "n"), Some(NOW + 100_000));
    }

    #[test]
    fn setrange_to_the_limit() {
        let mut s = shard();
        assert_eq!(
            run(&mut s, &["SETRANGE", "k", "536870911", "x"]),
            int(PROTO_MAX_BULK_LEN as i64)
        );
    }

    #[test]
    fn counters() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["INCR", "k"]), int(1));
        assert_eq!(run(&mut s, &["INCRBY", "k", "10"]), int(11));
        assert_eq!(run(&mut s, &["DECR", "k"]), int(10));
        assert_eq!(run(&mut s, &["DECRBY", "k", "-5"]), int(15));
        assert_eq!(run(&mut s, &["DECRBY", "k", "20"]), int(-5));
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("-5"));
        run(&mut s, &["SET", "k", "9223372036854775807"]);
        assert_eq!(run(&mut s, &["INCR", "k"]), error(err::OVERFLOW));
        assert_eq!(
            run(&mut s, &["INCRBY", "k", "-9223372036854775807"]),
            int(0)
        );
        run(&mut s, &["SET", "k", "-9223372036854775808"]);
        assert_eq!(run(&mut s, &["DECR", "k"]), error(err::OVERFLOW));
        assert_eq!(
            run(&mut s, &["DECRBY", "k", "-9223372036854775808"]),
            error(ERR_DECREMENT_OVERFLOW)
        );
        assert_eq!(
            run(&mut s, &["DECRBY", "nokey", "-9223372036854775808"]),
            error(ERR_DECREMENT_OVERFLOW)
        );
        assert_eq!(run(&mut s, &["INCRBY", "k", "abc"]), error(err::NOT_INT));
        for bad in ["abc", " 1", "1.0", "", "01", "99999999999999999999"] {
            run(&mut s, &["SET", "s", bad]);
            assert_eq!(run(&mut s, &["INCR", "s"]), error(err::NOT_INT), "{bad:?}");
        }
        // A raw string holding a number counts.
        run(&mut s, &["SETRANGE", "r", "0", "41"]);
        assert_eq!(run(&mut s, &["INCR", "r"]), int(42));
        // The TTL survives.
        run(&mut s, &["SET", "t", "5", "EX", "100"]);
        assert_eq!(run(&mut s, &["INCR", "t"]), int(6));
        assert_eq!(ttl_ms(&mut s, "t"), Some(NOW + 100_000));
    }

    #[test]
    fn incrbyfloat() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "k", "1"]), bulk("1"));
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "k", "0.25"]), bulk("1.25"));
        run(&mut s, &["SET", "k", "10.5"]);
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "k", "0.1"]), bulk("10.6"));
        run(&mut s, &["SET", "k", "1000"]);
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "0.1"]),
            bulk("1000.09999999999999998")
        );
        run(&mut s, &["SET", "k", "17179869184"]);
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "1.5"]),
            bulk("17179869185.5")
        );
        run(&mut s, &["SET", "k", "5.0e3"]);
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "k", "2.0e2"]), bulk("5200"));
        run(&mut s, &["SET", "k", "1.5"]);
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "k", "-1.5"]), bulk("0"));
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "k", "0x10"]), bulk("16"));
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "abc"]),
            error(err::NOT_FLOAT)
        );
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "1e5000"]),
            error(err::NOT_FLOAT)
        );
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "nan"]),
            error(err::NOT_FLOAT)
        );
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "inf"]),
            error(ERR_NAN_OR_INFINITY)
        );
        run(&mut s, &["SET", "k", "inf"]);
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "0"]),
            error(ERR_NAN_OR_INFINITY)
        );
        run(&mut s, &["SET", "k", "abc"]);
        assert_eq!(
            run(&mut s, &["INCRBYFLOAT", "k", "1"]),
            error(err::NOT_FLOAT)
        );
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "new", "1e-4940"]), bulk("0"));
        assert_eq!(run(&mut s, &["GET", "new"]), bulk("0"));
        // The TTL survives.
        run(&mut s, &["SET", "t", "5", "EX", "100"]);
        assert_eq!(run(&mut s, &["INCRBYFLOAT", "t", "1.5"]), bulk("6.5"));
        assert_eq!(ttl_ms(&mut s, "t"), Some(NOW + 100_000));
    }

    #[test]
    fn lcs() {
        let mut s = shard();
        run(&mut s, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
        assert_eq!(run(&mut s, &["LCS", "key1", "key2"]), bulk("mytext"));
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "LEN"]), int(6));
        let range = |a: i64, b: i64| format!("*2\r\n{}{}", int(a), int(b));
        let idx = format!(
            "*4\r\n{}*2\r\n*2\r\n{}{}*2\r\n{}{}{}{}",
            bulk("matches"),
            range(4, 7),
            range(5, 8),
            range(2, 3),
            range(0, 1),
            bulk("len"),
            int(6)
        );
        assert_eq!(run(&mut s, &["LCS", "key1", "key2", "IDX"]), idx);
        let min4 = format!(
            "*4\r\n{}*1\r\n*3\r\n{}{}{}{}{}",
            bulk("matches"),
            range(4, 7),
            range(5, 8),
            int(4),
            bulk("len"),
            int(6)
        );
        assert_eq!(
            run(
                &mut s,
                &[
                    "LCS",
                    "key1",
                    "key2",
                    "idx",
                    "minmatchlen",
                    "4",
                    "withmatchlen"
                ]
            ),
            min4
        );
        assert!(run3(&mut s, &["LCS", "key1", "key2", "IDX"]).starts_with("%2\r\n"));
        assert_eq!(
            run(&mut s, &["LCS", "key1", "key2", "IDX", "LEN"]),
            error(ERR_LCS_LEN_AND_IDX)
        );
        assert_eq!(
            run(&mut s, &["LCS", "key1", "key2", "foo"]),
            error(err::SYNTAX)
        );
        assert_eq!(
            run(&mut s, &["LCS", "key1", "key2", "MINMATCHLEN"]),
            error(err::SYNTAX)
        );
        assert_eq!(
            run(&mut s, &["LCS", "key1", "key2", "MINMATCHLEN", "x"]),
            error(err::NOT_INT)
        );
        assert_eq!(run(&mut s, &["LCS", "key1", "missing"]), bulk(""));
        assert_eq!(
            run(&mut s, &["LCS", "m1", "m2", "IDX"]),
            format!("*4\r\n{}*0\r\n{}{}", bulk("matches"), bulk("len"), int(0))
        );
        run(&mut s, &["MSET", "n1", "12345", "n2", "2345"]);
        assert_eq!(
            run(&mut s, &["LCS", "n1", "n2", "IDX", "WITHMATCHLEN"]),
            format!(
                "*4\r\n{}*1\r\n*3\r\n{}{}{}{}{}",
                bulk("matches"),
                range(1, 4),
                range(0, 3),
                int(4),
                bulk("len"),
                int(4)
            )
        );
        assert_eq!(run(&mut s, &["LCS", "key1", "key1"]), bulk("ohmytext"));
    }

    #[test]
    fn lcs_limits() {
        let mut out = Reply::new(false);
        let big = vec![b'a'; 12_000];
        lcs_reply(&mut out, &big, &big, &LcsOpts::default());
        assert_eq!(out.buf, error(ERR_LCS_MEMORY).as_bytes());
        let mut out = Reply::new(false);
        let opts = LcsOpts {
            len: true,
            ..LcsOpts::default()
        };
        lcs_reply(&mut out, b"abcbdab", b"bdcaba", &opts);
        assert_eq!(out.buf, b":4\r\n");
    }

    #[test]
    fn lcs_matches_len_only_variant() {
        // The two-row length and the full table agree.
        let words: [&[u8]; 5] = [b"", b"a", b"abcbdab", b"bdcaba", b"xyzzyabcabc"];
        for a in words {
            for b in words {
                let t = LcsTable::build(a, b);
                assert_eq!(lcs_len(a, b), t.at(a.len(), b.len()));
                let (lcs, _) = lcs_backtrack(&t, a, b);
                assert_eq!(lcs.len() as u32, t.at(a.len(), b.len()));
            }
        }
    }

    #[test]
    fn clamp_range_rules() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, -1, 0), None);
        assert_eq!(clamp_range(3, 2, 5), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
    }

    #[test]
    fn read_string_for_the_coordinator() {
        let mut s = shard();
        run(&mut s, &["SET", "n", "12"]);
        let db = &mut s.dbs[0];
        assert_eq!(
            read_string(db, b"n", NOW).unwrap().as_deref(),
            Some(&b"12"[..])
        );
        assert_eq!(read_string(db, b"missing", NOW), Ok(None));
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut s = shard();
        if !other_type(&mut s, "l") {
            return; // no other value type exists yet
        }
        let wrongtype = error(err::WRONGTYPE);
        for cmd in [
            &["GET", "l"][..],
            &["SET", "l", "v", "GET"],
            &["GETEX", "l", "EX", "abc"],
            &["GETDEL", "l"],
            &["GETSET", "l", "v"],
            &["APPEND", "l", "v"],
            &["STRLEN", "l"],
            &["GETRANGE", "l", "0", "1"],
            &["SETRANGE", "l", "0", "x"],
            &["INCR", "l"],
            &["DECRBY", "l", "1"],
            &["INCRBYFLOAT", "l", "x"],
        ] {
            assert_eq!(run(&mut s, cmd), wrongtype, "{cmd:?}");
        }
        assert_eq!(run(&mut s, &["MGET", "l"]), NULL);
        assert_eq!(run(&mut s, &["INCRBY", "l", "x"]), error(err::NOT_INT));
        assert_eq!(
            run(&mut s, &["SET", "l", "v", "EX", "0", "GET"]),
            error("ERR invalid expire time in 'set' command")
        );
        assert_eq!(run(&mut s, &["LCS", "l", "x"]), error(ERR_LCS_TYPES));
        assert_eq!(run(&mut s, &["SET", "l", "v", "NX"]), NULL);
        assert_eq!(run(&mut s, &["SET", "l", "v"]), OK);
    }

    #[test]
    fn binary_safe() {
        let mut s = shard();
        let v: &[u8] = b"\x00\xff\r\n";
        assert_eq!(run_bytes(&mut s, &[b"SET", b"k", v]), OK);
        assert_eq!(
            run_bytes(&mut s, &[b"GET", b"k"]),
            "$4\r\n\u{0}\u{fffd}\r\n\r\n"
        );
        assert_eq!(run(&mut s, &["STRLEN", "k"]), int(4));
    }

    // --- Effects (what the AOF logs) ---

    #[test]
    fn set_effects_have_absolute_expiries() {
        let at = |ms: u64| (NOW + ms).to_string();
        let script: &[&[&str]] = &[
            &["SET", "a", "1", "EX", "10"],
            &["set", "b", "2", "px", "5000", "NX", "GET"],
            &["SET", "c", "3", "EXAT", "1800000000", "XX"],
            &["SET", "d", "4", "PXAT", "1800000000000", "GET"],
            &["SETEX", "e", "10", "5"],
            &["PSETEX", "f", "5000", "6"],
            &["SET", "a", "7", "KEEPTTL"],
            &["set", "b", "8", "get", "XX", "GET"],
            &["GETSET", "c", "9"],
            &["SETNX", "g", "10"],
            &["SET", "g", "11"],
        ];
        assert_eq!(
            effects_each(script),
            [
                vec![format!("SET a 1 PXAT {}", at(10_000))],
                vec![format!("SET b 2 PXAT {}", at(5_000))],
                // EXAT on a missing key with XX: nothing written, nothing logged.
                vec![],
                vec!["SET d 4 PXAT 1800000000000 GET".to_string()],
                vec![format!("SET e 5 PXAT {}", at(10_000))],
                vec![format!("SET f 6 PXAT {}", at(5_000))],
                vec!["SET a 7 KEEPTTL".to_string()],
                vec!["SET b 8 XX".to_string()],
                vec!["SET c 9".to_string()],
                vec!["SETNX g 10".to_string()],
                vec!["SET g 11".to_string()],
            ]
        );
        assert_replays(script);
    }

    #[test]
    fn set_effects_skip_what_did_not_write() {
        let script: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["SET", "k", "w", "NX", "EX", "10"],
            &["SET", "k", "w", "EX", "0"],
            &["SETNX", "k", "w"],
            &["SET", "k", "w", "NX", "GET"],
        ];
        assert_eq!(
            effects_each(script),
            [vec!["SET k v"], vec![], vec![], vec![], vec![]]
        );
    }

    #[test]
    fn getex_effects() {
        let script: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["GETEX", "k", "EX", "100"],
            &["GETEX", "k", "PX", "200"],
            &["GETEX", "k", "EXAT", "1800000000"],
            &["GETEX", "k", "PXAT", "1800000000001"],
            &["GETEX", "k"],
            &["GETEX", "k", "PERSIST"],
            &["GETEX", "k", "PERSIST"],
            &["GETEX", "missing", "EX", "10"],
            &["SET", "gone", "v"],
            &["GETEX", "gone", "EXAT", "1"],
            &["SET", "gone2", "v"],
            &["GETEX", "gone2", "PXAT", "1000"],
        ];
        assert_eq!(
            effects_each(script),
            [
                vec!["SET k v".to_string()],
                vec![format!("PEXPIREAT k {}", NOW + 100_000)],
                vec![format!("PEXPIREAT k {}", NOW + 200)],
                vec!["PEXPIREAT k 1800000000000".to_string()],
                vec!["PEXPIREAT k 1800000000001".to_string()],
                vec![],
                vec!["PERSIST k".to_string()],
                vec![],
                vec![],
                vec!["SET gone v".to_string()],
                vec!["DEL gone".to_string()],
                vec!["SET gone2 v".to_string()],
                vec!["DEL gone2".to_string()],
            ]
        );
        assert_replays(script);
        assert_replays(&[&["SET", "k", "v"], &["GETEX", "k", "EX", "100"]]);
    }

    #[test]
    fn getdel_getset_incrbyfloat_effects() {
        let script: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["GETDEL", "k"],
            &["GETDEL", "k"],
            &["GETSET", "n", "1"],
            &["INCRBYFLOAT", "n", "0.1"],
            &["PEXPIRE", "n", "60000"],
            &["INCRBYFLOAT", "n", "1e2"],
            &["INCRBYFLOAT", "x", "x"],
        ];
        assert_eq!(
            effects_each(script),
            [
                vec!["SET k v".to_string()],
                vec!["DEL k".to_string()],
                vec![],
                vec!["SET n 1".to_string()],
                vec!["SET n 1.1 KEEPTTL".to_string()],
                vec![format!("PEXPIREAT n {}", NOW + 60_000)],
                vec!["SET n 101.1 KEEPTTL".to_string()],
                vec![],
            ]
        );
        assert_replays(script);
    }

    #[test]
    fn deterministic_string_writes_are_their_own_effect() {
        let script: &[&[&str]] = &[
            &["APPEND", "a", "x"],
            &["APPEND", "a", "y"],
            &["SETRANGE", "r", "3", "z"],
            &["SETRANGE", "r", "0", ""],
            &["INCR", "i"],
            &["DECRBY", "i", "5"],
            &["MSET", "m1", "1", "m2", "2"],
            &["MSETNX", "m1", "1", "m3", "3"],
            &["MSETNX", "m3", "3", "m4", "4"],
        ];
        // Each is its own effect, except the ones that changed nothing (not logged).
        assert_own_effects(script, &[3, 7]);
    }

    #[test]
    fn no_effects_while_the_aof_is_off() {
        let mut s = shard();
        let h: crate::shard::Handler = set;
        let fx =
            crate::effects::testing::effects_of(&mut s, 0, NOW, h, &["SET", "k", "v", "EX", "1"]);
        assert!(fx.is_empty());
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 1_000));
    }
}
