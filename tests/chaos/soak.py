#!/usr/bin/python3
"""Chaos soak: many jobs through a worker pool that is killed and restarted
all along, with one Redis restart, and then a check that nothing was lost,
run twice at once, or left behind.

  tests/chaos/soak.py --jobs 300 --seconds 45 --workers 3      # CI (~60 s)
  tests/chaos/soak.py --jobs 5000 --seconds 600 --workers 3    # long soak

What it does: starts redis-server (AOF on, appendfsync always) on a free
port, W workers (ARUN_HEARTBEAT_TTL=1s, concurrency 2) over a scripts folder
of fixtures (fast, slow, fail, hang, and a script name that is not on the
whitelist), pushes N jobs with unique ids spread over the first 60 % of the
soak, SIGKILLs a random worker every 0.5-2 s and starts a new one in its
place, and restarts Redis once (SIGKILL, 1 s down, start on the same port
and folder). It subscribes to PREFIX:events throughout. When every id has a
final row and the queue and processing lists are empty (or at the
deadline), it stops the workers with SIGTERM and checks:

  - every pushed id has exactly one row, final, with the status its kind
    gives (or "failed" after repeated deliveries), and no other row exists;
  - PREFIX:result:ID holds the same status; every event seen agrees with
    the row; no event is missing outside the Redis restart window;
  - no id ran concurrently with itself: each fixture run takes an exclusive
    flock on locks/ID (released only when its process is gone), writes its
    pid in it, and logs "ID start|end|overlap:HOLDER PID T" lines with
    O_APPEND to runs.log; a run that finds the lock held logs "overlap"
    with the holder's pid. A start without an end is a run killed with its
    worker, not an overlap. With --pauses, a worker is frozen with its jobs
    (a paused host) longer than its heartbeat: a run that waits for the lock
    of a frozen run is the takeover, not an overlap, as long as the frozen
    run is gone within the heartbeat TTL (+0.5 s) of the thaw;
  - a run logged "end" for every success/error row, and no run for a
    rejected one; runs of an id <= its attempts;
  - the queue, every processing list and PREFIX:dead are empty;
  - no process of any job is left (processes whose environment holds this
    soak's marker and an ARUN_JOB_ID, found in /proc).

It prints the counts and exits 1 when a check fails (2 on a setup error).
Standard library only; reuses tests/integration/harness.py.
"""
import argparse
import collections
import datetime
import json
import os
import shlex
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=300, help="jobs to push (default 300)")
    ap.add_argument("--seconds", type=float, default=45,
                    help="soak length: chaos runs this long, pushes during the first 60%% (default 45)")
    ap.add_argument("--workers", type=int, default=3, help="worker processes (default 3)")
    ap.add_argument("--concurrency", type=int, default=2, help="ARUN_CONCURRENCY (default 2)")
    ap.add_argument("--grace", type=float, default=120,
                    help="after the soak, seconds to wait for the last jobs (default 120)")
    ap.add_argument("--build", default=os.environ.get("ARUN_BUILD_DIR", os.path.join(ROOT, "build")),
                    help="CMake build folder (default $ARUN_BUILD_DIR or build/)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    ap.add_argument("--no-kill", action="store_true", help="no worker kills (a baseline)")
    ap.add_argument("--no-redis-restart", action="store_true", help="do not restart Redis")
    ap.add_argument("--grandchildren", action="store_true",
                    help="slow jobs also start a child process (checks that none outlives its job)")
    ap.add_argument("--pauses", action="store_true",
                    help="also freeze a worker with its jobs (SIGSTOP) past its heartbeat, "
                         "then thaw it: its jobs are taken over and it must not run them on")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs, db, runs.log)")
    return ap.parse_args()


ARGS = parse_args()
os.environ["ARUN_BUILD_DIR"] = os.path.abspath(ARGS.build)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (needs ARUN_BUILD_DIR first)
from harness import Redis, free_port, wait_for  # noqa: E402

PREFIX = "soak"
MARKER = "SOAK_MARKER"

