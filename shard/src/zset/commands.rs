//! The sorted set commands, with Redis 7.2's replies, errors and argument rules
//! (`t_zset.c`).

use super::ZSetValue;
use crate::blocking::parse_timeout;
use crate::cmd::Cmd;
use crate::db::Db;
use crate::notify;
use crate::num::{fmt_double, parse_i64};
use crate::reply::{err, Reply};
use crate::scan::parse_collection_scan;
use crate::shard::Ctx;
use crate::string::{reply_result, ErrReply};
use crate::value::{Value, WrongType};
use std::borrow::Cow;

type R = Result<(), ErrReply>;

const ERR_XX_NX: &str = "ERR XX and NX options at the same time are not compatible";
const ERR_GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const ERR_INCR_PAIRS: &str = "ERR INCR option supports a single increment-element pair";
const ERR_NAN: &str = "ERR resulting score is not a number (NaN)";
/// A bad score range (ZRANGEBYSCORE, ZCOUNT...).
pub const ERR_NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
/// A bad lex range (ZRANGEBYLEX, ZLEXCOUNT...).
pub const ERR_NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const ERR_LIMIT_RANK: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const ERR_WITHSCORES_LEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const ERR_POSITIVE: &str = "ERR value is out of range, must be positive";
const ERR_WEIGHT: &str = "ERR weight value is not a float";
const ERR_LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
const ERR_NUMKEYS: &str = "ERR numkeys should be greater than 0";
const ERR_COUNT: &str = "ERR count should be greater than 0";
const ERR_OUT_OF_RANGE: &str = "ERR value is out of range";
const ERR_RANDMEMBER_COUNT: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// The most elements ZRANDMEMBER with a negative count may return: Redis would stream them
/// until memory runs out; this builds its reply in memory, so it refuses beyond this.
const RANDMEMBER_MAX_REPEATS: u64 = 1 << 26;

// ---------------------------------------------------------------------------------------------
// Lookups and argument parsing

fn as_zset(v: &Value) -> Result<&ZSetValue, WrongType> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(WrongType),
    }
}

fn as_zset_mut(v: &mut Value) -> Result<&mut ZSetValue, WrongType> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(WrongType),
    }
}

/// The sorted set at `key` for a reading command (counts a keyspace hit or miss).
pub fn lookup_read<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a ZSetValue>, WrongType> {
    db.get(key, now).map(|e| as_zset(&e.value)).transpose()
}

/// The sorted set at `key` for a writing command; changing it in place keeps the TTL.
pub fn lookup_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    now: u64,
) -> Result<Option<&'a mut ZSetValue>, WrongType> {
    db.get_mut(key, now)
        .map(|e| as_zset_mut(&mut e.value))
        .transpose()
}

fn int_arg(arg: &[u8]) -> Result<i64, ErrReply> {
    parse_i64(arg).ok_or(Cow::Borrowed(err::NOT_INT))
}

/// Reads a whole string as C's `strtod` reads a number (decimal or hexadecimal, `inf`,
/// `infinity`, `nan`, any case, with a sign); None unless all of it is the number. Overflow
/// gives an infinity and underflow zero, as strtod's values (the callers check `ERANGE`'s
/// cases themselves).
fn c_double(s: &[u8]) -> Option<f64> {
    let (neg, body) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = match &lower[..] {
        b"inf" | b"infinity" => f64::INFINITY,
        b"nan" => f64::NAN,
        _ if lower.starts_with(b"nan(") && lower.ends_with(b")") => f64::NAN,
        _ if lower.starts_with(b"0x") => hex_double(&lower[2..])?,
        _ => decimal_double(body)?,
    };
    Some(if neg { -v } else { v })
}

/// `digits [. digits] [e [sign] digits]`, at least one digit in the mantissa.
fn decimal_double(b: &[u8]) -> Option<f64> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(0);
    let mut p = int_len;
    let mut frac = &b[0..0];
    if b.get(p) == Some(&b'.') {
        let n = digits(p + 1);
        frac = &b[p + 1..p + 1 + n];
        p += 1 + n;
    }
    if int_len + frac.len() == 0 {
        return None;
    }
    let mut exp: &[u8] = b"0";
    if matches!(b.get(p), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(p + 1), Some(b'+' | b'-')));
        let n = digits(p + 1 + sign);
        if n == 0 {
            return None;
        }
        exp = &b[p + 1..p + 1 + sign + n];
        p += 1 + sign + n;
    }
    if p != b.len() {
        return None;
    }
    let text = format!(
        "{}.{}e{}",
        std::str::from_utf8(&b[..int_len]).ok()?,
        std::str::from_utf8(frac).ok()?,
        std::str::from_utf8(exp).ok()?
    );
    let text = text
        .strip_prefix('.')
        .map_or(text.clone(), |t| format!("0.{t}"));
    text.parse().ok()
}

/// The part after `0x`: `hexdigits [. hexdigits] [p [sign] digits]`.
fn hex_double(b: &[u8]) -> Option<f64> {
    let (mut mant, mut exp2, mut any) = (0u64, 0i64, false);
    let mut p = 0;
    let mut seen_dot = false;
    while p < b.len() {
        let c = b[p];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'.' if !seen_dot => {
                seen_dot = true;
                p += 1;
                continue;
            }
            _ => break,
        };
        any = true;
        if mant >> 60 == 0 {
            mant = mant * 16 + d as u64;
            if seen_dot {
                exp2 -= 4;
            }
        } else if !seen_dot {
            exp2 += 4;
        }
        p += 1;
    }
    if !any {
        return None;
    }
    if p < b.len() {
        if b[p] != b'p' {
            return None;
        }
        let sign = matches!(b.get(p + 1), Some(b'+' | b'-'));
        let start = p + 1 + usize::from(sign);
        let e = &b[start..];
        if e.is_empty() || !e.iter().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let e: i64 = std::str::from_utf8(e).ok()?.parse().unwrap_or(i64::MAX / 4);
        exp2 += if b[p + 1] == b'-' { -e } else { e };
    }
    Some(mant as f64 * 2f64.powi(exp2.clamp(-2000, 2000) as i32))
}

