#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs unit tests, integration tests over
# TCP with the `redis` crate, and the client-tool and Python acceptance tests against a real
# shardis-server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-setup.sh

echo "== cargo test (unit + integration)"
cargo test --workspace

echo "== client tools and Python acceptance tests against shardis-server"
bash scripts/acceptance.sh

echo "== benchmark suite's own unit tests (no servers)"
python3 -m pytest -q bench/test_suite.py
