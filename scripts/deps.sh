#!/usr/bin/env bash
# Installs what arun needs from Debian 12's packages: the build tools and
# libraries, Redis, Python 3; with --test also what the test suite uses
# (python3-redis, nodejs and npm run the README's examples).
# Does nothing when everything is already installed. iproute2 and util-linux
# (ip netns, unshare, taskset) are for the scale harness, tests/scale/run.sh.
set -euo pipefail
pkgs=(gcc make cmake pkg-config libhiredis-dev libevent-dev libjansson-dev libsqlite3-dev
      libcurl4-openssl-dev libssl-dev redis-server python3)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(libcmocka-dev docker-compose python3-redis nodejs npm iproute2 util-linux prometheus
        python3-yaml chromium)
fi
if [ "${1:-}" = "--ci" ]; then
  pkgs+=(libcmocka-dev docker-compose valgrind clang python3-redis nodejs npm iproute2 util-linux
        prometheus python3-yaml chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  # a Node.js from elsewhere (NodeSource's bundles its npm, and conflicts
  # with Debian's npm package) serves as well as Debian's
  case $p in nodejs|npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "arun: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
