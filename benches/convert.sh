#!/usr/bin/env bash
# Prints the Parquet figures of benches/README.md (issue 4): converting the
# ~1M-event archive with trailsql and with DuckDB (COPY ... PARTITION_BY),
# against the decompress-only floor, with peak memory; then a point lookup
# and an aggregate on the raw JSON (trailsql), on trailsql's Parquet
# (trailsql) and on the same Parquet files (DuckDB), checking the answers
# agree; for the aggregate also the floor: arrow-rs's reader alone.
#
#   benches/convert.sh [EVENTS_PER_DAY]     (default 5600: ~1.0M events in 30 days)
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench), kept between runs.
EPD="${1:-5600}"
source "$(dirname "$0")/common.sh"
PQ="$WORK/parquet-$EPD"
DUCK_PQ="$WORK/duck-parquet-$EPD"

cat > "$WORK/duck_convert.py" <<'PY'
import sys, duckdb
archive, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET TimeZone = 'UTC'")
con.execute(f"""COPY (
  SELECT unnest(r), r.recipientAccountId AS account, r.awsRegion AS region,
         strftime(CAST(r.eventTime AS TIMESTAMP), '%Y-%m-%d') AS date
  FROM (SELECT unnest(Records) AS r
        FROM read_json('{archive}/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz',
                       maximum_object_size = 268435456))
) TO '{out}' (FORMAT parquet, PARTITION_BY (account, region, date), COMPRESSION zstd)""")
PY

cat > "$WORK/duck_query.py" <<'PY'
import sys, time, duckdb
pq, question = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET TimeZone = 'UTC'")
con.execute(f"CREATE VIEW cloudtrail AS SELECT * FROM read_parquet('{pq}/**/*.parquet')")
sql = {
    "lookup": """SELECT useridentity.arn AS arn, sourceipaddress, coalesce(errorcode, '') AS errorcode
      FROM cloudtrail WHERE eventname = 'DeleteTable' AND requestparameters LIKE '%prod-orders%'
      ORDER BY eventtime""",
    "callers": """SELECT coalesce(useridentity.arn, '-') AS arn, errorcode, count(*) AS n FROM cloudtrail
      WHERE errorcode IS NOT NULL AND eventtime >= TIMESTAMPTZ '2025-10-01 00:00:00+00'
        AND eventtime < TIMESTAMPTZ '2025-10-31 00:00:00+00'
      GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 10""",
}[question]
best = None
for _ in range(runs):
    started = time.perf_counter()
    rows = con.execute(sql).fetchall()
    took = time.perf_counter() - started
    best = took if best is None else min(best, took)
print("\n".join(",".join(str(v) for v in row) for row in rows))
print(f"in-process {best:.3f}", file=sys.stderr)
PY

echo "== conversion"
timed "decompress only (gzip -dc, 2 processes)" \
  bash -c "find '$ARCHIVE' -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 -P 2 -n 500 gzip -dc > /dev/null"
PREP="rm -rf '$PQ'" timed "trailsql convert" "$BIN" convert "$ARCHIVE" "$PQ"
cat "$WORK/err.txt"
PREP="rm -rf '$DUCK_PQ'" timed "duckdb $DUCK_VERSION COPY ... PARTITION_BY" "$DUCK_PY" "$WORK/duck_convert.py" "$ARCHIVE" "$DUCK_PQ"
echo "trailsql Parquet: $(du -sh "$PQ" | cut -f1) in $(find "$PQ" -name '*.parquet' | wc -l) files;" \
  "DuckDB's: $(du -sh "$DUCK_PQ" | cut -f1) in $(find "$DUCK_PQ" -name '*.parquet' | wc -l) files"
timed "trailsql convert again, nothing new" "$BIN" convert "$ARCHIVE" "$PQ"

