"""The README's examples, run as written, in order, against a real Redis and
a worker running the real analytics scripts, so they stay true.

The runnable examples are the fenced blocks preceded by a marker comment
`<!-- doctest: KIND -->`: `sh` (bash, must exit 0), `sh background` (a
command that blocks, such as SUBSCRIBE: started, then its output is checked
once the next block has run), `python` and `node` (the file as shown; must
exit 0 and print something). What the blocks assume of a machine is
provided here: the current folder holds `build/...` (links to this build),
`redis-cli` reaches this test's server (a wrapper first on PATH), and
ARUN_REDIS_URL, ARUN_DB are this test's. The key prefix is the default,
`arun`, as in the README, on a redis-server of this test's own. The blocks
not marked install packages or start daemons (quick start, building,
workers); CI runs those steps itself.
"""
import json
import os
import re
import shutil
import subprocess
import unittest

from harness import ArunTestCase, BUILD, HERE, PYTHON, wait_for

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
NODE_DIR = os.path.join(ROOT, "tests", "readme")
MARKER = re.compile(r"<!-- doctest: (\w+)( background)? -->\s*\n```\w*\n(.*?)\n```", re.S)


def examples():
    with open(os.path.join(ROOT, "README.md")) as f:
        return [(kind, bool(bg), body) for kind, bg, body in MARKER.findall(f.read())]


def node_ready():
    """Installs tests/readme's node_modules (npm ci) once; returns why not, or None."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are not installed (scripts/deps.sh --test installs them)"
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redis")):
        out = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise AssertionError("npm ci in tests/readme failed:\n" + out.stderr)
    return None


class ReadmeTests(ArunTestCase):
    restarts_redis = True  # a server of its own: the README's prefix is the default one

    def setUp(self):
        super().setUp()
        self.prefix = "arun"
        self.work = os.path.join(self.tmp, "work")
        for prog in ("producer/arun-submit", "ctl/arun-ctl", "worker/arun-worker"):
            os.makedirs(os.path.join(self.work, "build", os.path.dirname(prog)), exist_ok=True)
            os.symlink(os.path.join(BUILD, prog), os.path.join(self.work, "build", prog))
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        cli = os.path.join(self.bin, "redis-cli")
        with open(cli, "w") as f:
            f.write('#!/bin/sh\nexec %s -p %d "$@"\n' % (shutil.which("redis-cli"),
                                                          self.server.port))
        os.chmod(cli, 0o755)

    def block_env(self):
        return self.env(ARUN_PREFIX="arun", PATH=self.bin + os.pathsep + os.environ["PATH"])

    def run_block(self, kind, body):
        env = self.block_env()
        if kind == "sh":
            cmd = ["bash", "-euo", "pipefail", "-c", body]
        elif kind == "python":
            path = os.path.join(self.work, "example.py")
            cmd = [PYTHON, path]
        elif kind == "node":
            os.symlink(os.path.join(NODE_DIR, "node_modules"),
                       os.path.join(self.work, "node_modules"))
            path = os.path.join(self.work, "submit.mjs")
            cmd = ["node", path]
        else:
            self.fail("unknown doctest kind " + kind)
        if kind != "sh":
            with open(path, "w") as f:
                f.write(body + "\n")
        out = subprocess.run(cmd, cwd=self.work, env=env, capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, "%s example failed:\n%s\n--- stdout\n%s\n--- "
                         "stderr\n%s" % (kind, body, out.stdout, out.stderr))
        return out.stdout

    def test_readme_examples(self):
        blocks = examples()
        kinds = [k for k, _, _ in blocks]
        for k in ("sh", "python", "node"):
            self.assertIn(k, kinds, "no %s example marked in the README" % k)
        why_not = node_ready()
        if why_not:
            self.skipTest(why_not)
        self.start_worker(ARUN_PREFIX="arun", ARUN_SCRIPTS_DIR=os.path.join(ROOT, "analytics"),
                          ARUN_CONCURRENCY="2")
        background = None
        for kind, bg, body in blocks:
            with self.subTest(example=body.splitlines()[0]):
                if bg:
                    self.assertEqual(kind, "sh")
                    background = subprocess.Popen(["bash", "-c", body], cwd=self.work,
                                                  env=self.block_env(), stdout=subprocess.PIPE,
                                                  stderr=subprocess.STDOUT)
                    wait_for(lambda: self.r("PUBSUB", "NUMSUB", "arun:events")[1] > 0, 10,
                             what="the background SUBSCRIBE")
                    continue
                out = self.run_block(kind, body)
                self.assertTrue(out.strip(), "%s example printed nothing:\n%s" % (kind, body))
                if background:
                    background.terminate()
                    seen = background.communicate(timeout=10)[0].decode()
                    background = None
                    self.assertIn("job.completed", seen)
        self.assertIsNone(background, "a background example with no example after it")
        # what the examples did is what the README says they do
        row = self.row("cal-2026-11-28")
        self.assertEqual(row["status"], "success")
        self.assertEqual(json.loads(row["args"]), ["--bins", "5"])


if __name__ == "__main__":
    unittest.main()
