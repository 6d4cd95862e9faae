#!/usr/bin/env bash
# Two builds of trailsql side by side on the same ~1M-event archive, in one
# sitting, runs interleaved (A, B, A, B, ...) so that the machine's drift
# falls on both: decode on one core, the two full-scan questions of run.sh,
# convert, a lookup and an aggregate on the converted dataset, and compact.
# Prints best-of-N wall times and peak RSS, and checks both builds give the
# same answers. What "no slower" means for a change that should not change
# speed (issue 18).
#
#   benches/compare.sh DIR_A DIR_B      each DIR holds `trailsql` and `throughput`
#
# `throughput` is the benches/throughput.rs binary of that build
# (target/release/deps/throughput-*). To make DIR_A for an older commit:
#   git worktree add /tmp/old OLD && cd /tmp/old && cargo build --release --bins --benches
#   mkdir DIR_A && cp $CARGO_TARGET_DIR/release/trailsql DIR_A/ \
#     && cp $(ls -t $CARGO_TARGET_DIR/release/deps/throughput-* | grep -v '\.d$' | head -1) DIR_A/throughput
# (with this build folder, only trailsql itself is built again, provided the
# old commit's Cargo.toml asks for the same features: copy today's in if not).
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench). RUNS (default 5).
set -euo pipefail
export LC_NUMERIC=C
A="$(cd "$1" && pwd)"; B="$(cd "$2" && pwd)"
RUNS="${RUNS:-5}"
WORK="${BENCH_DIR:-/var/tmp/trailsql-bench}"
EPD="${EPD:-5600}"
ARCHIVE="$WORK/archive-$EPD"
mkdir -p "$WORK"
if [ ! -f "$ARCHIVE/.complete" ]; then
  rm -rf "$ARCHIVE"
  "$B/trailsql" sample "$ARCHIVE" --days 30 --events-per-day "$EPD"
  touch "$ARCHIVE/.complete"
fi
echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "archive: $ARCHIVE ($(find "$ARCHIVE" -path '*/CloudTrail/*' -name '*.json.gz' | wc -l) log files)"
echo "A: $A"
echo "B: $B"

# one SIDE COMMAND...: one run, wall seconds and peak RSS (MB) appended to
# $WORK/cmp-SIDE.txt as "secs mb"; output in $WORK/cmp-out-SIDE.txt.
one() {
  local side="$1"; shift
  if [ -n "${PREP:-}" ]; then bash -c "$PREP"; fi
  local started=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$WORK/cmp-time.txt" "$@" > "$WORK/cmp-out-$side.txt" 2> "$WORK/cmp-err.txt" \
    || { cat "$WORK/cmp-err.txt"; exit 1; }
  local ended=$EPOCHREALTIME
  read -r kb < "$WORK/cmp-time.txt"
  echo "$(awk "BEGIN{printf \"%.4f\", $ended - $started}") $((kb / 1024))" >> "$WORK/cmp-$side.txt"
}

