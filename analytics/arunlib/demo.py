"""Deterministic generator of the demo trading history (fixed seed).

- prices: 20 US-equity-like symbols (SPY is the market proxy) over 520
  weekdays from 2022-01-03 (no holiday calendar).  Daily log return =
  beta * market + drift + idiosyncratic noise; the market follows a hidden
  3-state Markov chain (bull / chop / bear) with different means and
  volatilities, so regime and HMM analyses have something real to find.
  Opens carry part of the day's move as a gap; high/low wrap open/close.
- alerts: ~5,000 intraday alerts from a rule-based engine with 8 strategies
  (eligibility rules on trend, gap and 5-day move decide which strategy
  fires and its direction).  Each alert has four features, the engine's
  predicted win probability (a deployed logistic model whose weights are
  deliberately stale/over-confident), and an outcome drawn from a *different*
  true model (strategy edge + features), so calibration, recalibration and
  agreement analyses find real, known effects.  Entry/exit prices and the
  signed return are consistent with the outcome.
- trades: a trade journal of alerts a trader chose to take (more often when
  the predicted probability is high) plus some discretionary trades, with
  share size, commissions, gross and net P&L.

Everything comes from ``random.Random(seed)``; the same seed gives the same
rows on every machine.
"""

import datetime as dt
import math
import random

SEED = 20240601
START = dt.date(2022, 1, 3)
N_DAYS = 520
N_ALERTS = 5000
WARMUP = 31          # alerts need 30 days of history for their features

# symbol, beta, idiosyncratic daily sd, start price, average daily volume
SYMBOLS = [
    ("SPY", 1.00, 0.0015, 470.0, 80e6), ("QQQ", 1.20, 0.004, 400.0, 50e6),
    ("AAPL", 1.15, 0.011, 180.0, 90e6), ("MSFT", 1.05, 0.010, 335.0, 30e6),
    ("NVDA", 1.70, 0.022, 300.0, 45e6), ("AMZN", 1.30, 0.015, 170.0, 60e6),
    ("META", 1.35, 0.018, 340.0, 25e6), ("GOOGL", 1.10, 0.012, 145.0, 30e6),
    ("TSLA", 1.80, 0.028, 390.0, 100e6), ("AMD", 1.60, 0.022, 150.0, 70e6),
    ("NFLX", 1.25, 0.020, 600.0, 8e6), ("JPM", 0.95, 0.010, 160.0, 12e6),
    ("BAC", 1.05, 0.012, 45.0, 40e6), ("XOM", 0.60, 0.015, 62.0, 25e6),
    ("CVX", 0.65, 0.014, 118.0, 10e6), ("PFE", 0.55, 0.012, 58.0, 30e6),
    ("JNJ", 0.50, 0.008, 171.0, 8e6), ("WMT", 0.55, 0.009, 142.0, 9e6),
    ("KO", 0.50, 0.007, 59.0, 14e6), ("DIS", 1.00, 0.013, 155.0, 12e6),
]

# hidden market regimes: (name, daily mean, daily sd)
MARKET_STATES = [("bull", 0.0008, 0.007), ("chop", 0.0, 0.011), ("bear", -0.0013, 0.019)]
MARKET_TRANS = [[0.980, 0.015, 0.005], [0.030, 0.950, 0.020], [0.010, 0.040, 0.950]]

# strategy: (edge in the true model, winner size multiplier, selection weight)
STRATEGIES = {
    "Bull Flag Breakout": (0.05, 1.3, 1.0),
    "Momentum Short": (-0.15, 1.3, 0.8),
    "Opening Range Breakout": (0.0, 1.1, 1.0),
    "Gap Fade": (0.15, 0.9, 1.0),
    "5-Day Bounce": (0.10, 0.9, 1.2),
    "Overbought Short": (-0.20, 0.9, 1.0),
    "VWAP Reclaim": (-0.05, 1.0, 0.6),
    "Range Break Long": (-0.10, 1.0, 0.8),
}

FEATURES = ["f_trend", "f_relvol", "f_gap", "f_vol"]
# the deployed (stale) scoring model the engine uses for win_prob
DEPLOYED = {"intercept": 0.25, "f_trend": 0.60, "f_relvol": 0.90, "f_gap": 0.05, "f_vol": 0.0}
# the true model the outcomes come from (plus the strategy edge)
TRUE = {"intercept": 0.30, "f_trend": 0.35, "f_relvol": 0.40, "f_gap": -0.12, "f_vol": -0.80}


