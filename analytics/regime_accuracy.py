"""How well the stored regime labels predict the next period.

For each labelled day t of --symbol (from regime_labels, written by
regime.py) looks --horizon days ahead:

- trend: realised class of the forward log return, scaled by the day's
  trailing daily volatility: z = log(C[t+h]/C[t]) / (sd_t * sqrt(h));
  up if z > --band, down if z < -band, else range.  Reports the 3x3
  confusion matrix (label x realised), accuracy, the directional hit rate
  of trend_up/trend_down labels (sign of the forward return), mean forward
  return per label, and naive baselines (majority class; always-up).
- volatility: realised forward volatility (annualised stdev of the next h
  daily log returns) above the day's stored vol_threshold is high_vol.
  Reports the 2x2 confusion matrix, accuracy, majority baseline, mean
  forward vol per label and the correlation of trailing with forward vol.

Forward windows overlap for h > 1, so no significance tests are given.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import math  # noqa: E402

from arunlib import cli, db, regimes, stats  # noqa: E402
from arunlib.cli import num, pct, rnd  # noqa: E402

TRENDS = list(regimes.TRENDS)
VOLS = list(regimes.VOLS)
REALISED = {"trend_up": "up", "range": "flat", "trend_down": "down"}


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--symbol", default="SPY", help="symbol whose labels are evaluated (default %(default)s)")
    p.add_argument("--horizon", type=cli.int_range(2, 120), default=5,
                   help="days ahead (default %(default)s)")
    p.add_argument("--band", type=cli.float_range(0.0, 10.0), default=0.5,
                   help="z threshold separating up/down from range (default %(default)s)")
    return p


def evaluate(dates, closes, labels, horizon, band):
    """labels: {date: (trend, vol, vol_ann, vol_threshold)}.  Pure function."""
    idx = {d: i for i, d in enumerate(dates)}
    r = regimes.log_returns(closes)
    pred_t, real_t, pred_v, real_v = [], [], [], []
    fwd_ret, fwd_vol, trail_vol, dir_hits = [], [], [], []
    by_trend, by_vol = {t: [] for t in TRENDS}, {v: [] for v in VOLS}
    for d, (trend, vol, vol_ann, thr) in sorted(labels.items()):
        i = idx.get(d)
        if i is None or i + horizon >= len(closes):
            continue
        R = math.log(closes[i + horizon] / closes[i])
        sd = vol_ann / math.sqrt(252)
        z = R / (sd * math.sqrt(horizon)) if sd > 0 else 0.0
        real = "trend_up" if z > band else "trend_down" if z < -band else "range"
        fv = stats.stdev(r[i:i + horizon]) * math.sqrt(252)
        pred_t.append(trend)
        real_t.append(real)
        pred_v.append(vol)
        real_v.append("high_vol" if fv > thr else "low_vol")
        fwd_ret.append(math.exp(R) - 1)
        fwd_vol.append(fv)
        trail_vol.append(vol_ann)
        by_trend[trend].append(math.exp(R) - 1)
        by_vol[vol].append(fv)
        if trend != "range" and R != 0:
            dir_hits.append((trend == "trend_up") == (R > 0))
    n = len(pred_t)
    if not n:
        return None
    up_frac = sum(1 for x in fwd_ret if x > 0) / n
    tconf = stats.confusion(pred_t, real_t, TRENDS)
    vconf = stats.confusion(pred_v, real_v, VOLS)
    return {
        "n": n,
        "trend": {
            "confusion": {p: {REALISED[a]: tconf[p][a] for a in TRENDS} for p in TRENDS},
            "accuracy": rnd(stats.accuracy(real_t, pred_t)),
            "baseline_majority": rnd(max(real_t.count(c) for c in TRENDS) / n),
            "directional_n": len(dir_hits),
            "directional_hit_rate": rnd(sum(dir_hits) / len(dir_hits)) if dir_hits else None,
            "baseline_always_up": rnd(up_frac),
            "mean_forward_return": {t: rnd(stats.mean(v)) for t, v in by_trend.items()},
            "count": {t: len(v) for t, v in by_trend.items()},
        },
        "vol": {
            "confusion": {p: {a: vconf[p][a] for a in VOLS} for p in VOLS},
            "accuracy": rnd(stats.accuracy(real_v, pred_v)),
            "baseline_majority": rnd(max(real_v.count(c) for c in VOLS) / n),
            "mean_forward_vol": {v: rnd(stats.mean(x)) for v, x in by_vol.items()},
            "trailing_forward_corr": rnd(stats.pearson(trail_vol, fwd_vol)),
        },
    }


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_prices", "prices")
    db.require_rows(conn, "regime_labels", "regime labels", "run regime first")
    sym = args.symbol.upper()
    labels = {d: (t, v, va, th) for d, t, v, va, th in conn.execute(
        "SELECT date, trend, vol, vol_ann, vol_threshold FROM regime_labels WHERE symbol=?", (sym,))}
    if not labels:
        raise cli.UserError("no regime labels for %s: run regime --symbol %s first" % (sym, sym))
    dates, closes = db.require_symbol(conn, sym)
    res = evaluate(dates, closes, labels, args.horizon, args.band)
    if res is None:
        raise cli.UserError("no labelled day has %d days of prices after it" % args.horizon)
    t, v = res["trend"], res["vol"]
    summary = [
        "%s: %d labelled days, horizon %d days" % (sym, res["n"], args.horizon),
        "trend accuracy %s (majority baseline %s); directional hit rate %s on %d days (always-up %s)" % (
            pct(t["accuracy"], 1), pct(t["baseline_majority"], 1), pct(t["directional_hit_rate"], 1),
            t["directional_n"], pct(t["baseline_always_up"], 1)),
        "mean forward return: " + ", ".join("%s %s" % (k, pct(x, 2)) for k, x in t["mean_forward_return"].items()),
        "vol accuracy %s (majority baseline %s); trailing/forward vol corr %s" % (
            pct(v["accuracy"], 1), pct(v["baseline_majority"], 1), num(v["trailing_forward_corr"], "%.3f")),
        "mean forward vol: " + ", ".join("%s %s" % (k, pct(x, 1)) for k, x in v["mean_forward_vol"].items()),
    ]
    return {"symbol": sym, "horizon": args.horizon, "band": args.band, **res}, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
