"""arun-http against a real redis-server, a real arun-worker and SQLite:
every route, every error status of the contract, auth, limits (body,
headers, URL, a slow client, connections, streams), the events stream,
the output stream (for a finished job, and the watch protocol played by
the test where the worker's side is not what is tested), metrics."""
import json
import os
import random
import shutil
import socket
import subprocess
import unittest

from harness import Redis, wait_for
from httpkit import HTTP, HttpTestCase


class TestApi(HttpTestCase):

    def test_health_scripts_and_page(self):
        self.start_http()
        st, _, body = self.request("GET", "/healthz")
        self.assertEqual((st, body), (200, {"status": "ok", "redis": "ok", "db": "ok"}))
        st, _, body = self.request("GET", "/api/analytics/scripts")
        self.assertEqual(st, 200)
        self.assertEqual(body["scripts"], sorted(body["scripts"]))
        self.assertIn("echo", body["scripts"])
        self.assertNotIn("__init__", body["scripts"])
        st, hdrs, page = self.request("GET", "/")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/html"))
        self.assertIn("/app.js", page)
        for asset, ctype in (("/app.js", "text/javascript"), ("/app.css", "text/css")):
            st, hdrs, _ = self.request("GET", asset)
            self.assertEqual(st, 200)
            self.assertTrue(hdrs["content-type"].startswith(ctype))

    def test_submit_get_list_and_output_of_a_finished_job(self):
        self.start_worker()
        self.start_http()
        st, hdrs, body = self.request("POST", "/api/analytics/jobs",
                                      {"script": "echo.py", "args": ["a b", "--x"], "id": "job-1"})
        self.assertEqual((st, body), (202, {"id": "job-1", "status": "queued"}))
        self.assertEqual(hdrs["location"], "/api/analytics/jobs/job-1")
        job = self.wait_status("job-1", {"success"})
        self.assertEqual(job["trigger_type"], "api")
        self.assertEqual(json.loads(job["stdout"])["argv"], ["a b", "--x"])
        self.assertEqual(job["stderr"], "to stderr\n")
        self.assertEqual(job["exit_code"], 0)
        # a job id given by the server
        other = self.submit_api("echo", ["--exit", "3"], trigger="nightly")
        self.wait_status(other, {"error"})
        st, _, page = self.request("GET", "/api/analytics/jobs")
        self.assertEqual(st, 200)
        self.assertEqual([j["id"] for j in page["jobs"]], [other, "job-1"])
        self.assertNotIn("stdout", page["jobs"][0])
        self.assertNotIn("stderr", page["jobs"][0])
        self.assertIsNone(page["next"])
        # filters
        for query, ids in (("status=error", [other]), ("status=error,success", [other, "job-1"]),
                           ("trigger=nightly", [other]), ("script=echo", [other, "job-1"]),
                           ("id=job-", ["job-1"]), ("status=timeout", [])):
            st, _, page = self.request("GET", "/api/analytics/jobs?" + query)
            self.assertEqual((st, [j["id"] for j in page["jobs"]]), (200, ids), query)
        # pages
        st, _, p1 = self.request("GET", "/api/analytics/jobs?limit=1")
        self.assertEqual([j["id"] for j in p1["jobs"]], [other])
        st, _, p2 = self.request("GET", "/api/analytics/jobs?limit=1&before=" + p1["next"])
        self.assertEqual(([j["id"] for j in p2["jobs"]], p2["next"]), (["job-1"], None))
        # the output of a finished job: its kept output, then end
        s = self.sse("/api/analytics/jobs/job-1/output")
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        ev = s.next_event()
        self.assertEqual(ev[0], "stdout")
        self.assertEqual(json.loads(ev[2])["argv"], ["a b", "--x"])
        self.assertEqual(s.next_event(), ("stderr", None, "to stderr"))
        name, _, data = s.next_event()
        self.assertEqual(name, "end")
        end = json.loads(data)
        self.assertEqual((end["event"], end["id"], end["status"]), ("job.completed", "job-1", "success"))
        self.assertIsNone(s.next_event())

    def test_request_errors(self):
        self.start_http()
        post = lambda body, **kw: self.request("POST", "/api/analytics/jobs", body, **kw)
        self.assert_error(post(None, raw=b"{not json"), 400, "bad_request")
        self.assert_error(post([1, 2]), 400, "bad_request")
        self.assert_error(post({"args": []}), 400, "bad_request", "script")
        self.assert_error(post({"script": 5}), 400, "bad_request", "script")
        self.assert_error(post({"script": "echo", "args": "x"}), 400, "bad_request", "args")
        self.assert_error(post({"script": "echo", "args": [1]}), 400, "bad_request", "args")
        self.assert_error(post({"script": "echo", "timeout_ms": 0}), 400, "bad_request", "timeout_ms")
        self.assert_error(post({"script": "echo", "timeout_ms": "5"}), 400, "bad_request", "timeout_ms")
        self.assert_error(post({"script": "echo", "id": "bad id"}), 400, "bad_request", "id")
        self.assert_error(post({"script": "echo", "queue": "no/slash"}), 400, "bad_request", "queue")
        for name in ("nope", "../echo", "__init__", "sub/echo"):
            self.assert_error(post({"script": name}), 404, "unknown_script", "script")
        self.assert_error(post(None, raw=b"x" * (1024 * 1024 + 1)), 413, "too_large")
        self.assert_error(self.request("GET", "/api/analytics/jobs?limit=0"), 400, "bad_request", "limit")
        self.assert_error(self.request("GET", "/api/analytics/jobs?limit=501"), 400, "bad_request", "limit")
        self.assert_error(self.request("GET", "/api/analytics/jobs?before=garbage"), 400, "bad_request", "before")
        self.assert_error(self.request("GET", "/api/analytics/jobs?status=Nope!"), 400, "bad_request", "status")
        self.assert_error(self.request("GET", "/api/analytics/jobs/nosuch"), 404, "not_found")
        self.assert_error(self.request("POST", "/api/analytics/jobs/nosuch/cancel"), 404, "not_found")
        self.assert_error(self.request("GET", "/api/analytics/jobs/nosuch/output"), 404, "not_found")
        self.assert_error(self.request("GET", "/api/nothing/here"), 404, "not_found")
        self.assert_error(self.request("GET", "/nothing"), 404, "not_found")
        st, hdrs, _ = self.request("DELETE", "/api/analytics/jobs")
        self.assertEqual(st, 405)
        self.assertIn("POST", hdrs["allow"])
        self.assert_error(self.request("PUT", "/healthz"), 405, "method_not_allowed")
        self.assert_error(self.request("GET", "/" + "a" * 9000), 414, "too_large")
        self.assert_error(self.request("GET", "/healthz", headers={"X-Big": "a" * 20000}), 400, "bad_request")
        # a malformed request line still gets the JSON error
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            reply = s.recv(65536)
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply)
        self.assertIn(b'"code":"bad_request"', reply)

    def test_conflict_queued_and_cancel(self):
        self.start_http()  # no worker: the job stays queued
        job = self.submit_api("sleepy", ["30"], id="q-1", queue="low")
        st, _, body = self.request("GET", "/api/analytics/jobs/q-1")
        self.assertEqual(st, 200)
        self.assertEqual((body["id"], body["status"], body["script"], body["queue"]),
                         (job, "queued", "sleepy", "low"))
        self.assert_error(self.request("POST", "/api/analytics/jobs", {"script": "echo", "id": "q-1"}),
                          409, "conflict", "id")
        st, _, body = self.request("POST", "/api/analytics/jobs/q-1/cancel")
        self.assertEqual((st, body), (202, {"id": "q-1", "status": "cancelling"}))
        self.assertIsNotNone(self.r("GET", self.key("cancel", "q-1")))
        # a finished job: 409 with its final status
        self.start_worker()
        self.submit_api("echo", id="done-1")
        self.wait_status("done-1", {"success"})
        err = self.assert_error(self.request("POST", "/api/analytics/jobs/done-1/cancel"), 409, "conflict")
        self.assertEqual(err["status"], "success")
        self.assert_error(self.request("POST", "/api/analytics/jobs", {"script": "echo", "id": "done-1"}),
                          409, "conflict", "id")

    def test_redis_down_is_503(self):
        self.start_http("--redis-url", "redis://127.0.0.1:%d/0" % _closed_port(), "--redis-timeout", "200ms")
        st, _, body = self.request("GET", "/healthz")
        self.assertEqual((st, body["status"], body["redis"], body["db"]), (503, "unavailable", "down", "ok"))
        self.assert_error(self.request("POST", "/api/analytics/jobs", {"script": "echo"}), 503, "unavailable")
        self.assert_error(self.request("GET", "/metrics"), 503, "unavailable")


