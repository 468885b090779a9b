"""The seed guides' redis-py snippets, run as written against shardis-server.

Each test is one section of the guides (strings, keys and TTLs, the cache-aside pattern,
lists, sets, sorted sets, hashes, transactions, the distributed lock, pub/sub and streams),
plus what a cache built on them uses: keyspace notifications and client-side caching, and
the troubleshooting section (memory INFO, finding large keys, the slow log).
"""
import json
import os
import threading
import time
import uuid

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


def test_lists_as_a_task_queue(r):
    assert r.lpush("queue:tasks", "task1", "task2", "task3") == 3
    assert r.rpush("queue:tasks", "task4") == 4
    assert r.lpop("queue:tasks") == "task3"
    assert r.rpop("queue:tasks") == "task4"
    assert r.blpop("queue:tasks", timeout=5) == ("queue:tasks", "task2")
    assert r.llen("queue:tasks") == 1
    assert r.lrange("queue:tasks", 0, -1) == ["task1"]
    r.rpush("queue:tasks", *[f"t{i}" for i in range(150)])
    assert r.ltrim("queue:tasks", 0, 99) is True
    assert r.llen("queue:tasks") == 100
    # An empty queue: the blocking pop waits, then gives up.
    t0 = time.monotonic()
    assert r.blpop("queue:empty", timeout=1) is None
    assert time.monotonic() - t0 >= 0.9


def test_blocking_pop_is_woken_by_a_push(r):
    import threading

    port = r.connection_pool.connection_kwargs["port"]
    got = []
    consumer = redis.Redis(port=port, decode_responses=True)
    t = threading.Thread(target=lambda: got.append(consumer.blpop("queue:jobs", timeout=10)))
    t.start()
    deadline = time.monotonic() + 10
    while r.info("clients")["blocked_clients"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    r.rpush("queue:jobs", "job-1")
    t.join()
    assert got == [("queue:jobs", "job-1")]


def test_sets(r):
    assert r.sadd("tags:post:1", "python", "redis", "database") == 3
    assert r.sismember("tags:post:1", "python") in (True, 1)
    assert r.smembers("tags:post:1") == {"python", "redis", "database"}
    assert r.srem("tags:post:1", "database") == 1
    r.sadd("set1", "a", "b", "c")
    r.sadd("set2", "b", "c", "d")
    assert r.sunion("set1", "set2") == {"a", "b", "c", "d"}
    assert r.sinter("set1", "set2") == {"b", "c"}
    assert r.sdiff("set1", "set2") == {"a"}
    assert r.srandmember("tags:post:1") in {"python", "redis"}
    assert r.spop("tags:post:1") in {"python", "redis"}
    assert r.scard("tags:post:1") == 1


def test_sorted_sets_as_a_leaderboard(r):
    assert r.zadd("leaderboard", {"player1": 100, "player2": 150, "player3": 120}) == 3
    assert r.zincrby("leaderboard", 10, "player1") == 110.0
    assert r.zrank("leaderboard", "player1") == 0
    assert r.zrevrank("leaderboard", "player1") == 2
    assert r.zscore("leaderboard", "player1") == 110.0
    assert r.zrevrange("leaderboard", 0, 9, withscores=True) == [
        ("player2", 150.0),
        ("player3", 120.0),
        ("player1", 110.0),
    ]
    assert r.zrangebyscore("leaderboard", 100, 200, withscores=True) == [
        ("player1", 110.0),
        ("player3", 120.0),
        ("player2", 150.0),
    ]
    assert r.zcount("leaderboard", 100, 200) == 3
    assert r.zrem("leaderboard", "player1") == 1
    assert r.zcard("leaderboard") == 2


def test_hashes(r):
    r.hset("user:1000", mapping={"name": "John Doe", "email": "john@example.com", "age": "30"})
    assert r.hget("user:1000", "name") == "John Doe"
    assert r.hgetall("user:1000") == {
        "name": "John Doe",
        "email": "john@example.com",
        "age": "30",
    }
    assert r.hmget("user:1000", ["name", "email"]) == ["John Doe", "john@example.com"]
    assert r.hincrby("user:1000", "login_count", 1) == 1
    assert r.hexists("user:1000", "name") is True
    assert sorted(r.hkeys("user:1000")) == ["age", "email", "login_count", "name"]
    assert sorted(r.hvals("user:1000")) == ["1", "30", "John Doe", "john@example.com"]
    assert r.hdel("user:1000", "age") == 1


def test_hashes_for_related_fields_use_a_compact_encoding(r):
    r.set("user:1000:name", "John")
    r.hset("user:1000", mapping={"name": "John", "email": "john@example.com", "age": "30"})
    assert r.object("encoding", "user:1000") == "listpack"


def test_transaction_pipeline(r):
    pipe = r.pipeline()
    pipe.set("key1", "value1")
    pipe.set("key2", "value2")
    pipe.incr("counter")
    assert pipe.execute() == [True, True, 1]


def transfer_with_watch(r, source, target):
    """The guide's optimistic-locking loop; returns how many times it had to retry."""
    retries = 0
    pipe = r.pipeline()
    while True:
        try:
            pipe.watch(source)
            current_balance = int(r.get(source))
            if current_balance >= 100:
                pipe.multi()
                pipe.decrby(source, 100)
                pipe.incrby(target, 100)
                pipe.execute()
                return retries
            pipe.unwatch()
            return retries
        except redis.WatchError:
            retries += 1
            continue


def test_optimistic_locking_with_watch(r):
    r.set("balance:1000", 500)
    r.set("balance:2000", 0)
    assert transfer_with_watch(r, "balance:1000", "balance:2000") == 0
    assert r.get("balance:1000") == "400" and r.get("balance:2000") == "100"

    # A change between WATCH and EXEC makes redis-py raise WatchError: the loop retries.
    pipe = r.pipeline()
    pipe.watch("balance:1000")
    r.incrby("balance:1000", 1)
    pipe.multi()
    pipe.decrby("balance:1000", 100)
    try:
        pipe.execute()
        raise AssertionError("EXEC ran although the watched key changed")
    except redis.WatchError:
        pass

    # Many clients at once: the total is preserved.
    r.set("balance:1000", 10_000)
    errors = []

    def worker(source, target):
        try:
            for _ in range(20):
                transfer_with_watch(r, source, target)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(a, b))
               for a, b in [("balance:1000", "balance:2000"), ("balance:2000", "balance:1000")] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert int(r.get("balance:1000")) + int(r.get("balance:2000")) == 10_100


