#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang under ASan+UBSan (in
# their own build directory) and runs each for a bounded time, starting from
# its seed corpus in tests/fuzz/corpus/<target>/.
#
# Usage: scripts/fuzz.sh [--seconds N] [--build-dir DIR] [--list] [target...]
#   --seconds N     run time per target (default 30; env LAKEGATE_FUZZ_SECONDS)
#   --build-dir DIR the clang build (default build-fuzz)
#   --list          print the target names and exit
#   target...       some of: http_request form query_body admin_json jose
#                   row_filter mask_expression stack_file postgres_url
#                   dpop_proof client_assertion sigv4 athena_request
#                   (default: all)
# Inputs the fuzzer finds that add coverage go to DIR/corpus/<target>/ (not the
# repository). A crash stops that target, is saved as
# DIR/crashes/<target>/crash-<sha1> and makes the script exit 1 after the other
# targets ran; reproduce it with `DIR/tests/fuzz/<target>_fuzz FILE`, fix it,
# and add the file to tests/fuzz/corpus/<target>/ as a regression case.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS_ALL=(http_request form query_body admin_json jose row_filter mask_expression stack_file
  postgres_url dpop_proof client_assertion sigv4 athena_request)
seconds=${LAKEGATE_FUZZ_SECONDS:-30}
build_dir=build-fuzz
targets=()
usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --list) printf '%s\n' "${TARGETS_ALL[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "fuzz.sh: --seconds wants a positive whole number, got '$seconds'" >&2; exit 2
fi
((${#targets[@]})) || targets=("${TARGETS_ALL[@]}")
for t in "${targets[@]}"; do
  if [[ ! " ${TARGETS_ALL[*]} " == *" $t "* ]]; then
    echo "fuzz.sh: no fuzz target '$t'; the targets are: ${TARGETS_ALL[*]}" >&2; exit 2
  fi
done
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found; run scripts/install-deps.sh (as root)" >&2; exit 1
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DLAKEGATE_FUZZ=ON -DLAKEGATE_TESTS=OFF -DLAKEGATE_BENCH=OFF \
  "${launcher[@]}" >/dev/null
cmake --build "$build_dir" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  work="$build_dir/corpus/$t"
  crashes="$build_dir/crashes/$t"
  mkdir -p "$work" "$crashes"
  echo "== fuzzing $t for ${seconds}s"
  log="$build_dir/fuzz-$t.log"
  # -timeout: one input taking longer is a hang (a finding); -rss_limit_mb:
  # likewise for memory. Seeds come after the work corpus, so new inputs are
  # written to the work corpus only.
  if "$build_dir/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=16384 -print_final_stats=1 -artifact_prefix="$crashes/" \
      "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$log" | tr '\n' ' '
    echo
  else
    echo "!! $t failed; its log is $log, the input in $crashes/:" >&2
    tail -40 "$log" >&2
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran ${seconds}s each without a finding"
