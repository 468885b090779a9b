//! Persistence: RDB encode/decode, per-shard AOF segments, forkless snapshots, recovery.
//!
//! Mostly not built yet (see the persistence issue). What exists: the CRC64 Redis uses for
//! RDB files and DUMP payloads, and RDB length/string encodings (used by FUNCTION DUMP and
//! FUNCTION RESTORE).

pub mod crc64;
pub mod rdb_string;
