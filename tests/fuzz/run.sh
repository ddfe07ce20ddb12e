#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, -DARUN_FUZZ=ON) and
# runs each for a fixed time, starting from its seed corpus in
# tests/fuzz/corpus/TARGET. New inputs go to tests/fuzz/out/corpus/TARGET
# (ignored by git); a crash, leak or failed invariant stops the target, its
# input is written to tests/fuzz/out/crash/TARGET/ and the script exits 1.
#   tests/fuzz/run.sh                    # every target, 30 s each
#   tests/fuzz/run.sh 600 fuzz_request   # one target, 10 minutes
#   FUZZ_BUILD_DIR=build-fuzz FUZZ_JOBS=2 tests/fuzz/run.sh 3600
# A crash input replays with: build-fuzz/tests/fuzz/TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_request fuzz_redis_url fuzz_duration fuzz_whitelist_name fuzz_schedule
                                 fuzz_endpoints)
dir=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
out=tests/fuzz/out

CC=${FUZZ_CC:-clang} cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DARUN_FUZZ=ON \
  -DARUN_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target fuzz_all >/dev/null

# FUZZ_JOBS > 1: parallel fuzzing processes (libFuzzer -fork), one corpus
par=()
[ "$jobs" -gt 1 ] && par=(-fork="$jobs")

status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/crash/$t"
  log="$out/$t.log"
  start=$(date +%s)
  # -rss_limit_mb: a request is at most 1 MiB, so 2 GiB means a real leak;
  # -max_len 65536: room for long args and nested JSON without slowing down
  if "$dir/tests/fuzz/$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
       -timeout=10 -print_final_stats=1 "${par[@]}" \
       -artifact_prefix="$out/crash/$t/" \
       "$out/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    stats=$(grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$log" |
            awk '{printf "%s %s; ", $1, $2}' || true)
    echo "fuzz: $t ok in $(( $(date +%s) - start )) s: $stats"
  else
    status=1
    echo "fuzz: $t FAILED after $(( $(date +%s) - start )) s; log $log, input(s):" >&2
    ls -1 "$out/crash/$t/" >&2 || true
    grep -E 'ERROR|invariant failed|SUMMARY' "$log" | head -5 >&2 || true
  fi
done
exit $status
