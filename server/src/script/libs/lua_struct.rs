//! The `struct` library (Roberto Ierusalimschy's struct.c as Redis ships it, with the
//! bounds fixes): `struct.pack(fmt, ...)`, `struct.unpack(fmt, s [, pos])`,
//! `struct.size(fmt)`.
//!
//! Formats: `>` big endian, `<` little endian, `![n]` alignment, `x` padding, `b/B` byte,
//! `h/H` short, `l/L` long, `T` size_t, `i/In` int of n bytes (default 4, at most 32),
//! `cn` n chars (pack: n = 0 means the whole string; unpack: the previous number), `s`
//! zero-terminated string, `f` float, `d` double, ' ' ignored. Sizes are x86-64's.

use crate::script::lauxlib::{f64_to_i64, f64_to_u64, Args, LuaRet, Raise};
use crate::script::sandbox::rust_fn;
use mlua::{Lua, MultiValue, Table, Value};

/// Largest `i`/`I` size.
const MAXINTSIZE: usize = 32;
/// Default `!` alignment: the alignment of a double on x86-64.
const MAXALIGN: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Big,
    Little,
}

struct Header {
    endian: Endian,
    align: usize,
}

impl Header {
    fn new() -> Header {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// A format string read like a C string (it ends at a NUL).
struct Fmt<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Fmt<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.s.get(self.pos)?;
        if c == 0 {
            return None;
        }
        self.pos += 1;
        Some(c)
    }

    /// A decimal number following an option, or `default`.
    fn num(&mut self, default: usize) -> Result<usize, Raise> {
        let Some(c) = self.s.get(self.pos).filter(|c| c.is_ascii_digit()) else {
            return Ok(default);
        };
        let _ = c;
        let mut a: i64 = 0;
        while let Some(&c) = self.s.get(self.pos).filter(|c| c.is_ascii_digit()) {
            let d = (c - b'0') as i64;
            if a > (i32::MAX / 10) as i64 || a * 10 > i32::MAX as i64 - d {
                return Err(Raise::msg("integral size overflow"));
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a as usize)
    }
}

fn opt_size(opt: u8, fmt: &mut Fmt) -> Result<usize, Raise> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => fmt.num(1)?,
        b'i' | b'I' => {
            let sz = fmt.num(4)?;
            if sz > MAXINTSIZE {
                return Err(Raise::msg(format!(
                    "integral size {sz} is larger than limit of {MAXINTSIZE}"
                )));
            }
            sz
        }
        _ => 0,
    })
}

fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// Endianness and alignment options; anything else is an invalid option.
fn control(a: &Args, opt: u8, fmt: &mut Fmt, h: &mut Header) -> Result<(), Raise> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.endian = Endian::Big;
            Ok(())
        }
        b'<' => {
            h.endian = Endian::Little;
            Ok(())
        }
        b'!' => {
            let al = fmt.num(MAXALIGN)?;
            if al == 0 || al & (al - 1) != 0 {
                return Err(Raise::msg(format!("alignment {al} is not a power of 2")));
            }
            h.align = al;
            Ok(())
        }
        _ => Err(a.arg_error(1, &format!("invalid format option '{}'", opt as char))),
    }
}

fn pack(lua: &Lua, args: MultiValue) -> LuaRet {
    let mut a = Args::new(lua, args);
    let fmt_s = a.check_bytes(1)?;
    // struct.c then pushes a nil after the arguments (a mark for its buffer): a missing
    // value right after them is seen as that nil.
    a.v.push(Value::Nil);
    let mut fmt = Fmt { s: &fmt_s, pos: 0 };
    let mut h = Header::new();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = fmt.next() {
        let mut size = opt_size(opt, &mut fmt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = a.check_number(arg)?;
                arg += 1;
                let mut value: u64 = if n < 0.0 {
                    f64_to_i64(n) as u64
                } else {
                    f64_to_u64(n)
                };
                let mut bytes = vec![0u8; size];
                for i in 0..size {
                    let idx = if h.endian == Endian::Little {
                        i
                    } else {
                        size - 1 - i
                    };
                    bytes[idx] = value as u8;
                    value = value.checked_shr(8).unwrap_or(0);
                }
                out.extend_from_slice(&bytes);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = a.check_number(arg)? as f32;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Little => f.to_le_bytes(),
                    Endian::Big => f.to_be_bytes(),
                });
            }
            b'd' => {
                let d = a.check_number(arg)?;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Little => d.to_le_bytes(),
                    Endian::Big => d.to_be_bytes(),
                });
            }
            b'c' | b's' => {
                let s = a.check_bytes(arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // struct.c reports the argument after the string (it was incremented).
                    return Err(a.arg_error(arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => control(&a, opt, &mut fmt, &mut h)?,
        }
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(&out)?,
    )]))
}

