#!/usr/bin/env bash
# Query API benchmark: `SELECT * FROM members LIMIT 10` with one
# cached token over keep-alive, for the super role (direct fast path) and the
# dev role (governed virtual tables), against a static nginx response measured
# in the same run; then a 1,000,000-row JSON stream (rows/s and peak RSS at
# 100,000 and 1,000,000 rows); then the engine's in-process floor
# (build/bench/engine_floor_bench).
#
# Loopback only; every wrk run is bounded by -d; servers are stopped by PID.
# Usage: bench/query_bench.sh [OUTDIR]    env: DURATION=15s CONNECTIONS=50
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/lakegate-bench/query}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-50}
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
NGINX_PORT=${NGINX_PORT:-18080}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"

start_demo() {   # start_demo DIR [extra stack yaml appended]: sets URL and PID
  "$LAKEGATE" demo --dir "$1" --port 0 >"$1.out" 2>"$1.err" &
  PID=$!; PIDS+=("$PID")
  URL=$(wait_for_url "$1.out" "running at")
  [[ -n $URL ]] || { cat "$1.err" >&2; exit 1; }
}
token_for() {
  local f=$1/secrets/$2.json
  curl -fsS -u "$(jq -r .client_id "$f"):$(jq -r .client_secret "$f")" \
    -d grant_type=client_credentials "$URL/oauth2/token" | jq -r .access_token
}

# --- nginx ceiling -------------------------------------------------------------
n=$(nginx_ceiling "$OUT/nginx.txt"); nrps=$(field "$n" rps)

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name:\s*//p'); wrk -t1 -c$CONNECTIONS -d$DURATION --latency"
echo
echo "| server | requests/s | ratio to nginx | p50 | p90 | p99 | non-2xx | socket errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '| nginx return 200 | %s | 1.00 | %s µs | %s µs | %s µs | %s | %s |\n' "$nrps" \
  "$(field "$n" p50_us)" "$(field "$n" p90_us)" "$(field "$n" p99_us)" "$(field "$n" non2xx)" "$(field "$n" sock_err)"

# --- the query API, one cached token per role ----------------------------------
start_demo "$WORK/demo"
for client in etl-service reporting-service; do
  export TOKEN; TOKEN=$(token_for "$WORK/demo" "$client")
  export SQL="SELECT * FROM members LIMIT 10"
  wrk -t1 -c10 -d2s -s "$ROOT/bench/wrk/query.lua" "$URL/v1/query" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/bench/wrk/query.lua" \
    "$URL/v1/query" >"$OUT/query-$client.txt"
  l=$(grep ^RESULT "$OUT/query-$client.txt"); lrps=$(field "$l" rps)
  role=$([[ $client == etl-service ]] && echo "lf-super-user-role, fast path" || echo "lf-dev-role, governed")
  printf '| lakegate query (%s) | %s | %s | %s µs | %s µs | %s µs | %s | %s |\n' "$role" "$lrps" \
    "$(ratio "$lrps" "$nrps")" "$(field "$l" p50_us)" "$(field "$l" p90_us)" "$(field "$l" p99_us)" \
    "$(field "$l" non2xx)" "$(field "$l" sock_err)"
done
kill -TERM "$PID"; wait "$PID" || true

# --- streaming: 100,000 and 1,000,000 rows as JSON ------------------------------
echo
echo "| rows streamed (JSON, super role) | seconds | rows/s | response bytes | rowCount in body | server peak RSS |"
echo "|---:|---:|---:|---:|---:|---:|"
for rows in 100000 1000000; do
  d=$WORK/stream-$rows
  "$LAKEGATE" demo --dir "$d" --port 0 >/dev/null 2>&1 & p=$!; sleep 1; kill -TERM $p; wait $p || true
  sed -i 's/max_rows: 10000/max_rows: 2000000\n  max_result_bytes: 1073741824/' "$d/stack.yaml"
  python3 - "$d/lake/analytics.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS big AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r LIMIT 1000000) "
           "SELECT i AS id, 'name-' || i AS name, i * 0.5 AS amount, 'region-' || (i % 7) AS region FROM r")
db.commit()
PY
  start_demo "$d"
  TOKEN=$(token_for "$d" etl-service)
  t0=$(date +%s.%N)
  bytes=$(curl -fsS -o "$d/body.json" -w '%{size_download}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"query\": \"SELECT * FROM big LIMIT $rows\", \"maxRows\": $rows}" "$URL/v1/query")
  t1=$(date +%s.%N)
  rss=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$PID/status)
  kill -TERM "$PID"; wait "$PID" || true
  count=$(tail -c 200 "$d/body.json" | sed -n 's/.*"rowCount":\([0-9]*\).*/\1/p')
  printf '| %s | %.2f | %.0f | %s | %s | %s |\n' "$rows" "$(echo "$t1 - $t0" | awk '{print $1 - $3}')" \
    "$(awk -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN { print r / (b - a) }')" "$bytes" "$count" "$rss"
done

# --- the engine's floor, in-process ---------------------------------------------
if [[ -x $ROOT/build/bench/engine_floor_bench ]]; then
  echo
  "$ROOT/build/bench/engine_floor_bench" "$WORK/floor"
fi
