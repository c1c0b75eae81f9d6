#!/usr/bin/env bash
# Token endpoint throughput by client-authentication method, in one run against
# one `lakegate demo`: client_secret_basic (reporting-service) next to
# private_key_jwt (keyjwt-service, ES256 assertions signed beforehand by
# bench/make_assertions, each used once) and next to client_secret_basic with a
# DPoP proof (RFC 9449; ES256 proofs made beforehand by bench/make_dpop_proofs,
# each used once). The differences are the cost of the assertion or proof: its
# signature verification and its jti record in the state store (and for DPoP
# the key thumbprint and the cnf claim in the token).
#
# Loopback only; every wrk run is bounded by -d; the server started here is
# stopped by its own PID. Needs a Release build (scripts/build.sh) and wrk, jq.
#
# Usage: bench/client_auth_bench.sh [OUTDIR]   env: DURATION=10s CONNECTIONS=50 ROUNDS=2
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/lakegate-bench/client-auth}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-2}
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
MAKE_ASSERTIONS=${MAKE_ASSERTIONS:-$ROOT/build/bench/make_assertions}
MAKE_DPOP_PROOFS=${MAKE_DPOP_PROOFS:-$ROOT/build/bench/make_dpop_proofs}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"
result() { grep '^RESULT' "$1" | sed 's/^RESULT //'; }

dir=$WORK/demo
"$LAKEGATE" demo --dir "$dir" --port 0 >"$WORK/stdout" 2>"$WORK/stderr" &
pid=$!; PIDS+=("$pid")
url=$(wait_for_url "$WORK/stdout" "running at")
[[ -n $url ]] || { cat "$WORK/stderr" >&2; exit 1; }
id=$(jq -r .client_id "$dir/secrets/reporting-service.json")
secret=$(jq -r .client_secret "$dir/secrets/reporting-service.json")
export AUTH="Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)" SCOPE=

run() {  # run NAME SCRIPT: prints the RESULT line with the server's CPU share
  local t0 t1
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/bench/wrk/$2" \
    "$url/oauth2/token" >"$OUT/$1.txt"
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  echo "$(result "$OUT/$1.txt") srv_cpu_pct=$(( (t1 - t0) * 100 / $(getconf CLK_TCK) / ${DURATION%s} ))"
}

secs=${DURATION%s}
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(lscpu | sed -n 's/^Model name:\s*//p'); wrk -t1 -c$CONNECTIONS -d$DURATION --latency"
printf '| round | method | tokens/s | ratio to basic | p50 | p99 | non-2xx | server CPU |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|\n'
wrk -t1 -c10 -d2s -s "$ROOT/bench/wrk/token.lua" "$url/oauth2/token" >/dev/null  # warm-up
for r in $(seq "$ROUNDS"); do
  # Enough single-use assertions for the run at well above the expected rate.
  "$MAKE_ASSERTIONS" "$dir/secrets/keyjwt-service.json" "$url/oauth2/token" $((secs * 40000)) \
    >"$WORK/assertions"
  b=$(run "basic-$r" token.lua)
  export ASSERTIONS=$WORK/assertions
  k=$(run "private_key_jwt-$r" token_assertion.lua)
  "$MAKE_DPOP_PROOFS" "$url/oauth2/token" $((secs * 40000)) >"$WORK/proofs"
  export PROOFS=$WORK/proofs
  d=$(run "dpop-$r" token_dpop.lua)
  for pair in "client_secret_basic:$b" "private_key_jwt:$k" "basic+DPoP:$d"; do
    name=${pair%%:*}; line=${pair#*:}
    printf '| %s | %s | %s | %s | %s µs | %s µs | %s | %s%% |\n' "$r" "$name" "$(field "$line" rps)" \
      "$(ratio "$(field "$line" rps)" "$(field "$b" rps)")" "$(field "$line" p50_us)" \
      "$(field "$line" p99_us)" "$(field "$line" non2xx)" "$(field "$line" srv_cpu_pct)"
  done
done
