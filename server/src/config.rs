//! Server configuration: defaults, `redis.conf` files, command-line overrides, and the
//! parameter table behind CONFIG GET / CONFIG SET.
//!
//! Everything follows Redis 7.2 (`config.c`, and `main()` in `server.c`): the same directive
//! syntax (sdssplitargs quoting), the same value parsers (string2ll, memtoull, yes/no, enums),
//! the same fatal-error banner and the same CONFIG SET error strings, because users, scripts
//! and client libraries match on them. A parameter exists here only once Shardis implements
//! what it controls; anything else is an unknown directive, exactly like a typo, so that a
//! configuration never silently promises something the server does not do.
//!
//! Adding a parameter: a typed field in [`Config`], its default in `Default`, one entry in
//! `PARAMS`.
//!
//! Pure module: no sockets, no threads, no output. Its only filesystem accesses are reading
//! configuration files (and their includes) and checking that `dir` exists. Unlike Redis it
//! never calls chdir: `dir` is kept as an absolute path, and relative paths met while loading
//! (`dir`, `include`) are resolved against it, which is what Redis' chdir amounts to.

use shard::glob::glob_match;
use shard::num::parse_i64;
use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The Redis version named in the fatal-error banner (what a Redis 7.2 user would see).
pub const REDIS_VERSION: &str = "7.2.4";

/// How far `include` may nest. Redis has no limit and overflows its stack on a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Redis' CONFIG_BINDADDR_MAX.
const MAX_BIND_ADDRS: usize = 16;

/// Who may use a guarded feature (`enable-debug-command`, `enable-protected-configs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    No,
    Yes,
    /// Only connections from the loopback interface or a unix socket.
    Local,
}

impl Access {
    const ALL: [Access; 3] = [Access::No, Access::Yes, Access::Local];
    const NAMES: &'static [&'static str] = &["no", "yes", "local"];

    /// Whether a client may use the feature; `local_client` as Redis' connIsLocal.
    pub fn allows(self, local_client: bool) -> bool {
        match self {
            Access::Yes => true,
            Access::Local => local_client,
            Access::No => false,
        }
    }
}

/// Log verbosity, least to most severe; `Nothing` (new in 7.2) silences the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

impl LogLevel {
    const ALL: [LogLevel; 5] = [
        LogLevel::Debug,
        LogLevel::Verbose,
        LogLevel::Notice,
        LogLevel::Warning,
        LogLevel::Nothing,
    ];
    const NAMES: &'static [&'static str] = &["debug", "verbose", "notice", "warning", "nothing"];
}

/// The server's configuration. Field comments name the redis.conf parameter.
#[derive(Clone, Debug)]
pub struct Config {
    /// `port`: 0 means no TCP listener, as in Redis.
    pub port: u16,
    /// `bind`: addresses as written; a leading `-` marks an address that may be unavailable.
    /// Empty means every interface (Redis then listens on `*` and `-::*`).
    pub bind: Vec<String>,
    /// `databases`.
    pub databases: usize,
    /// `requirepass`: `None` when empty (no password).
    pub requirepass: Option<Vec<u8>>,
    /// `maxclients`.
    pub maxclients: usize,
    /// `timeout`: idle seconds before a client is closed, 0 = never.
    pub timeout_secs: u64,
    /// `tcp-keepalive`: seconds, 0 = off.
    pub tcp_keepalive_secs: u64,
    /// `tcp-backlog`.
    pub tcp_backlog: u32,
    /// `protected-mode`.
    pub protected_mode: bool,
    /// `shards` (Shardis only): executors to run, 0 = one per available core.
    pub shards: usize,
    /// `spin-before-park-us` (Shardis only): how long an executor that ran out of work polls
    /// before it sleeps. A reply from another shard that lands in that window skips the
    /// wake-up of a parked thread (tens of microseconds); an idle server still sleeps. A
    /// server of one shard does not spin (no other shard to hear from).
    pub spin_before_park_us: u64,
    /// `client-ring` (Shardis only): serve client connections on each executor's own
    /// io_uring (`ring.rs`) rather than through glommio's sockets; a kernel that cannot give
    /// such a ring falls back to glommio's sockets by itself.
    pub client_ring: bool,
    /// `client-ring-buffers` (Shardis only): receive buffers (16 KiB each) of an executor's
    /// client ring; arrivals beyond them in one pass are received on the next.
    pub client_ring_buffers: u16,
    /// `dir`: absolute working directory (Redis chdirs to it; the caller should too, or
    /// resolve its files against it).
    pub dir: PathBuf,
    /// `loglevel`.
    pub loglevel: LogLevel,
    /// `logfile`: empty = standard output.
    pub logfile: String,
    /// `proto-max-bulk-len`: bytes.
    pub proto_max_bulk_len: u64,
    /// `client-query-buffer-limit`: bytes.
    pub client_query_buffer_limit: u64,
    /// `enable-debug-command`.
    pub enable_debug_command: Access,
    /// `enable-module-command`: who may MODULE LOAD / LOADEX / UNLOAD (none load here).
    pub enable_module_command: Access,
    /// `enable-protected-configs`: who may CONFIG SET protected parameters (`dir`).
    pub enable_protected_configs: Access,
    /// `hz`: always within 1..=500 (Redis accepts any non-negative value and clamps it).
    pub hz: u32,
    /// `busy-reply-threshold` (alias `lua-time-limit`), ms: how long a script or function
    /// runs before other clients get -BUSY and SCRIPT KILL / FUNCTION KILL may stop it.
    pub busy_reply_threshold: u64,
    /// `client-output-buffer-limit`: (hard, soft, soft seconds) for the normal, replica and
    /// pubsub classes; only pubsub is enforced so far (`pubsub::Mailbox`).
    pub client_output_buffer_limit: [crate::pubsub::BufferLimit; 3],
    /// `pidfile`: empty = none.
    pub pidfile: String,
    /// `disable-thp`: turn transparent huge pages off for the process (Redis' default).
    pub disable_thp: bool,
    /// The collection encoding thresholds (`hash-max-listpack-entries`...), pushed to every
    /// shard when changed.
    pub limits: shard::limits::Limits,
    /// `notify-keyspace-events` as [`shard::notify`] flags.
    pub notify_keyspace_events: u16,
    /// `tracking-table-max-keys`: tracked keys per shard before the oldest are dropped
    /// (and invalidated); 0 = no limit.
    pub tracking_table_max_keys: u64,
    /// `slowlog-log-slower-than`: microseconds from which a command is logged (0: every
    /// command, negative: none).
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`: entries SLOWLOG keeps.
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold`: milliseconds from which an event is sampled by the
    /// latency monitor (0: off).
    pub latency_monitor_threshold: u64,
    /// `latency-tracking`: per-command latency histograms (INFO latencystats).
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`: the percentiles INFO latencystats shows.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// `appendonly`: the AOF is written (see `aof`).
    pub appendonly: bool,
    /// `appendfsync`.
    pub appendfsync: AppendFsync,
    /// `appendfilename`: the prefix of the AOF files' names.
    pub appendfilename: String,
    /// `appenddirname`: the AOF directory, inside `dir`.
    pub appenddirname: String,
    /// `aof-load-truncated`: load an AOF whose last command was cut short (and cut it off).
    pub aof_load_truncated: bool,
    /// `auto-aof-rewrite-percentage`: rewrite when the AOF grew this much since the last
    /// rewrite (0: never by itself).
    pub auto_aof_rewrite_percentage: u64,
    /// `auto-aof-rewrite-min-size`: not below this size.
    pub auto_aof_rewrite_min_size: u64,
    /// `save`: (seconds, changes) points at which a BGSAVE starts by itself.
    pub save_points: Vec<(u64, u64)>,
    /// `dbfilename`: the RDB file in `dir`.
    pub dbfilename: String,
    /// `repl-backlog-size`: stream bytes kept for replicas that reconnect (PSYNC).
    pub repl_backlog_size: u64,
    /// `repl-ping-replica-period`: seconds between the leader's PINGs in the stream.
    pub repl_ping_replica_period: u64,
    /// `repl-timeout`: seconds without a word from the other side before a replication
    /// link counts as dead.
    pub repl_timeout: u64,
    /// `repl-diskless-sync`: the RDB goes to replicas that can read it that way straight
    /// from the snapshot, not through a file.
    pub repl_diskless_sync: bool,
    /// `replicaof` (alias `slaveof`): the master to follow at start-up, as host and port;
    /// REPLICAOF keeps it up to date (CONFIG GET shows the current master).
    pub replicaof: Option<(String, u16)>,
    /// `masterauth`: the password the follower authenticates with (empty: none).
    pub masterauth: Vec<u8>,
    /// `masteruser`: the user of `masterauth` (empty: the default user, `AUTH <password>`).
    pub masteruser: Vec<u8>,
    /// `replica-read-only`: a replica refuses writes from its clients.
    pub replica_read_only: bool,
    /// `replica-serve-stale-data`: a replica whose link is down still answers its clients
    /// (no: -MASTERDOWN for everything but a few commands).
    pub replica_serve_stale_data: bool,
    /// `replica-priority` (INFO `slave_priority`; for Sentinel).
    pub replica_priority: u64,
    /// `replica-announced` (INFO `replica_announced`; for Sentinel).
    pub replica_announced: bool,
    /// `maxmemory`: bytes the data set may use before eviction or OOM errors (0: no limit).
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: shard::evict::Policy,
    /// `maxmemory-samples`: keys sampled per database for each eviction.
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity`: how long one eviction pass may run (0..100).
    pub maxmemory_eviction_tenacity: u32,
    /// `lfu-log-factor` and `lfu-decay-time` (minutes): the LFU counter's growth and decay.
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// `replica-ignore-maxmemory`: a replica leaves eviction to its master.
    pub replica_ignore_maxmemory: bool,
    /// `aclfile`: where ACL LOAD / ACL SAVE read and write the users (empty: none).
    pub aclfile: String,
    /// `acllog-max-len`: entries ACL LOG keeps.
    pub acllog_max_len: u64,
    /// `acl-pubsub-default`: new users start with `allchannels` (true) or `resetchannels`.
    pub acl_pubsub_default_all: bool,
    /// `user` directives: each the user name then its rules (selectors merged), applied at
    /// start-up. Not a CONFIG GET / SET parameter, as in Redis.
    pub users: Vec<Vec<Vec<u8>>>,
    /// Not a parameter: the server is running (CONFIG SET, not the configuration file).
    pub started: bool,
    /// The configuration file the server started with, absolute (CONFIG REWRITE's target,
    /// INFO `config_file`); `None` when started without one.
    pub file: Option<PathBuf>,
}

/// When the AOF is flushed to disk (`appendfsync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    /// Before any reply goes out, every write is on disk.
    Always,
    /// Written before replies go out (a crashed process loses nothing), flushed to disk
    /// once a second (a crashed machine loses at most about a second).
    Everysec,
    /// Written before replies go out; the kernel flushes when it likes.
    No,
}

