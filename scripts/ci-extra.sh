#!/usr/bin/env bash
# CI's extra checks, after the test suite: fuzzing, valgrind, chaos soak.
# Each step runs even when an earlier one failed; the script exits 1 if any
# failed, and prints how long each took.
#   scripts/ci-extra.sh                  # all three
#   scripts/ci-extra.sh fuzz chaos       # some
# Knobs: ARUN_FUZZ_SECONDS (30 per target), ARUN_SOAK_JOBS (300),
# ARUN_SOAK_SECONDS (45), ARUN_VALGRIND_TESTS ("test_worker test_recovery test_submit").
set -uo pipefail
cd "$(dirname "$0")/.."
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(fuzz valgrind chaos)
failed=()
summary=()
for s in "${steps[@]}"; do
  start=$(date +%s)
  echo "CI: $s"
  case $s in
    fuzz)     tests/fuzz/run.sh "${ARUN_FUZZ_SECONDS:-30}" ;;
    # test_faults is left out: its memory-bound test measures valgrind's RSS
    valgrind) scripts/valgrind.sh ${ARUN_VALGRIND_TESTS:-test_worker test_recovery test_submit test_cancel} ;;
    chaos)    cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON >/dev/null &&
              cmake --build build -j"$(nproc)" --target arun-worker >/dev/null &&
              /usr/bin/python3 tests/chaos/soak.py --build build --jobs "${ARUN_SOAK_JOBS:-300}" \
                --seconds "${ARUN_SOAK_SECONDS:-45}" --workers 3 --grandchildren --pauses ;;
    *)        echo "unknown step $s" >&2; false ;;
  esac
  rc=$?
  summary+=("$s: $([ $rc -eq 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - start )) s")
  [ $rc -ne 0 ] && failed+=("$s")
done
printf 'CI: %s\n' "${summary[@]}"
[ ${#failed[@]} -eq 0 ] || { echo "CI: failed: ${failed[*]}" >&2; exit 1; }
