#include "gateway/athena_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/percent_encoding.h"
#include "common/strings.h"
#include "gateway/gateway_failure.h"
#include "gateway/result_encoder.h"

namespace lakegate::gateway {
namespace {

using nlohmann::json;

constexpr ReasonInfo kInfos[] = {
    {.name = "invalid_request", .public_code = "InvalidRequestException"},
    {.name = "metadata", .public_code = "MetadataException"},
    {.name = "unknown_operation", .public_code = "UnknownOperationException"},
    {.name = "serialization", .public_code = "SerializationException"},
    {.name = "unrecognized_client", .public_code = "UnrecognizedClientException"},
};
static_assert(std::size(kInfos) == static_cast<size_t>(AthenaFailure::kUnrecognizedClient) + 1,
              "one ReasonInfo per AthenaFailure");
constexpr ReasonDomain kDomain("athena", kInfos, static_cast<int>(std::size(kInfos)));

constexpr std::string_view kTargetPrefix = "AmazonAthena.";
constexpr std::string_view kCatalogName = "AwsDataCatalog";
constexpr std::string_view kWorkGroup = "primary";
constexpr std::string_view kOutputBucket = "s3://lakegate-query-results/";
constexpr size_t kMaxGetResults = 1000;
constexpr size_t kMaxListResults = 50;
constexpr size_t kMaxBatch = 50;

Status Invalid(std::string message) {
  return AthenaError(AthenaFailure::kInvalidRequest, std::move(message));
}

// A member of the request body, checked for its type.
Result<std::string> OptionalString(const json& body, const char* name, size_t max_length) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return AthenaError(AthenaFailure::kSerialization, std::string(name) + " must be a string");
  }
  std::string value = it->get<std::string>();
  if (value.size() > max_length) {
    return Invalid(std::string(name) + " is longer than " + std::to_string(max_length));
  }
  return value;
}

Result<std::string> RequiredString(const json& body, const char* name, size_t max_length) {
  LG_ASSIGN_OR_RETURN(std::string value, OptionalString(body, name, max_length));
  if (value.empty()) return Invalid(std::string(name) + " is required");
  return value;
}

// MaxResults: absent → `fallback`; otherwise 1..max (Athena refuses more).
Result<size_t> MaxResults(const json& body, size_t max, size_t fallback) {
  auto it = body.find("MaxResults");
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) {
    return AthenaError(AthenaFailure::kSerialization, "MaxResults must be an integer");
  }
  const int64_t n = it->get<int64_t>();
  if (n < 1 || static_cast<uint64_t>(n) > max) {
    return Invalid("MaxResults must be between 1 and " + std::to_string(max));
  }
  return static_cast<size_t>(n);
}

Status CheckCatalog(std::string_view name) {
  if (EqualsIgnoreCase(name, kCatalogName)) return Status::Ok();
  return AthenaError(AthenaFailure::kMetadata, "Catalog " + std::string(name.substr(0, 128)) +
                                                   " does not exist; the catalog is " +
                                                   std::string(kCatalogName));
}

Status CheckWorkGroup(std::string_view name) {
  if (name.empty() || name == kWorkGroup) return Status::Ok();
  return Invalid("WorkGroup " + std::string(name.substr(0, 128)) + " is not found (lakegate has " +
                 std::string(kWorkGroup) + ")");
}

// An offset token for the list operations: what they page through is the
// caller's own list, so the token needs no protection beyond a sanity check.
std::string OffsetToken(size_t offset) { return Base64UrlEncode("o" + std::to_string(offset)); }
Result<size_t> ParseOffsetToken(const json& body) {
  auto it = body.find("NextToken");
  if (it == body.end() || it->is_null()) return size_t{0};
  std::optional<std::string> text =
      it->is_string() ? Base64UrlDecode(it->get<std::string>()) : std::nullopt;
  size_t offset = 0;
  if (!text || text->size() < 2 || (*text)[0] != 'o' ||
      std::from_chars(text->data() + 1, text->data() + text->size(), offset).ptr !=
          text->data() + text->size()) {
    return Invalid("NextToken is not valid");
  }
  return offset;
}

