//! Replication: the leader's replication shard (PSYNC, backlog, streaming) and the follower
//! side (REPLICAOF). This crate holds the pure parts of the Redis replication protocol; the
//! server drives them over its sockets.

pub mod follower;
