"""One history for all hosts (common/follow.c, run by tests/follow/follow_run):
a follower reads P:stream:events in its own consumer group and records in its
own SQLite file every job it has not seen, with the full record from
P:result:ID, or the event alone when the result has expired. It skips jobs
whose final row it already has, resumes after a crash from its pending
entries, survives a Redis restart, and, with two real workers on two
databases, ends up with every job of both.
"""
import json
import os
import signal
import sqlite3
import subprocess
import threading
import unittest

from harness import BUILD, WORKER, ArunTestCase, Redis, wait_for

FOLLOW = os.path.join(BUILD, "tests", "follow_run")


def worker_writes_stream():
    """True once arun-worker appends events to P:stream:events itself (it
    then has the ARUN_STREAM_MAXLEN option of the contract)."""
    out = subprocess.run([WORKER, "--help"], capture_output=True, text=True).stdout
    return "ARUN_STREAM_MAXLEN" in out


class StreamBridge(threading.Thread):
    """Stands in for the worker's own XADD while the worker does not write
    the stream yet: every event published on P:events is appended to
    P:stream:events as the contract says (field "event", the same JSON)."""

    def __init__(self, port, prefix):
        super().__init__(daemon=True)
        self.sub = Redis(port, timeout=60)
        self.sub("SUBSCRIBE", prefix + ":events")
        self.out = Redis(port)
        self.stream = prefix + ":stream:events"
        self.stopping = False

    def run(self):
        try:
            while not self.stopping:
                msg = self.sub.read()
                if msg[0] == b"message":
                    self.out("XADD", self.stream, "MAXLEN", "~", "100000", "*", "event", msg[2])
        except (OSError, ConnectionError):
            pass  # closed by stop()

    def stop(self):
        self.stopping = True
        self.sub.close()
        self.join(10)
        self.out.close()