FIXTURE_HEAD = r'''
import fcntl, os, sys, time
jid = os.environ["ARUN_JOB_ID"]
def note(what):
    fd = os.open(os.environ["SOAK_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("%s %s %d %d\n" % (jid, what, os.getpid(), time.monotonic_ns())).encode())
    os.close(fd)
lock = os.open(os.path.join(os.environ["SOAK_LOCKS"], jid), os.O_RDWR | os.O_CREAT, 0o644)
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    holder = os.pread(lock, 32, 0).decode(errors="replace").strip() or "0"
    note("overlap:" + holder)
    fcntl.flock(lock, fcntl.LOCK_EX)
os.ftruncate(lock, 0)
os.pwrite(lock, str(os.getpid()).encode(), 0)
note("start")
'''
FIXTURES = {
    "fast": 'print("fast")\nnote("end")\n',
    "slow": ('import subprocess\n'
             'if os.environ.get("SOAK_GRANDCHILDREN") == "1":\n'
             '    subprocess.Popen(["sleep", "300"])  # outlives the script: the group kill must get it\n'
             'time.sleep(float(sys.argv[1]))\nprint("slow")\nnote("end")\n'),
    "fail": 'print("failing", file=sys.stderr)\nnote("end")\nsys.exit(3)\n',
    "hang": 'time.sleep(3600)\nnote("end")\n',
}
# kind: (share, final status when it runs to the end)
KINDS = {"fast": (0.50, "success"), "slow": (0.20, "success"), "fail": (0.15, "error"),
         "hang": (0.07, "timeout"), "missing": (0.08, "rejected")}


def log(msg):
    print("soak: %s" % msg, flush=True)


class Server(harness.RedisServer):
    """harness.RedisServer with appendfsync always; killed, not stopped."""

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--maxmemory-policy", "noeviction",
                "--appendonly", "yes", "--appendfsync", "always"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                c = Redis(self.port, timeout=1)
                ok = c("PING") == "PONG"
                c.close()
                return ok
            except (OSError, RuntimeError):
                return False
        wait_for(up, 20, what="redis-server to start")

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None


