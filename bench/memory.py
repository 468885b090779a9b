#!/usr/bin/env python3
"""Memory per element: Shardis against Redis, one data shape at a time.

Each scenario runs in a fresh server process of each kind (Shardis with `--shards 1`, Debian's
redis-server without persistence), on a free loopback port:

  strings      N string keys                      SET key:<i> value:<i>
  big-hash     one hash of N fields               HSET bighash field:<i> value:<i>
  small-hashes 1000 hashes of 100 fields each     HSET hash:<k> field:<j> value:<j>
  big-set      one set of N members               SADD bigset member:<i>
  big-zset     one sorted set of N members        ZADD bigzset <i> member:<i>
  streams      one stream of N entries            XADD s * f1 v1 f2 v2 f3 v3

N is 1,000,000 (10,000 with --quick, which also makes small-hashes 100 hashes). Loading is pipelined in batches of 1000 commands. After
loading, the script reads VmRSS from /proc/<pid>/status and INFO memory's used_memory, and
reports (after - empty server) / N for both, with the Shardis/Redis ratios. The empty server
is measured after a warm-up of 10,000 pipelined ECHOs, so the buffers any pipelined load
touches once are not counted as data. A scenario whose
first command a server answers with "unknown command" is reported as unsupported.

    python3 bench/memory.py [target/release/shardis-server] [--quick] [--json out.json]

`--no-thp` starts Shardis with MIMALLOC_ALLOW_THP=0: by default mimalloc asks for transparent
huge pages on its arenas, so Shardis' RSS grows in 2 MiB steps, which blurs small scenarios.

Not part of CI: a full run loads ten million elements.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_rss(pid):
    """Resident memory of a process in bytes, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Server:
    """A server on a free port, killed when the `with` block ends."""

    def __init__(self, argv_for_port, env=None):
        self.port = free_port()
        self.proc = subprocess.Popen(argv_for_port(self.port), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     env=None if env is None else {**os.environ, **env})
        self.client = redis.Redis(port=self.port, socket_timeout=120)
        deadline = time.time() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv_for_port(self.port)[0]} exited at start")
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def rss(self):
        return vm_rss(self.proc.pid)

    def used_memory(self):
        return self.client.info("memory").get("used_memory")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()
        self.proc.kill()
        self.proc.wait()


# Each scenario: n -> (elements, commands).

def strings(n):
    return n, (("SET", f"key:{i}", f"value:{i}") for i in range(n))


def big_hash(n):
    return n, (("HSET", "bighash", f"field:{i}", f"value:{i}") for i in range(n))


def small_hashes(n):
    keys = 1000 if n >= 1_000_000 else 100
    return keys * 100, (("HSET", f"hash:{k}", f"field:{j}", f"value:{j}")
                        for k in range(keys) for j in range(100))


def big_set(n):
    return n, (("SADD", "bigset", f"member:{i}") for i in range(n))


def big_zset(n):
    return n, (("ZADD", "bigzset", i, f"member:{i}") for i in range(n))


def streams(n):
    return n, (("XADD", "s", "*", "f1", "v1", "f2", "v2", "f3", "v3") for _ in range(n))


SCENARIOS = [
    ("strings", strings),
    ("big-hash", big_hash),
    ("small-hashes", small_hashes),
    ("big-set", big_set),
    ("big-zset", big_zset),
    ("streams", streams),
]


def load(client, commands):
    """Sends `commands` in pipelined batches. Returns False if the server does not know the
    command (checked on the first one), raises on any other error."""
    commands = iter(commands)
    first = next(commands)
    try:
        client.execute_command(*first)
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            return False
        raise
    pipe = client.pipeline(transaction=False)
    for i, cmd in enumerate(commands, 1):
        pipe.execute_command(*cmd)
        if i % BATCH == 0:
            pipe.execute()
    pipe.execute()
    return True


def warm_up(client):
    """Pipelined requests that store nothing: the buffers and allocator pages a pipelined
    load touches once (a megabyte or two in Shardis) are then part of the empty baseline
    rather than charged to the data."""
    pipe = client.pipeline(transaction=False)
    for _ in range(10):
        for i in range(BATCH):
            pipe.execute_command("ECHO", f"warm-up request {i:08d}")
        pipe.execute()


