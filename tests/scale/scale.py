#!/usr/bin/env python3
"""Scale-out harness: several worker hosts against one Redis, simulated for
real with network namespaces (netlab.py), as root. Not part of ctest: run it
with tests/scale/run.sh (docs/scaling.md has the method and figures).

Phases, each with a fresh Redis and key prefix:
  throughput  N = 1, 2, 3 hosts take JOBS cheap jobs (ARUN_PYTHON=/bin/true)
  cut         a host is cut off mid-job (its veth down, its processes
              SIGSTOPped): its jobs must end on the other hosts after the
              heartbeat timeout; then it comes back (SIGCONT, veth up) and
              must neither record nor announce the jobs taken over (fencing)
  redis       Redis is SIGKILLed under load and restarted from its AOF
              (appendfsync always): no job lost, none recorded twice
Checks on every phase: each job has exactly one final row across all the
hosts' databases (a missing one is lost, a second one is a duplicate).
Exit 0 when every check passes, 1 when one fails (lost, duplicate, or a
fencing failure), 2 on bad usage or when it cannot run here.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import PYTHON, Redis  # noqa: E402  (the tests' RESP client, python3)
import netlab  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "integration", "fixtures")


class UnixRedis(Redis):
    """The harness's RESP client over the hub's unix socket (the harness
    stays in the root namespace; Redis listens only inside the hub)."""

    def __init__(self, path, timeout=10.0):  # pylint: disable=super-init-not-called
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""


def wait_until(pred, timeout, every=0.05):
    """Polls pred, bounded in time; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(every)


