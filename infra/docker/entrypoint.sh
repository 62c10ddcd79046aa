#!/usr/bin/env bash
# Container entry point: runs one im-message role in the foreground, from the bundles the image
# built (apps/<role>/dist/main.js), with production dependencies only.
#   entrypoint.sh <role> [extra args]      roles below; "cli" runs the operator's command line
set -e

ROLES="ingest-api worker-persist worker-fanout worker-delivery worker-cleaner worker-push migrate cli"
CONFIG=conf/im-message.ini

usage() {
  echo "usage: entrypoint.sh <role> [args...]; roles: ${ROLES// /, }" >&2
  exit 2
}

cd "$(dirname "$0")/../.."

role="${1:-}"
[ -n "$role" ] || usage
shift

case " $ROLES " in
  *" $role "*) ;;
  *) echo "entrypoint: unknown role \"$role\"" >&2; usage ;;
esac

# Where the image's HEALTHCHECK (infra/docker/healthcheck.mjs) finds this role's /health.
health_port() {
  case "$1" in
    ingest-api) echo "${IM_MESSAGE_SERVICE_PORT:-6000}" ;;
    worker-persist) echo "${IM_METRICS_PORT:-9101}" ;;
    worker-fanout) echo "${IM_METRICS_PORT:-9102}" ;;
    worker-delivery) echo "${IM_METRICS_PORT:-9103}" ;;
    worker-cleaner) echo "${IM_METRICS_PORT:-9104}" ;;
    worker-push) echo "${IM_METRICS_PORT:-9105}" ;;
  esac
}
# Only a server role writes it: migrate and cli leave it as it is, since they also run beside a
# server in its container (docker exec, kubectl exec), whose health check must go on following it.
# A container that never ran a server has no file and is healthy (healthcheck.mjs).
port=$(health_port "$role")
if [ -n "$port" ] && [ "$port" != 0 ]; then echo "$port" > /tmp/im-health-port; fi

case "$role" in
  migrate) exec node packages/db/dist/migrate.js -c "$CONFIG" "$@" ;;
  cli) exec node apps/cli/dist/main.js "$@" ;;
  *) exec node "apps/$role/dist/main.js" -c "$CONFIG" "$@" ;;
esac
