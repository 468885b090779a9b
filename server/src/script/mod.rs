//! Lua scripting: EVAL / EVALSHA / SCRIPT and FUNCTION / FCALL, with Redis 7.2's observable
//! behaviour (replies, conversions, sandbox, libraries and error texts).
//!
//! The engine is pure and synchronous: it runs a script against a [`Host`] that executes
//! the commands the script calls and answers in RESP. The server decides everything about
//! locking, keys and command rules; the engine only needs the reply bytes.
//!
//! - [`ScriptStore`] (one per server, shared): scripts by SHA1 and function libraries.
//! - [`Engine`] (one per thread): a Lua state for EVAL scripts and one for functions,
//!   compiled lazily from the store.
//!
//! Typical use by the server:
//!
//! ```text
//! let prepared = engine.prepare_eval(body)?;            // or prepare_evalsha / prepare_fcall
//! // lock according to prepared.flags() and the keys, then:
//! let reply = engine.run(&prepared, keys, args, client_resp3, is_ro_command, &mut host);
//! ```
//!
//! Deliberate differences from Redis (besides those listed in `libs/cjson.rs`):
//! - each thread has its own Lua states: math.random's sequence and the Lua garbage are
//!   per thread (Redis has one of each);
//! - FUNCTION LIST lists libraries and functions sorted by name (Redis: hash order);
//! - FUNCTION DUMP writes library codes uncompressed;
//! - an error table without an `err` field (`error({})`), which crashes Redis 7.2, gives
//!   "ERR unknown error".

#![warn(missing_docs)]

mod cache;
mod convert;
mod engine;
mod flags;
mod functions;
mod lauxlib;
mod libs;
mod redis_api;
mod sandbox;

#[cfg(test)]
mod diff_tests;
#[cfg(test)]
mod one_call;
#[cfg(test)]
mod tests;

pub use cache::{FunctionInfo, Library, Script, ScriptStore};
pub use engine::{Engine, Prepared};
pub use flags::ScriptFlags;
pub use functions::{RestorePolicy, RunningFunction};

/// The lowercase hex SHA1 of `data`, as Redis names scripts (every EVAL hashes its body:
/// formatting through `Display` cost more than hashing a short body).
pub(crate) fn sha1_hex(data: &[u8]) -> String {
    shard::digest::hex(&sha1_smol::Sha1::from(data).digest().bytes())
}

/// What a script calls into. The server implements it; tests implement fakes.
pub trait Host {
    /// redis.call / redis.pcall: runs one command, returns its reply encoded in RESP
    /// (RESP3 when `resp3`, which follows redis.setresp). The host does every check about
    /// the command itself (unknown command, arity, not allowed from scripts, write in a
    /// read-only script, keys) and answers those as RESP errors like any reply.
    fn call(&mut self, args: &[&[u8]], resp3: bool) -> Vec<u8>;

    /// Called from the instruction hook (every 100k instructions): Err(msg) aborts the
    /// script with that error (SCRIPT KILL, shutdown). `msg` is an error text as Redis'
    /// luaPushError takes it: "-CODE message", or a message that gets the ERR code, e.g.
    /// "Script killed by user with SCRIPT KILL...". Once it has answered Err, the script
    /// fails at every line until it ends (pcall cannot catch it).
    fn on_hook(&mut self) -> Result<(), String>;

    /// redis.log(level, msg). Redis drops messages below its `loglevel`: so should the host.
    fn log(&mut self, level: LogLevel, msg: &[u8]);

    /// redis.set_repl(flags): where the script's following writes propagate.
    fn set_repl(&mut self, _flags: ReplFlags) {}

    /// redis.acl_check_cmd(...): whether the user running the script may run this command
    /// with these arguments; None if there is no such command.
    fn acl_check_cmd(&mut self, _args: &[&[u8]]) -> Option<bool> {
        Some(true)
    }
}

/// A redis.log level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// redis.LOG_DEBUG (0).
    Debug,
    /// redis.LOG_VERBOSE (1).
    Verbose,
    /// redis.LOG_NOTICE (2).
    Notice,
    /// redis.LOG_WARNING (3).
    Warning,
}

impl LogLevel {
    fn from_num(n: i32) -> Option<LogLevel> {
        Some(match n {
            0 => LogLevel::Debug,
            1 => LogLevel::Verbose,
            2 => LogLevel::Notice,
            3 => LogLevel::Warning,
            _ => return None,
        })
    }
}

/// Where a script's writes propagate (redis.set_repl): a combination of AOF and replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplFlags(pub u8);

impl ReplFlags {
    /// redis.REPL_NONE.
    pub const NONE: ReplFlags = ReplFlags(0);
    /// redis.REPL_AOF.
    pub const AOF: ReplFlags = ReplFlags(1);
    /// redis.REPL_REPLICA (and REPL_SLAVE).
    pub const REPLICA: ReplFlags = ReplFlags(2);
    /// redis.REPL_ALL, the default.
    pub const ALL: ReplFlags = ReplFlags(3);

    /// Writes go to the AOF.
    pub fn aof(self) -> bool {
        self.0 & 1 != 0
    }

    /// Writes go to replicas.
    pub fn replicas(self) -> bool {
        self.0 & 2 != 0
    }
}

/// redis.REPL_ALL as the raw value scripts see.
const REPL_ALL: u8 = 3;

/// An error reply: the text after `-` (e.g. `ERR Error compiling script ...`,
/// `NOSCRIPT No matching script. Please use EVAL.`), possibly not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError(pub Vec<u8>);

impl ScriptError {
    /// The error as a RESP error reply (line breaks become spaces).
    pub fn to_reply(&self, resp3: bool) -> Vec<u8> {
        let mut r = shard::reply::Reply::new(resp3);
        r.error_bytes(&self.0);
        r.buf
    }
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl std::error::Error for ScriptError {}
