#!/usr/bin/env bash
# lakegate governing Trino, measured (docs/benchmarks.md, docs/trino.md): the
# same query mix on a Trino cluster governed by lakegate (OPA access control,
# JWT authentication) and on one without access control holding the same
# table, alternating round by round, and the latency of lakegate's decision
# endpoint while the mix runs (bench/trino_bench.py).
#
# Both clusters run the JIT production Trino runs (JIT=full: tiered C1+C2,
# `scripts/trino.sh --jit full`) and warm up WARMUP rounds (default 40) before
# the measured ones, so that C2 has compiled the planner and the OPA client;
# JIT=c1 measures the C1-only JVMs of the tests (WARMUP default 3).
#
# Loopback only; both clusters (scripts/trino.sh, coordinator only) and the
# lakegate demo are stopped when the script ends. Needs a Release build, a
# JDK 24+, and the python of scripts/python-venv.sh (the `trino` client).
#
# Usage: bench/trino_bench.sh   env: ROUNDS=30, JIT=full|c1, WARMUP=rounds,
#                               LAKEGATE=path of the binary
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
source "$ROOT/bench/lib.sh"
PY=$(bash "$ROOT/scripts/python-venv.sh")
stop_clusters() {
  bash "$ROOT/scripts/trino.sh" stop "$WORK/governed" || true
  bash "$ROOT/scripts/trino.sh" stop "$WORK/open" || true
}
trap 'stop_clusters; cleanup' EXIT

export JIT=${JIT:-full}
case $JIT in
full) export WARMUP=${WARMUP:-40} ;;
c1) export WARMUP=${WARMUP:-3} ;;
*) echo "JIT must be full or c1, not '$JIT'" >&2; exit 2 ;;
esac
governed=$(bash "$ROOT/scripts/trino.sh" start "$WORK/governed" --workers 0 --lakegate auto --jit "$JIT")
open=$(bash "$ROOT/scripts/trino.sh" start "$WORK/open" --workers 0 --no-access-control --jit "$JIT")
port=$(cat "$WORK/governed/lakegate-port")
"$LAKEGATE" demo --dir "$WORK/demo" --port "$port" \
  --engine "trino://${governed#https://}?dir=$WORK/governed" >"$WORK/stdout" 2>"$WORK/stderr" &
PIDS+=("$!")
# The demo loads its table through Trino before it prints its URL.
url=
for _ in $(seq 2400); do
  url=$(sed -n 's/.*running at \(http[^ ]*\).*/\1/p' "$WORK/stdout" | head -1)
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { cat "$WORK/stderr" >&2; exit 1; }
# The same 1,000 rows on the open cluster: copied through the etl service's view.
"$PY" - "$governed" "$open" "$url" "$WORK/demo" <<'PY'
import json, sys, urllib.request, base64
import trino
from trino.auth import JWTAuthentication
governed, open_url, lakegate, demo = sys.argv[1:]
s = json.load(open(f"{demo}/secrets/etl-service.json"))
req = urllib.request.Request(lakegate + "/oauth2/token", data=b"grant_type=client_credentials",
    headers={"Authorization": "Basic " + base64.b64encode(f"{s['client_id']}:{s['client_secret']}".encode()).decode(),
             "Content-Type": "application/x-www-form-urlencoded"})
tok = json.load(urllib.request.urlopen(req))["access_token"]
import os
for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(var, None)
def conn(url, **kw):
    scheme, rest = url.split("://")
    host, port = rest.split(":")
    return trino.dbapi.connect(host=host, port=int(port), http_scheme=scheme, catalog="lake", schema="analytics", **kw)
g = conn(governed, user=s["client_id"], auth=JWTAuthentication(tok),
         verify=os.path.join(os.path.dirname(demo), "governed", "tls", "ca.pem")).cursor()
g.execute("SELECT * FROM members ORDER BY member_id")
rows = g.fetchall()
o = conn(open_url, user="bench").cursor()
o.execute("CREATE SCHEMA IF NOT EXISTS lake.analytics"); o.fetchall()
o.execute("CREATE TABLE lake.analytics.members (member_id bigint, name varchar, email varchar, region varchar, "
          "tier varchar, joined_on varchar, lifetime_value double) WITH (format = 'PARQUET')"); o.fetchall()
q = lambda v: "NULL" if v is None else (repr(v) if isinstance(v, (int, float)) else "'" + v.replace("'", "''") + "'")
o.execute("INSERT INTO lake.analytics.members VALUES " + ", ".join("(" + ", ".join(q(v) for v in r) + ")" for r in rows)); o.fetchall()
PY
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg); JIT $JIT, $WARMUP warm-up rounds"
"$PY" "$ROOT/bench/trino_bench.py" "$governed" "$open" "$url" "$WORK/demo" "$WORK/governed"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
