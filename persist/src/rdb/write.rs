//! Encoding: an RDB file is the header, then per database a SELECTDB (and RESIZEDB) and its
//! keys, then EOF and the CRC64 of everything before the checksum. A file can be produced in
//! pieces (each shard serializes its own keys): the caller keeps the running checksum with
//! [`crate::crc64::crc64`] over every byte it emits and ends with [`write_eof`].

use shard::{Entry, Value};

/// Appends the magic and version (`REDIS0010`) and the AUX fields Redis writes
/// (`redis-ver`, `redis-bits`, `ctime`, `used-mem`, `aof-base`), then the caller's `aux`
/// pairs (`repl-stream-db`, `repl-id`, `repl-offset` for a replication transfer).
pub fn write_header(out: &mut Vec<u8>, used_mem: u64, aof_base: bool, aux: &[(&str, &[u8])]) {
    let _ = (out, used_mem, aof_base, aux);
    unimplemented!()
}

/// Appends a FUNCTION2 opcode holding one library's code (`#!lua name=...`).
pub fn write_function(out: &mut Vec<u8>, code: &[u8]) {
    let _ = (out, code);
    unimplemented!()
}

/// Appends SELECTDB `db` and RESIZEDB with the database's key and TTL counts (hints).
pub fn write_select_db(out: &mut Vec<u8>, db: usize, keys: u64, expires: u64) {
    let _ = (out, db, keys, expires);
    unimplemented!()
}

/// Appends one key: its expiry (EXPIRETIME_MS) when it has one, the value's type byte, the
/// key and the value. The signature of `shard::snapshot`'s serializers.
pub fn write_entry(key: &[u8], entry: &Entry, out: &mut Vec<u8>) {
    let _ = (key, entry, out);
    unimplemented!()
}

/// Appends a value's type byte and payload (the body of [`write_entry`], and of DUMP).
pub fn write_value(value: &Value, out: &mut Vec<u8>) {
    let _ = (value, out);
    unimplemented!()
}

/// Appends the EOF opcode and the checksum. `crc` is the CRC64 of every byte emitted
/// before this call (from the magic on); the EOF opcode is included here.
pub fn write_eof(out: &mut Vec<u8>, crc: u64) {
    let _ = (out, crc);
    unimplemented!()
}
