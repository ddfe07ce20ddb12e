"""Cancellation, end to end against a real worker and Redis: a queued job
never starts and does not wait behind the jobs queued before it; a running
one is killed (SIGTERM, then SIGKILL after the grace) and ends cancelled
with its output kept; a finished one is left alone; a cancel recorded
before the push wins; and the races — cancel while the request moves to a
worker, during a timeout's kill grace, while a dead worker's request is
recovered, twice at once — each end with one final row and one event."""
import hashlib
import json
import os
import time
import unittest

from harness import ArunTestCase, pid_alive, read_pid, wait_for


class CancelTests(ArunTestCase):
    def test_queued_job_is_cancelled_without_waiting_its_turn(self):
        sub = self.subscribe()
        self.start_worker(ARUN_CONCURRENCY="1")
        self.push({"id": "busy", "script": "sleepy", "args": ["20"]})
        self.wait_row("busy", "running")
        self.push({"id": "ahead", "script": "marker", "args": ["ahead-ran"]})
        self.push({"id": "victim", "script": "marker", "args": ["victim-ran"]})
        self.cancel("victim")
        ev = self.wait_event(sub, "victim")
        self.assertEqual(ev["status"], "cancelled")
        self.assertIsNone(ev["exit_code"])
        self.assertIsNone(ev["started_at"])
        self.assertEqual(self.row("busy")["status"], "running", "it did not wait for a slot")
        self.assertIn("cancelled", self.row("victim")["stderr"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "victim-ran")))
        self.assertEqual(self.r("LRANGE", self.key("queue", "default"), 0, -1),
                         [json.dumps({"id": "ahead", "script": "marker",
                                      "args": ["ahead-ran"]}).encode()])
        self.assertEqual(json.loads(self.r("GET", self.key("result", "victim")))["status"],
                         "cancelled")

    def test_running_job_is_killed_and_keeps_its_output(self):
        sub = self.subscribe()
        self.start_worker(ARUN_KILL_GRACE_MS="5000")
        self.push({"id": "run-c", "script": "printsleep", "args": ["60"]})
        self.wait_row("run-c", "running")
        wait_for(lambda: self.watch_output("run-c"), 10, what="the script's first line")
        t0 = time.monotonic()
        self.cancel("run-c")
        ev = self.wait_event(sub, "run-c")
        self.assertLess(time.monotonic() - t0, 4, "SIGTERM is sent at once, not after the grace")
        self.assertEqual(ev["status"], "cancelled")
        self.assertEqual(ev["signal"], 15)
        self.assertIsNone(ev["exit_code"])
        row = self.row("run-c")
        self.assertEqual(row["status"], "cancelled")
        self.assertEqual(row["stdout"], "started\n")
        self.assertEqual(len(self.events_of(sub, "run-c")), 0, "one event only")

    def watch_output(self, job_id):
        """Asks for live output and returns what the stream holds so far."""
        self.r("SET", self.key("watch", job_id), 1, "EX", 60)
        self.r("PUBLISH", self.key("watch"), job_id)
        return self.r("XRANGE", self.key("output", job_id), "-", "+")

    def test_sigterm_ignoring_job_is_killed_after_the_grace(self):
        sub = self.subscribe()
        self.start_worker(ARUN_KILL_GRACE_MS="300")
        self.push({"id": "stubborn", "script": "ignore_term"})
        wait_for(lambda: os.path.exists(os.path.join(self.tmp, "ignore_term.pid")), 10,
                 what="the script's pid")
        self.cancel("stubborn")
        ev = self.wait_event(sub, "stubborn")
        self.assertEqual((ev["status"], ev["signal"]), ("cancelled", 9))

    def test_finished_job_is_left_as_it_was(self):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "done-1", "script": "echo"})
        first = self.wait_event(sub, "done-1")
        self.cancel("done-1")
        self.assertEqual(self.events_of(sub, "done-1"), [])
        self.assertEqual(first["status"], "success")
        self.assertEqual(self.row("done-1")["status"], "success")
        self.assertEqual(json.loads(self.r("GET", self.key("result", "done-1")))["status"],
                         "success")

    def test_cancel_recorded_before_the_push_wins(self):
        sub = self.subscribe()
        self.start_worker()
        self.cancel("early")
        self.assertGreater(self.r("TTL", self.key("cancel", "early")), 0)
        self.push({"id": "early", "script": "marker", "args": ["early-ran"]})
        self.assertEqual(self.wait_event(sub, "early")["status"], "cancelled")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "early-ran")))

    def test_cancel_during_the_kill_grace_of_a_timeout_stays_a_timeout(self):
        sub = self.subscribe()
        self.start_worker(ARUN_KILL_GRACE_MS="1500")
        self.push({"id": "grace", "script": "ignore_term", "timeout_ms": 300})
        wait_for(lambda: os.path.exists(os.path.join(self.tmp, "ignore_term.pid")), 10,
                 what="the script's pid")
        time.sleep(0.6)  # past the deadline, inside the grace
        self.cancel("grace")
        ev = self.wait_event(sub, "grace")
        self.assertEqual(ev["status"], "timeout")
        self.assertEqual(self.events_of(sub, "grace"), [])
        self.assertEqual(len(self.rows("id = 'grace'")), 1)

    def test_two_cancels_at_once(self):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "twice", "script": "sleepy", "args": ["30"]})
        self.wait_row("twice", "running")
        self.cancel("twice")
        self.cancel("twice")
        self.assertEqual(self.wait_event(sub, "twice")["status"], "cancelled")
        self.assertEqual(self.events_of(sub, "twice"), [])

    def test_cancel_while_requests_move_to_workers(self):
        sub = self.subscribe()
        self.start_worker(ARUN_CONCURRENCY="4")
        self.start_worker(ARUN_CONCURRENCY="4")
        ids = ["race-%d" % i for i in range(30)]
        for i in ids:
            self.push({"id": i, "script": "sleepy", "args": ["20"]})
            self.cancel(i)
        got = self.wait_events(sub, ids)
        for i in ids:
            self.assertEqual(got[i]["status"], "cancelled", i)
            self.assertEqual(len(self.rows("id = ?", (i,))), 1)
        later = [e["id"] for e in self.events_of(sub, "none")]
        self.assertEqual(later, [])
        wait_for(lambda: not any(self.processing_lists().values()), 10, what="acks")

    def test_cancel_of_a_job_being_recovered_from_a_dead_worker(self):
        req = json.dumps({"id": "orphaned", "script": "marker", "args": ["orphaned-ran"]})
        self.r("RPUSH", self.key("processing", "ghost:2:dead"), req)
        self.r("SADD", self.key("workers"), "ghost:2:dead")
        self.cancel("orphaned")
        sub = self.subscribe()
        self.start_worker(ARUN_HEARTBEAT_TTL="500ms")
        ev = self.wait_event(sub, "orphaned")
        self.assertEqual(ev["status"], "cancelled")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "orphaned-ran")))
        self.assertEqual(self.r("LLEN", self.key("processing", "ghost:2:dead")), 0)


if __name__ == "__main__":
    unittest.main()
