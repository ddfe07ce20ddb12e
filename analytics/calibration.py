"""Calibration of the alert engine's predicted win probabilities.

Groups alerts into --bins equal-width probability bins and compares each
bin's mean predicted probability with its observed win rate (reliability
table).  Also reports the Brier score (mean squared error of the
probability), its skill versus always predicting the base rate, log-loss,
expected calibration error (ECE = sum over bins of n_b/N * |observed -
predicted|) and the maximum bin gap (MCE).  --model latest re-scores the
alerts with the newest weights in model_weights instead of the stored
win_prob (the engine's deployed model).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arunlib import alerts, cli, db, logistic, stats  # noqa: E402
from arunlib.cli import num, pct, rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--bins", type=cli.int_range(1, 100), default=10,
                   help="number of equal-width probability bins (default %(default)s)")
    p.add_argument("--model", choices=["deployed", "latest"], default="deployed",
                   help="deployed: the stored win_prob; latest: re-score with the newest"
                        " model_weights version (default %(default)s)")
    alerts.add_filter_flags(p)
    return p


def calibration_report(probs, outcomes, bins):
    base = stats.mean(outcomes)
    b = stats.brier(probs, outcomes)
    b_ref = stats.brier([base] * len(outcomes), outcomes)
    return {
        "n": len(probs),
        "base_rate": rnd(base),
        "mean_predicted": rnd(stats.mean(probs)),
        "brier": rnd(b),
        "brier_reference": rnd(b_ref),
        "brier_skill": rnd(1 - b / b_ref) if b_ref else None,
        "log_loss": rnd(logistic.log_loss(outcomes, probs)),
        "ece": rnd(stats.ece(probs, outcomes, bins)),
        "mce": rnd(stats.mce(probs, outcomes, bins)),
        "bins": [{k: (rnd(v) if isinstance(v, float) else v) for k, v in row.items()}
                 for row in stats.reliability_bins(probs, outcomes, bins)],
    }


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_alerts", "alerts")
    where, params = alerts.where_clause(conn, args)
    rows = conn.execute("SELECT win_prob, outcome, f_trend, f_relvol, f_gap, f_vol FROM demo_alerts"
                        + where, params).fetchall()
    if not rows:
        raise cli.UserError("no alerts match the filters")
    outcomes = [r[1] for r in rows]
    model = {"name": args.model}
    if args.model == "latest":
        version, features, b0, w = alerts.load_weights(conn)
        col = {"f_trend": 2, "f_relvol": 3, "f_gap": 4, "f_vol": 5}
        missing = [f for f in features if f not in col]
        if missing:
            raise cli.UserError("model_weights uses unknown features: %s" % ", ".join(missing))
        probs = logistic.predict([[r[col[f]] for f in features] for r in rows], b0, w)
        model["version"] = version
    else:
        probs = [float(r[0]) for r in rows]
    rep = calibration_report(probs, outcomes, args.bins)
    result = {"filters": alerts.filters_used(args), "model": model, **rep}
    summary = ["%d alerts, model %s%s: predicted %s vs observed %s" % (
        rep["n"], args.model, (" v%d" % model["version"]) if "version" in model else "",
        pct(rep["mean_predicted"], 1), pct(rep["base_rate"], 1)),
        "Brier %s (base-rate %s, skill %s), log-loss %s, ECE %s, MCE %s" % (
            num(rep["brier"]), num(rep["brier_reference"]), num(rep["brier_skill"], "%.3f"),
            num(rep["log_loss"]), num(rep["ece"]), num(rep["mce"])),
        "bin          n   predicted  observed"]
    for b in rep["bins"]:
        if b["n"]:
            summary.append("%.2f-%.2f %5d   %8s  %8s" % (b["lo"], b["hi"], b["n"],
                                                      pct(b["mean_pred"], 1), pct(b["observed"], 1)))
    return result, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
