//! Number parsing and formatting with Redis' rules.

/// Parses a signed 64-bit integer the way Redis' `string2ll` does: optional `-`, no `+`, no
/// leading zeros, no spaces, at most 20 characters, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned integer with the same strictness as [`parse_i64`].
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    if s.is_empty() || s.len() > 20 || !(b'1'..=b'9').contains(&s[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Parses a double the way Redis does: no leading/trailing space, `inf`/`-inf` allowed,
/// NaN rejected.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5000 || s[0].is_ascii_whitespace() {
        return None;
    }
    if s.last().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let t = std::str::from_utf8(s).ok()?;
    let v: f64 = match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => t.parse().ok()?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Formats a double as Redis 7.2 replies it: the shortest text that reads back to the same
/// value, `inf`/`-inf`, and exponent notation outside `[1e-5, 1e17)` (like `%.17g`).
pub fn fmt_double(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-5..1e17).contains(&a) {
        let s = format!("{v:e}");
        // Rust writes `1e300` / `1e-7`; C's %g writes `1e+300` / `1e-07`.
        let (mant, exp) = s.split_once('e').unwrap();
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mant}e{sign}{digits:0>2}");
    }
    let s = format!("{v}");
    if s == "-0" {
        "-0".into()
    } else {
        s
    }
}

/// Formats an integer into a stack buffer.
pub fn fmt_i64(v: i64) -> itoa::Buffer {
    let mut b = itoa::Buffer::new();
    b.format(v);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_redis() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"9223372036854775808"[..],
            b"01",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn doubles_as_redis() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(fmt_double(10.6), "10.6");
        assert_eq!(fmt_double(3.0), "3");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
        assert_eq!(fmt_double(1e300), "1e+300");
        assert_eq!(fmt_double(1.5e-7), "1.5e-07");
    }
}
