//! DUMP payloads (DUMP / RESTORE / MIGRATE, FUNCTION DUMP / RESTORE): a body in RDB
//! encoding, then a 2-byte RDB version and the CRC64 of everything before the checksum, both
//! little-endian, as Redis' `createDumpPayload` frames it.
//!
//! ```text
//! ... RDB body | 2 bytes RDB version | 8 bytes CRC64 |
//! ```

use crate::crc64::crc64;
use crate::rdb::read::{read_value_only, RdbError};
use crate::rdb::{write, READ_VERSION, WRITE_VERSION};
use shard::limits::Limits;
use shard::Value;

/// The version and checksum after the body.
const FOOTER: usize = 10;

/// Appends the footer to `body` (an RDB body written for `version`).
pub fn frame(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Redis' `verifyDumpPayload`: the body of `payload` when its version is one we read and
/// its checksum matches (a zero checksum too: Redis 7.2 checks every payload); None
/// otherwise.
pub fn verify(payload: &[u8]) -> Option<&[u8]> {
    let body_len = payload.len().checked_sub(FOOTER)?;
    let (body, footer) = payload.split_at(body_len);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > READ_VERSION {
        return None;
    }
    let crc = crc64(0, &payload[..payload.len() - 8]);
    (crc.to_le_bytes() == footer[2..]).then_some(body)
}

/// DUMP: `value` as a payload (type byte and value in the RDB version Shardis writes).
pub fn dump(value: &Value) -> Vec<u8> {
    let mut body = Vec::new();
    write::write_value(value, &mut body);
    frame(body, WRITE_VERSION)
}

/// Why RESTORE refuses a payload, in Redis' words.
#[derive(Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// Unknown version or wrong checksum.
    VersionOrChecksum,
    /// The body does not decode (or holds an empty collection).
    BadData,
}

impl RestoreError {
    pub fn message(&self) -> &'static str {
        match self {
            RestoreError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            RestoreError::BadData => "ERR Bad data format",
        }
    }
}

/// RESTORE's decoding: the value of a verified payload, with the encodings `limits` choose.
pub fn restore(payload: &[u8], limits: &Limits) -> Result<Value, RestoreError> {
    let body = verify(payload).ok_or(RestoreError::VersionOrChecksum)?;
    read_value_only(body, limits).map_err(|_: RdbError| RestoreError::BadData)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shard::string::StrValue;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn redis_payload_of_a_string() {
        // DUMP of SET k hello on Redis 7.0 (RDB 10).
        let redis = b"\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a";
        let mine = dump(&Value::Str(StrValue::from_bytes(b"hello")));
        assert_eq!(mine, redis);
        assert_eq!(verify(&mine), Some(&b"\x00\x05hello"[..]));
        match restore(&mine, &limits()) {
            Ok(Value::Str(s)) => assert_eq!(s.bytes(&mut itoa::Buffer::new()), b"hello"),
            _ => panic!("not a string"),
        }
    }

    #[test]
    fn verification() {
        let good = dump(&Value::Str(StrValue::from_bytes(b"12345")));
        assert!(verify(&good).is_some());
        assert_eq!(verify(&good[..9]), None, "shorter than a footer");
        assert_eq!(verify(b""), None);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            assert_eq!(verify(&bad), None, "byte {i} flipped");
        }
        // A version above the one we read, with a matching checksum.
        let newer = frame(b"\x00\x01x".to_vec(), READ_VERSION + 1);
        assert_eq!(
            restore(&newer, &limits()).err(),
            Some(RestoreError::VersionOrChecksum)
        );
        // Redis 7.2's version is read.
        assert!(verify(&frame(b"\x00\x01x".to_vec(), 11)).is_some());
        // A zero checksum is no exception.
        let mut zero = good.clone();
        let n = zero.len();
        zero[n - 8..].fill(0);
        assert_eq!(verify(&zero), None);
    }

    #[test]
    fn hostile_bodies_with_good_checksums() {
        let cases: &[&[u8]] = &[
            b"",
            b"\x00",
            b"\x63",                                     // unknown type
            b"\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff", // a 2^64-byte string
            b"\x01\x80\x7f\xff\xff\xff\x01a",            // a list claiming 2^31 elements
            b"\x02\x00",                                 // an empty set
            b"\x0e\x01\x00",                             // a quicklist with an empty node
            b"\x10\x05abcde",                            // a broken hash listpack
            b"\x15\x81\xff\xff\xff\xff\xff\xff\xff\xff", // a stream of absurd size
            b"\x06\x00",                                 // a module value
        ];
        for body in cases {
            let payload = frame(body.to_vec(), WRITE_VERSION);
            assert_eq!(
                restore(&payload, &limits()).err(),
                Some(RestoreError::BadData),
                "{body:?}"
            );
        }
    }

    #[test]
    fn every_truncation_and_bit_flip_fails_cleanly() {
        let mut l = shard::list::ListValue::default();
        for i in 0..300 {
            l.push_back(format!("element-{i}").as_bytes(), &limits());
        }
        let body = dump(&Value::List(Box::new(l)));
        let body = &body[..body.len() - FOOTER];
        for cut in 0..body.len() {
            let _ = restore(&frame(body[..cut].to_vec(), WRITE_VERSION), &limits());
        }
        for i in 0..body.len() {
            for bit in [0x01, 0x80] {
                let mut b = body.to_vec();
                b[i] ^= bit;
                let _ = restore(&frame(b, WRITE_VERSION), &limits());
            }
        }
    }
}
