"""The seed guides' redis-py snippets, run as written against shardis-server.

Each test is one section of the guides (strings, keys and TTLs, the cache-aside pattern).
Sections for lists, sets, sorted sets, hashes, pub/sub, transactions and streams are added as
those families land.
"""
import json
import time

import redis


def test_connect_like_the_guide(r):
    port = r.connection_pool.connection_kwargs["port"]
    r2 = redis.from_url(f"redis://127.0.0.1:{port}")
    r2.set("key", "value")
    assert r2.get("key") == b"value"


def test_strings(r):
    r.set("user:1000:name", "John Doe")
    assert r.get("user:1000:name") == "John Doe"

    r.setex("session:abc123", 3600, "session_data")
    assert 3590 <= r.ttl("session:abc123") <= 3600

    assert r.setnx("lock:resource", "locked") is True
    assert r.setnx("lock:resource", "locked") is False

    r.mset({"key1": "value1", "key2": "value2", "key3": "value3"})
    assert r.mget(["key1", "key2", "key3"]) == ["value1", "value2", "value3"]

    assert r.incr("page:views") == 1
    assert r.incrby("score", 10) == 10
    assert r.decr("inventory:item:123") == -1


def test_keys_and_ttl(r):
    r.set("key1", "v")
    r.delete("key1")
    assert r.exists("key1") == 0
    r.set("key1", "v")
    assert r.exists("key1") == 1
    r.expire("key1", 300)
    assert 295 <= r.ttl("key1") <= 300


def get_user_from_db(user_id):
    return {"id": user_id, "name": f"user {user_id}"}


def test_cache_aside_pattern(r):
    def get_user(user_id):
        cache_key = f"user:{user_id}"
        cached = r.get(cache_key)
        if cached:
            return json.loads(cached), True
        user = get_user_from_db(user_id)
        r.setex(cache_key, 3600, json.dumps(user))
        return user, False

    user, hit = get_user(7)
    assert not hit and user["id"] == 7
    user, hit = get_user(7)
    assert hit and user["name"] == "user 7"

    # Invalidation: delete one key, then every key of a pattern with scan_iter.
    r.delete("user:7")
    assert r.get("user:7") is None
    for i in range(50):
        r.set(f"user:{i}", i)
    r.set("other", 1)
    for key in r.scan_iter("user:*"):
        r.delete(key)
    assert list(r.scan_iter("user:*")) == []
    assert r.get("other") == "1"


def test_expiry_is_enforced(r):
    r.set("short", "x", px=50)
    time.sleep(0.2)
    assert r.get("short") is None
    assert r.exists("short") == 0


def test_pipeline_of_plain_commands(r):
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"p:{i}", i)
    for i in range(100):
        pipe.get(f"p:{i}")
    res = pipe.execute()
    assert res[:100] == [True] * 100
    assert res[100:] == [str(i) for i in range(100)]
