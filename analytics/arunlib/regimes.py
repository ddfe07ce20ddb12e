"""Rule-based market regime classifier on a close-price series.

For each day t (using closes up to and including t):

- trend: tstat = log(close_t / close_{t-window}) / (sd_t * sqrt(window)),
  where sd_t is the sample stdev of the last ``window`` daily log returns.
  trend_up if tstat > threshold, trend_down if < -threshold, else range.
- volatility: vol_ann = sd_t * sqrt(252); high_vol if it is above the
  median of vol_ann over the trailing ``vol_lookback`` days (including t),
  else low_vol.  Needs ``min_vol_history`` earlier vol values.

Days without enough history get no label.
"""

import math

from . import stats

TRENDS = ("trend_up", "range", "trend_down")
VOLS = ("high_vol", "low_vol")


def log_returns(closes):
    return [math.log(b / a) for a, b in zip(closes, closes[1:])]


def classify(closes, window=20, threshold=0.5, vol_lookback=250, min_vol_history=20):
    """Return a list (same length as closes) of dicts or None per day."""
    r = log_returns(closes)          # r[i] is the return from day i to i+1
    out = [None] * len(closes)
    vols = {}
    for t in range(window, len(closes)):
        win = r[t - window:t]        # returns ending at day t
        sd = stats.stdev(win)
        if not sd:
            continue
        vol_ann = sd * math.sqrt(252)
        vols[t] = vol_ann
        hist = [vols[i] for i in range(max(window, t - vol_lookback + 1), t + 1) if i in vols]
        if len(hist) < min_vol_history + 1:
            continue
        thr = stats.median(hist)
        tstat = math.log(closes[t] / closes[t - window]) / (sd * math.sqrt(window))
        trend = "trend_up" if tstat > threshold else "trend_down" if tstat < -threshold else "range"
        vol = "high_vol" if vol_ann > thr else "low_vol"
        out[t] = {
            "trend": trend, "vol": vol, "label": trend + "/" + vol,
            "ret_n": closes[t] / closes[t - window] - 1.0,
            "tstat": tstat, "vol_ann": vol_ann, "vol_threshold": thr,
        }
    return out
