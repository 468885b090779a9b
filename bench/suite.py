#!/usr/bin/env python3
"""Shardis benchmark suite: the standard workloads against shardis-server and reference servers.

Every workload runs against every server, several rounds, the server order rotating each round
so that drift on a shared machine hits all of them alike. Servers are pinned to --server-cores,
the load generator (shardis-bench, closed loop) to --load-cores. Each run records throughput,
p50/p99/p99.9 latency, and the server's CPU time per request from /proc/<pid>/stat (all threads)
read before and after the run. The report gives medians over the rounds and shardis/reference
ratios; the memory test preloads keys into fresh servers and reports bytes per key.

    python3 bench/suite.py                          # shardis vs Debian's redis-server, 3 rounds
    python3 bench/suite.py --quick                  # 1 short round: does everything work?
    python3 bench/suite.py --only set-get-32B-p16 --rounds 5
    python3 bench/suite.py --other "valkey-server --port {port} --save ''"       # add a server
    python3 bench/suite.py --no-redis --other "old=/tmp/old/shardis-server --port {port}"

A workload whose command the server does not implement ("ERR unknown command", found by probing
the workload's commands first) is reported as "unsupported" for that server, and a run that
draws error replies as "errors"; neither stops the suite. Results (raw shardis-bench JSON,
results.json, summary.md, latency charts as SVG) go to bench/results/<timestamp>/.
Documented in docs/BENCHMARKS.md.
"""
import argparse
import dataclasses
import datetime
import json
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (  # noqa: E402
    REDIS_CMDLINE, ROOT, Connection, Server, info, is_unknown_command, parse_cores,
)
import svgplot  # noqa: E402
import subscribers  # noqa: E402

SUBJECT = "shardis"
PUBSUB_CHANNEL = "bench:fanout"


@dataclass(frozen=True)
class Workload:
    """One benchmark. `args` are shardis-bench's workload flags; each workload has its own key
    prefix so that no workload meets another's keys of a different type (INCR on a 32-byte
    string, HSET on a list) when they share a server."""
    name: str
    title: str
    args: tuple
    clients: int = 50
    pipeline: int = 1
    preload: tuple = ()  # flags of an unmeasured shardis-bench --preload run before the workload
    subscribers: int = 0  # > 0: pub/sub fan-out; the workload's commands PUBLISH to them
    data_size: int = 32

    def templates(self):
        """The --command templates of the workload (empty for the built-in SET/GET mix)."""
        return [self.args[i + 1] for i, a in enumerate(self.args) if a == "--command"]

    def probes(self):
        """Commands that must exist for the workload to run: each template with its placeholders
        filled in, plus SUBSCRIBE for fan-out. Only 'unknown command' matters; a probe that
        fails for another reason (wrong type, bad float) still proves the command exists."""
        out = [["__probe__" if w == "__key__" else "1" if w == "__data__" else w
                for w in shlex.split(t)] for t in self.templates()]
        if self.subscribers:
            out.append(["SUBSCRIBE", "__probe__"])
        return out


def _mix(prefix, keys, data_size):
    return ("--ratio", "1:10", "-d", str(data_size), "--key-prefix", prefix,
            "--key-maximum", str(keys - 1))


def _preload(prefix, keys, data_size):
    return ("--preload", str(keys), "-d", str(data_size), "--key-prefix", prefix,
            "--key-maximum", str(keys - 1))


