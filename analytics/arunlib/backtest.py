"""Vectorised (column-at-a-time) moving-average crossover backtest.

Position after day t's close: +1 if SMA_fast > SMA_slow, else 0 (or -1
with shorts), 0 until both averages exist.  Day t's strategy return is
position[t-1] * r_t - cost * |position[t-1] - position[t-2]|, i.e. a
position change decided at a close is traded at that close and pays
``cost_bps`` basis points per unit of position changed.  No lookahead.
"""

import math

from . import signals, stats

PERIODS = 252


def simple_returns(closes):
    return [b / a - 1.0 for a, b in zip(closes, closes[1:])]


def run_crossover(closes, fast, slow, cost_bps=0.0, allow_short=False):
    """Returns (strategy_returns, positions_held, costs), each aligned with
    simple_returns(closes) (day 1..n-1)."""
    pos = signals.crossover_positions(closes, fast, slow, allow_short)
    r = simple_returns(closes)
    held = pos[:-1]                                   # position during day t = pos decided at t-1
    prev = [0] + held[:-1]
    c = cost_bps / 1e4
    costs = [c * abs(h - p) for h, p in zip(held, prev)]
    strat = [h * x - k for h, x, k in zip(held, r, costs)]
    return strat, held, costs


def performance(returns, positions=None, periods=PERIODS):
    """Summary of a daily return series (fractions)."""
    n = len(returns)
    eq = stats.equity_curve(returns)
    final = eq[-1] if eq else 1.0
    years = n / periods if n else None
    out = {
        "days": n,
        "total_return": final - 1.0,
        "ann_return": (final ** (1.0 / years) - 1.0) if years and final > 0 else None,
        "ann_vol": (stats.stdev(returns) * math.sqrt(periods)) if n > 1 else None,
        "sharpe": stats.sharpe(returns, periods),
        "max_drawdown": stats.max_drawdown(eq, start=1.0),
    }
    if positions is not None:
        changes = [abs(b - a) for a, b in zip([0] + positions[:-1], positions)]
        out["turnover"] = sum(changes)
        out["ann_turnover"] = sum(changes) / years if years else None
        out["trades"] = sum(1 for x in changes if x)
        out["exposure"] = sum(1 for p in positions if p) / n if n else None
    return out
