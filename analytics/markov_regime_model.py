"""Gaussian hidden Markov model of daily returns (Baum-Welch + Viterbi).

Fits a --states (2 or 3) state HMM with Gaussian emissions to the daily log
returns (in percent) of one symbol (default SPY, the market proxy) using
Baum-Welch EM with a scaled, log-safe forward-backward pass; at most the
newest --max-obs returns are used to keep the fit fast.  Prints the
transition matrix, each state's mean and volatility, and stores the Viterbi
path (state 0 = lowest mean) with its posterior probability in hmm_states.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import math  # noqa: E402

from arunlib import cli, db, hmm, regimes, schema  # noqa: E402
from arunlib.cli import rnd  # noqa: E402


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--states", type=int, choices=[2, 3], default=2, help="number of hidden states (default 2)")
    p.add_argument("--symbol", default="SPY", help="symbol whose returns are modelled (default %(default)s)")
    p.add_argument("--max-iter", type=cli.int_range(1, 1000), default=200,
                   help="maximum EM iterations (default %(default)s)")
    p.add_argument("--tol", type=cli.float_range(0.0, 1.0, lo_open=True), default=1e-6,
                   help="relative log-likelihood tolerance (default %(default)s)")
    p.add_argument("--max-obs", type=cli.int_range(10, 100000), default=1000,
                   help="use at most this many newest returns (default %(default)s)")
    return p


def run(args):
    conn = db.connect(args.db)
    db.require_rows(conn, "demo_prices", "prices")
    sym = args.symbol.upper()
    dates, closes = db.require_symbol(conn, sym)
    x = [100.0 * r for r in regimes.log_returns(closes)]
    rdates = dates[1:]
    x, rdates = x[-args.max_obs:], rdates[-args.max_obs:]
    if len(x) < 10 * args.states:
        raise cli.UserError("only %d returns for %s: need at least %d" % (len(x), sym, 10 * args.states))
    m = hmm.fit(x, args.states, max_iter=args.max_iter, tol=args.tol)
    path, _ = hmm.viterbi(x, m["pi"], m["A"], m["means"], m["variances"])
    rows = [(sym, d, args.states, s, m["gamma"][t][s]) for t, (d, s) in enumerate(zip(rdates, path))]
    with conn:
        schema.create(conn, ["hmm_states"])
        conn.execute("DELETE FROM hmm_states WHERE symbol=? AND n_states=?", (sym, args.states))
        conn.executemany("INSERT INTO hmm_states VALUES (?,?,?,?,?)", rows)
    K = args.states
    stat = hmm.stationary(m["A"])
    states = []
    for k in range(K):
        days = path.count(k)
        stay = m["A"][k][k]
        states.append({
            "state": k,
            "mean_pct": rnd(m["means"][k]),
            "sd_pct": rnd(math.sqrt(m["variances"][k])),
            "ann_return": rnd(m["means"][k] / 100 * 252),
            "ann_vol": rnd(math.sqrt(m["variances"][k]) / 100 * math.sqrt(252)),
            "expected_duration_days": rnd(1 / (1 - stay), 2) if stay < 1 else None,
            "stationary_prob": rnd(stat[k]),
            "viterbi_days": days,
        })
    result = {
        "symbol": sym, "n_states": K, "n_obs": len(x), "date_range": [rdates[0], rdates[-1]],
        "units": "daily log return in percent",
        "loglik": rnd(m["loglik"], 4), "iterations": m["iterations"], "converged": m["converged"],
        "transition_matrix": [[rnd(a) for a in row] for row in m["A"]],
        "initial_probs": [rnd(p) for p in m["pi"]],
        "states": states, "rows_written": len(rows),
        "latest": {"date": rdates[-1], "state": path[-1], "prob": rnd(m["gamma"][-1][path[-1]])},
    }
    summary = ["%d-state Gaussian HMM on %s daily returns (%d obs, %s..%s): loglik %.2f, %d iterations%s"
               % (K, sym, len(x), rdates[0], rdates[-1], m["loglik"], m["iterations"],
                  "" if m["converged"] else " (not converged)")]
    for s in states:
        summary.append("state %d: mean %+.3f%%/day sd %.3f%%  (ann. vol %.1f%%), %d days, stays ~%s days"
                       % (s["state"], s["mean_pct"], s["sd_pct"], 100 * s["ann_vol"], s["viterbi_days"],
                          "%.1f" % s["expected_duration_days"] if s["expected_duration_days"] else "inf"))
    summary.append("transition matrix:")
    for row in m["A"]:
        summary.append("  " + "  ".join("%.3f" % a for a in row))
    return result, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
