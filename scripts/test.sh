#!/usr/bin/env bash
# Installs what is missing, builds lakegate and runs every test: unit,
# integration (the real binary over HTTP; the PostgreSQL ones against a
# throwaway server of their own), interop (PyJWT, openid-client, jose), the fuzz
# smoke tests (each fuzz target replays its corpus) and the 60-second soak; then
# every libFuzzer target for a bounded time under ASan/UBSan (scripts/fuzz.sh;
# LAKEGATE_FUZZ_SECONDS per target, default 15) and the concurrency tests again
# under ThreadSanitizer (scripts/tsan.sh, its own build in build-tsan).
# `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The interop tests' npm packages, locked by package-lock.json.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
# The pinned PyPI packages of the Athena and Trino tests (boto3, AWS CLI, PyAthena).
bash scripts/python-venv.sh >/dev/null
bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j 2 --timeout 600
bash scripts/fuzz.sh --seconds "${LAKEGATE_FUZZ_SECONDS:-15}"
bash scripts/tsan.sh build-tsan
