#!/usr/bin/env bash
# Runs Python from the pinned test environment (scripts/python-venv.sh makes or
# reuses it): tests/interop/venv_python.sh -m unittest -v test_athena
set -euo pipefail
python="$("$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/python-venv.sh")"
exec "$python" "$@"
