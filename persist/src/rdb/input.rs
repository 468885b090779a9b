//! The reading end of an RDB file: exact reads from any `Read` (never past what the file
//! needs, so a socket may carry more after it), the running CRC64 of the bytes read, and
//! the offset errors name. Lengths read from the file never size an allocation by
//! themselves: strings grow as their bytes actually arrive.

use super::read::RdbError;
use crate::crc64::crc64;
use crate::rdb_string::{lzf_decompress, Len};
use std::io::{ErrorKind, Read};

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Bytes allocated ahead of a string's arrival at most.
const PREALLOC_MAX: usize = 1 << 20;

pub(crate) type Result<T> = std::result::Result<T, RdbError>;

pub(crate) struct Input<R> {
    inner: R,
    crc: u64,
    pos: u64,
}

impl<R: Read> Input<R> {
    pub fn new(inner: R) -> Input<R> {
        Input {
            inner,
            crc: 0,
            pos: 0,
        }
    }

    /// The CRC64 of every byte read so far.
    pub fn crc(&self) -> u64 {
        self.crc
    }

    /// An error about the data at the current offset.
    pub fn corrupt(&self, what: impl std::fmt::Display) -> RdbError {
        RdbError(format!("{what} (at byte {})", self.pos))
    }

    fn io_error(&self, e: std::io::Error) -> RdbError {
        if e.kind() == ErrorKind::UnexpectedEof {
            self.corrupt("unexpected end of the file")
        } else {
            self.corrupt(format_args!("read error: {e}"))
        }
    }

    /// Fills `buf` from the input.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        if let Err(e) = self.inner.read_exact(buf) {
            return Err(self.io_error(e));
        }
        self.crc = crc64(self.crc, buf);
        self.pos += buf.len() as u64;
        Ok(())
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.fill(&mut b)?;
        Ok(b)
    }

    /// A millisecond time or other 8-byte little-endian integer.
    pub fn i64_le(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// `n` bytes. The buffer grows as they arrive (never more than doubling what arrived),
    /// and ends exactly `n` bytes large.
    pub fn bytes(&mut self, n: u64) -> Result<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| self.corrupt("string too large"))?;
        let mut v = Vec::new();
        while v.len() < n {
            let start = v.len();
            let step = (n - start).min(start.max(PREALLOC_MAX));
            v.reserve_exact(step);
            v.resize(start + step, 0);
            self.fill(&mut v[start..])?;
        }
        Ok(v)
    }

    /// A length, or the id of a special string encoding.
    pub fn len_or_encoding(&mut self) -> Result<Len> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => Len::Plain((first & 0x3F) as u64),
            1 => Len::Plain((((first & 0x3F) as u64) << 8) | self.u8()? as u64),
            2 => match first {
                0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.corrupt(format_args!("unknown length form {first:#04x}"))),
            },
            _ => Len::Encoded(first & 0x3F),
        })
    }

    /// A length (a count, a size, a number stored as one).
    pub fn len(&mut self) -> Result<u64> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(e) => {
                Err(self.corrupt(format_args!("string encoding {e} where a length belongs")))
            }
        }
    }

    /// A string in any of its encodings: plain, integer, LZF-compressed.
    pub fn string(&mut self) -> Result<Vec<u8>> {
        match self.len_or_encoding()? {
            Len::Plain(n) => self.bytes(n),
            Len::Encoded(ENC_INT8) => Ok((self.u8()? as i8).to_string().into_bytes()),
            Len::Encoded(ENC_INT16) => {
                Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes())
            }
            Len::Encoded(ENC_INT32) => {
                Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes())
            }
            Len::Encoded(ENC_LZF) => {
                let clen = self.len()?;
                let len = self.len()?;
                let compressed = self.bytes(clen)?;
                let len = usize::try_from(len).map_err(|_| self.corrupt("LZF length too large"))?;
                lzf_decompress(&compressed, len)
                    .ok_or_else(|| self.corrupt("invalid LZF-compressed string"))
            }
            Len::Encoded(e) => Err(self.corrupt(format_args!("unknown string encoding {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb_string::{write_len, write_string};

    #[test]
    fn strings_lengths_and_the_running_checksum() {
        let mut buf = Vec::new();
        write_len(&mut buf, 70000);
        for s in [&b"hello"[..], b"-5", b"300", b"-70000", b""] {
            write_string(&mut buf, s);
        }
        // "aaaaaaaaaa" compressed: a literal, then a back reference.
        buf.extend_from_slice(&[0xC3, 5, 10, 0x00, b'a', 7 << 5, 0, 0]);
        let mut input = Input::new(&buf[..]);
        assert_eq!(input.len().unwrap(), 70000);
        for s in [&b"hello"[..], b"-5", b"300", b"-70000", b""] {
            assert_eq!(input.string().unwrap(), s);
        }
        assert_eq!(input.string().unwrap(), b"aaaaaaaaaa");
        assert_eq!(input.crc(), crc64(0, &buf));
        assert!(input.u8().is_err());
    }

    #[test]
    fn lying_lengths_fail_without_allocating_them() {
        let mut buf = vec![0x81];
        buf.extend_from_slice(&u64::MAX.to_be_bytes());
        buf.extend_from_slice(b"short");
        let err = Input::new(&buf[..]).string().unwrap_err();
        assert!(err.0.contains("unexpected end"), "{}", err.0);
        // An LZF header claiming a huge result.
        let mut buf = vec![0xC3, 2, 0x81];
        buf.extend_from_slice(&u64::MAX.to_be_bytes());
        buf.extend_from_slice(&[0x00, b'a']);
        assert!(Input::new(&buf[..]).string().is_err());
    }
}
