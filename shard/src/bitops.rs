//! Bit commands on strings (bitops.c in Redis): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO.
//!
//! Bits are numbered from the most significant bit of the first byte. Reads past the end of
//! a string see zeros; writes grow it with zeros (up to offsets below 2^32 bits, Redis'
//! 512 MB `proto-max-bulk-len`). BITOP's keys may sit on different shards: the operation
//! itself is a pure fold over byte slices ([`BitopFold`]) that the coordinator can feed.

use crate::cmd::Cmd;
use crate::db::Db;
use crate::notify;
use crate::num::parse_i64;
use crate::reply::{err, Reply};
use crate::shard::Ctx;
use crate::string::{clamp_range, lookup_read, lookup_write, StrValue, WrongType};
use crate::value::Value;
use smallvec::SmallVec;

const ERR_BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const ERR_BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const ERR_BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
const ERR_BITOP_NOT: &str = "ERR BITOP NOT must be called with a single source key.";
const ERR_BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const ERR_OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
const ERR_BITFIELD_RO: &str = "ERR BITFIELD_RO only supports the GET subcommand";

// ---------------------------------------------------------------------------------------------
// Offsets, ranges and bit access
// ---------------------------------------------------------------------------------------------

/// Parses a bit offset. With `field_bits` (BITFIELD), `#n` means the n-th field of that
/// width. The byte holding the bit must lie below the 512 MB limit.
fn parse_bit_offset(
    arg: &[u8],
    field_bits: Option<u32>,
    max_string_len: u64,
) -> Result<u64, &'static str> {
    let (index, scale) = match (arg, field_bits) {
        ([b'#', rest @ ..], Some(bits)) if !rest.is_empty() => (rest, bits as i64),
        _ => (arg, 1),
    };
    parse_i64(index)
        .and_then(|v| v.checked_mul(scale))
        .filter(|&v| v >= 0 && ((v as u64) >> 3) < max_string_len)
        .map(|v| v as u64)
        .ok_or(ERR_BIT_OFFSET)
}

/// The unit of a BITCOUNT / BITPOS range.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Byte,
    Bit,
}

fn parse_unit(arg: &[u8]) -> Result<Unit, &'static str> {
    if arg.eq_ignore_ascii_case(b"BYTE") {
        Ok(Unit::Byte)
    } else if arg.eq_ignore_ascii_case(b"BIT") {
        Ok(Unit::Bit)
    } else {
        Err(err::SYNTAX)
    }
}

/// The inclusive bit positions a `start end` range in `unit`s selects in `len` bytes.
fn bit_range(start: i64, end: i64, unit: Unit, len: usize) -> Option<(u64, u64)> {
    let total = len as i64 * if unit == Unit::Bit { 8 } else { 1 };
    let (s, e) = clamp_range(start, end, total)?;
    Some(match unit {
        Unit::Bit => (s as u64, e as u64),
        Unit::Byte => (s as u64 * 8, e as u64 * 8 + 7),
    })
}

fn get_bit(bytes: &[u8], offset: u64) -> bool {
    bytes
        .get((offset / 8) as usize)
        .is_some_and(|b| b & (0x80 >> (offset % 8)) != 0)
}

