//! What Lua's C auxiliary library (and the C runtime under it) would do, for the parts of
//! the scripting API that are written in Rust here: argument checks with lauxlib's exact
//! messages, C's `%.Ng` and `strtod`, and x86-64's float-to-integer conversions (Redis'
//! replies and libraries cast doubles with plain C casts, whose out-of-range results on
//! x86-64 are observable).

use mlua::{Lua, MultiValue, Value};

/// An error a Rust-implemented Lua function raises. The Lua-side wrapper of every such
/// function turns it into a real Lua error (see `sandbox::PRELUDE`).
pub(crate) enum Raise {
    /// A message raised like `luaL_error`: prefixed with the caller's position.
    Msg(Vec<u8>),
    /// A value raised as is, like `lua_error` (Redis' `{err=...}` tables, or messages of
    /// errors that Lua raises from C code without a position).
    Value(Value),
}

impl Raise {
    /// A positioned message.
    pub(crate) fn msg(m: impl Into<Vec<u8>>) -> Raise {
        Raise::Msg(m.into())
    }
}

impl From<mlua::Error> for Raise {
    fn from(e: mlua::Error) -> Raise {
        // Only memory errors and the like reach here; Lua shows them as plain messages.
        Raise::Msg(e.to_string().into_bytes())
    }
}

/// The result of a Rust-implemented Lua function.
pub(crate) type LuaRet = Result<MultiValue, Raise>;

/// Runs `f` with at least 256 KiB of stack, switching to a new 2 MiB segment on the heap
/// when the thread's stack is short: recursion over script data (as deep as Lua's own
/// limits allow) and the Lua code it may call back can then never overflow the stack.
pub(crate) fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 2 * 1024 * 1024, f)
}

/// Lua's `lua_typename` for a value.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// Arguments of a Rust-implemented Lua function, with lauxlib's checks. `level` is the
/// stack level of the Lua function the user called (1 for functions behind a Lua wrapper):
/// lauxlib names that function in its messages.
pub(crate) struct Args<'a> {
    pub(crate) lua: &'a Lua,
    pub(crate) v: Vec<Value>,
    level: usize,
}

impl<'a> Args<'a> {
    /// Arguments of a function called through its Lua wrapper.
    pub(crate) fn new(lua: &'a Lua, args: MultiValue) -> Args<'a> {
        Args {
            lua,
            v: args.into_vec(),
            level: 1,
        }
    }

    /// `lua_gettop`.
    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    /// Argument `n` (1-based); Nil when absent.
    pub(crate) fn get(&self, n: usize) -> Value {
        self.v.get(n - 1).cloned().unwrap_or(Value::Nil)
    }

    /// `lua_isnoneornil`.
    pub(crate) fn is_none_or_nil(&self, n: usize) -> bool {
        matches!(self.v.get(n - 1), None | Some(Value::Nil))
    }

    /// `luaL_typename`: "no value" for an absent argument.
    pub(crate) fn type_name(&self, n: usize) -> &'static str {
        match self.v.get(n - 1) {
            None => "no value",
            Some(v) => type_name(v),
        }
    }

    /// `luaL_argerror`: "bad argument #n to 'name' (extra)", with the name the caller used.
    pub(crate) fn arg_error(&self, n: usize, extra: &str) -> Raise {
        let (name, what) = self
            .lua
            .inspect_stack(self.level, |d| {
                let names = d.names();
                (names.name.map(|s| s.into_owned()), names.name_what)
            })
            .unwrap_or((None, None));
        let mut n = n as i64;
        if what == Some("method") {
            n -= 1;
            if n == 0 {
                return Raise::msg(format!(
                    "calling '{}' on bad self ({extra})",
                    name.as_deref().unwrap_or("?")
                ));
            }
        }
        Raise::msg(format!(
            "bad argument #{n} to '{}' ({extra})",
            name.as_deref().unwrap_or("?")
        ))
    }

    /// `luaL_typerror`.
    pub(crate) fn type_error(&self, n: usize, expected: &str) -> Raise {
        self.arg_error(
            n,
            &format!("{expected} expected, got {}", self.type_name(n)),
        )
    }

    /// `lua_tonumber`: numbers, and strings Lua converts; None otherwise.
    pub(crate) fn to_number(&self, n: usize) -> Option<f64> {
        to_number(self.lua, &self.get(n))
    }

