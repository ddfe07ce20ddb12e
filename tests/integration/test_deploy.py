"""The deploy files say what works: the worker starts and runs a job with
every value of deploy/arun.env.example uncommented (and with the values of
docker-compose.yml, commented or not), and the example names every
variable that arun-worker --help lists. Paths, users and the Redis address
are this test's own (LOCAL); every other value is the file's, verbatim."""
import os
import re
import subprocess
import unittest

from harness import ArunTestCase, WORKER, HERE

ROOT = os.path.join(HERE, "..", "..")
# where the test's own values replace the file's: they name this machine's
# Redis, files and users (ARUN_RUN_AS names a user that exists only once the
# deploy steps made it)
LOCAL = {"ARUN_REDIS_URL", "ARUN_PREFIX", "ARUN_DB", "ARUN_SCRIPTS_DIR", "ARUN_PYTHON",
         "ARUN_RUN_AS", "ARUN_SCRIPT_DB"}


def env_example():
    """Every KEY=VALUE line of the example, commented or not."""
    with open(os.path.join(ROOT, "deploy", "arun.env.example")) as f:
        return dict(re.findall(r"^#?(ARUN_[A-Z_]+)=(.*)$", f.read(), re.M))


def compose_values():
    """Every ARUN_X: value of the worker's environment, commented or not."""
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        found = re.findall(r"^\s*#?\s*(ARUN_[A-Z_]+):\s*(\"[^\"]*\"|\S+)", f.read(), re.M)
    return {k: v.strip('"') for k, v in found}


class DeployTests(ArunTestCase):

    def run_with(self, values):
        env = {k: v for k, v in values.items() if k not in LOCAL}
        self.start_worker(**env)
        out = self.submit("--wait", "echo", "deployed")
        self.assertEqual(out.returncode, 0, out.stderr + self.worker_log().encode())
        return env

    def test_env_example_values_all_work(self):
        values = env_example()
        self.assertGreaterEqual(len(values), 14)
        used = self.run_with(values)
        for k in ("ARUN_HEARTBEAT_TTL", "ARUN_DRAIN_TIMEOUT", "ARUN_KILL_GRACE_MS",
                  "ARUN_RESULT_TTL", "ARUN_BUSY_TIMEOUT"):
            self.assertIn(k, used)

    def test_compose_values_all_work(self):
        values = compose_values()
        self.assertIn("ARUN_DRAIN_TIMEOUT", values)
        self.run_with(values)

    def test_env_example_names_every_variable(self):
        help_text = subprocess.run([WORKER, "--help"], capture_output=True, text=True).stdout
        listed = set(re.findall(r"\$(ARUN_[A-Z_]+)", help_text))
        self.assertTrue(listed)
        self.assertEqual(listed - set(env_example()), set(),
                         "variables of arun-worker --help missing from deploy/arun.env.example")


if __name__ == "__main__":
    unittest.main()