/// Sets one bit (`bytes` covers it) and returns its previous value.
fn set_bit(bytes: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = &mut bytes[(offset / 8) as usize];
    let mask = 0x80 >> (offset % 8);
    let old = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

/// The set bits of `bytes` between bit positions `first` and `last` (inclusive, in range).
fn count_ones(bytes: &[u8], first: u64, last: u64) -> u64 {
    let span = &bytes[(first / 8) as usize..=(last / 8) as usize];
    let mut words = span.chunks_exact(8);
    let mut n: u64 = words
        .by_ref()
        .map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")).count_ones() as u64)
        .sum();
    n += words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    let before_first = span[0] & !(0xFF >> (first % 8));
    let after_last = span[span.len() - 1] & 0xFFu8.checked_shr((last % 8) as u32 + 1).unwrap_or(0);
    n - before_first.count_ones() as u64 - after_last.count_ones() as u64
}

/// The first bit equal to `want` between positions `first` and `last` (inclusive).
fn find_bit(bytes: &[u8], first: u64, last: u64, want: bool) -> Option<u64> {
    let (first_byte, last_byte) = ((first / 8) as usize, (last / 8) as usize);
    // Bytes are XORed with `flip` so that the wanted bits read as ones.
    let flip = if want { 0 } else { 0xFF };
    let skip_word = if want { 0 } else { u64::MAX };
    let mut i = first_byte;
    while i <= last_byte {
        if i > first_byte && i + 8 <= last_byte {
            let word = u64::from_ne_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
            if word == skip_word {
                i += 8;
                continue;
            }
        }
        let mut m = bytes[i] ^ flip;
        if i == first_byte {
            m &= 0xFF >> (first % 8);
        }
        if i == last_byte {
            m &= 0xFF << (7 - last % 8);
        }
        if m != 0 {
            return Some(i as u64 * 8 + m.leading_zeros() as u64);
        }
        i += 1;
    }
    None
}

/// Runs `f` on the bytes of the string at `key`, made raw and zero-grown to cover bit
/// `max_bit`; creates the key if it does not exist. Also says whether the key was created
/// or grown (a change even if `f` writes nothing new).
fn with_bits_for_write<R>(
    db: &mut Db,
    key: &[u8],
    now: u64,
    max_bit: u64,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> Result<(R, bool), WrongType> {
    let needed = (max_bit / 8) as usize + 1;
    match lookup_write(db, key, now)? {
        Some(s) => {
            let bytes = s.make_raw();
            let grown = bytes.len() < needed;
            if grown {
                bytes.resize(needed, 0);
            }
            Ok((f(bytes), grown))
        }
        None => {
            let mut bytes = vec![0; needed];
            let r = f(&mut bytes);
            db.set(key, Value::Str(StrValue::raw(bytes)), 0, now);
            Ok((r, true))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SETBIT, GETBIT, BITCOUNT, BITPOS
// ---------------------------------------------------------------------------------------------

/// SETBIT key offset value
pub fn setbit(ctx: &mut Ctx, cmd: &Cmd) {
    let offset = match parse_bit_offset(&cmd[2], None, ctx.max_string_len) {
        Ok(o) => o,
        Err(e) => return ctx.out.error(e),
    };
    let on = match parse_i64(&cmd[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return ctx.out.error(ERR_BIT_VALUE),
    };
    let r = with_bits_for_write(ctx.db, &cmd[1], ctx.now, offset, |b| set_bit(b, offset, on));
    match r {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok((old, grown)) => {
            if grown || old != on {
                ctx.notify(notify::STRING, "setbit", &cmd[1]);
                ctx.wrote(1);
            }
            ctx.out.int(old as i64);
        }
    }
}

/// GETBIT key offset
pub fn getbit(ctx: &mut Ctx, cmd: &Cmd) {
    let offset = match parse_bit_offset(&cmd[2], None, ctx.max_string_len) {
        Ok(o) => o,
        Err(e) => return ctx.out.error(e),
    };
    match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(None) => ctx.out.int(0),
        Ok(Some(s)) => {
            let bit = get_bit(s.bytes(&mut itoa::Buffer::new()), offset);
            ctx.out.int(bit as i64);
        }
    }
}

/// BITCOUNT key [start end [BYTE | BIT]]
///
/// As in Redis 7.0 and 7.2, the key is looked up before the range is parsed: a missing
/// key counts 0 and a key of another type is WRONGTYPE whatever the arguments.
pub fn bitcount(ctx: &mut Ctx, cmd: &Cmd) {
    let s = match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(s)) => s,
    };
    let mut buf = itoa::Buffer::new();
    let bytes = s.bytes(&mut buf);
    match count_range(cmd, bytes.len()) {
        Err(e) => ctx.out.error(e),
        Ok(None) => ctx.out.int(0),
        Ok(Some((first, last))) => ctx.out.int(count_ones(bytes, first, last) as i64),
    }
}

/// The bit range of BITCOUNT's arguments over a string of `len` bytes.
fn count_range(cmd: &Cmd, len: usize) -> Result<Option<(u64, u64)>, &'static str> {
    match cmd.len() {
        2 => Ok(bit_range(0, -1, Unit::Byte, len)),
        4 | 5 => {
            let start = parse_i64(&cmd[2]).ok_or(err::NOT_INT)?;
            let end = parse_i64(&cmd[3]).ok_or(err::NOT_INT)?;
            // Two negative indexes in the wrong order select nothing (checked before the
            // unit in 7.0/7.2: `BITCOUNT k -1 -2 foo` is 0, not a syntax error).
            if start < 0 && end < 0 && start > end {
                return Ok(None);
            }
            let unit = if cmd.len() == 5 {
                parse_unit(&cmd[4])?
            } else {
                Unit::Byte
            };
            Ok(bit_range(start, end, unit, len))
        }
        _ => Err(err::SYNTAX),
    }
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
///
/// As in Redis 7.0 and 7.2, the range is parsed after the key is looked up (a missing key
/// answers at once: -1 for a 1 bit, 0 for a 0 bit).
pub fn bitpos(ctx: &mut Ctx, cmd: &Cmd) {
    let want = match parse_i64(&cmd[2]) {
        None => return ctx.out.error(err::NOT_INT),
        Some(v @ (0 | 1)) => v == 1,
        Some(_) => return ctx.out.error(ERR_BITPOS_BIT),
    };
    let s = match lookup_read(ctx.db, &cmd[1], ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(None) => return ctx.out.int(if want { -1 } else { 0 }),
        Ok(Some(s)) => s,
    };
    let mut buf = itoa::Buffer::new();
    let bytes = s.bytes(&mut buf);
    let range = match pos_range(cmd, bytes.len()) {
        Ok(r) => r,
        Err(e) => return ctx.out.error(e),
    };
    let end_given = range.end_given;
    let Some((first, last)) = range.bits else {
        return ctx.out.int(-1);
    };
    let pos = match find_bit(bytes, first, last, want) {
        Some(pos) => pos as i64,
        // Without an explicit end the string reads as followed by zeros: the first clear
        // bit is then just past its end.
        None if !want && !end_given => last as i64 + 1,
        None => -1,
    };
    ctx.out.int(pos);
}

/// The bits BITPOS searches (inclusive; None when empty), and whether an end was given.
struct PosRange {
    bits: Option<(u64, u64)>,
    end_given: bool,
}

/// The range of BITPOS' arguments over a string of `len` bytes.
fn pos_range(cmd: &Cmd, len: usize) -> Result<PosRange, &'static str> {
    if cmd.len() == 3 {
        return Ok(PosRange {
            bits: bit_range(0, -1, Unit::Byte, len),
            end_given: false,
        });
    }
    if cmd.len() > 6 {
        return Err(err::SYNTAX);
    }
    // Redis reads start, then the unit, then end.
    let start = parse_i64(&cmd[3]).ok_or(err::NOT_INT)?;
    let unit = if cmd.len() == 6 {
        parse_unit(&cmd[5])?
    } else {
        Unit::Byte
    };
    let end = if cmd.len() >= 5 {
        parse_i64(&cmd[4]).ok_or(err::NOT_INT)?
    } else {
        -1
    };
    Ok(PosRange {
        bits: bit_range(start, end, unit, len),
        end_given: cmd.len() >= 5,
    })
}

// ---------------------------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Parses BITOP's operation (`cmd[1]`); NOT takes exactly one source key.
pub fn parse_bitop(cmd: &Cmd) -> Result<BitOp, &'static str> {
    let name = &cmd[1];
    let op = [
        (&b"AND"[..], BitOp::And),
        (b"OR", BitOp::Or),
        (b"XOR", BitOp::Xor),
        (b"NOT", BitOp::Not),
    ]
    .into_iter()
    .find(|(n, _)| name.eq_ignore_ascii_case(n))
    .map(|(_, op)| op)
    .ok_or(err::SYNTAX)?;
    if op == BitOp::Not && cmd.len() != 4 {
        return Err(ERR_BITOP_NOT);
    }
    Ok(op)
}

/// BITOP over source strings fed one at a time, in key order: missing keys are fed as
/// empty strings, shorter strings read as zero-padded, and the result is as long as the
/// longest source.
pub struct BitopFold {
    op: BitOp,
    acc: Vec<u8>,
    fed: bool,
}

impl BitopFold {
    pub fn new(op: BitOp) -> BitopFold {
        BitopFold {
            op,
            acc: Vec::new(),
            fed: false,
        }
    }

    pub fn feed(&mut self, src: &[u8]) {
        if !self.fed {
            self.fed = true;
            self.acc = match self.op {
                BitOp::Not => src.iter().map(|b| !b).collect(),
                _ => src.to_vec(),
            };
            return;
        }
        if self.acc.len() < src.len() {
            self.acc.resize(src.len(), 0);
        }
        let (common, rest) = self.acc.split_at_mut(src.len());
        match self.op {
            BitOp::And => {
                common.iter_mut().zip(src).for_each(|(a, b)| *a &= b);
                rest.fill(0);
            }
            BitOp::Or => common.iter_mut().zip(src).for_each(|(a, b)| *a |= b),
            BitOp::Xor => common.iter_mut().zip(src).for_each(|(a, b)| *a ^= b),
            // NOT has a single source (checked by `parse_bitop`).
            BitOp::Not => {}
        }
    }

    pub fn finish(self) -> Vec<u8> {
        self.acc
    }
}

/// The result of BITOP `op` over `srcs` (a pure function over byte slices).
pub fn bitop_compute(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let mut fold = BitopFold::new(op);
    srcs.iter().for_each(|s| fold.feed(s));
    fold.finish()
}

/// Stores BITOP's result at `dest` (a raw string without TTL; an empty result deletes the
/// key) and replies its length.
pub fn bitop_store(ctx: &mut Ctx, dest: &[u8], result: Vec<u8>) {
    let len = result.len() as i64;
    if result.is_empty() {
        ctx.delete_stored(dest);
    } else {
        ctx.db
            .set(dest, Value::Str(StrValue::raw(result)), 0, ctx.now);
        ctx.notify(notify::STRING, "set", dest);
        ctx.wrote(1);
    }
    ctx.out.int(len);
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...] when all keys are on this shard.
pub fn bitop(ctx: &mut Ctx, cmd: &Cmd) {
    let op = match parse_bitop(cmd) {
        Ok(op) => op,
        Err(e) => return ctx.out.error(e),
    };
    let mut fold = BitopFold::new(op);
    let mut buf = itoa::Buffer::new();
    for key in cmd.args().skip(3) {
        match lookup_read(ctx.db, key, ctx.now) {
            Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
            Ok(None) => fold.feed(&[]),
            Ok(Some(s)) => fold.feed(s.bytes(&mut buf)),
        }
    }
    bitop_store(ctx, &cmd[2], fold.finish());
}

// ---------------------------------------------------------------------------------------------
// BITFIELD
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldType {
    signed: bool,
    bits: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BitfieldOp {
    op: FieldOp,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// `i1`..`i64` or `u1`..`u63` (lower-case only, as in Redis).
fn parse_field_type(arg: &[u8]) -> Result<FieldType, &'static str> {
    let (signed, max) = match arg.first() {
        Some(b'i') => (true, 64),
        Some(b'u') => (false, 63),
        _ => return Err(ERR_BITFIELD_TYPE),
    };
    match parse_i64(&arg[1..]) {
        Some(bits) if (1..=max).contains(&bits) => Ok(FieldType {
            signed,
            bits: bits as u32,
        }),
        _ => Err(ERR_BITFIELD_TYPE),
    }
}

fn parse_overflow(arg: &[u8]) -> Result<Overflow, &'static str> {
    [
        (&b"WRAP"[..], Overflow::Wrap),
        (b"SAT", Overflow::Sat),
        (b"FAIL", Overflow::Fail),
    ]
    .into_iter()
    .find(|(n, _)| arg.eq_ignore_ascii_case(n))
    .map(|(_, o)| o)
    .ok_or(ERR_OVERFLOW_TYPE)
}

type BitfieldOps = SmallVec<[BitfieldOp; 4]>;

/// Parses BITFIELD's subcommands (from argument 2), each GET/SET/INCRBY taking the OVERFLOW
/// mode in force when it appears.
fn parse_bitfield(cmd: &Cmd, max_string_len: u64) -> Result<BitfieldOps, &'static str> {
    let mut ops = BitfieldOps::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 2;
    while i < cmd.len() {
        let sub = &cmd[i];
        let remaining = cmd.len() - i - 1;
        if sub.eq_ignore_ascii_case(b"OVERFLOW") && remaining >= 1 {
            overflow = parse_overflow(&cmd[i + 1])?;
            i += 2;
            continue;
        }
        let (make_op, args): (fn(i64) -> FieldOp, usize) = if sub.eq_ignore_ascii_case(b"GET") {
            (|_| FieldOp::Get, 2)
        } else if sub.eq_ignore_ascii_case(b"SET") {
            (FieldOp::Set, 3)
        } else if sub.eq_ignore_ascii_case(b"INCRBY") {
            (FieldOp::IncrBy, 3)
        } else {
            return Err(err::SYNTAX);
        };
        if remaining < args {
            return Err(err::SYNTAX);
        }
        let ty = parse_field_type(&cmd[i + 1])?;
        let offset = parse_bit_offset(&cmd[i + 2], Some(ty.bits), max_string_len)?;
        let value = match args {
            3 => parse_i64(&cmd[i + 3]).ok_or(err::NOT_INT)?,
            _ => 0,
        };
        ops.push(BitfieldOp {
            op: make_op(value),
            ty,
            offset,
            overflow,
        });
        i += 1 + args;
    }
    Ok(ops)
}

