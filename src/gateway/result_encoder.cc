#include "gateway/result_encoder.h"

#include <charconv>
#include <cmath>

#include "common/base64url.h"
#include "common/strings.h"

namespace lakegate::gateway {
namespace {

void AppendInt(int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Shortest round-trip form; the caller handles non-finite values.
void AppendDouble(double v, std::string& out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

bool NeedsCsvQuotes(std::string_view s) {
  return s.find_first_of(",\"\r\n") != std::string_view::npos;
}

void AppendCsvField(std::string_view raw, std::string& out) {
  std::string clean;
  AppendUtf8Sanitized(clean, raw);
  if (!NeedsCsvQuotes(clean)) {
    out += clean;
    return;
  }
  out.push_back('"');
  for (char c : clean) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

void AppendUtf8Sanitized(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
}

Result<ResultFormat> ParseResultFormat(std::string_view name) {
  if (name == "json") return ResultFormat::kJson;
  if (name == "csv") return ResultFormat::kCsv;
  if (name == "ndjson") return ResultFormat::kNdjson;
  return InvalidArgumentError("\"format\" must be \"json\", \"csv\" or \"ndjson\"");
}

ResultEncoder::ResultEncoder(ResultFormat format, ResultMeta meta)
    : format_(format), meta_(std::move(meta)) {}

std::string_view ResultEncoder::content_type() const {
  switch (format_) {
    case ResultFormat::kCsv:
      return "text/csv; charset=utf-8; header=present";
    case ResultFormat::kNdjson:
      return "application/x-ndjson";
    case ResultFormat::kJson:
      break;
  }
  return "application/json";
}

void ResultEncoder::Begin(const std::vector<engine::ColumnInfo>& columns, std::string& out) {
  json_keys_.clear();
  for (const engine::ColumnInfo& c : columns) json_keys_.push_back(JsonQuote(c.name) + ":");
  switch (format_) {
    case ResultFormat::kJson: {
      out += "{\"success\":true,\"authMethod\":\"CLIENT_CREDENTIALS\",\"clientId\":";
      out += JsonQuote(meta_.client_id);
      out += ",\"scopes\":[";
      for (size_t i = 0; i < meta_.scopes.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += JsonQuote(meta_.scopes[i]);
      }
      out += "],\"lfRole\":" + JsonQuote(meta_.role);
      out += ",\"database\":" + JsonQuote(meta_.database);
      out += ",\"queryId\":" + JsonQuote(meta_.query_id);
      out += ",\"columns\":[";
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += "{\"name\":" + JsonQuote(columns[i].name) +
               ",\"type\":" + JsonQuote(columns[i].type) + "}";
      }
      out += "],\"data\":[";
      break;
    }
    case ResultFormat::kCsv:
      if (columns.empty()) break;
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendCsvField(columns[i].name, out);
      }
      out += "\r\n";
      break;
    case ResultFormat::kNdjson:
      break;
  }
}

void ResultEncoder::AppendJsonValue(const engine::RowView& row, size_t i, std::string& out) const {
  switch (row.type(i)) {
    case engine::ValueType::kNull:
      out += "null";
      return;
    case engine::ValueType::kInteger:
      AppendInt(row.integer(i), out);
      return;
    case engine::ValueType::kReal: {
      double v = row.real(i);
      if (std::isfinite(v)) {
        AppendDouble(v, out);
      } else {
        out += "null";  // JSON has no NaN / Infinity
      }
      return;
    }
    case engine::ValueType::kText:
      out.push_back('"');
      AppendJsonEscaped(out, row.text(i));
      out.push_back('"');
      return;
    case engine::ValueType::kBlob:
      out.push_back('"');
      out += Base64Encode(row.blob(i));
      out.push_back('"');
      return;
  }
  out += "null";
}

void ResultEncoder::AppendCsvValue(const engine::RowView& row, size_t i, std::string& out) const {
  switch (row.type(i)) {
    case engine::ValueType::kNull:
      return;
    case engine::ValueType::kInteger:
      AppendInt(row.integer(i), out);
      return;
    case engine::ValueType::kReal: {
      double v = row.real(i);
      if (std::isfinite(v)) AppendDouble(v, out);
      return;
    }
    case engine::ValueType::kText:
      AppendCsvField(row.text(i), out);
      return;
    case engine::ValueType::kBlob:
      out += Base64Encode(row.blob(i));
      return;
  }
}

void ResultEncoder::Row(const engine::RowView& row, std::string& out) {
  const size_t n = std::min(row.size(), json_keys_.size());
  if (format_ == ResultFormat::kCsv) {
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out.push_back(',');
      AppendCsvValue(row, i, out);
    }
    out += "\r\n";
    return;
  }
  if (format_ == ResultFormat::kJson && !first_row_) out.push_back(',');
  first_row_ = false;
  out.push_back('{');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back(',');
    out += json_keys_[i];
    AppendJsonValue(row, i, out);
  }
  out.push_back('}');
  if (format_ == ResultFormat::kNdjson) out.push_back('\n');
}

void ResultEncoder::End(int64_t row_count, bool truncated, std::string_view warning,
                        std::string& out) {
  if (format_ != ResultFormat::kJson) return;
  out += "],\"rowCount\":";
  AppendInt(row_count, out);
  out += truncated ? ",\"truncated\":true" : ",\"truncated\":false";
  if (!warning.empty()) out += ",\"warning\":" + JsonQuote(warning);
  out.push_back('}');
}

}  // namespace lakegate::gateway
