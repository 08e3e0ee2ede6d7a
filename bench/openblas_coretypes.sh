#!/usr/bin/env bash
# Which of OpenBLAS's kernel families is fastest on this machine: times sgemm
# at the step's shapes (sgemm_probe) and then the OpenBLAS reference's
# training under each OPENBLAS_CORETYPE, interleaved, and
# prints the median and the fastest seconds per epoch of each (on a shared
# machine noise only ever adds time, so the fastest run is telling too).
#
#   bench/openblas_coretypes.sh [reps] [workload: seed|wide] [threads]
#
# OpenBLAS's own choice is the "default" row. Needs build/bin/openblas_mlp,
# build/bin/sgemm_probe and MNIST (NNC_DATA_DIR or data/).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
workload=${2:-seed}
threads=${3:-1}
bin=${OPENBLAS_MLP:-build/bin/openblas_mlp}
probe=${SGEMM_PROBE:-build/bin/sgemm_probe}
for b in "$bin" "$probe"; do
  [[ -x "$b" ]] || { echo "$b not found: cmake --build build --target openblas_mlp sgemm_probe" >&2; exit 1; }
done
case "$workload" in
  seed) args=(--hidden 128 --batch 32 --epochs 1) ;;
  wide) args=(--hidden 512,512 --batch 128 --epochs 1) ;;
  *) echo "workload is seed or wide" >&2; exit 1 ;;
esac
types=(default Haswell Zen SkylakeX Cooperlake)
echo "sgemm at the step's shapes, one thread, best of 5 rounds:"
for t in "${types[@]}"; do
  if [[ $t == default ]]; then
    out=$(env -u OPENBLAS_CORETYPE "$probe")
  else
    out=$(OPENBLAS_CORETYPE=$t "$probe")
  fi
  printf '  %-12s %-12s %s\n' "$t" "$(sed -n 's/^openblas: core //p' <<<"$out")" \
    "$(sed -n 's/.*all, one call each *//p' <<<"$out")"
done
echo "training, $workload, $threads thread(s), $reps runs each:"
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
printf '%-12s %-12s %8s %8s   %s\n' OPENBLAS_CORETYPE core median fastest \
  'all runs (s/epoch)'
for t in "${types[@]}"; do
  read -r median fastest < <(tr ' ' '\n' <<<"${times[$t]}" | sed '/^$/d' |
    sort -g | awk '{a[NR]=$1} END {
      print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), a[1]}')
  printf '%-12s %-12s %8.3f %8.3f   %s\n' "$t" "${times[$t.core]}" "$median" \
    "$fastest" "${times[$t]}"
done
