#!/usr/bin/env bash
# The seed's test script (test-client-creds.sh), against a live lakegate demo.
#   1. ETL client gets a token with write scope
#   2. ETL client's query maps to lf-super-user-role
#   3. Reporting client gets a token with read scope
#   4. Reporting client's query maps to lf-dev-role and shows no email column
#   5. An invalid token is rejected with 401
# Usage: scripts/test-client-creds.sh [URL DEMO_DIR]
#   Without arguments it starts its own `lakegate demo` on a free loopback port
#   in a temporary directory and stops it at the end. Needs curl and jq.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAKEGATE=${LAKEGATE_BIN:-$ROOT/build/src/cli/lakegate}
URL=${1:-}
DIR=${2:-}
PID=
cleanup() {
  if [[ -n $PID ]]; then kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  if [[ -n ${OWN_DIR:-} ]]; then rm -rf "$OWN_DIR"; fi
}
trap cleanup EXIT

if [[ -z $URL ]]; then
  OWN_DIR=$(mktemp -d /tmp/lakegate-cc-test.XXXXXX)
  DIR=$OWN_DIR
  "$LAKEGATE" demo --dir "$DIR" --port 0 >"$DIR/demo.out" 2>"$DIR/demo.err" &
  PID=$!
  for _ in $(seq 150); do
    URL=$(sed -n 's/.*running at \(http[^ ]*\).*/\1/p' "$DIR/demo.out" | head -1)
    [[ -n $URL ]] && break
    sleep 0.1
  done
  if [[ -z $URL ]]; then echo "FAIL: the demo did not start"; cat "$DIR/demo.err"; exit 1; fi
fi

failures=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }

token() {   # token CLIENT [SCOPE] -> prints the token response body
  local f="$DIR/secrets/$1.json"
  curl -s -u "$(jq -r .client_id "$f"):$(jq -r .client_secret "$f")" \
    -d grant_type=client_credentials ${2:+--data-urlencode "scope=$2"} "$URL/oauth2/token"
}
query() {   # query TOKEN SQL -> prints "STATUS BODY"
  curl -s -o /tmp/lakegate-cc-body.$$ -w '%{http_code}' -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -d "$(jq -nc --arg q "$2" '{query: $q}')" \
    "$URL/query-client-creds"
  echo " $(cat /tmp/lakegate-cc-body.$$)"; rm -f /tmp/lakegate-cc-body.$$
}

# 1
body=$(token etl-service "athena-api/query.read athena-api/query.write")
etl=$(jq -r '.access_token // empty' <<<"$body")
if [[ -n $etl && $(jq -r .scope <<<"$body") == *athena-api/query.write* ]]; then
  pass "1 ETL client gets a token with write scope"
else fail "1 ETL client gets a token with write scope" "$body"; fi

# 2
out=$(query "$etl" "SELECT * FROM members LIMIT 10"); code=${out%% *}; body=${out#* }
if [[ $code == 200 && $(jq -r .lfRole <<<"$body") == lf-super-user-role && $(jq -r .rowCount <<<"$body") == 10 ]]; then
  pass "2 ETL client's query maps to lf-super-user-role"
else fail "2 ETL client's query maps to lf-super-user-role" "$out"; fi

# 3
body=$(token reporting-service "athena-api/query.read")
rep=$(jq -r '.access_token // empty' <<<"$body")
if [[ -n $rep && $(jq -r .scope <<<"$body") == athena-api/query.read ]]; then
  pass "3 Reporting client gets a token with read scope"
else fail "3 Reporting client gets a token with read scope" "$body"; fi

# 4
out=$(query "$rep" "SELECT * FROM members LIMIT 10"); code=${out%% *}; body=${out#* }
if [[ $code == 200 && $(jq -r .lfRole <<<"$body") == lf-dev-role \
      && $(jq '[.columns[].name] | index("email")' <<<"$body") == null \
      && $(jq '[.data[] | has("email")] | any' <<<"$body") == false \
      && $(jq -r .rowCount <<<"$body") == 10 ]]; then
  pass "4 Reporting client's query maps to lf-dev-role without the email column"
else fail "4 Reporting client's query maps to lf-dev-role without the email column" "$out"; fi

# 5
out=$(query "not-a-valid-token" "SELECT 1"); code=${out%% *}
if [[ $code == 401 ]]; then pass "5 Invalid token rejected"; else fail "5 Invalid token rejected" "$out"; fi

echo "$((5 - failures)) passed, $failures failed"
exit $((failures > 0))
