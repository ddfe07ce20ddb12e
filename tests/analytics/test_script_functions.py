"""Tests of the pure functions inside the scripts (importable modules)."""

import math
import unittest

import _helpers  # noqa: F401
import agreement
import calibration
import regime_accuracy
import tradersync_analytics


class Journal(unittest.TestCase):
    def test_known_journal(self):
        s = tradersync_analytics.journal_stats([100.0, -50.0, 200.0, -50.0, -100.0], [1, 1, 1, 1, 1],
                                               capital=1000.0)
        self.assertEqual(s["trades"], 5)
        self.assertEqual(s["net_pnl"], 100.0)
        self.assertAlmostEqual(s["win_rate"], 0.4)
        self.assertAlmostEqual(s["profit_factor"], 1.5)
        self.assertAlmostEqual(s["expectancy"], 20.0)
        self.assertEqual(s["max_drawdown"], 150.0)         # cum 100,50,250,200,100: 250 -> 100
        self.assertAlmostEqual(s["max_drawdown_pct"], 150.0 / 1250.0)
        self.assertEqual(s["fees"], 5)
        self.assertEqual((s["largest_win"], s["largest_loss"]), (200.0, -100.0))

    def test_only_winners(self):
        s = tradersync_analytics.journal_stats([10.0, 10.0])
        self.assertIsNone(s["profit_factor"])
        self.assertEqual(s["max_drawdown"], 0.0)


class Agreement(unittest.TestCase):
    def test_stats(self):
        e = ["long", "long", "short", "short"]
        r = agreement.agreement_stats(e, list(e))
        self.assertEqual((r["n"], r["agree"], r["percent_agreement"], r["kappa"]), (4, 4, 1.0, 1.0))
        self.assertEqual(r["chance_agreement"], 0.5)
        r = agreement.agreement_stats(e, ["long", "short", "long", "short"])
        self.assertEqual(r["kappa"], 0.0)


class Calibration(unittest.TestCase):
    def test_report_perfect(self):
        probs = [0.2] * 5 + [0.8] * 5
        outs = [1, 0, 0, 0, 0] + [1, 1, 1, 1, 0]
        r = calibration.calibration_report(probs, outs, 10)
        self.assertEqual(r["ece"], 0.0)
        self.assertAlmostEqual(r["brier"], 0.16)
        self.assertAlmostEqual(r["brier_skill"], 1 - 0.16 / 0.25)
        self.assertEqual(len(r["bins"]), 10)


class RegimeAccuracy(unittest.TestCase):
    def test_perfect_predictor(self):
        # steady 1 %/day rise with tiny wiggle: label trend_up, realised up every time
        closes = [100 * 1.01 ** i * (1 + 0.0001 * (-1) ** i) for i in range(60)]
        dates = ["d%03d" % i for i in range(60)]
        labels = {dates[i]: ("trend_up", "low_vol", 0.01 * math.sqrt(252), 0.5) for i in range(20, 50)}
        r = regime_accuracy.evaluate(dates, closes, labels, horizon=5, band=0.5)
        self.assertEqual(r["n"], 30)
        self.assertEqual(r["trend"]["accuracy"], 1.0)
        self.assertEqual(r["trend"]["directional_hit_rate"], 1.0)
        self.assertEqual(r["trend"]["confusion"]["trend_up"]["up"], 30)
        self.assertEqual(r["vol"]["confusion"]["low_vol"]["low_vol"], 30)

    def test_wrong_predictor_and_horizon_end(self):
        closes = [100 * 0.99 ** i for i in range(30)]
        dates = [str(i) for i in range(30)]
        labels = {dates[i]: ("trend_up", "high_vol", 0.01 * math.sqrt(252), 0.0) for i in range(0, 30)}
        r = regime_accuracy.evaluate(dates, closes, labels, horizon=5, band=0.5)
        self.assertEqual(r["n"], 25)                # last 5 days have no 5-day future
        self.assertEqual(r["trend"]["directional_hit_rate"], 0.0)
        self.assertEqual(r["trend"]["confusion"]["trend_up"]["down"], 25)


if __name__ == "__main__":
    unittest.main()
