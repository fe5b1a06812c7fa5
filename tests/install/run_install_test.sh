#!/usr/bin/env bash
# Issue 18: `cmake --install` into a temporary prefix, the prefix moved
# elsewhere (hollow.pc and the CMake package are relocatable), then a user's
# program built outside the source tree three ways: pkg-config (shared),
# pkg-config --static (libhollow.a), find_package(hollow) -> hollow::hollow.
# Each links with -Wl,--as-needed, runs with only LD_LIBRARY_PATH pointing at
# the prefix, loads a golden snapshot and prints a field.
#   run_install_test.sh BUILD_DIR SOURCE_DIR CC
#   HOLLOW_TEST_CFLAGS: extra compile and link flags (the sanitizer builds)
set -uo pipefail
BUILD=$1 SRC=$2 CC=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/tests/cli/lib.sh"
read -r -a XFLAGS <<<"${HOLLOW_TEST_CFLAGS:-}"
SNAP=$SRC/tests/golden/a_primitives/snapshot-20250101000000001
VERSION=$(sed -n 's/^#define HOLLOW_VERSION_STRING "\(.*\)"$/\1/p' \
  "$BUILD/include/hollow/version.h")
WANT="libhollow $VERSION: Prims has 72 records; ordinal 1: id 2, s \"a\""

expect 0 "cmake --install" -- cmake --install "$BUILD" --prefix "$TMP/staged"
mv "$TMP/staged" "$TMP/p" # relocated: nothing may remember the first prefix
P=$TMP/p
LIBDIR=$(dirname "$(find "$P" -name hollow.pc -path '*/pkgconfig/*' | head -1)")
LIBDIR=${LIBDIR%/pkgconfig}
SONAME=$(readelf -d "$BUILD/libhollow.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')

# grep -q would end a pipeline early, and pipefail then fails it
# what the prefix holds
for f in include/hollow/hollow.h include/hollow/version.h include/hollow/hollow.capnp \
         include/hollow/sys/blobstore.h bin/hollow-cli bin/hollow-bench \
         share/man/man1/hollow-cli.1 share/man/man1/hollow-bench.1 share/man/man3/libhollow.3 \
         share/bash-completion/completions/hollow-cli; do
  [ -e "$P/$f" ] && ok || bad "the prefix lacks $f"
done
for f in "$SONAME" libhollow.so libhollow.a pkgconfig/hollow.pc \
         cmake/hollow/hollowConfig.cmake cmake/hollow/hollowConfigVersion.cmake; do
  [ -e "$LIBDIR/$f" ] && ok || bad "the prefix lacks ${LIBDIR#"$P"/}/$f"
done
# `man hollow-cli` and `man 3 libhollow` find the prefix's pages
for page in "1 hollow-cli" "3 libhollow"; do
  # shellcheck disable=SC2086
  where=$(MANPATH="$P/share/man" man -w $page 2>&1)
  case $where in "$P"/share/man/*) ok ;; *) bad "man -w $page: $where" ;; esac
done
# only public headers: everything under include/ is include/hollow/...
others=$(cd "$P/include" && find . -type f ! -path './hollow/*')
[ -z "$others" ] && ok || bad "installed headers outside include/hollow: $others"
grep -rq "$TMP/staged\|$BUILD\|$SRC" "$LIBDIR/pkgconfig" "$LIBDIR/cmake" &&
  bad "hollow.pc or the CMake package name the build, source or install path" || ok

# the user's project, copied out of the source tree
mkdir "$TMP/user"
cp "$SRC/tests/install/print_field.c" "$SRC/tests/install/CMakeLists.txt" "$TMP/user/"
cd "$TMP/user" || exit 1
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
unset PKG_CONFIG_LIBDIR

# runs PROGRAM with only the prefix on LD_LIBRARY_PATH; checks its one line
run_check() {
  local what=$1 prog=$2
  expect 0 "$what: run" -- env LD_LIBRARY_PATH="$LIBDIR" "$prog" "$SNAP"
  [ "$(cat "$TMP/out")" = "$WANT" ] && ok ||
    bad "$what printed '$(cat "$TMP/out")', want '$WANT'"
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }

# 1. pkg-config, shared
read -r -a PC <<<"$(pkg-config --cflags --libs hollow)"
expect 0 "pkg-config build" -- "$CC" "${XFLAGS[@]}" -Wl,--as-needed -o pc_shared \
  print_field.c "${PC[@]}"
[ -s "$TMP/err" ] && cat "$TMP/err"
run_check "pkg-config" ./pc_shared
needed pc_shared | grep -x "$SONAME" >/dev/null && ok || bad "pc_shared does not need $SONAME"
LD_LIBRARY_PATH="$LIBDIR" ldd ./pc_shared | grep -F "$SONAME => $LIBDIR/" >/dev/null &&
  ok || bad "pc_shared does not load $SONAME from the prefix"

# 2. pkg-config --static: libhollow.a and the private dependencies
read -r -a PCS <<<"$(pkg-config --static --cflags --libs hollow)"
for i in "${!PCS[@]}"; do
  [ "${PCS[$i]}" = -lhollow ] && PCS[$i]=-l:libhollow.a
done
expect 0 "pkg-config --static build" -- "$CC" "${XFLAGS[@]}" -Wl,--as-needed \
  -o pc_static print_field.c "${PCS[@]}"
[ "$(cat "$TMP/out" "$TMP/err")" = "" ] || cat "$TMP/err"
run_check "pkg-config --static" ./pc_static
needed pc_static | grep '^libhollow' >/dev/null && bad "pc_static needs $(needed pc_static | grep libhollow)" || ok

# 3. find_package(hollow) -> hollow::hollow
expect 0 "find_package: configure" -- cmake -S . -B cm -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS="${HOLLOW_TEST_CFLAGS:-}" \
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--as-needed ${HOLLOW_TEST_CFLAGS:-}"
[ "$(grep -c . "$TMP/err")" -eq 0 ] || head -20 "$TMP/err"
expect 0 "find_package: build" -- cmake --build cm
run_check "find_package" cm/print_field
needed cm/print_field | grep -x "$SONAME" >/dev/null && ok || bad "cm/print_field does not need $SONAME"

# the installed tool runs from the moved prefix
expect 0 "hollow-cli --version" -- "$P/bin/hollow-cli" --version
grep -qx "hollow-cli $VERSION" "$TMP/out" && ok || bad "hollow-cli --version: $(cat "$TMP/out")"

finish install