    /// `luaL_checknumber`.
    pub(crate) fn check_number(&self, n: usize) -> Result<f64, Raise> {
        self.to_number(n)
            .ok_or_else(|| self.type_error(n, "number"))
    }

    /// `luaL_checkinteger` (a C cast of the number to a 64-bit integer).
    pub(crate) fn check_integer(&self, n: usize) -> Result<i64, Raise> {
        self.check_number(n).map(f64_to_i64)
    }

    /// `luaL_checkint` (`luaL_checkinteger` narrowed to a C int).
    pub(crate) fn check_int(&self, n: usize) -> Result<i32, Raise> {
        self.check_integer(n).map(|v| v as i32)
    }

    /// `luaL_optinteger`.
    pub(crate) fn opt_integer(&self, n: usize, default: i64) -> Result<i64, Raise> {
        if self.is_none_or_nil(n) {
            Ok(default)
        } else {
            self.check_integer(n)
        }
    }

    /// `luaL_optint`.
    pub(crate) fn opt_int(&self, n: usize, default: i32) -> Result<i32, Raise> {
        if self.is_none_or_nil(n) {
            Ok(default)
        } else {
            self.check_int(n)
        }
    }

    /// `lua_tolstring`: strings as they are, numbers in Lua's formatting; None otherwise.
    pub(crate) fn to_bytes(&self, n: usize) -> Option<Vec<u8>> {
        to_bytes(self.lua, &self.get(n))
    }

    /// `luaL_checklstring`.
    pub(crate) fn check_bytes(&self, n: usize) -> Result<Vec<u8>, Raise> {
        self.to_bytes(n).ok_or_else(|| self.type_error(n, "string"))
    }
}

