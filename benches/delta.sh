#!/usr/bin/env bash
# Prints the Delta Lake figures of benches/README.md (issue 26): the
# ~1M-event archive converted as a Delta table (the default) and in the
# earlier format (`--table-format trailsql`), then on each the point lookup
# and the aggregate of benches/convert.sh (one process per query, best of
# 10), the answers compared; then the archive converted in 256 KiB groups
# (many small files), compacted (Delta: one OPTIMIZE commit and a
# checkpoint), and the aggregate before and after.
#
#   benches/delta.sh          (builds release; NO_BUILD=1 to skip)
source "$(dirname "$0")/common.sh"
DELTA="$WORK/delta-$EPD"
OWN="$WORK/own-$EPD"

echo "== conversion"
PREP="rm -rf '$DELTA'" timed "trailsql convert (Delta)" "$BIN" convert "$ARCHIVE" "$DELTA"
cat "$WORK/err.txt"
PREP="rm -rf '$OWN'" timed "trailsql convert --table-format trailsql" \
  "$BIN" convert "$ARCHIVE" "$OWN" --table-format trailsql
echo "Delta: $(find "$DELTA" -name '*.parquet' | wc -l) files, $(ls "$DELTA/_delta_log" | wc -l) log files;" \
  "earlier format: $(find "$OWN" -name '*.parquet' | wc -l) files"
timed "trailsql convert again, nothing new (Delta)" "$BIN" convert "$ARCHIVE" "$DELTA"

LOOKUP="SELECT useridentity.arn AS arn, sourceipaddress, coalesce(errorcode, '') AS errorcode FROM cloudtrail WHERE eventname = 'DeleteTable' AND requestparameters LIKE '%prod-orders%' ORDER BY eventtime"
CALLERS="SELECT coalesce(useridentity.arn, '-') AS arn, errorcode, count(*) AS n FROM cloudtrail WHERE errorcode IS NOT NULL AND eventtime >= '2025-10-01T00:00:00Z' AND eventtime < '2025-10-31T00:00:00Z' GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 10"
COUNT="SELECT count(*) AS n FROM cloudtrail"
for q in LOOKUP CALLERS COUNT; do
  echo "== $q: ${!q}"
  RUNS=10 timed "earlier format (process)" "$BIN" --source "$OWN" --format csv -e "${!q}"
  cp "$WORK/out.txt" "$WORK/own-answer.txt"
  RUNS=10 timed "Delta table (process)" "$BIN" --source "$DELTA" --format csv -e "${!q}"
  if diff -q "$WORK/own-answer.txt" "$WORK/out.txt" > /dev/null; then
    echo "answers: identical ($(($(wc -l < "$WORK/out.txt") - 1)) rows)"
  else
    echo "answers DIFFER:"; diff "$WORK/own-answer.txt" "$WORK/out.txt" || true
  fi
done

echo "== compaction (256 KiB groups)"
for format in delta trailsql; do
  SMALL="$WORK/small-$format-$EPD"
  rm -rf "$SMALL"
  "$BIN" convert "$ARCHIVE" "$SMALL" --group-kib 256 --table-format "$format" 2> "$WORK/err.txt"
  echo "$format: $(find "$SMALL" -name '*.parquet' | wc -l) files"
  RUNS=10 timed "aggregate before compaction ($format)" "$BIN" --source "$SMALL" --format csv -e "$CALLERS"
  RUNS=1 timed "trailsql compact ($format)" "$BIN" compact "$SMALL"
  RUNS=10 timed "aggregate after compaction ($format)" "$BIN" --source "$SMALL" --format csv -e "$CALLERS"
done
