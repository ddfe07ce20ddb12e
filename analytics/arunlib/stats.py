"""Pure statistics used by the scripts (no I/O; unit-tested on hand-made data).

Conventions: returns are fractions (0.01 = 1 %); functions return ``None``
where a quantity is undefined (empty input, zero variance, ...).
"""

import math


def mean(xs):
    xs = list(xs)
    return math.fsum(xs) / len(xs) if xs else None


def median(xs):
    s = sorted(xs)
    n = len(s)
    if not n:
        return None
    m = n // 2
    return s[m] if n % 2 else (s[m - 1] + s[m]) / 2.0


def stdev(xs, ddof=1):
    """Standard deviation (sample by default); None if fewer than ddof+1 points."""
    xs = list(xs)
    n = len(xs)
    if n <= ddof:
        return None
    m = math.fsum(xs) / n
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (n - ddof))


def quantile(xs, q):
    """Linear-interpolated quantile (same as numpy's default)."""
    s = sorted(xs)
    if not s:
        return None
    pos = (len(s) - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


# ---------------------------------------------------------------- trading

def equity_curve(returns, start=1.0):
    """Compounded equity after each period's return."""
    eq, out = start, []
    for r in returns:
        eq *= 1.0 + r
        out.append(eq)
    return out


def max_drawdown(equity, start=None):
    """Largest peak-to-trough fall of an equity curve, as a positive fraction.

    ``start`` (e.g. 1.0) is an initial peak before the first point.
    """
    peak = start
    mdd = 0.0
    for v in equity:
        if peak is None or v > peak:
            peak = v
        if peak > 0:
            mdd = max(mdd, (peak - v) / peak)
    return mdd


def max_drawdown_abs(pnls):
    """Largest peak-to-trough fall of cumulative P&L (currency), from 0."""
    cum = peak = mdd = 0.0
    for p in pnls:
        cum += p
        peak = max(peak, cum)
        mdd = max(mdd, peak - cum)
    return mdd


def sharpe(returns, periods_per_year=252, rf=0.0):
    """Annualised Sharpe ratio of periodic returns (sample stdev); None if flat."""
    xs = [r - rf / periods_per_year for r in returns]
    sd = stdev(xs)
    if sd is None or sd < 1e-15:
        return None
    return mean(xs) / sd * math.sqrt(periods_per_year)


def win_loss_summary(values):
    """Win rate, average win/loss, expectancy, profit factor for P&L or returns.

    A value > 0 is a win, < 0 a loss, 0 a scratch (counts in n, neither side).
    ``expectancy`` = p_win * avg_win - p_loss * |avg_loss| (= mean of values);
    ``expectancy_r`` = expectancy / |avg_loss| (in units of the average loss).
    """
    vals = list(values)
    n = len(vals)
    wins = [v for v in vals if v > 0]
    losses = [v for v in vals if v < 0]
    gp = math.fsum(wins)
    gl = -math.fsum(losses)
    avg_win = gp / len(wins) if wins else None
    avg_loss = gl / len(losses) if losses else None
    if n:
        expectancy = (len(wins) / n) * (avg_win or 0.0) - (len(losses) / n) * (avg_loss or 0.0)
    else:
        expectancy = None
    return {
        "n": n,
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": len(wins) / n if n else None,
        "avg_win": avg_win,
        "avg_loss": -avg_loss if avg_loss is not None else None,
        "gross_profit": gp,
        "gross_loss": -gl,
        "profit_factor": gp / gl if gl > 0 else None,
        "expectancy": expectancy,
        "expectancy_r": expectancy / avg_loss if (expectancy is not None and avg_loss) else None,
    }


# ---------------------------------------------------------------- agreement

def percent_agreement(a, b):
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError("series differ in length")
    if not a:
        return None
    return sum(1 for x, y in zip(a, b) if x == y) / len(a)


def cohen_kappa(a, b):
    """Cohen's kappa of two raters' labels; None when undefined (p_e == 1)."""
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError("series differ in length")
    n = len(a)
    if not n:
        return None
    po = sum(1 for x, y in zip(a, b) if x == y) / n
    cats = set(a) | set(b)
    pe = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    if abs(1.0 - pe) < 1e-15:
        return None
    return (po - pe) / (1.0 - pe)


def confusion(actual, predicted, labels):
    """Nested dict m[actual][predicted] = count over ``labels``."""
    m = {x: {y: 0 for y in labels} for x in labels}
    for x, y in zip(actual, predicted):
        m[x][y] += 1
    return m


# ---------------------------------------------------------------- calibration

def brier(probs, outcomes):
    probs, outcomes = list(probs), list(outcomes)
    if not probs:
        return None
    return math.fsum((p - y) ** 2 for p, y in zip(probs, outcomes)) / len(probs)


def reliability_bins(probs, outcomes, bins=10):
    """Equal-width bins on [0, 1]; p == 1 goes into the last bin.

    Returns a list of dicts (lo, hi, n, mean_pred, observed, gap), empty bins
    included with n = 0 and None values.
    """
    sums = [[0, 0.0, 0.0] for _ in range(bins)]
    for p, y in zip(probs, outcomes):
        k = min(int(p * bins), bins - 1) if p >= 0 else 0
        s = sums[k]
        s[0] += 1
        s[1] += p
        s[2] += y
    out = []
    for k, (n, sp, sy) in enumerate(sums):
        mp = sp / n if n else None
        ob = sy / n if n else None
        out.append({
            "lo": k / bins, "hi": (k + 1) / bins, "n": n,
            "mean_pred": mp, "observed": ob,
            "gap": (ob - mp) if n else None,
        })
    return out


def ece(probs, outcomes, bins=10):
    """Expected calibration error: sum_b n_b/N * |observed_b - mean_pred_b|."""
    rb = reliability_bins(probs, outcomes, bins)
    total = sum(b["n"] for b in rb)
    if not total:
        return None
    return math.fsum(b["n"] / total * abs(b["gap"]) for b in rb if b["n"])


def mce(probs, outcomes, bins=10):
    """Maximum calibration error over non-empty bins."""
    gaps = [abs(b["gap"]) for b in reliability_bins(probs, outcomes, bins) if b["n"]]
    return max(gaps) if gaps else None


# ---------------------------------------------------------------- tests of difference

def normal_sf(z):
    """P(Z > z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_proportion_z(k1, n1, k2, n2):
    """Two-sided z-test for p1 == p2; returns (z, p_value) or (None, None)."""
    if not n1 or not n2:
        return None, None
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return None, None
    z = (k1 / n1 - k2 / n2) / se
    return z, 2 * normal_sf(abs(z))


def welch_t(xs, ys):
    """Welch's t for mean(xs) == mean(ys); p-value from the normal approximation
    (fine for the hundreds of observations used here).  (t, p) or (None, None)."""
    if len(xs) < 2 or len(ys) < 2:
        return None, None
    se = math.sqrt(stdev(xs) ** 2 / len(xs) + stdev(ys) ** 2 / len(ys))
    if se == 0:
        return None, None
    t = (mean(xs) - mean(ys)) / se
    return t, 2 * normal_sf(abs(t))


def pearson(xs, ys):
    """Pearson correlation; None if either side is constant or n < 2."""
    xs, ys = list(xs), list(ys)
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def accuracy(actual, predicted):
    actual, predicted = list(actual), list(predicted)
    if not actual:
        return None
    return sum(1 for a, p in zip(actual, predicted) if a == p) / len(actual)
