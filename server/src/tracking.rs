//! CLIENT TRACKING: server-assisted client-side caching, as in Redis 6+, across shards.
//!
//! The keys a tracking client reads are remembered on their own shard
//! (`shard::tracking`) together with the executor that serves the client. A change to
//! one of them becomes an invalidation there, which the shard sends, when the borrow its
//! commands ran under ends ([`crate::local::ShardMut`]), to that executor. The executor
//! finds the client among its [`Clients`] and queues the frame in its mailbox:
//! - a RESP3 `invalidate` push to the client itself;
//! - with REDIRECT, to the redirect client, possibly on a third executor: a push if it
//!   speaks RESP3, else a message on `__redis__:invalidate` if it is subscribed to
//!   anything (as Redis); if it is gone, the tracking client is told
//!   `tracking-redir-broken` (RESP3) once per invalidation, and the flag shows in
//!   CLIENT TRACKINGINFO;
//! - a RESP2 client without REDIRECT gets nothing (RESP2 has no push frames).
//!
//! BCAST clients register their prefixes on every shard; a shard collects the keys changed
//! under a prefix and sends them in one message per prefix when its borrow ends (Redis does
//! it once per event loop). FLUSHDB / FLUSHALL tell every tracking client to drop its whole
//! cache (a null), and forget every remembered key.
//!
//! Order: a read remembers its keys on the shard before its reply leaves it, and a later
//! change sends the invalidation after. A connection writes the replies it has before the
//! frames in its mailbox, so a client never sees an invalidation before the value it
//! invalidates.

use crate::client::{ClientInfo, Session};
use crate::local::Local;
use crate::pubsub::Mailbox;
use ahash::AHashMap;
use bytes::Bytes;
use shard::tracking::{Invalidation, Reader};
use shard::{Cmd, Reply, Shard};
use std::cell::Cell;
use std::rc::Rc;

/// A client's tracking mode (CLIENT TRACKING ON's options) and where its invalidations go.
pub struct Tracker {
    pub id: u64,
    info: Rc<ClientInfo>,
    mailbox: Rc<Mailbox>,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// REDIRECT: the client id and the executor serving it.
    redirect: Option<(u64, usize)>,
    prefixes: Vec<Bytes>,
    /// The REDIRECT client was gone when an invalidation was due.
    broken: Cell<bool>,
    /// CLIENT CACHING yes (OPTIN) / no (OPTOUT) was given for the next command.
    pub caching: Cell<bool>,
}

/// What an invalidation carries: keys, or "everything" after a flush.
#[derive(Clone)]
enum Payload {
    Keys(Vec<Box<[u8]>>),
    /// After FLUSHDB / FLUSHALL; Redis encodes the null in the tracking client's protocol.
    Flush {
        resp3: bool,
    },
}

/// The tracking clients one executor serves, by id.
#[derive(Default)]
pub struct Clients {
    by_id: AHashMap<u64, Rc<Tracker>>,
}

impl Clients {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The reader a job's keys are remembered for, if the client tracks them (default mode,
/// with OPTIN / OPTOUT honoured).
pub fn reader_for(local: &Local, sess: &Session) -> Option<Reader> {
    let t = sess.tracking.as_ref()?;
    if t.bcast || (t.optin && !t.caching.get()) || (t.optout && t.caching.get()) {
        return None;
    }
    Some(Reader {
        client: t.id,
        home: local.id as u32,
    })
}

/// Where the keys a script's read commands read are remembered for the client running it
/// (as Redis, which tracks them for the script's caller), and the end of its CLIENT
/// CACHING: [`command_done`] leaves the flag to this, so it still holds when the script
/// starts.
pub fn script_reader(local: &Local, sess: &Session) -> Option<Reader> {
    let reader = reader_for(local, sess);
    if let Some(t) = &sess.tracking {
        if sess.multi.is_none() {
            t.caching.set(false);
        }
    }
    reader
}

/// Commands that run a script: CLIENT CACHING lasts until the script starts.
fn runs_script(name: &str) -> bool {
    matches!(
        name,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
    )
}

/// After a command: CLIENT CACHING applies to the next command only (all of a MULTI).
pub fn command_done(sess: &Session, name: &str) {
    if runs_script(name) {
        return;
    }
    if let Some(t) = &sess.tracking {
        // As Redis: kept across CLIENT subcommands and until EXEC inside MULTI.
        let in_multi = sess.multi.is_some() && !matches!(name, "exec" | "discard");
        if t.caching.get() && !name.starts_with("client") && !in_multi {
            t.caching.set(false);
        }
    }
}

/// Sends what `shard` recorded for trackers: invalidations of changed keys, to the
/// executors serving their readers.
pub fn send_recorded(local: &Local, shard: &mut Shard) {
    shard.collect_changes();
    let max = local.shared.config().tracking_table_max_keys as usize;
    shard.tracking.shrink_to(max);
    shard.sync_change_logs();
    if !shard.tracking.has_pending() {
        return;
    }
    let mut by_home: Vec<Vec<Invalidation>> = (0..local.shards()).map(|_| Vec::new()).collect();
    for inv in shard.tracking.take() {
        let home = match &inv {
            Invalidation::Key { reader, .. } | Invalidation::Prefix { reader, .. } => reader.home,
        };
        by_home[home as usize].push(inv);
    }
    for (home, list) in by_home.into_iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        if home == local.id {
            deliver(local, list);
        } else {
            local.mesh.send(home, Box::new(move |l| deliver(l, list)));
        }
    }
}

