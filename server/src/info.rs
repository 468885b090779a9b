//! INFO: Redis' sections and field names, summed over all shards.

use crate::local::{unix_ms, unix_us, Local};
use crate::memory;
use crate::stats::ShardStats;
use std::fmt::Write;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// What one shard contributes to INFO.
struct ShardReport {
    stats: ShardStats,
    /// Per database: keys, keys with a TTL.
    dbs: Vec<(usize, usize)>,
    hits: u64,
    misses: u64,
    expired: u64,
    evicted: u64,
    dirty: u64,
    /// Keys with blocked clients.
    blocking_keys: usize,
    /// CLIENT TRACKING: clients served here; tracked keys, (key, client) pairs and
    /// broadcast prefixes on this shard.
    tracking_clients: usize,
    tracking: (usize, usize, usize),
    memory: crate::memory_report::ShardMemory,
}

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

/// The sections INFO shows for the given arguments (lowercase, in Redis' order).
fn sections(args: &[Vec<u8>]) -> Vec<&'static str> {
    if args.is_empty() {
        return DEFAULT.to_vec();
    }
    let wants = |s: &str| args.iter().any(|a| a == s.as_bytes());
    if wants("all") || wants("everything") {
        return DEFAULT.iter().chain(ALL_EXTRA).copied().collect();
    }
    let default = wants("default");
    DEFAULT
        .iter()
        .chain(ALL_EXTRA)
        .copied()
        .filter(|s| wants(s) || (default && DEFAULT.contains(s)))
        .collect()
}

pub async fn info(local: &Rc<Local>, args: &[&[u8]]) -> String {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
    let reports = local
        .call_all(|l| {
            let shard = l.shard_ref();
            ShardReport {
                stats: l.stats.borrow().counters(),
                dbs: shard.dbs.iter().map(|d| (d.len(), d.volatile())).collect(),
                hits: shard.dbs.iter().map(|d| d.hits).sum(),
                misses: shard.dbs.iter().map(|d| d.misses).sum(),
                expired: shard.dbs.iter().map(|d| d.expired).sum(),
                evicted: shard.evictor.evicted,
                dirty: shard.dirty,
                blocking_keys: l.blocked.borrow().keys(),
                tracking_clients: l.tracking.borrow().len(),
                tracking: shard.tracking.counts(),
                memory: crate::memory_report::ShardMemory::of(l),
            }
        })
        .await;
    let mut total = ShardStats::default();
    for r in &reports {
        total.merge(&r.stats);
    }
    let rates = reports
        .iter()
        .map(|r| r.stats.rates())
        .fold((0.0, 0.0, 0.0), |a, r| (a.0 + r.0, a.1 + r.1, a.2 + r.2));
    let mut out = String::new();
    for (i, section) in sections(&args).into_iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        match section {
            "server" => server(local, &mut out),
            "clients" => clients(local, &reports, &mut out),
            "memory" => memory_section(local, &reports, &mut out),
            "persistence" => persistence(local, &reports, &mut out),
            "stats" => stats(local, &total, rates, &reports, &mut out),
            "replication" => replication(local, &mut out),
            "cpu" => cpu(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "errorstats" => errorstats(&total, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(&reports, &mut out),
            "commandstats" => commandstats(&total, &mut out),
            "latencystats" => latencystats(local, &mut out).await,
            _ => {}
        }
    }
    out
}

macro_rules! field {
    ($out:expr, $name:expr, $($arg:tt)*) => {{
        let _ = write!($out, "{}:", $name);
        let _ = write!($out, $($arg)*);
        $out.push_str("\r\n");
    }};
}

/// Fields whose value is fixed in this build: features that do not exist yet report what
/// Redis reports without them (no blocked clients, no forks, no replicas...).
fn fixed(out: &mut String, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        field!(out, name, "{}", value);
    }
}

