#!/usr/bin/env python3
"""How fast a history follower (common/follow.c, through tests/follow/follow_run)
catches up: JOBS completion events, each with its P:result:ID, are written to
a fresh Redis first, then a follower with an empty database is started and
timed until its database holds every job. This is what a new arun-http does
on its first start (its group starts at the beginning of the stream), or one
that was down while jobs ended.

    python3 bench/follow_rate.py [--build build] [--jobs 20000] [--output-bytes 200]
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import Redis, RedisServer, wait_for  # noqa: E402


def count(db):
    try:
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute("SELECT COUNT(*) FROM analytics_jobs").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--output-bytes", type=int, default=200, help="stdout per job")
    a = ap.parse_args()
    follow = os.path.join(os.path.abspath(a.build), "tests", "follow_run")
    srv = RedisServer(appendonly=False)
    srv.start()
    tmp = tempfile.mkdtemp(prefix="arun-follow-bench-")
    p = None
    try:
        r = Redis(srv.port)
        out = "x" * a.output_bytes
        batch = []
        for k in range(a.jobs):
            jid = "fb-%06d" % k
            rec = {"id": jid, "script": "echo", "trigger": "api", "status": "success",
                   "exit_code": 0, "duration_ms": 3, "created_at": "2026-11-28T09:15:02.123Z",
                   "completed_at": "2026-11-28T09:15:02.126Z", "attempts": 1, "signal": None}
            ev = dict(rec, event="job.completed")
            full = dict(rec, trigger_type="api", stdout=out, stderr="", args=[],
                        worker="w", queue="default")
            batch.append(Redis.encode("SET", "fb:result:" + jid, json.dumps(full)))
            batch.append(Redis.encode("XADD", "fb:stream:events", "*", "event", json.dumps(ev)))
            if len(batch) >= 2000 or k == a.jobs - 1:
                r.send_raw(b"".join(batch))
                for _ in batch:
                    r.read()
                batch = []
        db = os.path.join(tmp, "arun.db")
        env = dict(os.environ, ARUN_REDIS_URL=srv.url, ARUN_PREFIX="fb", ARUN_DB=db)
        t0 = time.monotonic()
        p = subprocess.Popen([follow, "bench", "c1"], env=env, stdout=subprocess.PIPE)
        wait_for(lambda: count(db) >= a.jobs, 600, 0.05, "the follower to catch up")
        dt = time.monotonic() - t0
        p.send_signal(signal.SIGTERM)
        stats = json.loads(p.communicate(timeout=30)[0])
        print("follower caught up with %d jobs (%d bytes of output each) in %.2f s: %.0f jobs/s; "
              "%s" % (a.jobs, a.output_bytes, dt, a.jobs / dt, stats))
    finally:
        if p and p.poll() is None:
            p.kill()
            p.wait()
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
