//! The per-thread engine: one Lua state for EVAL scripts and one for function libraries (as
//! Redis has), compiled lazily from the shared [`ScriptStore`].

use super::cache::{FunctionInfo, Library, Script, ScriptStore};
use super::convert::{error_field, error_text, lua_to_reply};
use super::flags::{c_str, eval_shebang, library_meta, valid_name, ScriptFlags};
use super::lauxlib::to_bytes;
use super::redis_api::{host_op, HOST_HOOK, RAND48_INITIAL};
use super::sandbox::{new_state, raised, Kind, LoadCtx, LuaEnv, Shared, StateData};
use super::{Host, LogLevel, ScriptError, REPL_ALL};
use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, MultiValue, Table, Value, VmState};
use shard::reply::Reply;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often (in Lua instructions) a running script calls [`Host::on_hook`].
const HOOK_INSTRUCTIONS: u32 = 100_000;
/// FUNCTION LOAD gives a library's code this long to register its functions.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);
/// Redis steps Lua's garbage collector every this many runs.
const GC_PERIOD: u64 = 50;

/// A script or function ready to run, with what the server needs to decide how to run it
/// (its flags; the keys are the caller's).
#[derive(Clone, Debug)]
pub struct Prepared {
    kind: PreparedKind,
}

#[derive(Clone, Debug)]
enum PreparedKind {
    Eval(Arc<Script>),
    Function {
        library: Arc<Library>,
        info: FunctionInfo,
    },
}

impl Prepared {
    /// The SHA1 of an EVAL script (None for a function).
    pub fn sha(&self) -> Option<&str> {
        match &self.kind {
            PreparedKind::Eval(s) => Some(&s.sha),
            PreparedKind::Function { .. } => None,
        }
    }

    /// The flags declared by the script's shebang or the function's registration.
    pub fn flags(&self) -> ScriptFlags {
        match &self.kind {
            PreparedKind::Eval(s) => s.flags,
            PreparedKind::Function { info, .. } => info.flags,
        }
    }

    /// The name Redis shows for it in errors: the SHA1, or the function name.
    pub fn name(&self) -> &[u8] {
        match &self.kind {
            PreparedKind::Eval(s) => s.sha.as_bytes(),
            PreparedKind::Function { info, .. } => &info.name,
        }
    }

    /// The script body (EVAL) or the library code (function), e.g. for replication.
    pub fn code(&self) -> &[u8] {
        match &self.kind {
            PreparedKind::Eval(s) => &s.body,
            PreparedKind::Function { library, .. } => &library.code,
        }
    }
}

/// A library compiled in this engine's function state.
struct LoadedLibrary {
    id: u64,
    functions: HashMap<Vec<u8>, Function>,
}

/// The scripting engine of one thread. Not `Send`: each thread makes its own over the shared
/// store.
pub struct Engine {
    store: Arc<ScriptStore>,
    shared: Shared,
    eval: Option<LuaEnv>,
    eval_generation: u64,
    eval_functions: HashMap<String, Function>,
    func: Option<LuaEnv>,
    function_generation: u64,
    libraries: HashMap<Vec<u8>, LoadedLibrary>,
    runs: u64,
}

fn err(msg: impl Into<Vec<u8>>) -> ScriptError {
    ScriptError(msg.into())
}

/// "ERR Error running script ..." for failures of the Lua machinery itself (out of memory).
fn internal(e: mlua::Error) -> ScriptError {
    err(format!("ERR Error running script: {e}"))
}

fn lua_array(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

/// The message of a chunk that failed to compile.
fn compile_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.trim_end_matches('\n').to_string(),
        mlua::Error::MemoryError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// What Lua compiles for a body: never bytecode (Redis' Lua reads an escape byte as text,
/// which is a syntax error; a leading space makes stock Lua do the same).
fn as_text(code: &[u8]) -> Cow<'_, [u8]> {
    if code.first() == Some(&0x1b) {
        let mut v = Vec::with_capacity(code.len() + 1);
        v.push(b' ');
        v.extend_from_slice(code);
        Cow::Owned(v)
    } else {
        Cow::Borrowed(code)
    }
}

