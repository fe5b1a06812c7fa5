#!/usr/bin/env bash
# The distributed run on one machine (docs/deployment.md): a real S3 server
# (scripts/s3.sh) and a real redis-server (scripts/redis.sh) on free
# loopback ports, one producer (examples/dist_producer) and three consumer
# processes (hollow-cli consume --follow) over S3 + Redis. It runs CYCLES
# cycles with changes, pins every consumer to the second version, runs two
# more cycles while pinned, unpins, and stops everything by PID. Exit 0 only
# if every consumer reached the pinned version and ends on the producer's
# last version with the producer's checksum.
#
# usage: scripts/run-distributed.sh [--cycles N] [--free MS] [--build DIR]
#   --cycles N  cycles before the pin (default 6)
#   --free MS   let the producer run a cycle every MS ms on its own (the
#               consumers may then skip versions) instead of waiting, after
#               each cycle, until every consumer printed the new version
#   --build DIR the build directory (default: build; built if missing)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CYCLES=6
FREE=""
BUILD=$ROOT/build
while [ $# -gt 0 ]; do
  case $1 in
    --cycles) CYCLES=$2; shift 2 ;;
    --free) FREE=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    *) echo "usage: $0 [--cycles N] [--free MS] [--build DIR]" >&2; exit 2 ;;
  esac
