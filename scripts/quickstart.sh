#!/usr/bin/env bash
# From a fresh clone to a trained model: installs what is missing, builds,
# fetches MNIST and trains the seed model (the Keras beginner tutorial:
# Flatten -> Dense(128, relu) -> Dense(10), Adam, 5 epochs) with the JIT.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NNC_BUILD_DIR:-build}

scripts/bootstrap.sh
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build"
scripts/fetch-data.sh mnist

echo
echo "== nnc examples/mnist_mlp.nn --jit --train"
"$build/bin/nnc" examples/mnist_mlp.nn --jit --train
