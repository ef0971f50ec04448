#!/bin/sh
# One-shot creation/upgrade of Temporal's PostgreSQL schemas, run by the `temporal-schema`
# service (temporalio/admin-tools image) before the Temporal server starts. Safe to run again:
# on PostgreSQL `create` and `setup-schema` are no-ops on an existing database, and
# `update-schema` applies only the versions the database lacks, so upgrading the image tags
# upgrades the schema in place.
#
# Environment: POSTGRES_SEEDS (host), DB_PORT (default 5432), POSTGRES_USER, SQL_PASSWORD,
# DBNAME (default temporal), VISIBILITY_DBNAME (default temporal_visibility),
# SETUP_ATTEMPTS and SETUP_RETRY_SECONDS (retry 60 times, 2 s apart).
set -eu

log() { echo "temporal-schema: $*"; }

HOST="${POSTGRES_SEEDS:?POSTGRES_SEEDS (the PostgreSQL host) is required}"
PORT="${DB_PORT:-5432}"
USER_NAME="${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD (the PostgreSQL password) is required}"
export SQL_PASSWORD
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
RETRY="${SETUP_RETRY_SECONDS:-2}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

n=0
until nc -z -w 5 "$HOST" "$PORT"; do
    n=$((n + 1))
    if [ "$n" -ge "$ATTEMPTS" ]; then
        echo "temporal-schema: ERROR: PostgreSQL at $HOST:$PORT is unreachable" >&2
        exit 1
    fi
    log "waiting for PostgreSQL at $HOST:$PORT"
    sleep "$RETRY"
done

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$USER_NAME" "$@"
}

# $1 = database name, $2 = schema directory (temporal | visibility)
setup() {
    log "database $1: create, set up, update to the latest $2 schema"
    sql_tool --db "$1" create
    sql_tool --db "$1" setup-schema -v 0.0
    sql_tool --db "$1" update-schema -d "$SCHEMA_ROOT/$2/versioned"
}

setup "${DBNAME:-temporal}" temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
log "done"
