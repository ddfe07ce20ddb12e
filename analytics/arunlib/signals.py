"""Moving averages and the moving-average direction model.

The MA model says "long" when the fast simple moving average of closes is
above the slow one and "short" when below.  For a signal *on* date i it only
uses closes through date i-1 (an alert fires intraday, before the close).
"""


def sma(values, n):
    """Trailing simple moving average; None until n values are available."""
    out = []
    s = 0.0
    for i, v in enumerate(values):
        s += v
        if i >= n:
            s -= values[i - n]
        out.append(s / n if i >= n - 1 else None)
    return out


def ma_direction(closes, fast, slow):
    """Direction for each index i from closes[:i]: 'long', 'short' or None.

    None when fewer than ``slow`` earlier closes exist or the averages tie.
    """
    f = sma(closes, fast)
    s = sma(closes, slow)
    out = [None]
    for i in range(1, len(closes)):
        a, b = f[i - 1], s[i - 1]
        if a is None or b is None or a == b:
            out.append(None)
        else:
            out.append("long" if a > b else "short")
    return out[:len(closes)]


def ma_direction_by_symbol(conn, fast, slow):
    """{symbol: {date: 'long'|'short'|None}} for every symbol in demo_prices."""
    by_sym = {}
    rows = conn.execute("SELECT symbol, date, close FROM demo_prices ORDER BY symbol, date")
    cur, dates, closes = None, [], []

    def flush():
        if cur is not None:
            by_sym[cur] = dict(zip(dates, ma_direction(closes, fast, slow)))

    for sym, d, c in rows:
        if sym != cur:
            flush()
            cur, dates, closes = sym, [], []
        dates.append(d)
        closes.append(float(c))
    flush()
    return by_sym


def crossover_positions(closes, fast, slow, allow_short=False):
    """Position held *after* the close of each day (decided with that close).

    +1 when fast SMA > slow SMA, -1 (or 0 if long-only) when below, 0 before
    both averages exist.  A backtest applies position[t-1] to return t.
    """
    f = sma(closes, fast)
    s = sma(closes, slow)
    pos = []
    for a, b in zip(f, s):
        if a is None or b is None or a == b:
            pos.append(0 if a is None or b is None else (pos[-1] if pos else 0))
        elif a > b:
            pos.append(1)
        else:
            pos.append(-1 if allow_short else 0)
    return pos
