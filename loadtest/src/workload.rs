//! What to send: the command mix (SET/GET by ratio, or `--command` templates),
//! and the allocation-free encoder that turns one pick into RESP bytes.

use crate::keys::{KeyGen, KeySpace, Rng};
use crate::protocol::{put_array_header, put_bulk, put_bulk_prefixed_number};
use serde::Serialize;

/// One argument of a command template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A fixed argument, pre-encoded as a RESP bulk string.
    Literal(Vec<u8>),
    /// `__key__`: `<key-prefix><key number>`.
    Key,
    /// `__data__`: a value of `--data-size` (or a size drawn from `--data-size-range`).
    Data,
    /// A TTL in seconds drawn from `--expiry-range` (SET's `EX` argument).
    Expiry,
}

#[derive(Clone, Debug, Serialize)]
pub struct CommandSpec {
    /// Name in reports: the command word, upper-cased (with `#2`... for duplicates).
    pub name: String,
    /// The template as the user would write it.
    pub template: String,
    #[serde(skip)]
    pub args: Vec<Arg>,
    pub weight: u32,
    pub keys: KeySpace,
    /// `(min, max)` seconds for `Arg::Expiry`.
    pub expiry: Option<(u64, u64)>,
}

impl CommandSpec {
    /// Parses a `--command` template such as `SET __key__ __data__`. Arguments split on
    /// whitespace; single or double quotes keep spaces inside one argument.
    pub fn from_template(template: &str, weight: u32, keys: KeySpace) -> Result<Self, String> {
        let words = split_template(template)?;
        let Some(first) = words.first() else {
            return Err("empty --command template".into());
        };
        if first == "__key__" || first == "__data__" {
            return Err(format!(
                "--command {template:?}: the first word must be the command name"
            ));
        }
        let args = words
            .iter()
            .map(|w| match w.as_str() {
                "__key__" => Arg::Key,
                "__data__" => Arg::Data,
                lit => Arg::Literal(encoded_bulk(lit.as_bytes())),
            })
            .collect();
        Ok(CommandSpec {
            name: first.to_ascii_uppercase(),
            template: template.to_string(),
            args,
            weight,
            keys,
            expiry: None,
        })
    }
}

fn encoded_bulk(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 8);
    put_bulk(&mut v, bytes);
    v
}

