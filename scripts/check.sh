#!/usr/bin/env bash
# The test command: installs what is missing, builds (incrementally when a
# build exists) and runs every test -- GoogleTest units and the lit suite --
# through ctest. Exits non-zero on any failure.
#
#   scripts/check.sh             everything
#   NNC_BUILD_DIR=dir scripts/check.sh   build somewhere else than build/
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NNC_BUILD_DIR:-build}

scripts/bootstrap.sh
if [[ -x scripts/fetch-data.sh ]]; then
  # Tests that need MNIST skip without it; say so rather than fail here.
  scripts/fetch-data.sh mnist || echo "check: MNIST unavailable; tests that need it will be skipped" >&2
  scripts/fetch-data.sh sklearn || echo "check: scikit-learn's CSV files unavailable; tests that need them will be skipped" >&2
fi

if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build"
cd "$build"
ctest --output-on-failure --timeout 1800 -j "$(nproc)"
