//! The Shardis server: runtime, protocol, routing and coordination. See ARCHITECTURE.md.

pub mod client;
pub mod command;
pub mod config;
pub mod conn;
pub mod coord;
pub mod cron;
pub mod dispatch;
pub mod listener;
pub mod local;
pub mod log;
pub mod mesh;
pub mod resp;
pub mod runtime;
pub mod server_cmds;
pub mod stats;
