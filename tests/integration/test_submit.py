"""arun-submit against a real Redis and worker: pushing, --wait output and
exit codes, --json, and usage errors."""
import json
import unittest

from harness import ArunTestCase, SUBMIT


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


if __name__ == "__main__":
    unittest.main()
