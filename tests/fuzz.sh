#!/usr/bin/env bash
# A longer run of the mutation tests of tests/it/fuzz.rs than `cargo test`
# does (1,500 cases per reader): CASES per reader (default 100,000) from
# START (default 1,500, past the ones cargo test runs). A failing case is
# printed as `READER SEED`; keep it in tests/data/fuzz-regressions.txt once
# it is fixed.
#
#   tests/fuzz.sh [CASES] [START]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/trailsql-target}"
TRAILSQL_FUZZ_CASES="${1:-100000}" TRAILSQL_FUZZ_START="${2:-1500}" \
  cargo test --locked --test it fuzz::no_reader_panics -- --nocapture
