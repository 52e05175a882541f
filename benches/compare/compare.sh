#!/usr/bin/env bash
# Compare `sverka reconcile` with the same contract written in DuckDB SQL and in Polars:
# same generated data set, RUNS timed runs each, then a key-by-key agreement check.
#
#   benches/compare/compare.sh N [RUNS]      N instructions (sverka generate --seed 42), RUNS default 3
#   benches/compare/compare.sh tiny [RUNS]   the hand-made data set of make_tiny.py, checked
#                                            strictly against its hand-written answers
#
# See benches/compare/README.md.
set -euo pipefail

die() { echo "compare.sh: error: $*" >&2; exit 2; }
say() { echo "==> $*"; }

usage="usage: $0 N|tiny [RUNS]"
[[ $# -ge 1 && $# -le 2 ]] || die "$usage"
N=$1
RUNS=${2:-3}
[[ $N == tiny || $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer or 'tiny' ($usage)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer ($usage)"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=$HERE/.venv
PY=$VENV/bin/python
TIME=/usr/bin/time
SVERKA=$ROOT/target/release/sverka

[[ -x $TIME ]] || die "$TIME not found (GNU time is needed for peak memory; apt-get install time)"
command -v python3 >/dev/null || die "python3 not found"

# ---- (a) Python environment -------------------------------------------------------------
if [[ -x $PY ]] && "$PY" -c 'import duckdb, polars, pyarrow' 2>/dev/null; then
    say "venv $VENV ready"
else
    say "creating venv $VENV and installing duckdb, polars, pyarrow"
    [[ -x $PY ]] || python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb polars pyarrow \
        || die "pip install duckdb polars pyarrow failed (PyPI unreachable?)"
    "$PY" -c 'import duckdb, polars, pyarrow' || die "venv still cannot import duckdb/polars/pyarrow"
fi
"$PY" -c 'import duckdb, polars, pyarrow; print("    duckdb", duckdb.__version__, "| polars", polars.__version__, "| pyarrow", pyarrow.__version__)'

# ---- (b) sverka and the data set --------------------------------------------------------
have_sverka=1
if [[ $N == tiny ]]; then
    # sverka is optional here, and not rebuilt: used when the built binary can reconcile.
    if [[ -x $SVERKA ]] && "$SVERKA" --help 2>/dev/null | grep -qw reconcile; then
        say "using $SVERKA as built (tiny mode does not rebuild it)"
    else
        say "sverka cannot reconcile yet: checking DuckDB and Polars against the hand-written answers only"
        have_sverka=0
    fi
    DATA=$HERE/data/tiny
    rm -rf "$DATA"
    "$PY" "$HERE/make_tiny.py" "$DATA"
else
    say "building sverka (cargo build --release -p sverka)"
    (cd "$ROOT" && cargo build --release -p sverka) || die "cargo build --release -p sverka failed"
    [[ -x $SVERKA ]] || die "$SVERKA was not built"
    help=$("$SVERKA" --help 2>&1) || true
    for sub in generate reconcile; do
        grep -qw "$sub" <<<"$help" || die "$SVERKA has no '$sub' subcommand yet (see '$SVERKA --help')"
    done
    DATA=$HERE/data/$N
    if [[ -d $DATA/instructions && -d $DATA/settlements ]]; then
        say "data set $DATA exists"
    else
        say "generating $N instructions into $DATA (seed 42)"
        rm -rf "$DATA" "$DATA.partial"
        mkdir -p "$HERE/data"
        "$SVERKA" generate --instructions "$N" --out "$DATA.partial" --seed 42 \
            || { rm -rf "$DATA.partial"; die "sverka generate failed"; }
        [[ -d $DATA.partial/instructions && -d $DATA.partial/settlements ]] \
            || die "sverka generate did not write $DATA.partial/instructions and settlements"
        mv "$DATA.partial" "$DATA"
    fi
fi

# ---- (c) timed runs ---------------------------------------------------------------------
RES=$HERE/data/results-$N
rm -rf "$RES"
mkdir -p "$RES/times" "$RES/logs"
tools=()
[[ $have_sverka == 1 ]] && tools+=(sverka)
tools+=(duckdb polars)

run_tool() {  # tool run -> runs it once under /usr/bin/time -v into $RES/<tool>
    local tool=$1 run=$2 out=$RES/$1
    local -a cmd
    case $tool in
        sverka) cmd=("$SVERKA" reconcile) ;;
        duckdb) cmd=("$PY" "$HERE/duckdb_reconcile.py") ;;
        polars) cmd=("$PY" "$HERE/reconcile_polars.py") ;;
    esac
    cmd+=(--instructions "$DATA/instructions" --settlements "$DATA/settlements" --out "$out")
    rm -rf "$out"
    # Every tool starts with the file system idle: no deletion or writeback left over
    # from the previous tool's outputs for its own writes to wait behind.
    sync
    local log=$RES/logs/$tool.$run.log
    local rc=0
    "$TIME" -v -o "$RES/times/$tool.$run.time" "${cmd[@]}" >"$log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "---- last lines of $log:" >&2
        tail -n 20 "$log" >&2
        die "$tool run $run failed with exit status $rc: ${cmd[*]}"
    fi
    local wall
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$RES/times/$tool.$run.time")
    printf '    %-7s run %d/%d  %s\n' "$tool" "$run" "$RUNS" "$wall"
}

say "running ${tools[*]} $RUNS time(s) each on $DATA"
for ((r = 1; r <= RUNS; r++)); do
    for t in "${tools[@]}"; do run_tool "$t" "$r"; done
done

# ---- (d) agreement ----------------------------------------------------------------------
say "checking agreement (agree.py)"
specs=()
truth=()
if [[ $N == tiny ]]; then
    specs+=("answers=$DATA/truth")           # hand-written: the reference, strictly
elif [[ -d $DATA/truth ]]; then
    truth=(--truth "$DATA/truth")            # generator's truth: informational
fi
for t in "${tools[@]}"; do specs+=("$t=$RES/$t"); done
agree_rc=0
"$PY" "$HERE/agree.py" "${truth[@]}" "${specs[@]}" || agree_rc=$?

# ---- (e) table ----------------------------------------------------------------------------
echo
say "N=$N, $RUNS run(s) each, $(nproc) CPU(s); ratios are tool / ${tools[0]}"
"$PY" "$HERE/timings.py" "$RES/times" "${tools[@]}"
echo

if [[ $agree_rc -ne 0 ]]; then
    echo "compare.sh: the tools DISAGREE (see above); results in $RES" >&2
    exit 1
fi
say "all agree; results in $RES"
