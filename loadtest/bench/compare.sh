#!/usr/bin/env bash
# Compares shardis-bench (both engines) with redis-benchmark against Debian's
# redis-server: server pinned to core 0, load generator pinned to core 1.
# Usage: loadtest/bench/compare.sh [seconds-per-trial] [repetitions]
# Prints one line per trial and a median summary. Needs redis-server,
# redis-benchmark, python3 and a release build of shardis-bench:
#   CARGO_TARGET_DIR=/tmp/target-bench cargo build --release -p shardis-loadtest
set -euo pipefail
SECS=${1:-10}
REPS=${2:-3}
PORT=${PORT:-7401}
BENCH=${BENCH:-${CARGO_TARGET_DIR:-/tmp/target-bench}/release/shardis-bench}
OUT=$(mktemp -d)
CLIENTS=50

taskset -c 0 redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --logfile "$OUT/redis.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$OUT"' EXIT
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done

# ops/s and client CPU (% of one core) from a shardis-bench JSON file.
summary() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); run=r["runs"][0]
print("%.0f %.0f" % (r["totals"]["ops_per_sec"], 100*run["client_cpu_s"]/run["duration_s"]))' "$1"
}

trial() { # name pipeline args...
  local name=$1 p=$2; shift 2
  taskset -c 1 "$BENCH" -p "$PORT" -t 1 -c $CLIENTS --pipeline "$p" -d 32 --key-maximum 99999 \
    --test-time "$SECS" -q --json-out "$OUT/r.json" "$@" >/dev/null
  echo "$name p=$p $(summary "$OUT/r.json")"
}

rb() { # test pipeline -> ops/s (and CPU % from /proc of the finished child via time)
  local t=$1 p=$2 n
  n=$(( p == 1 ? 100000 * SECS : 600000 * SECS ))
  local start end cpu ops
  start=$(date +%s.%N)
  ops=$( { /usr/bin/time -f "%U %S" -o "$OUT/time" taskset -c 1 redis-benchmark -p "$PORT" \
      -c $CLIENTS -P "$p" -d 32 -r 100000 -n "$n" -t "$t" --csv -q; } | tail -1 | cut -d, -f2 | tr -d '"')
  end=$(date +%s.%N)
  cpu=$(python3 -c "import sys; u,s=open('$OUT/time').read().split()[:2]; print('%.0f' % (100*(float(u)+float(s))/($end-$start)))")
  echo "redis-benchmark-$t p=$p ${ops%.*} $cpu"
}

{
for rep in $(seq "$REPS"); do
  for p in 1 16; do
    trial shardis-epoll-set "$p" --ratio 1:0
    rb set "$p"
    trial shardis-epoll-get "$p" --ratio 0:1
    rb get "$p"
    trial shardis-epoll-1:10 "$p" --ratio 1:10
    trial shardis-glommio-1:10 "$p" --ratio 1:10 --engine glommio
  done
  # Engine cost at a fixed offered load (open loop): CPU per request, independent
  # of how fast the server happens to be during the trial.
  trial shardis-epoll-40k/s 1 --ratio 1:10 --rate 40000
  trial shardis-glommio-40k/s 1 --ratio 1:10 --rate 40000 --engine glommio
done
} | tee "$OUT/trials"

echo
echo "median over $REPS repetitions (ops/s, load generator CPU: % of one core and us per request):"
python3 - "$OUT/trials" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, p, ops, cpu = line.split()
    rows[(name, p)].append((float(ops), float(cpu)))
for (name, p), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    ops = statistics.median(o for o, _ in v)
    cpu = statistics.median(c for _, c in v)
    us = statistics.median(c / 100 * 1e6 / o for o, c in v)
    print(f"{name:24} {p:5} {ops:>12,.0f} ops/s  cpu {cpu:>4.0f}% {us:6.2f} us/req  "
          f"(runs: {', '.join(f'{o:,.0f}' for o, _ in v)})")
PY
