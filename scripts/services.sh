#!/usr/bin/env bash
# Start the real PostgreSQL and Redis servers the distributed tests use (issue #9).
#
# Idempotent and quick when everything is already there: installs Debian's postgresql and
# redis-server only when missing (needs root, as on CI), starts both on 127.0.0.1 on their default
# ports (5432, 6379), and creates the throw-away test role and database. It prints the URLs the
# tests read (TEST_POSTGRES_URL, TEST_REDIS_URL); the test password is not a secret.
set -euo pipefail

PG_USER=crm_sync_test
PG_DB=crm_sync_test
PG_PASS=crm_sync_test
REDIS_PORT=6379

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else "$@"; fi; }

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
  || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "services: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null
  as_root apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
fi

# --- PostgreSQL: Debian's first cluster, loopback only --------------------------------------
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  as_root pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster "$version" main start -o "-c listen_addresses=127.0.0.1"
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
psql_admin() { as_root su postgres -s /bin/sh -c "psql -p $port -qAtX $*" </dev/null; }
for _ in $(seq 1 50); do psql_admin "-c 'select 1'" >/dev/null 2>&1 && break; sleep 0.2; done
if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname='$PG_USER'\"")" != 1 ]; then
  psql_admin "-c \"create role $PG_USER login createdb password '$PG_PASS'\""
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname='$PG_DB'\"")" != 1 ]; then
  psql_admin "-c \"create database $PG_DB owner $PG_USER\""
fi

# --- Redis: no persistence, loopback only ----------------------------------------------------
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' \
    --appendonly no --logfile /tmp/crm-sync-redis.log
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "services: TEST_POSTGRES_URL=postgresql+psycopg://$PG_USER:$PG_PASS@127.0.0.1:$port/$PG_DB" >&2
echo "services: TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" >&2
