#!/usr/bin/env python3
"""The cost of a cross-shard hop in shardis-server: latency and server CPU per request.

A connection lives on one shard (SO_REUSEPORT picks it); a GET for a key another shard owns
travels there and back as messages. To see only that difference, one connection at pipeline 1
alternates GETs on two keys that hash to different shards of two ('a' -> shard 1, 'b' -> shard
0; Redis Cluster slots dealt in ranges): whichever shard the connection landed on, one key is
local and the other remote, and shardis-bench reports each command's latency separately. The
local key is the one with the lower p50.

CPU per hop: the two GETs are mixed 9:1 in one run and 1:9 in the next, so a run sends 10% or
90% of its requests across shards (depending on where the connection landed). The server's CPU
per request against that fraction is a straight line; its slope is the extra CPU of a hop and
its intercept the CPU of a local GET. The runs alternate the spin-before-park-us values given,
each on a fresh server.

    python3 bench/hop.py                                  # spin 0 vs 50, 4 rounds x 3 s runs
    python3 bench/hop.py --spin 0,50,200 --rounds 6

Caveat on a 2-core machine: shard 1 shares core 1 with the load generator. Reported in
docs/BENCHMARKS.md.
"""
import argparse
import json
import os
import datetime
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, Connection, Server, parse_cores  # noqa: E402

KEYS = ("a", "b")


def crc16(data):
    """CRC16/XMODEM, Redis Cluster's key hash (shard/src/slot.rs)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_shard(key, shards):
    """Shardis' shard of a key (no hash tags in our keys): slots in contiguous ranges."""
    return (crc16(key.encode()) & 16383) * shards // 16384


def fit_line(points):
    """Least squares y = a + b*x over (x, y) points -> (a, b), or None without two distinct x."""
    xs = {x for x, _ in points}
    if len(xs) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return my - b * mx, b


def classify(doc, weights):
    """From one run's JSON: which key was local, its p50 and the remote key's, and the fraction
    of requests that crossed shards. weights = (weight of GET a, weight of GET b)."""
    a, b = doc["commands"]["GET"], doc["commands"]["GET#2"]
    local_is_a = a["p50_ms"] <= b["p50_ms"]
    local, remote = (a, b) if local_is_a else (b, a)
    remote_weight = weights[1] if local_is_a else weights[0]
    return {"local_key": "a" if local_is_a else "b", "local_p50_ms": local["p50_ms"],
            "remote_p50_ms": remote["p50_ms"], "local_mean_ms": local["mean_ms"],
            "remote_mean_ms": remote["mean_ms"], "remote_frac": remote_weight / sum(weights)}


def run_one(server, opts, weights, path):
    argv = ["taskset", "-c", opts.load_cores, opts.bench, "-p", str(server.port), "-t", "1",
            "-c", "1", "--pipeline", "1", "-q", "--test-time", str(opts.duration),
            "--command", "GET a", "--command-ratio", str(weights[0]),
            "--command", "GET b", "--command-ratio", str(weights[1]), "--json-out", path]
    cpu0 = server.cpu_seconds()
    subprocess.run(argv, capture_output=True, check=True, timeout=opts.duration + 60)
    cpu1 = server.cpu_seconds()
    with open(path) as f:
        doc = json.load(f)
    row = classify(doc, weights)
    row["ops_per_sec"] = doc["totals"]["ops_per_sec"]
    row["cpu_us_per_op"] = (cpu1 - cpu0) / doc["totals"]["ops"] * 1e6
    return row


def latency_summary(rows):
    """Medians of local and remote p50 over runs (same placement and remote fraction)."""
    local = statistics.median(r["local_p50_ms"] for r in rows)
    remote = statistics.median(r["remote_p50_ms"] for r in rows)
    return {"runs": len(rows), "local_p50_us": 1000 * local, "remote_p50_us": 1000 * remote,
            "hop_p50_us": 1000 * (remote - local), "remote_over_local": remote / local,
            "cpu_us_per_op": statistics.median(r["cpu_us_per_op"] for r in rows),
            "ops_per_sec": statistics.median(r["ops_per_sec"] for r in rows)}


def cpu_summary(rows):
    """CPU of a local GET and extra CPU of a hop, from the line through (remote fraction, CPU
    per request); None unless both fractions were seen."""
    fit = fit_line([(r["remote_frac"], r["cpu_us_per_op"]) for r in rows])
    if fit is None:
        return None
    local, hop_extra = fit
    return {"runs": len(rows), "local_cpu_us": local, "hop_cpu_us": hop_extra,
            "hop_over_local": hop_extra / local if local > 0 else None}


