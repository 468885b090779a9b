//! SLOWLOG: the commands that ran for at least `slowlog-log-slower-than` microseconds.
//!
//! Each executor keeps the entries of the commands it ran (a command is timed where it
//! executes, as one lap of `stats::Laps`), newest first, at most `slowlog-max-len` of them;
//! ids come from one server-wide counter, so SLOWLOG GET merges the executors' entries by
//! id and shows what one log would: the newest `slowlog-max-len` of them. An entry names the
//! client by the address and name it had then, looked up in [`Shared::client_meta`]
//! (the command may run on another executor than its connection's).
//!
//! What is logged is what Redis 7 logs: commands from clients, including each command of a
//! MULTI/EXEC (EXEC itself is `skip_slowlog`), EVAL and FCALL and the commands their scripts
//! call (for the script's client, `?:0`), secrets redacted. Deviation: a blocking command is
//! not logged (Redis logs its execution time without the time blocked, rarely slow).
//!
//! [`Shared::client_meta`]: crate::local::Shared::client_meta

use crate::client::Session;
use crate::command::meta::{flag, CommandSpec};
use crate::local::{unix_ms, Local};
use shard::{Cmd, Reply};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// Arguments kept per entry; more are summed up in the last one.
const MAX_ARGS: usize = 32;
/// Bytes kept per argument; more are summed up after them.
const MAX_ARG_LEN: usize = 128;

#[derive(Clone)]
pub struct Entry {
    id: u64,
    /// Unix seconds.
    time: u64,
    usec: u64,
    args: Vec<Vec<u8>>,
    addr: String,
    name: Vec<u8>,
}

/// One executor's part of the log, with the settings it applies (copied from the config,
/// so the check per command reads no lock).
pub struct SlowLog {
    /// `slowlog-log-slower-than`; negative: nothing is logged.
    pub slower_than: i64,
    /// `slowlog-max-len`.
    pub max_len: u64,
    entries: VecDeque<Entry>,
}

impl SlowLog {
    pub fn new(slower_than: i64, max_len: u64) -> SlowLog {
        SlowLog {
            slower_than,
            max_len,
            entries: VecDeque::new(),
        }
    }

    fn is_slow(&self, usec: u64) -> bool {
        self.slower_than >= 0 && usec >= self.slower_than as u64
    }

    fn push(&mut self, e: Entry) {
        self.entries.push_front(e);
        while self.entries.len() as u64 > self.max_len {
            self.entries.pop_back();
        }
    }
}

/// Logs a command of client `client` that ran for `usec` on this executor, if it is slow.
/// Client 0 is a script's: Redis logs the commands a script calls for its Lua client,
/// with the address `?:0` and no name.
pub fn record(local: &Local, client: u64, spec: &CommandSpec, cmd: &Cmd, usec: u64) {
    if spec.flags & flag::SKIP_SLOWLOG != 0 || !local.slowlog.borrow().is_slow(usec) {
        return;
    }
    let (addr, name) = if client == 0 {
        ("?:0".to_string(), Vec::new())
    } else {
        crate::client::meta_of(local, client)
            .map(|(addr, name)| (addr.to_string(), name))
            .unwrap_or_default()
    };
    let entry = Entry {
        id: local.shared.slowlog_next_id.fetch_add(1, Ordering::Relaxed),
        time: unix_ms() / 1000,
        usec,
        args: logged_args(redacted(spec, cmd), cmd.len()),
        addr,
        name,
    };
    local.slowlog.borrow_mut().push(entry);
}

/// The first arguments (as many as an entry keeps), secrets redacted.
fn redacted(spec: &CommandSpec, cmd: &Cmd) -> Vec<Vec<u8>> {
    redact(
        spec,
        cmd.args().take(MAX_ARGS).map(<[u8]>::to_vec).collect(),
    )
}

/// `args` with secrets replaced by `(redacted)`, as Redis shows them in SLOWLOG and
/// MONITOR: AUTH's, HELLO's AUTH pair, MIGRATE's AUTH / AUTH2, ACL SETUSER's user and rules,
/// and the values of sensitive parameters in CONFIG SET.
pub(crate) fn redact(spec: &CommandSpec, mut args: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    const HIDDEN: &[u8] = b"(redacted)";
    match spec.name {
        "auth" => args.iter_mut().skip(1).for_each(|a| *a = HIDDEN.to_vec()),
        "acl|setuser" => args.iter_mut().skip(2).for_each(|a| *a = HIDDEN.to_vec()),
        "hello" => {
            if let Some(i) = args.iter().position(|a| a.eq_ignore_ascii_case(b"auth")) {
                args.iter_mut()
                    .skip(i + 1)
                    .take(2)
                    .for_each(|a| *a = HIDDEN.to_vec());
            }
        }
        "migrate" => {
            // Redis' migrateCommand redacts as it parses: AUTH's password, AUTH2's pair.
            let mut j = 6;
            while j < args.len() && !args[j].eq_ignore_ascii_case(b"keys") {
                let n = if args[j].eq_ignore_ascii_case(b"auth") {
                    1
                } else if args[j].eq_ignore_ascii_case(b"auth2") {
                    2
                } else {
                    0
                };
                args.iter_mut()
                    .skip(j + 1)
                    .take(n)
                    .for_each(|a| *a = HIDDEN.to_vec());
                j += n + 1;
            }
        }
        "config|set" => {
            for i in (2..args.len().saturating_sub(1)).step_by(2) {
                if crate::config::Config::is_sensitive(&args[i]) {
                    args[i + 1] = HIDDEN.to_vec();
                }
            }
        }
        _ => {}
    }
    args
}

