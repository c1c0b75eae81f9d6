#!/usr/bin/env bash
# Installs what is missing, builds lakegate (Release) and runs `lakegate demo`.
# Extra arguments go to `lakegate demo` (e.g. --port 9090 --dir /tmp/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
exec ./build/src/cli/lakegate demo "$@"