// One page of a list operation: items [offset, offset + max) under `member`,
// and the NextToken of the rest.
template <typename T, typename ToJson>
json ListPage(const std::vector<T>& items, size_t offset, size_t max, const char* member,
              ToJson to_json) {
  json list = json::array();
  for (size_t i = offset; i < items.size() && list.size() < max; ++i) {
    list.push_back(to_json(items[i]));
  }
  json out = {{member, std::move(list)}};
  if (offset + max < items.size()) out["NextToken"] = OffsetToken(offset + max);
  return out;
}

double EpochSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

json EngineVersion() {
  return {{"SelectedEngineVersion", "AUTO"}, {"EffectiveEngineVersion", "Athena engine version 3"}};
}

json QueryExecutionJson(const ExecutionInfo& info) {
  json status = {{"State", ExecutionStateName(info.state)},
                 {"SubmissionDateTime", EpochSeconds(info.submitted_ms)}};
  if (info.completed_ms > 0) status["CompletionDateTime"] = EpochSeconds(info.completed_ms);
  if (!info.state_reason.empty()) status["StateChangeReason"] = info.state_reason;
  if (info.state == ExecutionState::kFailed) {
    // USER (2) for what the query did wrong, SYSTEM (1) for the rest.
    const bool user = info.error_code == "invalid_query" || info.error_code == "access_denied" ||
                      info.error_code == "result_too_large" ||
                      info.error_code == "memory_limit_exceeded" ||
                      info.error_code == "query_timeout";
    status["AthenaError"] = {{"ErrorCategory", user ? 2 : 1},
                             {"ErrorType", user ? 1301 : 401},
                             {"Retryable", !user},
                             {"ErrorMessage", info.state_reason}};
  }
  const int64_t started = info.started_ms > 0 ? info.started_ms : info.completed_ms;
  const int64_t queued = started > 0 ? started - info.submitted_ms : 0;
  const int64_t engine_ms =
      info.started_ms > 0 && info.completed_ms > 0 ? info.completed_ms - info.started_ms : 0;
  const int64_t total = info.completed_ms > 0 ? info.completed_ms - info.submitted_ms : 0;
  json statistics = {{"EngineExecutionTimeInMillis", engine_ms},
                     {"DataScannedInBytes", info.bytes},
                     {"TotalExecutionTimeInMillis", total},
                     {"QueryQueueTimeInMillis", queued},
                     {"QueryPlanningTimeInMillis", 0},
                     {"ServicePreProcessingTimeInMillis", 0},
                     {"ServiceProcessingTimeInMillis", 0},
                     {"ResultReuseInformation", {{"ReusedPreviousResult", false}}}};
  json out = {
      {"QueryExecutionId", info.id},
      {"Query", info.sql},
      {"StatementType", AthenaStatementType(info.sql)},
      {"ResultConfiguration", {{"OutputLocation", std::string(kOutputBucket) + info.id + ".csv"}}},
      {"ResultReuseConfiguration", {{"ResultReuseByAgeConfiguration", {{"Enabled", false}}}}},
      {"QueryExecutionContext", {{"Database", info.database}, {"Catalog", kCatalogName}}},
      {"Status", std::move(status)},
      {"Statistics", std::move(statistics)},
      {"WorkGroup", kWorkGroup},
      {"EngineVersion", EngineVersion()},
  };
  if (!info.statement_type.empty()) {
    std::string sub = info.statement_type;
    for (char& c : sub) c = c == ' ' ? '_' : c;
    out["SubstatementType"] = sub;
  }
  return out;
}

// Athena's spelling of a value of `type`.
// Appends Athena's spelling of a value of `type`: {"VarCharValue": "..."},
// or {} for NULL. Rows are written as text, not built as JSON trees: a page
// has up to 1,000 of them.
void AppendDatum(const engine::Param& value, std::string_view type, std::string& out) {
  auto quoted = [&out](std::string_view text) {
    out += "{\"VarCharValue\":\"";
    AppendJsonEscaped(out, text);
    out += "\"}";
  };
  switch (value.index()) {
    case 1: {
      const int64_t n = std::get<int64_t>(value);
      if (type == "boolean") return quoted(n != 0 ? "true" : "false");
      return quoted(std::to_string(n));
    }
    case 2: {
      const double d = std::get<double>(value);
      if (std::isnan(d)) return quoted("NaN");
      if (std::isinf(d)) return quoted(d > 0 ? "Infinity" : "-Infinity");
      return quoted(json(d).dump());
    }
    case 3:
      return quoted(std::get<std::string>(value));  // spooled as valid UTF-8
    case 4: {
      // varbinary: hex bytes separated by spaces, as Athena prints it.
      const std::string hex = HexEncode(std::get<engine::Blob>(value).bytes);
      std::string spaced;
      for (size_t i = 0; i < hex.size(); i += 2) {
        if (i > 0) spaced.push_back(' ');
        spaced.append(hex, i, 2);
      }
      return quoted(spaced);
    }
    default:
      out += "{}";  // NULL: no VarCharValue
  }
}

