#!/usr/bin/env bash
# What `--decisions` adds to a reconcile (issue #23: 100,000 decisions on the 2M month, under
# +10 %): each round runs every binary without decisions, then with them, so that a
# round's pair sees the same phase of a shared host. Prints each run and, per binary, the
# median wall time without and with decisions, the median of the rounds' ratios (the
# figure to quote: the host drifts more between rounds than within one) and peak RSS.
#
#   benches/e2e/decisions.sh N COUNT ROUNDS BIN [BIN...]
#
# The data set is DATA_DIR/N (as run.sh makes it). The decision file, COUNT approved
# decisions, is made once by mkdec.py from a run's CSV outputs (DATA_DIR/N-decisions-COUNT.csv).
set -euo pipefail
usage="usage: decisions.sh N COUNT ROUNDS BIN [BIN...]"
n=${1:?$usage}
count=${2:?$usage}
rounds=${3:?$usage}
shift 3
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=common.sh
. "$root/benches/e2e/common.sh"
absolute_bins decisions.sh "$@"
data_set "$root" "$n" "${bins[0]}"
dec=$set_dir-decisions-$count.csv
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ ! -f "$dec" ]; then
  "${bins[0]}" reconcile --instructions "$set_dir/instructions" \
    --settlements "$set_dir/settlements" --out "$out/csv" --csv --quiet || [ $? = 1 ]
  python3 "$root/benches/e2e/mkdec.py" "$out/csv" "$count" > "$dec.tmp"
  mv "$dec.tmp" "$dec"
  rm -rf "$out/csv"
fi

# one BIN LABEL [ARGS...]: a timed reconcile into a fresh folder; prints "wall peakMB".
one() {
  local b=$1
  shift
  rm -rf "$out/r"
  sync
  # Exit 1 means findings, not failure.
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$b" reconcile \
    --instructions "$set_dir/instructions" --settlements "$set_dir/settlements" \
    --out "$out/r" --quiet "$@" || [ $? = 1 ]
  awk '{printf "%s %d\n", $1, $2 / 1024}' "$out/time.txt"
}

# runs.txt: "binary without_s without_MB with_s with_MB" per round.
for r in $(seq "$rounds"); do
  for k in "${!bins[@]}"; do
    read -r w0 m0 <<< "$(one "${bins[$k]}")"
    read -r w1 m1 <<< "$(one "${bins[$k]}" --decisions "$dec")"
    echo "$k $w0 $m0 $w1 $m1" >> "$out/runs.txt"
    echo "round $r, binary $k: without ${w0} s ${m0} MB, with ${w1} s ${m1} MB"
  done
done

for k in "${!bins[@]}"; do
  col() { awk -v k="$k" -v c="$1" '$1==k {print $c}' "$out/runs.txt"; }
  # shellcheck disable=SC2046
  w0=$(median $(col 2))
  # shellcheck disable=SC2046
  w1=$(median $(col 4))
  # shellcheck disable=SC2046
  ratio=$(median $(awk -v k="$k" '$1==k {print $4 / $2}' "$out/runs.txt"))
  range() { col "$1" | sort -g | sed -n '1p;$p' | paste -sd- ; }
  printf 'binary %s (%s): without %s s (%s s, %s MB), with %s s (%s s, %s MB): %+.1f %% of the medians, per-round median %+.1f %%\n' \
    "$k" "${bins[$k]}" "$w0" "$(range 2)" "$(range 3)" "$w1" "$(range 4)" "$(range 5)" \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN {print (b / a - 1) * 100}')" \
    "$(awk -v r="$ratio" 'BEGIN {print (r - 1) * 100}')"
done
