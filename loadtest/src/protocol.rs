//! RESP encoding of requests and allocation-free reply framing.
//!
//! The load generator never needs reply *values*: only where each reply ends,
//! whether it is an error (and its first word, for the error table), a null
//! (a GET miss) or an out-of-band RESP3 push. The parser therefore walks
//! element headers and skips bulk payloads by length, and it is resumable so a
//! reply split across reads is never rescanned from the start.

/// Appends `*<n>\r\n`.
pub fn put_array_header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    put_decimal(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

/// Appends one bulk string argument.
pub fn put_bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    put_decimal(out, bytes.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Appends a bulk string `<prefix><n>` without formatting through a `String`.
pub fn put_bulk_prefixed_number(out: &mut Vec<u8>, prefix: &[u8], n: u64) {
    let mut digits = [0u8; 20];
    let d = format_decimal(n, &mut digits);
    out.push(b'$');
    put_decimal(out, (prefix.len() + d.len()) as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(prefix);
    out.extend_from_slice(d);
    out.extend_from_slice(b"\r\n");
}

/// Encodes a whole command (used off the hot path: handshakes, tests).
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    put_array_header(out, args.len());
    for a in args {
        put_bulk(out, a);
    }
}

pub fn put_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(format_decimal(n, &mut digits));
}

fn format_decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// What kind of top-level reply was framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    Value,
    /// `$-1`, `*-1` or RESP3 `_`: a miss for GET.
    Null,
    /// `-ERR ...` or RESP3 `!<len>` blob error; the range is the error's first word,
    /// relative to the start of the reply.
    Error {
        start: usize,
        end: usize,
    },
    /// RESP3 out-of-band push (`>`): not an answer to any request.
    Push,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    pub len: usize,
    pub kind: ReplyKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    Complete(Reply),
    Incomplete,
    Invalid(&'static str),
}

/// Resumable framing state for one connection.
#[derive(Debug, Default, Clone)]
pub struct ReplyParser {
    /// Bytes of the current reply already framed (element headers + payloads).
    off: usize,
    /// Elements still to frame; 0 means "between replies".
    pending: u64,
    kind: Option<ReplyKind>,
}

impl ReplyParser {
    /// Frames the reply at the start of `buf`. On `Incomplete`, call again with the
    /// same reply start once more bytes have arrived (the buffer may have moved).
    pub fn parse(&mut self, buf: &[u8]) -> Parse {
        if self.pending == 0 {
            self.off = 0;
            self.pending = 1;
            self.kind = None;
        }
        loop {
            let off = self.off;
            let Some(&tag) = buf.get(off) else {
                return Parse::Incomplete;
            };
            let Some(line_end) = find_crlf(buf, off + 1) else {
                return Parse::Incomplete;
            };
            let line = &buf[off + 1..line_end];
            let mut next = line_end + 2;
            let top = self.kind.is_none();
            // Each element consumes one pending slot; aggregates add their children.
            let mut children: u64 = 0;
            let mut consumes_slot = true;
            let mut kind = ReplyKind::Value;
            match tag {
                b'+' | b':' | b',' | b'#' | b'(' => {}
                b'_' => kind = ReplyKind::Null,
                b'-' => {
                    let word = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
                    kind = ReplyKind::Error {
                        start: off + 1,
                        end: off + 1 + word,
                    };
                }
                b'$' | b'=' | b'!' => match parse_len(line) {
                    Some(-1) if tag == b'$' => kind = ReplyKind::Null,
                    Some(n) if n >= 0 => {
                        let n = n as usize;
                        let end = next + n + 2;
                        if buf.len() < end {
                            return Parse::Incomplete;
                        }
                        if &buf[end - 2..end] != b"\r\n" {
                            return Parse::Invalid("bulk string not terminated by CRLF");
                        }
                        if tag == b'!' {
                            let body = &buf[next..next + n];
                            let word = body.iter().position(|&b| b == b' ').unwrap_or(n);
                            kind = ReplyKind::Error {
                                start: next,
                                end: next + word,
                            };
                        }
                        next = end;
                    }
                    _ if line == b"?" => {
                        return Parse::Invalid("streamed RESP3 strings unsupported")
                    }
                    _ => return Parse::Invalid("bad bulk length"),
                },
                b'*' | b'~' | b'>' | b'%' | b'|' => match parse_len(line) {
                    Some(-1) if tag == b'*' => kind = ReplyKind::Null,
                    Some(n) if n >= 0 => {
                        let n = n as u64;
                        children = if tag == b'%' || tag == b'|' { 2 * n } else { n };
                        if tag == b'>' {
                            kind = ReplyKind::Push;
                        }
                        // An attribute decorates the element that follows it.
                        consumes_slot = tag != b'|';
                    }
                    _ if line == b"?" => {
                        return Parse::Invalid("streamed RESP3 aggregates unsupported")
                    }
                    _ => return Parse::Invalid("bad aggregate length"),
                },
                _ => return Parse::Invalid("unknown RESP type byte"),
            }
            if top {
                // A top-level attribute (no Redis command sends one today) is classed
                // as a plain value rather than tracking which child is the real reply.
                self.kind = Some(if consumes_slot {
                    kind
                } else {
                    ReplyKind::Value
                });
            }
            self.off = next;
            self.pending = self.pending - u64::from(consumes_slot) + children;
            if self.pending == 0 {
                return Parse::Complete(Reply {
                    len: next,
                    kind: self.kind.unwrap_or(ReplyKind::Value),
                });
            }
        }
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let mut i = rest.iter().position(|&b| b == b'\r')?;
    loop {
        match rest.get(i + 1) {
            None => return None,
            Some(b'\n') => return Some(from + i),
            Some(_) => i += 1 + rest[i + 1..].iter().position(|&b| b == b'\r')?,
        }
    }
}

fn parse_len(line: &[u8]) -> Option<i64> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Parse {
        ReplyParser::default().parse(input)
    }

    fn complete(input: &[u8]) -> Reply {
        match parse_all(input) {
            Parse::Complete(r) => r,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
        }
    }

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"SET", b"k", b"hello"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n");
        out.clear();
        put_bulk_prefixed_number(&mut out, b"key:", 1234567);
        assert_eq!(out, b"$11\r\nkey:1234567\r\n");
        out.clear();
        put_bulk_prefixed_number(&mut out, b"", 0);
        assert_eq!(out, b"$1\r\n0\r\n");
        out.clear();
        put_decimal(&mut out, u64::MAX);
        assert_eq!(out, u64::MAX.to_string().as_bytes());
        out.clear();
        encode_command(&mut out, &[b"PING", b""]);
        assert_eq!(out, b"*2\r\n$4\r\nPING\r\n$0\r\n\r\n");
    }

    #[test]
    fn resp2_simple_types() {
        assert_eq!(
            complete(b"+OK\r\n"),
            Reply {
                len: 5,
                kind: ReplyKind::Value
            }
        );
        assert_eq!(complete(b":42\r\n").len, 5);
        assert_eq!(complete(b"$5\r\nhello\r\n").len, 11);
        assert_eq!(complete(b"$0\r\n\r\n").len, 6);
        assert_eq!(complete(b"$-1\r\n").kind, ReplyKind::Null);
        assert_eq!(complete(b"*-1\r\n").kind, ReplyKind::Null);
        assert_eq!(complete(b"*0\r\n").len, 4);
    }

    #[test]
    fn bulk_payload_may_contain_crlf() {
        let r = complete(b"$4\r\n\r\n\r\n\r\n+next\r\n");
        assert_eq!(r.len, 10);
    }

    #[test]
    fn errors_report_first_word() {
        let input = b"-WRONGTYPE Operation against a key\r\n";
        let r = complete(input);
        assert_eq!(r.len, input.len());
        let ReplyKind::Error { start, end } = r.kind else {
            panic!("not an error: {r:?}")
        };
        assert_eq!(&input[start..end], b"WRONGTYPE");

        let input = b"-ERR\r\n";
        let ReplyKind::Error { start, end } = complete(input).kind else {
            panic!()
        };
        assert_eq!(&input[start..end], b"ERR");

        // RESP3 blob error.
        let input = b"!21\r\nSYNTAX invalid syntax\r\n";
        let r = complete(input);
        assert_eq!(r.len, input.len());
        let ReplyKind::Error { start, end } = r.kind else {
            panic!()
        };
        assert_eq!(&input[start..end], b"SYNTAX");
    }

    #[test]
    fn nested_arrays_and_errors_inside_are_values() {
        let input = b"*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n-ERR inner\r\n$-1\r\n";
        let r = complete(input);
        assert_eq!(
            r,
            Reply {
                len: input.len(),
                kind: ReplyKind::Value
            }
        );
    }

    #[test]
    fn resp3_types() {
        assert_eq!(complete(b"_\r\n").kind, ReplyKind::Null);
        assert_eq!(complete(b"#t\r\n").len, 4);
        assert_eq!(complete(b",3.14\r\n").len, 7);
        assert_eq!(
            complete(b"(3492890328409238509324850943850943825024385\r\n").kind,
            ReplyKind::Value
        );
        assert_eq!(complete(b"=15\r\ntxt:Some string\r\n").len, 22);
        let map = b"%2\r\n+server\r\n$5\r\nredis\r\n+proto\r\n:3\r\n";
        assert_eq!(complete(map).len, map.len());
        let set = b"~2\r\n+a\r\n+b\r\n";
        assert_eq!(complete(set).len, set.len());
        // An attribute is framed together with the value it decorates.
        let attr = b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:7\r\n";
        let r = complete(attr);
        assert_eq!(r.len, attr.len());
        let push = b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n";
        assert_eq!(
            complete(push),
            Reply {
                len: push.len(),
                kind: ReplyKind::Push
            }
        );
    }

    #[test]
    fn hello3_reply() {
        let hello = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
        assert_eq!(complete(hello).len, hello.len());
    }

    #[test]
    fn only_first_reply_is_framed() {
        let r = complete(b"+OK\r\n$3\r\nbar\r\n");
        assert_eq!(r.len, 5);
    }

    #[test]
    fn every_split_point_is_incomplete_then_resumes() {
        let inputs: &[&[u8]] = &[
            b"+OK\r\n",
            b"$5\r\nhello\r\n",
            b"-ERR unknown command\r\n",
            b"*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n-ERR x\r\n$-1\r\n",
            b"%2\r\n+a\r\n~1\r\n#f\r\n+b\r\n!3\r\nERR\r\n",
            b"|1\r\n+k\r\n:1\r\n$2\r\nhi\r\n",
        ];
        for input in inputs {
            let want = complete(input);
            for split in 0..input.len() {
                let mut p = ReplyParser::default();
                assert_eq!(
                    p.parse(&input[..split]),
                    Parse::Incomplete,
                    "split {split} of {input:?}"
                );
                // Resume byte by byte, as a worst-case trickle of reads.
                let mut got = None;
                for end in split + 1..=input.len() {
                    match p.parse(&input[..end]) {
                        Parse::Incomplete => assert!(end < input.len()),
                        Parse::Complete(r) => {
                            got = Some(r);
                            assert_eq!(end, input.len());
                        }
                        Parse::Invalid(e) => panic!("{e}"),
                    }
                }
                assert_eq!(got, Some(want));
            }
        }
    }

    #[test]
    fn cr_without_lf_waits() {
        assert_eq!(parse_all(b"+O\rK"), Parse::Incomplete);
        assert_eq!(complete(b"+O\rK\r\n").len, 6);
    }

    #[test]
    fn invalid_input() {
        assert!(matches!(parse_all(b"?what\r\n"), Parse::Invalid(_)));
        assert!(matches!(parse_all(b"$abc\r\n"), Parse::Invalid(_)));
        assert!(matches!(parse_all(b"$-2\r\n"), Parse::Invalid(_)));
        assert!(matches!(parse_all(b"$3\r\nfooXX"), Parse::Invalid(_)));
        assert!(matches!(
            parse_all(b"$?\r\n;4\r\nHell\r\n;0\r\n"),
            Parse::Invalid(_)
        ));
    }
}
