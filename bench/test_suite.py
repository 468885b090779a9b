"""Unit tests of the benchmark scripts' pure parts: JSON parsing, summaries and ratio tables,
the SVG writer, the RESP helpers. No server is started; run with `python3 -m pytest bench/`."""
import io
import math
import os
import sys
import xml.etree.ElementTree as ET

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import compare  # noqa: E402,F401  (the refactor must keep it importable)
import hop  # noqa: E402
import subscribers  # noqa: E402
import suite  # noqa: E402
import svgplot  # noqa: E402
from suite import RunResult  # noqa: E402


def bench_doc(ops=1000, ops_per_sec=500.0, errors=0, kinds=None, p50=0.5, p99=1.0, p999=2.0,
              duration=2.0, client_cpu=1.0, threads=1):
    """A minimal shardis-bench --json-out document."""
    totals = {"ops": ops, "ops_per_sec": ops_per_sec, "errors": errors, "p50_ms": p50,
              "p99_ms": p99, "p999_ms": p999, "mean_ms": p50,
              "percentiles": [{"percentile": 0.0, "value_ms": 0.1, "count": 1},
                              {"percentile": 50.0, "value_ms": p50, "count": ops // 2},
                              {"percentile": 100.0, "value_ms": p999, "count": ops}]}
    return {"config": {"threads": threads}, "duration_s": duration, "totals": totals,
            "runs": [{"run": 1, "duration_s": duration, "client_cpu_s": client_cpu}],
            "errors_by_kind": kinds or {}, "ok": errors == 0}


# -- shardis-bench JSON -----------------------------------------------------------------------

def test_parse_bench_json_ok():
    r = suite.parse_bench_json(bench_doc(client_cpu=1.0, duration=2.0, threads=1))
    assert r.status == "ok"
    assert (r.ops, r.ops_per_sec, r.p50_ms, r.p99_ms, r.p999_ms) == (1000, 500.0, 0.5, 1.0, 2.0)
    assert r.load_cpu_pct == pytest.approx(50.0)
    assert [p["percentile"] for p in r.percentiles] == [0.0, 50.0, 100.0]


def test_parse_bench_json_errors_keep_numbers_and_say_why():
    r = suite.parse_bench_json(bench_doc(errors=7, kinds={"ERR": 5, "conn:closed": 2}), exit_code=3)
    assert r.status == "errors"
    assert r.errors == 7 and r.ops_per_sec == 500.0
    assert r.note == "errors: ERR x5, conn:closed x2"


def test_server_cpu_and_delivery():
    r = suite.parse_bench_json(bench_doc(ops=1000, duration=2.0))
    suite.add_server_cpu(r, cpu_s=0.5, server_cores=1)
    assert r.cpu_us_per_op == pytest.approx(500.0)
    assert r.server_cpu_pct == pytest.approx(25.0)
    suite.add_delivery(r, messages=19_000, subscribers=20)
    assert r.delivered_per_sec == pytest.approx(9500.0)
    assert r.delivered_frac == pytest.approx(0.95)


# -- summaries and tables ---------------------------------------------------------------------

def ok(ops, p50=0.5, p99=1.0, p999=2.0, cpu=1.0):
    return RunResult(status="ok", ops=ops, ops_per_sec=ops, duration_s=1, p50_ms=p50, p99_ms=p99,
                     p999_ms=p999, cpu_us_per_op=cpu, percentiles=[{"percentile": 50.0, "value_ms": p50}])


def test_summarise_takes_medians_of_ok_runs():
    s = suite.summarise([ok(100, cpu=3), ok(300, cpu=1), RunResult(status="failed", note="x"), ok(200, cpu=2)])
    assert s.status == "ok"
    assert s.ops_per_sec == 200 and s.cpu_us_per_op == 2
    assert s.note == "3/4 rounds ok; round 3: x"


def test_stalled_seconds():
    tl = [{"ops_per_sec": v} for v in (500, 600, 0, 550, 40, 300)]
    assert suite.stalled_seconds(tl) == 2  # 0 and 40 < 10% of 500; the last (partial) not judged
    assert suite.stalled_seconds(tl[:2]) == 0
    doc = bench_doc()
    doc["runs"][0]["timeline"] = tl
    r = suite.parse_bench_json(doc)
    assert r.status == "ok" and r.stalled_s == 2 and r.note == "stalled 2 s"


def test_summarise_unsupported_wins_over_other_failures():
    runs = [RunResult(status="failed", note="boom"),
            RunResult(status="unsupported", note="ERR unknown command 'HSET'")]
    s = suite.summarise(runs)
    assert s.status == "unsupported"
    assert "unknown command" in s.note


def test_ratio_and_paired_ratios():
    assert suite.ratio(3, 2) == 1.5
    assert suite.ratio(None, 2) is None and suite.ratio(1, 0) is None
    a = [ok(150), RunResult(status="failed"), ok(300)]
    b = [ok(100), ok(100), ok(200)]
    assert suite.paired_ratios(a, b) == [1.5, 1.5]
    assert suite.paired_ratios(a, b, metric="cpu_us_per_op") == [1.0, 1.0]


def summaries_for(runs):
    return {k: suite.summarise(v) for k, v in runs.items()}


def test_full_and_ratio_tables():
    w = [suite.Workload("get", "GET", ()), suite.Workload("hset", "HSET", ("--command", "HSET __key__ f __data__"))]
    runs = {("get", "shardis"): [ok(150, p50=0.4, cpu=2.0)], ("get", "redis"): [ok(100, p50=0.5, cpu=4.0)],
            ("hset", "shardis"): [RunResult(status="unsupported", note="ERR unknown command 'HSET'")],
            ("hset", "redis"): [ok(50)]}
    sums = summaries_for(runs)
    full = suite.full_table(w, ["shardis", "redis"], sums)
    assert "| | **shardis/redis** | **1.50x** | 0.80x | 1.00x | 1.00x | 0.50x | | | |" in full
    assert "| hset | shardis | unsupported |" in full
    ratios = suite.ratio_table(w, ["shardis", "redis"], sums, runs)
    assert "| get | redis | 1.50x | 0.80x | 1.00x | 1.00x | 0.50x | 1.50 | 0.50 |" in ratios
    assert "| hset | redis | shardis: unsupported |" in ratios
    # Every markdown row has the header's column count.
    for table in (full, ratios):
        rows = table.splitlines()
        assert len({r.count("|") for r in rows}) == 1


def test_memory_table():
    t = suite.memory_table({"shardis": {"keys": 1000, "used_per_key": 60.0, "rss_per_key": 80.0},
                            "redis": {"keys": 1000, "used_per_key": 80.0, "rss_per_key": 100.0}})
    assert "| shardis | 1,000 | 60.0 | 80.0 |  |" in t
    assert "| **shardis/redis** | | 0.75x | 0.80x | |" in t


def test_median_run_and_chart_series():
    runs = {("w", "a"): [ok(1), ok(3), ok(2)], ("w", "b"): [RunResult(status="unsupported")]}
    assert suite.median_run(runs[("w", "a")]).ops_per_sec == 2
    assert suite.median_run([ok(1), ok(2)]).ops_per_sec == 1  # lower middle: an actual run
    series = suite.chart_series(suite.Workload("w", "W", ()), ["a", "b"], runs)
    assert series[0][0].startswith("a: 2 ops/s") and series[0][1]
    assert series[1] == ("b: unsupported", [])


# -- workloads and command line ---------------------------------------------------------------

def test_workload_probes_fill_placeholders():
    z = next(w for w in suite.WORKLOADS if w.name == "zadd-p16")
    assert z.probes() == [["ZADD", "__probe__", "__probe__", "__probe__"]]
    ps = next(w for w in suite.WORKLOADS if w.subscribers)
    assert ps.probes() == [["PUBLISH", suite.PUBSUB_CHANNEL, "1"], ["SUBSCRIBE", "__probe__"]]
    assert next(w for w in suite.WORKLOADS if w.name == "set-get-32B-p1").probes() == []


def test_workloads_have_unique_names_and_typed_prefixes():
    names = [w.name for w in suite.WORKLOADS]
    assert len(names) == len(set(names))
    prefix_types = {}
    for w in suite.WORKLOADS:
        args = list(w.args)
        if "--key-prefix" not in args:
            continue
        prefix = args[args.index("--key-prefix") + 1]
        kind = tuple(w.templates()) or ("SET/GET", w.data_size)
        # Workloads that share a key prefix must store the same type.
        assert prefix_types.setdefault(prefix, kind) == kind, w.name


def test_parse_other_names():
    taken = {"shardis": 1, "redis": 1}
    assert suite.parse_other("valkey-server --port {port}", taken) == ("valkey-server", "valkey-server --port {port}")
    assert suite.parse_other("old=/tmp/x/shardis-server --port {port}", taken) == (
        "old", "/tmp/x/shardis-server --port {port}")
    assert suite.parse_other("/usr/bin/redis-server --port {port}", taken)[0] == "redis-server"
    taken["redis-server"] = 1
    assert suite.parse_other("redis-server --port {port} --io-threads 2", taken)[0] == "redis-server#2"


def test_rotate_and_split_clients():
    assert suite.rotate(["a", "b"], 0) == ["a", "b"]
    assert suite.rotate(["a", "b"], 1) == ["b", "a"]
    assert suite.rotate(["a", "b", "c"], 4) == ["b", "c", "a"]
    assert suite.split_clients(50, 1) == (1, 50)
    assert suite.split_clients(1000, 3) == (3, 334)
    assert suite.split_clients(2, 4) == (2, 1)


def test_quick_mode_shrinks_the_run():
    o = suite.parse_args(["--quick"])
    assert (o.rounds, o.duration, o.memory_keys) == (1, 1.0, 100_000)


# -- benchlib ---------------------------------------------------------------------------------

def test_parse_cores():
    assert benchlib.parse_cores("0") == [0]
    assert benchlib.parse_cores(1) == [1]
    assert benchlib.parse_cores("0-2,5") == [0, 1, 2, 5]
    with pytest.raises(ValueError):
        benchlib.parse_cores("")


def test_expand_cmdline():
    assert benchlib.expand_cmdline("redis-server --port {port} --save ''", 7000) == [
        "redis-server", "--port", "7000", "--save", ""]
    assert benchlib.expand_cmdline(["x", "--port={port}"], 1) == ["x", "--port=1"]


def test_resp_round_trip():
    assert benchlib.encode_command("SET", "k", b"v") == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    f = io.BytesIO(b"+OK\r\n-ERR unknown command 'HSET', with args beginning with: \r\n:5\r\n"
                   b"$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n")
    assert benchlib.read_reply(f) == "OK"
    err = benchlib.read_reply(f)
    assert benchlib.is_unknown_command(err)
    assert not benchlib.is_unknown_command(benchlib.RespError("WRONGTYPE Operation against a key"))
    assert not benchlib.is_unknown_command("ERR unknown command")  # a status, not an error
    assert benchlib.read_reply(f) == 5
    assert benchlib.read_reply(f) == b"abc"
    assert benchlib.read_reply(f) is None
    assert benchlib.read_reply(f) == [b"a", 1]


def test_parse_info():
    d = benchlib.parse_info("# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n"
                            "mem_fragmentation_ratio:1.5\r\n")
    assert d == {"used_memory": 1024, "used_memory_human": "1.00K", "mem_fragmentation_ratio": 1.5}


# -- subscribers helper -----------------------------------------------------------------------

def test_message_size_matches_the_wire_format():
    data = b"x" * 32
    msg = b"*3\r\n$7\r\nmessage\r\n$12\r\nbench:fanout\r\n$32\r\n" + data + b"\r\n"
    assert subscribers.message_size("bench:fanout", 32) == len(msg)
    assert subscribers.count_messages(3 * len(msg), len(msg)) == (3, 0)
    assert subscribers.count_messages(3 * len(msg) + 5, len(msg)) == (3, 5)
    assert subscribers.subscribe_reply("ch") == b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"


# -- SVG --------------------------------------------------------------------------------------

def test_nines_and_labels():
    assert svgplot.nines(0) == 0
    assert svgplot.nines(90) == pytest.approx(1)
    assert svgplot.nines(99.9) == pytest.approx(3)
    assert svgplot.nines(100) == svgplot.MAX_NINES
    assert [svgplot.percentile_label(n) for n in range(5)] == ["0%", "90%", "99%", "99.9%", "99.99%"]


def test_log_ticks_and_range():
    assert svgplot.log_ticks(0.1, 1) == [0.1, 0.2, 0.5, 1]
    lo, hi = svgplot.axis_range([0.13, 7.5])
    assert (lo, hi) == (0.1, 10)
    assert svgplot.axis_range([3.0, 3.0]) == (2, 5)


def test_series_points_clamps_p100_and_drops_zero():
    pts = svgplot.series_points([{"percentile": 0.0, "value_ms": 0.0},
                                 {"percentile": 99.0, "value_ms": 1.0},
                                 {"percentile": 100.0, "value_ms": 5.0}])
    assert pts[0] == (pytest.approx(2.0), 1.0)
    assert pts[1] == (pytest.approx(2.3), 5.0)


def test_latency_chart_is_valid_svg_with_one_line_per_series():
    pcts = [{"percentile": p, "value_ms": v} for p, v in ((0, 0.1), (50, 0.3), (99, 1.0), (99.9, 4.0), (100, 9.0))]
    svg = svgplot.latency_chart("get <&> set", [("shardis", pcts), ("redis", pcts[:-1]), ("x: unsupported", [])])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    lines = root.findall(f"{ns}polyline")
    assert len(lines) == 2
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "get <&> set" in texts and "x: unsupported" in texts
    # Higher percentiles are further right; higher latencies further up (smaller y).
    coords = [tuple(map(float, p.split(","))) for p in lines[0].get("points").split()]
    assert all(b[0] > a[0] for a, b in zip(coords, coords[1:]))
    assert all(b[1] < a[1] for a, b in zip(coords, coords[1:]))


def test_latency_chart_without_data():
    root = ET.fromstring(svgplot.latency_chart("t", [("a: unsupported", [])]))
    assert any(t.text == "no data" for t in root.iter("{http://www.w3.org/2000/svg}text"))


# -- hop --------------------------------------------------------------------------------------

def test_hop_key_shards_match_redis_cluster():
    assert hop.crc16(b"123456789") == 0x31C3  # the Redis Cluster specification's check value
    assert hop.key_shard("a", 2) == 1 and hop.key_shard("b", 2) == 0
    assert hop.key_shard("anything", 1) == 0


def test_hop_fit_line():
    a, b = hop.fit_line([(0.1, 12.0), (0.9, 28.0), (0.1, 12.0)])
    assert a == pytest.approx(10.0) and b == pytest.approx(20.0)
    assert hop.fit_line([(0.1, 1.0), (0.1, 2.0)]) is None


def test_hop_classify():
    doc = {"commands": {"GET": {"p50_ms": 0.05, "mean_ms": 0.06}, "GET#2": {"p50_ms": 0.02, "mean_ms": 0.03}}}
    row = hop.classify(doc, (9, 1))
    assert row["local_key"] == "b"
    assert row["remote_frac"] == pytest.approx(0.9)
    assert math.isclose(row["remote_p50_ms"], 0.05)


def test_hop_report_groups_by_placement_and_share():
    def row(shard, frac, local, remote, cpu):
        return {"conn_shard": shard, "remote_frac": frac, "local_p50_ms": local,
                "remote_p50_ms": remote, "cpu_us_per_op": cpu, "ops_per_sec": 1000.0}
    rows = {0: [row(0, 0.1, 0.03, 0.09, 12.0), row(0, 0.9, 0.03, 0.06, 28.0), row(1, 0.9, 0.02, 0.05, 30.0)]}
    text = hop.report([0], rows)
    assert "| 0 | shard 0 (core 0) | 10% | 1 | 30.0 us | 90.0 us | 60.0 us | 3.00x | 12.0 us |" in text
    assert "| 0 | shard 0 (core 0) | 2 | 10.0 us | 20.0 us | 2.00x |" in text
    assert "| 0 | shard 1 (core 1) | 1 | n/a | n/a (one hop share only) | |" in text
