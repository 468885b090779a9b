#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: redis-tools (redis-cli,
# redis-benchmark) and redis-server (the reference for comparisons and benchmarks) from
# Debian, Node.js and npm, and the Python and Node client libraries the acceptance tests use. Idempotent and quiet
# when everything is already there.
set -euo pipefail

need_apt=()
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-setup: installing ${need_apt[*]} from Debian"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  # Debian starts a redis-server service on 6379; the tests do not want it.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop redis-server 2>/dev/null || true; fi
  pkill -f "redis-server 127.0.0.1:6379" 2>/dev/null || true
fi

if ! python3 -c "import redis, pytest" >/dev/null 2>&1; then
  echo "test-setup: installing redis-py and pytest"
  python3 -m pip install --quiet --disable-pip-version-check "redis>=5,<6" "pytest>=7"
fi

if [ ! -d tests/node/node_modules/bullmq ]; then
  echo "test-setup: installing the Node acceptance tests' clients (BullMQ)"
  (cd tests/node && npm install --silent --no-audit --no-fund)
fi
