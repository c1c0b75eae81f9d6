#!/usr/bin/env bash
# Soak test: mixed load (tokens, queries, admin changes, slow clients,
# disconnects) against a `lakegate demo` it starts on a loopback port, with the
# server's RSS, open file descriptors and threads sampled every few seconds;
# prints the series and the growth. Figures: docs/benchmarks.md ("Soak").
#
# Usage: bench/soak.sh [--minutes N | --seconds N] [--interval S] [--check]
#                      [--max-rss-growth-kb K] [--max-fd-growth N] [--max-thread-growth N]
#   --minutes N   load duration (default 10)
#   --check       exit 1 when a resource grew beyond its bound (ctest soak.ci)
# LAKEGATE_BIN names the binary (default build/src/cli/lakegate).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LAKEGATE_BIN:-$ROOT/build/src/cli/lakegate}
args=()
seconds=600
while (($#)); do
  case "$1" in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [[ ! -x $BIN ]]; then
  echo "soak: no lakegate binary at $BIN; build first (scripts/build.sh) or set LAKEGATE_BIN" >&2
  exit 2
fi
exec /usr/bin/python3 "$ROOT/bench/soak.py" --binary "$BIN" --seconds "$seconds" "${args[@]}"