pub fn split_template(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for ch in s.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => cur.push(ch),
            None if ch == '"' || ch == '\'' => {
                quote = Some(ch);
                in_word = true;
            }
            None if ch.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(ch);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in --command {s:?}"));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Built-in `SET __key__ __data__ [EX <ttl>]`.
pub fn set_command(weight: u32, keys: KeySpace, expiry: Option<(u64, u64)>) -> CommandSpec {
    let mut c =
        CommandSpec::from_template("SET __key__ __data__", weight, keys).expect("static template");
    if let Some((lo, hi)) = expiry {
        c.args.push(Arg::Literal(encoded_bulk(b"EX")));
        c.args.push(Arg::Expiry);
        c.template = format!("SET __key__ __data__ EX <{lo}-{hi}>");
        c.expiry = expiry;
    }
    c
}

/// Built-in `GET __key__`.
pub fn get_command(weight: u32, keys: KeySpace) -> CommandSpec {
    CommandSpec::from_template("GET __key__", weight, keys).expect("static template")
}

/// Makes report names unique (`SET`, `SET#2`, ...) when templates share a command word.
pub fn dedupe_names(cmds: &mut [CommandSpec]) {
    for i in 1..cmds.len() {
        let base = cmds[i].name.clone();
        let mut n = 1;
        while cmds[..i].iter().any(|c| c.name == cmds[i].name) {
            n += 1;
            cmds[i].name = format!("{base}#{n}");
        }
    }
}

/// The command mix plus the shared value bytes. Immutable during a run and shared
/// by all threads.
#[derive(Debug)]
pub struct Workload {
    pub commands: Vec<CommandSpec>,
    /// Cumulative weights: position `p` of the repeating cycle runs command `i`
    /// where `cum[i-1] <= p < cum[i]`. Deterministic like memtier's ratio, so
    /// `--ratio 1:10` sends exactly one SET then ten GETs per cycle.
    cum_weights: Vec<u64>,
    pub key_prefix: Vec<u8>,
    data: Vec<u8>,
    data_min: usize,
    data_max: usize,
}

impl Workload {
    pub fn new(
        commands: Vec<CommandSpec>,
        key_prefix: &str,
        (data_min, data_max): (usize, usize),
        seed: u64,
    ) -> Self {
        assert!(!commands.is_empty() && data_min <= data_max);
        let mut total = 0u64;
        let cum_weights = commands
            .iter()
            .map(|c| {
                total += u64::from(c.weight);
                total
            })
            .collect();
        assert!(total > 0, "at least one command needs a non-zero weight");
        // Printable pseudo-random bytes: readable in redis-cli, not trivially compressible.
        let mut rng = Rng::new(seed ^ 0xDA7A);
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let data = (0..data_max)
            .map(|_| ALPHABET[rng.range_inclusive(0, ALPHABET.len() as u64 - 1) as usize])
            .collect();
        Workload {
            commands,
            cum_weights,
            key_prefix: key_prefix.as_bytes().to_vec(),
            data,
            data_min,
            data_max,
        }
    }

    /// Command index for position `pos` of the client's request sequence.
    pub fn pick(&self, pos: u64) -> usize {
        let total = *self.cum_weights.last().expect("non-empty");
        let p = pos % total;
        self.cum_weights
            .iter()
            .position(|&c| p < c)
            .expect("p < total")
    }

    /// Appends one request for command `cmd` to `out`. No allocation once `out`
    /// has reached its steady-state capacity.
    pub fn encode(&self, cmd: usize, out: &mut Vec<u8>, keys: &mut KeyGen, rng: &mut Rng) {
        let spec = &self.commands[cmd];
        put_array_header(out, spec.args.len());
        for arg in &spec.args {
            match arg {
                Arg::Literal(bytes) => out.extend_from_slice(bytes),
                Arg::Key => put_bulk_prefixed_number(out, &self.key_prefix, keys.next_key(rng)),
                Arg::Data => {
                    let len = if self.data_min == self.data_max {
                        self.data_max
                    } else {
                        rng.range_inclusive(self.data_min as u64, self.data_max as u64) as usize
                    };
                    put_bulk(out, &self.data[..len]);
                }
                Arg::Expiry => {
                    let (lo, hi) = spec.expiry.unwrap_or((1, 1));
                    put_bulk_prefixed_number(out, b"", rng.range_inclusive(lo, hi));
                }
            }
        }
    }
}

/// Parses `--ratio SET:GET`.
pub fn parse_ratio(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("--ratio {s:?}: expected SET:GET, e.g. 1:10");
    let (a, b) = s.split_once(':').ok_or_else(err)?;
    let a: u32 = a.trim().parse().map_err(|_| err())?;
    let b: u32 = b.trim().parse().map_err(|_| err())?;
    if a == 0 && b == 0 {
        return Err(format!("--ratio {s:?}: at least one side must be non-zero"));
    }
    Ok((a, b))
}

/// Parses `MIN-MAX` (both inclusive).
pub fn parse_range(flag: &str, s: &str) -> Result<(u64, u64), String> {
    let err = || format!("{flag} {s:?}: expected MIN-MAX, e.g. 32-1024");
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    let a: u64 = a.trim().parse().map_err(|_| err())?;
    let b: u64 = b.trim().parse().map_err(|_| err())?;
    if a > b {
        return Err(format!("{flag} {s:?}: MIN is larger than MAX"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPattern;

    /// Renders a request as text for error messages and tests.
    fn encode_one_for_display(
        w: &Workload,
        cmd: usize,
        keys: &mut KeyGen,
        rng: &mut Rng,
    ) -> String {
        let mut out = Vec::new();
        w.encode(cmd, &mut out, keys, rng);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn seq(min: u64, max: u64) -> KeySpace {
        KeySpace {
            pattern: KeyPattern::Sequential,
            min,
            max,
            median: 0.0,
            stddev: 1.0,
        }
    }

    #[test]
    fn templates_split_with_quotes() {
        assert_eq!(
            split_template(r#"HSET  __key__ "a field" 'x y' __data__"#).unwrap(),
            vec!["HSET", "__key__", "a field", "x y", "__data__"]
        );
        assert_eq!(split_template(r#"SET k """#).unwrap(), vec!["SET", "k", ""]);
        assert!(split_template(r#"SET "k"#).is_err());
        assert!(CommandSpec::from_template("   ", 1, seq(0, 1)).is_err());
        assert!(CommandSpec::from_template("__key__ x", 1, seq(0, 1)).is_err());
    }

    #[test]
    fn encodes_set_and_get() {
        let cmds = vec![set_command(1, seq(7, 9), None), get_command(1, seq(7, 9))];
        let w = Workload::new(cmds, "key:", (4, 4), 1);
        let mut rng = Rng::new(1);
        let mut kg = KeyGen::new(&w.commands[0].keys, 0, 1);
        let set = encode_one_for_display(&w, 0, &mut kg, &mut rng);
        assert!(
            set.starts_with("*3\r\n$3\r\nSET\r\n$5\r\nkey:7\r\n$4\r\n"),
            "{set}"
        );
        assert_eq!(
            set.len(),
            "*3\r\n$3\r\nSET\r\n$5\r\nkey:7\r\n$4\r\nxxxx\r\n".len()
        );
        let get = encode_one_for_display(&w, 1, &mut kg, &mut rng);
        assert_eq!(get, "*2\r\n$3\r\nGET\r\n$5\r\nkey:8\r\n");
    }

    #[test]
    fn set_with_expiry_and_data_range() {
        let w = Workload::new(
            vec![set_command(1, seq(0, 0), Some((5, 6)))],
            "k",
            (1, 3),
            9,
        );
        let mut rng = Rng::new(3);
        let mut kg = KeyGen::new(&w.commands[0].keys, 0, 1);
        let mut sizes = [false; 4];
        for _ in 0..200 {
            let s = encode_one_for_display(&w, 0, &mut kg, &mut rng);
            assert!(s.starts_with("*5\r\n$3\r\nSET\r\n$2\r\nk0\r\n$"), "{s}");
            assert!(
                s.ends_with("$2\r\nEX\r\n$1\r\n5\r\n") || s.ends_with("$2\r\nEX\r\n$1\r\n6\r\n")
            );
            let len: usize = s["*5\r\n$3\r\nSET\r\n$2\r\nk0\r\n$".len()..][..1]
                .parse()
                .unwrap();
            sizes[len] = true;
        }
        assert_eq!(sizes, [false, true, true, true]);
    }

    #[test]
    fn template_encoding() {
        let c = CommandSpec::from_template("hset __key__ f __data__", 1, seq(3, 3)).unwrap();
        assert_eq!(c.name, "HSET");
        let w = Workload::new(vec![c], "u:", (2, 2), 1);
        let mut rng = Rng::new(1);
        let mut kg = KeyGen::new(&w.commands[0].keys, 0, 1);
        let s = encode_one_for_display(&w, 0, &mut kg, &mut rng);
        assert!(
            s.starts_with("*4\r\n$4\r\nhset\r\n$3\r\nu:3\r\n$1\r\nf\r\n$2\r\n"),
            "{s}"
        );
    }

    #[test]
    fn ratio_cycle_is_exact() {
        let cmds = vec![set_command(1, seq(0, 9), None), get_command(10, seq(0, 9))];
        let w = Workload::new(cmds, "key:", (1, 1), 1);
        let picks: Vec<usize> = (0..22).map(|p| w.pick(p)).collect();
        assert_eq!(picks.iter().filter(|&&c| c == 0).count(), 2);
        assert_eq!(picks[0], 0);
        assert_eq!(picks[11], 0);
        assert!(picks[1..11].iter().all(|&c| c == 1));
        // A zero weight never runs.
        let cmds = vec![set_command(0, seq(0, 9), None), get_command(1, seq(0, 9))];
        let w = Workload::new(cmds, "key:", (1, 1), 1);
        assert!((0..50).all(|p| w.pick(p) == 1));
    }

    #[test]
    fn ratio_and_range_parsing() {
        assert_eq!(parse_ratio("1:10").unwrap(), (1, 10));
        assert_eq!(parse_ratio("0:1").unwrap(), (0, 1));
        assert!(parse_ratio("0:0").is_err());
        assert!(parse_ratio("1").is_err());
        assert!(parse_ratio("a:b").is_err());
        assert_eq!(parse_range("--x", "32-1024").unwrap(), (32, 1024));
        assert!(parse_range("--x", "10-1").is_err());
        assert!(parse_range("--x", "10").is_err());
    }

    #[test]
    fn duplicate_names_get_suffixes() {
        let mut cmds = vec![
            CommandSpec::from_template("SET a b", 1, seq(0, 1)).unwrap(),
            CommandSpec::from_template("set c d", 1, seq(0, 1)).unwrap(),
            CommandSpec::from_template("GET a", 1, seq(0, 1)).unwrap(),
            CommandSpec::from_template("SET e f", 1, seq(0, 1)).unwrap(),
        ];
        dedupe_names(&mut cmds);
        let names: Vec<&str> = cmds.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["SET", "SET#2", "GET", "SET#3"]);
    }
}
