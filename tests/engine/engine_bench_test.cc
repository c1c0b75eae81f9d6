// Timings, not assertions: run with
//   engine_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_*'
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "engine_test_util.h"

namespace lakegate::engine {
namespace {

using testing::Lake;

double MicrosPerQuery(Lake& lake, const policy::Role& role, const std::string& sql, int n,
                      int64_t max_rows = 10000) {
  QueryLimits limits;
  limits.max_rows = max_rows;
  lake.RunAs(role, sql, StatementClass::kRead, "analytics", {}, limits);  // warm the pool
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto o = lake.RunAs(role, sql, StatementClass::kRead, "analytics", {}, limits);
    if (!o.status.ok()) ADD_FAILURE() << sql << ": " << o.status.ToString();
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::micro>(elapsed).count() / n;
}

TEST(EngineBench, DISABLED_CostPerQuery) {
  Lake lake;
  ASSERT_TRUE(lake.Build(1000000).ok());
  struct Q {
    const char* sql;
    int n;
    int64_t max_rows;
  } queries[] = {
      {"SELECT * FROM members LIMIT 10", 2000, 10000},
      {"SELECT * FROM members WHERE member_id = 4242", 20, 10000},
      {"SELECT count(*) FROM members", 5, 10000},
      {"SELECT region, count(*), sum(lifetime_value) FROM members GROUP BY region", 5, 10000},
      {"SELECT member_id, name, region FROM members", 3, 2000000},
  };
  for (const auto& q : queries) {
    double dev = MicrosPerQuery(lake, testing::DevRole(), q.sql, q.n, q.max_rows);
    double super = MicrosPerQuery(lake, testing::SuperRole(), q.sql, q.n, q.max_rows);
    std::printf("%-80s dev %10.1f us  super %10.1f us  ratio %.2f\n", q.sql, dev, super,
                dev / super);
  }
}

}  // namespace
}  // namespace lakegate::engine
