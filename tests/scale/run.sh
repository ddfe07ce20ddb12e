#!/bin/sh
# tests/scale/run.sh: the scale-out harness (several worker hosts in network
# namespaces against one Redis; docs/scaling.md). Not part of ctest: it needs
# root and a few minutes of both CPUs. Builds first unless ARUN_BUILD_DIR
# names an existing build; extra arguments go to scale.py (--help).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${ARUN_BUILD_DIR:-$root/build}
if [ ! -x "$build/worker/arun-worker" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target arun-worker
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "tests/scale/run.sh: needs root (ip netns); run it with sudo" >&2
    exit 2
fi
exec env PYTHONDONTWRITEBYTECODE=1 python3 "$here/scale.py" --build "$build" "$@"
