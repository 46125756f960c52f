#!/usr/bin/env bash
# Install (if needed) and start a throwaway PostgreSQL server on 127.0.0.1:54329 for the tests.
# Writes the URL the tests use to .ci/postgres.url.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
url="postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
if "$bin/pg_isready" -q -h 127.0.0.1 -p 54329; then
  echo "$url" > .ci/postgres.url
  echo "PostgreSQL already running: $url"
  exit 0
fi
data=$(mktemp -d /tmp/qualcode-pg.XXXXXX)
chown postgres "$data"
runuser -u postgres -- "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$data" -o "-p 54329 -k /tmp -c listen_addresses=127.0.0.1" -l "$data/log" -w start >/dev/null
echo "$url" > .ci/postgres.url
echo "PostgreSQL running: $(cat .ci/postgres.url)"
