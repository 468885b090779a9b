//! Building a sandboxed Lua state the way Redis 7.2 sets up its own: only the base, table,
//! string and math libraries plus cjson, cmsgpack, bit and struct; the `redis` API; read-only
//! globals whose unknown names raise "Script attempted to access nonexistent global
//! variable"; read-only library tables; no bytecode loading.
//!
//! Redis makes tables read-only with a patch to the Lua VM. Stock Lua has no such flag, so
//! here every protected table is an empty proxy whose metatable reads from the real
//! ("backing") table and refuses writes; the builtins that bypass metatables (rawset,
//! rawget, next, pairs, setmetatable, getmetatable, table.insert, table.foreach[i]) are
//! replaced by versions that see through proxies and refuse to write to them, and no
//! backing table is ever reachable from a script.
//!
//! Functions implemented in Rust cannot raise arbitrary Lua values, so each is called
//! through a small Lua wrapper: the Rust side returns a sentinel and the error, the wrapper
//! raises it (with `error(msg, 3)` for positioned messages: the position is then the
//! caller's, as lauxlib's `luaL_error` gives it).

use super::lauxlib::{to_bytes, LuaRet, Raise};
use super::LogLevel;
use mlua::{ffi, Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};
use std::cell::{Cell, RefCell};
use std::ffi::c_int;
use std::rc::Rc;
use std::time::Instant;

/// The chunk name of the prelude: frames of this chunk are skipped when the error handler
/// looks for the line that failed.
pub(crate) const INTERNAL_CHUNK: &str = "=shardis";

/// Lua glue run once per state (see the module doc).
const PRELUDE: &str = r#"
local P = ...
local G0, raw, SENT, kind, consts = P.G, P.raw, P.SENT, P.kind, P.consts
local error, type, select, tostring = G0.error, G0.type, G0.select, G0.tostring
local next_, rawget_, rawset_ = G0.next, G0.rawget, G0.rawset
local setmetatable_, getmetatable_ = G0.setmetatable, G0.getmetatable
local pcall_, xpcall_, loadstring_, load_ = G0.pcall, G0.xpcall, G0.loadstring, G0.load
local strbyte, tonumber = G0.string.byte, G0.tonumber
local tinsert_, tforeach_, tforeachi_ = G0.table.insert, G0.table.foreach, G0.table.foreachi
local killed, where, cwrap, CTX = raw.killed, raw.where, raw.cwrap, P.ctx

local RO, VMT, PROXIES = {}, {}, {}

local function ro_error() error('Attempt to modify a readonly table', 2) end

