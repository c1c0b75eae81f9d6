#!/usr/bin/env bash
# Token endpoint benchmark: lakegate (ES256, EdDSA, RS256) against a static
# nginx `return 200` measured in the same run as this machine's HTTP ceiling.
#
# Loopback only; every wrk run is bounded by -d; every server started here is
# stopped by its own PID. Needs a Release build (scripts/build.sh) and
# `scripts/install-deps.sh --bench` (wrk, nginx-light).
#
# Usage: bench/token_bench.sh [OUTDIR]     env: DURATION=15s CONNECTIONS=50 ROUNDS=1
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/lakegate-bench/token}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-1}
ALGS=${ALGS:-"ES256 EdDSA RS256"}
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
NGINX_PORT=${NGINX_PORT:-18080}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"
result() { grep '^RESULT' "$1" | sed 's/^RESULT //'; }

lakegate_run() {   # lakegate_run ALG ROUND: prints the RESULT line
  local alg=$1 dir=$WORK/lg-$1
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<YAML
listen: {address: 127.0.0.1, port: 0}
tokens: {algorithm: $alg}
audit: {path: $dir/audit.log}
resource_servers:
  - identifier: athena-api
    name: Athena query API
    scopes: [{name: query.read}, {name: query.write}]
clients:
  - name: bench
    scopes: [athena-api/query.read, athena-api/query.write]
YAML
  "$LAKEGATE" serve --config "$dir/stack.yaml" >"$dir/stdout" 2>"$dir/stderr" &
  local pid=$!; PIDS+=("$pid")
  local url; url=$(wait_for_url "$dir/stdout" "listening on")
  [[ -n $url ]] || { cat "$dir/stderr" >&2; exit 1; }
  local id secret
  id=$(jq -r .client_id "$dir/secrets/bench.json"); secret=$(jq -r .client_secret "$dir/secrets/bench.json")
  export AUTH="Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)" SCOPE=athena-api/query.read
  curl -fsS -u "$id:$secret" -d grant_type=client_credentials "$url/oauth2/token" >/dev/null
  wrk -t1 -c10 -d2s -s "$ROOT/bench/wrk/token.lua" "$url/oauth2/token" >/dev/null
  local t0 t1; t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/bench/wrk/token.lua" \
    "$url/oauth2/token" >"$OUT/lakegate-$alg-$2.txt"
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill -TERM "$pid"; wait "$pid" || true
  local line; line=$(result "$OUT/lakegate-$alg-$2.txt")
  local secs=${DURATION%s}
  echo "$line srv_cpu_pct=$(( (t1 - t0) * 100 / $(getconf CLK_TCK) / secs ))"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name:\s*//p'); $(nginx -v 2>&1); wrk -t1 -c$CONNECTIONS -d$DURATION --latency"
printf '| round | server | tokens/s | ratio to nginx | p50 | p90 | p99 | non-2xx | socket errors | server CPU |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for r in $(seq "$ROUNDS"); do
  n=$(nginx_ceiling "$OUT/nginx-$r.txt"); nrps=$(field "$n" rps)
  printf '| %s | nginx return 200 | %s | 1.00 | %s µs | %s µs | %s µs | %s | %s | - |\n' "$r" "$nrps" \
    "$(field "$n" p50_us)" "$(field "$n" p90_us)" "$(field "$n" p99_us)" "$(field "$n" non2xx)" "$(field "$n" sock_err)"
  for alg in $ALGS; do
    l=$(lakegate_run "$alg" "$r"); lrps=$(field "$l" rps)
    printf '| %s | lakegate %s | %s | %s | %s µs | %s µs | %s µs | %s | %s | %s%% |\n' "$r" "$alg" "$lrps" \
      "$(ratio "$lrps" "$nrps")" "$(field "$l" p50_us)" "$(field "$l" p90_us)" "$(field "$l" p99_us)" \
      "$(field "$l" non2xx)" "$(field "$l" sock_err)" "$(field "$l" srv_cpu_pct)"
  done
done
