#!/usr/bin/env python3
"""http_list: times arun-http's job list on a big table: GET
/api/analytics/jobs?limit=50 (and a status filter, a script filter, a page
deep in the table through its cursor) against 1,000,000 rows, over one
keep-alive connection, as a client sees it (HTTP, JSON, SQLite).

  bench/http_list.py [--rows N] [--reps N] [--build DIR]

The table is made by store_query -g (the worker's own schema, 11 scripts,
one finished job a second). Redis is not needed for the list; arun-http is
pointed at a closed port. Prints one JSON object with the median, p95 and
max in milliseconds per query."""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="arun-http-bench-")
    db = os.path.join(tmp, "arun.db")
    t0 = time.monotonic()
    subprocess.run([os.path.join(args.build, "bench", "store_query"), "-g", str(args.rows), "-r", "1", db],
                   check=True, stdout=subprocess.DEVNULL)
    gen_s = time.monotonic() - t0
    log = open(os.path.join(tmp, "http.log"), "wb")
    env = dict(os.environ, ARUN_DB=db, ARUN_REDIS_URL="redis://127.0.0.1:%d/0" % free_port(),
               ARUN_SCRIPTS_DIR=tmp, ARUN_LOG_LEVEL="warn")
    p = subprocess.Popen([os.path.join(args.build, "http", "arun-http"), "--listen", "127.0.0.1:0",
                          "--log-level", "info"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(200):
            with open(log.name, "rb") as f:
                m = re.search(rb"\(port (\d+)\)", f.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get(path):
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            assert r.status == 200, (r.status, body[:200])
            return json.loads(body)

        page = get("/api/analytics/jobs?limit=500")
        for _ in range(199):  # 100,000 rows down
            page = get("/api/analytics/jobs?limit=500&before=" + page["next"])
        deep = "/api/analytics/jobs?limit=50&before=" + page["next"]
        queries = {
            "latest 50": "/api/analytics/jobs?limit=50",
            "latest 50, status error,timeout": "/api/analytics/jobs?limit=50&status=error,timeout",
            "latest 50, script regime": "/api/analytics/jobs?limit=50&script=regime",
            "latest 50, rare script": "/api/analytics/jobs?limit=50&script=rare_report",
            "50 after 100,000 rows (cursor)": deep,
        }
        out = {"rows": args.rows, "generate_s": round(gen_s, 1), "reps": args.reps, "ms": {}}
        for name, path in queries.items():
            first = time.perf_counter()
            n = len(get(path)["jobs"])
            first = (time.perf_counter() - first) * 1e3
            times = []
            for _ in range(args.reps):
                t = time.perf_counter()
                get(path)
                times.append((time.perf_counter() - t) * 1e3)
            times.sort()
            out["ms"][name] = {"jobs": n, "first": round(first, 2),
                               "median": round(statistics.median(times), 3),
                               "p95": round(times[int(len(times) * 0.95) - 1], 3),
                               "max": round(times[-1], 3)}
        print(json.dumps(out, indent=2))
    finally:
        p.terminate()
        p.wait(10)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
