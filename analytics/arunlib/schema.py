"""DDL of the analytics tables.

Every table is prefixed (``demo_``, ``model_``, ``regime_``, ``hmm_``) and
none is ``analytics_jobs``, which belongs to arun itself and is never read or
written here.
"""

TABLES = {
    "demo_meta": """
        CREATE TABLE IF NOT EXISTS demo_meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    "demo_prices": """
        CREATE TABLE IF NOT EXISTS demo_prices (
            symbol TEXT NOT NULL,
            date   TEXT NOT NULL,          -- YYYY-MM-DD, weekdays
            open   REAL NOT NULL,
            high   REAL NOT NULL,
            low    REAL NOT NULL,
            close  REAL NOT NULL,
            volume INTEGER NOT NULL,
            PRIMARY KEY (symbol, date)
        )""",
    "demo_alerts": """
        CREATE TABLE IF NOT EXISTS demo_alerts (
            id          INTEGER PRIMARY KEY,
            strategy    TEXT NOT NULL,
            symbol      TEXT NOT NULL,
            date        TEXT NOT NULL,     -- YYYY-MM-DD
            alert_time  TEXT NOT NULL,     -- YYYY-MM-DD HH:MM:SS
            exit_time   TEXT NOT NULL,
            direction   TEXT NOT NULL CHECK (direction IN ('long', 'short')),
            entry_price REAL NOT NULL,
            exit_price  REAL NOT NULL,
            win_prob    REAL NOT NULL,     -- alert engine's predicted P(win)
            outcome     INTEGER NOT NULL,  -- 1 win, 0 loss
            ret         REAL NOT NULL,     -- direction-signed return, fraction
            f_trend     REAL NOT NULL,     -- features of the scoring model
            f_relvol    REAL NOT NULL,
            f_gap       REAL NOT NULL,
            f_vol       REAL NOT NULL
        )""",
    "demo_trades": """
        CREATE TABLE IF NOT EXISTS demo_trades (
            id          INTEGER PRIMARY KEY,
            source      TEXT NOT NULL,     -- 'demo' or 'csv:<file name>'
            trade_key   TEXT NOT NULL,     -- makes reloading idempotent
            symbol      TEXT NOT NULL,
            side        TEXT NOT NULL CHECK (side IN ('long', 'short')),
            open_time   TEXT NOT NULL,
            close_time  TEXT NOT NULL,
            entry_price REAL NOT NULL,
            exit_price  REAL NOT NULL,
            qty         REAL NOT NULL,
            fees        REAL NOT NULL DEFAULT 0,
            gross_pnl   REAL NOT NULL,
            net_pnl     REAL NOT NULL,
            alert_id    INTEGER,
            UNIQUE (source, trade_key)
        )""",
    "model_weights": """
        CREATE TABLE IF NOT EXISTS model_weights (
            version        INTEGER PRIMARY KEY,
            created_at     TEXT NOT NULL,  -- UTC ISO-8601
            source         TEXT NOT NULL,  -- 'deployed' or 'recalibrate_weights'
            features       TEXT NOT NULL,  -- JSON list of feature names
            weights        TEXT NOT NULL,  -- JSON {"intercept": b, feature: w}
            n_train        INTEGER,
            logloss_before REAL,
            logloss_after  REAL,
            params         TEXT            -- JSON of the fit settings
        )""",
    "regime_labels": """
        CREATE TABLE IF NOT EXISTS regime_labels (
            symbol        TEXT NOT NULL,
            date          TEXT NOT NULL,
            trend         TEXT NOT NULL,   -- trend_up / trend_down / range
            vol           TEXT NOT NULL,   -- high_vol / low_vol
            label         TEXT NOT NULL,   -- trend + '/' + vol
            ret_n         REAL NOT NULL,   -- trailing window return
            tstat         REAL NOT NULL,   -- trailing log return / (vol * sqrt(window))
            vol_ann       REAL NOT NULL,   -- trailing realised vol, annualised
            vol_threshold REAL NOT NULL,   -- trailing median of vol_ann
            PRIMARY KEY (symbol, date)
        )""",
    "hmm_states": """
        CREATE TABLE IF NOT EXISTS hmm_states (
            symbol   TEXT NOT NULL,
            date     TEXT NOT NULL,
            n_states INTEGER NOT NULL,
            state    INTEGER NOT NULL,     -- 0 = lowest mean return
            prob     REAL NOT NULL,        -- posterior P(state) at that date
            PRIMARY KEY (symbol, n_states, date)
        )""",
}

INDEXES = [
    "CREATE INDEX IF NOT EXISTS demo_alerts_date ON demo_alerts (date)",
    "CREATE INDEX IF NOT EXISTS demo_alerts_strategy ON demo_alerts (strategy)",
    "CREATE INDEX IF NOT EXISTS demo_trades_close ON demo_trades (close_time)",
]


def create(conn, names=None):
    """Create the named tables (default: all) if missing."""
    for name in names or TABLES:
        conn.execute(TABLES[name])
    if names is None:
        for ddl in INDEXES:
            conn.execute(ddl)


def drop_all(conn):
    for name in TABLES:
        assert name != "analytics_jobs"
        conn.execute("DROP TABLE IF EXISTS %s" % name)
