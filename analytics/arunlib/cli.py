"""Command-line plumbing shared by every analytics script.

Each script builds an ``argparse`` parser with :func:`parser`, then calls
:func:`main` with a ``run(args)`` function returning ``(result, summary)``.
``main`` prints the summary lines to stderr and exactly one JSON document to
stdout.  Foreseeable problems (missing database, tables or rows, locked
database) become a one-line message on stderr and exit status 1; argparse
itself exits 2 on bad flags.
"""

import argparse
import datetime as _dt
import json
import math
import os
import sqlite3
import sys

DEFAULT_DB = os.path.join(".", "var", "arun.db")


class UserError(Exception):
    """A foreseeable condition reported as one line on stderr, exit 1."""


def default_db():
    return os.environ.get("ARUN_DB") or DEFAULT_DB


def parser(description, epilog=None):
    p = argparse.ArgumentParser(
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="SQLite database (default: $ARUN_DB, else ./var/arun.db)",
    )
    return p


# ---- argparse value types (raise ArgumentTypeError -> exit 2) ----

def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be >= 1: %r" % text)
    return v


def int_range(lo, hi):
    def conv(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not an integer: %r" % text)
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError("must be in [%d, %d]: %r" % (lo, hi, text))
        return v
    return conv


def float_range(lo, hi, lo_open=False, hi_open=False):
    def conv(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % text)
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError("not a finite number: %r" % text)
        if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
            raise argparse.ArgumentTypeError(
                "must be in %s%g, %g%s: %r"
                % ("(" if lo_open else "[", lo, hi, ")" if hi_open else "]", text))
        return v
    return conv


def iso_date(text):
    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError("not a YYYY-MM-DD date: %r" % text)


# ---- output ----

def clean(obj):
    """Make ``obj`` strict-JSON safe: NaN/inf -> None, tuples -> lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


def rnd(x, nd=6):
    """Round a float for output (None and non-finite -> None)."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return round(x, nd)


def pct(x, nd=2):
    return "n/a" if x is None else "%.*f%%" % (nd, 100.0 * x)


def num(x, fmt="%.4f"):
    return "n/a" if x is None else fmt % x


def main(script, build_parser, run, validate=None):
    """Parse flags, run, print summary (stderr) and one JSON doc (stdout).

    ``validate(parser, args)`` may reject flag combinations with
    ``parser.error`` (exit 2, like any other bad flag).
    """
    p = build_parser()
    args = p.parse_args()
    if validate:
        validate(p, args)
    if getattr(args, "db", "") is None:
        args.db = default_db()
    name = os.path.splitext(os.path.basename(script))[0]
    try:
        result, summary = run(args)
    except UserError as e:
        _fail(name, str(e))
    except sqlite3.OperationalError as e:
        msg = str(e)
        if msg.startswith("no such table"):
            _fail(name, "missing table %s: run db_loader first" % msg.split(":", 1)[1].strip())
        if "locked" in msg or "busy" in msg:
            _fail(name, "database is busy (%s): try again" % msg)
        _fail(name, "database error: %s" % msg)
    except sqlite3.DatabaseError as e:
        _fail(name, "cannot read database %s: %s" % (args.db, e))
    except KeyboardInterrupt:
        _fail(name, "interrupted", 130)
    doc = {"script": name, "db": args.db}
    job = os.environ.get("ARUN_JOB_ID")
    if job:
        doc["job_id"] = job
    doc.update(result)
    for line in summary:
        print(line, file=sys.stderr)
    sys.stdout.write(json.dumps(clean(doc), allow_nan=False, sort_keys=False) + "\n")
    sys.stdout.flush()
    return 0


def _fail(name, msg, code=1):
    print("%s: %s" % (name, " ".join(msg.split())), file=sys.stderr)
    sys.exit(code)
