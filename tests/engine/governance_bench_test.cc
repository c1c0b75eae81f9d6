// Timings, not assertions (the governed GROUP BY bound, at most 1.5x the raw table): run with
//   governance_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "engine_test_util.h"

namespace lakegate::engine {
namespace {

using testing::Lake;

// The best of `n` runs, in milliseconds.
double BestMillis(Lake& lake, const policy::Role& role, const std::string& sql, int n) {
  lake.RunAs(role, sql);  // warm the pool and the page cache
  double best = 1e300;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto o = lake.RunAs(role, sql);
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (!o.status.ok()) ADD_FAILURE() << sql << ": " << o.status.ToString();
    best = std::min(best, std::chrono::duration<double, std::milli>(elapsed).count());
  }
  return best;
}

TEST(GovernanceBench, DISABLED_GroupByRegion) {
  Lake lake;
  // LAKEGATE_BENCH_ROWS overrides the 1,000,000 rows of the bound.
  const char* rows_env = std::getenv("LAKEGATE_BENCH_ROWS");
  ASSERT_TRUE(lake.Build(rows_env != nullptr ? std::atoll(rows_env) : 1000000).ok());
  using policy::Bit;
  using policy::Permission;
  const policy::PermissionSet select = Bit(Permission::kSelect) | Bit(Permission::kDescribe);
  policy::Role plain;  // every column, governed path
  plain.name = "bench-plain";
  plain.grants.push_back({"analytics", "members", select, {}});
  policy::Role excl = testing::DevRole();  // all but email
  policy::DataCellFilter f;
  f.name = "not-bronze";
  f.database = "analytics";
  f.table = "members";
  f.rows = *policy::ParseRowFilter("tier <> 'bronze'");
  lake.policy().filters[f.name] = f;
  policy::Role filtered;
  filtered.name = "bench-filtered";
  filtered.filters = {f.name};
  policy::Role masked = plain;
  masked.name = "bench-masked";
  policy::ColumnMask m;
  m.database = "analytics";
  m.table = "members";
  m.column = "lifetime_value";
  m.kind = policy::MaskKind::kRedact;
  masked.masks = {m};
  policy::Role expression = plain;
  expression.name = "bench-expression";
  m.kind = policy::MaskKind::kExpression;
  m.expression = "CASE WHEN region LIKE 'eu-%' THEN lifetime_value / 100 * 100 END";
  expression.masks = {m};
  const std::string sql =
      "SELECT region, count(*), avg(lifetime_value) FROM members GROUP BY region";
  const std::string raw_filtered =
      "SELECT region, count(*), avg(lifetime_value) FROM members WHERE tier <> 'bronze' GROUP BY "
      "region";
  double raw = BestMillis(lake, testing::SuperRole(), sql, 5);
  double raw_f = BestMillis(lake, testing::SuperRole(), raw_filtered, 5);
  struct {
    const char* what;
    const policy::Role* role;
    double base;
  } runs[] = {{"grant on all columns", &plain, raw},
              {"grant excluding email", &excl, raw},
              {"row filter tier <> 'bronze'", &filtered, raw_f},
              {"redact mask on lifetime_value", &masked, raw},
              {"expression mask on lifetime_value", &expression, raw}};
  std::printf("raw: %.1f ms; raw with WHERE tier <> 'bronze': %.1f ms\n", raw, raw_f);
  for (const auto& r : runs) {
    double governed = BestMillis(lake, *r.role, sql, 5);
    std::printf("%-34s %8.1f ms  ratio %.2f\n", r.what, governed, governed / r.base);
  }
}

}  // namespace
}  // namespace lakegate::engine
