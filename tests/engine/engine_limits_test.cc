// The limits no statement can escape: the per-statement memory budget, and
// the timeout against built-in functions that do a lot of work in one call.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "engine/sqlite/sqlite_engine.h"
#include "engine_test_util.h"
#include "testing/status_matchers.h"

namespace lakegate::engine {
namespace {

using lakegate::testing::HasReason;
using testing::DevRole;
using testing::Lake;
using testing::Outcome;
using testing::SuperRole;

// The resident set of this process, in bytes.
int64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long pages = 0;
  long resident = 0;
  int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? int64_t{resident} * ::sysconf(_SC_PAGESIZE) : -1;
}

// The attack of the issue: ten rows of a 100,000-character value, and
// `aggregates` distinct group_concat()s over them, each holding about 1 MB
// until the end of the statement.
std::string GroupConcatBomb(int aggregates) {
  std::string sql =
      "WITH RECURSIVE r(i, x) AS (SELECT 1, hex(zeroblob(50000)) UNION ALL SELECT i + 1, x FROM r "
      "WHERE i < 10) SELECT ";
  for (int i = 0; i < aggregates; ++i) {
    if (i > 0) sql += " + ";
    sql += "length(group_concat(x, 's" + std::to_string(i) + "'))";
  }
  return sql + " FROM r";
}

class EngineLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(lake_.Build(100).ok()); }
  Outcome Run(const policy::Role& role, const std::string& sql, QueryLimits limits = {}) {
    return lake_.RunAs(role, sql, StatementClass::kRead, "analytics", {}, limits);
  }
  Lake lake_;
};

TEST_F(EngineLimitsTest, NoStatementHoldsMoreThanItsMemoryBudget) {
  const std::string bomb = GroupConcatBomb(600);  // ~600 MB without a budget
  for (const policy::Role& role : {DevRole(), SuperRole()}) {
    auto start = std::chrono::steady_clock::now();
    Outcome o = Run(role, bomb);  // the default budget: 256 MiB
    EXPECT_EQ(o.status.code(), StatusCode::kResourceExhausted) << o.status.ToString();
    EXPECT_TRUE(HasReason(o.status, EngineFailure::kMemoryLimitExceeded)) << o.status.ToString();
    EXPECT_EQ(o.status.message(), "the query needed more memory than the limit of 256 MiB");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    // The session goes on serving.
    Outcome after = Run(role, "SELECT count(*) FROM members");
    ASSERT_TRUE(after.status.ok()) << after.status.ToString();
    EXPECT_EQ(std::get<int64_t>(after.rows[0][0]), 100);
  }
  // The limit is the request's: a smaller one stops a smaller statement,
  // which runs under a larger one.
  QueryLimits small;
  small.max_memory_bytes = 8 << 20;
  Outcome stopped = Run(DevRole(), GroupConcatBomb(20), small);
  EXPECT_TRUE(HasReason(stopped.status, EngineFailure::kMemoryLimitExceeded))
      << stopped.status.ToString();
  EXPECT_EQ(stopped.status.message(), "the query needed more memory than the limit of 8 MiB");
  QueryLimits larger;
  larger.max_memory_bytes = 64 << 20;
  Outcome ran = Run(DevRole(), GroupConcatBomb(20), larger);
  ASSERT_TRUE(ran.status.ok()) << ran.status.ToString();
  int64_t expected = 0;
  for (int i = 0; i < 20; ++i)
    expected += 10 * 100000 + 9 * int64_t(("s" + std::to_string(i)).size());
  EXPECT_EQ(std::get<int64_t>(ran.rows[0][0]), expected);
  // Reasons of the query API: 413 with its own code.
  const ReasonInfo& info = ReasonDomainOf(EngineFailure::kMemoryLimitExceeded)
                               .Info(static_cast<int>(EngineFailure::kMemoryLimitExceeded));
  EXPECT_EQ(info.public_code, "memory_limit_exceeded");
  EXPECT_EQ(info.http_status, 413);
  EXPECT_EQ(info.public_message, "");  // the status message names the limit
}

TEST_F(EngineLimitsTest, MemoryOfABigStatementIsReturnedAfterwards) {
  // Warm up the sessions and the heap, then measure.
  ASSERT_TRUE(Run(DevRole(), GroupConcatBomb(2)).status.ok());
  const int64_t before = ResidentBytes();
  ASSERT_GT(before, 0);
  Outcome o = Run(DevRole(), GroupConcatBomb(200));  // ~200 MB, within the budget
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  const int64_t after = ResidentBytes();
  EXPECT_LT(after - before, int64_t{48} << 20)
      << "resident before " << before / 1024 << " KiB, after " << after / 1024 << " KiB";
  Outcome failed = Run(SuperRole(), GroupConcatBomb(600));
  EXPECT_TRUE(HasReason(failed.status, EngineFailure::kMemoryLimitExceeded));
  EXPECT_LT(ResidentBytes() - before, int64_t{48} << 20);
}

}  // namespace
}  // namespace lakegate::engine
