"""Alert queries shared by the scripts: filter flags and MA-model alignment."""

from . import signals
from .cli import UserError, iso_date, positive_int


def add_filter_flags(p):
    p.add_argument("--strategy", help="only this strategy (case-insensitive)")
    p.add_argument("--symbol", help="only alerts on this symbol")
    p.add_argument("--since", type=iso_date, help="only alerts on or after YYYY-MM-DD")
    p.add_argument("--until", type=iso_date, help="only alerts on or before YYYY-MM-DD")


def add_ma_flags(p, fast=10, slow=30):
    p.add_argument("--fast", type=positive_int, default=fast,
                   help="MA model fast window in days (default %(default)s)")
    p.add_argument("--slow", type=positive_int, default=slow,
                   help="MA model slow window in days (default %(default)s)")


def check_ma_flags(parser, args):
    if args.fast >= args.slow:
        parser.error("--fast (%d) must be smaller than --slow (%d)" % (args.fast, args.slow))


def filters_used(args):
    return {k: getattr(args, k) for k in ("strategy", "symbol", "since", "until")
            if getattr(args, k, None)}


def where_clause(conn, args):
    """SQL WHERE clause + params for the common alert filters."""
    where, params = [], []
    if getattr(args, "strategy", None):
        known = [r[0] for r in conn.execute("SELECT DISTINCT strategy FROM demo_alerts")]
        match = [k for k in known if k.lower() == args.strategy.lower()]
        if not match:
            raise UserError("unknown strategy %r (known: %s)"
                            % (args.strategy, ", ".join(sorted(known))))
        where.append("strategy = ?")
        params.append(match[0])
    if getattr(args, "symbol", None):
        where.append("symbol = ?")
        params.append(args.symbol.upper())
    if getattr(args, "since", None):
        where.append("date >= ?")
        params.append(args.since)
    if getattr(args, "until", None):
        where.append("date <= ?")
        params.append(args.until)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def aligned(conn, args):
    """Alerts (filtered) paired with the MA model's direction on the same
    symbol/day.  Returns (pairs, skipped) where pairs are dicts with id,
    strategy, symbol, date, engine, ma, outcome, ret; skipped counts alerts
    without an MA direction (not enough history, tie, or no price row)."""
    ma = signals.ma_direction_by_symbol(conn, args.fast, args.slow)
    where, params = where_clause(conn, args)
    pairs, skipped = [], 0
    for aid, strat, sym, d, direction, outcome, ret in conn.execute(
            "SELECT id, strategy, symbol, date, direction, outcome, ret FROM demo_alerts"
            + where + " ORDER BY id", params):
        m = ma.get(sym, {}).get(d)
        if m is None:
            skipped += 1
            continue
        pairs.append({"id": aid, "strategy": strat, "symbol": sym, "date": d,
                      "engine": direction, "ma": m, "outcome": outcome, "ret": ret})
    return pairs, skipped


def load_weights(conn, version=None):
    """(version, features, intercept, weights) from model_weights; latest if
    ``version`` is None.  UserError when there is none."""
    import json
    from . import db
    if not db.table_exists(conn, "model_weights"):
        raise UserError("no model weights: run db_loader first")
    if version is None:
        row = conn.execute("SELECT version, features, weights FROM model_weights"
                           " ORDER BY version DESC LIMIT 1").fetchone()
    else:
        row = conn.execute("SELECT version, features, weights FROM model_weights WHERE version=?",
                           (version,)).fetchone()
    if row is None:
        raise UserError("no model weights%s: run db_loader first"
                        % ("" if version is None else " version %d" % version))
    features = json.loads(row[1])
    w = json.loads(row[2])
    return row[0], features, float(w["intercept"]), [float(w[f]) for f in features]
