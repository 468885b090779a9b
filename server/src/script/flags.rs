//! Script and function flags, and the `#!` first lines that declare them: EVAL's
//! `#!lua flags=no-writes,allow-oom` shebang and FUNCTION LOAD's `#!lua name=mylib`
//! metadata (Redis 7.2's `evalExtractShebangFlags` and `functionExtractLibMetaData`).

/// Flags of a script (from its shebang) or of a function (from `redis.register_function`),
/// which the server applies before and while running it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ScriptFlags(u8);

impl ScriptFlags {
    /// `no-writes`: the script only reads (it may run on read-only replicas, via *_RO).
    pub const NO_WRITES: ScriptFlags = ScriptFlags(1);
    /// `allow-oom`: the script may run when memory is over `maxmemory`.
    pub const ALLOW_OOM: ScriptFlags = ScriptFlags(2);
    /// `allow-stale`: the script may run on a stale replica.
    pub const ALLOW_STALE: ScriptFlags = ScriptFlags(4);
    /// `no-cluster`: the script refuses to run in cluster mode.
    pub const NO_CLUSTER: ScriptFlags = ScriptFlags(8);
    /// `allow-cross-slot-keys`: the script may access keys of several slots.
    pub const ALLOW_CROSS_SLOT_KEYS: ScriptFlags = ScriptFlags(16);
    /// An EVAL script without a shebang: Redis applies its pre-7.0 rules to it (flags are
    /// derived from the commands it runs, not declared).
    pub const EVAL_COMPAT_MODE: ScriptFlags = ScriptFlags(32);

    /// No flag.
    pub const fn empty() -> ScriptFlags {
        ScriptFlags(0)
    }

    /// True if every flag of `other` is set.
    pub const fn contains(self, other: ScriptFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of both flag sets.
    pub const fn union(self, other: ScriptFlags) -> ScriptFlags {
        ScriptFlags(self.0 | other.0)
    }

    /// Shorthand for `contains(NO_WRITES)`.
    pub const fn no_writes(self) -> bool {
        self.contains(Self::NO_WRITES)
    }

    /// Shorthand for `contains(EVAL_COMPAT_MODE)`.
    pub const fn eval_compat_mode(self) -> bool {
        self.contains(Self::EVAL_COMPAT_MODE)
    }

    /// The names of the declared flags in Redis' order (as FUNCTION LIST shows them).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        FLAG_NAMES
            .iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
    }
}

/// Redis' `scripts_flags_def`, in its order.
const FLAG_NAMES: [(ScriptFlags, &str); 5] = [
    (ScriptFlags::NO_WRITES, "no-writes"),
    (ScriptFlags::ALLOW_OOM, "allow-oom"),
    (ScriptFlags::ALLOW_STALE, "allow-stale"),
    (ScriptFlags::NO_CLUSTER, "no-cluster"),
    (ScriptFlags::ALLOW_CROSS_SLOT_KEYS, "allow-cross-slot-keys"),
];

/// The flag a name stands for; `nocase` for function flags (Redis compares those with
/// strcasecmp, shebang flags with strcmp).
pub(crate) fn flag_by_name(name: &[u8], nocase: bool) -> Option<ScriptFlags> {
    FLAG_NAMES
        .iter()
        .find(|(_, n)| {
            if nocase {
                n.as_bytes().eq_ignore_ascii_case(name)
            } else {
                n.as_bytes() == name
            }
        })
        .map(|(f, _)| *f)
}

/// The bytes of `s` up to its first NUL: what C string functions see.
pub(crate) fn c_str(s: &[u8]) -> &[u8] {
    &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
}

/// `sdssplitargs` on the first line (up to `end`), None when quotes are unbalanced.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = c_str(line);
    let mut out = Vec::new();
    let mut spans = smallvec::SmallVec::new();
    crate::resp::split_quoted(line, &mut out, &mut spans)?;
    Some(
        spans
            .iter()
            .map(|&(s, e)| out[s as usize..e as usize].to_vec())
            .collect(),
    )
}

/// Where the `#!` first line ends (the index of its `\n`), None if there is no line feed
/// before the end of the body as a C string.
fn first_line_end(body: &[u8]) -> Option<usize> {
    c_str(body).iter().position(|&b| b == b'\n')
}