class TestAuthAndLimits(HttpTestCase):

    def test_token(self):
        self.start_http("--token", "s3cret")
        self.assert_error(self.request("GET", "/api/analytics/scripts"), 401, "unauthorized")
        self.assert_error(self.request("GET", "/api/analytics/scripts",
                                       headers={"Authorization": "Bearer s3cre"}), 401, "unauthorized")
        self.assert_error(self.request("GET", "/api/nothing"), 401, "unauthorized")
        self.assert_error(self.request("POST", "/mcp"), 401, "unauthorized")
        st, _, _ = self.request("GET", "/api/analytics/scripts", headers={"Authorization": "Bearer s3cret"})
        self.assertEqual(st, 200)
        for path in ("/", "/app.js", "/healthz", "/metrics"):
            self.assertEqual(self.request("GET", path)[0], 200, path)

    def test_listen_beyond_loopback_needs_a_token(self):
        p = self.start_http("--listen", "0.0.0.0:0", wait=False)
        self.assertEqual(p.wait(20), 2)
        self.assertIn("without a token", self.http_log(p))
        p = self.start_http("--listen", "[::]:0", wait=False)
        self.assertEqual(p.wait(20), 2)
        self.start_http("--listen", "0.0.0.0:0", "--token", "t")
        self.assertEqual(self.request("GET", "/healthz")[0], 200)
        p = self.start_http("--listen", "nonsense", wait=False)
        self.assertEqual(p.wait(20), 2)
        for argv in (["--help"], ["--version"]):
            out = subprocess.run([HTTP, *argv], capture_output=True, timeout=10)
            self.assertEqual(out.returncode, 0)
        out = subprocess.run([HTTP, "--bogus"], capture_output=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(len(out.stderr.decode().strip().split("\n")), 2)  # reason + hint

    def test_slow_client_is_timed_out(self):
        self.start_http("--request-timeout", "1s")
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never ends its headers
            self.assertEqual(s.recv(100), b"")  # closed by the server, not by our timeout
        self.assertEqual(self.request("GET", "/healthz")[0], 200)

    def test_connection_limit_queues_new_connections(self):
        self.start_http("--max-connections", "3")
        p = self.https[-1]
        idle = [socket.create_connection(("127.0.0.1", self.port), timeout=10) for _ in range(3)]
        wait_for(lambda: "not accepting more" in self.http_log(p), 10, what="the listener to pause")
        extra = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        extra.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            extra.recv(100)  # waits in the accept queue
        idle[0].close()
        extra.settimeout(10)
        self.assertTrue(extra.recv(100).startswith(b"HTTP/1.1 200"))
        for s in idle[1:] + [extra]:
            s.close()

    def test_garbage_never_crashes_or_hangs(self):
        """Malformed and hostile requests: each gets an answer or a close,
        never a crash (CI runs this under ASan) or a hang."""
        p = self.start_http("--request-timeout", "2s")
        rnd = random.Random(1234)
        cases = [
            b"\x00\xff\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
            b"GET /api/analytics/jobs/%00/output HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/analytics/jobs?status=%zz&limit=%ff HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /api/analytics/jobs/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET http://evil/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/analytics/jobs HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST /api/analytics/jobs HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"POST /api/analytics/jobs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"POST /api/analytics/jobs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"FFFFFFFFFFFFFFFF\r\nabc",
            b"POST /api/analytics/jobs HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"scr",
            b"HEAD /api/analytics/events HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n",
            b"POST /api/analytics/jobs HTTP/1.1\r\nContent-Length: 40\r\n\r\n" +
            b'{"script":"echo","args":["\\u0000"]}    ',
            b"GET /api/analytics/events HTTP/1.1\r\nLast-Event-ID: 99999999999999999999999-1\r\n\r\n",
        ]
        cases += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))) for _ in range(40)]
        cases += [b"GET /" + bytes(rnd.choice(b"%/?&=.~*abc\x7f") for _ in range(rnd.randrange(1, 60)))
                  + b" HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(40)]
        socks = []
        for raw in cases:  # all at once: the incomplete ones wait for the timeout together
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            try:
                s.sendall(raw)
            except (ConnectionResetError, BrokenPipeError):
                pass
            socks.append(s)
        for s in socks:
            try:  # an answer, or a close (by the request timeout at the latest)
                s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                pass
            s.close()
        self.assertIsNone(p.poll(), "arun-http died:\n" + self.http_log(p))
        self.assertEqual(self.request("GET", "/healthz")[0], 200)

    def test_stream_limit(self):
        self.start_http("--max-streams", "2")
        a, b = self.sse("/api/analytics/events"), self.sse("/api/analytics/events")
        self.assertEqual((a.status, b.status), (200, 200))
        self.assert_error(self.request("GET", "/api/analytics/events"), 503, "unavailable")
        a.close()
        wait_for(lambda: _streams(self) == 1, 10, what="the stream to be released")
        c = self.sse("/api/analytics/events")
        self.assertEqual(c.status, 200)


class TestStreams(HttpTestCase):

    def xadd_event(self, job_id, status="success"):
        ev = {"event": "job.completed", "id": job_id, "status": status, "script": "echo"}
        return self.r("XADD", self.key("stream", "events"), "*", "event", json.dumps(ev)).decode()

    def test_events_live_resume_and_many_clients(self):
        self.start_http()
        first = self.xadd_event("before")  # already there: not sent to a new client
        clients = [self.sse("/api/analytics/events") for _ in range(200)]
        self.assertTrue(all(c.status == 200 for c in clients))
        wait_for(lambda: _streams(self) == 200, 20, what="200 streams")
        eid = self.xadd_event("e-1")
        for c in clients:
            self.assertEqual(c.next_event(), ("job.completed", eid, json.dumps(
                {"event": "job.completed", "id": "e-1", "status": "success", "script": "echo"})))
        for c in clients:
            c.close()
        second = self.xadd_event("e-2")
        # resume after `first`: e-1 then e-2, then live e-3, no repeats
        s = self.sse("/api/analytics/events", headers={"Last-Event-ID": first})
        self.assertEqual([s.next_event()[1] for _ in range(2)], [eid, second])
        third = self.xadd_event("e-3")
        self.assertEqual(s.next_event()[1], third)
        self.assert_error(self.request("GET", "/api/analytics/events", headers={"Last-Event-ID": "x"}),
                          400, "bad_request")

    def test_live_output_by_the_watch_protocol(self):
        """The worker's side is played here: what is tested is that arun-http
        announces the watch, follows P:output:ID and ends on `end`."""
        self.start_http()
        self.submit_api("sleepy", ["30"], id="w-1")
        s = self.sse("/api/analytics/jobs/w-1/output")
        wait_for(lambda: self.r("GET", self.key("watch", "w-1")), 10, what="the watch key")
        self.assertGreater(self.r("TTL", self.key("watch", "w-1")), 30)
        out = self.key("output", "w-1")
        self.r("XADD", out, "*", "fd", "stdout", "data", "line 1\nhalf ")
        self.r("XADD", out, "*", "fd", "stderr", "data", "warn\n")
        self.assertEqual(s.next_event(), ("stdout", None, "line 1"))
        self.assertEqual(s.next_event(), ("stderr", None, "warn"))
        self.r("XADD", out, "*", "fd", "stdout", "data", "a line\n\xc3".encode("latin-1"))
        self.r("XADD", out, "*", "fd", "stdout", "data", b"\xa9t\xc3\xa9\nend without newline")
        self.assertEqual(s.next_event(), ("stdout", None, "half a line"))
        self.assertEqual(s.next_event(), ("stdout", None, "été"))
        ev = {"event": "job.completed", "id": "w-1", "status": "cancelled"}
        self.r("XADD", out, "*", "fd", "end", "data", json.dumps(ev))
        self.assertEqual(s.next_event(), ("stdout", None, "end without newline"))
        self.assertEqual(s.next_event(), ("end", None, json.dumps(ev)))
        self.assertIsNone(s.next_event())

    def test_output_falls_back_to_the_result(self):
        self.start_http()
        self.submit_api("sleepy", ["30"], id="f-1")
        s = self.sse("/api/analytics/jobs/f-1/output")
        wait_for(lambda: self.r("GET", self.key("watch", "f-1")), 10, what="the watch key")
        self.r("XADD", self.key("output", "f-1"), "*", "fd", "stdout", "data", "one\n")
        self.assertEqual(s.next_event(), ("stdout", None, "one"))
        record = {"id": "f-1", "script": "sleepy", "status": "success", "trigger_type": "api",
                  "stdout": "one\ntwo\n", "stderr": "", "exit_code": 0}
        self.r("SET", self.key("result", "f-1"), json.dumps(record))
        self.assertEqual(s.next_event(), ("stdout", None, "two"))
        name, _, data = s.next_event()
        self.assertEqual((name, json.loads(data)["status"], json.loads(data)["trigger"]), ("end", "success", "api"))


class TestRedisRestart(HttpTestCase):
    restarts_redis = True

    def test_events_and_streams_survive_a_redis_restart(self):
        self.start_http("--keepalive", "200ms")
        s = self.sse("/api/analytics/events")
        # the keep-alive comment comes while nothing happens
        wait_for(lambda: s._more_body() and b": keep-alive" in s.body, 10, what="a keep-alive comment")
        self.server.stop()
        self.server.start()  # same port; AOF keeps the stream
        self.r.close()
        self.r = Redis(self.server.port)
        ev = {"event": "job.completed", "id": "after-restart", "status": "success"}
        eid = self.r("XADD", self.key("stream", "events"), "*", "event", json.dumps(ev)).decode()
        self.assertEqual(s.next_event(), ("job.completed", eid, json.dumps(ev)))
        self.assertEqual(self.request("GET", "/healthz")[0], 200)


class TestMetrics(HttpTestCase):

    def test_prometheus_format(self):
        self.start_worker()
        self.start_http()
        self.submit_api("echo", id="m-1")
        self.submit_api("echo", ["--exit", "1"], id="m-2")
        self.wait_status("m-2", {"error"})
        self.wait_status("m-1", {"success"})
        st, hdrs, text = self.request("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain; version=0.0.4"))
        for line in ('arun_jobs_total{script="echo",status="success"} 1',
                     'arun_jobs_total{script="echo",status="error"} 1',
                     'arun_job_duration_seconds_count{script="echo"} 2',
                     'arun_job_duration_seconds_bucket{script="echo",le="+Inf"} 2',
                     'arun_queue_length{queue="default"} 0', "arun_workers 1", "arun_jobs_running 0"):
            self.assertIn(line + "\n", text)
        promtool = shutil.which("promtool")
        if not promtool:
            self.fail("promtool is missing: install Debian's prometheus package (scripts/deps.sh --test)")
        out = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _streams(tc):
    st, _, text = tc.request("GET", "/metrics")
    for line in text.splitlines() if st == 200 else []:
        if line.startswith("arun_http_streams "):
            return int(line.split()[1])
    return -1


