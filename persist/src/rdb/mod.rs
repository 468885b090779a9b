//! RDB files: the format Redis snapshots, full resynchronizations, `redis-cli --rdb` and
//! `dump.rdb` use. [`write`] encodes Shardis' values; [`read`] decodes every encoding Redis
//! 7.x writes into Shardis' values.
//!
//! The encodings of collections inside values live in their own modules: [`listpack`],
//! [`ziplist`] (and zipmap, read only), [`intset`], and [`stream`] (a stream's nodes and
//! consumer groups).

mod input;
pub mod intset;
pub mod listpack;
pub mod read;
mod stream;
pub mod write;
pub mod ziplist;

/// The RDB version Shardis writes: Redis 7.0's, so every Redis from 7.0 on loads our files
/// (a reader refuses versions above its own).
pub const WRITE_VERSION: u16 = 10;

/// The highest RDB version read: Redis 7.2's.
pub const READ_VERSION: u16 = 11;

/// The Redis version the `redis-ver` AUX field names: the one Shardis reports (INFO
/// `redis_version`, server's `REDIS_VERSION`, which persist cannot depend on).
pub const REDIS_VERSION: &str = "7.2.4";

/// Opcodes: what a byte where a value type may stand means instead.
pub(crate) mod opcode {
    /// A library's code (Redis 7.0 GA on).
    pub const FUNCTION2: u8 = 245;
    /// A library in the format of Redis 7.0's release candidates.
    pub const FUNCTION: u8 = 246;
    /// Module data outside the keyspace.
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle time of the next key.
    pub const IDLE: u8 = 248;
    /// LFU counter of the next key.
    pub const FREQ: u8 = 249;
    /// A string pair of metadata.
    pub const AUX: u8 = 250;
    /// Key and TTL count hints of the current database.
    pub const RESIZEDB: u8 = 251;
    /// Expiry of the next key, Unix ms, 8 bytes little-endian.
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expiry of the next key, Unix seconds, 4 bytes (files before RDB 3).
    pub const EXPIRETIME: u8 = 253;
    /// The database the next keys belong to.
    pub const SELECTDB: u8 = 254;
    /// End of the file; the checksum follows.
    pub const EOF: u8 = 255;
}

/// Value types (the byte before a key).
pub(crate) mod kind {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
pub(crate) mod container {
    /// A node holding one element as it is.
    pub const PLAIN: u64 = 1;
    /// A node holding a listpack.
    pub const PACKED: u64 = 2;
}
