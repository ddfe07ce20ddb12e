"""Hardening (issue 15): what a producer, a script or a broken database can
do to a running worker. Each test reproduces one finding of the issue
against the real worker and a real redis-server:

- a request nested 1,500 levels deep with a script that SIGKILLs its
  worker is dead-lettered, never run, and kills no worker; a producer's
  "attempt" field neither skips a job nor lets it kill workers forever;
- permanent SQLite errors (a corrupt page, a full disk) end the job
  `failed` with the reason, dead-letter the request and let
  `arun-submit --wait` return; a dropped table is recreated;
- workers started at the same moment on a new database all start;
- no output shows the Redis password, a wrong password is reported as
  such, and a rejection does not show the scripts folder's path.
"""
import json
import os
import resource
import signal
import sqlite3
import subprocess
import time
import unittest

from harness import PYTHON, WORKER, ArunTestCase, Redis, free_port, wait_for

PASSWORD = "s3cret-Pw-9f2e"
FSIZE_LIMIT = 256 * 1024  # the "disk" of the full-disk test, in bytes per file


def nested_meta(job_id, script, depth, **fields):
    """A request whose unknown field "meta" makes it depth levels deep."""
    head = json.dumps(dict({"id": job_id, "script": script}, **fields))[:-1]
    return head + ', "meta": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


class DeliveryTests(ArunTestCase):
    """Issue 15, finding 1: the delivery cap whatever the request holds."""

    def run_killer(self, request, job_id):
        event, deaths = super().run_killer(request, job_id)
        self.assertIsNotNone(event, "no event for %s after %d worker deaths" % (job_id, deaths))
        return event, deaths

    def test_deep_meta_killer_is_dead_lettered_not_run(self):
        event, deaths = self.run_killer(nested_meta("deep-kill", "kill_worker", 1500), "deep-kill")
        self.assertEqual(deaths, 0, "the 1,500-deep request ran and killed workers")
        self.assertEqual(event["status"], "rejected")
        row = self.row("deep-kill")
        self.assertEqual(row["status"], "rejected")
        self.assertIn("deeper than 64 levels", row["stderr"])
        dead = [json.loads(d) for d in self.r("LRANGE", self.key("dead"), 0, -1)]
        self.assertEqual(len(dead), 1)
        self.assertIn("deeper than 64", dead[0]["reason"])
        self.assertIn("deep-kill", dead[0]["request"])
        self.assertFalse(any(self.processing_lists().values()))

    def test_depth_64_is_a_request_like_any_other(self):
        self.start_worker()
        sub = self.subscribe()
        self.push(nested_meta("deep-64", "echo", 64))
        self.push(nested_meta("deep-65", "echo", 65))
        got = self.wait_events(sub, ["deep-64", "deep-65"])
        self.assertEqual(got["deep-64"]["status"], "success")
        self.assertEqual(got["deep-65"]["status"], "rejected")

    def test_producer_attempt_cannot_lower_the_count(self):
        # a negative "attempt" used to restart the count at each recovery:
        # the killer then took down every worker forever
        event, deaths = self.run_killer(
            nested_meta("att-low", "kill_worker", 60, attempt=-1000), "att-low")
        self.assertEqual(event["status"], "failed")
        self.assertEqual(deaths, 3, "each of 3 deliveries took a worker down")
        self.assertEqual(self.row("att-low")["attempts"], 3)

    def test_producer_attempt_cannot_skip_a_job(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "att-high", "script": "echo", "attempt": 99})
        ev = self.wait_event(sub, "att-high")
        self.assertEqual(ev["status"], "success", "a producer's attempt field failed the job "
                         "without running it")
        self.assertEqual(self.row("att-high")["attempts"], 1)


