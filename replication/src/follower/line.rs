//! Reply lines from the master before its command stream starts (the handshake's replies,
//! the PSYNC reply, the RDB payload's header): text up to `\n`, a trailing `\r` dropped, as
//! Redis' `connSyncReadLine` reads them. An empty line is the master's keep-alive.

/// The longest line accepted: a master's replies are short; more is a wrong peer.
pub const MAX_LINE: usize = 64 * 1024;

/// The reply line was longer than [`MAX_LINE`].
#[derive(Debug, PartialEq, Eq)]
pub struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reply line from the master longer than {MAX_LINE} bytes")
    }
}

/// The first line of `buf`, without its `\r\n` (or `\n`), and the bytes it took; `None`
/// while no whole line has arrived.
pub fn first_line(buf: &[u8]) -> Result<Option<(&[u8], usize)>, LineTooLong> {
    match buf.iter().position(|&c| c == b'\n') {
        Some(i) if i > MAX_LINE => Err(LineTooLong),
        Some(i) => {
            let line = &buf[..i];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok(Some((line, i + 1)))
        }
        None if buf.len() > MAX_LINE => Err(LineTooLong),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_newline_with_or_without_cr() {
        assert_eq!(first_line(b"+PONG\r\nrest"), Ok(Some((&b"+PONG"[..], 7))));
        assert_eq!(first_line(b"\n$5\r\n"), Ok(Some((&b""[..], 1))));
        assert_eq!(first_line(b"+OK\n"), Ok(Some((&b"+OK"[..], 4))));
        assert_eq!(first_line(b"+PON"), Ok(None));
        assert_eq!(first_line(b""), Ok(None));
    }

    #[test]
    fn endless_lines_are_refused() {
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(first_line(&long), Err(LineTooLong));
        let mut with_end = long.clone();
        with_end.push(b'\n');
        assert_eq!(first_line(&with_end), Err(LineTooLong));
        let mut fits = vec![b'a'; MAX_LINE];
        fits.push(b'\n');
        assert!(first_line(&fits).unwrap().is_some());
    }
}
