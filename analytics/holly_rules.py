"""Per-strategy performance of the alert engine's rules.

For each strategy (and overall): alert count, win rate, average and median
signed return, average win / loss, expectancy (p_win * avg_win -
p_loss * |avg_loss|, per alert, as a return fraction) and expectancy in
units of the average loss (R).  Reads demo_alerts.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import alerts, cli, db, stats  # noqa: E402
from arunlib.cli import pct, rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    alerts.add_filter_flags(p)
    p.add_argument("--min-count", type=cli.positive_int, default=1,
                   help="hide strategies with fewer alerts (default 1)")
    return p


def summarize(rets):
    s = stats.win_loss_summary(rets)
    return {
        "count": s["n"], "wins": s["wins"], "win_rate": rnd(s["win_rate"]),
        "avg_return": rnd(stats.mean(rets)), "median_return": rnd(stats.median(rets)),
        "avg_win": rnd(s["avg_win"]), "avg_loss": rnd(s["avg_loss"]),
        "expectancy": rnd(s["expectancy"]), "expectancy_r": rnd(s["expectancy_r"], 4),
        "profit_factor": rnd(s["profit_factor"], 4),
    }


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_alerts", "alerts")
    where, params = alerts.where_clause(conn, args)
    rows = conn.execute("SELECT strategy, ret FROM demo_alerts" + where, params).fetchall()
    if not rows:
        raise cli.UserError("no alerts match the filters")
    by = {}
    for strat, ret in rows:
        by.setdefault(strat, []).append(ret)
    table = []
    for strat, rets in by.items():
        if len(rets) >= args.min_count:
            table.append(dict(strategy=strat, **summarize(rets)))
    table.sort(key=lambda r: (r["expectancy"] is None, -(r["expectancy"] or 0)))
    total = summarize([r[1] for r in rows])
    filters = alerts.filters_used(args)
    summary = ["%d alerts%s" % (len(rows), (" (filters: %s)" % filters) if filters else "")]
    # the expectancy per alert equals the average return, so the table
    # shows it in R (units of the average loss) and the profit factor,
    # which say how the edge compares with the risk taken
    summary.append("%-24s %6s %7s %8s %8s %7s %6s" % ("strategy", "n", "win", "avg", "median",
                                                       "exp R", "PF"))
    num = lambda v, nd: "-" if v is None else "%.*f" % (nd, v)
    for r in table:
        summary.append("%-24s %6d %7s %8s %8s %7s %6s" % (
            r["strategy"][:24], r["count"], pct(r["win_rate"], 1), pct(r["avg_return"], 3),
            pct(r["median_return"], 3), num(r["expectancy_r"], 2), num(r["profit_factor"], 2)))
    return {"filters": filters, "overall": total, "strategies": table}, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
