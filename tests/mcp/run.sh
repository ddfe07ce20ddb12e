#!/usr/bin/env bash
# Runs one of the MCP suites (tests/mcp/*.mjs) with node --test, after
# installing the suite's npm packages from package-lock.json (npm ci) when
# node_modules is missing or older than the lock file. A lock serialises
# the install when ctest runs two suites at once.
#   tests/mcp/run.sh test_stdio.mjs      (ARUN_BUILD_DIR: the build folder)
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "tests/mcp: node is not installed (scripts/deps.sh --test)" >&2; exit 1; }
(
  flock 9
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
) 9>"${TMPDIR:-/tmp}/arun-tests-mcp-npm.lock"
exec node --test "$@"
