#!/usr/bin/env bash
# Container entry point: runs one im-message role in the foreground.
#   entrypoint.sh <role> [extra args]
set -e

ROLES="ingest-api worker-persist worker-fanout worker-delivery worker-cleaner migrate"
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

if [ "$role" = migrate ]; then
  exec node --import tsx packages/db/src/migrate.cli.ts -c "$CONFIG" "$@"
fi

entry="apps/$role/src/main.ts"
if [ ! -f "$entry" ]; then
  echo "entrypoint: role \"$role\" is not in this image ($entry is missing)" >&2
  exit 2
fi
exec node --import tsx "$entry" -c "$CONFIG" "$@"
