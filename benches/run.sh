#!/usr/bin/env bash
# Prints the figures of benches/README.md: decode throughput per core, and one
# full-scan question over a generated archive of ~1M events answered by
# trailsql, by DuckDB (read_json + unnest(Records)) and the decompress-only
# floor, with peak memory. Installs DuckDB from PyPI into a venv of its own.
#
#   benches/run.sh [EVENTS_PER_DAY]     (default 5600: ~1.0M events in 30 days)
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench), kept between runs.
EPD="${1:-5600}"
source "$(dirname "$0")/common.sh"
SMALL="$WORK/archive-$((EPD / 4))"
make_archive "$SMALL" $((EPD / 4))
BENCH=$(ls -t "$CARGO_TARGET_DIR"/release/deps/throughput-* | grep -v '\.d$' | head -1)

echo "== decode throughput, one core"
"$BENCH" "$ARCHIVE"

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
  timed "duckdb $DUCK_VERSION read_json + unnest(Records)" "$DUCK_PY" "$WORK/duck.py" "$ARCHIVE" "$q"
  if diff -q "$WORK/out.txt" "$WORK/trailsql-answer.txt" > /dev/null; then
    echo "answers: identical"
  else
    echo "answers DIFFER:"; diff "$WORK/out.txt" "$WORK/trailsql-answer.txt" || true
  fi
done
