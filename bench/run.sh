#!/usr/bin/env bash
# nnc's training benchmark: nnc, the OpenBLAS reference and PyTorch side by
# side (bench/README.md). `bench/run.sh --help` lists the options.
set -euo pipefail
python=/usr/bin/python3 # Debian's, where python3-torch and python3-numpy live
if ! "$python" -c 'import numpy' 2>/dev/null; then
  echo "bench: $python cannot import numpy; run scripts/bootstrap.sh --bench" >&2
  exit 1
fi
exec "$python" "$(dirname "$0")/bench.py" "$@"
