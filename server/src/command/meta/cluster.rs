//! Cluster mode's commands (Redis 7.2's `cluster` group). Shardis is a standalone server:
//! they all answer that cluster support is disabled (`command::standalone`), as a Redis
//! started without `cluster-enabled` does, and are described here so COMMAND shows them as
//! Redis does.

use super::flag::*;
use super::*;

const CLUSTER: &str = "cluster";

pub(super) static COMMANDS: &[CommandSpec] = &[
    cmd("cluster", -2, 0, &["slow"])
        .doc(CLUSTER, "3.0.0", "Depends on subcommand.",
            "A container for Redis Cluster commands.")
        .subcommands(&[
            cmd("cluster|addslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the total number of hash slot arguments",
                    "Assigns new hash slots to a node.")
                .args(&[
                    integer("slot").multi(),
                ]),
            cmd("cluster|addslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "7.0.0", "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
                    "Assigns new hash slot ranges to a node.")
                .args(&[
                    block("start-slot_end-slot", &[
                        integer("start-slot"),
                        integer("end-slot"),
                    ]).multi(),
                ]),
            cmd("cluster|bumpepoch", 2, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Advances the cluster config epoch.")
                .tips(&["nondeterministic_output"]),
            cmd("cluster|count-failure-reports", 3, ADMIN | STALE, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the number of failure reports",
                    "Returns the number of active failure reports active for a node.")
                .tips(&["nondeterministic_output"])
                .args(&[
                    string("node-id"),
                ]),
            cmd("cluster|countkeysinslot", 3, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Returns the number of keys in a hash slot.")
                .args(&[
                    integer("slot"),
                ]),
            cmd("cluster|delslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the total number of hash slot arguments",
                    "Sets hash slots as unbound for a node.")
                .args(&[
                    integer("slot").multi(),
                ]),
            cmd("cluster|delslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "7.0.0", "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
                    "Sets hash slot ranges as unbound for a node.")
                .args(&[
                    block("start-slot_end-slot", &[
                        integer("start-slot"),
                        integer("end-slot"),
                    ]).multi(),
                ]),
            cmd("cluster|failover", -2, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Forces a replica to perform a manual failover of its master.")
                .args(&[
                    oneof("options", &[
                        pure("force", "FORCE"),
                        pure("takeover", "TAKEOVER"),
                    ]).opt(),
                ]),
            cmd("cluster|flushslots", 2, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Deletes all slots information from a node."),
            cmd("cluster|forget", 3, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Removes a node from the nodes table.")
                .args(&[
                    string("node-id"),
                ]),
            cmd("cluster|getkeysinslot", 4, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(log(N)) where N is the number of requested keys",
                    "Returns the key names in a hash slot.")
                .tips(&["nondeterministic_output"])
                .args(&[
                    integer("slot"),
                    integer("count"),
                ]),
            cmd("cluster|help", 2, LOADING | STALE, &["slow"])
                .doc(CLUSTER, "5.0.0", "O(1)",
                    "Returns helpful text about the different subcommands."),
            cmd("cluster|info", 2, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Returns information about the state of a node.")
                .tips(&["nondeterministic_output"]),
            cmd("cluster|keyslot", 3, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the number of bytes in the key",
                    "Returns the hash slot for a key.")
                .args(&[
                    string("key"),
                ]),
            cmd("cluster|links", 2, STALE, &["slow"])
                .doc(CLUSTER, "7.0.0", "O(N) where N is the total number of Cluster nodes",
                    "Returns a list of all TCP links to and from peer nodes.")
                .tips(&["nondeterministic_output"]),
            cmd("cluster|meet", -4, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Forces a node to handshake with another node.")
                .history(&[("4.0.0", "Added the optional `cluster_bus_port` argument.")])
                .args(&[
                    string("ip"),
                    integer("port"),
                    integer("cluster_bus_port").opt().since("4.0.0"),
                ]),
            cmd("cluster|myid", 2, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Returns the ID of a node."),
            cmd("cluster|myshardid", 2, STALE, &["slow"])
                .doc(CLUSTER, "7.2.0", "O(1)", "Returns the shard ID of a node.")
                .tips(&["nondeterministic_output"]),
            cmd("cluster|nodes", 2, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the total number of Cluster nodes",
                    "Returns the cluster configuration for a node.")
                .tips(&["nondeterministic_output"]),
            cmd("cluster|replicas", 3, ADMIN | STALE, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "5.0.0", "O(1)",
                    "Lists the replica nodes of a master node.")
                .tips(&["nondeterministic_output"])
                .args(&[
                    string("node-id"),
                ]),
            cmd("cluster|replicate", 3, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Configure a node as replica of a master node.")
                .args(&[
                    string("node-id"),
                ]),
            cmd("cluster|reset", -2, ADMIN | NOSCRIPT | STALE, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
                    "Resets a node.")
                .args(&[
                    oneof("hard_soft", &[
                        pure("hard", "HARD"),
                        pure("soft", "SOFT"),
                    ]).opt(),
                ]),
            cmd("cluster|saveconfig", 2, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Forces a node to save the cluster configuration to disk."),
            cmd("cluster|set-config-epoch", 3, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Sets the configuration epoch for a new node.")
                .args(&[
                    integer("config-epoch"),
                ]),
            cmd("cluster|setslot", -4, ADMIN | STALE | NO_ASYNC_LOADING, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Binds a hash slot to a node.")
                .args(&[
                    integer("slot"),
                    oneof("subcommand", &[
                        string("node-id").token("IMPORTING"),
                        string("node-id").token("MIGRATING"),
                        string("node-id").token("NODE"),
                        pure("stable", "STABLE"),
                    ]),
                ]),
            cmd("cluster|shards", 2, STALE, &["slow"])
                .doc(CLUSTER, "7.0.0", "O(N) where N is the total number of cluster nodes",
                    "Returns the mapping of cluster slots to shards.")
                .tips(&["nondeterministic_output"]),
            cmd("cluster|slaves", 3, ADMIN | STALE, &["admin", "slow", "dangerous"])
                .doc(CLUSTER, "3.0.0", "O(1)",
                    "Lists the replica nodes of a master node.")
                .deprecated("5.0.0", "`CLUSTER REPLICAS`")
                .tips(&["nondeterministic_output"])
                .args(&[
                    string("node-id"),
                ]),
            cmd("cluster|slots", 2, STALE, &["slow"])
                .doc(CLUSTER, "3.0.0", "O(N) where N is the total number of Cluster nodes",
                    "Returns the mapping of cluster slots to nodes.")
                .deprecated("7.0.0", "`CLUSTER SHARDS`")
                .tips(&["nondeterministic_output"])
                .history(&[("4.0.0", "Added node IDs."), ("7.0.0", "Added additional networking metadata field.")]),
        ]),

    cmd("readonly", 1, LOADING | STALE | FAST, &["fast", "connection"])
        .doc(CLUSTER, "3.0.0", "O(1)",
            "Enables read-only queries for a connection to a Redis Cluster replica node."),
    cmd("readwrite", 1, LOADING | STALE | FAST, &["fast", "connection"])
        .doc(CLUSTER, "3.0.0", "O(1)",
            "Enables read-write queries for a connection to a Reids Cluster replica node."),
    cmd("asking", 1, FAST, &["fast", "connection"])
        .doc(CLUSTER, "3.0.0", "O(1)", "Signals that a cluster client is following an -ASK redirect."),
];
