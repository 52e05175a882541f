#!/usr/bin/env bash
# End-to-end figures for BENCHMARKS.md "openIMIS fill": a generated month of N instructions
# (seed 42, CSV) reconciled, its instructions written as openIMIS's payroll download (the
# 11 columns, Code = instruction_id, Status ACCEPTED, Amount as instructed; a repeated id
# kept once), then `sverka openimis fill` timed RUNS times under /usr/bin/time -v. Prints
# each run's wall time and peak RSS, their median and range, and checks that every row of
# the download is filled or listed. Data (about 0.5 GB at 1M) is kept in DATA_DIR.
#
#   benches/e2e/openimis.sh N [RUNS] [DATA_DIR]
set -euo pipefail
n=${1:?usage: openimis.sh N [RUNS] [DATA_DIR]}
runs=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${3:-$root/target/e2e-data}/openimis-$n
bin=$root/target/release/sverka
source "$root/benches/e2e/common.sh"
# SVERKA_BENCH_NO_BUILD=1 uses the binary as built.
if [ -z "${SVERKA_BENCH_NO_BUILD:-}" ]; then
  (cd "$root" && cargo build --release -q -p sverka)
fi
if [ ! -f "$data/download.csv" ]; then
  rm -rf "$data"
  mkdir -p "$data"
  "$bin" generate --instructions "$n" --seed 42 --format csv --out "$data/ref" --quiet
  "$bin" reconcile --instructions "$data/ref/instructions" --settlements "$data/ref/settlements" \
    --out "$data/results" --quiet --no-report
  # openIMIS's download as pandas writes it (minimal quoting, LF).
  python3 - "$data/ref/instructions" "$data/download.csv.part" <<'PY'
import csv, glob, sys
src, dest = sys.argv[1], sys.argv[2]
seen = set()
with open(dest, "w", newline="", encoding="utf-8") as out:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Payroll Name", "Payroll Status", "First Name", "Last Name", "Date of Birth",
                "Code", "Status", "Amount", "Type", "Receipt", "Paid"])
    for path in sorted(glob.glob(src + "/*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                code = r["instruction_id"]
                if code in seen:
                    continue
                seen.add(code)
                w.writerow(["November 2026", "APPROVE_FOR_PAYMENT", "First", r["beneficiary_id"],
                            "1980-01-01", code, "ACCEPTED", r["amount"], "Cash Transfer", "", ""])
PY
  mv "$data/download.csv.part" "$data/download.csv"
fi
rows=$(($(wc -l < "$data/download.csv") - 1))
echo "download: $data/download.csv ($(du -h "$data/download.csv" | cut -f1), $rows rows)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
walls=(); rss=()
for i in $(seq "$runs"); do
  rm -f "$out/upload.csv" "$out/not-paid.csv"
  sync
  /usr/bin/time -v "$bin" openimis fill --download "$data/download.csv" --results "$data/results" \
    --out "$out/upload.csv" 2> "$out/time.txt"
  w=$(wall_s "$out/time.txt")
  m=$(time_field "Maximum resident set size" "$out/time.txt")
  walls+=("$w"); rss+=("$m")
  echo "run $i: ${w} s, $((m / 1024)) MB"
done
# Every row filled or listed, and the upload has as many lines as the download.
line=$(grep '^sverka openimis fill: [0-9]* rows' "$out/time.txt")
filled=$(echo "$line" | sed -E 's/.* rows: ([0-9]+) marked paid.*/\1/')
left=$(echo "$line" | sed -E 's/.*, ([0-9]+) left as they were.*/\1/')
listed=$(($(wc -l < "$out/not-paid.csv") - 1))
echo "$line"
if [ "$((filled + left))" != "$rows" ] || [ "$left" != "$listed" ] ||
  [ "$(wc -l < "$out/upload.csv")" != "$(wc -l < "$data/download.csv")" ]; then
  echo "counts disagree: $rows rows, $filled filled, $left left, $listed listed" >&2
  exit 1
fi
sorted_w=$(printf '%s\n' "${walls[@]}" | sort -g | tr '\n' ' ')
sorted_m=$(printf '%s\n' "${rss[@]}" | sort -g | tr '\n' ' ')
echo "openimis fill $rows rows, $runs runs: median $(median "${walls[@]}") s (range ${sorted_w% }), peak RSS median $(( $(median "${rss[@]}" | cut -d. -f1) / 1024 )) MB (KB: ${sorted_m% })"
