//! Command-line flags (memtier-compatible where memtier has the same idea) and
//! their validation into a `Config` the rest of the program can trust.

use crate::client::Handshake;
use crate::keys::{parse_pattern_pair, KeyPattern, KeySpace};
use crate::protocol::encode_command;
use crate::workload::{
    dedupe_names, get_command, parse_range, parse_ratio, set_command, CommandSpec,
};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, ValueEnum};
use serde::Serialize;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "shardis-bench",
    version,
    about = "A memtier_benchmark-style load generator for Redis-protocol servers.",
    after_help = "Latencies are in milliseconds. In open loop (--rate) they are measured from each \
                  request's intended send time, so server stalls are not hidden (no coordinated \
                  omission). Exit status: 0 ok, 1 could not run, 3 the run saw errors."
)]
pub struct Cli {
    /// Server host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    pub server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 6379)]
    pub port: u16,
    /// Password to AUTH with (memtier: --authenticate).
    #[arg(short = 'a', long, alias = "authenticate")]
    pub password: Option<String>,
    /// ACL user name for AUTH (default: the default user).
    #[arg(long)]
    pub user: Option<String>,
    /// Database to SELECT after connecting (memtier: --select-db).
    #[arg(long, alias = "select-db", default_value_t = 0)]
    pub db: u32,
    /// OS threads, each running its clients on one event loop.
    #[arg(short = 't', long, default_value_t = 4)]
    pub threads: usize,
    /// Connections per thread.
    #[arg(short = 'c', long, default_value_t = 50)]
    pub clients: usize,
    /// Requests kept in flight per connection.
    #[arg(long, default_value_t = 1)]
    pub pipeline: usize,
    /// Requests per client [default: 10000 unless --test-time is given].
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Run for this many seconds instead of a request count (fractions allowed).
    #[arg(long)]
    pub test_time: Option<f64>,
    /// SET:GET ratio, e.g. 1:10 (ignored with --command).
    #[arg(long, default_value = "1:10")]
    pub ratio: String,
    /// Prefix of every key name.
    #[arg(long, default_value = "key:")]
    pub key_prefix: String,
    /// Smallest key number.
    #[arg(long, default_value_t = 0)]
    pub key_minimum: u64,
    /// Largest key number.
    #[arg(long, default_value_t = 10_000_000)]
    pub key_maximum: u64,
    /// R random, S sequential, G gaussian, P parallel (a slice per client);
    /// one letter, or memtier's SET:GET pair such as S:R.
    #[arg(long, default_value = "R:R")]
    pub key_pattern: String,
    /// Median key number for G [default: middle of the key range].
    #[arg(long)]
    pub key_median: Option<f64>,
    /// Standard deviation for G [default: key range / 6].
    #[arg(long)]
    pub key_stddev: Option<f64>,
    /// Value size in bytes.
    #[arg(short = 'd', long, default_value_t = 32)]
    pub data_size: usize,
    /// Value size drawn uniformly from MIN-MAX bytes (overrides --data-size).
    #[arg(long)]
    pub data_size_range: Option<String>,
    /// SET with EX, TTL drawn uniformly from MIN-MAX seconds.
    #[arg(long)]
    pub expiry_range: Option<String>,
    /// Command template, repeatable; __key__ and __data__ are placeholders.
    /// Replaces the SET/GET mix.
    #[arg(long = "command", value_name = "TEMPLATE")]
    pub commands: Vec<String>,
    /// Weight of the preceding --command [default: 1].
    #[arg(long = "command-ratio", value_name = "N")]
    pub command_ratios: Vec<u32>,
    /// Key pattern (R, S, G, P) of the preceding --command [default: R].
    #[arg(long = "command-key-pattern", value_name = "PATTERN")]
    pub command_key_patterns: Vec<String>,
    /// Give each client its own random seed (otherwise all clients repeat one sequence).
    #[arg(long)]
    pub distinct_client_seed: bool,
    /// Seed from the clock instead of a fixed seed.
    #[arg(long)]
    pub randomize: bool,
    /// Fixed random seed.
    #[arg(long, default_value_t = 5381)]
    pub seed: u64,
    /// Repeat the run N times; report each run and the aggregate.
    #[arg(short = 'x', long, default_value_t = 1)]
    pub run_count: u32,
    /// Protocol: resp2, or resp3 (HELLO 3 at connect).
    #[arg(long, value_enum, default_value_t = Protocol::Resp2)]
    pub protocol: Protocol,
    /// Open loop: total requests per second across all clients.
    #[arg(long)]
    pub rate: Option<u64>,
    /// No live progress line on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Write the full result (config, runs, percentile distributions) as JSON.
    #[arg(long, alias = "json-out-file", value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Write HdrHistogram files (.hgrm percentiles, .hlog interval log) per command.
    #[arg(long, alias = "hdr-file-prefix", value_name = "PREFIX")]
    pub hdr_out: Option<String>,
    /// Before the run, SET N keys (<prefix><key-minimum> onwards) once each, pipelined.
    #[arg(long, default_value_t = 0)]
    pub preload: u64,
    /// Event loop per thread: plain epoll, or a glommio (io_uring) executor.
    #[arg(long, value_enum, default_value_t = Engine::Epoll)]
    pub engine: Engine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[value(alias = "redis")]
    Resp2,
    Resp3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Epoll,
    Glommio,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Requests per client.
    Requests(u64),
    /// Seconds.
    Duration(f64),
}

