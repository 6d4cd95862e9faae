# Sourced by the benchmark scripts that measure one build of trailsql as it
# is (memory.sh, hostile.sh): the release build, or $BIN when given, and the
# machine line. Sets BIN; expects WORK (the script's work folder).
set -euo pipefail
export LC_NUMERIC=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/trailsql-target}"
mkdir -p "$WORK"
if [ -z "${BIN:-}" ]; then
  cargo build --release --bins -q
  BIN="$CARGO_TARGET_DIR/release/trailsql"
fi

echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "binary: $BIN"
