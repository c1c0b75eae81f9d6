// Fuzzes the mask-expression language (policy::ParseMaskExpression): parsing,
// the columns it reads and the SQL it compiles to (MaskExpression::ToSql).
//
// Input: the expression text.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "fuzz_target.h"
#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mask = lakegate::policy::ParseMaskExpression(text);
  if (!mask.ok()) return 0;
  FUZZ_CHECK(mask->root != nullptr);
  size_t placeholders = 0;
  const std::string sql = mask->ToSql([&](std::string_view) {
    ++placeholders;
    return std::string("?");
  });
  FUZZ_CHECK(!sql.empty());
  std::set<std::string> seen;
  for (const std::string& column : mask->Columns()) {
    FUZZ_CHECK(!column.empty());
    FUZZ_CHECK(seen.insert(column).second);  // no duplicates
  }
  FUZZ_CHECK(placeholders >= seen.size());

  auto again = lakegate::policy::ParseMaskExpression(text);
  FUZZ_CHECK(again.ok() && again->ToSql([](std::string_view) { return std::string("?"); }) == sql);
  return 0;
}
