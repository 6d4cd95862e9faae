#!/usr/bin/env bash
# Prints peak memory of `SELECT * FROM cloudtrail` written to a file with
# --format csv, ndjson and parquet, over two sample archives, one ten times
# the other (about 50k and 500k events): results are streamed to the file
# batch by batch, so the peak must not grow with the answer. Each file's
# rows are counted against count(*).
#
#   benches/memory.sh            (release build, as the other benches)
#   BIN=path/to/trailsql benches/memory.sh   (that build as it is)
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench), kept between runs.
WORK="${BENCH_DIR:-/var/tmp/trailsql-bench}"
source "$(dirname "$0")/binary.sh"

# 30 days x 2 accounts x 3 regions x EPD events (and the planted incidents).
for epd in 280 2800; do
  archive="$WORK/memory-archive-$epd"
  if [ ! -f "$archive/.complete" ]; then
    rm -rf "$archive"
    "$BIN" sample "$archive" --days 30 --events-per-day "$epd" 2> /dev/null
    touch "$archive/.complete"
  fi
  events=$("$BIN" --source "$archive" --format csv -e "SELECT count(*) FROM cloudtrail" | tail -1)
  echo "== archive of $events events ($(du -sh "$archive" | cut -f1))"
  for format in csv ndjson parquet; do
    out="$WORK/memory-out.$format"
    /usr/bin/time -f "%M %e" -o "$WORK/memory-time.txt" \
      "$BIN" --source "$archive" --format "$format" -o "$out" -e "SELECT * FROM cloudtrail"
    read -r kb secs < "$WORK/memory-time.txt"
    case "$format" in
      csv) rows=$(python3 -c 'import csv,sys; csv.field_size_limit(1<<30); print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))) - 1)' "$out") ;;
      ndjson) rows=$(wc -l < "$out") ;;
      parquet) rows=$("$BIN" --source "$archive" --format csv -e \
        "CREATE EXTERNAL TABLE back STORED AS PARQUET LOCATION '$out'; SELECT count(*) FROM back" | tail -1) ;;
    esac
    check="all rows"
    [ "$rows" = "$events" ] || check="ROWS DIFFER: $rows in the file"
    printf '%-8s peak RSS %5d MB  %6.1f s  %5d MB written  %s\n' \
      "$format" $((kb / 1024)) "$secs" $(($(stat -c %s "$out") / 1000000)) "$check"
  done
done
rm -f "$WORK"/memory-out.*
