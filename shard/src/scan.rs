//! The arguments of SCAN and of the collection scans (HSCAN, SSCAN, ZSCAN): the cursor, as
//! Redis parses it, and `MATCH`/`COUNT` (and, for SCAN only, `TYPE`).

use crate::cmd::Cmd;
use crate::glob::glob_match;
use crate::keys::{parse_scan_opts, ScanOpts};
use crate::reply::err;

pub const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";

/// Parses a cursor as Redis does: C's strtoul (a sign, leading zeros, a negative number
/// wraps, an empty string is 0) but no leading space and nothing after the digits.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(arg).ok()?;
    let (neg, digits) = match s.as_bytes().first() {
        None => return Some(0),
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u64 = digits.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// `HSCAN|SSCAN|ZSCAN key cursor [MATCH pattern] [COUNT count]`: the cursor and options, with
/// Redis' errors (`ERR invalid cursor`, then the option errors of SCAN; TYPE is a syntax
/// error here, as in Redis).
pub fn parse_collection_scan(cmd: &Cmd) -> Result<(u64, ScanOpts), &'static str> {
    let cursor = parse_cursor(&cmd[2]).ok_or(ERR_INVALID_CURSOR)?;
    let opts = parse_scan_opts(cmd, 3)?;
    if opts.type_name.is_some() {
        return Err(err::SYNTAX);
    }
    Ok((cursor, opts))
}

impl ScanOpts {
    /// Whether an element passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, item, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"x"), None);
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b" 5"), None);
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"99999999999999999999999"), None);
    }

    #[test]
    fn collection_scan_options() {
        let c = Cmd::from_args(&["hscan", "h", "0", "MATCH", "a*", "COUNT", "5"]);
        let (cursor, o) = parse_collection_scan(&c).unwrap();
        assert_eq!((cursor, o.count), (0, 5));
        assert!(o.matches(b"abc") && !o.matches(b"b"));
        let c = Cmd::from_args(&["hscan", "h", "x"]);
        assert_eq!(parse_collection_scan(&c).err(), Some(ERR_INVALID_CURSOR));
        let c = Cmd::from_args(&["hscan", "h", "0", "TYPE", "string"]);
        assert_eq!(parse_collection_scan(&c).err(), Some(err::SYNTAX));
    }
}
