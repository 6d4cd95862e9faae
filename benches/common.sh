# Shared by the benchmark scripts (sourced, not run): the release build, the
# generated ~1M-event archive, the machine line, a timer and DuckDB.
#
# Sets: EPD (events per account, region and day), WORK, ARCHIVE, BIN,
# DUCK_PY, DUCK_VERSION; defines timed.
set -euo pipefail
export LC_NUMERIC=C
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/trailsql-target}"
EPD="${EPD:-5600}"
WORK="${BENCH_DIR:-/var/tmp/trailsql-bench}"
ARCHIVE="$WORK/archive-$EPD"
mkdir -p "$WORK"

# NO_BUILD=1 uses the release build as it is (a rerun of the figures).
[ -n "${NO_BUILD:-}" ] || cargo build --release --bins --benches -q
BIN="$CARGO_TARGET_DIR/release/trailsql"

# A 30-day sample archive with EVENTS_PER_DAY per account, region and day,
# made once in DIR.
make_archive() { # dir events_per_day
  if [ ! -f "$1/.complete" ]; then
    rm -rf "$1"
    "$BIN" sample "$1" --days 30 --events-per-day "$2"
    touch "$1/.complete"
  fi
}
make_archive "$ARCHIVE" "$EPD"

echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "archive: $ARCHIVE ($(du -sh "$ARCHIVE" | cut -f1) gz, $(find "$ARCHIVE" -name '*.json.gz' | wc -l) files)"

# timed LABEL COMMAND...: best wall time of $RUNS runs (default 3) and that
# run's peak RSS; the best time is left in $BEST.
# (LC_NUMERIC=C keeps EPOCHREALTIME's decimal point a point.)
# With PREP set, it is run (untimed) before each run. Output in $WORK/out.txt.
timed() {
  local label="$1"; shift
  local best="" rss=0
  for _ in $(seq "${RUNS:-3}"); do
    if [ -n "${PREP:-}" ]; then bash -c "$PREP"; fi
    local started=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; exit 1; }
    local ended=$EPOCHREALTIME
    # Wall time from bash's microsecond clock (/usr/bin/time's is to 10 ms).
    secs=$(awk "BEGIN{printf \"%.4f\", $ended - $started}")
    read -r kb < "$WORK/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; rss=$kb; fi
  done
  printf '%-52s %8.3f s  peak RSS %6d MB\n' "$label" "$best" $((rss / 1024))
  BEST=$best
}

if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q duckdb
fi
DUCK_PY="$WORK/venv/bin/python"
DUCK_VERSION=$("$DUCK_PY" -c 'import duckdb; print(duckdb.__version__)')
