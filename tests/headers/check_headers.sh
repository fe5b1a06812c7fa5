#!/usr/bin/env bash
# Every public header compiles alone, included twice (include guards), as
# C11 and as C++11, with -Wall -Wextra -pedantic -Werror (style.md B10; the
# model is libgit2's tests/headertest).
#   check_headers.sh <cc> <c++> <source include dir> <generated include dir>
set -euo pipefail
shopt -s nullglob
CC=$1 CXX=$2 INC=$3 GEN=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for h in "$INC"/hollow/*.h "$INC"/hollow/sys/*.h "$GEN"/hollow/*.h; do
  rel=${h#"$INC"/}
  rel=${rel#"$GEN"/}
  printf '#include "%s"\n#include "%s"\nint headertest_unused;\n' "$rel" "$rel" \
    >"$tmp/t.c"
  cp "$tmp/t.c" "$tmp/t.cpp"
  if ! "$CC" -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only \
      -I"$INC" -I"$GEN" "$tmp/t.c"; then
    echo "FAIL (C11): $rel"; fail=1
  fi
  if ! "$CXX" -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only \
      -I"$INC" -I"$GEN" "$tmp/t.cpp"; then
    echo "FAIL (C++11): $rel"; fail=1
  fi
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no headers found under $INC"; exit 1; }
[ "$fail" -eq 0 ] && echo "$n public headers compile alone as C11 and C++11"
exit "$fail"
