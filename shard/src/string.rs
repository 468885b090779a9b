//! Strings: the value type and the string command family (t_string.c in Redis).

use crate::cmd::Cmd;
use crate::num::parse_i64;
use crate::reply::err;
use crate::shard::Ctx;
use crate::value::Value;
use std::borrow::Cow;

/// Redis reports short strings as `embstr` (at most 44 bytes, never modified in place).
const EMBSTR_MAX: usize = 44;

#[derive(Clone)]
pub enum StrValue {
    /// A canonical decimal integer, stored as a number (OBJECT ENCODING `int`).
    Int(i64),
    Raw(Vec<u8>),
}

impl StrValue {
    /// Stores `b`, as an integer when it is the canonical form of one (as Redis does).
    pub fn from_bytes(b: &[u8]) -> StrValue {
        match parse_i64(b) {
            Some(i) => StrValue::Int(i),
            None => StrValue::Raw(b.to_vec()),
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            StrValue::Int(i) => Cow::Owned(itoa::Buffer::new().format(*i).as_bytes().to_vec()),
            StrValue::Raw(v) => Cow::Borrowed(v),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(i) => itoa::Buffer::new().format(*i).len(),
            StrValue::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Raw(v) if v.len() <= EMBSTR_MAX => "embstr",
            StrValue::Raw(_) => "raw",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            StrValue::Int(_) => 0,
            StrValue::Raw(v) => v.capacity(),
        }
    }
}

/// Writes a string value as a bulk reply without materialising integers on the heap.
pub fn reply_str(out: &mut crate::Reply, s: &StrValue) {
    match s {
        StrValue::Int(i) => out.bulk(itoa::Buffer::new().format(*i).as_bytes()),
        StrValue::Raw(v) => out.bulk(v),
    }
}

/// GET key
pub fn get(ctx: &mut Ctx, cmd: &Cmd) {
    match ctx.db.get(&cmd[1], ctx.now) {
        None => ctx.out.null(),
        Some(e) => match &e.value {
            Value::Str(s) => reply_str(ctx.out, s),
            #[allow(unreachable_patterns)]
            _ => ctx.out.error(err::WRONGTYPE),
        },
    }
}

/// SET key value
pub fn set(ctx: &mut Ctx, cmd: &Cmd) {
    let v = Value::Str(StrValue::from_bytes(&cmd[2]));
    ctx.db.set(&cmd[1], v, 0, ctx.now);
    ctx.wrote(1);
    ctx.out.ok();
}

/// MGET part: one item per key, no array header (the caller writes it).
pub fn mget(ctx: &mut Ctx, cmd: &Cmd) {
    for i in 1..cmd.len() {
        match ctx.db.get(&cmd[i], ctx.now).map(|e| &e.value) {
            Some(Value::Str(s)) => reply_str(ctx.out, s),
            _ => ctx.out.null(),
        }
    }
}

/// MSET part.
pub fn mset(ctx: &mut Ctx, cmd: &Cmd) {
    for i in (1..cmd.len()).step_by(2) {
        let v = Value::Str(StrValue::from_bytes(&cmd[i + 1]));
        ctx.db.set(&cmd[i], v, 0, ctx.now);
    }
    ctx.wrote(cmd.len() as u64 / 2);
    ctx.out.ok();
}
