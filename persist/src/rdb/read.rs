//! Decoding: every encoding Redis 7.0-7.2 writes (plain, ziplist, listpack, intset, zipmap,
//! quicklist, stream listpacks v1-v3, functions), into Shardis' values.

use shard::Entry;

/// What an RDB file holds, in file order.
pub enum Item {
    /// An AUX field (`repl-id`, `redis-ver`...).
    Aux { key: Vec<u8>, value: Vec<u8> },
    /// A FUNCTION2 library's code.
    Function(Vec<u8>),
    /// One key of database `db`, with its expiry in `entry.expire_at` (0: none).
    Key {
        db: usize,
        key: Vec<u8>,
        entry: Entry,
    },
}

/// Why a file could not be read, as a line for the log / an error reply.
#[derive(Debug)]
pub struct RdbError(pub String);

/// Reads a whole RDB file from `input`, calling `sink` with each item; stops at the first
/// error (its own, or one `sink` returns). Verifies the checksum when the file has one.
/// Values get the encodings `limits` choose (as if built by commands on a shard with them).
pub fn read_rdb<R: std::io::Read>(
    input: R,
    limits: &shard::limits::Limits,
    sink: &mut dyn FnMut(Item) -> Result<(), String>,
) -> Result<(), RdbError> {
    let _ = (input, limits, sink);
    unimplemented!()
}
