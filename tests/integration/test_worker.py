"""arun-worker against a real redis-server and SQLite file: running,
capturing, timing out, rejecting and dead-lettering jobs."""
import json
import os
import signal
import subprocess
import time
import unittest

from harness import ArunTestCase, WORKER, pid_alive, read_pid, wait_for


class RunTests(ArunTestCase):

    def test_success_captures_output_env_and_trigger(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "ok-1", "script": "echo", "args": ["a b", "--x", "ü"], "trigger": "api"})
        ev = self.wait_event(sub, "ok-1")
        self.assertEqual(ev["event"], "job.completed")
        self.assertEqual(ev["status"], "success")
        self.assertEqual(ev["exit_code"], 0)
        self.assertEqual(ev["trigger"], "api")
        row = self.row("ok-1")  # committed before the event was published
        self.assertEqual(row["status"], "success")
        self.assertEqual(row["trigger_type"], "api")
        self.assertEqual(row["script"], "echo")
        self.assertEqual(row["stderr"], "to stderr\n")
        out = json.loads(row["stdout"])
        self.assertEqual(out["argv"], ["a b", "--x", "ü"])  # verbatim, no shell
        self.assertEqual(out["job_id"], "ok-1")
        self.assertEqual(out["trigger"], "api")
        self.assertEqual(out["db"], os.path.realpath(self.db))
        self.assertRegex(row["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertRegex(row["completed_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertGreaterEqual(row["duration_ms"], 0)
        res = self.result("ok-1")
        self.assertEqual(res["stdout"], row["stdout"])
        self.assertEqual(res["args"], ["a b", "--x", "ü"])
        ttl = self.r("TTL", self.key("result", "ok-1"))
        self.assertTrue(0 < ttl <= 86400, ttl)
        wait_for(lambda: not any(self.processing_lists().values()), 5, what="ack")

    def test_nonzero_exit_is_error_with_code(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "err-1", "script": "echo.py", "args": ["--exit", "3"]})
        ev = self.wait_event(sub, "err-1")
        self.assertEqual((ev["status"], ev["exit_code"]), ("error", 3))
        self.assertEqual(self.row("err-1")["exit_code"], 3)

    def test_exit_by_signal_is_error_without_exit_code(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "sig-1", "script": "self_kill", "args": ["11"]})
        ev = self.wait_event(sub, "sig-1")
        self.assertEqual(ev["status"], "error")
        self.assertIsNone(ev["exit_code"])
        self.assertEqual(ev["signal"], 11)
        self.assertIsNone(self.row("sig-1")["exit_code"])

    def test_timeout_kills_sleeping_script(self):
        self.start_worker()
        sub = self.subscribe()
        t0 = time.monotonic()
        self.push({"id": "to-1", "script": "sleepy", "args": ["10"], "timeout_ms": 100})
        ev = self.wait_event(sub, "to-1")
        self.assertEqual(ev["status"], "timeout")
        self.assertIsNone(ev["exit_code"])
        self.assertLess(time.monotonic() - t0, 5)
        self.assertGreaterEqual(ev["duration_ms"], 100)

    def test_grandchild_is_dead_after_timeout(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "gc-1", "script": "grandchild", "timeout_ms": 300})
        self.assertEqual(self.wait_event(sub, "gc-1")["status"], "timeout")
        gpid = read_pid(os.path.join(self.tmp, "grandchild.pid"))
        wait_for(lambda: not pid_alive(gpid), 5, what="grandchild to die")

    def test_grandchild_is_dead_after_parent_exits(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "gc-2", "script": "grandchild", "args": ["exit"]})
        self.assertEqual(self.wait_event(sub, "gc-2")["status"], "success")
        gpid = read_pid(os.path.join(self.tmp, "grandchild.pid"))
        wait_for(lambda: not pid_alive(gpid), 5, what="grandchild to die")

    def test_sigterm_ignoring_script_is_killed_after_grace(self):
        self.start_worker(ARUN_KILL_GRACE_MS=400)
        sub = self.subscribe()
        self.push({"id": "it-1", "script": "ignore_term", "timeout_ms": 200})
        ev = self.wait_event(sub, "it-1")
        self.assertEqual(ev["status"], "timeout")
        self.assertGreaterEqual(ev["duration_ms"], 600)  # deadline + grace
        pid = read_pid(os.path.join(self.tmp, "ignore_term.pid"))
        self.assertFalse(pid_alive(pid))

    def test_output_is_capped_and_marked(self):
        self.start_worker(ARUN_MAX_OUTPUT=1000)
        sub = self.subscribe()
        self.push({"id": "fl-1", "script": "flood", "args": ["200000"]})
        self.assertEqual(self.wait_event(sub, "fl-1")["status"], "success")
        row = self.row("fl-1")
        for stream in ("stdout", "stderr"):
            self.assertTrue(row[stream].startswith("x" * 1000), stream)
            self.assertIn("[arun: output truncated: kept 1000 of 200000 bytes]", row[stream])

    def test_closed_stdout_and_still_running(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "cs-1", "script": "close_stdout", "args": ["0.5"]})
        ev = self.wait_event(sub, "cs-1")
        self.assertEqual(ev["status"], "success")
        self.assertGreaterEqual(ev["duration_ms"], 500)
        self.assertEqual(self.row("cs-1")["stdout"], "before close\n")

    def test_unknown_and_traversal_scripts_are_rejected_never_run(self):
        self.start_worker()
        sub = self.subscribe()
        cases = {"rj-unknown": "nope", "rj-dotdot": "../outside/evil", "rj-abs": "/bin/true",
                 "rj-init": "__init__", "rj-empty": "", "rj-dots": "..", "rj-slash": "a/b"}
        for jid, script in cases.items():
            self.push({"id": jid, "script": script})
        for jid in cases:
            ev = self.wait_event(sub, jid)
            self.assertEqual(ev["status"], "rejected", jid)
            self.assertIsNone(ev["exit_code"])
            row = self.row(jid)
            self.assertEqual(row["status"], "rejected")
            self.assertTrue(row["stderr"], "a reason is recorded")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "evil-ran")))
        self.assertIn("not on the whitelist", self.row("rj-unknown")["stderr"])

    def test_malformed_requests_are_dead_lettered_and_worker_goes_on(self):
        w = self.start_worker()
        sub = self.subscribe()
        bad = ["not json", "[1,2]", json.dumps({"script": 5}),
               json.dumps({"id": "bad-args", "script": "echo", "args": "x"}),
               json.dumps({"id": "bad-to", "script": "echo", "timeout_ms": "5"}),
               json.dumps({"id": "bad id!", "script": "echo"}),
               b"\xff\xfe{not utf8"]
        for b in bad:
            self.push(b)
        self.push({"id": "after-bad", "script": "echo"})
        # the ones with a usable id are announced as rejected
        self.assertEqual(self.wait_event(sub, "bad-args")["status"], "rejected")
        self.assertEqual(self.wait_event(sub, "bad-to")["status"], "rejected")
        self.assertEqual(self.wait_event(sub, "after-bad")["status"], "success")
        dead = [json.loads(d) for d in self.r("LRANGE", self.key("dead"), 0, -1)]
        self.assertEqual(len(dead), len(bad))
        for d in dead:
            self.assertTrue(d["reason"])
        requests = {d["request"] for d in dead}
        self.assertIn("not json", requests)
        b64 = [d for d in dead if "request_base64" in d]
        self.assertEqual(len(b64), 1)
        self.assertIn("field 'args' must be an array", self.row("bad-args")["stderr"])
        self.assertIsNone(w.poll())

    def test_request_without_id_gets_one(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"script": "echo"})
        ev = self.next_event(sub)
        self.assertRegex(ev["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(ev["status"], "success")
        self.assertEqual(json.loads(self.row(ev["id"])["stdout"])["job_id"], ev["id"])

    def test_redelivered_finished_job_is_acknowledged_not_rerun(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "once", "script": "marker", "args": ["m1"]})
        self.assertEqual(self.wait_event(sub, "once")["status"], "success")
        os.unlink(os.path.join(self.tmp, "m1"))
        self.push({"id": "once", "script": "marker", "args": ["m1"]})
        self.assertEqual(self.wait_event(sub, "once")["status"], "success")  # event re-sent
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "m1")), "ran twice")

    def test_priority_queues(self):
        self.push({"id": "low-1", "script": "echo"}, queue="low")
        self.push({"id": "high-1", "script": "echo"}, queue="high")
        sub = self.subscribe()
        self.start_worker(ARUN_QUEUES="high,low", ARUN_CONCURRENCY=1)
        first = self.next_event(sub)["id"]
        second = self.next_event(sub)["id"]
        self.assertEqual((first, second), ("high-1", "low-1"))
        self.assertEqual(self.row("low-1")["queue"], "low")
        # an idle worker also picks up a job pushed later to a lower queue
        self.push({"id": "low-2", "script": "echo"}, queue="low")
        self.assertEqual(self.wait_event(sub, "low-2")["status"], "success")

    def test_new_script_is_seen_without_restart(self):
        self.start_worker()
        sub = self.subscribe()
        with open(os.path.join(self.scripts, "fresh.py"), "w") as f:
            f.write("print('fresh')\n")
        self.push({"id": "fresh-1", "script": "fresh"})
        self.assertEqual(self.wait_event(sub, "fresh-1")["status"], "success")
        os.unlink(os.path.join(self.scripts, "fresh.py"))  # removed: seen without a signal
        self.push({"id": "fresh-2", "script": "fresh"})
        self.assertEqual(self.wait_event(sub, "fresh-2")["status"], "rejected")
        self.workers[0].send_signal(signal.SIGHUP)
        wait_for(lambda: "whitelist reloaded" in self.worker_log(), 5, what="reload")

    def test_concurrency_runs_jobs_in_parallel(self):
        self.start_worker(ARUN_CONCURRENCY=3)
        sub = self.subscribe()
        t0 = time.monotonic()
        for i in range(3):
            self.push({"id": "par-%d" % i, "script": "sleepy", "args": ["1"]})
        events = self.wait_events(sub, ["par-%d" % i for i in range(3)])
        self.assertEqual({e["status"] for e in events.values()}, {"success"})
        self.assertLess(time.monotonic() - t0, 2.8, "three 1 s jobs should overlap")

    def test_table_schema_and_wal(self):
        self.start_worker()
        import sqlite3
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        cols = [r[1] for r in con.execute("PRAGMA table_info(analytics_jobs)")]
        for c in ["id", "script", "trigger_type", "status", "exit_code", "stdout", "stderr",
                  "duration_ms", "created_at", "completed_at"]:
            self.assertIn(c, cols)
        idx = " ".join(r[4] or "" for r in con.execute("SELECT * FROM sqlite_master WHERE type='index'"))
        for c in ["script", "status", "created_at"]:
            self.assertIn("(" + c, idx.replace(" ", ""))
        con.close()


