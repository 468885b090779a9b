//! MEMORY, INFO memory, CONFIG REWRITE, and the commands of features a standalone server
//! does not have (CLUSTER, READONLY/READWRITE/ASKING, MODULE, LOLWUT), over TCP. The tests
//! built on `start()` also run against a reference Redis (`REFERENCE_PORT`, see common).

mod common;

use common::*;
use redis::Value;
use std::collections::HashMap;

fn text(v: Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8(b).unwrap(),
        Value::VerbatimString { text, .. } => text,
        Value::SimpleString(s) => s,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn memory_usage_grows_with_the_value_and_checks_its_options() {
    let (_s, mut c) = start();
    let none: Option<i64> = q(&mut c, &["MEMORY", "USAGE", "missing"]);
    assert_eq!(none, None);
    let _: () = q(&mut c, &["SET", "small", "x"]);
    let _: () = q(&mut c, &["SET", "big", &"x".repeat(10_000)]);
    let small: i64 = q(&mut c, &["MEMORY", "USAGE", "small"]);
    let big: i64 = q(&mut c, &["MEMORY", "USAGE", "big", "SAMPLES", "0"]);
    assert!((1..200).contains(&small), "{small}");
    assert!((10_000..12_000).contains(&big), "{big}");
    for i in 0..1000 {
        let _: () = q(&mut c, &["RPUSH", "list", &format!("element-{i}")]);
        let _: () = q(
            &mut c,
            &["HSET", "hash", &format!("f{i}"), &format!("v{i}")],
        );
    }
    for key in ["list", "hash"] {
        let n: i64 = q(&mut c, &["MEMORY", "USAGE", key, "SAMPLES", "5"]);
        assert!(n > 10_000, "{key}: {n}");
    }
    assert_eq!(
        qerr(&mut c, &["MEMORY", "USAGE", "big", "SAMPLES", "x"]),
        NOT_INT
    );
    assert_eq!(
        qerr(&mut c, &["MEMORY", "USAGE", "big", "SAMPLES", "-1"]),
        SYNTAX
    );
    assert_eq!(qerr(&mut c, &["MEMORY", "USAGE", "big", "FOO"]), SYNTAX);
    assert_eq!(qerr(&mut c, &["MEMORY", "USAGE"]), arity("memory|usage"));
    assert_eq!(
        qerr(&mut c, &["MEMORY", "STATS", "x"]),
        arity("memory|stats")
    );
    assert_eq!(
        qerr(&mut c, &["MEMORY", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try MEMORY HELP."
    );
    let help: Vec<String> = q(&mut c, &["MEMORY", "HELP"]);
    assert!(help[0].starts_with("MEMORY <subcommand>"), "{help:?}");
    assert_eq!(help.len(), 14);
}

#[test]
fn memory_stats_doctor_malloc_stats_and_purge() {
    let (_s, mut c) = start();
    for i in 0..2000 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let _: () = q(&mut c, &["SELECT", "3"]);
    let _: () = q(&mut c, &["SET", "in3", "v"]);
    let stats: HashMap<String, Value> = q(&mut c, &["MEMORY", "STATS"]);
    for field in [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "replication.backlog",
        "clients.slaves",
        "clients.normal",
        "cluster.links",
        "aof.buffer",
        "lua.caches",
        "functions.caches",
        "overhead.total",
        "keys.count",
        "keys.bytes-per-key",
        "dataset.bytes",
        "dataset.percentage",
        "peak.percentage",
        "allocator.allocated",
        "allocator.active",
        "allocator.resident",
        "allocator-fragmentation.ratio",
        "allocator-fragmentation.bytes",
        "allocator-rss.ratio",
        "allocator-rss.bytes",
        "rss-overhead.ratio",
        "rss-overhead.bytes",
        "fragmentation",
        "fragmentation.bytes",
        "db.0",
        "db.3",
    ] {
        assert!(stats.contains_key(field), "{field} missing: {stats:?}");
    }
    assert_eq!(stats["keys.count"], Value::Int(2001));
    let int = |v: &Value| match v {
        Value::Int(n) => *n,
        other => panic!("{other:?}"),
    };
    assert!(int(&stats["total.allocated"]) <= int(&stats["peak.allocated"]));
    assert!(int(&stats["overhead.total"]) > 0);
    let db0: HashMap<String, i64> = redis::from_redis_value(&stats["db.0"]).expect("db.0 is a map");
    assert!(db0["overhead.hashtable.main"] > 0, "{db0:?}");
    assert!(db0.contains_key("overhead.hashtable.expires"));

    let doctor = text(q(&mut c, &["MEMORY", "DOCTOR"]));
    assert!(doctor.contains("Sam"), "{doctor}");
    let malloc = text(q(&mut c, &["MEMORY", "MALLOC-STATS"]));
    assert!(!malloc.is_empty());
    let _: () = q(&mut c, &["MEMORY", "PURGE"]);
}

#[test]
fn info_memory_has_redis_fields_and_counts_scripts() {
    let (s, mut c) = start();
    let fields = |c: &mut redis::Connection| -> HashMap<String, String> {
        let info: String = q(c, &["INFO", "memory"]);
        info.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let before = fields(&mut c);
    for name in [
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_peak",
        "used_memory_peak_perc",
        "used_memory_overhead",
        "used_memory_startup",
        "used_memory_dataset",
        "used_memory_dataset_perc",
        "allocator_allocated",
        "allocator_active",
        "allocator_resident",
        "total_system_memory",
        "used_memory_lua",
        "used_memory_vm_eval",
        "used_memory_scripts_eval",
        "number_of_cached_scripts",
        "number_of_functions",
        "number_of_libraries",
        "used_memory_vm_functions",
        "used_memory_vm_total",
        "used_memory_functions",
        "used_memory_scripts",
        "maxmemory",
        "maxmemory_policy",
        "allocator_frag_ratio",
        "allocator_frag_bytes",
        "allocator_rss_ratio",
        "rss_overhead_ratio",
        "mem_fragmentation_ratio",
        "mem_fragmentation_bytes",
        "mem_replication_backlog",
        "mem_clients_slaves",
        "mem_clients_normal",
        "mem_aof_buffer",
        "mem_allocator",
        "lazyfree_pending_objects",
    ] {
        assert!(before.contains_key(name), "{name} missing");
    }
    let _: String = q(&mut c, &["SCRIPT", "LOAD", "return 1"]);
    let _: String = q(
        &mut c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        ],
    );
    let _: i64 = q(&mut c, &["FCALL", "f", "0"]);
    let after = fields(&mut c);
    let n = |m: &HashMap<String, String>, k: &str| m[k].parse::<u64>().unwrap();
    assert_eq!(
        n(&after, "number_of_cached_scripts"),
        n(&before, "number_of_cached_scripts") + 1
    );
    assert_eq!(n(&after, "number_of_libraries"), 1);
    assert_eq!(n(&after, "number_of_functions"), 1);
    assert!(n(&after, "used_memory_functions") > 0);
    assert!(n(&after, "used_memory_scripts_eval") > 0);
    if !s.is_reference() {
        // Lua's states allocate through the counted allocator here (Redis keeps them apart).
        assert!(n(&after, "used_memory_vm_functions") > 0);
        assert!(n(&after, "used_memory_overhead") >= n(&after, "used_memory_startup"));
    }
}

#[test]
fn cluster_commands_answer_that_cluster_mode_is_off() {
    let (_s, mut c) = start();
    const OFF: &str = "ERR This instance has cluster support disabled";
    for cmd in [
        &["CLUSTER", "INFO"][..],
        &["CLUSTER", "HELP"],
        &["CLUSTER", "SLOTS"],
        &["CLUSTER", "SHARDS"],
        &["CLUSTER", "KEYSLOT", "foo"],
        &["READONLY"],
        &["READWRITE"],
        &["ASKING"],
    ] {
        assert_eq!(qerr(&mut c, cmd), OFF, "{cmd:?}");
    }
    assert_eq!(
        qerr(&mut c, &["CLUSTER", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try CLUSTER HELP."
    );
    assert_eq!(
        qerr(&mut c, &["CLUSTER", "INFO", "x"]),
        arity("cluster|info")
    );
    assert_eq!(qerr(&mut c, &["CLUSTER"]), arity("cluster"));
    let info: String = q(&mut c, &["INFO", "cluster"]);
    assert!(info.contains("cluster_enabled:0"), "{info}");
}

#[test]
fn modules_are_listed_empty_and_loading_is_guarded() {
    let (_s, mut c) = start();
    let list: Vec<Value> = q(&mut c, &["MODULE", "LIST"]);
    assert!(list.is_empty());
    let refused = "ERR MODULE command not allowed. If the enable-module-command option is set \
                   to \"local\", you can run it from a local connection, otherwise you need to \
                   set this option in the configuration file, and then restart the server.";
    assert_eq!(qerr(&mut c, &["MODULE", "LOAD", "/nowhere/x.so"]), refused);
    assert_eq!(qerr(&mut c, &["MODULE", "UNLOAD", "x"]), refused);
    assert_eq!(
        qerr(&mut c, &["MODULE", "LOADEX", "/nowhere/x.so"]),
        refused
    );
    assert_eq!(
        qerr(&mut c, &["MODULE", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try MODULE HELP."
    );
    let help: Vec<String> = q(&mut c, &["MODULE", "HELP"]);
    assert_eq!(help.len(), 11);
    let lolwut = text(q(&mut c, &["LOLWUT"]));
    assert!(lolwut.contains("Redis ver. "), "{lolwut}");
    assert_eq!(qerr(&mut c, &["LOLWUT", "VERSION", "x"]), NOT_INT);
}

#[test]
fn module_loading_when_allowed_fails_like_a_missing_library() {
    let s = Server::start(1, &["--enable-module-command", "yes"]);
    let mut c = s.client();
    assert_eq!(
        qerr(&mut c, &["MODULE", "LOAD", "/nowhere/x.so"]),
        "ERR Error loading the extension. Please check the server logs."
    );
    assert_eq!(
        qerr(&mut c, &["MODULE", "UNLOAD", "x"]),
        "ERR Error unloading module: no such module with that name"
    );
    assert_eq!(
        qerr(&mut c, &["CONFIG", "SET", "enable-module-command", "no"]),
        "ERR CONFIG SET failed (possibly related to argument 'enable-module-command') - can't set immutable config"
    );
}

#[test]
fn config_rewrite_keeps_the_file_and_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("shardis-rewrite-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "# operator's notes\nhz 15\nslaveof 127.0.0.1 1\nreplicaof no one\n\n\n# limits\nmaxmemory 10mb\n",
    )
    .unwrap();
    let s = Server::start_with_config(&conf, &dir, &["--shards", "2"]);
    let mut c = s.client();
    let info: String = q(&mut c, &["INFO", "server"]);
    assert!(
        info.contains(&format!("config_file:{}", conf.display())),
        "{info}"
    );
    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            "64mb",
            "maxmemory-policy",
            "allkeys-lru",
            "requirepass",
            "p w\"d",
        ],
    );
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]);
    let written = std::fs::read_to_string(&conf).unwrap();
    assert!(
        written.starts_with("# operator's notes\nhz 15\n\n# limits\nmaxmemory 64mb\n"),
        "{written}"
    );
    assert!(
        written.contains("# Generated by CONFIG REWRITE\n"),
        "{written}"
    );
    assert!(
        written.contains("\nmaxmemory-policy allkeys-lru\n"),
        "{written}"
    );
    assert!(
        written.contains("\nrequirepass \"p w\\\"d\"\n"),
        "{written}"
    );
    assert!(written.contains("\nuser default on "), "{written}");
    assert!(
        !written.contains("slaveof") && !written.contains("replicaof"),
        "{written}"
    );
    assert_eq!(written.matches("maxmemory ").count(), 1, "{written}");
    drop(c);
    drop(s);

    // The rewritten file starts the same configuration.
    let s = Server::start_with_config(&conf, &dir, &["--shards", "1"]);
    let mut c = s.client();
    let _: () = q(&mut c, &["AUTH", "p w\"d"]);
    let got: HashMap<String, String> = q(
        &mut c,
        &["CONFIG", "GET", "maxmemory", "maxmemory-policy", "hz"],
    );
    assert_eq!(got["maxmemory"], (64u64 << 20).to_string());
    assert_eq!(got["maxmemory-policy"], "allkeys-lru");
    assert_eq!(got["hz"], "15");
    // A file that cannot be replaced is an error, and the old file stays.
    std::fs::remove_file(&conf).unwrap();
    std::fs::create_dir(&conf).unwrap();
    let e = qerr(&mut c, &["CONFIG", "REWRITE"]);
    assert!(e.starts_with("ERR Rewriting config file: "), "{e}");
    drop(c);
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();

    // Without a file: Redis' error.
    let s = Server::start(1, &[]);
    assert_eq!(
        qerr(&mut s.client(), &["CONFIG", "REWRITE"]),
        "ERR The server is running without a config file"
    );
}
