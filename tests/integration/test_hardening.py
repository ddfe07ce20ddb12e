"""Hardening of the worker, each a finding reproduced: scripts see only an
allowlisted environment (never ARUN_REDIS_URL or a secret of the service);
a daemon that escapes the job's group (setsid, double fork) dies with the
job, whether it closed its stdio or kept the pipes; a worker paused past
its heartbeat comes back to find its jobs taken over, kills its runs of
them and records and announces nothing; an acknowledgement Redis refuses
(maxmemory) is retried whole and arrives once."""
import json
import os
import signal
import subprocess
import time
import unittest

from harness import ArunTestCase, RedisServer, WORKER, pid_alive, read_pid, wait_for


class EnvironmentTests(ArunTestCase):
    def test_script_sees_only_the_allowlist(self):
        sub = self.subscribe()
        self.start_worker(SERVICE_SECRET="hunter2", EXTRA_OK="yes", LC_ALL="C.UTF-8",
                          ARUN_CHILD_ENV="FIXTURE_DIR,EXTRA_OK",
                          ARUN_REDIS_URL=self.server.url)
        self.push({"id": "env-a", "script": "printenv"})
        self.wait_event(sub, "env-a")
        env = json.loads(self.row("env-a")["stdout"])
        self.assertNotIn("SERVICE_SECRET", env)
        self.assertNotIn("ARUN_REDIS_URL", env)
        self.assertNotIn("ARUN_PREFIX", env)
        self.assertEqual(env["EXTRA_OK"], "yes")
        self.assertEqual(env["LC_ALL"], "C.UTF-8")
        self.assertEqual(env["ARUN_JOB_ID"], "env-a")
        self.assertEqual(env["ARUN_TRIGGER"], "manual")
        self.assertTrue(env["ARUN_DB"].endswith("arun.db"))
        self.assertIn("PATH", env)
        allowed = {"PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHOME",
                   "VIRTUAL_ENV", "PYTHONUNBUFFERED", "EXTRA_OK", "FIXTURE_DIR",
                   "ARUN_JOB_ID", "ARUN_DB", "ARUN_TRIGGER"}
        # python itself may add LC_CTYPE coercion; nothing else may appear
        extra = {k for k in env if k not in allowed and not k.startswith("LC_")}
        self.assertEqual(extra, set())

    def test_script_cannot_read_the_workers_environment(self):
        # the worker is not dumpable: its /proc files are root's, so a
        # script of its own user cannot read the Redis password there
        if os.getuid() != 0:
            self.skipTest("needs root to run the worker as another user (printed, not hidden)")
        os.chmod(self.tmp, 0o777)
        for root, dirs, files in os.walk(self.tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o777)
        sub = self.subscribe()
        self.start_worker(run_as=65534)
        self.push({"id": "peek-1", "script": "peek"})
        self.assertEqual(self.wait_event(sub, "peek-1")["status"], "success")
        seen = json.loads(self.row("peek-1")["stdout"])
        self.assertFalse(seen["read"], seen)

    def test_arun_names_in_child_env_are_refused_at_start(self):
        out = subprocess.run([WORKER], env=self.env(ARUN_CHILD_ENV="FIXTURE_DIR,ARUN_REDIS_URL"),
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("ARUN_CHILD_ENV", out.stderr)
        self.assertIn("ARUN_REDIS_URL", out.stderr)


class SeparationTests(ArunTestCase):
    def test_scripts_run_as_another_user_cannot_forge_the_record(self):
        if os.getuid() != 0:
            self.skipTest("needs root to switch users (printed, not hidden)")
        os.chmod(self.tmp, 0o755)
        data = os.path.join(self.tmp, "data.db")
        open(data, "w").close()
        os.chown(data, 65534, 65534)
        sub = self.subscribe()
        self.start_worker(ARUN_RUN_AS="nobody", ARUN_SCRIPT_DB=data, RECORD_DB=self.db,
                          ARUN_CHILD_ENV="FIXTURE_DIR,RECORD_DB")
        self.push({"id": "forge-1", "script": "forge"})
        self.assertEqual(self.wait_event(sub, "forge-1")["status"], "success")
        out = json.loads(self.row("forge-1")["stdout"])
        self.assertEqual((out["uid"], out["gid"]), (65534, 65534))
        self.assertEqual(out["db"], data)
        self.assertFalse(out["forged"], out)

    def test_unknown_run_as_user_is_refused_at_start(self):
        out = subprocess.run([WORKER], env=self.env(ARUN_RUN_AS="no-such-user-xyz"),
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("ARUN_RUN_AS", out.stderr)


class ContainmentTests(ArunTestCase):
    def daemon_dies_with_job(self, mode):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "dmn-" + mode, "script": "daemon", "args": [mode]})
        ev = self.wait_event(sub, "dmn-" + mode)
        t_event = time.monotonic()
        self.assertEqual(ev["status"], "success")
        pid = read_pid(os.path.join(self.tmp, "daemon.pid"))
        wait_for(lambda: not pid_alive(pid), 5, what="the daemon to be killed")
        self.assertLess(time.monotonic() - t_event, 1.5, "killed within a second of the event")
        return ev

    def test_daemon_that_closed_its_stdio(self):
        self.daemon_dies_with_job("close")

    def test_daemon_that_keeps_the_pipes_open(self):
        ev = self.daemon_dies_with_job("keep")
        # it no longer holds the job for the 2 s pipe linger
        self.assertLess(ev["duration_ms"], 1500)


