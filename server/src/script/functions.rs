//! FUNCTION LIST / STATS / DUMP / RESTORE (functions.c in Redis 7.2). LOAD lives in the
//! engine (it compiles); DELETE and FLUSH are plain store operations.
//!
//! FUNCTION DUMP's payload is the one Redis writes: for each library the RDB opcode
//! FUNCTION2 and the library code as an RDB string, then the RDB version (2 bytes, little
//! endian) and a CRC64 of everything before it (8 bytes, little endian). Libraries are
//! written uncompressed (Redis LZF-compresses codes over 20 bytes; both forms load in
//! either server).

use super::cache::{Library, ScriptStore};
use super::engine::Engine;
use super::ScriptError;
use persist::rdb_string::{read_string, write_string, RDB_VERSION};
use shard::reply::Reply;
use std::sync::Arc;

/// `RDB_OPCODE_FUNCTION2`: a library follows.
const RDB_OPCODE_FUNCTION2: u8 = 245;
/// `RDB_OPCODE_FUNCTION_PRE_GA`: the 7.0 release candidates' format, refused.
const RDB_OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// How FUNCTION RESTORE treats libraries that already exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Delete every existing library first.
    Flush,
    /// Add the libraries; a name collision fails the whole restore (the default).
    Append,
    /// Add the libraries, replacing those with the same names.
    Replace,
}

impl RestorePolicy {
    /// The policy named by FUNCTION RESTORE's optional argument (any case).
    pub fn parse(arg: &[u8]) -> Result<RestorePolicy, ScriptError> {
        if arg.eq_ignore_ascii_case(b"append") {
            Ok(RestorePolicy::Append)
        } else if arg.eq_ignore_ascii_case(b"replace") {
            Ok(RestorePolicy::Replace)
        } else if arg.eq_ignore_ascii_case(b"flush") {
            Ok(RestorePolicy::Flush)
        } else {
            Err(ScriptError(
                b"ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .to_vec(),
            ))
        }
    }
}

/// The script currently running, for FUNCTION STATS.
#[derive(Clone, Copy, Debug)]
pub struct RunningFunction<'a> {
    /// The function's name.
    pub name: &'a [u8],
    /// The FCALL command and its arguments.
    pub command: &'a [&'a [u8]],
    /// How long it has been running.
    pub duration_ms: i64,
}

fn err(msg: impl Into<Vec<u8>>) -> ScriptError {
    ScriptError(msg.into())
}

impl ScriptStore {
    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: writes the reply (or the argument
    /// error) for the arguments after LIST. Libraries and functions come sorted by name.
    pub fn function_list(&self, args: &[&[u8]], reply: &mut Reply) {
        let mut with_code = false;
        let mut pattern: Option<&[u8]> = None;
        let mut i = 0;
        while i < args.len() {
            let arg = args[i];
            if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
                with_code = true;
                i += 1;
                continue;
            }
            if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
                if i + 1 >= args.len() {
                    reply.error("ERR library name argument was not given");
                    return;
                }
                pattern = Some(args[i + 1]);
                i += 2;
                continue;
            }
            let mut text = b"ERR Unknown argument ".to_vec();
            text.extend_from_slice(super::flags::c_str(arg));
            reply.error_bytes(&text);
            return;
        }
        let libraries: Vec<Arc<Library>> = self
            .libraries()
            .into_iter()
            // LIBRARYNAME matches without case, as Redis' stringmatchlen(..., 1).
            .filter(|l| pattern.is_none_or(|p| shard::glob::glob_match(p, &l.name, true)))
            .collect();
        reply.array(libraries.len());
        for lib in libraries {
            reply.map(if with_code { 4 } else { 3 });
            reply.bulk(b"library_name");
            reply.bulk(&lib.name);
            reply.bulk(b"engine");
            reply.bulk(b"LUA");
            reply.bulk(b"functions");
            reply.array(lib.functions.len());
            for f in &lib.functions {
                reply.map(3);
                reply.bulk(b"name");
                reply.bulk(&f.name);
                reply.bulk(b"description");
                match &f.description {
                    Some(d) => reply.bulk(d),
                    None => reply.null(),
                }
                reply.bulk(b"flags");
                let names: Vec<&str> = f.flags.names().collect();
                reply.set(names.len());
                for n in names {
                    reply.simple(n);
                }
            }
            if with_code {
                reply.bulk(b"library_code");
                reply.bulk(&lib.code);
            }
        }
    }

    /// FUNCTION STATS: the running function (if any, the caller knows) and the number of
    /// libraries and functions of the Lua engine.
    pub fn function_stats(&self, running: Option<RunningFunction>, reply: &mut Reply) {
        reply.map(2);
        reply.bulk(b"running_script");
        match running {
            None => reply.null(),
            Some(r) => {
                reply.map(3);
                reply.bulk(b"name");
                reply.bulk(r.name);
                reply.bulk(b"command");
                reply.array(r.command.len());
                for a in r.command {
                    reply.bulk(a);
                }
                reply.bulk(b"duration_ms");
                reply.int(r.duration_ms);
            }
        }
        let (libraries, functions) = self.function_counts();
        reply.bulk(b"engines");
        reply.map(1);
        reply.bulk(b"LUA");
        reply.map(2);
        reply.bulk(b"libraries_count");
        reply.int(libraries as i64);
        reply.bulk(b"functions_count");
        reply.int(functions as i64);
    }

    /// FUNCTION DUMP: the payload of every library.
    pub fn function_dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for lib in self.libraries() {
            out.push(RDB_OPCODE_FUNCTION2);
            write_string(&mut out, &lib.code);
        }
        persist::dump::frame(out, RDB_VERSION)
    }
}