/// The raw bits of a field (zeros past the end of `bytes`).
fn read_field(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let start = (offset / 8) as usize;
    let mut window = [0u8; 16];
    if start < bytes.len() {
        let n = (bytes.len() - start).min(9);
        window[..n].copy_from_slice(&bytes[start..start + n]);
    }
    let w = u128::from_be_bytes(window) << (offset % 8);
    (w >> (128 - bits)) as u64
}

/// Writes the low `bits` of `value` into a field that `bytes` covers.
fn write_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let start = (offset / 8) as usize;
    let lead = (offset % 8) as u32;
    let n = (lead + bits).div_ceil(8) as usize;
    let mut window = [0u8; 16];
    window[..n].copy_from_slice(&bytes[start..start + n]);
    let shift = 128 - lead - bits;
    let mask = (u128::MAX >> (128 - bits)) << shift;
    let w = (u128::from_be_bytes(window) & !mask) | (((value as u128) << shift) & mask);
    bytes[start..start + n].copy_from_slice(&w.to_be_bytes()[..n]);
}

fn sign_extend(raw: u64, bits: u32) -> i64 {
    ((raw << (64 - bits)) as i64) >> (64 - bits)
}

/// The value a signed field takes for `value + incr` under `overflow`, or None when it
/// overflows with FAIL.
///
/// Redis' own test, kept bit for bit: its limits are computed with wrapping arithmetic, so
/// a SET of a value far below the field's minimum (within `max` of `i64::MIN`) is judged an
/// overflow upwards and saturates to the maximum.
fn signed_result(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let narrow = bits != 64;
    let up =
        value > max || (narrow && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr);
    let down =
        value < min || (narrow && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr);
    if !up && !down {
        return Some(value.wrapping_add(incr));
    }
    match overflow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if up { max } else { min }),
        Overflow::Wrap => Some(sign_extend(value.wrapping_add(incr) as u64, bits)),
    }
}

