#include "engine/trino/trino_engine.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>
#include <utility>

#include "common/files.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "engine/load_driver.h"
#include "http/client.h"

namespace lakegate::engine {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The longest one page of results may be (Trino sends about 1 MB per page).
constexpr size_t kMaxPageBytes = 16 << 20;
// One INSERT of a load carries at most this much SQL (Trino's query.max-length
// is 1,000,000 characters).
constexpr size_t kMaxInsertBytes = 900 * 1000;
// A statement's token is renewed after this long (tokens live 5 minutes).
constexpr auto kTokenRenewal = std::chrono::seconds(60);

Status Failure(StatusCode code, EngineFailure reason, std::string message) {
  return Status(code, reason, std::move(message));
}
Status Misconfigured(std::string message) {
  return Failure(StatusCode::kInvalidArgument, EngineFailure::kMisconfigured, std::move(message));
}
Status Unavailable(std::string message) {
  return Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable, std::move(message));
}
Status Internal(std::string message) {
  return Failure(StatusCode::kInternal, EngineFailure::kInternal, std::move(message));
}

std::string DoubleSql(double d) {
  if (std::isnan(d)) return "nan()";
  if (std::isinf(d)) return d > 0 ? "infinity()" : "-infinity()";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  std::string s = buf;
  // A DOUBLE literal in Trino needs an exponent (1.5 alone is a DECIMAL).
  if (s.find_first_of("eE") == std::string::npos) s += "E0";
  return s;
}

std::string ParamSql(const Param& p) {
  if (std::holds_alternative<std::monostate>(p)) return "NULL";
  if (const auto* i = std::get_if<int64_t>(&p)) return "BIGINT '" + std::to_string(*i) + "'";
  if (const auto* d = std::get_if<double>(&p)) return DoubleSql(*d);
  if (const auto* s = std::get_if<std::string>(&p)) return QuoteString(*s);
  return "X'" + HexEncode(std::get<Blob>(p).bytes) + "'";
}

// Percent-encoding for a header value (X-Trino-Prepared-Statement).
std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "INTEGER", "REAL", "TEXT" (as the SQLite engine declares them) for a Trino type.
std::string DeclaredType(std::string_view trino_type) {
  std::string t = AsciiLower(trino_type);
  if (t == "bigint" || t == "integer" || t == "smallint" || t == "tinyint" || t == "boolean") {
    return "INTEGER";
  }
  if (t == "double" || t == "real") return "REAL";
  return "TEXT";
}

// Which value type the JSON of a column of `trino_type` becomes.
enum class Kind { kInteger, kBoolean, kReal, kText, kJson };
Kind KindOf(std::string_view trino_type) {
  std::string t = AsciiLower(trino_type);
  if (t == "bigint" || t == "integer" || t == "smallint" || t == "tinyint") return Kind::kInteger;
  if (t == "boolean") return Kind::kBoolean;
  if (t == "double" || t == "real") return Kind::kReal;
  if (t.starts_with("array") || t.starts_with("map") || t.starts_with("row") || t == "json") {
    return Kind::kJson;
  }
  return Kind::kText;
}

struct Cell {
  ValueType type = ValueType::kNull;
  int64_t i = 0;
  double r = 0;
  std::string text;
};

class CellsRow final : public RowView {
 public:
  std::vector<Cell> cells;
  size_t size() const override { return cells.size(); }
  ValueType type(size_t i) const override { return cells[i].type; }
  int64_t integer(size_t i) const override { return cells[i].i; }
  double real(size_t i) const override { return cells[i].r; }
  std::string_view text(size_t i) const override { return cells[i].text; }
  std::string_view blob(size_t i) const override { return cells[i].text; }
};

// One Trino error, mapped to the engine's reasons. Messages of user errors
// are Trino's (they name what the statement named); a permission error says
// nothing about the object, since Trino's names a table the role may not
// know exists.
Status MapTrinoError(const Json& error, const std::string& limit_text) {
  std::string name = error.value("errorName", "");
  std::string type = error.value("errorType", "");
  std::string message = error.value("message", "");
  if (name == "PERMISSION_DENIED") {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                   "access denied: the role may not read or change an object the statement "
                   "names, or the statement needs a wider scope");
  }
  if (name == "EXCEEDED_TIME_LIMIT" || name == "ADMINISTRATIVELY_KILLED") {
    return Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout, limit_text);
  }
  if (name.starts_with("EXCEEDED_") && name.find("MEMORY") != std::string::npos) {
    return Failure(StatusCode::kResourceExhausted, EngineFailure::kMemoryLimitExceeded,
                   "the statement needed more memory than the cluster allows it");
  }
  if (type == "USER_ERROR") {
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery, message);
  }
  if (message.find("OPA backend") != std::string::npos) {
    // Trino's OPA plugin could not ask lakegate about the statement.
    return Unavailable(
        "Trino cannot get its access decisions from lakegate: start the lakegate node that "
        "serves this cluster (the --lakegate URL scripts/trino.sh start was given)");
  }
  if (type == "INSUFFICIENT_RESOURCES") {
    return Unavailable("Trino has no resources for the statement now: " + message);
  }
  return Internal("Trino failed the statement (" + name + "): " + message);
}