int Precision(std::string_view type) {
  if (type == "varchar" || type == "varbinary" || type == "json") return 2147483647;
  if (type == "bigint") return 19;
  if (type == "integer") return 10;
  if (type == "smallint") return 5;
  if (type == "tinyint") return 3;
  if (type == "double") return 17;
  if (type == "float") return 7;
  if (type == "decimal") return 38;
  return 0;
}

json ColumnInfoJson(const std::string& name, const std::string& type) {
  return {{"CatalogName", "hive"},
          {"SchemaName", ""},
          {"TableName", ""},
          {"Name", name},
          {"Label", name},
          {"Type", type},
          {"Precision", Precision(type)},
          {"Scale", 0},
          {"Nullable", "UNKNOWN"},
          {"CaseSensitive", type == "varchar"}};
}

json TableJson(const engine::TableInfo& table) {
  json columns = json::array();
  for (const engine::ColumnInfo& c : table.columns) {
    columns.push_back(
        {{"Name", c.name}, {"Type", AthenaTypeName(c.type, engine::ValueType::kNull)}});
  }
  return {{"Name", table.name},
          {"TableType", "EXTERNAL_TABLE"},
          {"Columns", std::move(columns)},
          {"PartitionKeys", json::array()},
          {"Parameters", json::object()}};
}

// Athena's ListTableMetadata Expression: a pattern where '*' matches any run
// of characters and '|' separates alternatives; case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && std::tolower(static_cast<unsigned char>(pattern[p])) ==
                                         std::tolower(static_cast<unsigned char>(name[n]))) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool MatchesExpression(std::string_view expression, std::string_view name) {
  if (expression.empty()) return true;
  for (std::string_view alternative : SplitNonEmpty(expression, '|')) {
    if (GlobMatch(TrimWhitespace(alternative), name)) return true;
  }
  return false;
}

// Athena's ExecutionParameters are SQL literals: 'text' (with '' for a
// quote), numbers, true/false and NULL.
Result<engine::Param> ParseExecutionParameter(std::string_view text, size_t index) {
  text = TrimWhitespace(text);
  const std::string where = "ExecutionParameters[" + std::to_string(index) + "]";
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    std::string value;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      if (text[i] == '\'') {
        if (i + 2 >= text.size() || text[i + 1] != '\'') {
          return Invalid(where + " has an unescaped quote (write '' inside a string)");
        }
        ++i;
      }
      value.push_back(text[i]);
    }
    return engine::Param{std::move(value)};
  }
  if (EqualsIgnoreCase(text, "null")) return engine::Param{std::monostate{}};
  if (EqualsIgnoreCase(text, "true")) return engine::Param{int64_t{1}};
  if (EqualsIgnoreCase(text, "false")) return engine::Param{int64_t{0}};
  int64_t n = 0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      ec == std::errc() && end == text.data() + text.size()) {
    return engine::Param{n};
  }
  double d = 0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      ec == std::errc() && end == text.data() + text.size() && std::isfinite(d)) {
    return engine::Param{d};
  }
  return Invalid(where + " must be a SQL literal: 'text', a number, true, false or NULL");
}

// Percent-decodes a path segment or query value ('+' is a space in a query).
// Athena's inputs are JSON strings: anything but UTF-8 is refused here.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::optional<std::string> decoded = PercentDecodeStrict(text, plus_is_space);
  if (!decoded) return Invalid("the request URL has a bad percent escape");
  if (!IsValidUtf8(*decoded)) return Invalid("the request URL decodes to text that is not UTF-8");
  return *std::move(decoded);
}

}  // namespace

