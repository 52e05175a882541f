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
# on the reference VM a run right after a build, with the cache full, took 7.28 s
# instead of 6.93 s (BENCHMARKS.md, session 13).
set -euo pipefail
usage="usage: ab.sh N RUNS BIN_A BIN_B [BIN...]"
n=${1:?$usage}
runs=${2:?$usage}
shift 2
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
bins=()
for b in "$@"; do
  [ -x "$b" ] || { echo "ab.sh: $b is not an executable" >&2; exit 2; }
  bins+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")")
done
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=common.sh
. "$root/benches/e2e/common.sh"
data=${DATA_DIR:-$root/target/e2e-data}
set_dir=$data/$n
if [ ! -d "$set_dir/truth" ]; then
  rm -rf "$set_dir"
  "${bins[0]}" generate --instructions "$n" --out "$set_dir" --seed 42 --quiet
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for r in $(seq "$runs"); do
  for k in "${!bins[@]}"; do
    b=${bins[$k]}
    rm -rf "$out/r$k"
    timed_reconcile "$b" "$set_dir" "$out/r$k" "$out/time.txt"
    w=$(wall_s "$out/time.txt")
    m=$(( $(time_field "Maximum resident set size" "$out/time.txt") / 1024 ))
    u=$(time_field "User time" "$out/time.txt")
    s=$(time_field "System time" "$out/time.txt")
    f=$(time_field "Minor (reclaiming a frame)" "$out/time.txt")
    laps=$(laps "$out/time.txt")
    echo "$k $w $m $u $s $f $laps" >> "$out/runs.txt"
    echo "run $r, binary $k: wall ${w} s, peak ${m} MB, user ${u} s, sys ${s} s, faults ${f} | ${laps}"
  done
done

echo
for k in "${!bins[@]}"; do
  col() { awk -v k="$k" -v c="$1" '$1==k {print $c}' "$out/runs.txt"; }
  # shellcheck disable=SC2046
  echo "binary $k (${bins[$k]}): median wall $(median $(col 2)) s, peak $(median $(col 3)) MB, user $(median $(col 4)) s, sys $(median $(col 5)) s, faults $(median $(col 6))"
  laps=$(awk -v k="$k" '$1==k {for (i=7; i<=NF; i++) print $i}' "$out/runs.txt" | cut -d= -f1 | awk '!seen[$0]++')
  line="  laps:"
  for lap in $laps; do
    # shellcheck disable=SC2046
    line+=" $lap=$(median $(awk -v k="$k" -v l="$lap" '$1==k {for (i=7; i<=NF; i++) { split($i, p, "="); if (p[1]==l) print p[2] }}' "$out/runs.txt"))"
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
