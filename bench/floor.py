#!/usr/bin/env python3
"""The floor at pipeline 1: how much of a request's CPU is the kernel's TCP path.

Runs redis-benchmark `-t ping_inline -c 50` (pipeline 1) against Debian's redis-server,
shardis-server and `shardis-floor`, a PING server that does nothing but answer (in both
designs: io_uring with batched submissions, and epoll with a read and a write per request,
as Redis), alternating servers over several rounds, each pinned to the server core with the
load on the other. Prints the medians of ops/s and server CPU per request, as ratios to
Redis. What the floor costs is the least any server can cost on this kernel and machine.

    cargo build --release
    python3 bench/floor.py                 # 5 rounds
    python3 bench/floor.py --rounds 3 --requests 200000 --test get

Reported in docs/BENCHMARKS.md ("The floor at pipeline 1").
"""
import argparse
import os
import statistics
import shlex
import sys

from benchlib import REDIS_CMDLINE, ROOT, Server
from compare import run_benchmark


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=300000)
    ap.add_argument("--test", default="ping_inline",
                    help="redis-benchmark -t test for the real servers (the floor servers only PING)")
    ap.add_argument("--server-core", default="0")
    ap.add_argument("--load-core", default="1")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=FLAGS",
                    help="another shardis-server run, e.g. glommio='--client-ring no'")
    opts = ap.parse_args()

    release = os.path.join(ROOT, "target/release")
    for binary in ("shardis-server", "shardis-floor"):
        if not os.path.exists(os.path.join(release, binary)):
            sys.exit(f"{binary} not found in {release}: run `cargo build --release` first")
    servers = {
        "redis": REDIS_CMDLINE,
        "shardis": [os.path.join(release, "shardis-server"), "--port", "{port}", "--shards", "1"],
        "floor-uring": [os.path.join(release, "shardis-floor"), "--port", "{port}", "--mode", "uring"],
        "floor-epoll": [os.path.join(release, "shardis-floor"), "--port", "{port}", "--mode", "epoll"],
    }
    for v in opts.variant:
        name, _, flags = v.partition("=")
        servers[name] = servers["shardis"] + shlex.split(flags)
    results = {name: [] for name in servers}
    for rnd in range(opts.rounds):
        order = list(servers) if rnd % 2 == 0 else list(servers)[::-1]
        for name in order:
            test = opts.test if not name.startswith("floor") else "ping_inline"
            args = ["-t", test, "-c", "50", "-r", "100000", "-n", str(opts.requests)]
            with Server(servers[name], [int(c) for c in opts.server_core.split(",")]) as server:
                before = server.cpu_seconds()
                rps, _, _ = run_benchmark(server.port, args, opts.load_core)
                cpu = (server.cpu_seconds() - before) / opts.requests * 1e6
            results[name].append((rps, cpu))
            print(f"round {rnd + 1} {name:12} {rps:10.0f} ops/s  cpu/req {cpu:.2f} us", file=sys.stderr)

    med = {name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
           for name, rs in results.items()}
    base_ops, base_cpu = med["redis"]
    print("\n| server | ops/s | ratio | cpu/req us | cpu ratio |")
    print("|---|---|---|---|---|")
    for name, (ops, cpu) in med.items():
        print(f"| {name} | {ops:.0f} | {ops / base_ops:.2f}x | {cpu:.2f} | {cpu / base_cpu:.2f}x |")


if __name__ == "__main__":
    main()
