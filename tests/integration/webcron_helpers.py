"""Helpers for the arun-webhook and arun-cron tests: a local HTTP receiver
whose answers the test chooses per path, the npm oracles of tests/webcron
(installed on first use), and starting the two programs from the build
tree."""
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import BUILD, HERE

WEBHOOK = os.path.join(BUILD, "webhook", "arun-webhook")
CRON = os.path.join(BUILD, "cron", "arun-cron")
CRON_NEXT = os.path.join(BUILD, "tests", "webcron", "cron_next")
NODE_SUITE = os.path.join(HERE, "..", "webcron")


def npm_ready():
    """Installs the oracles' npm packages. Returns None, or why they cannot
    be had (the caller fails the test with that reason)."""
    try:
        r = subprocess.run([os.path.join(NODE_SUITE, "install.sh")], capture_output=True,
                           timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "cannot install the npm oracles: %s" % e
    if r.returncode != 0:
        return "npm ci failed in tests/webcron: " + r.stderr.decode(errors="replace")[-500:]
    return None


class Receiver:
    """An HTTP server on 127.0.0.1 recording every request. Paths:
    /ok 200; /fail 500; /gone 410; /hang waits until release() then 200;
    /flaky/N 500 for the first N requests of each webhook-id, then 200;
    /retry-after/S 503 with Retry-After: S on the first request of each
    webhook-id, then 200."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.seen = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("content-length", 0))
                body = self.rfile.read(n)
                path = self.path
                wid = self.headers.get("webhook-id")
                with outer.lock:
                    key = (path, wid)
                    outer.seen[key] = outer.seen.get(key, 0) + 1
                    nth = outer.seen[key]
                    outer.requests.append({"path": path, "headers": dict(self.headers.items()),
                                           "body": body.decode(), "time": time.time(),
                                           "nth": nth})
                status, extra = 200, {}
                if path == "/fail":
                    status = 500
                elif path == "/gone":
                    status = 410
                elif path == "/hang":
                    outer.released.wait(60)
                elif path.startswith("/flaky/"):
                    status = 500 if nth <= int(path.split("/")[2]) else 200
                elif path.startswith("/retry-after/"):
                    if nth == 1:
                        status, extra = 503, {"Retry-After": path.split("/")[2]}
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def got(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def ids(self, path=None):
        return [r["headers"]["webhook-id"] for r in self.got(path)]

    def release(self):
        self.released.set()

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def event(job_id, script="ok", status="success", completed_at=None):
    """A completion event as the worker writes it."""
    if completed_at is None:
        completed_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {"event": "job.completed", "id": job_id, "script": script, "trigger": "manual",
            "status": status, "exit_code": 0, "duration_ms": 12,
            "created_at": completed_at, "completed_at": completed_at}


def read_json_lines(path):
    out = []
    try:
        with open(path, "rb") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out