local function protect(backing, vmt)
  local p = {}
  RO[p] = backing
  VMT[p] = vmt or false
  setmetatable_(p, {__index = backing, __newindex = ro_error, __metatable = false})
  PROXIES[#PROXIES + 1] = p
  return p
end

local function global_error(t, k)
  local tk = type(k)
  if tk ~= 'string' and tk ~= 'number' then
    error('Second argument to luaProtectedTableError must be a string or number', 2)
  end
  error("Script attempted to access nonexistent global variable '" .. k .. "'", 2)
end
local ERRMT = {__index = global_error}

-- The functions below run behind cwrap: they return (SENT, message, positioned) to raise,
-- the C wrapper raises it as the C function Redis has there would.
local READONLY = 'Attempt to modify a readonly table'
local function argtype(n, ...)
  if select('#', ...) < n then return 'no value' end
  return type((select(n, ...)))
end
local function argerr(n, fname, extra)
  return SENT, 'bad argument #' .. n .. " to '" .. fname .. "' (" .. extra .. ')', true
end
local function nottable(n, ...)
  return type((select(n, ...))) ~= 'table'
end

local function rawset(...)
  if nottable(1, ...) then return argerr(1, 'rawset', 'table expected, got ' .. argtype(1, ...)) end
  if select('#', ...) < 2 then return argerr(2, 'rawset', 'value expected') end
  if select('#', ...) < 3 then return argerr(3, 'rawset', 'value expected') end
  local t, k, v = ...
  if RO[t] then return SENT, READONLY, false end
  return rawset_(t, k, v)
end

local function rawget(...)
  if nottable(1, ...) then return argerr(1, 'rawget', 'table expected, got ' .. argtype(1, ...)) end
  if select('#', ...) < 2 then return argerr(2, 'rawget', 'value expected') end
  local t, k = ...
  return rawget_(RO[t] or t, k)
end

local next
next = cwrap(function(...)
  if nottable(1, ...) then return argerr(1, 'next', 'table expected, got ' .. argtype(1, ...)) end
  local t, k = ...
  return next_(RO[t] or t, k)
end)

local function pairs(...)
  if nottable(1, ...) then return argerr(1, 'pairs', 'table expected, got ' .. argtype(1, ...)) end
  local t = ...
  -- Only proxies need the slower next that sees through them.
  if RO[t] then return next, t, nil end
  return next_, t, nil
end

local function setmetatable(...)
  if nottable(1, ...) then
    return argerr(1, 'setmetatable', 'table expected, got ' .. argtype(1, ...))
  end
  local t, mt = ...
  local tm = type(mt)
  if select('#', ...) < 2 or (tm ~= 'nil' and tm ~= 'table') then
    return argerr(2, 'setmetatable', 'nil or table expected')
  end
  if RO[t] then return SENT, READONLY, false end
  local ok, e = pcall_(setmetatable_, t, mt)
  if not ok then return SENT, e, true end
  return t
end

local STRMT
local function getmetatable(...)
  if select('#', ...) < 1 then return argerr(1, 'getmetatable', 'value expected') end
  local o = ...
  local v = VMT[o]
  if v ~= nil then
    if v then return v end
    return nil
  end
  if type(o) == 'string' then return STRMT end
  return getmetatable_(o)
end

local function tinsert(...)
  if nottable(1, ...) then return argerr(1, 'insert', 'table expected, got ' .. argtype(1, ...)) end
  local n = select('#', ...)
  if n == 3 and tonumber((select(2, ...))) == nil then
    return argerr(2, 'insert', 'number expected, got ' .. argtype(2, ...))
  end
  if n ~= 2 and n ~= 3 then return SENT, "wrong number of arguments to 'insert'", true end
  if RO[(...)] then return SENT, READONLY, false end
  return tinsert_(...)
end

local function foreach(name, impl)
  return function(...)
    if nottable(1, ...) then return argerr(1, name, 'table expected, got ' .. argtype(1, ...)) end
    if type((select(2, ...))) ~= 'function' then
      return argerr(2, name, 'function expected, got ' .. argtype(2, ...))
    end
    local t, f = ...
    return impl(RO[t] or t, f)
  end
end

local function loadstring(...)
  local s, name = ...
  local ts = type(s)
  if ts ~= 'string' and ts ~= 'number' then
    return argerr(1, 'loadstring', 'string expected, got ' .. argtype(1, ...))
  end
  s = tostring(s)
  if name == nil then
    name = s
  elseif type(name) ~= 'string' and type(name) ~= 'number' then
    return argerr(2, 'loadstring', 'string expected, got ' .. argtype(2, ...))
  end
  -- Redis' Lua never loads bytecode: its parser sees the escape byte as text.
  if strbyte(s, 1) == 27 then s = ' ' .. s end
  return loadstring_(s, name)
end

local function load(...)
  local f, name = ...
  if name ~= nil and type(name) ~= 'string' and type(name) ~= 'number' then
    return argerr(2, 'load', 'string expected, got ' .. argtype(2, ...))
  end
  if type(f) ~= 'function' then
    return argerr(1, 'load', 'function expected, got ' .. argtype(1, ...))
  end
  local first = true
  local function reader()
    local piece = f()
    if piece == nil then return nil end
    local tp = type(piece)
    if tp ~= 'string' and tp ~= 'number' then
      -- The position of the user's call: reader, load, this wrapper, its C wrapper, user.
      error(where(5) .. 'reader function must return a string', 0)
    end
    if first then
      first = false
      piece = tostring(piece)
      if strbyte(piece, 1) == 27 then piece = ' ' .. piece end
    end
    return piece
  end
  if name == nil then name = '=(load)' end
  return load_(reader, name)
end

local function pfix(ok, ...)
  if ok then return true, ... end
  local e = ...
  if killed() then return SENT, e, false end
  if type(e) == 'table' then
    local m = e.err
    local tm = type(m)
    if tm == 'string' or tm == 'number' then e = m end
  end
  return false, e
end
local function pcall(...)
  if select('#', ...) == 0 then return false, 'attempt to call a boolean value' end
  return pfix(pcall_(...))
end

local function xfix(ok, ...)
  if not ok and killed() then return SENT, (...), false end
  return ok, ...
end
local function xpcall(...)
  if select('#', ...) < 2 then return argerr(2, 'xpcall', 'value expected') end
  return xfix(xpcall_(...))
end

local function copy(t)
  local c = {}
  for k, v in next_, t do c[k] = v end
  return c
end

local function wrap_lib(t)
  local b = {}
  for k, v in next_, t do
    if k == 'new' then
      b.new = cwrap(function() return wrap_lib(v()) end)
    elseif type(v) == 'function' then
      b[k] = cwrap(v)
    else
      b[k] = v
    end
  end
  return b
end

local B = {}
for _, name in G0.ipairs({'assert', 'collectgarbage', 'error', 'gcinfo', 'ipairs',
    'rawequal', 'select', 'tonumber', 'tostring', 'type', 'unpack', '_VERSION'}) do
  B[name] = G0[name]
end
B.rawset, B.rawget, B.next, B.pairs = cwrap(rawset), cwrap(rawget), next, cwrap(pairs)
B.setmetatable, B.getmetatable = cwrap(setmetatable), cwrap(getmetatable)
B.loadstring, B.load = cwrap(loadstring), cwrap(load)
B.pcall, B.xpcall = cwrap(pcall), cwrap(xpcall)

local string_b = copy(G0.string)
local math_b = copy(G0.math)
math_b.random, math_b.randomseed = cwrap(raw.random), cwrap(raw.randomseed)
local table_b = copy(G0.table)
table_b.insert = cwrap(tinsert)
table_b.foreach = cwrap(foreach('foreach', tforeach_))
table_b.foreachi = cwrap(foreach('foreachi', tforeachi_))
local string_p = protect(string_b)
B.string = string_p
B.math = protect(math_b)
B.table = protect(table_b)
B.coroutine = protect(copy(G0.coroutine))
B.cjson = protect(wrap_lib(P.libs.cjson))
B.cmsgpack = protect(wrap_lib(P.libs.cmsgpack))
B.bit = protect(wrap_lib(P.libs.bit))
B.struct = protect(wrap_lib(P.libs.struct))
STRMT = protect({__index = string_p})

local function no_context(what)
  return {err = 'ERR ' .. what .. ' can only be called inside a script invocation'}
end
local R = {}
R.call = cwrap(function(...)
  local h = CTX.host
  if h == nil then return SENT, no_context('redis.call/pcall'), false end
  return h(1, ...)
end)
R.pcall = cwrap(function(...)
  local h = CTX.host
  if h == nil then return SENT, no_context('redis.call/pcall'), false end
  return h(2, ...)
end)
local rlog, rset_repl, racl = raw.log, raw.set_repl, raw.acl_check_cmd
local log = cwrap(function(...) return rlog(CTX.host, ...) end)
R.log = log
R.set_repl = cwrap(function(...) return rset_repl(CTX.host, ...) end)
R.acl_check_cmd = cwrap(function(...) return racl(CTX.host, ...) end)
for _, name in G0.ipairs({'sha1hex', 'error_reply', 'status_reply', 'setresp'}) do
  R[name] = cwrap(raw[name])
end
for k, v in next_, consts do R[k] = v end

local out = {proxies = PROXIES, ro = RO}
local handler = P.handler
if kind == 'eval' then
  R.breakpoint = raw.breakpoint
  R.debug = raw.debug
  R.replicate_commands = raw.replicate_commands
  B.__redis__err__handler = handler
end
B.redis = protect(R)

local PG = protect(B, protect({__index = global_error}))
B._G = PG
setmetatable_(B, ERRMT)
out.gb = B
out.globals = PG

if kind == 'function' then
  local NGMT = {__index = B, __newindex = ro_error, __metatable = false}
  local NG = setmetatable_({}, NGMT)
  RO[NG] = {}
  VMT[NG] = false
  local LR = {register_function = cwrap(raw.register_function), log = log}
  for k, v in next_, consts do
    if k:sub(1, 4) == 'LOG_' or k:sub(1, 13) == 'REDIS_VERSION' then LR[k] = v end
  end
  setmetatable_(LR, ERRMT)
  local LIBB = setmetatable_({redis = protect(LR)}, ERRMT)
  out.globals = NG
  out.ngmt = NGMT
  out.libb = LIBB
end

-- The call being run with KEYS and ARGV: set just before, read once by `with_args`, so no
-- closure is allocated per call. They stay set until the next call (unreachable from any
-- script: locals of this chunk).
local CF, CK, CA
local function with_args() return CF(CK, CA) end
function out.run(f, h, keys, args)
  if keys == nil then return xpcall_(f, h) end
  CF, CK, CA = f, keys, args
  return xpcall_(with_args, h)
end
-- Empties any proxy a script managed to write into (nothing known can: belt and braces).
function out.scrub()
  for i = 1, #PROXIES do
    local p = PROXIES[i]
    if next_(p) ~= nil then
      for k in next_, p do rawset_(p, k, nil) end
    end
  end
end
out.pcall = pcall_
out.next = next_
return out
"#;

/// Which of Redis' two Lua states this is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// EVAL scripts: KEYS and ARGV globals, redis.breakpoint / debug / replicate_commands.
    Eval,
    /// Function libraries: a library-loading API and an empty read-only global table.
    Function,
}