/// A score, increment or weight as Redis' `getDoubleFromObject` reads it: all of the string
/// is the number (no spaces), not NaN, and no overflow to infinity or underflow to zero.
pub fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.len() > 5000 || arg.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let v = c_double(arg)?;
    if v.is_nan() {
        return None;
    }
    let text = arg.to_ascii_lowercase();
    let unsigned = text
        .strip_prefix(b"-")
        .or_else(|| text.strip_prefix(b"+"))
        .unwrap_or(&text);
    if v.is_infinite() && unsigned != b"inf" && unsigned != b"infinity" {
        return None;
    }
    if v == 0.0 {
        let mantissa = if unsigned.starts_with(b"0x") {
            unsigned[2..].split(|&c| c == b'p').next().unwrap_or(&[])
        } else {
            unsigned.split(|&c| c == b'e').next().unwrap_or(&[])
        };
        if mantissa.iter().any(|c| c.is_ascii_hexdigit() && *c != b'0') {
            return None;
        }
    }
    Some(v)
}

/// C's `strtod` as `zslParseRange` uses it: the text ends at a NUL byte, leading white space
/// is skipped, the empty string reads as 0, NaN is refused.
fn strtod(arg: &[u8]) -> Option<f64> {
    let s = &arg[..arg.iter().position(|&c| c == 0).unwrap_or(arg.len())];
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))?;
    let v = c_double(&s[start..])?;
    (!v.is_nan()).then_some(v)
}

/// A score interval: `(x` excludes its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// The lower end.
    pub min: f64,
    /// The upper end.
    pub max: f64,
    /// Whether `min` itself is excluded (`(min`).
    pub minex: bool,
    /// Whether `max` itself is excluded (`(max`).
    pub maxex: bool,
}

impl ScoreRange {
    /// Parses `min max` as `zslParseRange` does.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        fn bound(a: &[u8]) -> Option<(f64, bool)> {
            match a.strip_prefix(b"(") {
                Some(rest) => Some((strtod(rest)?, true)),
                None => Some((strtod(a)?, false)),
            }
        }
        let (min, minex) = bound(min)?;
        let (max, maxex) = bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// The ascending ranks `lo..hi` of the members in the interval.
    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = z.count_before(|_, s| !self.gte_min(s));
        let hi = z.count_before(|_, s| self.lte_max(s));
        (lo, hi.max(lo))
    }
}

/// One end of a lex range: `-`, `+`, `[x` (inclusive) or `(x` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LexBound<'a> {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    /// `[x`: x included.
    Incl(&'a [u8]),
    /// `(x`: x excluded.
    Excl(&'a [u8]),
}

impl<'a> LexBound<'a> {
    fn parse(a: &'a [u8]) -> Option<LexBound<'a>> {
        match a.first()? {
            b'+' if a.len() == 1 => Some(LexBound::Max),
            b'-' if a.len() == 1 => Some(LexBound::Min),
            b'(' => Some(LexBound::Excl(&a[1..])),
            b'[' => Some(LexBound::Incl(&a[1..])),
            _ => None,
        }
    }
}

/// A lex interval (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LexRange<'a> {
    /// The lower end.
    pub min: LexBound<'a>,
    /// The upper end.
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    /// Parses `min max` as `zslParseLexRange` does.
    pub fn parse(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    fn gte_min(&self, v: &[u8]) -> bool {
        match self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(m) => v >= m,
            LexBound::Excl(m) => v > m,
        }
    }

    fn lte_max(&self, v: &[u8]) -> bool {
        match self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(m) => v <= m,
            LexBound::Excl(m) => v < m,
        }
    }

    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = z.count_before(|m, _| !self.gte_min(m));
        let hi = z.count_before(|m, _| self.lte_max(m));
        (lo, hi.max(lo))
    }
}

/// Resolves Redis rank arguments (negative = from the end) to ascending ranks `lo..hi`.
fn rank_span(start: i64, end: i64, len: usize) -> (usize, usize) {
    let llen = len as i64;
    let mut start = if start < 0 { start + llen } else { start };
    let end = if end < 0 { end + llen } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return (0, 0);
    }
    (start as usize, end.min(llen - 1) as usize + 1)
}

/// Array header for `n` members, with scores: RESP2 flattens the pairs, RESP3 nests them.
fn entries_header(out: &mut Reply, n: usize, withscores: bool) {
    if withscores && !out.resp3 {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

fn entry(out: &mut Reply, member: &[u8], score: f64, withscores: bool) {
    if withscores && out.resp3 {
        out.array(2);
    }
    out.bulk(member);
    if withscores {
        out.double(score);
    }
}

/// Stores a command's result at `dst` (replacing any value and TTL) with the keyspace
/// event `event` and replies its size; an empty result deletes `dst` instead ("del"), even
/// an expired one, as Redis' `dbDelete`.
fn store_result(ctx: &mut Ctx, dst: &[u8], z: ZSetValue, event: &'static str) {
    let n = z.len();
    if n > 0 {
        ctx.db.set(dst, Value::ZSet(Box::new(z)), 0, ctx.now);
        ctx.notify(notify::ZSET, event, dst);
        ctx.wrote(1);
    } else {
        ctx.delete_stored(dst);
    }
    ctx.out.int(n as i64);
}

/// After members were removed from `key`: records `event`, then deletes the key ("del")
/// if its sorted set became empty, in Redis' order.
fn removed_from(ctx: &mut Ctx, key: &[u8], event: &'static str) {
    ctx.notify(notify::ZSET, event, key);
    let emptied = matches!(lookup_write(ctx.db, key, ctx.now), Ok(Some(z)) if z.is_empty());
    ctx.delete_if_emptied(key, emptied);
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zadd_generic(ctx, cmd, false);
    reply_result(ctx.out, r);
}

/// ZINCRBY key increment member
pub fn zincrby(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zadd_generic(ctx, cmd, true);
    reply_result(ctx.out, r);
}

fn zadd_generic(ctx: &mut Ctx, cmd: &Cmd, mut incr: bool) -> R {
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut idx = 2;
    while idx < cmd.len() {
        let opt = &cmd[idx];
        match () {
            _ if opt.eq_ignore_ascii_case(b"nx") => nx = true,
            _ if opt.eq_ignore_ascii_case(b"xx") => xx = true,
            _ if opt.eq_ignore_ascii_case(b"ch") => ch = true,
            _ if opt.eq_ignore_ascii_case(b"incr") => incr = true,
            _ if opt.eq_ignore_ascii_case(b"gt") => gt = true,
            _ if opt.eq_ignore_ascii_case(b"lt") => lt = true,
            _ => break,
        }
        idx += 1;
    }
    let elements = cmd.len() - idx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(err::SYNTAX.into());
    }
    let n = elements / 2;
    if nx && xx {
        return Err(ERR_XX_NX.into());
    }
    if nx && (gt || lt) || (gt && lt) {
        return Err(ERR_GT_LT_NX.into());
    }
    if incr && n > 1 {
        return Err(ERR_INCR_PAIRS.into());
    }
    let scores = (0..n)
        .map(|j| parse_score(&cmd[idx + 2 * j]).ok_or(Cow::Borrowed(err::NOT_FLOAT)))
        .collect::<Result<Vec<f64>, _>>()?;

    let key = &cmd[1];
    let limits = ctx.limits;
    let exists = lookup_write(ctx.db, key, ctx.now)?.is_some();
    if !exists {
        if xx {
            if incr {
                ctx.out.null();
            } else {
                ctx.out.int(0);
            }
            return Ok(());
        }
        let z = ZSetValue::with_hint(n, cmd[idx + 1].len(), limits);
        ctx.db.set(key, Value::ZSet(Box::new(z)), 0, ctx.now);
    }
    let z = lookup_write(ctx.db, key, ctx.now)?.expect("present or just created");
    if exists {
        z.maybe_convert(n, limits);
    }
    if n > 1 {
        let bytes = (0..n).map(|j| cmd[idx + 1 + 2 * j].len()).sum();
        z.reserve(n, bytes);
    }
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last = 0.0;
    for (j, &score) in scores.iter().enumerate() {
        let member = &cmd[idx + 1 + 2 * j];
        match z.score(member) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let mut s = score;
                if incr {
                    s += cur;
                    if s.is_nan() {
                        return Err(ERR_NAN.into());
                    }
                }
                if (lt && s >= cur) || (gt && s <= cur) {
                    continue;
                }
                last = s;
                processed += 1;
                if s != cur {
                    z.insert(member, s, limits);
                    updated += 1;
                }
            }
            None if !xx => {
                z.insert(member, score, limits);
                last = score;
                added += 1;
                processed += 1;
            }
            None => {}
        }
    }
    if n > 1 {
        z.shrink_to_fit();
    }
    if added + updated > 0 {
        ctx.notify(notify::ZSET, if incr { "zincr" } else { "zadd" }, key);
    }
    ctx.wrote(added + updated);
    if incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out
            .int((if ch { added + updated } else { added }) as i64);
    }
    Ok(())
}

