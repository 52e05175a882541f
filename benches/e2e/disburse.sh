#!/usr/bin/env bash
# End-to-end figures for BENCHMARKS.md: `sverka disburse` on a synthetic payroll of N rows
# (CSV, from disburse/examples/gen_payroll.rs: four providers, two CSV and two pain.001),
# RUNS times under /usr/bin/time -v, each with a fresh ledger and output folder; prints
# median wall time and peak RSS, checks the counts, and validates one pain.001 file of the
# last run against the official XSD (not timed) when xmllint and the XSD are available.
#
#   benches/e2e/disburse.sh N [RUNS] [DATA_DIR]
set -euo pipefail
n=${1:?usage: disburse.sh N [RUNS] [DATA_DIR]}
runs=${2:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${3:-$root/target/e2e-data}
bin=$root/target/release/sverka
# SVERKA_BENCH_NO_BUILD=1 uses the binaries as built.
if [ -z "${SVERKA_BENCH_NO_BUILD:-}" ]; then
  (cd "$root" && cargo build --release -q -p sverka && cargo build --release -q -p sverka-disburse --example gen_payroll)
fi
payroll=$data/payroll-$n.csv
mkdir -p "$data"
if [ ! -f "$payroll" ]; then
  /usr/bin/time -f "gen_payroll $n: %e s wall, %M KB peak" "$root/target/release/examples/gen_payroll" "$n" "$payroll"
fi
echo "payroll: $payroll ($(du -h "$payroll" | cut -f1))"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
stages() { grep 'sverka: timing' "$1" | sed -E 's/sverka: timing +//; s/ +([0-9.]+) s$/=\1/; s/ /_/g' | tr '\n' ' '; }
walls=(); rss=()
for i in $(seq "$runs"); do
  rm -rf "$out/d" "$out/ledger.db"
  /usr/bin/time -v "$bin" disburse --payroll "$payroll" --providers "$root/schemas/providers.example.toml" \
    --out "$out/d" --ledger "$out/ledger.db" --execution-date 2026-11-04 --max-batch-rows 100000 \
    --json --timings > "$out/summary.json" 2> "$out/time.txt"
  w=$(grep "Elapsed (wall clock)" "$out/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  m=$(grep "Maximum resident set size" "$out/time.txt" | awk '{print $NF}')
  walls+=("$w"); rss+=("$m")
  echo "run $i: ${w} s, $((m / 1024)) MB; stages: $(stages "$out/time.txt")"
done
python3 - "$out/summary.json" "$n" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); c = s["counts"]; n = int(sys.argv[2])
assert c["payroll_in"] == n, c
assert c["issued"] + c["held"] + c["rejected"] == n, c
print(f"checked: {c['issued']} issued in {c['payment_files']} files, {c['held']} held, {c['rejected']} rejected")
PY
echo "outputs: $(du -sh "$out/d" | cut -f1), ledger $(du -h "$out/ledger.db" | cut -f1)"
xsd=$(ls "$root"/target/xsd-venv/lib/*/site-packages/sepaxml/schemas/pain.001.001.09.xsd 2>/dev/null | head -1 || true)
xml=$(ls "$out"/d/*.xml | head -1)
if [ -n "$xsd" ] && command -v xmllint > /dev/null; then
  xmllint --noout --schema "$xsd" "$xml"
else
  echo "XSD check skipped (run .ci/run once, or install libxml2-utils and sepaxml)"
fi
# The same payroll again against the full ledger (every row looked up, all already issued).
/usr/bin/time -v "$bin" disburse --payroll "$payroll" --providers "$root/schemas/providers.example.toml" \
  --out "$out/d2" --ledger "$out/ledger.db" --execution-date 2026-11-04 --max-batch-rows 100000 \
  --quiet --timings 2> "$out/time2.txt"
echo "re-run against the full ledger (nothing issued): $(grep "Elapsed (wall clock)" "$out/time2.txt" | awk '{print $NF}') wall, $(( $(grep "Maximum resident set size" "$out/time2.txt" | awk '{print $NF}') / 1024 )) MB; stages: $(stages "$out/time2.txt")"
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "disburse $n payroll rows: median wall $(median "${walls[@]}") s, median peak RSS $(( $(median "${rss[@]}" | cut -d. -f1) / 1024 )) MB over $runs runs"
