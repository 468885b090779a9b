//! Commands over the whole keyspace of a database, on every shard: KEYS, SCAN, RANDOMKEY.

use crate::client::Session;
use crate::local::{unix_ms, Local};
use shard::keys;
use shard::{Cmd, Reply};
use std::rc::Rc;

pub async fn keys(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let db = sess.db;
    let pattern = cmd.arg_bytes(1);
    let parts = local
        .call_all(move |l| {
            let mut found = Vec::new();
            keys::keys_shard(&l.shard_ref().dbs[db], &pattern, unix_ms(), &mut found);
            found
        })
        .await;
    out.array(parts.iter().map(Vec::len).sum());
    for k in parts.iter().flatten() {
        out.bulk(k);
    }
}

/// The low bits of a SCAN cursor name the shard. A shard's table cursor always has its low
/// 10 bits clear (its steps are aligned to at least 2^10, see `shard::dash`), so the two
/// share one u64 without losing anything.
const SHARD_MASK: u64 = 0xff;

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// One cursor walks the shards in order: its low bits name the shard, the rest is that
/// shard's table cursor. Each shard's walk keeps Redis' guarantee (a key present for the whole
/// scan is returned at least once), so the concatenation does too.
pub async fn scan(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let Some(cursor) = shard::scan::parse_cursor(&cmd[1]) else {
        return out.error(shard::scan::ERR_INVALID_CURSOR);
    };
    let opts = match keys::parse_scan_opts(cmd, 2) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let shards = local.shards() as u64;
    let mut shard = cursor & SHARD_MASK;
    let mut inner = cursor & !SHARD_MASK;
    if shard >= shards {
        // A cursor from a server with more shards: start over rather than skip keys.
        shard = 0;
        inner = 0;
    }
    let db = sess.db;
    let mut found = Vec::new();
    // A shard that finishes early hands over to the next one within the same call, so a
    // small keyspace is walked in one call (cursor 0 back, as Redis gives).
    let next = loop {
        let shard_opts = opts.clone();
        let (part, next_inner) = local
            .call(shard as usize, move |l| {
                let mut part = Vec::new();
                let next = keys::scan_shard(
                    &l.shard_ref().dbs[db],
                    inner,
                    unix_ms(),
                    &shard_opts,
                    &mut part,
                );
                (part, next)
            })
            .await;
        found.extend(part);
        debug_assert_eq!(next_inner & SHARD_MASK, 0);
        if next_inner != 0 {
            break next_inner | shard;
        }
        shard += 1;
        inner = 0;
        if shard == shards {
            break 0;
        }
        if found.len() >= opts.count {
            break shard;
        }
    };
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len());
    for k in &found {
        out.bulk(k);
    }
}

pub async fn randomkey(local: &Rc<Local>, sess: &Session, out: &mut Reply) {
    let db = sess.db;
    let sizes = local.call_all(move |l| l.shard_ref().dbs[db].len()).await;
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return out.null();
    }
    // Pick a shard in proportion to its size, so every key is about equally likely.
    let mut pick = local.shard().rng.below(total as u64) as usize;
    let mut first = 0;
    for (s, &n) in sizes.iter().enumerate() {
        if pick < n {
            first = s;
            break;
        }
        pick -= n;
    }
    // Keys may expire between the count and the pick: fall back to the other shards.
    let others = (0..sizes.len()).filter(|&s| s != first && sizes[s] > 0);
    for s in std::iter::once(first).chain(others) {
        let key = local
            .call(s, move |l| {
                let mut shard = l.shard();
                let shard = &mut *shard;
                keys::random_key(&mut shard.dbs[db], &mut shard.rng, unix_ms())
            })
            .await;
        if let Some(k) = key {
            return out.bulk(&k);
        }
    }
    out.null();
}
