//! RESP2/RESP3 reply encoder.
//!
//! Commands write their replies straight into the connection's (or the hop's) output buffer
//! in the client's protocol: no intermediate reply tree, no allocation per reply. The same
//! call sites serve both protocols; the RESP2 fallbacks are the ones Redis uses (maps as flat
//! arrays, doubles as bulk strings, booleans as integers, null as `$-1`/`*-1`).

use crate::num::fmt_double;

pub struct Reply {
    pub buf: Vec<u8>,
    pub resp3: bool,
    /// Error replies written so far (for INFO `total_error_replies`).
    pub errors: u32,
}

impl Reply {
    pub fn new(resp3: bool) -> Reply {
        Reply {
            buf: Vec::with_capacity(64),
            resp3,
            errors: 0,
        }
    }

    pub fn with_buf(buf: Vec<u8>, resp3: bool) -> Reply {
        Reply {
            buf,
            resp3,
            errors: 0,
        }
    }

    #[inline]
    fn header(&mut self, tag: u8, n: i64) {
        self.buf.push(tag);
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string; must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        debug_assert!(!s.contains(['\r', '\n']));
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` starts with the error code (`ERR ...`, `WRONGTYPE ...`); line
    /// breaks in it are replaced by spaces, as Redis does, so the protocol stays intact.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// An error reply from raw bytes (Redis prints some arguments into errors as they are).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.errors += 1;
        self.buf.push(b'-');
        self.buf.extend(
            msg.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, v: i64) {
        self.header(b':', v);
    }

    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The null bulk string (RESP3: null).
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (RESP3: null).
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs; RESP2 sees a flat array of 2n elements.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set of `n` elements; RESP2 sees an array.
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// An out-of-band push of `n` elements; RESP2 sees an array.
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// A double; RESP2 sees a bulk string in Redis' formatting.
    pub fn double(&mut self, v: f64) {
        let s = fmt_double(v);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A boolean; RESP2 sees the integer 1 or 0.
    pub fn boolean(&mut self, v: bool) {
        if self.resp3 {
            self.buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }

    /// A verbatim string with a three-letter format (`txt`, `mkd`); RESP2 sees a bulk string.
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if self.resp3 {
            debug_assert_eq!(format.len(), 3);
            self.header(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A big number given as decimal digits; RESP2 sees a bulk string.
    pub fn big_number(&mut self, digits: &str) {
        if self.resp3 {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// Bytes already encoded as RESP (a reply assembled elsewhere, e.g. on another shard).
    pub fn raw(&mut self, resp: &[u8]) {
        self.buf.extend_from_slice(resp);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Redis' standard error replies, shared by every command family.
pub mod err {
    pub const SYNTAX: &str = "ERR syntax error";
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NOT_INT: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const NO_SUCH_KEY: &str = "ERR no such key";
    pub const DB_INDEX: &str = "ERR DB index is out of range";
    pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";

    /// `ERR wrong number of arguments for 'x' command`, with the name as the client sent it
    /// lower-cased, as Redis 7 does.
    pub fn arity(name: &[u8]) -> String {
        format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(name).to_lowercase()
        )
    }

    /// `ERR invalid expire time in 'set' command`
    pub fn invalid_expire(cmd: &str) -> String {
        INVALID_EXPIRE.replace("{}", cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Reply)) -> (String, String) {
        let mut r2 = Reply::new(false);
        let mut r3 = Reply::new(true);
        f(&mut r2);
        f(&mut r3);
        (
            String::from_utf8(r2.buf).unwrap(),
            String::from_utf8(r3.buf).unwrap(),
        )
    }

    #[test]
    fn protocol_fallbacks() {
        assert_eq!(both(|r| r.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(
            both(|r| r.boolean(true)),
            (":1\r\n".into(), "#t\r\n".into())
        );
        assert_eq!(
            both(|r| r.double(1.5)),
            ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into())
        );
        assert_eq!(
            both(|r| r.verbatim("txt", b"hi")),
            ("$2\r\nhi\r\n".into(), "=6\r\ntxt:hi\r\n".into())
        );
    }

    #[test]
    fn errors_cannot_break_framing() {
        let mut r = Reply::new(false);
        r.error("ERR bad\r\nthing");
        assert_eq!(r.buf, b"-ERR bad  thing\r\n");
        assert_eq!(r.errors, 1);
    }
}
