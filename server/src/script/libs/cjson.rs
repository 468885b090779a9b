//! The `cjson` library (lua-cjson 2.1.0 as Redis bundles it): `encode`, `decode`, `null`,
//! `new` and the configuration functions, with lua-cjson's rules and messages:
//!
//! - numbers are written with `%.14g` (precision configurable 1..14); NaN and infinities
//!   are refused unless `encode_invalid_numbers` allows them;
//! - a table whose keys are all positive integers is an array (holes become `null`) unless
//!   it is "excessively sparse" (max index > 2 x items and > 10: an error by default);
//!   any other table, the empty one included, is an object; keys must be strings or numbers;
//! - strings are escaped byte by byte (`/` too, and DEL as \u007f); bytes >= 0x80 pass as
//!   they are (no UTF-8 validation);
//! - decoding accepts hexadecimal, `inf`, `nan` and leading `+` numbers
//!   (`decode_invalid_numbers` is on), maps `null` to `cjson.null`, and stops reading at a
//!   NUL byte as the C code does;
//! - nesting is limited to 1000 levels both ways by default.
//!
//! Deliberate difference: Redis keeps a configuration change (e.g. `encode_max_depth(5)`)
//! for the scripts that follow on its single Lua state; here each thread has its own state,
//! so the configuration of the `cjson` table is reset before every run to keep runs
//! independent of the thread they land on. Tables from `cjson.new()` keep theirs.

use crate::script::lauxlib::{fmt_g, strtod, type_name, with_stack, Args, LuaRet, Raise};
use crate::script::sandbox::rust_fn;
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Lua stack slots (LUAI_MAXCSTACK): lua-cjson also stops nesting where its C function
/// would run out of them.
const LUA_STACK_SLOTS: i64 = 8000;
/// Nesting this engine supports whatever `encode_max_depth` / `decode_max_depth` say: each
/// level holds a few handles to Lua values, which mlua keeps on a Lua stack of
/// LUA_STACK_SLOTS entries. (lua-cjson would go on to about 4000 levels when told to.)
const MAX_NESTING: i32 = 1500;

/// A cjson instance's configuration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Config {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 refuse, 1 write as `nan`/`inf`, 2 write as `null`.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
    precision: i32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
            keep_buffer: true,
            precision: 14,
        }
    }
}

type Cfg = Rc<RefCell<Config>>;

