"""Tests of the demo generator (determinism, internal consistency) and the
TraderSync-style CSV parser."""

import os
import tempfile
import unittest

import _helpers  # noqa: F401
from arunlib import demo, tradecsv
from arunlib.cli import UserError


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.g = demo.generate()

    def test_deterministic(self):
        g2 = demo.generate()
        self.assertEqual(self.g["alerts"], g2["alerts"])
        self.assertEqual(self.g["trades"], g2["trades"])
        self.assertNotEqual(demo.generate(seed=1)["alerts"][:20], self.g["alerts"][:20])

    def test_shape(self):
        g = self.g
        self.assertEqual(len(g["dates"]), demo.N_DAYS)
        self.assertEqual(len(g["prices"]), 20)
        self.assertEqual(len(g["alerts"]), 5000)
        self.assertGreater(len(g["trades"]), 300)
        import datetime as dt
        self.assertTrue(all(dt.date.fromisoformat(d).weekday() < 5 for d in g["dates"]))
        self.assertEqual(len(set(g["dates"])), len(g["dates"]))

    def test_price_bars_consistent(self):
        for sym, p in self.g["prices"].items():
            for o, h, l, c in zip(p["open"], p["high"], p["low"], p["close"]):
                self.assertLessEqual(l, min(o, c), sym)
                self.assertGreaterEqual(h, max(o, c), sym)
                self.assertGreater(l, 0)

    def test_alerts_consistent(self):
        for a in self.g["alerts"]:
            sign = 1 if a["direction"] == "long" else -1
            ret = sign * (a["exit_price"] / a["entry_price"] - 1)
            self.assertAlmostEqual(ret, a["ret"], places=5)
            self.assertEqual(a["outcome"], 1 if a["ret"] > 0 else 0)
            self.assertTrue(0 < a["win_prob"] < 1)
            self.assertLess(a["alert_time"], a["exit_time"])
            self.assertTrue(a["alert_time"].startswith(a["date"]))

    def test_trades_pnl(self):
        for t in self.g["trades"]:
            sign = 1 if t["side"] == "long" else -1
            self.assertAlmostEqual(t["gross_pnl"], sign * (t["exit_price"] - t["entry_price"]) * t["qty"], places=2)
            self.assertAlmostEqual(t["net_pnl"], t["gross_pnl"] - t["fees"], places=2)

    def test_planted_effects_exist(self):
        # the deployed model is over-confident: mean prediction above the win rate
        a = self.g["alerts"]
        self.assertGreater(sum(x["win_prob"] for x in a) / len(a), sum(x["outcome"] for x in a) / len(a))


CSV = """Status,Symbol,Side,Open Date,Open Time,Close Date,Close Time,Size,Entry Price,Exit Price,Commission,Fees,Net P&L
CLOSED,aapl,LONG,05/01/2023,09:31:05,05/01/2023,10:02:00,100,$170.00,$171.50,1.00,0.50,$148.50
CLOSED,TSLA,SHORT,05/02/2023,10:00,05/02/2023,11:00,50,"1,200.00",1210.00,1.00,,($501.00)
OPEN,MSFT,LONG,05/03/2023,09:45,,,10,300,300,0,0,0
CLOSED,SPY,SS,2023-05-04 14:00:00,,2023-05-04 15:00:00,,10,400,398,0,0,
,,,,,,,,,,,,
"""


class TraderSyncCsv(unittest.TestCase):
    def write(self, text):
        fd, path = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_parse(self):
        rows = tradecsv.read_trades(self.write(CSV), "csv:x")
        self.assertEqual(len(rows), 3)                 # OPEN and blank rows skipped
        a, t, s = rows
        self.assertEqual((a["symbol"], a["side"], a["qty"]), ("AAPL", "long", 100))
        self.assertEqual(a["open_time"], "2023-05-01 09:31:05")
        self.assertEqual(a["fees"], 1.5)
        self.assertEqual(a["net_pnl"], 148.5)
        self.assertEqual(a["gross_pnl"], 150.0)
        self.assertEqual(t["entry_price"], 1200.0)
        self.assertEqual(t["net_pnl"], -501.0)         # accounting negative
        self.assertEqual(t["gross_pnl"], -500.0)
        self.assertEqual(s["side"], "short")
        self.assertEqual(s["net_pnl"], 20.0)           # computed: short 400 -> 398, 10 shares
        self.assertEqual(len({r["trade_key"] for r in rows}), 3)

    def test_alternative_headers(self):
        text = "Ticker,Direction,Open Datetime,Close Datetime,Qty,Avg Entry Price,Avg Exit Price\n" \
               "KO,buy,2023-01-03T10:00:00,2023-01-03T11:00:00,10,50,51\n"
        rows = tradecsv.read_trades(self.write(text), "csv:y")
        self.assertEqual(rows[0]["net_pnl"], 10.0)

    def test_missing_column(self):
        with self.assertRaises(UserError) as cm:
            tradecsv.read_trades(self.write("Symbol,Side\nA,LONG\n"), "csv:z")
        self.assertIn("missing column", str(cm.exception))

    def test_bad_value_names_line(self):
        bad = CSV.replace("$170.00", "abc")
        with self.assertRaises(UserError) as cm:
            tradecsv.read_trades(self.write(bad), "csv:z")
        self.assertIn("line 2", str(cm.exception))
        self.assertIn("entry price", str(cm.exception))

    def test_number_and_date_formats(self):
        self.assertEqual(tradecsv.parse_number("($1,234.50)"), -1234.5)
        self.assertEqual(tradecsv.parse_number("-3"), -3)
        self.assertEqual(tradecsv.parse_datetime("5/1/2023 1:05 PM").hour, 13)
        self.assertEqual(tradecsv.parse_datetime("2023-05-01T09:30:00.123Z").minute, 30)
        with self.assertRaises(ValueError):
            tradecsv.parse_side("sideways")


if __name__ == "__main__":
    unittest.main()
