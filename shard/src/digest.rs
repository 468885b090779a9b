//! DEBUG DIGEST / DIGEST-VALUE: a fingerprint of a dataset that does not depend on the order
//! keys are stored in (per-key SHA-1s XORed together), so two servers, or a server before and
//! after a reload, can be compared. An empty dataset digests to all zeroes, as in Redis.

use crate::db::Db;
use crate::value::Value;

pub type Digest = [u8; 20];

fn value_bytes(v: &Value, h: &mut sha1_smol::Sha1) {
    h.update(v.type_name().as_bytes());
    v.digest(h);
}

fn entry_digest(key: &[u8], value: &Value, expire_at: u64) -> Digest {
    let mut h = sha1_smol::Sha1::new();
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    value_bytes(value, &mut h);
    if expire_at != 0 {
        h.update(&expire_at.to_le_bytes());
    }
    h.digest().bytes()
}

fn xor(acc: &mut Digest, d: &Digest) {
    acc.iter_mut().zip(d).for_each(|(a, b)| *a ^= b);
}

/// The digest of every live key of `db`.
pub fn db_digest(db: &Db, now_ms: u64) -> Digest {
    let mut acc = [0u8; 20];
    db.for_each(now_ms, |k, e| {
        xor(&mut acc, &entry_digest(k, &e.value, e.expire_at))
    });
    acc
}

/// The digest of one key's value (all zeroes when the key does not exist).
pub fn key_digest(db: &mut Db, key: &[u8], now_ms: u64) -> Digest {
    match db.peek(key, now_ms) {
        Some(e) => {
            let mut h = sha1_smol::Sha1::new();
            value_bytes(&e.value, &mut h);
            h.digest().bytes()
        }
        None => [0; 20],
    }
}

/// Folds per-shard digests into one.
pub fn combine(parts: &[Digest]) -> Digest {
    let mut acc = [0u8; 20];
    parts.iter().for_each(|d| xor(&mut acc, d));
    acc
}

pub fn hex(d: Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::StrValue;

    #[test]
    fn order_independent_and_zero_when_empty() {
        let mut a = Db::default();
        let mut b = Db::default();
        assert_eq!(hex(db_digest(&a, 0)), "0".repeat(40));
        for (k, v) in [("x", "1"), ("y", "2")] {
            a.set(
                k.as_bytes(),
                Value::Str(StrValue::from_bytes(v.as_bytes())),
                0,
                0,
            );
        }
        for (k, v) in [("y", "2"), ("x", "1")] {
            b.set(
                k.as_bytes(),
                Value::Str(StrValue::from_bytes(v.as_bytes())),
                0,
                0,
            );
        }
        assert_eq!(db_digest(&a, 0), db_digest(&b, 0));
        b.set(b"x", Value::Str(StrValue::from_bytes(b"3")), 0, 0);
        assert_ne!(db_digest(&a, 0), db_digest(&b, 0));
    }
}
