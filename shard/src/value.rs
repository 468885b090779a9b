//! The values a key can hold.
//!
//! Every type lives in its own family module; this enum is the one place that knows them all
//! (for TYPE, OBJECT ENCODING, WRONGTYPE checks, DEBUG DIGEST and memory accounting). Values
//! are plain data (`Send`): a cross-shard RENAME, COPY or multi-key command moves them between
//! shards.
//!
//! Each collection type provides the same small surface used here: `encoding()` (Redis'
//! OBJECT ENCODING name), `heap_size()`, `digest(&mut Sha1)` (order-independent for
//! unordered types) and `Clone`.

use crate::hash::HashValue;
use crate::list::ListValue;
use crate::set::SetValue;
use crate::stream::StreamValue;
use crate::string::StrValue;
use crate::zset::ZSetValue;

/// Collections are boxed: a key's entry then stays as small as a string key needs (the enum
/// is as large as its largest variant, and most keys of a cache are strings).
#[derive(Clone)]
pub enum Value {
    Str(StrValue),
    List(Box<ListValue>),
    Hash(Box<HashValue>),
    Set(Box<SetValue>),
    ZSet(Box<ZSetValue>),
    Stream(Box<StreamValue>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(v) => v.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
            Value::Stream(v) => v.encoding(),
        }
    }

    /// Approximate heap bytes held by the value (for MEMORY USAGE and eviction).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(v) => v.heap_size(),
            Value::Hash(v) => v.heap_size(),
            Value::Set(v) => v.heap_size(),
            Value::ZSet(v) => v.heap_size(),
            Value::Stream(v) => v.heap_size(),
        }
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Value {
        self.clone()
    }
}

/// The key holds a value of another type (the caller replies `WRONGTYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongType;

#[cfg(test)]
mod tests {
    /// Most keys are strings: a collection must not make every entry larger.
    #[test]
    fn a_value_is_as_small_as_a_string() {
        assert_eq!(std::mem::size_of::<crate::string::StrValue>(), 24);
        assert_eq!(std::mem::size_of::<crate::db::Entry>(), 40);
        assert_eq!(
            std::mem::size_of::<super::Value>(),
            std::mem::size_of::<crate::string::StrValue>()
        );
    }
}
