#!/usr/bin/python3
"""arun benchmarks (issue 5): each figure side by side with a bare spawner
(bench/spawn_bare.c) in the same run. Standard library only.

    bench/run.sh [--full] [--reps N] [--no-build] [--only NAME,...]

Builds (cmake, build dir ARUN_BUILD_DIR or ./build), starts its own
redis-server on a free loopback port in a temp folder, and for each
scenario starts a fresh arun-worker (temp SQLite, scripts dir with noop.py
and big.py, ARUN_LOG_LEVEL=warn). Prints a table; writes bench/out/results.json.

Scenarios (--only): burst, true, latency, latency_true, rss_big, scaling, backlog, store, push,
warm (ARUN_PRELOAD: jobs forked from a warm interpreter).
"""
import argparse
import calendar
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Redis, free_port  # noqa: E402  (the tests' RESP client)
PYTHON = "/usr/bin/python3"
TICK = os.sysconf("SC_CLK_TCK")

NOOP_PY = 'print("ok")\n'
# what a warm interpreter imports once for the "heavy" script (which imports
# them): about 60 ms of imports for /usr/bin/python3 here
HEAVY_MODULES = ("sqlite3,statistics,json,decimal,asyncio,email.mime.multipart,http.client,"
                 "xml.etree.ElementTree,csv,argparse")
BIG_PY = (
    "import os\n"
    "chunk = b'x' * 65535 + b'\\n'\n"
    "for _ in range(20 * 1024 * 1024 // 65536):\n"
    "    os.write(1, chunk)\n"
)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- Redis ----

