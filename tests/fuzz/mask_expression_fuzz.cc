// Fuzzes the mask-expression language (policy::ParseMaskExpression): parsing,
// the columns it reads and the SQL it compiles to (MaskExpression::ToSql, and
// the typed renderings for PostgreSQL and Trino, which may refuse).
//
// Input: the expression text.
#include <cstdint>
#include <optional>
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

  // The typed renderings: a refusal or SQL, never a crash. Column kinds from
  // the name's length, so that every kind meets every construct.
  using lakegate::policy::MaskColumnSql;
  auto column = [](std::string_view name) -> std::optional<MaskColumnSql> {
    if (name.size() % 4 == 3) return std::nullopt;
    return MaskColumnSql{"\"c\"", static_cast<MaskColumnSql::Kind>(name.size() % 4)};
  };
  for (int target = 0; target < 4; ++target) {
    auto trino = mask->ToTrinoSql(
        column, target == 3
                    ? std::nullopt
                    : std::optional<MaskColumnSql::Kind>(static_cast<MaskColumnSql::Kind>(target)));
    FUZZ_CHECK(!trino.ok() || !trino->empty());
  }
  auto postgres = mask->ToPostgreSql(column);
  FUZZ_CHECK(!postgres.ok() || !postgres->empty());

  auto again = lakegate::policy::ParseMaskExpression(text);
  FUZZ_CHECK(again.ok() && again->ToSql([](std::string_view) { return std::string("?"); }) == sql);
  return 0;
}
