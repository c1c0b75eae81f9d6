#!/usr/bin/env bash
# The PostgreSQL state store against the SQLite one, in one run:
#  1. token and query throughput of one binary on each store (bench/compare.sh:
#     rounds alternate, "old" = SQLite, "new" = PostgreSQL, a fresh database
#     per PostgreSQL round); the ratio should stay near 1 because neither a
#     token nor a query touches the store;
#  2. the time for a revocation made on node A to take effect on node B (two
#     demo nodes on one PostgreSQL; bench/revocation_propagation.py, p50/p99
#     over ROUNDS_REVOKE revocations).
# A throwaway PostgreSQL (scripts/postgres.sh) on loopback, stopped at the end.
#
# Usage: bench/ha.sh [BINARY] [OUTDIR]
#        env: DURATION=10s CONNECTIONS=50 ROUNDS=3 ROUNDS_REVOKE=100
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/src/cli/lakegate}
OUT=${2:-/tmp/lakegate-bench/ha}
ROUNDS_REVOKE=${ROUNDS_REVOKE:-100}
PSQL=/usr/lib/postgresql/15/bin/psql
mkdir -p "$OUT"
source "$ROOT/bench/lib.sh"

chmod 711 "$WORK"  # the database server runs as the unprivileged postgres user
PG_DIR=$WORK/pg
stop_pg() { bash "$ROOT/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; cleanup; }
trap stop_pg EXIT
bash "$ROOT/scripts/postgres.sh" start "$PG_DIR" >/dev/null
URL=$(cat "$PG_DIR/url")
SERVER=${URL%/*}

# new_database NAME: prints the URL of a fresh, empty database.
new_database() {
  "$PSQL" "$SERVER/postgres" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" >/dev/null
  echo "$SERVER/$1"
}

# The hook bench/compare.sh runs before each demo: PostgreSQL for "new".
HOOK=$WORK/demo-args
cat >"$HOOK" <<EOF
#!/usr/bin/env bash
[[ \$1 == new ]] || exit 0
"$PSQL" "$SERVER/postgres" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench_\$2" >/dev/null
echo "--state $SERVER/bench_\$2"
EOF
chmod 700 "$HOOK"

echo "## Throughput: old = SQLite state store, new = PostgreSQL state store (same binary)"
DEMO_ARGS_HOOK=$HOOK bash "$ROOT/bench/compare.sh" "$BIN" "$BIN" "$OUT/compare"

echo
echo "## Revocation propagation: revoke on node A, first 401 on node B"
STATE=$(new_database bench_propagation)
DIR=$WORK/nodes
for node in a b; do
  "$BIN" demo --dir "$DIR" --port 0 --state "$STATE" --node "$node" \
    >"$WORK/$node.out" 2>"$WORK/$node.err" &
  PIDS+=("$!")
  url=$(wait_for_url "$WORK/$node.out" "running at")
  [[ -n $url ]] || { cat "$WORK/$node.err" >&2; exit 1; }
  declare "URL_$node=$url"
done
echo "# $(date -u +%FT%TZ) $(nproc) cores; nodes $URL_a and $URL_b; $ROUNDS_REVOKE revocations"
/usr/bin/python3 "$ROOT/bench/revocation_propagation.py" "$URL_a" "$URL_b" \
  "$DIR/secrets/reporting-service.json" --rounds "$ROUNDS_REVOKE" | tee "$OUT/propagation.txt"