impl AppendFsync {
    const ALL: [AppendFsync; 3] = [AppendFsync::Always, AppendFsync::Everysec, AppendFsync::No];
    const NAMES: &'static [&'static str] = &["always", "everysec", "no"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            // Redis' shipped redis.conf says "127.0.0.1 -::1"; ours skips an absent ::1 too.
            bind: vec!["127.0.0.1".into(), "::1".into()],
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            timeout_secs: 0,
            tcp_keepalive_secs: 300,
            tcp_backlog: 511,
            protected_mode: true,
            shards: 0,
            spin_before_park_us: 50,
            client_ring: true,
            client_ring_buffers: 256,
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            enable_debug_command: Access::No,
            enable_module_command: Access::No,
            enable_protected_configs: Access::No,
            hz: 10,
            busy_reply_threshold: 5000,
            client_output_buffer_limit: [
                crate::pubsub::BufferLimit::default(),
                crate::pubsub::BufferLimit {
                    hard: 256 << 20,
                    soft: 64 << 20,
                    soft_seconds: 60,
                },
                crate::pubsub::DEFAULT_PUBSUB_LIMIT,
            ],
            pidfile: String::new(),
            disable_thp: true,
            limits: shard::limits::Limits::default(),
            notify_keyspace_events: 0,
            tracking_table_max_keys: 1_000_000,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            aof_load_truncated: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            save_points: Vec::new(),
            dbfilename: "dump.rdb".into(),
            repl_backlog_size: 1 << 20,
            repl_ping_replica_period: 10,
            repl_timeout: 60,
            repl_diskless_sync: true,
            replicaof: None,
            masterauth: Vec::new(),
            masteruser: Vec::new(),
            replica_read_only: true,
            replica_serve_stale_data: true,
            replica_priority: 100,
            replica_announced: true,
            maxmemory: 0,
            maxmemory_policy: shard::evict::Policy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            replica_ignore_maxmemory: true,
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_default_all: false,
            users: Vec::new(),
            started: false,
            file: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parameter table
// ---------------------------------------------------------------------------------------------

/// CONFIG SET refuses it ("can't set immutable config"); files and the command line may set it.
const IMMUTABLE: u8 = 1;
/// CONFIG SET needs `enable-protected-configs` to allow the client.
const PROTECTED: u8 = 2;
/// Its value is a secret: the caller must redact it from SLOWLOG, MONITOR and the like.
const SENSITIVE: u8 = 4;
/// Takes several arguments: all the words of a directive, or a CONFIG SET value split at spaces.
const MULTI_ARG: u8 = 8;
/// A `Special` parameter whose value is one string: CONFIG REWRITE quotes it, as `Str`s
/// (the other `Special`s are yes/no or words: `save 3600 1`).
const STRING: u8 = 16;

/// A validated new value, applied only once every value of a CONFIG SET is known to be good.
type Apply = Box<dyn FnOnce(&mut Config)>;

/// How a parameter's value is parsed and rendered; the generic kinds carry Redis' exact
/// validation and wording, `Special` is for the few with their own rules.
enum Kind {
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
    },
    /// Parsed with string2ll's strictness (no `+`, no leading zeros, no spaces).
    Int {
        min: i64,
        max: i64,
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
    },
    /// Bytes with optional unit (see [`Config::parse_memory`]); rendered as plain bytes.
    Memory {
        min: u64,
        max: u64,
        get: fn(&Config) -> u64,
        set: fn(&mut Config, u64),
    },
    /// One of `names`, case-insensitive; `get`/`set` use the index into `names`.
    Enum {
        names: &'static [&'static str],
        get: fn(&Config) -> usize,
        set: fn(&mut Config, usize),
    },
    Str {
        get: fn(&Config) -> String,
        set: fn(&mut Config, &[u8]),
    },
    Special {
        parse: fn(&Config, &[&[u8]]) -> Result<Apply, String>,
        get: fn(&Config) -> String,
    },
}

struct Param {
    /// Canonical name, lowercase.
    name: &'static str,
    /// Other names (Redis 7 keeps e.g. `slave-priority` for `replica-priority`).
    aliases: &'static [&'static str],
    flags: u8,
    kind: Kind,
}

