#!/usr/bin/env bash
# Bring up a local Redis and MariaDB for one stack ("dev" for npm start, "test" for npm test, or
# any other name with STACK_REDIS_PORT and STACK_MYSQL_PORT, e.g. for a second test run).
# Installs Debian's packages when missing, keeps data in .stack/<name>/, binds to loopback only,
# waits until both answer, then prints the URLs as KEY=value lines on stdout.
# A server that REDIS_URL / MYSQL_URL already point at is used as it is and never touched.
set -euo pipefail

name=${1:-dev}
case "$name" in
  dev)  redis_port=${STACK_REDIS_PORT:-6390}; mysql_port=${STACK_MYSQL_PORT:-3390}; cluster_port=${STACK_CLUSTER_PORT:-7390} ;;
  test) redis_port=${STACK_REDIS_PORT:-6391}; mysql_port=${STACK_MYSQL_PORT:-3391}; cluster_port=${STACK_CLUSTER_PORT:-7400} ;;
  *) # any other name: a stack of its own, on the ports given
     if [ -z "${STACK_REDIS_PORT:-}" ] || [ -z "${STACK_MYSQL_PORT:-}" ] || ! [[ "$name" =~ ^[a-z0-9-]+$ ]]; then
       echo "usage: up.sh dev|test, or STACK_REDIS_PORT=P STACK_MYSQL_PORT=Q up.sh NAME" >&2; exit 2
     fi
     redis_port=$STACK_REDIS_PORT; mysql_port=$STACK_MYSQL_PORT; cluster_port=${STACK_CLUSTER_PORT:-0} ;;
esac
# STACK_REDIS_CLUSTER=1 also starts a local Redis Cluster: 3 primaries and 3 replicas on
# cluster_port+1 .. cluster_port+6 (npm start -- --redis-cluster; npm test always does, for the
# suites it runs on both topologies). cluster-node-timeout is short so a failover takes seconds.
want_cluster=${STACK_REDIS_CLUSTER:-0}
[ "$name" = test ] && want_cluster=1
[ -n "${REDIS_CLUSTER_NODES:-}" ] && want_cluster=0

root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.stack/$name"
mkdir -p "$dir"
exec 3>&2   # messages reach the caller even from checks whose output is silenced
log() { echo "[stack:$name] $*" >&3; }

need_redis=1; need_mysql=1
[ -n "${REDIS_URL:-}" ] && need_redis=0
[ -n "${MYSQL_URL:-}" ] && need_mysql=0

