#!/usr/bin/env bash
# The built libhollow.so exports exactly what abi/libhollow.symbols records
# for its SONAME. A different list under the same SONAME is an ABI change
# without a new SONAME; a new SONAME needs the list recorded again.
#   check_abi.sh LIBHOLLOW_SO SYMBOLS_FILE ABI_LIST_SCRIPT
set -euo pipefail
LIB=$1 FILE=$2 LIST=$3
built=$(bash "$LIST" "$LIB")
recorded=$(grep -v '^#' "$FILE")
b_soname=$(printf '%s\n' "$built" | sed -n 's/^SONAME //p')
r_soname=$(printf '%s\n' "$recorded" | sed -n 's/^SONAME //p')
if [ "$b_soname" != "$r_soname" ]; then
  echo "FAIL: libhollow's SONAME is $b_soname, abi/libhollow.symbols records" \
       "$r_soname: run scripts/update-abi.sh to record the new ABI"
  exit 1
fi
if [ "$built" != "$recorded" ]; then
  echo "FAIL: the exported symbols of $b_soname differ from abi/libhollow.symbols" \
       "(- recorded, + built):"
  diff <(printf '%s\n' "$recorded") <(printf '%s\n' "$built") | sed -n 's/^</-/p; s/^>/+/p'
  echo "An ABI change needs a new SONAME: bump the minor version in CMakeLists.txt's"
  echo "project() (docs/packaging.md), then run scripts/update-abi.sh."
  exit 1
fi
n=$(printf '%s\n' "$built" | grep -vc '^SONAME')
echo "ok: $b_soname exports the $n recorded symbols"
