"""arun-cron against a real redis-server: --check and refusals of bad
files, three instances enqueuing each fire time exactly once, an instance
SIGKILLed while another keeps firing, SIGHUP reloads (good and bad files),
missed fires skipped with a catch-up run where asked, requests the real
worker runs, and fire times compared with npm's cron-parser on random
expressions."""
import calendar
import json
import os
import re
import signal
import subprocess
import time
import unittest

from harness import ArunTestCase, wait_for
from webcron_helpers import CRON, CRON_NEXT, NODE_SUITE, npm_ready

ID_RE = re.compile(r"^cron:([A-Za-z0-9._-]+):(\d{8}T\d{6}Z)$")


def fire_time(job_id):
    m = ID_RE.match(job_id)
    return m.group(1), calendar.timegm(time.strptime(m.group(2), "%Y%m%dT%H%M%SZ"))


class CronCase(ArunTestCase):
    def setUp(self):
        super().setUp()
        self.crons = []
        self.schedule = os.path.join(self.tmp, "schedule")

    def tearDown(self):
        for p in self.crons:
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()

    def write(self, text):
        tmp = self.schedule + ".new"
        with open(tmp, "w", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, self.schedule)

    def start_cron(self, **env):
        i = len(self.crons)
        log = open(os.path.join(self.tmp, "cron-%d.log" % i), "wb")
        p = subprocess.Popen([CRON, "--schedule", self.schedule], env=self.env(**env), stdout=log,
                             stderr=subprocess.STDOUT)
        log.close()
        self.crons.append(p)
        wait_for(lambda: "starting" in self.cron_log(i) or p.poll() is not None, 10,
                 what="arun-cron to start")
        self.assertIsNone(p.poll(), self.cron_log(i))
        return p

    def cron_log(self, i=0):
        with open(os.path.join(self.tmp, "cron-%d.log" % i), "rb") as f:
            return f.read().decode(errors="replace")

    def queued(self):
        return [json.loads(x) for x in self.r("LRANGE", self.key("queue", "default"), 0, -1)]

    def fires(self, name):
        return [fire_time(q["id"])[1] for q in self.queued() if fire_time(q["id"])[0] == name]

    def assert_each_once_without_gaps(self, times, step=1):
        self.assertEqual(len(times), len(set(times)), "a fire time enqueued twice: %s" % times)
        s = sorted(times)
        self.assertEqual(s, list(range(s[0], s[-1] + 1, step)), "a fire time was missed")