/// ZREM key member [member ...]
pub fn zrem(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrem_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn zrem_with(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let key = &cmd[1];
    let Some(z) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0u64;
    for m in cmd.args().skip(2) {
        if z.remove(m) {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if deleted > 0 {
        removed_from(ctx, key, "zrem");
    }
    ctx.wrote(deleted);
    ctx.out.int(deleted as i64);
    Ok(())
}

/// ZCARD key
pub fn zcard(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(z) => ctx.out.int(z.map_or(0, |z| z.len() as i64)),
        Err(_) => ctx.out.error(err::WRONGTYPE),
    }
}

/// ZSCORE key member
pub fn zscore(ctx: &mut Ctx, cmd: &Cmd) {
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(z) => match z.and_then(|z| z.score(&cmd[2])) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        },
        Err(_) => ctx.out.error(err::WRONGTYPE),
    }
}

/// ZMSCORE key member [member ...]
pub fn zmscore(ctx: &mut Ctx, cmd: &Cmd) {
    let z = match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(z) => z,
        Err(_) => return ctx.out.error(err::WRONGTYPE),
    };
    ctx.out.array(cmd.len() - 2);
    for m in cmd.args().skip(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
}

/// ZRANK key member [WITHSCORE]
pub fn zrank(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrank_generic(ctx, cmd, false);
    reply_result(ctx.out, r);
}

/// ZREVRANK key member [WITHSCORE]
pub fn zrevrank(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrank_generic(ctx, cmd, true);
    reply_result(ctx.out, r);
}

fn zrank_generic(ctx: &mut Ctx, cmd: &Cmd, reverse: bool) -> R {
    if cmd.len() > 4 {
        return Err(err::arity(&cmd[0]).into());
    }
    let withscore = cmd.len() == 4;
    if withscore && !cmd[3].eq_ignore_ascii_case(b"withscore") {
        return Err(err::SYNTAX.into());
    }
    let found = lookup_read(ctx.db, &cmd[1], ctx.now)?
        .and_then(|z| z.rank(&cmd[2]).map(|(r, s)| (r, s, z.len())));
    match found {
        Some((rank, score, len)) => {
            let rank = if reverse { len - 1 - rank } else { rank };
            if withscore {
                ctx.out.array(2);
            }
            ctx.out.int(rank as i64);
            if withscore {
                ctx.out.double(score);
            }
        }
        None if withscore => ctx.out.null_array(),
        None => ctx.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*

/// ZCOUNT key min max
pub fn zcount(ctx: &mut Ctx, cmd: &Cmd) {
    let Some(range) = ScoreRange::parse(&cmd[2], &cmd[3]) else {
        return ctx.out.error(ERR_NOT_FLOAT_RANGE);
    };
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(z) => {
            let n = z.map_or(0, |z| {
                let (lo, hi) = range.span(z);
                hi - lo
            });
            ctx.out.int(n as i64)
        }
        Err(_) => ctx.out.error(err::WRONGTYPE),
    }
}

/// ZLEXCOUNT key min max
pub fn zlexcount(ctx: &mut Ctx, cmd: &Cmd) {
    let Some(range) = LexRange::parse(&cmd[2], &cmd[3]) else {
        return ctx.out.error(ERR_NOT_LEX_RANGE);
    };
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Ok(z) => {
            let n = z.map_or(0, |z| {
                let (lo, hi) = range.span(z);
                hi - lo
            });
            ctx.out.int(n as i64)
        }
        Err(_) => ctx.out.error(err::WRONGTYPE),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed range of any kind.
enum Range<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

impl Range<'_> {
    /// The ascending ranks `lo..hi` of the range in `z`.
    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        match self {
            Range::Rank(start, end) => rank_span(*start, *end, z.len()),
            Range::Score(r) => r.span(z),
            Range::Lex(r) => r.span(z),
        }
    }
}

fn parse_range<'a>(kind: RangeType, min: &'a [u8], max: &'a [u8]) -> Result<Range<'a>, ErrReply> {
    Ok(match kind {
        RangeType::Auto | RangeType::Rank => Range::Rank(int_arg(min)?, int_arg(max)?),
        RangeType::Score => {
            Range::Score(ScoreRange::parse(min, max).ok_or(Cow::Borrowed(ERR_NOT_FLOAT_RANGE))?)
        }
        RangeType::Lex => {
            Range::Lex(LexRange::parse(min, max).ok_or(Cow::Borrowed(ERR_NOT_LEX_RANGE))?)
        }
    })
}

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zremrange(ctx, cmd, RangeType::Rank);
    reply_result(ctx.out, r);
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zremrange(ctx, cmd, RangeType::Score);
    reply_result(ctx.out, r);
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zremrange(ctx, cmd, RangeType::Lex);
    reply_result(ctx.out, r);
}

