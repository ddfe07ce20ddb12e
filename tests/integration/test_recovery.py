"""Recovery: a worker killed mid-job, shutdown with running jobs, a job
that kills every worker that runs it, and Redis going away."""
import datetime
import hashlib
import json
import os
import signal
import subprocess
import time
import unittest

from harness import ArunTestCase, WORKER, pid_alive, read_pid, wait_for


class CrashTests(ArunTestCase):

    def test_kill9_mid_job_another_worker_finishes_it(self):
        a = self.start_worker(ARUN_HEARTBEAT_TTL="1s")
        sub = self.subscribe()
        self.push({"id": "crash-1", "script": "sleepy", "args": ["1.5"]})
        self.wait_row("crash-1", "running", 10)
        a.kill()
        a.wait()
        self.start_worker(ARUN_HEARTBEAT_TTL="1s")
        ev = self.wait_event(sub, "crash-1")
        self.assertEqual(ev["status"], "success")
        self.assertEqual(ev["attempts"], 2)
        rows = self.rows("id = 'crash-1'")
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["status"], rows[0]["attempts"]), ("success", 2))
        # exactly one final event, and nothing left in flight
        wait_for(lambda: not any(self.processing_lists().values()), 5, what="ack")
        self.r("PUBLISH", self.key("events"), json.dumps({"id": "marker-end"}))
        later = [e["id"] for e in self.events_until(sub, "marker-end")]
        self.assertEqual(later.count("crash-1"), 0, "a second final event for crash-1")
        self.assertEqual(self.r("LLEN", self.key("queue", "default")), 0)

    def test_kill9_leftover_grandchild_is_killed_before_the_rerun(self):
        a = self.start_worker(ARUN_HEARTBEAT_TTL="1s")
        sub = self.subscribe()
        self.push({"id": "orphan-gc", "script": "grandchild", "timeout_ms": 1500})
        self.wait_row("orphan-gc", "running", 10)
        pidfile = os.path.join(self.tmp, "grandchild.pid")
        wait_for(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile), 5, what="pid")
        first = read_pid(pidfile)
        a.kill()
        a.wait()
        time.sleep(0.3)
        self.assertTrue(pid_alive(first), "PDEATHSIG does not reach grandchildren")
        self.start_worker(ARUN_HEARTBEAT_TTL="1s")
        self.assertEqual(self.wait_event(sub, "orphan-gc")["status"], "timeout")
        # nothing else ends a `sleep 60` within the rerun's 1.5 s: the rerun
        # killed it (how many processes it found depends on how far the
        # first run's exit had gone, so the count is not asserted)
        self.assertFalse(pid_alive(first), "the first run's grandchild outlived its job")

    def test_same_id_twice_at_once_runs_once(self):
        self.start_worker(ARUN_CONCURRENCY=2)
        sub = self.subscribe()
        req = {"id": "twin", "script": "marker", "args": ["twin-ran"]}
        self.push({"id": "twin", "script": "sleepy", "args": ["0.5"]})
        self.wait_row("twin", "running")
        self.push(req)
        first = self.wait_event(sub, "twin")
        second = self.wait_event(sub, "twin")
        self.assertEqual((first["status"], second["status"]), ("success", "success"))
        self.assertEqual(first["completed_at"], second["completed_at"])  # a re-sent result
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "twin-ran")))
        self.assertEqual(len(self.rows("id = 'twin'")), 1)

    def test_poison_pill_ends_failed_after_three_deliveries(self):
        # a dead worker (no heartbeat) left a request that was already put
        # back twice: its recovery is the third, so it is not run again. The
        # count lives beside the request (P:delivery:SHA1), never in it: the
        # producer's "attempt" field counts for nothing.
        req = json.dumps({"id": "poison", "script": "echo", "attempt": 0})
        self.r("SET", self.key("delivery", hashlib.sha1(req.encode()).hexdigest()), 2)
        self.r("RPUSH", self.key("processing", "ghost:1:dead"), req)
        self.r("SADD", self.key("workers"), "ghost:1:dead")
        sub = self.subscribe()
        self.start_worker(ARUN_HEARTBEAT_TTL="500ms")
        ev = self.wait_event(sub, "poison")
        self.assertEqual(ev["status"], "failed")
        row = self.row("poison")
        self.assertIn("delivered 3 times", row["stderr"])
        self.assertEqual(row["attempts"], 3)
        self.assertEqual(self.r("LLEN", self.key("processing", "ghost:1:dead")), 0)

    def test_producer_attempt_field_counts_for_nothing(self):
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "att-99", "script": "echo", "attempt": 99})
        ev = self.wait_event(sub, "att-99")
        self.assertEqual((ev["status"], ev["attempts"]), ("success", 1))

    def test_dead_workers_list_is_recovered_even_if_unregistered(self):
        req = json.dumps({"id": "orphan", "script": "echo"})
        self.r("RPUSH", self.key("processing", "ghost:2:gone"), req)
        sub = self.subscribe()
        self.start_worker(ARUN_HEARTBEAT_TTL="500ms")
        ev = self.wait_event(sub, "orphan")
        self.assertEqual((ev["status"], ev["attempts"]), ("success", 2))

    def test_sigterm_lets_running_jobs_finish(self):
        w = self.start_worker()
        sub = self.subscribe()
        self.push({"id": "drain-1", "script": "sleepy", "args": ["1"]})
        self.wait_row("drain-1", "running")
        t0 = time.monotonic()
        w.send_signal(signal.SIGTERM)
        self.assertEqual(self.wait_event(sub, "drain-1")["status"], "success")
        self.assertEqual(w.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(self.r("KEYS", self.key("worker", "*")), [])
        self.assertFalse(any(self.processing_lists().values()))

    def test_requests_taken_ahead_wait_their_turn_and_go_back_on_sigterm(self):
        # ARUN_TAKE_AHEAD=1 with one slot: the second request is taken
        # (in the processing list, not the queue) but not started; the
        # drain puts it back in its queue, the running job finishes.
        w = self.start_worker(ARUN_CONCURRENCY="1", ARUN_TAKE_AHEAD="1")
        sub = self.subscribe()
        for i in range(3):
            self.push({"id": "ahead-%d" % i, "script": "sleepy", "args": ["1"]})
        self.wait_row("ahead-0", "running")
        queue = self.key("queue", "default")
        wait_for(lambda: self.r("LLEN", queue) == 1, 5, what="one request taken ahead")
        held = [e for lst in self.processing_lists().values() for e in lst]
        self.assertEqual(sorted(json.loads(e)["id"] for e in held), ["ahead-0", "ahead-1"])
        self.assertIsNone(self.row("ahead-1"), "a held request must not start")
        w.send_signal(signal.SIGTERM)
        self.assertEqual(self.wait_event(sub, "ahead-0")["status"], "success")
        self.assertEqual(w.wait(10), 0)
        left = sorted(json.loads(e)["id"] for e in self.r("LRANGE", queue, 0, -1))
        self.assertEqual(left, ["ahead-1", "ahead-2"])
        self.assertIsNone(self.row("ahead-1"))
        # another worker runs them, one at a time, in order
        self.start_worker(ARUN_CONCURRENCY="1", ARUN_TAKE_AHEAD="1")
        evs = self.wait_events(sub, ["ahead-1", "ahead-2"])
        self.assertEqual({e["status"] for e in evs.values()}, {"success"})
        rows = sorted((self.row(i) for i in ("ahead-1", "ahead-2")), key=lambda r: r["started_at"])
        self.assertEqual([r["id"] for r in rows], ["ahead-1", "ahead-2"])
        # completed_at is when the row was recorded, after the next start;
        # the first run's end is its start plus its duration (ms, rounded)
        def ms(iso):
            return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000
        first_end = ms(rows[0]["started_at"]) + rows[0]["duration_ms"]
        self.assertLessEqual(first_end, ms(rows[1]["started_at"]) + 2, "one slot: no overlap")

    def test_idle_worker_exits_promptly_on_sigterm(self):
        w = self.start_worker()
        t0 = time.monotonic()
        w.send_signal(signal.SIGTERM)
        self.assertEqual(w.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual(self.r("KEYS", self.key("worker", "*")), [])

    def test_drain_deadline_requeues_unfinished_jobs(self):
        w = self.start_worker("--drain-timeout", "300ms")
        self.push({"id": "long-1", "script": "sleepy", "args": ["30"]})
        self.wait_row("long-1", "running")
        w.send_signal(signal.SIGTERM)
        self.assertEqual(w.wait(10), 0)
        queued = self.r("LRANGE", self.key("queue", "default"), 0, -1)
        self.assertEqual(len(queued), 1)
        self.assertEqual(json.loads(queued[0])["id"], "long-1")
        self.assertFalse(any(self.processing_lists().values()))
        # its row does not claim it runs: it is back on its queue
        self.assertEqual(self.row("long-1")["status"], "queued")
        # a new worker runs it to the end (shortened, so the test is quick)
        self.r("DEL", self.key("queue", "default"))
        sub = self.subscribe()
        self.start_worker()
        self.push({"id": "long-1", "script": "sleepy", "args": ["0.1"]})
        self.assertEqual(self.wait_event(sub, "long-1")["status"], "success")


class RedisOutageTests(ArunTestCase):
    restarts_redis = True

    def test_worker_waits_for_redis_at_start(self):
        self.server.stop()
        log = open(os.path.join(self.tmp, "worker-0.log"), "wb")
        w = subprocess.Popen([WORKER], env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.workers.append(w)
        time.sleep(1.5)
        self.assertIsNone(w.poll(), "worker must keep waiting for Redis")
        self.server.start()
        self.r.close()
        from harness import Redis
        self.r = Redis(self.server.port)
        sub = self.subscribe()
        self.push({"id": "late-1", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "late-1")["status"], "success")
        self.assertEqual(self.worker_log().count("redis unreachable"), 3)  # once per connection

    def test_redis_restart_while_job_runs(self):
        self.start_worker()
        self.push({"id": "rr-1", "script": "sleepy", "args": ["1"]})
        self.wait_row("rr-1", "running")
        self.r.close()
        self.server.stop()
        time.sleep(1.5)
        self.server.start()  # AOF on: the queue and processing list survive
        from harness import Redis
        self.r = Redis(self.server.port)
        row = self.wait_row("rr-1", "success", 20)
        self.assertEqual(row["attempts"], 1)
        wait_for(lambda: self.result("rr-1"), 10, what="the result after reconnect")
        wait_for(lambda: not any(self.processing_lists().values()), 10, what="ack")
        sub = self.subscribe()
        self.push({"id": "rr-2", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "rr-2")["status"], "success")


if __name__ == "__main__":
    unittest.main()
