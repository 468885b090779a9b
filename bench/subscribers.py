#!/usr/bin/env python3
"""Pub/sub subscribers for the fan-out workload of bench/suite.py.

shardis-bench sends requests and expects one reply each, so it cannot subscribe; this helper
opens N connections, SUBSCRIBEs each to one channel and counts what the server delivers while
shardis-bench PUBLISHes. It does not parse the messages: every PUBLISH carries a value of the
same size, so every delivered message has the same RESP encoding and the count is bytes / size.
That keeps one Python process fast enough to read several hundred thousand messages per
second (one recv per socket per wake-up, no per-message work).

Protocol with the parent (bench/suite.py):
  stdout: "ready <n>" once all connections are subscribed;
  stdin:  EOF means the publisher has finished; the helper then drains until no byte arrived
          for --idle seconds and prints one JSON line
          {"messages": ..., "bytes": ..., "subscribers": ..., "misaligned": ..., "closed": ...}.

    python3 bench/subscribers.py --port 6379 --channel bench:fanout --subscribers 20 --data-size 32
"""
import argparse
import json
import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import encode_command  # noqa: E402


def message_size(channel, data_size):
    """Bytes of one RESP2 pub/sub message on `channel` carrying a `data_size`-byte payload."""
    ch = channel.encode()
    return len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n" % (len(ch), ch, data_size)) + data_size + 2


def subscribe_reply(channel, count=1):
    """The exact confirmation a RESP2 server sends for SUBSCRIBE <channel> (count = channels
    this connection is subscribed to)."""
    ch = channel.encode()
    return b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:%d\r\n" % (len(ch), ch, count)


def count_messages(total_bytes, size):
    """(whole messages, leftover bytes): leftover != 0 means a message was cut off or the
    stream held something other than equal-sized messages."""
    return divmod(total_bytes, size)


def connect_subscribers(port, channel, n, host="127.0.0.1"):
    """Opens n connections subscribed to `channel`; raises if the server refuses SUBSCRIBE."""
    want = subscribe_reply(channel)
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(encode_command("SUBSCRIBE", channel))
        got = b""
        while len(got) < len(want):
            chunk = s.recv(len(want) - len(got))
            if not chunk:
                raise ConnectionError("connection closed while subscribing")
            got += chunk
            if got.startswith(b"-"):
                raise RuntimeError(f"SUBSCRIBE refused: {got.decode(errors='replace').strip()}")
        if got != want:
            raise RuntimeError(f"unexpected SUBSCRIBE reply {got!r}")
        s.setblocking(False)
        socks.append(s)
    return socks


def pump(socks, stop_fd, idle_s, max_drain_s=10.0):
    """Reads every socket until stop_fd reaches EOF and then nothing arrives for idle_s.
    Returns (bytes received, connections the server closed)."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    sel.register(stop_fd, selectors.EVENT_READ)
    buf = bytearray(1 << 20)
    total = closed = 0
    stopping_since = None
    last_data = time.monotonic()
    while True:
        events = sel.select(timeout=0.05)
        now = time.monotonic()
        for key, _ in events:
            if key.fileobj is stop_fd:
                if not os.read(stop_fd, 4096):
                    sel.unregister(stop_fd)
                    stopping_since = now
                continue
            try:
                n = key.fileobj.recv_into(buf)
            except BlockingIOError:
                continue
            except OSError:
                n = 0
            if n == 0:
                sel.unregister(key.fileobj)
                closed += 1
                continue
            total += n
            last_data = now
        if stopping_since is not None and (
            now - last_data >= idle_s or now - stopping_since >= max_drain_s
        ):
            return total, closed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--channel", default="bench:fanout")
    ap.add_argument("--subscribers", type=int, default=20)
    ap.add_argument("--data-size", type=int, default=32, help="payload bytes of every PUBLISH")
    ap.add_argument("--idle", type=float, default=0.5, help="drain ends after this long without data")
    opts = ap.parse_args()

    try:
        socks = connect_subscribers(opts.port, opts.channel, opts.subscribers, opts.host)
    except (OSError, RuntimeError) as e:
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    print(f"ready {len(socks)}", flush=True)
    total, closed = pump(socks, sys.stdin.fileno(), opts.idle)
    messages, leftover = count_messages(total, message_size(opts.channel, opts.data_size))
    print(json.dumps({"messages": messages, "bytes": total, "subscribers": len(socks),
                      "misaligned": leftover, "closed": closed}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
