use super::*;

fn run(resp3: bool, args: &[&str]) -> String {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut out = Reply::new(resp3);
    command_cmd(&mut out, &args);
    String::from_utf8(out.buf).unwrap()
}

fn keys(name: &str, args: &[&str]) -> Result<Vec<usize>, &'static str> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    key_positions(resolve(&args).unwrap_or_else(|| panic!("{name}")), &args)
}

/// Every command and subcommand with its arity and legacy key range, as Redis 7.2 reports
/// them (COMMAND INFO).
const EXPECTED: &[(&str, i32, i32, i32, i32)] = &[
    // strings and bitmaps
    ("get", 2, 1, 1, 1),
    ("set", -3, 1, 1, 1),
    ("setnx", 3, 1, 1, 1),
    ("setex", 4, 1, 1, 1),
    ("psetex", 4, 1, 1, 1),
    ("getex", -2, 1, 1, 1),
    ("getdel", 2, 1, 1, 1),
    ("getset", 3, 1, 1, 1),
    ("mget", -2, 1, -1, 1),
    ("mset", -3, 1, -1, 2),
    ("msetnx", -3, 1, -1, 2),
    ("append", 3, 1, 1, 1),
    ("strlen", 2, 1, 1, 1),
    ("incr", 2, 1, 1, 1),
    ("decr", 2, 1, 1, 1),
    ("incrby", 3, 1, 1, 1),
    ("decrby", 3, 1, 1, 1),
    ("incrbyfloat", 3, 1, 1, 1),
    ("getrange", 4, 1, 1, 1),
    ("setrange", 4, 1, 1, 1),
    ("substr", 4, 1, 1, 1),
    ("lcs", -3, 1, 2, 1),
    ("setbit", 4, 1, 1, 1),
    ("getbit", 3, 1, 1, 1),
    ("bitcount", -2, 1, 1, 1),
    ("bitpos", -3, 1, 1, 1),
    ("bitop", -4, 2, -1, 1),
    ("bitfield", -2, 1, 1, 1),
    ("bitfield_ro", -2, 1, 1, 1),
    // lists
    ("blmove", 6, 1, 2, 1),
    ("blmpop", -5, 0, 0, 0),
    ("blpop", -3, 1, -2, 1),
    ("brpop", -3, 1, -2, 1),
    ("brpoplpush", 4, 1, 2, 1),
    ("lindex", 3, 1, 1, 1),
    ("linsert", 5, 1, 1, 1),
    ("llen", 2, 1, 1, 1),
    ("lmove", 5, 1, 2, 1),
    ("lmpop", -4, 0, 0, 0),
    ("lpop", -2, 1, 1, 1),
    ("lpos", -3, 1, 1, 1),
    ("lpush", -3, 1, 1, 1),
    ("lpushx", -3, 1, 1, 1),
    ("lrange", 4, 1, 1, 1),
    ("lrem", 4, 1, 1, 1),
    ("lset", 4, 1, 1, 1),
    ("ltrim", 4, 1, 1, 1),
    ("rpop", -2, 1, 1, 1),
    ("rpoplpush", 3, 1, 2, 1),
    ("rpush", -3, 1, 1, 1),
    ("rpushx", -3, 1, 1, 1),
    // generic
    ("del", -2, 1, -1, 1),
    ("unlink", -2, 1, -1, 1),
    ("exists", -2, 1, -1, 1),
    ("type", 2, 1, 1, 1),
    ("expire", -3, 1, 1, 1),
    ("pexpire", -3, 1, 1, 1),
    ("expireat", -3, 1, 1, 1),
    ("pexpireat", -3, 1, 1, 1),
    ("ttl", 2, 1, 1, 1),
    ("pttl", 2, 1, 1, 1),
    ("expiretime", 2, 1, 1, 1),
    ("pexpiretime", 2, 1, 1, 1),
    ("persist", 2, 1, 1, 1),
    ("keys", 2, 0, 0, 0),
    ("scan", -2, 0, 0, 0),
    ("randomkey", 1, 0, 0, 0),
    ("rename", 3, 1, 2, 1),
    ("renamenx", 3, 1, 2, 1),
    ("copy", -3, 1, 2, 1),
    ("move", 3, 1, 1, 1),
    ("dump", 2, 1, 1, 1),
    ("restore", -4, 1, 1, 1),
    ("migrate", -6, 3, 3, 1),
    // transactions
    ("multi", 1, 0, 0, 0),
    ("exec", 1, 0, 0, 0),
    ("discard", 1, 0, 0, 0),
    ("watch", -2, 1, -1, 1),
    ("unwatch", 1, 0, 0, 0),
    // pub/sub
    ("subscribe", -2, 0, 0, 0),
    ("unsubscribe", -1, 0, 0, 0),
    ("psubscribe", -2, 0, 0, 0),
    ("punsubscribe", -1, 0, 0, 0),
    ("publish", 3, 0, 0, 0),
    ("ssubscribe", -2, 1, -1, 1),
    ("sunsubscribe", -1, 1, -1, 1),
    ("spublish", 3, 1, 1, 1),
    ("pubsub", -2, 0, 0, 0),
    ("pubsub|channels", -2, 0, 0, 0),
    ("pubsub|help", 2, 0, 0, 0),
    ("pubsub|numpat", 2, 0, 0, 0),
    ("pubsub|numsub", -2, 0, 0, 0),
    ("pubsub|shardchannels", -2, 0, 0, 0),
    ("pubsub|shardnumsub", -2, 0, 0, 0),
    // scripting
    ("eval", -3, 0, 0, 0),
    ("evalsha", -3, 0, 0, 0),
    ("eval_ro", -3, 0, 0, 0),
    ("evalsha_ro", -3, 0, 0, 0),
    ("fcall", -3, 0, 0, 0),
    ("fcall_ro", -3, 0, 0, 0),
    ("script", -2, 0, 0, 0),
    ("script|debug", 3, 0, 0, 0),
    ("script|exists", -3, 0, 0, 0),
    ("script|flush", -2, 0, 0, 0),
    ("script|help", 2, 0, 0, 0),
    ("script|kill", 2, 0, 0, 0),
    ("script|load", 3, 0, 0, 0),
    ("function", -2, 0, 0, 0),
    ("function|delete", 3, 0, 0, 0),
    ("function|dump", 2, 0, 0, 0),
    ("function|flush", -2, 0, 0, 0),
    ("function|help", 2, 0, 0, 0),
    ("function|kill", 2, 0, 0, 0),
    ("function|list", -2, 0, 0, 0),
    ("function|load", -3, 0, 0, 0),
    ("function|restore", -3, 0, 0, 0),
    ("function|stats", 2, 0, 0, 0),
    ("touch", -2, 1, -1, 1),
    ("object", -2, 0, 0, 0),
    ("object|encoding", 3, 2, 2, 1),
    ("object|freq", 3, 2, 2, 1),
    ("object|help", 2, 0, 0, 0),
    ("object|idletime", 3, 2, 2, 1),
    ("object|refcount", 3, 2, 2, 1),
    // hashes
    ("hdel", -3, 1, 1, 1),
    ("hexists", 3, 1, 1, 1),
    ("hget", 3, 1, 1, 1),
    ("hgetall", 2, 1, 1, 1),
    ("hincrby", 4, 1, 1, 1),
    ("hincrbyfloat", 4, 1, 1, 1),
    ("hkeys", 2, 1, 1, 1),
    ("hlen", 2, 1, 1, 1),
    ("hmget", -3, 1, 1, 1),
    ("hmset", -4, 1, 1, 1),
    ("hrandfield", -2, 1, 1, 1),
    ("hscan", -3, 1, 1, 1),
    ("hset", -4, 1, 1, 1),
    ("hsetnx", 4, 1, 1, 1),
    ("hstrlen", 3, 1, 1, 1),
    ("hvals", 2, 1, 1, 1),
    ("sort", -2, 1, 1, 1),
    ("sort_ro", -2, 1, 1, 1),
    // sets
    ("sadd", -3, 1, 1, 1),
    ("scard", 2, 1, 1, 1),
    ("sdiff", -2, 1, -1, 1),
    ("sdiffstore", -3, 1, -1, 1),
    ("sinter", -2, 1, -1, 1),
    ("sintercard", -3, 0, 0, 0),
    ("sinterstore", -3, 1, -1, 1),
    ("sismember", 3, 1, 1, 1),
    ("smembers", 2, 1, 1, 1),
    ("smismember", -3, 1, 1, 1),
    ("smove", 4, 1, 2, 1),
    ("spop", -2, 1, 1, 1),
    ("srandmember", -2, 1, 1, 1),
    ("srem", -3, 1, 1, 1),
    ("sscan", -3, 1, 1, 1),
    ("sunion", -2, 1, -1, 1),
    ("sunionstore", -3, 1, -1, 1),
    // connection
    ("ping", -1, 0, 0, 0),
    ("echo", 2, 0, 0, 0),
    ("quit", -1, 0, 0, 0),
    ("reset", 1, 0, 0, 0),
    ("select", 2, 0, 0, 0),
    ("auth", -2, 0, 0, 0),
    ("hello", -1, 0, 0, 0),
    ("client", -2, 0, 0, 0),
    ("client|caching", 3, 0, 0, 0),
    ("client|getname", 2, 0, 0, 0),
    ("client|getredir", 2, 0, 0, 0),
    ("client|help", 2, 0, 0, 0),
    ("client|id", 2, 0, 0, 0),
    ("client|info", 2, 0, 0, 0),
    ("client|kill", -3, 0, 0, 0),
    ("client|list", -2, 0, 0, 0),
    ("client|no-evict", 3, 0, 0, 0),
    ("client|no-touch", 3, 0, 0, 0),
    ("client|pause", -3, 0, 0, 0),
    ("client|reply", 3, 0, 0, 0),
    ("client|setinfo", 4, 0, 0, 0),
    ("client|setname", 3, 0, 0, 0),
    ("client|tracking", -3, 0, 0, 0),
    ("client|trackinginfo", 2, 0, 0, 0),
    ("client|unblock", -3, 0, 0, 0),
    ("client|unpause", 2, 0, 0, 0),
    // server
    ("dbsize", 1, 0, 0, 0),
    ("flushdb", -1, 0, 0, 0),
    ("flushall", -1, 0, 0, 0),
    ("swapdb", 3, 0, 0, 0),
    ("time", 1, 0, 0, 0),
    ("info", -1, 0, 0, 0),
    ("shutdown", -1, 0, 0, 0),
    ("debug", -2, 0, 0, 0),
    ("restore-asking", -4, 1, 1, 1),
    ("command", -1, 0, 0, 0),
    ("command|count", 2, 0, 0, 0),
    ("command|docs", -2, 0, 0, 0),
    ("command|getkeys", -3, 0, 0, 0),
    ("command|getkeysandflags", -3, 0, 0, 0),
    ("command|help", 2, 0, 0, 0),
    ("command|info", -2, 0, 0, 0),
    ("command|list", -2, 0, 0, 0),
    ("acl", -2, 0, 0, 0),
    ("acl|cat", -2, 0, 0, 0),
    ("acl|deluser", -3, 0, 0, 0),
    ("acl|dryrun", -4, 0, 0, 0),
    ("acl|genpass", -2, 0, 0, 0),
    ("acl|getuser", 3, 0, 0, 0),
    ("acl|help", 2, 0, 0, 0),
    ("acl|list", 2, 0, 0, 0),
    ("acl|load", 2, 0, 0, 0),
    ("acl|log", -2, 0, 0, 0),
    ("acl|save", 2, 0, 0, 0),
    ("acl|setuser", -3, 0, 0, 0),
    ("acl|users", 2, 0, 0, 0),
    ("acl|whoami", 2, 0, 0, 0),
    ("config", -2, 0, 0, 0),
    ("config|get", -3, 0, 0, 0),
    ("config|help", 2, 0, 0, 0),
    ("config|resetstat", 2, 0, 0, 0),
    ("config|rewrite", 2, 0, 0, 0),
    ("config|set", -4, 0, 0, 0),
    ("monitor", 1, 0, 0, 0),
    ("bgrewriteaof", 1, 0, 0, 0),
    ("save", 1, 0, 0, 0),
    ("bgsave", -1, 0, 0, 0),
    ("lastsave", 1, 0, 0, 0),
    ("sync", 1, 0, 0, 0),
    ("psync", -3, 0, 0, 0),
    ("replconf", -1, 0, 0, 0),
    ("wait", 3, 0, 0, 0),
    ("replicaof", 3, 0, 0, 0),
    ("slaveof", 3, 0, 0, 0),
    ("role", 1, 0, 0, 0),
    ("latency", -2, 0, 0, 0),
    ("latency|doctor", 2, 0, 0, 0),
    ("latency|graph", 3, 0, 0, 0),
    ("latency|help", 2, 0, 0, 0),
    ("latency|histogram", -2, 0, 0, 0),
    ("latency|history", 3, 0, 0, 0),
    ("latency|latest", 2, 0, 0, 0),
    ("latency|reset", -2, 0, 0, 0),
    ("slowlog", -2, 0, 0, 0),
    ("slowlog|get", -2, 0, 0, 0),
    ("slowlog|help", 2, 0, 0, 0),
    ("slowlog|len", 2, 0, 0, 0),
    ("slowlog|reset", 2, 0, 0, 0),
    // hyperloglog
    ("pfadd", -2, 1, 1, 1),
    ("pfcount", -2, 1, -1, 1),
    ("pfmerge", -2, 1, -1, 1),
    ("pfdebug", 3, 2, 2, 1),
    ("pfselftest", 1, 0, 0, 0),
    // sorted sets
    ("bzmpop", -5, 0, 0, 0),
    ("bzpopmax", -3, 1, -2, 1),
    ("bzpopmin", -3, 1, -2, 1),
    ("zadd", -4, 1, 1, 1),
    ("zcard", 2, 1, 1, 1),
    ("zcount", 4, 1, 1, 1),
    ("zdiff", -3, 0, 0, 0),
    ("zdiffstore", -4, 1, 1, 1),
    ("zincrby", 4, 1, 1, 1),
    ("zinter", -3, 0, 0, 0),
    ("zintercard", -3, 0, 0, 0),
    ("zinterstore", -4, 1, 1, 1),
    ("zlexcount", 4, 1, 1, 1),
    ("zmpop", -4, 0, 0, 0),
    ("zmscore", -3, 1, 1, 1),
    ("zpopmax", -2, 1, 1, 1),
    ("zpopmin", -2, 1, 1, 1),
    ("zrandmember", -2, 1, 1, 1),
    ("zrange", -4, 1, 1, 1),
    ("zrangebylex", -4, 1, 1, 1),
    ("zrangebyscore", -4, 1, 1, 1),
    ("zrangestore", -5, 1, 2, 1),
    ("zrank", -3, 1, 1, 1),
    ("zrem", -3, 1, 1, 1),
    ("zremrangebylex", 4, 1, 1, 1),
    ("zremrangebyrank", 4, 1, 1, 1),
    ("zremrangebyscore", 4, 1, 1, 1),
    ("zrevrange", -4, 1, 1, 1),
    ("zrevrangebylex", -4, 1, 1, 1),
    ("zrevrangebyscore", -4, 1, 1, 1),
    ("zrevrank", -3, 1, 1, 1),
    ("zscan", -3, 1, 1, 1),
    ("zscore", 3, 1, 1, 1),
    ("zunion", -3, 0, 0, 0),
    ("zunionstore", -4, 1, 1, 1),
    // geo
    ("geoadd", -5, 1, 1, 1),
    ("geodist", -4, 1, 1, 1),
    ("geohash", -2, 1, 1, 1),
    ("geopos", -2, 1, 1, 1),
    ("georadius", -6, 1, 1, 1),
    ("georadius_ro", -6, 1, 1, 1),
    ("georadiusbymember", -5, 1, 1, 1),
    ("georadiusbymember_ro", -5, 1, 1, 1),
    ("geosearch", -7, 1, 1, 1),
    ("geosearchstore", -8, 1, 2, 1),
    // streams
    ("xadd", -5, 1, 1, 1),
    ("xlen", 2, 1, 1, 1),
    ("xrange", -4, 1, 1, 1),
    ("xrevrange", -4, 1, 1, 1),
    ("xdel", -3, 1, 1, 1),
    ("xtrim", -4, 1, 1, 1),
    ("xsetid", -3, 1, 1, 1),
    ("xinfo", -2, 0, 0, 0),
    ("xinfo|consumers", 4, 2, 2, 1),
    ("xinfo|groups", 3, 2, 2, 1),
    ("xinfo|help", 2, 0, 0, 0),
    ("xinfo|stream", -3, 2, 2, 1),
    ("xread", -4, 0, 0, 0),
    ("xgroup", -2, 0, 0, 0),
    ("xgroup|create", -5, 2, 2, 1),
    ("xgroup|createconsumer", 5, 2, 2, 1),
    ("xgroup|delconsumer", 5, 2, 2, 1),
    ("xgroup|destroy", 4, 2, 2, 1),
    ("xgroup|help", 2, 0, 0, 0),
    ("xgroup|setid", -5, 2, 2, 1),
    ("xreadgroup", -7, 0, 0, 0),
    ("xack", -4, 1, 1, 1),
    ("xpending", -3, 1, 1, 1),
    ("xclaim", -6, 1, 1, 1),
    ("xautoclaim", -6, 1, 1, 1),
    // cluster mode (off), memory, modules
    ("cluster", -2, 0, 0, 0),
    ("cluster|addslots", -3, 0, 0, 0),
    ("cluster|addslotsrange", -4, 0, 0, 0),
    ("cluster|bumpepoch", 2, 0, 0, 0),
    ("cluster|count-failure-reports", 3, 0, 0, 0),
    ("cluster|countkeysinslot", 3, 0, 0, 0),
    ("cluster|delslots", -3, 0, 0, 0),
    ("cluster|delslotsrange", -4, 0, 0, 0),
    ("cluster|failover", -2, 0, 0, 0),
    ("cluster|flushslots", 2, 0, 0, 0),
    ("cluster|forget", 3, 0, 0, 0),
    ("cluster|getkeysinslot", 4, 0, 0, 0),
    ("cluster|help", 2, 0, 0, 0),
    ("cluster|info", 2, 0, 0, 0),
    ("cluster|keyslot", 3, 0, 0, 0),
    ("cluster|links", 2, 0, 0, 0),
    ("cluster|meet", -4, 0, 0, 0),
    ("cluster|myid", 2, 0, 0, 0),
    ("cluster|myshardid", 2, 0, 0, 0),
    ("cluster|nodes", 2, 0, 0, 0),
    ("cluster|replicas", 3, 0, 0, 0),
    ("cluster|replicate", 3, 0, 0, 0),
    ("cluster|reset", -2, 0, 0, 0),
    ("cluster|saveconfig", 2, 0, 0, 0),
    ("cluster|set-config-epoch", 3, 0, 0, 0),
    ("cluster|setslot", -4, 0, 0, 0),
    ("cluster|shards", 2, 0, 0, 0),
    ("cluster|slaves", 3, 0, 0, 0),
    ("cluster|slots", 2, 0, 0, 0),
    ("asking", 1, 0, 0, 0),
    ("readonly", 1, 0, 0, 0),
    ("readwrite", 1, 0, 0, 0),
    ("memory", -2, 0, 0, 0),
    ("memory|doctor", 2, 0, 0, 0),
    ("memory|help", 2, 0, 0, 0),
    ("memory|malloc-stats", 2, 0, 0, 0),
    ("memory|purge", 2, 0, 0, 0),
    ("memory|stats", 2, 0, 0, 0),
    ("memory|usage", -3, 2, 2, 1),
    ("module", -2, 0, 0, 0),
    ("module|help", 2, 0, 0, 0),
    ("module|list", 2, 0, 0, 0),
    ("module|load", -3, 0, 0, 0),
    ("module|loadex", -3, 0, 0, 0),
    ("module|unload", 3, 0, 0, 0),
    ("lolwut", -1, 0, 0, 0),
];

