#!/usr/bin/env bash
# PostgreSQL engine benchmark: the query API over `--engine postgresql://` against
# the same statements run directly on PostgreSQL with a prepared statement
# (pgbench -M prepared, as the database owner: no governance), in one run, plus
# a static nginx response as the machine's HTTP ceiling.
#
#   1. SELECT * FROM members LIMIT 10       (demo lake, 1,000 rows)
#   2. SELECT region, count(*), sum(amount) FROM big GROUP BY region   (1,000,000 rows)
# each through the query API as the super role (raw schema) and the dev role
# (a governed security-barrier view), and directly with pgbench.
#
# With LAKEGATE_BEFORE=<another lakegate binary> (e.g. main's build) the query
# API rows run for both binaries in the same run, each on a database of its own
# ("before" rows first), for a before/after comparison on equal terms.
#
# A private PostgreSQL (scripts/postgres.sh) in a temp dir; loopback only; every
# run bounded by -d / -T; servers stopped by PID (and the database by its script).
# Usage: bench/postgres_engine_bench.sh [OUTDIR]
#   env: DURATION=15s CONNECTIONS=50 GROUP_CONNECTIONS=4 LAKEGATE=build/src/cli/lakegate
#        PROCESS_RUNS=200 (one query per psql / curl process)
#        LAKEGATE_BEFORE= (unset: one binary)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/lakegate-bench/postgres-engine}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-50}
GROUP_CONNECTIONS=${GROUP_CONNECTIONS:-4}
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
NGINX_PORT=${NGINX_PORT:-18080}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"
# The server's own directory (its user must reach it: not under $WORK, 0700).
PG_DIR=$(mktemp -d /tmp/lakegate-pgbench.XXXXXX)
trap 'bash "$ROOT/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; cleanup' EXIT

seconds=${DURATION%s}
PG_URL=$(bash "$ROOT/scripts/postgres.sh" start "$PG_DIR")

token_for() {
  local f=$1/secrets/$2.json
  curl -fsS -u "$(jq -r .client_id "$f"):$(jq -r .client_secret "$f")" \
    -d grant_type=client_credentials "$URL/oauth2/token" | jq -r .access_token
}
# api_run CLIENT SQL CONNECTIONS NAME: the query API's RESULT line for SQL as CLIENT.
api_run() {
  export TOKEN SQL="$2"
  TOKEN=$(token_for "$DEMO" "$1")
  wrk -t1 -c4 -d2s -s "$ROOT/bench/wrk/query.lua" "$URL/v1/query" >/dev/null
  wrk -t1 -c"$3" -d"$DURATION" --latency -s "$ROOT/bench/wrk/query.lua" "$URL/v1/query" \
    >"$OUT/api-$1-$4.txt"
  grep ^RESULT "$OUT/api-$1-$4.txt"
}
# pgbench_tps SQL CONNECTIONS NAME: transactions/s of the prepared statement.
pgbench_tps() {
  printf '%s;\n' "$1" >"$WORK/$3.sql"
  "$PG_BIN/pgbench" -n -M prepared -c "$2" -j 1 -T 2 -f "$WORK/$3.sql" "$PG_URL_DIRECT" >/dev/null
  "$PG_BIN/pgbench" -n -M prepared -c "$2" -j 1 -T "$seconds" -f "$WORK/$3.sql" "$PG_URL_DIRECT" \
    >"$OUT/pgbench-$3.txt"
  sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench-$3.txt"
}

n=$(nginx_ceiling "$OUT/nginx.txt"); nrps=$(field "$n" rps)

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name:\s*//p'); PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'); wrk -t1 --latency; pgbench -M prepared -j 1; $DURATION each"
echo
echo "| workload | client | connections | requests/s | ratio to direct | ratio to nginx | p50 | p99 |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
printf '| nginx return 200 | - | %s | %s | - | 1.00 | %s µs | %s µs |\n' "$CONNECTIONS" "$nrps" \
  "$(field "$n" p50_us)" "$(field "$n" p99_us)"

