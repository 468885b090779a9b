//! Conversions between Redis replies and Lua values, both ways, with Redis 7.2's rules
//! (`redisProtocolToLuaType_*` and `luaReplyToRedisReply` in script_lua.c).
//!
//! Reply -> Lua (what redis.call returns):
//! integer -> number, bulk -> string, null bulk / null array -> false, status -> {ok=s},
//! error -> {err="CODE msg"}, array -> table (holes where RESP3 nulls are); RESP3 only:
//! null -> nil, boolean -> boolean, map -> {map={k=v}}, set -> {set={k=true}},
//! double -> {double=n}, big number -> {big_number=s}, verbatim -> {verbatim_string=
//! {format=f, string=s}}; attributes are skipped.
//!
//! Lua -> reply (what a script returns): string -> bulk, number -> integer (truncated),
//! true -> 1 (RESP3 script: boolean), false -> null (RESP3 script: boolean), tables with
//! err / ok / double / big_number / verbatim_string / map / set fields, other tables ->
//! array up to the first nil, anything else -> null.

use super::lauxlib::{f64_to_i64, strtod};
use mlua::{Function, Lua, Table, Value};
use shard::reply::Reply;

/// Redis' `luaPushErrorBuff` text: `-CODE msg` becomes `CODE msg`, a message without a
/// leading `-` gets the `ERR` code; line breaks at either end are trimmed. C string rules:
/// everything from a NUL on is lost.
pub(crate) fn error_text(raw: &[u8]) -> Vec<u8> {
    let raw = super::flags::c_str(raw);
    let (code, msg): (&[u8], &[u8]) = match raw.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", raw),
    };
    let is_nl = |c: &u8| *c == b'\r' || *c == b'\n';
    let start = msg.iter().position(|c| !is_nl(c)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|c| !is_nl(c)).map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end]);
    out
}

