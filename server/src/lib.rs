//! The Shardis server: runtime, protocol, routing and coordination. See ARCHITECTURE.md.

pub mod acl;
pub mod aof;
pub mod aof_rewrite;
pub mod blocking;
pub mod client;
pub mod command;
pub mod config;
pub mod config_rewrite;
pub mod conn;
pub mod coord;
pub mod cron;
pub mod dispatch;
pub mod follower;
pub mod info;
pub mod latency;
pub mod leader;
pub mod listener;
pub mod local;
pub mod log;
pub mod maxmemory;
pub mod memory;
pub mod memory_report;
pub mod mesh;
pub mod monitor;
pub mod multi;
pub mod notify;
pub mod panics;
pub mod propagate;
pub mod pubsub;
pub mod rdb_load;
pub mod rdb_save;
pub mod resp;
pub mod ring;
pub mod runtime;
pub mod script;
pub mod scripting;
pub mod slowlog;
pub mod snapshot;
pub mod socket;
pub mod stats;
pub mod tracking;

/// The Redis version Shardis is compatible with, as INFO and HELLO report it (clients pick
/// features by it).
pub const REDIS_VERSION: &str = "7.2.4";
