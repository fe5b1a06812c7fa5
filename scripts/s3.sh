#!/usr/bin/env bash
# The S3 test server (@20minutes/s3rver 4.0.4, tools/s3rver), one per state directory.
#   scripts/s3.sh start|stop|kill
# env: S3_STATE   directory of this server (default ./.test-state/s3): data/, s3rver.pid, port, s3rver.log
#      S3_PORT    0 or unset: a free port, written to $S3_STATE/port (give it again to restart on it)
#      S3_BUCKET  created at start, signed (default hollow-test)
#      S3_FRESH=1 start from an empty store; otherwise a restart keeps the objects
#      S3_TLS_KEY + S3_TLS_CERT  serve https; S3_TLS_CA verifies it for the bucket creation
# stop: SIGTERM, then SIGKILL after 5 s. kill: SIGKILL at once (tests kill it mid-upload).
# Credentials are fixed by s3rver: S3RVER / S3RVER.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${S3_STATE:-$ROOT/.test-state/s3}
PORT=${S3_PORT:-0}
BUCKET=${S3_BUCKET:-hollow-test}
PIDFILE=$STATE/s3rver.pid
LOG=$STATE/s3rver.log

die() { echo "s3.sh: $*" >&2; exit 1; }

# The PID in the pidfile, if that process is still our s3rver (not a reused PID).
live_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid st
  pid=$(cat "$PIDFILE")
  st=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  [ -n "$st" ] && [ "${st#Z}" = "$st" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 's3rver/s3rver.js' || return 1
  echo "$pid"
}

# Waits up to $2 tenths of a second for PID $1 to be gone (or a zombie).
wait_gone() {
  local st
  for _ in $(seq 1 "$2"); do
    st=$(ps -o stat= -p "$1" 2>/dev/null || true)
    if [ -z "$st" ] || [ "${st#Z}" != "$st" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

start() {
  command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh)"
  if [ ! -f "$ROOT/tools/s3rver/node_modules/@20minutes/s3rver/lib/cli.js" ]; then
    # suites start servers in parallel: one npm ci at a time, the others wait for it
    (
      flock 9
      if [ ! -f "$ROOT/tools/s3rver/node_modules/@20minutes/s3rver/lib/cli.js" ]; then
        npm ci --prefix "$ROOT/tools/s3rver" --no-audit --no-fund --loglevel=error >&2
      fi
    ) 9>"$ROOT/tools/s3rver/.install.lock"
  fi
  if pid=$(live_pid); then die "already running in $STATE (pid $pid)"; fi
  if [ "${S3_FRESH:-0}" = 1 ]; then rm -rf "$STATE/data"; fi
  mkdir -p "$STATE/data"
  rm -f "$STATE/port"
  local scheme=http tls=()
  if [ -n "${S3_TLS_KEY:-}" ] || [ -n "${S3_TLS_CERT:-}" ]; then
    if [ ! -r "${S3_TLS_KEY:-}" ] || [ ! -r "${S3_TLS_CERT:-}" ]; then
      die "S3_TLS_KEY and S3_TLS_CERT must both be readable files"
    fi
    tls=(--key "$S3_TLS_KEY" --cert "$S3_TLS_CERT")
    scheme=https
  fi
  # --openssl-legacy-provider: s3rver encrypts continuation tokens with DES (services.md 1.6)
  : > "$LOG"   # exists before the loop below reads it (the redirection of & may come later)
  node --openssl-legacy-provider "$ROOT/tools/s3rver/s3rver.js" -d "$STATE/data" -a 127.0.0.1 \
       -p "$PORT" --no-vhost-buckets --silent "${tls[@]}" > "$LOG" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PIDFILE"
  local port=""
  for _ in $(seq 1 300); do                      # up to 30 s on a loaded machine
    port=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$LOG" 2>/dev/null | head -1 || true)
    [ -n "$port" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"; cat "$LOG" >&2; die "s3rver exited at start"
    fi
    sleep 0.1
  done
  if [ -z "$port" ]; then
    kill -KILL "$pid" 2>/dev/null || true; rm -f "$PIDFILE"; cat "$LOG" >&2
    die "s3rver not listening after 30 s"
  fi
  local url="$scheme://127.0.0.1:$port"
  local ca=()
  if [ "$scheme" = https ]; then
    if [ -n "${S3_TLS_CA:-}" ]; then ca=(--cacert "$S3_TLS_CA"); else ca=(--insecure); fi
  fi
  local code
  code=$(curl -s -o "$STATE/mkbucket.out" -w '%{http_code}' "${ca[@]}" -X PUT \
              --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
              -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$url/$BUCKET" || true)
  case "$code" in
    200|409) ;;    # 409: the bucket survived a restart
    *) cat "$STATE/mkbucket.out" >&2 2>/dev/null || true
       kill -KILL "$pid" 2>/dev/null || true; rm -f "$PIDFILE"
       die "creating bucket $BUCKET on $url: HTTP $code";;
  esac
  echo "$port" > "$STATE/port"
  echo "s3rver pid $pid on $url, bucket $BUCKET"
}

stop() {
  local pid
  pid=$(live_pid) || { rm -f "$PIDFILE"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 50; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 50 || die "s3rver pid $pid does not exit"
  fi
  rm -f "$PIDFILE"
}

killnow() {
  local pid
  pid=$(live_pid) || { rm -f "$PIDFILE"; return 0; }
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 50 || die "s3rver pid $pid does not exit"
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) killnow ;;
  *) echo "usage: $0 start|stop|kill  (env S3_STATE S3_PORT S3_BUCKET S3_FRESH S3_TLS_KEY S3_TLS_CERT S3_TLS_CA)" >&2
     exit 2 ;;
esac