def measure(argv_for_port, scenario, n, env=None):
    """Per-element RSS and used_memory of one scenario in a fresh server, or None."""
    with Server(argv_for_port, env) as server:
        warm_up(server.client)
        time.sleep(0.5)
        rss0, used0 = server.rss(), server.used_memory()
        n, commands = scenario(n)
        if not load(server.client, commands):
            return None
        # Let allocator bookkeeping settle before reading RSS: both servers hand freed pages
        # back in the background (jemalloc's decay; Shardis' cron once a shard has been
        # quiet for a whole second, checked every second).
        time.sleep(3)
        rss1, used1 = server.rss(), server.used_memory()
    per_used = None if used0 is None or used1 is None else (used1 - used0) / n
    return {"elements": n, "rss_per_element": (rss1 - rss0) / n,
            "used_memory_per_element": per_used, "rss_after": rss1, "rss_empty": rss0}


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def table(results):
    lines = ["| scenario | elements | Shardis RSS B/el | Redis RSS B/el | RSS ratio "
             "| Shardis used_memory B/el | Redis used_memory B/el | used_memory ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        s, ref = r["shardis"], r["redis"]
        if s is None or ref is None:
            who = "Shardis" if s is None else "Redis"
            lines.append(f"| {name} | | unsupported by {who} | | | | | |")
            continue
        lines.append("| {} | {:,} | {} | {} | {} | {} | {} | {} |".format(
            name, ref["elements"], fmt(s["rss_per_element"]), fmt(ref["rss_per_element"]),
            fmt(ratio(s["rss_per_element"], ref["rss_per_element"]), 2),
            fmt(s["used_memory_per_element"]), fmt(ref["used_memory_per_element"]),
            fmt(ratio(s["used_memory_per_element"], ref["used_memory_per_element"]), 2)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("shardis", nargs="?",
                    default=os.path.join(ROOT, "target/release/shardis-server"),
                    help="shardis-server binary (default: target/release/shardis-server)")
    ap.add_argument("--redis", default="redis-server", help="redis-server binary")
    ap.add_argument("--quick", action="store_true", help="10k elements instead of 1M")
    ap.add_argument("--only", action="append", choices=[s[0] for s in SCENARIOS],
                    help="run only this scenario (repeatable)")
    ap.add_argument("--no-thp", action="store_true",
                    help="run Shardis with MIMALLOC_ALLOW_THP=0 (no transparent huge pages)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-': stdout)")
    args = ap.parse_args()

    n = 10_000 if args.quick else 1_000_000
    if not os.path.exists(args.shardis):
        sys.exit(f"{args.shardis} not found: build it with cargo build --release")
    servers = {
        "shardis": (lambda port: [args.shardis, "--port", str(port), "--shards", "1"],
                    {"MIMALLOC_ALLOW_THP": "0"} if args.no_thp else None),
        "redis": (lambda port: [args.redis, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"], None),
    }
    results = {}
    for name, scenario in SCENARIOS:
        if args.only and name not in args.only:
            continue
        results[name] = {}
        for kind, (argv, env) in servers.items():
            print(f"{name}: {kind}...", file=sys.stderr, flush=True)
            results[name][kind] = measure(argv, scenario, n, env)
        r = results[name]
        r["rss_ratio"] = ratio(*(None if r[k] is None else r[k]["rss_per_element"]
                                 for k in ("shardis", "redis")))
        r["used_memory_ratio"] = ratio(*(None if r[k] is None else r[k]["used_memory_per_element"]
                                         for k in ("shardis", "redis")))
    print(table(results))
    if args.json:
        doc = json.dumps({"elements": n, "no_thp": args.no_thp, "scenarios": results},
                         indent=2)
        if args.json == "-":
            print(doc)
        else:
            with open(args.json, "w") as f:
                f.write(doc + "\n")


if __name__ == "__main__":
    main()