fn get_integer(data: &[u8], endian: Endian, signed: bool, size: usize) -> f64 {
    let mut l: u64 = 0;
    for i in 0..size {
        let b = match endian {
            Endian::Big => data[i],
            Endian::Little => data[size - 1 - i],
        };
        l = (l << 8) | b as u64;
    }
    if !signed {
        l as f64
    } else {
        // x86 masks shift counts to 6 bits, which struct.c relies on for sizes over 8.
        let mask = u64::MAX << ((size * 8 - 1) & 63);
        if l & mask != 0 {
            l |= mask;
        }
        l as i64 as f64
    }
}

fn unpack(lua: &Lua, args: MultiValue) -> LuaRet {
    let a = Args::new(lua, args);
    let fmt_s = a.check_bytes(1)?;
    let data = a.check_bytes(2)?;
    let ld = data.len() as u64;
    let start = a.opt_integer(3, 1)? as u64;
    if start == 0 {
        return Err(a.arg_error(3, "offset must be 1 or greater"));
    }
    let mut pos = start - 1;
    let mut fmt = Fmt { s: &fmt_s, pos: 0 };
    let mut h = Header::new();
    let mut out: Vec<Value> = Vec::new();
    let too_short = |a: &Args| a.arg_error(2, "data string too short");
    while let Some(opt) = fmt.next() {
        let mut size = opt_size(opt, &mut fmt)? as u64;
        pos = pos.wrapping_add(to_align(pos as usize, &h, opt, size as usize) as u64);
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short(&a));
        }
        let at = pos as usize;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                out.push(Value::Number(get_integer(
                    &data[at..],
                    h.endian,
                    signed,
                    size as usize,
                )));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[at..at + 4].try_into().unwrap_or([0; 4]);
                out.push(Value::Number(match h.endian {
                    Endian::Little => f32::from_le_bytes(b),
                    Endian::Big => f32::from_be_bytes(b),
                } as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[at..at + 8].try_into().unwrap_or([0; 8]);
                out.push(Value::Number(match h.endian {
                    Endian::Little => f64::from_le_bytes(b),
                    Endian::Big => f64::from_be_bytes(b),
                }));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last() {
                        Some(v @ (Value::Number(_) | Value::Integer(_) | Value::String(_))) => {
                            crate::script::lauxlib::to_number(lua, v)
                        }
                        _ => None,
                    };
                    let Some(n) = prev else {
                        return Err(Raise::msg("format 'c0' needs a previous size"));
                    };
                    out.pop();
                    size = f64_to_u64(n);
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short(&a));
                    }
                }
                out.push(Value::String(
                    lua.create_string(&data[at..at + size as usize])?,
                ));
            }
            b's' => {
                let Some(nul) = data[at..].iter().position(|&b| b == 0) else {
                    return Err(Raise::msg("unfinished string in data"));
                };
                size = nul as u64 + 1;
                out.push(Value::String(lua.create_string(&data[at..at + nul])?));
            }
            _ => control(&a, opt, &mut fmt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    Ok(MultiValue::from_vec(out))
}

fn size(lua: &Lua, args: MultiValue) -> LuaRet {
    let a = Args::new(lua, args);
    let fmt_s = a.check_bytes(1)?;
    let mut fmt = Fmt { s: &fmt_s, pos: 0 };
    let mut h = Header::new();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next() {
        let size = opt_size(opt, &mut fmt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(a.arg_error(1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(a.arg_error(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            control(&a, opt, &mut fmt, &mut h)?;
        }
        pos += size;
    }
    Ok(MultiValue::from_vec(vec![Value::Number(pos as f64)]))
}

/// The `struct` module table (raw functions).
pub(crate) fn module(lua: &Lua, sentinel: &Table) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", rust_fn(lua, sentinel, pack)?)?;
    t.raw_set("unpack", rust_fn(lua, sentinel, unpack)?)?;
    t.raw_set("size", rust_fn(lua, sentinel, size)?)?;
    Ok(t)
}
