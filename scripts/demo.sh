#!/usr/bin/env bash
# arun's main job, for real: installs what is needed, builds, starts a local
# Redis when ARUN_REDIS_URL is not set (AOF on, in var/redis), starts a
# worker, submits real analytics jobs through Redis with arun-submit --wait
# (load the demo trading data, then analyses), shows their results and the
# run history from SQLite, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps.sh
# a first configure leaves the tests out (they need more packages); an
# existing build/ keeps its settings, so scripts/test.sh's tests stay in it
[ -f build/CMakeCache.txt ] || cmake -S . -B build -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p var
export ARUN_DB=${ARUN_DB:-$root/var/arun.db}
export ARUN_SCRIPTS_DIR=${ARUN_SCRIPTS_DIR:-$root/analytics}
export ARUN_PYTHON=${ARUN_PYTHON:-/usr/bin/python3}
export ARUN_PREFIX=${ARUN_PREFIX:-arun}

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

if [ -z "${ARUN_REDIS_URL:-}" ]; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p var/redis
  redis-server --port "$port" --bind 127.0.0.1 --dir "$root/var/redis" --appendonly yes \
    --maxmemory-policy noeviction --save '' --logfile "$root/var/redis/redis.log" &
  pids+=($!)
  export ARUN_REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== started a local Redis at $ARUN_REDIS_URL (AOF on)"
fi

build/worker/arun-worker 2>var/worker.log &
worker=$!
pids=("$worker" "${pids[@]}") # the worker stops before Redis
echo "== arun-worker running (pid $worker, log var/worker.log, database $ARUN_DB)"

http_port=${ARUN_DEMO_HTTP_PORT:-8080}
build/http/arun-http --listen "127.0.0.1:$http_port" 2>var/http.log &
pids=("$!" "${pids[@]}")
for _ in $(seq 50); do grep -q '"listening on' var/http.log 2>/dev/null && break; sleep 0.1; done
if grep -q '"listening on' var/http.log; then
  echo "== arun-http: open http://127.0.0.1:$http_port/ in a browser for the job history page (log var/http.log)"
else
  echo "== arun-http did not start (port $http_port busy? set ARUN_DEMO_HTTP_PORT): see var/http.log"
fi

submit() { build/producer/arun-submit --trigger demo "$@"; }

echo; echo "== arun-submit --wait db_loader   (loads the demo trading history)"
submit --wait db_loader >/dev/null
for job in "holly_rules" "calibration --bins 5" "regime" "markov_regime_model --states 2" \
           "vectorized_backtest --symbol SPY --fast 10 --slow 50" "tradersync_analytics"; do
  echo; echo "== arun-submit --wait $job"
  # shellcheck disable=SC2086 # word splitting of the job's own args is intended
  submit --wait $job | /usr/bin/python3 -c '
import json, sys
doc = json.load(sys.stdin)
flat = {k: v for k, v in doc.items() if not isinstance(v, (dict, list)) and k not in ("db", "job_id")}
print("   result:", json.dumps(flat)[:400])'
done

echo; echo "== the same jobs, queued at once and run in parallel by the pool"
ids=()
for s in agreement agreement_analysis regime_accuracy recalibrate_weights; do ids+=("$(submit "$s")"); done
for id in "${ids[@]}"; do
  /usr/bin/python3 - "$id" <<'PY'
import json, os, sqlite3, sys, time
db = sqlite3.connect(os.environ["ARUN_DB"], timeout=10)
for _ in range(600):
    row = db.execute("SELECT script, status, duration_ms FROM analytics_jobs WHERE id=? AND status!='running'", (sys.argv[1],)).fetchone()
    if row: break
    time.sleep(0.1)
print("   %-22s %-8s %5s ms  (%s)" % (row + (sys.argv[1],)) if row else "   %s: not finished" % sys.argv[1])
PY
done

echo; echo "== run history (latest 12 rows of analytics_jobs in $ARUN_DB)"
/usr/bin/python3 - <<'PY'
import os, sqlite3
db = sqlite3.connect(os.environ["ARUN_DB"])
for r in db.execute("SELECT created_at, script, trigger_type, status, exit_code, duration_ms FROM analytics_jobs ORDER BY created_at DESC LIMIT 12"):
    print("   %s  %-22s %-7s %-8s exit=%-4s %6s ms" % tuple("-" if v is None else v for v in r))
PY
if [ -t 0 ] && grep -q '"listening on' var/http.log; then
  echo; read -r -p "== the page is at http://127.0.0.1:$http_port/ — press Enter to stop everything " _ || true
fi
echo; echo "== done: stopping arun-http, the worker (SIGTERM drains) and the Redis it started"
