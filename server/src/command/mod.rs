//! The command table: for every command its metadata (arity, flags, keys: `meta`) and its
//! route, i.e. where and how it runs.

pub mod meta;

use ahash::AHashMap;
use meta::CommandSpec;
use shard::{Cmd, Handler, Reply, Shard};
use std::sync::OnceLock;

/// A command that needs more of its shard than one database (MOVE, COPY ... DB n).
pub type ShardHandler = fn(&mut Shard, usize, &Cmd, u64, &mut Reply);

/// How a command whose keys may live on several shards is coordinated (see `coord`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Multi {
    /// MGET: one item per key, assembled in key order.
    Mget,
    /// MSET: all keys written atomically.
    Mset,
    /// MSETNX: check none exists, then write, atomically.
    Msetnx,
    /// DEL, UNLINK, EXISTS, TOUCH: per-shard counts summed.
    Count,
}

/// Commands run by the connection itself (no key, or all shards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Ping,
}

#[derive(Clone, Copy)]
pub enum Route {
    /// Runs on the shard that owns the key(s).
    Keyed(Handler),
    /// Runs on the shard that owns the key, with access to all its databases.
    Shard(ShardHandler),
    /// Keys may span shards: `local` runs it when they all live on one shard, the
    /// coordinator otherwise.
    Multi(Multi, Handler),
    Server(Server),
}

pub struct Command {
    pub spec: &'static CommandSpec,
    pub route: Route,
}

/// MGET on one shard: the shard part writes items only; the whole reply needs the header.
fn mget_whole(ctx: &mut shard::Ctx, cmd: &Cmd) {
    ctx.out.array(cmd.len() - 1);
    shard::string::mget(ctx, cmd);
}

fn routes() -> Vec<(&'static str, Route)> {
    use shard::string as s;
    use Route::*;
    vec![
        ("get", Keyed(s::get)),
        ("set", Keyed(s::set)),
        ("mget", Multi(self::Multi::Mget, mget_whole)),
        ("mset", Multi(self::Multi::Mset, s::mset)),
        ("ping", Server(self::Server::Ping)),
    ]
}

fn table() -> &'static AHashMap<&'static str, Command> {
    static TABLE: OnceLock<AHashMap<&'static str, Command>> = OnceLock::new();
    TABLE.get_or_init(|| {
        routes()
            .into_iter()
            .map(|(name, route)| {
                let spec = meta::lookup(name.as_bytes())
                    .unwrap_or_else(|| panic!("command {name} has a route but no metadata"));
                (spec.name, Command { spec, route })
            })
            .collect()
    })
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    table().get(std::str::from_utf8(lower).ok()?)
}

/// Redis' arity rule: positive = exactly, negative = at least.
pub fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= arity.unsigned_abs() as usize
    }
}

/// The argument positions of the keys of `cmd` by (first, last, step).
pub fn key_positions(spec: &CommandSpec, argc: usize) -> impl Iterator<Item = usize> {
    let first = spec.first_key.max(0) as usize;
    let last = if spec.last_key < 0 {
        argc as i64 + spec.last_key as i64
    } else {
        spec.last_key as i64
    };
    let step = spec.step.max(1) as usize;
    let end = if first == 0 {
        0
    } else {
        (last + 1).max(0) as usize
    };
    (first..end.min(argc)).step_by(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_metadata() {
        for (name, _) in routes() {
            assert!(lookup(name.as_bytes()).is_some(), "{name}");
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert!(lookup(b"GeT").is_some());
        assert!(lookup(b"nope").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn keys_by_range() {
        let mset = meta::lookup(b"mset").unwrap();
        assert_eq!(key_positions(mset, 5).collect::<Vec<_>>(), vec![1, 3]);
        let get = meta::lookup(b"get").unwrap();
        assert_eq!(key_positions(get, 2).collect::<Vec<_>>(), vec![1]);
        let ping = meta::lookup(b"ping").unwrap();
        assert_eq!(key_positions(ping, 1).count(), 0);
    }
}
