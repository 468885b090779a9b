//! RDB files: the format Redis snapshots, full resynchronizations, `redis-cli --rdb` and
//! `dump.rdb` use. [`write`] encodes Shardis' values; [`read`] decodes every encoding Redis
//! 7.x writes into Shardis' values.
//!
//! (API skeleton: bodies are being written.)

pub mod read;
pub mod write;

/// The RDB version Shardis writes: Redis 7.0's, so every Redis from 7.0 on loads our files
/// (a reader refuses versions above its own).
pub const WRITE_VERSION: u16 = 10;