// Trino refuses a table the role may not see and a column it may not read
// (its access control can deny, not hide), where it says a missing one does
// not exist: a role could tell them apart. The query API answers the same
// for both, as on every engine (docs/query-api.md): a missing or unseen
// table (or database) is "no such table" without a name (Trino's refusal of
// `SELECT *` from a table with no readable column names none), a missing or
// unreadable column of a table the role may read is "no such column: NAME"
// (the name the statement used). `mapped` is MapTrinoError()'s status;
// `columns_of` gives a lake table's columns (empty when unknown).
Status AsOnEveryEngine(
    const Json& error, Status mapped, const policy::PolicySnapshot& policy,
    const policy::Role& role, const std::string& catalog,
    const std::function<std::vector<std::string>(const std::string&, const std::string&)>&
        columns_of) {
  const std::string name = error.value("errorName", "");
  const std::string message = error.value("message", "");
  const Status no_such_table = Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                                       "no such table, or the role may not read it");
  auto no_such_column = [](const std::string& column) {
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                   "no such column: " + column);
  };
  if (name == "TABLE_NOT_FOUND" || name == "SCHEMA_NOT_FOUND" ||
      message.ends_with("Relation not found or not allowed")) {
    return no_such_table;
  }
  static const std::regex kUnresolved("Column '([^']*)' cannot be resolved");
  std::smatch m;
  if (name == "COLUMN_NOT_FOUND" && std::regex_search(message, m, kUnresolved)) {
    return no_such_column(m[1].str());
  }
  // "Access Denied: Cannot select from columns [a, b] in table or view
  // lake.s.t" (names Trino prints unquoted; one it prints ambiguously keeps
  // the nameless denial). Refused writes and DDL stay refusals (403).
  static const std::regex kSelect(
      "Cannot select from columns \\[([^\\]]*)\\] in table or view "
      "([^ .:]+)\\.([^ .:]+)\\.([^ .:]+)");
  if (name != "PERMISSION_DENIED" || !std::regex_search(message, m, kSelect) ||
      !EqualsIgnoreCase(m[2].str(), catalog)) {
    return mapped;
  }
  const std::string schema = m[3].str(), table = m[4].str(), list = m[1].str();
  std::vector<std::string> columns;
  for (std::string_view c : SplitNonEmpty(list, ',')) columns.emplace_back(TrimWhitespace(c));
  // Visibility depends on the table's columns (a filter's source that covers
  // none of them exposes nothing): all of them, not only the refused ones.
  std::vector<std::string> all_columns = columns_of(schema, table);
  for (const std::string& c : columns) {
    if (std::none_of(all_columns.begin(), all_columns.end(),
                     [&](const std::string& a) { return EqualsIgnoreCase(a, c); })) {
      all_columns.push_back(c);
    }
  }
  const policy::TableView view = policy::DecideView(policy, role, schema, table, all_columns);
  if (!view.visible()) return no_such_table;
  if (policy::Has(view.permissions, policy::Permission::kSelect)) {
    for (const std::string& c : columns) {
      if (std::none_of(view.columns.begin(), view.columns.end(),
                       [&](const policy::ViewColumn& v) { return EqualsIgnoreCase(v.name, c); })) {
        return no_such_column(c);
      }
    }
  }
  return mapped;
}

http::ClientOptions ClientOptionsFor(std::string ca_file) {
  http::ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(5000);
  options.ca_file = std::move(ca_file);
  options.no_proxy = "*";  // the cluster is reached directly
  return options;
}

class TrinoEngine final : public Engine {
 public:
  TrinoEngine(std::string base_url, std::string catalog, std::string ca_file, std::string lake_dir,
              EngineSettings settings)
      : base_url_(std::move(base_url)),
        catalog_(std::move(catalog)),
        lake_dir_(std::move(lake_dir)),
        settings_(std::move(settings)),
        client_(ClientOptionsFor(std::move(ca_file))) {}

  Result<QueryResult> Execute(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const QueryRequest& request, ResultSink& sink) override;
  Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                            const policy::Role& role) override;
  Result<LoadSummary> Load(const LoadRequest& request, RowSource& source,
                           const LoadProgressFn& progress) override;

  // One statement as `principal`; pages of rows go to `on_columns` /
  // `on_row` (either may stop the query with a non-OK status). Returns
  // Trino's updateType ("" for a query) and update count.
  struct Outcome {
    std::string update_type;
    int64_t update_count = -1;
  };
  Result<Outcome> Run(
      std::string_view principal, const std::string& sql, const std::string& schema,
      const std::vector<Param>& params, const QueryLimits& limits,
      const std::atomic<bool>* cancelled,
      const std::function<Status(const Json& columns)>& on_columns,
      const std::function<Status(const Json& row)>& on_row,
      const std::function<Status(const Json& error, Status mapped)>& refine_error = nullptr);

 private:
  // The columns of a lake table, read as the load principal (only to word a
  // refusal; never shown); empty when Trino does not say.
  std::vector<std::string> ColumnsOf(const std::string& schema, const std::string& table);
  Result<http::ClientResponse> Send(http::ClientRequest request, Clock::time_point deadline);
  void Cancel(const std::string& next_uri, const SecretString& token);

  const std::string base_url_;
  const std::string catalog_;
  const std::string lake_dir_;  // the lake's local root, where loads stage files; "" = none
  const EngineSettings settings_;
  const http::Client client_;
};

Result<http::ClientResponse> TrinoEngine::Send(http::ClientRequest request,
                                               Clock::time_point deadline) {
  // 502/503/504: Trino or a proxy is busy; the protocol says retry.
  for (int attempt = 0;; ++attempt) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout, "");
    }
    request.timeout = std::min(left, std::chrono::milliseconds(60000));
    Result<http::ClientResponse> response = client_.Send(request);
    if (!response.ok()) {
      if (response.status().Is(http::ClientFailure::kTimeout)) {
        return Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout, "");
      }
      return Unavailable("Trino at " + base_url_ +
                         " does not answer: " + response.status().message());
    }
    if ((response->status == 502 || response->status == 503 || response->status == 504) &&
        attempt < 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    return response;
  }
}