/// The flags an EVAL script declares and the length of its shebang line (0 without one),
/// or the error reply text (`ERR ...`).
pub(crate) fn eval_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::EVAL_COMPAT_MODE, 0));
    }
    let Some(end) = first_line_end(body) else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = match split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("ERR Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = ScriptFlags::empty();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        // sdssplitlen: an empty list has no element, otherwise every comma separates.
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match flag_by_name(name, false) {
                Some(f) => flags = flags.union(f),
                None => {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(c_str(name))
                    ))
                }
            }
        }
    }
    Ok((flags, end))
}

/// A library's `#!<engine> name=<name>` metadata line.
pub(crate) struct LibraryMeta {
    /// The engine name as written after `#!`.
    pub(crate) engine: Vec<u8>,
    /// The library name.
    pub(crate) name: Vec<u8>,
    /// Where the code after the metadata line starts (at its line feed, so line numbers
    /// stay right).
    pub(crate) code_start: usize,
}

/// Parses a library's metadata line; the error is the reply text (`ERR ...`).
pub(crate) fn library_meta(code: &[u8]) -> Result<LibraryMeta, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = first_line_end(code) else {
        return Err("ERR Invalid library metadata".into());
    };
    let parts = match split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("ERR Invalid library metadata".into()),
    };
    let engine = parts[0][2.min(parts[0].len())..].to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "ERR Invalid metadata value given: {}",
            String::from_utf8_lossy(c_str(part))
        ));
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    Ok(LibraryMeta {
        engine,
        name,
        code_start: end,
    })
}

/// Redis' `functionsVerifyName`: letters, digits and underscores, at least one.
pub(crate) fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_flags() {
        assert_eq!(
            eval_shebang(b"return 1"),
            Ok((ScriptFlags::EVAL_COMPAT_MODE, 0))
        );
        let (f, len) = eval_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.no_writes() && f.contains(ScriptFlags::ALLOW_OOM) && !f.eval_compat_mode());
        assert_eq!(len, 31);
        assert_eq!(
            eval_shebang(b"#!lua\nreturn 1"),
            Ok((ScriptFlags::empty(), 5))
        );
        assert_eq!(
            eval_shebang(b"#!lua flags=\nx"),
            Ok((ScriptFlags::empty(), 12))
        );
        assert_eq!(
            eval_shebang(b"#!lua flags=foo\n").unwrap_err(),
            "ERR Unexpected flag in script shebang: foo"
        );
        assert_eq!(
            eval_shebang(b"#!lua flags=no-writes,,x\n").unwrap_err(),
            "ERR Unexpected flag in script shebang: "
        );
        assert_eq!(
            eval_shebang(b"#!lua flags=NO-WRITES\n").unwrap_err(),
            "ERR Unexpected flag in script shebang: NO-WRITES"
        );
        assert_eq!(
            eval_shebang(b"#!luax\n").unwrap_err(),
            "ERR Unexpected engine in script shebang: #!luax"
        );
        assert_eq!(
            eval_shebang(b"#!lua name=x\n").unwrap_err(),
            "ERR Unknown lua shebang option: name=x"
        );
        assert_eq!(
            eval_shebang(b"#!lua").unwrap_err(),
            "ERR Invalid script shebang"
        );
        assert_eq!(
            eval_shebang(b"#!lua \"x\n").unwrap_err(),
            "ERR Invalid engine in script shebang"
        );
    }

    #[test]
    fn library_metadata() {
        let m = library_meta(b"#!lua name=mylib\nreturn 1").unwrap();
        assert_eq!(
            (m.engine.as_slice(), m.name.as_slice()),
            (&b"lua"[..], &b"mylib"[..])
        );
        assert_eq!(m.code_start, 16);
        assert_eq!(
            library_meta(b"return").err().unwrap(),
            "ERR Missing library metadata"
        );
        assert_eq!(
            library_meta(b"#!lua name=x").err().unwrap(),
            "ERR Invalid library metadata"
        );
        assert_eq!(
            library_meta(b"#!lua\n").err().unwrap(),
            "ERR Library name was not given"
        );
        assert_eq!(
            library_meta(b"#!lua name=a NAME=b\n").err().unwrap(),
            "ERR Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(
            library_meta(b"#!lua name=a x=y\n").err().unwrap(),
            "ERR Invalid metadata value given: x=y"
        );
        assert!(valid_name(b"a_1") && !valid_name(b"") && !valid_name(b"a-b"));
    }
}
