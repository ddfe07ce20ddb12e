"""arun-webhook against a real redis-server and a local HTTP receiver:
signed deliveries (checked with Python's hmac and with npm's
standardwebhooks), retries with backoff and Retry-After, dead letters after
the maximum age, 410, filters, refused private addresses, a hanging
endpoint that does not hold up the others, two relays sharing the work, a
SIGKILLed relay's entries claimed by another, a restart resuming, and the
real worker's events reaching an endpoint."""
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
import unittest
import uuid

from harness import ArunTestCase, wait_for
from webcron_helpers import (NODE_SUITE, WEBHOOK, Receiver, event, npm_ready,
                             read_json_lines)

SECRET1 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET2 = "whsec_" + base64.b64encode(b"the second key, rotated in").decode()


class WebhookCase(ArunTestCase):
    def setUp(self):
        super().setUp()
        self.recv = Receiver()
        self.relays = []

    def tearDown(self):
        for p in self.relays:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.recv.close()
        super().tearDown()

    def start_relay(self, *args, wait_group=True, **env):
        base = {"ARUN_WEBHOOK_ALLOW_PRIVATE": "1", "ARUN_WEBHOOK_RETRY_FIRST": "100ms",
                "ARUN_WEBHOOK_RETRY_MAX": "1s", "ARUN_WEBHOOK_TIMEOUT": "5s"}
        base.update(env)
        i = len(self.relays)
        log = open(os.path.join(self.tmp, "relay-%d.log" % i), "wb")
        p = subprocess.Popen([WEBHOOK, *args], env=self.env(**base), stdout=log,
                             stderr=subprocess.STDOUT)
        log.close()
        self.relays.append(p)
        if wait_group:
            wait_for(lambda: self.group_exists() or p.poll() is not None, 10,
                     what="the consumer group")
            self.assertIsNone(p.poll(), "relay exited:\n" + self.relay_log(i))
        return p

    def relay_log(self, i=0):
        with open(os.path.join(self.tmp, "relay-%d.log" % i), "rb") as f:
            return f.read().decode(errors="replace")

    def stream(self):
        return self.key("stream", "events")

    def group_exists(self):
        try:
            groups = self.r("XINFO", "GROUPS", self.stream())
        except RuntimeError:
            return False
        return any(b"webhook" in g for g in groups)

    def xadd(self, ev):
        body = json.dumps(ev)
        self.r("XADD", self.stream(), "*", "event", body)
        return body

    def pending(self):
        return self.r("XPENDING", self.stream(), "webhook")[0]

    def dead(self):
        return [json.loads(x) for x in self.r("LRANGE", self.key("webhook", "dead"), 0, -1)]

    def deliveries(self):
        r = subprocess.run([WEBHOOK, "--deliveries", "--limit", "1000"], env=self.env(),
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(x) for x in r.stdout.decode().splitlines()]


