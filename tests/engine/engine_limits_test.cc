// The limits no statement can escape: the per-statement memory budget, and
// the timeout against built-in functions that do a lot of work in one call.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/sqlite/memory_budget.h"
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

// The accounting allocator itself: exact charges, frees credited only to
// the budget that was charged (whatever thread frees), the limit, and the
// work meter.
TEST(MemoryBudgetTest, ChargesFreesAndLimits) {
  using sqlite_internal::MemoryBudget;
  ASSERT_TRUE(sqlite_internal::MemoryAccountingInstalled());
  void* kept = nullptr;
  {
    MemoryBudget budget(1 << 20, nullptr, nullptr);
    void* p = sqlite3_malloc(1000);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(budget.used(), 1000);
    kept = sqlite3_malloc(4000);
    EXPECT_EQ(budget.used(), 5000);
    p = sqlite3_realloc(p, 3000);  // grows in place of the old charge
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(budget.used(), 7000);
    sqlite3_free(p);
    EXPECT_EQ(budget.used(), 4000);
    EXPECT_EQ(sqlite3_malloc(2 << 20), nullptr);  // over the limit: refused
    EXPECT_TRUE(budget.exceeded());
    EXPECT_EQ(budget.used(), 4000);
    EXPECT_EQ(budget.peak(), 7000);
    {
      // Nested: the inner budget is charged; freeing an outer block credits
      // the outer one.
      MemoryBudget inner(1 << 20, nullptr, nullptr);
      void* q = sqlite3_malloc(64);
      EXPECT_EQ(inner.used(), 64);
      sqlite3_free(q);
      EXPECT_EQ(inner.used(), 0);
    }
  }
  // `kept` outlived its budget. Freed on another thread, under another
  // budget, it credits nobody.
  std::thread([kept] {
    MemoryBudget other(1 << 20, nullptr, nullptr);
    void* q = sqlite3_malloc(100);
    sqlite3_free(kept);
    EXPECT_EQ(other.used(), 100);
    sqlite3_free(q);
    EXPECT_EQ(other.used(), 0);
  }).join();
  // Without a budget nothing is limited.
  void* big = sqlite3_malloc(8 << 20);
  EXPECT_NE(big, nullptr);
  sqlite3_free(big);
  // The work meter: past the deadline, the next check refuses allocations.
  bool late = false;
  MemoryBudget metered(
      0, [](void* arg) { return *static_cast<bool*>(arg); }, &late);
  void* first = sqlite3_malloc(MemoryBudget::kCheckEveryBytes);
  EXPECT_NE(first, nullptr);
  late = true;
  void* second = sqlite3_malloc(MemoryBudget::kCheckEveryBytes);
  EXPECT_EQ(second, nullptr);
  EXPECT_FALSE(metered.exceeded());
  sqlite3_free(first);
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

// With a 1 s timeout, each statement below would run for seconds to minutes
// inside one call of a built-in on SQLite 3.40 (the quadratic ones) or
// through many calls in one step. Each must end within the timeout plus a
// margin: with a timeout error where the work really is that large, or with
// the right answer where the replacement does it in linear time.
TEST_F(EngineLimitsTest, TheTimeoutStopsSlowBuiltInFunctions) {
  QueryLimits limits;
  limits.timeout = std::chrono::milliseconds(1000);
  struct Case {
    const char* name;
    std::string sql;
    bool times_out;  // else: it answers, and the answer is `expected`
    int64_t expected = 0;
  };
  const std::vector<Case> cases = {
      // The LIKE (4.7 s and more), and the same at the limits.
      {"like", "SELECT hex(zeroblob(500000)) LIKE ('%' || hex(zeroblob(2500)) || 'x')", true},
      {"like at the limits",
       "SELECT hex(zeroblob(500000)) LIKE ('%' || hex(zeroblob(24000)) || 'x')", true},
      {"like, escaped",
       "SELECT like('%' || hex(zeroblob(2500)) || 'x', hex(zeroblob(500000)), '!')", true},
      {"glob", "SELECT hex(zeroblob(500000)) GLOB ('*' || hex(zeroblob(2500)) || 'x')", true},
      {"glob with a set",
       "SELECT hex(zeroblob(500000)) GLOB ('*[0]' || hex(zeroblob(2500)) || 'x')", true},
      // Many cheap-looking calls in one step: each call adds to the meter.
      {"many likes",
       "WITH v(s, p) AS (SELECT hex(zeroblob(500000)), '%' || hex(zeroblob(200)) || 'x') SELECT " +
           [] {
             std::string list;
             for (int i = 0; i < 200; ++i) list += std::string(i > 0 ? " + " : "") + "(s LIKE p)";
             return list;
           }() +
           " FROM v",
       true},
      // The instr: 500,000 x 250,000 characters (6.1 s); linear now.
      {"instr", "SELECT instr(hex(zeroblob(250000)), hex(zeroblob(125000)) || 'x')", false, 0},
      {"instr found", "SELECT instr(hex(zeroblob(250000)) || 'x', hex(zeroblob(125000)) || 'x')",
       false, 250001},
      {"replace",
       "SELECT length(replace(hex(zeroblob(500000)), hex(zeroblob(250000)) || 'x', 'y'))", false,
       1000000},
      {"trim",
       "SELECT length(trim(replace(hex(zeroblob(500000)), '0', 'x'), hex(zeroblob(250000)) || "
       "'x'))",
       false, 0},
      {"rtrim, multi-byte set",
       "SELECT length(rtrim(replace(hex(zeroblob(200000)), '0', 'é'), "
       "replace(hex(zeroblob(100000)), "
       "'0', 'ü') || 'é'))",
       false, 0},
      // Built-ins that allocate as they work: the memory budget's meter.
      {"many large values",
       "WITH v(s) AS (SELECT hex(zeroblob(500000))) SELECT " +
           [] {
             // One row of 2,000 columns: no jump between the calls, so no
             // progress handler either.
             std::string list;
             for (int i = 0; i < 2000; ++i) {
               list += std::string(i > 0 ? ", " : "") + "length(upper(lower(upper(lower(s || " +
                       std::to_string(i) + ")))))";
             }
             return list;
           }() +
           " FROM v",
       true},
  };
  for (const Case& c : cases) {
    for (const policy::Role& role : {DevRole(), SuperRole()}) {
      auto start = std::chrono::steady_clock::now();
      Outcome o = Run(role, c.sql, limits);
      auto elapsed = std::chrono::steady_clock::now() - start;
      // Generous for a loaded 2-core machine; unbounded, these take from
      // several seconds to minutes.
      EXPECT_LT(elapsed, std::chrono::seconds(3))
          << c.name << " as " << role.name << ": "
          << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
      if (c.times_out) {
        EXPECT_EQ(o.status.code(), StatusCode::kDeadlineExceeded)
            << c.name << ": " << o.status.ToString();
        EXPECT_TRUE(HasReason(o.status, EngineFailure::kTimeout)) << c.name;
        EXPECT_EQ(o.status.message(), "the query ran longer than the limit of 1000 ms") << c.name;
      } else {
        ASSERT_TRUE(o.status.ok()) << c.name << ": " << o.status.ToString();
        EXPECT_EQ(std::get<int64_t>(o.rows.at(0).at(0)), c.expected) << c.name;
      }
    }
  }
  Outcome after = Run(DevRole(), "SELECT count(*) FROM members WHERE name LIKE '%a%'", limits);
  ASSERT_TRUE(after.status.ok()) << after.status.ToString();
}

// json_patch merges objects in time quadratic in their keys within one
// call, so its arguments are bounded; small patches work as before.
TEST_F(EngineLimitsTest, JsonPatchIsBoundedAndStillWorks) {
  QueryLimits limits;
  limits.timeout = std::chrono::milliseconds(1000);
  for (const policy::Role& role : {DevRole(), SuperRole()}) {
    Outcome small =
        Run(role, "SELECT json_patch('{\"a\":1,\"b\":2}', '{\"b\":3,\"c\":4}')", limits);
    ASSERT_TRUE(small.status.ok()) << small.status.ToString();
    EXPECT_EQ(std::get<std::string>(small.rows.at(0).at(0)), "{\"a\":1,\"b\":3,\"c\":4}");

    auto start = std::chrono::steady_clock::now();
    Outcome big = Run(role,
                      "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < "
                      "20000) SELECT json_patch((SELECT json_group_object('a' || i, i) FROM r), "
                      "(SELECT json_group_object('b' || i, i) FROM r))",
                      limits);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3)) << role.name;
    EXPECT_FALSE(big.status.ok()) << role.name;
    EXPECT_NE(big.status.message().find("json_patch() takes at most 65536 bytes per argument"),
              std::string::npos)
        << big.status.ToString();
  }
}

