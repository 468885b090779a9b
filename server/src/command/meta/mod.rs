//! Command metadata: arity, flags, key specs and documentation of every command, as Redis 7.2
//! reports them through `COMMAND` (INFO, DOCS, LIST, GETKEYS...).
//!
//! The data is transcribed from Redis 7.2's command table (`src/commands/*.json`), one file per
//! command family, with the builders below keeping each command to a few lines. Clients rely on
//! these facts (redis-cli hints, cluster clients' key extraction), and the server uses the
//! arity, the flags and the key positions to check and route every request.

mod cluster;
mod connection;
mod generic;
mod geo;
mod hash;
mod hyperloglog;
mod list;
mod pubsub;
mod scripting;
mod server;
mod set;
mod sort;
mod sorted_set;
mod stream;
mod string;
mod transactions;

use ahash::AHashMap;
use shard::Reply;
use std::sync::OnceLock;

/// Command flags (Redis' `CMD_*`), in Redis' bit order.
pub mod flag {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const MODULE: u64 = 1 << 3;
    pub const ADMIN: u64 = 1 << 4;
    pub const PUBSUB: u64 = 1 << 5;
    pub const NOSCRIPT: u64 = 1 << 6;
    pub const BLOCKING: u64 = 1 << 8;
    pub const LOADING: u64 = 1 << 9;
    pub const STALE: u64 = 1 << 10;
    pub const SKIP_MONITOR: u64 = 1 << 11;
    pub const SKIP_SLOWLOG: u64 = 1 << 12;
    pub const ASKING: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const NO_AUTH: u64 = 1 << 15;
    pub const MAY_REPLICATE: u64 = 1 << 16;
    pub const SENTINEL: u64 = 1 << 17;
    pub const ONLY_SENTINEL: u64 = 1 << 18;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 19;
    pub const PROTECTED: u64 = 1 << 20;
    pub const MODULE_GETKEYS: u64 = 1 << 21;
    pub const MODULE_NO_CLUSTER: u64 = 1 << 22;
    pub const NO_ASYNC_LOADING: u64 = 1 << 23;
    pub const NO_MULTI: u64 = 1 << 24;
    pub const MOVABLE_KEYS: u64 = 1 << 25;
    pub const ALLOW_BUSY: u64 = 1 << 26;
    pub const MODULE_GETCHANNELS: u64 = 1 << 27;
    pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 28;

