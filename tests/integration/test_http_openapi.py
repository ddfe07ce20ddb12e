"""docs/openapi.yaml against the server: every documented route, method and
status is called (each has a recipe below that provokes it), the answer's
status and content type are the documented ones, and JSON bodies validate
against the documented schema. A recipe for something undocumented, or a
documented status without a recipe, fails the test: the document and the
server cannot drift apart silently."""
import os
import re
import socket
import unittest

import yaml

from harness import HERE, wait_for
from httpkit import HttpTestCase

DOC = os.path.join(HERE, "..", "..", "docs", "openapi.yaml")
TOKEN = "open-sesame"
AUTH = {"Authorization": "Bearer " + TOKEN}


class Schema:
    """Enough of JSON Schema (2020-12, as OpenAPI 3.1 uses it) for this
    document: $ref, allOf, type (with "null"), const, enum, required,
    properties, items, minimum, maximum, pattern."""

    def __init__(self, doc):
        self.doc = doc

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check(self, value, schema, where="$"):
        s = self.deref(schema)
        for sub in s.get("allOf", []):
            self.check(value, sub, where)
        types = s.get("type")
        if types is not None:
            types = types if isinstance(types, list) else [types]
            ok = {"string": lambda v: isinstance(v, str),
                  "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  "boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
                  "array": lambda v: isinstance(v, list), "object": lambda v: isinstance(v, dict)}
            assert any(ok[t](value) for t in types), "%s: %r is not %s" % (where, value, types)
        if "const" in s:
            assert value == s["const"], "%s: %r != %r" % (where, value, s["const"])
        if "enum" in s:
            assert value in s["enum"], "%s: %r not in %r" % (where, value, s["enum"])
        if isinstance(value, dict):
            for name in s.get("required", []):
                assert name in value, "%s: %s missing" % (where, name)
            for name, sub in s.get("properties", {}).items():
                if name in value:
                    self.check(value[name], sub, where + "." + name)
        if isinstance(value, list) and "items" in s:
            for i, v in enumerate(value):
                self.check(v, s["items"], "%s[%d]" % (where, i))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert value >= s.get("minimum", value) and value <= s.get("maximum", value), where
        if isinstance(value, str) and "pattern" in s:
            assert re.search(s["pattern"], value), "%s: %r !~ %s" % (where, value, s["pattern"])


