#!/usr/bin/env bash
# From a fresh clone to a trained model: installs what is missing, builds,
# fetches MNIST and trains the seed model with the JIT.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NNC_BUILD_DIR:-build}

scripts/bootstrap.sh
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build"

echo
echo "== The graph IR of a small classifier, before and after canonicalize,cse,dce"
"$build/bin/nnc-opt" examples/mlp.nnir --passes=canonicalize,cse,dce \
  --print-ir-before=canonicalize --stats
