//! The `redis` table's functions (script_lua.c, eval.c and function_lua.c in Redis 7.2),
//! math.random / math.randomseed on Redis' rand48, and the per-run bridge to the [`Host`].

use super::cache::FunctionInfo;
use super::convert::{error_table, reply_to_lua};
use super::flags::{flag_by_name, valid_name, ScriptFlags};
use super::lauxlib::{fmt_g, to_bytes, to_number, Args, LuaRet, Raise};
use super::sandbox::{rust_fn, StateData};
use super::{Host, LogLevel};
use mlua::{Function, IntoLua, Lua, MultiValue, Table, Value};

/// An error raised as Redis' `luaPushError` + `lua_error` do: an `{err="ERR msg"}` table.
/// The host function bound as the first argument of `name` during a run, or Redis' error
/// when the script is not running.
fn take_host(lua: &Lua, v: &mut Vec<Value>, name: &str) -> Result<mlua::Function, Raise> {
    match (!v.is_empty()).then(|| v.remove(0)) {
        Some(Value::Function(host)) => Ok(host),
        _ => Err(raise_err(
            lua,
            &format!("{name} can only be called inside a script invocation"),
        )),
    }
}

fn raise_err(lua: &Lua, msg: &str) -> Raise {
    match error_table(lua, msg.as_bytes(), false) {
        Ok(t) => Raise::Value(Value::Table(t)),
        Err(e) => e.into(),
    }
}

/// Returns a single value.
fn ret(lua: &Lua, v: impl IntoLua) -> LuaRet {
    Ok(MultiValue::from_vec(vec![v.into_lua(lua)?]))
}

fn running(lua: &Lua) -> bool {
    lua.app_data_ref::<StateData>().is_some_and(|d| d.running)
}

/// The 48-bit linear congruential generator of POSIX lrand48, as Redis' rand.c.
pub(crate) fn rand48_next(state: &std::cell::Cell<u64>) -> u32 {
    let x = state.get().wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & ((1 << 48) - 1);
    state.set(x);
    (x >> 17) as u32
}

/// Redis' rand48 state before any seeding.
pub(crate) const RAND48_INITIAL: u64 = 0x1234_ABCD_330E;

