"""Shared plumbing of the benchmark scripts (compare.py, suite.py, hop.py).

Servers are started pinned to chosen cores with taskset (which execs the server, so the pid
we hold is the server's own and /proc/<pid>/stat covers all its threads), stopped with
SIGKILL (no persistence to flush, and a clean shutdown would only add noise), and spoken to
with a few lines of raw RESP so the scripts need nothing beyond the standard library.
"""
import os
import shlex
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

REDIS_CMDLINE = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no"


def free_port():
    """A port the kernel considers free right now (small race with other users; acceptable)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_cores(spec):
    """'0', '0-1', '0,2-3' -> [0], [0, 1], [0, 2, 3]: the core count sizes threads and shards."""
    cores = []
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            if lo > hi:
                raise ValueError(f"bad core range {part!r}")
            cores.extend(range(lo, hi + 1))
        else:
            cores.append(int(part))
    if not cores:
        raise ValueError(f"no cores in {spec!r}")
    return cores


def cpu_seconds(pid):
    """User+system CPU of a process, all its threads (the process-wide fields of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid):
    """Resident set size from /proc/<pid>/statm: works for any server, whatever its INFO says."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def expand_cmdline(cmdline, port):
    """A server command line (string or argv) with {port} replaced."""
    argv = shlex.split(cmdline) if isinstance(cmdline, str) else list(cmdline)
    return [a.replace("{port}", str(port)) for a in argv]


def encode_command(*args):
    """One request in RESP multibulk form."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def read_reply(f):
    """Reads one RESP2 reply from a binary file object. Errors come back as RespError values
    (not raised), because callers want to inspect them, e.g. to spot 'unknown command'."""
    line = f.readline()
    if not line:
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RespError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise ValueError(f"unexpected reply line {line!r}")


class RespError(str):
    """An error reply, kept as a value."""


def is_unknown_command(reply):
    """True for Redis' (and Shardis') reply to a command the server does not implement."""
    return isinstance(reply, RespError) and reply.startswith("ERR unknown command")


class Connection:
    """A blocking RESP2 connection, for setup, probes and INFO (not for load)."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        self.sock.sendall(encode_command(*args))
        return read_reply(self.file)

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_info(text):
    """INFO's 'field:value' lines -> dict (numbers as int/float when they parse)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or ":" not in line:
            continue
        k, v = line.split(":", 1)
        for conv in (int, float):
            try:
                v = conv(v)
                break
            except ValueError:
                pass
        out[k] = v
    return out


def info(port, section="memory"):
    with Connection(port) as c:
        reply = c.call("INFO", section)
    if isinstance(reply, RespError):
        raise RuntimeError(f"INFO {section}: {reply}")
    return parse_info(reply.decode())


def wait_ready(port, proc=None, timeout=15):
    """Waits until the server answers PING (a listening socket alone is not enough: some
    servers accept before they serve)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(7) == b"+PONG\r\n":
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start within {timeout} s")


class Server:
    """A server process pinned to `cores`, on a fresh free port."""

    def __init__(self, cmdline, cores, log_path=None):
        self.port = free_port()
        argv = ["taskset", "-c", ",".join(map(str, cores))] + expand_cmdline(cmdline, self.port)
        self.argv = argv
        self.log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_ready(self.port, self.proc)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def cpu_seconds(self):
        return cpu_seconds(self.pid)

    def rss_bytes(self):
        return rss_bytes(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(cmdline, core):
    """compare.py's original interface: (process, port) for a server pinned to `core`."""
    server = Server(cmdline, parse_cores(core))
    return server.proc, server.port


def stop(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()
