//! The size thresholds that choose a collection's encoding, as Redis' redis.conf names them.
//!
//! Every shard holds a copy; CONFIG SET pushes changes to all shards. A collection is built in
//! its compact encoding (listpack, intset) and converted, once and for good, to the large one
//! (hashtable, skiplist, quicklist) when it outgrows these limits, exactly where Redis
//! converts, so OBJECT ENCODING answers what Redis would.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`).
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`): bytes of a field or value.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries`.
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`.
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`).
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`).
    pub zset_max_listpack_value: usize,
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`): positive = entries per node,
    /// -1..-5 = node size limit of 4/8/16/32/64 KiB.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`: accepted and reported; nodes are not compressed.
    pub list_compress_depth: usize,
    /// `hll-sparse-max-bytes`: a sparse HyperLogLog larger than this becomes dense.
    pub hll_sparse_max_bytes: usize,
    /// DEBUG QUICKLIST-PACKED-THRESHOLD: list elements at least this large get a node of
    /// their own (Redis' "plain" quicklist nodes).
    pub list_packed_threshold: u64,
    /// `stream-node-max-bytes`: a stream node (Redis' listpack) holds no more than about
    /// this many bytes, counted as Redis' listpack would (0 = no limit).
    pub stream_node_max_bytes: u64,
    /// `stream-node-max-entries`: entries (deleted ones included) per stream node
    /// (0 = no limit).
    pub stream_node_max_entries: u64,
}

/// Redis' default quicklist packed threshold (1 GB).
pub const LIST_PACKED_THRESHOLD: u64 = 1 << 30;

impl Default for Limits {
    /// Redis 7.2's defaults.
    fn default() -> Limits {
        Limits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hll_sparse_max_bytes: 3000,
            list_packed_threshold: LIST_PACKED_THRESHOLD,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
        }
    }
}
