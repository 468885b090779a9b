//! The `cmsgpack` library (lua-cmsgpack 0.4.0 as Redis bundles it): `pack(...)`,
//! `unpack(s)`, `unpack_one(s [, offset])`, `unpack_limit(s, limit [, offset])`.
//!
//! Encoding: integral numbers that fit an int64 become MessagePack integers, others floats
//! (32-bit when exact) or doubles; tables whose keys are exactly 1..n become arrays, others
//! maps; tables nested 16 deep, nil and other types become nil.

use crate::script::lauxlib::{f64_to_i64, with_stack, Args, LuaRet, Raise};
use crate::script::sandbox::rust_fn;
use mlua::{Lua, MultiValue, Table, Value};

const MAX_NESTING: usize = 16;
/// LUAI_MAXCSTACK: how many values unpacking may leave on Lua's stack (results plus the
/// tables and keys of the containers being filled) before luaL_checkstack fails.
const LUA_STACK_SLOTS: usize = 8000;

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_double(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_header(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    if n.is_finite() && f64_to_i64(n) as f64 == n {
        encode_int(out, f64_to_i64(n));
    } else {
        encode_double(out, n);
    }
}

/// True if the keys are exactly the integers 1..n (checked as lua-cmsgpack does, with C
/// ints).
fn is_array(t: &Table) -> mlua::Result<bool> {
    let mut count: i32 = 0;
    let mut max: i32 = 0;
    for kv in t.pairs::<Value, Value>() {
        let (k, _) = kv?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || !n.is_finite() || n as i32 as f64 != n {
            return Ok(false);
        }
        max = max.max(n as i32);
        count = count.wrapping_add(1);
    }
    Ok(max == count)
}

fn encode(out: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(out, *i as f64),
        Value::Number(n) => encode_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t)? {
                let len = t.raw_len();
                encode_header(out, len, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    let item: Value = t.get(j)?;
                    with_stack(|| encode(out, &item, level + 1))?;
                }
            } else {
                // Counted first, then encoded: as lua-cmsgpack, without holding the
                // entries (handles on Lua values are a bounded resource).
                let n = t.pairs::<Value, Value>().count();
                encode_header(out, n, 0x80, 0xde, 0xdf);
                for kv in t.pairs::<Value, Value>() {
                    let (k, v) = kv?;
                    with_stack(|| encode(out, &k, level + 1))?;
                    with_stack(|| encode(out, &v, level + 1))?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

fn pack(lua: &Lua, args: mlua::MultiValue) -> LuaRet {
    let a = Args::new(lua, args);
    if a.len() == 0 {
        return Err(a.arg_error(0, "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for v in &a.v {
        encode(&mut out, v, 0)?;
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(&out)?,
    )]))
}

enum DecodeError {
    Eof,
    BadFormat,
    Raise(Raise),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Raise(e.into())
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.left() < n {
            Err(DecodeError::Eof)
        } else {
            Ok(())
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.need(n)?;
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }
}

/// Decodes one value. `slots` counts the Lua stack slots in use (luaL_checkstack fails
/// when they run out, with the message Redis gives).
fn decode(lua: &Lua, c: &mut Cursor, slots: usize) -> Result<Value, DecodeError> {
    c.need(1)?;
    if slots + 1 > LUA_STACK_SLOTS {
        return Err(DecodeError::Raise(Raise::msg(
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
        )));
    }
    let tag = c.b[c.pos];
    // Lua 5.1 has only doubles: lua_pushinteger / lua_pushunsigned both go through a
    // signed 64-bit integer.
    let num = |v: i64| Ok(Value::Number(v as f64));
    match tag {
        0xcc => {
            c.need(2)?;
            let v = c.b[c.pos + 1];
            c.pos += 2;
            num(v as i64)
        }
        0xd0 => {
            c.need(2)?;
            let v = c.b[c.pos + 1] as i8;
            c.pos += 2;
            num(v as i64)
        }
        0xcd | 0xd1 | 0xce | 0xd2 | 0xcf | 0xd3 => {
            let n = match tag {
                0xcd | 0xd1 => 2,
                0xce | 0xd2 => 4,
                _ => 8,
            };
            c.need(1 + n)?;
            c.pos += 1;
            let raw = c.be(n)?;
            num(match tag {
                0xd1 => raw as u16 as i16 as i64,
                0xd2 => raw as u32 as i32 as i64,
                _ => raw as i64,
            })
        }
        0xc0 => {
            c.pos += 1;
            Ok(Value::Nil)
        }
        0xc3 | 0xc2 => {
            c.pos += 1;
            Ok(Value::Boolean(tag == 0xc3))
        }
        0xca => {
            c.need(5)?;
            c.pos += 1;
            let v = f32::from_bits(c.be(4)? as u32);
            Ok(Value::Number(v as f64))
        }
        0xcb => {
            c.need(9)?;
            c.pos += 1;
            Ok(Value::Number(f64::from_bits(c.be(8)?)))
        }
        0xd9..=0xdb => {
            let n = match tag {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            c.need(1 + n)?;
            c.pos += 1;
            let len = c.be(n)? as usize;
            let s = c.take(len)?;
            Ok(Value::String(lua.create_string(s)?))
        }
        0xdc..=0xdf => {
            let n = if matches!(tag, 0xdc | 0xde) { 2 } else { 4 };
            c.need(1 + n)?;
            c.pos += 1;
            let len = c.be(n)? as usize;
            if matches!(tag, 0xdc | 0xdd) {
                decode_array(lua, c, len, slots)
            } else {
                decode_map(lua, c, len, slots)
            }
        }
        _ if tag & 0x80 == 0 => {
            c.pos += 1;
            num(tag as i64)
        }
        _ if tag & 0xe0 == 0xe0 => {
            c.pos += 1;
            num(tag as i8 as i64)
        }
        _ if tag & 0xe0 == 0xa0 => {
            let len = (tag & 0x1f) as usize;
            c.need(1 + len)?;
            let s = &c.b[c.pos + 1..c.pos + 1 + len];
            c.pos += 1 + len;
            Ok(Value::String(lua.create_string(s)?))
        }
        _ if tag & 0xf0 == 0x90 => {
            c.pos += 1;
            decode_array(lua, c, (tag & 0xf) as usize, slots)
        }
        _ if tag & 0xf0 == 0x80 => {
            c.pos += 1;
            decode_map(lua, c, (tag & 0xf) as usize, slots)
        }
        _ => Err(DecodeError::BadFormat),
    }
}

fn decode_array(lua: &Lua, c: &mut Cursor, len: usize, slots: usize) -> Result<Value, DecodeError> {
    // lua-cmsgpack checks for one more slot once the table is on the stack.
    if slots + 2 > LUA_STACK_SLOTS {
        return Err(DecodeError::Raise(Raise::msg(
            "stack overflow (in function mp_decode_to_lua_array)",
        )));
    }
    // Never trust a claimed length for the allocation.
    let t = lua.create_table_with_capacity(len.min(c.left()), 0)?;
    for i in 1..=len {
        let v = with_stack(|| decode(lua, c, slots + 2))?;
        t.raw_set(i, v)?;
    }
    Ok(Value::Table(t))
}

fn decode_map(lua: &Lua, c: &mut Cursor, len: usize, slots: usize) -> Result<Value, DecodeError> {
    let t = lua.create_table()?;
    for _ in 0..len {
        let k = with_stack(|| decode(lua, c, slots + 1))?;
        let v = with_stack(|| decode(lua, c, slots + 2))?;
        match &k {
            // lua_settable refuses these keys with an error raised from C (no position).
            Value::Nil => {
                return Err(DecodeError::Raise(Raise::Value(str_value(
                    lua,
                    "table index is nil",
                )?)))
            }
            Value::Number(n) if n.is_nan() => {
                return Err(DecodeError::Raise(Raise::Value(str_value(
                    lua,
                    "table index is NaN",
                )?)))
            }
            _ => t.raw_set(k, v)?,
        }
    }
    Ok(Value::Table(t))
}

fn str_value(lua: &Lua, s: &str) -> mlua::Result<Value> {
    Ok(Value::String(lua.create_string(s)?))
}

fn unpack_full(lua: &Lua, a: &Args, limit: i32, offset: i32) -> LuaRet {
    let s = a.check_bytes(1)?;
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // lua-cmsgpack prints the input length where it means the limit.
        return Err(Raise::msg(format!(
            "Invalid request to unpack with offset of {offset} and limit of {len}."
        )));
    } else if offset as usize > len {
        return Err(Raise::msg(format!(
            "Start offset {offset} greater than input length {len}."
        )));
    }
    let limit = if decode_all { i32::MAX } else { limit };
    let mut c = Cursor {
        b: &s,
        pos: offset as usize,
    };
    let mut out = Vec::new();
    let mut count = 0;
    while c.left() > 0 && count < limit {
        match decode(lua, &mut c, 1 + out.len()) {
            Ok(v) => out.push(v),
            Err(DecodeError::Eof) => return Err(Raise::msg("Missing bytes in input.")),
            Err(DecodeError::BadFormat) => return Err(Raise::msg("Bad data format in input.")),
            Err(DecodeError::Raise(r)) => return Err(r),
        }
        count += 1;
    }
    if !decode_all {
        let next = if c.left() == 0 {
            -1
        } else {
            (len - c.left()) as i64
        };
        out.insert(0, Value::Number(next as f64));
    }
    Ok(MultiValue::from_vec(out))
}

/// The `cmsgpack` module table (raw functions).
pub(crate) fn module(lua: &Lua, sentinel: &Table) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", rust_fn(lua, sentinel, pack)?)?;
    t.raw_set(
        "unpack",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            unpack_full(lua, &a, 0, 0)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            let offset = a.opt_int(2, 0)?;
            unpack_full(lua, &a, 1, offset)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            let limit = a.check_int(2)?;
            let offset = a.opt_int(3, 0)?;
            unpack_full(lua, &a, limit, offset)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}
