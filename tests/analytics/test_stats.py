"""Unit tests of arunlib.stats on hand-made data with known answers."""

import math
import unittest

import _helpers  # noqa: F401
from arunlib import stats


class Descriptive(unittest.TestCase):
    def test_mean_median_stdev(self):
        self.assertEqual(stats.mean([1, 2, 3, 4]), 2.5)
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)
        self.assertAlmostEqual(stats.stdev([2, 4, 4, 4, 5, 5, 7, 9], ddof=0), 2.0)
        self.assertIsNone(stats.mean([]))
        self.assertIsNone(stats.median([]))
        self.assertIsNone(stats.stdev([1.0]))

    def test_quantile_matches_linear_interpolation(self):
        self.assertEqual(stats.quantile([1, 2, 3, 4, 5], 0.5), 3)
        self.assertAlmostEqual(stats.quantile([1, 2, 3, 4], 0.25), 1.75)


class Drawdown(unittest.TestCase):
    def test_constant_positive_return_has_zero_drawdown(self):
        eq = stats.equity_curve([0.001] * 500)
        self.assertEqual(stats.max_drawdown(eq, start=1.0), 0.0)
        self.assertAlmostEqual(eq[-1], 1.001 ** 500)

    def test_known_drawdown(self):
        # peak 1.2 -> trough 0.9 is a 25 % fall, larger than 1.1 -> ... none after
        self.assertAlmostEqual(stats.max_drawdown([1.0, 1.2, 0.9, 1.1, 1.3]), 0.25)
        # starting peak counts: equity that only falls from 1.0 to 0.8
        self.assertAlmostEqual(stats.max_drawdown([0.9, 0.8], start=1.0), 0.2)

    def test_abs_drawdown_of_pnl(self):
        self.assertEqual(stats.max_drawdown_abs([100, -30, -50, 40, -10]), 80)
        self.assertEqual(stats.max_drawdown_abs([-20, 5]), 20)   # from the 0 start
        self.assertEqual(stats.max_drawdown_abs([10, 10, 10]), 0)


class Sharpe(unittest.TestCase):
    def test_constant_returns_undefined(self):
        self.assertIsNone(stats.sharpe([0.001] * 50))

    def test_known_value(self):
        r = [0.01, -0.01, 0.02, 0.0]      # mean 0.005, sample sd 0.0129099
        expect = 0.005 / stats.stdev(r) * math.sqrt(252)
        self.assertAlmostEqual(stats.sharpe(r), expect)
        self.assertAlmostEqual(stats.sharpe(r), 6.1481704, places=6)


class WinLoss(unittest.TestCase):
    def test_summary(self):
        s = stats.win_loss_summary([100, -50, 200, -50, 0])
        self.assertEqual((s["n"], s["wins"], s["losses"]), (5, 2, 2))
        self.assertAlmostEqual(s["win_rate"], 0.4)
        self.assertAlmostEqual(s["profit_factor"], 3.0)
        self.assertAlmostEqual(s["avg_win"], 150)
        self.assertAlmostEqual(s["avg_loss"], -50)
        # 0.4*150 - 0.4*50 = 40 = mean
        self.assertAlmostEqual(s["expectancy"], 40)
        self.assertAlmostEqual(s["expectancy_r"], 0.8)

    def test_no_losses(self):
        s = stats.win_loss_summary([1, 2])
        self.assertIsNone(s["profit_factor"])
        self.assertAlmostEqual(s["expectancy"], 1.5)


class Agreement(unittest.TestCase):
    def test_identical_series_kappa_one(self):
        a = ["long", "short", "long", "long", "short"]
        self.assertEqual(stats.cohen_kappa(a, list(a)), 1.0)
        self.assertEqual(stats.percent_agreement(a, list(a)), 1.0)

    def test_opposite_balanced_kappa_minus_one(self):
        a = ["long", "short"] * 5
        b = ["short", "long"] * 5
        self.assertAlmostEqual(stats.cohen_kappa(a, b), -1.0)

    def test_textbook_example(self):
        # 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po 0.7, pe 0.5 -> 0.4
        a = ["y"] * 25 + ["n"] * 25
        b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
        self.assertAlmostEqual(stats.percent_agreement(a, b), 0.7)
        self.assertAlmostEqual(stats.cohen_kappa(a, b), 0.4)

    def test_single_category_agreement_is_chance(self):
        # one rater always says long: agreement equals chance -> kappa 0
        a = ["long"] * 10
        b = ["long"] * 6 + ["short"] * 4
        self.assertAlmostEqual(stats.cohen_kappa(a, b), 0.0)
        self.assertIsNone(stats.cohen_kappa(["x"] * 3, ["x"] * 3))   # p_e == 1: undefined

    def test_confusion(self):
        m = stats.confusion(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
        self.assertEqual(m, {"a": {"a": 1, "b": 1}, "b": {"a": 0, "b": 1}})


class Calibration(unittest.TestCase):
    def test_perfectly_calibrated_has_zero_ece(self):
        probs = [0.25] * 4 + [0.75] * 4 + [0.55] * 20
        outs = [1, 0, 0, 0] + [1, 1, 1, 0] + [1] * 11 + [0] * 9
        self.assertAlmostEqual(stats.ece(probs, outs, 10), 0.0)
        self.assertAlmostEqual(stats.mce(probs, outs, 10), 0.0)

    def test_known_ece(self):
        # bin 0.8-0.9: predicted 0.8, observed 0.5 (n=2); bin 0.2-0.3: pred 0.2 obs 0.5 (n=2)
        probs = [0.8, 0.8, 0.2, 0.2]
        outs = [1, 0, 1, 0]
        self.assertAlmostEqual(stats.ece(probs, outs, 10), 0.3)
        self.assertAlmostEqual(stats.brier(probs, outs), (0.04 + 0.64 + 0.64 + 0.04) / 4)

    def test_brier_extremes(self):
        self.assertEqual(stats.brier([1.0, 0.0], [1, 0]), 0.0)
        self.assertAlmostEqual(stats.brier([0.5] * 4, [1, 0, 1, 1]), 0.25)

    def test_bins_edges(self):
        rb = stats.reliability_bins([0.0, 1.0, 0.1, 0.5], [0, 1, 0, 1], 10)
        self.assertEqual(len(rb), 10)
        self.assertEqual(rb[9]["n"], 1)      # p == 1 goes into the last bin
        self.assertEqual(rb[1]["n"], 1)      # 0.1 is the start of bin 1
        self.assertEqual(rb[5]["n"], 1)
        self.assertEqual(sum(b["n"] for b in rb), 4)
        self.assertIsNone(rb[3]["observed"])


class Tests(unittest.TestCase):
    def test_two_proportion_z(self):
        z, p = stats.two_proportion_z(60, 100, 40, 100)
        self.assertAlmostEqual(z, 2.8284271, places=6)
        self.assertAlmostEqual(p, 0.0046777, places=6)
        self.assertEqual(stats.two_proportion_z(0, 0, 1, 2), (None, None))

    def test_welch_equal_means(self):
        t, p = stats.welch_t([1, 2, 3], [1, 2, 3])
        self.assertEqual(t, 0.0)
        self.assertAlmostEqual(p, 1.0)

    def test_pearson(self):
        self.assertAlmostEqual(stats.pearson([1, 2, 3], [2, 4, 6]), 1.0)
        self.assertAlmostEqual(stats.pearson([1, 2, 3], [3, 2, 1]), -1.0)
        self.assertIsNone(stats.pearson([1, 1, 1], [1, 2, 3]))


if __name__ == "__main__":
    unittest.main()
