//! ACL users and their rules, as Redis 7.2's `acl.c` models them: pure data, no I/O.
//!
//! A user has flags (on/off, nopass, sanitize-payload), password hashes and selectors: the
//! root selector (the rules given outside parentheses) and any number of `(...)` selectors.
//! A selector allows commands (a bitmap over every command and subcommand, plus allowed
//! first arguments such as `+select|0`), key patterns with read/write permissions and
//! channel patterns. A command runs when one selector allows all of it.
//!
//! The command rules are kept as Redis 7.2 keeps them (`command_rules`): the rules in the
//! order they were given, a later rule for the same command or category replacing an
//! earlier one, so ACL LIST and GETUSER show them back as typed.

use super::sha256;
use crate::command::meta::{self, key_flag, CommandSpec};
use shard::glob::glob_match;
use std::sync::OnceLock;

/// Key pattern permissions (`%R~`, `%W~`, `~` = both).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const ALL: u8 = READ | WRITE;

/// Why a rule was refused (Redis' errno values), with Redis' message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// EINVAL
    Syntax,
    /// ENOENT
    UnknownCommand,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSubcommand,
    /// EALREADY (configuration files)
    Duplicate,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and \
                 does not have any effect. Try 'resetkeys' to start with an empty list of \
                 patterns"
            }
            RuleError::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid \
                 and does not have any effect. Try 'resetchannels' to start with an empty list \
                 of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase \
                 hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
            RuleError::Duplicate => {
                "Duplicate user found. A user can only be defined once in config files"
            }
        }
    }
}

/// Why a command was denied, ordered as Redis orders `ACL_DENIED_*` (the most relevant
/// reason of all selectors is the highest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command,
    Key,
    Auth,
    Channel,
}

impl Denied {
    pub fn reason(self) -> &'static str {
        match self {
            Denied::Command => "command",
            Denied::Key => "key",
            Denied::Auth => "auth",
            Denied::Channel => "channel",
        }
    }
}

/// Every command and subcommand gets a bit (Redis' command ids).
struct Ids {
    by_name: ahash::AHashMap<&'static str, usize>,
    count: usize,
}

fn ids() -> &'static Ids {
    static IDS: OnceLock<Ids> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut by_name = ahash::AHashMap::new();
        for spec in meta::all().flat_map(|c| std::iter::once(c).chain(c.subcommands)) {
            let n = by_name.len();
            by_name.insert(spec.name, n);
        }
        let count = by_name.len();
        Ids { by_name, count }
    })
}

