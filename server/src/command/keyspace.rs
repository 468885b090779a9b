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
            keys::keys_shard(&l.shard.borrow().dbs[db], &pattern, unix_ms(), &mut found);
            found
        })
        .await;
    out.array(parts.iter().map(Vec::len).sum());
    for k in parts.iter().flatten() {
        out.bulk(k);
    }
}

/// Bits of a SCAN cursor that name the shard; the rest is the shard's own cursor.
const SHARD_BITS: u32 = 8;

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// One cursor walks the shards in order: its low bits name the shard, the high bits are that
/// shard's table cursor. Each shard's walk keeps Redis' guarantee (a key present for the whole
/// scan is returned at least once), so the concatenation does too.
pub async fn scan(local: &Rc<Local>, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let Some(cursor) = shard::num::parse_u64(&cmd[1]) else {
        return out.error("ERR invalid cursor");
    };
    let opts = match keys::parse_scan_opts(cmd, 2) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let shards = local.shards() as u64;
    let mut shard = cursor & ((1 << SHARD_BITS) - 1);
    let mut inner = cursor >> SHARD_BITS;
    if shard >= shards {
        // A cursor from a server with more shards: start over rather than skip keys.
        shard = 0;
        inner = 0;
    }
    let db = sess.db;
    let (found, next_inner) = local
        .call(shard as usize, move |l| {
            let mut found = Vec::new();
            let next =
                keys::scan_shard(&l.shard.borrow().dbs[db], inner, unix_ms(), &opts, &mut found);
            (found, next)
        })
        .await;
    let next = if next_inner != 0 {
        (next_inner << SHARD_BITS) | shard
    } else if shard + 1 < shards {
        shard + 1
    } else {
        0
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
    let sizes = local
        .call_all(move |l| l.shard.borrow().dbs[db].len())
        .await;
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return out.null();
    }
    // Pick a shard in proportion to its size, so every key is about equally likely.
    let mut pick = local.shard.borrow_mut().rng.below(total as u64) as usize;
    let mut order: Vec<usize> = Vec::with_capacity(sizes.len());
    for (s, &n) in sizes.iter().enumerate() {
        if pick < n {
            order.push(s);
            break;
        }
        pick -= n;
    }
    order.extend((0..sizes.len()).filter(|s| !order.contains(s) && sizes[*s] > 0));
    for s in order {
        let key = local
            .call(s, move |l| {
                let mut shard = l.shard.borrow_mut();
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