impl Engine {
    /// A new engine over the shared store. Lua states are created on first use.
    pub fn new(store: Arc<ScriptStore>) -> Engine {
        Engine {
            store,
            shared: Shared {
                rand: Rc::new(Cell::new(RAND48_INITIAL)),
                logger: Rc::new(RefCell::new(None)),
            },
            eval: None,
            eval_generation: 0,
            eval_functions: HashMap::new(),
            func: None,
            function_generation: 0,
            libraries: HashMap::new(),
            runs: 0,
        }
    }

    /// Bytes held by this engine's Lua states: EVAL's and FUNCTION's (INFO
    /// `used_memory_vm_eval` / `used_memory_vm_functions`).
    pub fn vm_memory(&self) -> (usize, usize) {
        let used = |env: &Option<LuaEnv>| env.as_ref().map_or(0, |e| e.lua.used_memory());
        (used(&self.eval), used(&self.func))
    }

    /// The store this engine compiles from.
    pub fn store(&self) -> &Arc<ScriptStore> {
        &self.store
    }

    /// Where `redis.log` goes while a library's code runs at FUNCTION LOAD / RESTORE (no
    /// host is involved then). Without a logger those messages are dropped.
    pub fn set_load_logger(&mut self, logger: impl FnMut(LogLevel, &[u8]) + 'static) {
        *self.shared.logger.borrow_mut() = Some(Box::new(logger));
    }

    /// The EVAL state, reset when SCRIPT FLUSH happened since it was made.
    fn eval_env(&mut self) -> Result<&LuaEnv, ScriptError> {
        let generation = self.store.script_generation();
        if self.eval.is_none() || generation != self.eval_generation {
            self.eval_functions.clear();
            self.eval = None;
            self.eval = Some(new_state(Kind::Eval, &self.shared).map_err(internal)?);
            self.eval_generation = generation;
        }
        Ok(self.eval.as_ref().expect("just created"))
    }

    /// The function state, with compiled libraries the store no longer has dropped.
    fn function_env(&mut self) -> Result<&LuaEnv, ScriptError> {
        let generation = self.store.function_generation();
        if self.func.is_none() {
            self.func = Some(new_state(Kind::Function, &self.shared).map_err(internal)?);
        }
        if generation != self.function_generation {
            let inner = self.store.read();
            self.libraries
                .retain(|name, lib| inner.libraries.get(name).is_some_and(|l| l.id == lib.id));
            drop(inner);
            self.function_generation = generation;
        }
        Ok(self.func.as_ref().expect("just created"))
    }

    fn compile_eval(&mut self, script: &Script) -> Result<Function, ScriptError> {
        let env = self.eval_env()?;
        let code = as_text(&script.body[script.shebang_len..]);
        env.lua
            .load(code.as_ref())
            .set_name("@user_script")
            .set_mode(ChunkMode::Text)
            .set_environment(env.globals.clone())
            .into_function()
            .map_err(|e| {
                err(format!(
                    "ERR Error compiling script (new function): {}",
                    compile_message(&e)
                ))
            })
    }

    /// The compiled function of a cached script.
    fn eval_function(&mut self, script: &Script) -> Result<Function, ScriptError> {
        self.eval_env()?;
        if let Some(f) = self.eval_functions.get(&script.sha) {
            return Ok(f.clone());
        }
        let f = self.compile_eval(script)?;
        self.eval_functions.insert(script.sha.clone(), f.clone());
        Ok(f)
    }

    /// Checks and caches a script (SCRIPT LOAD and the first EVAL of a body).
    fn load_script(&mut self, body: &[u8]) -> Result<Arc<Script>, ScriptError> {
        let sha = super::sha1_hex(body);
        self.eval_env()?;
        if let Some(s) = self.store.script(sha.as_bytes()) {
            return Ok(s);
        }
        let (flags, shebang_len) = eval_shebang(body).map_err(err)?;
        let script = Script {
            sha: sha.clone(),
            body: body.to_vec(),
            flags,
            shebang_len,
        };
        let f = self.compile_eval(&script)?;
        self.eval_functions.insert(sha, f);
        Ok(self.store.insert_script(script))
    }

