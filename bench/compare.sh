#!/usr/bin/env bash
# Side-by-side throughput of two lakegate binaries in one run: the token
# endpoint (ES256, client_secret_basic) and the query API (`SELECT * FROM
# members LIMIT 10` with one cached token, for the super role's fast path and
# the dev role's governed path). The binaries take turns, round after round,
# so drift in the machine's speed hits both alike; the table gives each
# round's requests/s and the ratio NEW/OLD, and the median ratio per workload.
#
# Loopback only; every wrk run is bounded by -d; servers are stopped by PID.
# Usage: bench/compare.sh OLD_BINARY NEW_BINARY [OUTDIR]
#        env: DURATION=10s CONNECTIONS=50 ROUNDS=3
#             DEMO_ARGS_HOOK=PROGRAM  run as `PROGRAM old|new ROUND` before each
#             demo; what it prints is added to that demo's arguments (e.g.
#             `--state URL` of a fresh database: bench/ha.sh compares the two
#             state stores with one binary this way)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OLD=${1:?usage: bench/compare.sh OLD_BINARY NEW_BINARY [OUTDIR]}
NEW=${2:?usage: bench/compare.sh OLD_BINARY NEW_BINARY [OUTDIR]}
OUT=${3:-/tmp/lakegate-bench/compare}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-3}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"

# run_binary BIN LABEL ROUND: one demo server; prints "token=RPS super=RPS dev=RPS".
run_binary() {
  local bin=$1 dir=$WORK/$2-$3
  rm -rf "$dir"
  local extra=()
  if [[ -n ${DEMO_ARGS_HOOK:-} ]]; then read -r -a extra <<<"$("$DEMO_ARGS_HOOK" "$2" "$3")"; fi
  "$bin" demo --dir "$dir" --port 0 "${extra[@]}" >"$dir.out" 2>"$dir.err" &
  local pid=$!; PIDS+=("$pid")
  local url; url=$(wait_for_url "$dir.out" "running at")
  [[ -n $url ]] || { cat "$dir.err" >&2; exit 1; }
  local f=$dir/secrets/etl-service.json id secret
  id=$(jq -r .client_id "$f"); secret=$(jq -r .client_secret "$f")
  export AUTH="Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)" SCOPE=athena-api/query.read
  wrk -t1 -c10 -d2s -s "$ROOT/bench/wrk/token.lua" "$url/oauth2/token" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/bench/wrk/token.lua" \
    "$url/oauth2/token" >"$OUT/$2-$3-token.txt"
  local results="token=$(field "$(grep ^RESULT "$OUT/$2-$3-token.txt")" rps)"
  export SQL="SELECT * FROM members LIMIT 10"
  for client in etl-service reporting-service; do
    f=$dir/secrets/$client.json
    export TOKEN; TOKEN=$(curl -fsS -u "$(jq -r .client_id "$f"):$(jq -r .client_secret "$f")" \
      -d grant_type=client_credentials "$url/oauth2/token" | jq -r .access_token)
    wrk -t1 -c10 -d2s -s "$ROOT/bench/wrk/query.lua" "$url/v1/query" >/dev/null
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/bench/wrk/query.lua" \
      "$url/v1/query" >"$OUT/$2-$3-$client.txt"
    local name=$([[ $client == etl-service ]] && echo super || echo dev)
    results+=" $name=$(field "$(grep ^RESULT "$OUT/$2-$3-$client.txt")" rps)"
  done
  kill -TERM "$pid"; wait "$pid" || true
  echo "$results"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name:\s*//p'); wrk -t1 -c$CONNECTIONS -d$DURATION; old=$OLD new=$NEW"
echo
echo "| round | workload | old req/s | new req/s | new/old |"
echo "|---|---|---:|---:|---:|"
declare -A ratios
for r in $(seq "$ROUNDS"); do
  # Alternate which binary goes first, so neither always runs on a warmer machine.
  if (( r % 2 )); then o=$(run_binary "$OLD" old "$r"); n=$(run_binary "$NEW" new "$r")
  else n=$(run_binary "$NEW" new "$r"); o=$(run_binary "$OLD" old "$r"); fi
  for w in token super dev; do
    a=$(field "$o" "$w"); b=$(field "$n" "$w"); q=$(ratio "$b" "$a")
    ratios[$w]+="$q "
    printf '| %s | %s | %s | %s | %s |\n' "$r" "$w" "$a" "$b" "$q"
  done
done
echo
for w in token super dev; do
  median=$(tr ' ' '\n' <<<"${ratios[$w]}" | grep . | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  echo "median new/old ($w): $median"
done