/// Where redis.log goes when no host is there (see `Engine::set_load_logger`).
pub(crate) type Logger = Rc<RefCell<Option<Box<dyn FnMut(LogLevel, &[u8])>>>>;

/// The library being loaded by FUNCTION LOAD: what `redis.register_function` fills.
pub(crate) struct LoadCtx {
    pub(crate) functions: Vec<(super::cache::FunctionInfo, Function)>,
    /// FUNCTION LOAD's 500 ms limit (none when loading from a dump or another thread).
    pub(crate) deadline: Option<Instant>,
}

/// Per-state data the Rust functions reach through `Lua::app_data`.
pub(crate) struct StateData {
    /// redis.setresp(3) was called in the running script.
    pub(crate) resp3: bool,
    /// redis.set_repl's current value.
    pub(crate) repl: u8,
    /// A script or function is running (redis.setresp & co. refuse to work otherwise).
    pub(crate) running: bool,
    /// Set when the host or the load timeout stopped the script: the error, as its reply
    /// text, keeps being raised until the script is gone.
    pub(crate) killed: Option<Vec<u8>>,
    /// Set while a library's code runs at FUNCTION LOAD.
    pub(crate) loading: Option<LoadCtx>,
    /// The 48-bit state of Redis' rand48 generator (math.random), shared by an engine's
    /// two Lua states as Redis shares one generator.
    pub(crate) rand: Rc<Cell<u64>>,
    /// The configuration of the `cjson` module table, reset before each run.
    pub(crate) cjson: Rc<RefCell<super::libs::cjson::Config>>,
    /// Where redis.log goes when no host is there (library code at FUNCTION LOAD).
    pub(crate) logger: Logger,
}

