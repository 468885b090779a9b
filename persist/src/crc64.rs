//! CRC-64/Jones, the checksum Redis puts at the end of RDB files and DUMP / FUNCTION DUMP
//! payloads: reflected polynomial 0xad93d23594c935a9, initial value 0, no final xor.
//! `crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca`.

/// The polynomial in reflected (LSB-first) form.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// `TABLES[0]` is the classic byte-at-a-time table; `TABLES[k]` advances a byte's
/// contribution through `k` more bytes, so eight bytes are folded in at once
/// ("slicing-by-8"): RDB files run to gigabytes and are checksummed as they are read.
const fn build_tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static TABLES: [[u64; 256]; 8] = build_tables();

/// Continues the checksum `crc` over `data` (start with 0), as Redis' `crc64(crc, p, len)`.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        crc ^= u64::from_le_bytes(word);
        crc = t[7][(crc & 0xff) as usize]
            ^ t[6][((crc >> 8) & 0xff) as usize]
            ^ t[5][((crc >> 16) & 0xff) as usize]
            ^ t[4][((crc >> 24) & 0xff) as usize]
            ^ t[3][((crc >> 32) & 0xff) as usize]
            ^ t[2][((crc >> 40) & 0xff) as usize]
            ^ t[1][((crc >> 48) & 0xff) as usize]
            ^ t[0][(crc >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::crc64;

    #[test]
    fn check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
        // Incremental use gives the same result as one pass.
        assert_eq!(crc64(crc64(0, b"1234"), b"56789"), 0xe9c6_d914_c4b8_d9ca);
    }

    /// Eight bytes at a time give what one byte at a time gives, at every length and split.
    #[test]
    fn slicing_matches_bytewise() {
        let bytewise = |mut crc: u64, data: &[u8]| {
            for &b in data {
                crc = super::TABLES[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
            }
            crc
        };
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(crc64(0, &data[..len]), bytewise(0, &data[..len]), "{len}");
        }
        for split in 0..40 {
            let (a, b) = data.split_at(split);
            assert_eq!(crc64(crc64(0, a), b), bytewise(0, &data));
        }
    }
}
