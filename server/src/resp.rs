//! RESP request parser: multibulk (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and inline
//! (`PING\r\n`) requests, with Redis 7.2's acceptance rules and error strings
//! (`processMultibulkBuffer`, `processInlineBuffer` and `sdssplitargs` in Redis).
//!
//! A parsed command is zero-copy: its frame is the request's bytes split off the front of
//! the connection's read buffer, and its arguments are spans in it. Only an inline request
//! with quotes is copied, because unescaping changes its bytes.
//!
//! Redis quirks kept on purpose, since clients and Redis' own test suite rely on them:
//! - the two bytes after a bulk and after a `\r` ending a header line are skipped
//!   unchecked (`$3\r\nfooXY` is `foo`);
//! - lines are searched like C strings: a NUL byte hides the rest of the buffer, so a
//!   header or inline line with a NUL never ends and fails with "too big ..." once more
//!   than `max_inline_len` bytes wait (Redis' "protocol desync" tests expect exactly that);
//! - an inline line ends at `\n`, an optional `\r` before it is dropped.
//!
//! Deliberate differences, all on malformed input:
//! - Redis searches the whole buffer for a line end and so accepts an inline line longer
//!   than 64 KiB when it happens to arrive in one read; here any line longer than
//!   `max_inline_len` is refused, so the outcome never depends on how the bytes were split;
//! - in "expected '$', got 'X'" a byte >= 0x80 is shown as the Latin-1 character (a Rust
//!   `String` cannot hold the raw byte Redis sends);
//! - a request whose frame would exceed 4 GiB (spans are `u32`) is refused with
//!   "invalid bulk length"; only reachable with `max_bulk_len` raised past its default.
//!
//! Use, per connection (one `ParseState`, one read buffer):
//!
//! ```text
//! loop {
//!     // `authenticated` must be current for each request: run AUTH/HELLO before parsing
//!     // the request after it, as Redis does.
//!     let limits = Limits { authenticated: session.authenticated, ..server_limits };
//!     match parse(&mut buf, &mut state, &limits) {
//!         Ok(Parsed::Cmd(cmd)) => run(cmd),
//!         Ok(Parsed::Empty) => {}
//!         Ok(Parsed::Incomplete) => {
//!             let want = state.needed().unwrap_or(buf.len() + 16 * 1024);
//!             if want > client_query_buffer_limit { close } // Redis closes without a reply
//!             buf.reserve(want - buf.len());
//!             read_more(&mut buf); // append only
//!         }
//!         Err(e) => { reply(format!("-ERR {e}\r\n")); close }
//!     }
//! }
//! ```

use bytes::{Buf, Bytes, BytesMut};
use shard::num::parse_i64;
use shard::Cmd;
use smallvec::SmallVec;
use std::fmt;

type Span = (u32, u32);

/// Redis' limits for a client that has not authenticated yet (hard-coded in Redis).
const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK: u64 = 16 * 1024;
/// Args preallocated for a multibulk header at most: the count is the client's word,
/// memory for it is spent only as arguments actually arrive (Redis caps it at 1024 too).
const PREALLOC_ARGS: usize = 1024;
/// Spans are `u32`, so a frame cannot be longer than this.
const MAX_FRAME: u64 = u32::MAX as u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: the largest bulk argument (Redis default 512 MiB). Set it to
    /// `usize::MAX` for the replication link: Redis does not apply it to its master.
    pub max_bulk_len: usize,
    /// The largest multibulk count (Redis 7.2: `INT_MAX`).
    pub max_multibulk_len: usize,
    /// `PROTO_INLINE_MAX_SIZE` (64 KiB): the longest inline request, and the longest
    /// `*<n>` / `$<len>` header line.
    pub max_inline_len: usize,
    /// False while Redis' `authRequired(c)` holds (a password is set and this client has
    /// not authenticated): then a request may have at most 10 arguments of at most 16 KiB
    /// each. True when no password is configured.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as usize,
            max_inline_len: 64 * 1024,
            authenticated: true,
        }
    }
}

#[derive(Debug)]
pub enum Parsed {
    /// One request, split off the front of the buffer.
    Cmd(Cmd),
    /// A request with no arguments (empty inline line, `*0`, `*-1`), consumed: nothing to
    /// run or reply, parse again.
    Empty,
    /// The buffer holds no whole request; it was left untouched. Read more, then parse
    /// again with the same state (see [`ParseState::needed`]).
    Incomplete,
}

