//! Commands of features a Shardis server does not have, answered as Redis answers them when
//! the feature is off, so clients and tools that probe for it (cluster clients, monitoring
//! agents, module managers) see a standalone server instead of an unknown command:
//!
//! - cluster mode: CLUSTER, READONLY, READWRITE, ASKING answer as a Redis started with
//!   `cluster-enabled no` (Shardis shards inside one server, not across servers);
//! - modules: MODULE LIST is empty, loading is refused (Redis modules are C libraries
//!   written against Redis' internals), guarded by `enable-module-command` as in Redis;
//! - LOLWUT: the version line (Redis' art for versions 5 and 6 is not drawn).

use crate::client::Session;
use crate::command::connection::{subcommand_error, write_help};
use crate::local::Local;
use shard::num::parse_i64;
use shard::reply::err;
use shard::{Cmd, Reply};

pub const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";

/// CLUSTER: every subcommand, HELP too, answers that cluster mode is off (as Redis); an
/// unknown one is reported as unknown first.
pub fn cluster(cmd: &Cmd, out: &mut Reply) {
    let sub = &cmd[1];
    let known = crate::command::meta::lookup(b"cluster")
        .is_some_and(|spec| crate::command::meta::lookup_sub(spec, sub).is_some());
    if known {
        out.error(CLUSTER_DISABLED)
    } else {
        subcommand_error(out, "CLUSTER", sub, false)
    }
}

const MODULE_HELP: &[&str] = &[
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
];

pub fn module(local: &Local, sess: &Session, cmd: &Cmd, out: &mut Reply) {
    let sub = cmd[1].to_ascii_lowercase();
    let changes = matches!(sub.as_slice(), b"load" | b"loadex" | b"unload");
    let allowed = local.shared.config().enable_module_command;
    if changes && !allowed.allows(sess.info.is_local()) {
        return out.error(
            "ERR MODULE command not allowed. If the enable-module-command option is set to \
             \"local\", you can run it from a local connection, otherwise you need to set this \
             option in the configuration file, and then restart the server.",
        );
    }
    match sub.as_slice() {
        b"list" => out.array(0),
        b"load" | b"loadex" => {
            crate::log::warning(&format!(
                "Module {} failed to load: Shardis does not load Redis modules",
                String::from_utf8_lossy(&cmd[2])
            ));
            out.error("ERR Error loading the extension. Please check the server logs.");
        }
        b"unload" => out.error("ERR Error unloading module: no such module with that name"),
        b"help" => write_help(out, MODULE_HELP),
        _ => subcommand_error(out, "MODULE", &cmd[1], false),
    }
}

/// LOLWUT [VERSION v]: the version line, as Redis gives for versions without art.
pub fn lolwut(cmd: &Cmd, out: &mut Reply) {
    if cmd.len() >= 3 && cmd[1].eq_ignore_ascii_case(b"version") && parse_i64(&cmd[2]).is_none() {
        return out.error(err::NOT_INT);
    }
    let text = format!("Redis ver. {}\n", crate::REDIS_VERSION);
    out.verbatim("txt", text.as_bytes());
}