class RedisServer:
    def __init__(self, aof):
        self.dir = tempfile.mkdtemp(prefix="arun-bench-redis-")
        self.port = free_port()
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--maxmemory-policy", "noeviction",
                "--appendonly", "yes" if aof else "no", "--appendfsync", "everysec"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                c = Redis(self.port, timeout=1)
                if c("PING") == "PONG":
                    c.close()
                    break
            except (OSError, RuntimeError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------- /proc -------

def cpu_us(pid):
    """(user, sys) CPU seconds of pid itself (not its reaped children)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def cpu_s(pid):
    return sum(cpu_us(pid))


def cpu_all(pid):
    """CPU seconds of pid and of the children it has reaped."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def machine_busy_s():
    """CPU seconds the whole machine spent busy (all CPUs)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / TICK  # all but idle and iowait


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


# ------------------------------------------------------------ arun ---------

class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.environ.get("ARUN_BUILD_DIR", os.path.join(ROOT, "build"))
        self.tmp = tempfile.mkdtemp(prefix="arun-bench-")
        self.scripts = os.path.join(self.tmp, "scripts")
        os.makedirs(self.scripts)
        with open(os.path.join(self.scripts, "noop.py"), "w") as f:
            f.write(NOOP_PY)
        with open(os.path.join(self.scripts, "big.py"), "w") as f:
            f.write(BIG_PY)
        with open(os.path.join(self.scripts, "heavy.py"), "w") as f:
            f.write("import %s\n" % HEAVY_MODULES)
        self.redis = RedisServer(args.aof)
        self.r = Redis(self.redis.port, timeout=60)
        self.seq = 0

    def close(self):
        self.r.close()
        self.redis.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tool(self, name):
        return os.path.join(self.build, "bench", name)

    # -- the bare spawner
    def bare(self, n, k, cmd):
        m0 = machine_busy_s()
        out = subprocess.run([self.tool("spawn_bare"), "-n", str(n), "-k", str(k), "--"] + cmd,
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        m1 = machine_busy_s()
        res = json.loads(out)
        res["foreign_cpu_s"] = (m1 - m0) - res["cpu_s"] - res["children_cpu_s"]
        return res

    def noop_cmd(self, python=PYTHON):
        return [python, os.path.join(self.scripts, "noop.py")]

    # -- a worker
    def start_worker(self, k, python=PYTHON, queues="default", env_extra=None, warm=None):
        """A worker with concurrency k; with warm (modules), in warm mode,
        returned once its warm interpreter is ready."""
        self.seq += 1
        prefix = "b%d" % self.seq
        db = os.path.join(self.tmp, "w%d.db" % self.seq)
        env = dict(os.environ)
        env.update({
            "ARUN_REDIS_URL": self.redis.url, "ARUN_PREFIX": prefix, "ARUN_DB": db,
            "ARUN_SCRIPTS_DIR": self.scripts, "ARUN_PYTHON": python,
            "ARUN_CONCURRENCY": str(k), "ARUN_LOG_LEVEL": "warn", "ARUN_QUEUES": queues,
            "ARUN_TAKE_AHEAD": str(self.args.take_ahead),
        })
        env.update(env_extra or {})
        log_path = None
        if warm:
            env.update({"ARUN_PRELOAD": warm, "ARUN_LOG_LEVEL": "info"})
            log_path = os.path.join(self.tmp, "w%d.log" % self.seq)
        wrap = os.environ.get("ARUN_BENCH_WRAPPER", "").split()  # e.g. valgrind --tool=callgrind
        logf = open(log_path, "wb") if log_path else None
        proc = subprocess.Popen(wrap + [os.path.join(self.build, "worker", "arun-worker")], env=env,
                                stderr=logf)
        if logf:
            logf.close()
            deadline = time.monotonic() + 60
            while b"warm interpreter ready" not in open(log_path, "rb").read():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the warm interpreter did not start")
                time.sleep(0.02)
        deadline = time.monotonic() + 60
        while not self.r("KEYS", prefix + ":worker:*"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("arun-worker did not start")
            time.sleep(0.01)
        time.sleep(0.1)  # let it issue its first BLMOVE
        sub = Redis(self.redis.port, timeout=60)
        sub("SUBSCRIBE", prefix + ":events")
        tracer = None
        if os.environ.get("ARUN_BENCH_STRACE"):  # a file: strace -c of the worker
            tracer = subprocess.Popen(["strace", "-c", "-o", os.environ["ARUN_BENCH_STRACE"],
                                       "-p", str(proc.pid)], stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        return {"proc": proc, "prefix": prefix, "db": db, "sub": sub, "tracer": tracer}

    def stop_worker(self, w):
        w["sub"].close()
        if w["tracer"]:
            w["tracer"].send_signal(signal.SIGINT)
            w["tracer"].wait(10)
        w["proc"].send_signal(signal.SIGTERM)
        w["proc"].wait(60)

    def request(self, prefix, job_id, script="noop"):
        return json.dumps({"id": job_id, "script": script, "trigger": "bench"})

    def wait_events(self, w, ids):
        """Reads events until every id in ids is seen; returns {id: (time, event)}."""
        want = set(ids)
        seen = {}
        while want:
            msg = w["sub"].read()
            t = time.monotonic()
            ev = json.loads(msg[2])
            if ev["id"] in want:
                want.discard(ev["id"])
                seen[ev["id"]] = (t, ev)
        return seen

    def arun_burst(self, n, k, python=PYTHON, warm=None, script="noop"):
        """n jobs pushed at once (pipelined RPUSH); returns throughput, CPU, RSS."""
        w = self.start_worker(k, python, warm=warm)
        pid = w["proc"].pid
        ids = ["%s-%d" % (w["prefix"], i) for i in range(n)]
        payload = b"".join(Redis.encode("RPUSH", w["prefix"] + ":queue:default",
                                        self.request(w["prefix"], i, script)) for i in ids)
        c0w, c0r = cpu_s(pid), cpu_s(self.redis.proc.pid)
        u0 = cpu_us(pid)
        a0, m0 = cpu_all(pid), machine_busy_s()
        t0 = time.monotonic()
        self.r.send_raw(payload)
        for _ in ids:
            self.r.read()
        seen = self.wait_events(w, ids)
        t1 = max(t for t, _ in seen.values())
        c1w, c1r = cpu_s(pid), cpu_s(self.redis.proc.pid)
        u1 = cpu_us(pid)
        a1, m1 = cpu_all(pid), machine_busy_s()
        hwm = status_kb(pid, "VmHWM")
        self.stop_worker(w)
        bad = sum(1 for _, ev in seen.values() if ev["status"] != "success")
        if bad:
            raise RuntimeError("%d of %d jobs did not succeed" % (bad, n))
        wall = t1 - t0
        return {"jobs": n, "k": k, "wall_s": wall, "jobs_per_s": n / wall,
                "worker_cpu_ms_per_job": (c1w - c0w) * 1000 / n,
                "worker_user_ms_per_job": (u1[0] - u0[0]) * 1000 / n,
                "worker_sys_ms_per_job": (u1[1] - u0[1]) * 1000 / n,
                "redis_cpu_ms_per_job": (c1r - c0r) * 1000 / n,
                "cpu_ms_per_job": ((c1w - c0w) + (c1r - c0r)) * 1000 / n,
                "worker_vmhwm_kb": hwm,
                # CPU the rest of the machine used meanwhile (other users): noise
                "foreign_cpu_s": (m1 - m0) - (a1 - a0) - (c1r - c0r)}

    # ------------------------------------------------------ scenarios ----

    def sc_burst(self, n=None, python=PYTHON, name="burst"):
        n = n or self.args.jobs
        reps = []
        for rep in range(self.args.reps):
            order = ("arun", "bare") if rep % 2 == 0 else ("bare", "arun")
            res = {}
            for what in order:
                if what == "arun":
                    res["arun"] = self.arun_burst(n, 2, python)
                else:
                    res["bare"] = self.bare(n, 2, self.noop_cmd(python))
            res["ratio"] = res["arun"]["jobs_per_s"] / res["bare"]["jobs_per_s"]
            log("  %s rep %d: arun %.1f/s, bare %.1f/s, ratio %.3f, cpu %.3f ms/job, "
                "hwm %d kB; foreign CPU %.1f s (arun) %.1f s (bare)" % (
                    name, rep + 1, res["arun"]["jobs_per_s"], res["bare"]["jobs_per_s"],
                    res["ratio"], res["arun"]["cpu_ms_per_job"], res["arun"]["worker_vmhwm_kb"],
                    res["arun"]["foreign_cpu_s"], res["bare"]["foreign_cpu_s"]))
            reps.append(res)
        med = lambda f: statistics.median(f(r) for r in reps)
        return {
            "jobs": n, "k": 2, "python": python, "reps": reps,
            "arun_jobs_per_s": med(lambda r: r["arun"]["jobs_per_s"]),
            "bare_jobs_per_s": med(lambda r: r["bare"]["jobs_per_s"]),
            "ratio_median": med(lambda r: r["ratio"]),
            "cpu_ms_per_job": med(lambda r: r["arun"]["cpu_ms_per_job"]),
            "worker_cpu_ms_per_job": med(lambda r: r["arun"]["worker_cpu_ms_per_job"]),
            "redis_cpu_ms_per_job": med(lambda r: r["arun"]["redis_cpu_ms_per_job"]),
            "bare_cpu_ms_per_job": med(lambda r: r["bare"]["cpu_ms_per_job"]),
            "worker_vmhwm_kb_max": max(r["arun"]["worker_vmhwm_kb"] for r in reps),
        }

    def sc_true(self):
        return self.sc_burst(self.args.true_jobs, "/bin/true", "true")

    def sc_latency(self, python=PYTHON, name="latency"):
        m = self.args.latency_jobs
        reps = []
        for rep in range(self.args.reps):
            w = self.start_worker(1, python)
            lat = []
            for i in range(m):
                jid = "%s-lat-%d" % (w["prefix"], i)
                t0 = time.monotonic()
                self.r("RPUSH", w["prefix"] + ":queue:default", self.request(w["prefix"], jid))
                t1, _ = self.wait_events(w, [jid])[jid]
                lat.append((t1 - t0) * 1000)
            self.stop_worker(w)
            bare = self.bare(m, 1, self.noop_cmd(python))
            lat.sort()
            a50, a99 = lat[len(lat) // 2], lat[int(0.99 * (len(lat) - 1) + 0.5)]
            res = {"arun_p50_ms": a50, "arun_p99_ms": a99, "bare_p50_ms": bare["lat_p50_ms"],
                   "bare_p99_ms": bare["lat_p99_ms"]}
            res["extra_p50_ms"] = a50 - bare["lat_p50_ms"]
            res["extra_p99_ms"] = a99 - bare["lat_p99_ms"]
            log("  %s rep %d: arun p50 %.2f p99 %.2f, bare p50 %.2f p99 %.2f ms" % (
                name, rep + 1, a50, a99, bare["lat_p50_ms"], bare["lat_p99_ms"]))
            reps.append(res)
        med = lambda key: statistics.median(r[key] for r in reps)
        return {"jobs_per_rep": m, "reps": reps,
                **{key: med(key) for key in reps[0]}}

    def sc_latency_true(self):
        """K=1 push to event with /bin/true: arun's own hops, without a
        Python start-up whose run-to-run spread hides them."""
        return self.sc_latency("/bin/true", "latency_true")

    def sc_warm(self):
        """Warm start: a noop burst forked from a warm interpreter against the
        bare spawner starting Python afresh; K=1 latency warm; a script that
        imports heavy modules, fresh against warm (both through arun)."""
        n, reps = self.args.jobs, []
        for rep in range(self.args.reps):
            res = {"warm": self.arun_burst(n, 2, warm="json"),
                   "bare": self.bare(n, 2, self.noop_cmd())}
            res["ratio"] = res["warm"]["jobs_per_s"] / res["bare"]["jobs_per_s"]
            w = self.start_worker(1, warm="json")
            lat = []
            for i in range(self.args.latency_jobs):
                jid = "%s-wlat-%d" % (w["prefix"], i)
                t0 = time.monotonic()
                self.r("RPUSH", w["prefix"] + ":queue:default", self.request(w["prefix"], jid))
                t1, _ = self.wait_events(w, [jid])[jid]
                lat.append((t1 - t0) * 1000)
            self.stop_worker(w)
            lat.sort()
            res["warm_p50_ms"] = lat[len(lat) // 2]
            res["warm_p99_ms"] = lat[int(0.99 * (len(lat) - 1) + 0.5)]
            m = max(50, n // 10)
            res["heavy_fresh"] = self.arun_burst(m, 2, script="heavy")
            res["heavy_warm"] = self.arun_burst(m, 2, warm=HEAVY_MODULES, script="heavy")
            res["heavy_ratio"] = res["heavy_warm"]["jobs_per_s"] / res["heavy_fresh"]["jobs_per_s"]
            log("  warm rep %d: noop warm %.1f/s vs bare fresh %.1f/s (x%.2f), cpu %.3f ms/job; "
                "K=1 p50 %.2f p99 %.2f ms; heavy imports fresh %.1f/s warm %.1f/s (x%.1f)" % (
                    rep + 1, res["warm"]["jobs_per_s"], res["bare"]["jobs_per_s"], res["ratio"],
                    res["warm"]["cpu_ms_per_job"], res["warm_p50_ms"], res["warm_p99_ms"],
                    res["heavy_fresh"]["jobs_per_s"], res["heavy_warm"]["jobs_per_s"],
                    res["heavy_ratio"]))
            reps.append(res)
        med = lambda f: statistics.median(f(r) for r in reps)
        return {"jobs": n, "reps": reps, "modules": HEAVY_MODULES,
                "warm_jobs_per_s": med(lambda r: r["warm"]["jobs_per_s"]),
                "bare_jobs_per_s": med(lambda r: r["bare"]["jobs_per_s"]),
                "ratio_median": med(lambda r: r["ratio"]),
                "warm_cpu_ms_per_job": med(lambda r: r["warm"]["cpu_ms_per_job"]),
                "warm_p50_ms": med(lambda r: r["warm_p50_ms"]),
                "warm_p99_ms": med(lambda r: r["warm_p99_ms"]),
                "heavy_fresh_jobs_per_s": med(lambda r: r["heavy_fresh"]["jobs_per_s"]),
                "heavy_warm_jobs_per_s": med(lambda r: r["heavy_warm"]["jobs_per_s"]),
                "heavy_ratio_median": med(lambda r: r["heavy_ratio"])}

    def sc_rss_big(self):
        w = self.start_worker(2)
        pid = w["proc"].pid
        idle = status_kb(pid, "VmHWM")
        jid = w["prefix"] + "-big"
        self.r("RPUSH", w["prefix"] + ":queue:default", self.request(w["prefix"], jid, "big"))
        _, ev = self.wait_events(w, [jid])[jid]
        hwm = status_kb(pid, "VmHWM")
        result = self.r("GET", w["prefix"] + ":result:" + jid)
        self.stop_worker(w)
        stored = len(json.loads(result)["stdout"])
        log("  rss_big: idle %d kB, after a 20 MB job %d kB (status %s, %d bytes kept)" % (
            idle, hwm, ev["status"], stored))
        return {"idle_vmhwm_kb": idle, "vmhwm_kb": hwm, "status": ev["status"],
                "stdout_kept_bytes": stored}

    def sc_scaling(self):
        out = []
        for k in (1, 2, 4, 8):
            n = self.args.scaling_jobs
            a = self.arun_burst(n, k)
            b = self.bare(n, k, self.noop_cmd())
            row = {"k": k, "jobs": n, "arun_jobs_per_s": a["jobs_per_s"],
                   "bare_jobs_per_s": b["jobs_per_s"], "ratio": a["jobs_per_s"] / b["jobs_per_s"],
                   "cpu_ms_per_job": a["cpu_ms_per_job"],
                   "worker_cpu_ms_per_job": a["worker_cpu_ms_per_job"],
                   "redis_cpu_ms_per_job": a["redis_cpu_ms_per_job"],
                   "bare_cpu_ms_per_job": b["cpu_ms_per_job"],
                   "worker_vmhwm_kb": a["worker_vmhwm_kb"]}
            log("  scaling K=%d: arun %.1f/s bare %.1f/s ratio %.3f cpu %.3f ms/job" % (
                k, row["arun_jobs_per_s"], row["bare_jobs_per_s"], row["ratio"],
                row["cpu_ms_per_job"]))
            out.append(row)
        return out

    def probe(self, w, n, gap_s, tag):
        """Pushes n probe jobs on the 'urgent' queue one after another;
        returns push->take (from the row's created_at, ms resolution) and
        push->event latencies in ms."""
        take, done = [], []
        for i in range(n):
            jid = "%s-probe-%s-%d" % (w["prefix"], tag, i)
            t_wall = time.time()
            t0 = time.monotonic()
            self.r("RPUSH", w["prefix"] + ":queue:urgent", self.request(w["prefix"], jid))
            t1, ev = self.wait_events(w, [jid])[jid]
            done.append((t1 - t0) * 1000)
            created = ev["created_at"]
            ts = calendar.timegm(time.strptime(created[:19], "%Y-%m-%dT%H:%M:%S"))
            ts += int(created[20:23]) / 1000
            take.append(max(0.0, (ts - t_wall) * 1000))
            if os.environ.get("BENCH_DEBUG"): log(t_wall, created, ev["duration_ms"])
            time.sleep(gap_s)
        take.sort()
        done.sort()
        p = lambda v, q: v[int(q * (len(v) - 1) + 0.5)]
        return {"push_to_take_p50_ms": p(take, .5), "push_to_take_p99_ms": p(take, .99),
                "push_to_event_p50_ms": p(done, .5), "push_to_event_p99_ms": p(done, .99)}

    def sc_backlog(self):
        n = self.args.probes
        w = self.start_worker(2, queues="urgent,default")
        idle = self.probe(w, n, 0.01, "idle")
        backlog = self.args.backlog
        key = w["prefix"] + ":queue:default"
        for start in range(0, backlog, 1000):
            payload = b"".join(Redis.encode("RPUSH", key, self.request(
                w["prefix"], "%s-bl-%d" % (w["prefix"], i))) for i in range(start, min(backlog, start + 1000)))
            self.r.send_raw(payload)
            for _ in range(start, min(backlog, start + 1000)):
                self.r.read()
        time.sleep(0.5)
        busy = self.probe(w, n, 0.03, "busy")
        depth = self.r("LLEN", key)
        self.r("DEL", key)
        self.stop_worker(w)
        log("  backlog: idle push->take p50 %.1f ms; with %d queued p50 %.1f p99 %.1f ms "
            "(depth at end %d)" % (idle["push_to_take_p50_ms"], backlog,
                                   busy["push_to_take_p50_ms"], busy["push_to_take_p99_ms"], depth))
        return {"queued": backlog, "depth_after": depth, "probes": n, "idle": idle,
                "backlogged": busy}

    def sc_store(self):
        db = os.path.join(self.tmp, "store.db")
        out = subprocess.run([self.tool("store_query"), "-g", str(self.args.rows), db],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        res = json.loads(out)
        res["db_mb"] = os.path.getsize(db) / 1e6
        os.unlink(db)
        log("  store: %d rows; latest 50 p50 %.3f ms, of one script %.3f ms" % (
            self.args.rows, res["latest_all"]["p50_ms"], res["latest_script"]["p50_ms"]))
        return res

    def sc_push(self):
        n = self.args.pushes
        key = "bpush:queue:default"
        self.r("DEL", key)
        path = os.path.join(self.tmp, "push.resp")
        batches = []  # (bytes, commands) per 10,000 requests
        with open(path, "wb") as f:
            for start in range(0, n, 10000):
                data = b"".join(Redis.encode("RPUSH", key, json.dumps(
                    {"id": "push-%08d" % i, "script": "noop", "args": ["--day", "2026-01-02"],
                     "trigger": "api"})) for i in range(start, min(n, start + 10000)))
                f.write(data)
                batches.append((len(data), min(n, start + 10000) - start))
        req_len = len(json.dumps({"id": "push-%08d" % 0, "script": "noop",
                                  "args": ["--day", "2026-01-02"], "trigger": "api"}))
        mem0 = self.info_mem()
        t0 = time.monotonic()
        with open(path, "rb") as f:
            subprocess.run(["redis-cli", "-p", str(self.redis.port), "--pipe"], stdin=f,
                           check=True, stdout=subprocess.DEVNULL)
        t1 = time.monotonic()
        mem1 = self.info_mem()
        length = self.r("LLEN", key)
        # the same pushes from this Python client, pipelined 10,000 at a time
        self.r("DEL", key)
        t2 = time.monotonic()
        with open(path, "rb") as f:
            for size, count in batches:
                self.r.send_raw(f.read(size))
                for _ in range(count):
                    self.r.read()
        t3 = time.monotonic()
        self.r("DEL", key)
        os.unlink(path)
        res = {"pushes": n, "request_bytes": req_len, "list_length": length,
               "redis_cli_pipe_per_s": n / (t1 - t0), "python_pipelined_per_s": n / (t3 - t2),
               "redis_bytes_per_request": (mem1 - mem0) / n}
        log("  push: %d requests, %.0f/s (redis-cli --pipe), %.0f/s (python pipelined), "
            "%.1f bytes each in Redis (request %d bytes)" % (
                n, res["redis_cli_pipe_per_s"], res["python_pipelined_per_s"],
                res["redis_bytes_per_request"], req_len))
        return res

    def info_mem(self):
        info = self.r("INFO", "memory").decode()
        for line in info.splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1])
        raise RuntimeError("no used_memory")


# ------------------------------------------------------------- report ------

def machine():
    info = {"uname": " ".join(os.uname()), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
        info["redis"] = subprocess.run(["redis-server", "--version"], stdout=subprocess.PIPE,
                                       text=True).stdout.strip()
        info["python"] = subprocess.run([PYTHON, "--version"], stdout=subprocess.PIPE,
                                        text=True).stdout.strip()
        info["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
    except OSError:
        pass
    return info


def table(res, args):
    rows = []

    def add(metric, target, arun, bare, ratio, ok):
        rows.append((metric, target, arun, bare, ratio, "yes" if ok else "NO"))
    if "burst" in res:
        b = res["burst"]
        add("burst %d noop, K=2: jobs/s" % b["jobs"], ">= 0.97x bare", "%.1f" % b["arun_jobs_per_s"],
            "%.1f" % b["bare_jobs_per_s"], "%.3f" % b["ratio_median"], b["ratio_median"] >= 0.97)
        add("runner CPU/job (worker+redis)", "<= 0.2 ms", "%.3f ms" % b["cpu_ms_per_job"],
            "%.3f ms" % b["bare_cpu_ms_per_job"], "w %.3f + r %.3f" % (
                b["worker_cpu_ms_per_job"], b["redis_cpu_ms_per_job"]), b["cpu_ms_per_job"] <= 0.2)
        add("worker peak RSS, burst", "<= 5 MB", "%.1f MB" % (b["worker_vmhwm_kb_max"] / 1024),
            "", "", b["worker_vmhwm_kb_max"] <= 5 * 1024)
    if "true" in res:
        b = res["true"]
        add("burst %d /bin/true, K=2: jobs/s" % b["jobs"], ">= 0.6x bare",
            "%.1f" % b["arun_jobs_per_s"], "%.1f" % b["bare_jobs_per_s"],
            "%.3f" % b["ratio_median"], b["ratio_median"] >= 0.6)
        add("runner CPU/job, /bin/true", "(info)", "%.3f ms" % b["cpu_ms_per_job"],
            "%.3f ms" % b["bare_cpu_ms_per_job"], "w %.3f + r %.3f" % (
                b["worker_cpu_ms_per_job"], b["redis_cpu_ms_per_job"]), True)
    if "latency" in res:
        l = res["latency"]
        add("K=1 push->event p50", "<= bare + 1 ms", "%.2f ms" % l["arun_p50_ms"],
            "%.2f ms" % l["bare_p50_ms"], "%+.2f ms" % l["extra_p50_ms"], l["extra_p50_ms"] <= 1)
        add("K=1 push->event p99", "<= bare + 1 ms", "%.2f ms" % l["arun_p99_ms"],
            "%.2f ms" % l["bare_p99_ms"], "%+.2f ms" % l["extra_p99_ms"], l["extra_p99_ms"] <= 1)
    if "latency_true" in res:
        l = res["latency_true"]
        add("K=1 /bin/true push->event p50", "<= bare + 0.5 ms", "%.2f ms" % l["arun_p50_ms"],
            "%.2f ms" % l["bare_p50_ms"], "%+.2f ms" % l["extra_p50_ms"], l["extra_p50_ms"] <= 0.5)
        add("K=1 /bin/true push->event p99", "(info)", "%.2f ms" % l["arun_p99_ms"],
            "%.2f ms" % l["bare_p99_ms"], "%+.2f ms" % l["extra_p99_ms"], True)
    if "rss_big" in res:
        r = res["rss_big"]
        add("worker peak RSS, one 20 MB job", "<= 8 MB", "%.1f MB" % (r["vmhwm_kb"] / 1024),
            "", "idle %.1f MB" % (r["idle_vmhwm_kb"] / 1024), r["vmhwm_kb"] <= 8 * 1024)
    if "store" in res:
        s = res["store"]
        add("latest 50, %d rows (p50/p99)" % s["rows_generated"], "<= 5 ms",
            "%.3f / %.3f ms" % (s["latest_all"]["p50_ms"], s["latest_all"]["p99_ms"]), "",
            "first %.3f ms" % s["latest_all"]["first_ms"], s["latest_all"]["p99_ms"] <= 5)
        add("latest 50 of one script (p50/p99)", "<= 5 ms",
            "%.3f / %.3f ms" % (s["latest_script"]["p50_ms"], s["latest_script"]["p99_ms"]), "",
            "first %.3f ms" % s["latest_script"]["first_ms"], s["latest_script"]["p99_ms"] <= 5)
    if "push" in res:
        p = res["push"]
        add("push %d requests" % p["pushes"], "reported", "%.0f/s" % p["redis_cli_pipe_per_s"],
            "", "python %.0f/s" % p["python_pipelined_per_s"], True)
        add("Redis memory per pending request", "reported",
            "%.0f B" % p["redis_bytes_per_request"], "", "request %d B" % p["request_bytes"], True)
    if "backlog" in res:
        b = res["backlog"]
        add("push->take, idle (priority queue)", "(info)",
            "p50 %.1f p99 %.1f ms" % (b["idle"]["push_to_take_p50_ms"],
                                       b["idle"]["push_to_take_p99_ms"]), "", "", True)
        add("push->take, %d queued" % b["queued"], "(info)",
            "p50 %.1f p99 %.1f ms" % (b["backlogged"]["push_to_take_p50_ms"],
                                       b["backlogged"]["push_to_take_p99_ms"]), "", "", True)
    if "warm" in res:
        w = res["warm"]
        add("warm noop burst, K=2: jobs/s", ">= 5x bare", "%.1f" % w["warm_jobs_per_s"],
            "%.1f" % w["bare_jobs_per_s"], "%.2f" % w["ratio_median"], w["ratio_median"] >= 5)
        add("warm K=1 push->event p50", "<= 3 ms", "%.2f ms" % w["warm_p50_ms"], "",
            "p99 %.2f ms" % w["warm_p99_ms"], w["warm_p50_ms"] <= 3)
        add("heavy imports, warm vs fresh", ">= 10x", "%.1f/s" % w["heavy_warm_jobs_per_s"],
            "fresh %.1f/s" % w["heavy_fresh_jobs_per_s"], "%.1f" % w["heavy_ratio_median"],
            w["heavy_ratio_median"] >= 10)
    head = ("metric", "target", "arun", "bare", "ratio / note", "met")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    lines = [" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) for r in [head] + rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    if "scaling" in res:
        lines.append("")
        lines.append("K | arun jobs/s | bare jobs/s | ratio | CPU ms/job (worker+redis) | bare CPU ms/job")
        for s in res["scaling"]:
            lines.append("%d | %.1f | %.1f | %.3f | %.3f (%.3f + %.3f) | %.3f" % (
                s["k"], s["arun_jobs_per_s"], s["bare_jobs_per_s"], s["ratio"],
                s["cpu_ms_per_job"], s["worker_cpu_ms_per_job"], s["redis_cpu_ms_per_job"],
                s["bare_cpu_ms_per_job"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true",
                    help="more repetitions, 1,000,000 pushes (default 100,000)")
    ap.add_argument("--reps", type=int, help="repetitions (default 3, --full 5)")
    ap.add_argument("--jobs", type=int, default=2000, help="noop jobs per burst (2000)")
    ap.add_argument("--true-jobs", type=int, default=5000, help="/bin/true jobs per burst (5000)")
    ap.add_argument("--latency-jobs", type=int, default=200, help="jobs per latency rep (200)")
    ap.add_argument("--scaling-jobs", type=int, default=1000, help="jobs per K in scaling (1000)")
    ap.add_argument("--rows", type=int, default=1000000, help="rows for the store queries")
    ap.add_argument("--pushes", type=int, help="requests pushed (100,000; --full 1,000,000)")
    ap.add_argument("--backlog", type=int, default=10000, help="queued jobs for the probe (10000)")
    ap.add_argument("--probes", type=int, default=50, help="probe jobs (50)")
    ap.add_argument("--no-aof", dest="aof", action="store_false",
                    help="Redis without the append-only file (default: appendonly yes, everysec)")
    ap.add_argument("--take-ahead", type=int, default=0,
                    help="ARUN_TAKE_AHEAD of every worker (default 0)")
    ap.add_argument("--only", help="comma-separated scenarios")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "out", "results.json"))
    args = ap.parse_args()
    args.reps = args.reps or (5 if args.full else 3)
    args.pushes = args.pushes or (1000000 if args.full else 100000)
    build = os.environ.get("ARUN_BUILD_DIR", os.path.join(ROOT, "build"))
    if not args.no_build:
        subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                        "-DARUN_BENCH=ON"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "-j2", "--target", "arun-worker", "spawn_bare",
                        "store_query"], check=True, stdout=subprocess.DEVNULL)
    order = ["burst", "true", "latency", "latency_true", "rss_big", "scaling", "backlog", "store", "push", "warm"]
    only = args.only.split(",") if args.only else order
    b = Bench(args)
    results = {"machine": machine(), "args": vars(args),
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        for name in order:
            if name in only:
                log("%s ..." % name)
                results[name] = getattr(b, "sc_" + name)()
                os.makedirs(os.path.dirname(args.out), exist_ok=True)
                with open(args.out, "w") as f:
                    json.dump(results, f, indent=2)
    finally:
        b.close()
    results["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    results["table"] = table(results, args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(results["table"])
    print("\nresults: %s" % args.out)


if __name__ == "__main__":
    main()