    /// EVAL: hashes the body, checks (shebang, compilation) and caches it if new.
    pub fn prepare_eval(&mut self, body: &[u8]) -> Result<Prepared, ScriptError> {
        Ok(Prepared {
            kind: PreparedKind::Eval(self.load_script(body)?),
        })
    }

    /// EVALSHA: the cached script with this SHA1 (any case), or NOSCRIPT.
    pub fn prepare_evalsha(&mut self, sha: &[u8]) -> Result<Prepared, ScriptError> {
        let noscript = || err("NOSCRIPT No matching script. Please use EVAL.");
        if sha.len() != 40 {
            return Err(noscript());
        }
        let script = self.store.script(sha).ok_or_else(noscript)?;
        Ok(Prepared {
            kind: PreparedKind::Eval(script),
        })
    }

    /// SCRIPT LOAD: the script's SHA1 once it is checked and cached.
    pub fn script_load(&mut self, body: &[u8]) -> Result<String, ScriptError> {
        Ok(self.load_script(body)?.sha.clone())
    }

    /// FCALL / FCALL_RO: the function with this name (any case), or "Function not found".
    pub fn prepare_fcall(&mut self, name: &[u8]) -> Result<Prepared, ScriptError> {
        let (library, info) = self
            .store
            .function(name)
            .ok_or_else(|| err("ERR Function not found"))?;
        Ok(Prepared {
            kind: PreparedKind::Function { library, info },
        })
    }

    /// Runs a prepared script or function and returns the reply in the client's protocol.
    ///
    /// `read_only` is EVAL_RO / EVALSHA_RO / FCALL_RO: a script that declares it may write
    /// is refused, as Redis does (the host refuses the writes of the others, it knows the
    /// command it runs the script for). Errors come back as error replies, never panics.
    pub fn run(
        &mut self,
        prepared: &Prepared,
        keys: &[&[u8]],
        args: &[&[u8]],
        client_resp3: bool,
        read_only: bool,
        host: &mut dyn Host,
    ) -> Vec<u8> {
        let mut reply = Reply::new(client_resp3);
        let flags = prepared.flags();
        if read_only && !flags.eval_compat_mode() && !flags.no_writes() {
            reply.error("ERR Can not execute a script with write flag using *_ro command.");
            return reply.buf;
        }
        let outcome = match &prepared.kind {
            PreparedKind::Eval(script) => self.run_eval(script, keys, args, host, &mut reply),
            PreparedKind::Function { library, info } => {
                self.run_function(library, info, keys, args, host, &mut reply)
            }
        };
        if let Err(e) = outcome {
            reply.error_bytes(&e.0);
        }
        self.runs += 1;
        if self.runs.is_multiple_of(GC_PERIOD) {
            for env in [&self.eval, &self.func].into_iter().flatten() {
                let _ = env.lua.gc_step();
            }
        }
        reply.buf
    }

    fn run_eval(
        &mut self,
        script: &Arc<Script>,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn Host,
        reply: &mut Reply,
    ) -> Result<(), ScriptError> {
        let f = self.eval_function(script)?;
        let env = self.eval.as_ref().expect("eval_function made it");
        let set = || -> mlua::Result<()> {
            env.globals_backing
                .raw_set("KEYS", lua_array(&env.lua, keys)?)?;
            env.globals_backing
                .raw_set("ARGV", lua_array(&env.lua, args)?)
        };
        set().map_err(internal)?;
        execute(env, &f, None, script.sha.as_bytes(), host, reply);
        Ok(())
    }