# Pipeline 16 for the data-type workloads: at pipeline 1 one load-generator core can only just
# keep one server core busy, so the comparison would mostly measure the load generator.
WORKLOADS = [
    Workload("set-get-32B-p1", "SET:GET 1:10, 32 B, pipeline 1", _mix("s32:", 100_000, 32),
             preload=_preload("s32:", 100_000, 32)),
    Workload("set-get-32B-p16", "SET:GET 1:10, 32 B, pipeline 16", _mix("s32:", 100_000, 32),
             pipeline=16, preload=_preload("s32:", 100_000, 32)),
    Workload("set-get-4KiB-p1", "SET:GET 1:10, 4 KiB, pipeline 1", _mix("s4k:", 10_000, 4096),
             preload=_preload("s4k:", 10_000, 4096), data_size=4096),
    Workload("set-get-4KiB-p16", "SET:GET 1:10, 4 KiB, pipeline 16", _mix("s4k:", 10_000, 4096),
             pipeline=16, preload=_preload("s4k:", 10_000, 4096), data_size=4096),
    Workload("incr-p16", "INCR, 10k counters, pipeline 16",
             ("--command", "INCR __key__", "--key-prefix", "ctr:", "--key-maximum", "9999"),
             pipeline=16),
    Workload("lpush-lpop-p16", "LPUSH:LPOP 1:1, 1k lists, pipeline 16",
             ("--command", "LPUSH __key__ __data__", "--command", "LPOP __key__",
              "--key-prefix", "list:", "--key-maximum", "999"), pipeline=16),
    Workload("hset-p16", "HSET, 1k hashes x 1k fields, pipeline 16",
             ("--command", "HSET __key__ __key__ __data__", "--key-prefix", "hash:",
              "--key-maximum", "999"), pipeline=16),
    # Key, score and member all drawn from 0..999 (empty prefix): 1k sorted sets, numeric scores.
    Workload("zadd-p16", "ZADD, 1k sorted sets x 1k members, pipeline 16",
             ("--command", "ZADD __key__ __key__ __key__", "--key-prefix", "",
              "--key-maximum", "999"), pipeline=16),
    Workload("mset-p16", "MSET of 4 keys (several shards when shards > 1), pipeline 16",
             ("--command", "MSET __key__ __data__ __key__ __data__ __key__ __data__ __key__ __data__",
              "--key-prefix", "m:", "--key-maximum", "99999"), pipeline=16),
    Workload("pubsub-fanout", "PUBLISH to 20 subscribers, 10 publishers, pipeline 1",
             ("--command", f"PUBLISH {PUBSUB_CHANNEL} __data__"), clients=10, subscribers=20),
    Workload("conns-1000", "SET:GET 1:10, 32 B, 1,000 connections, pipeline 1",
             _mix("s32:", 100_000, 32), clients=1000, preload=_preload("s32:", 100_000, 32)),
]


@dataclass
class RunResult:
    """One workload run against one server. status: ok | unsupported | errors | failed."""
    status: str
    ops: int = 0
    ops_per_sec: float = 0.0
    duration_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    p999_ms: float = 0.0
    cpu_us_per_op: float | None = None
    server_cpu_pct: float | None = None
    load_cpu_pct: float | None = None
    errors: int = 0
    errors_by_kind: dict = field(default_factory=dict)
    stalled_s: int = 0  # seconds with < 10% of the median throughput (see stalled_seconds)
    delivered_per_sec: float | None = None  # pub/sub: messages the subscribers received
    delivered_frac: float | None = None  # ... as a fraction of publishes x subscribers
    note: str = ""
    percentiles: list = field(default_factory=list)


@dataclass
class Summary:
    """Medians over the rounds whose run was ok (or why there is nothing to show)."""
    status: str
    rounds_ok: int = 0
    rounds: int = 0
    ops_per_sec: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    p999_ms: float = 0.0
    cpu_us_per_op: float | None = None
    server_cpu_pct: float | None = None
    load_cpu_pct: float | None = None
    delivered_per_sec: float | None = None
    delivered_frac: float | None = None
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Pure parts: parsing, summarising, tables (unit-tested in bench/test_suite.py)