class FollowCase(ArunTestCase):
    def setUp(self):
        super().setUp()
        self.history = os.path.join(self.tmp, "history", "arun.db")
        self.followers = []

    def tearDown(self):
        for p in self.followers:
            if p.poll() is None:
                p.kill()
            p.wait()
            if p.stdout:
                p.stdout.close()
        super().tearDown()

    def start_follower(self, group="history-test", consumer="c1"):
        log = open(os.path.join(self.tmp, "follow-%d.log" % len(self.followers)), "wb")
        p = subprocess.Popen([FOLLOW, group, consumer], env=self.env(ARUN_DB=self.history),
                             stdout=subprocess.PIPE, stderr=log)
        log.close()
        self.followers.append(p)
        return p

    def stop_follower(self, p):
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0)
        return json.loads(out)

    def history_rows(self, db=None):
        """{id: row} of the follower's database (or of db)."""
        db = db or self.history
        if not os.path.exists(db):
            return {}
        con = sqlite3.connect(db, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            return {r["id"]: dict(r) for r in con.execute("SELECT * FROM analytics_jobs")}
        except sqlite3.OperationalError:  # created, the table not yet
            return {}
        finally:
            con.close()

    def wait_history(self, ids, timeout=20):
        return wait_for(lambda: (lambda rows: rows if set(ids) <= set(rows) else None)(
            self.history_rows()), timeout, what="the follower's rows of %s" % sorted(ids))

    def announce(self, job_id, stdout="out", with_result=True, status="success"):
        """What a worker writes for a finished job: the result, then the event."""
        record = {"id": job_id, "script": "echo", "trigger": "api", "status": status,
                  "exit_code": 0, "duration_ms": 12, "created_at": "2026-11-28T09:15:02.123Z",
                  "completed_at": "2026-11-28T09:15:02.135Z", "attempts": 1, "signal": None,
                  "trigger_type": "api", "stdout": stdout, "stderr": "", "args": ["a b"],
                  "worker": "elsewhere:1:x", "queue": "default"}
        if with_result:
            self.r("SET", self.key("result", job_id), json.dumps(record), "EX", 600)
        event = {k: record[k] for k in ("id", "script", "trigger", "status", "exit_code",
                                        "duration_ms", "created_at", "completed_at",
                                        "attempts", "signal")}
        event["event"] = "job.completed"
        return self.r("XADD", self.key("stream", "events"), "*", "event", json.dumps(event))


class TestFollow(FollowCase):
    def test_records_jobs_from_results_and_events(self):
        self.announce("j1", stdout="full record")
        self.announce("j2", with_result=False)           # result expired: the event alone
        self.r("XADD", self.key("stream", "events"), "*", "event", "not json")
        self.r("XADD", self.key("stream", "events"), "*", "other", "field")
        self.announce("j1", stdout="full record")        # announced twice (a redelivery)
        p = self.start_follower()
        rows = self.wait_history({"j1", "j2"})
        self.assertEqual(rows["j1"]["stdout"], "full record")
        self.assertEqual(rows["j1"]["args"], '["a b"]')
        self.assertEqual(rows["j1"]["worker"], "elsewhere:1:x")
        self.assertEqual(rows["j1"]["status"], "success")
        self.assertIsNone(rows["j2"]["stdout"])
        self.assertEqual(rows["j2"]["duration_ms"], 12)
        # everything read is acknowledged, the refused entries included
        wait_for(lambda: self.r("XPENDING", self.key("stream", "events"), "history-test")[0] == 0,
                 10, what="no pending entries")
        st = self.stop_follower(p)
        self.assertEqual((st["recorded"], st["from_event"], st["refused"], st["skipped"]),
                         (1, 1, 2, 1), st)

    def test_keeps_a_final_row_it_has(self):
        # the follower's database is also a local worker's: its row wins
        p = self.start_follower()
        self.announce("first")
        self.wait_history({"first"})
        con = sqlite3.connect(self.history, timeout=10)
        con.execute("INSERT INTO analytics_jobs (id, script, trigger_type, status, stdout) "
                    "VALUES ('local', 'echo', 'manual', 'success', 'written here')")
        con.commit()
        con.close()
        self.announce("local", stdout="from the stream")
        self.announce("after")
        rows = self.wait_history({"after"})
        self.assertEqual(rows["local"]["stdout"], "written here")
        st = self.stop_follower(p)
        self.assertEqual(st["skipped"], 1, st)

    def test_resumes_pending_and_missed_entries(self):
        stream = self.key("stream", "events")
        self.announce("e0")
        # a previous run of the same consumer read e0 and died before XACK
        self.r("XGROUP", "CREATE", stream, "history-test", "0", "MKSTREAM")
        self.r("XREADGROUP", "GROUP", "history-test", "c1", "COUNT", "1", "STREAMS", stream, ">")
        self.announce("e1")
        p = self.start_follower()
        self.wait_history({"e0", "e1"})
        p.kill()  # a crash: nothing is flushed
        p.communicate()
        self.announce("e2")  # while it is down
        p = self.start_follower()
        self.wait_history({"e2"})
        st = self.stop_follower(p)
        self.assertEqual(st["recorded"], 1, st)  # e0 and e1 were acknowledged before

    def test_a_group_per_database(self):
        # a second follower with its own database and group sees every job too
        self.announce("shared")
        p1 = self.start_follower(group="history-a")
        self.wait_history({"shared"})
        self.stop_follower(p1)
        self.history = os.path.join(self.tmp, "history-b", "arun.db")
        p2 = self.start_follower(group="history-b")
        self.wait_history({"shared"})
        self.stop_follower(p2)

    def test_two_workers_two_databases(self):
        """Two worker hosts, each with its own database; the follower's
        database ends up with every job of both, output included."""
        bridge = None
        if not worker_writes_stream():
            print("\nnote: arun-worker does not write P:stream:events yet; "
                  "this test appends each published event to the stream itself")
            bridge = StreamBridge(self.server.port, self.prefix)
            bridge.start()
        try:
            dbs = [os.path.join(self.tmp, "host%d" % i, "arun.db") for i in (1, 2)]
            for db in dbs:
                self.start_worker(ARUN_DB=db, ARUN_CONCURRENCY=1)
            p = self.start_follower()
            ids = ["two-%02d" % i for i in range(24)]
            for i in ids:
                self.push({"id": i, "script": "echo", "args": [i], "trigger": "api"})
            source = {}

            def all_final():
                source.clear()
                for db in dbs:
                    source.update({k: r for k, r in self.history_rows(db).items()
                                   if r["status"] != "running"})
                return len(source) == len(ids)
            wait_for(all_final, 60, what="every job to end on one of the two hosts")
            rows = self.wait_history(ids, timeout=30)
            for i in ids:
                self.assertEqual(rows[i]["status"], "success")
                self.assertEqual(rows[i]["stdout"], source[i]["stdout"])
                self.assertEqual(rows[i]["worker"], source[i]["worker"])
                self.assertEqual(rows[i]["created_at"], source[i]["created_at"])
            self.assertEqual({r["worker"] for r in rows.values()},
                             {r["worker"] for r in source.values()})
            self.stop_follower(p)
        finally:
            if bridge:
                bridge.stop()


class TestFollowRedisRestart(FollowCase):
    restarts_redis = True

    def test_survives_a_redis_restart(self):
        p = self.start_follower()
        self.announce("before")
        self.wait_history({"before"})
        self.server.stop()
        self.server.start()  # same port, the AOF brings the stream and group back
        self.r.close()
        self.r = Redis(self.server.port)
        self.announce("after")
        self.wait_history({"after"}, timeout=30)
        st = self.stop_follower(p)
        self.assertEqual(st["recorded"], 2, st)
        self.assertEqual(st["connected"], 1, st)


if __name__ == "__main__":
    unittest.main()
