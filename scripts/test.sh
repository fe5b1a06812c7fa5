#!/usr/bin/env bash
# What `make test` (and so CI) runs: the whole suite in a -Werror build, then
# again in an AddressSanitizer + UndefinedBehaviorSanitizer build.
#   JOBS=N  parallel build/test jobs (default: number of cores)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-$(nproc)}
cd "$ROOT"

build_and_test() {
  local dir=$1; shift
  echo "== configure $dir ($*)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOLLOW_WERROR=ON "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j"$JOBS" >"$dir/build.log" 2>&1 ||
    { tail -100 "$dir/build.log"; exit 1; }
  echo "== test $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$JOBS"
}

build_and_test build
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  build_and_test build-asan -DHOLLOW_SANITIZE=address,undefined
echo "== all tests passed (-Werror build and address,undefined build)"
