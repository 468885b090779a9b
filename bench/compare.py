#!/usr/bin/env python3
"""A/B benchmark: Debian's redis-server against shardis-server on the same machine.

Each workload runs against each server in turn, several rounds, alternating A/B run by run
(both servers stay up side by side) so drift on a shared machine hits both. The server is pinned to one core (taskset), the load generator
(redis-benchmark) to another. For each run it records ops/s, p50/p99 latency and the server's
CPU time per request (from /proc/<pid>/stat), and prints medians and the shardis/redis ratios.

    python3 bench/compare.py                  # all workloads, 3 rounds
    python3 bench/compare.py --rounds 5 --only get-p16
    python3 bench/compare.py --other "valkey-server --port {port} --save ''"  # compare another server
    python3 bench/compare.py --shardis-args "--spin-before-park-us 0"
    python3 bench/compare.py --shards 2 --server-core 0-1   # two shards on cores 0 and 1

Before the workloads, each server gets (almost) all 100,000 keys, so GETs hit. The broader
suite with shardis-bench, latency charts and memory is bench/suite.py.

Reported in docs/BENCHMARKS.md.
"""
import argparse
import csv
import io
import os
import shlex
import statistics
import subprocess
import sys

from benchlib import REDIS_CMDLINE, ROOT, cpu_seconds, start, stop

# name -> redis-benchmark arguments (after host/port). Keys are preloaded (see preload()).
WORKLOADS = {
    "get-p16": ["-t", "get", "-P", "16", "-c", "50", "-r", "100000", "-n", "2000000"],
    "set-p16": ["-t", "set", "-P", "16", "-c", "50", "-r", "100000", "-n", "2000000"],
    "get-p1": ["-t", "get", "-c", "50", "-r", "100000", "-n", "300000"],
    "set-p1": ["-t", "set", "-c", "50", "-r", "100000", "-n", "300000"],
    "incr-p1": ["-t", "incr", "-c", "50", "-n", "300000"],
    "mset-p1": ["-t", "mset", "-c", "50", "-r", "100000", "-n", "200000"],
}


def run_benchmark(port, args, core):
    argv = ["taskset", "-c", str(core), "redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
            "--csv"] + args
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    row = rows[-1]
    return float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"])


def preload(port, core):
    """Writes (almost) every key of the -r 100000 space first, so the GET workloads hit even when
    they run before the SET ones (or alone, with --only): a miss is cheaper than a hit."""
    argv = ["taskset", "-c", str(core), "redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
            "-q", "-t", "set", "-P", "64", "-c", "50", "-r", "100000", "-n", "1000000"]
    subprocess.run(argv, capture_output=True, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", action="append", help="run only these workloads")
    ap.add_argument("--server-core", default="0", help="core(s) of the server, e.g. 0 or 0-1")
    ap.add_argument("--load-core", default="1", help="core(s) of redis-benchmark")
    ap.add_argument("--shards", type=int, default=1, help="shardis shards (pinned to the server core(s))")
    ap.add_argument("--other", help="command line of the reference server ({port} is replaced)",
                    default=REDIS_CMDLINE)
    ap.add_argument("--shardis", default=os.path.join(ROOT, "target/release/shardis-server"))
    ap.add_argument("--shardis-args", default="", help="extra shardis flags, e.g. '--spin-before-park-us 0'")
    opts = ap.parse_args()

    if not os.path.exists(opts.shardis):
        sys.exit(f"{opts.shardis} not found: run `cargo build --release` first")
    servers = {
        "redis": shlex.split(opts.other),
        "shardis": [opts.shardis, "--port", "{port}", "--shards", str(opts.shards)]
        + shlex.split(opts.shardis_args),
    }
    workloads = {k: v for k, v in WORKLOADS.items() if not opts.only or k in opts.only}
    results = {(w, s): [] for w in workloads for s in servers}
    # Both servers run side by side on the server core (an idle one costs nothing) and take
    # turns run by run, so a disturbance of the shared machine, which lasts tens of seconds,
    # lands on both rather than on one server's whole round.
    started = {}
    try:
        for name, cmdline in servers.items():
            started[name] = start(cmdline, opts.server_core)
            preload(started[name][1], opts.load_core)
        for rnd in range(opts.rounds):
            for w, args in workloads.items():
                for name in servers if rnd % 2 == 0 else list(servers)[::-1]:
                    proc, port = started[name]
                    before = cpu_seconds(proc.pid)
                    rps, p50, p99 = run_benchmark(port, args, opts.load_core)
                    used = cpu_seconds(proc.pid) - before
                    n = int(args[args.index("-n") + 1])
                    results[(w, name)].append((rps, p50, p99, used / n * 1e6))
                    print(f"round {rnd + 1} {name:8} {w:10} {rps:12.0f} ops/s  p50 {p50:.3f} ms  "
                          f"p99 {p99:.3f} ms  cpu/req {used / n * 1e6:.2f} us", file=sys.stderr)
    finally:
        for proc, _ in started.values():
            stop(proc)

    med = lambda xs: statistics.median(xs)
    print(f"\n| workload | redis ops/s | shardis ops/s | ratio | redis p50/p99 ms | shardis p50/p99 ms "
          f"| redis cpu/req us | shardis cpu/req us | cpu ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in workloads:
        r = [med([x[i] for x in results[(w, "redis")]]) for i in range(4)]
        s = [med([x[i] for x in results[(w, "shardis")]]) for i in range(4)]
        print(f"| {w} | {r[0]:.0f} | {s[0]:.0f} | {s[0] / r[0]:.2f}x | {r[1]:.3f}/{r[2]:.3f} | "
              f"{s[1]:.3f}/{s[2]:.3f} | {r[3]:.2f} | {s[3]:.2f} | {s[3] / r[3]:.2f}x |")


if __name__ == "__main__":
    main()
