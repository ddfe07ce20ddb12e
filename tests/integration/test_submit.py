"""arun-submit against a real Redis and worker: pushing, --wait output and
exit codes, --json, usage errors, reused ids, --cancel, --wait-timeout, the
warning for a queue no worker takes from, and a Redis restart during --wait."""
import glob
import json
import os
import subprocess
import time
import unittest

from harness import ArunTestCase, SUBMIT, HERE, wait_for


def worker_cancels():
    """Whether this tree's worker handles cancel requests (P:cancel), the
    worker's part of the contract's "Cancelling a job"."""
    src = os.path.join(HERE, "..", "..", "worker")
    return any("keys_cancel" in open(f).read() for f in glob.glob(os.path.join(src, "*.c")))


class SubmitTests(ArunTestCase):

    def test_push_prints_id_and_request_follows_contract(self):
        out = self.submit("--id", "sub-1", "--trigger", "scheduled", "--timeout", "30s",
                          "echo", "--days", "30")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.decode().strip(), "sub-1")
        req = json.loads(self.r("LINDEX", self.key("queue", "default"), 0))
        self.assertEqual(req["id"], "sub-1")
        self.assertEqual(req["script"], "echo")
        self.assertEqual(req["args"], ["--days", "30"])  # after SCRIPT: verbatim
        self.assertEqual(req["timeout_ms"], 30000)
        self.assertEqual(req["trigger"], "scheduled")

    def test_generated_id_is_a_uuid(self):
        out = self.submit("echo")
        self.assertRegex(out.stdout.decode().strip(), r"^[0-9a-f-]{36}$")

    def test_wait_exit_codes(self):
        self.start_worker()
        ok = self.submit("--wait", "echo", "hi")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(json.loads(ok.stdout)["argv"], ["hi"])
        self.assertEqual(ok.stderr.decode(), "to stderr\n")
        self.assertEqual(self.submit("--wait", "echo", "--exit", "7").returncode, 7)
        to = self.submit("-w", "--timeout", "200ms", "sleepy", "10")
        self.assertEqual(to.returncode, 124)
        self.assertIn(b"timeout", to.stderr)
        rej = self.submit("--wait", "no_such_script")
        self.assertEqual(rej.returncode, 125)
        self.assertIn(b"not on the whitelist", rej.stderr)
        self.assertEqual(self.submit("--wait", "self_kill", "9").returncode, 128 + 9)

    def test_wait_json_prints_the_whole_record(self):
        self.start_worker()
        out = self.submit("--wait", "--json", "--id", "js-1", "echo")
        self.assertEqual(out.returncode, 0)
        rec = json.loads(out.stdout)
        self.assertEqual(rec["id"], "js-1")
        self.assertEqual(rec["status"], "success")
        self.assertIn("stdout", rec)
        self.assertEqual(rec["trigger_type"], "manual")

    def test_queue_option(self):
        self.start_worker(ARUN_QUEUES="urgent")
        out = self.submit("--wait", "--queue", "urgent", "echo")
        self.assertEqual(out.returncode, 0)

    def test_usage_errors_exit_2(self):
        for args in ([], ["--timeout", "5x", "echo"], ["--timeout", "0", "echo"],
                     ["--timeout", "25h", "echo"], ["--id", "bad id", "echo"],
                     ["--queue", "a/b", "echo"], ["--nope", "echo"]):
            out = self.submit(*args)
            self.assertEqual(out.returncode, 2, args)
            self.assertTrue(out.stderr.startswith(b"arun-submit: "), args)

    def test_unreachable_redis_exits_1(self):
        out = self.submit("--wait", "echo", ARUN_REDIS_URL="redis://127.0.0.1:1/0")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"cannot reach Redis", out.stderr)

    def test_help_and_version(self):
        import subprocess
        out = subprocess.run([SUBMIT, "--help"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        self.assertIn("--wait", out.stdout)
        out = subprocess.run([SUBMIT, "--version"], capture_output=True, text=True)
        self.assertRegex(out.stdout, r"^arun-submit \d+\.\d+\.\d+")

    def test_reused_id_attaches_to_the_same_job_and_refuses_another(self):
        out = self.submit("--id", "cal-2026-11-28", "echo", "--days", "30")
        self.assertEqual(out.returncode, 0, out.stderr)
        # same script (with .py) and args, no worker yet: attaches, nothing pushed
        again = self.submit("--id", "cal-2026-11-28", "echo.py", "--days", "30")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(self.r("LLEN", self.key("queue", "default")), 1)
        # another script or other args: refused, exit 2
        for args in (["regime", "--all"], ["echo", "--days", "31"], ["echo"]):
            bad = self.submit("--wait", "--id", "cal-2026-11-28", *args)
            self.assertEqual(bad.returncode, 2, args)
            self.assertIn(b"used by another job", bad.stderr)
        self.assertEqual(self.r("LLEN", self.key("queue", "default")), 1)
        self.start_worker()
        done = self.submit("--wait", "--id", "cal-2026-11-28", "echo", "--days", "30")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["argv"], ["--days", "30"])
        # finished: the same again replays the record; another is refused
        replay = self.submit("--wait", "--json", "--id", "cal-2026-11-28", "echo", "--days", "30")
        self.assertEqual(json.loads(replay.stdout)["status"], "success")
        self.assertEqual(self.submit("--wait", "--id", "cal-2026-11-28", "regime").returncode, 2)
        self.assertEqual(len(self.rows("id = ?", ("cal-2026-11-28",))), 1)

    def test_warns_when_no_worker_takes_from_the_queue(self):
        self.start_worker()
        typo = self.submit("--queue", "hgih", "echo")
        self.assertEqual(typo.returncode, 0)
        self.assertIn(b"no live worker takes from queue 'hgih'", typo.stderr)
        fine = self.submit("echo")
        self.assertNotIn(b"warning", fine.stderr)

    def test_wait_timeout_exits_75_and_the_job_stays(self):
        out = self.submit("--wait", "--wait-timeout", "300ms", "--id", "wt-1", "echo")
        self.assertEqual(out.returncode, 75, out.stderr)
        self.assertIn(b"has not finished", out.stderr)
        self.assertEqual(self.r("LLEN", self.key("queue", "default")), 1)
        self.assertEqual(self.submit("--wait-timeout", "1s", "echo").returncode, 2)

    def test_cancel_records_the_request(self):
        sub = self.subscribe_channel(self.key("cancel"))
        out = self.submit("--cancel", "job-c1")
        self.assertEqual(out.returncode, 0, out.stderr)
        ttl = self.r("TTL", self.key("cancel", "job-c1"))
        self.assertTrue(86000 < ttl <= 86400, ttl)
        self.assertGreater(int(self.r("GET", self.key("cancel", "job-c1"))), 1.7e12)
        self.assertEqual(sub.read()[2], b"job-c1")
        self.assertEqual(self.submit("--cancel", "job-c2", ARUN_RESULT_TTL="1h").returncode, 0)
        self.assertLessEqual(self.r("TTL", self.key("cancel", "job-c2")), 3600)
        self.assertEqual(self.submit("--cancel", "bad id").returncode, 2)
        self.assertEqual(self.submit("--cancel", "x", "echo").returncode, 2)
        down = self.submit("--cancel", "x", ARUN_REDIS_URL="redis://127.0.0.1:1/0")
        self.assertEqual(down.returncode, 1)

    def subscribe_channel(self, channel):
        from harness import Redis
        sub = Redis(self.server.port)
        self.subs.append(sub)
        sub("SUBSCRIBE", channel)
        return sub


@unittest.skipUnless(worker_cancels(), "the worker in worker/ does not handle cancel requests "
                     "yet (keys_cancel unused): the contract's worker side of cancelling")
class CancelTests(ArunTestCase):

    def test_cancel_a_queued_job_then_wait(self):
        # the only slot is busy, so cq-1 waits in the queue behind it
        self.start_worker(ARUN_CONCURRENCY="1")
        self.assertEqual(self.submit("--id", "busy-1", "sleepy", "30").returncode, 0)
        self.wait_row("busy-1", "running")
        self.assertEqual(self.submit("--id", "cq-1", "echo").returncode, 0)
        out = self.submit("--cancel", "cq-1", "--wait", "--wait-timeout", "20s")
        self.assertEqual(out.returncode, 125, out.stderr)  # not behind busy-1's 30 s
        row = self.row("cq-1")
        self.assertEqual(row["status"], "cancelled")
        self.assertIsNone(row["exit_code"])
        self.assertEqual(self.row("busy-1")["status"], "running")

    def test_cancel_a_running_job_with_wait_exits_125(self):
        self.start_worker()
        self.assertEqual(self.submit("--id", "cr-1", "sleepy", "30").returncode, 0)
        self.wait_row("cr-1", "running")
        out = self.submit("--cancel", "cr-1", "--wait", "--wait-timeout", "20s")
        self.assertEqual(out.returncode, 125, out.stderr)
        self.assertIn(b"cancelled", out.stderr)


class SubmitRedisRestartTests(ArunTestCase):
    restarts_redis = True

    def test_wait_survives_a_redis_restart(self):
        self.start_worker()
        p = subprocess.Popen([SUBMIT, "--wait", "--id", "rs-1", "sleepy", "2"], env=self.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.wait_row("rs-1", "running")
        self.r.close()
        self.server.stop()
        time.sleep(0.5)
        self.server.start()
        from harness import Redis
        self.r = Redis(self.server.port)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(b"lost the connection to Redis", err)
        self.assertIn(b"is back", err)


if __name__ == "__main__":
    unittest.main()
