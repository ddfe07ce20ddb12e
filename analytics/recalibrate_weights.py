"""Refit the alert scoring model's weights on recent outcomes.

The scoring model is a logistic regression P(win) = sigmoid(b + w . x) on
the alert features (f_trend, f_relvol, f_gap, f_vol).  Takes the alerts of
the last --days calendar days (up to the newest alert), keeps the last
--holdout fraction (chronological) aside, and fits the weights on the rest
by full-batch gradient descent (standardised features, L2 penalty --l2),
starting from the latest stored weights.  Prints log-loss before/after on
the training and holdout sets and stores the new weights as the next
version in model_weights (unless --dry-run).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datetime as dt  # noqa: E402
import json  # noqa: E402

from arunlib import alerts, cli, db, logistic, schema  # noqa: E402
from arunlib.cli import num, rnd  # noqa: E402

FEATURE_COLS = ["f_trend", "f_relvol", "f_gap", "f_vol"]


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--days", type=cli.positive_int, default=365,
                   help="training window in calendar days before the newest alert (default %(default)s)")
    p.add_argument("--holdout", type=cli.float_range(0.0, 0.5), default=0.2,
                   help="newest fraction of the window kept for evaluation (default %(default)s)")
    p.add_argument("--lr", type=cli.float_range(0.0, 10.0, lo_open=True), default=0.5,
                   help="gradient-descent learning rate (default %(default)s)")
    p.add_argument("--epochs", type=cli.int_range(1, 5000), default=300,
                   help="maximum gradient-descent epochs (default %(default)s)")
    p.add_argument("--l2", type=cli.float_range(0.0, 10.0), default=0.001,
                   help="L2 penalty on the (standardised) weights (default %(default)s)")
    p.add_argument("--dry-run", action="store_true", help="fit and report, store nothing")
    return p


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_alerts", "alerts")
    version, features, b0, w0 = alerts.load_weights(conn)
    if any(f not in FEATURE_COLS for f in features):
        raise cli.UserError("model_weights v%d uses unknown features: %s" % (version, features))
    last = conn.execute("SELECT MAX(date) FROM demo_alerts").fetchone()[0]
    start = (dt.date.fromisoformat(last) - dt.timedelta(days=args.days)).isoformat()
    rows = conn.execute("SELECT %s, outcome FROM demo_alerts WHERE date > ? ORDER BY alert_time, id"
                        % ", ".join(features), (start,)).fetchall()
    n_hold = int(len(rows) * args.holdout)
    train, hold = rows[:len(rows) - n_hold], rows[len(rows) - n_hold:]
    if len(train) < 20:
        raise cli.UserError("only %d training alerts since %s: widen --days" % (len(train), start))
    X = [list(r[:-1]) for r in train]
    y = [r[-1] for r in train]
    Xh = [list(r[:-1]) for r in hold]
    yh = [r[-1] for r in hold]
    b1, w1, info = logistic.fit(X, y, b0, w0, lr=args.lr, epochs=args.epochs, l2=args.l2)

    def ll(rows_x, ys, b, w):
        return logistic.log_loss(ys, logistic.predict(rows_x, b, w)) if ys else None

    res = {
        "train": {"n": len(y), "logloss_before": rnd(ll(X, y, b0, w0)), "logloss_after": rnd(ll(X, y, b1, w1))},
        "holdout": {"n": len(yh), "logloss_before": rnd(ll(Xh, yh, b0, w0)),
                    "logloss_after": rnd(ll(Xh, yh, b1, w1))},
    }
    base = sum(y) / len(y)
    res["train"]["logloss_base_rate"] = rnd(logistic.log_loss(y, [base] * len(y)))
    new_w = {"intercept": rnd(b1, 8), **{f: rnd(v, 8) for f, v in zip(features, w1)}}
    params = {"days": args.days, "window_start": start, "window_end": last, "holdout": args.holdout,
              "lr": args.lr, "epochs_max": args.epochs, "epochs_run": info["epochs"], "l2": args.l2,
              "from_version": version, "holdout_logloss_before": res["holdout"]["logloss_before"],
              "holdout_logloss_after": res["holdout"]["logloss_after"]}
    new_version = None
    created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not args.dry_run:
        with conn:
            schema.create(conn, ["model_weights"])
            new_version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM model_weights").fetchone()[0]
            conn.execute("INSERT INTO model_weights (version, created_at, source, features, weights, n_train,"
                         " logloss_before, logloss_after, params) VALUES (?,?,?,?,?,?,?,?,?)",
                         (new_version, created, "recalibrate_weights", json.dumps(features),
                          json.dumps(new_w), len(y), res["train"]["logloss_before"],
                          res["train"]["logloss_after"], json.dumps(params)))
    result = {
        "from_version": version, "new_version": new_version, "stored": not args.dry_run,
        "created_at": created, "features": features,
        "weights_before": {"intercept": rnd(b0, 8), **{f: rnd(v, 8) for f, v in zip(features, w0)}},
        "weights_after": new_w, "epochs_run": info["epochs"], "window": [start, last], **res,
    }
    t, h = res["train"], res["holdout"]
    summary = [
        "window %s..%s: %d training alerts, %d holdout; %d epochs" % (start, last, t["n"], h["n"], info["epochs"]),
        "log-loss train   %s -> %s (base rate %s)" % (num(t["logloss_before"]), num(t["logloss_after"]),
                                                      num(t["logloss_base_rate"])),
        "log-loss holdout %s -> %s" % (num(h["logloss_before"]), num(h["logloss_after"])),
        "weights v%d -> %s: %s" % (version, ("v%d" % new_version) if new_version else "not stored (dry run)",
                                  ", ".join("%s %.4f" % kv for kv in new_w.items())),
    ]
    return result, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