/// A protocol error, in Redis' words (without the `ERR ` prefix). The connection must get
/// `-ERR <message>\r\n` and be closed; the parser is not usable afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(msg: &str) -> Self {
        ProtocolError(msg.to_owned())
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// Progress through a request that has not fully arrived, so that bytes already parsed
/// are not parsed again on the next call: a 100 MB bulk read in 64 KiB pieces costs O(1)
/// per read, not a rescan. One per connection; valid as long as the caller only appends
/// to the buffer between calls that returned `Incomplete`.
#[derive(Debug, Default)]
pub struct ParseState {
    /// Offset in the buffer where the next multibulk element starts.
    pos: usize,
    /// Multibulk arguments still to come; 0 while no `*<n>` header has been read.
    args_left: usize,
    /// Length of the bulk whose `$<len>` header has been read, while waiting for its bytes.
    bulk_len: Option<usize>,
    /// Where the search for the current line's end resumes: bytes before it were searched.
    scan_from: usize,
    spans: SmallVec<[Span; 5]>,
    /// Bytes looked at by line searches, for the linear-time test.
    #[cfg(test)]
    examined: usize,
}

impl ParseState {
    pub fn new() -> Self {
        Self::default()
    }

    /// When the last call returned `Incomplete` inside a bulk whose length is known: the
    /// buffer length at which that bulk will be complete. Reserve up to it once
    /// (`buf.reserve(n - buf.len())`) instead of letting the buffer double its way there.
    /// `None` while reading a header line or between requests.
    pub fn needed(&self) -> Option<usize> {
        self.bulk_len.map(|len| self.pos + len + 2)
    }

    /// Back to "between requests", once a request has been split off the buffer.
    fn reset(&mut self) {
        self.pos = 0;
        self.args_left = 0;
        self.bulk_len = None;
        self.scan_from = 0;
        self.spans.clear();
    }

    /// Finds `target` in the line starting at `start`, looking at most `lim + 1` bytes in,
    /// resuming where the previous call stopped. Like Redis' `strchr`, a NUL byte ends the
    /// search for good: the line is then never found.
    fn find_line_end(&mut self, buf: &[u8], start: usize, target: u8, lim: usize) -> Option<usize> {
        let end = buf.len().min(start.saturating_add(lim).saturating_add(1));
        let from = self.scan_from.max(start);
        if from >= end {
            return None;
        }
        let hit = buf[from..end]
            .iter()
            .position(|&b| b == target || b == 0)
            .map(|i| from + i);
        #[cfg(test)]
        {
            self.examined += hit.map_or(end, |i| i + 1) - from;
        }
        match hit {
            Some(i) => {
                // Stay on the hit: a found line end whose next byte has not arrived, or a
                // NUL, is found again at once on the next call.
                self.scan_from = i;
                (buf[i] == target).then_some(i)
            }
            None => {
                self.scan_from = end;
                None
            }
        }
    }
}

/// Parses the first request in `buf`. On `Cmd` and `Empty` the request's bytes are removed
/// from the front of `buf` (for `Cmd`, split off without copying); on `Incomplete` `buf`
/// is untouched. Allocates only the spans of a request with more than 5 arguments and the
/// unescaped copy of a quoted inline request, whatever the input.
pub fn parse(
    buf: &mut BytesMut,
    state: &mut ParseState,
    limits: &Limits,
) -> Result<Parsed, ProtocolError> {
    match buf.first() {
        None => Ok(Parsed::Incomplete),
        Some(b'*') => parse_multibulk(buf, state, limits),
        Some(_) => parse_inline(buf, state, limits),
    }
}

/// Lines longer than this could not be addressed by `u32` spans.
fn line_limit(limits: &Limits) -> usize {
    limits.max_inline_len.min(MAX_FRAME as usize - 2)
}

