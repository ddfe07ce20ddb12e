"""arun-ctl end to end, against a real Redis, a real worker and its SQLite
file: jobs (filters, --json, the table), job (database, else P:result:ID,
else the queues), queues, workers and the jobs they hold, dead letters
(list, requeue, drop), cancel, retry, and the exit codes 0/1/2/3."""
import json
import os
import subprocess
import unittest

from harness import ArunTestCase, BUILD, wait_for

CTL = os.path.join(BUILD, "ctl", "arun-ctl")


class CtlTests(ArunTestCase):

    def ctl(self, *args, **env):
        return subprocess.run([CTL, *args], env=self.env(**env), capture_output=True, timeout=60)

    def ctl_json(self, *args):
        out = self.ctl("--json", *args)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def run_jobs(self):
        sub = self.subscribe()
        self.push({"id": "c-ok", "script": "echo", "args": ["a b"]})
        self.push({"id": "c-err", "script": "echo", "args": ["--exit", "3"]})
        self.push({"id": "c-rej", "script": "no_such_script"})
        self.wait_events(sub, ["c-ok", "c-err", "c-rej"])

    def test_jobs_and_job(self):
        self.start_worker(ARUN_CONCURRENCY="1")
        self.run_jobs()
        jobs = self.ctl_json("jobs")["jobs"]
        self.assertEqual([j["id"] for j in jobs], ["c-rej", "c-err", "c-ok"])  # newest first
        self.assertNotIn("stdout", jobs[0])
        self.assertNotIn("stderr", jobs[0])
        self.assertEqual(jobs[1]["exit_code"], 3)
        ids = lambda *a: [j["id"] for j in self.ctl_json("jobs", *a)["jobs"]]
        self.assertEqual(ids("--status", "error,rejected"), ["c-rej", "c-err"])
        self.assertEqual(ids("--script", "echo.py"), ["c-err", "c-ok"])
        self.assertEqual(ids("--limit", "1"), ["c-rej"])
        page = self.ctl_json("jobs", "--limit", "2")
        self.assertEqual(len(page["jobs"]), 2)
        rest = self.ctl_json("jobs", "--limit", "2", "--before", page["next"])
        self.assertEqual([j["id"] for j in rest["jobs"]], ["c-ok"])
        self.assertIsNone(rest["next"])
        self.assertEqual(self.ctl("jobs", "--before", "garbage").returncode, 2)
        self.assertEqual(ids("--trigger", "api"), [])
        self.assertEqual(self.ctl("jobs", "--json", "--limit", "1").returncode, 0)  # flag after
        table = self.ctl("jobs").stdout.decode()
        self.assertRegex(table.splitlines()[0], r"^ID\s+SCRIPT\s+STATUS\s+EXIT\s+DURATION")
        self.assertIn("c-err", table)
        for bad in (["--limit", "0"], ["--status", "error,,success"], ["--limit", "x"], ["extra"]):
            self.assertEqual(self.ctl("jobs", *bad).returncode, 2, bad)

        rec = self.ctl_json("job", "c-ok")
        self.assertEqual(json.loads(rec["stdout"])["argv"], ["a b"])
        self.assertEqual(rec["stderr"], "to stderr\n")
        self.assertEqual(rec["status"], "success")
        text = self.ctl("job", "c-ok").stdout.decode()
        self.assertIn("--- stdout ---", text)
        self.assertRegex(text, r"status\s+success")
        missing = self.ctl("job", "nobody")
        self.assertEqual(missing.returncode, 3)
        self.assertIn(b"no job nobody", missing.stderr)
        self.assertEqual(self.ctl("job", "bad id").returncode, 2)
        self.assertEqual(self.ctl("job").returncode, 2)
        # another host's job: not in this database, in P:result:ID
        other = self.ctl("--json", "--db", os.path.join(self.tmp, "none.db"), "job", "c-err")
        self.assertEqual(other.returncode, 0, other.stderr)
        self.assertEqual(json.loads(other.stdout)["exit_code"], 3)

    def test_queued_job_queues_and_workers(self):
        self.push({"id": "q-1", "script": "echo"}, queue="bulk")
        self.push({"id": "q-2", "script": "echo"}, queue="bulk")
        rec = self.ctl_json("job", "q-2")
        self.assertEqual((rec["status"], rec["queue"]), ("queued", "bulk"))
        self.assertEqual(rec["request"]["script"], "echo")
        self.start_worker(ARUN_QUEUES="high,default", ARUN_CONCURRENCY="3")
        self.push({"id": "w-1", "script": "sleepy", "args": ["30"]}, queue="high")
        self.wait_row("w-1", "running")
        queues = {q["name"]: q for q in self.ctl_json("queues")["queues"]}
        self.assertEqual(queues["bulk"]["length"], 2)
        self.assertEqual(queues["bulk"]["workers"], 0)
        self.assertEqual(queues["high"]["length"], 0)
        self.assertEqual(queues["default"]["workers"], 1)
        self.assertRegex(self.ctl("queues").stdout.decode(), r"bulk\s+2\s+0")
        workers = self.ctl_json("workers")["workers"]
        self.assertEqual(len(workers), 1)
        w = workers[0]
        self.assertEqual(w["queues"], ["high", "default"])
        self.assertEqual(w["concurrency"], 3)
        self.assertEqual(w["jobs"], ["w-1"])
        self.assertEqual(self.ctl_json("job", "w-1")["status"], "running")  # the row
        table = self.ctl("workers").stdout.decode()
        self.assertIn("w-1", table)
        self.assertIn("high,default", table)
        self.assertEqual(self.ctl("workers", "x").returncode, 2)

    def test_dead_letters(self):
        self.start_worker()
        self.push("not json at all")
        wait_for(lambda: self.r("LLEN", self.key("dead")) == 1, 10, what="the dead letter")
        self.stop_worker(self.workers[0])
        env = {"reason": "by hand", "request": json.dumps({"id": "d-2", "script": "echo"}),
               "queue": "high", "worker": "w", "at": "2026-11-28T09:15:02.123Z"}
        self.r("LPUSH", self.key("dead"), json.dumps(env))
        dead = self.ctl_json("dead")["dead"]
        self.assertEqual([d["number"] for d in dead], [1, 2])
        self.assertEqual(dead[0]["request"], "not json at all")
        self.assertTrue(dead[0]["reason"])
        self.assertEqual(dead[1]["reason"], "by hand")
        self.assertIn("by hand", self.ctl("dead").stdout.decode())
        out = self.ctl("dead", "--requeue", "2")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"queue high", out.stdout)
        self.assertEqual(json.loads(self.r("LINDEX", self.key("queue", "high"), 0))["id"], "d-2")
        self.assertEqual(self.ctl("dead", "--drop", "2").returncode, 3)
        self.assertEqual(self.ctl_json("dead", "--drop", "1"), {"dropped": 1})
        self.assertEqual(self.r("LLEN", self.key("dead")), 0)
        self.assertEqual(self.ctl("dead", "--drop", "1", "--requeue", "1").returncode, 2)
        self.assertEqual(self.ctl("dead", "--drop", "0").returncode, 2)

    def test_cancel_and_retry(self):
        out = self.ctl("cancel", "job-x")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(self.r("EXISTS", self.key("cancel", "job-x")))
        self.assertEqual(self.ctl_json("cancel", "job-y"), {"id": "job-y", "status": "cancelling"})
        self.assertEqual(self.ctl("cancel", "bad id").returncode, 2)
        self.assertEqual(self.ctl("cancel", "x", ARUN_REDIS_URL="redis://127.0.0.1:1/0").returncode, 1)

        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "rt-1", "script": "echo", "args": ["--exit", "4", "z"], "queue": "default"})
        self.wait_event(sub, "rt-1")
        new = self.ctl_json("retry", "rt-1")["id"]
        self.assertNotEqual(new, "rt-1")
        ev = self.wait_event(sub, new)
        self.assertEqual(ev["trigger"], "retry")
        row = self.row(new)
        self.assertEqual(json.loads(row["args"]), ["--exit", "4", "z"])
        self.assertEqual(row["exit_code"], 4)
        self.assertEqual(self.ctl("retry", "nobody").returncode, 3)

    def test_unreachable_and_usage(self):
        self.assertEqual(self.ctl("jobs", ARUN_DB=os.path.join(self.tmp, "none.db")).returncode, 1)
        self.assertEqual(self.ctl("queues", ARUN_REDIS_URL="redis://127.0.0.1:1/0").returncode, 1)
        self.assertEqual(self.ctl().returncode, 2)
        self.assertEqual(self.ctl("frobnicate").returncode, 2)
        self.assertEqual(self.ctl("--nope", "jobs").returncode, 2)
        out = self.ctl("--help")
        self.assertEqual(out.returncode, 0)
        for cmd in (b"jobs", b"job ID", b"queues", b"workers", b"dead", b"cancel ID", b"retry ID"):
            self.assertIn(cmd, out.stdout)
        self.assertEqual(self.ctl("dead", "--help").returncode, 0)
        self.assertRegex(self.ctl("--version").stdout.decode(), r"^arun-ctl \d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