/// Builds the raw functions the prelude wraps into the `redis` table and math.random.
pub(crate) fn install(lua: &Lua, sentinel: &Table, raw: &Table) -> mlua::Result<()> {
    let add = |name: &str, f: Function| raw.raw_set(name, f);

    add(
        "sha1hex",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            if a.len() != 1 {
                return Err(raise_err(lua, "wrong number of arguments"));
            }
            let s = a.to_bytes(1).unwrap_or_default();
            ret(lua, lua.create_string(super::sha1_hex(&s))?)
        })?,
    )?;

    add(
        "error_reply",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            let Value::String(s) = a.get(1) else {
                return ret(
                    lua,
                    error_table(lua, b"wrong number or type of arguments", false)?,
                );
            };
            if a.len() != 1 {
                return ret(
                    lua,
                    error_table(lua, b"wrong number or type of arguments", false)?,
                );
            }
            let s = s.as_bytes().to_vec();
            let s = super::flags::c_str(&s);
            let mut buf = Vec::with_capacity(s.len() + 1);
            if s.first() != Some(&b'-') {
                buf.push(b'-');
            }
            buf.extend_from_slice(s);
            ret(lua, error_table(lua, &buf, false)?)
        })?,
    )?;

    add(
        "status_reply",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            match (a.len(), a.get(1)) {
                (1, Value::String(s)) => {
                    let t = lua.create_table_with_capacity(0, 1)?;
                    t.raw_set("ok", s)?;
                    ret(lua, t)
                }
                _ => ret(
                    lua,
                    error_table(lua, b"wrong number or type of arguments", false)?,
                ),
            }
        })?,
    )?;

    add(
        "setresp",
        rust_fn(lua, sentinel, |lua, args| {
            if !running(lua) {
                return Err(raise_err(
                    lua,
                    "redis.setresp can only be called inside a script invocation",
                ));
            }
            let a = Args::new(lua, args);
            if a.len() != 1 {
                return Err(raise_err(lua, "redis.setresp() requires one argument."));
            }
            let resp = super::lauxlib::f64_to_i32(a.to_number(1).unwrap_or(0.0));
            if resp != 2 && resp != 3 {
                return Err(raise_err(lua, "RESP version must be 2 or 3."));
            }
            if let Some(mut d) = lua.app_data_mut::<StateData>() {
                d.resp3 = resp == 3;
            }
            Ok(MultiValue::new())
        })?,
    )?;

    add(
        "set_repl",
        rust_fn(lua, sentinel, |lua, args| {
            let mut v = args.into_vec();
            let host = take_host(lua, &mut v, "redis.set_repl")?;
            let a = Args::new(lua, MultiValue::from_vec(v));
            if a.len() != 1 {
                return Err(raise_err(lua, "redis.set_repl() requires two arguments."));
            }
            let flags = super::lauxlib::f64_to_i32(a.to_number(1).unwrap_or(0.0));
            if flags & !super::REPL_ALL as i32 != 0 {
                return Err(raise_err(
                    lua,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                ));
            }
            if let Some(mut d) = lua.app_data_mut::<StateData>() {
                d.repl = flags as u8;
            }
            host.call::<()>((HOST_SET_REPL, flags))?;
            Ok(MultiValue::new())
        })?,
    )?;

    add(
        "log",
        rust_fn(lua, sentinel, |lua, args| {
            let mut v = args.into_vec();
            let host = if v.is_empty() {
                Value::Nil
            } else {
                v.remove(0)
            };
            let a = Args::new(lua, MultiValue::from_vec(v));
            if a.len() < 2 {
                return Err(raise_err(
                    lua,
                    "redis.log() requires two arguments or more.",
                ));
            }
            let Some(level) = a.to_number(1) else {
                return Err(raise_err(
                    lua,
                    "First argument must be a number (log level).",
                ));
            };
            let level = super::lauxlib::f64_to_i32(level);
            let Some(level) = LogLevel::from_num(level) else {
                return Err(raise_err(lua, "Invalid debug level."));
            };
            let mut msg = Vec::new();
            for j in 2..=a.len() {
                if let Some(s) = a.to_bytes(j) {
                    if j != 2 {
                        msg.push(b' ');
                    }
                    msg.extend_from_slice(&s);
                }
            }
            match host {
                Value::Function(h) => {
                    h.call::<()>((HOST_LOG, level as i32, lua.create_string(&msg)?))?;
                }
                _ => {
                    let logger = lua.app_data_ref::<StateData>().map(|d| d.logger.clone());
                    if let Some(logger) = logger {
                        if let Some(f) = logger.borrow_mut().as_mut() {
                            f(level, &msg);
                        }
                    }
                }
            }
            Ok(MultiValue::new())
        })?,
    )?;

    add(
        "acl_check_cmd",
        rust_fn(lua, sentinel, |lua, args| {
            let mut v = args.into_vec();
            let host = take_host(lua, &mut v, "redis.acl_check_cmd")?;
            let mut call_args = vec![Value::Integer(HOST_ACL)];
            call_args.extend(v);
            let allowed: Value = host.call(MultiValue::from_vec(call_args))?;
            match allowed {
                Value::Boolean(b) => ret(lua, b),
                Value::Table(t) => Err(Raise::Value(Value::Table(t))),
                _ => Err(raise_err(
                    lua,
                    "Invalid command passed to redis.acl_check_cmd()",
                )),
            }
        })?,
    )?;

    add(
        "breakpoint",
        rust_fn(lua, sentinel, |lua, _| ret(lua, false))?,
    )?;
    add(
        "debug",
        rust_fn(lua, sentinel, |_, _| Ok(MultiValue::new()))?,
    )?;
    add(
        "replicate_commands",
        rust_fn(lua, sentinel, |lua, _| ret(lua, true))?,
    )?;

    add(
        "random",
        rust_fn(lua, sentinel, |lua, args| {
            if !running(lua) {
                return Err(Raise::msg(
                    "math.random can only be called inside a script invocation",
                ));
            }
            let Some(rand) = lua.app_data_ref::<StateData>().map(|d| d.rand.clone()) else {
                return Err(Raise::msg("math.random is not available"));
            };
            const MAX: u32 = 0x7fff_ffff;
            // Redis draws first, then checks the arguments.
            let r = (rand48_next(&rand) % MAX) as f64 / MAX as f64;
            let a = Args::new(lua, args);
            match a.len() {
                0 => ret(lua, r),
                1 => {
                    let u = a.check_int(1)?;
                    if u < 1 {
                        return Err(a.arg_error(1, "interval is empty"));
                    }
                    ret(lua, (r * u as f64).floor() + 1.0)
                }
                2 => {
                    let l = a.check_int(1)?;
                    let u = a.check_int(2)?;
                    if l > u {
                        return Err(a.arg_error(2, "interval is empty"));
                    }
                    let span = u.wrapping_sub(l).wrapping_add(1);
                    ret(lua, (r * span as f64).floor() + l as f64)
                }
                _ => Err(Raise::msg("wrong number of arguments")),
            }
        })?,
    )?;

    add(
        "randomseed",
        rust_fn(lua, sentinel, |lua, args| {
            if !running(lua) {
                return Err(Raise::msg(
                    "math.randomseed can only be called inside a script invocation",
                ));
            }
            let a = Args::new(lua, args);
            let seed = a.check_int(1)?;
            if let Some(d) = lua.app_data_ref::<StateData>() {
                d.rand.set(((seed as u32 as u64) << 16) | 0x330E);
            }
            Ok(MultiValue::new())
        })?,
    )?;

    add(
        "register_function",
        rust_fn(lua, sentinel, register_function)?,
    )?;
    Ok(())
}

