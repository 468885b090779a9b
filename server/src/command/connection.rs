//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO, CLIENT.

use crate::client::Session;
use crate::local::{unix_ms, Local};
use shard::num::parse_i64;
use shard::reply::err;
use shard::{Cmd, Reply};
use std::rc::Rc;
use std::sync::atomic::Ordering;

pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

pub fn ping(cmd: &Cmd, out: &mut Reply) {
    match cmd.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(&cmd[1]),
        _ => out.error(&err::arity(&cmd[0])),
    }
}

pub fn echo(cmd: &Cmd, out: &mut Reply) {
    out.bulk(&cmd[1]);
}

pub fn quit(sess: &mut Session, out: &mut Reply) {
    sess.closing = true;
    out.ok();
}

pub fn select(local: &Local, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let databases = local.shared.config().databases;
    match parse_i64(&cmd[1]) {
        None => out.error(err::NOT_INT),
        Some(db) if db < 0 || db as usize >= databases => out.error(err::DB_INDEX),
        Some(db) => {
            sess.set_db(db as usize);
            out.ok();
        }
    }
}

/// RESET: back to a fresh connection's state.
pub fn reset(local: &Local, sess: &mut Session, out: &mut Reply) {
    sess.set_db(0);
    sess.set_resp(false);
    sess.authenticated = !local.shared.acl.default_needs_auth();
    let default = local.shared.acl.default_user();
    crate::acl::set_session_user(local, sess, default);
    sess.info.name.borrow_mut().clear();
    crate::client::publish_meta(local, &sess.info);
    sess.info.no_evict.set(false);
    sess.info.no_touch.set(false);
    crate::tracking::disable(local, sess);
    crate::monitor::stop(local, sess);
    out.resp3 = false;
    out.simple("RESET");
}

pub fn auth(local: &Local, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let (user, pass) = match cmd.len() {
        2 => (None, &cmd[1]),
        3 => (Some(&cmd[1]), &cmd[2]),
        _ => return out.error(err::SYNTAX),
    };
    if user.is_none() && local.shared.acl.default_nopass() {
        return out.error(
            "ERR AUTH <password> called without any password configured for the default \
             user. Are you sure your configuration is correct?",
        );
    }
    let user = user.map_or(&b"default"[..], |u| u);
    if crate::acl::authenticate(local, sess, &cmd[0], user, pass) {
        out.ok()
    } else {
        out.error(WRONGPASS)
    }
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
pub fn hello(local: &Local, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let mut resp3 = sess.resp3;
    if cmd.len() >= 2 {
        match parse_i64(&cmd[1]) {
            Some(2) => resp3 = false,
            Some(3) => resp3 = true,
            Some(_) => return out.error("NOPROTO unsupported protocol version"),
            None => return out.error("ERR Protocol version is not an integer or out of range"),
        }
    }
    let mut auth = None;
    let mut name = None;
    let mut i = 2;
    while i < cmd.len() {
        let more = cmd.len() - i - 1;
        if cmd[i].eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            auth = Some((&cmd[i + 1], &cmd[i + 2]));
            i += 3;
        } else if cmd[i].eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(&cmd[i + 1]);
            i += 2;
        } else {
            return out.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&cmd[i])
            ));
        }
    }
    if let Some((user, pass)) = auth {
        if !crate::acl::authenticate(local, sess, &cmd[0], user, pass) {
            return out.error(WRONGPASS);
        }
    }
    if !sess.authenticated {
        return out.error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and \
             select the RESP protocol version at the same time",
        );
    }
    if let Some(n) = name {
        if let Err(e) = valid_name(n, "Client names") {
            return out.error(&e);
        }
        *sess.info.name.borrow_mut() = n.to_vec();
        crate::client::publish_meta(local, &sess.info);
    }
    sess.set_resp(resp3);
    out.resp3 = resp3;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(sess.info.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(crate::follower::hello_role(&local.shared));
    out.bulk(b"modules");
    out.array(0);
}

/// Client names and library names: printable ASCII without spaces (Redis' rule).
fn valid_name(name: &[u8], what: &str) -> Result<(), String> {
    if name.iter().all(|&c| (b'!'..=b'~').contains(&c)) {
        Ok(())
    } else {
        Err(format!(
            "ERR {what} cannot contain spaces, newlines or special characters."
        ))
    }
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Print this help.",
];

pub fn write_help(out: &mut Reply, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

/// A container's error for subcommand `sub`: one it has, given the wrong number of
/// arguments (`known`), or one it does not have; `container` is upper case (`PUBSUB`).
/// The subcommand is cut at 128 bytes, as Redis prints it (`%.128s`).
pub fn subcommand_error(out: &mut Reply, container: &str, sub: &[u8], known: bool) {
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]);
    out.error(&if known {
        format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} \
             HELP."
        )
    } else {
        format!("ERR unknown subcommand '{sub}'. Try {container} HELP.")
    });
}

