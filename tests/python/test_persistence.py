"""Persistence as the guide describes it: "A backup is a tar.gz archive containing both the
.rdb and .aof files. You can extract this archive and run redis-server in the extracted
folder to access data." Shardis writes the AOF (RDB snapshots have not landed): its
directory, archived and extracted elsewhere, opens in a real redis-server and in Shardis."""

import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

import pytest
import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv):
    """Starts a Redis-protocol server on a free port; returns (process, client)."""
    port = free_port()
    proc = subprocess.Popen(argv + ["--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    for _ in range(200):
        try:
            if client.ping():
                return proc, client
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{argv[0]} did not start")


def stop(proc, client):
    client.close()
    proc.kill()
    proc.wait()


def shardis(data_dir):
    binary = os.environ.get("SHARDIS_BIN", "target/debug/shardis-server")
    return start([binary, "--shards", "2", "--appendonly", "yes", "--dir", data_dir])


def check(r):
    assert r.get("session:42") == "alice"
    assert 0 < r.ttl("session:42") <= 3600
    assert r.hgetall("user:1") == {"name": "Ada", "visits": "3"}
    assert r.lrange("queue", 0, -1) == ["job2", "job3"]
    assert r.zrevrange("leaderboard", 0, -1, withscores=True) == [("bob", 250.0), ("ann", 100.0)]
    assert [fields for _, fields in r.xrange("events")] == [{"type": "login"}, {"type": "logout"}]
    assert r.get("counter") == "10"


def test_backup_archive_opens_in_redis_server_and_shardis():
    work = tempfile.mkdtemp(prefix="shardis-backup-")
    try:
        data = os.path.join(work, "data")
        os.mkdir(data)
        proc, r = shardis(data)
        r.set("session:42", "alice", ex=3600)
        r.hset("user:1", mapping={"name": "Ada", "visits": 1})
        r.hincrby("user:1", "visits", 2)
        r.rpush("queue", "job1", "job2", "job3")
        assert r.lpop("queue") == "job1"
        r.zadd("leaderboard", {"ann": 100, "bob": 200})
        r.zincrby("leaderboard", 50, "bob")
        r.xadd("events", {"type": "login"})
        r.xadd("events", {"type": "logout"})
        with r.pipeline() as p:
            for _ in range(10):
                p.incr("counter")
            p.execute()
        check(r)
        stop(proc, r)  # killed: every acknowledged write is already in the files

        archive = os.path.join(work, "backup.tar.gz")
        with tarfile.open(archive, "w:gz") as t:
            t.add(data, arcname="backup")
        with tarfile.open(archive) as t:
            t.extractall(os.path.join(work, "restore"), filter="data")
        restored = os.path.join(work, "restore", "backup")

        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
        proc, r = start([redis_server, "--appendonly", "yes", "--dir", restored, "--save", "",
                         "--bind", "127.0.0.1"])
        check(r)
        stop(proc, r)

        proc, r = shardis(restored)
        check(r)
        stop(proc, r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