/// A sandboxed Lua state and the handles the engine needs into it.
pub(crate) struct LuaEnv {
    pub(crate) lua: Lua,
    /// `CTX.host`: the per-run function that reaches the host.
    pub(crate) ctx: Table,
    /// What scripts see as their global table (a proxy, or the empty function globals).
    pub(crate) globals: Table,
    /// The table global reads end in (KEYS and ARGV are set there).
    pub(crate) globals_backing: Table,
    /// The trampoline that runs a function under the error handler.
    pub(crate) run: Function,
    /// The error handler (Redis' `__redis__err__handler`).
    pub(crate) handler: Function,
    /// Lua's own pcall (runs library code at FUNCTION LOAD, where errors are plain).
    pub(crate) pcall: Function,
    /// Lua's own next (walks the tables a script returns).
    pub(crate) next: Function,
    /// Empties the read-only proxies (they must stay empty: whatever a run wrote into one
    /// is undone).
    pub(crate) scrub: Function,
    /// The read-only proxies, checked from Rust after every run: a call into Lua per
    /// script to look at them was a tenth of a short EVAL's time.
    pub(crate) proxies: Vec<Table>,
    /// Function state only: the global table's metatable (its `__index` switches between
    /// the library-loading API and the real globals) and that loading API.
    pub(crate) library_env: Option<(Table, Table)>,
    /// The sentinel Rust functions return to make their wrapper raise.
    pub(crate) sentinel: Table,
}

