#!/usr/bin/env bash
# Before/after figures for a change: runs two or more `sverka` binaries on the same
# reference data set, alternating (A B A B ...) so that both see the same phases of a
# shared host, and prints each run and each binary's medians: wall time, peak RSS, user
# and system CPU, page faults and the stage laps of `--timings`. At the end it checks
# that every binary wrote the same six output files, byte for byte (an optimisation must
# not change the outputs), and that the first binary's result agrees with the truth.
#
#   benches/e2e/ab.sh N RUNS BIN_A BIN_B [BIN...]
#
# The data set is DATA_DIR/N (default target/e2e-data/N, as run.sh makes it; generated
# with the first binary when missing). Copy the "before" binary aside first, e.g.
#   cp target/release/sverka /tmp/sverka-before; (make the change, build)
#   benches/e2e/ab.sh 10000000 4 /tmp/sverka-before target/release/sverka
# With DROP_CACHES=1 (root only) each run follows `sync` and a drop of the page cache:
# on the reference VM a full page cache slows page faults (BENCHMARKS.md, "The machine").
set -euo pipefail
usage="usage: ab.sh N RUNS BIN_A BIN_B [BIN...]"
n=${1:?$usage}
runs=${2:?$usage}
shift 2
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=common.sh
. "$root/benches/e2e/common.sh"
absolute_bins ab.sh "$@"
data_set "$root" "$n" "${bins[0]}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# runs.txt: one line per run, "binary wall peak user sys faults"; laps.txt: one line per
# run and stage, "binary stage seconds".
for r in $(seq "$runs"); do
  for k in "${!bins[@]}"; do
    timed_reconcile "${bins[$k]}" "$set_dir" "$out/r$k" "$out/time.txt"
    w=$(wall_s "$out/time.txt")
    m=$(( $(time_field "Maximum resident set size" "$out/time.txt") / 1024 ))
    u=$(time_field "User time" "$out/time.txt")
    s=$(time_field "System time" "$out/time.txt")
    f=$(time_field "Minor (reclaiming a frame)" "$out/time.txt")
    laps=$(laps "$out/time.txt")
    echo "$k $w $m $u $s $f" >> "$out/runs.txt"
    for lap in $laps; do
      echo "$k ${lap%%=*} ${lap#*=}" >> "$out/laps.txt"
    done
    echo "run $r, binary $k: wall ${w} s, peak ${m} MB, user ${u} s, sys ${s} s, faults ${f} | ${laps}"
  done
done

# of K COLUMN [STAGE]: binary K's values in runs.txt's COLUMN, or of STAGE in laps.txt.
of() {
  if [ $# = 2 ]; then
    awk -v k="$1" -v c="$2" '$1==k {print $c}' "$out/runs.txt"
  else
    awk -v k="$1" -v l="$3" '$1==k && $2==l {print $3}' "$out/laps.txt"
  fi
}
echo
for k in "${!bins[@]}"; do
  # shellcheck disable=SC2046
  echo "binary $k (${bins[$k]}): median wall $(median $(of "$k" 2)) s, peak $(median $(of "$k" 3)) MB, user $(median $(of "$k" 4)) s, sys $(median $(of "$k" 5)) s, faults $(median $(of "$k" 6))"
  line="  laps:"
  for lap in $(awk -v k="$k" '$1==k && !seen[$2]++ {print $2}' "$out/laps.txt"); do
    # shellcheck disable=SC2046
    line+=" $lap=$(median $(of "$k" - "$lap"))"
  done
  echo "$line"
done

echo
same=1
for k in "${!bins[@]}"; do
  [ "$k" = 0 ] && continue
  for f in instructions.parquet settlements.parquet rejects.parquet summary.json report.html manifest.json; do
    if ! cmp -s "$out/r0/$f" "$out/r$k/$f"; then
      echo "binary $k: $f differs from binary 0's"
      same=0
    fi
  done
done
[ "$same" = 1 ] && echo "outputs: byte-identical across the binaries"
"${bins[0]}" score --truth "$set_dir/truth" --results "$out/r0" | head -1