fn parse_multibulk(
    buf: &mut BytesMut,
    st: &mut ParseState,
    limits: &Limits,
) -> Result<Parsed, ProtocolError> {
    let lim = line_limit(limits);
    if st.args_left == 0 {
        let Some(cr) = st.find_line_end(buf, 0, b'\r', lim) else {
            if buf.len() > lim {
                return Err(ProtocolError::new(
                    "Protocol error: too big mbulk count string",
                ));
            }
            return Ok(Parsed::Incomplete);
        };
        // Redis needs the byte after '\r' to be there, but never checks it is '\n'.
        if cr + 2 > buf.len() {
            return Ok(Parsed::Incomplete);
        }
        let count = match parse_i64(&buf[1..cr]) {
            Some(n) if n <= 0 || n as u64 <= limits.max_multibulk_len as u64 => n,
            _ => {
                return Err(ProtocolError::new(
                    "Protocol error: invalid multibulk length",
                ))
            }
        };
        if count > UNAUTH_MAX_ARGS && !limits.authenticated {
            return Err(ProtocolError::new(
                "Protocol error: unauthenticated multibulk length",
            ));
        }
        if count <= 0 {
            buf.advance(cr + 2);
            st.reset();
            return Ok(Parsed::Empty);
        }
        st.args_left = count as usize;
        st.pos = cr + 2;
        st.spans.reserve(st.args_left.min(PREALLOC_ARGS));
    }

    while st.args_left > 0 {
        let len = match st.bulk_len {
            Some(len) => len,
            None => {
                let start = st.pos;
                let Some(cr) = st.find_line_end(buf, start, b'\r', lim) else {
                    if buf.len() - start > lim {
                        return Err(ProtocolError::new(
                            "Protocol error: too big bulk count string",
                        ));
                    }
                    return Ok(Parsed::Incomplete);
                };
                if cr + 2 > buf.len() {
                    return Ok(Parsed::Incomplete);
                }
                if buf[start] != b'$' {
                    return Err(expected_dollar(buf[start]));
                }
                let len = match parse_i64(&buf[start + 1..cr]) {
                    Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len as u64 => n as u64,
                    _ => return Err(ProtocolError::new("Protocol error: invalid bulk length")),
                };
                if len > UNAUTH_MAX_BULK && !limits.authenticated {
                    return Err(ProtocolError::new(
                        "Protocol error: unauthenticated bulk length",
                    ));
                }
                // Checked before anything is reserved for it (see `needed`).
                if cr as u64 + 2 + len + 2 > MAX_FRAME {
                    return Err(ProtocolError::new("Protocol error: invalid bulk length"));
                }
                st.pos = cr + 2;
                st.bulk_len = Some(len as usize);
                len as usize
            }
        };
        let end = st.pos + len;
        // Like Redis, the two bytes after the bulk are skipped without looking at them.
        if buf.len() < end + 2 {
            return Ok(Parsed::Incomplete);
        }
        st.spans.push((st.pos as u32, end as u32));
        st.pos = end + 2;
        st.bulk_len = None;
        st.args_left -= 1;
    }

    let frame = buf.split_to(st.pos).freeze();
    let spans = std::mem::take(&mut st.spans);
    st.reset();
    Ok(Parsed::Cmd(Cmd::from_spans(frame, spans)))
}

fn expected_dollar(got: u8) -> ProtocolError {
    // Redis turns CR and LF in an error message into spaces to keep the reply one line.
    let c = match got {
        b'\r' | b'\n' => ' ',
        b => char::from(b),
    };
    ProtocolError(format!("Protocol error: expected '$', got '{c}'"))
}

fn parse_inline(
    buf: &mut BytesMut,
    st: &mut ParseState,
    limits: &Limits,
) -> Result<Parsed, ProtocolError> {
    let lim = line_limit(limits);
    let Some(lf) = st.find_line_end(buf, 0, b'\n', lim) else {
        if buf.len() > lim {
            return Err(ProtocolError::new("Protocol error: too big inline request"));
        }
        return Ok(Parsed::Incomplete);
    };
    let line_len = if lf > 0 && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    let line = &buf[..line_len];
    let mut spans = SmallVec::new();

    // Without quotes every argument is a verbatim piece of the line: keep it zero-copy.
    if !line.iter().any(|&b| b == b'"' || b == b'\'') {
        split_plain(line, &mut spans);
        st.reset();
        if spans.is_empty() {
            buf.advance(lf + 1);
            return Ok(Parsed::Empty);
        }
        let frame = buf.split_to(lf + 1).freeze();
        return Ok(Parsed::Cmd(Cmd::from_spans(frame, spans)));
    }

    // Unescaping only shrinks, so the line's length is enough.
    let mut out = Vec::with_capacity(line_len);
    if split_quoted(line, &mut out, &mut spans).is_none() {
        return Err(ProtocolError::new(
            "Protocol error: unbalanced quotes in request",
        ));
    }
    buf.advance(lf + 1);
    st.reset();
    if spans.is_empty() {
        return Ok(Parsed::Empty);
    }
    Ok(Parsed::Cmd(Cmd::from_spans(Bytes::from(out), spans)))
}

/// C's `isspace` in the C locale: what `sdssplitargs` skips between arguments.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// What ends an unquoted argument in `sdssplitargs`: not `\v` and `\f`, which are skipped
/// between arguments but kept inside one.
fn ends_word(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0)
}

/// `sdssplitargs` for a line without quotes: arguments are slices of the line. A NUL ends
/// the line as it ends a C string (the line finder never lets one through; belt and braces).
fn split_plain(line: &[u8], spans: &mut SmallVec<[Span; 5]>) {
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i == line.len() || line[i] == 0 {
            return;
        }
        let start = i;
        while i < line.len() && !ends_word(line[i]) {
            i += 1;
        }
        spans.push((start as u32, i as u32));
    }
}

