#!/usr/bin/env bash
# Configures and builds netc with CMake and Ninja.
#
#   scripts/build.sh                 build/ (Release)
#   BUILD_DIR=build-asan NETC_SANITIZE=ON scripts/build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

cmake -S "$root" -B "$build" -G Ninja \
  -DNETC_SANITIZE="${NETC_SANITIZE:-OFF}" > "$build.configure.log" 2>&1 || {
  cat "$build.configure.log"; exit 1; }
rm -f "$build.configure.log"
cmake --build "$build" -j "$jobs"