def acquire_lock(r, lock_name, timeout=10):
    lock_key = f"lock:{lock_name}"
    identifier = str(uuid.uuid4())
    end = time.time() + timeout
    while time.time() < end:
        if r.set(lock_key, identifier, nx=True, ex=timeout):
            return identifier
        time.sleep(0.001)
    return False


def release_lock(r, lock_name, identifier):
    lock_key = f"lock:{lock_name}"
    pipe = r.pipeline(True)
    while True:
        try:
            pipe.watch(lock_key)
            if pipe.get(lock_key) == identifier:
                pipe.multi()
                pipe.delete(lock_key)
                pipe.execute()
                return True
            pipe.unwatch()
            break
        except redis.WatchError:
            pass
    return False


def test_distributed_lock(r):
    lock_id = acquire_lock(r, "resource:123")
    assert lock_id
    assert 0 < r.ttl("lock:resource:123") <= 10
    # Held: a second acquire gives up (the guide's loop with a 1 s timeout).
    assert acquire_lock(r, "resource:123", timeout=1) is False
    assert release_lock(r, "resource:123", "not-the-owner") is False
    assert release_lock(r, "resource:123", lock_id) is True
    assert r.exists("lock:resource:123") == 0

    # Critical sections from several threads never overlap.
    inside = []
    overlaps = []

    def worker():
        for _ in range(10):
            ident = acquire_lock(r, "shared")
            assert ident
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            time.sleep(0.001)
            inside.pop()
            assert release_lock(r, "shared", ident)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlaps


def test_lua_scripts_run_atomically(r):
    """The guide's "Lua Scripting: execute complex operations atomically", with redis-py's
    register_script (EVALSHA, falling back to EVAL on NOSCRIPT)."""
    add_below_limit = r.register_script(
        """
        local current = tonumber(redis.call('get', KEYS[1]) or '0')
        if current + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -1 end
        return redis.call('incrby', KEYS[1], ARGV[1])
        """
    )
    assert add_below_limit(keys=["quota:1000"], args=[5, 12]) == 5
    assert add_below_limit(keys=["quota:1000"], args=[5, 12]) == 10
    assert add_below_limit(keys=["quota:1000"], args=[5, 12]) == -1
    r.script_flush()
    assert add_below_limit(keys=["quota:1000"], args=[1, 12]) == 11

    # Keys the script builds itself (not declared), as queue libraries do.
    fan_out = r.register_script(
        """
        for i = 1, tonumber(ARGV[1]) do redis.call('set', 'job:' .. i, 'queued') end
        return redis.call('dbsize')
        """
    )
    assert fan_out(args=[20]) >= 20
    assert r.get("job:7") == "queued"


def test_redis_py_lock_built_on_lua(r):
    lock = r.lock("resource:42", timeout=5)
    assert lock.acquire(blocking=False)
    assert not r.lock("resource:42").acquire(blocking=False)
    assert lock.extend(5)
    assert 5 < r.pttl("resource:42") / 1000 <= 10
    lock.release()
    assert r.exists("resource:42") == 0


def test_pubsub_like_the_guide(r):
    p = r.pubsub()
    p.subscribe("channel:notifications")
    received = []

    def listen():
        for message in p.listen():
            if message["type"] == "message":
                received.append(message["data"])
                return

    listener = threading.Thread(target=listen)
    listener.start()
    deadline = time.time() + 5
    # The publisher: retry until the subscription is visible (it is registered at once,
    # but the listener thread starts asynchronously).
    while r.publish("channel:notifications", "Hello, World!") == 0:
        assert time.time() < deadline
        time.sleep(0.01)
    listener.join(timeout=5)
    assert received == ["Hello, World!"]

    # Pattern subscription, then unsubscribe.
    p.psubscribe("channel:*")
    assert p.get_message(timeout=2)["type"] == "psubscribe"
    assert r.publish("channel:alerts", "fire") == 1
    msg = p.get_message(timeout=2)
    assert msg["type"] == "pmessage" and msg["data"] == "fire" and msg["pattern"] == "channel:*"
    p.unsubscribe("channel:notifications")
    assert p.get_message(timeout=2)["type"] == "unsubscribe"
    assert r.pubsub_numsub("channel:notifications") == [("channel:notifications", 0)]
    p.close()


def test_streams(r):
    # Add to stream
    message_id = r.xadd("events", {"user": "john", "action": "login"})
    # Read from stream
    messages = r.xread({"events": "0"}, count=10)
    assert messages == [["events", [(message_id, {"user": "john", "action": "login"})]]]
    # Consumer groups
    assert r.xgroup_create("events", "mygroup", id="0") is True
    messages = r.xreadgroup("mygroup", "consumer1", {"events": ">"}, count=10)
    assert messages == [["events", [(message_id, {"user": "john", "action": "login"})]]]
    # Acknowledge message
    assert r.xack("events", "mygroup", message_id) == 1
    assert r.xpending("events", "mygroup")["pending"] == 0
    assert r.xreadgroup("mygroup", "consumer1", {"events": ">"}, count=10) == []


