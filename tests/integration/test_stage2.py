"""The worker's second stage against a real worker and Redis: usage in the
row, result and event; per-job limits (rlimits) with their stderr note;
live output of a watched job; the durable completion stream read by a
consumer group that is killed halfway through a 1,000-job burst."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

from harness import ArunTestCase, PYTHON, WORKER, Redis, wait_for

CONSUMER = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from harness import Redis
port, stream, out = int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = Redis(port)
with open(out, "a") as f:
    start = "0"  # first what this consumer read but did not acknowledge
    while True:
        reply = r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "50", "BLOCK", "5000",
                  "STREAMS", stream, start)
        if not reply or not reply[0][1]:
            if start == "0":
                start = ">"
                continue
            break
        for entry_id, fields in reply[0][1]:
            f.write(json.loads(fields[1])["id"] + "\n")
            f.flush()
            r("XACK", stream, "g", entry_id)
'''


class UsageTests(ArunTestCase):
    def test_usage_in_row_result_and_event(self):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "use-1", "script": "spin", "args": ["0.3"]})
        self.push({"id": "use-rej", "script": "nope"})
        got = self.wait_events(sub, ["use-1", "use-rej"])
        ev, rej = got["use-1"], got["use-rej"]
        self.assertEqual(ev["status"], "success")
        self.assertGreaterEqual(ev["cpu_user_ms"] + ev["cpu_sys_ms"], 250)
        self.assertGreater(ev["max_rss_kb"], 1000)
        self.assertGreaterEqual(ev["started_at"], ev["created_at"])
        row = self.row("use-1")
        for k in ("cpu_user_ms", "cpu_sys_ms", "max_rss_kb", "started_at"):
            self.assertEqual(row[k], ev[k], k)
        self.assertEqual(json.loads(self.r("GET", self.key("result", "use-1")))["max_rss_kb"],
                         ev["max_rss_kb"])
        for k in ("cpu_user_ms", "cpu_sys_ms", "max_rss_kb", "started_at"):
            self.assertIsNone(rej[k], k)

    def test_unbuffered_by_default_and_the_workers_setting_wins(self):
        sub = self.subscribe()
        w = self.start_worker()
        self.push({"id": "env-1", "script": "printenv"})
        env = json.loads(self.wait_event(sub, "env-1") and self.row("env-1")["stdout"])
        self.assertEqual(env.get("PYTHONUNBUFFERED"), "1")
        self.stop_worker(w)
        self.start_worker(PYTHONUNBUFFERED="0")
        self.push({"id": "env-2", "script": "printenv"})
        self.wait_event(sub, "env-2")
        self.assertEqual(json.loads(self.row("env-2")["stdout"]).get("PYTHONUNBUFFERED"), "0")


class LimitTests(ArunTestCase):
    def ends_with_note(self, job_id, note):
        row = self.row(job_id)
        self.assertEqual(row["status"], "error", row["stderr"])
        self.assertTrue(row["stderr"].endswith(note + "\n"), row["stderr"][-300:])

    def test_memory_limit(self):
        sub = self.subscribe()
        self.start_worker(ARUN_MEMORY_LIMIT="200M")
        self.push({"id": "mem-big", "script": "memhog", "args": ["400"]})
        self.push({"id": "mem-small", "script": "memhog", "args": ["20"]})
        self.wait_events(sub, ["mem-big", "mem-small"])
        self.ends_with_note("mem-big", "arun: memory limit exceeded")
        self.assertEqual(self.row("mem-small")["status"], "success")

    def test_cpu_limit(self):
        sub = self.subscribe()
        self.start_worker(ARUN_CPU_LIMIT="1s")
        self.push({"id": "cpu-big", "script": "spin", "args": ["30"], "timeout_ms": 20000})
        ev = self.wait_event(sub, "cpu-big")
        self.assertEqual(ev["signal"], signal.SIGXCPU)
        self.ends_with_note("cpu-big", "arun: CPU limit exceeded")

    def test_process_limit(self):
        # RLIMIT_NPROC counts a user's processes and is not enforced for
        # root: the worker runs as nobody here, so the limit is real
        if os.getuid() != 0:
            self.skipTest("needs root to run the worker as another user (printed, not hidden)")
        os.chmod(self.tmp, 0o777)
        for root, dirs, files in os.walk(self.tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o777)
        sub = self.subscribe()
        self.start_worker(run_as=65534, ARUN_PIDS_LIMIT="8")
        # one after the other: the limit counts every process of the user
        self.push({"id": "pids-big", "script": "forker", "args": ["30"]})
        self.wait_event(sub, "pids-big")
        self.push({"id": "pids-small", "script": "forker", "args": ["2"]})
        self.wait_event(sub, "pids-small")
        self.ends_with_note("pids-big", "arun: process limit exceeded")
        self.assertEqual(self.row("pids-small")["status"], "success")

    def test_malformed_limits_stop_the_worker_with_the_variable_named(self):
        for var, value in [("ARUN_MEMORY_LIMIT", "12X"), ("ARUN_MEMORY_LIMIT", "1.5G"),
                           ("ARUN_CPU_LIMIT", "soon"), ("ARUN_PIDS_LIMIT", "-3")]:
            out = subprocess.run([WORKER], env=self.env(**{var: value}), capture_output=True,
                                 text=True, timeout=10)
            self.assertEqual(out.returncode, 2, (var, value, out.stderr))
            self.assertIn(var, out.stderr)


class LiveOutputTests(ArunTestCase):
    def test_watched_job_streams_its_output_then_end(self):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "live-1", "script": "chatty", "args": ["30", "0.05"]})
        self.wait_row("live-1", "running")
        self.r("SET", self.key("watch", "live-1"), 1, "EX", 60)
        self.r("PUBLISH", self.key("watch"), "live-1")
        out, err, end, last = b"", b"", None, "0-0"
        deadline = time.monotonic() + 30
        while end is None and time.monotonic() < deadline:
            reply = self.r("XREAD", "BLOCK", "2000", "STREAMS", self.key("output", "live-1"), last)
            for entry_id, fields in (reply[0][1] if reply else []):
                last = entry_id
                f = dict(zip(fields[::2], fields[1::2]))
                if f[b"fd"] == b"stdout":
                    out += f[b"data"]
                elif f[b"fd"] == b"stderr":
                    err += f[b"data"]
                else:
                    end = json.loads(f[b"data"])
        self.assertIsNotNone(end, "an end entry")
        self.assertEqual(end["id"], "live-1")
        self.assertEqual(end["status"], "success")
        self.assertEqual(out.decode(), "".join("line %d\n" % i for i in range(30)))
        self.assertEqual(err.decode(), "".join("err %d\n" % i for i in range(0, 30, 5)))
        self.assertGreater(self.r("TTL", self.key("output", "live-1")), 0)
        self.wait_event(sub, "live-1")

    def test_unwatched_job_writes_no_output_stream(self):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "quiet-1", "script": "chatty", "args": ["5", "0.01"]})
        self.wait_event(sub, "quiet-1")
        self.assertEqual(self.r("EXISTS", self.key("output", "quiet-1")), 0)

    def test_watch_set_before_the_job_starts(self):
        sub = self.subscribe()
        self.start_worker()
        self.r("SET", self.key("watch", "live-2"), 1, "EX", 60)
        self.push({"id": "live-2", "script": "echo", "args": ["hello"]})
        self.wait_event(sub, "live-2")
        entries = self.r("XRANGE", self.key("output", "live-2"), "-", "+")
        kinds = [dict(zip(f[::2], f[1::2]))[b"fd"] for _, f in entries]
        self.assertEqual(kinds[-1], b"end")
        self.assertIn(b"stdout", kinds)


class StreamTests(ArunTestCase):
    def test_consumer_group_killed_halfway_reads_every_job(self):
        n = 1000
        stream = self.key("stream", "events")
        self.r("XGROUP", "CREATE", stream, "g", "$", "MKSTREAM")
        out = os.path.join(self.tmp, "seen.txt")
        here = os.path.dirname(os.path.abspath(__file__))
        consumer = [PYTHON, "-c", CONSUMER, here, str(self.server.port), stream, out]
        c = subprocess.Popen(consumer)
        self.start_worker(ARUN_PYTHON="/bin/true", ARUN_CONCURRENCY="4", ARUN_LOG_LEVEL="warn")
        ids = ["burst-%04d" % i for i in range(n)]
        for i in range(0, n, 100):
            self.r.send_raw(b"".join(Redis.encode("RPUSH", self.key("queue", "default"),
                                                  json.dumps({"id": j, "script": "echo"}))
                                     for j in ids[i:i + 100]))
            for _ in range(100):
                self.r.read()

        def seen():
            with open(out) as f:
                return set(f.read().split())
        wait_for(lambda: os.path.exists(out) and len(seen()) >= n // 2, 60, what="half")
        c.kill()
        c.wait()
        c = subprocess.Popen(consumer)
        wait_for(lambda: len(seen()) == n, 90, every=0.2, what="every job id")
        c.kill()
        c.wait()
        self.assertEqual(seen(), set(ids))
        self.assertGreaterEqual(self.r("XLEN", stream), n)


if __name__ == "__main__":
    unittest.main()
