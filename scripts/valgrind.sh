#!/usr/bin/env bash
# Runs integration test modules with every arun-worker under valgrind (the
# harness honours ARUN_WORKER_WRAPPER) and fails on a memory error or a
# definite leak in any worker. Debug build (-O0 -g, no sanitizers) in
# build-valgrind/. A worker the test kills with SIGKILL writes no leak
# summary; its errors up to then still count.
#   scripts/valgrind.sh                                 # integration_worker
#   scripts/valgrind.sh test_worker test_recovery       # modules to run
# The reports stay in build-valgrind/valgrind/ (one file per process).
set -euo pipefail
cd "$(dirname "$0")/.."
modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=(test_worker)
dir=build-valgrind
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON -DARUN_SANITIZE=OFF \
  -DARUN_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target arun-worker arun-submit >/dev/null
logs=$PWD/$dir/valgrind
rm -rf "$logs" && mkdir -p "$logs"
export ARUN_BUILD_DIR=$PWD/$dir PYTHONDONTWRITEBYTECODE=1
export ARUN_WORKER_WRAPPER="valgrind --leak-check=full --errors-for-leak-kinds=definite \
--show-leak-kinds=definite --error-exitcode=99 --track-fds=no --num-callers=30 \
--log-file=$logs/worker.%p.log"
status=0
for m in "${modules[@]}"; do
  start=$(date +%s)
  if (cd tests/integration && /usr/bin/python3 -m unittest "$m" 2>"$logs/$m.out"); then
    echo "valgrind: $m passed in $(( $(date +%s) - start )) s"
  else
    echo "valgrind: $m FAILED in $(( $(date +%s) - start )) s (tests/integration output: $logs/$m.out)" >&2
    tail -30 "$logs/$m.out" >&2
    status=1
  fi
done
n=$(ls "$logs"/worker.*.log 2>/dev/null | wc -l)
bad=$(grep -lE 'definitely lost: [1-9]|ERROR SUMMARY: [1-9]' "$logs"/worker.*.log 2>/dev/null || true)
# processes that reached exit and wrote a summary (the others were killed or exec'd a script)
summ=$(grep -lE 'ERROR SUMMARY: 0' "$logs"/worker.*.log 2>/dev/null | wc -l)
if [ -n "$bad" ]; then
  echo "valgrind: errors or definite leaks in $(echo "$bad" | wc -l) of $n worker reports:" >&2
  for f in $bad; do echo "--- $f" >&2; head -60 "$f" >&2; done
  status=1
else
  echo "valgrind: $n worker processes ($summ ran to exit with a clean summary), no memory error, no definite leak"
fi
exit $status