fn zremrange(ctx: &mut Ctx, cmd: &Cmd, kind: RangeType) -> R {
    let range = parse_range(kind, &cmd[2], &cmd[3])?;
    let key = &cmd[1];
    let Some(z) = lookup_write(ctx.db, key, ctx.now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (lo, hi) = range.span(z);
    let deleted = z.remove_range_by_rank(lo, hi);
    if deleted > 0 {
        let event = match kind {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        removed_from(ctx, key, event);
    }
    ctx.wrote(deleted as u64);
    ctx.out.int(deleted as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and its variants

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 1, false, RangeType::Auto, None);
    reply_result(ctx.out, r);
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub fn zrangestore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 2, true, RangeType::Auto, None);
    reply_result(ctx.out, r);
}

/// ZREVRANGE key start stop [WITHSCORES]
pub fn zrevrange(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 1, false, RangeType::Rank, Some(true));
    reply_result(ctx.out, r);
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub fn zrangebyscore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 1, false, RangeType::Score, Some(false));
    reply_result(ctx.out, r);
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub fn zrevrangebyscore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 1, false, RangeType::Score, Some(true));
    reply_result(ctx.out, r);
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub fn zrangebylex(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 1, false, RangeType::Lex, Some(false));
    reply_result(ctx.out, r);
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub fn zrevrangebylex(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrange_generic(ctx, cmd, 1, false, RangeType::Lex, Some(true));
    reply_result(ctx.out, r);
}

/// `zrangeGenericCommand`: the source key is at `src`; `kind` and `reverse` are fixed by the
/// legacy commands and chosen by the options for ZRANGE and ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    cmd: &Cmd,
    src: usize,
    store: bool,
    mut kind: RangeType,
    mut reverse: Option<bool>,
) -> R {
    let (mut minidx, mut maxidx) = (src + 1, src + 2);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src + 3;
    while j < cmd.len() {
        let left = cmd.len() - j - 1;
        let a = &cmd[j];
        if !store && a.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            offset = int_arg(&cmd[j + 1])?;
            limit = int_arg(&cmd[j + 2])?;
            j += 2;
        } else if reverse.is_none() && a.eq_ignore_ascii_case(b"rev") {
            reverse = Some(true);
        } else if kind == RangeType::Auto && a.eq_ignore_ascii_case(b"bylex") {
            kind = RangeType::Lex;
        } else if kind == RangeType::Auto && a.eq_ignore_ascii_case(b"byscore") {
            kind = RangeType::Score;
        } else {
            return Err(err::SYNTAX.into());
        }
        j += 1;
    }
    let reverse = reverse.unwrap_or(false);
    if kind == RangeType::Auto {
        kind = RangeType::Rank;
    }
    // As Redis, "LIMIT x -1" reads as no LIMIT at all.
    if limit != -1 && kind == RangeType::Rank {
        return Err(ERR_LIMIT_RANK.into());
    }
    if withscores && kind == RangeType::Lex {
        return Err(ERR_WITHSCORES_LEX.into());
    }
    if reverse && kind != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let range = parse_range(kind, &cmd[minidx], &cmd[maxidx])?;

    let limits = ctx.limits;
    let Some(z) = lookup_read(ctx.db, &cmd[src], ctx.now)? else {
        if store {
            store_result(ctx, &cmd[1], ZSetValue::new(), "zrangestore");
        } else {
            ctx.out.array(0);
        }
        return Ok(());
    };
    let (lo, hi) = range.span(z);
    // The ascending ranks a..b to emit, in order or reversed.
    let (a, b) = if kind == RangeType::Rank {
        if reverse {
            let n = z.len();
            if lo < hi {
                (n - hi, n - lo)
            } else {
                (0, 0)
            }
        } else {
            (lo, hi)
        }
    } else {
        let avail = (hi - lo) as u64;
        if offset < 0 || offset as u64 >= avail {
            (0, 0)
        } else {
            let rest = avail - offset as u64;
            let count = if limit < 0 {
                rest
            } else {
                rest.min(limit as u64)
            } as usize;
            let offset = offset as usize;
            if reverse {
                (hi - offset - count, hi - offset)
            } else {
                (lo + offset, lo + offset + count)
            }
        }
    };
    if store {
        let mut entries: Vec<(Box<[u8]>, f64)> = Vec::with_capacity(b - a);
        z.range_by_rank(a, b, false, |m, s| entries.push((m.into(), s)));
        let result = ZSetValue::from_sorted(&entries, limits);
        store_result(ctx, &cmd[1], result, "zrangestore");
    } else {
        entries_header(ctx.out, b - a, withscores);
        let out = &mut *ctx.out;
        z.range_by_rank(a, b, reverse, |m, s| entry(out, m, s, withscores));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP and the blocking forms

/// ZPOPMIN key [count]
pub fn zpopmin(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zpop_minmax(ctx, cmd, false);
    reply_result(ctx.out, r);
}

/// ZPOPMAX key [count]
pub fn zpopmax(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zpop_minmax(ctx, cmd, true);
    reply_result(ctx.out, r);
}

fn zpop_minmax(ctx: &mut Ctx, cmd: &Cmd, max: bool) -> R {
    if cmd.len() > 3 {
        return Err(err::SYNTAX.into());
    }
    let count = match cmd.len() {
        3 => parse_i64(&cmd[2])
            .filter(|&c| c >= 0)
            .ok_or(Cow::Borrowed(ERR_POSITIVE))?,
        _ => -1,
    };
    let style = PopStyle {
        emitkey: false,
        nested: ctx.out.resp3 && count != -1,
        nil_when_empty: false,
    };
    zpop_generic(ctx, cmd, &[1], max, count, style).map(|_| ())
}

/// The reply shapes of the pop commands (`genericZpopCommand`'s flags).
#[derive(Clone, Copy)]
struct PopStyle {
    /// The key name leads the reply (BZPOPMIN, ZMPOP...).
    emitkey: bool,
    /// Each (member, score) pair is an array of its own.
    nested: bool,
    /// A null array, not an empty one, when no key exists (ZMPOP).
    nil_when_empty: bool,
}

/// ZMPOP's and BZMPOP's replies.
const MPOP_STYLE: PopStyle = PopStyle {
    emitkey: true,
    nested: true,
    nil_when_empty: true,
};

/// `genericZpopCommand`: pops from the first existing key among `keys` (argument
/// positions); `count` -1 is a plain single pop. Returns the position of the key it popped
/// from and how many members it popped.
fn zpop_generic(
    ctx: &mut Ctx,
    cmd: &Cmd,
    keys: &[usize],
    max: bool,
    count: i64,
    style: PopStyle,
) -> Result<Option<(usize, usize)>, ErrReply> {
    let PopStyle {
        emitkey,
        nested,
        nil_when_empty,
    } = style;
    let mut found = None;
    for &pos in keys {
        if lookup_write(ctx.db, &cmd[pos], ctx.now)?.is_some() {
            found = Some(pos);
            break;
        }
    }
    let Some(pos) = found else {
        if nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return Ok(None);
    };
    if count == 0 {
        ctx.out.array(0);
        return Ok(None);
    }
    let count = count.max(1) as u64;
    let key = &cmd[pos];
    let z = lookup_write(ctx.db, key, ctx.now)?.expect("found above");
    let n = (z.len() as u64).min(count) as usize;
    let out = &mut *ctx.out;
    match (nested, emitkey) {
        (false, false) => out.array(n * 2),
        (true, false) => out.array(n),
        (false, true) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        z.pop(max, |m, s| {
            if nested {
                out.array(2);
            }
            out.bulk(m);
            out.double(s);
        });
    }
    removed_from(ctx, key, if max { "zpopmax" } else { "zpopmin" });
    ctx.wrote(n as u64);
    Ok(Some((pos, n)))
}

/// The pop command of one end, as the blocking and multi-key pops are propagated.
fn pop_command(max: bool) -> &'static [u8] {
    if max {
        b"ZPOPMAX"
    } else {
        b"ZPOPMIN"
    }
}

