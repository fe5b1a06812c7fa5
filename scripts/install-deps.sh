#!/usr/bin/env bash
# Install the Debian packages hollow-c needs to build and test. Idempotent:
# packages already installed are not touched, and apt runs only when
# something is missing. Needs root (or sudo) on a Debian 12 machine.
#   scripts/install-deps.sh            build + test packages
#   scripts/install-deps.sh --fuzz     also clang + libFuzzer runtime
# Then the S3 test server's npm packages (tools/s3rver), when they are missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

PKGS=(build-essential cmake pkg-config check libjansson-dev libssl-dev
      libdouble-conversion-dev python3 libcapnp-dev capnproto libsimdjson-dev
      libxxhash-dev
      libcurl4-openssl-dev libhiredis-dev libexpat1-dev
      redis-server redis-tools awscli openssl curl libedit-dev
      libmicrohttpd-dev chromium chromium-driver man-db bsdextrautils)
# the Prometheus project's parser checks hollow_metrics_write()'s output
PKGS+=(python3-prometheus-client)
# node runs the S3 test server; Debian's Node 18 does (npm warns about its engines field)
if ! command -v node >/dev/null; then
  PKGS+=(nodejs npm)
fi
if [ "${1:-}" = "--fuzz" ]; then
  PKGS+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/hollow-apt.log 2>&1 ||
    { tail -50 /tmp/hollow-apt.log; exit 1; }
fi

if [ ! -d "$ROOT/tools/s3rver/node_modules/@20minutes/s3rver" ]; then
  echo "installing: tools/s3rver (npm ci)"
  npm ci --prefix "$ROOT/tools/s3rver" --no-audit --no-fund --loglevel=error
fi