fn id_of(spec: &CommandSpec) -> usize {
    ids().by_name[spec.name]
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

impl KeyPattern {
    fn describe(&self, out: &mut String) {
        out.push_str(match self.flags {
            READ => "%R~",
            WRITE => "%W~",
            _ => "~",
        });
        out.push_str(&String::from_utf8_lossy(&self.pattern));
    }
}

/// One set of permissions: the root selector or a `(...)` one.
#[derive(Clone, Debug)]
pub struct Selector {
    allkeys: bool,
    allchannels: bool,
    /// Every command, without looking at the bitmap (+@all, until a command is removed).
    allcommands: bool,
    /// Set by +@all, cleared only by -@all: ACL LIST starts with +@all rather than -@all.
    future: bool,
    allowed: Vec<u64>,
    /// Command id -> first arguments allowed while the command itself is not.
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    keys: Vec<KeyPattern>,
    channels: Vec<Vec<u8>>,
    /// The command rules as given (`+get`, `-@write`, `+select|0`), without the leading
    /// +@all / -@all.
    rules: Vec<String>,
}

impl Selector {
    fn new(allchannels: bool) -> Selector {
        Selector {
            allkeys: false,
            allchannels,
            allcommands: false,
            future: false,
            allowed: vec![0; ids().count.div_ceil(64)],
            firstargs: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
            rules: Vec::new(),
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.allcommands = false;
        }
    }

    /// Allows or denies a command and, for a container, all its subcommands.
    fn change(&mut self, spec: &CommandSpec, on: bool) {
        let id = id_of(spec);
        self.set_bit(id, on);
        self.firstargs.retain(|(i, _)| *i != id);
        for sub in spec.subcommands {
            self.set_bit(id_of(sub), on);
        }
    }

    fn change_category(&mut self, specs: &[CommandSpec], cat: &str, on: bool) {
        for spec in specs {
            if spec.acl_categories.contains(&cat) {
                self.change(spec, on);
            }
            self.change_category(spec.subcommands, cat, on);
        }
    }

    /// Records a command rule, replacing earlier rules for the same command (and its
    /// subcommands or first arguments), as Redis' ACLUpdateCommandRules.
    fn update_rules(&mut self, rule: &str, allow: bool) {
        let rule = rule.to_ascii_lowercase();
        self.rules.retain(|r| {
            let body = &r[1..];
            !(body == rule
                || body
                    .strip_prefix(rule.as_str())
                    .is_some_and(|rest| rest.starts_with('|')))
        });
        self.rules
            .push(format!("{}{rule}", if allow { '+' } else { '-' }));
    }

    /// Applies one selector rule (Redis' ACLSetSelector).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |s: &str| op.eq_ignore_ascii_case(s.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.allkeys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.allowed.iter_mut().for_each(|w| *w = u64::MAX);
            self.allcommands = true;
            self.future = true;
            self.rules.clear();
            self.firstargs.clear();
        } else if is("nocommands") || is("-@all") {
            self.allowed.iter_mut().for_each(|w| *w = 0);
            self.allcommands = false;
            self.future = false;
            self.rules.clear();
            self.firstargs.clear();
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::KeyAfterAll);
            }
            let mut flags = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                loop {
                    match op.get(offset) {
                        Some(b'R' | b'r') if flags & READ == 0 => flags |= READ,
                        Some(b'W' | b'w') if flags & WRITE == 0 => flags |= WRITE,
                        Some(b'~') => {
                            offset += 1;
                            break;
                        }
                        // Redis stops at the end of the rule with what it has read.
                        None => break,
                        _ => return Err(RuleError::Syntax),
                    }
                    offset += 1;
                }
                if flags == 0 {
                    // Redis would store a pattern without permissions (and later abort
                    // describing it): refused instead.
                    return Err(RuleError::Syntax);
                }
            } else {
                flags = ALL;
            }
            let pattern = &op[offset..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|k| k.pattern == pattern) {
                Some(k) => k.flags |= flags,
                None => self.keys.push(KeyPattern {
                    flags,
                    pattern: pattern.to_vec(),
                }),
            }
            self.allkeys = false;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.allchannels = false;
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let allow = op[0] == b'+';
            let cat = std::str::from_utf8(&op[2..])
                .ok()
                .map(str::to_ascii_lowercase)
                .and_then(|c| meta::ACL_CATEGORIES.iter().find(|k| **k == c).copied())
                .ok_or(RuleError::UnknownCommand)?;
            for family in meta::families() {
                self.change_category(family, cat, allow);
            }
            self.update_rules(&format!("@{cat}"), allow);
        } else if op[0] == b'+' {
            let name = &op[1..];
            match name.iter().rposition(|&c| c == b'|') {
                None => {
                    let spec = meta::lookup(name).ok_or(RuleError::UnknownCommand)?;
                    self.change(spec, true);
                    self.update_rules(spec.name, true);
                }
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let spec = meta::lookup_path(base).ok_or(RuleError::UnknownCommand)?;
                    if spec.name.contains('|') {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if spec.subcommands.is_empty() {
                        // A first argument of an otherwise denied command (SELECT|0).
                        let id = id_of(spec);
                        match self.firstargs.iter_mut().find(|(i, _)| *i == id) {
                            Some((_, args)) => {
                                if !args.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                                    args.push(sub.to_vec());
                                }
                            }
                            None => self.firstargs.push((id, vec![sub.to_vec()])),
                        }
                        let rule = format!("{}|{}", spec.name, String::from_utf8_lossy(sub));
                        self.update_rules(&rule, true);
                    } else {
                        let sub = meta::lookup_sub(spec, sub).ok_or(RuleError::UnknownCommand)?;
                        self.change(sub, true);
                        self.update_rules(sub.name, true);
                    }
                }
            }
        } else if op[0] == b'-' {
            let spec = meta::lookup_path(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change(spec, false);
            self.update_rules(spec.name, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// The command rules as ACL LIST and GETUSER show them.
    pub fn describe_commands(&self) -> String {
        let mut s = String::from(if self.future { "+@all" } else { "-@all" });
        for r in &self.rules {
            s.push(' ');
            s.push_str(r);
        }
        s
    }

    /// The key patterns as GETUSER shows them (`~*` for allkeys).
    pub fn describe_keys(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        let mut s = String::new();
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            k.describe(&mut s);
        }
        s
    }

    /// The channel patterns as GETUSER shows them.
    pub fn describe_channels(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        self.channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The whole selector in rule form (Redis' ACLDescribeSelector).
    fn describe(&self) -> String {
        let mut s = String::new();
        if self.allkeys {
            s.push_str("~* ");
        } else {
            for k in &self.keys {
                k.describe(&mut s);
                s.push(' ');
            }
        }
        if self.allchannels {
            s.push_str("&* ");
        } else {
            s.push_str("resetchannels ");
            for c in &self.channels {
                s.push('&');
                s.push_str(&String::from_utf8_lossy(c));
                s.push(' ');
            }
        }
        s.push_str(&self.describe_commands());
        s
    }

    fn unrestricted(&self) -> bool {
        self.allcommands && self.allkeys && self.allchannels
    }

    /// Redis' ACLSelectorCheckCmd: Ok, or why not and at which argument.
    fn check(
        &self,
        spec: &CommandSpec,
        args: &[&[u8]],
        keys: &Keys,
    ) -> Result<(), (Denied, usize)> {
        if !self.allcommands && spec.flags & meta::flag::NO_AUTH == 0 {
            let id = id_of(spec);
            if !self.bit(id) {
                let idx = if spec.name.contains('|') { 2 } else { 1 };
                let first_ok = args.get(idx).is_some_and(|a| {
                    self.firstargs
                        .iter()
                        .find(|(i, _)| *i == id)
                        .is_some_and(|(_, allowed)| {
                            allowed.iter().any(|f| f.eq_ignore_ascii_case(a))
                        })
                });
                if !first_ok {
                    return Err((Denied::Command, 0));
                }
            }
        }
        if !self.allkeys {
            for &(pos, flags) in keys.get(spec, args) {
                if !self.key_allowed(args[pos], flags) {
                    return Err((Denied::Key, pos));
                }
            }
        }
        if !self.allchannels {
            let (from, literal) = match spec.name {
                "publish" | "spublish" => (1..2.min(args.len()), false),
                "subscribe" | "ssubscribe" => (1..args.len(), false),
                "psubscribe" => (1..args.len(), true),
                _ => (0..0, false),
            };
            for pos in from {
                if !self.channel_allowed(args[pos], literal) {
                    return Err((Denied::Channel, pos));
                }
            }
        }
        Ok(())
    }

    /// Redis' ACLSelectorCheckKey: the key spec's flags say which permission it needs.
    fn key_allowed(&self, key: &[u8], spec_flags: u64) -> bool {
        if self.allkeys {
            return true;
        }
        let mut need = 0;
        if spec_flags & key_flag::ACCESS != 0 {
            need |= READ;
        }
        if spec_flags & (key_flag::INSERT | key_flag::DELETE | key_flag::UPDATE) != 0 {
            need |= WRITE;
        }
        self.keys
            .iter()
            .any(|p| p.flags & need == need && glob_match(&p.pattern, key, false))
    }

    fn channel_allowed(&self, channel: &[u8], literal: bool) -> bool {
        self.allchannels
            || self.channels.iter().any(|p| {
                if literal {
                    p == channel
                } else {
                    glob_match(p, channel, false)
                }
            })
    }
}

/// A command's keys with their key spec flags, found once for all selectors.
#[derive(Default)]
struct Keys(OnceLock<Vec<(usize, u64)>>);

impl Keys {
    fn get(&self, spec: &CommandSpec, args: &[&[u8]]) -> &[(usize, u64)] {
        self.0
            .get_or_init(|| meta::key_positions_with_flags(spec, args).unwrap_or_default())
    }
}

/// Spaces or NUL bytes: not allowed in user names and patterns.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c.is_ascii_whitespace() || c == 0 || c == 0x0b)
}

/// `sanitize-payload` / `skip-sanitize-payload` (only shown; RESTORE is not offered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sanitize {
    Unset,
    Sanitize,
    Skip,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    pub sanitize: Sanitize,
    /// SHA-256 hex of each password, in the order added.
    pub passwords: Vec<String>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
    /// Some selector allows every command, key and channel: nothing to check.
    pub unrestricted: bool,
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no passwords, no permissions;
    /// `allchannels` per `acl-pubsub-default`.
    pub fn new(name: &[u8], allchannels: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: Sanitize::Unset,
            passwords: Vec::new(),
            selectors: vec![Selector::new(allchannels)],
            unrestricted: false,
        }
    }

    /// The `default` user: on, nopass, ~* &* +@all.
    pub fn default_user() -> User {
        let mut u = User::new(b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            u.apply(op.as_bytes(), false)
                .expect("the default user's rules are valid");
        }
        u
    }

    pub fn name_str(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// Applies one rule (Redis' ACLSetUser); `allchannels` is `acl-pubsub-default`, for
    /// `reset` and new selectors.
    pub fn apply(&mut self, op: &[u8], allchannels: bool) -> Result<(), RuleError> {
        let is = |s: &str| op.eq_ignore_ascii_case(s.as_bytes());
        let result = if op.is_empty() {
            Ok(())
        } else if is("on") {
            self.enabled = true;
            Ok(())
        } else if is("off") {
            self.enabled = false;
            Ok(())
        } else if is("skip-sanitize-payload") {
            self.sanitize = Sanitize::Skip;
            Ok(())
        } else if is("sanitize-payload") {
            self.sanitize = Sanitize::Sanitize;
            Ok(())
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
            Ok(())
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
            Ok(())
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                sha256::hex(&op[1..])
            } else {
                valid_hash(&op[1..])?
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
            Ok(())
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                sha256::hex(&op[1..])
            } else {
                valid_hash(&op[1..])?
            };
            match self.passwords.iter().position(|p| *p == hash) {
                Some(i) => {
                    self.passwords.remove(i);
                    Ok(())
                }
                None => Err(RuleError::NoSuchPassword),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut sel = Selector::new(allchannels);
            let inner = &op[1..op.len() - 1];
            for part in inner
                .split(|c| c.is_ascii_whitespace())
                .filter(|p| !p.is_empty())
            {
                sel.apply(part)?;
            }
            self.selectors.push(sel);
            Ok(())
        } else if is("clearselectors") {
            self.selectors.truncate(1);
            Ok(())
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.apply(b"resetkeys")?;
            root.apply(b"resetchannels")?;
            if allchannels {
                root.apply(b"allchannels")?;
            }
            self.enabled = false;
            self.sanitize = Sanitize::Sanitize;
            self.selectors.truncate(1);
            self.selectors[0].apply(b"-@all")
        } else {
            self.selectors[0].apply(op)
        };
        self.unrestricted = self.selectors.iter().any(Selector::unrestricted);
        result
    }

    /// The user in rule form, as ACL LIST shows it after `user <name> ` (Redis'
    /// ACLDescribeUser).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for flag in self.flags() {
            s.push_str(flag);
            s.push(' ');
        }
        for p in &self.passwords {
            s.push('#');
            s.push_str(p);
            s.push(' ');
        }
        for (i, sel) in self.selectors.iter().enumerate() {
            if i == 0 {
                s.push_str(&sel.describe());
            } else {
                s.push_str(" (");
                s.push_str(&sel.describe());
                s.push(')');
            }
        }
        s
    }

    /// The flags GETUSER lists, in Redis' order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            Sanitize::Unset => {}
            Sanitize::Skip => f.push("skip-sanitize-payload"),
            Sanitize::Sanitize => f.push("sanitize-payload"),
        }
        f
    }

    /// Whether `pass` authenticates this user (an enabled user only).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hash = sha256::hex(pass);
        self.passwords.iter().fold(false, |ok, p| {
            ok | constant_time_eq(p.as_bytes(), hash.as_bytes())
        })
    }

    /// Redis' ACLCheckAllUserCommandPerm: `args[0]` is the command name, `spec` the command
    /// (the subcommand for a container). Err: the most relevant reason over all selectors
    /// and the argument it concerns.
    pub fn check(&self, spec: &CommandSpec, args: &[&[u8]]) -> Result<(), (Denied, usize)> {
        if self.unrestricted {
            return Ok(());
        }
        let keys = Keys::default();
        let mut worst = (Denied::Command, 0);
        for sel in &self.selectors {
            match sel.check(spec, args, &keys) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if e.0 > worst.0 || (e.0 == worst.0 && e.1 > worst.1) {
                        worst = e;
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether a channel (or, `literal`, a pattern as PSUBSCRIBE names it) is allowed.
    pub fn channel_allowed(&self, channel: &[u8], literal: bool) -> bool {
        self.selectors
            .iter()
            .any(|s| s.channel_allowed(channel, literal))
    }
}

fn valid_hash(h: &[u8]) -> Result<String, RuleError> {
    if h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(String::from_utf8_lossy(h).into_owned())
    } else {
        Err(RuleError::BadHash)
    }
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Joins selector definitions spread over several arguments (`(~x` `+get)`) into one, as
/// Redis' ACLMergeSelectorArguments. Err: the index of an unclosed selector's first argument.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, &op) in args.iter().enumerate() {
        if let Some((_, sel)) = &mut open {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((i, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((i, _)) => Err(i),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> Result<User, (String, RuleError)> {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false)
                .map_err(|e| (r.to_string(), e))?;
        }
        Ok(u)
    }

    fn check(u: &User, args: &[&str]) -> Result<(), (Denied, usize)> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let spec = meta::resolve(&args).unwrap();
        u.check(spec, &args)
    }

    #[test]
    fn default_user() {
        let u = User::default_user();
        assert_eq!(u.describe(), "on nopass ~* &* +@all");
        assert!(u.unrestricted && u.password_ok(b"anything"));
    }

    #[test]
    fn new_user_and_reset() {
        let u = user(&[]).unwrap();
        assert_eq!(u.describe(), "off resetchannels -@all");
        let u = user(&["on", ">p1", "~*", "+@all", "reset"]).unwrap();
        assert_eq!(u.describe(), "off sanitize-payload resetchannels -@all");
        let mut u = User::new(b"u", true);
        u.apply(b"reset", true).unwrap();
        assert_eq!(u.describe(), "off sanitize-payload &* -@all");
    }

    #[test]
    fn rules_are_described_as_given() {
        let u = user(&[
            "on",
            ">p1",
            "~foo",
            "%R~bar",
            "%W~baz",
            "%RW~qux",
            "&ch",
            "+get",
            "+@read",
            "-set",
            "+select|0",
            "+config|get",
        ])
        .unwrap();
        assert_eq!(
            u.describe(),
            "on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~foo %R~bar \
             %W~baz ~qux resetchannels &ch -@all +get +@read -set +select|0 +config|get"
        );
        // A later rule for the same command replaces the earlier one, a container's rule
        // its subcommands'.
        let u = user(&[
            "+@all",
            "-get",
            "-config|set",
            "+GET",
            "+config",
            "-@READ",
            "+@read",
        ])
        .unwrap();
        assert_eq!(
            u.selectors[0].describe_commands(),
            "+@all +get +config +@read"
        );
        let u = user(&["+get", "allcommands"]).unwrap();
        assert_eq!(u.selectors[0].describe_commands(), "+@all");
        let u = user(&["+get", "nocommands", "+set"]).unwrap();
        assert_eq!(u.selectors[0].describe_commands(), "-@all +set");
        // Same pattern twice: one entry with both permissions.
        let u = user(&["%R~k", "%W~k"]).unwrap();
        assert_eq!(u.selectors[0].describe_keys(), "~k");
    }

    #[test]
    fn rule_errors() {
        let e = |rules: &[&str]| user(rules).unwrap_err();
        assert_eq!(e(&["bad"]).1, RuleError::Syntax);
        assert_eq!(e(&["+nope"]).1, RuleError::UnknownCommand);
        assert_eq!(e(&["+@nope"]).1, RuleError::UnknownCommand);
        assert_eq!(e(&["~*", "~a"]).1, RuleError::KeyAfterAll);
        assert_eq!(e(&["allkeys", "%R~a"]).1, RuleError::KeyAfterAll);
        assert_eq!(e(&["&*", "&a"]).1, RuleError::ChannelAfterAll);
        assert_eq!(e(&["#abc"]).1, RuleError::BadHash);
        assert_eq!(e(&["<nope"]).1, RuleError::NoSuchPassword);
        assert_eq!(e(&["+config|get|x"]).1, RuleError::FirstArgOfSubcommand);
        assert_eq!(e(&["-select|0"]).1, RuleError::UnknownCommand);
        assert_eq!(e(&["+select|"]).1, RuleError::Syntax);
        assert_eq!(e(&["+config|nope"]).1, RuleError::UnknownCommand);
        assert_eq!(e(&["%X~a"]).1, RuleError::Syntax);
        assert_eq!(e(&["%RR~a"]).1, RuleError::Syntax);
        assert_eq!(e(&["(~a +nope)"]).1, RuleError::UnknownCommand);
        assert_eq!(RuleError::Syntax.message(), "Syntax error");
    }

    #[test]
    fn passwords() {
        let mut u = user(&["on", ">a", ">b", ">a"]).unwrap();
        assert_eq!(u.passwords.len(), 2);
        assert!(u.password_ok(b"a") && u.password_ok(b"b") && !u.password_ok(b"c"));
        u.apply(b"<a", false).unwrap();
        assert!(!u.password_ok(b"a"));
        let hash = sha256::hex(b"c");
        u.apply(format!("#{hash}").as_bytes(), false).unwrap();
        assert!(u.password_ok(b"c"));
        u.apply(format!("!{hash}").as_bytes(), false).unwrap();
        assert!(!u.password_ok(b"c"));
        u.apply(b"nopass", false).unwrap();
        assert!(u.password_ok(b"whatever") && u.passwords.is_empty());
        u.apply(b"off", false).unwrap();
        assert!(!u.password_ok(b"whatever"));
        u.apply(b"on", false).unwrap();
        u.apply(b"resetpass", false).unwrap();
        assert!(!u.password_ok(b"whatever"));
    }

    #[test]
    fn command_checks() {
        let u = user(&["+@read", "-get", "+select|0", "+config|get", "~*"]).unwrap();
        assert!(check(&u, &["strlen", "k"]).is_ok());
        assert_eq!(check(&u, &["get", "k"]), Err((Denied::Command, 0)));
        assert_eq!(check(&u, &["set", "k", "v"]), Err((Denied::Command, 0)));
        assert!(check(&u, &["select", "0"]).is_ok());
        assert!(check(&u, &["SELECT", "1"]).is_err());
        assert!(check(&u, &["config", "get", "x"]).is_ok());
        assert!(check(&u, &["config", "set", "x", "y"]).is_err());
        // AUTH and HELLO (no_auth) are always allowed.
        assert!(check(&u, &["auth", "p"]).is_ok());
        let u = user(&["+@all", "-config", "+config|get", "allkeys"]).unwrap();
        assert!(check(&u, &["config", "get", "x"]).is_ok());
        assert!(check(&u, &["config", "set", "x", "y"]).is_err());
        assert!(!u.unrestricted);
    }

    #[test]
    fn key_checks_follow_the_key_specs() {
        let u = user(&["+@all", "%R~r*", "%W~w*", "~rw*"]).unwrap();
        assert!(check(&u, &["get", "r1"]).is_ok());
        assert_eq!(check(&u, &["get", "w1"]), Err((Denied::Key, 1)));
        assert!(check(&u, &["set", "w1", "v"]).is_ok());
        assert!(check(&u, &["set", "r1", "v"]).is_err());
        // SET ... GET reads too.
        assert!(check(&u, &["set", "w1", "v", "GET"]).is_err());
        assert!(check(&u, &["set", "rw1", "v", "GET"]).is_ok());
        // INCR reads and writes.
        assert!(check(&u, &["incr", "w1"]).is_err());
        // LMOVE reads and writes its source, writes its destination.
        assert!(check(&u, &["lmove", "rw1", "w2", "LEFT", "LEFT"]).is_ok());
        assert_eq!(
            check(&u, &["lmove", "rw1", "r2", "LEFT", "LEFT"]),
            Err((Denied::Key, 2))
        );
        assert_eq!(check(&u, &["mget", "r1", "x", "r2"]), Err((Denied::Key, 2)));
        // EVAL's declared keys.
        assert!(check(&u, &["eval", "return 1", "1", "x"]).is_err());
        assert!(check(&u, &["eval", "return 1", "1", "rw1"]).is_ok());
    }

    #[test]
    fn channel_checks() {
        let u = user(&["+@all", "~*", "resetchannels", "&news.*", "&lit"]).unwrap();
        assert!(check(&u, &["publish", "news.a", "m"]).is_ok());
        assert_eq!(check(&u, &["publish", "x", "m"]), Err((Denied::Channel, 1)));
        assert!(check(&u, &["subscribe", "news.a", "lit"]).is_ok());
        assert_eq!(
            check(&u, &["subscribe", "lit", "x"]),
            Err((Denied::Channel, 2))
        );
        // A pattern subscription needs the literal pattern.
        assert!(check(&u, &["psubscribe", "news.*"]).is_ok());
        assert!(check(&u, &["psubscribe", "news.a*"]).is_err());
        assert!(check(&u, &["spublish", "lit", "m"]).is_ok());
        // Unsubscribing is always allowed.
        assert!(check(&u, &["unsubscribe", "x"]).is_ok());
    }

    #[test]
    fn selectors() {
        let u = user(&["+get", "~a*", "(+set ~b*)", "(+@all %R~c*)"]).unwrap();
        assert_eq!(
            u.describe(),
            "off ~a* resetchannels -@all +get (~b* resetchannels -@all +set) \
             (%R~c* resetchannels +@all)"
        );
        assert!(check(&u, &["get", "a1"]).is_ok());
        assert!(check(&u, &["set", "b1", "v"]).is_ok());
        assert!(check(&u, &["get", "c1"]).is_ok());
        // The most relevant error: a key error beats a command error.
        assert_eq!(check(&u, &["set", "a1", "v"]), Err((Denied::Key, 1)));
        assert_eq!(check(&u, &["get", "zz"]), Err((Denied::Key, 1)));
        let mut u = u;
        u.apply(b"clearselectors", false).unwrap();
        assert_eq!(u.selectors.len(), 1);
        assert!(check(&u, &["set", "b1", "v"]).is_err());
    }

    #[test]
    fn merging_selector_arguments() {
        let args: Vec<&[u8]> = vec![b"on", b"(~a", b"+get)", b"(+set)", b"+del"];
        assert_eq!(
            merge_selector_args(&args).unwrap(),
            vec![
                b"on".to_vec(),
                b"(~a +get)".to_vec(),
                b"(+set)".to_vec(),
                b"+del".to_vec()
            ]
        );
        let args: Vec<&[u8]> = vec![b"on", b"(~a", b"+get"];
        assert_eq!(merge_selector_args(&args), Err(1));
    }
}
