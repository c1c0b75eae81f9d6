#!/usr/bin/env bash
# Installs what is missing, builds lakegate and runs every test: unit,
# integration (the real binary over HTTP), interop (PyJWT, openid-client, jose)
# and the fuzz smoke tests (each fuzz target replays its corpus), then runs
# every libFuzzer target for a bounded time under ASan/UBSan (scripts/fuzz.sh;
# LAKEGATE_FUZZ_SECONDS per target, default 20). `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The interop tests' npm packages, locked by package-lock.json.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j 2 --timeout 600
bash scripts/fuzz.sh --seconds "${LAKEGATE_FUZZ_SECONDS:-20}"
