//! Intsets (Redis' `intset.c`): a set of integers as one blob, `encoding (u32 LE: 2, 4 or
//! 8 bytes per member) | length (u32 LE) | members`, ascending, little-endian.

/// Encodes the `len` members `sorted` (ascending, distinct) in the narrowest width holding
/// `min` and `max`.
pub fn encode(len: usize, sorted: impl Iterator<Item = i64>, min: i64, max: i64) -> Vec<u8> {
    let width: usize = if i16::try_from(min).is_ok() && i16::try_from(max).is_ok() {
        2
    } else if i32::try_from(min).is_ok() && i32::try_from(max).is_ok() {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + len * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// Decodes and validates an intset: its members, ascending.
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, String> {
    let header = blob.get(..8).ok_or("intset shorter than its header")?;
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("intset of unknown encoding {width}"));
    }
    if len.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(blob.len()) {
        return Err(format!(
            "intset of {len} members holds {} bytes",
            blob.len()
        ));
    }
    let members: Vec<i64> = blob[8..]
        .chunks_exact(width)
        .map(|c| {
            let mut a = [0u8; 8];
            a[..width].copy_from_slice(c);
            let shift = 64 - 8 * width as u32;
            ((u64::from_le_bytes(a) << shift) as i64) >> shift
        })
        .collect();
    if members.windows(2).any(|w| w[0] >= w[1]) {
        return Err("intset members out of order or repeated".into());
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_round_trip() {
        for members in [
            vec![-3i64, 5, 100],
            vec![-70000, 1],
            vec![i64::MIN, 0, i64::MAX],
            vec![],
        ] {
            let min = members.first().copied().unwrap_or(0);
            let max = members.last().copied().unwrap_or(0);
            let blob = encode(members.len(), members.iter().copied(), min, max);
            assert_eq!(decode(&blob).unwrap(), members);
        }
        assert_eq!(
            encode(2, [1i64, 2].into_iter(), 1, 2),
            [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]
        );
    }

    #[test]
    fn corrupt_intsets_are_errors() {
        let blob = encode(2, [1i64, 2].into_iter(), 1, 2);
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_err());
        }
        let mut bad = blob.clone();
        bad[0] = 3;
        assert!(decode(&bad).is_err());
        let mut bad = blob.clone();
        bad[8] = 2;
        assert!(decode(&bad).is_err(), "repeated member");
        let mut bad = blob;
        bad[4] = 0xFF;
        bad[7] = 0xFF;
        assert!(decode(&bad).is_err(), "lying length");
    }
}
