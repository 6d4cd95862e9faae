#!/usr/bin/env bash
# Prints the peak memory of `SELECT count(*), max(length(useragent))` over
# archives of one hostile log file each (issue 20), beside one ordinary
# file: a gzip bomb (12 MB of gzip, 2 GiB of whitespace inside Records), a
# single record of 300 MB, a 100 MB string, an object with a million
# members, arrays nested 200,000 deep, and a Records array of a million
# tiny records. Each line says what became of the hostile file (read, or
# skipped with its reason) and the peak RSS of the query. The default
# --max-file-mib (512) applies.
#
#   benches/hostile.sh                      (release build, as the other benches)
#   BIN=path/to/trailsql benches/hostile.sh (that build as it is)
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench), kept between runs.
WORK="${BENCH_DIR:-/var/tmp/trailsql-bench}/hostile"
source "$(dirname "$0")/binary.sh"

# Each case: an archive folder with the hostile file and an ordinary one,
# written once (streamed through zlib: nothing big is held here either).
python3 - "$WORK" <<'PY'
import json, os, sys, zlib

work = sys.argv[1]
DAY = "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01"
NAME = "111122223333_CloudTrail_us-east-1_20251001T{}Z_{}.json.gz"

def record(i, **extra):
    r = {"eventVersion": "1.08", "eventTime": "2025-10-01T10:00:00Z",
         "eventName": "ListBuckets", "awsRegion": "us-east-1",
         "eventID": "e%d" % i, "recipientAccountId": "111122223333",
         "userAgent": "aws-cli"}
    r.update(extra)
    return json.dumps(r)

def write(case, pieces):
    folder = os.path.join(work, case)
    if os.path.exists(os.path.join(folder, ".complete")):
        return
    day = os.path.join(folder, DAY)
    os.makedirs(day, exist_ok=True)
    with open(os.path.join(day, NAME.format("1000", "ordinaryORDINARY")), "wb") as f:
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        f.write(c.compress(('{"Records":[%s]}' % record(0)).encode()) + c.flush())
    with open(os.path.join(day, NAME.format("1005", "hostileHOSTILE00")), "wb") as f:
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        for p in pieces():
            f.write(c.compress(p))
        f.write(c.flush())
    open(os.path.join(folder, ".complete"), "w").close()

MiB = 1 << 20

def bomb():
    yield b'{"Records":['
    block = b" " * (64 * MiB)
    for _ in range(32):
        yield block
    yield (record(1) + "]}").encode()

def big_record():
    # One record of 300 MB: a requestParameters object of 3,000 100 KB strings.
    yield b'{"Records":[' + record(1)[:-1].encode() + b', "requestParameters": {'
    value = b'"' + b"x" * (100 * 1024) + b'"'
    for i in range(3000):
        yield (b"," if i else b"") + b'"k%d":' % i + value
    yield b"}}]}"

def long_string():
    yield b'{"Records":[' + record(1)[:-1].encode() + b', "errorMessage": "'
    for _ in range(100):
        yield b"y" * MiB
    yield b'"}]}'

def members():
    yield b'{"Records":[' + record(1)[:-1].encode() + b', "requestParameters": {'
    for i in range(1_000_000):
        yield (b"," if i else b"") + b'"m%d":%d' % (i, i)
    yield b"}}]}"

def deep():
    depth = 200_000
    yield b'{"Records":[' + record(1)[:-1].encode() + b', "requestParameters": {"a":'
    yield b"[" * depth + b"]" * depth
    yield b"}}]}"

def tiny():
    yield b'{"Records":['
    for i in range(1_000_000):
        yield (b"," if i else b"") + b'{"eventID":"t%d","eventTime":"2025-10-01T10:00:00Z"}' % i
    yield b"]}"

for case, pieces in [("gzip-bomb", bomb), ("record-300mb", big_record),
                     ("string-100mb", long_string), ("million-members", members),
                     ("nested-200k", deep), ("million-records", tiny)]:
    write(case, pieces)
PY

printf '%-18s %10s %10s  %s\n' case "gzip" "peak RSS" "what became of it"
for case in gzip-bomb record-300mb string-100mb million-members nested-200k million-records; do
  dir="$WORK/$case"
  gz=$(du -k "$dir/AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/"*hostile* | cut -f1)
  /usr/bin/time -f "%M" -o "$WORK/rss.txt" "$BIN" --source "$dir" --format csv --progress never \
    -e "SELECT count(*) AS events, max(length(useragent)) AS longest FROM cloudtrail" \
    > "$WORK/out.txt" 2> "$WORK/err.txt" || true
  read -r kb < "$WORK/rss.txt"
  events=$(tail -1 "$WORK/out.txt" | cut -d, -f1)
  said=$(grep -o 'file skipped: .*' "$WORK/err.txt" | head -1 | cut -c1-70 || true)
  printf '%-18s %8d K %7d MB  %s events read%s\n' "$case" "$gz" $((kb / 1024)) "$events" "${said:+; hostile $said}"
done
