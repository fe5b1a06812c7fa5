#!/usr/bin/env bash
# A throw-away redis-server on loopback for tests and demos.
#
# usage: scripts/redis.sh start|stop|kill
# env:   REDIS_STATE     state directory (default ./.test-state/redis): pid,
#                        port, log
#        REDIS_PORT      port; 0 or unset picks a free one (written to
#                        $REDIS_STATE/port)
#        REDIS_PASSWORD  if set, the server requires it (--requirepass)
#
# Nothing is persisted (--save '' --appendonly no): a restart is empty.
# stop: SIGTERM, then SIGKILL after 5 s; kill: SIGKILL at once (a crash).
# Only the PID in $REDIS_STATE/redis.pid is ever signalled.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${REDIS_STATE:-$ROOT/.test-state/redis}
PIDFILE=$STATE/redis.pid

# a free TCP port on 127.0.0.1 (bound and released by the kernel's choice)
free_port() {
  python3 -S -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# true while $1 is alive and not a zombie
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

ping_ok() {
  local args=(-h 127.0.0.1 -p "$1")
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    REDISCLI_AUTH=$REDIS_PASSWORD redis-cli "${args[@]}" ping 2>/dev/null
  else
    redis-cli "${args[@]}" ping 2>/dev/null
  fi
}

case "${1:-}" in
start)
  mkdir -p "$STATE"
  PORT=${REDIS_PORT:-0}
  [ "$PORT" != 0 ] || PORT=$(free_port)
  if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
    echo "redis already running (pid $(cat "$PIDFILE"))" >&2
    exit 1
  fi
  # the password goes through stdin as a config file, never through argv
  conf=(--port "$PORT" --bind 127.0.0.1 --save '' --appendonly no
        --daemonize yes --pidfile "$PIDFILE" --logfile "$STATE/redis.log"
        --dir "$STATE")
  rm -f "$PIDFILE"
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    pw=${REDIS_PASSWORD//\\/\\\\}
    pw=${pw//\"/\\\"}
    printf 'requirepass "%s"\n' "$pw" | redis-server - "${conf[@]}"
  else
    redis-server "${conf[@]}" </dev/null
  fi
  for _ in $(seq 1 200); do
    [ "$(ping_ok "$PORT")" = PONG ] && [ -s "$PIDFILE" ] && break
    sleep 0.025
  done
  if [ "$(ping_ok "$PORT")" != PONG ] || [ ! -s "$PIDFILE" ]; then
    echo "redis did not start on 127.0.0.1:$PORT" >&2
    cat "$STATE/redis.log" >&2 2>/dev/null || true
    exit 1
  fi
  echo "$PORT" > "$STATE/port"
  echo "redis pid $(cat "$PIDFILE") on 127.0.0.1:$PORT"
  ;;
stop|kill)
  [ -f "$PIDFILE" ] || exit 0
  PID=$(cat "$PIDFILE")
  if [ "$1" = kill ]; then
    kill -KILL "$PID" 2>/dev/null || true
  else
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.1; done
    if alive "$PID"; then kill -KILL "$PID" 2>/dev/null || true; fi
  fi
  for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.05; done
  rm -f "$PIDFILE"
  ;;
*)
  echo "usage: $0 start|stop|kill" >&2
  exit 2
  ;;
esac
