#!/usr/bin/env bash
# What `make test` (and so CI) runs: the whole suite in a -Werror build, then
# again in an AddressSanitizer + UndefinedBehaviorSanitizer build, then the
# threaded tests (CTest label "threaded") in a ThreadSanitizer build.
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

echo "== configure build-tsan (threaded tests under ThreadSanitizer)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOLLOW_WERROR=ON \
  -DHOLLOW_SANITIZE=thread >/dev/null
# the suites labelled "threaded" in tests/CMakeLists.txt (test name = target)
targets=$(ctest --test-dir build-tsan -N -L threaded |
  sed -n 's/^ *Test *#[0-9]*: *\([A-Za-z0-9_]*\).*/\1/p')
[ -n "$targets" ] || { echo "no tests labelled threaded"; exit 1; }
echo "== build build-tsan: $targets"
# shellcheck disable=SC2086
cmake --build build-tsan -j"$JOBS" --target $targets >build-tsan/build.log 2>&1 ||
  { tail -100 build-tsan/build.log; exit 1; }
echo "== test build-tsan"
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
  ctest --test-dir build-tsan --output-on-failure -j"$JOBS" -L threaded
echo "== all tests passed (-Werror, address+undefined, thread)"