    fn run_function(
        &mut self,
        library: &Arc<Library>,
        info: &FunctionInfo,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn Host,
        reply: &mut Reply,
    ) -> Result<(), ScriptError> {
        self.function_env()?;
        let current = self.libraries.get(&library.name).map(|l| l.id);
        if current != Some(library.id) {
            let functions = self.register_library(library.body(), None)?;
            self.libraries.insert(
                library.name.clone(),
                LoadedLibrary {
                    id: library.id,
                    functions: functions.into_iter().map(|(i, f)| (i.name, f)).collect(),
                },
            );
        }
        let f = self
            .libraries
            .get(&library.name)
            .and_then(|l| l.functions.get(&info.name))
            .cloned()
            .ok_or_else(|| err("ERR Function not found"))?;
        let env = self.func.as_ref().expect("function_env made it");
        let (k, a) = (|| -> mlua::Result<(Table, Table)> {
            Ok((lua_array(&env.lua, keys)?, lua_array(&env.lua, args)?))
        })()
        .map_err(internal)?;
        execute(env, &f, Some((k, a)), &info.name, host, reply);
        Ok(())
    }

    /// Compiles a library's code in the function state and runs it so that it registers its
    /// functions; `deadline` is FUNCTION LOAD's time limit.
    fn register_library(
        &mut self,
        body: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Vec<(FunctionInfo, Function)>, ScriptError> {
        let env = self.function_env()?;
        let (ngmt, libb) = env.library_env.clone().expect("function state");
        let lua = &env.lua;
        let f = lua
            .load(as_text(body).as_ref())
            .set_name("@user_function")
            .set_mode(ChunkMode::Text)
            .set_environment(env.globals.clone())
            .into_function()
            .map_err(|e| {
                err(format!(
                    "ERR Error compiling function: {}",
                    compile_message(&e)
                ))
            })?;
        if let Some(mut d) = lua.app_data_mut::<StateData>() {
            d.loading = Some(LoadCtx {
                functions: Vec::new(),
                deadline,
            });
            d.killed = None;
        }
        let outcome = (|| -> mlua::Result<MultiValue> {
            ngmt.raw_set("__index", libb)?;
            if deadline.is_some() {
                lua.set_global_hook(
                    HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
                    load_hook,
                )?;
            }
            let r = env.pcall.call::<MultiValue>(f);
            lua.remove_global_hook();
            ngmt.raw_set("__index", env.globals_backing.clone())?;
            r
        })();
        let data = lua
            .app_data_mut::<StateData>()
            .map(|mut d| (d.loading.take(), d.killed.take()));
        let (loaded, killed) = data.unwrap_or((None, None));
        let result = outcome.map_err(internal)?;
        let mut it = result.into_iter();
        if !matches!(it.next(), Some(Value::Boolean(true))) {
            let e = it.next().unwrap_or(Value::Nil);
            let msg = match killed {
                Some(k) => k,
                None => load_error_text(lua, &e),
            };
            let mut text = b"ERR Error registering functions: ".to_vec();
            text.extend_from_slice(&msg);
            return Err(err(text));
        }
        let mut functions = loaded.map(|l| l.functions).unwrap_or_default();
        functions.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(functions)
    }

    /// FUNCTION LOAD [REPLACE]: the library name once loaded, or the error reply text.
    pub fn function_load(&mut self, code: &[u8], replace: bool) -> Result<Vec<u8>, ScriptError> {
        let meta = library_meta(code).map_err(err)?;
        if !valid_name(&meta.name) {
            return Err(err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
        }
        if !meta.engine.eq_ignore_ascii_case(b"lua") {
            return Err(err(format!(
                "ERR Engine '{}' not found",
                String::from_utf8_lossy(&meta.engine)
            )));
        }
        if !replace && self.store.library(&meta.name).is_some() {
            return Err(library_exists_error(&meta.name));
        }
        let body = &code[meta.code_start..];
        let functions = self.register_library(body, Some(Instant::now() + LOAD_TIMEOUT))?;
        if functions.is_empty() {
            return Err(err("ERR No functions registered"));
        }
        let library = Arc::new(Library {
            name: meta.name.clone(),
            code: code.to_vec(),
            functions: functions.iter().map(|(i, _)| i.clone()).collect(),
            id: self.store.new_library_id(),
            code_start: meta.code_start,
        });
        {
            let mut inner = self.store.write();
            // Checked again under the lock: another thread may have loaded meanwhile.
            if !replace && inner.libraries.contains_key(&meta.name) {
                return Err(library_exists_error(&meta.name));
            }
            let old = inner.unlink(&meta.name);
            if let Some(f) = inner.colliding_function(&library) {
                let e = err(format!(
                    "ERR Function {} already exists",
                    String::from_utf8_lossy(&f.name)
                ));
                if let Some(old) = old {
                    inner.link(old);
                }
                return Err(e);
            }
            inner.link(library.clone());
        }
        self.store.bump_functions();
        self.libraries.insert(
            meta.name.clone(),
            LoadedLibrary {
                id: library.id,
                functions: functions.into_iter().map(|(i, f)| (i.name, f)).collect(),
            },
        );
        Ok(meta.name)
    }

    /// Compiles a library for FUNCTION RESTORE (no time limit, like Redis loading a dump).
    pub(crate) fn library_from_code(&mut self, code: &[u8]) -> Result<Library, ScriptError> {
        let meta = library_meta(code).map_err(err)?;
        if !valid_name(&meta.name) {
            return Err(err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
        }
        if !meta.engine.eq_ignore_ascii_case(b"lua") {
            return Err(err(format!(
                "ERR Engine '{}' not found",
                String::from_utf8_lossy(&meta.engine)
            )));
        }
        let functions = self.register_library(&code[meta.code_start..], None)?;
        if functions.is_empty() {
            return Err(err("ERR No functions registered"));
        }
        Ok(Library {
            name: meta.name,
            code: code.to_vec(),
            functions: functions.into_iter().map(|(i, _)| i).collect(),
            id: self.store.new_library_id(),
            code_start: meta.code_start,
        })
    }
}

fn library_exists_error(name: &[u8]) -> ScriptError {
    err(format!(
        "ERR Library '{}' already exists",
        String::from_utf8_lossy(name)
    ))
}

/// Redis' `luaExtractErrorInformation` for an error raised by library code at load time
/// (no error handler there): strings get "ERR ", tables give their `err` field.
fn load_error_text(lua: &Lua, e: &Value) -> Vec<u8> {
    if let Some(s) = to_bytes(lua, e) {
        let mut m = b"ERR ".to_vec();
        m.extend_from_slice(&s);
        return m;
    }
    match e {
        Value::Table(t) => error_field(lua, t),
        _ => b"ERR unknown error".to_vec(),
    }
}

/// The FUNCTION LOAD time limit (the hook runs every HOOK_INSTRUCTIONS instructions).
fn load_hook(lua: &Lua, _: &mlua::debug::Debug) -> mlua::Result<VmState> {
    let mut d = lua
        .app_data_mut::<StateData>()
        .ok_or_else(|| mlua::Error::runtime("no state"))?;
    let expired = d.killed.is_some()
        || d.loading
            .as_ref()
            .and_then(|l| l.deadline)
            .is_some_and(|t| Instant::now() > t);
    if !expired {
        return Ok(VmState::Continue);
    }
    d.killed = Some(b"ERR FUNCTION LOAD timeout".to_vec());
    drop(d);
    // From now on every line fails, so pcall cannot keep the code alive.
    lua.set_global_hook(HookTriggers::EVERY_LINE, load_hook)?;
    Err(mlua::Error::runtime("FUNCTION LOAD timeout"))
}

/// The run hook: asks the host whether to go on; once it says no, every line fails.
fn run_hook(lua: &Lua, host: &Function) -> mlua::Result<VmState> {
    let already = lua
        .app_data_ref::<StateData>()
        .is_some_and(|d| d.killed.is_some());
    if !already {
        let answer: Value = host.call(HOST_HOOK)?;
        let Some(msg) = to_bytes(lua, &answer) else {
            return Ok(VmState::Continue);
        };
        if let Some(mut d) = lua.app_data_mut::<StateData>() {
            d.killed = Some(error_text(&msg));
        }
        let h = host.clone();
        lua.set_global_hook(HookTriggers::EVERY_LINE, move |lua, _| run_hook(lua, &h))?;
    }
    Err(mlua::Error::runtime("script killed"))
}

/// Runs a compiled script or function and writes its reply (Redis' `luaCallFunction`).
fn execute(
    env: &LuaEnv,
    f: &Function,
    keys_args: Option<(Table, Table)>,
    funcname: &[u8],
    host: &mut dyn Host,
    reply: &mut Reply,
) {
    let lua = &env.lua;
    if let Some(mut d) = lua.app_data_mut::<StateData>() {
        d.resp3 = false;
        d.repl = REPL_ALL;
        d.running = true;
        d.killed = None;
        *d.cjson.borrow_mut() = Default::default();
    }
    let sentinel = env.sentinel.clone();
    let outcome = lua.scope(|scope| {
        let host_fn = scope.create_function_mut(|lua, args: MultiValue| {
            match host_op(lua, &mut *host, args) {
                Ok(v) => Ok(v),
                Err(e) => raised(lua, &sentinel, e),
            }
        })?;
        env.ctx.raw_set("host", host_fn.clone())?;
        let hook_host = host_fn.clone();
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
            move |lua, _| run_hook(lua, &hook_host),
        )?;
        let r = env.call_protected(f, keys_args);
        lua.remove_global_hook();
        env.ctx.raw_set("host", Value::Nil)?;
        r
    });
    let (script_resp3, killed) = lua
        .app_data_mut::<StateData>()
        .map(|mut d| {
            d.running = false;
            (d.resp3, d.killed.take())
        })
        .unwrap_or((false, None));
    match outcome {
        Ok(Ok(v)) => lua_to_reply(lua, &env.next, v, reply, script_resp3),
        Ok(Err(e)) => error_reply(lua, e, funcname, killed, reply),
        Err(e) => reply.error(&format!(
            "ERR Error running script {}, {}",
            String::from_utf8_lossy(funcname),
            e
        )),
    }
    env.scrub_proxies();
    // A script may have stopped the collector (collectgarbage('stop')): it must not stay
    // stopped for the scripts that follow on this thread.
    lua.gc_restart();
}

/// The reply for a script that raised `e` (the error handler's table, normally).
fn error_reply(lua: &Lua, e: Value, funcname: &[u8], killed: Option<Vec<u8>>, reply: &mut Reply) {
    let Value::Table(t) = e else {
        let msg = to_bytes(lua, &e).unwrap_or_else(|| b"execution failure".to_vec());
        let mut text = b"ERR Error running script ".to_vec();
        text.extend_from_slice(funcname);
        text.extend_from_slice(b", ");
        text.extend_from_slice(&msg[..msg.len().min(100)]);
        reply.error_bytes(trim_newlines(&text));
        return;
    };
    // C strings: Redis loses everything from a NUL on.
    let mut text = killed.unwrap_or_else(|| c_str(&error_field(lua, &t)).to_vec());
    let field = |name: &str| -> Option<Vec<u8>> {
        let v: Value = t.get(name).ok()?;
        to_bytes(lua, &v).map(|b| c_str(&b).to_vec())
    };
    if let (Some(line), Some(source)) = (field("line"), field("source")) {
        text.extend_from_slice(b" script: ");
        text.extend_from_slice(funcname);
        text.extend_from_slice(b", on ");
        text.extend_from_slice(&source);
        text.push(b':');
        text.extend_from_slice(&line);
        text.push(b'.');
    }
    reply.error_bytes(&text);
}

fn trim_newlines(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&c| c != b'\r' && c != b'\n')
        .map_or(0, |i| i + 1);
    &s[..end]
}