/// Redis' version as `redis.REDIS_VERSION_NUM` shows it: 0x00MMmmpp.
pub(crate) fn version_num(v: &str) -> u32 {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// Makes a Rust function callable from Lua under the sentinel protocol of the prelude's
/// `wrap`: errors come back as (sentinel, error, positioned).
pub(crate) fn rust_fn<F>(lua: &Lua, sentinel: &Table, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> LuaRet + 'static,
{
    let sentinel = sentinel.clone();
    lua.create_function(move |lua, args: MultiValue| {
        match super::lauxlib::with_stack(|| f(lua, args)) {
            Ok(v) => Ok(v),
            Err(e) => raised(lua, &sentinel, e),
        }
    })
}

/// The values a Rust function returns to have its wrapper raise `e`.
pub(crate) fn raised(lua: &Lua, sentinel: &Table, e: Raise) -> mlua::Result<MultiValue> {
    let (payload, positioned) = match e {
        Raise::Msg(m) => (Value::String(lua.create_string(m)?), true),
        Raise::Value(v) => (v, false),
    };
    Ok(MultiValue::from_vec(vec![
        Value::Table(sentinel.clone()),
        payload,
        Value::Boolean(positioned),
    ]))
}

/// The C function behind every function of the scripting API (see [`c_wrap`]). Its two
/// upvalues are the implementation and the sentinel.
///
/// SAFETY: Lua calls it as a C function made by `c_wrap`, so `state` is a valid Lua state
/// whose running function has those two upvalues. It holds no Rust value with a destructor
/// while calling what may raise a Lua error (lua_call, luaL_where, lua_concat, lua_error),
/// so the longjmp Lua raises errors with skips no drop: the frame is a plain old frame.
unsafe extern "C-unwind" fn trampoline(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    ffi::luaL_checkstack(state, 3, std::ptr::null());
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
    let n = ffi::lua_gettop(state);
    if n >= 1 && ffi::lua_rawequal(state, 1, ffi::lua_upvalueindex(2)) != 0 {
        if n >= 3 && ffi::lua_toboolean(state, 3) != 0 {
            // luaL_error's position: the caller of this C function.
            ffi::luaL_where(state, 1);
            ffi::lua_pushvalue(state, 2);
            ffi::lua_concat(state, 2);
        } else {
            ffi::lua_pushvalue(state, 2);
        }
        ffi::lua_error(state);
    }
    n
}

/// Wraps `f` (a Rust function or prelude function following the sentinel protocol) into a
/// C function that raises what `f` returns behind the sentinel. Being a C function matters:
/// Lua never tail-calls one, so `return cjson.decode(s)` keeps the caller's frame, and
/// errors get the caller's position and function name exactly as Redis' C functions do.
pub(crate) fn c_wrap(lua: &Lua, f: Function, sentinel: &Table) -> mlua::Result<Function> {
    // SAFETY: exec_raw runs the closure in a protected call with `f` and the sentinel on
    // the stack; lua_pushcclosure pops them as upvalues and pushes the closure, which is
    // the one value left for the result.
    unsafe {
        lua.exec_raw((f, sentinel.clone()), |state| {
            ffi::lua_pushcclosure(state, trampoline, 2);
        })
    }
}

/// Shared state between an engine's two Lua states.
pub(crate) struct Shared {
    pub(crate) rand: Rc<Cell<u64>>,
    pub(crate) logger: Logger,
}

/// Creates a sandboxed state of the given kind.
pub(crate) fn new_state(kind: Kind, shared: &Shared) -> mlua::Result<LuaEnv> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH,
        LuaOptions::default(),
    )?;
    let sentinel = lua.create_table()?;
    let cjson_config = Rc::new(RefCell::new(super::libs::cjson::Config::default()));
    lua.set_app_data(StateData {
        resp3: false,
        repl: super::REPL_ALL,
        running: false,
        killed: None,
        loading: None,
        rand: shared.rand.clone(),
        cjson: cjson_config.clone(),
        logger: shared.logger.clone(),
    });
    let g0 = lua.globals();
    let tostring: Function = g0.get("tostring")?;

    let raw = lua.create_table()?;
    super::redis_api::install(&lua, &sentinel, &raw)?;
    let s = sentinel.clone();
    raw.raw_set(
        "cwrap",
        lua.create_function(move |lua, f: Function| c_wrap(lua, f, &s))?,
    )?;
    raw.raw_set(
        "killed",
        lua.create_function(|lua, ()| {
            Ok(lua
                .app_data_ref::<StateData>()
                .is_some_and(|d| d.killed.is_some()))
        })?,
    )?;
    raw.raw_set(
        "where",
        lua.create_function(|lua, level: usize| {
            let w = lua
                .inspect_stack(level, |d| {
                    let src = d.source().short_src.map(|s| s.into_owned());
                    match (src, d.current_line()) {
                        (Some(src), Some(line)) if line > 0 => format!("{src}:{line}: "),
                        _ => String::new(),
                    }
                })
                .unwrap_or_default();
            Ok(w)
        })?,
    )?;

    let libs = lua.create_table()?;
    libs.raw_set(
        "cjson",
        super::libs::cjson::module(&lua, &sentinel, cjson_config)?,
    )?;
    libs.raw_set("cmsgpack", super::libs::cmsgpack::module(&lua, &sentinel)?)?;
    libs.raw_set("bit", super::libs::bit::module(&lua, &sentinel)?)?;
    libs.raw_set("struct", super::libs::lua_struct::module(&lua, &sentinel)?)?;

    let consts = lua.create_table()?;
    for (name, level) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        consts.raw_set(name, level)?;
    }
    consts.raw_set("REDIS_VERSION", crate::REDIS_VERSION)?;
    consts.raw_set("REDIS_VERSION_NUM", version_num(crate::REDIS_VERSION))?;

    let ctx = lua.create_table()?;
    let params = lua.create_table()?;
    params.raw_set("G", g0.clone())?;
    params.raw_set("raw", raw)?;
    params.raw_set("SENT", sentinel.clone())?;
    params.raw_set(
        "kind",
        match kind {
            Kind::Eval => "eval",
            Kind::Function => "function",
        },
    )?;
    params.raw_set("consts", consts)?;
    params.raw_set("ctx", ctx.clone())?;
    params.raw_set("libs", libs)?;

    // The error handler needs the read-only registry, which the prelude creates: build it
    // first with a placeholder and patch it in below.
    let ro_slot = lua.create_table()?;
    let handler = make_handler(&lua, tostring, ro_slot.clone())?;
    params.raw_set("handler", handler.clone())?;

    let out: Table = lua
        .load(PRELUDE)
        .set_name(INTERNAL_CHUNK)
        .set_environment(g0)
        .call(params)?;
    ro_slot.raw_set("ro", out.get::<Table>("ro")?)?;

    let globals: Table = out.get("globals")?;
    lua.set_globals(globals.clone())?;
    let library_env = match kind {
        Kind::Eval => None,
        Kind::Function => Some((out.get("ngmt")?, out.get("libb")?)),
    };
    Ok(LuaEnv {
        ctx,
        globals,
        globals_backing: out.get("gb")?,
        run: out.get("run")?,
        handler,
        pcall: out.get("pcall")?,
        next: out.get("next")?,
        scrub: out.get("scrub")?,
        proxies: out
            .get::<Table>("proxies")?
            .sequence_values::<Table>()
            .collect::<mlua::Result<_>>()?,
        library_env,
        sentinel,
        lua,
    })
}