def business_days(start, n):
    out, d = [], start
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += dt.timedelta(days=1)
    return out


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def gen_prices(rng, dates):
    """{symbol: dict(open, high, low, close, volume lists)} and market states."""
    n = len(dates)
    state, states, market = 0, [], []
    for _ in range(n):
        _, mu, sd = MARKET_STATES[state]
        market.append(rng.gauss(mu, sd))
        states.append(state)
        u, acc = rng.random(), 0.0
        for j, p in enumerate(MARKET_TRANS[state]):
            acc += p
            if u < acc:
                state = j
                break
    out = {}
    for sym, beta, idio, price, avg_vol in SYMBOLS:
        drift = rng.gauss(0.0, 0.0003)
        o, h, l, c, v = [], [], [], [], []
        prev = price
        for t in range(n):
            day_sd = math.hypot(beta * MARKET_STATES[states[t]][2], idio)
            r = beta * market[t] + drift + rng.gauss(0.0, idio)
            gap = 0.3 * r + rng.gauss(0.0, 0.25 * day_sd)
            op = prev * math.exp(gap)
            cl = prev * math.exp(r)
            hi = max(op, cl) * math.exp(abs(rng.gauss(0.0, 0.4 * day_sd)))
            lo = min(op, cl) * math.exp(-abs(rng.gauss(0.0, 0.4 * day_sd)))
            vol = avg_vol * math.exp(rng.gauss(0.0, 0.25)) * (1.0 + 25.0 * abs(r))
            o.append(round(op, 2))
            h.append(round(hi, 2))
            l.append(round(lo, 2))
            c.append(round(cl, 2))
            v.append(int(vol))
            prev = c[-1]
        out[sym] = {"open": o, "high": h, "low": l, "close": c, "volume": v}
    return out, [MARKET_STATES[s][0] for s in states]


def _features(p, d):
    """Features known at an intraday alert on day index d."""
    c = p["close"]
    rets = [math.log(c[i] / c[i - 1]) for i in range(d - 20, d)]
    m = sum(rets) / 20.0
    sd = math.sqrt(sum((x - m) ** 2 for x in rets) / 19.0) or 1e-4
    mom = math.log(c[d - 1] / c[d - 21]) / (sd * math.sqrt(20))
    gap = p["open"][d] / c[d - 1] - 1.0
    avgv = sum(p["volume"][d - 20:d]) / 20.0
    relvol = math.log(p["volume"][d] / avgv)
    ret5 = c[d - 1] / c[d - 6] - 1.0
    return {"mom": mom, "gap": gap, "relvol": relvol, "ret5": ret5, "sd": sd,
            "vol_ann": sd * math.sqrt(252)}


def _eligible(f, rng):
    """Strategies whose rule fires, with their direction (+1 long, -1 short)."""
    out = [("Opening Range Breakout", 1 if f["gap"] >= 0 else -1),
           ("VWAP Reclaim", (1 if f["mom"] >= 0 else -1) * (1 if rng.random() < 0.6 else -1))]
    if f["mom"] > 0.5:
        out.append(("Bull Flag Breakout", 1))
    if f["mom"] < -0.5:
        out.append(("Momentum Short", -1))
    if abs(f["gap"]) > 0.005:
        out.append(("Gap Fade", -1 if f["gap"] > 0 else 1))
    if f["ret5"] < -0.03:
        out.append(("5-Day Bounce", 1))
    if f["ret5"] > 0.04:
        out.append(("Overbought Short", -1))
    if abs(f["mom"]) < 0.5:
        out.append(("Range Break Long", 1))
    return out


