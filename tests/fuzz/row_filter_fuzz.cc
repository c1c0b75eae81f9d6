// Fuzzes the row-filter language of data-cell filters (policy::ParseRowFilter):
// parsing, the SQL it compiles to (RowFilter::ToSql) and the reference
// evaluator (RowFilter::Matches) on a few rows.
//
// Input: the filter text.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "policy/policy.h"

namespace {

using lakegate::policy::RowFilter;
using Value = RowFilter::Value;

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto filter = lakegate::policy::ParseRowFilter(text);
  if (!filter.ok()) return 0;
  const std::string sql = filter->ToSql(QuoteIdentifier);
  FUZZ_CHECK(!sql.empty());
  for (const std::string& column : filter->Columns()) FUZZ_CHECK(!column.empty());

  // Parsing is a function of the text: the same text compiles the same way.
  auto again = lakegate::policy::ParseRowFilter(text);
  FUZZ_CHECK(again.ok() && again->ToSql(QuoteIdentifier) == sql);

  Value rows[5];
  rows[1].type = Value::Type::kInteger;
  rows[2].type = Value::Type::kInteger;
  rows[2].i = INT64_MIN;
  rows[3].type = Value::Type::kReal;
  rows[3].r = 1e308;
  rows[4].type = Value::Type::kText;
  rows[4].t = "eu-west";
  for (const Value& v : rows) {
    (void)filter->Matches([&](std::string_view) { return v; });
  }
  return 0;
}
