#!/usr/bin/env bash
# Token endpoint throughput by client-authentication method, in one run against
# one `lakegate demo --tls-port`: client_secret_basic (reporting-service) next to
# private_key_jwt (keyjwt-service, ES256 assertions signed beforehand by
# bench/make_assertions, each used once) and next to client_secret_basic with a
# DPoP proof (RFC 9449; ES256 proofs made beforehand by bench/make_dpop_proofs,
# each used once). The differences are the cost of the assertion or proof: its
# signature verification and its jti record in the state store (for DPoP also
# the key's thumbprint and the cnf claim in the token).
# Then, over HTTPS with keep-alive connections (bench/tls_token_load, since
# wrk cannot present a client certificate): client_secret_basic next to
# tls_client_auth (a certificate the demo CA signed, matched by subject DN),
# whose extra cost is the chain check and the DN match per request.
#
# Loopback only; every wrk run is bounded by -d; the server started here is
# stopped by its own PID. Needs a Release build (scripts/build.sh) and wrk, jq.
#
# Usage: bench/client_auth_bench.sh [OUTDIR]
#   env: DURATION=10s CONNECTIONS=50 ROUNDS=2 TLS_THREADS=8 (also needs openssl)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/lakegate-bench/client-auth}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-2}
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
MAKE_ASSERTIONS=${MAKE_ASSERTIONS:-$ROOT/build/bench/make_assertions}
MAKE_DPOP_PROOFS=${MAKE_DPOP_PROOFS:-$ROOT/build/bench/make_dpop_proofs}
TLS_LOAD=${TLS_LOAD:-$ROOT/build/bench/tls_token_load}
TLS_THREADS=${TLS_THREADS:-8}
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"
result() { grep '^RESULT' "$1" | sed 's/^RESULT //'; }

dir=$WORK/demo
"$LAKEGATE" demo --dir "$dir" --port 0 --tls-port 0 >"$WORK/stdout" 2>"$WORK/stderr" &
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
rows() {  # rows ROUND BASELINE NAME:RESULT...: one table row each, rates relative to BASELINE
  local r=$1 base=$2 pair name line
  shift 2
  for pair in "$@"; do
    name=${pair%%:*}; line=${pair#*:}
    printf '| %s | %s | %s | %s | %s µs | %s µs | %s | %s%% |\n' "$r" "$name" "$(field "$line" rps)" \
      "$(ratio "$(field "$line" rps)" "$(field "$base" rps)")" "$(field "$line" p50_us)" \
      "$(field "$line" p99_us)" "$(field "$line" non2xx)" "$(field "$line" srv_cpu_pct)"
  done
}
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
  rows "$r" "$b" "client_secret_basic:$b" "private_key_jwt:$k" "basic+DPoP:$d"
done

# --- over HTTPS: client_secret_basic vs tls_client_auth (keep-alive) ---------------
https=$(wait_for_url "$WORK/stdout" "over HTTPS at")
[[ -n $https ]] || { cat "$WORK/stderr" >&2; exit 1; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/svc.key" \
  -out "$WORK/svc.csr" -subj "/O=Bench/CN=mtls-bench" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/svc.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca-key.pem" \
  -CAcreateserial -days 2 -extfile "$WORK/ext.cnf" -out "$WORK/svc.pem" 2>/dev/null
mtls_id=$("$LAKEGATE" client create mtls-bench --scope athena-api/query.read --auth tls_client_auth \
  --tls-subject-dn "CN=mtls-bench,O=Bench" --config "$dir/stack.yaml" | awk '/^client_id:/ {print $2}')
sleep 1  # the server's reload tick
tls_run() {  # tls_run NAME BODY AUTH [CERT KEY]
  local t0 t1
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  "$TLS_LOAD" "$https/oauth2/token" "$TLS_THREADS" "$secs" "$dir/tls/ca.pem" "$2" "$3" "${@:4}" \
    >"$OUT/$1.txt"
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  echo "$(result "$OUT/$1.txt") srv_cpu_pct=$(( (t1 - t0) * 100 / $(getconf CLK_TCK) / secs ))"
}
echo
echo "# over HTTPS: $TLS_THREADS keep-alive connections (bench/tls_token_load), ${DURATION}"
printf '| round | method (TLS) | tokens/s | ratio to basic | p50 | p99 | non-2xx | server CPU |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|\n'
"$TLS_LOAD" "$https/oauth2/token" 2 2 "$dir/tls/ca.pem" grant_type=client_credentials "$AUTH" >/dev/null
for r in $(seq "$ROUNDS"); do
  b=$(tls_run "tls-basic-$r" grant_type=client_credentials "$AUTH")
  m=$(tls_run "tls_client_auth-$r" "grant_type=client_credentials&client_id=$mtls_id" "" \
    "$WORK/svc.pem" "$WORK/svc.key")
  rows "$r" "$b" "client_secret_basic:$b" "tls_client_auth:$m"
done