/// A `{err = error_text(raw)}` table; `from_command` marks errors that come from a command
/// reply (Redis adds `ignore_error_stats_update = true` to those).
pub(crate) fn error_table(lua: &Lua, raw: &[u8], from_command: bool) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 2)?;
    t.raw_set("err", lua.create_string(error_text(raw))?)?;
    if from_command {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// How deep a reply may nest before its conversion gives up (Redis would run out of Lua
/// stack well before; commands never nest replies this deep).
const MAX_REPLY_DEPTH: usize = 1000;

/// Converts a reply in RESP2 or RESP3 into a Lua value. A malformed or truncated reply
/// (a host bug) becomes an error table rather than a crash.
pub(crate) fn reply_to_lua(lua: &Lua, resp: &[u8]) -> mlua::Result<Value> {
    let mut p = RespReader { b: resp, pos: 0 };
    match p.value(lua, 0)? {
        Some(v) => Ok(v),
        None => Ok(Value::Table(error_table(
            lua,
            b"-ERR invalid reply from command",
            true,
        )?)),
    }
}

struct RespReader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> RespReader<'a> {
    fn line(&mut self) -> Option<&'a [u8]> {
        let rest = self.b.get(self.pos..)?;
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        self.pos += end + 2;
        Some(&rest[..end])
    }

    fn int(line: &[u8]) -> Option<i64> {
        std::str::from_utf8(line).ok()?.parse().ok()
    }

    fn bulk(&mut self, len: i64) -> Option<&'a [u8]> {
        let len = usize::try_from(len).ok()?;
        let s = self.b.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len + 2;
        Some(s)
    }

    /// One value; Ok(None) when the input is malformed.
    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Option<Value>> {
        if depth > MAX_REPLY_DEPTH {
            return Ok(None);
        }
        let Some(&tag) = self.b.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let Some(line) = self.line() else {
            return Ok(None);
        };
        let v = match tag {
            b':' => match Self::int(line) {
                Some(i) => Value::Number(i as f64),
                None => return Ok(None),
            },
            b'$' => match Self::int(line) {
                Some(-1) => Value::Boolean(false),
                Some(n) => match self.bulk(n) {
                    Some(s) => Value::String(lua.create_string(s)?),
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
            b'+' => {
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("ok", lua.create_string(line)?)?;
                Value::Table(t)
            }
            b'-' => {
                let mut raw = Vec::with_capacity(line.len() + 1);
                raw.push(b'-');
                raw.extend_from_slice(line);
                Value::Table(error_table(lua, &raw, true)?)
            }
            b'!' => match Self::int(line).and_then(|n| self.bulk(n)) {
                Some(s) => {
                    let mut raw = Vec::with_capacity(s.len() + 1);
                    raw.push(b'-');
                    raw.extend_from_slice(s);
                    Value::Table(error_table(lua, &raw, true)?)
                }
                None => return Ok(None),
            },
            b'*' | b'>' => match Self::int(line) {
                Some(-1) => Value::Boolean(false),
                Some(n) if n >= 0 => {
                    let t = lua.create_table_with_capacity(n.min(1024) as usize, 0)?;
                    for i in 1..=n {
                        match super::lauxlib::with_stack(|| self.value(lua, depth + 1))? {
                            Some(v) => t.raw_set(i, v)?,
                            None => return Ok(None),
                        }
                    }
                    Value::Table(t)
                }
                _ => return Ok(None),
            },
            b'%' | b'~' => {
                let Some(n) = Self::int(line).filter(|&n| n >= 0) else {
                    return Ok(None);
                };
                let inner = lua.create_table()?;
                for _ in 0..n {
                    let Some(k) = self.value(lua, depth + 1)? else {
                        return Ok(None);
                    };
                    let v = if tag == b'%' {
                        match self.value(lua, depth + 1)? {
                            Some(v) => v,
                            None => return Ok(None),
                        }
                    } else {
                        Value::Boolean(true)
                    };
                    // A nil or NaN key cannot be stored (Redis would fail here too).
                    if !matches!(k, Value::Nil) && !matches!(k, Value::Number(n) if n.is_nan()) {
                        inner.raw_set(k, v)?;
                    }
                }
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set(if tag == b'%' { "map" } else { "set" }, inner)?;
                Value::Table(t)
            }
            b'_' => Value::Nil,
            b'#' => Value::Boolean(line == b"t"),
            b',' => {
                let d = strtod(line).map_or(0.0, |(d, _)| d);
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("double", d)?;
                Value::Table(t)
            }
            b'(' => {
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("big_number", lua.create_string(line)?)?;
                Value::Table(t)
            }
            b'=' => {
                let Some(s) = Self::int(line).and_then(|n| self.bulk(n)) else {
                    return Ok(None);
                };
                if s.len() < 4 {
                    return Ok(None);
                }
                let inner = lua.create_table_with_capacity(0, 2)?;
                inner.raw_set("string", lua.create_string(&s[4..])?)?;
                inner.raw_set("format", lua.create_string(&s[..3])?)?;
                let t = lua.create_table_with_capacity(0, 1)?;
                t.raw_set("verbatim_string", inner)?;
                Value::Table(t)
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them, return what follows.
                let Some(n) = Self::int(line).filter(|&n| n >= 0) else {
                    return Ok(None);
                };
                for _ in 0..2 * n {
                    if self.value(lua, depth + 1)?.is_none() {
                        return Ok(None);
                    }
                }
                return self.value(lua, depth);
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }
}

/// Lua stack slots (LUAI_MAXCSTACK) Redis' reply conversion may use before it answers
/// "reached lua stack limit" instead of converting deeper.
const LUA_STACK_SLOTS: usize = 8000;

/// Writes the reply for a script's return value (Redis' `luaReplyToRedisReply`).
/// `script_resp3` is the protocol the script selected with redis.setresp (it decides how
/// booleans are returned); the client's protocol is `reply.resp3`.
///
/// Redis converts recursively and gives up where its Lua stack would overflow; this walks
/// the value with an explicit stack (no Rust recursion, whatever the nesting) and counts
/// the Lua stack slots Redis would use, so self-referencing tables come out the same.
/// Containers are walked lazily, one element at a time: Rust-side handles to Lua values
/// are a bounded resource (mlua keeps them on a Lua stack).
pub(crate) fn lua_to_reply(
    lua: &Lua,
    next: &Function,
    v: Value,
    reply: &mut Reply,
    script_resp3: bool,
) {
    // At the top Redis' stack holds the error handler and the value.
    let mut work: Vec<Work> = vec![Work::Value(v, 2)];
    while let Some(item) = work.pop() {
        match item {
            Work::Value(v, used) => {
                if used + 4 > LUA_STACK_SLOTS {
                    reply.error("ERR reached lua stack limit");
                    continue;
                }
                match v {
                    Value::String(s) => reply.bulk(&s.as_bytes()),
                    Value::Boolean(b) => {
                        if script_resp3 {
                            reply.boolean(b);
                        } else if b {
                            reply.int(1);
                        } else {
                            reply.null();
                        }
                    }
                    Value::Integer(i) => reply.int(i),
                    Value::Number(n) => reply.int(f64_to_i64(n)),
                    Value::Table(t) => table_to_reply(lua, t, used, reply, &mut work),
                    _ => reply.null(),
                }
            }
            Work::Array {
                t,
                next: j,
                len,
                used,
            } => {
                let v: Value = t.raw_get(j).unwrap_or(Value::Nil);
                if j < len {
                    work.push(Work::Array {
                        t,
                        next: j + 1,
                        len,
                        used,
                    });
                }
                // Redis' stack at each element: table, element.
                work.push(Work::Value(v, used + 1));
            }
            Work::Pairs { t, key, used, map } => {
                let (k, v): (Value, Value) = next
                    .call((t.clone(), key))
                    .unwrap_or((Value::Nil, Value::Nil));
                if matches!(k, Value::Nil) {
                    continue;
                }
                work.push(Work::Pairs {
                    t,
                    key: k.clone(),
                    used,
                    map,
                });
                if map {
                    // Redis' stack at the key: table, map, key, value, key copy; at the
                    // value: table, map, key, value.
                    work.push(Work::Value(v, used + 3));
                    work.push(Work::Value(k, used + 4));
                } else {
                    // At a set member: table, set, key, key copy.
                    work.push(Work::Value(k, used + 3));
                }
            }
        }
    }
}

enum Work {
    /// A value to convert, with the Lua stack slots Redis would be using.
    Value(Value, usize),
    /// Elements `next..=len` of an array still to convert.
    Array {
        t: Table,
        next: i64,
        len: i64,
        used: usize,
    },
    /// The entries after `key` of a map (or the members of a set).
    Pairs {
        t: Table,
        key: Value,
        used: usize,
        map: bool,
    },
}

fn raw_field(t: &Table, name: &str) -> Value {
    t.raw_get(name).unwrap_or(Value::Nil)
}

fn count_pairs(t: &Table) -> usize {
    t.pairs::<Value, Value>().filter(|kv| kv.is_ok()).count()
}

/// One table level; its elements are queued on `work`.
fn table_to_reply(lua: &Lua, t: Table, used: usize, reply: &mut Reply, work: &mut Vec<Work>) {
    if let Value::String(_) = raw_field(&t, "err") {
        let msg = error_field(lua, &t);
        reply.error_bytes(super::flags::c_str(&msg));
        return;
    }
    if let Value::String(s) = raw_field(&t, "ok") {
        let s = s.as_bytes();
        reply.buf.push(b'+');
        reply.buf.extend(super::flags::c_str(&s).iter().map(|&c| {
            if c == b'\r' || c == b'\n' {
                b' '
            } else {
                c
            }
        }));
        reply.buf.extend_from_slice(b"\r\n");
        return;
    }
    match raw_field(&t, "double") {
        Value::Number(n) => return reply.double(n),
        Value::Integer(i) => return reply.double(i as f64),
        _ => {}
    }
    if let Value::String(s) = raw_field(&t, "big_number") {
        let digits: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        if reply.resp3 {
            reply.buf.push(b'(');
            reply.buf.extend_from_slice(&digits);
            reply.buf.extend_from_slice(b"\r\n");
        } else {
            reply.bulk(&digits);
        }
        return;
    }
    if let Value::Table(vs) = raw_field(&t, "verbatim_string") {
        if let (Value::String(format), Value::String(text)) =
            (raw_field(&vs, "format"), raw_field(&vs, "string"))
        {
            let text = text.as_bytes();
            if reply.resp3 {
                // Redis copies three bytes of the C string, spaces past its end.
                let format = format.as_bytes();
                let format = super::flags::c_str(&format);
                let mut ext = [b' '; 3];
                for (i, b) in format.iter().take(3).enumerate() {
                    ext[i] = *b;
                }
                reply.buf.push(b'=');
                reply
                    .buf
                    .extend_from_slice((text.len() + 4).to_string().as_bytes());
                reply.buf.extend_from_slice(b"\r\n");
                reply.buf.extend_from_slice(&ext);
                reply.buf.push(b':');
                reply.buf.extend_from_slice(&text);
                reply.buf.extend_from_slice(b"\r\n");
            } else {
                reply.bulk(&text);
            }
            return;
        }
    }
    for (field, map) in [("map", true), ("set", false)] {
        if let Value::Table(m) = raw_field(&t, field) {
            let n = count_pairs(&m);
            if map {
                reply.map(n);
            } else {
                reply.set(n);
            }
            if n > 0 {
                work.push(Work::Pairs {
                    t: m,
                    key: Value::Nil,
                    used,
                    map,
                });
            }
            return;
        }
    }
    let mut len: i64 = 0;
    while !matches!(t.raw_get::<Value>(len + 1), Ok(Value::Nil) | Err(_)) {
        len += 1;
    }
    reply.array(len as usize);
    if len > 0 {
        work.push(Work::Array {
            t,
            next: 1,
            len,
            used,
        });
    }
}

/// The `err` field as `lua_tostring` gives it (strings, and numbers in Lua's format), or
/// the text Redis would show for an error table without one.
pub(crate) fn error_field(lua: &Lua, t: &Table) -> Vec<u8> {
    let v: Value = t.get("err").unwrap_or(Value::Nil);
    super::lauxlib::to_bytes(lua, &v).unwrap_or_else(|| b"ERR unknown error".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts() {
        assert_eq!(error_text(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"-ERR"), b"ERR ERR");
        assert_eq!(error_text(b"oops"), b"ERR oops");
        assert_eq!(error_text(b"-My Error\r\n"), b"My Error");
        assert_eq!(error_text(b"-a\0b c"), b"ERR a");
        assert_eq!(error_text(b""), b"ERR ");
    }
}
