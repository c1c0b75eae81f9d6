#!/usr/bin/env bash
# Checks that every C++ file (*.h, *.cc) under src/, tests/ and bench/ is laid
# out as the repository's .clang-format says. Changes nothing: names the files
# that differ and how to fix them, and exits non-zero.
#
# Usage: scripts/check-format.sh
#   CLANG_FORMAT   the formatter (default: clang-format-14, else clang-format)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [[ -z $CLANG_FORMAT ]]; then
  echo "clang-format not found: install it with scripts/install-deps.sh (Debian package clang-format)" >&2
  exit 1
fi

cd "$ROOT"
# node_modules: the interop tests' npm packages, not ours.
mapfile -t FILES < <(find src tests bench -name node_modules -prune -o \
  -type f \( -name '*.h' -o -name '*.cc' \) -print | sort)
if ((${#FILES[@]} == 0)); then
  echo "no *.h or *.cc files under src/, tests/ or bench/" >&2
  exit 1
fi

unformatted=()
for f in "${FILES[@]}"; do
  "$CLANG_FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]} > 0)); then
  echo "not clang-formatted (${#unformatted[@]} of ${#FILES[@]} files):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  echo "fix with: $CLANG_FORMAT -i ${unformatted[*]}" >&2
  exit 1
fi
echo "clang-format check passed: ${#FILES[@]} files"
