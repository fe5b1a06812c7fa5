#!/usr/bin/env bash
# The main job of `make run`: a producer and a consumer over the filesystem
# blob store and the in-process announcer, on the Movies dataset (N=10000):
# a few cycles with changes; the consumer follows on its own and prints
# what it sees at each version. Then the store is read back the way a
# separate process would, with hollow-cli.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
STORE=${HOLLOW_DEMO_STORE:-$BUILD/demo-store}
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
echo
echo "== what the version numbers are"
echo "The producer mints versions as Java's does: yyyyMMddHHmmss in UTC followed"
echo "by a 3-digit counter ($first = $(echo "$first" | sed -E 's/^(....)(..)(..)(..)(..)(..)(...)$/\1-\2-\3 \4:\5:\6 UTC, #\7/'))."
echo "The memory store below numbers its versions 1, 2, 3 instead."
echo
echo "== hollow-cli on the built-in memory store (the Movies sample, versions 1-3)"
echo "\$ hollow-cli -command=diff -store=memory -version=1 -target=2"
"$BUILD/hollow-cli" -command=diff -store=memory -version=1 -target=2 || true
echo
echo "== what to try next"
cat <<NEXT
  $BUILD/hollow-cli shell
      produce, consume, inspect, diff, pin on the memory store (\`help\` lists them)
  $BUILD/hollow-cli inspect --store fs --dir $STORE
      every version of the demo's store, its blobs and how a consumer reaches it
  $BUILD/hollow-cli consume --store fs --dir $STORE --deep Movie | head
      the movies of the latest version as JSON
  $BUILD/hollow-cli help
      every command; \`help COMMAND\` for one
  docs/cli.md for the tool, README.md for the library
NEXT
