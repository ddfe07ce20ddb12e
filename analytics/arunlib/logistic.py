"""Logistic regression fitted by batch gradient descent, in plain Python.

Features are standardised internally (mean 0, sd 1) so one learning rate
suits all of them; the fitted weights are mapped back to the raw feature
scale, so ``predict`` works on raw rows.  Weights are ``(intercept, [w...])``.
"""

import math
import operator


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def predict(rows, intercept, weights):
    mul = operator.mul
    return [sigmoid(intercept + sum(map(mul, weights, x))) for x in rows]


def log_loss(outcomes, probs, eps=1e-12):
    """Mean negative log-likelihood of 0/1 outcomes (probs clipped to [eps, 1-eps])."""
    n = 0
    total = 0.0
    for y, p in zip(outcomes, probs):
        p = min(max(p, eps), 1.0 - eps)
        total += -math.log(p) if y else -math.log(1.0 - p)
        n += 1
    return total / n if n else None


def _scales(rows, k):
    n = len(rows)
    means, sds = [], []
    for j in range(k):
        col = [r[j] for r in rows]
        m = math.fsum(col) / n
        v = math.fsum((c - m) ** 2 for c in col) / n
        means.append(m)
        sds.append(math.sqrt(v) if v > 1e-24 else 1.0)
    return means, sds


def fit(rows, outcomes, intercept=0.0, weights=None, lr=0.5, epochs=300, l2=0.0, tol=1e-9):
    """Fit by full-batch gradient descent on mean log-loss (+ l2/2 * |w|^2).

    Starts from ``(intercept, weights)`` (raw scale; zeros if None).  Stops
    after ``epochs`` or when the loss improves by less than ``tol``.
    Returns ``(intercept, weights, info)``; ``info`` has ``epochs`` run and
    the ``loss_history`` (one entry per epoch, before each update, plus final).
    """
    if not rows:
        raise ValueError("no rows")
    k = len(rows[0])
    n = len(rows)
    if weights is None:
        weights = [0.0] * k
    means, sds = _scales(rows, k)
    z = [[(x - m) / s for x, m, s in zip(r, means, sds)] for r in rows]
    # raw -> standardised parameters
    w = [wj * s for wj, s in zip(weights, sds)]
    b = intercept + math.fsum(wj * m for wj, m in zip(weights, means))
    mul = operator.mul
    history = []
    prev = None
    ran = 0
    cols = [[r[j] for r in z] for j in range(k)]
    for epoch in range(epochs + 1):
        errs = []
        loss = 0.0
        for x, y in zip(z, outcomes):
            s = b + sum(map(mul, w, x))
            loss += _nll(s, y)
            errs.append(sigmoid(s) - y)
        loss = loss / n + 0.5 * l2 * math.fsum(v * v for v in w)
        history.append(loss)
        if epoch == epochs or (prev is not None and prev - loss < tol):
            break
        prev = loss
        gb = math.fsum(errs) / n
        gw = [sum(map(mul, errs, col)) / n for col in cols]
        b -= lr * gb
        w = [wj - lr * (g + l2 * wj) for wj, g in zip(w, gw)]
        ran += 1
    # standardised -> raw parameters
    raw_w = [wj / s for wj, s in zip(w, sds)]
    raw_b = b - math.fsum(wj * m / s for wj, m, s in zip(w, means, sds))
    return raw_b, raw_w, {"epochs": ran, "loss_history": history}


def _nll(s, y):
    """-log P(y | logit s), computed without overflow."""
    # -log sigmoid(s) = log(1 + e^-s); -log(1 - sigmoid(s)) = log(1 + e^s)
    t = -s if y else s
    return t + math.log1p(math.exp(-t)) if t > 0 else math.log1p(math.exp(t))
