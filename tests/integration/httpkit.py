"""Helpers for the arun-http tests: start arun-http from the build tree on
a free port (it listens on port 0 and logs the port), make requests with
http.client, and read Server-Sent Events from a raw socket."""
import json
import os
import re
import shlex
import socket
import subprocess
import time
import http.client

from harness import BUILD, ArunTestCase, wait_for

HTTP = os.path.join(BUILD, "http", "arun-http")


class SSE:
    """A Server-Sent Events client on a plain socket: next_event() returns
    (event, id, data) with the data lines joined by newlines, or None when
    the server closed the stream."""

    def __init__(self, port, path, headers=None, timeout=20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        h = {"Host": "127.0.0.1", "Accept": "text/event-stream"}
        h.update(headers or {})
        head = "GET %s HTTP/1.1\r\n%s\r\n" % (path, "".join("%s: %s\r\n" % kv for kv in h.items()))
        self.sock.sendall(head.encode())
        self.buf = b""
        self.status, self.headers = self._read_head()
        self.chunked = self.headers.get("transfer-encoding", "") == "chunked"
        self.body = b""
        self.closed = False

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def _read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def _more_body(self):
        """Moves decoded body bytes from buf to body; False at the end."""
        if not self.chunked:
            if self.buf:
                self.body += self.buf
                self.buf = b""
                return True
            try:
                self._recv()
            except EOFError:
                return False
            return True
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                size = int(self.buf[:i].split(b";")[0], 16)
                if size == 0:
                    return False
                if len(self.buf) >= i + 2 + size + 2:
                    self.body += self.buf[i + 2:i + 2 + size]
                    self.buf = self.buf[i + 2 + size + 2:]
                    return True
            try:
                self._recv()
            except EOFError:
                return False

    def next_event(self, timeout=20.0):
        """Waits at most timeout seconds (keep-alive comments do not count
        as events) and fails the test after that."""
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() > deadline:
                raise AssertionError("no event within %.0f s" % timeout)
            while b"\n\n" in self.body:
                block, self.body = self.body.split(b"\n\n", 1)
                ev, eid, data = "message", None, []
                for line in block.decode().split("\n"):
                    if line.startswith(":"):
                        continue
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        ev = value
                    elif field == "id":
                        eid = value
                    elif field == "data":
                        data.append(value)
                if data:
                    return ev, eid, "\n".join(data)
            if self.closed or not self._more_body():
                self.closed = True
                return None

    def close(self):
        self.sock.close()


class HttpTestCase(ArunTestCase):
    """ArunTestCase plus an arun-http per test."""

    def setUp(self):
        super().setUp()
        self.https = []
        self.sses = []

    def tearDown(self):
        for s in self.sses:
            s.close()
        bad = []
        for p in self.https:
            if p.poll() is None:
                p.terminate()
                try:
                    # 0 after SIGTERM: a clean stop (under ASan, also no leak)
                    if p.wait(10) != 0:
                        bad.append("arun-http exited %d on SIGTERM:\n%s" % (p.returncode, self.http_log(p)[-4000:]))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    bad.append("arun-http did not stop on SIGTERM")
        super().tearDown()
        if bad:
            self.fail("\n".join(bad))

    def start_http(self, *args, wait=True, **env):
        """Starts arun-http; returns its process, with .port set."""
        n = len(self.https)
        log_path = os.path.join(self.tmp, "http-%d.log" % n)
        log = open(log_path, "wb")
        wrapper = shlex.split(os.environ.get("ARUN_WORKER_WRAPPER", ""))
        argv = [*wrapper, HTTP, *args]
        if not any(a.startswith("--listen") for a in args):
            argv += ["--listen", "127.0.0.1:0"]
        p = subprocess.Popen(argv, env=self.env(**env), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        p.log_path = log_path
        self.https.append(p)
        if not wait:
            return p

        def port():
            with open(log_path, "rb") as f:
                m = re.search(rb'\(port (\d+)\)', f.read())
            return int(m.group(1)) if m else (p.poll() is not None and -1)
        p.port = wait_for(port, 20, what="arun-http to listen")
        self.assertGreater(p.port, 0, "arun-http exited at start:\n" + self.http_log(p))
        self.port = p.port
        return p

    @staticmethod
    def http_log(p):
        with open(p.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, body=None, headers=None, port=None, raw=None):
        """Returns (status, headers dict (lower-case names), parsed JSON or text)."""
        c = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=20)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        ctype = hdrs.get("content-type", "")
        if ctype.startswith("application/json"):
            payload = json.loads(payload)
        else:
            payload = payload.decode(errors="replace")
        return r.status, hdrs, payload

    def sse(self, path, headers=None, port=None):
        s = SSE(port or self.port, path, headers)
        self.sses.append(s)
        return s

    def assert_error(self, resp, status, code, field=None):
        st, hdrs, body = resp
        self.assertEqual(st, status, body)
        self.assertTrue(hdrs["content-type"].startswith("application/json"), hdrs)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIsInstance(body["error"]["message"], str)
        if field:
            self.assertEqual(body["error"].get("field"), field, body)
        return body["error"]

    def submit_api(self, script, args=(), **fields):
        body = {"script": script, "args": list(args)}
        body.update(fields)
        st, hdrs, resp = self.request("POST", "/api/analytics/jobs", body)
        self.assertEqual(st, 202, resp)
        return resp["id"]

    def wait_status(self, job_id, statuses, timeout=20):
        def done():
            st, _, job = self.request("GET", "/api/analytics/jobs/" + job_id)
            return job if st == 200 and job["status"] in statuses else None
        return wait_for(done, timeout, every=0.05, what="job %s to be %s" % (job_id, statuses))
