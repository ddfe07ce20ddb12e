"""Gaussian hidden Markov model: Baum-Welch fit and Viterbi decoding.

One-dimensional Gaussian emissions, K states.  The forward-backward pass is
scaled (each alpha_t normalised to sum 1) and emission densities are
computed in log space and shifted by their per-step maximum before
exponentiating, so long or outlying series neither underflow nor overflow.
Viterbi runs entirely in log space.  States are returned sorted by mean
(state 0 = lowest mean) so labels are stable between runs.
"""

import math

LOG_ZERO = -1e300
_LOG_2PI = math.log(2.0 * math.pi)


def _log(x):
    return math.log(x) if x > 0 else LOG_ZERO


def _log_emissions(x, means, variances):
    consts = [-0.5 * (_LOG_2PI + math.log(v)) for v in variances]
    inv = [0.5 / v for v in variances]
    K = len(means)
    return [[consts[k] - (xt - means[k]) ** 2 * inv[k] for k in range(K)] for xt in x]


def _forward_backward(x, pi, A, means, variances):
    T, K = len(x), len(pi)
    logb = _log_emissions(x, means, variances)
    B = []
    shift = []
    for row in logb:
        m = max(row)
        shift.append(m)
        B.append([math.exp(v - m) for v in row])
    alpha = [None] * T
    c = [0.0] * T
    a = [pi[k] * B[0][k] for k in range(K)]
    for t in range(T):
        if t:
            prev = alpha[t - 1]
            Bt = B[t]
            a = [sum(prev[i] * A[i][j] for i in range(K)) * Bt[j] for j in range(K)]
        s = sum(a)
        if s <= 0.0:               # every state impossible: keep going, uniform
            a = [1.0 / K] * K
            s = 1e-300
        c[t] = s
        alpha[t] = [v / s for v in a]
    loglik = math.fsum(math.log(ct) + m for ct, m in zip(c, shift))
    beta = [None] * T
    beta[T - 1] = [1.0] * K
    for t in range(T - 2, -1, -1):
        nb = beta[t + 1]
        Bn = B[t + 1]
        tmp = [Bn[j] * nb[j] for j in range(K)]
        ct = c[t + 1]
        beta[t] = [sum(A[i][j] * tmp[j] for j in range(K)) / ct for i in range(K)]
    return alpha, beta, c, B, loglik


def _init(x, K):
    s = sorted(x)
    n = len(s)
    means = [s[min(n - 1, int((k + 0.5) * n / K))] for k in range(K)]
    m = math.fsum(x) / n
    var = math.fsum((v - m) ** 2 for v in x) / n
    variances = [var] * K
    stay = 0.9 if K > 1 else 1.0
    A = [[stay if i == j else (1.0 - stay) / (K - 1) for j in range(K)] for i in range(K)]
    pi = [1.0 / K] * K
    return pi, A, means, variances, var


def fit(x, n_states=2, max_iter=100, tol=1e-6, var_floor_frac=1e-3):
    """Fit a K-state Gaussian HMM to the sequence ``x`` by Baum-Welch.

    Stops when the log-likelihood improves by less than ``tol`` times its
    magnitude (relative) or after ``max_iter`` EM iterations.  Returns a dict
    with pi, A, means, variances, loglik, iterations, converged, and gamma
    (posterior state probabilities per step), states sorted by mean.
    """
    x = [float(v) for v in x]
    T, K = len(x), n_states
    if T < 2 * K:
        raise ValueError("need at least %d observations" % (2 * K))
    pi, A, means, variances, var = _init(x, K)
    floor = max(var * var_floor_frac, 1e-300)
    prev = None
    converged = False
    it = 0
    history = []
    while True:
        alpha, beta, c, B, ll = _forward_backward(x, pi, A, means, variances)
        history.append(ll)
        gamma = []
        for t in range(T):
            g = [alpha[t][k] * beta[t][k] for k in range(K)]
            s = sum(g) or 1.0
            gamma.append([v / s for v in g])
        if prev is not None and abs(ll - prev) <= tol * max(1.0, abs(ll)):
            converged = True
            break
        if it >= max_iter:
            break
        prev = ll
        it += 1
        # M-step
        xi_sum = [[0.0] * K for _ in range(K)]
        for t in range(T - 1):
            at = alpha[t]
            w = [B[t + 1][j] * beta[t + 1][j] / c[t + 1] for j in range(K)]
            for i in range(K):
                ai = at[i]
                Ai = A[i]
                row = xi_sum[i]
                for j in range(K):
                    row[j] += ai * Ai[j] * w[j]
        new_A = []
        for i in range(K):
            s = sum(xi_sum[i])
            new_A.append([v / s for v in xi_sum[i]] if s > 0 else list(A[i]))
        A = new_A
        pi = list(gamma[0])
        for k in range(K):
            gk = [g[k] for g in gamma]
            w = math.fsum(gk)
            if w <= 1e-300:
                continue          # state unused: keep its old parameters
            mu = math.fsum(g * v for g, v in zip(gk, x)) / w
            means[k] = mu
            variances[k] = max(math.fsum(g * (v - mu) ** 2 for g, v in zip(gk, x)) / w, floor)
    order = sorted(range(K), key=lambda k: means[k])
    rank = {old: new for new, old in enumerate(order)}
    return {
        "n_states": K,
        "pi": [pi[k] for k in order],
        "A": [[A[i][j] for j in order] for i in order],
        "means": [means[k] for k in order],
        "variances": [variances[k] for k in order],
        "loglik": history[-1],
        "iterations": it,
        "converged": converged,
        "gamma": [[g[k] for k in order] for g in gamma],
        "rank": rank,
    }


def viterbi(x, pi, A, means, variances):
    """Most likely state path (log space); returns (states, log_prob)."""
    T, K = len(x), len(pi)
    logb = _log_emissions(x, means, variances)
    logA = [[_log(a) for a in row] for row in A]
    delta = [_log(pi[k]) + logb[0][k] for k in range(K)]
    back = []
    for t in range(1, T):
        ptr, nd = [], []
        for j in range(K):
            best_i = max(range(K), key=lambda i: delta[i] + logA[i][j])
            ptr.append(best_i)
            nd.append(delta[best_i] + logA[best_i][j] + logb[t][j])
        back.append(ptr)
        delta = nd
    last = max(range(K), key=lambda k: delta[k])
    path = [last]
    for ptr in reversed(back):
        path.append(ptr[path[-1]])
    path.reverse()
    return path, delta[last]


def stationary(A, iters=2000):
    """Stationary distribution of a transition matrix by power iteration."""
    K = len(A)
    p = [1.0 / K] * K
    for _ in range(iters):
        q = [sum(p[i] * A[i][j] for i in range(K)) for j in range(K)]
        if max(abs(a - b) for a, b in zip(p, q)) < 1e-14:
            return q
        p = q
    return p