class TestDelivery(WebhookCase):
    def test_signed_deliveries_verify_independently(self):
        why = npm_ready()
        self.assertIsNone(why, why)
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/ok"),
                         ARUN_WEBHOOK_SECRET=SECRET1 + "," + SECRET2)
        bodies = {}
        for i in range(5):
            jid = "job-%d-%s" % (i, uuid.uuid4().hex[:6])
            bodies[jid] = self.xadd(event(jid, script="calibration"))
        wait_for(lambda: len(self.recv.got()) >= 5, 15, what="5 deliveries")
        wait_for(lambda: self.pending() == 0, 10, what="the entries acknowledged")
        lines = []
        for req in self.recv.got():
            h = req["headers"]
            wid = h["webhook-id"]
            self.assertIn(wid, bodies)
            self.assertEqual(req["body"], bodies[wid])  # the event JSON, byte for byte
            self.assertEqual(h["content-type"], "application/json")
            ts = int(h["webhook-timestamp"])
            self.assertLess(abs(ts - time.time()), 60)
            sigs = h["webhook-signature"].split(" ")
            self.assertEqual(len(sigs), 2)  # one per secret: rotation
            for secret, sig in zip((SECRET1, SECRET2), sigs):
                key = base64.b64decode(secret[len("whsec_"):])
                mac = hmac.new(key, ("%s.%d.%s" % (wid, ts, req["body"])).encode(), hashlib.sha256)
                self.assertEqual(sig, "v1," + base64.b64encode(mac.digest()).decode())
                lines.append(json.dumps({"secret": secret, "body": req["body"], "headers": {
                    k: h[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}}))
        # a wrong key must fail, so the oracle is seen to be checking
        bad = json.loads(lines[0])
        bad["secret"] = "whsec_" + base64.b64encode(b"not the key").decode()
        r = subprocess.run(["node", os.path.join(NODE_SUITE, "verify_signatures.js")],
                           input="\n".join(lines + [json.dumps(bad)]).encode(),
                           capture_output=True, timeout=60)
        out = r.stdout.decode().splitlines()
        self.assertEqual(out[:-1], ["ok"] * len(lines), r.stdout.decode() + r.stderr.decode())
        self.assertTrue(out[-1].startswith("FAIL"), out[-1])
        log = self.deliveries()
        self.assertEqual(sorted(d["event"] for d in log), sorted(bodies))
        self.assertTrue(all(d["outcome"] == "delivered" and d["status"] == 200 for d in log))

    def test_unsigned_without_secret(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/ok"))
        self.xadd(event("plain"))
        wait_for(lambda: self.recv.got(), 10, what="a delivery")
        self.assertNotIn("webhook-signature", self.recv.got()[0]["headers"])

    def test_retries_back_off_until_delivered(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/flaky/3"))
        self.xadd(event("flaky-job"))
        wait_for(lambda: len(self.recv.got()) >= 4, 20, what="4 attempts")
        wait_for(lambda: self.pending() == 0, 10, what="the entry acknowledged")
        times = [r["time"] for r in self.recv.got()]
        gaps = [b - a for a, b in zip(times, times[1:])]
        # first retry after 50-100 ms, then about twice each time: each gap is
        # at least half its nominal delay (100, 200, 400 ms)
        for gap, nominal in zip(gaps, (0.1, 0.2, 0.4)):
            self.assertGreaterEqual(gap, nominal / 2 - 0.01, gaps)
        outcomes = [(d["attempt"], d["outcome"]) for d in reversed(self.deliveries())]
        self.assertEqual(outcomes, [(1, "retry"), (2, "retry"), (3, "retry"), (4, "delivered")])
        self.assertEqual(self.dead(), [])

    def test_retry_after_is_a_minimum(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/retry-after/2"))
        self.xadd(event("slow-down"))
        wait_for(lambda: len(self.recv.got()) >= 2, 20, what="the retry")
        a, b = self.recv.got()[:2]
        self.assertGreaterEqual(b["time"] - a["time"], 1.9)

    def test_dead_letter_after_max_age(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/fail"), ARUN_WEBHOOK_MAX_AGE="2s")
        body = self.xadd(event("doomed"))
        wait_for(self.dead, 20, what="the dead letter")
        d = self.dead()[0]
        self.assertEqual(set(d), {"id", "url", "attempts", "last_error", "event"})
        self.assertEqual(d["id"], "doomed")
        self.assertEqual(d["url"], self.recv.url("/fail"))
        self.assertGreaterEqual(d["attempts"], 2)
        self.assertEqual(d["attempts"], len(self.recv.got()))
        self.assertEqual(d["last_error"], "HTTP 500")
        self.assertEqual(d["event"], json.loads(body))
        wait_for(lambda: self.pending() == 0, 10, what="the entry acknowledged")
        # an event already older than the maximum age: one attempt, then dead
        self.xadd(event("ancient", completed_at="2020-01-01T00:00:00.000Z"))
        wait_for(lambda: len(self.dead()) == 2, 10, what="the second dead letter")
        self.assertEqual(self.dead()[1]["attempts"], 1)
        self.assertEqual(self.recv.ids().count("ancient"), 1)

    def test_refused_connection_is_retried_then_dead(self):
        port = Receiver()
        url = port.url("/ok")
        port.close()  # nothing listens there now
        self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_MAX_AGE="1s")
        self.xadd(event("nobody-home"))
        wait_for(self.dead, 20, what="the dead letter")
        self.assertIn("connect", self.dead()[0]["last_error"].lower())

    def test_410_disables_the_endpoint(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/gone") + "," + self.recv.url("/ok"))
        self.xadd(event("first"))
        wait_for(lambda: len(self.recv.got("/ok")) == 1 and "410 Gone" in self.relay_log(), 10,
                 what="both endpoints, and the 410 taken in")
        self.xadd(event("second"))
        wait_for(lambda: len(self.recv.got("/ok")) == 2, 10, what="the second event")
        wait_for(lambda: self.pending() == 0, 10, what="both acknowledged")
        self.assertEqual(self.recv.ids("/gone"), ["first"])
        self.assertIn("410", self.relay_log())
        self.assertEqual(self.dead(), [])

    def test_private_destination_refused_unless_allowed(self):
        # by name: the address it resolves to is what is checked
        url = "http://localhost:%d/ok" % self.recv.port
        self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_ALLOW_PRIVATE="0",
                         ARUN_WEBHOOK_MAX_AGE="1s")
        self.xadd(event("internal"))
        wait_for(self.dead, 20, what="the dead letter")
        self.assertRegex(self.dead()[0]["last_error"],
                         r"^destination (127\.0\.0\.1|::1) is a loopback address")
        self.assertEqual(self.recv.got(), [])  # never connected

    def test_hanging_endpoint_does_not_hold_up_others(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/hang") + "," + self.recv.url("/ok"),
                         ARUN_WEBHOOK_CONCURRENCY="1", ARUN_WEBHOOK_TIMEOUT="60s")
        for i in range(20):
            self.xadd(event("e%d" % i))
        wait_for(lambda: len(self.recv.got("/ok")) == 20, 15, what="20 deliveries to /ok")
        self.assertEqual(len(self.recv.got("/hang")), 1)  # its one slot is busy
        self.recv.release()
        wait_for(lambda: len(self.recv.got("/hang")) == 20, 20, what="/hang catching up")
        wait_for(lambda: self.pending() == 0, 10, what="all acknowledged")

    def test_config_file_filters(self):
        conf = os.path.join(self.tmp, "webhooks.conf")
        with open(conf, "w") as f:
            f.write("# two endpoints\n[endpoint]\nurl = %s\nsecret = %s\nscripts = alpha, beta\n\n"
                    "[endpoint]\nurl = %s\nstatuses = error,timeout\nconcurrency = 2\n"
                    % (self.recv.url("/ok"), SECRET1, self.recv.url("/flaky/0")))
        self.start_relay("--config", conf)
        self.xadd(event("a-ok", script="alpha"))
        self.xadd(event("b-err", script="beta", status="error"))
        self.xadd(event("c-err", script="gamma", status="error"))
        self.xadd(event("c-ok", script="gamma"))
        wait_for(lambda: len(self.recv.got()) >= 4, 10, what="4 deliveries")
        wait_for(lambda: self.pending() == 0, 10, what="all acknowledged")
        self.assertEqual(sorted(self.recv.ids("/ok")), ["a-ok", "b-err"])
        self.assertEqual(sorted(self.recv.ids("/flaky/0")), ["b-err", "c-err"])
        self.assertIn("webhook-signature", self.recv.got("/ok")[0]["headers"])
        self.assertNotIn("webhook-signature", self.recv.got("/flaky/0")[0]["headers"])

    def test_bad_configuration_exits_2(self):
        conf = os.path.join(self.tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("[endpoint]\nurl = %s\nfilter = x\n" % self.recv.url("/ok"))
        for args, env, want in (
                (["--config", conf], {}, "line 3: unknown key"),
                ([], {"ARUN_WEBHOOK_URLS": ""}, "no endpoints"),
                ([], {"ARUN_WEBHOOK_URLS": "ftp://x"}, "bad URL"),
                ([], {"ARUN_WEBHOOK_URLS": self.recv.url("/ok"), "ARUN_WEBHOOK_SECRET": "whsec_!"},
                 "not whsec_"),
                ([], {"ARUN_WEBHOOK_URLS": self.recv.url("/ok"), "ARUN_WEBHOOK_TIMEOUT": "soon"},
                 "ARUN_WEBHOOK_TIMEOUT")):
            r = subprocess.run([WEBHOOK, *args], env=self.env(**env), capture_output=True,
                               timeout=10)
            self.assertEqual(r.returncode, 2, (args, env, r.stderr))
            self.assertIn(want, r.stderr.decode())
        r = subprocess.run([WEBHOOK, "--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"ARUN_WEBHOOK_MAX_AGE", r.stdout)

    def test_group_created_at_the_stream_end(self):
        self.xadd(event("before-any-group"))
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/ok"))
        self.xadd(event("after"))
        wait_for(lambda: self.recv.got(), 10, what="a delivery")
        wait_for(lambda: self.pending() == 0, 10, what="acknowledged")
        self.assertEqual(self.recv.ids(), ["after"])


class TestRelays(WebhookCase):
    def test_two_relays_share_the_work(self):
        # each relay may hold 5 events, and the endpoint holds every request
        # until released: 10 requests at once means both relays are working
        url = self.recv.url("/hang")
        for name in ("r1", "r2"):
            self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER=name,
                             ARUN_WEBHOOK_MAX_INFLIGHT="5", ARUN_WEBHOOK_TIMEOUT="60s")
        ids = ["s%d" % i for i in range(100)]
        for jid in ids:
            self.xadd(event(jid))
        wait_for(lambda: len(self.recv.got()) == 10, 15, what="10 requests held")
        owners = {c[0]: int(c[1]) for c in self.r("XPENDING", self.stream(), "webhook")[3]}
        self.assertEqual(owners, {b"r1": 5, b"r2": 5})
        self.recv.release()
        wait_for(lambda: len(self.recv.got()) >= 100, 30, what="100 deliveries")
        wait_for(lambda: self.pending() == 0, 10, what="all acknowledged")
        self.assertEqual(sorted(self.recv.ids()), sorted(ids))  # each exactly once
        relays = {d["relay"] for d in self.deliveries()}
        self.assertEqual(relays, {"r1", "r2"})

    def test_killed_relay_entries_are_claimed(self):
        a = self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/hang"), ARUN_WEBHOOK_CONSUMER="a",
                             ARUN_WEBHOOK_TIMEOUT="60s", ARUN_WEBHOOK_CONCURRENCY="2")
        ids = ["k%d" % i for i in range(10)]
        for jid in ids:
            self.xadd(event(jid))
        wait_for(lambda: len(self.recv.got()) == 2, 10, what="a's two transfers")
        wait_for(lambda: self.pending() == 10, 10, what="a holding all ten")
        a.send_signal(signal.SIGKILL)
        a.wait()
        self.recv.release()
        killed_at = time.time()
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/hang"), ARUN_WEBHOOK_CONSUMER="b",
                         ARUN_WEBHOOK_CLAIM_IDLE="1s")
        wait_for(lambda: self.pending() == 0, 20, what="b finishing a's entries")
        after = {r["headers"]["webhook-id"] for r in self.recv.got() if r["time"] > killed_at}
        self.assertEqual(after, set(ids))
        self.assertIn("claimed", self.relay_log(1))

    def test_restart_resumes(self):
        url = self.recv.url("/ok")
        p = self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER="same")
        self.xadd(event("before"))
        wait_for(lambda: self.recv.got(), 10, what="the first delivery")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        for i in range(5):
            self.xadd(event("while-down-%d" % i))
        self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER="same")
        wait_for(lambda: len(self.recv.got()) == 6, 10, what="the events appended while down")
        # concurrent POSTs: any order
        self.assertEqual(sorted(self.recv.ids()), ["before"] + ["while-down-%d" % i for i in range(5)])

    def test_killed_relay_restarted_takes_up_its_own_entries(self):
        url = self.recv.url("/hang")
        p = self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER="host-a",
                             ARUN_WEBHOOK_TIMEOUT="60s", ARUN_WEBHOOK_CONCURRENCY="1")
        ids = ["mine-%d" % i for i in range(5)]
        for jid in ids:
            self.xadd(event(jid))
        wait_for(lambda: self.pending() == 5 and self.recv.got(), 10, what="five held, one sent")
        p.send_signal(signal.SIGKILL)  # mid-delivery
        p.wait()
        self.recv.release()
        killed_at = time.time()
        # same name, default claim time (60 s): its own pending entries are
        # re-read at start, not waited for
        self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER="host-a")
        wait_for(lambda: self.pending() == 0, 15, what="the restarted relay finishing")
        after = sorted(r["headers"]["webhook-id"] for r in self.recv.got() if r["time"] > killed_at)
        self.assertEqual(after, ids)

    def test_acknowledged_event_is_not_delivered_again(self):
        url = self.recv.url("/ok")
        self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER="x1")
        for i in range(20):
            self.xadd(event("once-%d" % i))
        wait_for(lambda: self.pending() == 0 and len(self.recv.got()) == 20, 10, what="delivered")
        # a second relay that claims aggressively finds nothing to take
        self.start_relay(ARUN_WEBHOOK_URLS=url, ARUN_WEBHOOK_CONSUMER="x2",
                         ARUN_WEBHOOK_CLAIM_IDLE="300ms")
        time.sleep(1.5)  # several claim rounds of x2; nothing may arrive
        self.assertEqual(len(self.recv.got()), 20)