/// `lua_tonumber` for a value.
pub(crate) fn to_number(lua: &Lua, v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(_) => lua.coerce_number(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// `lua_tolstring` for a value (the number formatting is Lua's own, `%.14g`).
pub(crate) fn to_bytes(lua: &Lua, v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(v.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// A C cast of a double to a 64-bit integer on x86-64: truncation, and the "integer
/// indefinite" value `i64::MIN` for NaN and anything out of range.
pub(crate) fn f64_to_i64(v: f64) -> i64 {
    const TWO63: f64 = (1u64 << 63) as f64;
    if v.is_nan() || !(-TWO63..TWO63).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// A C cast of a double to a 32-bit int on x86-64 (`i32::MIN` when out of range).
pub(crate) fn f64_to_i32(v: f64) -> i32 {
    if v.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&v) {
        i32::MIN
    } else {
        v as i32
    }
}

/// A C cast of a double to an unsigned 64-bit integer as x86-64 compilers emit it (values
/// from 2^63 go through a biased signed conversion; negative values wrap).
pub(crate) fn f64_to_u64(v: f64) -> u64 {
    const TWO63: f64 = (1u64 << 63) as f64;
    if v >= TWO63 {
        (f64_to_i64(v - TWO63) as u64) ^ (1 << 63)
    } else {
        f64_to_i64(v) as u64
    }
}

/// C's `printf("%.{prec}g", v)` with glibc's spelling of specials (`nan`, `-nan`, `inf`).
pub(crate) fn fmt_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.into();
    }
    let p = prec.max(1);
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Integers with fewer than `p` digits print as they are (the common case, and much
    // cheaper than the exact decimal expansion below).
    if v.fract() == 0.0 && v.abs() < 10f64.powi(p.min(17) as i32) {
        return itoa::Buffer::new().format(v as i64).to_string();
    }
    // The exponent %g decides with is the one of the value rounded to p digits.
    let sci = format!("{:.*e}", p - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if x < -4 || x >= p as i32 {
        let mant = strip_fraction_zeros(mant);
        format!(
            "{mant}e{}{:02}",
            if x < 0 { '-' } else { '+' },
            x.unsigned_abs()
        )
    } else {
        let decimals = (p as i32 - 1 - x) as usize;
        strip_fraction_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// C's `strtod` on a byte string (the C locale): the value and the length of the longest
/// prefix that is a number, or None when no conversion happens. Accepts what glibc accepts:
/// leading white space, a sign, decimal and hexadecimal forms, `inf`, `infinity` and `nan`.
pub(crate) fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while matches!(at(i), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let negative = at(i) == b'-';
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = &s[i.min(s.len())..];
    let starts_ci =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts_ci(b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if starts_ci(b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if starts_ci(b"nan") {
        let mut end = i + 3;
        // nan(n-char-sequence)
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        let nan = if negative { -f64::NAN } else { f64::NAN };
        return Some((nan, end));
    }
    if at(i) == b'0' && matches!(at(i + 1), b'x' | b'X') {
        if let Some((v, len)) = parse_hex_float(&s[i + 2..]) {
            return Some((sign * v, i + 2 + len));
        }
        // "0x" without hex digits: just the "0".
        return Some((sign * 0.0, i + 1));
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one digit in the mantissa.
    let start = i;
    let mut digits = 0;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    let mant_end = i;
    if matches!(at(i), b'e' | b'E') {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).ok()?;
    let v: f64 = text.parse().ok().or_else(|| {
        // Rust refuses "5." style mantissas in some positions; retry without the dot.
        let m = std::str::from_utf8(&s[start..mant_end]).ok()?;
        let e = std::str::from_utf8(&s[mant_end..i]).ok()?;
        format!("{}{}", m.trim_end_matches('.'), e).parse().ok()
    })?;
    Some((sign * v, i))
}

/// The part of a hexadecimal float after "0x": hex digits with an optional point and a
/// binary exponent. None without any hex digit.
fn parse_hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let mut mant: u64 = 0;
    let mut sticky = false;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut seen_point = false;
    loop {
        let c = at(i);
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mant >> 60 == 0 {
            mant = (mant << 4) | d as u64;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(at(i), b'p' | b'P') {
        let mut j = i + 1;
        let neg = at(j) == b'-';
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                e = (e * 10 + (at(j) - b'0') as i64).min(1 << 20);
                j += 1;
            }
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    if sticky {
        mant |= 1;
    }
    Some((scale_by_pow2(mant as f64, exp), i))
}

/// `x * 2^e` without intermediate overflow or double rounding for normal results.
fn scale_by_pow2(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_g_matches_c() {
        assert_eq!(fmt_g(0.1, 17), "0.10000000000000001");
        assert_eq!(fmt_g(3.0, 17), "3");
        assert_eq!(fmt_g(1e20, 17), "1e+20");
        assert_eq!(fmt_g(123456789012345678.0, 17), "1.2345678901234568e+17");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(std::f64::consts::PI, 14), "3.1415926535898");
        assert_eq!(fmt_g(2.5e-7, 14), "2.5e-07");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(f64::NAN, 14), "nan");
        assert_eq!(fmt_g(-f64::NAN, 14), "-nan");
        assert_eq!(fmt_g(f64::NEG_INFINITY, 17), "-inf");
        assert_eq!(fmt_g(100.0, 2), "1e+02");
        assert_eq!(fmt_g(99.5, 2), "1e+02");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
    }

    #[test]
    fn strtod_prefixes() {
        assert_eq!(strtod(b"12abc"), Some((12.0, 2)));
        assert_eq!(strtod(b"-1.5e3x"), Some((-1500.0, 6)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"0x10"), Some((16.0, 4)));
        assert_eq!(strtod(b"0x"), Some((0.0, 1)));
        assert_eq!(strtod(b"0x1.8p1"), Some((3.0, 7)));
        assert_eq!(strtod(b"+5"), Some((5.0, 2)));
        assert_eq!(strtod(b"Infinity"), Some((f64::INFINITY, 8)));
        assert_eq!(strtod(b"-inf"), Some((f64::NEG_INFINITY, 4)));
        assert!(strtod(b"nan").unwrap().0.is_nan());
        assert_eq!(strtod(b"5."), Some((5.0, 2)));
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b"- 1"), None);
        assert_eq!(strtod(b"1e400").map(|v| v.0), Some(f64::INFINITY));
    }

    #[test]
    fn x86_casts() {
        assert_eq!(f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(f64_to_i64(1e19), i64::MIN);
        assert_eq!(f64_to_i64(-3.9), -3);
        assert_eq!(f64_to_i32(1e10), i32::MIN);
        assert_eq!(f64_to_u64(1.8446744073709552e19), 0);
        assert_eq!(f64_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(f64_to_u64(-1.0), u64::MAX);
    }
}