    /// The flags COMMAND INFO shows, in its order; may_replicate, sentinel, only_sentinel,
    /// protected and touches_arbitrary_keys are hidden, as in Redis.
    pub(super) const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Key spec flags (Redis' `CMD_KEY_*`): how a command uses a key.
pub mod key_flag {
    /// Read-only: reads the value, does not modify it.
    pub const RO: u64 = 1 << 0;
    /// Read-write: modifies the value, may read it.
    pub const RW: u64 = 1 << 1;
    /// Overwrite: replaces the value without reading it.
    pub const OW: u64 = 1 << 2;
    /// Removes the key.
    pub const RM: u64 = 1 << 3;
    pub const ACCESS: u64 = 1 << 4;
    pub const UPDATE: u64 = 1 << 5;
    pub const INSERT: u64 = 1 << 6;
    pub const DELETE: u64 = 1 << 7;
    /// A channel name (SPUBLISH...), not a key: skipped by key extraction.
    pub const NOT_KEY: u64 = 1 << 8;
    /// The spec may miss keys (they can only be found by parsing the arguments).
    pub const INCOMPLETE: u64 = 1 << 9;
    /// The flags depend on the arguments (SET ... GET).
    pub const VARIABLE_FLAGS: u64 = 1 << 10;

    pub(super) const NAMES: &[(u64, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Argument flags (Redis' `CMD_ARG_*`).
pub mod arg_flag {
    pub const OPTIONAL: u8 = 1 << 0;
    pub const MULTIPLE: u8 = 1 << 1;
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;

    pub(super) const NAMES: &[(u64, &str)] = &[
        (OPTIONAL as u64, "optional"),
        (MULTIPLE as u64, "multiple"),
        (MULTIPLE_TOKEN as u64, "multiple_token"),
    ];
}

/// The ACL categories, in the order Redis lists a command's categories.
pub const ACL_CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The static description of one command (or subcommand).
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower case; a subcommand is named `container|sub` (`client|list`), as COMMAND INFO does.
    pub name: &'static str,
    /// Positive: exactly that many arguments (the name included); negative: at least -arity.
    pub arity: i32,
    /// Bit set of [`flag`] constants.
    pub flags: u64,
    /// The legacy key range COMMAND INFO reports, derived from the key specs as Redis does.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// Without '@', in Redis' order (`["write", "string", "slow"]`).
    pub acl_categories: &'static [&'static str],
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    pub subcommands: &'static [CommandSpec],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// `deprecated`, `syscmd`.
    pub doc_flags: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub arguments: &'static [Arg],
    /// (version, change)
    pub history: &'static [(&'static str, &'static str)],
}

/// Where a command's keys are (Redis 7 key specs): a starting point, then how to find them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
    /// Bit set of [`key_flag`] constants.
    pub flags: u64,
    pub notes: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// The first key is at this argument index.
    Index(i32),
    /// The first key follows this keyword, searched from `startfrom` (negative: from the end,
    /// backwards).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    /// Only the command itself knows (SORT's STORE).
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` relative to the first one (negative: from the end of the
    /// arguments), every `step`; with `limit` > 1 and `lastkey` -1, only the first 1/limit
    /// of the remaining arguments.
    Range {
        lastkey: i32,
        step: i32,
        limit: i32,
    },
    /// The number of keys is the argument at `keynumidx` (relative to the begin-search
    /// index), the keys start `firstkey` after it.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        step: i32,
    },
    Unknown,
}

/// One argument as COMMAND DOCS describes it.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    /// Shown instead of the name in syntax hints; `None` means the name.
    pub display_text: Option<&'static str>,
    /// Index in the command's key specs for a key argument, -1 otherwise.
    pub key_spec_index: i32,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    /// Bit set of [`arg_flag`] constants.
    pub flags: u8,
    pub deprecated_since: Option<&'static str>,
    /// The alternatives of a `OneOf`, the parts of a `Block`.
    pub subargs: &'static [Arg],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Builders for the data files (const, so the tables are plain statics).

/// A command: name, arity, flags and ACL categories (in Redis' order, implicit ones included).
const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u64,
    acl_categories: &'static [&'static str],
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories,
        tips: &[],
        key_specs: &[],
        subcommands: &[],
        group: "",
        since: "",
        summary: "",
        complexity: "",
        doc_flags: &[],
        deprecated_since: None,
        replaced_by: None,
        arguments: &[],
        history: &[],
    }
}

impl CommandSpec {
    const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        complexity: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.complexity = complexity;
        self.summary = summary;
        self
    }

    /// Sets the key specs and derives the legacy (first, last, step) range and the
    /// `movablekeys` flag from them, as Redis' `populateCommandLegacyRangeSpec` does.
    const fn keys(mut self, specs: &'static [KeySpec]) -> Self {
        self.key_specs = specs;
        if specs.len() == 1 {
            if let (BeginSearch::Index(pos), FindKeys::Range { lastkey, step, .. }) =
                (specs[0].begin_search, specs[0].find_keys)
            {
                self.first_key = pos;
                self.last_key = if lastkey >= 0 { pos + lastkey } else { lastkey };
                self.step = step;
                if specs[0].flags & key_flag::INCOMPLETE != 0 {
                    self.flags |= flag::MOVABLE_KEYS;
                }
                return self;
            }
        }
        let (mut first, mut last, mut prev_last) = (i32::MAX, 0i32, 0i32);
        let mut i = 0;
        while i < specs.len() {
            let spec = specs[i];
            i += 1;
            let (pos, lastkey) = match (spec.begin_search, spec.find_keys) {
                (
                    BeginSearch::Index(pos),
                    FindKeys::Range {
                        lastkey, step: 1, ..
                    },
                ) if prev_last == 0 || prev_last == pos - 1 => (pos, lastkey),
                // Not a plain range consecutive to the previous one.
                _ => {
                    self.flags |= flag::MOVABLE_KEYS;
                    continue;
                }
            };
            if spec.flags & key_flag::INCOMPLETE != 0 {
                self.flags |= flag::MOVABLE_KEYS;
            }
            if pos < first {
                first = pos;
            }
            let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
            // Redis compares unsigned, so a negative (from the end) lastkey wins.
            if (abs as u32) > (last as u32) {
                last = abs;
            }
            prev_last = last;
        }
        if first == i32::MAX {
            if !specs.is_empty() {
                self.flags |= flag::MOVABLE_KEYS;
            }
        } else {
            self.first_key = first;
            self.last_key = last;
            self.step = 1;
        }
        self
    }

    const fn args(mut self, arguments: &'static [Arg]) -> Self {
        self.arguments = arguments;
        self
    }

    const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    const fn history(mut self, history: &'static [(&'static str, &'static str)]) -> Self {
        self.history = history;
        self
    }

    const fn subcommands(mut self, subcommands: &'static [CommandSpec]) -> Self {
        self.subcommands = subcommands;
        self
    }

    const fn deprecated(mut self, since: &'static str, replaced_by: &'static str) -> Self {
        self.doc_flags = &["deprecated"];
        self.deprecated_since = Some(since);
        self.replaced_by = Some(replaced_by);
        self
    }

    /// An internal command (DEBUG, REPLCONF...).
    const fn syscmd(mut self) -> Self {
        self.doc_flags = &["syscmd"];
        self
    }
}

impl KeySpec {
    pub const fn new(flags: u64, begin_search: BeginSearch, find_keys: FindKeys) -> KeySpec {
        KeySpec {
            begin_search,
            find_keys,
            flags,
            notes: None,
        }
    }

    const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = Some(notes);
        self
    }
}

/// One key at argument `pos`.
const fn key_at(pos: i32, flags: u64) -> KeySpec {
    keys_from(pos, 0, 1, flags)
}

/// Keys from argument `pos` to `lastkey` (relative to `pos`; negative: from the end), every
/// `step`.
const fn keys_from(pos: i32, lastkey: i32, step: i32, flags: u64) -> KeySpec {
    KeySpec::new(
        flags,
        BeginSearch::Index(pos),
        FindKeys::Range {
            lastkey,
            step,
            limit: 0,
        },
    )
}

const fn arg(name: &'static str, kind: ArgType) -> Arg {
    Arg {
        name,
        kind,
        display_text: None,
        key_spec_index: -1,
        token: None,
        summary: None,
        since: None,
        flags: 0,
        deprecated_since: None,
        subargs: &[],
    }
}

/// A key argument described by key spec `spec`.
const fn key(name: &'static str, spec: i32) -> Arg {
    let mut a = arg(name, ArgType::Key);
    a.key_spec_index = spec;
    a
}

const fn string(name: &'static str) -> Arg {
    arg(name, ArgType::String)
}

const fn integer(name: &'static str) -> Arg {
    arg(name, ArgType::Integer)
}

const fn double(name: &'static str) -> Arg {
    arg(name, ArgType::Double)
}

const fn pattern(name: &'static str) -> Arg {
    arg(name, ArgType::Pattern)
}

const fn unix_time(name: &'static str) -> Arg {
    arg(name, ArgType::UnixTime)
}

/// A bare keyword (`NX`, `KEEPTTL`).
const fn pure(name: &'static str, token: &'static str) -> Arg {
    arg(name, ArgType::PureToken).token(token)
}

/// Exactly one of `alternatives`.
const fn oneof(name: &'static str, alternatives: &'static [Arg]) -> Arg {
    let mut a = arg(name, ArgType::OneOf);
    a.subargs = alternatives;
    a
}

/// `parts` in sequence.
const fn block(name: &'static str, parts: &'static [Arg]) -> Arg {
    let mut a = arg(name, ArgType::Block);
    a.subargs = parts;
    a
}

impl Arg {
    const fn token(mut self, token: &'static str) -> Self {
        self.token = Some(token);
        self
    }

    const fn opt(mut self) -> Self {
        self.flags |= arg_flag::OPTIONAL;
        self
    }

    const fn multi(mut self) -> Self {
        self.flags |= arg_flag::MULTIPLE;
        self
    }

    /// Repeated together with its token (`GET enc off GET enc off`).
    const fn multi_token(mut self) -> Self {
        self.flags |= arg_flag::MULTIPLE_TOKEN;
        self
    }

    const fn since(mut self, version: &'static str) -> Self {
        self.since = Some(version);
        self
    }

    const fn display(mut self, text: &'static str) -> Self {
        self.display_text = Some(text);
        self
    }

    const fn deprecated(mut self, version: &'static str) -> Self {
        self.deprecated_since = Some(version);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// The table.

/// Every family's commands, in the order COMMAND lists them.
static FAMILIES: &[&[CommandSpec]] = &[
    string::COMMANDS,
    list::COMMANDS,
    hash::COMMANDS,
    sorted_set::COMMANDS,
    geo::COMMANDS,
    hyperloglog::COMMANDS,
    generic::COMMANDS,
    sort::COMMANDS,
    set::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    transactions::COMMANDS,
    scripting::COMMANDS,
    pubsub::COMMANDS,
    stream::COMMANDS,
    cluster::COMMANDS,
];

/// Every family's commands (ACL categories walk them as Redis walks its command table).
pub fn families() -> &'static [&'static [CommandSpec]] {
    FAMILIES
}

/// Every top-level command.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

fn table() -> &'static AHashMap<&'static str, &'static CommandSpec> {
    static TABLE: OnceLock<AHashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| all().map(|spec| (spec.name, spec)).collect())
}

/// A top-level command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 64];
    let lower = buf.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    table().get(std::str::from_utf8(lower).ok()?).copied()
}

/// A subcommand of `parent` by its own name (`list` for `client|list`), case-insensitively.
pub fn lookup_sub(parent: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    parent.subcommands.iter().find(|c| {
        c.name
            .split_once('|')
            .is_some_and(|(_, n)| n.as_bytes().eq_ignore_ascii_case(sub))
    })
}

/// A command by its full name as COMMAND INFO/DOCS take it: `get`, `client|list`.
pub fn lookup_path(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&c| c == b'|') {
        None => lookup(name),
        Some(i) => lookup_sub(lookup(&name[..i])?, &name[i + 1..]),
    }
}

/// The command `args` (`args[0]` = name) invokes: the subcommand for a container given one,
/// the command itself otherwise; `None` for an unknown command or subcommand.
pub fn resolve(args: &[&[u8]]) -> Option<&'static CommandSpec> {
    let spec = lookup(args.first()?)?;
    match args.get(1) {
        Some(sub) if !spec.subcommands.is_empty() => lookup_sub(spec, sub),
        _ => Some(spec),
    }
}

/// Redis' arity rule: positive = exactly, negative = at least.
pub fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= arity.unsigned_abs() as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Keys.

const INVALID_ARGS: &str = "ERR Invalid arguments specified for command";

/// The argument indexes of the keys of `args` (`args[0]` = command name, `args[1]` the
/// subcommand for a subcommand's spec) following the key specs, as Redis'
/// `getKeysUsingKeySpecs` finds them: for COMMAND GETKEYS and for routing commands whose keys
/// are not a simple (first, last, step) range. Specs whose keyword is absent find nothing;
/// arguments that do not fit a spec (or an `Unknown` spec) are an error.
pub fn key_positions(spec: &CommandSpec, args: &[&[u8]]) -> Result<Vec<usize>, &'static str> {
    let mut keys = Vec::new();
    find_keys(spec, args, |pos, _| keys.push(pos))?;
    Ok(keys)
}

/// The key positions of `args` with each key's flags (`key_flag`), as COMMAND
/// GETKEYSANDFLAGS reports them.
pub fn key_positions_with_flags(
    spec: &CommandSpec,
    args: &[&[u8]],
) -> Result<Vec<(usize, u64)>, &'static str> {
    let variable = variable_key_flags(spec, args);
    let mut keys = Vec::new();
    find_keys(spec, args, |pos, flags| {
        keys.push((pos, variable.unwrap_or(flags)))
    })?;
    Ok(keys)
}

/// Calls `found(position, key spec flags)` for every key of `args`.
fn find_keys(
    spec: &CommandSpec,
    args: &[&[u8]],
    mut found: impl FnMut(usize, u64),
) -> Result<(), &'static str> {
    // Commands whose specs cannot find every key (Redis' getkeys procs).
    if let Some(keys) =
        sort::sort_keys(spec.name, args).or_else(|| generic::migrate_keys(spec.name, args))
    {
        keys.into_iter().for_each(|(pos, flags)| found(pos, flags));
        return Ok(());
    }
    let argc = args.len() as i64;
    for ks in spec.key_specs {
        if ks.flags & key_flag::NOT_KEY != 0 {
            continue;
        }
        let mut first = match ks.begin_search {
            BeginSearch::Index(pos) => pos as i64,
            BeginSearch::Keyword { keyword, startfrom } => {
                match find_keyword(args, keyword, startfrom as i64) {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            BeginSearch::Unknown => return Err(INVALID_ARGS),
        };
        let (last, step) = match ks.find_keys {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let (lastkey, limit) = (lastkey as i64, limit as i64);
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit <= 1 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, step as i64)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                if keynumidx as i64 >= argc - first {
                    return Err(INVALID_ARGS);
                }
                let numkeys = shard::num::parse_i64(args[(first + keynumidx as i64) as usize])
                    .filter(|&n| n >= 0)
                    .ok_or(INVALID_ARGS)?;
                first += firstkey as i64;
                // Saturating: a numkeys near i64::MAX is an error, not an overflow.
                (first.saturating_add(numkeys) - 1, step as i64)
            }
            FindKeys::Unknown => return Err(INVALID_ARGS),
        };
        if last >= argc || last < first || first >= argc || first < 1 || step < 1 {
            return Err(INVALID_ARGS);
        }
        let mut i = first;
        while i <= last {
            found(i as usize, ks.flags);
            i += step;
        }
    }
    Ok(())
}

/// The index of `keyword` (case-insensitive) searched as Redis does: forwards from
/// `startfrom` to the second to last argument, or backwards from `argc + startfrom` to
/// argument 2 when `startfrom` is negative.
fn find_keyword(args: &[&[u8]], keyword: &str, startfrom: i64) -> Option<i64> {
    let argc = args.len() as i64;
    let (start, end) = if startfrom > 0 {
        (startfrom, argc - 1)
    } else {
        (argc + startfrom, 1)
    };
    let mut i = start;
    while i != end && (1..argc).contains(&i) {
        if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
            return Some(i);
        }
        i += if start <= end { 1 } else { -1 };
    }
    None
}

/// The key flags of commands whose specs say `variable_flags`, from their arguments (Redis'
/// `setGetKeys`, `bitfieldGetKeys`).
fn variable_key_flags(spec: &CommandSpec, args: &[&[u8]]) -> Option<u64> {
    use key_flag::*;
    let is = |a: &[u8], s: &str| a.eq_ignore_ascii_case(s.as_bytes());
    match spec.name {
        "set" => Some(if args.iter().skip(3).any(|a| is(a, "get")) {
            RW | ACCESS | UPDATE
        } else {
            OW | UPDATE
        }),
        "bitfield" => {
            let mut i = 2;
            while i < args.len() {
                let rest = args.len() - i - 1;
                match args[i] {
                    a if is(a, "get") && rest >= 2 => i += 3,
                    a if is(a, "overflow") && rest >= 1 => i += 2,
                    // SET, INCRBY or a syntax error: assume it writes.
                    _ => return Some(RW | ACCESS | UPDATE),
                }
            }
            Some(RO | ACCESS)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// COMMAND INFO / DOCS replies.

/// A set of status replies, one per flag of `flags` named in `names`.
fn write_flags(out: &mut Reply, flags: u64, names: &[(u64, &str)]) {
    out.set(names.iter().filter(|(f, _)| flags & f != 0).count());
    for (_, name) in names.iter().filter(|(f, _)| flags & f != 0) {
        out.simple(name);
    }
}

fn write_str(out: &mut Reply, s: &str) {
    out.bulk(s.as_bytes());
}

/// One COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL categories,
/// tips, key specs, subcommands.
pub fn write_info(out: &mut Reply, spec: &CommandSpec) {
    out.array(10);
    write_str(out, spec.name);
    out.int(spec.arity as i64);
    write_flags(out, spec.flags, flag::NAMES);
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    out.set(spec.acl_categories.len());
    for cat in spec.acl_categories {
        out.raw(b"+@");
        out.raw(cat.as_bytes());
        out.raw(b"\r\n");
    }
    out.set(spec.tips.len());
    for tip in spec.tips {
        write_str(out, tip);
    }
    out.set(spec.key_specs.len());
    for ks in spec.key_specs {
        write_key_spec(out, ks);
    }
    if spec.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(spec.subcommands.len());
        for sub in spec.subcommands {
            write_info(out, sub);
        }
    }
}

fn write_key_spec(out: &mut Reply, ks: &KeySpec) {
    out.map(3 + ks.notes.is_some() as usize);
    if let Some(notes) = ks.notes {
        write_str(out, "notes");
        write_str(out, notes);
    }
    write_str(out, "flags");
    write_flags(out, ks.flags, key_flag::NAMES);
    write_str(out, "begin_search");
    out.map(2);
    write_str(out, "type");
    match ks.begin_search {
        BeginSearch::Index(index) => {
            write_str(out, "index");
            write_str(out, "spec");
            out.map(1);
            write_str(out, "index");
            out.int(index as i64);
        }
        BeginSearch::Keyword { keyword, startfrom } => {
            write_str(out, "keyword");
            write_str(out, "spec");
            out.map(2);
            write_str(out, "keyword");
            write_str(out, keyword);
            write_str(out, "startfrom");
            out.int(startfrom as i64);
        }
        BeginSearch::Unknown => {
            write_str(out, "unknown");
            write_str(out, "spec");
            out.map(0);
        }
    }
    write_str(out, "find_keys");
    out.map(2);
    write_str(out, "type");
    match ks.find_keys {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => {
            write_str(out, "range");
            write_str(out, "spec");
            out.map(3);
            for (name, v) in [("lastkey", lastkey), ("keystep", step), ("limit", limit)] {
                write_str(out, name);
                out.int(v as i64);
            }
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            step,
        } => {
            write_str(out, "keynum");
            write_str(out, "spec");
            out.map(3);
            for (name, v) in [
                ("keynumidx", keynumidx),
                ("firstkey", firstkey),
                ("keystep", step),
            ] {
                write_str(out, name);
                out.int(v as i64);
            }
        }
        FindKeys::Unknown => {
            write_str(out, "unknown");
            write_str(out, "spec");
            out.map(0);
        }
    }
}

/// The COMMAND DOCS value of one command: a map of summary, since, group, complexity,
/// doc_flags, deprecated_since, replaced_by, history, arguments and subcommands (the ones it
/// has).
pub fn write_docs(out: &mut Reply, spec: &CommandSpec) {
    let fields = [
        !spec.summary.is_empty(),
        !spec.since.is_empty(),
        true, // group
        !spec.complexity.is_empty(),
        !spec.doc_flags.is_empty(),
        spec.deprecated_since.is_some(),
        spec.replaced_by.is_some(),
        !spec.history.is_empty(),
        !spec.arguments.is_empty(),
        !spec.subcommands.is_empty(),
    ];
    out.map(fields.iter().filter(|&&f| f).count());
    for (name, value) in [
        ("summary", spec.summary),
        ("since", spec.since),
        ("group", spec.group),
        ("complexity", spec.complexity),
    ] {
        if !value.is_empty() || name == "group" {
            write_str(out, name);
            write_str(out, value);
        }
    }
    if !spec.doc_flags.is_empty() {
        write_str(out, "doc_flags");
        out.set(spec.doc_flags.len());
        for f in spec.doc_flags {
            out.simple(f);
        }
    }
    for (name, value) in [
        ("deprecated_since", spec.deprecated_since),
        ("replaced_by", spec.replaced_by),
    ] {
        if let Some(value) = value {
            write_str(out, name);
            write_str(out, value);
        }
    }
    if !spec.history.is_empty() {
        write_str(out, "history");
        out.set(spec.history.len());
        for (version, change) in spec.history {
            out.array(2);
            write_str(out, version);
            write_str(out, change);
        }
    }
    if !spec.arguments.is_empty() {
        write_str(out, "arguments");
        write_args(out, spec.arguments);
    }
    if !spec.subcommands.is_empty() {
        write_str(out, "subcommands");
        out.map(spec.subcommands.len());
        for sub in spec.subcommands {
            write_str(out, sub.name);
            write_docs(out, sub);
        }
    }
}

fn write_args(out: &mut Reply, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let container = matches!(a.kind, ArgType::OneOf | ArgType::Block);
        let optional = [
            a.key_spec_index >= 0,
            a.token.is_some(),
            a.summary.is_some(),
            a.since.is_some(),
            a.deprecated_since.is_some(),
            a.flags != 0,
        ];
        // name, type, and display_text or arguments
        out.map(3 + optional.iter().filter(|&&f| f).count());
        write_str(out, "name");
        write_str(out, a.name);
        write_str(out, "type");
        write_str(out, a.kind.as_str());
        if !container {
            write_str(out, "display_text");
            write_str(out, a.display_text.unwrap_or(a.name));
        }
        if a.key_spec_index >= 0 {
            write_str(out, "key_spec_index");
            out.int(a.key_spec_index as i64);
        }
        for (name, value) in [
            ("token", a.token),
            ("summary", a.summary),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ] {
            if let Some(value) = value {
                write_str(out, name);
                write_str(out, value);
            }
        }
        if a.flags != 0 {
            write_str(out, "flags");
            write_flags(out, a.flags as u64, arg_flag::NAMES);
        }
        if container {
            write_str(out, "arguments");
            write_args(out, a.subargs);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The COMMAND command.

const HELP: &[&str] = &[
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
];

/// COMMAND [COUNT | INFO [name ...] | DOCS [name ...] | LIST [FILTERBY MODULE m | ACLCAT c |
/// PATTERN p] | GETKEYS cmd [arg ...] | GETKEYSANDFLAGS cmd [arg ...] | HELP].
pub fn command_cmd(out: &mut Reply, args: &[&[u8]]) {
    let Some(&sub) = args.get(1) else {
        out.array(all().count());
        for spec in all() {
            write_info(out, spec);
        }
        return;
    };
    let Some(spec) = lookup(b"command").and_then(|c| lookup_sub(c, sub)) else {
        let name = String::from_utf8_lossy(&sub[..sub.len().min(128)]);
        let cmd = String::from_utf8_lossy(args[0]).to_uppercase();
        out.error(&format!("ERR unknown subcommand '{name}'. Try {cmd} HELP."));
        return;
    };
    if !arity_ok(spec.arity, args.len()) {
        out.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            spec.name
        ));
        return;
    }
    match spec.name {
        "command|count" => out.int(all().count() as i64),
        "command|info" if args.len() == 2 => {
            out.array(all().count());
            for spec in all() {
                write_info(out, spec);
            }
        }
        "command|info" => {
            out.array(args.len() - 2);
            for name in &args[2..] {
                match lookup_path(name) {
                    Some(spec) => write_info(out, spec),
                    None => out.null(),
                }
            }
        }
        "command|docs" => {
            let specs: Vec<_> = if args.len() == 2 {
                all().collect()
            } else {
                args[2..].iter().filter_map(|n| lookup_path(n)).collect()
            };
            out.map(specs.len());
            for spec in specs {
                write_str(out, spec.name);
                write_docs(out, spec);
            }
        }
        "command|list" => command_list(out, &args[2..]),
        "command|getkeys" => command_getkeys(out, &args[2..], false),
        "command|getkeysandflags" => command_getkeys(out, &args[2..], true),
        _ => {
            let mut cmd = String::from_utf8_lossy(args[0]).to_uppercase();
            cmd.push_str(" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
            out.array(HELP.len() + 3);
            out.simple(&cmd);
            for line in HELP {
                out.simple(line);
            }
            out.simple("HELP");
            out.simple("    Print this help.");
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]: names of commands and
/// subcommands.
fn command_list(out: &mut Reply, opts: &[&[u8]]) {
    enum Filter<'a> {
        All,
        Module,
        AclCat(&'a [u8]),
        Pattern(&'a [u8]),
    }
    let filter = match opts {
        [] => Filter::All,
        [by, kind, arg] if by.eq_ignore_ascii_case(b"filterby") => {
            match kind.to_ascii_lowercase().as_slice() {
                b"module" => Filter::Module,
                b"aclcat" => Filter::AclCat(arg),
                b"pattern" => Filter::Pattern(arg),
                _ => return out.error(shard::reply::err::SYNTAX),
            }
        }
        _ => return out.error(shard::reply::err::SYNTAX),
    };
    let keep = |spec: &CommandSpec| match filter {
        Filter::All => true,
        // No modules here.
        Filter::Module => false,
        Filter::AclCat(cat) => spec
            .acl_categories
            .iter()
            .any(|c| c.as_bytes().eq_ignore_ascii_case(cat)),
        Filter::Pattern(p) => shard::glob::glob_match(p, spec.name.as_bytes(), true),
    };
    let names: Vec<&str> = all()
        .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands))
        .filter(|spec| keep(spec))
        .map(|spec| spec.name)
        .collect();
    out.array(names.len());
    for name in names {
        write_str(out, name);
    }
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS: the keys of the command in `target`.
fn command_getkeys(out: &mut Reply, target: &[&[u8]], with_flags: bool) {
    let Some(spec) = resolve(target) else {
        return out.error("ERR Invalid command specified");
    };
    if !spec
        .key_specs
        .iter()
        .any(|ks| ks.flags & key_flag::NOT_KEY == 0)
    {
        return out.error("ERR The command has no key arguments");
    }
    if !arity_ok(spec.arity, target.len()) {
        return out.error("ERR Invalid number of arguments specified for command");
    }
    let variable = variable_key_flags(spec, target);
    let mut keys = Vec::new();
    let found = find_keys(spec, target, |pos, flags| {
        keys.push((pos, variable.unwrap_or(flags)))
    });
    if found.is_err() || keys.is_empty() {
        if spec.flags & flag::NO_MANDATORY_KEYS != 0 {
            out.array(0);
        } else {
            out.error(INVALID_ARGS);
        }
        return;
    }
    out.array(keys.len());
    for (pos, flags) in keys {
        if with_flags {
            out.array(2);
            out.bulk(target[pos]);
            write_flags(out, flags, key_flag::NAMES);
        } else {
            out.bulk(target[pos]);
        }
    }
}

#[cfg(test)]
mod tests;