# start_demo LABEL BINARY: the demo lake on a database of its own (its roles
# are per database), with analytics.big; sets URL, DB_URL and DEMO.
start_demo() {
  "$PG_BIN/psql" "$PG_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench_$1"
  DB_URL=$(sed "s#/[^/?]*\(?\|$\)#/bench_$1\1#" <<<"$PG_URL")
  DEMO=$WORK/demo-$1
  "$2" demo --dir "$DEMO" --port 0 --engine "$DB_URL" >"$WORK/demo-$1.out" 2>"$WORK/demo-$1.err" &
  DEMO_PID=$!; PIDS+=("$DEMO_PID")
  URL=$(wait_for_url "$WORK/demo-$1.out" "running at")
  [[ -n $URL ]] || { cat "$WORK/demo-$1.err" >&2; exit 1; }
  "$PG_BIN/psql" "$DB_URL" -q -v ON_ERROR_STOP=1 -c \
    "CREATE TABLE analytics.big AS SELECT i AS id, 'name-' || i AS name, i * 0.5 AS amount,
       'region-' || (i % 7) AS region FROM generate_series(1, 1000000) i; ANALYZE analytics.big;"
  sleep 1  # the engine's schema check picks the new table up
}
stop_demo() { kill -TERM "$DEMO_PID"; wait "$DEMO_PID" 2>/dev/null || true; }