/// Redis' error handler: the error becomes a table `{err=..., source=..., line=...}` where
/// source and line are those of the frame that failed (the caller, when the error was
/// raised by a C function). Frames of the prelude and lost tail calls are skipped: they
/// stand in for what are C functions in Redis.
fn make_handler(lua: &Lua, tostring: Function, ro_slot: Table) -> mlua::Result<Function> {
    lua.create_function(move |lua, err: Value| {
        let frame = |level: usize| {
            lua.inspect_stack(level, |d| {
                let s = d.source();
                (
                    s.what,
                    s.source.map(|x| x.into_owned()),
                    d.current_line().map_or(-1, |l| l as i64),
                )
            })
        };
        // Redis: the failing frame, or its caller when it is a C function. Prelude frames
        // and the C wrappers that call them stand for C functions of Redis: skipped, like
        // tail calls Lua lost.
        let mut level = 1;
        if matches!(frame(1), Some(("C", _, _))) {
            level = 2;
        }
        let mut found = None;
        let mut after_internal = false;
        while let Some((what, source, line)) = frame(level) {
            let internal = source.as_deref() == Some(INTERNAL_CHUNK);
            if internal || what == "tail" || (after_internal && what == "C") {
                after_internal = internal;
                level += 1;
                continue;
            }
            found = Some((source, line));
            break;
        }
        let table = match err {
            Value::Table(t) => {
                let ro: Option<Table> = ro_slot.raw_get("ro")?;
                if let Some(ro) = ro {
                    if !matches!(ro.raw_get::<Value>(t.clone())?, Value::Nil) {
                        // Redis' handler (a Lua function at line 10 of its chunk) fails
                        // writing into a read-only table, and Lua hands that error to the
                        // handler again.
                        let t = lua.create_table()?;
                        t.raw_set(
                            "err",
                            "ERR err_handler_def:10: Attempt to modify a readonly table",
                        )?;
                        t.raw_set("source", "@err_handler_def")?;
                        t.raw_set("line", 10)?;
                        return Ok(Value::Table(t));
                    }
                }
                t
            }
            other => {
                let text = match to_bytes(lua, &other) {
                    Some(b) => b,
                    None => tostring
                        .call::<mlua::LuaString>(other)
                        .map(|s| s.as_bytes().to_vec())
                        .unwrap_or_else(|_| b"?".to_vec()),
                };
                let mut msg = b"ERR ".to_vec();
                msg.extend_from_slice(&text);
                let t = lua.create_table()?;
                t.raw_set("err", lua.create_string(msg)?)?;
                t
            }
        };
        if let Some((source, line)) = found {
            if let Some(source) = source {
                table.raw_set("source", source)?;
            }
            table.raw_set("line", line)?;
        }
        Ok(Value::Table(table))
    })
}

impl LuaEnv {
    /// Empties any read-only proxy a script managed to write into, so nothing a script did
    /// reaches the next one.
    pub(crate) fn scrub_proxies(&self) {
        if self.proxies.iter().any(|p| !p.is_empty()) {
            let _ = self.scrub.call::<()>(());
        }
    }

    /// Runs `f` under the error handler: Ok(value) or Err(error object from the handler).
    pub(crate) fn call_protected(
        &self,
        f: &Function,
        keys_args: Option<(Table, Table)>,
    ) -> mlua::Result<Result<Value, Value>> {
        let result: MultiValue = match keys_args {
            None => self.run.call((f.clone(), self.handler.clone()))?,
            Some((k, a)) => self.run.call((f.clone(), self.handler.clone(), k, a))?,
        };
        let mut it = result.into_iter();
        let ok = matches!(it.next(), Some(Value::Boolean(true)));
        let v = it.next().unwrap_or(Value::Nil);
        Ok(if ok { Ok(v) } else { Err(v) })
    }
}