void TrinoEngine::Cancel(const std::string& next_uri, const SecretString& token) {
  http::ClientRequest request;
  request.method = http::Method::kDelete;
  request.url = next_uri;
  request.headers.push_back({"Authorization", "Bearer " + std::string(token.Reveal())});
  request.timeout = std::chrono::milliseconds(5000);
  Result<http::ClientResponse> r = client_.Send(std::move(request));
  if (!r.ok()) log::Warn("could not cancel a Trino query: " + r.status().message());
}

Result<TrinoEngine::Outcome> TrinoEngine::Run(
    std::string_view principal, const std::string& sql, const std::string& schema,
    const std::vector<Param>& params, const QueryLimits& limits, const std::atomic<bool>* cancelled,
    const std::function<Status(const Json&)>& on_columns,
    const std::function<Status(const Json&)>& on_row,
    const std::function<Status(const Json&, Status)>& refine_error) {
  const Clock::time_point deadline = Clock::now() + limits.timeout;
  const std::string limit_text =
      "the query ran longer than the limit of " + std::to_string(limits.timeout.count()) + " ms";
  if (!settings_.bearer_token) return Misconfigured("the Trino engine has no token source");
  LG_ASSIGN_OR_RETURN(SecretString token, settings_.bearer_token(principal));
  Clock::time_point minted = Clock::now();
  http::ClientRequest request;
  request.method = http::Method::kPost;
  request.url = base_url_ + "/v1/statement";
  request.headers = {{"Authorization", "Bearer " + std::string(token.Reveal())},
                     {"X-Trino-User", std::string(principal)},
                     {"X-Trino-Catalog", catalog_},
                     {"X-Trino-Source", "lakegate"},
                     {"Content-Type", "text/plain; charset=utf-8"}};
  if (!schema.empty()) request.headers.push_back({"X-Trino-Schema", schema});
  if (params.empty()) {
    request.body = sql;
  } else {
    request.headers.push_back({"X-Trino-Prepared-Statement", "lakegate_stmt=" + UrlEncode(sql)});
    request.body = "EXECUTE lakegate_stmt USING ";
    for (size_t i = 0; i < params.size(); ++i) {
      if (i > 0) request.body += ", ";
      request.body += ParamSql(params[i]);
    }
  }
  request.max_response_bytes = kMaxPageBytes;
  const http::ClientRequest first = request;
  Outcome outcome;
  bool columns_seen = false;
  std::string next_uri;
  auto fail = [&](Status s) -> Status {
    if (!next_uri.empty()) Cancel(next_uri, token);
    return s;
  };
  for (;;) {
    Result<http::ClientResponse> response = Send(request, deadline);
    if (!response.ok()) {
      if (response.status().Is(EngineFailure::kTimeout)) {
        return fail(Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout, limit_text));
      }
      return fail(response.status());
    }
    if (response->status == 401 || response->status == 403) {
      return fail(Internal("Trino refused lakegate's token (HTTP " +
                           std::to_string(response->status) +
                           "): Trino verifies it with the keys the lakegate node serving the "
                           "cluster writes to DIR/jwt-keys (scripts/trino.sh); is that node "
                           "running, on the same state store?"));
    }
    if (response->status != 200) {
      return fail(Unavailable("Trino answered HTTP " + std::to_string(response->status)));
    }
    Json page = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (page.is_discarded() || !page.is_object()) {
      return fail(Internal("Trino's answer is not JSON"));
    }
    next_uri = page.value("nextUri", "");
    if (page.contains("error") && page["error"].is_object()) {
      next_uri.clear();  // the query is over
      // A coordinator that is still starting refuses every statement: wait
      // for it within the deadline (lakegate and Trino often start together).
      if (page["error"].value("errorName", "") == "SERVER_STARTING_UP" && !columns_seen &&
          Clock::now() + std::chrono::milliseconds(500) < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        request = first;
        continue;
      }
      Status mapped = MapTrinoError(page["error"], limit_text);
      return refine_error ? refine_error(page["error"], std::move(mapped)) : mapped;
    }
    if (page.contains("updateType") && page["updateType"].is_string()) {
      outcome.update_type = page["updateType"].get<std::string>();
    }
    // An update's one column ("rows") is its count, not a result.
    const bool update = !outcome.update_type.empty();
    if (!update && !columns_seen && page.contains("columns") && page["columns"].is_array()) {
      columns_seen = true;
      if (Status s = on_columns(page["columns"]); !s.ok()) return fail(s);
    }
    if (page.contains("data") && page["data"].is_array()) {
      for (const Json& row : page["data"]) {
        if (update) {
          if (row.is_array() && !row.empty() && row[0].is_number_integer()) {
            outcome.update_count = row[0].get<int64_t>();
          }
          continue;
        }
        if (Status s = on_row(row); !s.ok()) return fail(s);
      }
    }
    if (page.contains("updateCount") && page["updateCount"].is_number_integer()) {
      outcome.update_count = page["updateCount"].get<int64_t>();
    }
    if (next_uri.empty()) break;
    if (cancelled != nullptr && cancelled->load()) {
      return fail(Failure(StatusCode::kDeadlineExceeded, EngineFailure::kCancelled,
                          "the client went away"));
    }
    if (Clock::now() >= deadline) {
      return fail(Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout, limit_text));
    }
    if (Clock::now() - minted > kTokenRenewal) {
      // A long statement outlives its token: Trino checks every request.
      LG_ASSIGN_OR_RETURN(token, settings_.bearer_token(principal));
      minted = Clock::now();
    }
    request = http::ClientRequest{};
    request.method = http::Method::kGet;
    request.url = next_uri;
    request.headers = {{"Authorization", "Bearer " + std::string(token.Reveal())}};
    request.max_response_bytes = kMaxPageBytes;
  }
  if (!columns_seen) LG_RETURN_IF_ERROR(on_columns(Json::array()));
  return outcome;
}

