# Shared by run.sh and ab.sh (sourced, not run).

# ensure_data BIN SET_DIR N: generates the reference data set of N instructions (seed 42)
# into SET_DIR with BIN unless it is already there, complete with its truth.
ensure_data() {
  if [ ! -d "$2/truth" ]; then
    rm -rf "$2"
    mkdir -p "$(dirname "$2")"
    /usr/bin/time -f "generate $3: %e s wall, %M KB peak" "$1" generate --instructions "$3" \
      --out "$2" --seed 42 --quiet
  fi
}

# absolute_bins SCRIPT BIN...: sets the array `bins` to the binaries' absolute paths; one
# that is not an executable stops the script (exit 2).
absolute_bins() {
  local script=$1 b
  shift
  bins=()
  for b in "$@"; do
    [ -x "$b" ] || { echo "$script: $b is not an executable" >&2; exit 2; }
    bins+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")")
  done
}

# data_set ROOT N BIN: sets `set_dir` to the reference data set of N instructions
# (DATA_DIR/N, by default ROOT/target/e2e-data/N), generated with BIN when missing.
data_set() {
  set_dir=${DATA_DIR:-$1/target/e2e-data}/$2
  ensure_data "$3" "$set_dir" "$2"
}

# One timed reconcile: BIN SET_DIR OUT_DIR TIME_FILE. OUT_DIR is removed first: a fresh
# folder each run, as benches/compare/compare.sh gives every tool (replacing the previous
# run's ~700 MB of outputs would add their deletion, ~0.1 s). Pending writes, that
# deletion among them, are flushed first, since the run's own fsyncs would wait behind
# them; with DROP_CACHES=1 (root) the page cache is dropped too, as a full cache slows
# page faults on the reference VM.
timed_reconcile() {
  rm -rf "$3"
  sync
  if [ "${DROP_CACHES:-0}" = 1 ]; then
    echo 3 > /proc/sys/vm/drop_caches
    sleep 1
  fi
  if ! /usr/bin/time -v "$1" reconcile --instructions "$2/instructions" \
    --settlements "$2/settlements" --out "$3" --quiet --timings 2> "$4"; then
    echo "$1 reconcile failed:" >&2
    grep -v $'^\t' "$4" | grep -v 'sverka: timing' >&2
    return 1
  fi
}

# time_field NAME TIME_FILE: the value `/usr/bin/time -v` printed for NAME.
time_field() { grep "$1" "$2" | awk '{print $NF}'; }

# wall_s TIME_FILE: the wall time in seconds.
wall_s() {
  time_field "Elapsed (wall clock)" "$1" |
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'
}

# laps TIME_FILE: the stage laps of `--timings`, as name=seconds.
laps() { grep 'sverka: timing' "$1" | grep -v ' start ' | awk '{printf "%s=%s ", $3, $(NF-1)}'; }

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
