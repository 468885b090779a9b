//! Stream entry IDs (`<ms>-<seq>`): parsing with Redis' exact rules, formatting, successor
//! and predecessor.

use crate::num::parse_i64;

/// The error of every malformed ID argument.
pub const ERR_INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// A stream entry ID. Ordered as Redis orders them: by milliseconds, then sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, the smallest ID (`-`).
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID (`+`).
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// The ID `<ms>-<seq>`.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// Whether this is `0-0`.
    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, None after the largest one (Redis' `streamIncrID` failing).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, None before `0-0` (Redis' `streamDecrID` failing).
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// `<ms>-<seq>` into `buf`, returned as a slice of it.
    pub fn fmt<'a>(&self, buf: &'a mut [u8; 41]) -> &'a [u8] {
        let mut a = itoa::Buffer::new();
        let ms = a.format(self.ms).as_bytes();
        buf[..ms.len()].copy_from_slice(ms);
        let mut n = ms.len();
        buf[n] = b'-';
        n += 1;
        let seq = a.format(self.seq).as_bytes();
        buf[n..n + seq.len()].copy_from_slice(seq);
        &buf[..n + seq.len()]
    }

    /// `<ms>-<seq>` as an owned string.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.fmt(&mut [0; 41]).to_vec()
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis' `string2ull`: a canonical non-negative integer, else what C's `strtoull` accepts in
/// full (leading blanks, a sign, leading zeros; a `-` wraps around as in C).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    if i == s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// How an ID argument may be written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `-` and `+` allowed (XRANGE bounds, XGROUP SETID).
    Loose,
    /// `-` and `+` refused.
    Strict,
    /// Strict, and `<ms>-*` allowed (XADD).
    Add,
}

/// Redis' `streamGenericParseIDOrReply`. Returns the ID and whether the sequence was given
/// (false only for `<ms>-*` in the `Add` form).
fn parse(arg: &[u8], missing_seq: u64, form: Form) -> Option<(StreamId, bool)> {
    if arg.len() > 127 {
        return None;
    }
    // Redis parses a C string: whatever follows a NUL byte is not seen.
    let s = arg.split(|&c| c == 0).next().unwrap_or_default();
    if form != Form::Loose && (s == b"-" || s == b"+") {
        return None;
    }
    if s == b"-" {
        return Some((StreamId::MIN, true));
    }
    if s == b"+" {
        return Some((StreamId::MAX, true));
    }
    let (ms_part, seq_part) = match s.iter().position(|&c| c == b'-') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = string2ull(ms_part)?;
    match seq_part {
        Some(b"*") if form == Form::Add => Some((StreamId::new(ms, 0), false)),
        Some(seq) => Some((StreamId::new(ms, string2ull(seq)?), true)),
        None => Some((StreamId::new(ms, missing_seq), true)),
    }
}

/// An ID where `-` and `+` mean the smallest and largest IDs; a missing sequence is
/// `missing_seq`.
pub fn parse_id(arg: &[u8], missing_seq: u64) -> Option<StreamId> {
    parse(arg, missing_seq, Form::Loose).map(|p| p.0)
}

/// An ID where `-` and `+` are invalid; a missing sequence is 0.
pub fn parse_strict(arg: &[u8]) -> Option<StreamId> {
    parse(arg, 0, Form::Strict).map(|p| p.0)
}

/// XADD's explicit ID: strict, `<ms>-*` allowed. Returns whether the sequence was given.
pub fn parse_add_id(arg: &[u8]) -> Option<(StreamId, bool)> {
    parse(arg, 0, Form::Add)
}

/// A range bound: `(` before the ID makes it exclusive (and the ID strict). Returns the ID
/// and whether it is exclusive.
pub fn parse_interval(arg: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        parse(&arg[1..], missing_seq, Form::Strict).map(|p| (p.0, true))
    } else {
        parse_id(arg, missing_seq).map(|id| (id, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn parses_as_redis() {
        assert_eq!(parse_id(b"1-2", 0), Some(id(1, 2)));
        assert_eq!(parse_id(b"5", 7), Some(id(5, 7)));
        assert_eq!(parse_id(b"-", 0), Some(StreamId::MIN));
        assert_eq!(parse_id(b"+", 0), Some(StreamId::MAX));
        assert_eq!(parse_strict(b"-"), None);
        assert_eq!(parse_strict(b"+"), None);
        assert_eq!(parse_strict(b""), None);
        assert_eq!(parse_strict(b"abc"), None);
        assert_eq!(parse_strict(b"1-"), None);
        assert_eq!(parse_strict(b"-1"), None);
        assert_eq!(parse_strict(b"1-2-3"), None);
        assert_eq!(parse_strict(b"1--2"), None, "negative sequence");
        assert_eq!(
            parse_strict(b"18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(parse_strict(b"18446744073709551616"), None);
        // What strtoull accepts.
        assert_eq!(parse_strict(b"007-+3"), Some(id(7, 3)));
        assert_eq!(parse_strict(b" 1"), Some(id(1, 0)));
        assert_eq!(parse_strict(b"-0"), None, "'-' splits: empty milliseconds");
        assert_eq!(parse_strict(b"1--01"), Some(id(1, u64::MAX)), "C wraps -1");
        assert_eq!(parse_strict(&[b'1'; 128]), None, "too long");
        assert_eq!(parse_add_id(b"5-*"), Some((id(5, 0), false)));
        assert_eq!(parse_strict(b"5-*"), None);
        assert_eq!(parse_interval(b"(1-1", 0), Some((id(1, 1), true)));
        assert_eq!(parse_interval(b"(", 0), None);
        assert_eq!(
            parse_interval(b"(-", 0),
            None,
            "exclusive bounds are strict"
        );
        assert_eq!(parse_interval(b"-", 0), Some((StreamId::MIN, false)));
    }

    #[test]
    fn successor_and_predecessor() {
        assert_eq!(id(1, u64::MAX).incr(), Some(id(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(id(2, 0).decr(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
        assert_eq!(
            StreamId::MAX.to_bytes(),
            b"18446744073709551615-18446744073709551615"
        );
        assert_eq!(id(0, 0).to_string(), "0-0");
    }
}
