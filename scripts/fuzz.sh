#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers of untrusted input with libFuzzer:
# model files (through the whole graph pipeline and the LLVM IR of both
# steps), graph IR files (through the passes), checkpoints and IDX data
# files. Builds the targets with clang, AddressSanitizer and UBSan in their
# own build directory, seeds them (the examples, the lit tests' inputs,
# random models, small well-formed files) and runs each in turn.
#
#   scripts/fuzz.sh                  every target, 300 s each (20 minutes)
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
    model-text|graph-text|checkpoint|idx) targets+=("$1"); shift ;;
    *) echo "usage: scripts/fuzz.sh [--seconds N] [model-text|graph-text|checkpoint|idx]..." >&2
       exit 2 ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(model-text graph-text checkpoint idx)

scripts/bootstrap.sh --fuzz
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DNNC_FUZZERS=ON
fi
cmake --build "$build" --target "${targets[@]/#/fuzz-}"

# Seeds: every example and lit input, one file per `-----` chunk,
python3 - "$build/fuzz" <<'PY'
import pathlib, re, sys
out = pathlib.Path(sys.argv[1])
for target, suffix, sep in (("model-text", ".nn", "#"), ("graph-text", ".nnir", "//")):
    seeds = out / f"seeds-{target}"
    seeds.mkdir(parents=True, exist_ok=True)
    for path in sorted(pathlib.Path("examples").glob(f"*{suffix}")) + \
                sorted(pathlib.Path("tests/lit").rglob(f"*{suffix}")):
        chunks = re.split(rf"^{re.escape(sep)} -----.*$", path.read_text(), flags=re.M)
        for i, chunk in enumerate(c for c in chunks if c.strip()):
            name = "-".join(path.parts[-2:]) + f".{i}"
            (seeds / name).write_text(chunk)

# Checkpoints and IDX files, well-formed, for the binary readers.
import gzip, json, struct
seeds = out / "seeds-checkpoint"
seeds.mkdir(exist_ok=True)
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data
(seeds / "two.safetensors").write_bytes(safetensors({
    "w": ("F32", [2, 3], struct.pack("<6f", *range(6))),
    "b": ("F32", [3], struct.pack("<3f", 1, 2, 3))}, {"step": "7"}))
(seeds / "ints.safetensors").write_bytes(safetensors({
    "t": ("I64", [], struct.pack("<q", 5)),
    "m": ("U8", [4], bytes(4))}))
seeds = out / "seeds-idx"
seeds.mkdir(exist_ok=True)
images = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 4, 4) + bytes(range(32))
labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes([3, 7])
(seeds / "images.idx").write_bytes(images)
(seeds / "labels.idx").write_bytes(labels)
(seeds / "images.idx.gz").write_bytes(gzip.compress(images))
PY
# and random models in the model language, valid and deep, to mutate.
python3 tests/fuzz/fuzz_models.py --write-models "$build/fuzz/seeds-model-text" \
  --seeds 1-300

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
