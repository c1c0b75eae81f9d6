// Fuzzes the row-filter language of data-cell filters (policy::ParseRowFilter)
// and checks its two meanings against each other: the SQL it compiles to
// (RowFilter::ToSql, what the engine runs), evaluated by SQLite, and the
// reference evaluator (RowFilter::Matches, what `policy explain` and the tests'
// oracle use) must agree on every row of a fixed set.
//
// Input: the filter text.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "fuzz_target.h"
#include "policy/policy.h"

namespace {

using lakegate::policy::RowFilter;
using Value = RowFilter::Value;

std::vector<Value> TestValues() {
  std::vector<Value> values(12);
  auto integer = [](int64_t i) {
    Value v;
    v.type = Value::Type::kInteger;
    v.i = i;
    return v;
  };
  auto real = [](double r) {
    Value v;
    v.type = Value::Type::kReal;
    v.r = r;
    return v;
  };
  auto text = [](std::string t) {
    Value v;
    v.type = Value::Type::kText;
    v.t = std::move(t);
    return v;
  };
  values[1] = integer(0);
  values[2] = integer(1);
  values[3] = integer(-1);
  values[4] = integer(INT64_MIN);
  values[5] = real(2.5);
  values[6] = real(1e308);
  values[7] = text("eu-west");
  values[8] = text("");
  values[9] = text("A%b_");
  values[10] = text("10");
  values[11] = text("\xc3\xa9t\xc3\xa9");
  return values;
}

sqlite3* Db() {
  static sqlite3* db = [] {
    sqlite3* d = nullptr;
    FUZZ_CHECK(sqlite3_open(":memory:", &d) == SQLITE_OK);
    return d;
  }();
  return db;
}

void Bind(sqlite3_stmt* stmt, int index, const Value& v) {
  switch (v.type) {
    case Value::Type::kNull:
      sqlite3_bind_null(stmt, index);
      break;
    case Value::Type::kInteger:
      sqlite3_bind_int64(stmt, index, v.i);
      break;
    case Value::Type::kReal:
      sqlite3_bind_double(stmt, index, v.r);
      break;
    case Value::Type::kText:
      sqlite3_bind_text(stmt, index, v.t.data(), static_cast<int>(v.t.size()), SQLITE_TRANSIENT);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto filter = lakegate::policy::ParseRowFilter(text);
  if (!filter.ok()) return 0;

  // Each distinct column (names match case-insensitively, as in the engine)
  // becomes the parameter ?N.
  std::vector<std::string> columns;
  auto index_of = [&](std::string_view name) -> size_t {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (lakegate::EqualsIgnoreCase(columns[i], name)) return i;
    }
    columns.emplace_back(name);
    return columns.size() - 1;
  };
  const std::string sql = "SELECT " + filter->ToSql([&](std::string_view name) {
    return "?" + std::to_string(index_of(name) + 1);
  });
  for (const std::string& column : filter->Columns()) FUZZ_CHECK(!column.empty());

  // Parsing is a function of the text: the same text compiles the same way.
  auto again = lakegate::policy::ParseRowFilter(text);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToSql([&](std::string_view name) {
    return "?" + std::to_string(index_of(name) + 1);
  }) == sql.substr(7));

  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int prepared = sqlite3_prepare_v2(Db(), sql.c_str(), -1, &stmt, &tail);
  if (prepared != SQLITE_OK) std::fprintf(stderr, "%s\n%s\n", sqlite3_errmsg(Db()), sql.c_str());
  FUZZ_CHECK(prepared == SQLITE_OK && stmt != nullptr && *tail == '\0');

  static const std::vector<Value> values = TestValues();
  for (size_t row = 0; row < values.size(); ++row) {
    auto value_of = [&](size_t column) -> const Value& {
      return values[(row + column * 5) % values.size()];
    };
    sqlite3_reset(stmt);
    for (size_t c = 0; c < columns.size(); ++c) Bind(stmt, static_cast<int>(c + 1), value_of(c));
    FUZZ_CHECK(sqlite3_step(stmt) == SQLITE_ROW);
    // The engine keeps a row when the filter is true (not false, not NULL).
    const bool sqlite_keeps =
        sqlite3_column_type(stmt, 0) != SQLITE_NULL && sqlite3_column_int64(stmt, 0) != 0;
    const bool matches =
        filter->Matches([&](std::string_view name) { return value_of(index_of(name)); });
    if (sqlite_keeps != matches) {
      std::fprintf(stderr, "row %zu: SQLite says %d, Matches says %d for\n%s\n", row, sqlite_keeps,
                   matches, sql.c_str());
    }
    FUZZ_CHECK(sqlite_keeps == matches);
  }
  sqlite3_finalize(stmt);
  return 0;
}
