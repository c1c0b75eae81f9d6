// ResultEncoder: turns a query result into the response body, piece by piece,
// so a result of any size is encoded with memory bounded by one row.
//
//   json    the documented shape: {"success":true,"authMethod":"CLIENT_CREDENTIALS",
//           "clientId","scopes","lfRole","database","queryId","columns":[{"name",
//           "type"}],"data":[{col:value}..],"rowCount","truncated"}. "data" comes
//           before "rowCount"/"truncated" because those are known only at the end.
//           INTEGER and REAL are JSON numbers (a non-finite REAL is null), TEXT a
//           string (invalid UTF-8 becomes U+FFFD), NULL null, BLOB base64.
//   csv     RFC 4180 with a header row, CRLF line ends; NULL is an empty field.
//   ndjson  one JSON object per row, each ending with "\n".
//
// Not thread-safe (one encoder per response); no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace lakegate::gateway {

enum class ResultFormat { kJson, kCsv, kNdjson };

// "json" | "csv" | "ndjson"; InvalidArgument otherwise.
Result<ResultFormat> ParseResultFormat(std::string_view name);

// The response fields around the data (json format only).
struct ResultMeta {
  std::string client_id;
  std::vector<std::string> scopes;
  std::string role;
  std::string database;
  std::string query_id;
};

class ResultEncoder {
 public:
  ResultEncoder(ResultFormat format, ResultMeta meta);

  std::string_view content_type() const;

  // Appends to `out` everything before the first row.
  void Begin(const std::vector<engine::ColumnInfo>& columns, std::string& out);
  // Appends one row.
  void Row(const engine::RowView& row, std::string& out);
  // Appends everything after the last row. A non-empty `warning` adds a
  // "warning" member (json only).
  void End(int64_t row_count, bool truncated, std::string_view warning, std::string& out);

 private:
  void AppendJsonValue(const engine::RowView& row, size_t i, std::string& out) const;
  void AppendCsvValue(const engine::RowView& row, size_t i, std::string& out) const;

  const ResultFormat format_;
  const ResultMeta meta_;
  std::vector<std::string> json_keys_;  // `"name":` per column, escaped once
  bool first_row_ = true;
};

// Appends `s` with invalid UTF-8 sequences replaced by U+FFFD.
void AppendUtf8Sanitized(std::string& out, std::string_view s);

}  // namespace lakegate::gateway
