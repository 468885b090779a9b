//! Listpacks (Redis' `listpack.c`), the blob RDB files store small hashes, sorted sets, sets,
//! list nodes and stream nodes in.
//!
//! ```text
//! total-bytes (u32 LE) | element count (u16 LE, 65535 = too many to count) | entries | 0xFF
//! entry: encoding [payload] backlen
//! ```
//!
//! An entry is an integer (7-bit immediate, 13, 16, 24, 32 or 64 bits) or a string behind a
//! 1, 2 or 5-byte length; `backlen` is the length of encoding and payload in 1 to 5 bytes,
//! most significant 7-bit group first, so a listpack can be walked backwards. Strings that
//! are canonical integers are stored as integers (`lpAppend`).

use shard::num::parse_i64;

const ENC_16BIT_INT: u8 = 0xF1;
const ENC_24BIT_INT: u8 = 0xF2;
const ENC_32BIT_INT: u8 = 0xF3;
const ENC_64BIT_INT: u8 = 0xF4;
const ENC_32BIT_STR: u8 = 0xF0;
const EOF: u8 = 0xFF;
/// Header bytes: total bytes and element count.
const HEADER: usize = 6;
/// The element count of a listpack with 65535 elements or more.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// An element of a listpack (or of a ziplist, which holds the same two kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// Calls `f` with the element's text (an integer formatted on the stack).
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(v) => f(itoa::Buffer::new().format(v).as_bytes()),
            Elem::Str(s) => f(s),
        }
    }

    /// The element as an integer: an integer entry, or a string spelling one (Redis'
    /// `lpGetInteger` accepts both).
    pub fn as_int(self) -> Option<i64> {
        match self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => parse_i64(s),
        }
    }
}

/// Builds a listpack element by element.
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer::new()
    }
}

impl Writer {
    /// An empty listpack.
    pub fn new() -> Writer {
        Writer {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Appends a string, as an integer entry when it is a canonical integer (`lpAppend`).
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    /// Appends an element as it is.
    pub fn push_elem(&mut self, e: Elem) {
        match e {
            Elem::Int(v) => self.push_int(v),
            Elem::Str(s) => self.push_str(s),
        }
    }

    /// Appends an integer entry in the narrowest encoding (`lpAppendInteger`).
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = v.to_le_bytes();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1FFF;
            self.buf
                .extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(ENC_16BIT_INT);
            self.buf.extend_from_slice(&b[..2]);
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(ENC_24BIT_INT);
            self.buf.extend_from_slice(&b[..3]);
        } else if i32::try_from(v).is_ok() {
            self.buf.push(ENC_32BIT_INT);
            self.buf.extend_from_slice(&b[..4]);
        } else {
            self.buf.push(ENC_64BIT_INT);
            self.buf.extend_from_slice(&b);
        }
        self.end_entry(start);
    }

    /// Appends a string entry (even one that spells an integer).
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf
                .extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            // Listpacks hold strings below 4 GiB (Redis keeps larger list elements in plain
            // nodes and larger hash or set members in hashtables).
            self.buf.push(ENC_32BIT_STR);
            self.buf
                .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.end_entry(start);
    }

    fn end_entry(&mut self, start: usize) {
        let mut back = [0u8; 5];
        let k = encode_backlen(self.buf.len() - start, &mut back);
        self.buf.extend_from_slice(&back[..k]);
        self.count += 1;
    }

    /// Elements appended so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The listpack's bytes: the header filled in, the end marker appended.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        // Writers stay far below 4 GiB: every listpack Redis or Shardis builds is capped
        // at 1 GB (LISTPACK_MAX_SAFETY_SIZE).
        let total = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Writes the back-length of an entry of `l` bytes (encoding and payload) into `out`,
/// returning its size (Redis' `lpEncodeBacklen`, thresholds included: 16383 takes 3 bytes).
fn encode_backlen(l: usize, out: &mut [u8; 5]) -> usize {
    let k = if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    };
    for (i, byte) in out[..k].iter_mut().enumerate() {
        let group = (l >> (7 * (k - 1 - i))) as u8 & 0x7F;
        *byte = if i == 0 { group } else { group | 0x80 };
    }
    k
}

/// Decodes and validates a listpack: every element, in order. Errors say what is wrong.
pub fn decode(lp: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if lp.len() < HEADER + 1 {
        return Err("listpack shorter than its header".into());
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(format!(
            "listpack says {total} bytes but holds {}",
            lp.len()
        ));
    }
    if lp[lp.len() - 1] != EOF {
        return Err("listpack without its end marker".into());
    }
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    let end = lp.len() - 1;
    // At most one element per two bytes (a one-byte entry has a one-byte back-length).
    let mut out = Vec::with_capacity((count as usize).min(end / 2));
    let mut p = HEADER;
    while p < end {
        let (e, l) = entry(&lp[p..end])?;
        let mut back = [0u8; 5];
        let k = encode_backlen(l, &mut back);
        if lp.get(p + l..p + l + k) != Some(&back[..k]) {
            return Err("listpack entry with a wrong back-length".into());
        }
        out.push(e);
        p += l + k;
    }
    if p != end {
        return Err("listpack entry runs past the end".into());
    }
    if count != COUNT_UNKNOWN && count as usize != out.len() {
        return Err(format!(
            "listpack says {count} elements but holds {}",
            out.len()
        ));
    }
    Ok(out)
}

