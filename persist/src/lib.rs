//! Persistence: RDB encode/decode, per-shard AOF segments, forkless snapshots, recovery.
//!
//! Not built yet (see the persistence issue). The crate exists so the dependency graph of
//! ARCHITECTURE.md (`server -> replication -> persist -> shard`) is in place from the start.
