#!/usr/bin/env bash
# The whole test suite: set up, build, run every test; then the same tests
# built with AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/test.sh            everything
#   NETC_SKIP_SANITIZE=1 scripts/test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc)}
"$root/scripts/setup.sh"

echo "== build"
"$root/scripts/build.sh"
echo "== test"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

if [[ -z ${NETC_SKIP_SANITIZE:-} ]]; then
  echo "== build with ASan+UBSan"
  BUILD_DIR=$root/build-asan NETC_SANITIZE=ON "$root/scripts/build.sh"
  echo "== test with ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"
fi