/// Host operations the per-run host function performs (its first argument).
pub(crate) const HOST_CALL: i64 = 1;
pub(crate) const HOST_PCALL: i64 = 2;
pub(crate) const HOST_LOG: i64 = 3;
pub(crate) const HOST_ACL: i64 = 4;
pub(crate) const HOST_HOOK: i64 = 5;
pub(crate) const HOST_SET_REPL: i64 = 6;

/// Redis' `luaArgsToRedisArgv`: strings as they are, numbers as `%.17g`; the error
/// message for anything else or for no argument at all.
fn command_args(args: &[Value]) -> Result<Vec<Vec<u8>>, &'static [u8]> {
    if args.is_empty() {
        return Err(b"Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Value::String(s) => argv.push(s.as_bytes().to_vec()),
            Value::Integer(i) => argv.push(fmt_g(*i as f64, 17).into_bytes()),
            Value::Number(n) => argv.push(fmt_g(*n, 17).into_bytes()),
            _ => return Err(b"Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(argv)
}

/// The per-run function that reaches the host: `op` is one of the HOST_* codes.
pub(crate) fn host_op(lua: &Lua, host: &mut dyn Host, args: MultiValue) -> LuaRet {
    let mut v = args.into_vec();
    if v.is_empty() {
        return Ok(MultiValue::new());
    }
    let op = match v.remove(0) {
        Value::Integer(i) => i,
        Value::Number(n) => n as i64,
        _ => return Ok(MultiValue::new()),
    };
    match op {
        HOST_CALL | HOST_PCALL => {
            let raise = op == HOST_CALL;
            let argv = match command_args(&v) {
                Ok(a) => a,
                Err(msg) => {
                    let t = error_table(lua, msg, false)?;
                    return if raise {
                        Err(Raise::Value(Value::Table(t)))
                    } else {
                        ret(lua, t)
                    };
                }
            };
            let resp3 = lua.app_data_ref::<StateData>().is_some_and(|d| d.resp3);
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            let reply = host.call(&refs, resp3);
            let value = reply_to_lua(lua, &reply)?;
            if raise && reply.first() == Some(&b'-') {
                Err(Raise::Value(value))
            } else {
                ret(lua, value)
            }
        }
        HOST_LOG => {
            let level = v.first().and_then(|l| to_number(lua, l)).unwrap_or(0.0) as i32;
            let msg = v.get(1).and_then(|m| to_bytes(lua, m)).unwrap_or_default();
            if let Some(level) = LogLevel::from_num(level) {
                host.log(level, &msg);
            }
            Ok(MultiValue::new())
        }
        HOST_ACL => {
            let argv = match command_args(&v) {
                Ok(a) => a,
                Err(msg) => return ret(lua, error_table(lua, msg, false)?),
            };
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            match host.acl_check_cmd(&refs) {
                Some(b) => ret(lua, b),
                None => ret(lua, Value::Nil),
            }
        }
        HOST_HOOK => match host.on_hook() {
            Ok(()) => Ok(MultiValue::new()),
            Err(msg) => ret(lua, lua.create_string(msg)?),
        },
        HOST_SET_REPL => {
            let flags = v.first().and_then(|l| to_number(lua, l)).unwrap_or(0.0) as u8;
            host.set_repl(super::ReplFlags(flags));
            Ok(MultiValue::new())
        }
        _ => Ok(MultiValue::new()),
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=,
/// callback=, flags=, description=}`, at FUNCTION LOAD only.
fn register_function(lua: &Lua, args: MultiValue) -> LuaRet {
    let loading = lua
        .app_data_ref::<StateData>()
        .is_some_and(|d| d.loading.is_some());
    if !loading {
        return Err(raise_err(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    }
    let a = Args::new(lua, args);
    let (info, callback) = match a.len() {
        1 => named_args(lua, &a)?,
        2 => {
            let Some(name) = a.to_bytes(1) else {
                return Err(raise_err(
                    lua,
                    "first argument to redis.register_function must be a string",
                ));
            };
            let Value::Function(f) = a.get(2) else {
                return Err(raise_err(
                    lua,
                    "second argument to redis.register_function must be a function",
                ));
            };
            (
                FunctionInfo {
                    name,
                    description: None,
                    flags: ScriptFlags::empty(),
                },
                f,
            )
        }
        _ => {
            return Err(raise_err(
                lua,
                "wrong number of arguments to redis.register_function",
            ))
        }
    };
    if !valid_name(&info.name) {
        return Err(raise_err(lua, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
    }
    let mut data = lua
        .app_data_mut::<StateData>()
        .ok_or_else(|| Raise::msg("no state"))?;
    let Some(load) = data.loading.as_mut() else {
        return Err(Raise::msg("no library is being loaded"));
    };
    if load.functions.iter().any(|(f, _)| f.name == info.name) {
        drop(data);
        return Err(raise_err(lua, "Function already exists in the library"));
    }
    load.functions.push((info, callback));
    Ok(MultiValue::new())
}

fn named_args(lua: &Lua, a: &Args) -> Result<(FunctionInfo, Function), Raise> {
    let Value::Table(t) = a.get(1) else {
        return Err(raise_err(lua, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
    };
    let mut name = None;
    let mut description = None;
    let mut callback = None;
    let mut flags = ScriptFlags::empty();
    for kv in t.pairs::<Value, Value>() {
        let (k, v) = kv?;
        let Some(key) = to_bytes(lua, &k) else {
            return Err(raise_err(
                lua,
                "named argument key given to redis.register_function is not a string",
            ));
        };
        let key = super::flags::c_str(&key).to_ascii_lowercase();
        match key.as_slice() {
            b"function_name" => {
                match to_bytes(lua, &v) {
                    Some(n) => name = Some(n),
                    None => return Err(raise_err(
                        lua,
                        "function_name argument given to redis.register_function must be a string",
                    )),
                }
            }
            b"description" => {
                match to_bytes(lua, &v) {
                    Some(d) => description = Some(d),
                    None => return Err(raise_err(
                        lua,
                        "description argument given to redis.register_function must be a string",
                    )),
                }
            }
            b"callback" => match v {
                Value::Function(f) => callback = Some(f),
                _ => {
                    return Err(raise_err(
                        lua,
                        "callback argument given to redis.register_function must be a function",
                    ))
                }
            },
            b"flags" => {
                let Value::Table(list) = v else {
                    return Err(raise_err(lua, "flags argument to redis.register_function must be a table representing function flags"));
                };
                let mut j = 1;
                loop {
                    let item: Value = list.get(j)?;
                    if matches!(item, Value::Nil) {
                        break;
                    }
                    let flag = to_bytes(lua, &item)
                        .and_then(|s| flag_by_name(super::flags::c_str(&s), true));
                    match flag {
                        Some(f) => flags = flags.union(f),
                        None => return Err(raise_err(lua, "unknown flag given")),
                    }
                    j += 1;
                }
            }
            _ => {
                return Err(raise_err(
                    lua,
                    "unknown argument given to redis.register_function",
                ))
            }
        }
    }
    let Some(name) = name else {
        return Err(raise_err(
            lua,
            "redis.register_function must get a function name argument",
        ));
    };
    let Some(callback) = callback else {
        return Err(raise_err(
            lua,
            "redis.register_function must get a callback argument",
        ));
    };
    Ok((
        FunctionInfo {
            name,
            description,
            flags,
        },
        callback,
    ))
}
