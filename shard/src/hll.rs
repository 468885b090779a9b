//! HyperLogLog (hyperloglog.c in Redis): PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST over
//! string values holding Redis' sparse or dense HLL representation, byte for byte.
//!
//! An HLL is an ordinary string (`raw` once a PF command touched it), laid out exactly as
//! Redis lays it out, so `GET` of an HLL key gives bytes Redis accepts and bytes taken from
//! Redis work here:
//!
//! ```text
//! +------+---+-----+----------+------------------------------+
//! | HYLL | E | N/U | Cardin.  | registers (dense or sparse)  |
//! +------+---+-----+----------+------------------------------+
//! ```
//!
//! `E` is the encoding (0 dense, 1 sparse), `N/U` three unused bytes, `Cardin.` the last
//! computed cardinality as a little-endian u64 whose most significant bit, when set, marks
//! it stale. Dense: 16384 six-bit registers packed LSB first (12288 bytes). Sparse: a run
//! length encoding of the registers with three opcodes, ZERO `00xxxxxx` (1..64 zero
//! registers), XZERO `01xxxxxx yyyyyyyy` (1..16384 zero registers) and VAL `1vvvvvxx`
//! (1..4 registers of value 1..32). A sparse HLL turns dense when a register needs a value
//! above 32 or the string would outgrow `hll-sparse-max-bytes`.
//!
//! Elements hash with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
//! the run of zeros above them (plus one) is the value offered to it. The cardinality is
//! Otmar Ertl's improved estimator over the histogram of register values, as Redis 7.
//!
//! The code follows Redis' functions closely, including how they treat corrupted input
//! (which errors they detect and when), because those outcomes are observable.

use crate::cmd::Cmd;
use crate::notify;
use crate::reply::err;
use crate::shard::Ctx;
use crate::string::StrValue;
use crate::value::Value;

/// Bits of the hash that select the register.
pub const P: u32 = 14;
/// Bits of the hash left to count the zero run in.
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Size of the header: magic, encoding, three unused bytes, cached cardinality.
pub const HDR_SIZE: usize = 16;
/// Size of a dense HLL string.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
/// The encoding byte of a dense HLL.
pub const DENSE: u8 = 0;
/// The encoding byte of a sparse HLL.
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;
/// Redis' MurmurHash64A seed for HLL elements.
pub const SEED: u64 = 0xadc8_3b19;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2), the bias constant of the estimator for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The key holds a string that is not an HLL (or not a well-formed one).
pub const ERR_NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A sparse HLL whose opcodes do not describe exactly 16384 registers.
pub const ERR_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// The representation is corrupted (Redis' `C_ERR` / `-1` returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

// ---------------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------------

