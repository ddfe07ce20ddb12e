#!/bin/sh
# Builds arun and runs its benchmarks (bench/bench.py --help for options):
#   bench/run.sh            quick (a few minutes)
#   bench/run.sh --full     5 repetitions, 1,000,000 pushes
# Results: a table on stdout and bench/out/results.json.
set -e
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/bench.py "$@"