fn ret(v: Value) -> LuaRet {
    Ok(MultiValue::from_vec(vec![v]))
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// lua-cjson's `json_arg_init`: at most `n` arguments.
fn arg_init(a: &Args, n: usize) -> Result<(), Raise> {
    if a.len() > n {
        return Err(a.arg_error(n + 1, "found too many arguments"));
    }
    Ok(())
}

/// `json_integer_option`: sets the value if the argument is given (the range error always
/// names argument 1, as lua-cjson does), returns the current value.
fn integer_option(
    a: &Args,
    n: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> Result<Value, Raise> {
    if !a.is_none_or_nil(n) {
        let v = a.check_integer(n)?;
        if !(min as i64 <= v && v <= max as i64) {
            return Err(a.arg_error(1, &format!("expected integer between {min} and {max}")));
        }
        *setting = v as i32;
    }
    Ok(Value::Number(*setting as f64))
}

/// `json_enum_option`: booleans or one of `options` (["off", "on"] by default).
fn enum_option(
    lua: &Lua,
    a: &Args,
    n: usize,
    setting: &mut i32,
    options: &[&str],
    bool_true: i32,
) -> Result<Value, Raise> {
    if !a.is_none_or_nil(n) {
        if let Value::Boolean(b) = a.get(n) {
            *setting = b as i32 * bool_true;
        } else {
            let name = a.check_bytes(n)?;
            match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                Some(i) => *setting = i as i32,
                None => {
                    return Err(a.arg_error(
                        n,
                        &format!("invalid option '{}'", String::from_utf8_lossy(&name)),
                    ))
                }
            }
        }
    }
    if *setting == 0 || *setting == bool_true {
        Ok(Value::Boolean(*setting != 0))
    } else {
        Ok(Value::String(
            lua.create_string(options[*setting as usize])?,
        ))
    }
}

const BOOL_OPTIONS: [&str; 2] = ["off", "on"];

/// The `cjson` module table (raw functions) for an instance with configuration `cfg`.
pub(crate) fn module(lua: &Lua, sentinel: &Table, cfg: Cfg) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.raw_set(
        "encode",
        rust_fn(lua, sentinel, move |lua, args| {
            let a = Args::new(lua, args);
            if a.len() != 1 {
                return Err(a.arg_error(1, "expected 1 argument"));
            }
            let cfg = c.borrow().clone();
            let mut out = Vec::new();
            encode(&cfg, &a.get(1), 0, 1, &mut out)?;
            ret(Value::String(lua.create_string(&out)?))
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        rust_fn(lua, sentinel, move |lua, args| {
            let a = Args::new(lua, args);
            if a.len() != 1 {
                return Err(a.arg_error(1, "expected 1 argument"));
            }
            let data = a.check_bytes(1)?;
            let cfg = c.borrow().clone();
            decode(lua, &cfg, &data).map(ret)?
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        rust_fn(lua, sentinel, move |lua, args| {
            let a = Args::new(lua, args);
            arg_init(&a, 3)?;
            let mut cfg = c.borrow_mut();
            let mut convert = cfg.sparse_convert as i32;
            let v1 = enum_option(lua, &a, 1, &mut convert, &BOOL_OPTIONS, 1)?;
            cfg.sparse_convert = convert != 0;
            let v2 = integer_option(&a, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
            let v3 = integer_option(&a, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
            Ok(MultiValue::from_vec(vec![v1, v2, v3]))
        })?,
    )?;
    type IntField = fn(&mut Config) -> &mut i32;
    let int_options: [(&str, IntField, i32, i32); 3] = [
        ("encode_max_depth", |c| &mut c.encode_max_depth, 1, i32::MAX),
        ("decode_max_depth", |c| &mut c.decode_max_depth, 1, i32::MAX),
        ("encode_number_precision", |c| &mut c.precision, 1, 14),
    ];
    for (name, field, min, max) in int_options {
        let c = cfg.clone();
        t.raw_set(
            name,
            rust_fn(lua, sentinel, move |lua, args| {
                let a = Args::new(lua, args);
                arg_init(&a, 1)?;
                let mut cfg = c.borrow_mut();
                ret(integer_option(&a, 1, field(&mut cfg), min, max)?)
            })?,
        )?;
    }
    let c = cfg.clone();
    t.raw_set(
        "encode_keep_buffer",
        rust_fn(lua, sentinel, move |lua, args| {
            let a = Args::new(lua, args);
            arg_init(&a, 1)?;
            let mut cfg = c.borrow_mut();
            let mut v = cfg.keep_buffer as i32;
            let r = enum_option(lua, &a, 1, &mut v, &BOOL_OPTIONS, 1)?;
            cfg.keep_buffer = v != 0;
            ret(r)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_invalid_numbers",
        rust_fn(lua, sentinel, move |lua, args| {
            let a = Args::new(lua, args);
            arg_init(&a, 1)?;
            let mut cfg = c.borrow_mut();
            ret(enum_option(
                lua,
                &a,
                1,
                &mut cfg.encode_invalid_numbers,
                &["off", "on", "null"],
                1,
            )?)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_invalid_numbers",
        rust_fn(lua, sentinel, move |lua, args| {
            let a = Args::new(lua, args);
            arg_init(&a, 1)?;
            let mut cfg = c.borrow_mut();
            let mut v = cfg.decode_invalid_numbers as i32;
            let r = enum_option(lua, &a, 1, &mut v, &BOOL_OPTIONS, 1)?;
            cfg.decode_invalid_numbers = v != 0;
            ret(r)
        })?,
    )?;
    let s = sentinel.clone();
    t.raw_set(
        "new",
        lua.create_function(move |lua, ()| {
            module(lua, &s, Rc::new(RefCell::new(Config::default())))
        })?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

// ===== Encoding =====

fn encode_error(v: &Value, reason: &str) -> Raise {
    Raise::msg(format!("Cannot serialise {}: {reason}", type_name(v)))
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

fn append_number(cfg: &Config, v: &Value, n: f64, out: &mut Vec<u8>) -> Result<(), Raise> {
    if !n.is_finite() {
        match cfg.encode_invalid_numbers {
            0 => return Err(encode_error(v, "must not be NaN or Inf")),
            1 if n.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    out.extend_from_slice(fmt_g(n, cfg.precision as usize).as_bytes());
    Ok(())
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// lua-cjson's `lua_array_length`: the array length, or None for an object. Indexes go
/// through C ints as in the C code (a huge index makes the table an object).
fn array_length(cfg: &Config, t: &Table) -> Result<Option<i32>, Raise> {
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    for kv in t.clone().pairs::<Value, Value>() {
        let (k, _) = kv?;
        let Some(k) = number_of(&k).filter(|&k| k != 0.0) else {
            return Ok(None);
        };
        if k.floor() == k && k >= 1.0 {
            if k > max as f64 {
                max = crate::script::lauxlib::f64_to_i32(k);
            }
            items = items.wrapping_add(1);
            continue;
        }
        return Ok(None);
    }
    if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if !cfg.sparse_convert {
            return Err(Raise::msg(
                "Cannot serialise table: excessively sparse array",
            ));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

/// Encodes `v`. `slots` is the Lua stack in use in the C version, which refuses to nest
/// once it would run out.
fn encode(cfg: &Config, v: &Value, depth: i32, slots: i64, out: &mut Vec<u8>) -> Result<(), Raise> {
    match v {
        Value::String(s) => append_string(out, &s.as_bytes()),
        Value::Integer(_) | Value::Number(_) => {
            append_number(cfg, v, number_of(v).unwrap_or(0.0), out)?
        }
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth.min(MAX_NESTING) || slots + 3 > LUA_STACK_SLOTS {
                return Err(Raise::msg(format!(
                    "Cannot serialise, excessive nesting ({depth})"
                )));
            }
            match array_length(cfg, t)? {
                Some(len) if len > 0 => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i)?;
                        with_stack(|| encode(cfg, &item, depth, slots + 1, out))?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut first = true;
                    for kv in t.clone().pairs::<Value, Value>() {
                        let (k, val) = kv?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::Integer(_) | Value::Number(_) => {
                                out.push(b'"');
                                append_number(cfg, &k, number_of(&k).unwrap_or(0.0), out)?;
                                out.extend_from_slice(b"\":");
                            }
                            Value::String(s) => {
                                append_string(out, &s.as_bytes());
                                out.push(b':');
                            }
                            _ => {
                                return Err(encode_error(
                                    &k,
                                    "table key must be a number or string",
                                ))
                            }
                        }
                        with_stack(|| encode(cfg, &val, depth, slots + 2, out))?;
                    }
                    out.push(b'}');
                }
            }
        }
        _ => return Err(encode_error(v, "type not supported")),
    }
    Ok(())
}

// ===== Decoding =====

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    cfg: &'a Config,
    depth: i32,
    /// The current token: its start, and its value for strings and numbers.
    index: usize,
    string: Vec<u8>,
    number: f64,
}

impl Parser<'_> {
    /// The byte at `i`; 0 (the C string terminator) past the end.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn error_at(&mut self, e: &'static str) -> Tok {
        self.index = self.pos;
        Tok::Error(e)
    }

    fn next(&mut self) -> Tok {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        self.index = self.pos;
        let c = self.at(self.pos);
        let simple = match c {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos += 1;
            return t;
        }
        if c == 0 {
            return Tok::End;
        }
        if c == b'"' {
            return self.string_token();
        }
        let rest = &self.data[self.pos..];
        if c == b'-' || c.is_ascii_digit() {
            if !self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                return self.error_at("invalid number");
            }
            return self.number_token();
        }
        if !matches!(c, b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+') {
            return self.error_at("invalid token");
        }
        for (word, tok) in [
            (&b"true"[..], Tok::Bool(true)),
            (b"false", Tok::Bool(false)),
            (b"null", Tok::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return tok;
            }
        }
        if self.cfg.decode_invalid_numbers && self.is_invalid_number() {
            return self.number_token();
        }
        self.error_at("invalid token")
    }

    /// lua-cjson's `json_is_invalid_number`: valid C numbers that JSON does not allow.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).eq_ignore_ascii_case(&w[i]));
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self) -> Tok {
        let end = self.data[self.pos..]
            .iter()
            .position(|&b| b == 0)
            .map_or(self.data.len(), |i| self.pos + i);
        match strtod(&self.data[self.pos..end]) {
            Some((v, len)) if len > 0 => {
                self.number = v;
                self.pos += len;
                Tok::Num
            }
            _ => self.error_at("invalid number"),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | (self.at(at + i) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// A \uXXXX escape (a surrogate pair counts as one) at `pos`.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let s = &mut self.string;
        if cp <= 0x7F {
            s.push(cp as u8);
        } else if cp <= 0x7FF {
            s.push((cp >> 6) as u8 | 0xC0);
            s.push((cp & 0x3F) as u8 | 0x80);
        } else if cp <= 0xFFFF {
            s.push((cp >> 12) as u8 | 0xE0);
            s.push(((cp >> 6) & 0x3F) as u8 | 0x80);
            s.push((cp & 0x3F) as u8 | 0x80);
        } else {
            s.push((cp >> 18) as u8 | 0xF0);
            s.push(((cp >> 12) & 0x3F) as u8 | 0x80);
            s.push(((cp >> 6) & 0x3F) as u8 | 0x80);
            s.push((cp & 0x3F) as u8 | 0x80);
        }
        self.pos += len;
        true
    }

    fn string_token(&mut self) -> Tok {
        self.pos += 1;
        self.string.clear();
        loop {
            let c = self.at(self.pos);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return self.error_at("unexpected end of string");
            }
            let mut ch = c;
            if c == b'\\' {
                ch = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error_at("invalid unicode escape code");
                    }
                    _ => return self.error_at("invalid escape code"),
                };
                self.pos += 1;
            }
            self.string.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        Tok::Str
    }

    fn parse_error(&self, expected: &str, tok: Tok) -> Raise {
        Raise::msg(format!(
            "Expected {expected} but found {} at character {}",
            tok.name(),
            self.index + 1
        ))
    }

    /// Enters an object or array: lua-cjson's depth limit and its C stack limit.
    fn descend(&mut self, slots: i64, need: i64) -> Result<(), Raise> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth.min(MAX_NESTING)
            && slots + need <= LUA_STACK_SLOTS
        {
            return Ok(());
        }
        Err(Raise::msg(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    /// The value starting with token `tok`. `slots` counts the Lua stack in use.
    fn value(&mut self, lua: &Lua, tok: Tok, slots: i64) -> Result<Value, Raise> {
        Ok(match tok {
            Tok::Str => Value::String(lua.create_string(&self.string)?),
            Tok::Num => Value::Number(self.number),
            Tok::Bool(b) => Value::Boolean(b),
            Tok::Null => null(),
            Tok::ObjBegin => {
                self.descend(slots, 3)?;
                let t = lua.create_table()?;
                let mut tok = self.next();
                if tok == Tok::ObjEnd {
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                loop {
                    if tok != Tok::Str {
                        return Err(self.parse_error("object key string", tok));
                    }
                    let key = lua.create_string(&self.string)?;
                    tok = self.next();
                    if tok != Tok::Colon {
                        return Err(self.parse_error("colon", tok));
                    }
                    tok = self.next();
                    let v = with_stack(|| self.value(lua, tok, slots + 2))?;
                    t.raw_set(key, v)?;
                    tok = self.next();
                    if tok == Tok::ObjEnd {
                        self.depth -= 1;
                        return Ok(Value::Table(t));
                    }
                    if tok != Tok::Comma {
                        return Err(self.parse_error("comma or object end", tok));
                    }
                    tok = self.next();
                }
            }
            Tok::ArrBegin => {
                self.descend(slots, 2)?;
                let t = lua.create_table()?;
                let mut tok = self.next();
                if tok == Tok::ArrEnd {
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                let mut i: i64 = 1;
                loop {
                    let v = with_stack(|| self.value(lua, tok, slots + 1))?;
                    t.raw_set(i, v)?;
                    tok = self.next();
                    if tok == Tok::ArrEnd {
                        self.depth -= 1;
                        return Ok(Value::Table(t));
                    }
                    if tok != Tok::Comma {
                        return Err(self.parse_error("comma or array end", tok));
                    }
                    tok = self.next();
                    i += 1;
                }
            }
            _ => return Err(self.parse_error("value", tok)),
        })
    }
}

fn decode(lua: &Lua, cfg: &Config, data: &[u8]) -> Result<Value, Raise> {
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Raise::msg("JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut p = Parser {
        data,
        pos: 0,
        cfg,
        depth: 0,
        index: 0,
        string: Vec::new(),
        number: 0.0,
    };
    let tok = p.next();
    let v = p.value(lua, tok, 1)?;
    let tok = p.next();
    if tok != Tok::End {
        return Err(p.parse_error("the end", tok));
    }
    Ok(v)
}