Result<RestOperation> ParseRestOperation(http::Method method, std::string_view path,
                                         std::string_view query, std::string_view body) {
  json input = json::object();
  if (!TrimWhitespace(body).empty()) {
    input = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (!input.is_object()) {
      return AthenaError(AthenaFailure::kSerialization, "the request body must be a JSON object");
    }
  }
  // Query members: MaxResults is a number in the operation's input.
  for (std::string_view pair : SplitNonEmpty(query, '&')) {
    const size_t eq = pair.find('=');
    LG_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      LG_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    if (name == "MaxResults") {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return AthenaError(AthenaFailure::kSerialization, "MaxResults must be an integer");
      }
      input[name] = n;
    } else {
      input[name] = value;
    }
  }
  std::vector<std::string> segments;
  for (std::string_view raw : SplitNonEmpty(path, '/')) {
    LG_ASSIGN_OR_RETURN(std::string segment, PercentDecode(raw, false));
    segments.push_back(std::move(segment));
  }
  const size_t n = segments.size();
  const bool get = method == http::Method::kGet || method == http::Method::kHead;
  const bool post = method == http::Method::kPost;
  auto is = [&segments, n](size_t i, std::string_view name) {
    return i < n && segments[i] == name;
  };
  auto found = [&input](const char* op) { return RestOperation{op, input.dump()}; };
  if (is(0, "query-executions")) {
    if (n == 1 && post) return found("StartQueryExecution");
    if (n == 1 && get) return found("ListQueryExecutions");
    if (n >= 2) input["QueryExecutionId"] = segments[1];
    if (n == 2 && get) return found("GetQueryExecution");
    if (n == 3 && get && is(2, "results")) return found("GetQueryResults");
    if (n == 3 && post && is(2, "stop")) return found("StopQueryExecution");
  } else if (is(0, "batch-get-query-executions") && n == 1 && post) {
    return found("BatchGetQueryExecution");
  } else if (is(0, "data-catalogs") && get) {
    if (n == 1) return found("ListDataCatalogs");
    if (n == 2) {
      input["Name"] = segments[1];
      return found("GetDataCatalog");
    }
    input["CatalogName"] = segments[1];
    if (n == 3 && is(2, "databases")) return found("ListDatabases");
    if (n >= 4 && is(2, "databases")) input["DatabaseName"] = segments[3];
    if (n == 4 && is(2, "databases")) return found("GetDatabase");
    if (n == 5 && is(4, "tables")) return found("ListTableMetadata");
    if (n == 6 && is(4, "tables")) {
      input["TableName"] = segments[5];
      return found("GetTableMetadata");
    }
  } else if (is(0, "workgroups") && get) {
    if (n == 1) return found("ListWorkGroups");
    if (n == 2) {
      input["WorkGroup"] = segments[1];
      return found("GetWorkGroup");
    }
  }
  return AthenaError(AthenaFailure::kUnknownOperation, "lakegate serves no Athena operation at " +
                                                           std::string(http::MethodName(method)) +
                                                           " " + std::string(path.substr(0, 128)));
}

const ReasonDomain& ReasonDomainOf(AthenaFailure) { return kDomain; }

Status AthenaError(AthenaFailure reason, std::string message) {
  const StatusCode code = reason == AthenaFailure::kUnrecognizedClient
                              ? StatusCode::kUnauthenticated
                              : StatusCode::kInvalidArgument;
  return Status(code, reason, std::move(message));
}

std::string AthenaTypeName(std::string_view declared_type, engine::ValueType value_type) {
  const std::string t = AsciiLower(TrimWhitespace(declared_type));
  if (t.empty()) {
    switch (value_type) {
      case engine::ValueType::kInteger:
        return "bigint";
      case engine::ValueType::kReal:
        return "double";
      case engine::ValueType::kBlob:
        return "varbinary";
      default:
        return "varchar";
    }
  }
  const auto has = [&t](std::string_view part) { return t.find(part) != std::string::npos; };
  const auto starts = [&t](std::string_view part) { return t.starts_with(part); };
  if (starts("bool")) return "boolean";
  if (starts("tinyint")) return "tinyint";
  if (starts("smallint") || starts("int2")) return "smallint";
  if (starts("bigint") || starts("int8") || has("big int")) return "bigint";
  if (has("int")) return "integer";
  if (starts("decimal") || starts("numeric")) return "decimal";
  if (starts("float")) return "float";
  if (starts("double") || starts("real")) return "double";
  if (starts("timestamp") || starts("datetime")) return "timestamp";
  if (starts("date")) return "date";
  if (starts("json")) return "json";
  if (starts("array")) return "array";
  if (starts("map")) return "map";
  if (starts("row") || starts("struct")) return "row";
  if (has("blob") || has("binary")) return "varbinary";
  return "varchar";  // TEXT, CHAR, VARCHAR, CLOB, STRING, and anything else
}

