//! Pub/sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH, SPUBLISH,
//! PUBSUB.
//!
//! A subscription lives on the executor that serves the subscribing connection: its
//! [`Registry`] maps channels (and shard channels) to the local subscribers and keeps the
//! local patterns. PUBLISH goes to every executor in one message each; each delivers to its
//! own subscribers, encoding each message frame once per protocol and sharing the bytes
//! between its subscribers (the payload is never copied per subscriber), and answers how
//! many it reached. The publisher replies after every executor did, so one client's
//! messages arrive in the order it published them, once per matching subscription (a client
//! subscribed to a channel and to a matching pattern gets both, as in Redis).
//!
//! Each subscribed connection has a [`Mailbox`]: delivered frames wait there until the
//! connection writes them. A mailbox that holds more than `client-output-buffer-limit`'s
//! pubsub hard limit, or more than its soft limit for longer than the soft seconds, gets its
//! client disconnected, as Redis does: a slow subscriber never stalls publishers or its
//! executor, and only it loses messages.

use crate::client::Session;
use crate::local::Local;
use ahash::{AHashMap, AHashSet};
use bytes::Bytes;
use shard::glob::glob_match;
use shard::{Cmd, Reply};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

/// Where a connection's published messages wait to be written.
pub struct Mailbox {
    frames: RefCell<VecDeque<Bytes>>,
    bytes: Cell<usize>,
    waker: RefCell<Option<Waker>>,
    pub resp3: Cell<bool>,
    info: Rc<crate::client::ClientInfo>,
    /// Since when the mailbox has been over the soft limit.
    over_soft_since: Cell<Option<Instant>>,
}

impl Mailbox {
    /// Bytes of messages waiting to be sent: the subscriber's output buffer.
    pub fn queued_bytes(&self) -> usize {
        self.bytes.get()
    }

    pub fn new(info: Rc<crate::client::ClientInfo>, resp3: bool) -> Mailbox {
        Mailbox {
            frames: RefCell::default(),
            bytes: Cell::new(0),
            waker: RefCell::default(),
            resp3: Cell::new(resp3),
            info,
            over_soft_since: Cell::new(None),
        }
    }