std::vector<std::string> TrinoEngine::ColumnsOf(const std::string& schema,
                                                const std::string& table) {
  std::vector<std::string> columns;
  QueryLimits limits;
  limits.timeout = std::chrono::milliseconds(10000);
  Result<Outcome> outcome = Run(
      kTrinoLoadPrincipal,
      "SELECT column_name FROM " + QuoteIdent(catalog_) +
          ".information_schema.columns WHERE table_schema = " + QuoteString(AsciiLower(schema)) +
          " AND table_name = " + QuoteString(AsciiLower(table)) + " ORDER BY ordinal_position",
      "", {}, limits, nullptr, [](const Json&) { return Status::Ok(); },
      [&](const Json& r) {
        if (r.is_array() && !r.empty() && r[0].is_string())
          columns.push_back(r[0].get<std::string>());
        return Status::Ok();
      });
  if (!outcome.ok()) columns.clear();
  return columns;
}

StatementClass ClassOf(std::string_view update_type) {
  if (update_type.empty()) return StatementClass::kRead;
  if (update_type == "INSERT" || update_type == "DELETE" || update_type == "UPDATE" ||
      update_type == "MERGE" || update_type == "CREATE TABLE" || update_type == "TRUNCATE TABLE") {
    return StatementClass::kWrite;
  }
  return StatementClass::kAdmin;
}

// The Trino principal of `role` with `max_class` (trino/opa_decider.h's
// EnginePrincipal; spelled here so that the engine does not depend on it).
std::string PrincipalOf(const policy::Role& role, StatementClass max_class) {
  return "lakegate:" + std::string(StatementClassName(max_class)) + ":" + role.name;
}

Result<QueryResult> TrinoEngine::Execute(const policy::PolicySnapshot& policy,
                                         const policy::Role& role, const QueryRequest& request,
                                         ResultSink& sink) {
  QueryResult result;
  std::vector<Kind> kinds;
  CellsRow row;
  bool is_update = false;
  auto on_columns = [&](const Json& columns) -> Status {
    std::vector<ColumnInfo> infos;
    for (const Json& c : columns) {
      std::string type = c.value("type", "");
      kinds.push_back(KindOf(type));
      infos.push_back({c.value("name", ""), DeclaredType(type)});
    }
    // An update's one "rows" column is its count, not a result.
    return sink.Begin(infos);
  };
  auto on_row = [&](const Json& values) -> Status {
    if (!values.is_array() || values.size() != kinds.size()) {
      return Internal("Trino sent a row that does not match its columns");
    }
    if (result.rows >= request.limits.max_rows) {
      result.truncated = true;
      return Status(StatusCode::kResourceExhausted, "max rows");  // stops the query
    }
    row.cells.resize(kinds.size());
    for (size_t i = 0; i < kinds.size(); ++i) {
      const Json& v = values[i];
      Cell& cell = row.cells[i];
      cell.text.clear();
      if (v.is_null()) {
        cell.type = ValueType::kNull;
        continue;
      }
      switch (kinds[i]) {
        case Kind::kInteger:
          cell.type = ValueType::kInteger;
          cell.i = v.is_number_integer() ? v.get<int64_t>() : 0;
          break;
        case Kind::kBoolean:
          cell.type = ValueType::kInteger;
          cell.i = v.is_boolean() && v.get<bool>() ? 1 : 0;
          break;
        case Kind::kReal:
          cell.type = ValueType::kReal;
          if (v.is_number()) {
            cell.r = v.get<double>();
          } else {  // "NaN", "Infinity", "-Infinity"
            std::string s = v.is_string() ? v.get<std::string>() : "";
            cell.r = s == "Infinity" ? HUGE_VAL : s == "-Infinity" ? -HUGE_VAL : std::nan("");
          }
          break;
        case Kind::kText:
          cell.type = ValueType::kText;
          cell.text = v.is_string() ? v.get<std::string>() : v.dump();
          break;
        case Kind::kJson:
          cell.type = ValueType::kText;
          cell.text = v.dump();
          break;
      }
      if (cell.type == ValueType::kText &&
          static_cast<int64_t>(cell.text.size()) > request.limits.max_string_bytes) {
        return Failure(StatusCode::kResourceExhausted, EngineFailure::kValueTooLarge,
                       "a value is longer than the limit of " +
                           std::to_string(request.limits.max_string_bytes) + " bytes");
      }
    }
    ++result.rows;
    return sink.Row(row);
  };
  Result<Outcome> outcome = Run(
      PrincipalOf(role, request.max_class), request.sql, request.database, request.params,
      request.limits, request.cancelled, on_columns, on_row, [&](const Json& error, Status mapped) {
        return AsOnEveryEngine(error, std::move(mapped), policy, role, catalog_,
                               [this](const std::string& schema, const std::string& table) {
                                 return ColumnsOf(schema, table);
                               });
      });
  if (!outcome.ok()) {
    if (result.truncated && outcome.status().reason_info().name.empty()) {
      result.statement_type = "SELECT";
      return result;
    }
    return outcome.status();
  }
  is_update = !outcome->update_type.empty();
  result.statement_type = is_update ? outcome->update_type : "SELECT";
  result.statement_class = ClassOf(outcome->update_type);
  if (is_update && outcome->update_count >= 0) result.changes = outcome->update_count;
  return result;
}