/// `sdssplitargs` with quoting: "double quotes" with `\n \r \t \b \a \xHH` and `\<any>`
/// escapes, 'single quotes' with only `\'`, a closing quote followed by a space or the end.
/// Unescaped arguments are appended to `out`, spans point into it. `None`: unbalanced.
pub(crate) fn split_quoted(
    line: &[u8],
    out: &mut Vec<u8>,
    spans: &mut SmallVec<[Span; 5]>,
) -> Option<()> {
    // The byte at `i`, 0 past the end: the C code reads the line as a NUL-terminated string.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(());
        }
        let start = out.len();
        let (mut in_dq, mut in_sq, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if in_dq {
                if c == b'\\' && at(p + 1) == b'x' && is_hex(at(p + 2)) && is_hex(at(p + 3)) {
                    out.push(hex(at(p + 2)) * 16 + hex(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    out.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    out.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    out.push(c);
                }
            } else {
                match c {
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c if ends_word(c) => done = true,
                    c => out.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        spans.push((start as u32, out.len() as u32));
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one `parse` call produced, comparable across runs.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Out {
        Cmd(Vec<Vec<u8>>),
        Empty,
        Err(String),
    }

    fn args(c: &Cmd) -> Vec<Vec<u8>> {
        c.args().map(<[u8]>::to_vec).collect()
    }

    fn cmd(a: &[&[u8]]) -> Out {
        Out::Cmd(a.iter().map(|x| x.to_vec()).collect())
    }

    fn err(msg: &str) -> Out {
        Out::Err(msg.to_owned())
    }

    /// Parses everything parseable in `buf`, checking that `Incomplete` leaves it untouched.
    fn drain(
        buf: &mut BytesMut,
        st: &mut ParseState,
        limits: &Limits,
        outs: &mut Vec<Out>,
    ) -> bool {
        loop {
            let before = buf.clone();
            match parse(buf, st, limits) {
                Ok(Parsed::Cmd(c)) => outs.push(Out::Cmd(args(&c))),
                Ok(Parsed::Empty) => outs.push(Out::Empty),
                Ok(Parsed::Incomplete) => {
                    assert_eq!(*buf, before, "Incomplete must leave the buffer as it was");
                    return true;
                }
                Err(e) => {
                    outs.push(Out::Err(e.0));
                    return false;
                }
            }
        }
    }

    /// Feeds `input` in the given pieces, parsing after each, until an error.
    fn feed_chunks<'a>(pieces: impl IntoIterator<Item = &'a [u8]>, limits: &Limits) -> Vec<Out> {
        let mut buf = BytesMut::new();
        let mut st = ParseState::new();
        let mut outs = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            if !drain(&mut buf, &mut st, limits, &mut outs) {
                break;
            }
        }
        outs
    }

    fn run(input: &[u8]) -> Vec<Out> {
        feed_chunks([input], &Limits::default())
    }

    fn run_with(input: &[u8], limits: &Limits) -> Vec<Out> {
        feed_chunks([input], limits)
    }

    fn unauth() -> Limits {
        Limits {
            authenticated: false,
            ..Limits::default()
        }
    }

    #[test]
    fn multibulk_and_pipelining() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
        assert_eq!(
            run(input),
            vec![
                cmd(&[b"SET", b"k", b"hello"]),
                cmd(&[b"PING"]),
                cmd(&[b"PING"]),
                cmd(&[b"GET", b""]),
            ]
        );
    }

    #[test]
    fn binary_bulks_are_verbatim() {
        let input = b"*2\r\n$5\r\na\r\n\0b\r\n$3\r\n*\x00\xff\r\n";
        assert_eq!(run(input), vec![cmd(&[b"a\r\n\0b", b"*\x00\xff"])]);
    }

    #[test]
    fn multibulk_is_zero_copy_and_consumes_exactly_one_request() {
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nrest"[..]);
        let base = buf.as_ptr() as usize;
        let mut st = ParseState::new();
        let Ok(Parsed::Cmd(c)) = parse(&mut buf, &mut st, &Limits::default()) else {
            panic!("expected a command");
        };
        assert_eq!(c.arg_bytes(1).as_ptr() as usize, base + 17);
        assert_eq!(c.frame_len(), 22);
        assert_eq!(&buf[..], b"rest");
        assert_eq!(st.needed(), None);
    }

    #[test]
    fn empty_requests_are_skipped() {
        assert_eq!(
            run(b"*0\r\n*-1\r\n*-10\r\n\r\n\n   \t\r\n*1\r\n$4\r\nPING\r\n"),
            vec![
                Out::Empty,
                Out::Empty,
                Out::Empty,
                Out::Empty,
                Out::Empty,
                Out::Empty,
                cmd(&[b"PING"])
            ]
        );
        // The smallest i64 is a valid (negative, skipped) count; one less is not a number.
        assert_eq!(run(b"*-9223372036854775808\r\n"), vec![Out::Empty]);
        assert_eq!(
            run(b"*-9223372036854775809\r\n"),
            vec![err("Protocol error: invalid multibulk length")]
        );
    }

    #[test]
    fn bytes_after_a_bulk_or_header_cr_are_not_checked() {
        // Redis skips two bytes whatever they are.
        assert_eq!(
            run(b"*1\r\n$3\r\nfooXY*1\r\n$4\r\nPING\r\n"),
            vec![cmd(&[b"foo"]), cmd(&[b"PING"])]
        );
        assert_eq!(run(b"*1\rX$3\rYfoo\r\n"), vec![cmd(&[b"foo"])]);
    }

    #[test]
    fn multibulk_errors() {
        let too_big = [&b"*"[..], &[b'1'; 70_000]].concat();
        assert_eq!(
            run(&too_big),
            vec![err("Protocol error: too big mbulk count string")]
        );
        for bad in [
            &b"*abc\r\n"[..],
            b"*\r\n",
            b"*01\r\n",
            b"*+1\r\n",
            b"*-\r\n",
            b"*1 \r\n",
            b"*3000000000\r\n",
            b"*2147483648\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(
                run(bad),
                vec![err("Protocol error: invalid multibulk length")],
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A NUL hides the CR from Redis' strchr: the header is still incomplete.
        assert_eq!(run(b"*1\0\r\n"), vec![]);
        // The largest count is accepted (and nothing is allocated for it up front).
        assert_eq!(run(b"*2147483647\r\n"), vec![]);
        assert_eq!(
            run(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            vec![err("Protocol error: expected '$', got 'f'")]
        );
        assert_eq!(
            run(b"*1\r\nfoo\r\n"),
            vec![err("Protocol error: expected '$', got 'f'")]
        );
        // CR and LF are shown as spaces, as Redis' error formatting does.
        assert_eq!(
            run(b"*1\r\n\r\n"),
            vec![err("Protocol error: expected '$', got ' '")]
        );
        assert_eq!(
            run(b"*1\r\n\n\r\n"),
            vec![err("Protocol error: expected '$', got ' '")]
        );
        assert_eq!(
            run(b"*1\r\n\xe9\r\n"),
            vec![err("Protocol error: expected '$', got '\u{e9}'")]
        );
        let too_big = [&b"*1\r\n$"[..], &[b'1'; 70_000]].concat();
        assert_eq!(
            run(&too_big),
            vec![err("Protocol error: too big bulk count string")]
        );
        for bad in [
            &b"*3\r\n$3\r\nSET\r\n$-10\r\n"[..],
            b"*3\r\n$3\r\nSET\r\n$2000000000\r\n",
            b"*3\r\n$3\r\nSET\r\n$blabla\r\n",
            b"*1\r\n$-1\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$-0\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$18446744073709551616\r\n",
        ] {
            assert_eq!(
                run(bad),
                vec![err("Protocol error: invalid bulk length")],
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // 512 MiB exactly is allowed.
        assert_eq!(run(b"*1\r\n$536870912\r\n"), vec![]);
    }

    #[test]
    fn unauthenticated_limits() {
        assert_eq!(
            run_with(b"*11\r\n", &unauth()),
            vec![err("Protocol error: unauthenticated multibulk length")]
        );
        assert_eq!(
            run_with(b"*100\r\n", &unauth()),
            vec![err("Protocol error: unauthenticated multibulk length")]
        );
        assert_eq!(
            run_with(b"*1\r\n$100000000\r\n", &unauth()),
            vec![err("Protocol error: unauthenticated bulk length")]
        );
        assert_eq!(
            run_with(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n", &unauth()),
            vec![err("Protocol error: unauthenticated bulk length")]
        );
        // Invalid wins over unauthenticated, as in Redis.
        assert_eq!(
            run_with(b"*1\r\n$600000000\r\n", &unauth()),
            vec![err("Protocol error: invalid bulk length")]
        );
        // At the limits, and for negative counts, nothing is refused.
        assert_eq!(run_with(b"*10\r\n$16384\r\n", &unauth()), vec![]);
        assert_eq!(run_with(b"*-1\r\n", &unauth()), vec![Out::Empty]);
        let args = b"*11\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n";
        assert_eq!(run(args).len(), 1);
    }

    #[test]
    fn giant_declared_lengths_are_refused_before_allocating() {
        let mut buf = BytesMut::from(&b"*1\r\n$9223372036854775807\r\n"[..]);
        let cap = buf.capacity();
        let mut st = ParseState::new();
        let master = Limits {
            max_bulk_len: usize::MAX,
            ..Limits::default()
        };
        let e = parse(&mut buf, &mut st, &master).unwrap_err();
        assert_eq!(e.0, "Protocol error: invalid bulk length");
        assert_eq!(st.needed(), None);
        assert_eq!(buf.capacity(), cap);

        // A huge count reserves a bounded number of spans, and no hint is given for it.
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        let mut st = ParseState::new();
        assert!(matches!(
            parse(&mut buf, &mut st, &Limits::default()),
            Ok(Parsed::Incomplete)
        ));
        assert!(st.spans.capacity() <= PREALLOC_ARGS);
        assert_eq!(st.needed(), None);
        assert_eq!(st.args_left, 2147483646);

        // A bulk under the limit gets an exact hint, to be reserved by the caller.
        let mut buf = BytesMut::from(&b"*1\r\n$1000\r\nab"[..]);
        let mut st = ParseState::new();
        assert!(matches!(
            parse(&mut buf, &mut st, &Limits::default()),
            Ok(Parsed::Incomplete)
        ));
        assert_eq!(st.needed(), Some(11 + 1000 + 2));
    }

    #[test]
    fn inline_requests() {
        assert_eq!(run(b"PING\r\n"), vec![cmd(&[b"PING"])]);
        assert_eq!(run(b"PING\n"), vec![cmd(&[b"PING"])]);
        assert_eq!(run(b"set  k\tv \r\n"), vec![cmd(&[b"set", b"k", b"v"])]);
        // A stray CR inside the line separates arguments; \v and \f only between them.
        assert_eq!(run(b"a\rb\r\r\n"), vec![cmd(&[b"a", b"b"])]);
        assert_eq!(run(b"\x0ba\x0bb \x0c\r\n"), vec![cmd(&[b"a\x0bb"])]);
        // '*' only means multibulk as the first byte; '$' never does.
        assert_eq!(run(b" *1\r\n$3\r\n"), vec![cmd(&[b"*1"]), cmd(&[b"$3"])]);
        assert_eq!(run(b"get \xff\xfe\r\n"), vec![cmd(&[b"get", b"\xff\xfe"])]);
    }

    #[test]
    fn plain_inline_is_zero_copy() {
        let mut buf = BytesMut::from(&b"GET key\r\nnext"[..]);
        let base = buf.as_ptr() as usize;
        let Ok(Parsed::Cmd(c)) = parse(&mut buf, &mut ParseState::new(), &Limits::default()) else {
            panic!("expected a command");
        };
        assert_eq!(c.arg_bytes(1).as_ptr() as usize, base + 4);
        assert_eq!(&buf[..], b"next");
    }

    fn split(line: &str) -> Result<Vec<Vec<u8>>, ()> {
        let mut out = Vec::new();
        let mut spans = SmallVec::new();
        split_quoted(line.as_bytes(), &mut out, &mut spans).ok_or(())?;
        Ok(spans
            .iter()
            .map(|&(s, e)| out[s as usize..e as usize].to_vec())
            .collect())
    }

    fn ok(a: &[&str]) -> Result<Vec<Vec<u8>>, ()> {
        Ok(a.iter().map(|s| s.as_bytes().to_vec()).collect())
    }

    #[test]
    fn sdssplitargs_rules() {
        assert_eq!(
            split(r#"SET "foo bar" 'baz qux'"#),
            ok(&["SET", "foo bar", "baz qux"])
        );
        assert_eq!(split(r#""\x41\x42\x4a\x6b""#), ok(&["ABJk"]));
        // \x needs two hex digits, otherwise it is the generic "\c is c".
        assert_eq!(split(r#""\x4" "\xzz""#), ok(&["x4", "xzz"]));
        assert_eq!(
            split(r#""a\nb\rc\td\be\af""#),
            ok(&["a\nb\rc\td\x08e\x07f"])
        );
        assert_eq!(split(r#""\\" "\"" "\q" "\'""#), ok(&["\\", "\"", "q", "'"]));
        assert_eq!(
            split(r#"'it\'s' 'a\nb' 'x"y' "x'y""#),
            ok(&["it's", "a\\nb", "x\"y", "x'y"])
        );
        assert_eq!(split(r#""" '' """#), ok(&["", "", ""]));
        // A quote may open inside a word; after it closes, the word must end.
        assert_eq!(split(r#"foo"bar baz" x"#), ok(&["foobar baz", "x"]));
        assert_eq!(split("\"a\"\t\"b\"\x0b'c'"), ok(&["a", "b", "c"]));
        assert_eq!(split("  \t "), ok(&[]));
        assert_eq!(split(r#"back\slash"#), ok(&["back\\slash"]));
        // Errors: unterminated, or a closing quote glued to more text.
        for bad in [
            r#""foo"#,
            r#"'foo"#,
            r#""foo"bar"#,
            r#"'foo'bar"#,
            r#"set """test-key""" test-value"#,
            r#""trailing\"#,
            r#""\""#,
        ] {
            assert_eq!(split(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn inline_quoting_through_parse() {
        assert_eq!(
            run(b"set \"a b\" '\\'c' \"\\x00\\xff\"\r\nping\r\n"),
            vec![cmd(&[b"set", b"a b", b"'c", b"\x00\xff"]), cmd(&[b"ping"])]
        );
        assert_eq!(
            run(b"set \"\"\"test-key\"\"\" test-value\r\nping\r\n"),
            vec![err("Protocol error: unbalanced quotes in request")]
        );
        assert_eq!(
            run(b"'\r\n"),
            vec![err("Protocol error: unbalanced quotes in request")]
        );
    }

    #[test]
    fn inline_too_big() {
        let long = vec![b'a'; 64 * 1024 + 1];
        assert_eq!(
            run(&long),
            vec![err("Protocol error: too big inline request")]
        );
        // Exactly at the limit it still waits, and the line is accepted when it ends.
        let mut line = vec![b'a'; 64 * 1024];
        assert_eq!(run(&line), vec![]);
        line.push(b'\n');
        assert_eq!(run(&line).len(), 1);
        // The limit holds even when the end of line arrives in the same read.
        let mut line = vec![b'a'; 64 * 1024 + 1];
        line.push(b'\n');
        assert_eq!(
            run(&line),
            vec![err("Protocol error: too big inline request")]
        );
    }

    /// Redis' "Protocol desync regression test": a NUL hides the line end, so the
    /// connection is closed once 64 KiB have piled up, whatever follows.
    #[test]
    fn nul_byte_desync() {
        for (seq, msg) in [
            (&b"\x00"[..], "Protocol error: too big inline request"),
            (b"*\x00", "Protocol error: too big mbulk count string"),
            (b"$\x00", "Protocol error: too big inline request"),
            (b"*1\r\n$\x00", "Protocol error: too big bulk count string"),
        ] {
            let mut payload = vec![b'A'; 1024];
            payload.push(b'\n');
            let pieces = std::iter::once(seq).chain(std::iter::repeat_n(&payload[..], 70));
            assert_eq!(feed_chunks(pieces, &Limits::default()), vec![err(msg)]);
        }
    }

    fn mixed_stream() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\nk\r\n1\r\n$6\r\n\0\xff\r\n\r\n\r\n");
        v.extend_from_slice(b"\r\n");
        v.extend_from_slice(b"PING\n");
        v.extend_from_slice(b"*0\r\n");
        v.extend_from_slice(b"set \"a\\x41 b\" 'c d'\r\n");
        v.extend_from_slice(b"*1\r\n$4\r\nPINGxy");
        v.extend_from_slice(
            b"*6\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$0\r\n\r\n",
        );
        v.extend_from_slice(b"  get  x  \r\n");
        v
    }

    fn mixed_expected() -> Vec<Out> {
        vec![
            cmd(&[b"SET", b"k\r\n1", b"\0\xff\r\n\r\n"]),
            Out::Empty,
            cmd(&[b"PING"]),
            Out::Empty,
            cmd(&[b"set", b"aA b", b"c d"]),
            cmd(&[b"PING"]),
            cmd(&[b"MSET", b"a", b"1", b"b", b"2", b""]),
            cmd(&[b"get", b"x"]),
        ]
    }

    #[test]
    fn every_split_point_gives_the_same_commands() {
        let input = mixed_stream();
        let limits = Limits::default();
        assert_eq!(run(&input), mixed_expected());
        for k in 0..=input.len() {
            let (a, b) = input.split_at(k);
            assert_eq!(
                feed_chunks([a, b], &limits),
                mixed_expected(),
                "split at {k}"
            );
        }
        for k in 0..=input.len() {
            for j in k..=input.len() {
                let pieces = [&input[..k], &input[k..j], &input[j..]];
                assert_eq!(
                    feed_chunks(pieces, &limits),
                    mixed_expected(),
                    "split at {k}, {j}"
                );
            }
        }
        assert_eq!(feed_chunks(input.chunks(1), &limits), mixed_expected());
    }

    #[test]
    fn hundred_megabyte_bulk_in_64k_reads_is_linear_and_copied_once() {
        const LEN: usize = 100 * 1024 * 1024;
        const CHUNK: usize = 64 * 1024;
        let header = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${LEN}\r\n");
        let limits = Limits::default();
        let mut st = ParseState::new();
        let mut buf = BytesMut::new();
        buf.extend_from_slice(header.as_bytes());
        assert!(matches!(
            parse(&mut buf, &mut st, &limits),
            Ok(Parsed::Incomplete)
        ));
        let needed = st.needed().expect("the bulk length is known");
        assert_eq!(needed, header.len() + LEN + 2);
        buf.reserve(needed - buf.len());
        let base = buf.as_ptr();
        let examined_after_header = st.examined;

        let chunk = vec![b'v'; CHUNK];
        let mut calls = 0;
        for _ in 0..LEN / CHUNK {
            buf.extend_from_slice(&chunk);
            calls += 1;
            assert!(matches!(
                parse(&mut buf, &mut st, &limits),
                Ok(Parsed::Incomplete)
            ));
            assert_eq!(buf.as_ptr(), base, "the reserved buffer never moves");
        }
        buf.extend_from_slice(b"\r\n");
        let Ok(Parsed::Cmd(c)) = parse(&mut buf, &mut st, &limits) else {
            panic!("expected the SET");
        };
        assert_eq!(calls, 1600);
        // Not one byte of the bulk was looked at by the 1600 calls.
        assert_eq!(st.examined, examined_after_header);
        assert!(examined_after_header < header.len());
        assert_eq!(c.arg(2).len(), LEN);
        assert_eq!(c.arg_bytes(2).as_ptr(), base.wrapping_add(header.len()));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_long_header_line_arriving_byte_by_byte_is_scanned_once() {
        let mut st = ParseState::new();
        let mut buf = BytesMut::new();
        let limits = Limits::default();
        for _ in 0..60_000 {
            buf.extend_from_slice(b"a");
            assert!(matches!(
                parse(&mut buf, &mut st, &limits),
                Ok(Parsed::Incomplete)
            ));
        }
        assert_eq!(st.examined, 60_000);
        buf.extend_from_slice(b"\n");
        assert!(matches!(
            parse(&mut buf, &mut st, &limits),
            Ok(Parsed::Cmd(_))
        ));
    }

    #[test]
    fn string2ll_matches_redis() {
        for (s, v) in [
            ("0", Some(0)),
            ("1", Some(1)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("18446744073709551615", None),
            ("18446744073709551616", None),
            ("", None),
            ("-", None),
            ("-0", None),
            ("00", None),
            ("01", None),
            ("+1", None),
            (" 1", None),
            ("1 ", None),
            ("1a", None),
            ("000000000000000000001", None),
        ] {
            assert_eq!(parse_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Bytes that steer the parser into its interesting states.
    const ALPHABET: &[u8] = b"*$\r\n\r\n0123456789--  \t\"'\\x\0\x0babcPING";

    fn garbage(rng: &mut XorShift) -> Vec<u8> {
        let len = rng.below(120);
        (0..len)
            .map(|_| {
                if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    ALPHABET[rng.below(ALPHABET.len())]
                }
            })
            .collect()
    }

    fn mutate(rng: &mut XorShift, mut v: Vec<u8>) -> Vec<u8> {
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(v.len() + 1);
            match rng.below(4) {
                0 if i < v.len() => v[i] = ALPHABET[rng.below(ALPHABET.len())],
                1 if i < v.len() => {
                    v.remove(i);
                }
                2 => v.insert(i, ALPHABET[rng.below(ALPHABET.len())]),
                _ if i < v.len() => v[i] = rng.next() as u8,
                _ => {}
            }
        }
        v
    }

    /// Small limits so that the "too big" and unauthenticated paths are reached by short
    /// inputs too.
    fn random_limits(rng: &mut XorShift) -> Limits {
        if rng.below(2) == 0 {
            Limits {
                authenticated: rng.below(2) == 0,
                ..Limits::default()
            }
        } else {
            Limits {
                max_bulk_len: rng.below(40),
                max_multibulk_len: rng.below(8),
                max_inline_len: 1 + rng.below(30),
                authenticated: rng.below(2) == 0,
            }
        }
    }

    /// Whatever the input: no panic, and the outcome does not depend on how it was split.
    fn check_split_independence(rng: &mut XorShift, input: &[u8], limits: &Limits) {
        let whole = run_with(input, limits);
        assert_eq!(feed_chunks(input.chunks(1), limits), whole, "{input:?}");
        let mut pieces = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let (a, b) = rest.split_at(1 + rng.below(rest.len()));
            pieces.push(a);
            rest = b;
        }
        assert_eq!(feed_chunks(pieces, limits), whole, "{input:?}");
    }

    #[test]
    fn fuzz_random_garbage() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let input = garbage(&mut rng);
            let limits = random_limits(&mut rng);
            check_split_independence(&mut rng, &input, &limits);
        }
    }

    #[test]
    fn fuzz_mutated_frames() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let base = mixed_stream();
        for _ in 0..5_000 {
            let input = mutate(&mut rng, base.clone());
            let limits = random_limits(&mut rng);
            check_split_independence(&mut rng, &input, &limits);
        }
    }
}