class TestRedisRestart(WebhookCase):
    restarts_redis = True

    def test_relay_rides_out_a_redis_restart(self):
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/ok"))
        self.xadd(event("before-restart"))
        wait_for(lambda: self.recv.got(), 10, what="the first delivery")
        wait_for(lambda: self.pending() == 0, 10, what="acknowledged")
        self.r.close()
        self.server.stop()
        self.server.start()  # same port, AOF: the stream and the group survive
        self.r = type(self.r)(self.server.port)
        self.xadd(event("after-restart"))
        wait_for(lambda: len(self.recv.got()) == 2, 20, what="the delivery after the restart")
        self.assertEqual(self.recv.ids(), ["before-restart", "after-restart"])
        self.assertIsNone(self.relays[0].poll())


class TestWithWorker(WebhookCase):
    def test_worker_events_reach_the_endpoint(self):
        """Needs the worker's XADD to P:stream:events (second stage)."""
        self.start_relay(ARUN_WEBHOOK_URLS=self.recv.url("/ok"))
        self.start_worker()
        sub = self.subscribe()
        r = self.submit("--id", "e2e-job", "echo", "hi")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_event(sub, "e2e-job")
        if self.r("XLEN", self.stream()) == 0:
            self.skipTest("the worker does not append to P:stream:events yet (second stage)")
        wait_for(lambda: self.recv.got(), 10, what="the job's webhook")
        got = json.loads(self.recv.got()[0]["body"])
        self.assertEqual(got["id"], "e2e-job")
        self.assertEqual(self.recv.got()[0]["headers"]["webhook-id"], "e2e-job")


if __name__ == "__main__":
    unittest.main()
