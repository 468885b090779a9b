//! The values a key can hold.
//!
//! Every type lives in its own family module; this enum is the one place that knows them all
//! (for TYPE, OBJECT ENCODING, WRONGTYPE checks and memory accounting). Values are plain data
//! (`Send`): a cross-shard RENAME or COPY moves them between shards.

use crate::string::StrValue;

pub enum Value {
    Str(StrValue),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
        }
    }

    /// Approximate heap bytes held by the value (for MEMORY USAGE and eviction).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
        }
    }

    /// A deep copy (COPY).
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(s.clone()),
        }
    }
}
