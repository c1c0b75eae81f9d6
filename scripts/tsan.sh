#!/usr/bin/env bash
# ThreadSanitizer over the tests that exercise threads: the worker pool, the
# state cache and its reloader's store, the policy catalog, metrics and the
# audit writer, the failed-authentication limiter (oauth), signing contexts,
# the gateway's per-client concurrency and admission, the HTTP server and the
# engine's session pool and schema watch.
#
# Usage: scripts/tsan.sh [BUILD_DIR]   (default build-tsan; run by scripts/test.sh)
# Builds only those test programs (gcc -fsanitize=thread, -O1 -g) and runs
# each; any data race, lock-order inversion or thread leak fails the run with
# TSan's report. scripts/tsan.supp lists the reports that are not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-tsan}
TARGETS=(
  thread_pool_test metrics_test audit_log_test state_cache_test store_test policy_versions_test
  catalog_test crypto_test oauth_test gateway_test http_test engine_test schema_watch_test
)
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DLAKEGATE_TSAN=ON -DLAKEGATE_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${TARGETS[@]}"

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 \
suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
failed=()
for target in "${TARGETS[@]}"; do
  binary=$(find "$BUILD_DIR/tests" -type f -name "$target" -perm -u+x | head -n 1)
  if [[ -z "$binary" ]]; then echo "tsan: $target was not built" >&2; exit 1; fi
  started=$SECONDS
  # Left out: benchmarks (timing loops), and the engine's resource-limit tests,
  # which assert wall-clock and resident-memory bounds that TSan's instrumented
  # build and shadow memory change (single-threaded; they run in every normal
  # build). The allocator's cross-thread accounting (MemoryBudgetTest) stays.
  if "$binary" --gtest_brief=1 --gtest_filter='-*Bench*:*bench*:EngineLimitsTest.*' \
    >"$BUILD_DIR/$target.tsan.log" 2>&1
  then
    echo "tsan: $target ok ($((SECONDS - started)) s)"
  else
    echo "tsan: $target FAILED ($((SECONDS - started)) s); the report:" >&2
    grep -A40 -m3 "WARNING: ThreadSanitizer\|FAILED\|Failure" "$BUILD_DIR/$target.tsan.log" >&2 || \
      tail -n 60 "$BUILD_DIR/$target.tsan.log" >&2
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "tsan: failed: ${failed[*]} (full logs: $BUILD_DIR/<target>.tsan.log)" >&2
  exit 1
fi
echo "tsan: all ${#TARGETS[@]} programs clean"
