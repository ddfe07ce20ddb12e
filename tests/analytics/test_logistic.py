"""Unit tests of arunlib.logistic (gradient-descent logistic regression)."""

import math
import random
import unittest

import _helpers  # noqa: F401
from arunlib import logistic


class Basics(unittest.TestCase):
    def test_sigmoid(self):
        self.assertEqual(logistic.sigmoid(0), 0.5)
        self.assertAlmostEqual(logistic.sigmoid(2) + logistic.sigmoid(-2), 1.0)
        self.assertEqual(logistic.sigmoid(-1000), 0.0)     # no OverflowError
        self.assertEqual(logistic.sigmoid(1000), 1.0)

    def test_log_loss(self):
        self.assertAlmostEqual(logistic.log_loss([1, 0], [0.5, 0.5]), math.log(2))
        self.assertAlmostEqual(logistic.log_loss([1], [1.0]), 0.0, places=9)
        self.assertTrue(math.isfinite(logistic.log_loss([1], [0.0])))   # clipped


class Fit(unittest.TestCase):
    def test_separable_data_reduces_log_loss(self):
        rows = [[x / 10.0] for x in range(-20, 21) if x != 0]
        ys = [1 if r[0] > 0 else 0 for r in rows]
        before = logistic.log_loss(ys, logistic.predict(rows, 0.0, [0.0]))
        b, w, info = logistic.fit(rows, ys, epochs=200, lr=1.0)
        after = logistic.log_loss(ys, logistic.predict(rows, b, w))
        self.assertAlmostEqual(before, math.log(2))
        self.assertLess(after, 0.2)
        self.assertGreater(w[0], 0)
        preds = logistic.predict(rows, b, w)
        self.assertTrue(all((p > 0.5) == bool(y) for p, y in zip(preds, ys)))
        hist = info["loss_history"]
        self.assertTrue(all(b2 <= a2 + 1e-12 for a2, b2 in zip(hist, hist[1:])))

    def test_recovers_known_weights_on_raw_scale(self):
        rng = random.Random(7)
        true_b, true_w = -0.5, [1.5, -0.002]       # second feature has a large scale
        rows, ys = [], []
        for _ in range(4000):
            x = [rng.gauss(0, 1), rng.gauss(500, 300)]
            p = logistic.sigmoid(true_b + true_w[0] * x[0] + true_w[1] * x[1])
            rows.append(x)
            ys.append(1 if rng.random() < p else 0)
        b, w, _ = logistic.fit(rows, ys, epochs=2000, lr=1.0, tol=1e-12)
        self.assertAlmostEqual(b, true_b, delta=0.25)
        self.assertAlmostEqual(w[0], true_w[0], delta=0.15)
        self.assertAlmostEqual(w[1], true_w[1], delta=0.0004)

    def test_warm_start_at_optimum_stays(self):
        rows = [[0.0], [1.0], [2.0], [3.0]]
        ys = [0, 1, 0, 1]
        b, w, _ = logistic.fit(rows, ys, epochs=3000, lr=1.0, tol=0)
        b2, w2, _ = logistic.fit(rows, ys, b, w, epochs=5, lr=1.0, tol=0)
        self.assertAlmostEqual(b, b2, places=5)
        self.assertAlmostEqual(w[0], w2[0], places=5)

    def test_constant_feature_does_not_crash(self):
        rows = [[1.0, x] for x in (0.0, 1.0, 2.0, 3.0)]
        b, w, _ = logistic.fit(rows, [0, 0, 1, 1], epochs=50)
        self.assertTrue(all(math.isfinite(v) for v in [b] + w))


if __name__ == "__main__":
    unittest.main()
