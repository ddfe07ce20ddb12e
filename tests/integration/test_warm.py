"""Warm start (ARUN_PRELOAD) against a real worker: a job forked from the
warm interpreter sees what a fresh one would (argv, __main__, sys.path[0],
its own process group, stdin empty) and nothing that an earlier job left
(a global in a preloaded module, a patched function, a thread); a warm
interpreter that dies is restarted while jobs start fresh meanwhile; a
module that starts a thread at import is refused and named."""
import json
import os
import signal
import unittest

from harness import ArunTestCase, WORKER, wait_for


class WarmTests(ArunTestCase):
    def start_warm(self, modules="json", **env):
        w = self.start_worker(ARUN_PRELOAD=modules, **env)
        i = len(self.workers) - 1
        wait_for(lambda: "warm interpreter ready" in self.worker_log(i), 30, what="ready")
        return w

    def test_no_state_crosses_jobs(self):
        sub = self.subscribe()
        self.start_warm()
        seen = []
        for i in range(3):
            self.push({"id": "probe-%d" % i, "script": "warm_probe", "args": ["a b", "--x"]})
            self.assertEqual(self.wait_event(sub, "probe-%d" % i)["status"], "success")
            seen.append(json.loads(self.row("probe-%d" % i)["stdout"]))
        for s in seen:
            self.assertIsNone(s["marker"], "a global left by an earlier job")
            self.assertFalse(s["dumps_patched"], "a patch left by an earlier job")
            self.assertEqual(s["threads"], 1, "a thread left by an earlier job")
            self.assertEqual(s["name"], "__main__")
            self.assertEqual(s["argv"], [os.path.join(self.scripts, "warm_probe.py"), "a b", "--x"])
            self.assertEqual(s["path0"], self.scripts)
            self.assertTrue(s["pid_is_pgid"])
            self.assertEqual(s["stdin"], "")
        self.assertIn("warm interpreter ready", self.worker_log(0))
        self.assertNotIn("starts fresh", self.worker_log(0))

    def test_dead_warm_interpreter_is_restarted_and_jobs_go_on(self):
        sub = self.subscribe()
        self.start_warm(ARUN_HEARTBEAT_TTL="600ms")
        pid = self.warm_pid(0)
        os.kill(pid, signal.SIGKILL)
        # jobs meanwhile start fresh; none waits, none is lost
        for i in range(3):
            self.push({"id": "after-%d" % i, "script": "echo"})
        got = self.wait_events(sub, ["after-%d" % i for i in range(3)])
        self.assertEqual({e["status"] for e in got.values()}, {"success"})
        wait_for(lambda: self.worker_log(0).count("warm interpreter ready") >= 2, 20,
                 what="a new warm interpreter")
        self.assertNotEqual(self.warm_pid(0), pid)
        self.push({"id": "after-warm", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "after-warm")["status"], "success")

    def test_module_that_starts_a_thread_is_refused(self):
        with open(os.path.join(self.scripts, "threadmod.py"), "w") as f:
            f.write("import threading, time\n"
                    "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
        sub = self.subscribe()
        self.start_worker(ARUN_PRELOAD="json,threadmod")
        wait_for(lambda: "threadmod started a thread" in self.worker_log(0), 20,
                 what="the refusal")
        self.push({"id": "fresh-1", "script": "echo"})
        self.assertEqual(self.wait_event(sub, "fresh-1")["status"], "success")


if __name__ == "__main__":
    unittest.main()
