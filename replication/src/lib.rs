//! Replication: the pure parts of the Redis replication protocol. The leader's stream
//! ([`stream`]: every shard's effects in one ordered stream with offsets, and its backlog)
//! and the follower's protocol pieces ([`follower`]: reply lines, the RDB transfer's
//! framing, offsets) live here; the tasks that accept replicas and stream to them, and the
//! follower's link, need the executors and live in `server/` (`leader.rs`, `follower/`),
//! as the AOF does.

pub mod follower;
pub mod stream;
