"""Integration-test harness: a real redis-server on a free loopback port, a
minimal RESP client (standard library only), and helpers to run arun-worker
and arun-submit from the build tree against a temporary SQLite file.

Environment: ARUN_BUILD_DIR (the CMake build folder, set by ctest);
ARUN_WORKER_WRAPPER, a command the worker is started under (e.g. valgrind).
Every test gets its own key prefix and temp folder, so tests never see each
other's keys even on one server.
"""
import json
import re
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
BUILD = os.environ.get("ARUN_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
WORKER = os.path.join(BUILD, "worker", "arun-worker")
SUBMIT = os.path.join(BUILD, "producer", "arun-submit")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")


def wait_for(pred, timeout=10.0, every=0.02, what="condition"):
    """Polls pred until it returns a truthy value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(every)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A tiny blocking RESP2 client: enough for tests and the benchmarks
    (bench/bench.py pipelines pushes with encode + send_raw)."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *args):
        self.send_raw(self.encode(*args))

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def __call__(self, *args):
        self.send(*args)
        return self.read()


class RedisServer:
    """A redis-server in a temp folder; restartable on the same port."""

    def __init__(self, appendonly=True):
        self.dir = tempfile.mkdtemp(prefix="arun-redis-")
        self.port = free_port()
        self.appendonly = appendonly
        self.proc = None

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--maxmemory-policy", "noeviction",
                "--appendonly", "yes" if self.appendonly else "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                c = Redis(self.port, timeout=1)
                ok = c("PING") == "PONG"
                c.close()
                return ok
            except (OSError, RuntimeError):  # not listening yet, or LOADING
                return False
        wait_for(up, 10, what="redis-server to start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port


def shared_server():
    """The server for tests that do not restart Redis: ARUN_TEST_REDIS_URL
    when .ci/run gives one, else one started for this test module."""
    url = os.environ.get("ARUN_TEST_REDIS_URL")
    if url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        srv = RedisServer.__new__(RedisServer)
        srv.port, srv.proc, srv.dir = port, None, None
        srv.cleanup = lambda: None
        return srv
    srv = RedisServer()
    srv.start()
    return srv


class ArunTestCase(unittest.TestCase):
    """Base: a Redis server per test class, a prefix and temp folder per test."""

    server = None
    restarts_redis = False  # a class that stops Redis gets its own server

    @classmethod
    def setUpClass(cls):
        if cls.restarts_redis:
            cls.server = RedisServer()
            cls.server.start()
        else:
            cls.server = shared_server()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.cleanup()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="arun-test-")
        self.prefix = "t" + uuid.uuid4().hex[:10]
        self.db = os.path.join(self.tmp, "var", "arun.db")
        self.scripts = os.path.join(self.tmp, "scripts")
        shutil.copytree(FIXTURES, self.scripts)
        self.workers = []
        self.subs = []
        self.r = Redis(self.server.port)

    def tearDown(self):
        for p in self.workers:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.r.close()
        for sub in self.subs:
            sub.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- environment and processes -------------------------------------------------

    def env(self, **extra):
        e = dict(os.environ)
        e.update({"ARUN_REDIS_URL": self.server.url, "ARUN_PREFIX": self.prefix,
                  "ARUN_DB": self.db, "ARUN_SCRIPTS_DIR": self.scripts,
                  "ARUN_PYTHON": PYTHON, "ARUN_LOG_LEVEL": "debug",
                  "ARUN_CONCURRENCY": "2", "ARUN_KILL_GRACE_MS": "500",
                  # scripts see only allowlisted variables and ARUN_CHILD_ENV's
                  "FIXTURE_DIR": self.tmp, "ARUN_CHILD_ENV": "FIXTURE_DIR"})
        if os.environ.get("ARUN_TEST_PRELOAD"):
            # the whole suite again in warm mode (jobs forked from a warm
            # interpreter that imported these modules)
            e["ARUN_PRELOAD"] = os.environ["ARUN_TEST_PRELOAD"]
        e.update({k: str(v) for k, v in extra.items()})
        return e

    def start_worker(self, *args, run_as=None, preexec_fn=None, ready=True, **env):
        """Starts arun-worker (args, env overrides), as run_as (a uid) when
        given; with ready, waits for its heartbeat (and its warm interpreter
        in warm mode) and fails if it exited. preexec_fn runs in the child
        before exec (rlimits, signal dispositions)."""
        log = open(os.path.join(self.tmp, "worker-%d.log" % len(self.workers)), "wb")
        wrapper = shlex.split(os.environ.get("ARUN_WORKER_WRAPPER", ""))
        worker = WORKER
        if run_as is not None:
            wrapper = ["setpriv", "--reuid=%d" % run_as, "--regid=%d" % run_as,
                       "--clear-groups"] + wrapper
            # a copy the other user can reach (the build folder may sit in
            # a home directory only its owner can enter)
            worker = os.path.join(self.tmp, "arun-worker")
            if not os.path.exists(worker):
                shutil.copy(WORKER, worker)
                os.chmod(worker, 0o755)
        p = subprocess.Popen([*wrapper, worker, *args], env=self.env(**env), stdout=log,
                             stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        log.close()
        self.workers.append(p)
        if not ready:
            return p
        # ready when its heartbeat is in Redis
        wait_for(lambda: self.r("KEYS", self.prefix + ":worker:*") or p.poll() is not None,
                 10, what="the worker's heartbeat")
        self.assertIsNone(p.poll(), "worker exited at start:\n" + self.worker_log(len(self.workers) - 1))
        if self.env(**env).get("ARUN_PRELOAD"):
            i = len(self.workers) - 1
            # ready, or given up (an ARUN_PYTHON that is not Python: jobs start fresh)
            wait_for(lambda: any(m in self.worker_log(i) for m in ("warm interpreter ready",
                                                                   "warm interpreter (pid"))
                     or p.poll() is not None, 30, what="the warm interpreter")
        return p

    def warm_pid(self, i=0):
        """The pid of worker i's warm interpreter, or None (not in warm mode)."""
        m = re.findall(r"warm interpreter starting \(pid (\d+)\)", self.worker_log(i))
        return int(m[-1]) if m else None

    def run_killer(self, request, job_id, limit=60, max_deaths=8, **env):
        """Pushes request for a job that kills the worker running it, and
        keeps one worker up (starting another each time one dies, with a
        short heartbeat so peers recover fast) until job_id's event.
        Returns (event or None, number of workers that died)."""
        sub = self.subscribe()
        self.push(request)
        deadline = time.monotonic() + limit
        deaths = 0
        result = {}

        def watch():
            result["event"] = self.wait_event(sub, job_id)
        t = threading.Thread(target=watch, daemon=True)
        t.start()
        while t.is_alive() and time.monotonic() < deadline and deaths < max_deaths:
            # not ready=True: the job may kill it before its heartbeat is seen
            w = self.start_worker(ARUN_HEARTBEAT_TTL="500ms", ready=False, **env)
            while w.poll() is None and t.is_alive():
                time.sleep(0.05)
            if w.poll() is not None:
                deaths += 1
        t.join(1)
        return result.get("event"), deaths

    def worker_log(self, i=0):
        with open(os.path.join(self.tmp, "worker-%d.log" % i), "rb") as f:
            return f.read().decode(errors="replace")

    def submit(self, *args, timeout=60, **env):
        return subprocess.run([SUBMIT, *args], env=self.env(**env), capture_output=True,
                              timeout=timeout)

    # --- Redis and SQLite views ----------------------------------------------------

    def key(self, *parts):
        return ":".join([self.prefix, *parts])

    def push(self, request, queue="default"):
        if isinstance(request, dict):
            request = json.dumps(request)
        self.r("RPUSH", self.key("queue", queue), request)

    def subscribe(self):
        sub = Redis(self.server.port, timeout=30)
        sub("SUBSCRIBE", self.key("events"))
        self.subs.append(sub)
        return sub

    @staticmethod
    def next_event(sub):
        while True:
            msg = sub.read()
            if msg[0] == b"message":
                return json.loads(msg[2])

    def wait_event(self, sub, job_id):
        while True:
            ev = self.next_event(sub)
            if ev["id"] == job_id:
                return ev

    def events_until(self, sub, marker_id):
        """Every event received before the one whose id is marker_id (a
        marker the test publishes itself), so duplicates can be counted."""
        seen = []
        while True:
            ev = self.next_event(sub)
            if ev["id"] == marker_id:
                return seen
            seen.append(ev)

    def wait_events(self, sub, job_ids):
        """Collects the events of several jobs, in whatever order they end."""
        want, got = set(job_ids), {}
        while want - set(got):
            ev = self.next_event(sub)
            if ev["id"] in want:
                got[ev["id"]] = ev
        return got

    def result(self, job_id):
        raw = self.r("GET", self.key("result", job_id))
        return json.loads(raw) if raw else None

    def rows(self, where="1=1", params=()):
        if not os.path.exists(self.db):
            return []
        con = sqlite3.connect(self.db, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM analytics_jobs WHERE " + where, params)]
        finally:
            con.close()

    def row(self, job_id):
        rows = self.rows("id = ?", (job_id,))
        return rows[0] if rows else None

    def wait_row(self, job_id, status=None, timeout=20):
        def done():
            r = self.row(job_id)
            if r and (r["status"] == status if status else r["status"] != "running"):
                return r
            return None
        return wait_for(done, timeout, what="row %s %s" % (job_id, status or "final"))

    def cancel(self, job_id):
        """Cancels a job the documented way: the key, then the channel."""
        self.r("SET", self.key("cancel", job_id), int(time.time() * 1000), "EX", 86400)
        self.r("PUBLISH", self.key("cancel"), job_id)

    def events_of(self, sub, job_id, marker="marker-end"):
        """Every event of job_id published so far (a marker the test
        publishes itself closes the list), to count duplicates."""
        self.r("PUBLISH", self.key("events"), json.dumps({"id": marker}))
        return [e for e in self.events_until(sub, marker) if e["id"] == job_id]

    def processing_lists(self):
        keys = self.r("KEYS", self.key("processing", "*"))
        return {k.decode(): self.r("LRANGE", k, 0, -1) for k in keys}

    def stop_worker(self, p, sig=signal.SIGTERM, timeout=30):
        p.send_signal(sig)
        return p.wait(timeout)


def read_pid(path):
    with open(path) as f:
        return int(f.read())


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
