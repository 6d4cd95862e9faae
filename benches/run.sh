#!/usr/bin/env bash
# Prints the figures of benches/README.md: decode throughput per core, and one
# full-scan question over a generated archive of ~1M events answered by
# trailsql, by DuckDB (read_json + unnest(Records)) and the decompress-only
# floor, with peak memory. Installs DuckDB from PyPI into a venv of its own.
#
#   benches/run.sh [EVENTS_PER_DAY]     (default 5600: ~1.0M events in 30 days)
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench), kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/trailsql-target}"
EPD="${1:-5600}"
WORK="${BENCH_DIR:-/var/tmp/trailsql-bench}"
ARCHIVE="$WORK/archive-$EPD"
SMALL="$WORK/archive-$((EPD / 4))"
mkdir -p "$WORK"

cargo build --release --bins --benches -q
BIN="$CARGO_TARGET_DIR/release/trailsql"
BENCH=$(ls -t "$CARGO_TARGET_DIR"/release/deps/throughput-* | grep -v '\.d$' | head -1)

for dir_epd in "$ARCHIVE:$EPD" "$SMALL:$((EPD / 4))"; do
  d="${dir_epd%%:*}"; e="${dir_epd##*:}"
  if [ ! -f "$d/.complete" ]; then
    rm -rf "$d"
    "$BIN" sample "$d" --days 30 --events-per-day "$e"
    touch "$d/.complete"
  fi
done

echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "archive: $ARCHIVE ($(du -sh "$ARCHIVE" | cut -f1) gz, $(find "$ARCHIVE" -name '*.json.gz' | wc -l) files)"

echo "== decode throughput, one core"
"$BENCH" "$ARCHIVE"

timed() { # label, command...: best wall time of 3 and peak RSS
  local label="$1"; shift
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; exit 1; }
    read -r secs kb < "$WORK/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; rss=$kb; fi
  done
  printf '%-44s %7.2f s  peak RSS %6d MB\n' "$label" "$best" $((rss / 1024))
}

if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q duckdb
fi
DUCK_VERSION=$("$WORK/venv/bin/python" -c 'import duckdb; print(duckdb.__version__)')
cat > "$WORK/duck.py" <<'PY'
import sys, duckdb
archive, question = sys.argv[1], sys.argv[2]
records = f"""(SELECT unnest(Records) AS r
  FROM read_json('{archive}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz', maximum_object_size = 268435456))"""
sql = {
    "names": f"""SELECT r.eventName AS eventname, count(*) AS n FROM {records}
      GROUP BY 1 ORDER BY n DESC, eventname LIMIT 5""",
    "callers": f"""SELECT coalesce(r.userIdentity.arn, '-') AS arn, r.errorCode AS errorcode, count(*) AS n
      FROM {records} WHERE r.errorCode IS NOT NULL
      GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 5""",
}[question]
con = duckdb.connect()
con.execute("SET threads = 2")
cur = con.execute(sql)
print(",".join(d[0] for d in cur.description))
for row in cur.fetchall():
    print(",".join(str(v) for v in row))
PY

# Two questions: one column, and a nested struct field plus a filter.
declare -A QUESTION=(
  [names]="SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY eventname ORDER BY n DESC, eventname LIMIT 5"
  [callers]="SELECT coalesce(useridentity.arn, '-') AS arn, errorcode, count(*) AS n FROM cloudtrail WHERE errorcode IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 5"
)
timed "decompress only (gzip -dc, 2 processes)" \
  bash -c "find '$ARCHIVE' -name '*.json.gz' -print0 | xargs -0 -P 2 -n 500 gzip -dc > /dev/null"
events=$("$BIN" --source "$ARCHIVE" --format csv -e "SELECT count(*) FROM cloudtrail" | tail -1)
echo "events: $events"
for q in names callers; do
  echo "== full scan: ${QUESTION[$q]}"
  timed "trailsql (1M-event archive)" "$BIN" --source "$ARCHIVE" --format csv -e "${QUESTION[$q]}"
  cp "$WORK/out.txt" "$WORK/trailsql-answer.txt"
  timed "trailsql (quarter-size archive)" "$BIN" --source "$SMALL" --format csv -e "${QUESTION[$q]}"
  timed "duckdb $DUCK_VERSION read_json + unnest(Records)" "$WORK/venv/bin/python" "$WORK/duck.py" "$ARCHIVE" "$q"
  if diff -q "$WORK/out.txt" "$WORK/trailsql-answer.txt" > /dev/null; then
    echo "answers: identical"
  else
    echo "answers DIFFER:"; diff "$WORK/out.txt" "$WORK/trailsql-answer.txt" || true
  fi
done