class CliTests(ArunTestCase):

    def test_help_version_and_bad_flags(self):
        for prog in (WORKER,):
            out = subprocess.run([prog, "--help"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0)
            self.assertIn("ARUN_REDIS_URL", out.stdout)
            out = subprocess.run([prog, "--version"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0)
            self.assertRegex(out.stdout, r"\d+\.\d+\.\d+")
            out = subprocess.run([prog, "--bogus"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 2)
            self.assertIn("--bogus", out.stderr)

    def test_bad_environment_is_a_clear_start_error(self):
        # malformed values are usage errors (2); values that parse but do
        # not work on this host (missing folder, interpreter) are start-up
        # failures (1)
        for var, value, needle, code in [("ARUN_CONCURRENCY", "zero", "ARUN_CONCURRENCY", 2),
                                         ("ARUN_REDIS_URL", "http://x", "ARUN_REDIS_URL", 1),
                                         ("ARUN_SCRIPTS_DIR", "/nonexistent", "ARUN_SCRIPTS_DIR", 1),
                                         ("ARUN_PYTHON", "/nonexistent/python", "ARUN_PYTHON", 1),
                                         ("ARUN_QUEUES", "a b", "ARUN_QUEUES", 2)]:
            out = subprocess.run([WORKER], env=self.env(**{var: value}), capture_output=True,
                                 text=True, timeout=10)
            self.assertEqual(out.returncode, code, var)
            self.assertIn(needle, out.stderr, var)


if __name__ == "__main__":
    unittest.main()