std::string_view AthenaStatementType(std::string_view sql) {
  // Skip leading blanks, comments and parentheses to the first keyword.
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  size_t j = i;
  while (j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j]))) ++j;
  const std::string word = AsciiLower(sql.substr(i, j - i));
  if (word == "create" || word == "drop" || word == "alter") return "DDL";
  if (word == "select" || word == "with" || word == "values" || word == "insert" ||
      word == "update" || word == "delete" || word == "replace") {
    return "DML";
  }
  return "UTILITY";
}

AthenaApi::AthenaApi(AsyncQueries& queries, engine::Engine& engine, BearerAuthenticator& bearer,
                     const GatewayOptions& options, gateway::Authenticate sigv4)
    : queries_(queries),
      engine_(engine),
      bearer_(bearer),
      options_(options),
      sigv4_(std::move(sigv4)) {}

Result<std::shared_ptr<const Identity>> AthenaApi::Authenticate(
    const http::Request& request) const {
  const std::string_view authorization = TrimWhitespace(request.GetHeader("authorization"));
  if (authorization.starts_with("AWS4-HMAC-SHA256")) {
    if (!sigv4_) {
      return AthenaError(AthenaFailure::kUnrecognizedClient,
                         "this server does not accept AWS Signature Version 4 requests; send "
                         "Authorization: Bearer <access token>");
    }
    return sigv4_(request);
  }
  return bearer_.Authenticate(request);
}

void AthenaApi::Handle(const std::shared_ptr<Call>& call) {
  const http::Request& request = call->request();
  const std::string_view content_type = request.GetHeader("content-type");
  if (!content_type.starts_with("application/x-amz-json-1.") &&
      !http::IsJsonContentType(content_type)) {
    return call->Fail(
        AthenaError(AthenaFailure::kSerialization,
                    "Content-Type must be application/x-amz-json-1.1 (the Athena protocol)"));
  }
  const std::string_view target = request.GetHeader("x-amz-target");
  if (!target.starts_with(kTargetPrefix)) {
    return call->Fail(AthenaError(AthenaFailure::kUnknownOperation,
                                  "X-Amz-Target must be AmazonAthena.<Operation>"));
  }
  Dispatch(call, target.substr(kTargetPrefix.size()), request.body, "application/x-amz-json-1.1");
}

void AthenaApi::HandleRest(const std::shared_ptr<Call>& call) {
  const http::Request& request = call->request();
  Result<RestOperation> op =
      ParseRestOperation(request.method, request.path, request.query, request.body);
  if (!op.ok()) return call->Fail(op.status());
  Dispatch(call, op->operation, op->input, "application/json");
}

