//! The RDB payload of a full synchronization, as Redis' `readSyncBulkPayload` frames it:
//! a header line, then either `$<len>` bytes, or (a diskless master, which does not know
//! the size in advance) `$EOF:<40-byte mark>` and the bytes up to and including the mark.

use super::REPLID_LEN;

/// How the payload's end is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `$<len>`: exactly this many bytes.
    Sized(u64),
    /// `$EOF:<mark>`: the payload ends with these 40 bytes (not part of the RDB).
    Eof([u8; REPLID_LEN]),
}

/// What a line before the payload says.
#[derive(Debug, PartialEq, Eq)]
pub enum Header {
    /// An empty line: the master's keep-alive while it prepares the RDB.
    KeepAlive,
    /// The payload's framing: the bytes follow.
    Payload(Framing),
}

/// Why the header was refused, in Redis' log wording.
#[derive(Debug, PartialEq, Eq)]
pub struct HeaderError(pub String);

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a line read while waiting for the payload (without its line end).
pub fn parse_header(line: &[u8]) -> Result<Header, HeaderError> {
    let shown = || String::from_utf8_lossy(line).into_owned();
    match line.first() {
        None => Ok(Header::KeepAlive),
        Some(b'-') => Err(HeaderError(format!(
            "MASTER aborted replication with an error: {}",
            String::from_utf8_lossy(&line[1..])
        ))),
        Some(b'$') => {
            let rest = &line[1..];
            if let Some(mark) = rest.strip_prefix(b"EOF:") {
                if mark.len() >= REPLID_LEN {
                    let mut m = [0u8; REPLID_LEN];
                    m.copy_from_slice(&mark[..REPLID_LEN]);
                    return Ok(Header::Payload(Framing::Eof(m)));
                }
            }
            let len = std::str::from_utf8(rest)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    HeaderError(format!("Bad bulk length from MASTER: '{}'", shown()))
                })?;
            Ok(Header::Payload(Framing::Sized(len)))
        }
        Some(_) => Err(HeaderError(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you \
             sure the host and port are right?",
            shown()
        ))),
    }
}

/// Progress through the payload: which received bytes belong to it and when it ends.
#[derive(Debug)]
pub struct Payload {
    framing: Framing,
    read: u64,
    /// The last bytes received (EOF framing), to compare with the mark.
    tail: [u8; REPLID_LEN],
}

/// What [`Payload::feed`] found in a chunk.
#[derive(Debug, PartialEq, Eq)]
pub struct Fed {
    /// Bytes from the start of the chunk that belong to the payload (the rest is the
    /// command stream that follows it).
    pub used: usize,
    /// The payload is complete.
    pub done: bool,
}

impl Payload {
    /// Nothing received yet of a payload framed so.
    pub fn new(framing: Framing) -> Payload {
        Payload {
            framing,
            read: 0,
            tail: [0; REPLID_LEN],
        }
    }

    /// Takes the next bytes from the master. With EOF framing, every byte read is taken
    /// and the end is recognised when the bytes received so far end with the mark (checked
    /// at the end of each chunk, as Redis checks after each read).
    pub fn feed(&mut self, chunk: &[u8]) -> Fed {
        match self.framing {
            Framing::Sized(len) => {
                let used = (len - self.read).min(chunk.len() as u64) as usize;
                self.read += used as u64;
                Fed {
                    used,
                    done: self.read == len,
                }
            }
            Framing::Eof(mark) => {
                self.read += chunk.len() as u64;
                if chunk.len() >= REPLID_LEN {
                    self.tail
                        .copy_from_slice(&chunk[chunk.len() - REPLID_LEN..]);
                } else {
                    self.tail.rotate_left(chunk.len());
                    self.tail[REPLID_LEN - chunk.len()..].copy_from_slice(chunk);
                }
                Fed {
                    used: chunk.len(),
                    done: self.read >= REPLID_LEN as u64 && self.tail == mark,
                }
            }
        }
    }

    /// Whether the payload is complete before any byte arrives (a zero-length payload).
    pub fn is_empty(&self) -> bool {
        self.framing == Framing::Sized(0)
    }

    /// Bytes of the payload received so far (the mark included).
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The announced size (INFO `master_sync_total_bytes`): 0 with EOF framing, as Redis.
    pub fn total(&self) -> u64 {
        match self.framing {
            Framing::Sized(len) => len,
            Framing::Eof(_) => 0,
        }
    }

    /// Bytes at the end of what was received that are not RDB data (the EOF mark).
    pub fn trailer_len(&self) -> u64 {
        match self.framing {
            Framing::Sized(_) => 0,
            Framing::Eof(_) => REPLID_LEN as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: &[u8; 40] = b"0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn headers() {
        assert_eq!(parse_header(b""), Ok(Header::KeepAlive));
        assert_eq!(
            parse_header(b"$1234"),
            Ok(Header::Payload(Framing::Sized(1234)))
        );
        let mut eof = b"$EOF:".to_vec();
        eof.extend_from_slice(MARK);
        assert_eq!(parse_header(&eof), Ok(Header::Payload(Framing::Eof(*MARK))));
        assert!(parse_header(b"-ERR no").unwrap_err().0.contains("aborted"));
        assert!(parse_header(b"+OK").unwrap_err().0.contains("not '$'"));
        assert!(parse_header(b"$-1").is_err());
        assert!(parse_header(b"$abc").is_err());
        assert!(parse_header(b"$99999999999999999999999").is_err());
        // A short mark is no mark: then it is not a number either.
        assert!(parse_header(b"$EOF:abc").is_err());
    }

    #[test]
    fn sized_payload_stops_at_its_length() {
        let mut p = Payload::new(Framing::Sized(10));
        assert_eq!(
            p.feed(b"0123"),
            Fed {
                used: 4,
                done: false
            }
        );
        assert_eq!(
            p.feed(b"456789*1\r\n"),
            Fed {
                used: 6,
                done: true
            }
        );
        assert_eq!(p.read(), 10);
        assert_eq!(p.total(), 10);
        assert_eq!(p.trailer_len(), 0);
        assert!(Payload::new(Framing::Sized(0)).is_empty());
    }

    #[test]
    fn eof_payload_ends_with_the_mark_in_any_split() {
        let mut data = b"REDIS0010 some rdb bytes".to_vec();
        data.extend_from_slice(MARK);
        for split in 0..data.len() {
            for second in split..data.len() {
                let mut p = Payload::new(Framing::Eof(*MARK));
                let a = p.feed(&data[..split]);
                let b = p.feed(&data[split..second]);
                let c = p.feed(&data[second..]);
                assert!(!a.done || split == data.len());
                assert!(!b.done || second == data.len());
                assert!(c.done, "split at {split}/{second}");
                assert_eq!(p.read(), data.len() as u64);
            }
        }
        let mut p = Payload::new(Framing::Eof(*MARK));
        assert_eq!(p.total(), 0);
        assert_eq!(p.trailer_len(), 40);
        assert!(!p.feed(b"0123456789abcdef").done);
        assert!(!p.is_empty());
    }
}