// The replacements answer exactly what SQLite's built-ins answer: random
// patterns, strings and sets (wildcards, sets, escapes, case, multi-byte and
// invalid UTF-8) through the engine, against a plain SQLite connection.
TEST_F(EngineLimitsTest, BoundedFunctionsAgreeWithTheBuiltIns) {
  const std::vector<std::string> atoms = {"a",
                                          "A",
                                          "b",
                                          "B",
                                          "%",
                                          "_",
                                          "*",
                                          "?",
                                          "[",
                                          "]",
                                          "^",
                                          "-",
                                          "!",
                                          "\\",
                                          " ",
                                          "é",
                                          "É",
                                          "ü",
                                          "\xe2\x82\xac",
                                          "\xc3",
                                          "\x80",
                                          "ab",
                                          "aa",
                                          "0"};
  std::mt19937 rng(20261206);
  auto random_text = [&](int max_atoms) {
    std::string out;
    const int n = std::uniform_int_distribution<int>(0, max_atoms)(rng);
    for (int i = 0; i < n; ++i) {
      out += atoms[std::uniform_int_distribution<size_t>(0, atoms.size() - 1)(rng)];
    }
    return out;
  };
  const std::string sql =
      "SELECT like(?1, ?2), glob(?1, ?2), like(?1, ?2, ?3), ?2 LIKE ?1 ESCAPE ?3, instr(?2, ?1), "
      "instr(CAST(?2 AS BLOB), CAST(?1 AS BLOB)), instr(CAST(?2 AS BLOB), ?1), "
      "replace(?2, ?1, 'xy'), replace(?2, ?1, ''), trim(?2, ?1), ltrim(?2, ?1), rtrim(?2, ?1), "
      "trim(?2), ltrim(?2), rtrim(?2), hex(trim(CAST(?2 AS BLOB), ?1))";
  sqlite3* plain = nullptr;
  ASSERT_EQ(sqlite3_open_v2(":memory:", &plain, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(plain, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  const std::vector<std::string> escapes = {"!", "\\", "%", "_", "a", "é"};
  int compared = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string pattern = random_text(6);
    std::string text = random_text(10);
    if (i % 3 == 0) text = pattern + random_text(3);  // more matches
    if (i % 5 == 0) pattern = text.substr(0, text.size() / 2) + "%";
    const std::string escape = escapes[static_cast<size_t>(i) % escapes.size()];
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, pattern.data(), static_cast<int>(pattern.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 3, escape.data(), static_cast<int>(escape.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(stmt);
    Outcome o =
        lake_.RunAs(SuperRole(), sql, StatementClass::kRead, "analytics", {pattern, text, escape});
    if (rc != SQLITE_ROW) {
      EXPECT_FALSE(o.status.ok()) << "pattern '" << pattern << "' text '" << text << "'";
      continue;
    }
    ASSERT_TRUE(o.status.ok()) << o.status.ToString() << " pattern '" << pattern << "' text '"
                               << text << "'";
    ASSERT_EQ(o.rows.size(), 1u);
    for (int col = 0; col < sqlite3_column_count(stmt); ++col) {
      std::string expected;
      switch (sqlite3_column_type(stmt, col)) {
        case SQLITE_NULL:
          expected = "NULL";
          break;
        case SQLITE_INTEGER:
          expected = std::to_string(sqlite3_column_int64(stmt, col));
          break;
        default:
          expected = std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, col)),
                                 static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
          if (expected.empty()) expected = "(empty)";
      }
      EXPECT_EQ(testing::CellText(o.rows[0][static_cast<size_t>(col)]), expected)
          << "column " << col << " (" << sqlite3_column_name(stmt, col) << ") pattern '" << pattern
          << "' text '" << text << "' escape '" << escape << "'";
      ++compared;
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(plain);
  EXPECT_GT(compared, 40000);
}

}  // namespace
}  // namespace lakegate::engine
