#!/usr/bin/env bash
# Two producer processes on one directory, killed (kill -9) and stopped at
# random, for SECONDS (default 300); then the checks of
# tests/integration/chaos_producers.c: the announced history is linear,
# every announced version loads, every delta applies to its origin.
# usage: scripts/chaos_producers.sh [SECONDS] [BUILD_DIR] [SEED]
# (`make test` runs the same for 30 s: the CTest test chaos_producers.)
set -euo pipefail
SECONDS_TO_RUN=${1:-300}
BUILD=${2:-build}
SEED=${3:-$(date +%s)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ ! -x "$BUILD/tests/chaos_producers" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --target chaos_producers -j2 >/dev/null
fi
DIR=$(mktemp -d /tmp/hollow-chaos-XXXXXX)
trap 'rm -rf "$DIR" "$DIR/store.log"' EXIT
"$BUILD/tests/chaos_producers" "$SECONDS_TO_RUN" "$DIR/store" "$SEED"