/// Every parameter Shardis understands, with Redis 7.2's bounds, defaults and flags.
static PARAMS: &[Param] = &[
    Param {
        name: "hash-max-listpack-entries",
        aliases: &["hash-max-ziplist-entries"],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.limits.hash_max_listpack_entries as i64,
            set: |c, v| c.limits.hash_max_listpack_entries = v as usize,
        },
    },
    Param {
        name: "hash-max-listpack-value",
        aliases: &["hash-max-ziplist-value"],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: i64::MAX as u64,
            get: |c| c.limits.hash_max_listpack_value as u64,
            set: |c, v| c.limits.hash_max_listpack_value = v as usize,
        },
    },
    Param {
        name: "set-max-intset-entries",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.limits.set_max_intset_entries as i64,
            set: |c, v| c.limits.set_max_intset_entries = v as usize,
        },
    },
    Param {
        name: "set-max-listpack-entries",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.limits.set_max_listpack_entries as i64,
            set: |c, v| c.limits.set_max_listpack_entries = v as usize,
        },
    },
    Param {
        name: "set-max-listpack-value",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: i64::MAX as u64,
            get: |c| c.limits.set_max_listpack_value as u64,
            set: |c, v| c.limits.set_max_listpack_value = v as usize,
        },
    },
    Param {
        name: "zset-max-listpack-entries",
        aliases: &["zset-max-ziplist-entries"],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.limits.zset_max_listpack_entries as i64,
            set: |c, v| c.limits.zset_max_listpack_entries = v as usize,
        },
    },
    Param {
        name: "zset-max-listpack-value",
        aliases: &["zset-max-ziplist-value"],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: i64::MAX as u64,
            get: |c| c.limits.zset_max_listpack_value as u64,
            set: |c, v| c.limits.zset_max_listpack_value = v as usize,
        },
    },
    Param {
        name: "hll-sparse-max-bytes",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: i64::MAX as u64,
            get: |c| c.limits.hll_sparse_max_bytes as u64,
            set: |c, v| c.limits.hll_sparse_max_bytes = v as usize,
        },
    },
    Param {
        name: "list-max-listpack-size",
        aliases: &["list-max-ziplist-size"],
        flags: 0,
        kind: Kind::Int {
            min: i32::MIN as i64,
            max: i32::MAX as i64,
            get: |c| c.limits.list_max_listpack_size,
            set: |c, v| c.limits.list_max_listpack_size = v,
        },
    },
    Param {
        name: "stream-node-max-bytes",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: i64::MAX as u64,
            get: |c| c.limits.stream_node_max_bytes,
            set: |c, v| c.limits.stream_node_max_bytes = v,
        },
    },
    Param {
        name: "stream-node-max-entries",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.limits.stream_node_max_entries as i64,
            set: |c, v| c.limits.stream_node_max_entries = v as u64,
        },
    },
    Param {
        name: "list-compress-depth",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.limits.list_compress_depth as i64,
            set: |c, v| c.limits.list_compress_depth = v as usize,
        },
    },
    Param {
        name: "port",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: 65535,
            get: |c| c.port.into(),
            set: |c, v| c.port = v as u16,
        },
    },
    Param {
        name: "bind",
        aliases: &[],
        flags: MULTI_ARG,
        kind: Kind::Special {
            parse: parse_bind,
            get: |c| c.bind.join(" "),
        },
    },
    Param {
        name: "databases",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Int {
            min: 1,
            max: i32::MAX as i64,
            get: |c| c.databases as i64,
            set: |c, v| c.databases = v as usize,
        },
    },
    Param {
        name: "requirepass",
        aliases: &[],
        flags: SENSITIVE,
        kind: Kind::Str {
            get: |c| String::from_utf8_lossy(c.requirepass.as_deref().unwrap_or_default()).into(),
            set: |c, v| c.requirepass = (!v.is_empty()).then(|| v.to_vec()),
        },
    },
    Param {
        name: "aclfile",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Str {
            get: |c| c.aclfile.clone(),
            set: |c, v| c.aclfile = String::from_utf8_lossy(v).into_owned(),
        },
    },
    Param {
        name: "acllog-max-len",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.acllog_max_len as i64,
            set: |c, v| c.acllog_max_len = v as u64,
        },
    },
    Param {
        name: "acl-pubsub-default",
        aliases: &[],
        flags: 0,
        kind: Kind::Enum {
            names: &["allchannels", "resetchannels"],
            get: |c| usize::from(!c.acl_pubsub_default_all),
            set: |c, i| c.acl_pubsub_default_all = i == 0,
        },
    },
    Param {
        name: "maxclients",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 1,
            max: u32::MAX as i64,
            get: |c| c.maxclients as i64,
            set: |c, v| c.maxclients = v as usize,
        },
    },
    Param {
        name: "timeout",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.timeout_secs as i64,
            set: |c, v| c.timeout_secs = v as u64,
        },
    },
    Param {
        name: "tcp-keepalive",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.tcp_keepalive_secs as i64,
            set: |c, v| c.tcp_keepalive_secs = v as u64,
        },
    },
    Param {
        name: "tcp-backlog",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.tcp_backlog.into(),
            set: |c, v| c.tcp_backlog = v as u32,
        },
    },
    Param {
        name: "protected-mode",
        aliases: &[],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.protected_mode,
            set: |c, v| c.protected_mode = v,
        },
    },
    Param {
        name: "dir",
        aliases: &[],
        flags: PROTECTED | STRING,
        kind: Kind::Special {
            parse: parse_dir,
            get: |c| c.dir.to_string_lossy().into(),
        },
    },
    Param {
        name: "loglevel",
        aliases: &[],
        flags: 0,
        kind: Kind::Enum {
            names: LogLevel::NAMES,
            get: |c| c.loglevel as usize,
            set: |c, i| c.loglevel = LogLevel::ALL[i],
        },
    },
    Param {
        name: "logfile",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Str {
            get: |c| c.logfile.clone(),
            set: |c, v| c.logfile = String::from_utf8_lossy(v).into(),
        },
    },
    Param {
        name: "proto-max-bulk-len",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 1 << 20,
            max: i64::MAX as u64,
            get: |c| c.proto_max_bulk_len,
            set: |c, v| c.proto_max_bulk_len = v,
        },
    },
    Param {
        name: "client-query-buffer-limit",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 1 << 20,
            max: i64::MAX as u64,
            get: |c| c.client_query_buffer_limit,
            set: |c, v| c.client_query_buffer_limit = v,
        },
    },
    Param {
        name: "enable-debug-command",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Enum {
            names: Access::NAMES,
            get: |c| c.enable_debug_command as usize,
            set: |c, i| c.enable_debug_command = Access::ALL[i],
        },
    },
    Param {
        name: "enable-module-command",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Enum {
            names: Access::NAMES,
            get: |c| c.enable_module_command as usize,
            set: |c, i| c.enable_module_command = Access::ALL[i],
        },
    },
    Param {
        name: "enable-protected-configs",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Enum {
            names: Access::NAMES,
            get: |c| c.enable_protected_configs as usize,
            set: |c, i| c.enable_protected_configs = Access::ALL[i],
        },
    },
    Param {
        name: "hz",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.hz.into(),
            // Redis takes hz as a hint: any value is accepted, then clamped (updateHZ).
            set: |c, v| c.hz = v.clamp(1, 500) as u32,
        },
    },
    Param {
        name: "busy-reply-threshold",
        aliases: &["lua-time-limit"],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.busy_reply_threshold as i64,
            set: |c, v| c.busy_reply_threshold = v as u64,
        },
    },
    Param {
        name: "client-output-buffer-limit",
        aliases: &[],
        flags: MULTI_ARG,
        kind: Kind::Special {
            parse: parse_buffer_limits,
            get: |c| {
                let [n, r, p] = &c.client_output_buffer_limit;
                format!(
                    "normal {} {} {} slave {} {} {} pubsub {} {} {}",
                    n.hard,
                    n.soft,
                    n.soft_seconds,
                    r.hard,
                    r.soft,
                    r.soft_seconds,
                    p.hard,
                    p.soft,
                    p.soft_seconds
                )
            },
        },
    },
    Param {
        name: "notify-keyspace-events",
        aliases: &[],
        flags: STRING,
        kind: Kind::Special {
            parse: parse_notify_keyspace_events,
            get: |c| shard::notify::flags_string(c.notify_keyspace_events),
        },
    },
    Param {
        name: "slowlog-log-slower-than",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: -1,
            max: i64::MAX,
            get: |c| c.slowlog_log_slower_than,
            set: |c, v| c.slowlog_log_slower_than = v,
        },
    },
    Param {
        name: "slowlog-max-len",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.slowlog_max_len as i64,
            set: |c, v| c.slowlog_max_len = v as u64,
        },
    },
    Param {
        name: "latency-monitor-threshold",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.latency_monitor_threshold as i64,
            set: |c, v| c.latency_monitor_threshold = v as u64,
        },
    },
    Param {
        name: "latency-tracking",
        aliases: &[],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.latency_tracking,
            set: |c, v| c.latency_tracking = v,
        },
    },
    Param {
        name: "latency-tracking-info-percentiles",
        aliases: &[],
        flags: MULTI_ARG,
        kind: Kind::Special {
            parse: parse_percentiles,
            get: |c| {
                c.latency_tracking_info_percentiles
                    .iter()
                    .map(|p| percentile_text(*p))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        },
    },
    Param {
        name: "tracking-table-max-keys",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i64::MAX,
            get: |c| c.tracking_table_max_keys as i64,
            set: |c, v| c.tracking_table_max_keys = v as u64,
        },
    },
    Param {
        name: "daemonize",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Special {
            parse: parse_daemonize,
            get: |_| "no".into(),
        },
    },
    Param {
        name: "disable-thp",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Bool {
            get: |c| c.disable_thp,
            set: |c, v| c.disable_thp = v,
        },
    },
    Param {
        name: "pidfile",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Str {
            get: |c| c.pidfile.clone(),
            set: |c, v| c.pidfile = String::from_utf8_lossy(v).into(),
        },
    },
    // RDB snapshots have not landed: `save` reports the truth (no snapshots), which
    // redis-benchmark and other tools read, and refuses to be switched on rather than
    // pretend to persist.
    Param {
        name: "save",
        aliases: &[],
        flags: MULTI_ARG,
        kind: Kind::Special {
            parse: parse_save,
            get: |c| {
                c.save_points
                    .iter()
                    .map(|(s, n)| format!("{s} {n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        },
    },
    Param {
        name: "dbfilename",
        aliases: &[],
        flags: STRING,
        kind: Kind::Special {
            parse: |_, args| {
                let name = parse_plain_name(args, "dbfilename")?;
                Ok(Box::new(move |c| c.dbfilename = name))
            },
            get: |c| c.dbfilename.clone(),
        },
    },
    // The AOF (see `aof`). Switching it on at run time needs a rewrite of the data set into
    // a base file, which has not landed: only the configuration at start-up turns it on.
    Param {
        name: "appendonly",
        aliases: &[],
        flags: 0,
        kind: Kind::Special {
            parse: parse_appendonly,
            get: |c| if c.appendonly { "yes" } else { "no" }.into(),
        },
    },
    Param {
        name: "appendfsync",
        aliases: &[],
        flags: 0,
        kind: Kind::Enum {
            names: AppendFsync::NAMES,
            get: |c| c.appendfsync as usize,
            set: |c, i| c.appendfsync = AppendFsync::ALL[i],
        },
    },
    Param {
        name: "appendfilename",
        aliases: &[],
        flags: IMMUTABLE | STRING,
        kind: Kind::Special {
            parse: parse_aof_name,
            get: |c| c.appendfilename.clone(),
        },
    },
    Param {
        name: "appenddirname",
        aliases: &[],
        flags: IMMUTABLE | STRING,
        kind: Kind::Special {
            parse: parse_aof_dirname,
            get: |c| c.appenddirname.clone(),
        },
    },
    Param {
        name: "auto-aof-rewrite-percentage",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.auto_aof_rewrite_percentage as i64,
            set: |c, v| c.auto_aof_rewrite_percentage = v as u64,
        },
    },
    Param {
        name: "auto-aof-rewrite-min-size",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: i64::MAX as u64,
            get: |c| c.auto_aof_rewrite_min_size,
            set: |c, v| c.auto_aof_rewrite_min_size = v,
        },
    },
    Param {
        name: "repl-backlog-size",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 1,
            max: i64::MAX as u64,
            get: |c| c.repl_backlog_size,
            set: |c, v| c.repl_backlog_size = v,
        },
    },
    Param {
        name: "repl-ping-replica-period",
        aliases: &["repl-ping-slave-period"],
        flags: 0,
        kind: Kind::Int {
            min: 1,
            max: i32::MAX as i64,
            get: |c| c.repl_ping_replica_period as i64,
            set: |c, v| c.repl_ping_replica_period = v as u64,
        },
    },
    Param {
        name: "repl-timeout",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 1,
            max: i32::MAX as i64,
            get: |c| c.repl_timeout as i64,
            set: |c, v| c.repl_timeout = v as u64,
        },
    },
    Param {
        name: "repl-diskless-sync",
        aliases: &[],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.repl_diskless_sync,
            set: |c, v| c.repl_diskless_sync = v,
        },
    },
    Param {
        name: "aof-load-truncated",
        aliases: &[],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.aof_load_truncated,
            set: |c, v| c.aof_load_truncated = v,
        },
    },
    // Replication: the follower (see `follower`).
    Param {
        name: "replicaof",
        aliases: &["slaveof"],
        flags: IMMUTABLE | MULTI_ARG,
        kind: Kind::Special {
            parse: parse_replicaof,
            get: |c| {
                c.replicaof
                    .as_ref()
                    .map_or_else(String::new, |(h, p)| format!("{h} {p}"))
            },
        },
    },
    Param {
        name: "masterauth",
        aliases: &[],
        flags: SENSITIVE,
        kind: Kind::Str {
            get: |c| String::from_utf8_lossy(&c.masterauth).into(),
            set: |c, v| c.masterauth = v.to_vec(),
        },
    },
    Param {
        name: "masteruser",
        aliases: &[],
        flags: 0,
        kind: Kind::Str {
            get: |c| String::from_utf8_lossy(&c.masteruser).into(),
            set: |c, v| c.masteruser = v.to_vec(),
        },
    },
    Param {
        name: "replica-read-only",
        aliases: &["slave-read-only"],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.replica_read_only,
            set: |c, v| c.replica_read_only = v,
        },
    },
    Param {
        name: "replica-serve-stale-data",
        aliases: &["slave-serve-stale-data"],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.replica_serve_stale_data,
            set: |c, v| c.replica_serve_stale_data = v,
        },
    },
    Param {
        name: "replica-priority",
        aliases: &["slave-priority"],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.replica_priority as i64,
            set: |c, v| c.replica_priority = v as u64,
        },
    },
    Param {
        name: "replica-announced",
        aliases: &[],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.replica_announced,
            set: |c, v| c.replica_announced = v,
        },
    },
    Param {
        name: "maxmemory",
        aliases: &[],
        flags: 0,
        kind: Kind::Memory {
            min: 0,
            max: u64::MAX,
            get: |c| c.maxmemory,
            set: |c, v| c.maxmemory = v,
        },
    },
    Param {
        name: "maxmemory-policy",
        aliases: &[],
        flags: 0,
        kind: Kind::Enum {
            names: shard::evict::Policy::NAMES,
            get: |c| c.maxmemory_policy as usize,
            set: |c, i| c.maxmemory_policy = shard::evict::Policy::ALL[i],
        },
    },
    Param {
        name: "maxmemory-samples",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 1,
            max: 64,
            get: |c| c.maxmemory_samples.into(),
            set: |c, v| c.maxmemory_samples = v as u32,
        },
    },
    Param {
        name: "maxmemory-eviction-tenacity",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: 100,
            get: |c| c.maxmemory_eviction_tenacity.into(),
            set: |c, v| c.maxmemory_eviction_tenacity = v as u32,
        },
    },
    Param {
        name: "lfu-log-factor",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.lfu_log_factor.into(),
            set: |c, v| c.lfu_log_factor = v as u32,
        },
    },
    Param {
        name: "lfu-decay-time",
        aliases: &[],
        flags: 0,
        kind: Kind::Int {
            min: 0,
            max: i32::MAX as i64,
            get: |c| c.lfu_decay_time.into(),
            set: |c, v| c.lfu_decay_time = v as u32,
        },
    },
    Param {
        name: "replica-ignore-maxmemory",
        aliases: &["slave-ignore-maxmemory"],
        flags: 0,
        kind: Kind::Bool {
            get: |c| c.replica_ignore_maxmemory,
            set: |c, v| c.replica_ignore_maxmemory = v,
        },
    },
    Param {
        name: "client-ring",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Bool {
            get: |c| c.client_ring,
            set: |c, v| c.client_ring = v,
        },
    },
    Param {
        name: "client-ring-buffers",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Int {
            min: 2,
            max: 32768,
            get: |c| c.client_ring_buffers as i64,
            set: |c, v| c.client_ring_buffers = v as u16,
        },
    },
    Param {
        name: "spin-before-park-us",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Int {
            min: 0,
            max: 1_000_000,
            get: |c| c.spin_before_park_us as i64,
            set: |c, v| c.spin_before_park_us = v as u64,
        },
    },
    Param {
        name: "shards",
        aliases: &[],
        flags: IMMUTABLE,
        kind: Kind::Int {
            min: 0,
            max: 1024,
            get: |c| c.shards as i64,
            set: |c, v| c.shards = v as usize,
        },
    },
];