def parse_bench_json(doc, exit_code=0):
    """A RunResult (without server CPU) from shardis-bench's --json-out document. Exit status 3
    means the run completed with error replies: its numbers are kept but the status says so."""
    t = doc["totals"]
    run0 = doc["runs"][0] if doc.get("runs") else {}
    duration = float(doc.get("duration_s") or run0.get("duration_s") or 0.0)
    threads = int(doc.get("config", {}).get("threads") or 1)
    load_pct = None
    if run0.get("client_cpu_s") is not None and duration > 0:
        load_pct = 100.0 * run0["client_cpu_s"] / duration / threads
    errors = int(t.get("errors", 0))
    kinds = dict(doc.get("errors_by_kind") or {})
    status = "ok" if exit_code == 0 and errors == 0 else "errors"
    notes = [] if status == "ok" else ["errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items()))]
    stalls = stalled_seconds(run0.get("timeline", []))
    if stalls:
        notes.append(f"stalled {stalls} s")
    note = "; ".join(notes)
    return RunResult(
        status=status, ops=int(t["ops"]), ops_per_sec=float(t["ops_per_sec"]), duration_s=duration,
        p50_ms=float(t["p50_ms"]), p99_ms=float(t["p99_ms"]), p999_ms=float(t["p999_ms"]),
        load_cpu_pct=load_pct, errors=errors, errors_by_kind=kinds, stalled_s=stalls, note=note,
        percentiles=[{"percentile": p["percentile"], "value_ms": p["value_ms"]}
                     for p in t.get("percentiles", [])])


def stalled_seconds(timeline):
    """Seconds of a run in which fewer than 10% of the run's median throughput came back: the
    server (or the machine) stopped. The last interval is partial and not judged. On a shared
    machine this flags runs to distrust; if it recurs on a quiet one, it is a bug."""
    rates = [t["ops_per_sec"] for t in timeline[:-1]]
    if len(rates) < 2:
        return 0
    floor = 0.1 * statistics.median(rates)
    return sum(1 for r in rates if r < floor)


def add_server_cpu(result, cpu_s, server_cores):
    """Server CPU per request (us) and as % of its cores over the run."""
    if result.ops > 0:
        result.cpu_us_per_op = cpu_s / result.ops * 1e6
    if result.duration_s > 0:
        result.server_cpu_pct = 100.0 * cpu_s / result.duration_s / max(1, server_cores)
    return result


def add_delivery(result, messages, subscribers):
    """Pub/sub: delivered messages per second and as a fraction of what was published."""
    if result.duration_s > 0:
        result.delivered_per_sec = messages / result.duration_s
    expected = result.ops * subscribers
    result.delivered_frac = messages / expected if expected else None
    return result


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(runs):
    """Medians over the ok runs. A workload with no ok run takes the status of its runs
    ('unsupported' wins: it is a property of the server, not an accident of one round)."""
    ok = [r for r in runs if r.status == "ok"]
    if not ok:
        statuses = [r.status for r in runs]
        status = ("unsupported" if "unsupported" in statuses
                  else statuses[0] if statuses else "missing")
        notes = sorted({r.note for r in runs if r.note})
        return Summary(status=status, rounds=len(runs), note="; ".join(notes))
    med = {f: _median([getattr(r, f) for r in ok])
           for f in ("ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "cpu_us_per_op",
                     "server_cpu_pct", "load_cpu_pct", "delivered_per_sec", "delivered_frac")}
    notes = [] if len(ok) == len(runs) else [f"{len(ok)}/{len(runs)} rounds ok"]
    notes += [f"round {i + 1}: {r.note}" for i, r in enumerate(runs) if r.note]
    note = "; ".join(notes)
    return Summary(status="ok", rounds_ok=len(ok), rounds=len(runs), note=note, **med)


def ratio(a, b):
    """a/b, or None when either side is missing (or b is 0)."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def paired_ratios(subject_runs, ref_runs, metric="ops_per_sec"):
    """Ratios of `metric` between the runs of the same round (both ok): the spread a noisy
    machine gives."""
    out = []
    for s, r in zip(subject_runs, ref_runs):
        a, b = getattr(s, metric), getattr(r, metric)
        if s.status == "ok" and r.status == "ok" and a is not None and b:
            out.append(a / b)
    return out


def fmt_ops(v):
    return "" if v is None else f"{v:,.0f}"


def fmt_ms(v):
    if v is None:
        return ""
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def fmt_x(v):
    return "n/a" if v is None else f"{v:.2f}x"


def fmt_pct(v):
    return "" if v is None else f"{v:.0f}%"


def fmt_us(v):
    return "" if v is None else f"{v:.2f}"


def summary_notes(s):
    """The notes column: what is not a number (status, rounds, pub/sub delivery)."""
    parts = []
    if s.status != "ok":
        parts.append(f"**{s.status}**")
    if s.delivered_per_sec is not None:
        frac = "" if s.delivered_frac is None else f" ({100 * s.delivered_frac:.1f}% of published)"
        parts.append(f"{s.delivered_per_sec:,.0f} msg/s delivered{frac}")
    if s.note:
        parts.append(s.note)
    return "; ".join(parts)


def full_table(workloads, servers, summaries, subject=SUBJECT):
    """Markdown: one row per (workload, server), then one ratio row per reference server."""
    lines = ["| workload | server | ops/s | p50 ms | p99 ms | p99.9 ms | server CPU us/op "
             "| server CPU | load gen CPU | notes |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for w in workloads:
        first = True
        for srv in servers:
            s = summaries[(w.name, srv)]
            label = w.name if first else ""
            first = False
            if s.status == "ok":
                lines.append(f"| {label} | {srv} | {fmt_ops(s.ops_per_sec)} | {fmt_ms(s.p50_ms)} | "
                             f"{fmt_ms(s.p99_ms)} | {fmt_ms(s.p999_ms)} | {fmt_us(s.cpu_us_per_op)} | "
                             f"{fmt_pct(s.server_cpu_pct)} | {fmt_pct(s.load_cpu_pct)} | {summary_notes(s)} |")
            else:
                lines.append(f"| {label} | {srv} | {s.status} | | | | | | | {summary_notes(s)} |")
        for ref in servers:
            if ref == subject or subject not in servers:
                continue
            a, b = summaries[(w.name, subject)], summaries[(w.name, ref)]
            if a.status != "ok" or b.status != "ok":
                continue
            lines.append(
                f"| | **{subject}/{ref}** | **{fmt_x(ratio(a.ops_per_sec, b.ops_per_sec))}** | "
                f"{fmt_x(ratio(a.p50_ms, b.p50_ms))} | {fmt_x(ratio(a.p99_ms, b.p99_ms))} | "
                f"{fmt_x(ratio(a.p999_ms, b.p999_ms))} | {fmt_x(ratio(a.cpu_us_per_op, b.cpu_us_per_op))} | | | |")
    return "\n".join(lines)


def ratio_table(workloads, servers, summaries, runs, subject=SUBJECT):
    """Markdown: the ratios only, one row per (workload, reference server), with the per-round
    throughput ratios so the reader sees how far one trial can be trusted."""
    lines = ["| workload | vs | ops/s | p50 | p99 | p99.9 | CPU/op | ops/s ratio per round "
             "| CPU/op ratio per round |",
             "|---|---|---|---|---|---|---|---|---|"]
    for w in workloads:
        for ref in servers:
            if ref == subject or subject not in servers:
                continue
            a, b = summaries[(w.name, subject)], summaries[(w.name, ref)]
            if a.status != "ok" or b.status != "ok":
                why = f"{subject}: {a.status}" if a.status != "ok" else f"{ref}: {b.status}"
                lines.append(f"| {w.name} | {ref} | {why} | | | | | | |")
                continue
            pair = (runs[(w.name, subject)], runs[(w.name, ref)])
            per_round = ", ".join(f"{x:.2f}" for x in paired_ratios(*pair))
            cpu_round = ", ".join(f"{x:.2f}" for x in paired_ratios(*pair, metric="cpu_us_per_op"))
            lines.append(
                f"| {w.name} | {ref} | {fmt_x(ratio(a.ops_per_sec, b.ops_per_sec))} | "
                f"{fmt_x(ratio(a.p50_ms, b.p50_ms))} | {fmt_x(ratio(a.p99_ms, b.p99_ms))} | "
                f"{fmt_x(ratio(a.p999_ms, b.p999_ms))} | "
                f"{fmt_x(ratio(a.cpu_us_per_op, b.cpu_us_per_op))} | {per_round} | {cpu_round} |")
    return "\n".join(lines)


def memory_table(memory, subject=SUBJECT):
    """Markdown: bytes per key from INFO used_memory and from RSS, and the subject's ratios."""
    lines = ["| server | keys | used_memory bytes/key | RSS bytes/key | notes |",
             "|---|---|---|---|---|"]
    for srv, m in memory.items():
        used = "" if m.get("used_per_key") is None else f"{m['used_per_key']:.1f}"
        rss = "" if m.get("rss_per_key") is None else f"{m['rss_per_key']:.1f}"
        lines.append(f"| {srv} | {m.get('keys', 0):,} | {used} | {rss} | {m.get('note', '')} |")
    s = memory.get(subject)
    for srv, m in memory.items():
        if srv == subject or not s:
            continue
        lines.append(f"| **{subject}/{srv}** | | "
                     f"{fmt_x(ratio(s.get('used_per_key'), m.get('used_per_key')))} | "
                     f"{fmt_x(ratio(s.get('rss_per_key'), m.get('rss_per_key')))} | |")
    return "\n".join(lines)


def median_run(runs):
    """The ok run with the median throughput: the one a latency chart shows (percentile walks
    of different runs cannot be averaged)."""
    ok = sorted((r for r in runs if r.status == "ok"), key=lambda r: r.ops_per_sec)
    return ok[(len(ok) - 1) // 2] if ok else None


def chart_series(workload, servers, runs):
    """[(label, percentiles)] for one workload's chart."""
    series = []
    for srv in servers:
        r = median_run(runs[(workload.name, srv)])
        if r is None:
            statuses = {x.status for x in runs[(workload.name, srv)]}
            series.append((f"{srv}: {'/'.join(sorted(statuses)) or 'not run'}", []))
        else:
            series.append((f"{srv}: {r.ops_per_sec:,.0f} ops/s, p99 {fmt_ms(r.p99_ms)} ms",
                           r.percentiles))
    return series


def parse_other(spec, taken):
    """--other 'NAME=cmdline' or 'cmdline' (named after the program) -> (unique name, cmdline)."""
    m = re.match(r"^([A-Za-z][\w.-]*)=(.*)$", spec.strip())
    if m and "/" not in m.group(1):
        name, cmdline = m.group(1), m.group(2)
    else:
        name, cmdline = os.path.basename(shlex.split(spec)[0]), spec
    base, n = name, 1
    while name in taken:
        n += 1
        name = f"{base}#{n}"
    return name, cmdline


def rotate(items, k):
    """Round k's server order: each round starts with the next server."""
    k %= len(items)
    return items[k:] + items[:k]


def split_clients(total, threads):
    """(threads, clients per thread) for shardis-bench, whose -c counts per thread."""
    threads = max(1, min(threads, total))
    return threads, math.ceil(total / threads)


# ---------------------------------------------------------------------------------------------
# Running

class Suite:
    """Runs the workloads against the servers and keeps every run's result."""

    def __init__(self, opts, servers, workloads, outdir):
        self.opts = opts
        self.servers = servers  # name -> cmdline
        self.workloads = workloads
        self.outdir = outdir
        self.server_cores = parse_cores(opts.server_cores)
        self.load_cores = parse_cores(opts.load_cores)
        self.runs = {(w.name, s): [] for w in workloads for s in servers}
        os.makedirs(os.path.join(outdir, "runs"), exist_ok=True)
        os.makedirs(os.path.join(outdir, "logs"), exist_ok=True)

    # -- helpers

    def start_server(self, name, tag):
        log = os.path.join(self.outdir, "logs", f"{name}-{tag}.log")
        return Server(self.servers[name], self.server_cores, log_path=log)

    def bench_argv(self, port, clients, pipeline, extra):
        threads, per_thread = split_clients(clients, len(self.load_cores))
        return (["taskset", "-c", ",".join(map(str, self.load_cores)), self.opts.bench,
                 "-s", "127.0.0.1", "-p", str(port), "-t", str(threads), "-c", str(per_thread),
                 "--pipeline", str(pipeline), "-q"] + list(extra))

    def probe(self, port, workload):
        """The first command of the workload the server does not know, or None."""
        probes = workload.probes()
        if not probes:
            return None
        with Connection(port) as c:
            for cmd in probes:
                if is_unknown_command(c.call(*cmd)):
                    return cmd[0]
        with Connection(port) as c:
            c.call("DEL", "__probe__")
        return None

    def preload(self, port, workload):
        if not workload.preload:
            return
        argv = self.bench_argv(port, 50, 1, workload.preload + ("--requests", "0"))
        subprocess.run(argv, capture_output=True, check=True, timeout=300)

    def run_bench(self, server, workload, json_path):
        """shardis-bench for one measured run -> (RunResult, server CPU seconds)."""
        argv = self.bench_argv(server.port, workload.clients, workload.pipeline,
                               list(workload.args) + ["--test-time", str(self.opts.duration),
                                                      "--json-out", json_path])
        if os.path.exists(json_path):  # never read a stale result (--out reused)
            os.remove(json_path)
        cpu0 = server.cpu_seconds()
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=self.opts.duration + 120)
        cpu1 = server.cpu_seconds()
        if proc.returncode not in (0, 3) or not os.path.exists(json_path):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
            return RunResult(status="failed", note=f"shardis-bench exit {proc.returncode}: {tail[0]}"), 0.0
        with open(json_path) as f:
            return parse_bench_json(json.load(f), proc.returncode), cpu1 - cpu0

    def run_pubsub(self, server, workload, json_path):
        """Fan-out: subscribers connect first; CPU is counted until they have drained."""
        helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "subscribers.py")
        argv = ["taskset", "-c", ",".join(map(str, self.load_cores)), sys.executable, helper,
                "--port", str(server.port), "--channel", PUBSUB_CHANNEL,
                "--subscribers", str(workload.subscribers), "--data-size", str(workload.data_size)]
        sub = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready = sub.stdout.readline().strip()
            if not ready.startswith("ready"):
                return RunResult(status="failed", note=f"subscribers: {ready or 'no answer'}")
            cpu0 = server.cpu_seconds()
            result, _ = self.run_bench(server, workload, json_path)
            sub.stdin.close()
            report = json.loads(sub.stdout.readline() or "{}")
            cpu1 = server.cpu_seconds()
        finally:
            if sub.poll() is None:
                sub.kill()
            sub.wait()
        if result.status == "failed":
            return result
        add_server_cpu(result, cpu1 - cpu0, len(self.server_cores))
        add_delivery(result, report.get("messages", 0), workload.subscribers)
        problems = [f"server closed {report['closed']} subscriber(s)" if report.get("closed") else "",
                    f"{report['misaligned']} stray bytes" if report.get("misaligned") else ""]
        result.note = "; ".join(p for p in [result.note] + problems if p)
        return result

    def run_workload(self, server, workload, json_path):
        try:
            missing = self.probe(server.port, workload)
            if missing:
                return RunResult(status="unsupported", note=f"ERR unknown command '{missing}'")
            self.preload(server.port, workload)
            if workload.subscribers:
                return self.run_pubsub(server, workload, json_path)
            result, cpu = self.run_bench(server, workload, json_path)
            if result.status != "failed":
                add_server_cpu(result, cpu, len(self.server_cores))
            return result
        except (OSError, RuntimeError, subprocess.SubprocessError, ValueError) as e:
            return RunResult(status="failed", note=f"{type(e).__name__}: {e}")

    # -- the rounds

    def run_rounds(self):
        names = list(self.servers)
        for rnd in range(self.opts.rounds):
            for name in rotate(names, rnd):
                self.run_server_round(name, rnd)

    def run_server_round(self, name, rnd):
        server = None
        try:
            for w in self.workloads:
                if server is None or not server.alive():
                    if server is not None:
                        server.stop()
                    server = self.start_server(name, f"r{rnd + 1}-{w.name}")
                path = os.path.join(self.outdir, "runs", f"r{rnd + 1}-{name}-{w.name}.json")
                result = self.run_workload(server, w, path)
                if not server.alive():
                    result = RunResult(status="failed", note=f"server exited ({server.proc.returncode})")
                self.runs[(w.name, name)].append(result)
                log_run(rnd, self.opts.rounds, name, w, result)
        except RuntimeError as e:  # the server did not start: every remaining workload fails
            for w in self.workloads:
                if len(self.runs[(w.name, name)]) <= rnd:
                    self.runs[(w.name, name)].append(RunResult(status="failed", note=str(e)))
            print(f"[round {rnd + 1}] {name}: {e}", file=sys.stderr)
        finally:
            if server is not None:
                server.stop()

    def measure_memory(self, name, keys):
        """Bytes per key after preloading `keys` 32-byte values (keys 'mem:0'.. ) into a fresh
        server: INFO used_memory delta and RSS delta, each divided by the keys."""
        try:
            with self.start_server(name, "memory") as server:
                time.sleep(0.3)
                used0, rss0 = used_memory(server.port), server.rss_bytes()
                argv = self.bench_argv(server.port, 50, 1, [
                    "--preload", str(keys), "--requests", "0", "-d", "32",
                    "--key-prefix", "mem:", "--key-maximum", str(keys - 1)])
                subprocess.run(argv, capture_output=True, check=True, timeout=600)
                time.sleep(0.5)
                used1, rss1 = used_memory(server.port), server.rss_bytes()
                with Connection(server.port) as c:
                    dbsize = c.call("DBSIZE")
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            return {"keys": keys, "note": f"failed: {e}"}
        out = {"keys": keys, "dbsize": dbsize, "rss_before": rss0, "rss_after": rss1,
               "used_before": used0, "used_after": used1,
               "rss_per_key": (rss1 - rss0) / keys, "note": ""}
        out["used_per_key"] = None if used0 is None or used1 is None else (used1 - used0) / keys
        if dbsize != keys:
            out["note"] = f"DBSIZE {dbsize} != {keys}"
        return out


