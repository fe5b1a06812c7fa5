#!/usr/bin/env bash
# Rewrite abi/libhollow.symbols from the libhollow.so of a build directory
# (default build/, built here first). Run it when the API changes: while
# the version is 0.x, a changed list needs a new minor version (and so a
# new SONAME) unless that version was never released (docs/packaging.md).
#   scripts/update-abi.sh [BUILD_DIR]      (also: make abi)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
FILE=$ROOT/abi/libhollow.symbols
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" --target hollow >/dev/null
new=$(bash "$ROOT/scripts/abi-list.sh" "$BUILD/libhollow.so")
old_soname=$(sed -n 's/^SONAME //p' "$FILE" 2>/dev/null || true)
new_soname=$(printf '%s\n' "$new" | sed -n 's/^SONAME //p')
{
  echo "# The ABI of libhollow: its SONAME and exported symbols (nm type, name)."
  echo "# Written by scripts/update-abi.sh; checked by the abi test."
  printf '%s\n' "$new"
} >"$FILE.tmp"
if cmp -s "$FILE.tmp" "$FILE"; then
  rm "$FILE.tmp"
  echo "abi/libhollow.symbols is up to date ($new_soname)"
  exit 0
fi
[ -f "$FILE" ] && diff -u "$FILE" "$FILE.tmp" | sed -n '3,$p' | grep '^[-+]' || true
mv "$FILE.tmp" "$FILE"
echo "abi/libhollow.symbols rewritten for $new_soname"
if [ "$old_soname" = "$new_soname" ]; then
  echo "note: the SONAME is unchanged; if $new_soname was released, bump the" \
       "minor version in CMakeLists.txt's project() and run this again"
fi