impl Param {
    fn keys(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// Validates `args` (exactly one unless MULTI_ARG) without touching the configuration.
    fn parse(&self, cfg: &Config, args: &[&[u8]]) -> Result<Apply, String> {
        let arg = args.first().copied().unwrap_or_default();
        match self.kind {
            Kind::Bool { set, .. } => {
                let v = parse_yes_no(arg).ok_or("argument must be 'yes' or 'no'")?;
                Ok(Box::new(move |c| set(c, v)))
            }
            Kind::Int { min, max, set, .. } => {
                let v = parse_i64(arg).ok_or("argument couldn't be parsed into an integer")?;
                if v < min || v > max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                Ok(Box::new(move |c| set(c, v)))
            }
            Kind::Memory { min, max, set, .. } => {
                let v = Config::parse_memory(arg).ok_or("argument must be a memory value")?;
                if v < min || v > max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                Ok(Box::new(move |c| set(c, v)))
            }
            Kind::Enum { names, set, .. } => {
                let i = names
                    .iter()
                    .position(|n| n.as_bytes().eq_ignore_ascii_case(arg))
                    .ok_or_else(|| {
                        format!(
                            "argument(s) must be one of the following: {}",
                            names.join(", ")
                        )
                    })?;
                Ok(Box::new(move |c| set(c, i)))
            }
            Kind::Str { set, .. } => {
                let v = arg.to_vec();
                Ok(Box::new(move |c| set(c, &v)))
            }
            Kind::Special { parse, .. } => parse(cfg, args),
        }
    }

    /// The value as CONFIG GET shows it.
    fn render(&self, cfg: &Config) -> String {
        match self.kind {
            Kind::Bool { get, .. } => if get(cfg) { "yes" } else { "no" }.into(),
            Kind::Int { get, .. } => get(cfg).to_string(),
            Kind::Memory { get, .. } => get(cfg).to_string(),
            Kind::Enum { names, get, .. } => names[get(cfg)].into(),
            Kind::Str { get, .. } | Kind::Special { get, .. } => get(cfg),
        }
    }
}

/// The parameter called `name` (any case, canonical name or alias), and the key that matched.
fn lookup(name: &[u8]) -> Option<(&'static Param, &'static str)> {
    PARAMS.iter().find_map(|p| {
        p.keys()
            .find(|k| k.as_bytes().eq_ignore_ascii_case(name))
            .map(|k| (p, k))
    })
}

fn parse_bind(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    if args.len() > MAX_BIND_ADDRS {
        return Err("Too many bind addresses specified.".into());
    }
    // A single empty argument means no address (listen everywhere), as in Redis.
    let args = if args.len() == 1 && args[0].is_empty() {
        &[][..]
    } else {
        args
    };
    // Redis fails these later, when it tries to bind; its message is reused here.
    let addrs = args
        .iter()
        .map(|a| match std::str::from_utf8(a) {
            Ok(s) if !s.is_empty() => Ok(s.to_string()),
            _ => Err("Failed to bind to specified addresses.".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Box::new(move |c| c.bind = addrs))
}

/// Redis chdirs and reports strerror; here the directory is resolved against the current
/// `dir` (where Redis' previous chdir would have left it) and must exist.
/// `client-output-buffer-limit class hard soft seconds [class ...]`: the classes given
/// change, the others stay.
fn parse_buffer_limits(cfg: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let text = args
        .iter()
        .map(|a| String::from_utf8_lossy(a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut limits = cfg.client_output_buffer_limit;
    for (class, limit) in crate::pubsub::parse_buffer_limits(&text)? {
        limits[class] = limit;
    }
    Ok(Box::new(move |c| c.client_output_buffer_limit = limits))
}

/// `latency-tracking-info-percentiles`: numbers within [0, 100]; one empty argument (CONFIG
/// SET to "") means none.
fn parse_percentiles(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let args = if args.len() == 1 && args[0].is_empty() {
        &[][..]
    } else {
        args
    };
    let mut percentiles = Vec::with_capacity(args.len());
    for a in args {
        let p = shard::num::parse_f64(a)
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        percentiles.push(p);
    }
    Ok(Box::new(move |c| {
        c.latency_tracking_info_percentiles = percentiles
    }))
}

/// A percentile as Redis prints it in CONFIG GET and INFO latencystats: C's `%f` with the
/// trailing zeros (and a bare point) dropped, so 99.9 is `99.9` and 50 is `50`.
pub fn percentile_text(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').into()
}

fn parse_notify_keyspace_events(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let flags = shard::notify::parse_flags(args.first().copied().unwrap_or_default())
        .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
    Ok(Box::new(move |c| c.notify_keyspace_events = flags))
}

fn parse_dir(cfg: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let arg = args.first().copied().unwrap_or_default();
    if arg.is_empty() {
        return Err("No such file or directory".into()); // chdir("") fails with ENOENT
    }
    let dir =
        std::fs::canonicalize(cfg.dir.join(OsStr::from_bytes(arg))).map_err(|e| strerror(&e))?;
    if !dir.is_dir() {
        return Err("Not a directory".into());
    }
    Ok(Box::new(move |c| c.dir = dir))
}

/// Shardis never forks into the background: a supervisor (systemd, a container runtime,
/// nohup) does that better, and forking after the executors start is not an option.
fn parse_daemonize(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    match parse_yes_no(args.first().copied().unwrap_or_default()) {
        Some(false) => Ok(Box::new(|_| {})),
        Some(true) => Err(
            "Shardis does not daemonize: use 'daemonize no' and run it in the \
                           foreground under a supervisor (systemd, a container, nohup)"
                .into(),
        ),
        None => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// `save <seconds> <changes> [<seconds> <changes> ...]` (or `save ""`: none), as one
/// directive line or one CONFIG SET value.
fn parse_save(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let words: Vec<&str> = args
        .iter()
        .flat_map(|a| std::str::from_utf8(a).unwrap_or("x").split_whitespace())
        .collect();
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    let mut points = Vec::new();
    for pair in words.chunks(2) {
        match (pair[0].parse::<u64>(), pair[1].parse::<u64>()) {
            (Ok(s), Ok(n)) if s <= i32::MAX as u64 && n <= i32::MAX as u64 => points.push((s, n)),
            _ => return Err("Invalid save parameters".into()),
        }
    }
    Ok(Box::new(move |c| c.save_points = points))
}

/// `appendonly`: read at start-up; at run time it can only stay as it is.
fn parse_appendonly(c: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let on = parse_yes_no(args.first().copied().unwrap_or_default())
        .ok_or("argument must be 'yes' or 'no'")?;
    if c.started && on != c.appendonly {
        return Err(
            "switching the AOF on or off at run time is not available in this version of \
             Shardis: set appendonly in the configuration and restart"
                .into(),
        );
    }
    Ok(Box::new(move |c| c.appendonly = on))
}

/// `replicaof <host> <port>` (or `no one`, or nothing: not a replica). One argument is split
/// at spaces, as Redis does for its multi-argument directives.
fn parse_replicaof(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let args = match args {
        [one] => split_spaces(one),
        _ => args.to_vec(),
    };
    match args.as_slice() {
        [] => Ok(Box::new(|c| c.replicaof = None)),
        [no, one] if no.eq_ignore_ascii_case(b"no") && one.eq_ignore_ascii_case(b"one") => {
            Ok(Box::new(|c| c.replicaof = None))
        }
        [host, port] => {
            let port = std::str::from_utf8(port)
                .ok()
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or("Invalid master port")?;
            let host = String::from_utf8_lossy(host).into_owned();
            Ok(Box::new(move |c| c.replicaof = Some((host, port))))
        }
        _ => Err("wrong number of arguments".into()),
    }
}

/// `appendfilename`: a plain file name (Redis refuses paths).
fn parse_aof_name(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let name = parse_plain_name(args, "appendfilename")?;
    Ok(Box::new(move |c| c.appendfilename = name))
}

/// `appenddirname`: a plain directory name inside `dir`.
fn parse_aof_dirname(_: &Config, args: &[&[u8]]) -> Result<Apply, String> {
    let name = parse_plain_name(args, "appenddirname")?;
    Ok(Box::new(move |c| c.appenddirname = name))
}

fn parse_plain_name(args: &[&[u8]], what: &str) -> Result<String, String> {
    let name = String::from_utf8_lossy(args.first().copied().unwrap_or_default()).into_owned();
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(format!("{what} can't be a path, just a filename"));
    }
    Ok(name)
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

impl Config {
    /// Builds the configuration from the command line (without argv[0]), like redis-server:
    /// `[config-file] [--name value...]...`. The options are turned into directive lines
    /// appended to the file, so they override it and their errors name a line number past
    /// the file's end. Errors are the text redis-server prints; the caller prints it to
    /// stderr and exits with status 1. `--help`/`--version` are the caller's to handle first.
    pub fn from_cli(args: &[String]) -> Result<Config, String> {
        let mut cfg = Config::default();
        if args.is_empty() {
            return Ok(cfg);
        }
        let mut text = Vec::new();
        let mut first_option = 0;
        if !args[0].starts_with('-') {
            // Redis reports (and remembers) the file by its absolute path.
            let path = cfg.dir.join(&args[0]);
            text = read_config_file(&path, &path.to_string_lossy())?;
            cfg.file = Some(path);
            first_option = 1;
        }
        let options = cli_options(args, first_option)?;
        text.push(b'\n');
        text.extend_from_slice(&options);
        cfg.load_text(&text, 0)?;
        Ok(cfg)
    }

    /// CONFIG GET: the parameters matching any of `patterns`, as (name, value) pairs. A pattern
    /// without `*`, `?` or `[` is an exact, case-insensitive lookup answered under the name as
    /// typed; a glob pattern is matched case-insensitively against every canonical name and
    /// alias. Each name appears once (compared case-insensitively), as in Redis 7.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let seen = |out: &[(String, String)], key: &[u8]| {
            out.iter()
                .any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(key))
        };
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                if !seen(&out, pattern) {
                    if let Some((p, _)) = lookup(pattern) {
                        out.push((lossy(pattern), p.render(self)));
                    }
                }
                continue;
            }
            for p in PARAMS {
                for key in p.keys() {
                    if !seen(&out, key.as_bytes()) && glob_match(pattern, key.as_bytes(), true) {
                        out.push((key.to_string(), p.render(self)));
                    }
                }
            }
        }
        out
    }

    /// CONFIG REWRITE's view of the configuration: every parameter as the line a config file
    /// needs to reproduce it, and whether the line must be written even where the old file
    /// does not mention the parameter (its value is not the default; `save` and `dir` always,
    /// as Redis). Values are written as Redis' rewrite writes them: strings quoted, sizes with
    /// the largest exact unit (`100mb`), multi-word values as words. `None`: the parameter's
    /// lines are removed (`replicaof` on a primary).
    pub fn rewrite_lines(&self) -> Vec<(&'static str, Option<String>, bool)> {
        let defaults = Config::default();
        PARAMS
            .iter()
            .map(|p| {
                let value = p.render(self);
                if p.name == "replicaof" && value.is_empty() {
                    return (p.name, None, false);
                }
                let forced = matches!(p.name, "save" | "dir") || value != p.render(&defaults);
                let mut line = p.name.as_bytes().to_vec();
                line.push(b' ');
                match p.kind {
                    Kind::Memory { get, .. } => line.extend(memory_with_unit(get(self)).bytes()),
                    Kind::Str { .. } => push_repr(&mut line, value.as_bytes()),
                    Kind::Special { .. } if p.flags & STRING != 0 => {
                        push_repr(&mut line, value.as_bytes())
                    }
                    _ if value.is_empty() => line.extend_from_slice(b"\"\""),
                    _ => line.extend(value.bytes()),
                }
                (
                    p.name,
                    Some(String::from_utf8_lossy(&line).into_owned()),
                    forced,
                )
            })
            .collect()
    }

    /// The canonical name of the parameter `name` names (any case, or an alias).
    pub fn canonical_name(name: &[u8]) -> Option<&'static str> {
        lookup(name).map(|(p, _)| p.name)
    }

    /// CONFIG SET for a client that is not local (see [`Config::set_for_client`]).
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_for_client(pairs, false)
    }

