#!/usr/bin/env bash
# Starts a shardis-server (2 shards) and runs the real client tools against it:
# redis-cli, redis-benchmark (issue #2's smoke run), the Python acceptance tests and a BullMQ
# job queue (Node).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin shardis-server
BIN="${CARGO_TARGET_DIR:-target}/debug/shardis-server"
PORT=${SHARDIS_TEST_PORT:-16379}
LOG=$(mktemp)
$BIN --port "$PORT" --shards 2 >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$PORT" ping | grep -q PONG || { echo "shardis-server did not start:"; cat "$LOG"; exit 1; }

echo "-- redis-cli"
[ "$(redis-cli -p "$PORT" set cli:k hello)" = "OK" ]
[ "$(redis-cli -p "$PORT" get cli:k)" = "hello" ]
[ "$(redis-cli -p "$PORT" --no-raw incr cli:n)" = "(integer) 1" ]
redis-cli -p "$PORT" mset cli:a 1 cli:b 2 cli:c 3 >/dev/null
[ "$(redis-cli -p "$PORT" mget cli:a cli:b cli:c | tr '\n' ' ')" = "1 2 3 " ]
redis-cli -p "$PORT" info server | grep -q "redis_version:7.2"
echo "redis-cli: ok"

echo "-- redis-benchmark -t ping,set,get,incr,mset -P 16 -r 100000 -n 200000"
OUT=$(redis-benchmark -p "$PORT" -t ping,set,get,incr,mset -P 16 -r 100000 -n 200000 -q 2>&1 | tr '\r' '\n')
echo "$OUT" | grep "requests per second" || true
if echo "$OUT" | grep -qiE "error|warning"; then
  echo "redis-benchmark reported errors:"; echo "$OUT" | grep -iE "error|warning"; exit 1
fi
[ "$(echo "$OUT" | grep -c 'requests per second')" -ge 6 ] || { echo "redis-benchmark did not finish every test"; exit 1; }

# The data-type tests of redis-benchmark (issue #3): every one must finish without errors.
TYPES=lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_300
echo "-- redis-benchmark -t $TYPES -P 16 -n 20000"
OUT=$(redis-benchmark -p "$PORT" -t "$TYPES" -P 16 -n 20000 -q 2>&1 | tr '\r' '\n')
echo "$OUT" | grep "requests per second" || true
if echo "$OUT" | grep -qiE "error|warning"; then
  echo "redis-benchmark reported errors:"; echo "$OUT" | grep -iE "error|warning"; exit 1
fi
[ "$(echo "$OUT" | grep -c 'requests per second')" -ge 11 ] || { echo "redis-benchmark did not finish every data-type test"; exit 1; }

echo "-- Python acceptance tests (redis-py)"
SHARDIS_PORT=$PORT SHARDIS_BIN="$BIN" python3 -m pytest -q tests/python

echo "-- A real job queue: BullMQ (Node), Lua scripts over undeclared keys, streams, blocking pops"
SHARDIS_PORT=$PORT node tests/node/bullmq_queue.mjs
