"""arunlib: shared helpers for arun's analytics scripts (standard library only).

Not runnable and not whitelisted: arun only runs top-level ``analytics/*.py``
files, and this is a sub-package.  Modules:

- cli       argument helpers, the run/exit wrapper, JSON output
- db        SQLite connection (busy timeout, WAL) and "is the input there" checks
- schema    DDL of the analytics tables (never touches ``analytics_jobs``)
- stats     descriptive statistics, drawdown, Sharpe, kappa, calibration
- logistic  logistic regression fitted by gradient descent
- hmm       Gaussian hidden Markov model (Baum-Welch, Viterbi)
- regimes   rule-based market regime classifier
- signals   moving averages and the moving-average direction model
- demo      deterministic demo-data generator
- tradecsv  TraderSync-style CSV import
"""