    /// Queues a frame; disconnects the client instead when it is over its limits.
    pub fn push(&self, frame: Bytes, limits: BufferLimit) {
        if self.info.is_killed() {
            return;
        }
        let bytes = self.bytes.get() + frame.len();
        let over_hard = limits.hard > 0 && bytes > limits.hard;
        let over_soft = limits.soft > 0 && bytes > limits.soft;
        let soft_expired = match (over_soft, self.over_soft_since.get()) {
            (false, _) => {
                self.over_soft_since.set(None);
                false
            }
            (true, None) => {
                self.over_soft_since.set(Some(Instant::now()));
                limits.soft_seconds == 0
            }
            (true, Some(t)) => t.elapsed().as_secs() >= limits.soft_seconds,
        };
        if over_hard || soft_expired {
            crate::log::log(
                crate::log::Level::Warning,
                &format!(
                    "Client id={} addr={} scheduled to be closed ASAP for overcoming of output \
                     buffer limits.",
                    self.info.id, self.info.addr
                ),
            );
            self.frames.borrow_mut().clear();
            self.bytes.set(0);
            self.info.kill();
            return;
        }
        self.bytes.set(bytes);
        self.frames.borrow_mut().push_back(frame);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Resolves once frames are waiting.
    pub async fn ready(&self) {
        std::future::poll_fn(|cx| {
            if self.frames.borrow().is_empty() {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await
    }

    /// Moves the waiting frames to `out`.
    pub fn drain_into(&self, out: &mut Vec<u8>) {
        for f in self.frames.borrow_mut().drain(..) {
            out.extend_from_slice(&f);
        }
        self.bytes.set(0);
        self.over_soft_since.set(None);
    }
}

/// `client-output-buffer-limit`'s pubsub class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferLimit {
    pub hard: usize,
    pub soft: usize,
    pub soft_seconds: u64,
}

/// The three namespaces of subscriptions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One executor's subscribers.
#[derive(Default)]
pub struct Registry {
    channels: AHashMap<Bytes, Vec<Rc<Mailbox>>>,
    shard_channels: AHashMap<Bytes, Vec<Rc<Mailbox>>>,
    patterns: Vec<(Bytes, Rc<Mailbox>)>,
}

impl Registry {
    fn add(&mut self, kind: Kind, name: &Bytes, mb: &Rc<Mailbox>) {
        match kind {
            Kind::Channel => self
                .channels
                .entry(name.clone())
                .or_default()
                .push(mb.clone()),
            Kind::Shard => self
                .shard_channels
                .entry(name.clone())
                .or_default()
                .push(mb.clone()),
            Kind::Pattern => self.patterns.push((name.clone(), mb.clone())),
        }
    }

    fn remove(&mut self, kind: Kind, name: &[u8], mb: &Rc<Mailbox>) {
        let map = match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard_channels,
            Kind::Pattern => {
                self.patterns
                    .retain(|(p, m)| !(p.as_ref() == name && Rc::ptr_eq(m, mb)));
                return;
            }
        };
        if let Some(list) = map.get_mut(name) {
            list.retain(|m| !Rc::ptr_eq(m, mb));
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// The clients of `user` subscribed to a channel, shard channel or pattern that
    /// `allowed(name, literal)` denies (patterns are checked literally, as Redis checks a
    /// PSUBSCRIBE), each once.
    pub fn denied_subscribers(
        &self,
        user: &str,
        allowed: impl Fn(&[u8], bool) -> bool,
    ) -> Vec<Rc<crate::client::ClientInfo>> {
        let mut denied: Vec<Rc<crate::client::ClientInfo>> = Vec::new();
        let mut check = |name: &[u8], literal: bool, mb: &Rc<Mailbox>| {
            if *mb.info.user.borrow() == user
                && !denied.iter().any(|c| Rc::ptr_eq(c, &mb.info))
                && !allowed(name, literal)
            {
                denied.push(mb.info.clone());
            }
        };
        for (channel, mailboxes) in self.channels.iter().chain(&self.shard_channels) {
            for mb in mailboxes {
                check(channel, false, mb);
            }
        }
        for (pattern, mb) in &self.patterns {
            check(pattern, true, mb);
        }
        denied
    }

    /// Delivers a message to this executor's subscribers; returns how many received it.
    fn deliver(&self, shard: bool, channel: &[u8], msg: &[u8], limits: BufferLimit) -> usize {
        // One frame per protocol and kind, shared by every subscriber that takes it.
        let mut frames: [Option<Bytes>; 2] = [None, None];
        let mut n = 0;
        let word: &[u8] = if shard { b"smessage" } else { b"message" };
        let map = if shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        if let Some(list) = map.get(channel) {
            for mb in list {
                let resp3 = mb.resp3.get();
                let frame = frames[resp3 as usize]
                    .get_or_insert_with(|| message_frame(resp3, &[word, channel, msg]))
                    .clone();
                mb.push(frame, limits);
                n += 1;
            }
        }
        if !shard {
            // One frame per matching pattern and protocol, shared by its subscribers.
            let mut pframes: Vec<(&[u8], bool, Bytes)> = Vec::new();
            for (pattern, mb) in &self.patterns {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                let resp3 = mb.resp3.get();
                let known = pframes
                    .iter()
                    .find(|(p, r, _)| *p == &pattern[..] && *r == resp3);
                let frame = match known {
                    Some((_, _, f)) => f.clone(),
                    None => {
                        let f = message_frame(resp3, &[b"pmessage", pattern, channel, msg]);
                        pframes.push((pattern, resp3, f.clone()));
                        f
                    }
                };
                mb.push(frame, limits);
                n += 1;
            }
        }
        n
    }
}

/// A push frame: RESP3 `>`, RESP2 a plain array.
fn message_frame(resp3: bool, parts: &[&[u8]]) -> Bytes {
    let mut r = Reply::new(resp3);
    if resp3 {
        r.push(parts.len());
    } else {
        r.array(parts.len());
    }
    for p in parts {
        r.bulk(p);
    }
    Bytes::from(r.buf)
}

/// A connection's subscriptions.
#[derive(Default)]
pub struct Subscriptions {
    channels: AHashSet<Bytes>,
    patterns: AHashSet<Bytes>,
    shard_channels: AHashSet<Bytes>,
}

impl Subscriptions {
    /// Subscriptions of every kind (the RESP2 subscribed mode applies while any is left).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// The count an (un)subscribe reply carries: channels and patterns together, shard
    /// channels on their own (as Redis).
    fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard_channels.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    fn set(&mut self, kind: Kind) -> &mut AHashSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// CLIENT LIST's sub=, psub=, ssub=.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.channels.len(),
            self.patterns.len(),
            self.shard_channels.len(),
        )
    }
}

/// The reply to one (un)subscription: `[word, name, count]`, a push in RESP3.
fn confirm(out: &mut Reply, word: &[u8], name: Option<&[u8]>, count: usize) {
    if out.resp3 {
        out.push(3);
    } else {
        out.array(3);
    }
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

/// SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE.
pub fn subscribe(local: &Local, sess: &mut Session, cmd: &Cmd, kind: Kind, out: &mut Reply) {
    let mb = sess.mailbox();
    for name in cmd.args().skip(1) {
        let name = Bytes::copy_from_slice(name);
        if sess.pubsub.set(kind).insert(name.clone()) {
            local.pubsub.borrow_mut().add(kind, &name, &mb);
        }
        confirm(
            out,
            kind.subscribe_word(),
            Some(&name),
            sess.pubsub.count_for(kind),
        );
    }
    sess.info.subscriptions.set(sess.pubsub.counts());
}

/// UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE: the named ones, or all of that kind.
pub fn unsubscribe(local: &Local, sess: &mut Session, cmd: &Cmd, kind: Kind, out: &mut Reply) {
    let names: Vec<Bytes> = if cmd.len() > 1 {
        cmd.args().skip(1).map(Bytes::copy_from_slice).collect()
    } else {
        let mut all: Vec<Bytes> = sess.pubsub.set(kind).iter().cloned().collect();
        all.sort();
        all
    };
    if names.is_empty() {
        confirm(
            out,
            kind.unsubscribe_word(),
            None,
            sess.pubsub.count_for(kind),
        );
    }
    for name in names {
        if sess.pubsub.set(kind).remove(&name) {
            if let Some(mb) = &sess.mailbox {
                local.pubsub.borrow_mut().remove(kind, &name, mb);
            }
        }
        confirm(
            out,
            kind.unsubscribe_word(),
            Some(&name),
            sess.pubsub.count_for(kind),
        );
    }
    sess.info.subscriptions.set(sess.pubsub.counts());
}

/// Drops every subscription (RESET, disconnection).
pub fn unsubscribe_all(local: &Local, sess: &mut Session) {
    let subs = std::mem::take(&mut sess.pubsub);
    if let Some(mb) = &sess.mailbox {
        let mut reg = local.pubsub.borrow_mut();
        for (kind, set) in [
            (Kind::Channel, &subs.channels),
            (Kind::Pattern, &subs.patterns),
            (Kind::Shard, &subs.shard_channels),
        ] {
            for name in set {
                reg.remove(kind, name, mb);
            }
        }
    }
    sess.info.subscriptions.set((0, 0, 0));
}

/// PUBLISH / SPUBLISH: every executor delivers to its subscribers.
///
/// On this executor too the message comes after what other shards queued for it before
/// (keyspace events): it is delivered here at once only when nothing waits in its mesh
/// queue, else through the queue. So a message published after a command's reply reaches
/// every subscriber after that command's events.
pub async fn publish(local: &Rc<Local>, cmd: &Cmd, shard: bool, out: &mut Reply) {
    let (channel, msg) = (cmd.arg_bytes(1), cmd.arg_bytes(2));
    let limits = local.shared.config().client_output_buffer_limit[2];
    let here = !local.mesh.has_pending(local.id);
    let pending: Vec<_> = (0..local.shards())
        .filter(|&s| !(here && s == local.id))
        .map(|s| {
            let (tx, rx) = futures_channel::oneshot::channel();
            let (channel, msg) = (channel.clone(), msg.clone());
            local.mesh.send(
                s,
                Box::new(move |l| {
                    let n = l.pubsub.borrow().deliver(shard, &channel, &msg, limits);
                    let _ = tx.send(n);
                }),
            );
            rx
        })
        .collect();
    let mut total = match here {
        true => local.pubsub.borrow().deliver(shard, &channel, &msg, limits),
        false => 0,
    };
    for rx in pending {
        total += rx.await.expect("shard mailbox dropped a job");
    }
    out.int(total as i64);
}

/// Publishes messages the server itself produces (keyspace notifications) on every
/// executor, without waiting: this executor's subscribers get them now, the others in one
/// mesh message each, in order.
pub fn broadcast(local: &Local, messages: Vec<(Bytes, Bytes)>) {
    let limits = local.shared.config().client_output_buffer_limit[2];
    let messages = Arc::new(messages);
    local.tell_all(move |l| deliver_all(l, messages.clone(), limits));
}

fn deliver_all(local: &Local, messages: Arc<Vec<(Bytes, Bytes)>>, limits: BufferLimit) {
    match local.pubsub.try_borrow() {
        Ok(reg) => {
            for (channel, msg) in messages.iter() {
                reg.deliver(false, channel, msg, limits);
            }
        }
        // Produced while this executor's registry is being changed: deliver right after.
        Err(_) => local.mesh.send(
            local.id,
            Box::new(move |l| deliver_all(l, messages, limits)),
        ),
    }
}

/// PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP.
pub async fn pubsub(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"channels" | b"shardchannels" if cmd.len() <= 3 => {
            let shard = sub.as_slice() == b"shardchannels";
            let pattern = (cmd.len() == 3).then(|| cmd.arg_bytes(2));
            let lists = local
                .call_all(move |l| {
                    let reg = l.pubsub.borrow();
                    let map = if shard {
                        &reg.shard_channels
                    } else {
                        &reg.channels
                    };
                    map.keys()
                        .filter(|c| pattern.as_ref().is_none_or(|p| glob_match(p, c, false)))
                        .cloned()
                        .collect::<Vec<Bytes>>()
                })
                .await;
            let mut all: Vec<Bytes> = lists.into_iter().flatten().collect();
            all.sort();
            all.dedup();
            out.array(all.len());
            for c in all {
                out.bulk(&c);
            }
        }
        b"numsub" | b"shardnumsub" => {
            let shard = sub.as_slice() == b"shardnumsub";
            let names: Vec<Bytes> = cmd.args().skip(2).map(Bytes::copy_from_slice).collect();
            let wanted = names.clone();
            let per_shard = local
                .call_all(move |l| {
                    let reg = l.pubsub.borrow();
                    let map = if shard {
                        &reg.shard_channels
                    } else {
                        &reg.channels
                    };
                    wanted
                        .iter()
                        .map(|c| map.get(c).map_or(0, Vec::len))
                        .collect::<Vec<usize>>()
                })
                .await;
            out.map(names.len());
            for (i, name) in names.iter().enumerate() {
                out.bulk(name);
                out.int(per_shard.iter().map(|v| v[i]).sum::<usize>() as i64);
            }
        }
        b"numpat" if cmd.len() == 2 => {
            let lists = local
                .call_all(|l| {
                    let reg = l.pubsub.borrow();
                    reg.patterns
                        .iter()
                        .map(|(p, _)| p.clone())
                        .collect::<Vec<_>>()
                })
                .await;
            let unique: AHashSet<Bytes> = lists.into_iter().flatten().collect();
            out.int(unique.len() as i64);
        }
        b"help" if cmd.len() == 2 => crate::command::connection::write_help(out, HELP),
        b"channels" | b"shardchannels" | b"numpat" | b"help" => {
            crate::command::connection::subcommand_error(out, "PUBSUB", &cmd[1], true)
        }
        _ => crate::command::connection::subcommand_error(out, "PUBSUB", &cmd[1], false),
    }
}

const HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Print this help.",
];

/// In RESP2, a connection with subscriptions may only run these (Redis' subscribed mode).
pub fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Parses `client-output-buffer-limit`'s value: classes `normal`, `replica` (`slave`) and
/// `pubsub` (indexes 0, 1, 2), each `hard soft seconds` with memory units.
pub fn parse_buffer_limits(v: &str) -> Result<Vec<(usize, BufferLimit)>, String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = Vec::new();
    for chunk in words.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "replica" | "slave" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let mem = |s: &str| crate::config::Config::parse_memory(s.as_bytes()).map(|v| v as usize);
        let (Some(hard), Some(soft), Ok(soft_seconds)) =
            (mem(chunk[1]), mem(chunk[2]), chunk[3].parse::<u64>())
        else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        out.push((
            class,
            BufferLimit {
                hard,
                soft,
                soft_seconds,
            },
        ));
    }
    Ok(out)
}