/// A CLIENT KILL / CLIENT LIST filter, evaluated on every shard.
#[derive(Clone, Default)]
struct ClientFilter {
    ids: Vec<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    /// Only normal clients exist so far; another TYPE matches nothing.
    type_other: bool,
    /// USER name: only its clients.
    user: Option<String>,
    skip: Option<u64>,
    max_age: Option<u64>,
}

impl ClientFilter {
    fn matches(&self, c: &crate::client::ClientInfo) -> bool {
        (self.ids.is_empty() || self.ids.contains(&c.id))
            && self.addr.as_ref().is_none_or(|a| *a == c.addr.to_string())
            && self
                .laddr
                .as_ref()
                .is_none_or(|a| *a == c.laddr.to_string())
            && !self.type_other
            && self.user.as_ref().is_none_or(|u| *u == *c.user.borrow())
            && self.skip != Some(c.id)
            && self
                .max_age
                .is_none_or(|m| c.created.elapsed().as_secs() >= m)
    }
}

fn parse_type(t: &[u8]) -> Result<bool, String> {
    let t = t.to_ascii_lowercase();
    match t.as_slice() {
        b"normal" => Ok(false),
        b"master" | b"replica" | b"slave" | b"pubsub" => Ok(true),
        _ => Err(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(&t)
        )),
    }
}

pub async fn client(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"id" => out.int(sess.info.id as i64),
        b"getname" => {
            let name = sess.info.name.borrow();
            if name.is_empty() {
                out.null()
            } else {
                out.bulk(&name)
            }
        }
        b"setname" => match valid_name(&cmd[2], "Client names") {
            Ok(()) => {
                *sess.info.name.borrow_mut() = cmd[2].to_vec();
                crate::client::publish_meta(local, &sess.info);
                out.ok();
            }
            Err(e) => out.error(&e),
        },
        b"setinfo" => client_setinfo(sess, cmd, out),
        b"info" => {
            let mut line = String::new();
            sess.info.describe(&mut line);
            line.push('\n');
            out.verbatim("txt", line.as_bytes());
        }
        b"list" => client_list(local, cmd, out).await,
        b"kill" => client_kill(local, sess, cmd, out).await,
        b"unblock" => client_unblock(local, cmd, out).await,
        b"no-evict" | b"no-touch" => match on_off(&cmd[2]) {
            Some(v) => {
                let flag = if sub == b"no-evict" {
                    &sess.info.no_evict
                } else {
                    &sess.info.no_touch
                };
                flag.set(v);
                out.ok();
            }
            None => out.error(err::SYNTAX),
        },
        b"pause" => client_pause(local, cmd, out),
        b"tracking" => crate::tracking::client_tracking(local, sess, cmd, out).await,
        b"caching" => crate::tracking::client_caching(sess, cmd, out),
        b"getredir" => crate::tracking::client_getredir(sess, out),
        b"trackinginfo" => crate::tracking::client_trackinginfo(sess, out),
        b"unpause" => {
            local.shared.pause_until_ms.store(0, Ordering::Relaxed);
            out.ok();
        }
        b"help" => write_help(out, CLIENT_HELP),
        _ => out.error(&format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&cmd[1])
        )),
    }
}

fn on_off(v: &[u8]) -> Option<bool> {
    if v.eq_ignore_ascii_case(b"on") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Some(false)
    } else {
        None
    }
}

fn client_setinfo(sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    let attr = cmd[2].to_ascii_lowercase();
    let target = match attr.as_slice() {
        b"lib-name" => &sess.info.lib_name,
        b"lib-ver" => &sess.info.lib_ver,
        _ => {
            return out.error(&format!(
                "ERR Unrecognized option '{}'",
                String::from_utf8_lossy(&cmd[2])
            ))
        }
    };
    if let Err(e) = valid_name(&cmd[3], std::str::from_utf8(&attr).unwrap_or("value")) {
        return out.error(&e);
    }
    *target.borrow_mut() = cmd[3].to_vec();
    out.ok();
}

