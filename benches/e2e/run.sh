#!/usr/bin/env bash
# End-to-end figures for BENCHMARKS.md: generate a reference data set of N instructions
# (Parquet), run `sverka reconcile` RUNS times under /usr/bin/time -v, check the result
# against the ground truth with `sverka score`, and print median wall time and peak RSS.
#
#   benches/e2e/run.sh N [RUNS] [DATA_DIR]
set -euo pipefail
n=${1:?usage: run.sh N [RUNS] [DATA_DIR]}
runs=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${3:-$root/target/e2e-data}
bin=$root/target/release/sverka
(cd "$root" && cargo build --release -q -p sverka)
set_dir=$data/$n
if [ ! -d "$set_dir/truth" ]; then
  rm -rf "$set_dir"
  /usr/bin/time -f "generate $n: %e s wall, %M KB peak" "$bin" generate --instructions "$n" --out "$set_dir" --seed 42 --quiet
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
walls=(); rss=()
for i in $(seq "$runs"); do
  # A fresh output folder each run, as benches/compare/compare.sh gives every tool:
  # replacing the previous run's ~700 MB of outputs would add their deletion (~0.1 s).
  rm -rf "$out/r"
  # Let the file system finish deleting the previous run's outputs (and any other
  # pending writes) first: the run's own fsyncs would otherwise wait behind them.
  sync
  /usr/bin/time -v "$bin" reconcile --instructions "$set_dir/instructions" \
    --settlements "$set_dir/settlements" --out "$out/r" --quiet --timings 2> "$out/time.txt"
  w=$(grep "Elapsed (wall clock)" "$out/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  m=$(grep "Maximum resident set size" "$out/time.txt" | awk '{print $NF}')
  walls+=("$w"); rss+=("$m")
  echo "run $i: ${w} s, $((m / 1024)) MB; stages: $(grep 'sverka: timing' "$out/time.txt" | sed 's/sverka: timing //' | awk '{printf "%s=%s ", $(NF-2)=="" ? $1 : $1, $(NF-1)}')"
done
"$bin" score --truth "$set_dir/truth" --results "$out/r" | head -1
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "reconcile $n instructions x $(( $(grep -c . /dev/null) )) : median wall $(median "${walls[@]}") s, median peak RSS $(( $(median "${rss[@]}" | cut -d. -f1) / 1024 )) MB over $runs runs"