/// What an entry keeps of a command of `total` arguments, given its first ones: at most 32,
/// each at most 128 bytes, as Redis.
fn logged_args(mut args: Vec<Vec<u8>>, total: usize) -> Vec<Vec<u8>> {
    let kept = if total > MAX_ARGS {
        MAX_ARGS - 1
    } else {
        total
    };
    args.truncate(kept);
    for a in &mut args {
        if a.len() > MAX_ARG_LEN {
            let more = a.len() - MAX_ARG_LEN;
            a.truncate(MAX_ARG_LEN);
            a.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
        }
    }
    if kept < total {
        args.push(format!("... ({} more arguments)", total - kept).into_bytes());
    }
    args
}

/// SLOWLOG GET / LEN / RESET / HELP.
pub async fn command(local: &Rc<Local>, _sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    match (sub.as_slice(), cmd.len()) {
        (b"get", 2 | 3) => {
            let count = if cmd.len() == 3 {
                match shard::num::parse_i64(&cmd[2]) {
                    Some(n) if n >= -1 => n,
                    _ => return out.error("ERR count should be greater than or equal to -1"),
                }
            } else {
                10
            };
            let max_len = local.slowlog.borrow().max_len;
            let mut all: Vec<Entry> = local
                .call_all(|l| {
                    l.slowlog
                        .borrow()
                        .entries
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .await
                .into_iter()
                .flatten()
                .collect();
            all.sort_unstable_by_key(|e| std::cmp::Reverse(e.id));
            let shown = all.len().min(max_len as usize);
            let n = if count < 0 {
                shown
            } else {
                shown.min(count as usize)
            };
            out.array(n);
            for e in all.iter().take(n) {
                out.array(6);
                out.int(e.id as i64);
                out.int(e.time as i64);
                out.int(e.usec as i64);
                out.array(e.args.len());
                for a in &e.args {
                    out.bulk(a);
                }
                out.bulk(e.addr.as_bytes());
                out.bulk(&e.name);
            }
        }
        (b"len", 2) => {
            let max_len = local.slowlog.borrow().max_len;
            let total: usize = local
                .call_all(|l| l.slowlog.borrow().entries.len())
                .await
                .into_iter()
                .sum();
            out.int(total.min(max_len as usize) as i64);
        }
        (b"reset", 2) => {
            local
                .call_all(|l| l.slowlog.borrow_mut().entries.clear())
                .await;
            out.ok();
        }
        (b"help", 2) => crate::command::connection::write_help(
            out,
            &[
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN",
                "    Return the length of the slowlog.",
                "RESET",
                "    Reset the slowlog.",
                "HELP",
                "    Print this help.",
            ],
        ),
        (b"get" | b"len" | b"reset" | b"help", _) => {
            crate::command::connection::subcommand_error(out, "SLOWLOG", &cmd[1], true)
        }
        _ => crate::command::connection::subcommand_error(out, "SLOWLOG", &cmd[1], false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commands_are_cut_as_redis_does() {
        let args: Vec<Vec<u8>> = (0..32).map(|i| format!("a{i}").into_bytes()).collect();
        let kept = logged_args(args, 40);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[30], b"a30");
        assert_eq!(kept[31], b"... (9 more arguments)");
        let big = vec![vec![b'x'; 130]];
        let kept = logged_args(big, 1);
        assert_eq!(kept[0].len(), 128 + "... (2 more bytes)".len());
        assert!(kept[0].ends_with(b"... (2 more bytes)"));
        let exact: Vec<Vec<u8>> = (0..32).map(|i| vec![b'y'; 100 + i]).collect();
        assert_eq!(logged_args(exact, 32).len(), 32);
    }

    #[test]
    fn the_log_keeps_the_newest() {
        let mut log = SlowLog::new(0, 2);
        for id in 0..3 {
            log.push(Entry {
                id,
                time: 0,
                usec: 1,
                args: vec![],
                addr: String::new(),
                name: vec![],
            });
        }
        let ids: Vec<u64> = log.entries.iter().map(|e| e.id).collect();
        assert_eq!(ids, [2, 1]);
        assert!(log.is_slow(0));
        log.slower_than = -1;
        assert!(!log.is_slow(u64::MAX));
    }
}