LIMIT_SQL="SELECT * FROM analytics.members LIMIT 10"
GROUP_SQL="SELECT region, count(*), sum(amount) FROM analytics.big GROUP BY region"
DEV_GROUP_SQL="SELECT region, count(*), sum(lifetime_value) FROM analytics.members GROUP BY region"
runs=(after)
[[ -n ${LAKEGATE_BEFORE:-} ]] && runs=(before after)
for run in "${runs[@]}"; do
  binary=$LAKEGATE; [[ $run == before ]] && binary=$LAKEGATE_BEFORE
  tag=""; [[ ${#runs[@]} -gt 1 ]] && tag=" ($run)"
  start_demo "$run" "$binary"
  if [[ $run == "${runs[0]}" ]]; then
    # The query API runs at most query.max_concurrent_per_client (4) statements
    # of one client at once, so the direct runs get the same 4 connections.
    PG_URL_DIRECT=$DB_URL
    direct_limit=$(pgbench_tps "$LIMIT_SQL" "$GROUP_CONNECTIONS" limit)
    direct_group=$(pgbench_tps "$GROUP_SQL" "$GROUP_CONNECTIONS" group)
    direct_dev=$(pgbench_tps "$DEV_GROUP_SQL" "$GROUP_CONNECTIONS" group-dev)
    printf '| LIMIT 10 | pgbench (direct, prepared) | %s | %s | 1.00 | %s | - | - |\n' "$GROUP_CONNECTIONS" "$direct_limit" "$(ratio "$direct_limit" "$nrps")"
    # What PostgreSQL itself does for one governed read: the engine's pipeline
    # (BEGIN READ ONLY, the statement, ROLLBACK, advisory unlock; the settings
    # stay in the session; pgbench 15 has no mid-pipeline sync, so one sync at
    # the end).
    cat >"$WORK/engine-limit.sql" <<SQL
\\startpipeline
BEGIN READ ONLY;
$LIMIT_SQL;
ROLLBACK;
SELECT pg_advisory_unlock_all();
\\endpipeline
SQL
    "$PG_BIN/pgbench" -n -M prepared -c "$GROUP_CONNECTIONS" -j 1 -T "$seconds" -f "$WORK/engine-limit.sql" \
      "$PG_URL_DIRECT" >"$OUT/pgbench-engine-limit.txt"
    engine_limit=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench-engine-limit.txt")
    printf '| LIMIT 10 | pgbench, the engine'"'"'s pipeline per read (4 statements, prepared) | %s | %s | %s | %s | - | - |\n' \
      "$GROUP_CONNECTIONS" "$engine_limit" "$(ratio "$engine_limit" "$direct_limit")" "$(ratio "$engine_limit" "$nrps")"
    printf '| GROUP BY, 1M rows | pgbench (direct, prepared) | %s | %s | 1.00 | - | - | - |\n' "$GROUP_CONNECTIONS" "$direct_group"
    printf '| GROUP BY, members (1,000 rows) | pgbench (direct, prepared) | %s | %s | 1.00 | - | - | - |\n' "$GROUP_CONNECTIONS" "$direct_dev"
  fi
  for client in etl-service reporting-service; do
    l=$(api_run "$client" "SELECT * FROM members LIMIT 10" "$CONNECTIONS" "limit-$run"); r=$(field "$l" rps)
    printf '| LIMIT 10 | query API, %s%s | %s | %s | %s | %s | %s µs | %s µs |\n' "$client" "$tag" "$CONNECTIONS" "$r" \
      "$(ratio "$r" "$direct_limit")" "$(ratio "$r" "$nrps")" "$(field "$l" p50_us)" "$(field "$l" p99_us)"
  done
  l=$(api_run etl-service "SELECT region, count(*), sum(amount) FROM big GROUP BY region" "$GROUP_CONNECTIONS" "group-$run")
  r=$(field "$l" rps)
  printf '| GROUP BY, 1M rows | query API, etl-service%s | %s | %s | %s | - | %s µs | %s µs |\n' "$tag" "$GROUP_CONNECTIONS" "$r" \
    "$(ratio "$r" "$direct_group")" "$(field "$l" p50_us)" "$(field "$l" p99_us)"
  l=$(api_run reporting-service "SELECT region, count(*), sum(lifetime_value) FROM members GROUP BY region" "$GROUP_CONNECTIONS" "group-dev-$run")
  r=$(field "$l" rps)
  printf '| GROUP BY, members (1,000 rows) | query API, reporting-service (governed view)%s | %s | %s | %s | - | %s µs | %s µs |\n' \
    "$tag" "$GROUP_CONNECTIONS" "$r" "$(ratio "$r" "$direct_dev")" "$(field "$l" p50_us)" "$(field "$l" p99_us)"
  if [[ $run == "${runs[-1]}" ]]; then
    # One connection, one request at a time: where one request's time goes.
    # Mean latency (1 / rate) of the bare prepared statement, of the engine's
    # 4-statement pipeline, of an HTTP round trip to nginx, and of the query
    # API (HTTP + token + role + the engine's pipeline + JSON + audit).
    one_nginx=$(CONNECTIONS=1 nginx_ceiling "$OUT/nginx-1.txt")
    one_direct=$(pgbench_tps "$LIMIT_SQL" 1 limit-1)
    "$PG_BIN/pgbench" -n -M prepared -c 1 -j 1 -T "$seconds" -f "$WORK/engine-limit.sql" \
      "$PG_URL_DIRECT" >"$OUT/pgbench-engine-limit-1.txt"
    one_engine=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/pgbench-engine-limit-1.txt")
    us() { awk -v r="$1" 'BEGIN { printf "%.0f", 1e6 / r }'; }
    echo
    echo "One connection, LIMIT 10 (mean latency = 1 / rate)$tag:"
    echo
    echo "| path | requests/s | mean latency | ratio to pgbench |"
    echo "|---|---:|---:|---:|"
    printf '| pgbench (direct, prepared) | %s | %s µs | 1.00 |\n' "$one_direct" "$(us "$one_direct")"
    printf '| pgbench, the engine'"'"'s pipeline per read | %s | %s µs | %s |\n' "$one_engine" \
      "$(us "$one_engine")" "$(ratio "$one_direct" "$one_engine")"
    r=$(field "$one_nginx" rps)
    printf '| nginx return 200 (HTTP round trip alone) | %s | %s µs | - |\n' "$r" "$(us "$r")"
    for client in etl-service reporting-service; do
      l=$(api_run "$client" "SELECT * FROM members LIMIT 10" 1 "limit-1-$run"); r=$(field "$l" rps)
      printf '| query API, %s | %s | %s µs | %s |\n' "$client" "$r" "$(us "$r")" "$(ratio "$one_direct" "$r")"
    done
    # One query per process, as a script runs it: psql connecting and running
    # the prepared statement, against curl posting it to the query API with a
    # token fetched once (both print the rows).
    runs_per_process=${PROCESS_RUNS:-200}
    per_query_ms() {  # per_query_ms CMD...: mean wall time of one run, ms
      local start end
      start=$(date +%s%N)
      for _ in $(seq "$runs_per_process"); do "$@" >/dev/null; done
      end=$(date +%s%N)
      awk -v ns=$((end - start)) -v n="$runs_per_process" 'BEGIN { printf "%.2f", ns / n / 1e6 }'
    }
    psql_ms=$(per_query_ms "$PG_BIN/psql" "$PG_URL_DIRECT" -qAt -c "PREPARE q AS $LIMIT_SQL" -c "EXECUTE q")
    TOKEN=$(token_for "$DEMO" reporting-service)
    curl_ms=$(per_query_ms curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d '{"query": "SELECT * FROM members LIMIT 10"}' "$URL/v1/query")
    echo
    echo "One query per process, LIMIT 10, mean of $runs_per_process runs$tag:"
    echo
    echo "| path | ms per query | ratio to psql |"
    echo "|---|---:|---:|"
    printf '| psql (connect, PREPARE, EXECUTE) | %s | 1.00 |\n' "$psql_ms"
    printf '| curl to the query API, reporting-service (token fetched once) | %s | %s |\n' "$curl_ms" \
      "$(ratio "$curl_ms" "$psql_ms")"
  fi
  stop_demo
done

# The engine alone, in-process on one thread (no HTTP), on a database of its
# own: its cost next to libpq's prepared statement.
"$PG_BIN/psql" "$PG_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench_floor"
echo
"$ROOT/build/bench/engine_floor_bench" "$(sed "s#/[^/?]*\(?\|$\)#/bench_floor\1#" <<<"$PG_URL")"