def limit_file_size():
    """In the worker's child before exec: files of at most FSIZE_LIMIT
    bytes, and EFBIG rather than death past it (as for a full disk)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


class StoreFaultTests(ArunTestCase):
    """Issue 15, findings 5 and 6: SQLite errors that do not go away."""

    def submit_wait(self, job_id, *args, timeout=25):
        try:
            return self.submit("--wait", "--json", "--id", job_id, *args, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("arun-submit --wait %s hung for %d s: the worker keeps retrying a "
                      "permanent database error\n%s" % (job_id, timeout, self.worker_log()))

    def assert_failed_for_db(self, job_id, proc, words):
        """The job ended failed with the database's reason, announced and
        kept in Redis (the database cannot hold it), and was dead-lettered."""
        self.assertEqual(proc.returncode, 125, proc.stderr)
        rec = json.loads(proc.stdout)
        self.assertEqual(rec["status"], "failed")
        self.assertTrue(any(w in rec["stderr"] for w in words), rec["stderr"])
        self.assertEqual(self.result(job_id)["status"], "failed")
        dead = [json.loads(d) for d in self.r("LRANGE", self.key("dead"), 0, -1)]
        self.assertTrue(any(job_id in d["request"] for d in dead), dead)
        wait_for(lambda: not any(self.processing_lists().values()), 10,
                 what="the request to leave the processing list")

    def corrupt_table_root(self):
        con = sqlite3.connect(self.db)
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'analytics_jobs'"
                           ).fetchone()[0]
        page = con.execute("PRAGMA page_size").fetchone()[0]
        con.close()
        with open(self.db, "r+b") as f:
            f.seek((root - 1) * page)
            f.write(bytes((i * 7 + 0xA5) & 0xFF for i in range(page)))

    def test_corrupt_page_fails_the_job_and_submit_returns(self):
        w = self.start_worker()
        self.assertEqual(self.submit_wait("cp-1", "echo").returncode, 0)
        self.assertEqual(self.stop_worker(w), 0)  # checkpoints the WAL into the file
        self.corrupt_table_root()
        w = self.start_worker()
        p = self.submit_wait("cp-2", "echo", "hi")
        self.assert_failed_for_db("cp-2", p, ["malformed"])
        self.assertIsNone(w.poll(), "the worker lives on (Redis still works)")
        self.assertIn("malformed", self.worker_log(1))

    def test_full_disk_fails_the_job_and_submit_returns(self):
        w = self.start_worker(preexec_fn=limit_file_size)
        self.assertEqual(self.submit_wait("fd-1", "echo").returncode, 0)
        # about 600 KB of stdout and as much of stderr: the row cannot be written
        p = self.submit_wait("fd-2", "flood", str(600 * 1000))
        self.assert_failed_for_db("fd-2", p, ["disk", "I/O", "full"])
        self.assertIsNone(w.poll())
        # a small row still fits: the worker goes on
        self.assertEqual(self.submit_wait("fd-3", "echo").returncode, 0)

    def test_dropped_table_is_recreated_while_running_and_at_start(self):
        w = self.start_worker()
        self.assertEqual(self.submit_wait("dt-1", "echo").returncode, 0)
        con = sqlite3.connect(self.db)
        con.execute("DROP TABLE analytics_jobs")  # what a script can do
        con.close()
        p = self.submit_wait("dt-2", "echo")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.row("dt-2")["status"], "success")
        self.assertEqual(self.stop_worker(w), 0)
        con = sqlite3.connect(self.db)
        con.execute("DROP TABLE analytics_jobs")
        con.close()
        self.start_worker()  # used to exit 1: user_version said the table existed
        self.assertEqual(self.submit_wait("dt-3", "echo").returncode, 0)
        self.assertEqual(self.row("dt-3")["status"], "success")

    def test_workers_started_at_once_on_a_new_database_all_start(self):
        # each round: three workers held at a gate, released together onto
        # a database that does not exist yet (systemd, compose scale). The
        # workers' start-up spreads them by milliseconds, so before the fix
        # 1 round in 100 to 300 lost one here: this is an end-to-end guard;
        # tests/unit/test_store.c (openers forked at the gate) fails every
        # time without the fix.
        rounds, per_round = 30, 3
        gate_exec = ("import os, sys; fd = int(sys.argv[1]); os.read(fd, 1); os.close(fd); "
                     "os.execv(sys.argv[2], sys.argv[2:])")
        lost = []
        for rnd in range(rounds):
            db = os.path.join(self.tmp, "race%d" % rnd, "arun.db")
            prefix = "%s-r%d" % (self.prefix, rnd)
            rfd, wfd = os.pipe()
            procs = []
            for i in range(per_round):
                log = open(os.path.join(self.tmp, "race%d-%d.log" % (rnd, i)), "wb")
                procs.append(subprocess.Popen(
                    [PYTHON, "-c", gate_exec, str(rfd), WORKER],
                    env=self.env(ARUN_DB=db, ARUN_PREFIX=prefix),
                    stdout=log, stderr=subprocess.STDOUT, pass_fds=(rfd,)))
                log.close()
            self.workers.extend(procs)
            os.close(rfd)
            os.close(wfd)  # EOF for all three at once
            beats = lambda: len(self.r("KEYS", prefix + ":worker:*"))
            wait_for(lambda: beats() == per_round or any(p.poll() is not None for p in procs),
                     20, what="round %d's workers" % rnd)
            for i, p in enumerate(procs):
                if p.poll() is not None:
                    with open(os.path.join(self.tmp, "race%d-%d.log" % (rnd, i))) as f:
                        lost.append("round %d: exit %d: %s" % (rnd, p.returncode, f.read()[-300:]))
                p.kill()
                p.wait()
        self.assertEqual(lost, [], "workers lost at start")


class SecretTests(ArunTestCase):
    """Issue 15, finding 7: the Redis password in no output."""

    restarts_redis = True  # its own server: the class sets a password on it

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = Redis(cls.server.port)
        c("CONFIG", "SET", "requirepass", PASSWORD)
        c.close()

    def setUp(self):
        super().setUp()
        self.r("AUTH", PASSWORD)

    def url(self, password=PASSWORD, port=None):
        return "redis://:%s@127.0.0.1:%d/0" % (password, port or self.server.port)

    def env(self, **extra):
        e = super().env(**extra)
        if "ARUN_REDIS_URL" not in extra:
            e["ARUN_REDIS_URL"] = self.url()
        return e

    def poll_result(self, job_id):
        return wait_for(lambda: self.result(job_id), 20, what="the result of " + job_id)

    def assert_no_password(self, text, where):
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        self.assertNotIn(PASSWORD, text, "the password shows in " + where)
        self.assertNotIn("wrong-" + PASSWORD, text, "a password shows in " + where)

    def test_worker_log_and_submit_output_show_no_password(self):
        self.start_worker()
        p = self.submit("--wait", "--id", "sec-1", "echo", "x")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_no_password(p.stdout + p.stderr, "arun-submit's output")
        self.assert_no_password(self.worker_log(), "the worker's log")

    def test_script_environment_has_no_password(self):
        self.start_worker()
        self.push({"id": "sec-env", "script": "env_dump"})
        rec = self.poll_result("sec-env")
        self.assertEqual(rec["status"], "success", rec)
        env = json.loads(rec["stdout"])
        self.assertFalse("ARUN_REDIS_URL" in env, "a script sees ARUN_REDIS_URL")
        self.assert_no_password(rec["stdout"], "a script's environment")
        self.assertEqual(env.get("ARUN_JOB_ID"), "sec-env")

    def test_wrong_password_reported_as_such(self):
        w = self.start_worker(ready=False, ARUN_REDIS_URL=self.url("wrong-" + PASSWORD))
        wait_for(lambda: "wrong password" in self.worker_log(), 10,
                 what="the worker to report the wrong password")
        self.assertIsNone(w.poll(), "the worker waits for Redis to accept it")
        log = self.worker_log()
        self.assertIn("WRONGPASS", log)
        self.assertNotIn("NOAUTH", log, "a wrong password logged as a missing one")
        self.assert_no_password(log, "the worker's log")

        p = self.submit("echo", ARUN_REDIS_URL=self.url("wrong-" + PASSWORD))
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"wrong password", p.stderr)
        self.assertIn(b"redis://:***@127.0.0.1:", p.stderr)
        self.assert_no_password(p.stderr, "arun-submit's error")

    def test_unreachable_or_malformed_url_shows_no_password(self):
        closed = free_port()
        p = self.submit("echo", ARUN_REDIS_URL=self.url(port=closed))
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot reach Redis at redis://:***@127.0.0.1:%d/0" % closed, p.stderr)
        self.assert_no_password(p.stderr, "arun-submit's connection error")

        bad = "redis://:%s@127.0.0.1:notaport/0" % PASSWORD
        p = self.submit("echo", ARUN_REDIS_URL=bad)
        self.assertEqual(p.returncode, 2)
        self.assert_no_password(p.stderr, "arun-submit's usage error")
        w = self.start_worker(ready=False, ARUN_REDIS_URL=bad)
        self.assertNotEqual(w.wait(10), 0)  # refused at start
        self.assertIn(":***@", self.worker_log())
        self.assert_no_password(self.worker_log(), "the worker's start-up error")

    def test_rejection_names_the_script_not_the_folder(self):
        self.start_worker()
        self.push({"id": "sec-nope", "script": "not_there"})
        rec = self.poll_result("sec-nope")
        self.assertEqual(rec["status"], "rejected")
        self.assertIn("not_there", rec["stderr"])
        self.assertNotIn(self.scripts, rec["stderr"], "the scripts folder's path shown to a "
                         "producer")
        self.assertNotIn(self.tmp, rec["stderr"])


if __name__ == "__main__":
    unittest.main()