class LeaseTests(ArunTestCase):
    def test_paused_worker_does_not_record_what_a_peer_took_over(self):
        sub = self.subscribe()
        a = self.start_worker(ARUN_HEARTBEAT_TTL="1500ms", ARUN_CONCURRENCY="2")
        self.push({"id": "lease-1", "script": "sleepy", "args": ["4"]})
        self.push({"id": "lease-2", "script": "sleepy", "args": ["4"]})
        r1, r2 = self.wait_row("lease-1", "running"), self.wait_row("lease-2", "running")
        a_id = r1["worker"]
        kids = [int(p) for p in subprocess.run(["pgrep", "-P", str(a.pid)], capture_output=True,
                                               text=True).stdout.split()
                if int(p) != self.warm_pid(0)]
        self.assertEqual(len(kids), 2)
        # the whole "host" pauses: the worker and its jobs
        a.send_signal(signal.SIGSTOP)
        for k in kids:
            os.killpg(k, signal.SIGSTOP)
        b = self.start_worker(ARUN_HEARTBEAT_TTL="1500ms", ARUN_CONCURRENCY="2")
        wait_for(lambda: all((self.row(i) or {}).get("worker") not in (None, a_id)
                             for i in ("lease-1", "lease-2")), 15, what="the peer's takeover")
        for k in kids:
            os.killpg(k, signal.SIGCONT)
        a.send_signal(signal.SIGCONT)
        t_resume = time.monotonic()
        wait_for(lambda: not any(pid_alive(k) for k in kids), 5, what="A's runs to be killed")
        self.assertLess(time.monotonic() - t_resume, 1.5 + 1, "within the TTL of resuming")
        got = self.wait_events(sub, ["lease-1", "lease-2"])
        for i in ("lease-1", "lease-2"):
            self.assertEqual(got[i]["status"], "success")
            self.assertNotEqual(self.row(i)["worker"], a_id)
        self.assertEqual(self.events_of(sub, "lease-1") + self.events_of(sub, "lease-2"), [])
        self.assertIn("taken over", self.worker_log(0))
        self.assertIsNone(a.poll(), "the paused worker goes on working")
        self.push({"id": "lease-after", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "lease-after")["status"], "success")


class OutOfMemoryTests(ArunTestCase):
    restarts_redis = True

    def test_refused_acknowledgement_is_retried_whole(self):
        sub = self.subscribe()
        self.start_worker()
        used = int([l for l in self.r("INFO", "memory").decode().split("\r\n")
                    if l.startswith("used_memory:")][0].split(":")[1])
        self.r("CONFIG", "SET", "maxmemory", str(used + 512 * 1024))
        try:
            self.push({"id": "big-result", "script": "flood", "args": ["1500000"]})
            wait_for(lambda: "acknowledging the job failed" in self.worker_log(0), 30,
                     what="a refused acknowledgement")
            self.assertEqual(self.r("EXISTS", self.key("result", "big-result")), 0)
            self.assertEqual(self.r("XLEN", self.key("stream", "events")), 0)
            self.assertEqual(len(sum(self.processing_lists().values(), [])), 1)
        finally:
            self.r("CONFIG", "SET", "maxmemory", "0")
        ev = self.wait_event(sub, "big-result")
        self.assertEqual(ev["status"], "success")
        self.assertEqual(json.loads(self.r("GET", self.key("result", "big-result")))["id"],
                         "big-result")
        self.assertEqual(self.r("XLEN", self.key("stream", "events")), 1)
        self.assertEqual(self.events_of(sub, "big-result"), [])
        wait_for(lambda: not any(self.processing_lists().values()), 5, what="the ack")


if __name__ == "__main__":
    unittest.main()