/// Validated configuration. Serialised into the JSON report as-is.
#[derive(Debug, Serialize)]
pub struct Config {
    pub server: String,
    pub port: u16,
    #[serde(skip)]
    pub addr: SocketAddr,
    pub user: Option<String>,
    /// Never written out; the JSON only says whether a password was used.
    #[serde(skip)]
    pub password: Option<String>,
    pub auth: bool,
    pub db: u32,
    pub threads: usize,
    pub clients_per_thread: usize,
    pub pipeline: usize,
    pub stop: Stop,
    pub rate: Option<u64>,
    pub commands: Vec<CommandSpec>,
    pub key_prefix: String,
    pub key_minimum: u64,
    pub key_maximum: u64,
    pub data_size_min: usize,
    pub data_size_max: usize,
    pub expiry_range: Option<(u64, u64)>,
    pub distinct_client_seed: bool,
    pub seed: u64,
    pub run_count: u32,
    pub protocol: Protocol,
    pub quiet: bool,
    pub json_out: Option<PathBuf>,
    pub hdr_out: Option<String>,
    pub preload: u64,
    pub engine: Engine,
}

impl Config {
    pub fn clients_total(&self) -> usize {
        self.threads * self.clients_per_thread
    }

    /// AUTH / HELLO 3 / SELECT, pre-encoded.
    pub fn handshake(&self) -> Handshake {
        let mut hs = Handshake::default();
        let user = self.user.as_deref().unwrap_or("default");
        match (self.protocol, &self.password) {
            (Protocol::Resp3, Some(pw)) => {
                encode_command(
                    &mut hs.bytes,
                    &[b"HELLO", b"3", b"AUTH", user.as_bytes(), pw.as_bytes()],
                );
                hs.commands.push("HELLO 3");
            }
            (Protocol::Resp3, None) => {
                encode_command(&mut hs.bytes, &[b"HELLO", b"3"]);
                hs.commands.push("HELLO 3");
            }
            (Protocol::Resp2, Some(pw)) => {
                match &self.user {
                    Some(u) => {
                        encode_command(&mut hs.bytes, &[b"AUTH", u.as_bytes(), pw.as_bytes()])
                    }
                    None => encode_command(&mut hs.bytes, &[b"AUTH", pw.as_bytes()]),
                }
                hs.commands.push("AUTH");
            }
            (Protocol::Resp2, None) => {}
        }
        if self.db != 0 {
            encode_command(&mut hs.bytes, &[b"SELECT", self.db.to_string().as_bytes()]);
            hs.commands.push("SELECT");
        }
        hs
    }
}

/// Parses the process arguments. Usage errors exit through clap (status 2).
pub fn from_env() -> Result<Config, String> {
    let matches = Cli::command().get_matches();
    from_matches(&matches)
}

