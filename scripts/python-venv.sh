#!/usr/bin/env bash
# Makes (or reuses) the Python virtual environment of the AWS-client tests:
# boto3/botocore, the AWS CLI and PyAthena, every package pinned in
# scripts/python-requirements.txt, on Debian's /usr/bin/python3.
#
#   scripts/python-venv.sh [DIR]     # default build/venv; prints DIR/bin/python
#
# Idempotent and cheap when done: an environment made from the same
# requirements file is kept (DIR/.requirements.sha256 is written last, so a
# half-made one is made again).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi
dir="${1:-$here/../build/venv}"
requirements="$here/python-requirements.txt"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$dir/bin/python" && "$(cat "$dir/.requirements.sha256" 2>/dev/null)" == "$want" ]]; then
  echo "$dir/bin/python"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
/usr/bin/python3 -m venv "$dir" >&2
"$dir/bin/python" -m pip install --quiet --no-input --no-deps -r "$requirements" >&2
echo "$want" > "$dir/.requirements.sha256"
echo "$dir/bin/python"
