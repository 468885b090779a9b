//! The AOF manifest of Redis 7's multi-part layout: `<appendfilename>.manifest` in the AOF
//! directory lists the base file and the incremental files, in replay order, one per line:
//! `file <name> seq <n> type <b|h|i>` (names quoted as `sdscatrepr` does when they need it).

/// One entry of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Base,
    History,
    Incr,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

/// The manifest: which files make up the AOF, in replay order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub files: Vec<AofFile>,
}

impl Manifest {
    /// Parses a manifest as Redis writes it: `file <name> seq <n> type <b|h|i>` lines,
    /// `#` comments; arguments quoted as redis.conf's.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("Invalid AOF manifest file format (line {})", i + 1);
            let args = split_args(line.as_bytes()).ok_or_else(bad)?;
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in args.chunks(2) {
                let [k, v] = pair else { return Err(bad()) };
                match k.as_slice() {
                    b"file" => name = Some(String::from_utf8_lossy(v).into_owned()),
                    b"seq" => {
                        seq = std::str::from_utf8(v)
                            .ok()
                            .and_then(|t| t.parse::<u64>().ok())
                    }
                    b"type" => {
                        kind = match v.as_slice() {
                            b"b" => Some(FileKind::Base),
                            b"h" => Some(FileKind::History),
                            b"i" => Some(FileKind::Incr),
                            _ => return Err(bad()),
                        }
                    }
                    _ => {} // Redis ignores keys it does not know (later versions' additions).
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(bad());
            };
            if name.contains('/') {
                return Err(bad());
            }
            m.files.push(AofFile { name, seq, kind });
        }
        if m.files.iter().filter(|f| f.kind == FileKind::Base).count() > 1 {
            return Err("Found duplicate base file information".into());
        }
        Ok(m)
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.files {
            s.push_str(&format!(
                "file {} seq {} type {}\n",
                f.name,
                f.seq,
                f.kind.letter()
            ));
        }
        s
    }

    /// What is replayed, in order: the base, then the incremental files.
    pub fn replay_order(&self) -> Vec<&AofFile> {
        let base = self.files.iter().filter(|f| f.kind == FileKind::Base);
        let incr = self.files.iter().filter(|f| f.kind == FileKind::Incr);
        base.chain(incr).collect()
    }

    /// The sequence number the next base file gets (bases and history count, as Redis').
    pub fn next_base_seq(&self) -> u64 {
        self.files
            .iter()
            .filter(|f| f.kind != FileKind::Incr)
            .map(|f| f.seq)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// The sequence number the next incremental file gets.
    pub fn next_incr_seq(&self) -> u64 {
        self.files
            .iter()
            .filter(|f| f.kind == FileKind::Incr)
            .map(|f| f.seq)
            .max()
            .unwrap_or(0)
            + 1
    }
}

/// Splits a line as Redis' sdssplitargs: words separated by spaces, double-quoted words with
/// `\\`, `\"`, `\n`, `\r`, `\t`, `\xHH` escapes, single-quoted words with `\'`. None for
/// unbalanced quotes.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == line.len() {
            break;
        }
        let mut word = Vec::new();
        match line[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                loop {
                    let c = *line.get(i)?;
                    i += 1;
                    if c == q {
                        break;
                    }
                    if c != b'\\' {
                        word.push(c);
                        continue;
                    }
                    let e = *line.get(i)?;
                    i += 1;
                    word.push(match (q, e) {
                        (b'"', b'n') => b'\n',
                        (b'"', b'r') => b'\r',
                        (b'"', b't') => b'\t',
                        (b'"', b'x') => {
                            let hex = std::str::from_utf8(line.get(i..i + 2)?).ok()?;
                            i += 2;
                            u8::from_str_radix(hex, 16).ok()?
                        }
                        (_, e) => e,
                    });
                }
                // A closing quote must end the word.
                if line.get(i).is_some_and(|c| !c.is_ascii_whitespace()) {
                    return None;
                }
            }
            _ => {
                while i < line.len() && !line[i].is_ascii_whitespace() {
                    word.push(line[i]);
                    i += 1;
                }
            }
        }
        args.push(word);
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_redis_writes() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\n\
                    # a comment\n\
                    file appendonly.aof.3.incr.aof seq 3 type i\n\
                    file \"my aof.2.incr.aof\" seq 2 type h newer-key x\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.files.len(), 3);
        assert_eq!(m.files[2].name, "my aof.2.incr.aof");
        assert_eq!(m.files[2].kind, FileKind::History);
        let order: Vec<&str> = m.replay_order().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            order,
            ["appendonly.aof.1.base.rdb", "appendonly.aof.3.incr.aof"]
        );
        assert_eq!(m.next_incr_seq(), 4);
        let again = Manifest::parse(
            &Manifest {
                files: m.files[..2].to_vec(),
            }
            .render(),
        )
        .unwrap();
        assert_eq!(again.files, m.files[..2]);
    }

    #[test]
    fn refuses_what_redis_refuses() {
        for bad in [
            "file a seq 1\n",
            "file a seq x type i\n",
            "file a seq 1 type z\n",
            "file \"a seq 1 type i\n",
            "file dir/a seq 1 type i\n",
            "file a seq 1 type b\nfile b seq 2 type b\n",
        ] {
            assert!(Manifest::parse(bad).is_err(), "{bad:?}");
        }
    }
}
