#!/usr/bin/env bash
# Creates (or reuses) the virtual environment with the PyPI packages the tests
# use, pinned in tests/python-requirements.txt, on Debian's Python
# (/usr/bin/python3; python3-venv comes from scripts/install-deps.sh).
#
#   scripts/python-venv.sh [DIR]    DIR defaults to $LAKEGATE_VENV, else build/venv
#
# Prints the path of the environment's python on stdout. Reinstalls when the
# requirements file changed since the environment was made. Safe to run from
# several tests at once (a lock file serialises creation).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/python-requirements.txt"
dir="${1:-${LAKEGATE_VENV:-$root/build/venv}}"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if ! /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "python-venv.sh: Debian's python3-venv is missing; run: apt-get install -y python3-venv" >&2
  exit 1
fi

mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -x "$dir/bin/python" || "$(cat "$dir/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
  echo "python-venv.sh: installing the pinned test packages into $dir" >&2
  rm -rf "$dir"
  /usr/bin/python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
  echo "$want" >"$dir/.requirements.sha256"
fi
echo "$dir/bin/python"