pub fn from_matches(matches: &ArgMatches) -> Result<Config, String> {
    let cli = Cli::from_arg_matches(matches).map_err(|e| e.to_string())?;
    validate(cli, matches)
}

/// For tests: parse an argument list (without the program name).
#[cfg(test)]
pub fn parse_args(args: &[&str]) -> Result<Config, String> {
    let matches = Cli::command()
        .try_get_matches_from(std::iter::once("shardis-bench").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    from_matches(&matches)
}

fn validate(cli: Cli, m: &ArgMatches) -> Result<Config, String> {
    let positive = |name: &str, v: usize| {
        if v == 0 {
            Err(format!("--{name} must be at least 1"))
        } else {
            Ok(v)
        }
    };
    positive("threads", cli.threads)?;
    positive("clients", cli.clients)?;
    positive("pipeline", cli.pipeline)?;
    if cli.pipeline > 1 << 20 {
        return Err("--pipeline is unreasonably large (max 1048576)".into());
    }
    if cli.run_count == 0 {
        return Err("--run-count must be at least 1".into());
    }
    if cli.key_minimum > cli.key_maximum {
        return Err("--key-minimum is larger than --key-maximum".into());
    }
    let stop = match (cli.requests, cli.test_time) {
        (Some(_), Some(_)) => return Err("give either --requests or --test-time, not both".into()),
        (_, Some(t)) if !(t > 0.0 && t.is_finite()) => {
            return Err("--test-time must be a positive number of seconds".into())
        }
        (_, Some(t)) => Stop::Duration(t),
        (Some(0), None) if cli.preload == 0 => {
            return Err("--requests 0 only makes sense with --preload".into())
        }
        (Some(n), None) => Stop::Requests(n),
        (None, None) => Stop::Requests(10_000),
    };
    if cli.rate == Some(0) {
        return Err("--rate must be at least 1 request per second".into());
    }
    let (data_size_min, data_size_max) = match &cli.data_size_range {
        Some(r) => {
            let (a, b) = parse_range("--data-size-range", r)?;
            (a as usize, b as usize)
        }
        None => (cli.data_size, cli.data_size),
    };
    if data_size_max > 512 << 20 {
        return Err("values larger than 512 MiB are not supported".into());
    }
    let expiry_range = match &cli.expiry_range {
        Some(r) => {
            let (a, b) = parse_range("--expiry-range", r)?;
            if a == 0 {
                return Err("--expiry-range: TTLs must be at least 1 second".into());
            }
            Some((a, b))
        }
        None => None,
    };
    let space = |pattern: KeyPattern| KeySpace {
        pattern,
        min: cli.key_minimum,
        max: cli.key_maximum,
        median: cli
            .key_median
            .unwrap_or((cli.key_minimum as f64 + cli.key_maximum as f64) / 2.0),
        stddev: cli
            .key_stddev
            .unwrap_or((cli.key_maximum - cli.key_minimum) as f64 / 6.0)
            .max(f64::MIN_POSITIVE),
    };

    let commands = if cli.commands.is_empty() {
        if !cli.command_ratios.is_empty() || !cli.command_key_patterns.is_empty() {
            return Err("--command-ratio / --command-key-pattern need a --command".into());
        }
        let (set_w, get_w) = parse_ratio(&cli.ratio)?;
        let (set_p, get_p) = parse_pattern_pair(&cli.key_pattern)?;
        let mut v = Vec::new();
        if set_w > 0 {
            v.push(set_command(set_w, space(set_p), expiry_range));
        }
        if get_w > 0 {
            v.push(get_command(get_w, space(get_p)));
        }
        v
    } else {
        if m.value_source("ratio") == Some(ValueSource::CommandLine) {
            return Err(
                "--ratio applies to the built-in SET/GET mix; with --command use --command-ratio"
                    .into(),
            );
        }
        let ratios = attach_to_commands(m, "command_ratios", &cli.command_ratios)?;
        let patterns = attach_to_commands(m, "command_key_patterns", &cli.command_key_patterns)?;
        let mut v = Vec::new();
        for (i, t) in cli.commands.iter().enumerate() {
            let pattern = match patterns[i] {
                Some(p) => KeyPattern::parse(p)?,
                None => KeyPattern::Random,
            };
            v.push(CommandSpec::from_template(
                t,
                *ratios[i].unwrap_or(&1),
                space(pattern),
            )?);
        }
        if v.iter().all(|c| c.weight == 0) {
            return Err("every --command has --command-ratio 0".into());
        }
        dedupe_names(&mut v);
        v
    };

    let addr = (cli.server.as_str(), cli.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}:{}: {e}", cli.server, cli.port))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", cli.server))?;
    let seed = if cli.randomize {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos() as u64
    } else {
        cli.seed
    };

    Ok(Config {
        server: cli.server,
        port: cli.port,
        addr,
        auth: cli.password.is_some(),
        user: cli.user,
        password: cli.password,
        db: cli.db,
        threads: cli.threads,
        clients_per_thread: cli.clients,
        pipeline: cli.pipeline,
        stop,
        rate: cli.rate,
        commands,
        key_prefix: cli.key_prefix,
        key_minimum: cli.key_minimum,
        key_maximum: cli.key_maximum,
        data_size_min,
        data_size_max,
        expiry_range,
        distinct_client_seed: cli.distinct_client_seed,
        seed,
        run_count: cli.run_count,
        protocol: cli.protocol,
        quiet: cli.quiet,
        json_out: cli.json_out,
        hdr_out: cli.hdr_out,
        preload: cli.preload,
        engine: cli.engine,
    })
}

