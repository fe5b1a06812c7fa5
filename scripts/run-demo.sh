#!/usr/bin/env bash
# The main job of `make run` for now: load a snapshot that Java Hollow wrote
# (bundled under tests/golden) and show its types, record counts and a few
# records, then the deep view of one type.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${1:-$ROOT/build/hollow-cli}
SNAP=$ROOT/tests/golden/b_collections/snapshot-20250101000000001
echo "== hollow-cli inspect $SNAP"
"$CLI" inspect --records 2 "$SNAP"
echo
echo "== hollow-cli dump --deep Person (first lines)"
"$CLI" dump --deep Person "$SNAP" | head -5