def used_memory(port):
    """INFO memory used_memory, or None for a server without it."""
    try:
        return info(port, "memory").get("used_memory")
    except RuntimeError:
        return None


def log_run(rnd, rounds, name, w, r):
    if r.status == "ok" or r.status == "errors":
        extra = ""
        if r.delivered_per_sec is not None:
            extra = f"  delivered {r.delivered_per_sec:,.0f} msg/s"
        print(f"[{rnd + 1}/{rounds}] {name:10} {w.name:18} {r.ops_per_sec:12,.0f} ops/s  "
              f"p50 {r.p50_ms:.3f}  p99 {r.p99_ms:.3f}  p99.9 {r.p999_ms:.3f} ms  "
              f"cpu {fmt_us(r.cpu_us_per_op)} us/op (server {fmt_pct(r.server_cpu_pct)}, "
              f"load gen {fmt_pct(r.load_cpu_pct)}){extra}"
              + (f"  {r.note}" if r.note else ""), file=sys.stderr)
    else:
        print(f"[{rnd + 1}/{rounds}] {name:10} {w.name:18} {r.status}: {r.note}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Report

def git_version():
    """The source tree the numbers belong to (commit, and whether it had local changes)."""
    try:
        return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def write_report(suite, memory, started, load_before, tree):
    names = list(suite.servers)
    summaries = {k: summarise(v) for k, v in suite.runs.items()}
    full = full_table(suite.workloads, names, summaries)
    ratios = ratio_table(suite.workloads, names, summaries, suite.runs)
    mem = memory_table(memory) if memory else "(memory test skipped)"
    o = suite.opts
    built = datetime.datetime.fromtimestamp(os.path.getmtime(o.shardis))
    header = (f"Shardis suite, {started:%Y-%m-%d %H:%M}, source tree {tree} (shardis-server built "
              f"{built:%Y-%m-%d %H:%M}): {o.rounds} round(s) x "
              f"{o.duration} s per run, servers on cores {o.server_cores}, load on cores "
              f"{o.load_cores}, {os.cpu_count()} CPUs, load average {load_before:.2f} before and "
              f"{os.getloadavg()[0]:.2f} after.\n"
              + "\n".join(f"- {n}: `{c if isinstance(c, str) else ' '.join(c)}`"
                          for n, c in suite.servers.items()))
    text = (f"{header}\n\n## All results (medians)\n\n{full}\n\n## Ratios\n\n{ratios}\n\n"
            f"## Memory\n\n{mem}\n")
    with open(os.path.join(suite.outdir, "summary.md"), "w") as f:
        f.write(text)
    doc = {"started": started.isoformat(), "options": vars(o),
           "servers": {n: c if isinstance(c, str) else " ".join(c) for n, c in suite.servers.items()},
           "workloads": [dataclasses.asdict(w) for w in suite.workloads],
           "runs": {f"{w}|{s}": [dataclasses.asdict(r) for r in v] for (w, s), v in suite.runs.items()},
           "summaries": {f"{w}|{s}": dataclasses.asdict(v) for (w, s), v in summaries.items()},
           "memory": memory}
    with open(os.path.join(suite.outdir, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    return text


def write_charts(suite):
    paths = []
    for w in suite.workloads:
        svg = svgplot.latency_chart(f"{w.name}: {w.title}",
                                    chart_series(w, list(suite.servers), suite.runs))
        path = os.path.join(suite.outdir, f"latency-{w.name}.svg")
        with open(path, "w") as f:
            f.write(svg)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------

def build_servers(opts):
    """name -> command line: shardis first (the subject), then the references."""
    shards = len(parse_cores(opts.server_cores))
    servers = {SUBJECT: [opts.shardis, "--port", "{port}", "--bind", "127.0.0.1",
                         "--shards", str(shards)] + shlex.split(opts.shardis_args)}
    if not opts.no_redis:
        servers["redis"] = opts.redis
    for spec in opts.other or []:
        name, cmdline = parse_other(spec, servers)
        servers[name] = cmdline
    return servers


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="A/B rounds (default 3)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5)")
    ap.add_argument("--quick", action="store_true",
                    help="1 round of 1 s runs and 100k keys for memory: checks the suite end to end")
    ap.add_argument("--server-cores", default="0", help="cores of the servers (default 0); "
                    "shardis gets one shard per core")
    ap.add_argument("--load-cores", default="1", help="cores of shardis-bench, one thread each (default 1)")
    ap.add_argument("--only", action="append", metavar="WORKLOAD", help="run only these workloads")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--shardis", default=os.path.join(ROOT, "target/release/shardis-server"))
    ap.add_argument("--shardis-args", default="", help="extra shardis flags, e.g. '--spin-before-park-us 0'")
    ap.add_argument("--bench", default=os.path.join(ROOT, "target/release/shardis-bench"))
    ap.add_argument("--redis", default=REDIS_CMDLINE, help="Debian redis-server command line ({port})")
    ap.add_argument("--no-redis", action="store_true", help="leave Debian's redis-server out")
    ap.add_argument("--other", action="append", metavar="[NAME=]CMDLINE",
                    help="another server to compare, '{port}' replaced (repeatable)")
    ap.add_argument("--memory-keys", type=int, default=1_000_000)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--out", help="results directory (default bench/results/<timestamp>)")
    ap.add_argument("--copy-charts", metavar="DIR", help="also copy the charts here (e.g. docs/bench)")
    opts = ap.parse_args(argv)
    if opts.quick:
        opts.rounds, opts.duration = 1, 1.0
        opts.memory_keys = min(opts.memory_keys, 100_000)
    return opts


def main(argv=None):
    opts = parse_args(argv)
    if opts.list:
        for w in WORKLOADS:
            print(f"{w.name:18} {w.title}")
        return 0
    workloads = [w for w in WORKLOADS if not opts.only or w.name in opts.only]
    unknown = set(opts.only or []) - {w.name for w in workloads}
    if unknown:
        sys.exit(f"unknown workload(s): {', '.join(sorted(unknown))} (see --list)")
    for path, what in ((opts.shardis, "shardis-server"), (opts.bench, "shardis-bench")):
        if not os.path.exists(path):
            sys.exit(f"{path} not found: build {what} with `cargo build --release` "
                     f"or point --shardis/--bench at it")
    servers = build_servers(opts)
    started = datetime.datetime.now()
    outdir = opts.out or os.path.join(ROOT, "bench", "results", started.strftime("%Y%m%d-%H%M%S"))
    suite = Suite(opts, servers, workloads, outdir)
    estimate = opts.rounds * len(servers) * len(workloads) * (opts.duration + 1.5)
    print(f"{len(workloads)} workloads x {len(servers)} servers x {opts.rounds} rounds, about "
          f"{estimate / 60:.0f} min (+ memory); results in {outdir}", file=sys.stderr)

    load_before, tree = os.getloadavg()[0], git_version()
    suite.run_rounds()
    memory = {}
    if not opts.no_memory:
        for name in servers:
            memory[name] = suite.measure_memory(name, opts.memory_keys)
            m = memory[name]
            print(f"memory {name:10} {fmt_us(m.get('used_per_key'))} B/key used_memory, "
                  f"{fmt_us(m.get('rss_per_key'))} B/key RSS {m.get('note', '')}", file=sys.stderr)
    print(write_report(suite, memory, started, load_before, tree))
    charts = write_charts(suite)
    if opts.copy_charts:
        os.makedirs(opts.copy_charts, exist_ok=True)
        for p in charts:
            shutil.copy(p, opts.copy_charts)
    print(f"results, raw runs and {len(charts)} latency charts in {outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
