"""End-to-end: run db_loader and then every script as a subprocess (the way
arun's worker does: python3 analytics/NAME.py ARGS with ARUN_DB set) against
a temporary database; check exit status, exactly one JSON document on
stdout, and the one-line errors for missing input and bad flags."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import _helpers
from _helpers import ANALYTICS, PYTHON, SCRIPTS

MAX_SECONDS = 5.0      # target is < 2 s each; margin for loaded CI machines

RUNS = [
    ("holly_rules", []),
    ("holly_rules", ["--strategy", "gap fade", "--since", "2023-01-01"]),
    ("agreement", []),
    ("agreement", ["--fast", "5", "--slow", "20", "--symbol", "AAPL"]),
    ("agreement_analysis", []),
    ("calibration", ["--bins", "5"]),
    ("recalibrate_weights", []),
    ("calibration", ["--model", "latest"]),
    ("regime", []),
    ("regime_accuracy", ["--horizon", "10"]),
    ("markov_regime_model", ["--states", "2"]),
    ("markov_regime_model", ["--states", "3"]),
    ("tradersync_analytics", []),
    ("tradersync_analytics", ["--side", "short", "--capital", "50000"]),
    ("vectorized_backtest", ["--fast", "10", "--slow", "30", "--cost-bps", "5", "--symbol", "AAPL"]),
    ("vectorized_backtest", ["--symbol", "ALL", "--short"]),
]


def run(script, args=(), db=None, cwd=None, script_dir=ANALYTICS):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARUN_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)      # let the scripts' own setting show
    if db is not None:
        env["ARUN_DB"] = db
    env["ARUN_JOB_ID"] = "42"
    env["ARUN_TRIGGER"] = "test"
    t0 = time.monotonic()
    p = subprocess.run([PYTHON, os.path.join(script_dir, script + ".py")] + list(args),
                       capture_output=True, text=True, env=env, cwd=cwd or _helpers.REPO, timeout=120)
    return p, time.monotonic() - t0


def make_empty_db(path):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE analytics_jobs (id INTEGER PRIMARY KEY, script TEXT)")
    conn.execute("INSERT INTO analytics_jobs (script) VALUES ('holly_rules')")
    conn.commit()
    conn.close()


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="arun-analytics-")
        cls.db = os.path.join(cls.tmp, "arun.db")
        make_empty_db(cls.db)                  # like arun: its own table already there
        p, cls.load_seconds = run("db_loader", db=cls.db)
        assert p.returncode == 0, p.stderr
        cls.load_doc = json.loads(p.stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check_ok(self, script, args=(), db=None):
        p, secs = run(script, args, db=db or self.db)
        self.assertEqual(p.returncode, 0, "%s %s failed: %s" % (script, args, p.stderr))
        self.assertNotIn("Traceback", p.stderr)
        self.assertTrue(p.stderr.strip(), "no human summary on stderr")
        self.assertEqual(p.stdout.count("\n"), 1, "stdout must be one JSON line")
        doc = json.loads(p.stdout)
        self.assertEqual(doc["script"], script)
        self.assertEqual(doc["job_id"], "42")
        self.assertLess(secs, MAX_SECONDS, "%s %s took %.2fs" % (script, args, secs))
        return doc

    def test_loader_result(self):
        d = self.load_doc
        self.assertEqual(d["inserted"]["demo_prices"], 20 * 520)
        self.assertEqual(d["inserted"]["demo_alerts"], 5000)
        self.assertLess(self.load_seconds, MAX_SECONDS)

    def test_every_script_runs(self):
        covered = {s for s, _ in RUNS} | {"db_loader"}
        self.assertEqual(covered, set(SCRIPTS), "a script is missing from RUNS")
        docs = {}
        for script, args in RUNS:
            with self.subTest(script=script, args=args):
                docs[(script, tuple(args))] = self.check_ok(script, args)
        h = docs[("holly_rules", ())]
        self.assertEqual(h["overall"]["count"], 5000)
        self.assertEqual(sum(s["count"] for s in h["strategies"]), 5000)
        a = docs[("agreement", ())]
        self.assertTrue(-1 <= a["kappa"] <= 1)
        self.assertEqual(a["n"] + a["skipped_no_ma"], 5000)
        r = docs[("recalibrate_weights", ())]
        self.assertEqual(r["new_version"], 2)
        self.assertLess(r["train"]["logloss_after"], r["train"]["logloss_before"])
        self.assertEqual(docs[("calibration", ("--model", "latest"))]["model"]["version"], 2)
        m3 = docs[("markov_regime_model", ("--states", "3"))]
        self.assertEqual(len(m3["transition_matrix"]), 3)
        for row in m3["transition_matrix"]:
            self.assertAlmostEqual(sum(row), 1.0, places=4)
        conn = sqlite3.connect(self.db)
        self.assertGreater(conn.execute("SELECT COUNT(*) FROM regime_labels").fetchone()[0], 400)
        self.assertEqual(conn.execute("SELECT COUNT(DISTINCT n_states) FROM hmm_states").fetchone()[0], 2)
        self.assertEqual(conn.execute("SELECT COUNT(*) FROM analytics_jobs").fetchone()[0], 1)
        conn.close()

    def test_filters_matching_nothing(self):
        for script in ("holly_rules", "agreement", "agreement_analysis", "calibration"):
            with self.subTest(script=script):
                p, _ = run(script, ["--since", "2030-01-01"], db=self.db)
                self.assertEqual(p.returncode, 1)
                self.assertEqual(p.stdout, "")
                self.assertTrue(p.stderr.startswith(script + ": no alerts"), p.stderr)
                self.assertEqual(p.stderr.count("\n"), 1)

    def test_recalibrate_dry_run_stores_nothing(self):
        conn = sqlite3.connect(self.db)
        before = conn.execute("SELECT COUNT(*) FROM model_weights").fetchone()[0]
        doc = self.check_ok("recalibrate_weights", ["--dry-run", "--holdout", "0"])
        self.assertIsNone(doc["new_version"])
        self.assertIsNone(doc["holdout"]["logloss_before"])
        self.assertEqual(conn.execute("SELECT COUNT(*) FROM model_weights").fetchone()[0], before)
        conn.close()

    def test_regime_accuracy_needs_regime_first(self):
        db = os.path.join(self.tmp, "noregime.db")
        self.assertEqual(run("db_loader", db=db)[0].returncode, 0)
        p, _ = run("regime_accuracy", db=db)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "regime_accuracy: no regime labels: run regime first\n")

    def test_loader_idempotent_reset_and_keeps_analytics_jobs(self):
        db = os.path.join(self.tmp, "idem.db")
        make_empty_db(db)
        first = json.loads(run("db_loader", db=db)[0].stdout)
        second = json.loads(run("db_loader", db=db)[0].stdout)
        self.assertEqual(set(second["inserted"].values()), {0})
        self.assertEqual(first["table_rows"], second["table_rows"])

        def digest():
            conn = sqlite3.connect(db)
            rows = conn.execute("SELECT * FROM demo_alerts ORDER BY id").fetchall()
            jobs = conn.execute("SELECT * FROM analytics_jobs").fetchall()
            conn.close()
            return hash(tuple(rows)), jobs
        before = digest()
        p, _ = run("db_loader", ["--reset"], db=db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["table_rows"], first["table_rows"])
        self.assertEqual(digest(), before)            # same data, analytics_jobs untouched

    def test_csv_import(self):
        db = os.path.join(self.tmp, "csv.db")
        csv_path = os.path.join(self.tmp, "export.csv")
        with open(csv_path, "w") as fh:
            fh.write("Symbol,Side,Open Datetime,Close Datetime,Qty,Entry Price,Exit Price,Commission\n"
                     "AAPL,LONG,2023-05-01 09:31,2023-05-01 10:00,100,170,171,2\n"
                     "AAPL,SHORT,2023-05-02 09:31,2023-05-02 10:00,100,172,173,2\n"
                     "KO,LONG,2023-05-03 09:31,2023-05-03 10:00,10,60,61,1\n")
        p, _ = run("db_loader", ["--csv", csv_path], db=db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["inserted"]["demo_trades"], 3)
        p, _ = run("db_loader", ["--csv", csv_path], db=db)
        self.assertEqual(json.loads(p.stdout)["inserted"]["demo_trades"], 0)
        doc = self.check_ok("tradersync_analytics", ["--source", "csv"], db=db)
        o = doc["overall"]
        self.assertEqual(o["trades"], 3)
        self.assertAlmostEqual(o["net_pnl"], 98 - 102 + 9)
        self.assertAlmostEqual(o["profit_factor"], 107 / 102, places=4)
        p, _ = run("vectorized_backtest", db=db)       # csv only: no prices
        self.assertEqual(p.stderr, "vectorized_backtest: no prices: run db_loader first\n")

    def test_no_bytecode_written_next_to_scripts(self):
        tree = os.path.join(self.tmp, "tree")
        shutil.copytree(ANALYTICS, os.path.join(tree, "analytics"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        p, _ = run("holly_rules", db=self.db, cwd=tree, script_dir=os.path.join(tree, "analytics"))
        self.assertEqual(p.returncode, 0, p.stderr)
        found = [d for d, _, _ in os.walk(tree) if d.endswith("__pycache__")]
        self.assertEqual(found, [])


class MissingInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="arun-analytics-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check_fail(self, p, script, needle, code=1):
        self.assertEqual(p.returncode, code, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        self.assertEqual(p.stdout, "")
        if code == 1:
            self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
            self.assertTrue(p.stderr.startswith(script + ": "), p.stderr)
        self.assertIn(needle, p.stderr)

    def test_missing_database_file(self):
        db = os.path.join(self.tmp, "absent.db")
        for script in SCRIPTS:
            if script == "db_loader":
                continue
            with self.subTest(script=script):
                p, _ = run(script, db=db)
                self.check_fail(p, script, "database not found: %s (run db_loader first)" % db)
        self.assertFalse(os.path.exists(db), "a script created the database")

    def test_default_path_when_no_env(self):
        p, _ = run("holly_rules", cwd=self.tmp)
        self.check_fail(p, "holly_rules", "database not found: ./var/arun.db")

    def test_before_db_loader(self):
        db = os.path.join(self.tmp, "empty.db")
        make_empty_db(db)
        expected = {
            "holly_rules": "no alerts: run db_loader first",
            "calibration": "no alerts: run db_loader first",
            "recalibrate_weights": "no alerts: run db_loader first",
            "tradersync_analytics": "no trades: run db_loader first",
        }
        for script in SCRIPTS:
            if script == "db_loader":
                continue
            with self.subTest(script=script):
                p, _ = run(script, db=db)
                msg = expected.get(script, "no prices: run db_loader first")
                self.check_fail(p, script, msg)
                self.assertEqual(p.stderr, "%s: %s\n" % (script, msg))

    def test_not_a_database(self):
        db = os.path.join(self.tmp, "junk.db")
        with open(db, "w") as fh:
            fh.write("this is not sqlite" * 100)
        p, _ = run("agreement", db=db)
        self.check_fail(p, "agreement", "cannot read database")

    def test_loader_creates_a_missing_directory(self):
        db = os.path.join(self.tmp, "no", "such", "dir.db")
        p, _ = run("db_loader", db=db)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(db))

    def test_loader_where_no_directory_can_be(self):
        blocker = os.path.join(self.tmp, "file")
        with open(blocker, "w") as fh:
            fh.write("x")
        p, _ = run("db_loader", db=os.path.join(blocker, "dir.db"))
        self.check_fail(p, "db_loader", "cannot create the folder")

    def test_bad_flags_exit_2(self):
        cases = [
            ("calibration", ["--bins", "0"]),
            ("vectorized_backtest", ["--fast", "50", "--slow", "10"]),
            ("agreement", ["--fast", "30", "--slow", "30"]),
            ("markov_regime_model", ["--states", "4"]),
            ("holly_rules", ["--since", "2023-13-01"]),
            ("recalibrate_weights", ["--holdout", "0.9"]),
            ("regime_accuracy", ["--horizon", "x"]),
        ]
        for script, args in cases:
            with self.subTest(script=script, args=args):
                p, _ = run(script, args, db=os.path.join(self.tmp, "absent.db"))
                self.check_fail(p, script, "error:", code=2)

    def test_help(self):
        for script in SCRIPTS:
            with self.subTest(script=script):
                p, _ = run(script, ["--help"])
                self.assertEqual(p.returncode, 0)
                self.assertIn("--db", p.stdout)

    def test_package_marker_is_not_a_script(self):
        with open(os.path.join(ANALYTICS, "__init__.py")) as fh:
            src = fh.read()
        import ast
        body = ast.parse(src).body
        self.assertEqual(len(body), 1)                    # only the docstring
        self.assertIsInstance(body[0], ast.Expr)
        for script in SCRIPTS:
            with open(os.path.join(ANALYTICS, script + ".py")) as fh:
                self.assertIsNotNone(ast.get_docstring(ast.parse(fh.read())), script)


if __name__ == "__main__":
    unittest.main()
