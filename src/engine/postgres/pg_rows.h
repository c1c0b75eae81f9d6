// Internal to engine/postgres: PostgreSQL result values as the engine's typed
// rows. Integers (int2/4/8, oid) and booleans (1/0) are integers; float4/8
// and numeric are reals; bytea is a blob; timestamps are ISO 8601 text
// ("2024-05-01T10:00:00", "...Z" for timestamptz in UTC); everything else
// (text, date, json/jsonb, arrays, ...) is PostgreSQL's text form.
// Thread-compatible.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "engine/engine.h"

namespace lakegate::engine::postgres_internal {

// The result's columns with their public types ("INTEGER", "TEXT", ...).
std::vector<ColumnInfo> ColumnsOf(const PGresult* result);

// Row 0 of a single-row-mode result.
class PgRowView final : public RowView {
 public:
  void Reset(const PGresult* result);
  size_t size() const override { return types_.size(); }
  ValueType type(size_t i) const override;
  int64_t integer(size_t i) const override;
  double real(size_t i) const override;
  std::string_view text(size_t i) const override;
  std::string_view blob(size_t i) const override;

 private:
  enum class Kind { kInteger, kBool, kReal, kText, kTimestamp, kTimestampTz, kBytea };
  std::string_view Raw(size_t i) const;
  const PGresult* result_ = nullptr;
  std::vector<Kind> types_;
  mutable std::vector<std::string> scratch_;
};

}  // namespace lakegate::engine::postgres_internal