/// MurmurHash2, 64-bit version, as Redis has it (endian neutral: little-endian words).
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes(w.try_into().expect("chunks of 8"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `ele` hashes to and the length of its `000..1` pattern (Redis'
/// `hllPatLen`): 1..=51.
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    // The sentinel bit bounds the count at Q + 1 when the remaining bits are all zero.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------------------
// Dense registers
// ---------------------------------------------------------------------------------------------

/// Register `i` of the packed 6-bit array `regs` (the bytes after the header).
#[inline]
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    // Past the last byte Redis reads the string's NUL terminator.
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

/// Sets register `i` of `regs` to `val` (at most 63).
#[inline]
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    regs[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(b1) = regs.get_mut(byte + 1) {
        *b1 &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Raises register `index` to `count` if it is lower (`hllDenseSet`); true if it changed.
fn dense_raise(regs: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(regs, index) {
        dense_set(regs, index, count);
        true
    } else {
        false
    }
}

/// Counts the register values of a dense array into `histo`, four registers per 3 bytes.
fn dense_histogram(regs: &[u8], histo: &mut [u32; 64]) {
    for g in regs[..REGISTERS * BITS / 8].chunks_exact(3) {
        let (a, b, c) = (g[0], g[1], g[2]);
        histo[(a & 63) as usize] += 1;
        histo[((a >> 6) | ((b << 2) & 63)) as usize] += 1;
        histo[((b >> 4) | ((c << 4) & 63)) as usize] += 1;
        histo[(c >> 2) as usize] += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse opcodes
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `len` zero registers, one byte.
    Zero(usize),
    /// `len` zero registers, two bytes.
    XZero(usize),
    /// `len` registers of value `val`, one byte.
    Val(u8, usize),
}

impl Op {
    /// Decodes the opcode at `p` of `s`. An XZERO cut short by the end of the string reads
    /// its second byte as 0, as Redis reads the NUL after its sds string.
    #[inline]
    fn at(s: &[u8], p: usize) -> Op {
        let b = s[p];
        match b & 0xc0 {
            0x00 => Op::Zero((b & 0x3f) as usize + 1),
            0x40 => {
                let lo = s.get(p + 1).copied().unwrap_or(0) as usize;
                Op::XZero(((((b & 0x3f) as usize) << 8) | lo) + 1)
            }
            _ => Op::Val(((b >> 2) & 0x1f) + 1, (b & 0x3) as usize + 1),
        }
    }

    /// Registers covered.
    #[inline]
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    /// Bytes taken.
    #[inline]
    fn size(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

#[inline]
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

#[inline]
fn val_byte(val: u8, len: usize) -> u8 {
    (((val - 1) << 2) | (len as u8 - 1)) | 0x80
}

/// Appends the shortest zero-run opcode for `len` (1..=16384) registers.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        let l = len - 1;
        seq.extend_from_slice(&[((l >> 8) as u8) | 0x40, (l & 0xff) as u8]);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// Walks the sparse opcodes of `s` (a whole HLL string), calling `f(first_register, op)`
/// for each one that fits in the register space. False when an opcode would overflow it or
/// the opcodes do not cover exactly all registers (Redis' validity rule).
fn walk_sparse(s: &[u8], mut f: impl FnMut(usize, Op)) -> bool {
    let mut idx = 0;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let op = Op::at(s, p);
        if idx + op.span() > REGISTERS {
            return false;
        }
        f(idx, op);
        idx += op.span();
        p += op.size();
    }
    idx == REGISTERS
}

// ---------------------------------------------------------------------------------------------
// Whole HLL strings
// ---------------------------------------------------------------------------------------------

/// A new, empty HLL: sparse, one XZERO opcode per 16384 registers, cache valid (0).
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR_SIZE + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        push_zeros(&mut s, n);
        left -= n;
    }
    s
}

/// Whether `b` passes Redis' `isHLLObjectOrReply` checks: magic, a known encoding, and the
/// exact length for a dense HLL. (The sparse opcodes are only checked when used.)
pub fn is_hll(b: &[u8]) -> bool {
    b.len() >= HDR_SIZE
        && &b[..4] == b"HYLL"
        && b[4] <= MAX_ENCODING
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// The encoding byte of a valid HLL string.
#[inline]
fn encoding(s: &[u8]) -> u8 {
    s[4]
}

/// Marks the cached cardinality stale.
#[inline]
fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// The cached cardinality, if it is valid.
fn cached_card(s: &[u8]) -> Option<u64> {
    (s[15] & 0x80 == 0).then(|| u64::from_le_bytes(s[8..16].try_into().expect("8 bytes")))
}

/// Converts a sparse HLL to dense in place (`hllSparseToDense`); a dense one is left as is.
/// The header (cached cardinality included) is kept.
pub fn sparse_to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if encoding(s) == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&s[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let valid = walk_sparse(s, |first, op| {
        if let Op::Val(v, n) = op {
            for i in first..first + n {
                dense_set(regs, i, v);
            }
        }
    });
    if !valid {
        return Err(Corrupt);
    }
    *s = dense;
    Ok(())
}

/// Raises register `index` of a sparse HLL to `count` if it is lower (`hllSparseSet`),
/// rewriting the opcodes in place; promotes to dense when the value does not fit a VAL
/// opcode or the string would grow past `max_bytes`. True if the register changed.
pub fn sparse_set(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(s, index, count);
    }

    // Step 1: find the opcode covering `index`.
    let end = s.len();
    let mut p = HDR_SIZE;
    let mut first = 0;
    let mut prev = None;
    let mut span = 0;
    while p < end {
        let op = Op::at(s, p);
        span = op.span();
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += op.size();
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let op = Op::at(s, p);

    // Step 2: the trivial in-place cases.
    let in_place = match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => true,
        _ => false,
    };
    if in_place {
        s[p] = val_byte(count, 1);
    } else {
        // The general case: split the opcode around `index` (XZERO-VAL-XZERO at worst).
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        match op {
            Op::Zero(_) | Op::XZero(_) => {
                if index != first {
                    push_zeros(&mut seq, index - first);
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    push_zeros(&mut seq, last - index);
                }
            }
            Op::Val(cur, _) => {
                if index != first {
                    seq.push(val_byte(cur, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(cur, last - index));
                }
            }
        }
        // Step 3: substitute the new sequence for the opcode.
        let new_len = end - op.size() + seq.len();
        if new_len > end && new_len > max_bytes {
            return promote(s, index, count);
        }
        // An XZERO cut short by the end of the string occupies one byte only; Redis still
        // sizes the result as if it had two, which drops the last byte of the sequence.
        // (Redis' copy also writes that byte over the string's NUL terminator, where later
        // reads of a cut opcode find it; there is no byte past the end here, so they read 0.
        // Only crafted strings end with a cut opcode.)
        s.splice(p..(p + op.size()).min(end), seq);
        s.truncate(new_len);
    }

    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from the
    // one before the change.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut end = s.len();
    let mut scan = 5;
    while p < end && scan > 0 {
        scan -= 1;
        match Op::at(s, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, l1) => {
                if p + 1 < end && is_val(s[p + 1]) {
                    if let Op::Val(v2, l2) = Op::at(s, p + 1) {
                        if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                            s[p + 1] = val_byte(v1, l1 + l2);
                            s.remove(p);
                            end -= 1;
                            // Try the merged opcode with the one on its right.
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    invalidate_cache(s);
    Ok(true)
}

/// Converts to dense and sets the register there (the end of `hllSparseSet`).
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(s)?;
    // The register was lower than `count` in the sparse form, so this always updates.
    dense_raise(&mut s[HDR_SIZE..], index, count);
    Ok(true)
}

/// Raises register `index` to `count` in either encoding.
fn set_register(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    match encoding(s) {
        DENSE => Ok(dense_raise(&mut s[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(s, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Adds one element (`hllAdd`): true if a register changed.
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    set_register(s, index, count, max_bytes)
}

/// The histogram of register values of a valid HLL string; for a sparse one, `Corrupt` when
/// its opcodes do not cover exactly the registers.
pub fn histogram(s: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut histo = [0u32; 64];
    if encoding(s) == DENSE {
        dense_histogram(&s[HDR_SIZE..], &mut histo);
        return Ok(histo);
    }
    let valid = walk_sparse(s, |_, op| match op {
        Op::Val(v, n) => histo[v as usize] += n as u32,
        Op::Zero(n) | Op::XZero(n) => histo[0] += n as u32,
    });
    if valid {
        Ok(histo)
    } else {
        Err(Corrupt)
    }
}

/// The histogram of a plain array of register values (one byte each).
pub fn raw_histogram(regs: &[u8]) -> [u32; 64] {
    let mut histo = [0u32; 64];
    for &r in regs {
        histo[(r & 63) as usize] += 1;
    }
    histo
}

/// Ertl's sigma function ("New cardinality estimation algorithms for HyperLogLog
/// sketches", arXiv:1702.01284).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z_prev == z {
            return z;
        }
    }
}

/// Ertl's tau function (same paper).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prev = z;
        y *= 0.5;
        // Redis writes pow(1 - x, 2), which compilers turn into this exact product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if z_prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram (the arithmetic of Redis'
/// `hllCount`, operation for operation, so results agree to the unit).
pub fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    // z is 0 only when every register is above 51, which only crafted dense strings hold:
    // Redis' llroundl then answers LLONG_MIN, which lands in the u64 as bit 63 alone.
    if e < 9_223_372_036_854_775_808.0 {
        e as u64
    } else {
        1 << 63
    }
}

/// Folds the registers of a valid HLL string into `max` (`hllMerge`): max[i] = MAX(max[i],
/// reg[i]).
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    if encoding(s) == DENSE {
        let regs = &s[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let valid = walk_sparse(s, |first, op| {
        if let Op::Val(v, n) = op {
            for m in &mut max[first..first + n] {
                *m = (*m).max(v);
            }
        }
    });
    if valid {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// PFDEBUG DECODE's text for a sparse HLL: `z:<n>`, `Z:<n>`, `v:<value>,<n>`, space separated.
fn decode(s: &[u8]) -> String {
    let mut out = String::new();
    let mut p = HDR_SIZE;
    while p < s.len() {
        let op = Op::at(s, p);
        if !out.is_empty() {
            out.push(' ');
        }
        match op {
            Op::Zero(n) => out.push_str(&format!("z:{n}")),
            Op::XZero(n) => out.push_str(&format!("Z:{n}")),
            Op::Val(v, n) => out.push_str(&format!("v:{v},{n}")),
        }
        p += op.size();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------

/// The bytes of `v` if it is a valid HLL string; the error reply otherwise (plain WRONGTYPE
/// for other types, the HLL one for strings that are not HLLs, integers included).
fn hll_bytes(v: &Value) -> Result<&[u8], &'static str> {
    let b = match v {
        Value::Str(s) => s.text().ok_or(ERR_NOT_HLL)?,
        _ => return Err(err::WRONGTYPE),
    };
    if is_hll(b) {
        Ok(b)
    } else {
        Err(ERR_NOT_HLL)
    }
}

/// Like [`hll_bytes`], for modification: the value becomes `raw` (Redis'
/// `dbUnshareStringValue`, which every PF command that may write calls after the check).
fn hll_mut(v: &mut Value) -> Result<&mut Vec<u8>, &'static str> {
    hll_bytes(v)?;
    match v {
        Value::Str(s) => Ok(s.make_raw()),
        _ => unreachable!("checked to be a string above"),
    }
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// Adds the elements of PFADD to `s`; `updated` starts at 1 for a new key. Returns how many
/// registers changed (plus the creation), the cache invalidated if any.
fn pfadd_into(
    s: &mut Vec<u8>,
    cmd: &Cmd,
    mut updated: u64,
    max_bytes: usize,
) -> Result<u64, Corrupt> {
    for ele in cmd.args().skip(2) {
        if add(s, ele, max_bytes)? {
            updated += 1;
        }
    }
    if updated > 0 {
        invalidate_cache(s);
    }
    Ok(updated)
}

/// PFADD key [element ...]: 1 if the HLL was created or a register changed, 0 otherwise.
pub fn pfadd(ctx: &mut Ctx, cmd: &Cmd) {
    let max_bytes = ctx.limits.hll_sparse_max_bytes;
    let now = ctx.now;
    let result = match ctx.db.get_mut(&cmd[1], now) {
        Some(e) => match hll_mut(&mut e.value) {
            Ok(s) => pfadd_into(s, cmd, 0, max_bytes),
            Err(msg) => return ctx.out.error(msg),
        },
        None => {
            let mut s = new_sparse();
            let r = pfadd_into(&mut s, cmd, 1, max_bytes);
            ctx.db.set(&cmd[1], Value::Str(StrValue::raw(s)), 0, now);
            r
        }
    };
    match result {
        Ok(updated) => {
            if updated > 0 {
                ctx.notify(notify::STRING, "pfadd", &cmd[1]);
            }
            ctx.wrote(updated);
            ctx.out.int((updated > 0) as i64);
        }
        // Registers changed before the corruption was found stay changed, unsignalled, as
        // in Redis.
        Err(Corrupt) => ctx.out.error(ERR_CORRUPT),
    }
}

/// PFCOUNT key [key ...]: the estimated cardinality of one HLL (served from, or stored into,
/// its cache) or of the union of several (computed without modifying them). Missing keys
/// count as empty HLLs.
pub fn pfcount(ctx: &mut Ctx, cmd: &Cmd) {
    let now = ctx.now;
    if cmd.len() > 2 {
        let mut max = vec![0u8; REGISTERS];
        for key in cmd.args().skip(1) {
            let Some(e) = ctx.db.get(key, now) else {
                continue;
            };
            let merged = hll_bytes(&e.value)
                .and_then(|s| merge_into(&mut max, s).map_err(|Corrupt| ERR_CORRUPT));
            if let Err(msg) = merged {
                return ctx.out.error(msg);
            }
        }
        return ctx.out.int(estimate(&raw_histogram(&max)) as i64);
    }

    let Some(e) = ctx.db.get(&cmd[1], now) else {
        return ctx.out.int(0);
    };
    let s = match hll_mut(&mut e.value) {
        Ok(s) => s,
        Err(msg) => return ctx.out.error(msg),
    };
    if let Some(card) = cached_card(s) {
        return ctx.out.int(card as i64);
    }
    let Ok(histo) = histogram(s) else {
        return ctx.out.error(ERR_CORRUPT);
    };
    let card = estimate(&histo);
    s[8..16].copy_from_slice(&card.to_le_bytes());
    // Storing the cache modifies the string: Redis counts it as a write.
    ctx.wrote(1);
    ctx.out.int(card as i64);
}

/// PFMERGE destkey [sourcekey ...]: destkey becomes the union of itself and the sources;
/// dense if any input is dense, sparse (while it fits) otherwise.
pub fn pfmerge(ctx: &mut Ctx, cmd: &Cmd) {
    let now = ctx.now;
    let max_bytes = ctx.limits.hll_sparse_max_bytes;
    let mut max = vec![0u8; REGISTERS];
    let mut use_dense = false;
    for key in cmd.args().skip(1) {
        let Some(e) = ctx.db.get(key, now) else {
            continue;
        };
        let merged = hll_bytes(&e.value).and_then(|s| {
            use_dense |= encoding(s) == DENSE;
            merge_into(&mut max, s).map_err(|Corrupt| ERR_CORRUPT)
        });
        if let Err(msg) = merged {
            return ctx.out.error(msg);
        }
    }

    let write = |s: &mut Vec<u8>| -> Result<(), Corrupt> {
        if use_dense {
            sparse_to_dense(s)?;
        }
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                // The destination was validated as a source (or is new): this cannot fail.
                set_register(s, i, m, max_bytes)?;
            }
        }
        invalidate_cache(s);
        Ok(())
    };
    let result = match ctx.db.get_mut(&cmd[1], now) {
        Some(e) => match hll_mut(&mut e.value) {
            Ok(s) => write(s),
            Err(msg) => return ctx.out.error(msg),
        },
        None => {
            let mut s = new_sparse();
            let r = write(&mut s);
            ctx.db.set(&cmd[1], Value::Str(StrValue::raw(s)), 0, now);
            r
        }
    };
    match result {
        Ok(()) => {
            // As Redis: PFMERGE is a mass PFADD, and says so even when nothing changed.
            ctx.notify(notify::STRING, "pfadd", &cmd[1]);
            ctx.wrote(1);
            ctx.out.ok();
        }
        Err(Corrupt) => ctx.out.error(ERR_CORRUPT),
    }
}

/// `%s` of a C string: the bytes up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or_default()
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key.
pub fn pfdebug(ctx: &mut Ctx, cmd: &Cmd) {
    let now = ctx.now;
    let sub = &cmd[1];
    let Some(e) = ctx.db.get_mut(&cmd[2], now) else {
        return ctx.out.error("ERR The specified key does not exist");
    };
    let s = match hll_mut(&mut e.value) {
        Ok(s) => s,
        Err(msg) => return ctx.out.error(msg),
    };
    if sub.eq_ignore_ascii_case(b"getreg") {
        let converted = encoding(s) == SPARSE;
        if sparse_to_dense(s).is_err() {
            return ctx.out.error(ERR_CORRUPT);
        }
        let regs = &s[HDR_SIZE..];
        ctx.out.array(REGISTERS);
        for i in 0..REGISTERS {
            ctx.out.int(dense_get(regs, i) as i64);
        }
        if converted {
            ctx.wrote(1);
        }
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if encoding(s) != SPARSE {
            return ctx.out.error("ERR HLL encoding is not sparse");
        }
        let text = decode(s);
        ctx.out.bulk(text.as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        ctx.out.simple(if encoding(s) == DENSE {
            "dense"
        } else {
            "sparse"
        });
    } else if sub.eq_ignore_ascii_case(b"todense") {
        let converted = encoding(s) == SPARSE;
        if sparse_to_dense(s).is_err() {
            return ctx.out.error(ERR_CORRUPT);
        }
        if converted {
            ctx.wrote(1);
        }
        ctx.out.int(converted as i64);
    } else {
        let mut msg = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        msg.extend_from_slice(c_str(sub));
        msg.push(b'\'');
        ctx.out.error_bytes(&msg);
    }
}

/// PFSELFTEST: Redis' self test of the register access and of the estimator (dense and
/// sparse side by side up to 10 million elements). `+OK` or a `TESTFAILED` error.
pub fn pfselftest(ctx: &mut Ctx, _cmd: &Cmd) {
    match selftest(ctx.rng, ctx.limits.hll_sparse_max_bytes) {
        Ok(()) => ctx.out.ok(),
        Err(msg) => ctx.out.error(&msg),
    }
}

fn selftest(rng: &mut crate::rng::Rng, max_bytes: usize) -> Result<(), String> {
    // Test 1: registers keep the values set and do not disturb their neighbours.
    let mut dense = vec![0u8; DENSE_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (rng.next_u64() as u8) & REGISTER_MAX;
            dense_set(&mut dense[HDR_SIZE..], i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let val = dense_get(&dense[HDR_SIZE..], i);
            if val != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {val}"
                ));
            }
        }
    }

    // Test 2: the estimate stays within 6 standard errors, and the dense and sparse
    // representations agree.
    dense[HDR_SIZE..].fill(0);
    dense[4] = DENSE;
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let seed = rng.next_u64();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, count) = pat_len(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, count);
        set_register(&mut sparse, index, count, max_bytes).map_err(|_| "TESTFAILED corrupt")?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && encoding(&sparse) != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = estimate(&histogram(&dense).expect("dense"));
        if histogram(&sparse).map(|h| estimate(&h)) != Ok(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(card);
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
