#!/usr/bin/env bash
# Prints the S3 figures of benches/README.md: a scan of many small objects
# through the tests' S3 server with latency added to every request, at
# several --max-concurrency levels, against objects x latency / concurrency.
#
#   benches/s3.sh [OBJECTS] [LATENCY_MS] [LEVELS]    (10000 20 8,16,32,64,128)
#
# Work folder: $BENCH_DIR (default /var/tmp/trailsql-bench), kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/trailsql-target}"
cargo build --release --bins --bench s3 -q
BENCH=$(ls -t "$CARGO_TARGET_DIR"/release/deps/s3-* | grep -v '\.d$' | head -1)
echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== S3 scan"
"$BENCH" "$@"