declare -A QUESTION=(
  [lookup]="SELECT useridentity.arn AS arn, sourceipaddress, coalesce(errorcode, '') AS errorcode FROM cloudtrail WHERE eventname = 'DeleteTable' AND requestparameters LIKE '%prod-orders%' ORDER BY eventtime"
  [callers]="SELECT coalesce(useridentity.arn, '-') AS arn, errorcode, count(*) AS n FROM cloudtrail WHERE errorcode IS NOT NULL AND eventtime >= '2025-10-01T00:00:00Z' AND eventtime < '2025-10-31T00:00:00Z' GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 10"
)
for q in lookup callers; do
  echo "== ${QUESTION[$q]}"
  timed "trailsql on the raw JSON" "$BIN" --source "$ARCHIVE" --format csv -e "${QUESTION[$q]}"
  tail -n +2 "$WORK/out.txt" > "$WORK/raw-answer.txt"
  RUNS=10 timed "trailsql on its Parquet" "$BIN" --source "$PQ" --format csv -e "${QUESTION[$q]}"
  tail -n +2 "$WORK/out.txt" > "$WORK/pq-answer.txt"
  # The query again in a warm session (footers cached): 11 runs in one
  # process less one run in one, over 10.
  one=$(RUNS=10 timed x "$BIN" --source "$PQ" --format csv -e "${QUESTION[$q]}" | awk '{print $2}')
  again=()
  for _ in $(seq 11); do again+=(-e "${QUESTION[$q]}"); done
  eleven=$(RUNS=5 timed x "$BIN" --source "$PQ" --format csv "${again[@]}" | awk '{print $2}')
  echo "  trailsql, the query again in one session: $(awk "BEGIN{printf \"%.3f\", ($eleven - $one) / 10}") s"
  if [ "$q" = callers ]; then
    # The floor: the same answer from arrow-rs's Parquet reader alone, no
    # SQL engine (benches/parquet_floor.rs), one process per run.
    FLOOR=$(ls -t "$CARGO_TARGET_DIR"/release/deps/parquet_floor-* | grep -v '\.d$' | head -1)
    RUNS=10 timed "arrow-rs reader alone, no SQL (benches/parquet_floor.rs)" \
      "$FLOOR" "$PQ" 2025-10-01T00:00:00Z 2025-10-31T00:00:00Z
    if diff -q "$WORK/pq-answer.txt" <(tail -n +2 "$WORK/out.txt") > /dev/null; then
      echo "  (its answer: identical to trailsql's)"
    else
      echo "  its answer DIFFERS from trailsql's"
    fi
  fi
  # One query per process; then the query alone, best of 10 in one process.
  RUNS=10 timed "duckdb $DUCK_VERSION on the same Parquet (process)" "$DUCK_PY" "$WORK/duck_query.py" "$PQ" "$q"
  cp "$WORK/out.txt" "$WORK/duck-answer.txt"
  "$DUCK_PY" "$WORK/duck_query.py" "$PQ" "$q" 10 > /dev/null 2> "$WORK/err.txt"
  echo "  duckdb, query alone (best of 10 in one process): $(cut -d' ' -f2 "$WORK/err.txt") s"
  if diff -q "$WORK/raw-answer.txt" "$WORK/pq-answer.txt" > /dev/null \
     && diff -q "$WORK/pq-answer.txt" "$WORK/duck-answer.txt" > /dev/null; then
    echo "answers: identical ($(wc -l < "$WORK/pq-answer.txt") rows)"
  else
    echo "answers DIFFER:"; diff "$WORK/raw-answer.txt" "$WORK/pq-answer.txt" || true
    diff "$WORK/pq-answer.txt" "$WORK/duck-answer.txt" || true
  fi
done

# Compaction: the archive converted in groups of 256 KiB of gzip (the many
# small files per day that runs every few minutes would leave), the
# aggregate on it, `trailsql compact`, the aggregate again.
echo "== compaction"
SMALL="$WORK/parquet-small-$EPD"
rm -rf "$SMALL"
"$BIN" convert "$ARCHIVE" "$SMALL" --group-kib 256 2> "$WORK/err.txt"
echo "before: $(find "$SMALL" -name '*.parquet' | wc -l) files"
RUNS=10 timed "aggregate, before compaction" "$BIN" --source "$SMALL" --format csv -e "${QUESTION[callers]}"
tail -n +2 "$WORK/out.txt" > "$WORK/small-answer.txt"
RUNS=1 timed "trailsql compact" "$BIN" compact "$SMALL"
cat "$WORK/err.txt"
RUNS=10 timed "aggregate, after compaction" "$BIN" --source "$SMALL" --format csv -e "${QUESTION[callers]}"
if diff -q "$WORK/small-answer.txt" <(tail -n +2 "$WORK/out.txt") > /dev/null \
   && diff -q "$WORK/small-answer.txt" "$WORK/pq-answer.txt" > /dev/null; then
  echo "answers: identical before, after, and on the dataset converted in one run"
else
  echo "answers DIFFER"
fi
