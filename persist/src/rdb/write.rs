//! Encoding: an RDB file is the header, then per database a SELECTDB (and RESIZEDB) and its
//! keys, then EOF and the CRC64 of everything before the checksum. A file can be produced in
//! pieces (each shard serializes its own keys): the caller keeps the running checksum with
//! [`crate::crc64::crc64`] over every byte it emits and ends with [`write_eof`].
//!
//! Values get the forms Redis 7.0 writes for the same encodings, so Redis loads them as it
//! loads its own files: strings integer-encoded when they are short canonical integers (never
//! compressed), lists as QUICKLIST_2 (a listpack per node; an element of 1 GB or more alone
//! in a PLAIN node), intsets as INTSET and other sets as SET (RDB 10 has no set listpack),
//! small sorted sets and hashes as listpacks, larger ones as ZSET_2 (binary scores, highest
//! first) and HASH, streams as STREAM_LISTPACKS_2.

use super::listpack::{Elem, Writer};
use super::{container, intset, kind, opcode, stream, REDIS_VERSION, WRITE_VERSION};
use crate::crc64::crc64;
use crate::rdb_string::{write_len, write_string};
use shard::hash::HashValue;
use shard::list::ListValue;
use shard::set::SetValue;
use shard::snapshot::{Access, AccessValue};
use shard::zset::ZSetValue;
use shard::{Entry, Value};

/// List elements at least this large get a PLAIN quicklist node of their own (Redis'
/// default `packed_threshold`; a listpack is capped at 1 GB).
const PLAIN_THRESHOLD: usize = 1 << 30;

/// Appends the magic and version (`REDIS0010`) and the AUX fields Redis writes: `redis-ver`
/// ([`REDIS_VERSION`]), `redis-bits`, `ctime`, `used-mem`, then the caller's `aux` pairs
/// (`repl-stream-db`, `repl-id`, `repl-offset` for a replication transfer), then `aof-base`
/// (Redis' order).
pub fn write_header(out: &mut Vec<u8>, used_mem: u64, aof_base: bool, aux: &[(&str, &[u8])]) {
    out.extend_from_slice(format!("REDIS{WRITE_VERSION:04}").as_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut digits = itoa::Buffer::new();
    write_aux(out, b"redis-ver", REDIS_VERSION.as_bytes());
    write_aux(out, b"redis-bits", digits.format(usize::BITS).as_bytes());
    write_aux(out, b"ctime", digits.format(now).as_bytes());
    write_aux(out, b"used-mem", digits.format(used_mem).as_bytes());
    for (key, value) in aux {
        write_aux(out, key.as_bytes(), value);
    }
    write_aux(out, b"aof-base", if aof_base { b"1" } else { b"0" });
}

fn write_aux(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.push(opcode::AUX);
    write_string(out, key);
    write_string(out, value);
}

/// Appends a FUNCTION2 opcode holding one library's code (`#!lua name=...`).
pub fn write_function(out: &mut Vec<u8>, code: &[u8]) {
    out.push(opcode::FUNCTION2);
    write_string(out, code);
}

/// Appends SELECTDB `db` and RESIZEDB with the database's key and TTL counts (hints).
pub fn write_select_db(out: &mut Vec<u8>, db: usize, keys: u64, expires: u64) {
    out.push(opcode::SELECTDB);
    write_len(out, db as u64);
    out.push(opcode::RESIZEDB);
    write_len(out, keys);
    write_len(out, expires);
}

/// Appends one key: its expiry (EXPIRETIME_MS) when it has one, its idle time (IDLE) or LFU
/// counter (FREQ) when `access` records one, the value's type byte, the key and the value,
/// in Redis' order. The signature of `shard::snapshot`'s serializers.
pub fn write_entry(key: &[u8], entry: &Entry, access: Access, out: &mut Vec<u8>) {
    if entry.expire_at != 0 {
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&(entry.expire_at as i64).to_le_bytes());
    }
    match access.of(entry) {
        Some(AccessValue::Idle(secs)) => {
            out.push(opcode::IDLE);
            write_len(out, secs);
        }
        Some(AccessValue::Freq(counter)) => out.extend_from_slice(&[opcode::FREQ, counter]),
        None => {}
    }
    out.push(type_byte(&entry.value));
    write_string(out, key);
    write_payload(&entry.value, out);
}

/// Appends a value's type byte and payload (the body of [`write_entry`], and of DUMP).
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    out.push(type_byte(value));
    write_payload(value, out);
}