class TestOpenApi(HttpTestCase):

    def setUp(self):
        super().setUp()
        with open(DOC) as f:
            self.doc = yaml.safe_load(f)
        self.schema = Schema(self.doc)

    def test_every_documented_route_and_status(self):
        self.assertEqual(self.doc["openapi"], "3.1.0")
        self.start_worker()
        main = self.start_http("--token", TOKEN).port
        limited = self.start_http("--token", TOKEN, "--max-streams", "1").port
        down = self.start_http("--token", TOKEN, "--redis-url", "redis://127.0.0.1:%d/0" % closed_port(),
                               "--db", self.tmp, "--redis-timeout", "200ms").port
        # fixtures: a finished job, a queued one (on a queue no worker takes)
        st, _, body = self.request("POST", "/api/analytics/jobs", {"script": "echo", "id": "done"},
                                   headers=AUTH, port=main)
        self.assertEqual(st, 202, body)
        wait_for(lambda: self.request("GET", "/api/analytics/jobs/done", headers=AUTH, port=main)[2]
                 .get("status") == "success", 20, what="the job to finish")
        self.request("POST", "/api/analytics/jobs", {"script": "sleepy", "id": "held", "queue": "nobody"},
                     headers=AUTH, port=main)
        held_open = self.sse("/api/analytics/events", headers=AUTH, port=limited)
        self.assertEqual(held_open.status, 200)

        J = "/api/analytics/jobs"
        # (path template, method, status): (port, method, path, body or raw bytes, headers)
        recipes = {
            (J, "post", "202"): (main, "POST", J, {"script": "echo", "args": ["x"]}, AUTH),
            (J, "post", "400"): (main, "POST", J, {"script": "echo", "timeout_ms": -1}, AUTH),
            (J, "post", "401"): (main, "POST", J, {"script": "echo"}, {}),
            (J, "post", "404"): (main, "POST", J, {"script": "no_such_script"}, AUTH),
            (J, "post", "409"): (main, "POST", J, {"script": "echo", "id": "done"}, AUTH),
            (J, "post", "413"): (main, "POST", J, b" " * (1024 * 1024 + 10), AUTH),
            (J, "post", "503"): (down, "POST", J, {"script": "echo"}, AUTH),
            (J, "get", "200"): (main, "GET", J + "?limit=5&status=success,error", None, AUTH),
            (J, "get", "400"): (main, "GET", J + "?limit=x", None, AUTH),
            (J, "get", "401"): (main, "GET", J, None, {}),
            (J, "get", "503"): (down, "GET", J, None, AUTH),
            (J + "/{id}", "get", "200"): (main, "GET", J + "/done", None, AUTH),
            (J + "/{id}", "get", "401"): (main, "GET", J + "/done", None, {}),
            (J + "/{id}", "get", "404"): (main, "GET", J + "/nope", None, AUTH),
            (J + "/{id}", "get", "503"): (down, "GET", J + "/done", None, AUTH),
            (J + "/{id}/cancel", "post", "202"): (main, "POST", J + "/held/cancel", None, AUTH),
            (J + "/{id}/cancel", "post", "401"): (main, "POST", J + "/held/cancel", None, {}),
            (J + "/{id}/cancel", "post", "404"): (main, "POST", J + "/nope/cancel", None, AUTH),
            (J + "/{id}/cancel", "post", "409"): (main, "POST", J + "/done/cancel", None, AUTH),
            (J + "/{id}/cancel", "post", "503"): (down, "POST", J + "/done/cancel", None, AUTH),
            (J + "/{id}/output", "get", "200"): (main, "GET", J + "/done/output", None, AUTH),
            (J + "/{id}/output", "get", "401"): (main, "GET", J + "/done/output", None, {}),
            (J + "/{id}/output", "get", "404"): (main, "GET", J + "/nope/output", None, AUTH),
            (J + "/{id}/output", "get", "503"): (down, "GET", J + "/done/output", None, AUTH),
            ("/api/analytics/scripts", "get", "200"): (main, "GET", "/api/analytics/scripts", None, AUTH),
            ("/api/analytics/scripts", "get", "401"): (main, "GET", "/api/analytics/scripts", None, {}),
            ("/api/analytics/events", "get", "200"): (main, "GET", "/api/analytics/events", None, AUTH),
            ("/api/analytics/events", "get", "400"): (main, "GET", "/api/analytics/events", None,
                                                      dict(AUTH, **{"Last-Event-ID": "yesterday"})),
            ("/api/analytics/events", "get", "401"): (main, "GET", "/api/analytics/events", None, {}),
            ("/api/analytics/events", "get", "503"): (limited, "GET", "/api/analytics/events", None, AUTH),
            ("/healthz", "get", "200"): (main, "GET", "/healthz", None, {}),
            ("/healthz", "get", "503"): (down, "GET", "/healthz", None, {}),
            ("/metrics", "get", "200"): (main, "GET", "/metrics", None, {}),
            ("/metrics", "get", "503"): (down, "GET", "/metrics", None, {}),
            ("/", "get", "200"): (main, "GET", "/", None, {}),
        }
        documented = set()
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                for status in op["responses"]:
                    documented.add((path, method, status))
        self.assertEqual(sorted(documented - set(recipes)), [], "documented but never called")
        self.assertEqual(sorted(set(recipes) - documented), [], "called but not documented")

        for (path, method, status), (port, verb, url, body, headers) in sorted(recipes.items()):
            with self.subTest(route=path, method=method, status=status):
                response = self.schema.deref(self.doc["paths"][path][method]["responses"][status])
                ctypes = list(response.get("content", {}))
                if ctypes == ["text/event-stream"] and status == "200":
                    s = self.sse(url, headers=headers, port=port)
                    self.assertEqual(s.status, 200)
                    self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
                    s.close()
                    continue
                raw = body if isinstance(body, bytes) else None
                st, hdrs, payload = self.request(verb, url, None if raw else body, headers=headers,
                                                 port=port, raw=raw)
                self.assertEqual(str(st), status, payload)
                if ctypes:
                    ctype = hdrs.get("content-type", "")
                    self.assertTrue(any(ctype.startswith(c) for c in ctypes), (ctype, ctypes))
                    schema = response["content"][ctypes[0]].get("schema")
                    if ctypes[0] == "application/json" and schema:
                        self.schema.check(payload, schema)
                for name in response.get("headers", {}):
                    self.assertIn(name.lower(), hdrs)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    unittest.main()