class Soak:
    def __init__(self):
        self.rng = random.Random(ARGS.seed)
        self.tmp = tempfile.mkdtemp(prefix="arun-soak-")
        self.scripts = os.path.join(self.tmp, "scripts")
        self.locks = os.path.join(self.tmp, "locks")
        self.runs_log = os.path.join(self.tmp, "runs.log")
        self.db = os.path.join(self.tmp, "var", "arun.db")
        os.makedirs(self.scripts)
        os.makedirs(self.locks)
        for name, body in FIXTURES.items():
            with open(os.path.join(self.scripts, name + ".py"), "w") as f:
                f.write(FIXTURE_HEAD + body)
        self.marker = uuid.uuid4().hex
        self.server = Server()
        self.redis_lock = threading.Lock()  # held while Redis is down: no pushes then
        self.stop_chaos = threading.Event()
        self.stop_events = threading.Event()
        self.workers = [None] * ARGS.workers
        self.worker_n = 0
        self.kills = 0
        self.pushed = {}  # id -> kind
        self.pushing = True
        self.events = collections.defaultdict(list)  # id -> [status...]
        self.stray_events = []
        self.restart_window = None  # (start, end) wall time of the Redis restart
        self.pauses = 0
        self.waited_on_frozen = 0
        self.frozen = {}  # pid of a frozen job process -> (stop, thaw) monotonic ns
        self.failures = []

    # --- processes ------------------------------------------------------------

    def env(self):
        e = dict(os.environ)
        e.update({"ARUN_REDIS_URL": self.server.url, "ARUN_PREFIX": PREFIX, "ARUN_DB": self.db,
                  "ARUN_SCRIPTS_DIR": self.scripts, "ARUN_PYTHON": harness.PYTHON,
                  "ARUN_CONCURRENCY": str(ARGS.concurrency), "ARUN_HEARTBEAT_TTL": "1s",
                  "ARUN_KILL_GRACE_MS": "300", "ARUN_DRAIN_TIMEOUT": "10s",
                  "ARUN_LOG_LEVEL": "info", "SOAK_LOG": self.runs_log, "SOAK_LOCKS": self.locks,
                  "SOAK_GRANDCHILDREN": "1" if ARGS.grandchildren else "0", MARKER: self.marker,
                  # scripts see only allowlisted variables and these
                  "ARUN_CHILD_ENV": ",".join(["SOAK_LOG", "SOAK_LOCKS", "SOAK_GRANDCHILDREN",
                                              MARKER])})
        return e

    def start_worker(self, i):
        self.worker_n += 1
        logf = open(os.path.join(self.tmp, "worker-%03d.log" % self.worker_n), "wb")
        wrapper = shlex.split(os.environ.get("ARUN_WORKER_WRAPPER", ""))
        self.workers[i] = subprocess.Popen([*wrapper, harness.WORKER], env=self.env(),
                                           stdout=logf, stderr=subprocess.STDOUT)
        logf.close()

    def job_processes(self):
        """pids of processes that belong to a job of this soak."""
        found = []
        want = ("%s=%s" % (MARKER, self.marker)).encode()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read().split(b"\0")
                with open("/proc/%s/stat" % d) as f:
                    state = f.read().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if want in env and any(v.startswith(b"ARUN_JOB_ID=") for v in env) and state != "Z":
                found.append(int(d))
        return found

    # --- threads ----------------------------------------------------------------

    def connect(self):
        while True:
            try:
                return Redis(self.server.port, timeout=10)
            except OSError:
                time.sleep(0.05)

    def command(self, *args):
        """One command, retried until Redis answers (it may be restarting)."""
        while True:
            with self.redis_lock:
                try:
                    c = Redis(self.server.port, timeout=10)
                    try:
                        return c(*args)
                    finally:
                        c.close()
                except (OSError, ConnectionError):
                    pass
            time.sleep(0.05)

    def pusher(self, t0):
        ids = list(range(ARGS.jobs))
        kinds = list(KINDS)
        weights = [KINDS[k][0] for k in kinds]
        span = ARGS.seconds * 0.6
        run = uuid.uuid4().hex[:6]
        c = None
        for n in ids:
            kind = self.rng.choices(kinds, weights)[0]
            jid = "soak-%s-%05d-%s" % (run, n, kind)
            req = {"id": jid, "script": kind, "trigger": "soak"}
            if kind == "slow":
                req["args"] = ["%.2f" % self.rng.uniform(0.1, 1.0)]
            elif kind == "hang":
                req["timeout_ms"] = self.rng.randint(200, 600)
            due = t0 + span * n / max(1, ARGS.jobs)
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            self.pushed[jid] = kind  # before the push: its event may come before RPUSH returns
            while True:
                with self.redis_lock:  # never pushed while Redis is being killed: no doubt whether it landed
                    try:
                        if c is None:
                            c = Redis(self.server.port, timeout=10)
                        c("RPUSH", "%s:queue:default" % PREFIX, json.dumps(req))
                        break
                    except (OSError, ConnectionError):
                        c = None
                time.sleep(0.05)
        if c:
            c.close()
        self.pushing = False

    def subscriber(self):
        ready = False
        while not self.stop_events.is_set():
            try:
                s = Redis(self.server.port, timeout=0.5)
                s("SUBSCRIBE", "%s:events" % PREFIX)
                self.subscribed.set()
                ready = True
                while not self.stop_events.is_set():
                    try:
                        msg = s.read()
                    except TimeoutError:  # socket.timeout: poll the stop flag
                        continue
                    if msg[0] == b"message":
                        ev = json.loads(msg[2])
                        if ev.get("id") in self.pushed:
                            self.events[ev["id"]].append(ev.get("status"))
                        else:
                            self.stray_events.append(ev)
            except (OSError, ConnectionError, RuntimeError):
                time.sleep(0.02 if ready else 0.05)

    def chaos(self, t0):
        restart_at = t0 + ARGS.seconds * self.rng.uniform(0.3, 0.5)
        restarted = ARGS.no_redis_restart
        next_kill = time.monotonic() + self.rng.uniform(0.5, 2)
        next_pause = time.monotonic() + self.rng.uniform(2, 5)
        while not self.stop_chaos.is_set() and time.monotonic() < t0 + ARGS.seconds:
            now = time.monotonic()
            if ARGS.pauses and now >= next_pause:
                self.pause_one()
                next_pause = time.monotonic() + self.rng.uniform(3, 6)
                continue
            if not restarted and now >= restart_at:
                restarted = True
                w0 = time.time()
                with self.redis_lock:
                    self.server.kill()
                    time.sleep(1)
                    self.server.start()
                self.restart_window = (w0, time.time())
                log("Redis killed and restarted (%.1f s down)" % (self.restart_window[1] - w0))
            if not ARGS.no_kill and now >= next_kill:
                i = self.rng.randrange(len(self.workers))
                p = self.workers[i]
                p.kill()
                p.wait()
                self.kills += 1
                self.start_worker(i)
                next_kill = now + self.rng.uniform(0.5, 2)
            for i, p in enumerate(self.workers):  # a worker that exited on its own is a failure
                if p.poll() is not None:
                    self.failures.append("worker %d exited by itself with %s" % (p.pid, p.returncode))
                    self.start_worker(i)
            time.sleep(0.05)

    def pause_one(self):
        """Freezes a worker and its jobs' process groups for 1.5-3 s (its
        heartbeat TTL is 1 s), then thaws them; records which job processes
        were frozen and when (monotonic ns, as runs.log)."""
        i = self.rng.randrange(len(self.workers))
        w = self.workers[i]
        kids = subprocess.run(["pgrep", "-P", str(w.pid)], capture_output=True,
                              text=True).stdout.split()
        groups = [int(k) for k in kids]
        w.send_signal(signal.SIGSTOP)
        for g in groups:
            try:
                os.killpg(g, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        t_stop = time.monotonic_ns()
        time.sleep(self.rng.uniform(1.5, 3))
        for g in groups:
            try:
                os.killpg(g, signal.SIGCONT)
            except ProcessLookupError:
                pass
        w.send_signal(signal.SIGCONT)
        t_cont = time.monotonic_ns()
        self.pauses += 1
        for g in groups:
            self.frozen[g] = (t_stop, t_cont)

    # --- the run ----------------------------------------------------------------

    def finished(self):
        if self.pushing:
            return False
        c = self.connect()
        try:
            busy = c("LLEN", "%s:queue:default" % PREFIX)
            for k in c("KEYS", "%s:processing:*" % PREFIX):
                busy += c("LLEN", k)
        except (OSError, ConnectionError, RuntimeError):
            return False
        finally:
            c.close()
        if busy:
            return False
        rows = self.rows()
        return rows is not None and all(jid in rows and rows[jid][0] != "running" for jid in self.pushed)

    def rows(self):
        if not os.path.exists(self.db):
            return {}
        try:
            con = sqlite3.connect(self.db, timeout=10)
            try:
                return {r[0]: (r[1], r[2]) for r in
                        con.execute("SELECT id, status, attempts FROM analytics_jobs")}
            finally:
                con.close()
        except sqlite3.Error:
            return None

    def run(self):
        log("seed %s, %d jobs, %.0f s, %d workers x %d, folder %s" % (
            ARGS.seed, ARGS.jobs, ARGS.seconds, ARGS.workers, ARGS.concurrency, self.tmp))
        self.server.start()
        self.subscribed = threading.Event()
        sub = threading.Thread(target=self.subscriber, daemon=True)
        sub.start()
        self.subscribed.wait(10)
        for i in range(ARGS.workers):
            self.start_worker(i)
        t0 = time.monotonic()
        push = threading.Thread(target=self.pusher, args=(t0,), daemon=True)
        chaos = threading.Thread(target=self.chaos, args=(t0,), daemon=True)
        push.start()
        chaos.start()
        chaos.join()
        push.join()
        soak_end = time.monotonic()
        log("soak over after %.1f s: %d pushed, %d worker kills; waiting for the last jobs" % (
            soak_end - t0, len(self.pushed), self.kills))
        deadline = soak_end + ARGS.grace
        done = False
        while time.monotonic() < deadline:
            if self.finished():
                done = True
                break
            for i, p in enumerate(self.workers):
                if p.poll() is not None:
                    self.failures.append("worker %d exited by itself with %s" % (p.pid, p.returncode))
                    self.start_worker(i)
            time.sleep(0.2)
        self.drained_after = time.monotonic() - t0
        if not done:
            self.failures.append("not finished %.0f s after the soak" % ARGS.grace)
        time.sleep(0.5)  # the last events
        for p in self.workers:
            p.send_signal(signal.SIGTERM)
        for p in self.workers:
            try:
                rc = p.wait(30)
                if rc != 0:
                    self.failures.append("worker %d exited %s on SIGTERM" % (p.pid, rc))
            except subprocess.TimeoutExpired:
                self.failures.append("worker %d did not exit within 30 s of SIGTERM" % p.pid)
                p.kill()
                p.wait()
        self.stop_events.set()
        sub.join(5)
        self.check()

    # --- checks -----------------------------------------------------------------

    def fail(self, what, items=()):
        items = list(items)
        if items:
            what += ": %d, e.g. %s" % (len(items), ", ".join(map(str, items[:5])))
        self.failures.append(what)

    def check(self):
        # processes: give those of SIGKILLed workers a moment to be reaped
        try:
            left = wait_for(lambda: not self.job_processes() or None, 3, what="")
        except AssertionError:
            left = None
        if left is None:
            pids = self.job_processes()
            self.fail("job processes left running", pids)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        rows = self.rows() or {}
        c = self.connect()
        leftovers = {"queue": c("LLEN", "%s:queue:default" % PREFIX), "dead": c("LLEN", "%s:dead" % PREFIX)}
        for k in c("KEYS", "%s:processing:*" % PREFIX):
            leftovers[k.decode()] = c("LLEN", k)
        for k, n in leftovers.items():
            if n:
                self.fail("%s not empty: %d" % (k, n))
        results = {}
        for jid in self.pushed:
            raw = c("GET", "%s:result:%s" % (PREFIX, jid))
            results[jid] = json.loads(raw)["status"] if raw else None
        c.close()

        runs = collections.defaultdict(list)  # id -> [(what, pid, t)]
        if os.path.exists(self.runs_log):
            with open(self.runs_log) as f:
                for line in f:
                    jid, what, pid, t = line.split()
                    runs[jid].append((what, int(pid), int(t)))

        lost = [j for j in self.pushed if j not in rows]
        running = [j for j in self.pushed if j in rows and rows[j][0] == "running"]
        unknown = [j for j in rows if j not in self.pushed]
        wrong, no_result, bad_events, missed_events, overlaps, no_end, ran_rejected, too_many = ([] for _ in range(8))
        for jid, kind in self.pushed.items():
            if jid not in rows:
                continue
            status, attempts = rows[jid]
            if status == "running":
                continue
            expect = KINDS[kind][1]
            if status != expect and not (status == "failed" and attempts and attempts > 1):
                wrong.append("%s=%s/attempts %s" % (jid, status, attempts))
            if results[jid] != status:
                no_result.append("%s result %s row %s" % (jid, results[jid], status))
            evs = self.events.get(jid, [])
            if any(s != status for s in evs):
                bad_events.append("%s events %s row %s" % (jid, evs, status))
            if not evs:
                missed_events.append(jid)
            r = runs.get(jid, [])
            for w, pid, t in r:
                if not w.startswith("overlap"):
                    continue
                holder = int(w.split(":")[1]) if ":" in w else 0
                window = self.frozen.get(holder)
                # waiting on a frozen run is the takeover; the frozen run
                # must be gone within the TTL (1 s) + 0.5 s of its thaw:
                # its own end (it may finish by itself once thawed), or the
                # waiter's start (the lock freed by its death). A waiter
                # killed before either (its worker was killed) says nothing
                # against it.
                marks = [tt for ww, pp, tt in r if (pp == holder and ww == "end") or
                         (pp == pid and ww == "start")]
                if window and window[0] <= t and (not marks or min(marks) <= window[1] + 1_500_000_000):
                    self.waited_on_frozen += 1
                else:
                    overlaps.append(jid)
            starts = [x for x in r if x[0] == "start"]
            ends = [x for x in r if x[0] == "end"]
            if status in ("success", "error") and not ends:
                no_end.append(jid)
            if status == "rejected" and starts:
                ran_rejected.append(jid)
            if attempts is not None and len(starts) > max(attempts, 1):
                too_many.append("%s %d runs, attempts %d" % (jid, len(starts), attempts))
        if lost:
            self.fail("lost (no row)", lost)
        if running:
            self.fail("rows still running", running)
        if unknown:
            self.fail("rows for ids never pushed", unknown)
        if wrong:
            self.fail("wrong final status", wrong)
        if no_result:
            self.fail("result key missing or disagreeing", no_result)
        if bad_events:
            self.fail("events disagreeing with the row", bad_events)
        if self.stray_events:
            self.fail("events for ids never pushed", [e.get("id") for e in self.stray_events])
        if overlaps:
            self.fail("ran concurrently with itself", overlaps)
        if no_end:
            self.fail("success/error row without a finished run", no_end)
        if ran_rejected:
            self.fail("rejected job ran", ran_rejected)
        if too_many:
            self.fail("more runs than deliveries", too_many)
        # events: the subscriber misses what is published while it resubscribes
        # after the Redis restart; anything else missing is a failure
        excused = []
        if missed_events and self.restart_window:
            lo, hi = self.restart_window
            con = sqlite3.connect(self.db, timeout=10)
            for jid in missed_events:
                (done_at,) = con.execute("SELECT completed_at FROM analytics_jobs WHERE id = ?",
                                         (jid,)).fetchone()
                t = datetime.datetime.strptime(done_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
                if lo - 1 <= t <= hi + 5:
                    excused.append(jid)
            con.close()
            missed_events = [j for j in missed_events if j not in excused]
        if missed_events:
            self.fail("no event seen", missed_events)

        by_status = collections.Counter(s for j, (s, _) in rows.items() if j in self.pushed)
        redelivered = sum(1 for j, (_, a) in rows.items() if j in self.pushed and a and a > 1)
        runs_total = sum(1 for r in runs.values() for x in r if x[0] == "start")
        log("pushed %d; final rows %d (%s); redelivered (attempts>1) %d; runs %d; lost %d" % (
            len(self.pushed), sum(by_status.values()) - by_status.get("running", 0),
            ", ".join("%s %d" % kv for kv in sorted(by_status.items())), redelivered, runs_total,
            len(lost)))
        log("worker kills %d; Redis restarts %d; events missed during the Redis restart %d; "
            "drained %.1f s after start" % (self.kills, 1 if self.restart_window else 0,
                                            len(excused), self.drained_after))
        if ARGS.pauses:
            log("workers paused past their heartbeat %d; runs that waited for a frozen run "
                "(takeovers) %d; concurrent runs %d" % (self.pauses, self.waited_on_frozen,
                                                       len(overlaps)))
        if self.failures:
            for f in self.failures:
                log("FAIL: " + f)
            log("FAILED (folder kept: %s)" % self.tmp)
            return 1
        log("OK")
        return 0


def main():
    if ARGS.seed is None:
        ARGS.seed = random.randrange(1 << 30)
    if not os.access(harness.WORKER, os.X_OK):
        print("soak: no worker at %s (build first, or --build DIR)" % harness.WORKER, file=sys.stderr)
        return 2
    s = Soak()
    rc = 2
    try:
        s.run()
        rc = 1 if s.failures else 0
    finally:
        for p in s.workers:
            if p and p.poll() is None:
                p.kill()
                p.wait()
        s.server.cleanup()
        if rc == 0 and not ARGS.keep:
            shutil.rmtree(s.tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