def test_stream_consumer_blocks_until_an_event_arrives(r):
    port = r.connection_pool.connection_kwargs["port"]
    r.xgroup_create("events", "workers", id="$", mkstream=True)
    got = []
    consumer = redis.Redis(port=port, decode_responses=True)
    t = threading.Thread(
        target=lambda: got.append(
            consumer.xreadgroup("workers", "w1", {"events": ">"}, count=1, block=10000)
        )
    )
    t.start()
    deadline = time.monotonic() + 10
    while r.info("clients")["blocked_clients"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    message_id = r.xadd("events", {"user": "jane", "action": "logout"})
    t.join()
    assert got == [[["events", [(message_id, {"user": "jane", "action": "logout"})]]]]
    assert r.xack("events", "workers", message_id) == 1


def test_keyspace_notifications_through_pubsub(r):
    # A cache that hears when its keys expire or change, as an application would wire it.
    r.config_set("notify-keyspace-events", "KEA")
    try:
        p = r.pubsub()
        p.psubscribe("__keyspace@0__:session:*")
        assert p.get_message(timeout=2)["type"] == "psubscribe"
        r.set("session:1", "alice", px=50)
        r.delete("session:2")  # nothing to delete: no event
        r.hset("session:3", "user", "bob")
        seen = []
        deadline = time.time() + 5
        while len(seen) < 4 and time.time() < deadline:
            msg = p.get_message(timeout=0.5)
            if msg and msg["type"] == "pmessage":
                seen.append((msg["channel"], msg["data"]))
        assert seen == [
            ("__keyspace@0__:session:1", "set"),
            ("__keyspace@0__:session:1", "expire"),
            ("__keyspace@0__:session:3", "hset"),
            ("__keyspace@0__:session:1", "expired"),
        ]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_client_side_caching_with_redis_py(r):
    # Client-side caching the RESP2 way (Redis' docs): one connection listens on
    # __redis__:invalidate, the caching connection redirects its invalidations there.
    listener = r.pubsub()
    listener.subscribe("__redis__:invalidate")
    assert listener.get_message(timeout=2)["type"] == "subscribe"
    (listener_id,) = [c["id"] for c in r.client_list() if c["cmd"] == "subscribe"]
    port = int(os.environ.get("SHARDIS_PORT", "6379"))
    cached = redis.Redis(
        host="127.0.0.1", port=port, single_connection_client=True, decode_responses=True
    )
    try:
        assert cached.client_tracking_on(clientid=listener_id)
        local_cache = {}
        for key in ("csc:user", "csc:plan"):
            r.set(key, "v1")
            local_cache[key] = cached.get(key)
        r.set("csc:plan", "v2")
        msg = None
        deadline = time.time() + 5
        while msg is None and time.time() < deadline:
            msg = listener.get_message(timeout=0.5)
        assert msg["channel"] == "__redis__:invalidate"
        assert msg["data"] == ["csc:plan"]
        for key in msg["data"]:
            local_cache.pop(key, None)
        assert local_cache == {"csc:user": "v1"}
        assert cached.client_tracking_off()
    finally:
        cached.close()
        listener.close()


def test_troubleshooting_like_the_guide(r):
    """The guide's troubleshooting section: memory INFO, finding large keys, the slow log."""
    info = r.info("memory")
    assert info["used_memory_human"] and info["used_memory_peak_human"]
    assert info["mem_fragmentation_ratio"] > 0

    r.rpush("big:list", *range(10001))
    r.set("small", "x")
    large = []
    for key in r.scan_iter():
        key_type = r.type(key)
        if key_type == "string":
            size = len(r.get(key))
        elif key_type == "list":
            size = r.llen(key)
        else:
            continue
        if size > 10000:
            large.append((key, key_type, size))
    assert large == [("big:list", "list", 10001)]

    # Log every command for a moment, as one would to catch what is slow.
    old = r.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    r.config_set("slowlog-log-slower-than", 0)
    try:
        r.slowlog_reset()
        r.lrange("big:list", 0, -1)
        slowlog = r.slowlog_get(10)
        # redis-py joins the arguments as bytes, whatever decode_responses says.
        commands = [
            c.decode() if isinstance(c, bytes) else c for c in (e["command"] for e in slowlog)
        ]
        assert "LRANGE big:list 0 -1" in commands, commands
        for entry in slowlog:
            assert entry["duration"] >= 0 and entry["id"] >= 0
            address = entry["client_address"]
            address = address.decode() if isinstance(address, bytes) else address
            assert address.startswith("127.0.0.1:")
        assert r.slowlog_len() >= 1
    finally:
        r.config_set("slowlog-log-slower-than", old)
