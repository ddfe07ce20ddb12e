"""Package marker for arun's analytics scripts (not a runnable script).

The whitelisted scripts are the top-level ``analytics/*.py`` files; shared
code lives in the ``arunlib`` sub-package.  See README.md.
"""
