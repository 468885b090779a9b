//! Replication: the leader's replication shard (PSYNC, backlog, streaming) and the follower
//! side (REPLICAOF). Not built yet (see the replication issue); the crate holds its place in
//! the dependency graph of ARCHITECTURE.md.
