//! Interim command metadata (replaced by the full table).
pub mod flag {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const NO_AUTH: u64 = 1 << 2;
}

pub struct CommandSpec {
    pub name: &'static str,
    pub arity: i32,
    pub flags: u64,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub subcommands: &'static [CommandSpec],
}

const fn c(name: &'static str, arity: i32, flags: u64, f: i32, l: i32, s: i32) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: f,
        last_key: l,
        step: s,
        subcommands: &[],
    }
}

static ALL: &[CommandSpec] = &[
    c("get", 2, flag::READONLY, 1, 1, 1),
    c("set", -3, flag::WRITE, 1, 1, 1),
    c("ping", -1, 0, 0, 0, 0),
    c("mget", -2, flag::READONLY, 1, -1, 1),
    c("mset", -3, flag::WRITE, 1, -1, 2),
];

pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    ALL.iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
}

pub fn lookup_sub(parent: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    parent.subcommands.iter().find(|c| {
        c.name
            .split('|')
            .nth(1)
            .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(sub))
    })
}

pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    ALL.iter()
}
