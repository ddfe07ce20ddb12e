"""Shared test setup: puts analytics/ on sys.path (so ``arunlib`` and the
scripts import like they do under arun) and keeps Python from writing
__pycache__ into the analytics tree."""

import os
import sys

sys.dont_write_bytecode = True

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANALYTICS = os.path.join(REPO, "analytics")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

if ANALYTICS not in sys.path:
    sys.path.insert(0, ANALYTICS)

SCRIPTS = sorted(f[:-3] for f in os.listdir(ANALYTICS)
                 if f.endswith(".py") and f != "__init__.py")