impl Engine {
    /// FUNCTION RESTORE payload [policy]: loads every library of a FUNCTION DUMP payload
    /// (from Shardis or Redis 7.x), all or nothing.
    pub fn function_restore(
        &mut self,
        payload: &[u8],
        policy: RestorePolicy,
    ) -> Result<(), ScriptError> {
        let Some(body) = persist::dump::verify(payload) else {
            return Err(err(persist::dump::RestoreError::VersionOrChecksum.message()));
        };
        let mut pos = 0;
        let mut restored: Vec<Library> = Vec::new();
        while pos < body.len() {
            let opcode = body[pos];
            pos += 1;
            if opcode == RDB_OPCODE_FUNCTION_PRE_GA {
                return Err(err("ERR Pre-GA function format not supported"));
            }
            if opcode != RDB_OPCODE_FUNCTION2 {
                return Err(err("ERR given type is not a function"));
            }
            let Some(code) = read_string(body, &mut pos) else {
                return Err(err("ERR Failed loading library payload"));
            };
            let lib = self.library_from_code(&code)?;
            // The payload's libraries go into a fresh context first: collisions among
            // them fail as FUNCTION LOAD would.
            if restored.iter().any(|l| l.name == lib.name) {
                return Err(err(format!(
                    "ERR Library '{}' already exists",
                    String::from_utf8_lossy(&lib.name)
                )));
            }
            for f in &lib.functions {
                let taken = restored.iter().any(|l| {
                    l.functions
                        .iter()
                        .any(|g| g.name.eq_ignore_ascii_case(&f.name))
                });
                if taken {
                    return Err(err(format!(
                        "ERR Function {} already exists",
                        String::from_utf8_lossy(&f.name)
                    )));
                }
            }
            restored.push(lib);
        }
        let store = self.store().clone();
        {
            let mut inner = store.write();
            match policy {
                RestorePolicy::Flush => {
                    inner.libraries.clear();
                    inner.functions.clear();
                    for lib in restored {
                        inner.link(Arc::new(lib));
                    }
                }
                RestorePolicy::Append | RestorePolicy::Replace => {
                    let mut replaced = Vec::new();
                    for lib in &restored {
                        if inner.libraries.contains_key(&lib.name) {
                            if policy == RestorePolicy::Append {
                                let e = err(format!(
                                    "ERR Library {} already exists",
                                    String::from_utf8_lossy(&lib.name)
                                ));
                                for old in replaced {
                                    inner.link(old);
                                }
                                return Err(e);
                            }
                            if let Some(old) = inner.unlink(&lib.name) {
                                replaced.push(old);
                            }
                        }
                    }
                    let collision = restored
                        .iter()
                        .find_map(|lib| inner.colliding_function(lib))
                        .map(|f| f.name.clone());
                    if let Some(name) = collision {
                        for old in replaced {
                            inner.link(old);
                        }
                        return Err(err(format!(
                            "ERR Function {} already exists",
                            String::from_utf8_lossy(&name)
                        )));
                    }
                    for lib in restored {
                        inner.link(Arc::new(lib));
                    }
                }
            }
        }
        store.bump_functions();
        Ok(())
    }
}
