#include "gateway/async_api.h"

#include <charconv>

#include "audit/events.h"
#include "common/percent_encoding.h"
#include "common/strings.h"
#include "gateway/gateway_failure.h"
#include "gateway/result_encoder.h"

namespace lakegate::gateway {
namespace {

// A spooled row as the encoders read rows.
class ParamRow final : public engine::RowView {
 public:
  explicit ParamRow(const std::vector<engine::Param>& values) : values_(values) {}
  size_t size() const override { return values_.size(); }
  engine::ValueType type(size_t i) const override {
    switch (values_[i].index()) {
      case 1:
        return engine::ValueType::kInteger;
      case 2:
        return engine::ValueType::kReal;
      case 3:
        return engine::ValueType::kText;
      case 4:
        return engine::ValueType::kBlob;
      default:
        return engine::ValueType::kNull;
    }
  }
  int64_t integer(size_t i) const override { return std::get<int64_t>(values_[i]); }
  double real(size_t i) const override { return std::get<double>(values_[i]); }
  std::string_view text(size_t i) const override { return std::get<std::string>(values_[i]); }
  std::string_view blob(size_t i) const override {
    return std::get<engine::Blob>(values_[i]).bytes;
  }

 private:
  const std::vector<engine::Param>& values_;
};

void AppendMillis(std::string& out, std::string_view name, int64_t ms) {
  out += ",\"" + std::string(name) + "\":";
  out += ms > 0 ? JsonQuote(audit::FormatTimestamp(ms)) : "null";
}

std::string StatusJson(const ExecutionInfo& info) {
  std::string out = "{\"success\":true,\"queryId\":" + JsonQuote(info.id) +
                    ",\"state\":" + JsonQuote(ExecutionStateName(info.state));
  if (!info.state_reason.empty()) {
    out += ",\"stateChangeReason\":" + JsonQuote(info.state_reason);
  }
  if (info.state == ExecutionState::kFailed || info.state == ExecutionState::kCancelled) {
    out += ",\"error\":{\"code\":" + JsonQuote(info.error_code) +
           ",\"message\":" + JsonQuote(info.state_reason) + "}";
  }
  out += ",\"clientId\":" + JsonQuote(info.client_id) + ",\"lfRole\":" + JsonQuote(info.role) +
         ",\"database\":" + JsonQuote(info.database) + ",\"query\":" + JsonQuote(info.sql);
  if (!info.statement_type.empty()) out += ",\"statementType\":" + JsonQuote(info.statement_type);
  AppendMillis(out, "submittedAt", info.submitted_ms);
  AppendMillis(out, "startedAt", info.started_ms);
  AppendMillis(out, "completedAt", info.completed_ms);
  const int64_t started = info.started_ms > 0 ? info.started_ms : info.completed_ms;
  const int64_t queued = started > 0 ? started - info.submitted_ms : 0;
  const int64_t executed =
      info.started_ms > 0 && info.completed_ms > 0 ? info.completed_ms - info.started_ms : 0;
  out += ",\"queueMillis\":" + std::to_string(queued) +
         ",\"executionMillis\":" + std::to_string(executed) + ",\"totalMillis\":" +
         std::to_string(info.completed_ms > 0 ? info.completed_ms - info.submitted_ms : 0);
  out += ",\"rowCount\":" + std::to_string(info.rows) + ",\"bytes\":" + std::to_string(info.bytes) +
         ",\"truncated\":" + (info.truncated ? "true" : "false");
  out += ",\"columns\":[";
  for (size_t i = 0; i < info.columns.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"name\":" + JsonQuote(info.columns[i].name) +
           ",\"type\":" + JsonQuote(info.columns[i].declared_type) + "}";
  }
  out += "]}";
  return out;
}

// The execution id of /v1/queries/{id}[/results]; "" when the path has none.
std::string_view ExecutionIdOf(std::string_view path, bool& results) {
  results = false;
  if (!path.starts_with(kAsyncQueriesPrefix)) return {};
  std::string_view rest = path.substr(kAsyncQueriesPrefix.size());
  constexpr std::string_view kResults = "/results";
  if (rest.ends_with(kResults)) {
    results = true;
    rest.remove_suffix(kResults.size());
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos) return {};
  return rest;
}

Status NoSuchPath(std::string_view path) {
  return AsyncError(AsyncFailure::kNotFound,
                    "no such resource " + std::string(path.substr(0, 128)));
}

}  // namespace

std::string QueryParameter(std::string_view query, std::string_view name) {
  for (std::string_view pair : SplitNonEmpty(query, '&')) {
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return "";
    return PercentDecodeStrict(pair.substr(eq + 1), /*plus_is_space=*/true).value_or("");
  }
  return "";
}

AsyncApi::AsyncApi(AsyncQueries& queries, const GatewayOptions& options)
    : queries_(queries), options_(options) {}

void AsyncApi::Submit(const std::shared_ptr<Call>& call) {
  Result<QueryBody> body = ParseQueryBody(call->request().body, options_);
  if (!body.ok()) return call->Fail(body.status());
  CallRecord& record = call->record();
  record.sql = body->sql;
  record.database = body->database;
  Result<ExecutionInfo> started = queries_.Start(SubmissionOf(*call, std::move(*body)));
  if (!started.ok()) return call->Fail(started.status());
  http::Response response;
  response.status = 202;
  response.body = "{\"success\":true,\"queryId\":" + JsonQuote(started->id) +
                  ",\"state\":" + JsonQuote(ExecutionStateName(started->state)) + "}";
  response.headers.push_back({"Location", std::string(kAsyncQueriesPrefix) + started->id});
  call->Respond(std::move(response));
}

void AsyncApi::Read(const std::shared_ptr<Call>& call) {
  bool results = false;
  std::string_view id = ExecutionIdOf(call->request().path, results);
  if (id.empty()) return call->Fail(NoSuchPath(call->request().path));
  if (results) return Results(call, id);
  Result<ExecutionInfo> info = queries_.Get(RequesterOf(*call), id);
  if (!info.ok()) return call->Fail(info.status());
  call->record().database = info->database;
  http::Response response;
  response.body = StatusJson(*info);
  call->Respond(std::move(response));
}

void AsyncApi::Cancel(const std::shared_ptr<Call>& call) {
  bool results = false;
  std::string_view id = ExecutionIdOf(call->request().path, results);
  if (id.empty() || results) return call->Fail(NoSuchPath(call->request().path));
  Result<ExecutionInfo> info = queries_.Cancel(RequesterOf(*call), id);
  if (!info.ok()) return call->Fail(info.status());
  http::Response response;
  response.body = StatusJson(*info);
  call->Respond(std::move(response));
}

void AsyncApi::Results(const std::shared_ptr<Call>& call, std::string_view id) {
  const std::string_view query = call->request().query;
  size_t max_results = queries_.options().max_page_rows;
  if (std::string text = QueryParameter(query, "maxResults"); !text.empty()) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n == 0 ||
        n > queries_.options().max_page_rows) {
      return call->Fail(InvalidArgumentError("maxResults must be an integer from 1 to " +
                                             std::to_string(queries_.options().max_page_rows)));
    }
    max_results = static_cast<size_t>(n);
  }
  const std::string token = QueryParameter(query, "nextToken");
  const Requester who = RequesterOf(*call);
  Result<ExecutionInfo> info = queries_.Get(who, id);
  if (!info.ok()) return call->Fail(info.status());
  Result<ResultPage> page = queries_.Results(who, id, max_results, token);
  if (!page.ok()) return call->Fail(page.status());

  const Identity& caller = call->identity();
  ResultEncoder encoder(ResultFormat::kJson, ResultMeta{info->client_id, caller.scopes, info->role,
                                                        info->database, info->id});
  std::vector<engine::ColumnInfo> columns;
  for (const SpooledColumn& c : info->columns) columns.push_back({c.name, c.declared_type});
  std::string out;
  encoder.Begin(columns, out);
  for (const std::vector<engine::Param>& values : page->rows) encoder.Row(ParamRow(values), out);
  encoder.End(static_cast<int64_t>(page->rows.size()), info->truncated, "", out);
  // The encoder closes the document; the page's token goes in before.
  out.pop_back();
  out += ",\"totalRowCount\":" + std::to_string(info->rows);
  out += ",\"nextToken\":" + (page->next_token.empty() ? "null" : JsonQuote(page->next_token));
  out.push_back('}');
  call->record().rows = static_cast<int64_t>(page->rows.size());
  call->record().database = info->database;
  http::Response response;
  response.body = std::move(out);
  call->Respond(std::move(response));
}

}  // namespace lakegate::gateway
