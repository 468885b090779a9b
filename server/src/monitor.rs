//! MONITOR: every command the server runs, as one line to each monitoring client.
//!
//! A command is fed where it completes (as Redis 7 feeds it from `call()`, after running,
//! so a SELECT shows its new database): the executor that ran it formats the line once and
//! hands it to the monitors of every executor (its own directly, the others through the
//! mesh). When nobody monitors, the cost per command is one relaxed atomic load.
//! As Redis: admin and `skip_monitor` commands are not shown, EVAL/FCALL are shown when
//! they start (before the commands their script calls, which show as the `lua` client),
//! secrets are `(redacted)`, arguments are quoted as `sdscatrepr` does. Deviation: the
//! lines of commands run on different executors at the same moment may interleave in any
//! order.

use crate::client::Session;
use crate::command::meta::{flag, CommandSpec};
use crate::local::Local;
use bytes::Bytes;
use shard::{Cmd, Reply};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

/// MONITOR: this connection gets every command from now on.
pub fn start(local: &Local, sess: &mut Session, out: &mut Reply) {
    if !sess.info.monitoring.replace(true) {
        let mb = sess.mailbox();
        local.monitors.borrow_mut().push(mb);
        local.shared.monitors.fetch_add(1, Ordering::Relaxed);
    }
    out.ok();
}

/// Ends monitoring (RESET, disconnect).
pub fn stop(local: &Local, sess: &Session) {
    if !sess.info.monitoring.replace(false) {
        return;
    }
    if let Some(mb) = &sess.mailbox {
        local.monitors.borrow_mut().retain(|m| !Rc::ptr_eq(m, mb));
    }
    local.shared.monitors.fetch_sub(1, Ordering::Relaxed);
}

/// Shows a command that ran in database `db` for client `client` (0: a script's call),
/// unless it is one MONITOR does not show.
pub fn feed(local: &Local, client: u64, db: usize, spec: &CommandSpec, cmd: &Cmd) {
    if local.shared.monitors.load(Ordering::Relaxed) == 0
        || spec.flags & (flag::ADMIN | flag::SKIP_MONITOR) != 0
    {
        return;
    }
    line_to_all(local, client, db, spec, cmd);
}

/// Shows an EVAL / FCALL as its script starts, before the commands the script calls (as
/// Redis: these commands are `skip_monitor` for [`feed`]).
pub fn feed_script(local: &Local, sess: &Session, cmd: &Cmd) {
    if local.shared.monitors.load(Ordering::Relaxed) == 0 {
        return;
    }
    if let Some(c) = crate::command::lookup(&cmd[0]) {
        line_to_all(local, sess.info.id, sess.db, c.spec, cmd);
    }
}

/// Formats the line of a command and hands it to every monitor.
fn line_to_all(local: &Local, client: u64, db: usize, spec: &CommandSpec, cmd: &Cmd) {
    let who = if client == 0 {
        "lua".to_string()
    } else {
        crate::client::meta_of(local, client)
            .map(|(addr, _)| addr.to_string())
            .unwrap_or_default()
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut line =
        format!("+{}.{:06} [{db} {who}]", now.as_secs(), now.subsec_micros()).into_bytes();
    let args: Vec<Vec<u8>> = cmd.args().map(<[u8]>::to_vec).collect();
    for a in crate::slowlog::redact(spec, args) {
        line.push(b' ');
        crate::config::push_repr(&mut line, &a);
    }
    line.extend_from_slice(b"\r\n");
    let frame = Bytes::from(line);
    let limits = local.shared.config().client_output_buffer_limit[0];
    local.tell_all(move |l| {
        for mb in l.monitors.borrow().iter() {
            mb.push(frame.clone(), limits);
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn arguments_are_quoted_as_sdscatrepr() {
        let mut out = Vec::new();
        crate::config::push_repr(&mut out, b"a b\"c\n\x01\\\x00\xff\t");
        assert_eq!(out, b"\"a b\\\"c\\n\\x01\\\\\\x00\\xff\\t\"".to_vec());
    }
}