fn server(local: &Local, out: &mut String) {
    let shared = &local.shared;
    let cfg = shared.config();
    let uptime = shared.started.elapsed().as_secs();
    let uname = uname();
    out.push_str("# Server\r\n");
    field!(out, "redis_version", "{}", crate::REDIS_VERSION);
    fixed(
        out,
        &[
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", "0"),
            ("redis_build_id", "0"),
            ("redis_mode", "standalone"),
        ],
    );
    field!(out, "os", "{}", uname);
    fixed(
        out,
        &[
            ("arch_bits", "64"),
            ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "io_uring"),
            ("atomicvar_api", "c11-builtin"),
            ("gcc_version", "0.0.0"),
        ],
    );
    field!(out, "process_id", "{}", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", "{}", shared.run_id);
    field!(out, "tcp_port", "{}", shared.port);
    field!(out, "server_time_usec", "{}", unix_us());
    field!(out, "uptime_in_seconds", "{}", uptime);
    field!(out, "uptime_in_days", "{}", uptime / 86400);
    field!(out, "hz", "{}", cfg.hz);
    field!(out, "configured_hz", "{}", cfg.hz);
    field!(out, "lru_clock", "{}", (unix_ms() / 1000) & ((1 << 24) - 1));
    field!(
        out,
        "executable",
        "{}",
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    let file = cfg.file.as_ref().map(|f| f.display().to_string());
    field!(out, "config_file", "{}", file.unwrap_or_default());
    field!(out, "io_threads_active", "0");
    field!(out, "shardis_version", "{}", env!("CARGO_PKG_VERSION"));
    field!(out, "shards", "{}", local.shards());
    // Which socket path serves clients (see ring.rs): `client-ring`, and what the kernel has.
    let sockets = if local.ring.is_some() {
        "ring"
    } else {
        "glommio"
    };
    field!(out, "client_sockets", "{sockets}");
    for (i, b) in cfg.bind.iter().enumerate() {
        field!(
            out,
            format!("listener{i}"),
            "name=tcp,bind={},port={}",
            b,
            shared.port
        );
    }
}

fn uname() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    format!(
        "Linux {} {}",
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

fn clients(local: &Local, reports: &[ShardReport], out: &mut String) {
    let shared = &local.shared;
    out.push_str("# Clients\r\n");
    field!(
        out,
        "connected_clients",
        "{}",
        shared.connected_clients.load(Ordering::Relaxed)
    );
    field!(out, "cluster_connections", "0");
    field!(out, "maxclients", "{}", shared.config().maxclients);
    fixed(
        out,
        &[
            ("client_recent_max_input_buffer", "0"),
            ("client_recent_max_output_buffer", "0"),
        ],
    );
    let blocked = shared.blocked_clients.load(Ordering::Relaxed);
    field!(out, "blocked_clients", "{blocked}");
    let tracking: usize = reports.iter().map(|r| r.tracking_clients).sum();
    field!(out, "tracking_clients", "{tracking}");
    fixed(out, &[("pubsub_clients", "0"), ("watching_clients", "0")]);
    field!(out, "clients_in_timeout_table", "0");
    field!(out, "total_watched_keys", "0");
    let keys: usize = reports.iter().map(|r| r.blocking_keys).sum();
    field!(out, "total_blocking_keys", "{keys}");
    field!(out, "total_blocking_keys_on_nokey", "0");
}

fn memory_section(local: &Local, reports: &[ShardReport], out: &mut String) {
    let shards: Vec<_> = reports.iter().map(|r| r.memory.clone()).collect();
    let m = crate::memory_report::Report::new(local, &shards);
    let human = memory::human;
    let total = memory::total_system();
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", "{}", m.total);
    field!(out, "used_memory_human", "{}", human(m.total));
    field!(out, "used_memory_rss", "{}", m.rss);
    field!(out, "used_memory_rss_human", "{}", human(m.rss));
    field!(out, "used_memory_peak", "{}", m.peak);
    field!(out, "used_memory_peak_human", "{}", human(m.peak));
    field!(out, "used_memory_peak_perc", "{:.2}%", m.peak_percent());
    field!(out, "used_memory_overhead", "{}", m.overhead());
    field!(out, "used_memory_startup", "{}", m.startup);
    field!(out, "used_memory_dataset", "{}", m.dataset());
    field!(
        out,
        "used_memory_dataset_perc",
        "{:.2}%",
        m.dataset_percent()
    );
    field!(out, "allocator_allocated", "{}", m.total);
    field!(out, "allocator_active", "{}", m.committed);
    field!(out, "allocator_resident", "{}", m.rss);
    field!(out, "total_system_memory", "{}", total);
    field!(out, "total_system_memory_human", "{}", human(total));
    let (vm_eval, vm_functions) = m.lua;
    field!(out, "used_memory_lua", "{vm_eval}");
    field!(out, "used_memory_vm_eval", "{vm_eval}");
    field!(out, "used_memory_lua_human", "{}", human(vm_eval));
    field!(out, "used_memory_scripts_eval", "{}", m.scripts.1);
    field!(out, "number_of_cached_scripts", "{}", m.scripts.0);
    field!(out, "number_of_functions", "{}", m.functions.1);
    field!(out, "number_of_libraries", "{}", m.functions.0);
    field!(out, "used_memory_vm_functions", "{vm_functions}");
    field!(out, "used_memory_vm_total", "{}", vm_eval + vm_functions);
    field!(
        out,
        "used_memory_vm_total_human",
        "{}",
        human(vm_eval + vm_functions)
    );
    field!(out, "used_memory_functions", "{}", m.functions.2);
    let scripts = m.scripts.1 + m.functions.2;
    field!(out, "used_memory_scripts", "{scripts}");
    field!(out, "used_memory_scripts_human", "{}", human(scripts));
    let maxmemory = local.shared.maxmemory.limit();
    field!(out, "maxmemory", "{maxmemory}");
    field!(out, "maxmemory_human", "{}", human(maxmemory));
    field!(
        out,
        "maxmemory_policy",
        "{}",
        local.shared.maxmemory.policy().name()
    );
    for (name, ratio, bytes) in m.fragmentation() {
        field!(out, format!("{name}_ratio"), "{ratio:.2}");
        field!(out, format!("{name}_bytes"), "{bytes}");
    }
    field!(
        out,
        "mem_not_counted_for_evict",
        "{}",
        crate::maxmemory::not_counted(local)
    );
    field!(out, "mem_replication_backlog", "{}", m.backlog);
    field!(
        out,
        "mem_total_replication_buffers",
        "{}",
        m.backlog + m.replica_buffers
    );
    field!(out, "mem_clients_slaves", "{}", m.replica_buffers);
    field!(out, "mem_clients_normal", "{}", m.client_buffers);
    field!(out, "mem_cluster_links", "0");
    field!(out, "mem_aof_buffer", "0");
    field!(out, "mem_allocator", "mimalloc");
    fixed(
        out,
        &[
            ("active_defrag_running", "0"),
            ("lazyfree_pending_objects", "0"),
            ("lazyfreed_objects", "0"),
        ],
    );
}

fn persistence(local: &Local, reports: &[ShardReport], out: &mut String) {
    out.push_str("# Persistence\r\n");
    fixed(
        out,
        &[
            ("loading", "0"),
            ("async_loading", "0"),
            ("current_cow_peak", "0"),
            ("current_cow_size", "0"),
            ("current_cow_size_age", "0"),
            ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", "0"),
            ("current_save_keys_total", "0"),
        ],
    );
    field!(
        out,
        "rdb_changes_since_last_save",
        "{}",
        reports
            .iter()
            .map(|r| r.dirty)
            .sum::<u64>()
            .saturating_sub(local.shared.saves.dirty_at_save.load(Ordering::Relaxed))
    );
    let saves = &local.shared.saves;
    let running = saves.running_secs();
    field!(out, "rdb_bgsave_in_progress", "{}", running.is_some() as u8);
    field!(
        out,
        "rdb_last_save_time",
        "{}",
        saves.last_save.load(Ordering::Relaxed)
    );
    let ok = saves.last_ok.load(Ordering::Relaxed);
    field!(
        out,
        "rdb_last_bgsave_status",
        "{}",
        if ok { "ok" } else { "err" }
    );
    field!(
        out,
        "rdb_last_bgsave_time_sec",
        "{}",
        saves.last_secs.load(Ordering::Relaxed)
    );
    field!(
        out,
        "rdb_current_bgsave_time_sec",
        "{}",
        running.map_or(-1, |s| s as i64)
    );
    field!(out, "rdb_saves", "{}", saves.count.load(Ordering::Relaxed));
    fixed(
        out,
        &[
            ("rdb_last_cow_size", "0"),
            ("rdb_last_load_keys_expired", "0"),
            ("rdb_last_load_keys_loaded", "0"),
        ],
    );
    let aof = local.shared.aof.as_deref();
    field!(out, "aof_enabled", "{}", aof.is_some() as u8);
    let running = aof.and_then(|a| a.rewrite.running_secs());
    field!(
        out,
        "aof_rewrite_in_progress",
        "{}",
        running.is_some() as u8
    );
    field!(out, "aof_rewrite_scheduled", "0");
    let last = aof.map_or(-1, |a| a.rewrite.last_secs.load(Ordering::Relaxed));
    field!(out, "aof_last_rewrite_time_sec", "{last}");
    let current = running.map_or(-1, |s| s as i64);
    field!(out, "aof_current_rewrite_time_sec", "{current}");
    let failures = aof.map_or(0, |a| a.rewrite.failures.load(Ordering::Relaxed));
    let ok = failures == 0;
    field!(
        out,
        "aof_last_bgrewrite_status",
        "{}",
        if ok { "ok" } else { "err" }
    );
    field!(
        out,
        "aof_rewrites",
        "{}",
        aof.map_or(0, |a| a.rewrite.count.load(Ordering::Relaxed))
    );
    field!(out, "aof_rewrites_consecutive_failures", "{failures}");
    let ok = aof.is_none_or(|a| a.write_ok());
    field!(
        out,
        "aof_last_write_status",
        "{}",
        if ok { "ok" } else { "err" }
    );
    // No fork, so no copy-on-write.
    field!(out, "aof_last_cow_size", "0");
    field!(out, "module_fork_in_progress", "0");
    field!(out, "module_fork_last_cow_size", "0");
    if let Some(aof) = aof {
        field!(out, "aof_current_size", "{}", aof.current_size_timed(local));
        let base = aof.rewrite.base_size.load(Ordering::Relaxed);
        field!(out, "aof_base_size", "{base}");
        fixed(
            out,
            &[
                ("aof_pending_rewrite", "0"),
                ("aof_buffer_length", "0"),
                ("aof_pending_bio_fsync", "0"),
                ("aof_delayed_fsync", "0"),
            ],
        );
    }
}

fn stats(
    local: &Local,
    total: &ShardStats,
    (ops, input, output): (f64, f64, f64),
    reports: &[ShardReport],
    out: &mut String,
) {
    let sum = |f: fn(&ShardReport) -> u64| reports.iter().map(f).sum::<u64>();
    out.push_str("# Stats\r\n");
    field!(
        out,
        "total_connections_received",
        "{}",
        total.connections_received
    );
    field!(out, "total_commands_processed", "{}", total.commands);
    field!(out, "instantaneous_ops_per_sec", "{}", ops as u64);
    field!(out, "total_net_input_bytes", "{}", total.net_input_bytes);
    field!(out, "total_net_output_bytes", "{}", total.net_output_bytes);
    fixed(
        out,
        &[
            ("total_net_repl_input_bytes", "0"),
            ("total_net_repl_output_bytes", "0"),
        ],
    );
    field!(out, "instantaneous_input_kbps", "{:.2}", input / 1024.0);
    field!(out, "instantaneous_output_kbps", "{:.2}", output / 1024.0);
    field!(
        out,
        "rejected_connections",
        "{}",
        total.rejected_connections
    );
    let syncs = &local.shared.leader.syncs;
    for (name, n) in [
        ("sync_full", &syncs.full),
        ("sync_partial_ok", &syncs.partial_ok),
        ("sync_partial_err", &syncs.partial_err),
    ] {
        field!(
            out,
            name,
            "{}",
            n.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    field!(out, "expired_keys", "{}", sum(|r| r.expired));
    fixed(
        out,
        &[
            ("expired_stale_perc", "0.00"),
            ("expired_time_cap_reached_count", "0"),
        ],
    );
    field!(out, "evicted_keys", "{}", sum(|r| r.evicted));
    field!(out, "evicted_clients", "0");
    let (over_total, over_now) = local
        .shared
        .maxmemory
        .exceeded_times(crate::local::unix_ms());
    field!(out, "total_eviction_exceeded_time", "{over_total}");
    field!(out, "current_eviction_exceeded_time", "{over_now}");
    field!(out, "keyspace_hits", "{}", sum(|r| r.hits));
    field!(out, "keyspace_misses", "{}", sum(|r| r.misses));
    fixed(
        out,
        &[
            ("pubsub_channels", "0"),
            ("pubsub_patterns", "0"),
            ("pubsubshard_channels", "0"),
            ("latest_fork_usec", "0"),
            ("total_forks", "0"),
            ("migrate_cached_sockets", "0"),
        ],
    );
    field!(
        out,
        "tracking_total_keys",
        "{}",
        sum(|r| r.tracking.0 as u64)
    );
    field!(
        out,
        "tracking_total_items",
        "{}",
        sum(|r| r.tracking.1 as u64)
    );
    // Every shard holds every prefix.
    let prefixes = reports.first().map_or(0, |r| r.tracking.2);
    field!(out, "tracking_total_prefixes", "{prefixes}");
    field!(out, "unexpected_error_replies", "0");
    field!(out, "total_error_replies", "{}", total.error_replies);
    field!(out, "dump_payload_sanitizations", "0");
    field!(out, "total_reads_processed", "{}", total.commands);
    field!(out, "total_writes_processed", "{}", total.commands);
    field!(out, "io_threaded_reads_processed", "0");
    field!(out, "io_threaded_writes_processed", "0");
    field!(
        out,
        "shardis_cross_shard_hops",
        "{}",
        total.cross_shard_hops
    );
}

fn replication(local: &Local, out: &mut String) {
    out.push_str("# Replication\r\n");
    // `role`, and on a replica the fields about its master.
    let ids = crate::follower::info_fields(local, out);
    if !local.shared.follower.is_replica() {
        return crate::leader::info(local, &ids, out);
    }
    // A replica serves no replicas of its own (no chained replication): no backlog.
    fixed(
        out,
        &[
            ("connected_slaves", "0"),
            ("master_failover_state", "no-failover"),
        ],
    );
    field!(out, "master_replid", "{}", ids.replid);
    field!(out, "master_replid2", "{}", ids.replid2);
    field!(out, "master_repl_offset", "{}", ids.offset);
    field!(out, "second_repl_offset", "{}", ids.second_offset);
    fixed(
        out,
        &[
            ("repl_backlog_active", "0"),
            ("repl_backlog_size", "1048576"),
            ("repl_backlog_first_byte_offset", "0"),
            ("repl_backlog_histlen", "0"),
        ],
    );
}

fn cpu(out: &mut String) {
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    let usage = |who| {
        // SAFETY: rusage is plain data (all-zero is valid) and getrusage fills it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid, exclusively borrowed rusage.
        unsafe { libc::getrusage(who, &mut ru) };
        (secs(ru.ru_stime), secs(ru.ru_utime))
    };
    let (sys, user) = usage(libc::RUSAGE_SELF);
    let (csys, cuser) = usage(libc::RUSAGE_CHILDREN);
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", "{:.6}", sys);
    field!(out, "used_cpu_user", "{:.6}", user);
    field!(out, "used_cpu_sys_children", "{:.6}", csys);
    field!(out, "used_cpu_user_children", "{:.6}", cuser);
}

fn errorstats(total: &ShardStats, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    let mut codes: Vec<_> = total.error_codes.iter().collect();
    codes.sort();
    for (code, n) in codes {
        field!(out, format!("errorstat_{code}"), "count={n}");
    }
}

fn keyspace(reports: &[ShardReport], out: &mut String) {
    out.push_str("# Keyspace\r\n");
    let ndb = reports.first().map_or(0, |r| r.dbs.len());
    for db in 0..ndb {
        let keys: usize = reports.iter().map(|r| r.dbs[db].0).sum();
        let expires: usize = reports.iter().map(|r| r.dbs[db].1).sum();
        if keys > 0 {
            field!(
                out,
                format!("db{db}"),
                "keys={keys},expires={expires},avg_ttl=0"
            );
        }
    }
}

/// Each command's latency percentiles (`latency-tracking-info-percentiles`), from every
/// executor's histograms; only the header while `latency-tracking` is off.
async fn latencystats(local: &Rc<Local>, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    let (on, percentiles) = {
        let c = local.shared.config();
        (
            c.latency_tracking,
            c.latency_tracking_info_percentiles.clone(),
        )
    };
    if !on {
        return;
    }
    for (name, h) in crate::latency::command::histograms(local).await {
        out.push_str(&crate::latency::histogram::info_line(
            name,
            &h,
            &percentiles,
        ));
        out.push_str("\r\n");
    }
}

fn commandstats(total: &ShardStats, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for (name, s) in total.by_name() {
        let per_call = if s.calls > 0 {
            s.usec as f64 / s.calls as f64
        } else {
            0.0
        };
        field!(
            out,
            format!("cmdstat_{name}"),
            "calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
            s.calls,
            s.usec,
            per_call,
            s.rejected,
            s.failed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::sections;

    #[test]
    fn section_selection() {
        assert_eq!(sections(&[]).len(), 11);
        assert_eq!(sections(&[b"keyspace".to_vec()]), vec!["keyspace"]);
        assert!(sections(&[b"all".to_vec()]).contains(&"commandstats"));
        assert!(!sections(&[b"default".to_vec()]).contains(&"commandstats"));
        assert_eq!(
            sections(&[b"commandstats".to_vec(), b"server".to_vec()]),
            vec!["server", "commandstats"]
        );
    }
}
