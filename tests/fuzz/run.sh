#!/usr/bin/env bash
# Fuzzes netc's readers with libFuzzer, under AddressSanitizer and
# UndefinedBehaviorSanitizer (clang 14):
#   parser       the front end (lexer, parser, elaborator, summary) on .nn text
#   safetensors  weights and checkpoints, with their metadata
#   npy          .npy inputs
#   image        PNG, JPEG, PPM, PGM and BMP inputs
#   idx          MNIST IDX image and label files
#   cifar        CIFAR-10 binary batches
#
#   tests/fuzz/run.sh [SECONDS] [TARGET…]     default: 600 s each, all targets
#
# Seeds: the examples and diagnostics files for the parser, valid files
# written by make_seeds.py for the readers, and tests/fuzz/regressions/TARGET:
# inputs that once crashed or hung a reader. Crashing inputs are written to
# build-fuzz/artifacts/TARGET/; the script exits non-zero if there are any.
# Each target's line reports its executions.
set -euo pipefail
seconds=${1:-600}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(parser safetensors npy image idx cifar)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${NETC_FUZZ_DIR:-$root/build-fuzz}
mkdir -p "$out"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined)

# Rebuilt when a source it is made of, or a header beside one, changed.
build() { # NAME SOURCES…
  local name=$1
  shift
  local headers=()
  for source in "$@"; do headers+=("$(dirname "$source")"/*.h); done
  if [[ ! -x $out/$name ]] ||
     [[ -n $(find "$@" "${headers[@]}" "$0" -newer "$out/$name" 2>/dev/null) ]]; then
    echo "fuzz: building $name with clang++-14"
    local sources=() stb=()
    for source in "$@"; do
      # Debian's stb_image (runtime/StbImage.cpp) calls memcpy(NULL, …, 0)
      # on some truncated files, harmless but flagged by UBSan: that check
      # is off for it, nothing else.
      if [[ $source == */StbImage.cpp ]]; then
        clang++-14 "${flags[@]}" -fno-sanitize=nonnull-attribute -c "$source" -o "$out/StbImage.o"
        stb=("$out/StbImage.o")
      else
        sources+=("$source")
      fi
    done
    clang++-14 "${flags[@]}" -I"$root" -I"$root/runtime" -isystem /usr/include/halide14 \
      "${sources[@]}" "${stb[@]}" /usr/lib/x86_64-linux-gnu/libjpeg.a -o "$out/$name"
  fi
}

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
for target in "${targets[@]}"; do
  corpus=$out/corpus/$target artifacts=$out/artifacts/$target
  rm -rf "$artifacts" # what an earlier run found is in its log
  mkdir -p "$corpus" "$artifacts"
  extra=()
  if [[ $target == parser ]]; then
    build parser_fuzzer "$root"/dsl/*.cpp "$root/tests/fuzz/parser_fuzzer.cpp"
    cp -n "$root"/examples/*.nn "$root"/tests/diagnostics/*.nn "$corpus/" 2>/dev/null || true
    binary=$out/parser_fuzzer
    extra=(-dict="$root/tests/fuzz/nn.dict" -max_len=8192)
  else
    build reader_fuzzer "$root"/runtime/{Datasets,Image,Jpeg,Npy,OutputFile,SafeTensors,StbImage}.cpp \
      "$root/tests/fuzz/reader_fuzzer.cpp"
    if [[ ! -d $out/seeds/$target ]]; then
      /usr/bin/python3 "$root/tests/fuzz/make_seeds.py" "$out/seeds"
    fi
    cp -n "$out/seeds/$target"/* "$corpus/" 2>/dev/null || true
    binary=$out/reader_fuzzer
    extra=(-max_len=65536)
  fi
  # Inputs that once crashed or hung a target run first, every time.
  cp -n "$root/tests/fuzz/regressions/$target"/* "$corpus/" 2>/dev/null || true
  log=$out/$target.log
  NETC_FUZZ_READER=$target "$binary" "$corpus" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" > "$log" 2>&1 || true
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  if compgen -G "$artifacts/*" > /dev/null; then
    echo "fuzz: $target: crashing inputs in $artifacts (after $runs executions):"
    ls "$artifacts"
    grep -m 5 -E 'ERROR|runtime error|SUMMARY' "$log" || true
    failed=1
  else
    echo "fuzz: $target: no crash in ${seconds}s, $runs executions"
  fi
done
exit $failed