def gen_alerts(rng, dates, prices):
    syms = [s[0] for s in SYMBOLS]
    alerts = []
    while len(alerts) < N_ALERTS:
        d = rng.randrange(WARMUP, len(dates))
        sym = rng.choice(syms)
        p = prices[sym]
        f = _features(p, d)
        options = _eligible(f, rng)
        weights = [STRATEGIES[name][2] * (0.5 if name in ("Opening Range Breakout", "VWAP Reclaim") else 1.0)
                   for name, _ in options]
        name, sign = rng.choices(options, weights)[0]
        feats = {
            "f_trend": round(sign * f["mom"], 4),
            "f_relvol": round(f["relvol"], 4),
            "f_gap": round(sign * f["gap"] * 100.0, 4),
            "f_vol": round(f["vol_ann"], 4),
        }
        z_dep = DEPLOYED["intercept"] + sum(DEPLOYED[k] * feats[k] for k in FEATURES)
        z_true = TRUE["intercept"] + STRATEGIES[name][0] + sum(TRUE[k] * feats[k] for k in FEATURES)
        win_prob = round(_sigmoid(z_dep), 4)
        win = rng.random() < _sigmoid(z_true)
        if win:
            r = f["sd"] * STRATEGIES[name][1] * (0.3 + rng.expovariate(1.6))
        else:
            r = -f["sd"] * (0.25 + rng.expovariate(2.0))
        r = math.copysign(max(abs(r), 0.002), r)
        t_min = rng.randint(5, 330)
        hold = min(max(3, int(rng.expovariate(1 / 60.0))), 390 - t_min)
        frac = t_min / 390.0
        op, cl, hi, lo = p["open"][d], p["close"][d], p["high"][d], p["low"][d]
        entry = op + (cl - op) * frac + rng.gauss(0.0, 0.2 * (hi - lo))
        entry = round(min(max(entry, lo), hi), 2)
        exit_ = round(entry * (1.0 + sign * r), 2)
        ret = sign * (exit_ / entry - 1.0)
        day = dates[d]
        alerts.append({
            "strategy": name, "symbol": sym, "date": day,
            "alert_time": "%s %s" % (day, _clock(t_min)),
            "exit_time": "%s %s" % (day, _clock(t_min + hold)),
            "direction": "long" if sign > 0 else "short",
            "entry_price": entry, "exit_price": exit_,
            "win_prob": win_prob, "outcome": 1 if ret > 0 else 0, "ret": round(ret, 6),
            **feats,
        })
    alerts.sort(key=lambda a: (a["alert_time"], a["symbol"], a["strategy"]))
    for i, a in enumerate(alerts, 1):
        a["id"] = i
    return alerts


def _clock(minutes_after_open):
    m = 9 * 60 + 30 + minutes_after_open
    return "%02d:%02d:00" % (m // 60, m % 60)


def gen_trades(rng, dates, prices, alerts):
    trades = []
    for a in alerts:
        take = 0.12 if a["win_prob"] >= 0.55 else 0.03
        if rng.random() >= take:
            continue
        sign = 1 if a["direction"] == "long" else -1
        entry = round(a["entry_price"] * (1 + sign * 0.0005), 2)    # slippage
        exit_ = round(a["exit_price"] * (1 - sign * 0.0005), 2)
        qty = max(5, int(10000.0 / entry / 5) * 5)
        trades.append(_trade(a["symbol"], a["direction"], a["alert_time"], a["exit_time"],
                             entry, exit_, qty, a["id"]))
    syms = [s[0] for s in SYMBOLS]
    for _ in range(120):                     # discretionary trades, slight negative edge
        d = rng.randrange(WARMUP, len(dates))
        sym = rng.choice(syms)
        p = prices[sym]
        side = rng.choice(("long", "short"))
        sign = 1 if side == "long" else -1
        t_min = rng.randint(5, 300)
        hold = rng.randint(10, min(200, 389 - t_min))
        entry = round(p["open"][d] * math.exp(rng.gauss(0, 0.004)), 2)
        r = rng.gauss(-0.001, 0.012)
        exit_ = round(entry * (1 + sign * r), 2)
        qty = max(5, int(8000.0 / entry / 5) * 5)
        trades.append(_trade(sym, side, "%s %s" % (dates[d], _clock(t_min)),
                             "%s %s" % (dates[d], _clock(t_min + hold)), entry, exit_, qty, None))
    trades.sort(key=lambda t: (t["open_time"], t["symbol"]))
    for i, t in enumerate(trades, 1):
        t["trade_key"] = "demo-%05d" % i
        t["source"] = "demo"
    return trades


def _trade(symbol, side, open_time, close_time, entry, exit_, qty, alert_id):
    sign = 1 if side == "long" else -1
    gross = round(sign * (exit_ - entry) * qty, 2)
    fees = round(2 * max(1.0, 0.005 * qty), 2)
    return {"symbol": symbol, "side": side, "open_time": open_time, "close_time": close_time,
            "entry_price": entry, "exit_price": exit_, "qty": qty, "fees": fees,
            "gross_pnl": gross, "net_pnl": round(gross - fees, 2), "alert_id": alert_id}


def generate(seed=SEED):
    """Return dict(dates, prices, market_states, alerts, trades)."""
    rng = random.Random(seed)
    dates = business_days(START, N_DAYS)
    prices, states = gen_prices(rng, dates)
    alerts = gen_alerts(rng, dates, prices)
    trades = gen_trades(rng, dates, prices, alerts)
    return {"dates": dates, "prices": prices, "market_states": states,
            "alerts": alerts, "trades": trades}
