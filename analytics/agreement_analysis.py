"""Engine-vs-MA agreement broken down by strategy, symbol and market regime,
and whether alerts taken when the two sources agree perform better.

Pairs each alert with the MA model's direction (see agreement.py).  Groups
by strategy, symbol and the market regime of the previous day (the regime.py
classifier applied to --regime-symbol's closes; trend and volatility
labels), reporting n, percent agreement and Cohen's kappa per group.  Then
compares alerts where the sources agree with those where they disagree:
win rate (two-proportion z-test), mean return (Welch t, normal p-value),
expectancy; overall and per strategy.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import alerts, cli, db, regimes, stats  # noqa: E402
from arunlib.cli import num, pct, rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    alerts.add_ma_flags(p)
    alerts.add_filter_flags(p)
    p.add_argument("--regime-symbol", default="SPY",
                   help="symbol whose regime is the market regime (default %(default)s)")
    p.add_argument("--min-group", type=cli.positive_int, default=30,
                   help="omit groups smaller than this (default %(default)s)")
    return p


def group_agreement(pairs, key, min_n):
    groups = {}
    for p in pairs:
        groups.setdefault(key(p), []).append(p)
    out = []
    for g, ps in sorted(groups.items()):
        if len(ps) < min_n:
            continue
        e = [p["engine"] for p in ps]
        m = [p["ma"] for p in ps]
        out.append({"group": g, "n": len(ps),
                    "percent_agreement": rnd(stats.percent_agreement(e, m)),
                    "kappa": rnd(stats.cohen_kappa(e, m)),
                    "win_rate": rnd(stats.mean(p["outcome"] for p in ps))})
    return out


def compare(agree, disagree):
    """Performance of agreeing vs disagreeing alerts."""
    def side(ps):
        rets = [p["ret"] for p in ps]
        s = stats.win_loss_summary(rets)
        return {"n": len(ps), "win_rate": rnd(stats.mean(p["outcome"] for p in ps)),
                "avg_return": rnd(stats.mean(rets)), "expectancy": rnd(s["expectancy"]),
                "profit_factor": rnd(s["profit_factor"], 4)}
    a, d = side(agree), side(disagree)
    z, pz = stats.two_proportion_z(sum(p["outcome"] for p in agree), len(agree),
                                   sum(p["outcome"] for p in disagree), len(disagree))
    t, pt = stats.welch_t([p["ret"] for p in agree], [p["ret"] for p in disagree])
    diff = (a["win_rate"] - d["win_rate"]) if a["n"] and d["n"] else None
    rdiff = (a["avg_return"] - d["avg_return"]) if a["n"] and d["n"] else None
    return {"agree": a, "disagree": d,
            "win_rate_diff": rnd(diff), "win_rate_z": rnd(z, 4), "win_rate_p": pz,
            "return_diff": rnd(rdiff), "return_t": rnd(t, 4), "return_p": pt,
            "agree_better": (diff is not None and rdiff is not None and diff > 0 and rdiff > 0
                             and pz is not None and pz < 0.05)}


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_prices", "prices")
    db.require_rows(conn, "demo_alerts", "alerts")
    dates, closes = db.require_symbol(conn, args.regime_symbol.upper())
    labels = regimes.classify(closes)
    prev_regime = {}
    for i in range(1, len(dates)):
        prev_regime[dates[i]] = labels[i - 1]
    pairs, skipped = alerts.aligned(conn, args)
    if not pairs:
        raise cli.UserError("no alerts with an MA direction match the filters")
    for p in pairs:
        lab = prev_regime.get(p["date"])
        p["trend"] = lab["trend"] if lab else "unlabelled"
        p["vol"] = lab["vol"] if lab else "unlabelled"
        p["agree"] = p["engine"] == p["ma"]
    agree = [p for p in pairs if p["agree"]]
    disagree = [p for p in pairs if not p["agree"]]
    overall = compare(agree, disagree)
    by_strategy_perf = []
    for strat in sorted({p["strategy"] for p in pairs}):
        ps = [p for p in pairs if p["strategy"] == strat]
        c = compare([p for p in ps if p["agree"]], [p for p in ps if not p["agree"]])
        by_strategy_perf.append({"strategy": strat, **c})
    mn = args.min_group
    result = {
        "filters": alerts.filters_used(args),
        "ma_model": {"fast": args.fast, "slow": args.slow},
        "regime_symbol": args.regime_symbol.upper(),
        "n": len(pairs), "skipped_no_ma": skipped,
        "by_strategy": group_agreement(pairs, lambda p: p["strategy"], mn),
        "by_symbol": group_agreement(pairs, lambda p: p["symbol"], mn),
        "by_regime": group_agreement(pairs, lambda p: p["trend"] + "/" + p["vol"], mn),
        "by_trend": group_agreement(pairs, lambda p: p["trend"], mn),
        "by_vol": group_agreement(pairs, lambda p: p["vol"], mn),
        "performance": overall,
        "performance_by_strategy": by_strategy_perf,
    }
    a, d = overall["agree"], overall["disagree"]
    summary = ["%d alerts vs MA(%d/%d); regime from %s" % (len(pairs), args.fast, args.slow,
                                                            args.regime_symbol.upper())]
    for name in ("by_strategy", "by_regime"):
        summary.append("%s:" % name)
        for g in result[name]:
            summary.append("  %-26s n=%5d agree %6s kappa %7s" % (
                g["group"][:26], g["n"], pct(g["percent_agreement"], 1), num(g["kappa"], "%.3f")))
    summary.append("agree:    n=%d win %s avg %s" % (a["n"], pct(a["win_rate"], 1), pct(a["avg_return"], 3)))
    summary.append("disagree: n=%d win %s avg %s" % (d["n"], pct(d["win_rate"], 1), pct(d["avg_return"], 3)))
    summary.append("win-rate difference %s (p=%s); agreeing alerts %s" % (
        pct(overall["win_rate_diff"], 1), num(overall["win_rate_p"], "%.3g"),
        "perform better" if overall["agree_better"] else "do not clearly perform better"))
    return result, summary


def validate(parser, args):
    alerts.check_ma_flags(parser, args)


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run, validate))
