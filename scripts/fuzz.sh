#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers of untrusted input with libFuzzer:
# model files (through the whole graph pipeline and the LLVM IR of both
# steps), graph IR files (through the passes), checkpoints, IDX data files,
# images, CSV tables and NumPy .npy/.npz arrays. Builds the targets with
# clang, AddressSanitizer and UBSan in their own build directory, seeds them
# (the examples, the lit tests' inputs, random models, small well-formed
# files) and runs each in turn.
#
#   scripts/fuzz.sh                  every target, 300 s each (35 minutes)
#   scripts/fuzz.sh --seconds 60 model-text
#
# Exits non-zero when a target finds an input that crashes, trips an
# assertion or a sanitizer, or breaks a property the target checks; the
# input is in $build/fuzz/findings/. Corpora persist between runs in
# $build/fuzz/corpus-<target>. Not part of scripts/check.sh: a finding
# becomes a test of its own (tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NNC_FUZZ_BUILD_DIR:-build-fuzz}
seconds=300
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    model-text|graph-text|checkpoint|idx|image|csv|npy) targets+=("$1"); shift ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N] [model-text|graph-text|checkpoint|idx|image|csv|npy]..." >&2
       exit 2 ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(model-text graph-text checkpoint idx image csv npy)

scripts/bootstrap.sh --fuzz
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DNNC_FUZZERS=ON
fi
cmake --build "$build" --target "${targets[@]/#/fuzz-}"

python3 tests/fuzz/write_seeds.py "$build/fuzz"

status=0
mkdir -p "$build/fuzz/findings"
for t in "${targets[@]}"; do
  corpus="$build/fuzz/corpus-$t"
  mkdir -p "$corpus"
  echo "fuzz: $t for $seconds s (corpus $corpus)" >&2
  dict=()
  [[ -f "tests/fuzz/$t.dict" ]] && dict=(-dict="tests/fuzz/$t.dict")
  # An IDX header may promise up to 4 GiB, which the reader then allocates.
  if ! "$build/bin/fuzz-$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=6144 -malloc_limit_mb=4200 -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$build/fuzz/findings/$t-" \
      "$corpus" "$build/fuzz/seeds-$t" 2>"$build/fuzz/$t.log"; then
    echo "fuzz: $t found an input; see $build/fuzz/$t.log and $build/fuzz/findings/" >&2
    grep -E "^(==[0-9]+==ERROR|fuzz finding|.*Assertion|.*runtime error)" "$build/fuzz/$t.log" | head -5 >&2 || true
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz/$t.log" | sed "s/^/fuzz: $t: /" >&2
  fi
done
exit $status
