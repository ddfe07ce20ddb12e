#!/usr/bin/env bash
# Installs what is needed, builds arun and runs the whole test suite: cmocka
# units, integration tests against a real redis-server (each test module
# starts its own on a free loopback port unless ARUN_TEST_REDIS_URL names
# one), the analytics scripts' tests and the compose-file check.
#   scripts/test.sh                 # Debug build in build/
#   ARUN_SANITIZE=ON scripts/test.sh   # ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
sanitize=${ARUN_SANITIZE:-OFF}
dir=build
[ "$sanitize" = ON ] && dir=build-asan
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON -DARUN_SANITIZE="$sanitize" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j"${ARUN_TEST_JOBS:-2}"