    /// CONFIG SET name value [name value ...]: all or nothing. Every name is checked (unknown,
    /// immutable, protected, duplicate: the first problem in argument order is reported), then
    /// every value is validated, and only then is anything changed. `local_client` is whether
    /// the connection is local (loopback or unix socket), for `enable-protected-configs local`.
    /// Returns the canonical names of the parameters whose value changed, so the caller can
    /// apply side effects (re-bind on `port`/`bind`, log level, hz...); if applying one fails,
    /// the caller restores its copy of the old configuration and replies with
    /// [`Config::set_error`]. Errors are full Redis error lines starting with `ERR `.
    pub fn set_for_client(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        local_client: bool,
    ) -> Result<Vec<&'static str>, String> {
        let mut found: Vec<(&'static Param, &'static str, &[u8])> = Vec::new();
        let mut first_err = None;
        for &(name, value) in pairs {
            let Some((p, key)) = lookup(name) else {
                first_err.get_or_insert_with(|| {
                    format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        lossy(name)
                    )
                });
                continue;
            };
            if first_err.is_some() {
                continue;
            }
            let problem = if p.flags & IMMUTABLE != 0 {
                Some("can't set immutable config")
            } else if p.flags & PROTECTED != 0
                && !self.enable_protected_configs.allows(local_client)
            {
                Some("can't set protected config")
            } else if found.iter().any(|&(_, k, _)| k == key) {
                // By matched name: Redis registers an alias as an entry of its own, so a name
                // and its alias are not duplicates (the later one wins).
                Some("duplicate parameter")
            } else {
                None
            };
            match problem {
                Some(msg) => first_err = Some(Config::set_error(&lossy(name), msg)),
                None => found.push((p, key, value)),
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }

        let mut applies = Vec::with_capacity(found.len());
        for &(p, key, value) in &found {
            let args = if p.flags & MULTI_ARG != 0 {
                split_spaces(value)
            } else {
                vec![value]
            };
            // Value errors name the key as the table spells it (lowercase), like Redis.
            let apply = p
                .parse(self, &args)
                .map_err(|e| Config::set_error(key, &e))?;
            applies.push((p, apply));
        }

        let mut changed = Vec::new();
        for (p, apply) in applies {
            let before = p.render(self);
            apply(self);
            if p.render(self) != before && !changed.contains(&p.name) {
                changed.push(p.name);
            }
        }
        Ok(changed)
    }

    /// The CONFIG SET error for `param` with reason `msg`, in Redis' words. For the caller's
    /// own failures while applying a change, e.g. `set_error("port", "Unable to listen on this
    /// port. Check server logs.")` or `set_error("bind", "Failed to bind to specified
    /// addresses.")`.
    pub fn set_error(param: &str, msg: &str) -> String {
        format!("ERR CONFIG SET failed (possibly related to argument '{param}') - {msg}")
    }

    /// Whether CONFIG SET `name`'s value is a secret to redact from SLOWLOG, MONITOR...
    pub fn is_sensitive(name: &[u8]) -> bool {
        lookup(name).is_some_and(|(p, _)| p.flags & SENSITIVE != 0)
    }

    /// A memory amount as Redis' memtoull reads it: decimal digits then an optional unit,
    /// case-insensitive: b (1), k (1000), kb (1024), m (10^6), mb (2^20), g (10^9), gb (2^30).
    /// No sign, spaces or fractions. Like memtoull, no digits at all reads as 0 ("" and "kb"
    /// are 0) and too many digits saturate; unlike it, the unit multiplication saturates
    /// instead of wrapping around, so an absurd size stays absurd and fails range checks.
    pub fn parse_memory(s: &[u8]) -> Option<u64> {
        let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
        let mul: u64 = match s[digits..].to_ascii_lowercase().as_slice() {
            b"" | b"b" => 1,
            b"k" => 1000,
            b"kb" => 1024,
            b"m" => 1000 * 1000,
            b"mb" => 1024 * 1024,
            b"g" => 1000 * 1000 * 1000,
            b"gb" => 1024 * 1024 * 1024,
            _ => return None,
        };
        if digits >= 128 {
            return None; // memtoull's buffer limit
        }
        let n = s[..digits].iter().fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        Some(n.saturating_mul(mul))
    }

    /// Applies configuration text (redis.conf syntax), line by line as Redis does: a bad line
    /// stops loading with the fatal-error text, earlier lines stay applied.
    fn load_text(&mut self, text: &[u8], depth: usize) -> Result<(), String> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim_line(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fail = |msg: &str| fatal(i + 1, line, msg);
            let argv =
                split_args(line).ok_or_else(|| fail("Unbalanced quotes in configuration line"))?;
            let Some(name) = argv.first() else { continue };
            let args: Vec<&[u8]> = argv[1..].iter().map(Vec::as_slice).collect();
            if let Some((p, _)) = lookup(name) {
                if p.flags & MULTI_ARG == 0 && args.len() != 1 {
                    return Err(fail("wrong number of arguments"));
                }
                let apply = p.parse(self, &args).map_err(|e| fail(&e))?;
                apply(self);
            } else if name.eq_ignore_ascii_case(b"user") && !args.is_empty() {
                self.add_user(&args).map_err(|e| fail(&e))?;
            } else if name.eq_ignore_ascii_case(b"include") && args.len() == 1 {
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(fail("Too many nested include directives"));
                }
                self.include(args[0], depth + 1)?;
            } else {
                return Err(fail("Bad directive or wrong number of arguments"));
            }
        }
        Ok(())
    }

    /// `user <name> [rules...]`: checked now (Redis' ACLAppendUserForLoading), applied at
    /// start-up by `acl::Acl::new`. One argument holding spaces (`--user "alice on >p"`) is
    /// split at them.
    fn add_user(&mut self, args: &[&[u8]]) -> Result<(), String> {
        use crate::acl::user::{merge_selector_args, RuleError, User};
        let split;
        let args = match args {
            [one] if one.contains(&b' ') => {
                split = split_spaces(one)
                    .into_iter()
                    .filter(|a| !a.is_empty())
                    .collect::<Vec<_>>();
                &split[..]
            }
            _ => args,
        };
        let name = args[0];
        let declared = |op: &[u8], e: RuleError| {
            format!("Error in user declaration '{}': {}", lossy(op), e.message())
        };
        if self.users.iter().any(|u| u[0] == name) {
            return Err(declared(name, RuleError::Duplicate));
        }
        let ops = merge_selector_args(&args[1..]).map_err(|i| {
            format!(
                "Error in user declaration '{}': Unmatched parenthesis in selector definition",
                lossy(args[1 + i])
            )
        })?;
        let mut probe = User::new(name, self.acl_pubsub_default_all);
        for op in &ops {
            match probe.apply(op, self.acl_pubsub_default_all) {
                Ok(()) | Err(RuleError::UnknownCommand) => {}
                Err(e) => return Err(declared(op, e)),
            }
        }
        let mut user = vec![name.to_vec()];
        user.extend(ops);
        self.users.push(user);
        Ok(())
    }

    /// `include path`: parsed on its own (its errors count its own lines). A path with `*`,
    /// `?` or `[` is a glob: the matching files, sorted, are read as one text, and no match
    /// is not an error (so an empty conf.d directory is fine), as in Redis.
    fn include(&mut self, pattern: &[u8], depth: usize) -> Result<(), String> {
        let text = if pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            let mut text = Vec::new();
            for path in expand_glob(&self.dir, pattern) {
                text.extend(read_config_file(&path, &path.to_string_lossy())?);
            }
            text
        } else {
            read_config_file(&self.dir.join(OsStr::from_bytes(pattern)), &lossy(pattern))?
        };
        self.load_text(&text, depth)
    }
}

// ---------------------------------------------------------------------------------------------
// Redis' parsing rules
// ---------------------------------------------------------------------------------------------

fn fatal(line_no: usize, line: &[u8], msg: &str) -> String {
    // The leading blank line is part of what redis-server prints.
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
         Reading the configuration file, at line {line_no}\n>>> '{}'\n{msg}",
        String::from_utf8_lossy(line)
    )
}

fn read_config_file(path: &Path, shown: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        format!(
            "Fatal error, can't open config file '{shown}': {}",
            strerror(&e)
        )
    })
}

/// What C's strerror says for the error, without Rust's " (os error N)".
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The command-line options as config text, as redis-server's main() builds it: `--name`
/// starts a line, the words up to the next `--name` are appended quoted (sdscatrepr), so
/// `--bind 127.0.0.1 ::1` gives `bind "127.0.0.1" "::1"`. A `--name` with nothing after it
/// takes the next word as its value even if it starts with `--` (`--requirepass --x`), except
/// `--save`, which then means `--save ""`.
fn cli_options(args: &[String], start: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut value_given = true;
    for j in start..args.len() {
        let arg = args[j].as_bytes();
        if arg == b"-" && (j == 0 || j == args.len() - 1) {
            return Err(
                "Reading the configuration from standard input ('-') is not supported".into(),
            );
        } else if value_given && arg.starts_with(b"--") {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(&arg[2..]);
            out.push(b' ');
            // "--port 6380" as one word carries its own value.
            value_given = split_args(arg).map_or(0, |v| v.len()) != 1;
            let next_is_option = args.get(j + 1).is_none_or(|n| n.starts_with("--"));
            if !value_given && next_is_option && arg.eq_ignore_ascii_case(b"--save") {
                out.extend_from_slice(b"\"\"");
                value_given = true;
            }
        } else {
            push_repr(&mut out, arg);
            out.push(b' ');
            value_given = true;
        }
    }
    Ok(out)
}

