#!/usr/bin/env python3
"""Replication A/B: a Debian redis-server replica following Shardis, against the same replica
following Debian's redis-server.

For each leader (Shardis with one shard, Redis), pinned to core 0, with the replica and the
load on core 1, alternating rounds:

1. `sync`: the leader holds N keys (loaded with redis-cli --pipe); the replica is told
   REPLICAOF and the time until its `master_link_status:up` is measured, with the leader's
   peak RSS growth during the synchronization (Redis forks: its child's RSS, shared pages
   included, is reported separately). Redis runs with `repl-diskless-sync-delay 0`.
2. `set-p16`: redis-benchmark SET -P 16 against the leader while the replica follows: ops/s
   and the leader's CPU per request (Redis' numbers include nothing of a fork here).

    python3 bench/replication.py                 # 1M keys, 3 rounds
    python3 bench/replication.py --keys 200000 --rounds 1

Reported in docs/BENCHMARKS.md ("Replication").
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import REDIS_CMDLINE, ROOT, Server, info, rss_bytes  # noqa: E402

SHARDIS = os.path.join(ROOT, "target", "release", "shardis-server")
SHARDIS_CMDLINE = SHARDIS + " --port {port} --shards 1 --save ''"
REPLICA_CMDLINE = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no"
# Redis waits repl-diskless-sync-delay (5 s by default) for more replicas before a diskless
# transfer; Shardis starts at once. The delay is set to 0 so the transfers are compared.
LEADER_REDIS_CMDLINE = REDIS_CMDLINE + " --repl-diskless-sync-delay 0"


def load(port, keys):
    """N string keys of 100 bytes through redis-cli --pipe."""
    value = "x" * 100
    lines = "".join(
        f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n$100\r\n{value}\r\n"
        for k in (f"key:{i:010d}" for i in range(keys))
    ).encode()
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=lines, check=True,
                   stdout=subprocess.DEVNULL)


def children_rss(pid):
    """Summed RSS of `pid`'s child processes (Redis' fork child)."""
    total = 0
    try:
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        return 0
    for k in kids:
        total += rss_bytes(int(k))
    return total


def sync(leader, keys):
    """Seconds until a fresh replica is up, and the peak memory growth meanwhile."""
    with Server(REPLICA_CMDLINE, [1]) as replica:
        base = rss_bytes(leader.pid)
        peak_parent = peak_child = 0
        subprocess.run(["redis-cli", "-p", str(replica.port), "REPLICAOF", "127.0.0.1",
                        str(leader.port)], check=True, stdout=subprocess.DEVNULL)
        t0 = time.time()
        while True:
            peak_parent = max(peak_parent, rss_bytes(leader.pid) - base)
            peak_child = max(peak_child, children_rss(leader.pid))
            rep = info(replica.port, "replication")
            if rep.get("master_link_status") == "up":
                secs = time.time() - t0
                break
            if time.time() - t0 > 300:
                raise RuntimeError("the replica did not synchronize in 300 s")
            time.sleep(0.005)
        assert int(info(replica.port, "keyspace").get("db0", "keys=0").split(",")[0][5:]) == keys
        return secs, peak_parent, peak_child


def set_load(leader):
    """SET -P 16 ops/s and leader CPU us/request while a replica follows."""
    with Server(REPLICA_CMDLINE, [1]) as replica:
        subprocess.run(["redis-cli", "-p", str(replica.port), "REPLICAOF", "127.0.0.1",
                        str(leader.port)], check=True, stdout=subprocess.DEVNULL)
        while info(replica.port, "replication").get("master_link_status") != "up":
            time.sleep(0.01)
        n = 1_000_000
        c0 = leader.cpu_seconds()
        out = subprocess.run(
            ["taskset", "-c", "1", "redis-benchmark", "-p", str(leader.port), "-t", "set",
             "-P", "16", "-c", "50", "-r", "100000", "-n", str(n), "-q"],
            check=True, capture_output=True, text=True).stdout
        cpu = leader.cpu_seconds() - c0
        ops = float(out.split("requests per second")[0].split()[-1])
        return ops, cpu / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    results = {"shardis": [], "redis": []}
    for r in range(a.rounds):
        for name, cmdline in (("shardis", SHARDIS_CMDLINE), ("redis", LEADER_REDIS_CMDLINE)):
            with Server(cmdline, [0]) as leader:
                load(leader.port, a.keys)
                s = sync(leader, a.keys)
                ops, cpu = set_load(leader)
                results[name].append((*s, ops, cpu))
                print(f"round {r + 1} {name:8} sync {s[0]:.2f}s  parent +{s[1] / 2**20:.0f} MB"
                      f"  child {s[2] / 2**20:.0f} MB  set-p16 {ops:.0f} ops/s  {cpu:.3f} us/req",
                      flush=True)
    med = {n: [statistics.median(x[i] for x in v) for i in range(5)] for n, v in results.items()}
    s, r = med["shardis"], med["redis"]
    print(f"\nmedians: sync shardis {s[0]:.2f}s redis {r[0]:.2f}s ({s[0] / r[0]:.2f}x)")
    print(f"memory during sync: shardis +{s[1] / 2**20:.0f} MB; redis parent +{r[1] / 2**20:.0f} MB,"
          f" fork child {r[2] / 2**20:.0f} MB RSS")
    print(f"set-p16 with a replica: {s[3] / r[3]:.2f}x ops/s, {s[4] / r[4]:.2f}x CPU per request")


if __name__ == "__main__":
    main()
