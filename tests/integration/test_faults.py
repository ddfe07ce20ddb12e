"""Fault tests: Redis going away for seconds, a locked database, a job that
kills its worker every time, floods of output, and hostile requests."""
import json
import os
import sqlite3
import subprocess
import time
import unittest

from harness import ArunTestCase, Redis, wait_for


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class RedisDownTests(ArunTestCase):
    restarts_redis = True

    def reconnect(self):
        self.r.close()
        self.r = Redis(self.server.port)

    def test_five_second_outage_while_running_and_idle(self):
        w = self.start_worker()
        self.push({"id": "out-run", "script": "sleepy", "args": ["2"]})
        self.wait_row("out-run", "running")
        self.r.close()
        self.server.stop()
        cpu0 = cpu_seconds(w.pid)
        time.sleep(5)
        cpu = cpu_seconds(w.pid) - cpu0
        # the job finished and was recorded while Redis was away
        self.assertEqual(self.row("out-run")["status"], "success")
        self.server.start()
        self.reconnect()
        self.assertLess(cpu, 0.5, "worker busy-looped while Redis was down")
        wait_for(lambda: self.result("out-run"), 10, what="result delivered after the outage")
        wait_for(lambda: not any(self.processing_lists().values()), 10, what="ack")
        log = self.worker_log()
        self.assertEqual(log.count("redis unreachable (cmd"), 1, "log once per outage")
        # and it takes new work
        sub = self.subscribe()
        self.push({"id": "out-after", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "out-after")["status"], "success")
        self.assertEqual(len(self.rows()), 2)


    def test_submit_wait_survives_a_redis_restart(self):
        self.start_worker()
        from harness import SUBMIT
        waiter = subprocess.Popen([SUBMIT, "--wait", "--id", "rs-1", "sleepy", "2"],
                                  env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.wait_row("rs-1", "running")
        self.r.close()
        self.server.stop()
        time.sleep(1)
        self.server.start()
        self.reconnect()
        out, err = waiter.communicate(timeout=30)
        self.assertEqual(waiter.returncode, 0, err)
        self.assertEqual(out, b"slept\n")
        self.assertIn(b"lost the connection to Redis", err)


class ScriptCacheTests(ArunTestCase):
    """The acknowledgement is sent by its digest (EVALSHA); a Redis that
    forgot its scripts (SCRIPT FLUSH, a restart) answers NOSCRIPT, and the
    worker sends the text again: each job still ends exactly once."""

    def test_acknowledgement_after_script_flush(self):
        self.start_worker()
        sub = self.subscribe()
        self.push({"id": "flush-1", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "flush-1")["status"], "success")
        noscripts = self.evalsha_failures()  # the server is shared by this module's tests
        self.assertEqual(self.r("SCRIPT", "FLUSH"), "OK")
        for n in (2, 3):
            self.push({"id": "flush-%d" % n, "script": "echo"})
            self.assertEqual(self.wait_event(sub, "flush-%d" % n)["status"], "success")
        for n in (1, 2, 3):
            jid = "flush-%d" % n
            self.assertEqual(self.result(jid)["status"], "success")
            self.assertEqual(len(self.events_of(sub, jid, marker="m-%d" % n)), 0,
                             "no second event for %s" % jid)
        stream = self.r("XRANGE", self.key("stream", "events"), "-", "+")
        ids = [json.loads(dict(zip(e[1][::2], e[1][1::2]))[b"event"])["id"] for e in stream]
        self.assertEqual(sorted(ids), ["flush-1", "flush-2", "flush-3"])
        wait_for(lambda: not any(self.processing_lists().values()), 10, what="acks")
        self.assertNotIn("acknowledging the job failed", self.worker_log())
        self.assertEqual(self.evalsha_failures() - noscripts, 1, "exactly one NOSCRIPT")

    def evalsha_failures(self):
        stats = self.r("INFO", "commandstats")
        stats = stats.decode() if isinstance(stats, bytes) else stats
        for line in stats.splitlines():
            if line.startswith("cmdstat_evalsha:"):
                return int(line.rsplit("failed_calls=", 1)[1].split(",")[0])
        return 0


class RedisSettingsTests(ArunTestCase):
    restarts_redis = True  # its own server: the test changes its settings

    def test_warns_once_about_an_evicting_forgetful_redis(self):
        self.r("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        self.r("CONFIG", "SET", "appendonly", "no")
        self.start_worker()
        wait_for(lambda: "persistence is off" in self.worker_log(), 5, what="warning")
        sub = self.subscribe()
        self.push({"id": "warned", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "warned")["status"], "success")
        log = self.worker_log()
        self.assertEqual(log.count("maxmemory-policy is allkeys-lru"), 1)
        self.assertEqual(log.count("persistence is off"), 1)


class StoreLockTests(ArunTestCase):

    def test_database_write_lock_held_for_three_seconds(self):
        self.start_worker()
        sub = self.subscribe()
        con = sqlite3.connect(self.db, timeout=5, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")  # the write lock
        t0 = time.monotonic()
        for i in range(3):
            self.push({"id": "lock-%d" % i, "script": "echo"})
        time.sleep(3)
        self.assertEqual(self.rows("id LIKE 'lock-%'"), [], "nothing could be written")
        con.execute("ROLLBACK")
        con.close()
        events = self.wait_events(sub, ["lock-%d" % i for i in range(3)])
        self.assertEqual({e["status"] for e in events.values()}, {"success"})
        self.assertGreaterEqual(time.monotonic() - t0, 3)
        self.assertEqual(len(self.rows("status = 'success'")), 3)


class PoisonTests(ArunTestCase):

    def test_job_that_kills_every_worker_ends_failed(self):
        event, deaths = self.run_killer({"id": "killer", "script": "kill_worker"}, "killer")
        self.assertEqual(event["status"], "failed")
        self.assertEqual(deaths, 3, "each of 3 deliveries took a worker down")
        row = self.row("killer")
        self.assertEqual(row["status"], "failed")
        self.assertIn("delivered 3 times", row["stderr"])
        self.assertEqual(row["attempts"], 3)
        self.assertEqual(self.r("LLEN", self.key("queue", "default")), 0)


class OutputTests(ArunTestCase):

    def test_fifty_megabytes_interleaved_keeps_memory_bounded(self):
        w = self.start_worker()
        sub = self.subscribe()
        self.push({"id": "flood-50", "script": "flood", "args": [str(50 * 1000 * 1000)],
                   "timeout_ms": 120000})
        ev = self.wait_event(sub, "flood-50")
        self.assertEqual(ev["status"], "success")
        row = self.row("flood-50")
        for stream in ("stdout", "stderr"):
            self.assertIn("kept 1048576 of 50000000 bytes", row[stream])
        # two 1 MiB captures plus the record: far below the 100 MB written.
        # Typically ~11 MB here; one CI run under parallel load saw 35 MB
        # (cause not found yet), so the bound only rules out memory that
        # grows with the output. bench/ measures the tight figure.
        self.assertLess(peak_rss_kb(w.pid), 48 * 1024)


class HostileRequestTests(ArunTestCase):

    def test_hostile_requests_are_refused_and_worker_lives(self):
        w = self.start_worker()
        sub = self.subscribe()
        hostile = {
            "deep": "[" * 100000 + "]" * 100000,
            "deep-obj": '{"a":' * 5000 + "1" + "}" * 5000,
            "huge-string": json.dumps({"id": "h-huge", "script": "echo", "args": ["x" * (10 << 20)]}),
            "many-args": json.dumps({"id": "h-many", "script": "echo", "args": ["a"] * 5000}),
            "nul-arg": json.dumps({"id": "h-nul", "script": "echo", "args": ["a\u0000b"]}),
            "nul-script": json.dumps({"id": "h-nuls", "script": "echo\u0000x"}),
            "bad-utf8": b'{"id":"h-utf8","script":"\xc3\x28"}',
            "float-timeout": json.dumps({"id": "h-float", "script": "echo", "timeout_ms": 5.5}),
            "neg-timeout": json.dumps({"id": "h-neg", "script": "echo", "timeout_ms": -1}),
            "args-object": json.dumps({"id": "h-argsobj", "script": "echo", "args": {"a": 1}}),
            "trigger-number": json.dumps({"id": "h-trig", "script": "echo", "trigger": 5}),
            "empty": "",
            "null": "null",
        }
        for body in hostile.values():
            self.push(body)
        for jid, script in [("h-slash", "a/b"), ("h-dotdot", "../echo"), ("h-abs", "/usr/bin/env"),
                            ("h-init", "__init__.py"), ("h-empty", "")]:
            self.push({"id": jid, "script": script})
        self.push({"id": "h-last", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "h-last")["status"], "success")
        self.assertIsNone(w.poll(), "worker alive")
        rows = {r["id"]: r for r in self.rows()}
        for jid in ["h-many", "h-nul", "h-nuls", "h-float", "h-neg", "h-argsobj",
                    "h-trig", "h-slash", "h-dotdot", "h-abs", "h-init", "h-empty"]:
            self.assertEqual(rows[jid]["status"], "rejected", jid)
            self.assertTrue(rows[jid]["stderr"], jid)
        self.assertIn("too many args", rows["h-many"]["stderr"])
        self.assertIn("NUL", rows["h-nul"]["stderr"])
        # an oversized request is not parsed at all, so it has no id to announce
        self.assertNotIn("h-huge", rows)
        dead = [json.loads(d) for d in self.r("LRANGE", self.key("dead"), 0, -1)]
        self.assertTrue(any("over the 1048576-byte limit" in d["reason"] and
                            len(d["request"]) > 10 << 20 for d in dead))
        # only h-last ran: no row but h-last is success
        self.assertEqual([r for r in rows.values() if r["status"] != "rejected"],
                         [rows["h-last"]])
        dead = self.r("LLEN", self.key("dead"))
        self.assertEqual(dead, len(hostile))  # every malformed one kept, with its reason
        self.assertFalse(any(self.processing_lists().values()))


if __name__ == "__main__":
    unittest.main()
