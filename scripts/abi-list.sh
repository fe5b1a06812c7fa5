#!/usr/bin/env bash
# The ABI of a built libhollow.so as abi/libhollow.symbols records it: its
# SONAME, then each exported symbol (nm -D --defined-only) with its nm type
# letter, sorted. Used by scripts/update-abi.sh and the abi test.
#   abi-list.sh LIBHOLLOW_SO
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: abi-list.sh LIBHOLLOW_SO" >&2; exit 2; }
soname=$(readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ -n "$soname" ] || { echo "abi-list.sh: $1 has no SONAME" >&2; exit 1; }
echo "SONAME $soname"
nm -D --defined-only "$1" | awk 'NF == 3 {print $2, $3}' | LC_ALL=C sort -k2