/// A size as Redis' rewrite writes it: in the largest unit that divides it exactly.
fn memory_with_unit(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb")];
    match UNITS
        .iter()
        .find(|(n, _)| bytes != 0 && bytes.is_multiple_of(*n))
    {
        Some((n, unit)) => format!("{}{unit}", bytes / n),
        None => bytes.to_string(),
    }
}

/// sdscatrepr: a double-quoted string that split_args reads back as `s` (also MONITOR's
/// quoting of arguments).
pub(crate) fn push_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// sdstrim(line, " \t\r\n").
pub(crate) fn trim_line(mut s: &[u8]) -> &[u8] {
    let junk = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    while s.first().is_some_and(junk) {
        s = &s[1..];
    }
    while s.last().is_some_and(junk) {
        s = &s[..s.len() - 1];
    }
    s
}

/// sdssplitargs: words separated by spaces; "double quotes" with \n \r \t \b \a \xHH and
/// \<any> escapes; 'single quotes' with only \' ; a quote may start mid-word (a"b c" is one
/// word) but a closing quote must be followed by a space or the end. None if unbalanced.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // C strings end at the first NUL.
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let (mut out, mut spans) = (Vec::new(), smallvec::SmallVec::new());
    crate::resp::split_quoted(line, &mut out, &mut spans)?;
    Some(
        spans
            .iter()
            .map(|&(s, e)| out[s as usize..e as usize].to_vec())
            .collect(),
    )
}

/// How CONFIG SET splits a multi-argument value (sdssplitlen on " "): every space separates,
/// so doubled spaces give empty words; an empty value gives no words.
fn split_spaces(v: &[u8]) -> Vec<&[u8]> {
    if v.is_empty() {
        Vec::new()
    } else {
        v.split(|&b| b == b' ').collect()
    }
}