done
[ "$CYCLES" -ge 2 ] || { echo "run-distributed.sh: --cycles needs N >= 2" >&2; exit 2; }
CLI=$BUILD/hollow-cli
PRODUCER=$BUILD/examples/dist_producer
if [ ! -x "$CLI" ] || [ ! -x "$PRODUCER" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j2 --target hollow-cli dist_producer >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hollow-dist.XXXXXX")
export S3_STATE=$WORK/s3 S3_FRESH=1 S3_PORT=0 S3_BUCKET=hollow-dist
export REDIS_STATE=$WORK/redis REDIS_PORT=0
# s3rver's fixed credentials; hollow reads keys from the environment only
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER

PIDS=()     # consumers and the producer, stopped by PID
S3_UP=0
REDIS_UP=0
cleanup() {
  local pid
  exec 3>&- || true
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$REDIS_UP" = 1 ]; then "$ROOT/scripts/redis.sh" stop >/dev/null 2>&1 || true; fi
  if [ "$S3_UP" = 1 ]; then "$ROOT/scripts/s3.sh" stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $*"; }
die() { echo "run-distributed.sh: $*" >&2; exit 1; }

say "starting S3 (s3rver) and redis-server on loopback"
"$ROOT/scripts/s3.sh" start >"$WORK/s3.start" 2>&1 || { cat "$WORK/s3.start" >&2; die "S3 did not start"; }
S3_UP=1
"$ROOT/scripts/redis.sh" start >"$WORK/redis.start" 2>&1 || { cat "$WORK/redis.start" >&2; die "redis-server did not start"; }
REDIS_UP=1
S3_PORT=$(cat "$S3_STATE/port")
REDIS_PORT=$(cat "$REDIS_STATE/port")
ENDPOINT=127.0.0.1:$S3_PORT
REDIS=redis://127.0.0.1:$REDIS_PORT
echo "S3 on $ENDPOINT (bucket $S3_BUCKET), Redis on $REDIS"
STORE=(--store s3 --endpoint "$ENDPOINT" --bucket "$S3_BUCKET" --prefix demo)

NCONS=3
say "starting $NCONS consumers: hollow-cli consume --follow over S3 + Redis"
for i in $(seq $NCONS); do
  "$CLI" consume "${STORE[@]}" --cache-dir "$WORK/cache$i" --announcer "$REDIS" \
         --follow >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
  PIDS+=($!)
  echo "consumer $i: pid $!"
done

# the producer reads one line per cycle from a FIFO in paced mode
mkfifo "$WORK/pace"
if [ -n "$FREE" ]; then
  PARGS=(--cycles "$CYCLES" --interval-ms "$FREE")
else
  PARGS=(--cycles "$((CYCLES + 2))" --step)
fi
"$PRODUCER" "${STORE[@]}" --cache-dir "$WORK/pcache" --s3-strict --announcer "$REDIS" \
            "${PARGS[@]}" <"$WORK/pace" >"$WORK/p.out" 2>"$WORK/p.err" &
PPID_=$!
PIDS+=("$PPID_")
echo "producer: pid $PPID_"
exec 3>"$WORK/pace"

# version of the last line of a file
last_version() { tail -1 "$1" 2>/dev/null | awk '{print $2}'; }
# wait_until SECONDS CMD...: poll CMD every 0.1 s
wait_until() {
  local n=$(($1 * 10)); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}
all_at() { # all_at VERSION: every consumer's last line is VERSION
  local i
  for i in $(seq $NCONS); do [ "$(last_version "$WORK/c$i.out")" = "$1" ] || return 1; done
}
lines_of() { wc -l <"$1"; }
has_lines() { [ "$(lines_of "$1")" -ge "$2" ]; }
SHOWN=(0 0 0 0)
show_consumers() { # print the consumers' lines not shown yet
  local i n
  for i in $(seq $NCONS); do
    n=$(lines_of "$WORK/c$i.out")
    if [ "$n" -gt "${SHOWN[$i]}" ]; then
      tail -n +"$((SHOWN[i] + 1))" "$WORK/c$i.out" | head -n "$((n - SHOWN[i]))" | sed "s/^/  consumer $i: /"
      SHOWN[i]=$n
    fi
  done
}
PSHOWN=0
show_producer() {
  local n
  n=$(lines_of "$WORK/p.out")
  if [ "$n" -gt "$PSHOWN" ]; then
    tail -n +"$((PSHOWN + 1))" "$WORK/p.out" | head -n "$((n - PSHOWN))" | sed 's/^/producer:   /'
    PSHOWN=$n
  fi
}
cycle() { # paced: one cycle, then every consumer reaches it
  local want=$1 v
  echo >&3
  wait_until 60 has_lines "$WORK/p.out" "$want" ||
    { cat "$WORK/p.err" >&2; die "the producer made no version in cycle $want"; }
  show_producer
  v=$(last_version "$WORK/p.out")
  wait_until 60 all_at "$v" || { show_consumers; die "a consumer did not reach $v"; }
  show_consumers
}

say "$CYCLES cycles"
if [ -n "$FREE" ]; then
  exec 3>&-
  wait_until $((CYCLES * (FREE / 1000 + 2) + 60)) has_lines "$WORK/p.out" "$CYCLES" ||
    { cat "$WORK/p.err" >&2; die "the producer did not finish its cycles"; }
  wait "$PPID_" || { cat "$WORK/p.err" >&2; die "the producer failed"; }
  show_producer
  V=$(last_version "$WORK/p.out")
  wait_until 60 all_at "$V" || { show_consumers; die "a consumer did not reach $V"; }
  show_consumers
else
  for c in $(seq "$CYCLES"); do cycle "$c"; done
fi

PIN=$(sed -n 2p "$WORK/p.out" | awk '{print $2}')
say "pin every consumer to the second version, $PIN"
"$CLI" pin --announcer "$REDIS" "$PIN"
wait_until 60 all_at "$PIN" || { show_consumers; die "a consumer did not reach the pinned $PIN"; }
show_consumers

if [ -z "$FREE" ]; then
  say "two more cycles while pinned: the consumers stay at $PIN"
  for c in $((CYCLES + 1)) $((CYCLES + 2)); do
    echo >&3
    wait_until 60 has_lines "$WORK/p.out" "$c" || die "the producer made no version in cycle $c"
    show_producer
  done
  sleep 1
  all_at "$PIN" || { show_consumers; die "a pinned consumer moved"; }
  echo "  (no consumer moved)"
  exec 3>&-
  wait "$PPID_" || { cat "$WORK/p.err" >&2; die "the producer failed"; }
fi

LAST=$(tail -1 "$WORK/p.out")
V=$(echo "$LAST" | awk '{print $2}')
say "unpin: every consumer goes to the latest version, $V"
"$CLI" unpin --announcer "$REDIS"
wait_until 60 all_at "$V" || { show_consumers; die "a consumer did not reach $V after unpin"; }
show_consumers

say "stopping the consumers (SIGTERM)"
for i in $(seq $NCONS); do
  pid=${PIDS[$((i - 1))]}
  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || die "consumer $i exited $rc"
  [ "$(tail -1 "$WORK/c$i.out")" = "$LAST" ] || die "consumer $i ends on '$(tail -1 "$WORK/c$i.out")', not '$LAST'"
  grep -q "^version $PIN " "$WORK/c$i.out" || die "consumer $i never reached the pinned $PIN"
  # every version it reached, with the producer's checksum and counts
  while read -r line; do
    grep -qxF -- "$line" "$WORK/p.out" || die "consumer $i reached '$line', which the producer never made"
  done <"$WORK/c$i.out"
  echo "consumer $i: exit 0, $(lines_of "$WORK/c$i.out") versions reached, ends on the producer's last version and checksum"
done
PIDS=()
say "done: every consumer ended on $LAST"
