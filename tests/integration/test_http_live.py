"""arun-http with the worker's second-stage features, end to end against a
real arun-worker: completion events from P:stream:events, live output of a
watched job (P:watch / P:output:ID), and cancellation (P:cancel). These
need a worker that implements them (the worker, second stage)."""
import json
import os
import unittest

from httpkit import HttpTestCase


SLOW_PRINTER = '''import sys, time
for i in range(3):
    print("tick", i, flush=True)
    time.sleep(0.4)
print("done", file=sys.stderr)
'''


class TestLive(HttpTestCase):

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.scripts, "ticker.py"), "w") as f:
            f.write(SLOW_PRINTER)

    def test_events_from_the_worker(self):
        self.start_worker()
        self.start_http()
        s = self.sse("/api/analytics/events")
        job = self.submit_api("echo", id="live-ev")
        name, eid, data = s.next_event()
        ev = json.loads(data)
        self.assertEqual((name, ev["id"], ev["status"]), ("job.completed", job, "success"))
        # resuming from before it gives it again, from after it does not
        again = self.sse("/api/analytics/events", headers={"Last-Event-ID": "0-0"})
        self.assertEqual(again.next_event()[1], eid)

    def test_live_output_of_a_running_job(self):
        self.start_worker()
        self.start_http()
        job = self.submit_api("ticker", id="live-out")
        self.wait_status(job, {"running"})
        s = self.sse("/api/analytics/jobs/live-out/output")
        got = []
        while True:
            ev = s.next_event()
            self.assertIsNotNone(ev, "the stream closed before end")
            if ev[0] == "end":
                break
            got.append(ev[:1] + ev[2:])
            if len(got) == 1:  # a line arrived while the job still runs
                st, _, row = self.request("GET", "/api/analytics/jobs/live-out")
                self.assertEqual(row["status"], "running")
        text = "\n".join(d for fd, d in got if fd == "stdout")
        self.assertEqual(text.split("\n"), ["tick 0", "tick 1", "tick 2"])
        self.assertIn(("stderr", "done"), got)
        self.assertEqual(json.loads(ev[2])["status"], "success")

    def test_cancel_running_and_queued(self):
        self.start_worker(ARUN_CONCURRENCY="1")
        self.start_http()
        running = self.submit_api("sleepy", ["60"], id="c-run")
        queued = self.submit_api("sleepy", ["60"], id="c-queued")
        self.wait_status(running, {"running"})
        for job in (queued, running):
            st, _, body = self.request("POST", "/api/analytics/jobs/%s/cancel" % job)
            self.assertEqual((st, body), (202, {"id": job, "status": "cancelling"}))
        for job in (queued, running):
            row = self.wait_status(job, {"cancelled"}, timeout=15)
            self.assertIsNone(row["exit_code"])
        err = self.assert_error(self.request("POST", "/api/analytics/jobs/c-run/cancel"), 409, "conflict")
        self.assertEqual(err["status"], "cancelled")


if __name__ == "__main__":
    unittest.main()