Result<std::vector<DatabaseInfo>> TrinoEngine::Catalog(const policy::PolicySnapshot&,
                                                       const policy::Role& role) {
  // Trino's access control filters information_schema for the role: what
  // comes back is what the role may see.
  std::vector<DatabaseInfo> out;
  QueryLimits limits;
  limits.timeout = std::chrono::milliseconds(30000);
  auto on_columns = [](const Json&) { return Status::Ok(); };
  auto on_row = [&](const Json& r) -> Status {
    if (!r.is_array() || r.size() != 4) return Internal("unexpected catalog row");
    std::string schema = r[0].get<std::string>();
    std::string table = r[1].get<std::string>();
    if (out.empty() || out.back().name != schema) out.push_back({schema, {}});
    auto& tables = out.back().tables;
    if (tables.empty() || tables.back().name != table) tables.push_back({table, {}});
    tables.back().columns.push_back(
        {r[2].get<std::string>(), DeclaredType(r[3].get<std::string>())});
    return Status::Ok();
  };
  LG_ASSIGN_OR_RETURN(
      Outcome outcome,
      Run(PrincipalOf(role, StatementClass::kRead),
          "SELECT table_schema, table_name, column_name, data_type FROM " + QuoteIdent(catalog_) +
              ".information_schema.columns WHERE table_schema <> 'information_schema' "
              "ORDER BY table_schema, table_name, ordinal_position",
          "", {}, limits, nullptr, on_columns, on_row));
  (void)outcome;
  return out;
}

// The prefix of a load's staging table and directory (the rest is random hex).
constexpr std::string_view kStagingPrefix = "lakegate_load_";
// Where a load stages its rows as files, under the lake's local root.
constexpr std::string_view kStagingDir = "lakegate-staging";

// A Trino type lakegate may write into a CAST (a type information_schema
// reported: letters, digits, '_', '(', ')', ',' and spaces).
bool IsPlainTypeName(std::string_view type) {
  if (type.empty()) return false;
  for (char c : type) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '(' ||
              c == ')' || c == ',' || c == ' ';
    if (!ok) return false;
  }
  return true;
}

bool IsTextType(std::string_view type) {
  std::string t = AsciiLower(type);
  return t.starts_with("varchar") || t.starts_with("char");
}

// A load is atomic whatever its size: its rows go to a staging table first,
// and ONE statement publishes them at Commit() -- CREATE TABLE target AS
// SELECT ... or a rename for a table the load creates, INSERT INTO target
// SELECT ... for an existing one (Trino's Hive connector commits a
// statement's files at its end and deletes them when it fails). Readers never
// see a part of the load; a failed load, or a target destroyed without
// Commit(), drops what it staged.
//
// Staging, by what the engine can reach:
//   - files (the lake's local root, DIR/lake of scripts/trino.sh, is a
//     directory here): the rows are written as JSON lines of text values to
//     DIR/lake/lakegate-staging/<id>/rows.json, an external table
//     "lakegate_load_<id>" (format JSON, every column varchar) is laid over
//     them, and the publishing statement casts each column to its type.
//     Trino reads the file once: a 1 MB load takes about a second;
//   - INSERT ... VALUES otherwise (a cluster whose lake lakegate cannot
//     write): a Parquet staging table filled by statements of up to
//     kMaxInsertBytes, sent as they fill (memory stays flat), published by a
//     rename or INSERT ... SELECT. Trino plans each large VALUES slowly (tens
//     of seconds a megabyte on two cores).
class TrinoLoadTarget final : public LoadTarget {
 public:
  TrinoLoadTarget(TrinoEngine& engine, std::string catalog, const std::string& lake_dir,
                  const LoadRequest& request)
      : engine_(engine),
        catalog_(std::move(catalog)),
        request_(request),
        id_(RandomHex(8)),
        staging_(std::string(kStagingPrefix) + id_),
        stage_dir_(lake_dir.empty() ? ""
                                    : lake_dir + "/" + std::string(kStagingDir) + "/" +
                                          std::string(kStagingPrefix) + id_) {}

  ~TrinoLoadTarget() override {
    if (file_ != nullptr) std::fclose(file_);
    if (staging_created_ && !(published_ && !files())) {
      // The files' external table always goes; a published VALUES staging
      // table was renamed or dropped already.
      if (Status s = Statement("DROP TABLE IF EXISTS " + Qualified(staging_), nullptr); !s.ok()) {
        log::Warn("could not drop the staging table " + Qualified(staging_) +
                  " of a load (drop it by hand): " + s.message());
      }
    }
    if (files() && stage_dir_made_) {
      std::error_code ec;
      std::filesystem::remove_all(stage_dir_, ec);
      if (ec) log::Warn("could not remove " + stage_dir_ + ": " + ec.message());
    }
  }

