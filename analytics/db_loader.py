"""Create the analytics tables and load the demo dataset (or a trade CSV).

Without --csv: generates the deterministic demo history (prices, alerts,
trade journal, deployed scoring-model weights) and inserts it; rows that are
already there are left alone, so a second run inserts nothing.  --reset
drops the analytics tables (never arun's analytics_jobs) and reloads.
With --csv FILE: imports a TraderSync-style export into demo_trades with
source 'csv:<file name>' (re-importing the same file adds nothing).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datetime as dt  # noqa: E402
import json  # noqa: E402

from arunlib import cli, db, demo, schema, tradecsv  # noqa: E402

TRADE_COLS = ["source", "trade_key", "symbol", "side", "open_time", "close_time", "entry_price",
              "exit_price", "qty", "fees", "gross_pnl", "net_pnl", "alert_id"]
ALERT_COLS = ["id", "strategy", "symbol", "date", "alert_time", "exit_time", "direction",
              "entry_price", "exit_price", "win_prob", "outcome", "ret"] + demo.FEATURES


def build_parser():
    p = cli.parser(__doc__.split("\n")[0], epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--reset", action="store_true",
                   help="drop the analytics tables first, then reload")
    p.add_argument("--csv", metavar="FILE",
                   help="import this TraderSync-style CSV into demo_trades instead of the demo data")
    p.add_argument("--seed", type=int, default=demo.SEED,
                   help="generator seed (default %(default)s)")
    return p


def _insert(conn, table, cols, rows):
    sql = "INSERT OR IGNORE INTO %s (%s) VALUES (%s)" % (
        table, ", ".join(cols), ", ".join("?" * len(cols)))
    before = conn.total_changes
    conn.executemany(sql, ([r[c] for c in cols] for r in rows))
    return conn.total_changes - before


def run(args):
    conn = db.connect(args.db, create=True)
    inserted = {}
    with conn:
        if args.reset:
            schema.drop_all(conn)
        schema.create(conn)
        if args.csv:
            source = "csv:" + os.path.basename(args.csv)
            trades = tradecsv.read_trades(args.csv, source)
            if not trades:
                raise cli.UserError("csv %s has no closed trades" % args.csv)
            inserted["demo_trades"] = _insert(conn, "demo_trades", TRADE_COLS, trades)
            summary = ["imported %d trades from %s (%d new)"
                       % (len(trades), args.csv, inserted["demo_trades"])]
            result = {"mode": "csv", "source": source, "rows_in_file": len(trades)}
        else:
            row = conn.execute("SELECT value FROM demo_meta WHERE key='seed'").fetchone()
            if row and row[0] != str(args.seed):
                raise cli.UserError("database holds demo data of seed %s, not %d: use --reset"
                                    % (row[0], args.seed))
            data = demo.generate(args.seed)
            price_rows = []
            for sym, p in data["prices"].items():
                for i, d in enumerate(data["dates"]):
                    price_rows.append((sym, d, p["open"][i], p["high"][i], p["low"][i],
                                       p["close"][i], p["volume"][i]))
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO demo_prices VALUES (?,?,?,?,?,?,?)", price_rows)
            inserted["demo_prices"] = conn.total_changes - before
            inserted["demo_alerts"] = _insert(conn, "demo_alerts", ALERT_COLS, data["alerts"])
            inserted["demo_trades"] = _insert(conn, "demo_trades", TRADE_COLS, data["trades"])
            w = demo.DEPLOYED
            before = conn.total_changes
            conn.execute(
                "INSERT OR IGNORE INTO model_weights (version, created_at, source, features, weights,"
                " params) VALUES (1, ?, 'deployed', ?, ?, ?)",
                (demo.START.isoformat() + "T00:00:00Z", json.dumps(demo.FEATURES),
                 json.dumps(w), json.dumps({"note": "weights the demo alert engine scored with"})))
            inserted["model_weights"] = conn.total_changes - before
            meta = {"seed": str(args.seed), "start": data["dates"][0], "end": data["dates"][-1],
                    "symbols": str(len(data["prices"])), "generator": "arunlib.demo v1"}
            conn.executemany("INSERT OR REPLACE INTO demo_meta VALUES (?, ?)", sorted(meta.items()))
            summary = ["demo data (seed %d): %d days x %d symbols, %d alerts, %d journal trades"
                       % (args.seed, len(data["dates"]), len(data["prices"]),
                          len(data["alerts"]), len(data["trades"]))]
            result = {"mode": "demo", "seed": args.seed,
                      "date_range": [data["dates"][0], data["dates"][-1]]}
    counts = {t: conn.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0]
              for t in ("demo_prices", "demo_alerts", "demo_trades", "model_weights")}
    conn.close()
    summary.append("inserted: " + ", ".join("%s %d" % kv for kv in inserted.items())
                   + ("  (reset first)" if args.reset else ""))
    summary.append("table rows: " + ", ".join("%s %d" % kv for kv in counts.items()))
    result.update({"reset": args.reset, "inserted": inserted, "table_rows": counts,
                   "loaded_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
    return result, summary


if __name__ == "__main__":
    sys.exit(cli.main(__file__, build_parser, run))
