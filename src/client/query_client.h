// QueryClient: runs SQL through lakegate's query API (POST /v1/query) with a
// token from a TokenClient, and reads the JSON result into a ResultSet.
//
// Thread-safety: as thread-safe as the TokenClient it uses (see there).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "client/token_client.h"
#include "common/status.h"
#include "http/client.h"

namespace lakegate::client {

// One positional parameter (?1, ?2, ...), as a JSON scalar. uint64_t carries
// integers above INT64_MAX to the server, which refuses them.
using QueryParameter = std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string>;

enum class ResultFormat {
  kJson,  // {"success":true,"columns":[...],"data":[...],...}
  kCsv,   // text/csv (a server may still answer JSON)
};

struct QueryRequest {
  std::string sql;       // one statement
  std::string database;  // for unqualified table names; "" = the server's default
  std::vector<QueryParameter> parameters;
  int64_t max_rows = 0;  // 0 = the server's default
  ResultFormat format = ResultFormat::kJson;
  std::chrono::milliseconds timeout{120000};
};

// A 2xx answer of the query API, as received.
struct QueryResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  bool truncated = false;  // X-Result-Truncated: true (how a CSV result says it)

  // True when the body is JSON (by Content-Type, or a body that opens an object).
  bool IsJson() const;
};

// Where an asynchronous query is: its id, state ("QUEUED", "RUNNING", ...),
// how long it has run and, once finished, its rows.
struct AsyncProgress {
  std::string query_id;
  std::string state;
  int64_t elapsed_ms = 0;
  int64_t rows = 0;
};
using ProgressFn = std::function<void(const AsyncProgress&)>;

class QueryClient {
 public:
  // `http` and `tokens` must outlive the QueryClient.
  QueryClient(const http::Client& http, const TokenClient& tokens);

  // Runs one statement. When the server answers 401 to a cached token (it was
  // revoked, or the signing key rotated), fetches a new token and tries once
  // more. Errors: the TokenClient's; the http::ClientFailure status of the
  // transfer ("cannot reach URL: ..."); FailedPrecondition
  // ApiFailure::kQueryFailed for an error status, with the message
  // "query failed (STATUS CODE): message [queryId ID]".
  Result<QueryResponse> Run(const QueryRequest& request) const;

  // Runs one statement through the asynchronous API: POST /v1/queries, polls
  // GET /v1/queries/{id} (calling `progress`, which may be empty, at every
  // poll) until it finishes or request.timeout passes (then it cancels the
  // query), and pages through its results. The answer is one JSON document
  // shaped like /v1/query's ({"success","queryId","columns","data",
  // "rowCount","truncated"}). Errors as Run(); a FAILED or CANCELLED query is
  // ApiFailure::kQueryFailed with the server's code and reason.
  Result<QueryResponse> RunAsync(const QueryRequest& request, const ProgressFn& progress) const;

 private:
  // One call of the API with the token, retried once with a fresh token
  // after a 401 to a cached one. Any status is returned.
  Result<http::ClientResponse> Send(http::Method method, const std::string& url, std::string body,
                                    std::chrono::milliseconds timeout) const;

  const http::Client& http_;
  const TokenClient& tokens_;
};

// One value of a JSON result.
struct Cell {
  enum class Kind { kNull, kString, kNumber, kOther };  // kOther: boolean, array, object
  Kind kind = Kind::kNull;
  std::string text;  // a string's value; the JSON text of anything else; "" for null
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;  // one Cell per column
  int64_t row_count = 0;                // the server's rowCount, else rows.size()
  bool truncated = false;               // more rows exist than were returned
  std::string warning;  // set when the server failed after it had started sending rows
  std::string query_id;
};

// Reads a JSON result. Rows may be objects (by column name) or arrays (by
// position); without "columns" the first row's keys name them. Errors:
// Internal ApiFailure::kMalformedResponse when the body is not a JSON object;
// FailedPrecondition ApiFailure::kQueryFailed for {"success": false, ...}.
Result<ResultSet> ParseResultSet(const QueryResponse& response);

}  // namespace lakegate::client