/// Keys a tracker must drop.
type ToDrop = (Rc<Tracker>, Vec<Box<[u8]>>);

/// On a reader's executor: tells each tracker what it must drop.
fn deliver(local: &Local, list: Vec<Invalidation>) {
    let trackers: Vec<ToDrop> = {
        let clients = local.tracking.borrow();
        list.into_iter()
            .filter_map(|inv| match inv {
                Invalidation::Key { reader, key, by } => {
                    let t = clients.by_id.get(&reader.client)?;
                    // A tracker that switched to BCAST no longer hears of keys it read.
                    if t.bcast || (t.noloop && by == t.id) {
                        return None;
                    }
                    Some((t.clone(), vec![key]))
                }
                Invalidation::Prefix { reader, keys } => {
                    let t = clients.by_id.get(&reader.client)?;
                    if !t.bcast {
                        return None;
                    }
                    let keys: Vec<Box<[u8]>> = keys
                        .into_iter()
                        .filter(|(_, by)| !(t.noloop && *by == t.id))
                        .map(|(k, _)| k)
                        .collect();
                    (!keys.is_empty()).then(|| (t.clone(), keys))
                }
            })
            .collect()
    };
    for (t, keys) in trackers {
        send(local, &t, Payload::Keys(keys));
    }
}

/// Sends one invalidation on behalf of tracker `t` (on its executor).
fn send(local: &Local, t: &Rc<Tracker>, payload: Payload) {
    match t.redirect {
        None => {
            if t.info.resp.get() >= 3 {
                push(local, &t.mailbox, &t.info, &payload, false);
            }
        }
        Some((target, home)) => {
            let origin = (t.id, local.id);
            if home == local.id {
                to_redirect(local, target, payload, origin);
            } else {
                local.mesh.send(
                    home,
                    Box::new(move |l| to_redirect(l, target, payload, origin)),
                );
            }
        }
    }
}

/// On the REDIRECT target's executor: delivers, or reports the target gone to the tracker.
fn to_redirect(local: &Local, target: u64, payload: Payload, origin: (u64, usize)) {
    let found = local.clients.borrow().get(&target).cloned();
    let Some(info) = found else {
        let (id, home) = origin;
        let broken = move |l: &Local| {
            let t = l.tracking.borrow().by_id.get(&id).cloned();
            if let Some(t) = t {
                t.broken.set(true);
                if t.info.resp.get() >= 3 {
                    let mut r = Reply::new(true);
                    r.push(2);
                    r.bulk(b"tracking-redir-broken");
                    r.int(target as i64);
                    t.mailbox.push(Bytes::from(r.buf), limits(l, &t.info));
                }
            }
        };
        if home == local.id {
            broken(local);
        } else {
            local.mesh.send(home, Box::new(move |l| broken(l)));
        }
        return;
    };
    let mailbox = info.mailbox.borrow().upgrade();
    let Some(mailbox) = mailbox else {
        return; // never subscribed nor RESP3-tracking: nothing can reach it
    };
    if info.resp.get() >= 3 {
        push(local, &mailbox, &info, &payload, false);
    } else if info.subscriptions.get() != (0, 0, 0) {
        push(local, &mailbox, &info, &payload, true);
    }
}

