#!/usr/bin/env bash
# with_postgres_database.sh VAR COMMAND...: runs COMMAND with $VAR set to the
# URL of a fresh, empty database on the ctest fixture's PostgreSQL
# ($LAKEGATE_TEST_POSTGRES_DIR/url, scripts/postgres.sh), dropped afterwards.
set -euo pipefail
var=${1:?usage: with_postgres_database.sh VAR COMMAND...}
shift
url=$(cat "${LAKEGATE_TEST_POSTGRES_DIR:?the postgres ctest fixture is not running}/url")
base=${url%%\?*}
query=${url#"$base"}
server=${base%/*}
name="t_$$_$RANDOM"
psql=/usr/lib/postgresql/15/bin/psql
"$psql" "$server/postgres$query" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name"
trap '"$psql" "$server/postgres$query" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true' EXIT
export "$var=$server/$name$query"
"$@"
