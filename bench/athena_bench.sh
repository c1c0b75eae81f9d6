#!/usr/bin/env bash
# Athena endpoint benchmark: StartQueryExecution -> SUCCEEDED latency of a small
# query (p50/p99 over N runs), and GetQueryResults paging throughput (rows/s,
# 1,000 rows a page) over a 1,000,000-row result; one demo, one cached token
# (etl-service, the fast path), the awsJson protocol on one keep-alive connection.
#
# Loopback only; the demo is stopped by its PID.
# Usage: bench/athena_bench.sh [OUTDIR]    env: RUNS=500 ROWS=1000000
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
OUT=${1:-/tmp/lakegate-bench/athena}
RUNS=${RUNS:-500}
ROWS=${ROWS:-1000000}
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"

"$LAKEGATE" demo --dir "$WORK/demo" --port 0 >"$WORK/demo.out" 2>"$WORK/demo.err" &
PID=$!; PIDS+=("$PID")
URL=$(wait_for_url "$WORK/demo.out" "running at")
[[ -n $URL ]] || { cat "$WORK/demo.err" >&2; exit 1; }
f=$WORK/demo/secrets/etl-service.json
TOKEN=$(curl -fsS -u "$(jq -r .client_id "$f"):$(jq -r .client_secret "$f")" \
  -d grant_type=client_credentials "$URL/oauth2/token" | jq -r .access_token)

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name:\s*//p')"
l=$(/usr/bin/python3 "$ROOT/bench/athena_bench.py" latency "$URL" "$TOKEN" "$RUNS" | tee "$OUT/latency.txt")
echo "StartQueryExecution -> SUCCEEDED, $RUNS runs: p50 $(field "$l" p50_ms) ms, p90 $(field "$l" p90_ms) ms, p99 $(field "$l" p99_ms) ms"
p=$(/usr/bin/python3 "$ROOT/bench/athena_bench.py" paging "$URL" "$TOKEN" "$ROWS" | tee "$OUT/paging.txt")
echo "GetQueryResults paging, $(field "$p" rows) rows in $(field "$p" pages) pages: $(field "$p" rows_per_s) rows/s ($(field "$p" paging_s) s; the query itself $(field "$p" query_s) s)"