# pair LABEL ARGS...: trailsql ARGS with A and with B, interleaved RUNS
# times; prints the best of each and B/A; checks the outputs agree.
pair() {
  local label="$1"; shift
  rm -f "$WORK/cmp-A.txt" "$WORK/cmp-B.txt"
  for _ in $(seq "$RUNS"); do
    one A "$A/trailsql" "$@"
    one B "$B/trailsql" "$@"
  done
  local a b
  a=$(sort -n "$WORK/cmp-A.txt" | head -1); b=$(sort -n "$WORK/cmp-B.txt" | head -1)
  printf '%-44s A %7.3f s %5d MB   B %7.3f s %5d MB   B/A %.2f\n' "$label" \
    ${a% *} ${a#* } ${b% *} ${b#* } "$(awk "BEGIN{print ${b% *} / ${a% *}}")"
  if ! diff -q "$WORK/cmp-out-A.txt" "$WORK/cmp-out-B.txt" > /dev/null; then
    echo "  answers DIFFER:"; diff "$WORK/cmp-out-A.txt" "$WORK/cmp-out-B.txt" | head -10
  fi
}

echo "== decode, one core (events/s, each run)"
for _ in $(seq 3); do
  echo "A: $("$A/throughput" "$ARCHIVE" | grep -o '[0-9,]* events/s' || true)   B: $("$B/throughput" "$ARCHIVE" | grep -o '[0-9,]* events/s' || true)"
done

echo "== full scans of the raw archive (best of $RUNS)"
pair "names" --source "$ARCHIVE" --format csv -e \
  "SELECT eventname, count(*) AS n FROM cloudtrail GROUP BY eventname ORDER BY n DESC, eventname LIMIT 5"
pair "callers" --source "$ARCHIVE" --format csv -e \
  "SELECT coalesce(useridentity.arn, '-') AS arn, errorcode, count(*) AS n FROM cloudtrail WHERE errorcode IS NOT NULL GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 5"

echo "== convert and the converted dataset"
PQ_A="$WORK/cmp-parquet-A"; PQ_B="$WORK/cmp-parquet-B"
rm -f "$WORK/cmp-A.txt" "$WORK/cmp-B.txt"
for _ in $(seq 3); do
  PREP="rm -rf '$PQ_A'" one A "$A/trailsql" convert "$ARCHIVE" "$PQ_A"
  PREP="rm -rf '$PQ_B'" one B "$B/trailsql" convert "$ARCHIVE" "$PQ_B"
done
a=$(sort -n "$WORK/cmp-A.txt" | head -1); b=$(sort -n "$WORK/cmp-B.txt" | head -1)
printf '%-44s A %7.3f s %5d MB   B %7.3f s %5d MB   B/A %.2f\n' "convert (best of 3)" \
  ${a% *} ${a#* } ${b% *} ${b#* } "$(awk "BEGIN{print ${b% *} / ${a% *}}")"
LOOKUP="SELECT useridentity.arn AS arn, sourceipaddress, coalesce(errorcode, '') AS errorcode FROM cloudtrail WHERE eventname = 'DeleteTable' AND requestparameters LIKE '%prod-orders%' ORDER BY eventtime"
AGGREGATE="SELECT coalesce(useridentity.arn, '-') AS arn, errorcode, count(*) AS n FROM cloudtrail WHERE errorcode IS NOT NULL AND eventtime >= '2025-10-01T00:00:00Z' AND eventtime < '2025-10-31T00:00:00Z' GROUP BY 1, 2 ORDER BY n DESC, arn, errorcode LIMIT 10"
# Both builds read B's dataset (A's is the same format: the answers are
# compared).
RUNS=$((RUNS * 2)) pair "lookup on the dataset" --source "$PQ_B" --format csv -e "$LOOKUP"
RUNS=$((RUNS * 2)) pair "aggregate on the dataset" --source "$PQ_B" --format csv -e "$AGGREGATE"
"$A/trailsql" --source "$PQ_A" --format csv -e "$AGGREGATE" > "$WORK/cmp-out-A.txt"
if diff -q "$WORK/cmp-out-A.txt" "$WORK/cmp-out-B.txt" > /dev/null; then
  echo "A's dataset and B's give the same aggregate"
else
  echo "A's dataset and B's DIFFER"
fi

echo "== compact (a dataset converted in 256 KiB groups, once each)"
rm -f "$WORK/cmp-A.txt" "$WORK/cmp-B.txt"
for side in A B; do
  dir="$WORK/cmp-small-$side"; bin="$A/trailsql"; [ "$side" = B ] && bin="$B/trailsql"
  rm -rf "$dir"
  "$bin" convert "$ARCHIVE" "$dir" --group-kib 256 2> /dev/null
  one "$side" "$bin" compact "$dir"
done
a=$(cat "$WORK/cmp-A.txt"); b=$(cat "$WORK/cmp-B.txt")
printf '%-44s A %7.3f s %5d MB   B %7.3f s %5d MB   B/A %.2f\n' "compact" \
  ${a% *} ${a#* } ${b% *} ${b#* } "$(awk "BEGIN{print ${b% *} / ${a% *}}")"
rm -rf "$PQ_A" "$PQ_B" "$WORK/cmp-small-A" "$WORK/cmp-small-B"
