//! Persistence: RDB encode/decode, per-shard AOF segments, forkless snapshots, recovery.
//!
//! What exists: the AOF manifest format (the AOF's writer and loader need the executors and
//! live in `server/src/aof.rs`), the CRC64 Redis uses for RDB files and DUMP payloads, the
//! DUMP payload's framing ([`dump`]), RDB length/string encodings (used by FUNCTION DUMP and
//! FUNCTION RESTORE), the RDB codec ([`rdb`]: writing Shardis' values in Redis 7.0's format,
//! reading every encoding Redis 7.x writes), and [`durable`] file replacement (write beside,
//! flush, rename, flush the directory) for every file Shardis rewrites whole.

pub mod crc64;
pub mod dump;
pub mod durable;
pub mod manifest;
pub mod rdb;
pub mod rdb_string;