/// Appends the EOF opcode and the checksum. `crc` is the CRC64 of every byte emitted
/// before this call (from the magic on); the EOF opcode is included here.
pub fn write_eof(out: &mut Vec<u8>, crc: u64) {
    out.push(opcode::EOF);
    let crc = crc64(crc, &[opcode::EOF]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// The RDB type of a value in its current encoding.
fn type_byte(value: &Value) -> u8 {
    match value {
        Value::Str(_) => kind::STRING,
        Value::List(_) => kind::LIST_QUICKLIST_2,
        Value::Set(s) if matches!(**s, SetValue::Intset(_)) => kind::SET_INTSET,
        Value::Set(_) => kind::SET,
        Value::ZSet(z) if z.is_compact() => kind::ZSET_LISTPACK,
        Value::ZSet(_) => kind::ZSET_2,
        Value::Hash(h) if h.encoding() == "listpack" => kind::HASH_LISTPACK,
        Value::Hash(_) => kind::HASH,
        Value::Stream(_) => kind::STREAM_LISTPACKS_2,
    }
}

fn write_payload(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => write_string(out, s.bytes(&mut itoa::Buffer::new())),
        Value::List(l) => list(l, out),
        Value::Set(s) => set(s, out),
        Value::ZSet(z) => zset(z, out),
        Value::Hash(h) => hash(h, out),
        Value::Stream(s) => stream::write(s, out),
    }
}

/// A blob (listpack, intset) as a plain string: never integer-encoded or compressed.
pub(crate) fn write_blob(out: &mut Vec<u8>, blob: &[u8]) {
    write_len(out, blob.len() as u64);
    out.extend_from_slice(blob);
}

fn is_plain(e: &shard::list::Elem) -> bool {
    matches!(e, shard::list::Elem::Str(s) if s.len() >= PLAIN_THRESHOLD)
}

/// QUICKLIST_2: the node count, then each node as its container and its listpack (or, for
/// a PLAIN node, its element). Shardis' nodes become Redis' nodes, split around elements
/// too large for a listpack.
fn list(l: &ListValue, out: &mut Vec<u8>) {
    let mut nodes = 0u64;
    for node in l.nodes() {
        let mut in_run = false;
        for e in node {
            if is_plain(&e) {
                nodes += 1;
                in_run = false;
            } else if !in_run {
                nodes += 1;
                in_run = true;
            }
        }
    }
    write_len(out, nodes);
    let packed = |out: &mut Vec<u8>, lp: Writer| {
        write_len(out, container::PACKED);
        write_blob(out, &lp.finish());
    };
    for node in l.nodes() {
        let mut lp = Writer::new();
        for e in node {
            match e {
                shard::list::Elem::Str(s) if s.len() >= PLAIN_THRESHOLD => {
                    if lp.count() > 0 {
                        packed(out, std::mem::take(&mut lp));
                    }
                    write_len(out, container::PLAIN);
                    write_blob(out, s);
                }
                shard::list::Elem::Str(s) => lp.push_elem(Elem::Str(s)),
                shard::list::Elem::Int(v) => lp.push_int(v),
            }
        }
        if lp.count() > 0 {
            packed(out, lp);
        }
    }
}

/// SET_INTSET: the intset blob; SET: the count, then each member.
fn set(s: &SetValue, out: &mut Vec<u8>) {
    match s {
        SetValue::Intset(i) => {
            let blob = intset::encode(
                i.len(),
                i.iter(),
                i.min().unwrap_or(0),
                i.max().unwrap_or(0),
            );
            write_blob(out, &blob);
        }
        _ => {
            write_len(out, s.len() as u64);
            s.for_each(|m| write_string(out, m));
        }
    }
}

/// ZSET_LISTPACK: member and score alternating, lowest first; ZSET_2: the count, then each
/// member and its score as a little-endian double, highest first (Redis' order: loading
/// then inserts at the head of its skiplist).
fn zset(z: &ZSetValue, out: &mut Vec<u8>) {
    if z.is_compact() {
        let mut lp = Writer::new();
        z.for_each(|m, score| {
            lp.push(m);
            push_score(&mut lp, score);
        });
        write_blob(out, &lp.finish());
    } else {
        write_len(out, z.len() as u64);
        z.range_by_rank(0, z.len(), true, |m, score| {
            write_string(out, m);
            out.extend_from_slice(&score.to_le_bytes());
        });
    }
}

/// A score in a listpack, as Redis' `zzlInsertAt` stores it: an integer when it is one
/// (within 2^52), else its text (the shortest that reads back to the same double).
fn push_score(lp: &mut Writer, v: f64) {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
    if v == v.trunc() && v.abs() < EXACT {
        lp.push_int(v as i64);
    } else if v.is_infinite() {
        lp.push_str(if v > 0.0 { b"inf" } else { b"-inf" });
    } else {
        let text = v.to_string();
        if text.len() <= 24 {
            lp.push(text.as_bytes());
        } else {
            lp.push(format!("{v:e}").as_bytes());
        }
    }
}

/// HASH_LISTPACK: field and value alternating, in insertion order; HASH: the count, then
/// each field and value.
fn hash(h: &HashValue, out: &mut Vec<u8>) {
    if h.encoding() == "listpack" {
        let mut lp = Writer::new();
        h.for_each(|f, v| {
            lp.push(f);
            lp.push(v);
        });
        write_blob(out, &lp.finish());
    } else {
        write_len(out, h.len() as u64);
        h.for_each(|f, v| {
            write_string(out, f);
            write_string(out, v);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::listpack::decode;

    #[test]
    fn scores_in_listpacks_read_back_exactly() {
        let scores = [
            0.0,
            -2.5,
            0.1,
            1.0 / 3.0,
            1e300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            4_503_599_627_370_496.0,
            123_456_789_012_345_680.0,
            5e-324,
            f64::MAX,
        ];
        let mut lp = Writer::new();
        scores.iter().for_each(|&s| push_score(&mut lp, s));
        let blob = lp.finish();
        let back: Vec<f64> = decode(&blob)
            .unwrap()
            .into_iter()
            .map(|e| match e {
                Elem::Int(v) => v as f64,
                Elem::Str(s) => shard::zset::parse_score(s).unwrap(),
            })
            .collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&scores));
    }

    #[test]
    fn the_header_as_redis_writes_it() {
        let mut out = Vec::new();
        write_header(&mut out, 12345, true, &[("repl-id", b"abc")]);
        assert!(out.starts_with(b"REDIS0010\xfa\x09redis-ver\x057.2.4\xfa\x0aredis-bits\xc0\x40"));
        assert!(out.ends_with(b"\xfa\x07repl-id\x03abc\xfa\x08aof-base\xc0\x01"));
    }
}
