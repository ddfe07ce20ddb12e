"""Unit tests of moving averages, the MA direction model, the crossover
backtest and the regime classifier (arunlib.signals/backtest/regimes)."""

import math
import random
import unittest

import _helpers  # noqa: F401
from arunlib import backtest, regimes, signals


class MovingAverages(unittest.TestCase):
    def test_sma(self):
        self.assertEqual(signals.sma([1, 2, 3, 4, 5], 3), [None, None, 2.0, 3.0, 4.0])

    def test_ma_direction_uses_only_earlier_closes(self):
        closes = [10, 11, 12, 13, 14, 13, 12, 11, 10, 9]
        d = signals.ma_direction(closes, 2, 4)
        self.assertEqual(d[:4], [None] * 4)          # needs 4 *earlier* closes
        self.assertEqual(d[4], "long")
        self.assertEqual(d[-1], "short")
        for i in range(len(closes)):
            changed = list(closes)
            changed[i] = 1000.0                      # today's close and later must not matter
            self.assertEqual(signals.ma_direction(changed, 2, 4)[:i + 1], d[:i + 1])

    def test_crossover_positions(self):
        closes = [1, 2, 3, 4, 3, 2, 1]
        self.assertEqual(signals.crossover_positions(closes, 1, 3), [0, 0, 1, 1, 0, 0, 0])
        self.assertEqual(signals.crossover_positions(closes, 1, 3, allow_short=True),
                         [0, 0, 1, 1, -1, -1, -1])


class Backtest(unittest.TestCase):
    def test_constant_return_series_has_zero_drawdown(self):
        closes = [100 * 1.001 ** i for i in range(300)]
        strat, held, costs = backtest.run_crossover(closes, 5, 20, cost_bps=5)
        perf = backtest.performance(strat, held)
        self.assertEqual(perf["max_drawdown"], 0.0)
        self.assertEqual(perf["trades"], 1)               # enters once, never leaves
        self.assertAlmostEqual(perf["turnover"], 1.0)
        # invested from the day after the slow SMA exists, paying 5 bps once
        days_in = len(closes) - 20
        self.assertAlmostEqual(perf["total_return"], (1.001 - 0.0005) * 1.001 ** (days_in - 1) - 1, places=9)

    def test_hand_example_with_costs(self):
        closes = [100, 100, 100, 110, 99, 99]
        # fast 1 / slow 2: pos after each close [0, 0(tie->prev 0), 0, 1, 0, 0]
        strat, held, costs = backtest.run_crossover(closes, 1, 2, cost_bps=100)
        self.assertEqual(held, [0, 0, 0, 1, 0])
        self.assertEqual([round(c, 6) for c in costs], [0, 0, 0, 0.01, 0.01])
        self.assertAlmostEqual(strat[3], 99 / 110 - 1 - 0.01)   # held over 110 -> 99, paid entry
        self.assertAlmostEqual(strat[4], -0.01)                  # exit cost
        self.assertEqual(strat[:3], [0.0, 0.0, 0.0])

    def test_cost_drag_equals_turnover_times_cost(self):
        rng = random.Random(5)
        closes = [100.0]
        for _ in range(400):
            closes.append(closes[-1] * math.exp(rng.gauss(0, 0.01)))
        s0, held, _ = backtest.run_crossover(closes, 5, 20, 0.0, allow_short=True)
        s1, _, costs = backtest.run_crossover(closes, 5, 20, 25.0, allow_short=True)
        turnover = backtest.performance(s1, held)["turnover"]
        self.assertGreater(turnover, 2)
        self.assertAlmostEqual(sum(a - b for a, b in zip(s0, s1)), turnover * 25e-4)

    def test_no_lookahead(self):
        rng = random.Random(6)
        closes = [100.0]
        for _ in range(200):
            closes.append(closes[-1] * math.exp(rng.gauss(0, 0.01)))
        base, _, _ = backtest.run_crossover(closes, 5, 20, 5.0)
        changed = closes[:150] + [c * 1.5 for c in closes[150:]]
        after, _, _ = backtest.run_crossover(changed, 5, 20, 5.0)
        # returns through day 148 (the return into close 149) are identical
        self.assertEqual(base[:149], after[:149])

    def test_sharpe_and_annualisation(self):
        perf = backtest.performance([0.01, -0.01, 0.02, 0.0] * 63)
        self.assertEqual(perf["days"], 252)
        self.assertAlmostEqual(perf["ann_return"], perf["total_return"])     # exactly one year
        self.assertAlmostEqual(perf["sharpe"], 0.005 * 252 / perf["ann_vol"])
        self.assertGreater(perf["sharpe"], 0)


class Regimes(unittest.TestCase):
    def series(self, drift, sds, seed):
        rng = random.Random(seed)
        closes = [100.0]
        for sd in sds:
            closes.append(closes[-1] * math.exp(drift + rng.gauss(0, sd)))
        return closes

    def test_trend_up_and_down(self):
        up = regimes.classify(self.series(0.01, [0.005] * 120, 1))
        down = regimes.classify(self.series(-0.01, [0.005] * 120, 2))
        self.assertTrue(all(x["trend"] == "trend_up" for x in up if x))
        self.assertTrue(all(x["trend"] == "trend_down" for x in down if x))
        self.assertIsNone(up[20])                 # needs window + min_vol_history days
        self.assertIsNotNone(up[40])

    def test_flat_series_is_range(self):
        closes = [100 + (1 if i % 2 else -1) * 0.5 for i in range(120)]
        labs = [x for x in regimes.classify(closes) if x]
        self.assertTrue(labs)
        self.assertTrue(all(x["trend"] == "range" for x in labs))

    def test_volatility_jump_is_high_vol(self):
        closes = self.series(0.0, [0.005] * 150 + [0.03] * 30, 3)
        labs = regimes.classify(closes)
        self.assertEqual(labs[-1]["vol"], "high_vol")
        self.assertEqual(labs[140]["vol"] in ("high_vol", "low_vol"), True)
        self.assertAlmostEqual(labs[-1]["vol_ann"], 0.03 * math.sqrt(252), delta=0.15)

    def test_tstat_definition(self):
        closes = self.series(0.002, [0.01] * 60, 4)
        lab = regimes.classify(closes)[50]
        r = regimes.log_returns(closes)[30:50]
        m = sum(r) / 20
        sd = math.sqrt(sum((x - m) ** 2 for x in r) / 19)
        self.assertAlmostEqual(lab["tstat"], math.log(closes[50] / closes[30]) / (sd * math.sqrt(20)))


if __name__ == "__main__":
    unittest.main()
