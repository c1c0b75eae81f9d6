#!/usr/bin/env bash
# `lakegate load` into Trino, measured (docs/benchmarks.md, docs/trino.md
# "Loading data"): one generated CSV loaded with --create through each of
# the engine's staging paths -- files under the lake's local root, and
# INSERT ... VALUES statements into a staging table (what a cluster whose lake
# lakegate cannot write gets) -- then appended to the table the file path
# created (INSERT ... SELECT), and a ten times larger file through the file
# path. Every load is one all-or-nothing publish.
#
# Loopback only; the cluster (scripts/trino.sh, coordinator only) and the
# lakegate demo that answers its decisions are stopped when the script ends.
# Needs a Release build and a JDK 24+ (scripts/trino.sh).
#
# Usage: bench/trino_load_bench.sh   env: ROWS=20000, LAKEGATE=path of the binary
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAKEGATE=${LAKEGATE:-$ROOT/build/src/cli/lakegate}
ROWS=${ROWS:-20000}
source "$ROOT/bench/lib.sh"
trap 'bash "$ROOT/scripts/trino.sh" stop "$WORK/trino" >/dev/null || true; cleanup' EXIT

trino=$(bash "$ROOT/scripts/trino.sh" start "$WORK/trino" --workers 0 --lakegate auto)
"$LAKEGATE" demo --dir "$WORK/demo" --port "$(cat "$WORK/trino/lakegate-port")" \
  --engine "trino://${trino#https://}?dir=$WORK/trino" >"$WORK/stdout" 2>"$WORK/stderr" &
PIDS+=("$!")
for _ in $(seq 2400); do
  grep -q "running at" "$WORK/stdout" && break
  sleep 0.1
done
grep -q "running at" "$WORK/stdout" || { cat "$WORK/stderr" >&2; exit 1; }

# ROWS rows of ~65 bytes: an integer, two texts, a number.
make_csv() {
  awk -v n="$1" 'BEGIN { print "id,name,region,score";
    for (i = 0; i < n; i++) printf "%d,member-%06d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,eu-west,%.1f\n", i, i, i / 2 }' >"$2"
}
make_csv "$ROWS" "$WORK/rows.csv"
make_csv $((ROWS * 10)) "$WORK/rows10.csv"
# A directory with the cluster's CA only: lakegate cannot write its lake.
mkdir -p "$WORK/remote/tls"
cp "$WORK/trino/tls/ca.pem" "$WORK/remote/tls/"

# load NAME TABLE FILE [FLAGS...]: one load, timed by the CLI; prints RESULT.
load() {
  local name=$1 table=$2 file=$3
  shift 3
  local out
  out=$("$LAKEGATE" load "analytics.$table" "$file" --config "$WORK/demo/stack.yaml" "$@" 2>/dev/null)
  local rows secs
  rows=$(sed -n 's/^loaded \([0-9]*\) rows.*/\1/p' <<<"$out")
  secs=$(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' <<<"$out")
  awk -v name="$name" -v rows="$rows" -v secs="$secs" -v bytes="$(stat -c %s "$file")" \
    'BEGIN { printf "RESULT load=%s rows=%d mb=%.1f seconds=%.2f rows_per_s=%.0f mb_per_s=%.2f\n",
             name, rows, bytes / 1e6, secs, rows / secs, bytes / 1e6 / secs }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
load files_create bench_files "$WORK/rows.csv" --create
load files_append bench_files "$WORK/rows.csv"
load values_create bench_values "$WORK/rows.csv" --create \
  --engine "trino://${trino#https://}?dir=$WORK/remote"
load files_create_10x bench_files10 "$WORK/rows10.csv" --create
