//! DEBUG DIGEST / DIGEST-VALUE, computed exactly as Redis 7.2 does (debug.c), so a dataset
//! can be compared with a real Redis' as well as with itself after a reload: SHA-1 "mixing"
//! where order matters (a list's elements, a stream's entries), XOR of per-element digests
//! where it does not (keys, set members, hash fields, sorted-set members). An empty dataset
//! digests to all zeroes. Consumer groups are not part of it (as in Redis).

use crate::db::Db;
use crate::stream::StreamId;
use crate::value::Value;

pub type Digest = [u8; 20];

fn sha1(bytes: &[u8]) -> Digest {
    let mut h = sha1_smol::Sha1::new();
    h.update(bytes);
    h.digest().bytes()
}

fn xor(acc: &mut Digest, d: &Digest) {
    acc.iter_mut().zip(d).for_each(|(a, b)| *a ^= b);
}

/// Redis' `xorDigest`: XORs the SHA-1 of `bytes` into `d` (order-independent).
fn xor_in(d: &mut Digest, bytes: &[u8]) {
    xor(d, &sha1(bytes));
}

/// Redis' `mixDigest`: XORs in the SHA-1 of `bytes`, then replaces `d` by the SHA-1 of
/// itself, so what follows depends on what came before.
fn mix(d: &mut Digest, bytes: &[u8]) {
    xor_in(d, bytes);
    *d = sha1(d);
}

/// Redis' object type numbers (OBJ_STRING...), which the digest starts with.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Redis' `xorObjectDigest`: the value (and whether it expires) mixed into `d`.
fn value_into(d: &mut Digest, v: &Value, expires: bool) {
    mix(d, &type_code(v).to_be_bytes());
    match v {
        Value::Str(s) => mix(d, &s.as_bytes()),
        Value::List(l) => l.for_each(|e| mix(d, e)),
        Value::Set(s) => s.for_each(|m| xor_in(d, m)),
        Value::ZSet(z) => z.for_each(|member, score| {
            let mut e = [0; 20];
            mix(&mut e, member);
            mix(&mut e, crate::num::fmt_double(score).as_bytes());
            xor_in(d, &e);
        }),
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut e = [0; 20];
                mix(&mut e, field);
                mix(&mut e, value);
                xor_in(d, &e);
            }
        }
        Value::Stream(s) => {
            for entry in s.range(StreamId::MIN, StreamId::MAX, false) {
                mix(d, format!("{}.{}", entry.id.ms, entry.id.seq).as_bytes());
                for (field, value) in entry.pairs() {
                    mix(d, field);
                    mix(d, value);
                }
            }
        }
    }
    if expires {
        xor_in(d, b"!!expire!!");
    }
}

/// One database's part of DEBUG DIGEST held by one shard: the XOR of its keys' digests, or
/// None when it has no key here.
pub fn db_part(db: &Db, now_ms: u64) -> Option<Digest> {
    let mut acc = [0; 20];
    let mut any = false;
    db.for_each(now_ms, |key, e| {
        any = true;
        let mut d = [0; 20];
        mix(&mut d, key);
        value_into(&mut d, &e.value, e.expire_at != 0);
        xor_in(&mut acc, &d);
    });
    any.then_some(acc)
}

/// DEBUG DIGEST from every shard's parts (`parts[shard][db]`): the number of each database
/// that has keys, mixed in database order, then the XOR of its keys.
pub fn dataset(parts: &[Vec<Option<Digest>>]) -> Digest {
    let mut out = [0; 20];
    let dbs = parts.iter().map(Vec::len).max().unwrap_or(0);
    for db in 0..dbs {
        let mut keys: Option<Digest> = None;
        for part in parts.iter().filter_map(|p| p.get(db).copied().flatten()) {
            xor(keys.get_or_insert([0; 20]), &part);
        }
        if let Some(keys) = keys {
            mix(&mut out, &(db as u32).to_be_bytes());
            xor(&mut out, &keys);
        }
    }
    out
}

/// A value's digest as DEBUG DIGEST-VALUE gives it for a key without a TTL.
pub fn value_digest(v: &Value) -> Digest {
    let mut d = [0; 20];
    value_into(&mut d, v, false);
    d
}

/// For Shardis' own tests: one database's digest (as in DEBUG DIGEST, without the
/// database's number), plus what Redis' digest leaves out of streams (their counters and
/// consumer groups), so a test that rebuilds or reloads a stream compares all of it.
pub fn db_digest(db: &Db, now_ms: u64) -> Digest {
    let mut acc = db_part(db, now_ms).unwrap_or([0; 20]);
    db.for_each(now_ms, |key, e| {
        if let Value::Stream(s) = &e.value {
            let mut d = [0; 20];
            mix(&mut d, key);
            s.digest_metadata(|part| mix(&mut d, part));
            xor_in(&mut acc, &d);
        }
    });
    acc
}

/// DEBUG DIGEST-VALUE of one key (all zeroes when the key does not exist).
pub fn key_digest(db: &mut Db, key: &[u8], now_ms: u64) -> Digest {
    let mut d = [0; 20];
    if let Some(e) = db.peek(key, now_ms) {
        value_into(&mut d, &e.value, e.expire_at != 0);
    }
    d
}

/// Lowercase hex of `bytes`: digests (DEBUG DIGEST, script SHA1s, ACL password hashes) and
/// ACL GENPASS.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|&b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::StrValue;

    fn set(db: &mut Db, k: &str, v: &str) {
        db.set(
            k.as_bytes(),
            Value::Str(StrValue::from_bytes(v.as_bytes())),
            0,
            0,
        );
    }

    #[test]
    fn order_independent_and_zero_when_empty() {
        let mut a = Db::default();
        let mut b = Db::default();
        assert_eq!(hex(&dataset(&[vec![db_part(&a, 0)]])), "0".repeat(40));
        for (k, v) in [("x", "1"), ("y", "2")] {
            set(&mut a, k, v);
        }
        for (k, v) in [("y", "2"), ("x", "1")] {
            set(&mut b, k, v);
        }
        assert_eq!(db_part(&a, 0), db_part(&b, 0));
        set(&mut b, "x", "3");
        assert_ne!(db_part(&a, 0), db_part(&b, 0));
    }

    /// Values computed by Redis 7.0.15 (`DEBUG DIGEST-VALUE`, `DEBUG DIGEST` after
    /// `SET foo bar` in database 0).
    #[test]
    fn matches_redis() {
        let mut db = Db::default();
        set(&mut db, "foo", "bar");
        assert_eq!(
            hex(&key_digest(&mut db, b"foo", 0)),
            "68467c70ae30376e7ce005bcc8827f5ba7fd67dc"
        );
        assert_eq!(
            hex(&dataset(&[vec![db_part(&db, 0)]])),
            "d2ab4820c1be0580ea28efbfe8bfa1dc05bb802a"
        );
    }
}
