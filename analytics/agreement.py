"""Agreement between the alert engine's direction and a moving-average model.

For every alert, the MA model's direction on the same symbol and day is
long when SMA(--fast) > SMA(--slow) of closes through the previous day,
short when below.  Reports percent agreement, Cohen's kappa (agreement
beyond chance, from the two sources' marginal long/short rates) and the
2x2 table.  Alerts without enough price history are skipped and counted.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import alerts, cli, db, stats  # noqa: E402
from arunlib.cli import num, pct, rnd  # noqa: E402

LABELS = ["long", "short"]


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    alerts.add_ma_flags(p)
    alerts.add_filter_flags(p)
    return p


def agreement_stats(engine, ma):
    """n, percent agreement, kappa, expected chance agreement, 2x2 table."""
    n = len(engine)
    po = stats.percent_agreement(engine, ma)
    pe = None
    if n:
        pe = sum((engine.count(c) / n) * (ma.count(c) / n) for c in LABELS)
    return {
        "n": n,
        "agree": sum(1 for a, b in zip(engine, ma) if a == b),
        "percent_agreement": rnd(po),
        "kappa": rnd(stats.cohen_kappa(engine, ma)),
        "chance_agreement": rnd(pe),
    }


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_prices", "prices")
    db.require_rows(conn, "demo_alerts", "alerts")
    pairs, skipped = alerts.aligned(conn, args)
    if not pairs:
        raise cli.UserError("no alerts with an MA direction match the filters")
    engine = [p["engine"] for p in pairs]
    ma = [p["ma"] for p in pairs]
    res = agreement_stats(engine, ma)
    table = stats.confusion(engine, ma, LABELS)
    result = {
        "filters": alerts.filters_used(args),
        "ma_model": {"fast": args.fast, "slow": args.slow},
        "skipped_no_ma": skipped,
        **res,
        "table": {"engine_" + e: {"ma_" + m: table[e][m] for m in LABELS} for e in LABELS},
        "engine_long_rate": rnd(engine.count("long") / len(engine)) if engine else None,
        "ma_long_rate": rnd(ma.count("long") / len(ma)) if ma else None,
    }
    summary = [
        "alert engine vs MA(%d/%d): %d alerts compared, %d skipped (no MA direction)"
        % (args.fast, args.slow, res["n"], skipped),
        "agreement %s, chance %s, Cohen's kappa %s"
        % (pct(res["percent_agreement"], 1), pct(res["chance_agreement"], 1), num(res["kappa"])),
        "             ma_long  ma_short",
        "engine_long  %7d  %8d" % (table["long"]["long"], table["long"]["short"]),
        "engine_short %7d  %8d" % (table["short"]["long"], table["short"]["short"]),
    ]
    return result, summary


def validate(parser, args):
    alerts.check_ma_flags(parser, args)


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run, validate))
