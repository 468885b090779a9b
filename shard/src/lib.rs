//! One core's data and the commands that run against it.
//!
//! No I/O and no async runtime here: every function is synchronous, runs on the shard's own
//! thread and writes its reply into a [`Reply`] buffer. The server crate routes commands to
//! the shard that owns their keys and coordinates the ones that span shards.

pub mod bitops;
pub mod blocking;
pub mod cmd;
pub mod compact;
pub mod dash;
pub mod db;
pub mod digest;
pub mod effects;
pub mod evict;
pub mod geo;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod limits;
pub mod list;
pub mod locks;
pub mod notify;
pub mod num;
pub mod rebuild;
pub mod reply;
pub mod rng;
pub mod scan;
pub mod set;
pub mod shard;
pub mod slot;
pub mod snapshot;
pub mod sort;
pub mod stream;
pub mod string;
pub mod tracking;
pub mod value;
pub mod watch;
pub mod zset;

pub use cmd::Cmd;
pub use db::{Db, Entry};
pub use reply::Reply;
pub use shard::{Ctx, Handler, Shard};
pub use value::Value;