  Result<std::optional<std::vector<LoadedColumn>>> DescribeTable() override {
    std::vector<LoadedColumn> columns;
    LG_RETURN_IF_ERROR(
        Statement("SELECT column_name, data_type FROM " + QuoteIdent(catalog_) +
                      ".information_schema.columns WHERE table_schema = " +
                      QuoteString(AsciiLower(request_.database)) + " AND table_name = " +
                      QuoteString(AsciiLower(request_.table)) + " ORDER BY ordinal_position",
                  [&](const Json& r) {
                    columns.push_back({r[0].get<std::string>(), r[1].get<std::string>()});
                    return Status::Ok();
                  }));
    if (columns.empty()) return std::optional<std::vector<LoadedColumn>>();
    table_columns_ = columns;
    return std::optional<std::vector<LoadedColumn>>(std::move(columns));
  }

  ColumnKind KindOf(std::string_view declared_type) const override {
    std::string t = AsciiLower(declared_type);
    if (t == "bigint" || t == "integer" || t == "int" || t == "smallint" || t == "tinyint") {
      return ColumnKind::kInteger;
    }
    if (t == "double" || t == "real") return ColumnKind::kReal;
    return ColumnKind::kText;
  }

  Status Begin() override { return Status::Ok(); }

  Status CreateTable(const std::vector<LoadedColumn>& columns) override {
    creating_ = true;
    table_columns_.clear();
    for (const LoadedColumn& c : columns) {
      table_columns_.push_back({AsciiLower(c.name), TrinoType(c.type)});
    }
    return Status::Ok();
  }

  Status PrepareInsert(const std::vector<std::string>& columns) override {
    // The rows gathered so far were for the previous column list.
    LG_RETURN_IF_ERROR(Flush());
    insert_columns_.clear();
    casts_.clear();
    for (const std::string& c : columns) {
      insert_columns_.push_back(AsciiLower(c));
      mentioned_.insert(AsciiLower(c));
      casts_.push_back(CastFor(c));
    }
    return Status::Ok();
  }

