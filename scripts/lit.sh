#!/usr/bin/env bash
# Runs lit on test files or folders, e.g. scripts/lit.sh tests/lit/ir/roundtrip.nnir
# Uses the build in build/ (or $NNC_BUILD_DIR); build it first.
exec python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$@"