void AthenaApi::Dispatch(const std::shared_ptr<Call>& call, std::string_view op,
                         std::string_view input, std::string_view content_type) {
  const std::string_view body_text = TrimWhitespace(input).empty() ? "{}" : input;
  json body = json::parse(body_text.begin(), body_text.end(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return call->Fail(
        AthenaError(AthenaFailure::kSerialization, "the request body must be a JSON object"));
  }
  CallRecord& record = call->record();
  record.resource = std::string(op);
  const Requester who = RequesterOf(*call);

  auto respond_text = [&call, content_type](std::string text) {
    http::Response response;
    response.content_type = std::string(content_type);
    response.headers.push_back({"x-amzn-RequestId", call->id()});
    response.body = std::move(text);
    call->Respond(std::move(response));
  };
  auto respond = [&respond_text](const json& out) {
    respond_text(out.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  auto not_found = [](std::string_view id) {
    return Invalid("QueryExecution " + std::string(id.substr(0, 128)) + " was not found");
  };
  auto get = [&](std::string_view id) -> Result<ExecutionInfo> {
    Result<ExecutionInfo> info = queries_.Get(who, id);
    if (!info.ok() && info.status().Is(AsyncFailure::kNotFound)) return not_found(id);
    return info;
  };
  auto run = [&]() -> Status {
    if (op == "StartQueryExecution") {
      LG_ASSIGN_OR_RETURN(std::string sql,
                          RequiredString(body, "QueryString", options_.max_query_bytes));
      if (TrimWhitespace(sql).empty()) return Invalid("QueryString is empty");
      LG_ASSIGN_OR_RETURN(std::string token, OptionalString(body, "ClientRequestToken", 128));
      LG_ASSIGN_OR_RETURN(std::string work_group, OptionalString(body, "WorkGroup", 128));
      LG_RETURN_IF_ERROR(CheckWorkGroup(work_group));
      QueryBody query;
      query.sql = std::move(sql);
      query.database = options_.default_database;
      if (auto it = body.find("QueryExecutionContext"); it != body.end() && !it->is_null()) {
        if (!it->is_object()) {
          return AthenaError(AthenaFailure::kSerialization,
                             "QueryExecutionContext must be an object");
        }
        LG_ASSIGN_OR_RETURN(std::string database, OptionalString(*it, "Database", 255));
        LG_ASSIGN_OR_RETURN(std::string catalog, OptionalString(*it, "Catalog", 256));
        if (!catalog.empty()) LG_RETURN_IF_ERROR(CheckCatalog(catalog));
        if (!database.empty()) query.database = std::move(database);
      }
      if (auto it = body.find("ExecutionParameters"); it != body.end() && !it->is_null()) {
        if (!it->is_array()) {
          return AthenaError(AthenaFailure::kSerialization,
                             "ExecutionParameters must be a list of strings");
        }
        if (it->size() > options_.max_parameters) {
          return Invalid("ExecutionParameters has more than " +
                         std::to_string(options_.max_parameters) + " elements");
        }
        for (size_t i = 0; i < it->size(); ++i) {
          if (!(*it)[i].is_string()) {
            return AthenaError(AthenaFailure::kSerialization,
                               "ExecutionParameters must be a list of strings");
          }
          LG_ASSIGN_OR_RETURN(engine::Param p,
                              ParseExecutionParameter((*it)[i].get<std::string>(), i));
          query.params.push_back(std::move(p));
        }
      }
      record.sql = query.sql;
      record.database = query.database;
      AsyncSubmission submission = SubmissionOf(*call, std::move(query));
      submission.max_rows = 0;  // Athena has no row cap: the asynchronous limits apply
      submission.request_token = std::move(token);
      LG_ASSIGN_OR_RETURN(ExecutionInfo started, queries_.Start(std::move(submission)));
      respond({{"QueryExecutionId", started.id}});
      return Status::Ok();
    }
    if (op == "GetQueryExecution") {
      LG_ASSIGN_OR_RETURN(std::string id, RequiredString(body, "QueryExecutionId", 128));
      LG_ASSIGN_OR_RETURN(ExecutionInfo info, get(id));
      respond({{"QueryExecution", QueryExecutionJson(info)}});
      return Status::Ok();
    }
    if (op == "BatchGetQueryExecution") {
      auto it = body.find("QueryExecutionIds");
      if (it == body.end() || !it->is_array() || it->empty() || it->size() > kMaxBatch) {
        return Invalid("QueryExecutionIds must list 1 to " + std::to_string(kMaxBatch) + " ids");
      }
      json executions = json::array();
      json unprocessed = json::array();
      for (const json& id : *it) {
        if (!id.is_string()) {
          return AthenaError(AthenaFailure::kSerialization, "QueryExecutionIds must be strings");
        }
        Result<ExecutionInfo> info = queries_.Get(who, id.get<std::string>());
        if (info.ok()) {
          executions.push_back(QueryExecutionJson(*info));
        } else {
          unprocessed.push_back({{"QueryExecutionId", id},
                                 {"ErrorCode", "INVALID_INPUT"},
                                 {"ErrorMessage", "QueryExecution was not found"}});
        }
      }
      respond({{"QueryExecutions", std::move(executions)},
               {"UnprocessedQueryExecutionIds", std::move(unprocessed)}});
      return Status::Ok();
    }
    if (op == "GetQueryResults") {
      LG_ASSIGN_OR_RETURN(std::string id, RequiredString(body, "QueryExecutionId", 128));
      LG_ASSIGN_OR_RETURN(size_t max, MaxResults(body, kMaxGetResults, kMaxGetResults));
      LG_ASSIGN_OR_RETURN(std::string token, OptionalString(body, "NextToken", 1024));
      LG_ASSIGN_OR_RETURN(ExecutionInfo info, get(id));
      if (!IsFinished(info.state)) {
        return Invalid("Query has not yet finished. Current state: " +
                       std::string(ExecutionStateName(info.state)));
      }
      if (info.state != ExecutionState::kSucceeded) {
        return Invalid("Query " + std::string(ExecutionStateName(info.state)) + ": " +
                       info.state_reason);
      }
      std::vector<std::string> types;
      json column_info = json::array();
      for (const SpooledColumn& c : info.columns) {
        types.push_back(AthenaTypeName(c.declared_type, c.value_type));
        column_info.push_back(ColumnInfoJson(c.name, types.back()));
      }
      std::string rows;
      // As Athena does, the first page of a result with columns starts with
      // the header row, and it counts within MaxResults.
      const bool header = token.empty() && !info.columns.empty();
      if (header) {
        rows += "{\"Data\":[";
        for (size_t i = 0; i < info.columns.size(); ++i) {
          if (i > 0) rows.push_back(',');
          std::string name;
          AppendUtf8Sanitized(name, info.columns[i].name);
          AppendDatum(engine::Param{std::move(name)}, "varchar", rows);
        }
        rows += "]}";
      }
      Result<ResultPage> page = queries_.Results(who, id, header ? max - 1 : max, token);
      if (!page.ok()) {
        if (page.status().Is(AsyncFailure::kInvalidToken)) return Invalid("NextToken is not valid");
        return page.status();
      }
      for (const std::vector<engine::Param>& values : page->rows) {
        if (!rows.empty()) rows.push_back(',');
        rows += "{\"Data\":[";
        for (size_t i = 0; i < values.size(); ++i) {
          if (i > 0) rows.push_back(',');
          AppendDatum(values[i], i < types.size() ? std::string_view(types[i]) : "", rows);
        }
        rows += "]}";
      }
      record.rows = static_cast<int64_t>(page->rows.size());
      std::string out = "{\"UpdateCount\":" + std::to_string(info.changes) +
                        ",\"ResultSet\":{\"Rows\":[" + rows +
                        "],\"ResultSetMetadata\":{\"ColumnInfo\":" +
                        column_info.dump(-1, ' ', false, json::error_handler_t::replace) + "}}";
      if (!page->next_token.empty()) out += ",\"NextToken\":" + JsonQuote(page->next_token);
      out.push_back('}');
      respond_text(std::move(out));
      return Status::Ok();
    }
    if (op == "StopQueryExecution") {
      LG_ASSIGN_OR_RETURN(std::string id, RequiredString(body, "QueryExecutionId", 128));
      Result<ExecutionInfo> stopped = queries_.Cancel(who, id);
      if (!stopped.ok()) {
        return stopped.status().Is(AsyncFailure::kNotFound) ? not_found(id) : stopped.status();
      }
      respond(json::object());
      return Status::Ok();
    }
    if (op == "ListQueryExecutions") {
      LG_ASSIGN_OR_RETURN(size_t max, MaxResults(body, kMaxListResults, kMaxListResults));
      LG_ASSIGN_OR_RETURN(size_t offset, ParseOffsetToken(body));
      LG_ASSIGN_OR_RETURN(std::string work_group, OptionalString(body, "WorkGroup", 128));
      LG_RETURN_IF_ERROR(CheckWorkGroup(work_group));
      // Own executions only, the admin scope's too: Athena lists a work
      // group's executions for the caller.
      std::vector<ExecutionInfo> all = queries_.List(Requester{who.owner, false});
      respond(ListPage(all, offset, max, "QueryExecutionIds",
                       [](const ExecutionInfo& e) { return json(e.id); }));
      return Status::Ok();
    }
    if (op == "ListDataCatalogs") {
      respond({{"DataCatalogsSummary", {{{"CatalogName", kCatalogName}, {"Type", "GLUE"}}}}});
      return Status::Ok();
    }
    if (op == "GetDataCatalog") {
      LG_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "Name", 256));
      LG_RETURN_IF_ERROR(CheckCatalog(name));
      respond({{"DataCatalog",
                {{"Name", kCatalogName},
                 {"Type", "GLUE"},
                 {"Description", "the lake lakegate governs"},
                 {"Parameters", json::object()}}}});
      return Status::Ok();
    }
    // The one work group: its summary, and with its configuration for GetWorkGroup.
    json work_group = {
        {"Name", kWorkGroup}, {"State", "ENABLED"}, {"Description", ""}, {"CreationTime", 0}};
    if (op == "ListWorkGroups") {
      work_group["EngineVersion"] = EngineVersion();
      respond({{"WorkGroups", {std::move(work_group)}}});
      return Status::Ok();
    }
    if (op == "GetWorkGroup") {
      LG_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "WorkGroup", 128));
      LG_RETURN_IF_ERROR(CheckWorkGroup(name));
      work_group["Configuration"] = {{"ResultConfiguration", {{"OutputLocation", kOutputBucket}}},
                                     {"EnforceWorkGroupConfiguration", false},
                                     {"PublishCloudWatchMetricsEnabled", false},
                                     {"RequesterPaysEnabled", false},
                                     {"EngineVersion", EngineVersion()}};
      respond({{"WorkGroup", std::move(work_group)}});
      return Status::Ok();
    }
    const bool list_databases = op == "ListDatabases";
    const bool get_database = op == "GetDatabase";
    const bool list_tables = op == "ListTableMetadata";
    const bool get_table = op == "GetTableMetadata";
    if (!(list_databases || get_database || list_tables || get_table)) {
      return AthenaError(
          AthenaFailure::kUnknownOperation,
          "lakegate does not serve the Athena operation " + std::string(op.substr(0, 64)));
    }
    LG_ASSIGN_OR_RETURN(std::string catalog_name, RequiredString(body, "CatalogName", 256));
    LG_RETURN_IF_ERROR(CheckCatalog(catalog_name));
    // The engine's catalog for the caller's role: governed exactly as
    // /v1/catalog and the queries themselves.
    LG_ASSIGN_OR_RETURN(std::vector<engine::DatabaseInfo> databases,
                        engine_.Catalog(*call->policy(), call->role()));
    if (list_databases) {
      LG_ASSIGN_OR_RETURN(size_t max, MaxResults(body, kMaxListResults, kMaxListResults));
      LG_ASSIGN_OR_RETURN(size_t offset, ParseOffsetToken(body));
      respond(ListPage(databases, offset, max, "DatabaseList", [](const engine::DatabaseInfo& d) {
        return json{{"Name", d.name}, {"Parameters", json::object()}};
      }));
      return Status::Ok();
    }
    LG_ASSIGN_OR_RETURN(std::string database_name, RequiredString(body, "DatabaseName", 128));
    const engine::DatabaseInfo* database = nullptr;
    for (const engine::DatabaseInfo& d : databases) {
      if (EqualsIgnoreCase(d.name, database_name)) database = &d;
    }
    if (database == nullptr) {
      return AthenaError(AthenaFailure::kMetadata,
                         "Database " + database_name.substr(0, 128) + " not found.");
    }
    if (get_database) {
      respond({{"Database", {{"Name", database->name}, {"Parameters", json::object()}}}});
      return Status::Ok();
    }
    if (get_table) {
      LG_ASSIGN_OR_RETURN(std::string table_name, RequiredString(body, "TableName", 128));
      for (const engine::TableInfo& t : database->tables) {
        if (EqualsIgnoreCase(t.name, table_name)) {
          respond({{"TableMetadata", TableJson(t)}});
          return Status::Ok();
        }
      }
      return AthenaError(AthenaFailure::kMetadata,
                         "Table " + table_name.substr(0, 128) + " not found.");
    }
    LG_ASSIGN_OR_RETURN(std::string expression, OptionalString(body, "Expression", 256));
    LG_ASSIGN_OR_RETURN(size_t max, MaxResults(body, kMaxListResults, kMaxListResults));
    LG_ASSIGN_OR_RETURN(size_t offset, ParseOffsetToken(body));
    std::vector<const engine::TableInfo*> matching;
    for (const engine::TableInfo& t : database->tables) {
      if (MatchesExpression(expression, t.name)) matching.push_back(&t);
    }
    respond(ListPage(matching, offset, max, "TableMetadataList",
                     [](const engine::TableInfo* t) { return TableJson(*t); }));
    return Status::Ok();
  };
  if (Status s = run(); !s.ok()) call->Fail(s);
}

}  // namespace lakegate::gateway