  Status Insert(const std::vector<LoadValue>& values) override {
    if (files()) return WriteLine(values);
    std::string tuple = "(";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) tuple += ", ";
      const LoadValue& v = values[i];
      if (std::holds_alternative<std::monostate>(v)) {
        tuple += "NULL";
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        tuple += std::to_string(*n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        tuple += DoubleSql(*d);
      } else if (i < casts_.size() && !casts_[i].empty()) {
        tuple += "CAST(" + QuoteString(std::get<std::string_view>(v)) + " AS " + casts_[i] + ")";
      } else {
        tuple += QuoteString(std::get<std::string_view>(v));
      }
    }
    tuple += ")";
    if (!pending_.empty() && pending_.size() + tuple.size() > kMaxInsertBytes) {
      LG_RETURN_IF_ERROR(Flush());
    }
    if (!pending_.empty()) pending_ += ", ";
    pending_ += tuple;
    return Status::Ok();
  }

  Status Commit() override {
    if (files()) return CommitFiles();
    LG_RETURN_IF_ERROR(Flush());
    LG_RETURN_IF_ERROR(EnsureStaging());  // an empty load still creates its table
    if (creating_) {
      LG_RETURN_IF_ERROR(Published(Statement(
          "ALTER TABLE " + Qualified(staging_) + " RENAME TO " + Qualified(request_.table),
          nullptr)));
      published_ = true;
      return Status::Ok();
    }
    LG_RETURN_IF_ERROR(Statement("INSERT INTO " + Qualified(request_.table) + " (" + ColumnList() +
                                     ") SELECT " + ColumnList() + " FROM " + Qualified(staging_),
                                 nullptr));
    published_ = true;
    if (Status s = Statement("DROP TABLE " + Qualified(staging_), nullptr); !s.ok()) {
      log::Warn("the load is published, but its staging table " + Qualified(staging_) +
                " could not be dropped (drop it by hand): " + s.message());
    }
    return Status::Ok();
  }

 private:
  bool files() const { return !stage_dir_.empty(); }

  std::string Qualified(std::string_view table) const {
    return QuoteIdent(catalog_) + "." + QuoteIdent(AsciiLower(request_.database)) + "." +
           QuoteIdent(AsciiLower(table));
  }

  std::string ColumnList() const {
    std::string out;
    for (const LoadedColumn& c : table_columns_) {
      if (!out.empty()) out += ", ";
      out += QuoteIdent(c.name);
    }
    return out;
  }

  // The type a text value of the table column `name` is cast to: "" for the
  // types a string literal or a number goes into as it is.
  std::string CastFor(std::string_view name) const {
    for (const LoadedColumn& c : table_columns_) {
      if (!EqualsIgnoreCase(c.name, name)) continue;
      std::string t = AsciiLower(c.type);
      if (IsTextType(t) || !IsPlainTypeName(t) || KindOf(t) != ColumnKind::kText) return "";
      return t;
    }
    return "";
  }

  static std::string TrinoType(std::string_view declared) {
    std::string t = AsciiLower(declared);
    if (t.find("int") != std::string::npos) return "bigint";
    if (t.find("real") != std::string::npos || t.find("double") != std::string::npos ||
        t.find("float") != std::string::npos || t.find("numeric") != std::string::npos) {
      return "double";
    }
    return "varchar";
  }

  // A publishing statement's failure; "already exists" is a table someone
  // else created during the load.
  Status Published(Status s) const {
    if (!s.ok() && s.message().find("already exists") != std::string::npos) {
      return Failure(StatusCode::kFailedPrecondition, EngineFailure::kConflict,
                     "table " + request_.database + "." + request_.table +
                         " was created by someone else during the load; run it again");
    }
    return s;
  }

  Status CreateSchemaIfAsked() {
    if (!creating_ || !request_.create) return Status::Ok();
    return Statement("CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(catalog_) + "." +
                         QuoteIdent(AsciiLower(request_.database)),
                     nullptr);
  }

  // ---- staging in files ----

  // One JSON object of text values per row, keyed by the lower-case column.
  Status WriteLine(const std::vector<LoadValue>& values) {
    if (file_ == nullptr) {
      if (Status s = MakeDirectories(stage_dir_, 0755); !s.ok()) {
        return Unavailable("cannot stage the load in " + stage_dir_ + ": " + s.message());
      }
      stage_dir_made_ = true;
      file_ = std::fopen((stage_dir_ + "/rows.json").c_str(), "wx");
      if (file_ == nullptr) {
        return Unavailable("cannot stage the load in " + stage_dir_ + ": " + std::strerror(errno));
      }
    }
    line_.assign("{");
    char buf[64];
    for (size_t i = 0; i < values.size() && i < insert_columns_.size(); ++i) {
      const LoadValue& v = values[i];
      if (std::holds_alternative<std::monostate>(v)) continue;  // a missing key reads as NULL
      if (line_.size() > 1) line_ += ',';
      line_ += '"';
      AppendJsonEscaped(line_, insert_columns_[i]);
      line_ += "\":\"";
      if (const auto* n = std::get_if<int64_t>(&v)) {
        line_ += std::to_string(*n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        if (std::isnan(*d)) {
          line_ += "NaN";
        } else if (std::isinf(*d)) {
          line_ += *d > 0 ? "Infinity" : "-Infinity";
        } else {
          std::snprintf(buf, sizeof buf, "%.17g", *d);
          line_ += buf;
        }
      } else {
        AppendJsonEscaped(line_, std::get<std::string_view>(v));
      }
      line_ += '"';
    }
    line_ += "}\n";
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
      return Unavailable("cannot write " + stage_dir_ + "/rows.json: " + std::strerror(errno));
    }
    ++staged_rows_;
    return Status::Ok();
  }

  Status CommitFiles() {
    if (file_ != nullptr) {
      const bool closed = std::fclose(file_) == 0;
      file_ = nullptr;
      if (!closed) {
        return Unavailable("cannot write " + stage_dir_ + "/rows.json: " + std::strerror(errno));
      }
    } else {
      // An empty load: an empty file, so that the publishing statement runs.
      LG_RETURN_IF_ERROR(MakeDirectories(stage_dir_, 0755));
      stage_dir_made_ = true;
      LG_RETURN_IF_ERROR(WriteFileAtomic(stage_dir_ + "/rows.json", "", 0644));
    }
    LG_RETURN_IF_ERROR(CreateSchemaIfAsked());
    // The staging table has every column of the target; the publishing
    // statement writes those the load mentions (a new table: all of them),
    // so that a column the file never names keeps its default whatever its
    // type.
    std::string text_columns;
    std::string select;
    std::string written;
    for (const LoadedColumn& c : table_columns_) {
      if (!text_columns.empty()) text_columns += ", ";
      text_columns += QuoteIdent(c.name) + " varchar";
      if (!creating_ && !mentioned_.contains(AsciiLower(c.name))) continue;
      if (!select.empty()) {
        select += ", ";
        written += ", ";
      }
      written += QuoteIdent(c.name);
      if (IsTextType(c.type)) {
        select += QuoteIdent(c.name);
      } else if (IsPlainTypeName(c.type)) {
        select += "CAST(" + QuoteIdent(c.name) + " AS " + AsciiLower(c.type) + ") AS " +
                  QuoteIdent(c.name);
      } else {
        return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidData,
                       "cannot load into column '" + c.name + "' of type " + c.type);
      }
    }
    const std::string relative = std::string(kStagingDir) + "/" + std::string(kStagingPrefix) + id_;
    LG_RETURN_IF_ERROR(Statement("CREATE TABLE " + Qualified(staging_) + " (" + text_columns +
                                     ") WITH (format = 'JSON', external_location = " +
                                     QuoteString("local:///" + relative) + ")",
                                 nullptr));
    staging_created_ = true;
    // Trino must read every staged row: a cluster whose lake is not this
    // directory would publish nothing.
    int64_t seen = -1;
    LG_RETURN_IF_ERROR(Statement("SELECT count(*) FROM " + Qualified(staging_), [&](const Json& r) {
      if (r.is_array() && r.size() == 1 && r[0].is_number_integer()) seen = r[0].get<int64_t>();
      return Status::Ok();
    }));
    if (seen != staged_rows_) {
      return Internal("Trino read " + std::to_string(seen) + " of the " +
                      std::to_string(staged_rows_) + " rows staged in " + stage_dir_ +
                      ": is that directory the lake catalog's local root (local.location)?");
    }
    std::string source = " SELECT " + select + " FROM " + Qualified(staging_);
    if (creating_) {
      LG_RETURN_IF_ERROR(Published(Statement(
          "CREATE TABLE " + Qualified(request_.table) + " WITH (format = 'PARQUET') AS" + source,
          nullptr)));
    } else {
      if (written.empty()) {  // records without fields: rows of defaults
        written = QuoteIdent(table_columns_.front().name);
        source = " SELECT NULL FROM " + Qualified(staging_);
      }
      LG_RETURN_IF_ERROR(Statement(
          "INSERT INTO " + Qualified(request_.table) + " (" + written + ")" + source, nullptr));
    }
    published_ = true;
    return Status::Ok();
  }

  // ---- staging in a table (INSERT ... VALUES) ----

  // Creates the staging table on first use: the load's columns for a new
  // table, the target's (LIKE) for an existing one.
  Status EnsureStaging() {
    if (staging_created_) return Status::Ok();
    LG_RETURN_IF_ERROR(CreateSchemaIfAsked());
    std::string body;
    if (creating_) {
      for (const LoadedColumn& c : table_columns_) {
        if (!body.empty()) body += ", ";
        body += QuoteIdent(c.name) + " " + c.type;
      }
    } else {
      body = "LIKE " + Qualified(request_.table);
    }
    LG_RETURN_IF_ERROR(Statement(
        "CREATE TABLE " + Qualified(staging_) + " (" + body + ") WITH (format = 'PARQUET')",
        nullptr));
    staging_created_ = true;
    return Status::Ok();
  }

  // Sends the rows gathered so far into the staging table.
  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    LG_RETURN_IF_ERROR(EnsureStaging());
    std::string sql = "INSERT INTO " + Qualified(staging_) + " (";
    for (size_t i = 0; i < insert_columns_.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += QuoteIdent(insert_columns_[i]);
    }
    sql += ") VALUES " + pending_;
    pending_.clear();
    return Statement(sql, nullptr);
  }

  Status Statement(const std::string& sql, const std::function<Status(const Json&)>& on_row) {
    QueryLimits limits;
    limits.timeout = std::chrono::milliseconds(600000);
    auto rows = [&](const Json& r) { return on_row ? on_row(r) : Status::Ok(); };
    Result<TrinoEngine::Outcome> outcome = engine_.Run(
        kTrinoLoadPrincipal, sql, "", {}, limits, nullptr, [](const Json&) { return Status::Ok(); },
        rows);
    if (!outcome.ok()) {
      if (outcome.status().Is(EngineFailure::kInvalidQuery)) {
        return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidData,
                       outcome.status().message());
      }
      return outcome.status();
    }
    return Status::Ok();
  }

  TrinoEngine& engine_;
  const std::string catalog_;
  const LoadRequest& request_;
  const std::string id_;
  const std::string staging_;    // the staging table
  const std::string stage_dir_;  // its files; "" = staging by INSERT ... VALUES
  bool creating_ = false;
  bool staging_created_ = false;
  bool stage_dir_made_ = false;
  bool published_ = false;
  std::vector<LoadedColumn> table_columns_;  // the target's columns (Trino types)
  std::vector<std::string> insert_columns_;  // lower-case, in Insert()'s order
  std::set<std::string> mentioned_;          // lower-case: every column the load wrote
  std::vector<std::string> casts_;           // by inserted column: the CAST type of a text value
  std::FILE* file_ = nullptr;
  std::string line_;
  int64_t staged_rows_ = 0;
  std::string pending_;  // the VALUES tuples not sent yet
};

