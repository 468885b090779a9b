import os

import pytest
import redis


@pytest.fixture
def r():
    """A redis-py client on the shardis-server started by scripts/acceptance.sh."""
    port = int(os.environ.get("SHARDIS_PORT", "6379"))
    client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    client.flushdb()
    yield client
    client.close()
