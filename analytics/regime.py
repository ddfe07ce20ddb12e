"""Classify each day's market regime from prices and store the labels.

Trend: t-statistic of the trailing --window-day log return (return divided
by daily volatility * sqrt(window)); trend_up above --threshold,
trend_down below -threshold, range otherwise.  Volatility: trailing
--window-day realised volatility (annualised) above its own trailing
--vol-lookback-day median is high_vol, else low_vol.  Only data up to and
including each day is used.  Replaces the symbol's rows in regime_labels.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import cli, db, regimes, schema  # noqa: E402
from arunlib.cli import pct, rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--symbol", default="SPY", help="symbol to classify (default %(default)s)")
    p.add_argument("--all", action="store_true", help="classify every symbol in demo_prices")
    p.add_argument("--window", type=cli.int_range(2, 250), default=20,
                   help="trailing window in days (default %(default)s)")
    p.add_argument("--threshold", type=cli.float_range(0.0, 10.0), default=0.5,
                   help="trend t-statistic threshold (default %(default)s)")
    p.add_argument("--vol-lookback", type=cli.int_range(10, 2000), default=250,
                   help="days of history for the volatility median (default %(default)s)")
    return p


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_prices", "prices")
    syms = db.symbols(conn) if args.all else [args.symbol.upper()]
    per_symbol = {}
    rows = []
    for sym in syms:
        dates, closes = db.require_symbol(conn, sym)
        if len(closes) < args.window + 22:
            raise cli.UserError("only %d prices for %s: need at least %d" % (len(closes), sym, args.window + 22))
        labels = regimes.classify(closes, window=args.window, threshold=args.threshold,
                                  vol_lookback=args.vol_lookback)
        counts = {}
        last = None
        for d, lab in zip(dates, labels):
            if lab is None:
                continue
            rows.append((sym, d, lab["trend"], lab["vol"], lab["label"], lab["ret_n"], lab["tstat"],
                         lab["vol_ann"], lab["vol_threshold"]))
            counts[lab["label"]] = counts.get(lab["label"], 0) + 1
            last = {"date": d, "label": lab["label"], "tstat": rnd(lab["tstat"], 4),
                    "vol_ann": rnd(lab["vol_ann"])}
        per_symbol[sym] = {"labelled_days": sum(counts.values()), "counts": dict(sorted(counts.items())),
                           "latest": last}
    with conn:
        schema.create(conn, ["regime_labels"])
        conn.executemany("DELETE FROM regime_labels WHERE symbol = ?", [(s,) for s in syms])
        conn.executemany("INSERT INTO regime_labels VALUES (?,?,?,?,?,?,?,?,?)", rows)
    result = {"params": {"window": args.window, "threshold": args.threshold, "vol_lookback": args.vol_lookback},
              "rows_written": len(rows), "symbols": per_symbol}
    summary = ["stored %d regime labels for %d symbol(s) (window %d, threshold %g)"
               % (len(rows), len(syms), args.window, args.threshold)]
    for sym, s in list(per_symbol.items())[:5]:
        n = s["labelled_days"] or 1
        summary.append("%s: %s; latest %s %s" % (
            sym, ", ".join("%s %s" % (k, pct(v / n, 0)) for k, v in s["counts"].items()),
            s["latest"]["date"] if s["latest"] else "-", s["latest"]["label"] if s["latest"] else "-"))
    return result, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
