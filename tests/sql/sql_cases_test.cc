// Runs the data-driven cases in tests/sql/*.test against the sqlite engine.
//
// Format (DuckDB sqllogictest-like; the same files can run against another
// engine with the same lake and roles):
//   # comment
//   statement ok [role=dev|super] [scope=read|write|admin] [db=NAME]
//   <SQL, one or more lines, ended by a blank line>
//
//   statement error [options]
//   <SQL>
//   ----
//   <text the error's "CODE: message" must contain>
//
//   query [options]
//   <SQL>
//   ----
//   <one line per row, cells joined by '|', NULL for null>
// Defaults: role=dev scope=read db=analytics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine_test_util.h"

namespace lakegate::engine {
namespace {

using testing::Lake;

struct Case {
  int line = 0;
  std::string kind;  // "ok", "error", "query"
  std::string role = "dev";
  StatementClass scope = StatementClass::kRead;
  std::string db = "analytics";
  std::string sql;
  std::vector<std::string> expected;
};

std::vector<Case> Parse(const std::string& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream header(line);
    std::string word;
    header >> word;
    Case c;
    c.line = number;
    if (word == "statement") {
      header >> c.kind;
    } else if (word == "query") {
      c.kind = "query";
    } else {
      ADD_FAILURE() << path << ":" << number << ": unknown directive " << line;
      return {};
    }
    while (header >> word) {
      if (word.rfind("role=", 0) == 0) c.role = word.substr(5);
      if (word == "scope=write") c.scope = StatementClass::kWrite;
      if (word == "scope=admin") c.scope = StatementClass::kAdmin;
      if (word.rfind("db=", 0) == 0) c.db = word.substr(3);
    }
    bool expecting = false;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty()) break;
      if (line == "----") {
        expecting = true;
        continue;
      }
      if (expecting) {
        c.expected.push_back(line);
      } else {
        c.sql += (c.sql.empty() ? "" : "\n") + line;
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

class SqlCasesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SqlCasesTest, Run) {
  Lake lake;
  ASSERT_TRUE(lake.Build().ok());
  std::vector<Case> cases = Parse(GetParam());
  ASSERT_FALSE(cases.empty()) << GetParam();
  for (const Case& c : cases) {
    SCOPED_TRACE(GetParam() + ":" + std::to_string(c.line) + ": " + c.sql);
    policy::Role role = c.role == "super" ? testing::SuperRole() : testing::DevRole();
    auto o = lake.RunAs(role, c.sql, c.scope, c.db);
    if (c.kind == "ok") {
      EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    } else if (c.kind == "error") {
      ASSERT_FALSE(o.status.ok());
      ASSERT_EQ(c.expected.size(), 1u) << "an error case needs one expected line";
      EXPECT_NE(o.status.ToString().find(c.expected[0]), std::string::npos)
          << "got " << o.status.ToString();
    } else {
      ASSERT_TRUE(o.status.ok()) << o.status.ToString();
      std::vector<std::string> got;
      for (const auto& row : o.rows) {
        std::string text;
        for (size_t i = 0; i < row.size(); ++i) {
          text += (i > 0 ? "|" : "") + testing::CellText(row[i]);
        }
        got.push_back(text);
      }
      EXPECT_EQ(got, c.expected);
    }
  }
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(LAKEGATE_SQL_CASES_DIR)) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, SqlCasesTest, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = std::filesystem::path(param_info.param).stem().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace lakegate::engine