Result<LoadSummary> TrinoEngine::Load(const LoadRequest& request, RowSource& source,
                                      const LoadProgressFn& progress) {
  LG_RETURN_IF_ERROR(ValidateLoadRequest(request));
  TrinoLoadTarget target(*this, catalog_, lake_dir_, request);
  return LoadInto(target, request, source, progress);
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenTrinoEngineAt(std::string_view location,
                                                  const EngineSettings& settings) {
  // The registry hands over the whole URL (a server's URL keeps its scheme).
  if (location.size() >= 6 && EqualsIgnoreCase(location.substr(0, 6), "trino:")) {
    location.remove_prefix(6);
  }
  if (!location.starts_with("//")) {
    return Misconfigured("a Trino engine URL is trino://HOST:PORT[?catalog=NAME]");
  }
  location.remove_prefix(2);
  std::string_view authority = location.substr(0, location.find_first_of("/?"));
  std::string_view rest = location.substr(authority.size());
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Misconfigured("a Trino engine URL is trino://HOST:PORT[?catalog=NAME]");
  }
  std::string catalog = "lake";
  std::string dir;
  if (!rest.empty() && rest != "/") {
    if (rest[0] == '/') rest.remove_prefix(1);
    if (rest.empty() || rest[0] != '?') {
      return Misconfigured("a Trino engine URL has no path: trino://HOST:PORT[?catalog=NAME]");
    }
    rest.remove_prefix(1);
    for (std::string_view pair : SplitNonEmpty(rest, '&')) {
      size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      if (key == "catalog" && IsValidDatabaseName(value)) {
        catalog = std::string(value);
      } else if (key == "dir") {
        dir = std::string(value);
      } else {
        return Misconfigured("unknown or invalid Trino engine URL parameter '" + std::string(key) +
                             "' (known: catalog=NAME, dir=DIR)");
      }
    }
  }
  if (!settings.bearer_token) {
    return Misconfigured(
        "the Trino engine needs lakegate's token issuer (serve the auth component too)");
  }
  // Trino authenticates only over HTTPS; the CA of a cluster started by
  // scripts/trino.sh is DIR/tls/ca.pem.
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lakegate-trino";
  }
  std::string ca_file = dir + "/tls/ca.pem";
  if (access(ca_file.c_str(), R_OK) != 0) ca_file.clear();  // the system's trust store
  // The lake catalog's local root (local.location=DIR/lake): loads stage
  // their rows there as files when lakegate can write it.
  std::string lake_dir = dir + "/lake";
  if (access(lake_dir.c_str(), W_OK | X_OK) != 0) lake_dir.clear();
  return std::unique_ptr<Engine>(new TrinoEngine("https://" + std::string(authority),
                                                 std::move(catalog), std::move(ca_file),
                                                 std::move(lake_dir), settings));
}

}  // namespace lakegate::engine