/// The commands whose keys are found by their key specs (`movablekeys` in COMMAND INFO).
const MOVABLE: &[&str] = &[
    "migrate",
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "fcall_ro",
    "lmpop",
    "blmpop",
    "bzmpop",
    "zdiff",
    "zdiffstore",
    "zinter",
    "zintercard",
    "zinterstore",
    "zmpop",
    "zunion",
    "zunionstore",
    "georadius",
    "georadiusbymember",
    "sintercard",
    "sort",
    "sort_ro",
    "xread",
    "xreadgroup",
];

fn every_spec() -> impl Iterator<Item = &'static CommandSpec> {
    all().flat_map(|c| std::iter::once(c).chain(c.subcommands))
}

#[test]
fn every_command_exactly_once_with_redis_arity_and_range() {
    let mut seen: Vec<&str> = every_spec().map(|c| c.name).collect();
    let mut expected: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    seen.sort_unstable();
    expected.sort_unstable();
    assert_eq!(seen, expected);
    for &(name, arity, first, last, step) in EXPECTED {
        let c = lookup_path(name.as_bytes()).unwrap();
        assert_eq!(
            (c.arity, c.first_key, c.last_key, c.step),
            (arity, first, last, step),
            "{name}"
        );
        assert_eq!(
            c.flags & flag::MOVABLE_KEYS != 0,
            MOVABLE.contains(&name),
            "{name}"
        );
    }
}

