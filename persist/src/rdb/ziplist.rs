//! Ziplists and zipmaps, the compact encodings of Redis before 7.0, read only: RDB files of
//! older versions (and of 7.x for types 9 to 14) hold them.
//!
//! ```text
//! ziplist: zlbytes (u32 LE) | zltail (u32 LE) | zllen (u16 LE, 65535 = unknown) | entries | 0xFF
//! entry:   prevlen (1 byte, or 0xFE + u32 LE) | encoding [payload]
//! zipmap:  zmlen (1 byte) | (len key len free value [free bytes])* | 0xFF
//! ```

use super::listpack::Elem;

const ZIP_END: u8 = 0xFF;
const ZIP_BIG_PREVLEN: u8 = 0xFE;
const ZIPLIST_HEADER: usize = 10;
const COUNT_UNKNOWN: u16 = u16::MAX;

/// Decodes and validates a ziplist: every element, in order.
pub fn decode(zl: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if zl.len() < ZIPLIST_HEADER + 1 {
        return Err("ziplist shorter than its header".into());
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    if total != zl.len() {
        return Err(format!("ziplist says {total} bytes but holds {}", zl.len()));
    }
    if zl[zl.len() - 1] != ZIP_END {
        return Err("ziplist without its end marker".into());
    }
    let count = u16::from_le_bytes([zl[8], zl[9]]);
    let end = zl.len() - 1;
    let mut out = Vec::with_capacity((count as usize).min(end / 2));
    let mut p = ZIPLIST_HEADER;
    let mut prev_size = 0usize;
    while p < end {
        let (e, size) = entry(&zl[p..end], prev_size)?;
        out.push(e);
        prev_size = size;
        p += size;
    }
    if count != COUNT_UNKNOWN && count as usize != out.len() {
        return Err(format!(
            "ziplist says {count} elements but holds {}",
            out.len()
        ));
    }
    Ok(out)
}

/// Decodes the entry at the start of `buf` (whose predecessor took `prev_size` bytes): the
/// element and the entry's size.
fn entry(buf: &[u8], prev_size: usize) -> Result<(Elem<'_>, usize), String> {
    let cut = || "ziplist entry runs past the end".to_string();
    let (prevlen, mut p) = match buf[0] {
        ZIP_BIG_PREVLEN => {
            let b = buf.get(1..5).ok_or_else(cut)?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5)
        }
        ZIP_END => return Err("ziplist entry where its end marker stands".into()),
        n => (n as usize, 1),
    };
    if prevlen != prev_size {
        return Err("ziplist entry with a wrong previous length".into());
    }
    let enc = *buf.get(p).ok_or_else(cut)?;
    p += 1;
    let take = |at: usize, n: usize| buf.get(at..at + n).ok_or_else(cut);
    let int = |at: usize, n: usize| -> Result<i64, String> {
        let b = take(at, n)?;
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b);
        let shift = 64 - 8 * n as u32;
        Ok(((u64::from_le_bytes(a) << shift) as i64) >> shift)
    };
    let (e, payload, header) = match enc >> 6 {
        0 => {
            let n = (enc & 0x3F) as usize;
            (Elem::Str(take(p, n)?), n, 0)
        }
        1 => {
            let n = (((enc & 0x3F) as usize) << 8) | *buf.get(p).ok_or_else(cut)? as usize;
            (Elem::Str(take(p + 1, n)?), n, 1)
        }
        2 if enc == 0x80 => {
            let b = take(p, 4)?;
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            (Elem::Str(take(p + 4, n)?), n, 4)
        }
        2 => return Err(format!("ziplist entry of unknown encoding {enc:#04x}")),
        _ => match enc {
            0xC0 => (Elem::Int(int(p, 2)?), 2, 0),
            0xD0 => (Elem::Int(int(p, 4)?), 4, 0),
            0xE0 => (Elem::Int(int(p, 8)?), 8, 0),
            0xF0 => (Elem::Int(int(p, 3)?), 3, 0),
            0xFE => (Elem::Int(int(p, 1)?), 1, 0),
            0xF1..=0xFD => (Elem::Int((enc & 0x0F) as i64 - 1), 0, 0),
            _ => return Err(format!("ziplist entry of unknown encoding {enc:#04x}")),
        },
    };
    Ok((e, p + header + payload))
}

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Decodes and validates a zipmap (hashes of Redis before 2.6): its field-value pairs.
pub fn decode_zipmap(zm: &[u8]) -> Result<Vec<Pair<'_>>, String> {
    let cut = || "zipmap entry runs past the end".to_string();
    let mut p = 1;
    // A length: one byte below 254, else 254 and 4 bytes (the writer's byte order: little
    // endian on every machine Redis runs on now).
    let len = |p: &mut usize| -> Result<Option<usize>, String> {
        let b = *zm.get(*p).ok_or_else(cut)?;
        *p += 1;
        match b {
            ZIP_END => Ok(None),
            ZIP_BIG_PREVLEN => {
                let v = zm.get(*p..*p + 4).ok_or_else(cut)?;
                *p += 4;
                Ok(Some(u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as usize))
            }
            n => Ok(Some(n as usize)),
        }
    };
    let mut pairs = Vec::new();
    while let Some(klen) = len(&mut p)? {
        let key = zm.get(p..p + klen).ok_or_else(cut)?;
        p += klen;
        let vlen = len(&mut p)?.ok_or("zipmap field without its value")?;
        let free = *zm.get(p).ok_or_else(cut)? as usize;
        p += 1;
        let value = zm.get(p..p + vlen).ok_or_else(cut)?;
        p += vlen + free;
        pairs.push((key, value));
    }
    if p != zm.len() {
        return Err("zipmap with bytes after its end marker".into());
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends an entry as ziplist.c writes it.
    fn push(zl: &mut Vec<u8>, prev: &mut usize, enc: &[u8], payload: &[u8]) {
        let start = zl.len();
        if *prev < 254 {
            zl.push(*prev as u8);
        } else {
            zl.push(0xFE);
            zl.extend_from_slice(&(*prev as u32).to_le_bytes());
        }
        zl.extend_from_slice(enc);
        zl.extend_from_slice(payload);
        *prev = zl.len() - start;
    }

    fn finish(mut zl: Vec<u8>, count: u16) -> Vec<u8> {
        zl.push(0xFF);
        let total = zl.len() as u32;
        zl[..4].copy_from_slice(&total.to_le_bytes());
        zl[8..10].copy_from_slice(&count.to_le_bytes());
        zl
    }

    #[test]
    fn every_entry_encoding() {
        let mut zl = vec![0u8; 10];
        let mut prev = 0;
        let long = vec![b'L'; 300];
        push(&mut zl, &mut prev, &[0x03], b"abc");
        push(&mut zl, &mut prev, &[0x40 | 1, 44], &long); // 300 = 0x12C
        push(&mut zl, &mut prev, &[0xF1 + 5], &[]); // immediate 5
        push(&mut zl, &mut prev, &[0xFE], &[0x80]); // -128
        push(&mut zl, &mut prev, &[0xC0], &(-300i16).to_le_bytes());
        push(&mut zl, &mut prev, &[0xF0], &[0xFF, 0xFF, 0x7F]); // 2^23 - 1
        push(&mut zl, &mut prev, &[0xD0], &(-70000i32).to_le_bytes());
        push(&mut zl, &mut prev, &[0xE0], &i64::MIN.to_le_bytes());
        let mut big = vec![0x80];
        big.extend_from_slice(&3u32.to_be_bytes());
        push(&mut zl, &mut prev, &big, b"xyz");
        let zl = finish(zl, 9);
        assert_eq!(
            decode(&zl).unwrap(),
            [
                Elem::Str(b"abc"),
                Elem::Str(&long),
                Elem::Int(5),
                Elem::Int(-128),
                Elem::Int(-300),
                Elem::Int(8_388_607),
                Elem::Int(-70000),
                Elem::Int(i64::MIN),
                Elem::Str(b"xyz"),
            ]
        );
        for cut in 0..zl.len() {
            assert!(decode(&zl[..cut]).is_err(), "prefix {cut}");
        }
        let mut bad = zl.clone();
        bad[8] = 3;
        assert!(decode(&bad).is_err(), "wrong count");
        let mut bad = zl.clone();
        bad[15] = 7;
        assert!(decode(&bad).is_err(), "wrong previous length");
    }

    #[test]
    fn zipmaps() {
        let mut zm = vec![2u8];
        zm.extend_from_slice(&[3, b'f', b'o', b'o', 3, 2, b'b', b'a', b'r', 0, 0]);
        zm.extend_from_slice(&[1, b'k', 0, 0]);
        zm.push(0xFF);
        assert_eq!(
            decode_zipmap(&zm).unwrap(),
            [(&b"foo"[..], &b"bar"[..]), (b"k", b"")]
        );
        for cut in 0..zm.len() {
            assert!(decode_zipmap(&zm[..cut]).is_err(), "prefix {cut}");
        }
    }
}