class TestCheck(CronCase):
    def test_check_prints_next_fires(self):
        self.write("# demo\nTZ=Europe/Berlin\nnightly 30 2 * * * calibration --bins 10\n"
                   "beat @every 30s holly_rules\n")
        r = subprocess.run([CRON, "--check", self.schedule], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("2 entries, time zone Europe/Berlin", out)
        self.assertIn("nightly  30 2 * * *  calibration --bins 10", out)
        self.assertEqual(len(re.findall(r"02:30:00 CES?T", out)), 5)
        beats = re.findall(r"T\d\d:\d\d:(\d\d)Z", out.split("beat")[1])
        self.assertEqual(len(beats), 5)
        self.assertTrue(all(s in ("00", "30") for s in beats))

    def test_bad_file_refused_with_line_number(self):
        for text, want in (("a @hourly x\nb 61 * * * * y\n", "line 2: minute: '61' is out of range"),
                           ("a @hourly x\na @daily x\n", "line 2: duplicate name: a"),
                           ("x @hourly s\nTZ=UTC\n", "line 2: TZ= must come before"),
                           ("TZ=Nowhere/Atlantis\n", "line 1: unknown time zone"),
                           ("a @hourly x\nb @daily y \udcff\n", "line 2: argument 1 must be")):
            self.write(text)
            for args in (["--check", self.schedule], ["--schedule", self.schedule]):
                r = subprocess.run([CRON, *args], env=self.env(), capture_output=True, timeout=10)
                self.assertEqual(r.returncode, 2, (text, args))
                err = r.stderr.decode().strip()
                self.assertIn(want, err)
                self.assertEqual(len(err.splitlines()), 1, err)
        r = subprocess.run([CRON, "--schedule", "/nonexistent/schedule"], env=self.env(),
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([CRON, "--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"ARUN_SCHEDULE", r.stdout)


class TestFiring(CronCase):
    def test_three_instances_enqueue_each_fire_once(self):
        self.write("beat @every 1s echo a b\nTIMEOUT=2h\ntwo @every 2s echo\n")
        for _ in range(3):
            self.start_cron()
        wait_for(lambda: len(self.fires("beat")) >= 10, 30, every=0.2, what="10 s of fires")
        for p in self.crons:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(10), 0)
        beat, two = self.fires("beat"), self.fires("two")
        self.assert_each_once_without_gaps(beat)
        self.assert_each_once_without_gaps(two, 2)
        self.assertTrue(all(t % 2 == 0 for t in two))  # multiples since the epoch
        req = self.queued()[0]
        self.assertEqual(req["trigger"], "scheduled")
        self.assertEqual(req["queue"], "default")
        self.assertIn(req["script"], ("echo",))
        beat_req = next(q for q in self.queued() if q["id"].startswith("cron:beat:"))
        self.assertEqual(beat_req["args"], ["a", "b"])
        self.assertEqual(beat_req["timeout_ms"], 300000)
        two_req = next(q for q in self.queued() if q["id"].startswith("cron:two:"))
        self.assertEqual(two_req["timeout_ms"], 7200000)

    def test_killed_instance_replaced_by_another(self):
        self.write("beat @every 1s echo\n")
        a = self.start_cron()
        self.start_cron()
        wait_for(lambda: len(self.fires("beat")) >= 3, 20, every=0.2, what="3 fires")
        a.send_signal(signal.SIGKILL)
        a.wait()
        n = len(self.fires("beat"))
        wait_for(lambda: len(self.fires("beat")) >= n + 3, 20, every=0.2, what="3 more fires")
        self.assert_each_once_without_gaps(self.fires("beat"))

    def test_sighup_reloads_and_a_bad_file_keeps_the_old_schedule(self):
        self.write("first @every 1s echo\n")
        p = self.start_cron()
        wait_for(lambda: self.fires("first"), 10, every=0.2, what="first to fire")
        self.write("second @every 1s echo\n")
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: len(self.fires("second")) >= 2, 10, every=0.2, what="second to fire")
        last_first = max(self.fires("first"))
        self.assertLessEqual(last_first, min(self.fires("second")))
        self.write("second @every 1s echo\nbroken @sometimes echo\n")
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: "refused" in self.cron_log(), 10, what="the refusal logged")
        self.assertIn("line 2: unknown schedule", self.cron_log())
        n = len(self.fires("second"))
        wait_for(lambda: len(self.fires("second")) >= n + 2, 10, every=0.2,
                 what="the old schedule still firing")
        self.assertIsNone(p.poll())
        self.assertEqual(max(self.fires("first")), last_first)
        self.assert_each_once_without_gaps(self.fires("second"))

    def test_missed_fires_skipped_and_one_catch_up(self):
        now = int(time.time())
        self.r("HSET", self.key("cron", "last"), "skipper", now - 100, "catcher", now - 100)
        self.write("skipper @every 10s echo\nCATCHUP=one\ncatcher @every 10s echo\n")
        self.start_cron(ARUN_CRON_GRACE="1s")
        wait_for(lambda: self.cron_log().count("missed") >= 2, 10, what="the missed fires logged")
        wait_for(lambda: self.fires("catcher"), 15, every=0.2, what="the catch-up run")
        # one run for what was missed: the latest missed fire, or (when the
        # start fell within a second of a fire) the fire due at start
        catch_up = min(self.fires("catcher"))
        self.assertTrue(now - 100 < catch_up <= now + 10 and catch_up % 10 == 0, catch_up)
        self.assertTrue(all(t >= now - 1 for t in self.fires("skipper")), self.fires("skipper"))
        self.assertRegex(self.cron_log(), "one catch-up run|the run due now catches up")

    def test_no_burst_after_downtime(self):
        """An instance that starts finds the fires of the last grace period
        due: it enqueues the latest only, the others are missed."""
        now = int(time.time())
        self.r("HSET", self.key("cron", "last"), "burst", now - 30)
        self.write("burst @every 1s echo\n")
        self.start_cron(ARUN_CRON_GRACE="60s")
        wait_for(lambda: "missed" in self.cron_log(), 10, what="the missed fires logged")
        wait_for(lambda: len(self.fires("burst")) >= 3, 10, every=0.2, what="fires")
        fires = sorted(self.fires("burst"))
        self.assertGreaterEqual(fires[0], now - 1, fires)  # no run for now-29 .. now-2
        self.assert_each_once_without_gaps(fires)

    def test_the_worker_runs_scheduled_requests(self):
        self.write("hello @every 1s echo scheduled\n")
        self.start_worker()
        self.start_cron()
        rows = wait_for(lambda: self.rows("trigger_type = 'scheduled' AND status = 'success'"), 20,
                        what="a scheduled run")
        self.assertTrue(ID_RE.match(rows[0]["id"]), rows[0]["id"])
        self.assertEqual(rows[0]["script"], "echo")


class TestRedisRestart(CronCase):
    restarts_redis = True

    def test_fires_resume_after_a_redis_restart(self):
        self.write("beat @every 1s echo\n")
        self.start_cron()
        wait_for(lambda: len(self.fires("beat")) >= 2, 10, every=0.2, what="fires")
        self.r.close()
        self.server.stop()
        self.server.start()
        self.r = type(self.r)(self.server.port)
        n = len(self.fires("beat"))
        wait_for(lambda: len(self.fires("beat")) >= n + 2, 20, every=0.2, what="fires again")
        fires = self.fires("beat")
        self.assertEqual(len(fires), len(set(fires)))
        self.assertIsNone(self.crons[0].poll())


class TestOracle(unittest.TestCase):
    def test_fire_times_match_cron_parser(self):
        why = npm_ready()
        self.assertIsNone(why, why)
        for count, seed, zones in ((10000, 20261130, ["UTC"]),
                                   (2000, 42, ["Europe/Berlin", "America/New_York",
                                               "Asia/Kolkata", "Australia/Sydney"])):
            r = subprocess.run(["node", os.path.join(NODE_SUITE, "cron_oracle.js"), CRON_NEXT,
                                str(count), str(seed), *zones], capture_output=True, timeout=80)
            out = r.stdout.decode() + r.stderr.decode()
            self.assertEqual(r.returncode, 0, out)
            self.assertIn("mismatches 0", out)
            print(out.strip().splitlines()[-1])


if __name__ == "__main__":
    unittest.main()