/// Redis' yesnotoi: "yes" or "no", any case.
fn parse_yes_no(s: &[u8]) -> Option<bool> {
    if s.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// glob(3) for `include`: wildcards in any path component, hidden entries only for a
/// component starting with '.', existing paths only, sorted.
fn expand_glob(base: &Path, pattern: &[u8]) -> Vec<PathBuf> {
    let (mut found, rest) = match pattern.strip_prefix(b"/") {
        Some(rest) => (vec![PathBuf::from("/")], rest),
        None => (vec![base.to_path_buf()], pattern),
    };
    for comp in rest.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        let wild = comp.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        let mut next = Vec::new();
        for dir in &found {
            if !wild {
                next.push(dir.join(OsStr::from_bytes(comp)));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for name in entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().into_vec())
            {
                let hidden_ok = comp[0] == b'.' || name.first() != Some(&b'.');
                if hidden_ok && glob_match(comp, &name, false) {
                    next.push(dir.join(OsStr::from_bytes(&name)));
                }
            }
        }
        found = next;
    }
    found.retain(|p| p.exists());
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory, removed when dropped (tests run in parallel: one per test).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let p =
                std::env::temp_dir().join(format!("shardis-config-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(std::fs::canonicalize(p).unwrap())
        }

        fn file(&self, name: &str, text: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn cli(args: &[&str]) -> Result<Config, String> {
        Config::from_cli(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn get1(c: &Config, name: &str) -> String {
        let r = c.get(&[name.as_bytes()]);
        assert_eq!(r.len(), 1, "{name}: {r:?}");
        r[0].1.clone()
    }

    fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        c.set(&pairs)
    }

    fn banner(line: usize, text: &str, msg: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{msg}"
        )
    }

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, ["127.0.0.1", "::1"]);
        assert_eq!((c.databases, c.maxclients, c.timeout_secs), (16, 10000, 0));
        assert_eq!(
            (c.tcp_keepalive_secs, c.tcp_backlog, c.hz, c.shards),
            (300, 511, 10, 0)
        );
        assert!(c.requirepass.is_none() && c.protected_mode);
        assert_eq!(c.loglevel, LogLevel::Notice);
        assert_eq!(
            (c.proto_max_bulk_len, c.client_query_buffer_limit),
            (536870912, 1073741824)
        );
        assert_eq!(c.enable_debug_command, Access::No);
        assert_eq!(c.enable_protected_configs, Access::No);
        assert_eq!(c.dir, std::env::current_dir().unwrap());
        let expect = [
            ("port", "6379"),
            ("bind", "127.0.0.1 ::1"),
            ("databases", "16"),
            ("requirepass", ""),
            ("maxclients", "10000"),
            ("timeout", "0"),
            ("tcp-keepalive", "300"),
            ("tcp-backlog", "511"),
            ("protected-mode", "yes"),
            ("loglevel", "notice"),
            ("logfile", ""),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("enable-debug-command", "no"),
            ("enable-protected-configs", "no"),
            ("hz", "10"),
            ("daemonize", "no"),
            ("pidfile", ""),
            ("shards", "0"),
            ("replicaof", ""),
            ("masterauth", ""),
            ("masteruser", ""),
            ("replica-read-only", "yes"),
            ("slave-read-only", "yes"),
            ("replica-serve-stale-data", "yes"),
            ("repl-timeout", "60"),
            ("replica-priority", "100"),
            ("replica-announced", "yes"),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("maxmemory-samples", "5"),
            ("maxmemory-eviction-tenacity", "10"),
            ("lfu-log-factor", "10"),
            ("lfu-decay-time", "1"),
            ("replica-ignore-maxmemory", "yes"),
            ("slave-ignore-maxmemory", "yes"),
        ];
        for (name, value) in expect {
            assert_eq!(get1(&c, name), value, "{name}");
        }
        assert_eq!(Config::from_cli(&[]).unwrap().port, 6379);
        // The enum tables index NAMES by discriminant.
        assert!(LogLevel::ALL
            .iter()
            .enumerate()
            .all(|(i, &l)| l as usize == i));
        assert!(Access::ALL
            .iter()
            .enumerate()
            .all(|(i, &a)| a as usize == i));
    }

    #[test]
    fn file_with_comments_quotes_and_blank_lines() {
        let t = TempDir::new("file");
        let path = t.file(
            "redis.conf",
            "# a comment\n\n   # indented comment\r\nPORT 7000\r\n  bind 127.0.0.1 \"::1\"  \n\
             requirepass \"p\\x41ss\\n\\\"w\"\nlogfile 'it\\'s.log'\nloglevel WARNING\n\
             protected-mode No\nproto-max-bulk-len 2MB\nhz 1000\ntimeout 0\ntimeout 30\n",
        );
        let c = cli(&[&path]).unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, ["127.0.0.1", "::1"]);
        assert_eq!(c.requirepass.as_deref(), Some(&b"pAss\n\"w"[..]));
        assert_eq!(c.logfile, "it's.log");
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert!(!c.protected_mode);
        assert_eq!(c.proto_max_bulk_len, 2 << 20);
        assert_eq!(c.hz, 500, "hz is clamped, not refused");
        assert_eq!(c.timeout_secs, 30, "the last occurrence wins");
    }

    #[test]
    fn file_errors_name_the_line() {
        let t = TempDir::new("errors");
        let path = t.file("a.conf", "port 7000\n# c\n\nfoo bar\n");
        assert_eq!(
            cli(&[&path]).unwrap_err(),
            banner(4, "foo bar", "Bad directive or wrong number of arguments")
        );
        let cases = [
            ("  port   70000  \n", "port   70000", "argument must be between 0 and 65535 inclusive"),
            ("port\n", "port", "wrong number of arguments"),
            ("port 1 2\n", "port 1 2", "wrong number of arguments"),
            ("port \"7000\n", "port \"7000", "Unbalanced quotes in configuration line"),
            ("port \"70\"00\n", "port \"70\"00", "Unbalanced quotes in configuration line"),
            ("hz abc\n", "hz abc", "argument couldn't be parsed into an integer"),
            ("protected-mode maybe\n", "protected-mode maybe", "argument must be 'yes' or 'no'"),
            ("maxmemory-clients 1gb\n", "maxmemory-clients 1gb", "Bad directive or wrong number of arguments"),
            ("maxmemory-policy lru\n", "maxmemory-policy lru", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
            ("maxmemory-samples 65\n", "maxmemory-samples 65", "argument must be between 1 and 64 inclusive"),
            ("save 3600\n", "save 3600", "Invalid save parameters"),
            ("port 7000 # comment\n", "port 7000 # comment", "wrong number of arguments"),
            (
                "loglevel loud\n",
                "loglevel loud",
                "argument(s) must be one of the following: debug, verbose, notice, warning, nothing",
            ),
            (
                "enable-debug-command maybe\n",
                "enable-debug-command maybe",
                "argument(s) must be one of the following: no, yes, local",
            ),
            ("proto-max-bulk-len 1k\n", "proto-max-bulk-len 1k", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ("client-query-buffer-limit 1.5gb\n", "client-query-buffer-limit 1.5gb", "argument must be a memory value"),
        ];
        for (text, line, msg) in cases {
            let path = t.file("b.conf", text);
            assert_eq!(cli(&[&path]).unwrap_err(), banner(1, line, msg), "{text:?}");
        }
        let missing = t.0.join("missing.conf").to_string_lossy().into_owned();
        assert_eq!(
            cli(&[&missing]).unwrap_err(),
            format!("Fatal error, can't open config file '{missing}': No such file or directory")
        );
    }

    #[test]
    fn cli_options_are_a_pseudo_file_after_the_config_file() {
        // As redis-server: the file's lines, one blank line, then one line per --option.
        let t = TempDir::new("cli");
        let path = t.file("a.conf", "port 7000\nhz 20\n");
        assert_eq!(
            cli(&[&path, "--port", "7001", "--foo", "bar"]).unwrap_err(),
            banner(
                5,
                "foo \"bar\"",
                "Bad directive or wrong number of arguments"
            )
        );
        assert_eq!(
            cli(&["--port", "7000", "--foo", "bar", "x y", "q\"uote"]).unwrap_err(),
            banner(
                3,
                "foo \"bar\" \"x y\" \"q\\\"uote\"",
                "Bad directive or wrong number of arguments"
            )
        );
        assert_eq!(
            cli(&["--port"]).unwrap_err(),
            banner(2, "port", "wrong number of arguments")
        );
        assert_eq!(
            cli(&["--port", "1", "2"]).unwrap_err(),
            banner(2, "port \"1\" \"2\"", "wrong number of arguments")
        );
        assert_eq!(
            cli(&["--port", "70000"]).unwrap_err(),
            banner(
                2,
                "port \"70000\"",
                "argument must be between 0 and 65535 inclusive"
            )
        );

        let c = cli(&[
            &path,
            "--port",
            "7001",
            "--bind",
            "10.0.0.1",
            "-::1",
            "--requirepass",
            "--x",
        ])
        .unwrap();
        assert_eq!((c.port, c.hz), (7001, 20));
        assert_eq!(c.bind, ["10.0.0.1", "-::1"]);
        assert_eq!(
            c.requirepass.as_deref(),
            Some(&b"--x"[..]),
            "a bare --name takes the next word"
        );
        let c = cli(&["--port 7002", "--loglevel", "debug"]).unwrap();
        assert_eq!((c.port, c.loglevel), (7002, LogLevel::Debug));
        let c = cli(&["--requirepass", "a \\ \"b\"\n\x01"]).unwrap();
        assert_eq!(
            c.requirepass.as_deref(),
            Some(&b"a \\ \"b\"\n\x01"[..]),
            "values survive quoting"
        );
        assert!(cli(&["-"]).unwrap_err().contains("standard input"));
        // `--save` alone means `save ""`: no snapshots.
        let c = cli(&["--save", "--port", "1"]).unwrap();
        assert_eq!((c.port, c.save_points.len()), (1, 0));
        let c = cli(&["--save", "3600 1 300 100"]).unwrap();
        assert_eq!(c.save_points, [(3600, 1), (300, 100)]);
        assert!(cli(&["--save", "3600"])
            .unwrap_err()
            .contains("Invalid save parameters"));
    }

    #[test]
    fn daemonize_yes_is_refused() {
        let err = cli(&["--daemonize", "yes"]).unwrap_err();
        assert!(
            err.starts_with(&banner(
                2,
                "daemonize \"yes\"",
                "Shardis does not daemonize"
            )),
            "{err}"
        );
        assert!(cli(&["--daemonize", "no"]).is_ok());
        assert!(cli(&["--daemonize", "maybe"])
            .unwrap_err()
            .ends_with("argument must be 'yes' or 'no'"));
    }

    #[test]
    fn include_and_dir_resolve_like_chdir() {
        let t = TempDir::new("include");
        std::fs::create_dir_all(t.0.join("sub/conf.d")).unwrap();
        t.file("sub/conf.d/b.conf", "hz 30\n");
        t.file("sub/conf.d/a.conf", "hz 20\ntimeout 5\n");
        t.file("sub/conf.d/.hidden.conf", "hz 99\n");
        t.file("sub/conf.d/notes.txt", "garbage\n");
        t.file("sub/extra.conf", "port 7100\n");
        let main = t.file(
            "main.conf",
            &format!(
                "dir {}\ndir sub\ninclude extra.conf\ninclude conf.d/*.conf\ninclude nothing-here/*.conf\n",
                t.0.display()
            ),
        );
        let c = cli(&[&main]).unwrap();
        assert_eq!(c.dir, t.0.join("sub"));
        assert_eq!(
            (c.port, c.hz, c.timeout_secs),
            (7100, 30, 5),
            "sorted: a.conf then b.conf"
        );

        let bad = t.file("sub/bad.conf", "port 1\nport x\n");
        let main = t.file("main2.conf", &format!("include {bad}\n"));
        assert_eq!(
            cli(&[&main]).unwrap_err(),
            banner(2, "port x", "argument couldn't be parsed into an integer"),
            "errors count the included file's lines"
        );
        let main = t.file("main3.conf", "include missing.conf\n");
        assert_eq!(
            cli(&[&main]).unwrap_err(),
            "Fatal error, can't open config file 'missing.conf': No such file or directory"
        );
        let looped = t.file(
            "loop.conf",
            &format!("dir {}\ninclude loop.conf\n", t.0.display()),
        );
        assert!(cli(&[&looped])
            .unwrap_err()
            .ends_with("Too many nested include directives"));

        let cases = [
            ("dir nowhere\n", "No such file or directory"),
            ("dir main.conf\n", "Not a directory"),
        ];
        for (text, msg) in cases {
            let path = t.file("d.conf", &format!("dir {}\n{text}", t.0.display()));
            assert_eq!(cli(&[&path]).unwrap_err(), banner(2, text.trim(), msg));
        }
    }

    #[test]
    fn split_args_follows_sdssplitargs() {
        let w = |s: &str| split_args(s.as_bytes());
        let v = |a: &[&str]| Some(a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>());
        assert_eq!(w("  a  b\tc "), v(&["a", "b", "c"]));
        assert_eq!(w(r#""a b" 'c d' """#), v(&["a b", "c d", ""]));
        assert_eq!(w(r#""\x41\x4g\n\t\"\\\q""#), v(&["Ax4g\n\t\"\\q"]));
        assert_eq!(w(r"'it\'s \n'"), v(&["it's \\n"]));
        assert_eq!(w(r#"ab"c d"e"#), None);
        assert_eq!(w(r#"ab"c d" e"#), v(&["abc d", "e"]));
        assert_eq!(w("'x"), None);
        assert_eq!(w("\"x\\"), None);
        assert_eq!(w("\x0b"), v(&[]));
    }

    #[test]
    fn config_set_errors_are_redis_errors() {
        let mut c = Config::default();
        let fail = |name: &str, msg: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {msg}")
        };
        let cases: &[(&str, &str, String)] = &[
            ("port", "abc", fail("port", "argument couldn't be parsed into an integer")),
            ("PORT", "abc", fail("port", "argument couldn't be parsed into an integer")),
            ("port", "70000", fail("port", "argument must be between 0 and 65535 inclusive")),
            ("port", "-1", fail("port", "argument must be between 0 and 65535 inclusive")),
            ("timeout", " 5", fail("timeout", "argument couldn't be parsed into an integer")),
            ("timeout", "+5", fail("timeout", "argument couldn't be parsed into an integer")),
            ("timeout", "05", fail("timeout", "argument couldn't be parsed into an integer")),
            ("timeout", "-0", fail("timeout", "argument couldn't be parsed into an integer")),
            ("timeout", "", fail("timeout", "argument couldn't be parsed into an integer")),
            ("timeout", "99999999999", fail("timeout", "argument must be between 0 and 2147483647 inclusive")),
            ("timeout", "99999999999999999999", fail("timeout", "argument couldn't be parsed into an integer")),
            ("hz", "-1", fail("hz", "argument must be between 0 and 2147483647 inclusive")),
            ("maxclients", "0", fail("maxclients", "argument must be between 1 and 4294967295 inclusive")),
            ("protected-mode", "maybe", fail("protected-mode", "argument must be 'yes' or 'no'")),
            (
                "loglevel",
                "foo",
                fail("loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"),
            ),
            ("proto-max-bulk-len", "abc", fail("proto-max-bulk-len", "argument must be a memory value")),
            ("proto-max-bulk-len", "-5", fail("proto-max-bulk-len", "argument must be a memory value")),
            ("proto-max-bulk-len", "0x10", fail("proto-max-bulk-len", "argument must be a memory value")),
            (
                "proto-max-bulk-len",
                "1k",
                fail("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ),
            (
                "client-query-buffer-limit",
                "",
                fail("client-query-buffer-limit", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ),
            ("bind", "127.0.0.1  ::1", fail("bind", "Failed to bind to specified addresses.")),
            ("bind", &["a"; 17].join(" "), fail("bind", "Too many bind addresses specified.")),
            ("databases", "5", fail("databases", "can't set immutable config")),
            ("DataBases", "5", fail("DataBases", "can't set immutable config")),
            ("tcp-backlog", "5", fail("tcp-backlog", "can't set immutable config")),
            ("logfile", "x", fail("logfile", "can't set immutable config")),
            ("pidfile", "x", fail("pidfile", "can't set immutable config")),
            ("daemonize", "no", fail("daemonize", "can't set immutable config")),
            ("shards", "2", fail("shards", "can't set immutable config")),
            ("enable-debug-command", "yes", fail("enable-debug-command", "can't set immutable config")),
            ("enable-protected-configs", "yes", fail("enable-protected-configs", "can't set immutable config")),
            ("dir", "/tmp", fail("dir", "can't set protected config")),
            ("foo", "1", "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into()),
            ("maxmemory-clients", "1gb", "ERR Unknown option or number of arguments for CONFIG SET - 'maxmemory-clients'".into()),
            ("io-threads", "4", "ERR Unknown option or number of arguments for CONFIG SET - 'io-threads'".into()),
        ];
        for (name, value, err) in cases {
            let before = format!("{:?}", c.get(&[b"*"]));
            assert_eq!(
                set(&mut c, &[(name, value)]).unwrap_err(),
                *err,
                "{name} {value:?}"
            );
            assert_eq!(
                format!("{:?}", c.get(&[b"*"])),
                before,
                "a failed SET changes nothing"
            );
        }
    }

    #[test]
    fn config_set_applies_and_reports_changes() {
        let mut c = Config::default();
        let changed = set(
            &mut c,
            &[
                ("PORT", "7000"),
                ("hz", "1000"),
                ("timeout", "0"),
                ("bind", ""),
            ],
        )
        .unwrap();
        assert_eq!(changed, ["port", "hz", "bind"], "timeout did not change");
        assert_eq!((c.port, c.hz, c.bind.len()), (7000, 500, 0));
        assert_eq!(get1(&c, "hz"), "500");
        set(&mut c, &[("hz", "0")]).unwrap();
        assert_eq!(c.hz, 1);
        set(
            &mut c,
            &[
                ("requirepass", "secret"),
                ("loglevel", "NOTHING"),
                ("protected-mode", "NO"),
            ],
        )
        .unwrap();
        assert_eq!(c.requirepass.as_deref(), Some(&b"secret"[..]));
        assert_eq!((c.loglevel, c.protected_mode), (LogLevel::Nothing, false));
        set(&mut c, &[("requirepass", "")]).unwrap();
        assert!(c.requirepass.is_none());
        set(
            &mut c,
            &[
                ("proto-max-bulk-len", "1g"),
                ("client-query-buffer-limit", "2GB"),
            ],
        )
        .unwrap();
        assert_eq!(
            (c.proto_max_bulk_len, c.client_query_buffer_limit),
            (1_000_000_000, 2 << 30)
        );
        assert_eq!(get1(&c, "proto-max-bulk-len"), "1000000000");
        set(&mut c, &[("bind", "127.0.0.1 -::1")]).unwrap();
        assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
        assert_eq!(
            set(&mut c, &[("bind", "127.0.0.1 -::1")]).unwrap(),
            Vec::<&str>::new()
        );
        assert!(Config::is_sensitive(b"RequirePass") && !Config::is_sensitive(b"port"));
    }

    #[test]
    fn config_set_is_all_or_nothing() {
        let mut c = Config::default();
        let err = set(&mut c, &[("timeout", "5"), ("port", "abc")]).unwrap_err();
        assert!(err.contains("'port'"));
        assert_eq!((c.timeout_secs, c.port), (0, 6379));
        // The first problem with a name, in argument order, wins; values are checked after.
        let unknown = "ERR Unknown option or number of arguments for CONFIG SET - 'foo'";
        assert_eq!(
            set(&mut c, &[("port", "x"), ("foo", "1"), ("databases", "3")]).unwrap_err(),
            unknown
        );
        assert_eq!(
            set(&mut c, &[("databases", "3"), ("foo", "1")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
        );
        assert_eq!(
            set(&mut c, &[("maxclients", "5"), ("MAXCLIENTS", "6")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter"
        );
        assert_eq!(
            set(&mut c, &[("tcp-keepalive", "1"), ("tcp-keepalive", "x"), ("foo", "1")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'tcp-keepalive') - duplicate parameter"
        );
        assert_eq!((c.maxclients, c.tcp_keepalive_secs), (10000, 300));
    }

    #[test]
    fn protected_dir() {
        let t = TempDir::new("dir");
        std::fs::create_dir(t.0.join("data")).unwrap();
        t.file("f", "");
        let mut c = cli(&[
            "--dir",
            &t.0.to_string_lossy(),
            "--enable-protected-configs",
            "local",
        ])
        .unwrap();
        let pairs: &[(&[u8], &[u8])] = &[(b"dir", b"data")];
        assert!(c
            .set(pairs)
            .unwrap_err()
            .ends_with("can't set protected config"));
        assert_eq!(c.set_for_client(pairs, true).unwrap(), ["dir"]);
        assert_eq!(c.dir, t.0.join("data"));
        assert_eq!(get1(&c, "dir"), t.0.join("data").to_string_lossy());
        let fail = |v: &[u8]| c.clone().set_for_client(&[(b"dir", v)], true).unwrap_err();
        assert!(fail(b"../f").ends_with("- Not a directory"));
        assert!(fail(b"nope").ends_with("- No such file or directory"));
        assert!(fail(b"").ends_with("- No such file or directory"));
        c.set_for_client(&[(b"dir", b"..")], true).unwrap();
        assert_eq!(c.dir, t.0);
        assert!(
            Access::Yes.allows(false) && !Access::No.allows(true) && !Access::Local.allows(false)
        );
    }

    #[test]
    fn config_get_globs() {
        let c = Config::default();
        let names = |pats: &[&str]| {
            let pats: Vec<&[u8]> = pats.iter().map(|p| p.as_bytes()).collect();
            c.get(&pats).into_iter().map(|(n, _)| n).collect::<Vec<_>>()
        };
        let all = names(&["*"]);
        let aliases: usize = PARAMS.iter().map(|p| p.aliases.len()).sum();
        assert_eq!(
            all.len(),
            PARAMS.len() + aliases,
            "globs list aliases too, as Redis"
        );
        assert_eq!(names(&["max*s"]), ["maxclients", "maxmemory-samples"]);
        assert_eq!(names(&["proto-max*"]), ["proto-max-bulk-len"]);
        assert_eq!(names(&["PO*"]), ["port"]);
        assert_eq!(
            names(&["p*"]),
            ["port", "protected-mode", "proto-max-bulk-len", "pidfile"]
        );
        assert_eq!(names(&["port"]), ["port"]);
        assert_eq!(names(&["PORT"]), ["PORT"], "an exact name answers as typed");
        assert_eq!(
            names(&["PORT", "p*"]),
            ["PORT", "protected-mode", "proto-max-bulk-len", "pidfile"]
        );
        assert_eq!(
            names(&["p*", "PORT"]),
            ["port", "protected-mode", "proto-max-bulk-len", "pidfile"]
        );
        assert_eq!(
            names(&["port", "hz", "port", "*"]).len(),
            PARAMS.len() + aliases,
            "no duplicates"
        );
        assert_eq!(
            names(&["tcp-*", "timeout"]),
            ["tcp-keepalive", "tcp-backlog", "timeout"]
        );
        assert_eq!(
            names(&["[bd]*"]),
            [
                "bind",
                "databases",
                "dir",
                "busy-reply-threshold",
                "daemonize",
                "disable-thp",
                "dbfilename"
            ]
        );
        assert!(names(&["nosuch", "maxmemory-clients", "x*"]).is_empty());
        assert_eq!(
            c.get(&[b"save", b"appendonly"]),
            [
                ("save".to_string(), String::new()),
                ("appendonly".to_string(), "no".to_string())
            ]
        );
        assert_eq!(
            c.get(&[b"maxclients"]),
            [("maxclients".to_string(), "10000".to_string())]
        );
    }

    #[test]
    fn memory_units() {
        let m = |s: &str| Config::parse_memory(s.as_bytes());
        assert_eq!(m("0"), Some(0));
        assert_eq!(m("123"), Some(123));
        assert_eq!(m("5b"), Some(5));
        assert_eq!(m("1k"), Some(1000));
        assert_eq!(m("1KB"), Some(1024));
        assert_eq!(m("2m"), Some(2_000_000));
        assert_eq!(m("2Mb"), Some(2 << 20));
        assert_eq!(m("3g"), Some(3_000_000_000));
        assert_eq!(m("3gB"), Some(3 << 30));
        assert_eq!(m(""), Some(0), "memtoull reads no digits as 0");
        assert_eq!(m("kb"), Some(0));
        assert_eq!(m("99999999999999999999"), Some(u64::MAX));
        assert_eq!(m("99999999999gb"), Some(u64::MAX));
        for bad in ["-1", "+1", " 1", "1 ", "1.5gb", "1t", "1kbb", "0x10", "1e3"] {
            assert_eq!(m(bad), None, "{bad}");
        }
    }

    #[test]
    fn replication_directives() {
        let c = cli(&["--replicaof", "127.0.0.1", "6380", "--masterauth", "pw"]).unwrap();
        assert_eq!(c.replicaof, Some(("127.0.0.1".into(), 6380)));
        assert_eq!(get1(&c, "replicaof"), "127.0.0.1 6380");
        assert_eq!(get1(&c, "slaveof"), "127.0.0.1 6380");
        assert_eq!(c.masterauth, b"pw");
        assert_eq!(
            cli(&["--slaveof", "h 7"]).unwrap().replicaof,
            Some(("h".into(), 7))
        );
        assert_eq!(cli(&["--replicaof", "no", "one"]).unwrap().replicaof, None);
        assert!(cli(&["--replicaof", "h", "70000"])
            .unwrap_err()
            .contains("Invalid master port"));
        assert!(cli(&["--replicaof", "h", "1", "2"])
            .unwrap_err()
            .contains("wrong number of arguments"));
        let mut c = Config::default();
        assert_eq!(
            set(&mut c, &[("replicaof", "h 1")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'replicaof') - can't set \
             immutable config"
        );
        assert_eq!(
            set(&mut c, &[("repl-timeout", "0")]).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'repl-timeout') - argument \
             must be between 1 and 2147483647 inclusive"
        );
        set(
            &mut c,
            &[("slave-read-only", "no"), ("slave-serve-stale-data", "no")],
        )
        .unwrap();
        assert!(!c.replica_read_only && !c.replica_serve_stale_data);
        assert!(Config::is_sensitive(b"masterauth"));
    }

    #[test]
    fn every_rendered_value_can_be_set_back() {
        let t = TempDir::new("roundtrip");
        let mut c = Config::default();
        let tweaked = [
            ("port", "7777"),
            ("bind", "10.1.2.3 -::1 localhost"),
            ("requirepass", "s3cr3t"),
            ("maxclients", "77"),
            ("timeout", "7"),
            ("tcp-keepalive", "70"),
            ("protected-mode", "no"),
            ("loglevel", "verbose"),
            ("proto-max-bulk-len", "3mb"),
            ("client-query-buffer-limit", "5m"),
            ("hz", "77"),
            ("masterauth", "pw"),
            ("masteruser", "repl"),
            ("replica-read-only", "no"),
            ("repl-timeout", "5"),
        ];
        for values in [&[][..], &tweaked[..]] {
            set(&mut c, values).unwrap();
            c.enable_protected_configs = Access::Yes;
            c.dir = t.0.clone();
            for (name, value) in c.get(&[b"*"]) {
                let p = lookup(name.as_bytes()).unwrap().0;
                let mut copy = c.clone();
                if p.flags & IMMUTABLE == 0 {
                    copy.set(&[(name.as_bytes(), value.as_bytes())]).unwrap();
                } else {
                    // Immutable ones round-trip through a config line instead.
                    let mut line = format!("{name} ").into_bytes();
                    push_repr(&mut line, value.as_bytes());
                    copy.load_text(&line, 0).unwrap();
                }
                assert_eq!(get1(&copy, &name), value, "{name}");
                assert_eq!(format!("{copy:?}"), format!("{c:?}"), "{name}");
            }
        }
    }

    #[test]
    fn latency_parameters() {
        let mut c = Config::default();
        assert_eq!(get1(&c, "latency-monitor-threshold"), "0");
        assert_eq!(get1(&c, "latency-tracking"), "yes");
        assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
        set(
            &mut c,
            &[("latency-tracking-info-percentiles", "0 0.0001 12.5 1e1 100")],
        )
        .unwrap();
        assert_eq!(
            get1(&c, "latency-tracking-info-percentiles"),
            "0 0.0001 12.5 10 100"
        );
        set(&mut c, &[("latency-tracking-info-percentiles", "")]).unwrap();
        assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "");
        let err = |v: &str| {
            let mut c = Config::default();
            set(&mut c, &[("latency-tracking-info-percentiles", v)]).unwrap_err()
        };
        let invalid = Config::set_error(
            "latency-tracking-info-percentiles",
            "Invalid latency-tracking-info-percentiles parameters",
        );
        let range = Config::set_error(
            "latency-tracking-info-percentiles",
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
        );
        assert_eq!(err("50 abc"), invalid);
        assert_eq!(err("50  99"), invalid, "a doubled space is an empty word");
        assert_eq!(err(" 50"), invalid);
        assert_eq!(err("nan"), invalid);
        assert_eq!(err("101"), range);
        assert_eq!(err("-1"), range);
        assert_eq!(
            set(&mut c, &[("latency-monitor-threshold", "-1")]).unwrap_err(),
            Config::set_error(
                "latency-monitor-threshold",
                "argument must be between 0 and 9223372036854775807 inclusive"
            )
        );
        let c = cli(&["--latency-tracking-info-percentiles", "90", "99.99"]).unwrap();
        assert_eq!(c.latency_tracking_info_percentiles, [90.0, 99.99]);
    }
}
