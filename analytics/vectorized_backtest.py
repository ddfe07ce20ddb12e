"""Backtest of a moving-average crossover over the price table, with costs.

Long (or, with --short, long/short) when SMA(--fast) of closes is above
SMA(--slow); positions change at the close and earn the next day's return;
every unit of position change pays --cost-bps basis points.  Reports total
and annualised return, annualised volatility and Sharpe (risk-free 0, 252
days), max drawdown of the compounded equity, turnover (sum of |position
change|, total and per year), trade count, exposure and the cost paid,
next to buy-and-hold.  --symbol ALL runs every symbol and an equal-weight
portfolio of the per-symbol strategies (daily rebalanced).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import backtest, cli, db  # noqa: E402
from arunlib.cli import num, pct, rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--symbol", default="SPY", help="symbol, or ALL (default %(default)s)")
    p.add_argument("--fast", type=cli.int_range(1, 500), default=20, help="fast SMA days (default %(default)s)")
    p.add_argument("--slow", type=cli.int_range(2, 1000), default=50, help="slow SMA days (default %(default)s)")
    p.add_argument("--cost-bps", type=cli.float_range(0.0, 1000.0), default=5.0,
                   help="cost per unit of position change, basis points (default %(default)s)")
    p.add_argument("--short", action="store_true", help="go short (-1) instead of flat when fast < slow")
    p.add_argument("--since", type=cli.iso_date, help="only prices on or after YYYY-MM-DD")
    return p


def _rounded(d):
    return {k: (rnd(v) if isinstance(v, float) else v) for k, v in d.items()}


def one(dates, closes, args):
    strat, held, costs = backtest.run_crossover(closes, args.fast, args.slow, args.cost_bps, args.short)
    perf = backtest.performance(strat, held)
    perf["cost_paid"] = sum(costs)
    bh = backtest.performance(backtest.simple_returns(closes))
    return strat, {"date_range": [dates[0], dates[-1]], "strategy": _rounded(perf),
                   "buy_and_hold": _rounded(bh), "final_position": held[-1] if held else 0}


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_prices", "prices")
    syms = db.symbols(conn) if args.symbol.upper() == "ALL" else [args.symbol.upper()]
    results, series = {}, {}
    for sym in syms:
        dates, closes = db.require_symbol(conn, sym)
        if args.since:
            keep = [i for i, d in enumerate(dates) if d >= args.since]
            dates, closes = [dates[i] for i in keep], [closes[i] for i in keep]
        if len(closes) < args.slow + 2:
            raise cli.UserError("only %d prices for %s: need more than --slow + 1 = %d"
                                % (len(closes), sym, args.slow + 1))
        series[sym], results[sym] = one(dates, closes, args)
    params = {"fast": args.fast, "slow": args.slow, "cost_bps": args.cost_bps, "short": args.short,
              "since": args.since}
    summary = []
    if len(syms) == 1:
        sym = syms[0]
        res = {"symbol": sym, "params": params, **results[sym]}
        s, b = results[sym]["strategy"], results[sym]["buy_and_hold"]
        summary.append("%s MA %d/%d %s, cost %g bps, %s..%s" % (
            sym, args.fast, args.slow, "long/short" if args.short else "long/flat", args.cost_bps,
            *results[sym]["date_range"]))
    else:
        n = min(len(v) for v in series.values())
        port = [sum(series[s][-n + i] for s in syms) / len(syms) for i in range(n)]
        perf = backtest.performance(port)
        # each symbol has weight 1/N, so portfolio turnover and cost are the per-symbol means
        perf["turnover"] = sum(results[s]["strategy"]["turnover"] for s in syms) / len(syms)
        perf["ann_turnover"] = perf["turnover"] / (n / backtest.PERIODS)
        perf["trades"] = sum(results[s]["strategy"]["trades"] for s in syms)
        perf["cost_paid"] = sum(results[s]["strategy"]["cost_paid"] for s in syms) / len(syms)
        perf = _rounded(perf)
        res = {"symbol": "ALL", "params": params, "portfolio": perf,
               "per_symbol": [{"symbol": s, **results[s]} for s in syms]}
        s, b = perf, None
        summary.append("equal-weight portfolio of %d symbols, MA %d/%d, cost %g bps" % (
            len(syms), args.fast, args.slow, args.cost_bps))
    summary.append("strategy: total %s, ann. %s, vol %s, Sharpe %s, max DD %s%s" % (
        pct(s["total_return"]), pct(s["ann_return"]), pct(s["ann_vol"]), num(s["sharpe"], "%.2f"),
        pct(s["max_drawdown"]), (", turnover %.1f (%d trades), cost %s" % (
            s["turnover"], s["trades"], pct(s["cost_paid"]))) if "turnover" in s else ""))
    if b:
        summary.append("buy&hold: total %s, ann. %s, vol %s, Sharpe %s, max DD %s" % (
            pct(b["total_return"]), pct(b["ann_return"]), pct(b["ann_vol"]), num(b["sharpe"], "%.2f"),
            pct(b["max_drawdown"])))
    return res, summary


def validate(parser, args):
    if args.fast >= args.slow:
        parser.error("--fast (%d) must be smaller than --slow (%d)" % (args.fast, args.slow))


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run, validate))
