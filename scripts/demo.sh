#!/usr/bin/env bash
# arun's main job, for real: installs what is needed, builds, starts a local
# Redis when ARUN_REDIS_URL is not set (AOF on, in var/redis), starts a
# worker, submits real analytics jobs through Redis with arun-submit --wait
# (load the demo trading data, then analyses), shows what each found, lets
# arun-cron fire a schedule and arun-webhook POST the completion events
# (signed) to a local receiver, then shows the run history, queues and
# workers with arun-ctl, and stops what it started.
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
# ready once its heartbeat is in Redis (arun-submit warns about a queue no
# live worker takes from)
for _ in $(seq 100); do build/ctl/arun-ctl --json workers | grep -q '"id"' && break; sleep 0.1; done
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
# a local receiver for arun-webhook: prints each POST it gets
recv_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -u - "$recv_port" >var/receiver.log 2>&1 <<'PY' &
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        ev = json.loads(self.rfile.read(int(self.headers["content-length"])))
        print("   POST %s  webhook-id=%s  %s %s  signature %s..." % (self.path, self.headers["webhook-id"],
              ev.get("script"), ev.get("status"), self.headers.get("webhook-signature", "")[:16]))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
PY
pids=("$!" "${pids[@]}")
ARUN_WEBHOOK_URLS="http://127.0.0.1:$recv_port/arun-events" ARUN_WEBHOOK_ALLOW_PRIVATE=1 \
  ARUN_WEBHOOK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)" \
  build/webhook/arun-webhook 2>var/webhook.log &
pids=("$!" "${pids[@]}")
echo "== arun-webhook relaying completion events to a receiver on 127.0.0.1:$recv_port (log var/webhook.log)"

submit() { build/producer/arun-submit --trigger demo "$@"; }

echo; echo "== arun-submit --wait db_loader   (loads the demo trading history)"
submit --wait db_loader >/dev/null
for job in "holly_rules" "calibration --bins 5" "regime" "markov_regime_model --states 2" \
           "vectorized_backtest --symbol SPY --fast 10 --slow 50" "tradersync_analytics"; do
  echo; echo "== arun-submit --wait $job   (the script's summary, from its stderr)"
  # the JSON result goes to stdout (dropped here); the script's summary for
  # people to stderr, of which the first lines are shown
  # shellcheck disable=SC2086 # word splitting of the job's own args is intended
  submit --wait $job 2>&1 >/dev/null | head -n 9 | sed 's/^/   /'
done

echo; echo "== four more analyses, queued at once (arun-submit without --wait) and run in parallel"
ids=()
for s in agreement agreement_analysis regime_accuracy recalibrate_weights; do
  ids+=("$(submit --id "demo-$s-$$" "$s")")
done
for i in "${!ids[@]}"; do
  # the same id, script and args again attach to the queued job (no second run)
  s=(agreement agreement_analysis regime_accuracy recalibrate_weights)
  submit --wait --json --id "${ids[$i]}" "${s[$i]}" | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   %-22s %-8s %6s ms  (%s)" % (r["script"], r["status"], r["duration_ms"], r["id"]))'
done

echo; echo "== arun-cron: a schedule (var/schedule) firing regime every 5 s, each fire once"
printf '# NAME  SPEC  SCRIPT [ARG...]\nregime-demo  @every 5s  regime\n' >var/schedule
build/cron/arun-cron --check var/schedule | sed 's/^/   /'
since=$(date -u +%Y-%m-%dT%H:%M:%S)
build/cron/arun-cron --schedule var/schedule 2>var/cron.log &
pids=("$!" "${pids[@]}")
/usr/bin/python3 - "$since" <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(os.environ["ARUN_DB"], timeout=10)
for _ in range(300):
    rows = db.execute("SELECT id, status FROM analytics_jobs WHERE trigger_type='scheduled' AND status!='running' AND created_at >= ? ORDER BY id", (sys.argv[1],)).fetchall()
    if len(rows) >= 2: break
    time.sleep(0.1)
for r in rows: print("   %s  %s" % r)
PY

echo; echo "== webhooks received (var/receiver.log)"
sleep 1
if [ -s var/receiver.log ]; then tail -n 8 var/receiver.log; else
  echo "   none: this worker does not write the durable stream P:stream:events yet"; fi

echo; echo "== arun-ctl jobs --limit 12   (the run history in $ARUN_DB)"
build/ctl/arun-ctl jobs --limit 12 | sed 's/^/   /'
echo; echo "== arun-ctl queues; arun-ctl workers"
build/ctl/arun-ctl queues | sed 's/^/   /'
build/ctl/arun-ctl workers | sed 's/^/   /'
if [ -t 0 ] && grep -q '"listening on' var/http.log; then
  echo; read -r -p "== the page is at http://127.0.0.1:$http_port/ — press Enter to stop everything " _ || true
fi
echo; echo "== done: stopping arun-http, arun-cron, arun-webhook, the receiver, the worker (SIGTERM drains) and the Redis it started"