#[test]
fn data_is_consistent() {
    for c in every_spec() {
        let n = c.name;
        assert!(
            !c.group.is_empty() && !c.since.is_empty() && !c.summary.is_empty(),
            "{n}"
        );
        // Redis documents no complexity for MONITOR and LOLWUT.
        assert!(
            !c.complexity.is_empty() || n == "monitor" || n == "lolwut",
            "{n}"
        );
        // Categories are known, in Redis' order, and agree with the flags as Redis'
        // setImplicitACLCategories derives them.
        let pos: Vec<usize> = c
            .acl_categories
            .iter()
            .map(|a| ACL_CATEGORIES.iter().position(|b| a == b).expect(n))
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{n}");
        let has = |cat: &str| c.acl_categories.contains(&cat);
        assert_eq!(has("write"), c.flags & flag::WRITE != 0, "{n}");
        // Redis leaves scripting commands (EVAL_RO, FCALL_RO) out of @read.
        assert_eq!(
            has("read"),
            c.flags & flag::READONLY != 0 && !has("scripting"),
            "{n}"
        );
        assert_eq!(has("fast"), c.flags & flag::FAST != 0, "{n}");
        assert_eq!(has("slow"), c.flags & flag::FAST == 0, "{n}");
        if c.flags & flag::ADMIN != 0 {
            assert!(has("admin") && has("dangerous"), "{n}");
        }
        for sub in c.subcommands {
            assert!(sub.name.starts_with(&format!("{n}|")), "{}", sub.name);
            assert!(sub.subcommands.is_empty());
        }
        check_args(c, c.arguments);
    }
}

