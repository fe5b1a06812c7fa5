#!/usr/bin/env bash
# The Debian packages of hollow-c (issue 18), checked the way Debian would:
#   1. a Release build with dpkg-buildflags' hardening flags, installed to
#      /usr (multiarch libdir), packaged by CPack: libhollow0.N (the SONAME's
#      package), libhollow-dev and hollow-cli, dependencies from dpkg-shlibdeps
#   2. lintian on the .deb files: no errors
#   3. a clean Debian 12 root (debootstrap --variant=minbase bookworm, kept in
#      build-deb/root-bookworm for the next run) where `apt-get install
#      ./*.deb` installs them and `hollow-cli --version` runs
# Needs root (apt-get, debootstrap, chroot) and Debian's archive over the
# network; installs lintian and debootstrap when they are missing.
#   scripts/deb.sh              all three steps (also: make deb)
#   scripts/deb.sh --no-root    steps 1 and 2 only
#   MIRROR=URL      the Debian mirror (default http://deb.debian.org/debian)
#   DEBFULLNAME, DEBEMAIL       the packages' Maintainer field
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/build-deb}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MAINTAINER="${DEBFULLNAME:-hollow-c packager} <${DEBEMAIL:-nobody@hollow-c.invalid}>"
JOBS=${JOBS:-$(nproc)}
cd "$ROOT"

need() { # need COMMAND PACKAGE: apt-get install PACKAGE when COMMAND is missing
  command -v "$1" >/dev/null && return
  echo "== installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" \
    >"$OUT/apt.log" 2>&1 || { tail -20 "$OUT/apt.log"; exit 1; }
}
mkdir -p "$OUT"
need dpkg-shlibdeps dpkg-dev
need lintian lintian

echo "== build ($OUT/build)"
export CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
export CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
export LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
cmake -S . -B "$OUT/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_INSTALL_DOCDIR=share/doc/libhollow-dev -DHOLLOW_DEB=ON \
  -DHOLLOW_DEB_MAINTAINER="$MAINTAINER" -DHOLLOW_BUILD_TESTS=OFF >/dev/null
cmake --build "$OUT/build" -j"$JOBS" >"$OUT/build.log" 2>&1 ||
  { tail -40 "$OUT/build.log"; exit 1; }

echo "== cpack -G DEB"
rm -f "$OUT"/build/*.deb
(cd "$OUT/build" && cpack -G DEB >"$OUT/cpack.log" 2>&1) ||
  { tail -40 "$OUT/cpack.log"; exit 1; }
rm -rf "$OUT/debs" && mkdir "$OUT/debs" && mv "$OUT"/build/*.deb "$OUT/debs/"
for d in "$OUT"/debs/*.deb; do
  echo "-- $(basename "$d")"
  dpkg-deb -f "$d" Package Version Depends | sed 's/^/   /'
done

echo "== lintian"
# exit status 0 unless there are errors; warnings are printed
lintian --fail-on error --suppress-tags-from-file /dev/null "$OUT"/debs/*.deb ||
  { echo "lintian found errors"; exit 1; }

if [ "${1:-}" = --no-root ]; then
  echo "== the packages are in $OUT/debs"
  exit 0
fi

CHROOT=$OUT/root-bookworm
if [ ! -x "$CHROOT/usr/bin/apt-get" ]; then
  need debootstrap debootstrap
  echo "== debootstrap bookworm into $CHROOT (once; minutes)"
  rm -rf "$CHROOT"
  debootstrap --variant=minbase bookworm "$CHROOT" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 ||
    { tail -20 "$OUT/debootstrap.log"; exit 1; }
fi
# a fresh copy each run, so that the install starts from a clean Debian 12
TRY=$OUT/root-try
rm -rf "$TRY"
cp -a "$CHROOT" "$TRY"
cleanup() {
  umount "$TRY/proc" 2>/dev/null || true
  rm -rf "$TRY"
}
trap cleanup EXIT
mount -t proc proc "$TRY/proc" 2>/dev/null || true
cp /etc/resolv.conf "$TRY/etc/resolv.conf"
mkdir -p "$TRY/tmp/debs"
cp "$OUT"/debs/*.deb "$TRY/tmp/debs/"
echo "== apt-get install ./*.deb in a clean Debian 12 root"
chroot "$TRY" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive;
  apt-get update -qq && cd /tmp/debs &&
  apt-get install -y -qq --no-install-recommends ./*.deb' >"$OUT/chroot-apt.log" 2>&1 ||
  { tail -30 "$OUT/chroot-apt.log"; exit 1; }
echo "\$ hollow-cli --version"
chroot "$TRY" hollow-cli --version
# libhollow-dev as a user has it: a program built with pkg-config (shared
# and --static) reads a golden snapshot
echo "== a program built against libhollow-dev there (gcc and pkg-config added)"
cp tests/install/print_field.c tests/golden/a_primitives/snapshot-20250101000000001 "$TRY/tmp/"
chroot "$TRY" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive;
  apt-get install -y -qq --no-install-recommends gcc libc6-dev pkg-config' \
  >>"$OUT/chroot-apt.log" 2>&1 || { tail -30 "$OUT/chroot-apt.log"; exit 1; }
chroot "$TRY" /bin/sh -ec 'cd /tmp
  cc -Wl,--as-needed -o pf print_field.c $(pkg-config --cflags --libs hollow)
  ./pf snapshot-20250101000000001
  cc -Wl,--as-needed -o pfs print_field.c \
    $(pkg-config --static --cflags --libs hollow | sed "s/-lhollow /-l:libhollow.a /")
  ./pfs snapshot-20250101000000001'
echo "== the packages are in $OUT/debs; they install on Debian 12"
