#!/usr/bin/env bash
# Which of OpenBLAS's kernel families trains fastest on this machine: runs
# the OpenBLAS reference under each OPENBLAS_CORETYPE, interleaved, and
# prints the median seconds per epoch of each.
#
#   bench/openblas_coretypes.sh [reps] [workload: seed|wide] [threads]
#
# OpenBLAS's own choice is the "(default)" row. Needs build/bin/openblas_mlp
# and MNIST (NNC_DATA_DIR or data/).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
workload=${2:-seed}
threads=${3:-1}
bin=${OPENBLAS_MLP:-build/bin/openblas_mlp}
[[ -x "$bin" ]] || { echo "$bin not found: cmake --build build --target openblas_mlp" >&2; exit 1; }
case "$workload" in
  seed) args=(--hidden 128 --batch 32 --epochs 1) ;;
  wide) args=(--hidden 512,512 --batch 128 --epochs 1) ;;
  *) echo "workload is seed or wide" >&2; exit 1 ;;
esac
types=(default Haswell Zen SkylakeX Cooperlake)
declare -A times
for ((r = 0; r < reps; r++)); do
  for t in "${types[@]}"; do
    if [[ $t == default ]]; then
      out=$(env -u OPENBLAS_CORETYPE "$bin" "${args[@]}" --threads "$threads")
    else
      out=$(OPENBLAS_CORETYPE=$t "$bin" "${args[@]}" --threads "$threads")
    fi
    core=$(sed -n 's/^openblas: core \([^ ]*\).*/\1/p' <<<"$out")
    s=$(sed -n 's/.* \([0-9.]*\) s\/epoch.*/\1/p' <<<"$out")
    times[$t]+="$s "
    [[ $r -eq 0 ]] && times[$t.core]=$core
  done
done
printf '%-12s %-12s %10s   %s\n' OPENBLAS_CORETYPE core 's/epoch' 'all runs'
for t in "${types[@]}"; do
  median=$(tr ' ' '\n' <<<"${times[$t]}" | sed '/^$/d' | sort -g |
    awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  printf '%-12s %-12s %10.3f   %s\n' "$t" "${times[$t.core]}" "$median" "${times[$t]}"
done
