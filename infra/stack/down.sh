#!/usr/bin/env bash
# Stop the local Redis and MariaDB of one stack (dev or test). Data stays in .stack/<name>/.
set -uo pipefail
name=${1:-dev}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.stack/$name"
log() { echo "[stack:$name] $*" >&2; }

stop_pid() { # stop_pid <what> <pidfile>
  local what=$1 pidfile=$2
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $what (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$what did not stop in 30s, killing"; kill -KILL "$pid"; }
  fi
  rm -f "$pidfile"
}

stop_pid redis "$dir/redis.pid"
for pidfile in "$dir"/cluster/*/redis.pid; do
  [ -f "$pidfile" ] && stop_pid "cluster node $(basename "$(dirname "$pidfile")")" "$pidfile"
done
stop_pid mariadb "$dir/mysql.pid"
