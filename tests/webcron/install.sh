#!/bin/sh
# Installs this suite's npm packages (the oracles: cron-parser,
# standardwebhooks) from package-lock.json, unless they are already there.
set -eu
cd "$(dirname "$0")"
if [ -f node_modules/cron-parser/package.json ] && [ -f node_modules/standardwebhooks/package.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