fn check_args(c: &CommandSpec, args: &[Arg]) {
    for a in args {
        let container = matches!(a.kind, ArgType::OneOf | ArgType::Block);
        assert_eq!(container, !a.subargs.is_empty(), "{} {}", c.name, a.name);
        // Keys have a key spec; so do SORT's BY/GET patterns, which name keys.
        let names_keys = matches!(a.kind, ArgType::Key | ArgType::Pattern)
            && c.group == "generic"
            && c.name.starts_with("sort");
        if a.kind == ArgType::Key {
            assert!(a.key_spec_index >= 0, "{}", c.name);
        } else if !names_keys {
            assert!(a.key_spec_index < 0, "{} {}", c.name, a.name);
        }
        assert!(a.key_spec_index < c.key_specs.len() as i32, "{}", c.name);
        if a.kind == ArgType::PureToken {
            assert!(a.token.is_some(), "{} {}", c.name, a.name);
        }
        check_args(c, a.subargs);
    }
}

#[test]
fn lookups_ignore_case() {
    assert_eq!(lookup(b"GeT").unwrap().name, "get");
    assert_eq!(lookup(b"BITFIELD_RO").unwrap().name, "bitfield_ro");
    assert!(lookup(b"nope").is_none());
    assert!(lookup(&[b'a'; 100]).is_none());
    assert!(lookup(b"client|list").is_none(), "top level only");
    let client = lookup(b"CLIENT").unwrap();
    assert_eq!(lookup_sub(client, b"LiSt").unwrap().name, "client|list");
    assert_eq!(
        lookup_sub(client, b"no-evict").unwrap().name,
        "client|no-evict"
    );
    assert!(lookup_sub(client, b"nope").is_none());
    assert!(lookup_sub(lookup(b"get").unwrap(), b"x").is_none());
    assert_eq!(
        lookup_path(b"Object|Encoding").unwrap().name,
        "object|encoding"
    );
    assert_eq!(lookup_path(b"config").unwrap().name, "config");
    assert!(lookup_path(b"get|x").is_none());
    assert!(lookup_path(b"client|list|x").is_none());
    let args: [&[u8]; 3] = [b"object", b"ENCODING", b"k"];
    assert_eq!(resolve(&args).unwrap().name, "object|encoding");
    assert_eq!(resolve(&args[..1]).unwrap().name, "object");
    assert!(resolve(&[b"object".as_slice(), b"nope"]).is_none());
}