/// Redis' default: `pubsub 32mb 8mb 60`.
pub const DEFAULT_PUBSUB_LIMIT: BufferLimit = BufferLimit {
    hard: 32 << 20,
    soft: 8 << 20,
    soft_seconds: 60,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_limits_parse_as_redis() {
        let l = parse_buffer_limits("pubsub 32mb 8mb 60").unwrap();
        assert_eq!(l, [(2, DEFAULT_PUBSUB_LIMIT)]);
        let l = parse_buffer_limits("normal 0 0 0 slave 1kb 2 3").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[1],
            (
                1,
                BufferLimit {
                    hard: 1024,
                    soft: 2,
                    soft_seconds: 3
                }
            )
        );
        assert!(parse_buffer_limits("pubsub 1 2").is_err());
        assert!(parse_buffer_limits("").is_err());
        assert!(parse_buffer_limits("other 1 2 3").is_err());
        assert!(parse_buffer_limits("pubsub 1 2 x").is_err());
    }

    #[test]
    fn subscribed_mode_allows_only_what_redis_allows() {
        for ok in [
            "subscribe",
            "punsubscribe",
            "ping",
            "quit",
            "reset",
            "ssubscribe",
        ] {
            assert!(allowed_when_subscribed(ok), "{ok}");
        }
        for no in ["get", "publish", "pubsub", "multi"] {
            assert!(!allowed_when_subscribed(no), "{no}");
        }
    }
}