/// Queues the frame: a RESP3 `invalidate` push, or (`as_message`) a RESP2 pub/sub message
/// on `__redis__:invalidate`.
fn push(local: &Local, mailbox: &Mailbox, info: &ClientInfo, payload: &Payload, as_message: bool) {
    let mut r = Reply::new(!as_message);
    if as_message {
        r.array(3);
        r.bulk(b"message");
        r.bulk(b"__redis__:invalidate");
    } else {
        r.push(2);
        r.bulk(b"invalidate");
    }
    match payload {
        Payload::Keys(keys) => {
            r.array(keys.len());
            for k in keys {
                r.bulk(k);
            }
        }
        Payload::Flush { resp3 } => {
            r.buf
                .extend_from_slice(if *resp3 { b"_\r\n" } else { b"$-1\r\n" })
        }
    }
    mailbox.push(Bytes::from(r.buf), limits(local, info));
}

/// The output-buffer class of a client: pubsub while it is subscribed, else normal.
fn limits(local: &Local, info: &ClientInfo) -> crate::pubsub::BufferLimit {
    let class = if info.subscriptions.get() != (0, 0, 0) {
        2
    } else {
        0
    };
    local.shared.config().client_output_buffer_limit[class]
}

/// FLUSHDB / FLUSHALL: every tracking client drops its cache; remembered keys go.
pub async fn flushed(local: &Rc<Local>) {
    local
        .call_all(|l| {
            l.shard().tracking.forget_keys();
            let trackers: Vec<Rc<Tracker>> = l.tracking.borrow().by_id.values().cloned().collect();
            for t in trackers {
                let resp3 = t.info.resp.get() >= 3;
                send(l, &t, Payload::Flush { resp3 });
            }
        })
        .await;
}

// ---------------------------------------------------------------------------------------------
// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO

const SYNTAX: &str = "ERR syntax error";

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP].
pub async fn client_tracking(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    // REDIRECT: the target's id and the executor serving it (0: no redirection).
    let mut redirect: Option<(u64, usize)> = None;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut i = 3;
    while i < cmd.len() {
        let more = i + 1 < cmd.len();
        let opt = cmd[i].to_ascii_lowercase();
        match opt.as_slice() {
            b"redirect" if more => {
                i += 1;
                if redirect.is_some_and(|(r, _)| r != 0) {
                    return out.error("ERR A client can only redirect to a single other client");
                }
                let Some(id) = shard::num::parse_i64(&cmd[i]) else {
                    return out.error("ERR value is not an integer or out of range");
                };
                let home = match id {
                    0 => 0,
                    _ => match locate(local, id as u64).await {
                        Some(home) => home,
                        None => {
                            return out
                                .error("ERR The client ID you want redirect to does not exist")
                        }
                    },
                };
                redirect = Some((id as u64, home));
            }
            b"bcast" => bcast = true,
            b"optin" => optin = true,
            b"optout" => optout = true,
            b"noloop" => noloop = true,
            b"prefix" if more => {
                i += 1;
                prefixes.push(cmd.arg_bytes(i));
            }
            _ => return out.error(SYNTAX),
        }
        i += 1;
    }
    let on = cmd[2].to_ascii_lowercase();
    match on.as_slice() {
        b"on" => {}
        b"off" => {
            disable(local, sess);
            return out.ok();
        }
        _ => return out.error(SYNTAX),
    }
    if !bcast && !prefixes.is_empty() {
        return out.error("ERR PREFIX option requires BCAST mode to be enabled");
    }
    let old = sess.tracking.clone();
    if old.as_ref().is_some_and(|t| t.bcast != bcast) {
        return out.error(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        );
    }
    if bcast && (optin || optout) {
        return out.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if optin && optout {
        return out.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if old
        .as_ref()
        .is_some_and(|t| (optin && t.optout) || (optout && t.optin))
    {
        return out.error(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, \
             and then re-enabling it with a different mode.",
        );
    }
    let existing: &[Bytes] = old.as_ref().map_or(&[], |t| &t.prefixes);
    if bcast {
        if let Err(e) = check_prefixes(existing, &prefixes) {
            return out.error(&e);
        }
    }
    let redirect_to = redirect.filter(|&(id, _)| id != 0);
    // The prefixes this call adds (BCAST without PREFIX follows every key).
    let mut added: Vec<Bytes> = prefixes
        .into_iter()
        .filter(|p| !existing.contains(p))
        .collect();
    if bcast && existing.is_empty() && added.is_empty() {
        added.push(Bytes::new());
    }
    let mut all: Vec<Bytes> = existing.to_vec();
    all.extend(added.iter().cloned());
    let tracker = Rc::new(Tracker {
        id: sess.info.id,
        info: sess.info.clone(),
        mailbox: sess.mailbox(),
        bcast,
        optin,
        optout,
        noloop,
        redirect: redirect_to,
        prefixes: all,
        broken: Cell::new(false),
        caching: Cell::new(false),
    });
    local
        .tracking
        .borrow_mut()
        .by_id
        .insert(tracker.id, tracker.clone());
    sess.tracking = Some(tracker);
    if !added.is_empty() {
        let reader = Reader {
            client: sess.info.id,
            home: local.id as u32,
        };
        local
            .call_all(move |l| {
                let mut shard = l.shard();
                for p in &added {
                    shard.tracking.add_prefix(p, reader);
                }
                shard.sync_change_logs();
            })
            .await;
    }
    out.ok();
}

/// Redis' overlap rule: no new prefix may be a prefix of another, new or existing.
fn check_prefixes(existing: &[Bytes], new: &[Bytes]) -> Result<(), String> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single \
                 client must not overlap.",
                show(p),
                show(e)
            ));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a \
                 single client must not overlap.",
                show(p),
                show(q)
            ));
        }
    }
    Ok(())
}