/// Records `ZPOPMIN|ZPOPMAX key [n]` for a pop of `n` members from the key at `pos`, as
/// Redis propagates ZMPOP, BZMPOP (with `n`) and BZPOPMIN/BZPOPMAX (without): the key served,
/// and a form that never blocks on replay.
fn propagate_pop(
    ctx: &mut Ctx,
    cmd: &Cmd,
    popped: Option<(usize, usize)>,
    max: bool,
    with_count: bool,
) {
    let Some((pos, n)) = popped else { return };
    if !ctx.propagating() {
        return;
    }
    if with_count {
        let mut digits = itoa::Buffer::new();
        ctx.propagate([pop_command(max), &cmd[pos], digits.format(n).as_bytes()]);
    } else {
        ctx.propagate([pop_command(max), &cmd[pos]]);
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zmpop_generic(ctx, cmd, 1, false);
    reply_result(ctx.out, r);
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zmpop_generic(ctx, cmd, 2, true);
    reply_result(ctx.out, r);
}

fn zmpop_generic(ctx: &mut Ctx, cmd: &Cmd, numkeys_idx: usize, block: bool) -> R {
    let numkeys = parse_i64(&cmd[numkeys_idx])
        .filter(|&n| n >= 1)
        .ok_or(Cow::Borrowed(ERR_NUMKEYS))? as u64;
    let where_idx = (numkeys_idx as u64 + 1)
        .checked_add(numkeys)
        .filter(|&w| w < cmd.len() as u64)
        .ok_or(Cow::Borrowed(err::SYNTAX))? as usize;
    let max = if cmd[where_idx].eq_ignore_ascii_case(b"min") {
        false
    } else if cmd[where_idx].eq_ignore_ascii_case(b"max") {
        true
    } else {
        return Err(err::SYNTAX.into());
    };
    let mut count = -1i64;
    let mut j = where_idx + 1;
    while j < cmd.len() {
        let more = cmd.len() - 1 - j;
        if count == -1 && cmd[j].eq_ignore_ascii_case(b"count") && more > 0 {
            j += 1;
            count = parse_i64(&cmd[j])
                .filter(|&c| c >= 1)
                .ok_or(Cow::Borrowed(ERR_COUNT))?;
        } else {
            return Err(err::SYNTAX.into());
        }
        j += 1;
    }
    let count = count.max(1);
    let keys: Vec<usize> = (numkeys_idx + 1..where_idx).collect();
    let popped = if block {
        blocking_pop(ctx, cmd, &keys, 1, max, count, MPOP_STYLE)?
    } else {
        zpop_generic(ctx, cmd, &keys, max, count, MPOP_STYLE)?
    };
    propagate_pop(ctx, cmd, popped, max, true);
    Ok(())
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(ctx: &mut Ctx, cmd: &Cmd) {
    bzpop(ctx, cmd, false);
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(ctx: &mut Ctx, cmd: &Cmd) {
    bzpop(ctx, cmd, true);
}

fn bzpop(ctx: &mut Ctx, cmd: &Cmd, max: bool) {
    let keys: Vec<usize> = (1..cmd.len() - 1).collect();
    let r = blocking_pop(ctx, cmd, &keys, cmd.len() - 1, max, -1, BZPOP_STYLE)
        .map(|popped| propagate_pop(ctx, cmd, popped, max, false));
    reply_result(ctx.out, r);
}

/// BZPOPMIN's and BZPOPMAX's replies: [key, member, score].
const BZPOP_STYLE: PopStyle = PopStyle {
    emitkey: true,
    nested: false,
    nil_when_empty: false,
};

/// `blockingGenericZpopCommand`: serves the first non-empty key like a ZPOP naming the key;
/// writes nothing when every key is empty (the server then blocks the client).
fn blocking_pop(
    ctx: &mut Ctx,
    cmd: &Cmd,
    keys: &[usize],
    timeout_idx: usize,
    max: bool,
    count: i64,
    style: PopStyle,
) -> Result<Option<(usize, usize)>, ErrReply> {
    parse_timeout(&cmd[timeout_idx], ctx.now).map_err(Cow::Borrowed)?;
    for &pos in keys {
        match lookup_write(ctx.db, &cmd[pos], ctx.now)? {
            Some(z) if !z.is_empty() => return zpop_generic(ctx, cmd, &[pos], max, count, style),
            _ => {}
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

/// ZRANDMEMBER key [count [WITHSCORES]]
pub fn zrandmember(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zrandmember_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn zrandmember_with(ctx: &mut Ctx, cmd: &Cmd) -> R {
    if cmd.len() >= 3 {
        let l = int_arg(&cmd[2])?;
        if l == i64::MIN {
            return Err(ERR_RANDMEMBER_COUNT.into());
        }
        if cmd.len() > 4 || (cmd.len() == 4 && !cmd[3].eq_ignore_ascii_case(b"withscores")) {
            return Err(err::SYNTAX.into());
        }
        let withscores = cmd.len() == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return Err(ERR_OUT_OF_RANGE.into());
        }
        return zrandmember_count(ctx, cmd, l, withscores);
    }
    let Some(z) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.null();
        return Ok(());
    };
    let r = ctx.rng.below(z.len() as u64) as usize;
    let (m, _) = z.get_by_rank(r).expect("rank below length");
    ctx.out.bulk(m);
    Ok(())
}

fn zrandmember_count(ctx: &mut Ctx, cmd: &Cmd, l: i64, withscores: bool) -> R {
    let Some(z) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let size = z.len();
    let count = l.unsigned_abs();
    if count == 0 {
        ctx.out.array(0);
        return Ok(());
    }
    let rng = &mut *ctx.rng;
    let out = &mut *ctx.out;
    // Repeats allowed (negative count), or a single member: independent draws.
    if l < 0 || count == 1 {
        if count > RANDMEMBER_MAX_REPEATS {
            return Err(ERR_OUT_OF_RANGE.into());
        }
        entries_header(out, count as usize, withscores);
        for _ in 0..count {
            let (m, s) = z
                .get_by_rank(rng.below(size as u64) as usize)
                .expect("in range");
            entry(out, m, s, withscores);
        }
        return Ok(());
    }
    // The whole set, in Redis' iteration order (highest first).
    if count >= size as u64 {
        entries_header(out, size, withscores);
        z.range_by_rank(0, size, true, |m, s| entry(out, m, s, withscores));
        return Ok(());
    }
    let count = count as usize;
    entries_header(out, count, withscores);
    if z.is_compact() {
        // Selection sampling: distinct members, in set order (as Redis' lpRandomPairsUnique).
        let mut need = count;
        let mut left = size;
        z.for_each(|m, s| {
            if need > 0 && (rng.below(left as u64) as usize) < need {
                entry(out, m, s, withscores);
                need -= 1;
            }
            left -= 1;
        });
    } else if count * 3 > size {
        // Most of the set: drop random members until `count` remain, in random order.
        let mut ranks: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = i + rng.below((size - i) as u64) as usize;
            ranks.swap(i, j);
        }
        for &r in &ranks[..count] {
            let (m, s) = z.get_by_rank(r).expect("in range");
            entry(out, m, s, withscores);
        }
    } else {
        // A few of many: draw until `count` distinct ones were found.
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let r = rng.below(size as u64) as usize;
            if seen.insert(r) {
                let (m, s) = z.get_by_rank(r).expect("in range");
                entry(out, m, s, withscores);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
pub fn zscan(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zscan_with(ctx, cmd);
    reply_result(ctx.out, r);
}

fn zscan_with(ctx: &mut Ctx, cmd: &Cmd) -> R {
    let (cursor, opts) = parse_collection_scan(cmd).map_err(Cow::Borrowed)?;
    let Some(z) = lookup_read(ctx.db, &cmd[1], ctx.now)? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let mut items: Vec<(Vec<u8>, String)> = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s, stored_as_int| {
        if opts.matches(m) {
            let text = if stored_as_int {
                (s as i64).to_string()
            } else {
                fmt_double(s)
            };
            items.push((m.to_vec(), text));
        }
    });
    let out = &mut *ctx.out;
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len() * 2);
    for (m, s) in &items {
        out.bulk(m);
        out.bulk(s.as_bytes());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`: a sum of +inf and -inf is 0; a NaN never wins MIN or MAX.
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *target {
                    *target = v;
                }
            }
            Aggregate::Max => {
                if v > *target {
                    *target = v;
                }
            }
        }
    }
}

/// One input of a set operation.
struct Source<'c> {
    key: &'c [u8],
    len: usize,
    exists: bool,
    weight: f64,
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zunion(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, None, 1, SetOp::Union, false);
    reply_result(ctx.out, r);
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zinter(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, None, 1, SetOp::Inter, false);
    reply_result(ctx.out, r);
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub fn zdiff(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, None, 1, SetOp::Diff, false);
    reply_result(ctx.out, r);
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub fn zunionstore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, Some(1), 2, SetOp::Union, false);
    reply_result(ctx.out, r);
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub fn zinterstore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, Some(1), 2, SetOp::Inter, false);
    reply_result(ctx.out, r);
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub fn zdiffstore(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, Some(1), 2, SetOp::Diff, false);
    reply_result(ctx.out, r);
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(ctx: &mut Ctx, cmd: &Cmd) {
    let r = zsetop(ctx, cmd, None, 1, SetOp::Inter, true);
    reply_result(ctx.out, r);
}

/// Visits the members of the sorted set or set at `key` (sets score 1).
fn each_member(db: &mut Db, key: &[u8], now: u64, mut f: impl FnMut(&[u8], f64)) {
    match db.peek(key, now).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z.for_each(f),
        Some(Value::Set(s)) => s.for_each(|m| f(m, 1.0)),
        _ => {}
    }
}

/// Looks every candidate up in the sorted set or set at `key` and keeps those `keep`
/// accepts, given the score found there (sets score 1).
fn filter_by(
    db: &mut Db,
    key: &[u8],
    now: u64,
    cands: &mut Vec<Cand>,
    mut keep: impl FnMut(&mut Cand, Option<f64>) -> bool,
) {
    match db.peek(key, now).map(|e| &e.value) {
        Some(Value::ZSet(z)) => cands.retain_mut(|c| {
            let found = z.score(&c.member);
            keep(c, found)
        }),
        Some(Value::Set(s)) => {
            let mut found = vec![false; cands.len()];
            {
                let at: ahash::AHashMap<&[u8], usize> = cands
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (&c.member[..], i))
                    .collect();
                s.for_each(|m| {
                    if let Some(&i) = at.get(m) {
                        found[i] = true;
                    }
                });
            }
            let mut i = 0;
            cands.retain_mut(|c| {
                let f = found[i];
                i += 1;
                keep(c, f.then_some(1.0))
            });
        }
        _ => cands.retain_mut(|c| keep(c, None)),
    }
}

/// A member of the first input, with its own score and the aggregate so far.
struct Cand {
    member: Box<[u8]>,
    score: f64,
    acc: f64,
}

/// `zunionInterDiffGenericCommand`.
fn zsetop(
    ctx: &mut Ctx,
    cmd: &Cmd,
    dst: Option<usize>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> R {
    let setnum = int_arg(&cmd[numkeys_idx])?;
    if setnum < 1 {
        return Err(format!(
            "ERR at least 1 input key is needed for '{}' command",
            String::from_utf8_lossy(&cmd[0]).to_lowercase()
        )
        .into());
    }
    let first = numkeys_idx + 1;
    if setnum > (cmd.len() - first) as i64 {
        return Err(err::SYNTAX.into());
    }
    let setnum = setnum as usize;
    let mut srcs = Vec::with_capacity(setnum);
    for i in 0..setnum {
        let key = &cmd[first + i];
        let (exists, len) = match ctx.db.get(key, ctx.now).map(|e| &e.value) {
            None => (false, 0),
            Some(Value::ZSet(z)) => (true, z.len()),
            Some(Value::Set(s)) => (true, s.len()),
            Some(_) => return Err(err::WRONGTYPE.into()),
        };
        srcs.push(Source {
            key,
            len,
            exists,
            weight: 1.0,
        });
    }

    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0u64;
    let mut j = first + setnum;
    while j < cmd.len() {
        let remaining = cmd.len() - j;
        let a = &cmd[j];
        if op != SetOp::Diff
            && !card_only
            && remaining > setnum
            && a.eq_ignore_ascii_case(b"weights")
        {
            j += 1;
            for src in srcs.iter_mut() {
                src.weight = parse_score(&cmd[j]).ok_or(Cow::Borrowed(ERR_WEIGHT))?;
                j += 1;
            }
        } else if op != SetOp::Diff
            && !card_only
            && remaining >= 2
            && a.eq_ignore_ascii_case(b"aggregate")
        {
            let v = &cmd[j + 1];
            aggregate = if v.eq_ignore_ascii_case(b"sum") {
                Aggregate::Sum
            } else if v.eq_ignore_ascii_case(b"min") {
                Aggregate::Min
            } else if v.eq_ignore_ascii_case(b"max") {
                Aggregate::Max
            } else {
                return Err(err::SYNTAX.into());
            };
            j += 2;
        } else if dst.is_none() && !card_only && a.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && a.eq_ignore_ascii_case(b"limit") {
            limit = parse_i64(&cmd[j + 1])
                .filter(|&l| l >= 0)
                .ok_or(Cow::Borrowed(ERR_LIMIT_NEGATIVE))? as u64;
            j += 2;
        } else {
            return Err(err::SYNTAX.into());
        }
    }
    if op != SetOp::Diff {
        srcs.sort_by_key(|s| s.len);
    }

    let now = ctx.now;
    let db = &mut *ctx.db;
    let mut result: Vec<(Box<[u8]>, f64)> = Vec::new();
    match op {
        SetOp::Inter => {
            if srcs[0].len > 0 {
                let w0 = srcs[0].weight;
                let mut cands = Vec::with_capacity(srcs[0].len);
                each_member(db, srcs[0].key, now, |m, s| {
                    let acc = w0 * s;
                    cands.push(Cand {
                        member: m.into(),
                        score: s,
                        acc: if acc.is_nan() { 0.0 } else { acc },
                    });
                });
                for src in &srcs[1..] {
                    if src.key == srcs[0].key {
                        cands
                            .iter_mut()
                            .for_each(|c| aggregate.apply(&mut c.acc, c.score * src.weight));
                        continue;
                    }
                    filter_by(db, src.key, now, &mut cands, |c, found| match found {
                        Some(v) => {
                            aggregate.apply(&mut c.acc, v * src.weight);
                            true
                        }
                        None => false,
                    });
                }
                result = cands.into_iter().map(|c| (c.member, c.acc)).collect();
            }
        }
        SetOp::Union => {
            let mut acc: ahash::AHashMap<Box<[u8]>, f64> =
                ahash::AHashMap::with_capacity(srcs.last().map_or(0, |s| s.len));
            for src in srcs.iter().filter(|s| s.len > 0) {
                each_member(db, src.key, now, |m, s| {
                    let mut score = src.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate.apply(t, score),
                        None => {
                            acc.insert(m.into(), score);
                        }
                    }
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            let same = srcs[1..].iter().any(|s| s.exists && s.key == srcs[0].key);
            if srcs[0].len > 0 && !same {
                let mut cands = Vec::with_capacity(srcs[0].len);
                each_member(db, srcs[0].key, now, |m, s| {
                    cands.push(Cand {
                        member: m.into(),
                        score: s,
                        acc: s,
                    })
                });
                for src in srcs[1..].iter().filter(|s| s.len > 0) {
                    filter_by(db, src.key, now, &mut cands, |_, found| found.is_none());
                }
                result = cands.into_iter().map(|c| (c.member, c.score)).collect();
            }
        }
    }

    if card_only {
        let n = result.len() as u64;
        ctx.out
            .int((if limit > 0 { n.min(limit) } else { n }) as i64);
        return Ok(());
    }
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(d) => {
            let z = ZSetValue::from_sorted(&result, ctx.limits);
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_result(ctx, &cmd[d], z, event);
        }
        None => {
            entries_header(ctx.out, result.len(), withscores);
            for (m, s) in &result {
                entry(ctx.out, m, *s, withscores);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_arguments_follow_get_double_from_object() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0"), Some(0.0));
        assert_eq!(parse_score(b"0.000e10"), Some(0.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_score(b"1.e2"), Some(100.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"+5."), Some(5.0));
        assert_eq!(parse_score(b"007"), Some(7.0));
        assert_eq!(parse_score(b"1E-2"), Some(0.01));
        for bad in [
            &b"nan"[..],
            b"1e400",
            b"-1e400",
            b"1e-400",
            b" 1",
            b"1 ",
            b"",
            b"abc",
            b".",
            b"1e",
            b"0x",
            b"1_0",
            b"--1",
            b"0x1p",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn score_ranges_parse_like_strtod() {
        let r = ScoreRange::parse(b"(1.5", b"+inf").unwrap();
        assert_eq!(
            (r.min, r.minex, r.max, r.maxex),
            (1.5, true, f64::INFINITY, false)
        );
        let r = ScoreRange::parse(b" 2", b"(").unwrap();
        assert_eq!((r.min, r.max, r.maxex), (2.0, 0.0, true));
        assert_eq!(ScoreRange::parse(b"1\x00junk", b"2").unwrap().min, 1.0);
        assert!(ScoreRange::parse(b"a", b"1").is_none());
        assert!(ScoreRange::parse(b"1", b"nan").is_none());
        assert!(ScoreRange::parse(b"((1", b"2").is_none());
        assert!(ScoreRange::parse(b"  ", b"2").is_none());
        assert!(ScoreRange::parse(b"1 ", b"2").is_none());
        assert_eq!(
            ScoreRange::parse(b"1e400", b"2").unwrap().min,
            f64::INFINITY
        );
    }

    #[test]
    fn lex_ranges_parse_and_compare() {
        let r = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(r.gte_min(b"b") && !r.gte_min(b"a"));
        assert!(r.lte_max(b"c") && !r.lte_max(b"d"));
        let all = LexRange::parse(b"-", b"+").unwrap();
        assert!(all.gte_min(b"") && all.lte_max(b"\xff"));
        let none = LexRange::parse(b"+", b"-").unwrap();
        assert!(!none.gte_min(b"x") && !none.lte_max(b"x"));
        for bad in [&b"a"[..], b"", b"+x", b"-x"] {
            assert!(LexRange::parse(bad, b"+").is_none());
        }
    }

    #[test]
    fn rank_spans_clamp_like_redis() {
        assert_eq!(rank_span(0, -1, 5), (0, 5));
        assert_eq!(rank_span(-100, 100, 5), (0, 5));
        assert_eq!(rank_span(3, 2, 5), (0, 0));
        assert_eq!(rank_span(5, 10, 5), (0, 0));
        assert_eq!(rank_span(i64::MIN, i64::MAX, 5), (0, 5));
        assert_eq!(rank_span(-1, -1, 5), (4, 5));
        assert_eq!(rank_span(0, -1, 0), (0, 0));
    }
}

#[cfg(test)]
mod handler_tests {
    use crate::{Cmd, Reply, Shard};

    fn run(shard: &mut Shard, resp3: bool, args: &[&str]) -> String {
        let mut out = Reply::new(resp3);
        let cmd = Cmd::from_args(args);
        let h: fn(&mut crate::Ctx, &Cmd) = match args[0] {
            "ZADD" => super::zadd,
            "BZPOPMIN" => super::bzpopmin,
            "BZPOPMAX" => super::bzpopmax,
            "BZMPOP" => super::bzmpop,
            "ZCARD" => super::zcard,
            _ => unreachable!(),
        };
        h(&mut shard.ctx(0, 1_000, &mut out), &cmd);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn blocking_pops_write_nothing_when_every_key_is_empty() {
        let mut s = Shard::new(0, 1);
        assert_eq!(run(&mut s, false, &["BZPOPMIN", "a", "b", "0"]), "");
        assert_eq!(run(&mut s, false, &["BZPOPMAX", "a", "0.5"]), "");
        assert_eq!(
            run(&mut s, true, &["BZMPOP", "1", "2", "a", "b", "MIN"]),
            ""
        );
        assert_eq!(s.dirty, 0);
        run(&mut s, false, &["ZADD", "b", "1", "x", "2", "y"]);
        assert_eq!(
            run(&mut s, false, &["BZPOPMIN", "a", "b", "0"]),
            "*3\r\n$1\r\nb\r\n$1\r\nx\r\n$1\r\n1\r\n"
        );
        assert_eq!(
            run(
                &mut s,
                true,
                &["BZMPOP", "0", "2", "a", "b", "MAX", "COUNT", "9"]
            ),
            "*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$1\r\ny\r\n,2\r\n"
        );
        assert_eq!(
            run(&mut s, false, &["ZCARD", "b"]),
            ":0\r\n",
            "emptied and deleted"
        );
        assert_eq!(s.dirty, 4);
        assert_eq!(
            run(&mut s, false, &["BZPOPMIN", "a", "-1"]),
            "-ERR timeout is negative\r\n"
        );
    }
}

#[cfg(test)]
mod effect_tests {
    use crate::effects::testing::{recording_shard, replay, run};
    use crate::Shard;

    fn digest(s: &Shard) -> crate::digest::Digest {
        crate::digest::db_digest(&s.dbs[0], 1000)
    }

    #[test]
    fn blocking_and_multi_key_pops_propagate_plain_pops() {
        let mut s = recording_shard();
        let mut all = run(
            &mut s,
            &["ZADD", "b", "1", "a", "2", "b", "3", "c", "4", "d"],
        );
        all.extend(run(&mut s, &["ZADD", "c", "1", "x", "2", "y"]));
        let cases: [(&[&str], &[&str]); 7] = [
            (&["BZPOPMIN", "a", "b", "0"], &["ZPOPMIN b"]),
            (&["BZPOPMAX", "a", "b", "0.5"], &["ZPOPMAX b"]),
            (
                &["ZMPOP", "2", "a", "c", "MIN", "COUNT", "9"],
                &["ZPOPMIN c 2"],
            ),
            (&["BZMPOP", "0", "2", "a", "b", "MAX"], &["ZPOPMAX b 1"]),
            (&["ZPOPMIN", "b", "5"], &["ZPOPMIN b 5"]),
            // Nothing to pop: nothing recorded.
            (&["BZPOPMIN", "a", "b", "0"], &[]),
            (&["ZMPOP", "1", "b", "MIN"], &[]),
        ];
        for (args, want) in cases {
            let fx = run(&mut s, args);
            assert_eq!(fx, want, "{args:?}");
            all.extend(fx);
        }
        assert_eq!(s.keys(), 0);
        assert_eq!(all.len(), 8);
        assert_eq!(digest(&replay(9_000_000, &all)), digest(&s));
    }

    #[test]
    fn float_scores_replay_bit_for_bit() {
        let mut s = recording_shard();
        let mut all = Vec::new();
        for args in [
            &["ZADD", "z", "0.1", "a", "1e-300", "b", "0x1p-3", "c"][..],
            &["ZINCRBY", "z", "0.2", "a"],
            &["ZADD", "z", "INCR", "0.7", "a"],
            &[
                "ZADD",
                "z",
                "GT",
                "CH",
                "-inf",
                "b",
                "3.000000000000001",
                "c",
            ],
            &["BZMPOP", "1", "1", "z", "MAX", "COUNT", "1"],
        ] {
            all.extend(run(&mut s, args));
        }
        assert_eq!(
            all[1..4],
            [
                "ZADD z 0.1 a 1e-300 b 0x1p-3 c",
                "ZINCRBY z 0.2 a",
                "ZADD z INCR 0.7 a"
            ]
        );
        assert_eq!(digest(&replay(9_000_000, &all)), digest(&s));
    }
}
