#!/usr/bin/env bash
# Runs the page's browser test: installs playwright-core from the lock file
# (npm ci) when it is missing or stale, then drives Debian's chromium.
#   tests/browser/run.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
for tool in node npm /usr/bin/chromium redis-server; do
  command -v "$tool" >/dev/null || { echo "browser test: $tool is missing (scripts/deps.sh --test installs it)" >&2; exit 1; }
done
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.lock-copy; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.lock-copy
fi
exec node page.mjs "$build"