/// The executor serving client `id`, if it is connected.
async fn locate(local: &Rc<Local>, id: u64) -> Option<usize> {
    if local.clients.borrow().contains_key(&id) {
        return Some(local.id);
    }
    local
        .call_all(move |l| l.clients.borrow().contains_key(&id).then_some(l.id))
        .await
        .into_iter()
        .flatten()
        .next()
}

/// Turns tracking off for `sess` (CLIENT TRACKING OFF, RESET, disconnection). Its BCAST
/// prefixes leave every shard; keys it read are forgotten lazily, as in Redis.
pub fn disable(local: &Local, sess: &mut Session) {
    let Some(t) = sess.tracking.take() else {
        return;
    };
    local.tracking.borrow_mut().by_id.remove(&t.id);
    if t.bcast {
        let reader = Reader {
            client: t.id,
            home: local.id as u32,
        };
        local.tell_all(move |l| {
            let mut shard = l.shard();
            shard.tracking.forget_prefixes(reader);
            shard.sync_change_logs();
        });
    }
}

/// CLIENT CACHING YES|NO.
pub fn client_caching(sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let Some(t) = &sess.tracking else {
        return out.error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with \
             OPTIN or OPTOUT mode enabled",
        );
    };
    let v = cmd[2].to_ascii_lowercase();
    match v.as_slice() {
        b"yes" if t.optin => t.caching.set(true),
        b"yes" => {
            return out.error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            )
        }
        b"no" if t.optout => t.caching.set(true),
        b"no" => {
            return out.error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            )
        }
        _ => return out.error(SYNTAX),
    }
    out.ok();
}

/// CLIENT GETREDIR: -1 when not tracking, 0 without REDIRECT, else the target's id.
pub fn client_getredir(sess: &Session, out: &mut Reply) {
    out.int(match &sess.tracking {
        None => -1,
        Some(t) => t.redirect.map_or(0, |(id, _)| id as i64),
    });
}

/// CLIENT TRACKINGINFO.
pub fn client_trackinginfo(sess: &Session, out: &mut Reply) {
    out.map(3);
    out.bulk(b"flags");
    match &sess.tracking {
        None => {
            out.set(1);
            out.bulk(b"off");
        }
        Some(t) => {
            let mut flags: Vec<&[u8]> = vec![b"on"];
            if t.bcast {
                flags.push(b"bcast");
            }
            if t.optin {
                flags.push(b"optin");
                if t.caching.get() {
                    flags.push(b"caching-yes");
                }
            }
            if t.optout {
                flags.push(b"optout");
                if t.caching.get() {
                    flags.push(b"caching-no");
                }
            }
            if t.noloop {
                flags.push(b"noloop");
            }
            if t.redirect.is_some() && t.broken.get() {
                flags.push(b"broken_redirect");
            }
            out.set(flags.len());
            for f in flags {
                out.bulk(f);
            }
        }
    }
    out.bulk(b"redirect");
    out.int(match &sess.tracking {
        None => -1,
        Some(t) => t.redirect.map_or(0, |(id, _)| id as i64),
    });
    out.bulk(b"prefixes");
    let prefixes: &[Bytes] = sess.tracking.as_ref().map_or(&[], |t| &t.prefixes);
    let mut sorted: Vec<&Bytes> = prefixes.iter().collect();
    sorted.sort();
    out.array(sorted.len());
    for p in sorted {
        out.bulk(p);
    }
}