/// As [`signed_result`] for an unsigned field (SET passes its value as `i64` bits).
fn unsigned_result(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let up = value > max || (incr > 0 && incr > max_incr);
    let down = incr < 0 && incr < min_incr;
    if !up && !down {
        return Some(value.wrapping_add(incr as u64));
    }
    match overflow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if up { max } else { 0 }),
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
    }
}

/// The value GET reads from a field.
fn field_value(bytes: &[u8], offset: u64, ty: FieldType) -> i64 {
    let raw = read_field(bytes, offset, ty.bits);
    if ty.signed {
        sign_extend(raw, ty.bits)
    } else {
        raw as i64
    }
}

/// Runs one SET or INCRBY on `bytes`: the reply value (the old value for SET, the new one
/// for INCRBY), or None when FAIL refused the write.
fn apply_write(bytes: &mut [u8], op: &BitfieldOp) -> Option<i64> {
    let FieldType { signed, bits } = op.ty;
    let old = field_value(bytes, op.offset, op.ty);
    let (target, incr) = match op.op {
        FieldOp::Set(v) => (v, 0),
        FieldOp::IncrBy(d) => (old, d),
        FieldOp::Get => return Some(old),
    };
    let new = if signed {
        signed_result(target, incr, bits, op.overflow)?
    } else {
        unsigned_result(target as u64, incr, bits, op.overflow)? as i64
    };
    write_field(bytes, op.offset, bits, new as u64);
    Some(if matches!(op.op, FieldOp::Set(_)) {
        old
    } else {
        new
    })
}

fn reply_field(out: &mut Reply, v: Option<i64>) {
    match v {
        Some(v) => out.int(v),
        None => out.null(),
    }
}

/// BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value |
/// INCRBY type offset increment ...]
pub fn bitfield(ctx: &mut Ctx, cmd: &Cmd) {
    bitfield_generic(ctx, cmd, false);
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(ctx: &mut Ctx, cmd: &Cmd) {
    bitfield_generic(ctx, cmd, true);
}

fn bitfield_generic(ctx: &mut Ctx, cmd: &Cmd, read_only: bool) {
    let ops = match parse_bitfield(cmd, ctx.max_string_len) {
        Ok(ops) => ops,
        Err(e) => return ctx.out.error(e),
    };
    let writes = ops.iter().filter(|o| o.op != FieldOp::Get).count();
    if writes == 0 {
        return bitfield_reads(ctx, &cmd[1], &ops);
    }
    if read_only {
        return ctx.out.error(ERR_BITFIELD_RO);
    }
    let max_bit = ops
        .iter()
        .filter(|o| o.op != FieldOp::Get)
        .map(|o| o.offset + o.ty.bits as u64 - 1)
        .max()
        .unwrap_or(0);
    let out = &mut *ctx.out;
    let r = with_bits_for_write(ctx.db, &cmd[1], ctx.now, max_bit, |bytes| {
        out.array(ops.len());
        for op in &ops {
            reply_field(out, apply_write(bytes, op));
        }
    });
    match r {
        Err(WrongType) => ctx.out.error(err::WRONGTYPE),
        Ok(_) => {
            // As Redis: one "setbit" for the whole command.
            ctx.notify(notify::STRING, "setbit", &cmd[1]);
            ctx.wrote(writes as u64)
        }
    }
}

/// BITFIELD with GETs only: a read that creates nothing.
fn bitfield_reads(ctx: &mut Ctx, key: &[u8], ops: &[BitfieldOp]) {
    let s = match lookup_read(ctx.db, key, ctx.now) {
        Err(WrongType) => return ctx.out.error(err::WRONGTYPE),
        Ok(s) => s,
    };
    let mut buf = itoa::Buffer::new();
    let bytes = s.map_or(&[][..], |s| s.bytes(&mut buf));
    ctx.out.array(ops.len());
    for op in ops {
        ctx.out.int(field_value(bytes, op.offset, op.ty));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::testkit::*;
    use crate::string::PROTO_MAX_BULK_LEN;

    fn ints(values: &[i64]) -> String {
        let mut s = format!("*{}\r\n", values.len());
        values.iter().for_each(|v| s.push_str(&int(*v)));
        s
    }

    #[test]
    fn setbit_getbit() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["SETBIT", "k", "7", "1"]), int(0));
        assert_eq!(run(&mut s, &["GET", "k"]), bulk("\u{1}"));
        assert_eq!(run(&mut s, &["SETBIT", "k", "7", "1"]), int(1));
        assert_eq!(run(&mut s, &["SETBIT", "k", "7", "0"]), int(1));
        assert_eq!(run(&mut s, &["GETBIT", "k", "7"]), int(0));
        assert_eq!(run(&mut s, &["SETBIT", "k", "0", "1"]), int(0));
        assert_eq!(run(&mut s, &["GETBIT", "k", "0"]), int(1));
        assert_eq!(run(&mut s, &["GETBIT", "k", "100000"]), int(0));
        assert_eq!(run(&mut s, &["GETBIT", "missing", "5"]), int(0));
        assert_eq!(
            run(&mut s, &["SETBIT", "k", "7", "2"]),
            error(ERR_BIT_VALUE)
        );
        assert_eq!(
            run(&mut s, &["SETBIT", "k", "7", "-1"]),
            error(ERR_BIT_VALUE)
        );
        assert_eq!(
            run(&mut s, &["SETBIT", "k", "7", "x"]),
            error(ERR_BIT_VALUE)
        );
        for bad in ["-1", "x", "4294967296", "#1"] {
            assert_eq!(
                run(&mut s, &["SETBIT", "k", bad, "1"]),
                error(ERR_BIT_OFFSET)
            );
            assert_eq!(run(&mut s, &["GETBIT", "k", bad]), error(ERR_BIT_OFFSET));
        }
        // Integers are read through their decimal text: "5" is 0x35.
        run(&mut s, &["SET", "n", "5"]);
        assert_eq!(run(&mut s, &["GETBIT", "n", "2"]), int(1));
        assert_eq!(run(&mut s, &["GETBIT", "n", "7"]), int(1));
        assert_eq!(run(&mut s, &["GETBIT", "n", "1"]), int(0));
        assert_eq!(run(&mut s, &["SETBIT", "n", "6", "1"]), int(0));
        assert_eq!(run(&mut s, &["GET", "n"]), bulk("7"));
        assert_eq!(encoding(&mut s, "n"), "raw");
    }

    #[test]
    fn setbit_dirty_and_ttl() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "a", "EX", "100"]);
        let dirty = s.dirty;
        // "a" is 0x61: bit 1 is already set.
        assert_eq!(run(&mut s, &["SETBIT", "k", "1", "1"]), int(1));
        assert_eq!(s.dirty, dirty);
        assert_eq!(encoding(&mut s, "k"), "raw");
        assert_eq!(run(&mut s, &["SETBIT", "k", "0", "1"]), int(0));
        assert_eq!(s.dirty, dirty + 1);
        assert_eq!(ttl_ms(&mut s, "k"), Some(NOW + 100_000));
        // Creating a key with a clear bit is a change too.
        assert_eq!(run(&mut s, &["SETBIT", "z", "9", "0"]), int(0));
        assert_eq!(run(&mut s, &["GET", "z"]), bulk("\0\0"));
        assert_eq!(s.dirty, dirty + 2);
    }

    #[test]
    fn setbit_at_the_last_offset() {
        let mut s = shard();
        assert_eq!(run(&mut s, &["SETBIT", "k", "4294967295", "1"]), int(0));
        assert_eq!(
            run(&mut s, &["STRLEN", "k"]),
            int(PROTO_MAX_BULK_LEN as i64)
        );
        assert_eq!(run(&mut s, &["GETBIT", "k", "4294967295"]), int(1));
        assert_eq!(run(&mut s, &["GETBIT", "k", "4294967294"]), int(0));
    }

    #[test]
    fn bitcount() {
        let mut s = shard();
        run(&mut s, &["SET", "k", "foobar"]);
        let cases: [(&[&str], i64); 12] = [
            (&[], 26),
            (&["0", "0"], 4),
            (&["1", "1"], 6),
            (&["1", "1", "byte"], 6),
            (&["5", "30", "BIT"], 17),
            (&["0", "-1", "bit"], 26),
            (&["-5", "-1", "BIT"], 2),
            (&["-1", "-2"], 0),
            (&["-2", "-1"], 7),
            (&["-100", "100"], 26),
            (&["-100", "-200"], 0),
            (&["9223372036854775807", "-9223372036854775808"], 0),
        ];
        for (args, want) in cases {
            let mut cmd = vec!["BITCOUNT", "k"];
            cmd.extend_from_slice(args);
            assert_eq!(run(&mut s, &cmd), int(want), "{args:?}");
        }
        assert_eq!(run(&mut s, &["BITCOUNT", "k", "0"]), error(err::SYNTAX));
        assert_eq!(
            run(&mut s, &["BITCOUNT", "k", "0", "1", "2", "3"]),
            error(err::SYNTAX)
        );
        assert_eq!(
            run(&mut s, &["BITCOUNT", "k", "0", "1", "foo"]),
            error(err::SYNTAX)
        );
        assert_eq!(
            run(&mut s, &["BITCOUNT", "k", "a", "1"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["BITCOUNT", "k", "0", "a", "foo"]),
            error(err::NOT_INT)
        );
        assert_eq!(run(&mut s, &["BITCOUNT", "k", "-1", "-2", "foo"]), int(0));
        // 7.0/7.2: a missing key counts 0 before any argument is checked.
        assert_eq!(run(&mut s, &["BITCOUNT", "missing", "0"]), int(0));
        assert_eq!(run(&mut s, &["BITCOUNT", "missing", "a", "b"]), int(0));
        run(&mut s, &["SET", "e", ""]);
        assert_eq!(run(&mut s, &["BITCOUNT", "e"]), int(0));
        assert_eq!(run(&mut s, &["BITCOUNT", "e", "0", "-1", "BIT"]), int(0));
        run(&mut s, &["SET", "n", "12"]);
        assert_eq!(run(&mut s, &["BITCOUNT", "n"]), int(6));
    }

    #[test]
    fn count_ones_matches_a_bit_by_bit_count() {
        let bytes: Vec<u8> = (0..40u32).map(|i| (i * 37 + 11) as u8).collect();
        for first in 0..bytes.len() as u64 * 8 {
            for last in (first..bytes.len() as u64 * 8).step_by(7) {
                let slow = (first..=last).filter(|&b| get_bit(&bytes, b)).count() as u64;
                assert_eq!(count_ones(&bytes, first, last), slow, "{first}..={last}");
            }
        }
    }

    #[test]
    fn find_bit_matches_a_bit_by_bit_search() {
        let mut bytes = vec![0u8; 40];
        bytes[3] = 0x10;
        bytes[31] = 0x01;
        let ones = bytes.clone();
        let zeros: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for (buf, want) in [(&ones, true), (&zeros, false)] {
            for first in 0..buf.len() as u64 * 8 {
                for last in (first..buf.len() as u64 * 8).step_by(5) {
                    let slow = (first..=last).find(|&b| get_bit(buf, b) == want);
                    assert_eq!(find_bit(buf, first, last, want), slow, "{first}..={last}");
                }
            }
        }
    }

    fn set_bytes(s: &mut crate::Shard, key: &str, v: &[u8]) {
        assert_eq!(run_bytes(s, &[b"SET", key.as_bytes(), v]), OK);
    }

    #[test]
    fn bitpos() {
        let mut s = shard();
        set_bytes(&mut s, "k", b"\xff\xf0\x00");
        let cases: [(&[&str], i64); 17] = [
            (&["0"], 12),
            (&["1"], 0),
            (&["0", "1"], 12),
            (&["1", "2"], -1),
            (&["0", "0", "0"], -1),
            (&["0", "0", "-1"], 12),
            (&["1", "7", "15", "bit"], 7),
            (&["0", "7", "11", "BIT"], -1),
            (&["0", "2", "2", "bit"], -1),
            (&["1", "17", "23", "bit"], -1),
            (&["1", "2", "-1", "bit"], 2),
            (&["0", "1", "0", "bit"], -1),
            (&["1", "-1", "-2"], -1),
            (&["0", "0", "-1", "BYTE"], 12),
            (&["1", "-100", "-200"], 0),
            (&["0", "-100", "-50"], -1),
            (
                &["1", "-9223372036854775808", "9223372036854775807", "bit"],
                0,
            ),
        ];
        for (args, want) in cases {
            let mut cmd = vec!["BITPOS", "k"];
            cmd.extend_from_slice(args);
            assert_eq!(run(&mut s, &cmd), int(want), "{args:?}");
        }
        set_bytes(&mut s, "ff", b"\xff\xff");
        for (args, want) in [
            (&["0"][..], 16),
            (&["0", "0", "-1"], -1),
            (&["0", "5"], -1),
            (&["0", "1"], 16),
            (&["0", "-1"], 16),
            (&["0", "3", "-1", "bit"], -1),
            (&["1", "3", "-1", "bit"], 3),
        ] {
            let mut cmd = vec!["BITPOS", "ff"];
            cmd.extend_from_slice(args);
            assert_eq!(run(&mut s, &cmd), int(want), "{args:?}");
        }
        set_bytes(&mut s, "z", b"\x00\x00\x00\x01");
        assert_eq!(run(&mut s, &["BITPOS", "z", "1"]), int(31));
        assert_eq!(run(&mut s, &["BITPOS", "z", "1", "2", "3"]), int(31));
        assert_eq!(
            run(&mut s, &["BITPOS", "z", "0", "31", "31", "bit"]),
            int(-1)
        );
        set_bytes(&mut s, "e", b"");
        assert_eq!(run(&mut s, &["BITPOS", "e", "0"]), int(-1));
        assert_eq!(run(&mut s, &["BITPOS", "e", "1"]), int(-1));
        assert_eq!(run(&mut s, &["BITPOS", "missing", "1"]), int(-1));
        assert_eq!(run(&mut s, &["BITPOS", "missing", "0"]), int(0));
        assert_eq!(run(&mut s, &["BITPOS", "missing", "0", "a"]), int(0));
        assert_eq!(run(&mut s, &["BITPOS", "k", "2"]), error(ERR_BITPOS_BIT));
        assert_eq!(
            run(&mut s, &["BITPOS", "missing", "2"]),
            error(ERR_BITPOS_BIT)
        );
        assert_eq!(run(&mut s, &["BITPOS", "k", "x"]), error(err::NOT_INT));
        assert_eq!(run(&mut s, &["BITPOS", "k", "1", "a"]), error(err::NOT_INT));
        assert_eq!(
            run(&mut s, &["BITPOS", "k", "1", "0", "a"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["BITPOS", "k", "0", "8", "bit"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["BITPOS", "k", "1", "0", "a", "foo"]),
            error(err::SYNTAX)
        );
        assert_eq!(
            run(&mut s, &["BITPOS", "k", "1", "a", "1", "foo"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["BITPOS", "k", "1", "0", "1", "bit", "3"]),
            error(err::SYNTAX)
        );
    }

    #[test]
    fn bitop() {
        let mut s = shard();
        run(&mut s, &["MSET", "a", "foobar", "b", "abcdef"]);
        assert_eq!(run(&mut s, &["BITOP", "AND", "d", "a", "b"]), int(6));
        assert_eq!(run(&mut s, &["GET", "d"]), bulk("`bc`ab"));
        assert_eq!(
            run(&mut s, &["BITOP", "or", "d", "a", "b", "missing"]),
            int(6)
        );
        assert_eq!(run(&mut s, &["GET", "d"]), bulk("goofev"));
        assert_eq!(run(&mut s, &["BITOP", "XOR", "d", "a", "b"]), int(6));
        assert_eq!(
            run(&mut s, &["GET", "d"]),
            bulk("\u{7}\r\u{c}\u{6}\u{4}\u{14}")
        );
        assert_eq!(run(&mut s, &["BITOP", "AND", "d", "a", "missing"]), int(6));
        assert_eq!(run(&mut s, &["GET", "d"]), bulk("\0\0\0\0\0\0"));
        assert_eq!(
            run(&mut s, &["BITOP", "NOT", "d", "a", "b"]),
            error(ERR_BITOP_NOT)
        );
        assert_eq!(
            run(&mut s, &["BITOP", "nand", "d", "a"]),
            error(err::SYNTAX)
        );
        assert_eq!(run(&mut s, &["BITOP", "NOT", "d", "a"]), int(6));
        let not_foobar: Vec<u8> = b"foobar".iter().map(|b| !b).collect();
        assert_eq!(value_bytes(&mut s, "d"), not_foobar);
        // The destination is a raw string without TTL; an empty result deletes it.
        run(&mut s, &["SET", "n", "12"]);
        run(&mut s, &["SET", "d", "x", "EX", "100"]);
        assert_eq!(run(&mut s, &["BITOP", "OR", "d", "n"]), int(2));
        assert_eq!(run(&mut s, &["GET", "d"]), bulk("12"));
        assert_eq!(encoding(&mut s, "d"), "raw");
        assert_eq!(ttl_ms(&mut s, "d"), Some(0));
        assert_eq!(run(&mut s, &["BITOP", "AND", "d", "m1", "m2"]), int(0));
        assert!(s.dbs[0].peek(b"d", NOW).is_none());
        let dirty = s.dirty;
        assert_eq!(run(&mut s, &["BITOP", "NOT", "d", "missing"]), int(0));
        assert_eq!(s.dirty, dirty);
    }

    #[test]
    fn bitop_pure_fold() {
        assert_eq!(
            bitop_compute(BitOp::And, &[b"\xff\x0f", b"\x3c"]),
            b"\x3c\x00"
        );
        assert_eq!(
            bitop_compute(BitOp::And, &[b"\x3c", b"\xff\x0f"]),
            b"\x3c\x00"
        );
        assert_eq!(
            bitop_compute(BitOp::Or, &[b"\x01", b"", b"\x10\x20"]),
            b"\x11\x20"
        );
        assert_eq!(
            bitop_compute(BitOp::Xor, &[b"\xff", b"\x0f", b"\x01"]),
            b"\xf1"
        );
        assert_eq!(bitop_compute(BitOp::Not, &[b"\x0f\xf0"]), b"\xf0\x0f");
        assert_eq!(bitop_compute(BitOp::And, &[b"", b""]), b"");
        assert_eq!(bitop_compute(BitOp::Or, &[]), b"");
        let cmd = Cmd::from_args(&["BITOP", "not", "d", "a"]);
        assert_eq!(parse_bitop(&cmd), Ok(BitOp::Not));
    }

    #[test]
    fn bitfield_basics() {
        let mut s = shard();
        assert_eq!(
            run(
                &mut s,
                &["BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "i8", "0"]
            ),
            ints(&[0, -100])
        );
        assert_eq!(value_bytes(&mut s, "k"), [0x9c]);
        assert_eq!(
            run(
                &mut s,
                &["BITFIELD", "k", "INCRBY", "u2", "100", "1", "GET", "u4", "#25"]
            ),
            ints(&[1, 4])
        );
        assert_eq!(run(&mut s, &["STRLEN", "k"]), int(13));
        assert_eq!(run(&mut s, &["BITFIELD", "k"]), "*0\r\n");
        assert_eq!(
            run(&mut s, &["BITFIELD", "missing", "GET", "u8", "100"]),
            ints(&[0])
        );
        assert!(s.dbs[0].peek(b"missing", NOW).is_none());
        assert_eq!(
            run(&mut s, &["BITFIELD_RO", "k", "GET", "i8", "0"]),
            ints(&[-100])
        );
        // u63 and i64 read whole words.
        set_bytes(&mut s, "w", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff");
        assert_eq!(
            run(
                &mut s,
                &["BITFIELD", "w", "GET", "i64", "0", "GET", "u63", "1", "GET", "u63", "9"]
            ),
            ints(&[-1, i64::MAX, i64::MAX])
        );
    }

    #[test]
    fn bitfield_overflow() {
        let mut s = shard();
        let q = |s: &mut crate::Shard, args: &[&str]| {
            let mut cmd = vec!["BITFIELD", "k"];
            cmd.extend_from_slice(args);
            run(s, &cmd)
        };
        // Replies of redis-server 7.0.15.
        assert_eq!(
            q(
                &mut s,
                &[
                    "OVERFLOW",
                    "SAT",
                    "SET",
                    "i8",
                    "0",
                    "-9223372036854775808",
                    "GET",
                    "i8",
                    "0"
                ]
            ),
            ints(&[0, 127])
        );
        assert_eq!(
            q(
                &mut s,
                &[
                    "OVERFLOW",
                    "sat",
                    "SET",
                    "i8",
                    "0",
                    "-9223372036854775681",
                    "GET",
                    "i8",
                    "0"
                ]
            ),
            ints(&[127, 127])
        );
        assert_eq!(
            q(
                &mut s,
                &[
                    "overflow",
                    "SAT",
                    "SET",
                    "i8",
                    "0",
                    "-9223372036854775680",
                    "GET",
                    "i8",
                    "0"
                ]
            ),
            ints(&[127, -128])
        );
        assert_eq!(
            q(
                &mut s,
                &["OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]
            ),
            ints(&[128, 255])
        );
        assert_eq!(
            q(
                &mut s,
                &["OVERFLOW", "WRAP", "SET", "u8", "0", "-2", "GET", "u8", "0"]
            ),
            ints(&[255, 254])
        );
        assert_eq!(
            q(
                &mut s,
                &["OVERFLOW", "FAIL", "SET", "u8", "0", "256", "GET", "u8", "0"]
            ),
            format!("*2\r\n{NULL}{}", int(254))
        );
        q(&mut s, &["SET", "u8", "0", "255"]);
        assert_eq!(
            q(
                &mut s,
                &[
                    "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "10", "OVERFLOW", "SAT", "INCRBY",
                    "u8", "0", "300", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "10"
                ]
            ),
            format!("*3\r\n{NULL}{}{}", int(255), int(9))
        );
        assert_eq!(
            q(
                &mut s,
                &[
                    "SET",
                    "i64",
                    "0",
                    "-9223372036854775808",
                    "INCRBY",
                    "i64",
                    "0",
                    "-1",
                    "OVERFLOW",
                    "SAT",
                    "INCRBY",
                    "i64",
                    "0",
                    "-1",
                    "INCRBY",
                    "i64",
                    "0",
                    "9223372036854775807",
                    "INCRBY",
                    "i64",
                    "0",
                    "9223372036854775807"
                ]
            ),
            ints(&[
                648518346341351424,
                i64::MAX,
                i64::MAX - 1,
                i64::MAX,
                i64::MAX
            ])
        );
        assert_eq!(
            q(
                &mut s,
                &[
                    "SET", "i5", "0", "-16", "INCRBY", "i5", "0", "-1", "OVERFLOW", "SAT",
                    "INCRBY", "i5", "0", "-100"
                ]
            ),
            ints(&[15, 15, -16])
        );
        assert_eq!(q(&mut s, &["INCRBY", "u1", "0", "1"]), ints(&[0]));
    }

    #[test]
    fn bitfield_fail_still_creates_and_counts() {
        let mut s = shard();
        assert_eq!(
            run(
                &mut s,
                &["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "i8", "0", "200"]
            ),
            format!("*1\r\n{NULL}")
        );
        assert_eq!(run(&mut s, &["STRLEN", "k"]), int(1));
        assert_eq!(s.dirty, 1);
        assert_eq!(
            run(&mut s, &["BITFIELD", "k4", "SET", "u1", "4294967295", "1"]),
            ints(&[0])
        );
        assert_eq!(
            run(&mut s, &["STRLEN", "k4"]),
            int(PROTO_MAX_BULK_LEN as i64)
        );
        // A field may run past the 512 MB mark; only its first bit is checked.
        assert_eq!(
            run(&mut s, &["BITFIELD", "k4", "SET", "u2", "4294967295", "1"]),
            ints(&[2])
        );
        assert_eq!(
            run(&mut s, &["STRLEN", "k4"]),
            int(PROTO_MAX_BULK_LEN as i64 + 1)
        );
    }

    #[test]
    fn bitfield_errors() {
        let mut s = shard();
        let type_err = error(ERR_BITFIELD_TYPE);
        for ty in ["I8", "u64", "i65", "i0", "x8", "i", "u-1", "i08"] {
            assert_eq!(
                run(&mut s, &["BITFIELD", "k", "GET", ty, "0"]),
                type_err,
                "{ty}"
            );
        }
        for off in ["-1", "#-1", "#", "4294967296", "#536870912", "x"] {
            assert_eq!(
                run(&mut s, &["BITFIELD", "k", "GET", "i8", off]),
                error(ERR_BIT_OFFSET),
                "{off}"
            );
        }
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "GET", "i8", "#536870911"]),
            ints(&[0])
        );
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "GET", "i8", "4294967288"]),
            ints(&[0])
        );
        for bad in [
            &["BITFIELD", "k", "GET", "i8"][..],
            &["BITFIELD", "k", "foo"],
            &["BITFIELD", "k", "OVERFLOW"],
            &["BITFIELD", "k", "SET", "i8", "0"],
            &["BITFIELD", "k", "INCRBY", "i8", "0", "1", "GET"],
            &["BITFIELD_RO", "k", "GET", "i8", "0", "foo"],
        ] {
            assert_eq!(run(&mut s, bad), error(err::SYNTAX), "{bad:?}");
        }
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "OVERFLOW", "foo"]),
            error(ERR_OVERFLOW_TYPE)
        );
        assert_eq!(
            run(&mut s, &["BITFIELD", "k", "SET", "i8", "0", "x"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["BITFIELD_RO", "k", "SET", "i8", "0", "x"]),
            error(err::NOT_INT)
        );
        assert_eq!(
            run(&mut s, &["BITFIELD_RO", "k", "SET", "i8", "0", "1"]),
            error(ERR_BITFIELD_RO)
        );
        assert_eq!(s.dbs[0].len(), 0);
        assert_eq!(s.dirty, 0);
    }

    #[test]
    fn field_io_round_trips() {
        for bits in 1..=64u32 {
            for offset in [0u64, 1, 7, 8, 13, 63] {
                let mut buf = vec![0xA5u8; 20];
                let value = 0x0123_4567_89AB_CDEFu64 & (u64::MAX >> (64 - bits));
                write_field(&mut buf, offset, bits, value);
                assert_eq!(read_field(&buf, offset, bits), value, "{bits} @ {offset}");
                // Bits around the field are untouched.
                for b in (0..offset).chain(offset + bits as u64..160) {
                    assert_eq!(
                        get_bit(&buf, b),
                        get_bit(&[0xA5; 20], b),
                        "{bits} @ {offset}"
                    );
                }
            }
        }
        assert_eq!(read_field(b"\xff", 4, 8), 0xF0);
        assert_eq!(read_field(b"", 0, 64), 0);
    }

    #[test]
    fn wrong_type() {
        let mut s = shard();
        if !other_type(&mut s, "l") {
            return; // no other value type exists yet
        }
        let wrongtype = error(err::WRONGTYPE);
        for cmd in [
            &["SETBIT", "l", "0", "1"][..],
            &["GETBIT", "l", "0"],
            &["BITCOUNT", "l"],
            &["BITCOUNT", "l", "0", "a"],
            &["BITPOS", "l", "1"],
            &["BITPOS", "l", "1", "a"],
            &["BITOP", "AND", "d", "a", "l"],
            &["BITFIELD", "l", "GET", "i8", "0"],
            &["BITFIELD", "l", "SET", "i8", "0", "1"],
            &["BITFIELD_RO", "l", "GET", "i8", "0"],
        ] {
            assert_eq!(run(&mut s, cmd), wrongtype, "{cmd:?}");
        }
        assert_eq!(
            run(&mut s, &["SETBIT", "l", "0", "2"]),
            error(ERR_BIT_VALUE)
        );
        assert_eq!(run(&mut s, &["GETBIT", "l", "-1"]), error(ERR_BIT_OFFSET));
        assert_eq!(run(&mut s, &["BITPOS", "l", "2"]), error(ERR_BITPOS_BIT));
        assert_eq!(run(&mut s, &["BITFIELD", "l", "foo"]), error(err::SYNTAX));
    }

    #[test]
    fn bit_writes_are_their_own_effect_when_they_change_something() {
        let script: &[&[&str]] = &[
            &["SETBIT", "b", "9", "1"],
            &["SETBIT", "b", "9", "1"],
            &["SETBIT", "b", "9", "0"],
            &["SETBIT", "b", "30", "0"],
            &[
                "BITFIELD", "f", "SET", "u8", "0", "200", "INCRBY", "u8", "0", "100",
            ],
            &["BITFIELD", "f", "GET", "u8", "0"],
            &[
                "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "100",
            ],
            &["BITOP", "OR", "o", "b", "f"],
            &["BITOP", "AND", "o", "missing"],
            &["BITOP", "AND", "o", "missing"],
        ];
        // The unchanged bit, the read-only BITFIELD, the BITOP that had nothing to delete.
        assert_own_effects(script, &[1, 5, 9]);
    }
}