if __name__ == "__main__":
    unittest.main()


class TestEveryHostsHistory(HttpTestCase):
    """One history for all hosts: arun-http follows the completion stream
    and records, in its own database, the jobs that workers with other
    databases (other hosts) ran."""

    def test_jobs_of_a_worker_on_another_database_are_listed(self):
        sub = self.subscribe()
        other_db = os.path.join(self.tmp, "other-host.db")
        self.start_http()  # on self.db; no worker writes it
        self.start_worker(ARUN_DB=other_db)
        self.push({"id": "elsewhere-1", "script": "echo", "args": ["far"]})
        self.assertEqual(self.wait_event(sub, "elsewhere-1")["status"], "success")

        def listed():
            st, _, body = self.request("GET", "/api/analytics/jobs")
            return st == 200 and [j for j in body["jobs"] if j["id"] == "elsewhere-1"]
        job = wait_for(listed, 15, what="the other host's job in arun-http's history")[0]
        self.assertEqual(job["status"], "success")
        st, _, full = self.request("GET", "/api/analytics/jobs/elsewhere-1")
        self.assertEqual(st, 200)
        self.assertIn("far", full["stdout"])
        self.assertEqual(self.row("elsewhere-1")["status"], "success")  # in self.db

    def test_history_group_off(self):
        sub = self.subscribe()
        self.start_http("--history-group", "off")
        self.start_worker(ARUN_DB=os.path.join(self.tmp, "other-host.db"))
        self.push({"id": "elsewhere-2", "script": "echo"})
        self.wait_event(sub, "elsewhere-2")
        self.assertEqual(self.r("XINFO", "GROUPS", self.key("stream", "events")), [])
