#!/usr/bin/env bash
# Proves the clang thread-safety annotations of src/ (src/common/thread_annotations.h):
# every access to a GUARDED_BY member holds its mutex, every REQUIRES function is
# called with it held, no EXCLUDES function is called with it held. Refuses the
# unannotated std:: mutexes, locks and condition variables in src/ first.
#
# Runs clang++ -fsyntax-only -Wthread-safety -Werror over every src/ translation
# unit with the include paths, defines and language flags of the build's
# compile_commands.json. The build's own warning flags are left out: this check
# is about locking only, and the GCC build already enforces the warnings.
#
# Usage: scripts/check-thread-safety.sh [BUILD_DIR]   (default: build)
#   CLANGXX   the compiler (default: clang++-14, else clang++)
#   JOBS      translation units checked in parallel (default: 2)
# Exits non-zero and prints clang's diagnostics when any unit fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-$ROOT/build}
DB=$BUILD_DIR/compile_commands.json
JOBS=${JOBS:-2}
CLANGXX=${CLANGXX:-$(command -v clang++-14 || command -v clang++ || true)}

if [[ -z $CLANGXX ]]; then
  echo "clang++ not found: install it with scripts/install-deps.sh (Debian package clang)" >&2
  exit 1
fi
if [[ ! -f $DB ]]; then
  echo "$DB not found: configure the build first (scripts/build.sh)" >&2
  exit 1
fi

# The analysis sees only annotated locks: a std::mutex, its lock types or a
# std::condition_variable in src/ would hide its state from it.
unannotated=$(cd "$ROOT" && grep -rnE \
  'std::(mutex|timed_mutex|recursive_mutex|shared_mutex|condition_variable(_any)?|lock_guard|unique_lock|scoped_lock|shared_lock)\b' \
  src --include='*.h' --include='*.cc' | grep -v '^src/common/thread_annotations\.h:' || true)
if [[ -n $unannotated ]]; then
  echo "$unannotated" >&2
  echo "use lakegate::Mutex / SharedMutex / MutexLock / CondVar (common/thread_annotations.h) instead" >&2
  exit 1
fi

# -Wthread-safety: GUARDED_BY/PT_GUARDED_BY accesses, REQUIRES/EXCLUDES calls,
# locks held at the end of a scope, attribute misuse, guarded members passed by
# reference. -Wthread-safety-beta adds the lock order of ACQUIRED_BEFORE, which
# clang 14 checks only there.
CHECK_FLAGS=(-fsyntax-only -Wthread-safety -Wthread-safety-beta -Werror)

# One line per src/ unit: directory, file and the shell-quoted compile command,
# separated by US (0x1f), which none of them contains; raw, so that the
# command's own quoting and backslashes reach eval unchanged.
mapfile -t UNITS < <(jq -r --arg src "$ROOT/src/" \
  '.[] | select(.file | startswith($src)) | "\(.directory)\u001f\(.file)\u001f\(.command)"' "$DB")
if ((${#UNITS[@]} == 0)); then
  echo "$DB lists no translation unit under $ROOT/src" >&2
  exit 1
fi

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

# check_unit INDEX: checks UNITS[INDEX]; on failure leaves clang's output in
# $LOGS/INDEX.log.
check_unit() {
  local directory file command
  IFS=$'\x1f' read -r directory file command <<<"${UNITS[$1]}"
  # CMake writes the command for a POSIX shell; eval splits it the same way.
  local -a words args=()
  eval "words=($command)"
  local i
  for ((i = 1; i < ${#words[@]}; ++i)); do
    case ${words[i]} in
      -o) ((++i)) ;;  # the object file: nothing is written
      -c | -W*) ;;    # replaced by CHECK_FLAGS; -W* includes GCC-only ones (-Wno-restrict)
      *) args+=("${words[i]}") ;;
    esac
  done
  if ! (cd "$directory" && "$CLANGXX" "${args[@]}" "${CHECK_FLAGS[@]}") >"$LOGS/$1.log" 2>&1; then
    echo "FAIL ${file#"$ROOT"/}"
    return 1
  fi
  rm -f "$LOGS/$1.log"
}
# At most JOBS units at a time; a unit's failure shows as its log file.
running=0
for i in "${!UNITS[@]}"; do
  check_unit "$i" &
  if ((++running >= JOBS)); then
    wait -n || true
    ((--running))
  fi
done
wait
failed=$(find "$LOGS" -name '*.log' | wc -l)
if ((failed > 0)); then
  cat "$LOGS"/*.log >&2
  echo "thread-safety check failed in $failed of ${#UNITS[@]} translation units (above)" >&2
  exit 1
fi
echo "thread-safety check passed: ${#UNITS[@]} translation units"
