"""SQLite access for the analytics scripts.

Opens the database with a busy timeout (arun's worker and API write to the
same WAL-mode file) and never creates a missing database except when asked
(db_loader).  ``require_rows`` turns a missing or empty table into a clear
``UserError`` such as ``no prices: run db_loader first``.
"""

import os
import sqlite3
import urllib.parse

from .cli import UserError

BUSY_TIMEOUT_MS = 5000


def connect(path, create=False):
    """Open ``path``; raise UserError if it does not exist and not ``create``."""
    if not path:
        raise UserError("no database path given (set ARUN_DB or --db)")
    if os.path.isdir(path):
        raise UserError("database path is a directory: %s" % path)
    if not create and not os.path.exists(path):
        raise UserError("database not found: %s (run db_loader first)" % path)
    if create:
        # the folder is created as the worker creates it, so db_loader works
        # on a fresh ARUN_DB run directly, before any worker has started
        parent = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as e:
            raise UserError("cannot create the folder of %s: %s" % (path, e))
    mode = "rwc" if create else "rw"
    uri = "file:%s?mode=%s" % (urllib.parse.quote(os.path.abspath(path)), mode)
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000.0)
    except sqlite3.OperationalError as e:
        raise UserError("cannot open database %s: %s" % (path, e))
    conn.execute("PRAGMA busy_timeout=%d" % BUSY_TIMEOUT_MS)
    if create:
        conn.execute("PRAGMA journal_mode=WAL")
    return conn


def table_exists(conn, table):
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()
    return row is not None


def require_rows(conn, table, what, hint="run db_loader first"):
    """Raise ``UserError('no WHAT: HINT')`` if ``table`` is missing or empty."""
    if not table_exists(conn, table):
        raise UserError("no %s: %s" % (what, hint))
    if conn.execute("SELECT 1 FROM %s LIMIT 1" % table).fetchone() is None:
        raise UserError("no %s: %s" % (what, hint))


def load_closes(conn, symbol):
    """Return (dates, closes) for ``symbol`` ordered by date."""
    rows = conn.execute(
        "SELECT date, close FROM demo_prices WHERE symbol=? ORDER BY date", (symbol,)).fetchall()
    return [r[0] for r in rows], [float(r[1]) for r in rows]


def symbols(conn):
    return [r[0] for r in conn.execute("SELECT DISTINCT symbol FROM demo_prices ORDER BY symbol")]


def require_symbol(conn, symbol):
    """Return closes for ``symbol`` or raise a UserError listing known symbols."""
    dates, closes = load_closes(conn, symbol)
    if not dates:
        known = symbols(conn)
        raise UserError("unknown symbol %r (known: %s)" % (symbol, ", ".join(known)))
    return dates, closes
