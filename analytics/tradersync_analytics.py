"""Trade-journal analytics (TraderSync-style): P&L, win rate, profit factor,
expectancy and max drawdown, overall, by symbol and by side.

Reads demo_trades (the demo journal and/or CSV imports, see db_loader
--csv).  Net P&L is after fees.  A trade with net P&L > 0 is a win, < 0 a
loss.  Profit factor = gross profit / gross loss of net P&L; expectancy =
average net P&L per trade (= p_win * avg_win - p_loss * avg_loss); max
drawdown is the largest fall of cumulative net P&L from its running peak
(starting at 0), trades ordered by close time; with --capital it is also
given as a fraction of capital + peak P&L.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import cli, db, stats  # noqa: E402
from arunlib.cli import num, pct, rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--source", default="all",
                   help="'all' (default), 'demo', 'csv' (every CSV import) or an exact source like csv:trades.csv")
    p.add_argument("--symbol", help="only this symbol")
    p.add_argument("--side", choices=["long", "short"], help="only this side")
    p.add_argument("--since", type=cli.iso_date, help="only trades closed on or after YYYY-MM-DD")
    p.add_argument("--until", type=cli.iso_date, help="only trades closed on or before YYYY-MM-DD")
    p.add_argument("--capital", type=cli.float_range(0.0, 1e12, lo_open=True),
                   help="account size, to express drawdown as a fraction")
    return p


def journal_stats(pnls, fees=None, capital=None):
    """Stats of net P&Ls in close-time order (pure; unit-tested)."""
    s = stats.win_loss_summary(pnls)
    mdd = stats.max_drawdown_abs(pnls)
    out = {
        "trades": s["n"], "wins": s["wins"], "losses": s["losses"],
        "win_rate": rnd(s["win_rate"]),
        "net_pnl": rnd(sum(pnls), 2),
        "gross_profit": rnd(s["gross_profit"], 2), "gross_loss": rnd(s["gross_loss"], 2),
        "profit_factor": rnd(s["profit_factor"], 4),
        "expectancy": rnd(s["expectancy"], 4),
        "avg_win": rnd(s["avg_win"], 4), "avg_loss": rnd(s["avg_loss"], 4),
        "largest_win": rnd(max(pnls), 2) if pnls else None,
        "largest_loss": rnd(min(pnls), 2) if pnls else None,
        "max_drawdown": rnd(mdd, 2),
    }
    if fees is not None:
        out["fees"] = rnd(sum(fees), 2)
    if capital:
        eq = [capital]
        for p in pnls:
            eq.append(eq[-1] + p)
        out["max_drawdown_pct"] = rnd(stats.max_drawdown(eq))
    return out


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_trades", "trades")
    where, params = [], []
    if args.source == "csv":
        where.append("source LIKE 'csv:%'")
    elif args.source != "all":
        where.append("source = ?")
        params.append(args.source)
    if args.symbol:
        where.append("symbol = ?")
        params.append(args.symbol.upper())
    if args.side:
        where.append("side = ?")
        params.append(args.side)
    if args.since:
        where.append("substr(close_time, 1, 10) >= ?")
        params.append(args.since)
    if args.until:
        where.append("substr(close_time, 1, 10) <= ?")
        params.append(args.until)
    sql = "SELECT symbol, side, net_pnl, fees, source FROM demo_trades"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY close_time, id", params).fetchall()
    if not rows:
        known = [r[0] for r in conn.execute("SELECT DISTINCT source FROM demo_trades ORDER BY 1")]
        raise cli.UserError("no trades match the filters (sources: %s)" % ", ".join(known))
    overall = journal_stats([r[2] for r in rows], [r[3] for r in rows], args.capital)
    by_symbol = []
    for sym in sorted({r[0] for r in rows}):
        sub = [r for r in rows if r[0] == sym]
        by_symbol.append({"symbol": sym, **journal_stats([r[2] for r in sub], [r[3] for r in sub])})
    by_symbol.sort(key=lambda r: -r["net_pnl"])
    by_side = []
    for side in ("long", "short"):
        sub = [r for r in rows if r[1] == side]
        if sub:
            by_side.append({"side": side, **journal_stats([r[2] for r in sub], [r[3] for r in sub])})
    filters = {k: getattr(args, k) for k in ("symbol", "side", "since", "until", "capital") if getattr(args, k)}
    filters["source"] = args.source
    o = overall
    summary = [
        "%d trades: net P&L %s (fees %s), win rate %s, profit factor %s, expectancy %s/trade, max drawdown %s"
        % (o["trades"], num(o["net_pnl"], "%.2f"), num(o["fees"], "%.2f"), pct(o["win_rate"], 1),
           num(o["profit_factor"], "%.2f"), num(o["expectancy"], "%.2f"), num(o["max_drawdown"], "%.2f")),
    ]
    for s in by_side:
        summary.append("  %-5s %4d trades, net %10.2f, win %s, PF %s" % (
            s["side"], s["trades"], s["net_pnl"], pct(s["win_rate"], 1), num(s["profit_factor"], "%.2f")))
    summary.append("  best symbols:  " + ", ".join("%s %.0f" % (s["symbol"], s["net_pnl"]) for s in by_symbol[:3]))
    summary.append("  worst symbols: " + ", ".join("%s %.0f" % (s["symbol"], s["net_pnl"]) for s in by_symbol[-3:]))
    return {"filters": filters, "overall": overall, "by_side": by_side, "by_symbol": by_symbol}, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
