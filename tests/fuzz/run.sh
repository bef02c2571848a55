#!/usr/bin/env bash
# Fuzzes the front end (lexer, parser, elaborator, summary) with libFuzzer,
# under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   tests/fuzz/run.sh [SECONDS]      default 600
#
# Seeds: the examples and the diagnostics test files. Crashing inputs are
# written to build-fuzz/artifacts/; the script exits non-zero if any.
set -euo pipefail
seconds=${1:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build-fuzz
mkdir -p "$out/corpus" "$out/artifacts"

sources=$(ls "$root"/dsl/*.cpp)
if [[ ! -x $out/parser_fuzzer ]] || [[ -n $(find "$root/dsl" "$0" "$root/tests/fuzz/parser_fuzzer.cpp" -newer "$out/parser_fuzzer" 2>/dev/null) ]]; then
  echo "fuzz: building parser_fuzzer with clang++-14"
  clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$root" \
    $sources "$root/tests/fuzz/parser_fuzzer.cpp" -o "$out/parser_fuzzer"
fi

cp -n "$root"/examples/*.nn "$root"/tests/diagnostics/*.nn "$out/corpus/" 2>/dev/null || true
echo "fuzz: running for ${seconds}s"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$out/parser_fuzzer" "$out/corpus" \
  -dict="$root/tests/fuzz/nn.dict" -max_total_time="$seconds" \
  -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" 2>&1 | tail -n 25
if compgen -G "$out/artifacts/*" > /dev/null; then
  echo "fuzz: crashing inputs found:"
  ls "$out/artifacts"
  exit 1
fi
echo "fuzz: no crash in ${seconds}s"
