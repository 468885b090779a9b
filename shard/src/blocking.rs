//! The timeout argument of the blocking commands (BLPOP, BZPOPMIN, BLMOVE...).
//!
//! Blocking itself lives in the server (clients wait there, keys may be on any shard): a
//! blocking command's handler serves the client when one of its keys has data and writes no
//! reply at all when none has, and the server then blocks the client.

use crate::num::parse_f64;

const ERR_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
const ERR_NEGATIVE: &str = "ERR timeout is negative";
const ERR_RANGE: &str = "ERR timeout is out of range";

/// Parses a timeout in seconds (fractions allowed) as Redis' `getTimeoutFromObjectOrReply`
/// does, into an absolute deadline in Unix ms; 0 means wait forever.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<u64, &'static str> {
    let secs = parse_f64(arg).ok_or(ERR_NOT_FLOAT)?;
    let ms = secs * 1000.0;
    if ms > i64::MAX as f64 {
        return Err(ERR_RANGE);
    }
    let ms = ms.ceil();
    if ms < 0.0 {
        return Err(ERR_NEGATIVE);
    }
    let ms = ms as u64;
    if ms == 0 {
        return Ok(0);
    }
    if ms > i64::MAX as u64 - now_ms {
        return Err(ERR_RANGE);
    }
    Ok(now_ms + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_as_redis_reads_them() {
        assert_eq!(parse_timeout(b"0", 1000), Ok(0));
        assert_eq!(parse_timeout(b"1", 1000), Ok(2000));
        assert_eq!(parse_timeout(b"0.1", 1000), Ok(1100));
        assert_eq!(parse_timeout(b"0.0001", 1000), Ok(1001), "rounded up");
        assert_eq!(parse_timeout(b"-1", 1000), Err(ERR_NEGATIVE));
        assert_eq!(
            parse_timeout(b"-0.0001", 1000),
            Ok(0),
            "ceil of -0.1 ms is 0"
        );
        assert_eq!(parse_timeout(b"abc", 1000), Err(ERR_NOT_FLOAT));
        assert_eq!(parse_timeout(b"inf", 1000), Err(ERR_RANGE));
        assert_eq!(parse_timeout(b"9223372036854775", 1000), Err(ERR_RANGE));
    }
}
