//! Persistence: RDB encode/decode, per-shard AOF segments, forkless snapshots, recovery.
//!
//! What exists: the AOF manifest format (the AOF's writer and loader need the executors and
//! live in `server/src/aof.rs`), the CRC64 Redis uses for RDB files and DUMP payloads, and
//! RDB length/string encodings (used by FUNCTION DUMP and FUNCTION RESTORE). RDB snapshots
//! have not landed.

pub mod crc64;
pub mod manifest;
pub mod rdb;
pub mod rdb_string;
