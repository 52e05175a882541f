#!/usr/bin/env bash
# End-to-end figures for BENCHMARKS.md: generate a reference data set of N instructions
# (Parquet), run `sverka reconcile` RUNS times under /usr/bin/time -v, check the result
# against the ground truth with `sverka score`, and print median wall time and peak RSS.
#
#   benches/e2e/run.sh N [RUNS] [DATA_DIR]
#
# With DROP_CACHES=1 (root only) each run follows a drop of the page cache, as the figures
# in BENCHMARKS.md are taken: a full cache slows page faults on the reference VM. To
# compare two builds, see ab.sh.
set -euo pipefail
n=${1:?usage: run.sh N [RUNS] [DATA_DIR]}
runs=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=common.sh
. "$root/benches/e2e/common.sh"
data=${3:-$root/target/e2e-data}
bin=$root/target/release/sverka
(cd "$root" && cargo build --release -q -p sverka)
set_dir=$data/$n
ensure_data "$bin" "$set_dir" "$n"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
walls=(); rss=()
for i in $(seq "$runs"); do
  timed_reconcile "$bin" "$set_dir" "$out/r" "$out/time.txt"
  w=$(wall_s "$out/time.txt")
  m=$(time_field "Maximum resident set size" "$out/time.txt")
  walls+=("$w"); rss+=("$m")
  echo "run $i: ${w} s, $((m / 1024)) MB; stages: $(laps "$out/time.txt")"
done
"$bin" score --truth "$set_dir/truth" --results "$out/r" | head -1
echo "reconcile of $n instructions: median wall $(median "${walls[@]}") s, median peak RSS $(( $(median "${rss[@]}" | cut -d. -f1) / 1024 )) MB over $runs runs"
