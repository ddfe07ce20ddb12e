"""Unit tests of arunlib.hmm (Gaussian HMM: Baum-Welch and Viterbi)."""

import math
import random
import unittest

import _helpers  # noqa: F401
from arunlib import hmm


def simulate(means, sds, A, n, seed):
    rng = random.Random(seed)
    s, xs, states = 0, [], []
    for _ in range(n):
        states.append(s)
        xs.append(rng.gauss(means[s], sds[s]))
        u, acc = rng.random(), 0.0
        for j, p in enumerate(A[s]):
            acc += p
            if u < acc:
                s = j
                break
    return xs, states


class HMM(unittest.TestCase):
    def test_recovers_separated_two_state_means(self):
        A = [[0.95, 0.05], [0.05, 0.95]]
        x, states = simulate([-3.0, 3.0], [0.5, 0.5], A, 400, seed=1)
        m = hmm.fit(x, 2)
        self.assertTrue(m["converged"])
        self.assertAlmostEqual(m["means"][0], -3.0, delta=0.15)
        self.assertAlmostEqual(m["means"][1], 3.0, delta=0.15)
        self.assertAlmostEqual(math.sqrt(m["variances"][0]), 0.5, delta=0.1)
        self.assertGreater(m["A"][0][0], 0.9)
        self.assertGreater(m["A"][1][1], 0.9)
        for row in m["A"]:
            self.assertAlmostEqual(sum(row), 1.0)
        path, _ = hmm.viterbi(x, m["pi"], m["A"], m["means"], m["variances"])
        acc = sum(1 for a, b in zip(path, states) if a == b) / len(x)
        self.assertGreater(acc, 0.98)

    def test_recovers_three_states_sorted_by_mean(self):
        A = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]
        x, _ = simulate([5.0, -5.0, 0.0], [0.5, 0.5, 0.5], A, 600, seed=2)
        m = hmm.fit(x, 3)
        for got, want in zip(m["means"], [-5.0, 0.0, 5.0]):
            self.assertAlmostEqual(got, want, delta=0.2)

    def test_volatility_regimes_with_equal_means(self):
        A = [[0.98, 0.02], [0.02, 0.98]]
        x, _ = simulate([0.0, 0.0], [0.5, 3.0], A, 800, seed=3)
        m = hmm.fit(x, 2)
        sds = sorted(math.sqrt(v) for v in m["variances"])
        self.assertAlmostEqual(sds[0], 0.5, delta=0.1)
        self.assertAlmostEqual(sds[1], 3.0, delta=0.4)

    def test_em_never_decreases_likelihood(self):
        x, _ = simulate([-1.0, 1.0], [1.0, 1.0], [[0.9, 0.1], [0.1, 0.9]], 300, seed=4)
        lls = [hmm.fit(x, 2, max_iter=k, tol=0)["loglik"] for k in range(0, 8)]
        for a, b in zip(lls, lls[1:]):
            self.assertGreaterEqual(b, a - 1e-8)

    def test_log_safe_with_extreme_values(self):
        x = [0.01 * ((i * 7) % 13 - 6) for i in range(300)]
        x[150] = 1e6                        # pdf underflows to 0 in linear space
        x[10] = -1e5
        m = hmm.fit(x, 2, max_iter=30)
        self.assertTrue(math.isfinite(m["loglik"]))
        self.assertTrue(all(math.isfinite(v) and v > 0 for v in m["variances"]))
        path, lp = hmm.viterbi(x, m["pi"], m["A"], m["means"], m["variances"])
        self.assertEqual(len(path), len(x))
        self.assertTrue(math.isfinite(lp))
        for g in m["gamma"]:
            self.assertAlmostEqual(sum(g), 1.0)

    def test_viterbi_hand_example_with_zero_transition(self):
        # state 1 is absorbing and impossible to leave; data clearly 0,0,5,5
        pi, A = [1.0, 0.0], [[0.5, 0.5], [0.0, 1.0]]
        path, _ = hmm.viterbi([0.0, 0.1, 5.0, 4.9], pi, A, [0.0, 5.0], [1.0, 1.0])
        self.assertEqual(path, [0, 0, 1, 1])

    def test_stationary(self):
        p = hmm.stationary([[0.9, 0.1], [0.2, 0.8]])
        self.assertAlmostEqual(p[0], 2 / 3)
        self.assertAlmostEqual(p[1], 1 / 3)


if __name__ == "__main__":
    unittest.main()
