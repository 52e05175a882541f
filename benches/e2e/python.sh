#!/usr/bin/env bash
# The Python package against the CLI on one month (issue 24's figures):
#   benches/e2e/python.sh DATA_DIR [RUNS]
# DATA_DIR holds instructions/ and settlements/ (e.g. `sverka generate --instructions
# 2000000 --format parquet`). Runs `sverka reconcile` and `sverka.reconcile` alternately,
# RUNS times each, warm caches, then `sverka.read_results` of the folder; prints each run's
# wall time and peak RSS (/usr/bin/time). Needs target/release/sverka and the package in
# target/py-venv (pip install ./python).
set -euo pipefail
D=$1; N=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/target/release/sverka
PY=$ROOT/target/py-venv/bin/python
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
for i in $(seq "$N"); do
  rm -rf "$OUT/cli" "$OUT/py"
  /usr/bin/time -f "cli    %e s %M KB" "$BIN" reconcile --instructions "$D/instructions" \
    --settlements "$D/settlements" --out "$OUT/cli" -q
  /usr/bin/time -f "python %e s %M KB" "$PY" -c 'import sys, sverka
sverka.reconcile(sys.argv[1], sys.argv[2], sys.argv[3])' "$D/instructions" "$D/settlements" "$OUT/py"
done
for f in instructions.parquet settlements.parquet rejects.parquet summary.json; do
  cmp "$OUT/cli/$f" "$OUT/py/$f"
done
for i in $(seq "$N"); do
  /usr/bin/time -f "read_results process %e s %M KB" "$PY" -c 'import sys, time, sverka
t = time.perf_counter(); r = sverka.read_results(sys.argv[1]); t = time.perf_counter() - t
c = time.perf_counter(); rc = sverka.read_results(sys.argv[1], categories=True); c = time.perf_counter() - c
print(f"read_results {t:.3f} s, categories {c:.3f} s: {r.instructions.num_rows} + {r.settlements.num_rows} + {r.rejects.num_rows} rows")' "$OUT/py"
done