/// memtier semantics: `--command-ratio` and `--command-key-pattern` apply to the
/// `--command` given before them. Uses clap's argument positions to pair them.
fn attach_to_commands<'a, T>(
    m: &ArgMatches,
    id: &str,
    values: &'a [T],
) -> Result<Vec<Option<&'a T>>, String> {
    let cmd_pos: Vec<usize> = m
        .indices_of("commands")
        .map(Iterator::collect)
        .unwrap_or_default();
    let mut out = vec![None; cmd_pos.len()];
    let positions: Vec<usize> = m.indices_of(id).map(Iterator::collect).unwrap_or_default();
    let flag = format!("--{}", id.trim_end_matches('s').replace('_', "-"));
    for (v, pos) in values.iter().zip(positions) {
        let Some(owner) = cmd_pos.iter().rposition(|&c| c < pos) else {
            return Err(format!("{flag} must follow the --command it applies to"));
        };
        if out[owner].is_some() {
            return Err(format!("{flag} given twice for --command {}", owner + 1));
        }
        out[owner] = Some(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_memtier() {
        let c = parse_args(&[]).unwrap();
        assert_eq!(c.addr, "127.0.0.1:6379".parse().unwrap());
        assert_eq!((c.threads, c.clients_per_thread, c.pipeline), (4, 50, 1));
        assert_eq!(c.stop, Stop::Requests(10_000));
        assert_eq!(c.commands.len(), 2);
        assert_eq!(
            (c.commands[0].name.as_str(), c.commands[0].weight),
            ("SET", 1)
        );
        assert_eq!(
            (c.commands[1].name.as_str(), c.commands[1].weight),
            ("GET", 10)
        );
        assert_eq!(c.commands[0].keys.pattern, KeyPattern::Random);
        assert_eq!(c.key_prefix, "key:");
        assert_eq!((c.data_size_min, c.data_size_max), (32, 32));
        assert_eq!(c.protocol, Protocol::Resp2);
        assert_eq!(c.engine, Engine::Epoll);
        assert!(c.handshake().commands.is_empty());
    }

    #[test]
    fn full_flag_set() {
        let c = parse_args(&[
            "-s",
            "localhost",
            "-p",
            "7400",
            "-a",
            "pw",
            "--db",
            "3",
            "-t",
            "2",
            "-c",
            "10",
            "--pipeline",
            "16",
            "--test-time",
            "1.5",
            "--ratio",
            "1:0",
            "--key-prefix",
            "k",
            "--key-minimum",
            "5",
            "--key-maximum",
            "9",
            "--key-pattern",
            "S:R",
            "--data-size-range",
            "10-20",
            "--expiry-range",
            "1-5",
            "--distinct-client-seed",
            "-x",
            "3",
            "--protocol",
            "resp3",
            "--rate",
            "1000",
            "-q",
            "--json-out",
            "/tmp/x.json",
            "--hdr-out",
            "/tmp/h",
            "--preload",
            "100",
            "--engine",
            "glommio",
        ])
        .unwrap();
        assert_eq!(c.port, 7400);
        assert_eq!(c.stop, Stop::Duration(1.5));
        assert_eq!(c.commands.len(), 1, "GET weight 0 is dropped");
        assert_eq!(c.commands[0].keys.pattern, KeyPattern::Sequential);
        assert_eq!((c.commands[0].keys.min, c.commands[0].keys.max), (5, 9));
        assert_eq!(c.commands[0].expiry, Some((1, 5)));
        assert_eq!((c.data_size_min, c.data_size_max), (10, 20));
        assert_eq!(c.rate, Some(1000));
        assert_eq!(c.run_count, 3);
        assert!(c.quiet && c.distinct_client_seed);
        assert_eq!(c.engine, Engine::Glommio);
        let hs = c.handshake();
        assert_eq!(hs.commands, vec!["HELLO 3", "SELECT"]);
        assert!(hs.bytes.starts_with(
            b"*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$2\r\npw\r\n"
        ));
    }

    #[test]
    fn memtier_aliases() {
        let c = parse_args(&[
            "--authenticate",
            "x",
            "--select-db",
            "2",
            "--protocol",
            "redis",
            "--json-out-file",
            "f",
        ])
        .unwrap();
        assert_eq!(c.password.as_deref(), Some("x"));
        assert_eq!(c.db, 2);
        assert_eq!(c.protocol, Protocol::Resp2);
        assert_eq!(c.handshake().commands, vec!["AUTH", "SELECT"]);
    }

    #[test]
    fn command_templates_pair_with_their_ratio_and_pattern() {
        let c = parse_args(&[
            "--command",
            "SET __key__ __data__",
            "--command",
            "GET __key__",
            "--command-ratio",
            "5",
            "--command-key-pattern",
            "G",
            "--command",
            "set foo __data__",
        ])
        .unwrap();
        let summary: Vec<(&str, u32, KeyPattern)> = c
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.weight, c.keys.pattern))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("SET", 1, KeyPattern::Random),
                ("GET", 5, KeyPattern::Gaussian),
                ("SET#2", 1, KeyPattern::Random),
            ]
        );
    }

    #[test]
    fn rejects_bad_combinations() {
        for (args, needle) in [
            (&["--requests", "5", "--test-time", "2"][..], "either"),
            (&["--requests", "0"][..], "--preload"),
            (&["--threads", "0"][..], "--threads"),
            (&["--pipeline", "0"][..], "--pipeline"),
            (
                &["--key-minimum", "10", "--key-maximum", "5"][..],
                "--key-minimum",
            ),
            (&["--ratio", "0:0"][..], "non-zero"),
            (&["--key-pattern", "Q"][..], "pattern"),
            (&["--data-size-range", "9-3"][..], "MIN"),
            (&["--expiry-range", "0-3"][..], "TTL"),
            (&["--command-ratio", "3"][..], "need a --command"),
            (
                &["--command", "GET x", "--ratio", "1:1"][..],
                "--command-ratio",
            ),
            (
                &["--command-ratio", "3", "--command", "GET x"][..],
                "must follow",
            ),
            (&["--rate", "0"][..], "--rate"),
            (&["--test-time", "0"][..], "positive"),
            (&["--protocol", "resp9"][..], "resp9"),
            (&["--run-count", "0"][..], "--run-count"),
        ] {
            let err = parse_args(args).expect_err(&format!("{args:?} should fail"));
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }

    #[test]
    fn requests_zero_with_preload_is_fine() {
        let c = parse_args(&["--requests", "0", "--preload", "10"]).unwrap();
        assert_eq!(c.stop, Stop::Requests(0));
        assert_eq!(c.preload, 10);
    }
}
