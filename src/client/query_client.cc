#include "client/query_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <utility>

#include "client/api_failure.h"
#include "client/display.h"
#include "common/clock.h"
#include "common/strings.h"

namespace lakegate::client {
namespace {

using nlohmann::json;

constexpr size_t kMaxResponseBytes = size_t{512} << 20;
constexpr size_t kMaxErrorWidth = 40;  // an error body that is not JSON, cut to one short line

std::string RequestBody(const QueryRequest& request) {
  json doc = {{"query", request.sql},
              {"format", request.format == ResultFormat::kCsv ? "csv" : "json"}};
  if (!request.database.empty()) doc["database"] = request.database;
  if (!request.parameters.empty()) {
    json params = json::array();
    for (const QueryParameter& p : request.parameters) {
      std::visit([&params](const auto& value) { params.push_back(value); }, p);
    }
    doc["parameters"] = std::move(params);
  }
  if (request.max_rows > 0) doc["maxRows"] = request.max_rows;
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// "query failed (403 PERMISSION_DENIED): column email is not granted [queryId q-9]"
// from the API's error body, or from whatever else the server sent.
Status QueryError(int status, std::string_view body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string code = "HTTP_" + std::to_string(status);
  std::string message;
  if (doc.is_object() && doc.contains("error")) {
    const json& e = doc["error"];
    if (e.is_object()) {
      if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
      if (e.contains("message") && e["message"].is_string()) {
        message = e["message"].get<std::string>();
      }
    } else if (e.is_string()) {  // an RFC 6750 style body
      code = e.get<std::string>();
      if (doc.contains("error_description") && doc["error_description"].is_string()) {
        message = doc["error_description"].get<std::string>();
      }
    }
  }
  if (message.empty()) {
    message = body.empty() ? "(empty response)" : FitToWidth(body.substr(0, 200), kMaxErrorWidth);
  }
  std::string text = "query failed (" + std::to_string(status) + " " + code + "): " + message;
  if (doc.is_object() && doc.contains("queryId") && doc["queryId"].is_string()) {
    text += " [queryId " + doc["queryId"].get<std::string>() + "]";
  }
  return Status(StatusCode::kFailedPrecondition, ApiFailure::kQueryFailed, std::move(text));
}

Cell CellOf(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return Cell{};
    case json::value_t::string:
      return Cell{Cell::Kind::kString, v.get<std::string>()};
    default:
      return Cell{v.is_number() ? Cell::Kind::kNumber : Cell::Kind::kOther,
                  v.dump(-1, ' ', false, json::error_handler_t::replace)};
  }
}

const json& RowValue(const json& row, const std::string& column, size_t index) {
  static const json kNull;
  if (row.is_object()) {
    auto it = row.find(column);
    return it != row.end() ? *it : kNull;
  }
  if (row.is_array() && index < row.size()) return row[index];
  return kNull;
}

std::vector<std::string> ColumnNames(const json& doc) {
  std::vector<std::string> names;
  if (doc.contains("columns") && doc["columns"].is_array()) {
    for (const json& col : doc["columns"]) {
      if (col.is_object() && col.contains("name") && col["name"].is_string()) {
        names.push_back(col["name"].get<std::string>());
      } else if (col.is_string()) {
        names.push_back(col.get<std::string>());
      }
    }
  } else if (doc.contains("data") && doc["data"].is_array() && !doc["data"].empty() &&
             doc["data"][0].is_object()) {
    for (const auto& item : doc["data"][0].items()) names.push_back(item.key());
  }
  return names;
}

}  // namespace

bool QueryResponse::IsJson() const {
  return content_type.find("json") != std::string::npos || (!body.empty() && body.front() == '{');
}

QueryClient::QueryClient(const http::Client& http, const TokenClient& tokens)
    : http_(http), tokens_(tokens) {}

Result<QueryResponse> QueryClient::Run(const QueryRequest& request) const {
  const std::string url = tokens_.endpoint() + "/v1/query";
  const std::string body = RequestBody(request);
  LG_ASSIGN_OR_RETURN(AccessToken token, tokens_.Get());
  Result<http::ClientResponse> response = InternalError("no attempt was made");
  std::string nonce;
  bool nonce_retried = false;
  for (int attempt = 0;; ++attempt) {
    http::ClientRequest call;
    call.method = http::Method::kPost;
    call.url = url;
    call.headers = {{"Authorization", std::string(token.dpop_key ? "DPoP " : "Bearer ") +
                                          std::string(token.value.Reveal())},
                    {"Content-Type", "application/json"},
                    {"Accept", request.format == ResultFormat::kCsv ? "text/csv, application/json"
                                                                    : "application/json"}};
    if (token.dpop_key) {
      LG_ASSIGN_OR_RETURN(std::string proof,
                          DpopProofFor(token, "POST", url, nonce, tokens_.clock()));
      call.headers.push_back({"DPoP", std::move(proof)});
    }
    call.body = body;
    call.timeout = request.timeout;
    call.max_response_bytes = kMaxResponseBytes;
    response = http_.Send(std::move(call));
    if (!response.ok()) return response.status().WithPrefix("cannot reach " + url);
    // RFC 9449 §9: the server wants a nonce of its own in the proof; once.
    if (response->status == 401 && token.dpop_key && !nonce_retried &&
        response->GetHeader("www-authenticate").find("use_dpop_nonce") != std::string_view::npos &&
        !response->GetHeader("dpop-nonce").empty()) {
      nonce = std::string(response->GetHeader("dpop-nonce"));
      nonce_retried = true;
      continue;
    }
    // A cached token the server no longer accepts: one more try with a new one.
    if (response->status == 401 && token.from_cache && attempt == 0) {
      LG_ASSIGN_OR_RETURN(token, tokens_.Refresh());
      continue;
    }
    break;
  }
  if (response->status < 200 || response->status >= 300) {
    return QueryError(response->status, response->body);
  }
  QueryResponse out;
  out.status = response->status;
  out.content_type = std::string(response->GetHeader("content-type"));
  out.truncated = EqualsIgnoreCase(response->GetHeader("x-result-truncated"), "true");
  out.body = std::move(response->body);
  return out;
}

Result<http::ClientResponse> QueryClient::Send(http::Method method, const std::string& url,
                                               std::string body,
                                               std::chrono::milliseconds timeout) const {
  LG_ASSIGN_OR_RETURN(AccessToken token, tokens_.Get());
  std::string nonce;
  bool nonce_retried = false;
  for (int attempt = 0;; ++attempt) {
    http::ClientRequest call;
    call.method = method;
    call.url = url;
    call.headers = {{"Authorization", std::string(token.dpop_key ? "DPoP " : "Bearer ") +
                                          std::string(token.value.Reveal())},
                    {"Accept", "application/json"}};
    if (token.dpop_key) {
      LG_ASSIGN_OR_RETURN(std::string proof, DpopProofFor(token, http::MethodName(method), url,
                                                          nonce, tokens_.clock()));
      call.headers.push_back({"DPoP", std::move(proof)});
    }
    if (!body.empty()) call.headers.push_back({"Content-Type", "application/json"});
    call.body = body;
    call.timeout = timeout;
    call.max_response_bytes = kMaxResponseBytes;
    Result<http::ClientResponse> response = http_.Send(std::move(call));
    if (!response.ok()) return response.status().WithPrefix("cannot reach " + url);
    // RFC 9449 §9: the server wants a nonce of its own in the proof; once.
    if (response->status == 401 && token.dpop_key && !nonce_retried &&
        response->GetHeader("www-authenticate").find("use_dpop_nonce") != std::string_view::npos &&
        !response->GetHeader("dpop-nonce").empty()) {
      nonce = std::string(response->GetHeader("dpop-nonce"));
      nonce_retried = true;
      continue;
    }
    if (response->status == 401 && token.from_cache && attempt == 0) {
      LG_ASSIGN_OR_RETURN(token, tokens_.Refresh());
      continue;
    }
    return response;
  }
}

Result<QueryResponse> QueryClient::RunAsync(const QueryRequest& request,
                                            const ProgressFn& progress) const {
  const std::string base = tokens_.endpoint() + "/v1/queries";
  constexpr std::chrono::milliseconds kCallTimeout{30000};
  QueryRequest json_request = request;
  json_request.format = ResultFormat::kJson;
  LG_ASSIGN_OR_RETURN(http::ClientResponse submitted,
                      Send(http::Method::kPost, base, RequestBody(json_request), kCallTimeout));
  if (submitted.status != 202) return QueryError(submitted.status, submitted.body);
  json doc = json::parse(submitted.body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("queryId") || !doc["queryId"].is_string()) {
    return Status(StatusCode::kInternal, ApiFailure::kMalformedResponse,
                  "query failed: the server's answer has no queryId");
  }
  const std::string id = doc["queryId"].get<std::string>();
  const Clock& clock = SystemClock::Get();
  const int64_t start = clock.NowMillis();
  std::chrono::milliseconds pause{50};
  json status;
  while (true) {
    LG_ASSIGN_OR_RETURN(http::ClientResponse polled,
                        Send(http::Method::kGet, base + "/" + id, "", kCallTimeout));
    if (polled.status != 200) return QueryError(polled.status, polled.body);
    status = json::parse(polled.body, nullptr, /*allow_exceptions=*/false);
    const std::string state =
        status.is_object() && status.contains("state") && status["state"].is_string()
            ? status["state"].get<std::string>()
            : "";
    const int64_t elapsed = clock.NowMillis() - start;
    if (progress) {
      progress({id, state, elapsed, status.value("rowCount", int64_t{0})});
    }
    if (state == "SUCCEEDED") break;
    if (state == "FAILED" || state == "CANCELLED") {
      json failure = {{"success", false}, {"queryId", id}};
      failure["error"] =
          status.contains("error") ? status["error"] : json{{"code", state}, {"message", state}};
      return QueryError(200, failure.dump());
    }
    if (state.empty()) {
      return Status(StatusCode::kInternal, ApiFailure::kMalformedResponse,
                    "query failed: the server's status of " + id + " has no state");
    }
    if (elapsed >= request.timeout.count()) {
      Send(http::Method::kDelete, base + "/" + id, "", kCallTimeout).status().IgnoreError();
      return Status(StatusCode::kFailedPrecondition, ApiFailure::kQueryFailed,
                    "query " + id + " did not finish within " +
                        std::to_string(request.timeout.count() / 1000) +
                        " s; it was cancelled (raise --timeout)");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::milliseconds(1000));
  }
  // Every page, into one document shaped like /v1/query's.
  json out = {{"success", true},
              {"queryId", id},
              {"columns", status.value("columns", json::array())},
              {"data", json::array()}};
  std::string token;
  while (true) {
    std::string url = base + "/" + id + "/results?maxResults=1000";
    if (!token.empty()) url += "&nextToken=" + UrlEncode(token);
    LG_ASSIGN_OR_RETURN(http::ClientResponse page, Send(http::Method::kGet, url, "", kCallTimeout));
    if (page.status != 200) return QueryError(page.status, page.body);
    json body = json::parse(page.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || !body.contains("data") || !body["data"].is_array()) {
      return Status(StatusCode::kInternal, ApiFailure::kMalformedResponse,
                    "query failed: a results page of " + id + " is not JSON");
    }
    for (json& row : body["data"]) out["data"].push_back(std::move(row));
    if (!body.contains("nextToken") || !body["nextToken"].is_string()) break;
    token = body["nextToken"].get<std::string>();
  }
  out["rowCount"] = out["data"].size();
  out["truncated"] = status.value("truncated", false);
  QueryResponse response;
  response.status = 200;
  response.content_type = "application/json";
  response.truncated = out["truncated"].get<bool>();
  response.body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

Result<ResultSet> ParseResultSet(const QueryResponse& response) {
  const json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return Status(StatusCode::kInternal, ApiFailure::kMalformedResponse,
                  "query failed: the server's response is not JSON");
  }
  if (doc.contains("success") && doc["success"].is_boolean() && !doc["success"].get<bool>()) {
    return QueryError(response.status, response.body);
  }
  ResultSet result;
  result.columns = ColumnNames(doc);
  if (doc.contains("data") && doc["data"].is_array()) {
    for (const json& row : doc["data"]) {
      std::vector<Cell> cells;
      cells.reserve(result.columns.size());
      for (size_t i = 0; i < result.columns.size(); ++i) {
        cells.push_back(CellOf(RowValue(row, result.columns[i], i)));
      }
      result.rows.push_back(std::move(cells));
    }
  }
  result.row_count = doc.contains("rowCount") && doc["rowCount"].is_number_integer()
                         ? doc["rowCount"].get<int64_t>()
                         : static_cast<int64_t>(result.rows.size());
  result.truncated =
      doc.contains("truncated") && doc["truncated"].is_boolean() && doc["truncated"].get<bool>();
  if (doc.contains("warning") && doc["warning"].is_string()) {
    result.warning = doc["warning"].get<std::string>();
  }
  if (doc.contains("queryId") && doc["queryId"].is_string()) {
    result.query_id = doc["queryId"].get<std::string>();
  }
  return result;
}

}  // namespace lakegate::client
