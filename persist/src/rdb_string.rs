//! RDB length and string encodings (Redis' `rdbSaveLen`, `rdbSaveRawString`,
//! `rdbLoadLen`, `rdbGenericLoadStringObject`), shared by everything that writes or reads
//! RDB-shaped payloads (FUNCTION DUMP / RESTORE today).
//!
//! Writing never compresses: an LZF-compressed string is only an optimisation and every
//! reader accepts plain strings. Reading accepts all of Redis' forms: plain, integer-encoded
//! and LZF-compressed.

/// The RDB format version Redis 7.2 writes (and the highest it reads).
pub const RDB_VERSION: u16 = 11;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Appends an RDB length: 6-bit, 14-bit, 32-bit or 64-bit form, the shortest that fits.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends a string as `rdbSaveRawString` does without compression: short strings that are
/// canonical integers in 32-bit range get the integer encoding, others are length + bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = canonical_int(s) {
            if let Ok(v) = i8::try_from(v) {
                out.push(0xc0 | ENC_INT8);
                out.push(v as u8);
                return;
            }
            if let Ok(v) = i16::try_from(v) {
                out.push(0xc0 | ENC_INT16);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(v) {
                out.push(0xc0 | ENC_INT32);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// The integer a string spells if it converts back to exactly the same bytes.
fn canonical_int(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    let v: i64 = text.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

/// A length as read by [`read_len`]: either a plain length or the id of a special
/// string encoding (integer or LZF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// A length in bytes (or elements).
    Plain(u64),
    /// A string encoding (`RDB_ENC_*`) follows instead of a length.
    Encoded(u8),
}

/// Reads an RDB length at `*pos`, advancing it. None when the input is cut short or the
/// first byte is not a valid length form.
pub fn read_len(input: &[u8], pos: &mut usize) -> Option<Len> {
    let first = *input.get(*pos)?;
    *pos += 1;
    match first >> 6 {
        0 => Some(Len::Plain((first & 0x3f) as u64)),
        1 => {
            let second = *input.get(*pos)?;
            *pos += 1;
            Some(Len::Plain((((first & 0x3f) as u64) << 8) | second as u64))
        }
        2 => match first {
            0x80 => {
                let b = input.get(*pos..*pos + 4)?;
                *pos += 4;
                Some(Len::Plain(u32::from_be_bytes(b.try_into().ok()?) as u64))
            }
            0x81 => {
                let b = input.get(*pos..*pos + 8)?;
                *pos += 8;
                Some(Len::Plain(u64::from_be_bytes(b.try_into().ok()?)))
            }
            _ => None,
        },
        _ => Some(Len::Encoded(first & 0x3f)),
    }
}

/// Reads an RDB string at `*pos` in any of Redis' encodings, advancing `pos`. None when the
/// input is malformed or cut short.
pub fn read_string(input: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    match read_len(input, pos)? {
        Len::Plain(len) => {
            let len = usize::try_from(len).ok()?;
            let end = pos.checked_add(len)?;
            let s = input.get(*pos..end)?.to_vec();
            *pos = end;
            Some(s)
        }
        Len::Encoded(ENC_INT8) => {
            let b = *input.get(*pos)?;
            *pos += 1;
            Some((b as i8).to_string().into_bytes())
        }
        Len::Encoded(ENC_INT16) => {
            let b = input.get(*pos..*pos + 2)?;
            *pos += 2;
            Some(
                i16::from_le_bytes(b.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            )
        }
        Len::Encoded(ENC_INT32) => {
            let b = input.get(*pos..*pos + 4)?;
            *pos += 4;
            Some(
                i32::from_le_bytes(b.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            )
        }
        Len::Encoded(ENC_LZF) => {
            let Len::Plain(clen) = read_len(input, pos)? else {
                return None;
            };
            let Len::Plain(len) = read_len(input, pos)? else {
                return None;
            };
            let clen = usize::try_from(clen).ok()?;
            let end = pos.checked_add(clen)?;
            let compressed = input.get(*pos..end)?;
            *pos = end;
            lzf_decompress(compressed, usize::try_from(len).ok()?)
        }
        Len::Encoded(_) => None,
    }
}

/// LZF decompression (liblzf's format, as Redis writes it): the output must be exactly
/// `out_len` bytes, otherwise the input is corrupt and None is returned.
pub fn lzf_decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // The claimed length comes from the payload: never trust it for the allocation beyond
    // what the input could possibly expand to (a back reference emits at most 264 bytes
    // per 2-3 input bytes).
    let mut out = Vec::with_capacity(out_len.min(input.len().saturating_mul(132)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            // A literal run of ctrl + 1 bytes.
            let run = ctrl + 1;
            let lit = input.get(i..i + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            // A back reference: length in the top 3 bits (7 means an extra length byte).
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            len += 2;
            let low = *input.get(i)? as usize;
            i += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            // Byte by byte: the reference may overlap the bytes it produces.
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for len in [
            0u64,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
        ] {
            let mut buf = Vec::new();
            write_len(&mut buf, len);
            let mut pos = 0;
            assert_eq!(read_len(&buf, &mut pos), Some(Len::Plain(len)));
            assert_eq!(pos, buf.len());
        }
    }

    #[test]
    fn strings_round_trip() {
        for s in [
            &b""[..],
            b"12",
            b"-129",
            b"70000",
            b"012",
            b"2147483648",
            b"#!lua name=x\nreturn 1",
        ] {
            let mut buf = Vec::new();
            write_string(&mut buf, s);
            let mut pos = 0;
            assert_eq!(read_string(&buf, &mut pos).as_deref(), Some(s));
            assert_eq!(pos, buf.len());
        }
        let mut buf = Vec::new();
        write_string(&mut buf, b"-5");
        assert_eq!(buf, [0xc0, 0xfb]);
    }

    #[test]
    fn lzf_literals_and_back_references() {
        // "aaaaaaaaaa": literal 'a', then a back reference of 9 bytes at distance 1.
        let compressed = [0x00, b'a', (7 << 5), 9 - 2 - 7, 0x00];
        assert_eq!(
            lzf_decompress(&compressed, 10).as_deref(),
            Some(&b"aaaaaaaaaa"[..])
        );
        // Wrong claimed length or a reference before the start: corrupt.
        assert_eq!(lzf_decompress(&compressed, 11), None);
        assert_eq!(lzf_decompress(&[0x20, 0x05], 3), None);
        // A truncated literal run.
        assert_eq!(lzf_decompress(&[0x05, b'a'], 6), None);
    }
}