/// Decodes the entry at the start of `buf`: the element and the size of its encoding and
/// payload (the back-length follows).
fn entry(buf: &[u8]) -> Result<(Elem<'_>, usize), String> {
    let cut = || "listpack entry runs past the end".to_string();
    let bytes = |n: usize| buf.get(1..1 + n).ok_or_else(cut);
    let le = |n: usize| -> Result<i64, String> {
        let b = bytes(n)?;
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b);
        // Sign-extend the n-byte little-endian value.
        let shift = 64 - 8 * n as u32;
        Ok(((u64::from_le_bytes(a) << shift) as i64) >> shift)
    };
    let str_at = |off: usize, n: usize| buf.get(off..off + n).ok_or_else(cut);
    let b = buf[0];
    Ok(if b & 0x80 == 0 {
        (Elem::Int(b as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3F) as usize;
        (Elem::Str(str_at(1, n)?), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1F) as u16) << 8) | *buf.get(1).ok_or_else(cut)? as u16;
        // Sign-extend the 13-bit value.
        (Elem::Int(((u << 3) as i16 >> 3) as i64), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0F) as usize) << 8) | *buf.get(1).ok_or_else(cut)? as usize;
        (Elem::Str(str_at(2, n)?), 2 + n)
    } else {
        match b {
            ENC_16BIT_INT => (Elem::Int(le(2)?), 3),
            ENC_24BIT_INT => (Elem::Int(le(3)?), 4),
            ENC_32BIT_INT => (Elem::Int(le(4)?), 5),
            ENC_64BIT_INT => (Elem::Int(le(8)?), 9),
            ENC_32BIT_STR => {
                let n = le(4)? as u32 as usize;
                (Elem::Str(str_at(5, n)?), 5 + n)
            }
            _ => return Err(format!("listpack entry of unknown encoding {b:#04x}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_every_encoding() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -32768,
            32767,
            -8_388_608,
            8_388_607,
            8_388_608,
            i32::MIN as i64,
            i32::MAX as i64,
            i64::MIN,
            i64::MAX,
        ];
        let long = vec![b'x'; 5000];
        let strs: [&[u8]; 7] = [
            b"",
            b"a",
            &[b'y'; 63],
            &[b'y'; 64],
            &[b'z'; 4095],
            &long,
            b"-0",
        ];
        let mut w = Writer::new();
        ints.iter().for_each(|&v| w.push_int(v));
        strs.iter().for_each(|s| w.push(s));
        w.push(b"12");
        let lp = w.finish();
        let got = decode(&lp).unwrap();
        let mut want: Vec<Elem> = ints.iter().map(|&v| Elem::Int(v)).collect();
        want.extend(strs.iter().map(|s| Elem::Str(s)));
        want.push(Elem::Int(12));
        assert_eq!(got, want);
    }

    /// The bytes of `RPUSH l a 1 -1000`'s listpack as listpack.c lays them out.
    #[test]
    fn bytes_of_a_known_listpack() {
        let mut w = Writer::new();
        for s in [&b"a"[..], b"1", b"-1000"] {
            w.push(s);
        }
        // -1000 as a 13-bit integer: 8192 - 1000 = 0x1C18.
        let want = [
            15, 0, 0, 0, 3, 0, 0x81, b'a', 2, 0x01, 1, 0xDC, 0x18, 2, 0xFF,
        ];
        assert_eq!(w.finish(), want);
    }

    #[test]
    fn back_lengths_at_their_thresholds() {
        let mut b = [0u8; 5];
        assert_eq!(encode_backlen(127, &mut b), 1);
        assert_eq!(encode_backlen(128, &mut b), 2);
        assert_eq!(&b[..2], [1, 0x80]);
        assert_eq!(encode_backlen(16382, &mut b), 2);
        assert_eq!(encode_backlen(16383, &mut b), 3);
        // A string whose entry is 16383 bytes round-trips.
        let mut w = Writer::new();
        w.push_str(&vec![b'q'; 16383 - 5]);
        assert_eq!(decode(&w.finish()).unwrap().len(), 1);
    }

    #[test]
    fn corrupt_listpacks_are_errors() {
        let mut w = Writer::new();
        w.push(b"hello");
        w.push_int(300);
        let lp = w.finish();
        for cut in 0..lp.len() {
            assert!(decode(&lp[..cut]).is_err(), "prefix {cut}");
        }
        let mut bad = lp.clone();
        bad[4] = 3;
        assert!(decode(&bad).is_err(), "wrong count");
        let mut bad = lp.clone();
        bad[6] = 0x80 | 40;
        assert!(decode(&bad).is_err(), "string past the end");
        let mut bad = lp.clone();
        bad[6] = 0xF7;
        assert!(decode(&bad).is_err(), "unknown encoding");
        let mut bad = lp.clone();
        bad[12] = 9;
        assert!(decode(&bad).is_err(), "wrong back-length");
    }
}