async fn client_list(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let mut filter = ClientFilter::default();
    let mut i = 2;
    while i < cmd.len() {
        if cmd[i].eq_ignore_ascii_case(b"type") && i + 1 < cmd.len() {
            match parse_type(&cmd[i + 1]) {
                Ok(other) => filter.type_other = other,
                Err(e) => return out.error(&e),
            }
            i += 2;
        } else if cmd[i].eq_ignore_ascii_case(b"id") && i + 1 < cmd.len() {
            for a in cmd.args().skip(i + 1) {
                match shard::num::parse_u64(a) {
                    Some(id) if id > 0 => filter.ids.push(id),
                    _ => return out.error("ERR Invalid client ID"),
                }
            }
            i = cmd.len();
        } else {
            return out.error(err::SYNTAX);
        }
    }
    let parts = local
        .call_all(move |l| {
            let mut s = String::new();
            for c in l.clients.borrow().values() {
                if filter.matches(c) {
                    c.describe(&mut s);
                    s.push('\n');
                }
            }
            s
        })
        .await;
    out.verbatim("txt", parts.concat().as_bytes());
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command as if it timed
/// out, or with an `UNBLOCKED` error. 1 when that client was blocked.
async fn client_unblock(local: &Rc<Local>, cmd: &Cmd, out: &mut Reply) {
    let Some(id) = shard::num::parse_i64(&cmd[2]) else {
        return out.error(shard::reply::err::NOT_INT);
    };
    let error = match cmd.args().nth(3) {
        None => false,
        Some(a) if a.eq_ignore_ascii_case(b"timeout") => false,
        Some(a) if a.eq_ignore_ascii_case(b"error") => true,
        Some(_) => return out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    let found = local
        .call_all(move |l| {
            let clients = l.clients.borrow();
            let Some(w) = clients
                .get(&(id as u64))
                .and_then(|c| c.blocked.borrow().clone())
            else {
                return false;
            };
            if !w.claim() {
                return false;
            }
            let reply = if error {
                let mut r = Reply::new(w.resp3());
                r.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
                r.buf
            } else {
                w.timeout_reply()
            };
            w.deliver(reply);
            true
        })
        .await;
    out.int(found.contains(&true) as i64);
}

async fn client_kill(local: &Rc<Local>, sess: &mut Session, cmd: &Cmd, out: &mut Reply) {
    if cmd.len() == 3 {
        // Old form: CLIENT KILL addr:port -> OK or an error.
        let filter = ClientFilter {
            addr: Some(String::from_utf8_lossy(&cmd[2]).into_owned()),
            ..ClientFilter::default()
        };
        return match kill_matching(local, filter).await {
            0 => out.error("ERR No such client"),
            _ => out.ok(),
        };
    }
    let mut filter = ClientFilter {
        skip: Some(sess.info.id),
        ..ClientFilter::default()
    };
    if !cmd.len().is_multiple_of(2) {
        return out.error(err::SYNTAX);
    }
    for pair in (2..cmd.len()).step_by(2) {
        let (opt, val) = (cmd[pair].to_ascii_lowercase(), &cmd[pair + 1]);
        let text = String::from_utf8_lossy(val).into_owned();
        match opt.as_slice() {
            b"id" => match shard::num::parse_u64(val) {
                Some(id) if id > 0 => filter.ids.push(id),
                _ => return out.error("ERR client-id should be greater than 0"),
            },
            b"addr" => filter.addr = Some(text),
            b"laddr" => filter.laddr = Some(text),
            b"type" => match parse_type(val) {
                Ok(other) => filter.type_other = other,
                Err(e) => return out.error(&e),
            },
            b"user" => {
                if local.shared.acl.user(val).is_none() {
                    return out.error(&format!("ERR No such user '{text}'"));
                }
                filter.user = Some(text);
            }
            b"skipme" => match val.to_ascii_lowercase().as_slice() {
                b"yes" => filter.skip = Some(sess.info.id),
                b"no" => filter.skip = None,
                _ => return out.error(err::SYNTAX),
            },
            b"maxage" => match parse_i64(val) {
                Some(age) if age >= 0 => filter.max_age = Some(age as u64),
                _ => return out.error(err::NOT_INT),
            },
            _ => return out.error(err::SYNTAX),
        }
    }
    let killed = kill_matching(local, filter).await;
    out.int(killed as i64);
}

/// Kills the matching clients on every shard; the caller itself, if it matches, is closed
/// after its reply (as Redis does).
async fn kill_matching(local: &Rc<Local>, filter: ClientFilter) -> usize {
    let counts = local
        .call_all(move |l| {
            let mut n = 0;
            for c in l.clients.borrow().values() {
                if filter.matches(c) {
                    c.kill();
                    n += 1;
                }
            }
            n
        })
        .await;
    counts.into_iter().sum()
}

/// CLIENT PAUSE timeout [WRITE|ALL]
fn client_pause(local: &Local, cmd: &Cmd, out: &mut Reply) {
    let Some(ms) = parse_i64(&cmd[2]).filter(|&v| v >= 0) else {
        return out.error("ERR timeout is not an integer or out of range");
    };
    let writes_only = match cmd.len() {
        3 => false,
        4 if cmd[3].eq_ignore_ascii_case(b"write") => true,
        4 if cmd[3].eq_ignore_ascii_case(b"all") => false,
        _ => return out.error(err::SYNTAX),
    };
    let until = unix_ms().saturating_add(ms as u64);
    let shared = &local.shared;
    // A new pause never shortens a longer one already in force (Redis keeps the later end).
    shared.pause_until_ms.fetch_max(until, Ordering::Relaxed);
    shared
        .pause_writes_only
        .store(writes_only, Ordering::Relaxed);
    out.ok();
}
