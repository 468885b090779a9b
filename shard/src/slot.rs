//! Key -> hash slot, exactly as Redis Cluster computes it (CRC16/XMODEM of the key, or of the
//! hash tag between the first `{` and the next `}` when that tag is non-empty).

pub const SLOTS: u16 = 16384;

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            j += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC16: [u16; 256] = crc16_table();

pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16[((crc >> 8) as u8 ^ b) as usize]
    })
}

/// The part of the key that is hashed: the hash tag if there is a non-empty one.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&c| c == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&c| c == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (SLOTS - 1)
}

/// Slots are dealt to shards in contiguous ranges, so a slot -> shard map can later be
/// rebalanced by moving ranges.
#[inline]
pub fn slot_shard(slot: u16, shards: usize) -> usize {
    slot as usize * shards / SLOTS as usize
}

#[inline]
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    if shards == 1 {
        0
    } else {
        slot_shard(key_slot(key), shards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_cluster() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
    }

    #[test]
    fn shards_cover_all_slots() {
        for n in 1..9 {
            assert_eq!(slot_shard(0, n), 0);
            assert_eq!(slot_shard(SLOTS - 1, n), n - 1);
        }
    }
}
