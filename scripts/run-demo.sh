#!/usr/bin/env bash
# The main job of `make run`: a producer and a consumer over the filesystem
# blob store and the in-process announcer, on the Movies dataset (N=10000):
# a few cycles with changes; the consumer follows on its own and prints
# what it sees at each version. Then the store is read back the way a
# separate process would, with hollow-cli.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
STORE=$BUILD/demo-store
rm -rf "$STORE"
echo "== producer and consumer (examples/producer_consumer.c)"
"$BUILD/examples/producer_consumer" "$STORE" 10000
echo
echo "== the store as Java's filesystem publisher lays it out"
ls "$STORE"
echo
echo "== hollow-cli consume --store fs --dir $STORE --version <first>"
first=$(ls "$STORE" | sed -n 's/^snapshot-//p' | sort -n | head -1)
"$BUILD/hollow-cli" consume --store fs --dir "$STORE" --version "$first" --verbose
