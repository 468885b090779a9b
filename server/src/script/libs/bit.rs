//! The `bit` library (LuaBitOp 1.0.2): 32-bit operations on Lua numbers.
//!
//! Arguments are normalised as LuaBitOp does: the number plus 2^52+2^51, whose low 32 bits
//! are the integer rounded to nearest and wrapped modulo 2^32; a non-number argument is an
//! error only when it normalises to 0 (lua_tonumber gives 0 for it).

use crate::script::lauxlib::{Args, LuaRet, Raise};
use crate::script::sandbox::rust_fn;
use mlua::{Lua, MultiValue, Table};

fn barg(a: &Args, n: usize) -> Result<u32, Raise> {
    let v = a.to_number(n);
    let b = (v.unwrap_or(0.0) + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && v.is_none() {
        return Err(a.type_error(n, "number"));
    }
    Ok(b)
}

type Unary = fn(u32) -> u32;
type Binary = fn(u32, u32) -> u32;

fn bret(b: u32) -> LuaRet {
    Ok(MultiValue::from_vec(vec![mlua::Value::Number(
        b as i32 as f64,
    )]))
}

/// The `bit` module table (raw functions).
pub(crate) fn module(lua: &Lua, sentinel: &Table) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let unary: [(&str, Unary); 3] = [
        ("tobit", |b| b),
        ("bnot", |b| !b),
        ("bswap", |b| b.swap_bytes()),
    ];
    for (name, op) in unary {
        t.raw_set(
            name,
            rust_fn(lua, sentinel, move |lua, args| {
                let a = Args::new(lua, args);
                bret(op(barg(&a, 1)?))
            })?,
        )?;
    }
    let fold: [(&str, Binary); 3] = [
        ("band", |x, y| x & y),
        ("bor", |x, y| x | y),
        ("bxor", |x, y| x ^ y),
    ];
    for (name, op) in fold {
        t.raw_set(
            name,
            rust_fn(lua, sentinel, move |lua, args| {
                let a = Args::new(lua, args);
                let mut b = barg(&a, 1)?;
                // LuaBitOp folds from the last argument down to the second.
                for i in (2..=a.len()).rev() {
                    b = op(b, barg(&a, i)?);
                }
                bret(b)
            })?,
        )?;
    }
    let shifts: [(&str, Binary); 5] = [
        ("lshift", |b, n| b << n),
        ("rshift", |b, n| b >> n),
        ("arshift", |b, n| ((b as i32) >> n) as u32),
        ("rol", |b, n| b.rotate_left(n)),
        ("ror", |b, n| b.rotate_right(n)),
    ];
    for (name, op) in shifts {
        t.raw_set(
            name,
            rust_fn(lua, sentinel, move |lua, args| {
                let a = Args::new(lua, args);
                let b = barg(&a, 1)?;
                let n = barg(&a, 2)? & 31;
                bret(op(b, n))
            })?,
        )?;
    }
    t.raw_set(
        "tohex",
        rust_fn(lua, sentinel, |lua, args| {
            let a = Args::new(lua, args);
            let mut b = barg(&a, 1)?;
            let mut n = if a.len() < 2 { 8 } else { barg(&a, 2)? as i32 };
            // Redis' fix for INT_MIN, whose negation overflows.
            if n == i32::MIN {
                n = i32::MIN + 1;
            }
            let digits: &[u8; 16] = if n < 0 {
                n = -n;
                b"0123456789ABCDEF"
            } else {
                b"0123456789abcdef"
            };
            let n = n.min(8) as usize;
            let mut buf = [0u8; 8];
            for i in (0..n).rev() {
                buf[i] = digits[(b & 15) as usize];
                b >>= 4;
            }
            Ok(MultiValue::from_vec(vec![mlua::Value::String(
                lua.create_string(&buf[..n])?,
            )]))
        })?,
    )?;
    Ok(t)
}