#[test]
fn key_positions_follow_the_specs() {
    assert_eq!(keys("set", &["SET", "k", "v", "EX", "1"]), Ok(vec![1]));
    assert_eq!(
        keys("mset", &["MSET", "a", "1", "b", "2", "c", "3"]),
        Ok(vec![1, 3, 5])
    );
    assert_eq!(
        keys("del", &["DEL", "a", "b", "c", "d"]),
        Ok(vec![1, 2, 3, 4])
    );
    assert_eq!(keys("lcs", &["LCS", "a", "b", "LEN"]), Ok(vec![1, 2]));
    assert_eq!(
        keys("bitop", &["BITOP", "AND", "dest", "s1", "s2", "s3"]),
        Ok(vec![2, 3, 4, 5])
    );
    assert_eq!(keys("object", &["OBJECT", "ENCODING", "k"]), Ok(vec![2]));
    // MIGRATE: Redis' migrateGetKeys (checked against redis-server).
    let m = |args: &[&str]| keys("migrate", &[&["MIGRATE", "h", "p"][..], args].concat());
    assert_eq!(m(&["k", "0", "5"]), Ok(vec![3]));
    assert_eq!(m(&["", "0", "5", "COPY"]), Ok(vec![3]));
    assert_eq!(m(&["", "0", "5", "KEYS", "a", "b"]), Ok(vec![7, 8]));
    assert_eq!(m(&["", "0", "5", "AUTH", "KEYS", "KEYS", "a"]), Ok(vec![9]));
    assert_eq!(
        m(&["", "0", "5", "AUTH2", "u", "KEYS", "KEYS", "a"]),
        Ok(vec![10])
    );
    assert_eq!(m(&["k", "0", "5", "KEYS", "a"]), Ok(vec![]));
    assert_eq!(keys("scan", &["SCAN", "0", "MATCH", "*"]), Ok(vec![]));
    assert_eq!(keys("copy", &["COPY", "a", "b", "DB", "1"]), Ok(vec![1, 2]));
    assert_eq!(keys("rename", &["RENAME", "a", "b"]), Ok(vec![1, 2]));
    assert_eq!(
        keys("bitfield_ro", &["BITFIELD_RO", "k", "GET", "u8", "0"]),
        Ok(vec![1])
    );
    assert_eq!(
        keys(
            "georadius",
            &[
                "GEORADIUS",
                "k",
                "0",
                "0",
                "1",
                "m",
                "STORE",
                "a",
                "STOREDIST",
                "b"
            ]
        ),
        Ok(vec![1, 7, 9])
    );
    assert_eq!(
        keys(
            "georadiusbymember",
            &["GEORADIUSBYMEMBER", "k", "m", "1", "km"]
        ),
        Ok(vec![1])
    );
    assert_eq!(
        keys(
            "geosearchstore",
            &["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m"]
        ),
        Ok(vec![1, 2])
    );
    // Too few arguments for the spec.
    assert!(keys("del", &["DEL"]).is_err());
    assert!(keys("lcs", &["LCS", "a"]).is_err());
}