install_missing() {
  local pkgs=()
  [ $need_redis = 1 ] && ! command -v redis-server >/dev/null && pkgs+=(redis-server)
  [ $need_mysql = 1 ] && ! command -v mariadbd >/dev/null && pkgs+=(mariadb-server mariadb-client)
  # The observability test runs a real Prometheus against the fleet.
  [ "$name" = test ] && ! command -v prometheus >/dev/null && pkgs+=(prometheus)
  [ ${#pkgs[@]} = 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "missing ${pkgs[*]}: install them (Debian: apt-get install ${pkgs[*]}), or set REDIS_URL / MYSQL_URL to running servers"
    exit 1
  fi
  log "installing ${pkgs[*]} with apt-get (first run only)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
}

# PONG, not an error such as LOADING while a restarted server reads its data back.
redis_ready() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 limit=$2; shift 2
  local waited=0 delay=0.05
  until "$@" >/dev/null 2>&1; do
    if awk "BEGIN{exit !($waited >= $limit)}"; then log "$what did not answer within ${limit}s"; return 1; fi
    sleep "$delay"; waited=$(awk "BEGIN{print $waited + $delay}")
    delay=$(awk "BEGIN{d=$delay*2; print (d>0.5?0.5:d)}")
  done
}

start_redis() {
  local pidfile="$dir/redis.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "redis already running on 127.0.0.1:$redis_port"
  else
    mkdir -p "$dir/redis"
    log "starting redis on 127.0.0.1:$redis_port"
    redis-server "$root/infra/redis/redis.conf" --port "$redis_port" --dir "$dir/redis" \
      --pidfile "$pidfile" --logfile "$dir/redis.log" --daemonize yes >&2 3>&-
  fi
  wait_for redis 60 redis_ready "$redis_port"
}

start_mysql() {
  local pidfile="$dir/mysql.pid" sock="$dir/mysql.sock" data="$dir/mysql"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "mariadb already running on 127.0.0.1:$mysql_port"
  else
    if [ ! -d "$data/mysql" ]; then
      log "initialising mariadb data in .stack/$name/mysql"
      mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$data" \
        --auth-root-authentication-method=socket --skip-test-db >"$dir/mysql-install.log" 2>&1 \
        || { log "mariadb-install-db failed, see .stack/$name/mysql-install.log"; exit 1; }
    fi
    log "starting mariadb on 127.0.0.1:$mysql_port"
    setsid nohup mariadbd --no-defaults --user="$(id -un)" --datadir="$data" \
      --port="$mysql_port" --bind-address=127.0.0.1 --socket="$sock" --pid-file="$pidfile" \
      --log-error="$dir/mysql.log" --skip-name-resolve \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --innodb-buffer-pool-size=512M --innodb-log-file-size=256M \
      --max-connections=500 --max-allowed-packet=64M </dev/null >/dev/null 2>&1 3>&- &
    mysql_pid=$!
  fi
  mysql_up() {
    if [ -n "${mysql_pid:-}" ] && ! kill -0 "$mysql_pid" 2>/dev/null; then
      log "mariadb exited during start-up (port $mysql_port taken?); last lines of .stack/$name/mysql.log:"
      tail -n 5 "$dir/mysql.log" >&3
      exit 1
    fi
    mariadb-admin --no-defaults --socket="$sock" -uroot ping
  }
  wait_for mariadb 60 mysql_up || { tail -n 20 "$dir/mysql.log" >&2; exit 1; }
  mariadb --no-defaults --socket="$sock" -uroot <<SQL
CREATE USER IF NOT EXISTS 'im'@'127.0.0.1' IDENTIFIED BY 'im';
CREATE USER IF NOT EXISTS 'im'@'localhost' IDENTIFIED BY 'im';
GRANT ALL PRIVILEGES ON *.* TO 'im'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'im'@'localhost';
CREATE DATABASE IF NOT EXISTS im CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SQL
}

# The browser test (test/e2e/browser.test.ts) drives Debian's Chromium. Best effort: without it
# that test skips and says why; nothing else needs it.
install_browser() {
  [ "$name" = test ] || return 0
  command -v chromium >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "no chromium: the browser test will skip (Debian: apt-get install chromium)"
    return 0
  fi
  log "installing chromium with apt-get for the browser test (first run only)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2; } \
    || log "could not install chromium: the browser test will skip"
}

# The Python gRPC client check (test/support/grpc_check.py, run by test/e2e/grpc-v1.test.ts) uses
# Debian's grpcio, protobuf and protoc. Best effort, like the browser: without them that check
# skips and says what to install.
install_grpc_python() {
  [ "$name" = test ] || return 0
  command -v protoc >/dev/null && /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null && return 0
  local pkgs=(python3-grpcio python3-protobuf protobuf-compiler)
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "no Python grpcio: the Python gRPC check will skip (Debian: apt-get install ${pkgs[*]})"
    return 0
  fi
  log "installing ${pkgs[*]} with apt-get for the Python gRPC check (first run only)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; } \
    || log "could not install ${pkgs[*]}: the Python gRPC check will skip"
}

cluster_node_up() { # cluster_node_up <port>
  local port=$1 nodedir="$dir/cluster/$1"
  local pidfile="$nodedir/redis.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  mkdir -p "$nodedir"
  redis-server "$root/infra/redis/redis.conf" --port "$port" --dir "$nodedir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --cluster-replica-validity-factor 0 \
    --pidfile "$pidfile" --logfile "$nodedir/redis.log" --daemonize yes >&2 3>&-
}

start_redis_cluster() {
  if [ "$cluster_port" = 0 ]; then log "no cluster port for stack $name (set STACK_CLUSTER_PORT)"; exit 2; fi
  local ports=() p
  for i in 1 2 3 4 5 6; do ports+=($((cluster_port + i))); done
  log "redis cluster (3 primaries, 3 replicas) on 127.0.0.1:${ports[0]}-${ports[5]}"
  for p in "${ports[@]}"; do cluster_node_up "$p"; done
  for p in "${ports[@]}"; do wait_for "cluster node $p" 60 redis_ready "$p"; done
  if ! redis-cli -p "${ports[0]}" cluster info | grep -q 'cluster_known_nodes:6'; then
    log "creating the cluster"
    redis-cli --cluster create $(for p in "${ports[@]}"; do printf '127.0.0.1:%s ' "$p"; done) \
      --cluster-replicas 1 --cluster-yes >"$dir/cluster-create.log" 2>&1 \
      || { log "redis-cli --cluster create failed, see .stack/$name/cluster-create.log"; exit 1; }
  fi
  cluster_ok() { for p in "${ports[@]}"; do redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' || return 1; done; }
  wait_for "redis cluster state ok" 60 cluster_ok
  cluster_nodes=$(printf '127.0.0.1:%s,' "${ports[@]}"); cluster_nodes=${cluster_nodes%,}
}

install_missing
install_browser
install_grpc_python
[ $need_redis = 1 ] && start_redis
[ $need_mysql = 1 ] && start_mysql
if [ "$want_cluster" = 1 ]; then start_redis_cluster; fi

echo "REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$redis_port}"
echo "MYSQL_URL=${MYSQL_URL:-mysql://im:im@127.0.0.1:$mysql_port/im}"
if [ "$want_cluster" = 1 ]; then echo "REDIS_CLUSTER_NODES=$cluster_nodes"; fi