def placements(rows):
    """Runs grouped by the shard the connection landed on. On a 2-core machine shard 1 shares
    its core with the load generator, which changes both latencies: never mix the two."""
    return [(k, [r for r in rows if r["conn_shard"] == k]) for k in (0, 1)]


def report(spins, rows):
    """Two markdown tables: latency per (spin, placement, share of requests that hop), and
    the CPU fit per (spin, placement)."""
    lat = ["| spin-before-park-us | connection on | requests that hop | runs | local GET p50 "
           "| remote GET p50 | hop: extra p50 | remote/local p50 | server CPU/request |",
           "|---|---|---|---|---|---|---|---|---|"]
    cpu = ["| spin-before-park-us | connection on | runs | local GET CPU (fit) | hop: extra CPU (fit) "
           "| hop CPU / local GET CPU |", "|---|---|---|---|---|---|"]
    for spin in spins:
        for shard, group in placements(rows[spin]):
            for frac in sorted({r["remote_frac"] for r in group}):
                s = latency_summary([r for r in group if r["remote_frac"] == frac])
                lat.append(f"| {spin} | shard {shard} (core {shard}) | {frac:.0%} | {s['runs']} | "
                           f"{s['local_p50_us']:.1f} us | {s['remote_p50_us']:.1f} us | "
                           f"{s['hop_p50_us']:.1f} us | {s['remote_over_local']:.2f}x | "
                           f"{s['cpu_us_per_op']:.1f} us |")
            c = cpu_summary(group) if group else None
            if c:
                rel = "" if c["hop_over_local"] is None else f"{c['hop_over_local']:.2f}x"
                cpu.append(f"| {spin} | shard {shard} (core {shard}) | {c['runs']} | "
                           f"{c['local_cpu_us']:.1f} us | {c['hop_cpu_us']:.1f} us | {rel} |")
            elif group:
                cpu.append(f"| {spin} | shard {shard} (core {shard}) | {len(group)} | n/a | "
                           f"n/a (one hop share only) | |")
    return "\n".join(lat) + "\n\n" + "\n".join(cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spin", default="0,50", help="spin-before-park-us values to compare")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per run")
    ap.add_argument("--server-cores", default="0-1", help="two cores: one shard on each")
    ap.add_argument("--load-cores", default="1")
    ap.add_argument("--shardis", default=os.path.join(ROOT, "target/release/shardis-server"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "target/release/shardis-bench"))
    ap.add_argument("--out", help="directory for rows.json (default bench/results/<timestamp>-hop)")
    ap.add_argument("--from-json", metavar="ROWS", help="only print the tables of a saved rows.json")
    opts = ap.parse_args()

    if opts.from_json:
        with open(opts.from_json) as f:
            saved = json.load(f)
        print(report([int(k) for k in saved], {int(k): v for k, v in saved.items()}))
        return

    cores = parse_cores(opts.server_cores)
    assert key_shard("a", 2) != key_shard("b", 2)
    spins = [int(s) for s in opts.spin.split(",")]
    rows = {s: [] for s in spins}
    outdir = opts.out or os.path.join(ROOT, "bench", "results",
                                   datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + "-hop")
    os.makedirs(outdir, exist_ok=True)
    for rnd in range(opts.rounds):
        for spin in spins if rnd % 2 == 0 else spins[::-1]:
            cmd = [opts.shardis, "--port", "{port}", "--bind", "127.0.0.1", "--shards", "2",
                   "--spin-before-park-us", str(spin)]
            with Server(cmd, cores) as server:
                with Connection(server.port) as c:
                    for k in KEYS:
                        c.call("SET", k, "x" * 32)
                for weights in ((9, 1), (1, 9)):
                    row = run_one(server, opts, weights, os.path.join(outdir, "run.json"))
                    row["conn_shard"] = key_shard(row["local_key"], 2)
                    rows[spin].append(row)
                    print(f"round {rnd + 1} spin {spin:4} GET a:b {weights[0]}:{weights[1]}  "
                          f"connection on shard {row['conn_shard']}  remote {row['remote_frac']:.0%}  "
                          f"p50 local {1000 * row['local_p50_ms']:.1f} us remote "
                          f"{1000 * row['remote_p50_ms']:.1f} us  cpu {row['cpu_us_per_op']:.2f} us/op  "
                          f"{row['ops_per_sec']:,.0f} ops/s", file=sys.stderr)

    print(report(spins, rows))
    with open(os.path.join(outdir, "rows.json"), "w") as f:
        json.dump({str(k): v for k, v in rows.items()}, f, indent=1)
    print(f"\nper-run data: {os.path.join(outdir, 'rows.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()