def cpu_seconds(pid):
    """utime + stime of pid (its own, not its children's), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Harness:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.worker_bin = os.path.join(self.build, "worker", "arun-worker")
        self.rundir = args.rundir
        self.lab = None
        self.failures = []
        self.figures = {}
        self.phase_no = 0

    # --- set-up ---------------------------------------------------------------------

    def open_lab(self, nhosts, fsync="everysec"):
        self.close_lab()
        shutil.rmtree(self.rundir, ignore_errors=True)
        os.makedirs(self.rundir)
        self.lab = netlab.Lab(self.rundir)
        for i in range(1, nhosts + 1):
            self.lab.add_host(i, FIXTURES)
        self.lab.start_redis(fsync)
        self.r = self.connect(20)
        self.phase_no += 1
        self.prefix = "scale%d" % self.phase_no

    def close_lab(self):
        if self.lab:
            self.lab.close()
            self.lab = None

    def connect(self, timeout):
        def up():
            try:
                c = UnixRedis(self.lab.sock, timeout=10)
                if c("PING") == "PONG":
                    return c
                c.close()
            except (OSError, RuntimeError, ConnectionError):
                return None
            return None
        c = wait_until(up, timeout, 0.05)
        if not c:
            raise RuntimeError("redis-server did not come up (see %s/redis.log)" % self.rundir)
        return c

    def start_worker(self, i, python, concurrency, ttl="15s", extra=None):
        h = self.lab.hosts[i]
        env = dict(os.environ)
        env.update({"ARUN_REDIS_URL": self.lab.redis_url, "ARUN_PREFIX": self.prefix,
                    "ARUN_DB": os.path.join(h["home"], "arun.db"),
                    "ARUN_SCRIPTS_DIR": h["scripts"], "ARUN_PYTHON": python,
                    "ARUN_CONCURRENCY": str(concurrency), "ARUN_HEARTBEAT_TTL": ttl,
                    "ARUN_KILL_GRACE_MS": "500", "ARUN_LOG_LEVEL": "info"})
        env.update(extra or {})
        log = open(os.path.join(h["home"], "worker.log"), "ab")
        argv = [self.worker_bin]
        if self.args.pin:  # host i gets one CPU of its own (while there are enough)
            argv = ["taskset", "-c", str((i - 1) % os.cpu_count()), *argv]
        p = subprocess.Popen(self.lab.host_cmd(i, argv), env=env, stdout=log,
                             stderr=subprocess.STDOUT)
        log.close()
        h["workers"].append(p)
        return p

    def wait_workers(self, n, timeout=20):
        ok = wait_until(lambda: len(self.r("KEYS", self.prefix + ":worker:*")) >= n, timeout)
        if not ok:
            raise RuntimeError("%d workers did not register in %ds" % (n, timeout))

    def stop_workers(self):
        for h in self.lab.hosts.values():
            for p in h["workers"]:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in h["workers"]:
                try:
                    p.wait(40)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            h["workers"] = []

    # --- what the databases say ---------------------------------------------------------

    def db_rows(self, i):
        path = os.path.join(self.lab.hosts[i]["home"], "arun.db")
        if not os.path.exists(path):
            return []
        con = sqlite3.connect(path, timeout=10)
        try:
            return con.execute("SELECT id, status, worker FROM analytics_jobs").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()

    def finals(self):
        """{id: [(host, worker), ...]} of every final row on every host."""
        out = {}
        for i in self.lab.hosts:
            for job_id, status, worker in self.db_rows(i):
                if status != "running":
                    out.setdefault(job_id, []).append((i, worker))
        return out

    def check_exactly_once(self, phase, ids):
        finals = self.finals()
        lost = [j for j in ids if j not in finals]
        dup = {j: v for j, v in finals.items() if j in ids and len(v) > 1}
        if lost:
            self.fail(phase, "%d jobs lost (no final row on any host), e.g. %s"
                      % (len(lost), lost[:5]))
        if dup:
            some = list(dup.items())[:3]
            self.fail(phase, "%d jobs with more than one final row across the databases, "
                      "e.g. %s" % (len(dup), some))
        return finals, lost, dup

    def fail(self, phase, what):
        self.failures.append("%s: %s" % (phase, what))
        print("  FAIL %s" % what, flush=True)

    def push(self, ids, script, args=(), timeout_ms=60000):
        data = b"".join(Redis.encode("RPUSH", self.prefix + ":queue:default", json.dumps(
            {"id": j, "script": script, "args": list(args), "timeout_ms": timeout_ms,
             "trigger": "scale", "queue": "default"})) for j in ids)
        self.r.send_raw(data)
        for _ in ids:
            self.r.read()

    # --- phases --------------------------------------------------------------------------

    def phase_throughput(self):
        a = self.args
        results = []
        # (hosts, slots per host): N hosts, then the control: one host with
        # the slots of N, which tells more hosts from more slots
        runs = [(n, a.concurrency) for n in (1, 2, 3)]
        if not a.pin:
            runs += [(1, n * a.concurrency) for n in (2, 3)]
        for rep in range(a.repeat):  # interleaved, so that the load of the
            for n, slots in runs:     # shared machine weighs on each alike
                results.append(self.throughput_run(n, slots, rep))
        self.figures["throughput"] = results
        for n, slots in runs:
            rates = sorted(f["jobs_per_s"] for f in results
                           if f["hosts"] == n and f["slots_per_host"] == slots)
            print("  N=%d x %d slots: median %.0f jobs/s over %d runs"
                  % (n, slots, rates[len(rates) // 2], len(rates)), flush=True)

    def throughput_run(self, n, slots, rep):
        """One run of a.jobs cheap jobs on n hosts; returns its figures."""
        a = self.args
        self.open_lab(n)
        workers = [self.start_worker(i, "/bin/true", slots) for i in range(1, n + 1)]
        self.wait_workers(n)
        ids = ["tp%d-%d-%d-%05d" % (n, slots, rep, k) for k in range(a.jobs)]
        sub = self.subscribe()
        load0 = os.getloadavg()[0]
        cpu0 = [cpu_seconds(p.pid) for p in workers] + [cpu_seconds(self.lab.redis.pid)]
        t0 = time.monotonic()
        self.push(ids, "echo")
        seen = self.collect_events(sub, set(ids), a.max_seconds)
        done = len(seen) == len(ids)
        elapsed = (max(seen.values()) if seen else time.monotonic()) - t0
        sub.close()
        cpu1 = [cpu_seconds(p.pid) for p in workers] + [cpu_seconds(self.lab.redis.pid)]
        finals, _, _ = self.check_exactly_once("throughput N=%d" % n, ids)
        per_host = {i: sum(1 for v in finals.values() for h, _ in v if h == i)
                    for i in self.lab.hosts}
        fig = {"hosts": n, "slots_per_host": slots, "run": rep + 1, "jobs": a.jobs,
               "cpus_per_host": 1 if a.pin else os.cpu_count(), "seconds": round(elapsed, 3),
               "jobs_per_s": round(a.jobs / elapsed, 1), "per_host": per_host,
               "arun_cpu_ms_per_job": round(1000 * (sum(cpu1) - sum(cpu0)) / a.jobs, 3),
               "redis_cpu_ms_per_job": round(1000 * (cpu1[-1] - cpu0[-1]) / a.jobs, 3),
               "loadavg_before": round(load0, 2), "complete": done}
        print("  N=%d x %d slots, run %d: %d jobs in %.2f s = %.0f jobs/s; per host %s; "
              "workers+redis CPU %.3f ms/job (redis %.3f); load before %.2f"
              % (n, slots, rep + 1, a.jobs, elapsed, a.jobs / elapsed, per_host,
                 fig["arun_cpu_ms_per_job"], fig["redis_cpu_ms_per_job"], load0),
              flush=True)
        if not done:
            self.fail("throughput N=%d" % n, "not done in %ds" % a.max_seconds)
        self.stop_workers()
        return fig

    def subscribe(self):
        sub = UnixRedis(self.lab.sock, timeout=1)
        sub("SUBSCRIBE", self.prefix + ":events")
        return sub

    @staticmethod
    def collect_events(sub, want, seconds):
        """{id: arrival time} of the completion events of want, until all
        have come or seconds have passed."""
        seen = {}
        deadline = time.monotonic() + seconds
        while len(seen) < len(want) and time.monotonic() < deadline:
            try:
                msg = sub.read()
            except (socket.timeout, TimeoutError):
                continue
            if msg[0] == b"message":
                j = json.loads(msg[2])["id"]
                if j in want and j not in seen:
                    seen[j] = time.monotonic()
        return seen

    def final_count(self):
        n = 0
        for i in self.lab.hosts:
            path = os.path.join(self.lab.hosts[i]["home"], "arun.db")
            if not os.path.exists(path):
                continue
            con = sqlite3.connect(path, timeout=10)
            try:
                n += con.execute("SELECT COUNT(*) FROM analytics_jobs "
                                 "WHERE status != 'running'").fetchone()[0]
            except sqlite3.OperationalError:
                pass
            finally:
                con.close()
        return n

    def processing(self):
        keys = self.r("KEYS", self.prefix + ":processing:*")
        return {k.decode().split(":processing:", 1)[1]: [json.loads(x)["id"] for x in
                                                         self.r("LRANGE", k, 0, -1)]
                for k in keys}

    def phase_cut(self):
        a = self.args
        self.open_lab(3)
        ttl_ms = 3000
        for i in (1, 2, 3):
            self.start_worker(i, PYTHON, 2, ttl="%dms" % ttl_ms)
        self.wait_workers(3)
        sub = self.subscribe()
        events = []  # (monotonic time, id)

        def drain():
            while True:
                try:
                    msg = sub.read()
                except (socket.timeout, TimeoutError):
                    return
                if msg[0] == b"message":
                    events.append((time.monotonic(), json.loads(msg[2])["id"]))

        ids = ["cut-%02d" % k for k in range(a.cut_jobs)]
        self.push(ids, "sleepy", [str(a.job_seconds)])
        # host 3 is cut while it holds jobs that are running
        held = {}

        def host3_busy():
            held.clear()
            for wid, jobs in self.processing().items():
                if wid.startswith("host3:") and jobs:
                    held[wid] = jobs
            running = [r for r in self.db_rows(3) if r[1] == "running"]
            return held and running
        if not wait_until(host3_busy, 30):
            self.fail("cut", "host 3 never held a running job")
            return
        time.sleep(0.3)  # its children are past their start
        host3_busy()
        cut_worker, stolen = next(iter(held.items()))
        t_cut = time.monotonic()
        self.lab.link(3, False)
        frozen = self.lab.freeze(3, True)
        print("  host 3 (%s) cut off holding %d jobs: %s; %d processes frozen"
              % (cut_worker, len(stolen), stolen, len(frozen)), flush=True)
        # every job ends on hosts 1 and 2
        requeued = []

        def progress():
            drain()
            if not requeued and not self.processing().get(cut_worker):
                requeued.append(time.monotonic())  # a peer put its requests back
            return len(self.finals()) >= len(ids)
        done = wait_until(progress,
                          ttl_ms / 1000 + a.cut_jobs * a.job_seconds + 30, 0.1)
        t_done = time.monotonic()
        recovered_at = [t for t, j in events if j in stolen]
        t_requeued = requeued[0] - t_cut if requeued else -1
        print("  its requests put back by a peer %.1f s after the cut; all %d jobs final "
              "%.1f s after the cut; the cut host's jobs ended elsewhere "
              "%.1f-%.1f s after the cut (heartbeat TTL %.1f s, jobs of %.1f s)"
              % (t_requeued, len(ids), t_done - t_cut,
                 min(recovered_at) - t_cut if recovered_at else -1,
                 max(recovered_at) - t_cut if recovered_at else -1, ttl_ms / 1000,
                 a.job_seconds), flush=True)
        if not done:
            self.fail("cut", "jobs not all final %ds after the cut" % (t_done - t_cut))
        before = {j: [h for h, _ in v] for j, v in self.finals().items() if j in stolen}
        elsewhere = all(3 not in hs for hs in before.values()) and len(before) == len(stolen)
        if not elsewhere:
            self.fail("cut", "the cut host's jobs did not all end on other hosts: %s" % before)
        # it comes back
        t_back = time.monotonic()
        self.lab.freeze(3, False)
        self.lab.link(3, True)
        settle = a.job_seconds + 2 * ttl_ms / 1000 + 3
        print("  host 3 back (SIGCONT, veth up); watching it for %.0f s" % settle, flush=True)
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:  # bounded: the settle time
            drain()
            time.sleep(0.1)
        sub.close()
        late = [j for t, j in events if t >= t_back and j in stolen]
        finals, _, dup = self.check_exactly_once("cut", ids)
        host3_final = [j for j in stolen if any(h == 3 for h, _ in finals.get(j, []))]
        host3_rows = {r[0]: r[1] for r in self.db_rows(3) if r[0] in stolen}
        results = {j: json.loads(self.r("GET", "%s:result:%s" % (self.prefix, j)) or "{}")
                   .get("worker") for j in stolen}
        overwritten = [j for j, w in results.items() if w == cut_worker]
        fenced = not host3_final and not late and not overwritten
        if not fenced:
            self.fail("cut", "fencing: after coming back the cut host recorded %d of the jobs "
                      "taken over (%s), announced %d (%s), and overwrote %d results"
                      % (len(host3_final), host3_final, len(late), late, len(overwritten)))
        self.figures["cut"] = {
            "heartbeat_ttl_s": ttl_ms / 1000, "job_seconds": a.job_seconds, "jobs": len(ids),
            "held_by_cut_host": len(stolen), "requeued_after_s": round(t_requeued, 2),
            "recovered_after_s": [round(t - t_cut, 2) for t in sorted(recovered_at)],
            "all_final_after_s": round(t_done - t_cut, 2),
            "cut_host_rows_of_taken_jobs": host3_rows,
            "cut_host_final_rows_of_taken_jobs": len(host3_final),
            "events_after_return": len(late), "results_overwritten": len(overwritten),
            "duplicates": len(dup), "fenced": fenced}
        print("  after the return: cut host's rows of the jobs taken over: %s; events for "
              "them after the return: %d; results overwritten by it: %d"
              % (host3_rows, len(late), len(overwritten)), flush=True)
        # the host works again
        more = ["cut-after-%02d" % k for k in range(6)]
        self.push(more, "echo")
        if not wait_until(lambda: all(j in self.finals() for j in more), 30):
            self.fail("cut", "jobs pushed after the return did not all end")
        self.stop_workers()

    def phase_redis(self):
        a = self.args
        self.open_lab(3, fsync="always")
        for i in (1, 2, 3):
            self.start_worker(i, "/bin/true", a.concurrency, ttl="10s")
        self.wait_workers(3)
        ids = ["rr-%05d" % k for k in range(a.jobs)]
        self.push(ids, "echo")
        if not wait_until(lambda: self.final_count() >= a.jobs // 3, a.max_seconds, 0.01):
            self.fail("redis", "a third of the jobs did not end before the restart")
        done_at_kill = self.final_count()
        self.r.close()
        t_kill = time.monotonic()
        self.lab.stop_redis(signal.SIGKILL)
        self.lab.start_redis("always")
        self.r = self.connect(30)
        t_up = time.monotonic()
        print("  redis-server SIGKILLed with %d of %d jobs final, back from its AOF in "
              "%.2f s" % (done_at_kill, a.jobs, t_up - t_kill), flush=True)
        done = wait_until(lambda: self.final_count() >= a.jobs, a.max_seconds, 0.05)
        # and everything is acknowledged: queue and processing lists empty
        drained = wait_until(lambda: self.r("LLEN", self.prefix + ":queue:default") == 0 and
                             not any(self.processing().values()), 30, 0.1)
        _, lost, dup = self.check_exactly_once("redis", ids)
        if not done:
            self.fail("redis", "jobs not all final %ds after the restart" % a.max_seconds)
        if not drained:
            self.fail("redis", "requests left in the queue or a processing list")
        self.figures["redis"] = {"jobs": a.jobs, "final_at_kill": done_at_kill,
                                 "down_s": round(t_up - t_kill, 2), "lost": len(lost),
                                 "duplicates": len(dup), "drained": bool(drained)}
        print("  after the restart: %d lost, %d with two final rows, queues %s"
              % (len(lost), len(dup), "empty" if drained else "NOT empty"), flush=True)
        self.stop_workers()

    def run(self):
        phases = {"throughput": self.phase_throughput, "cut": self.phase_cut,
                  "redis": self.phase_redis}
        for name in self.args.phases.split(","):
            print("== %s" % name, flush=True)
            try:
                phases[name]()
            except Exception as e:  # one phase's breakage is reported, the rest still runs
                self.fail(name, "harness error: %r" % e)
            finally:
                self.close_lab()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--rundir", default="/tmp/arunscale-run",
                    help="work folder (emptied at start, removed at the end unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs, databases)")
    ap.add_argument("--phases", default="throughput,cut,redis")
    ap.add_argument("--jobs", type=int, default=3000, help="jobs per throughput/redis run")
    ap.add_argument("--concurrency", type=int, default=2, help="job slots per host")
    ap.add_argument("--cut-jobs", type=int, default=12)
    ap.add_argument("--job-seconds", type=float, default=4.0, help="length of a cut-phase job")
    ap.add_argument("--max-seconds", type=int, default=120, help="bound on each wait for jobs")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs per N")
    ap.add_argument("--pin", action="store_true",
                    help="pin host i (worker and jobs) to CPU (i-1) mod CPUs")
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("scale.py: needs root (network namespaces)", file=sys.stderr)
        return 2
    if not set(a.phases.split(",")) <= {"throughput", "cut", "redis"} or not 1 <= a.jobs <= 10**6 \
            or not 1 <= a.repeat <= 20:
        print("scale.py: bad --phases or --jobs", file=sys.stderr)
        return 2
    for tool in ("ip", "unshare", "taskset", "redis-server"):
        if not shutil.which(tool):
            print("scale.py: %s not found" % tool, file=sys.stderr)
            return 2
    h = Harness(a)
    if not os.access(h.worker_bin, os.X_OK):
        print("scale.py: no worker at %s (build first)" % h.worker_bin, file=sys.stderr)
        return 2
    def on_term(signum, frame):
        raise SystemExit(1)  # the finally below removes namespaces and processes
    signal.signal(signal.SIGTERM, on_term)
    netlab.clean_leftovers()
    print("machine: %d CPUs, shared by every simulated host (and by whatever else runs here); "
          "load average %.2f" % (os.cpu_count(), os.getloadavg()[0]), flush=True)
    try:
        h.run()
    finally:
        h.close_lab()
        netlab.clean_leftovers()
        if not a.keep:
            shutil.rmtree(a.rundir, ignore_errors=True)
    h.figures["cpus"] = os.cpu_count()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(h.figures, f, indent=1)
    print("== summary")
    for name in a.phases.split(","):
        bad = [x for x in h.failures if x.startswith(name)]
        print("  %-10s %s" % (name, "FAIL" if bad else "pass"))
        for x in bad:
            print("      " + x)
    return 1 if h.failures else 0


if __name__ == "__main__":
    sys.exit(main())