#[test]
fn key_positions_of_keyword_keynum_and_limit_specs() {
    const fn spec(ks: &'static [KeySpec]) -> CommandSpec {
        cmd("x", -1, 0, &[]).keys(ks)
    }
    let args = |a: &[&'static str]| a.iter().map(|s| s.as_bytes()).collect::<Vec<_>>();
    // XREAD-like: keys after STREAMS, the first half of the rest.
    static XREAD: CommandSpec = spec(&[KeySpec::new(
        key_flag::RO,
        BeginSearch::Keyword {
            keyword: "STREAMS",
            startfrom: 1,
        },
        FindKeys::Range {
            lastkey: -1,
            step: 1,
            limit: 2,
        },
    )]);
    assert_eq!(XREAD.flags & flag::MOVABLE_KEYS, flag::MOVABLE_KEYS);
    let a = args(&["XREAD", "COUNT", "2", "streams", "s1", "s2", "0", "0"]);
    assert_eq!(key_positions(&XREAD, &a), Ok(vec![4, 5]));
    assert_eq!(
        key_positions(&XREAD, &args(&["XREAD", "COUNT", "2"])),
        Ok(vec![])
    );
    // ZUNIONSTORE-like: destination, then numkeys keys.
    static ZUNIONSTORE: CommandSpec = spec(&[
        key_at(1, key_flag::OW),
        KeySpec::new(
            key_flag::RO,
            BeginSearch::Index(2),
            FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                step: 1,
            },
        ),
    ]);
    assert_eq!((ZUNIONSTORE.first_key, ZUNIONSTORE.last_key), (1, 1));
    let a = args(&["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]);
    assert_eq!(key_positions(&ZUNIONSTORE, &a), Ok(vec![1, 3, 4]));
    let bad = args(&["ZUNIONSTORE", "d", "x", "a"]);
    assert!(key_positions(&ZUNIONSTORE, &bad).is_err());
    let too_many = args(&["ZUNIONSTORE", "d", "5", "a"]);
    assert!(key_positions(&ZUNIONSTORE, &too_many).is_err());
    // MIGRATE-like: KEYS keyword searched backwards from the end.
    static MIGRATE: CommandSpec = spec(&[KeySpec::new(
        key_flag::RW,
        BeginSearch::Keyword {
            keyword: "KEYS",
            startfrom: -2,
        },
        FindKeys::Range {
            lastkey: -1,
            step: 1,
            limit: 0,
        },
    )]);
    let a = args(&["MIGRATE", "h", "p", "", "0", "5", "KEYS", "a", "b"]);
    assert_eq!(key_positions(&MIGRATE, &a), Ok(vec![7, 8]));
}

#[test]
fn command_info_get_matches_redis() {
    let resp2 = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
        *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n\
        +access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
        *2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
        $4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
        :0\r\n*0\r\n";
    assert_eq!(run(false, &["COMMAND", "INFO", "get"]), resp2);
    let resp3 = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
        ~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n\
        +access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
        %1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
        $4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
        :0\r\n~0\r\n";
    assert_eq!(run(true, &["COMMAND", "INFO", "GET"]), resp3);
    assert_eq!(run(false, &["COMMAND", "INFO", "nosuch"]), "*1\r\n$-1\r\n");
    assert_eq!(run(true, &["COMMAND", "INFO", "nosuch"]), "*1\r\n_\r\n");
}

#[test]
fn command_info_of_containers_and_notes() {
    let info = run(false, &["COMMAND", "INFO", "client|LIST", "set"]);
    assert!(info.starts_with("*2\r\n*10\r\n$11\r\nclient|list\r\n:-2\r\n*4\r\n+admin\r\n"));
    let notes = "RW and ACCESS due to the optional `GET` argument";
    assert!(info.contains(&format!("$5\r\nnotes\r\n${}\r\n{notes}\r\n", notes.len())));
    // A container lists its subcommands' entries in an array.
    let object = run(true, &["COMMAND", "INFO", "object"]);
    assert!(object.contains("~0\r\n~0\r\n*5\r\n*10\r\n$15\r\nobject|encoding\r\n"));
}

#[test]
fn command_docs_get() {
    let expected = "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$34\r\nReturns the string value \
        of a key.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n\
        $10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n\
        $3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$12\r\ndisplay_text\r\n$3\r\nkey\r\n\
        $14\r\nkey_spec_index\r\n:0\r\n";
    assert_eq!(run(true, &["COMMAND", "DOCS", "get", "nosuch"]), expected);
    let set = run(true, &["COMMAND", "DOCS", "set"]);
    // A oneof has no display_text; its alternatives have.
    assert!(set.contains(
        "%5\r\n$4\r\nname\r\n$9\r\ncondition\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nsince\r\n\
         $6\r\n2.6.12\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n%4\r\n\
         $4\r\nname\r\n$2\r\nnx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$12\r\ndisplay_text\r\n\
         $2\r\nnx\r\n$5\r\ntoken\r\n$2\r\nNX\r\n"
    ));
    assert!(set.contains("$7\r\nhistory\r\n~4\r\n*2\r\n$6\r\n2.6.12\r\n"));
    let getset = run(false, &["COMMAND", "DOCS", "getset"]);
    assert!(getset.contains(
        "$9\r\ndoc_flags\r\n*1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n\
         $11\r\nreplaced_by\r\n$30\r\n`SET` with the `!GET` argument\r\n"
    ));
    let client = run(true, &["COMMAND", "DOCS", "client"]);
    assert!(client.contains("$11\r\nsubcommands\r\n%18\r\n$14\r\nclient|caching\r\n"));
    assert!(client.contains("$12\r\ndisplay_text\r\n$7\r\nip:port\r\n"));
}

#[test]
fn command_count_list_help() {
    let count = all().count();
    assert_eq!(run(false, &["COMMAND", "COUNT"]), format!(":{count}\r\n"));
    assert_eq!(
        run(false, &["command", "count", "x"]),
        "-ERR wrong number of arguments for 'command|count' command\r\n"
    );
    let everything = run(false, &["COMMAND"]);
    assert!(everything.starts_with(&format!("*{count}\r\n*10\r\n$3\r\nget\r\n")));
    assert_eq!(run(false, &["COMMAND", "INFO"]), everything);
    assert!(run(true, &["COMMAND", "DOCS"]).starts_with(&format!("%{count}\r\n")));
    let pattern = run(
        false,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "CLIENT|*name"],
    );
    assert_eq!(
        pattern,
        "*2\r\n$14\r\nclient|getname\r\n$14\r\nclient|setname\r\n"
    );
    let bitmap = run(false, &["COMMAND", "LIST", "filterby", "aclcat", "BITMAP"]);
    assert!(bitmap.starts_with("*7\r\n$6\r\nsetbit\r\n"));
    assert_eq!(
        run(false, &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        "*0\r\n"
    );
    assert_eq!(
        run(false, &["COMMAND", "LIST", "FILTERBY", "aclcat", "nope"]),
        "*0\r\n"
    );
    let total = every_spec().count();
    assert!(run(false, &["COMMAND", "LIST"]).starts_with(&format!("*{total}\r\n")));
    for bad in [
        &["COMMAND", "LIST", "x"][..],
        &["COMMAND", "LIST", "FILTERBY", "x", "y"],
    ] {
        assert_eq!(run(false, bad), "-ERR syntax error\r\n");
    }
    let help = run(false, &["COMMAND", "HELP"]);
    assert!(help.starts_with(
        "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
    ));
    assert!(help.ends_with("+HELP\r\n+    Print this help.\r\n"));
    assert_eq!(
        run(false, &["command", "foo"]),
        "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
    );
}

#[test]
fn command_getkeys() {
    assert_eq!(
        run(false, &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        run(false, &["COMMAND", "GETKEYS", "object", "encoding", "k"]),
        "*1\r\n$1\r\nk\r\n"
    );
    let errors = [
        (
            &["COMMAND", "GETKEYS", "nosuch"][..],
            "Invalid command specified",
        ),
        (
            &["COMMAND", "GETKEYS", "object", "foo", "k"],
            "Invalid command specified",
        ),
        (
            &["COMMAND", "GETKEYS", "scan", "0"],
            "The command has no key arguments",
        ),
        (
            &["COMMAND", "GETKEYS", "client"],
            "The command has no key arguments",
        ),
        (
            &["COMMAND", "GETKEYS", "get"],
            "Invalid number of arguments specified for command",
        ),
    ];
    for (args, msg) in errors {
        assert_eq!(run(false, args), format!("-ERR {msg}\r\n"), "{args:?}");
    }
    assert_eq!(
        run(false, &["COMMAND", "GETKEYS"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
    assert_eq!(
        run(
            true,
            &["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "get"]
        ),
        "*1\r\n*2\r\n$1\r\nk\r\n~3\r\n+RW\r\n+access\r\n+update\r\n"
    );
    assert_eq!(
        run(false, &["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        run(
            false,
            &[
                "COMMAND",
                "GETKEYSANDFLAGS",
                "bitfield",
                "k",
                "GET",
                "u8",
                "0"
            ]
        ),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n"
    );
    assert_eq!(
        run(false, &["COMMAND", "GETKEYSANDFLAGS", "copy", "a", "b"]),
        "*2\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n"
    );
}

#[test]
fn sort_keys_follow_sort_get_keys() {
    assert_eq!(keys("sort", &["sort", "k"]), Ok(vec![1]));
    assert_eq!(
        keys(
            "sort",
            &["sort", "k", "BY", "store", "GET", "store", "STORE", "d"]
        ),
        Ok(vec![1, 7])
    );
    // The last STORE wins; LIMIT skips its two arguments.
    assert_eq!(
        keys(
            "sort",
            &["sort", "k", "store", "a", "LIMIT", "store", "x", "store", "b"]
        ),
        Ok(vec![1, 8])
    );
    assert_eq!(
        keys("sort_ro", &["sort_ro", "k", "STORE", "d"]),
        Ok(vec![1])
    );
    let sort = lookup(b"sort").unwrap();
    assert_eq!(sort.flags & flag::MOVABLE_KEYS, flag::MOVABLE_KEYS);
    let args: Vec<&[u8]> = vec![b"sort", b"k", b"store", b"d"];
    assert_eq!(
        key_positions_with_flags(sort, &args),
        Ok(vec![
            (1, key_flag::RO | key_flag::ACCESS),
            (3, key_flag::OW | key_flag::UPDATE)
        ])
    );
}
