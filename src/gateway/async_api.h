// AsyncApi: the native asynchronous query API over AsyncQueries, run behind
// the gateway Pipeline (kQuery access: the caller's role and scope apply as
// for /v1/query):
//
//   POST   /v1/queries               body as /v1/query → 202 {queryId, state}
//   GET    /v1/queries/{id}          state, timings, rows, bytes, error
//   GET    /v1/queries/{id}/results  ?maxResults=N&nextToken=T → typed rows
//   DELETE /v1/queries/{id}          cancels; answers the execution's state
//
// docs/query-api.md has the shapes. Thread-safe; the api must outlive the
// routes bound to it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/async_queries.h"
#include "gateway/pipeline.h"

namespace lakegate::gateway {

// The value of `name` in a URL query string ("a=1&b=2"), percent-decoded;
// "" when absent or undecodable.
std::string QueryParameter(std::string_view query, std::string_view name);

class AsyncApi {
 public:
  // `queries` must outlive the api.
  AsyncApi(AsyncQueries& queries, const GatewayOptions& options);

  void Submit(const std::shared_ptr<Call>& call);
  // GET /v1/queries/{id} and /v1/queries/{id}/results.
  void Read(const std::shared_ptr<Call>& call);
  void Cancel(const std::shared_ptr<Call>& call);

 private:
  void Results(const std::shared_ptr<Call>& call, std::string_view id);

  AsyncQueries& queries_;
  const GatewayOptions& options_;
};

// The path prefix of one execution's routes.
inline constexpr std::string_view kAsyncQueriesPrefix = "/v1/queries/";

}  // namespace lakegate::gateway
