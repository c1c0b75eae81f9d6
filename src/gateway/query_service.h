// QueryService: the query API's handlers (what API Gateway + Lambda +
// Athena path), run behind the gateway Pipeline:
//
//   Query    POST /query-client-creds, POST /v1/query   one SQL statement
//   Catalog  GET /v1/catalog                            what the role may see
//
// A query parses its body, takes one of its client's concurrency slots (a
// client runs at most max_concurrent_per_client queries; more wait in the
// client's own queue without holding a worker, and a full queue is 429), and
// runs on the engine with a sink that encodes rows as they come and writes
// them to the exchange in chunks, so memory does not grow with the result.
// Every response carries the queryId (body and X-Query-Id header).
//
// Thread-safe. The service must outlive every task it submitted to the pool.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "engine/engine.h"
#include "gateway/gateway_options.h"
#include "gateway/pipeline.h"
#include "gateway/result_encoder.h"

namespace lakegate::gateway {

// A parsed query request body.
struct QueryBody {
  std::string sql;
  std::string database;
  std::vector<engine::Param> params;
  int64_t max_rows = 0;
  ResultFormat format = ResultFormat::kJson;
};

// Parses `{"query","database","parameters","maxRows","format"}`. Unknown
// members, wrong types, a repeated member, an empty query or a bad format are
// InvalidArgument naming the field; a query longer than options.max_query_bytes
// is GatewayFailure::kQueryTooLarge. maxRows is capped at options.max_rows;
// the database defaults to options.default_database.
Result<QueryBody> ParseQueryBody(std::string_view json, const GatewayOptions& options);

class QueryService {
 public:
  // `pipeline` and `engine` must outlive the service.
  QueryService(Pipeline& pipeline, engine::Engine& engine);

  void Query(const std::shared_ptr<Call>& call);
  void Catalog(const std::shared_ptr<Call>& call);

  // Queries running for a client right now (tests, metrics).
  int ActiveQueries(std::string_view client_id) const EXCLUDES(slots_mutex_);
  // Queries of a client waiting for one of its slots right now.
  int WaitingQueries(std::string_view client_id) const EXCLUDES(slots_mutex_);

 private:
  struct Pending;
  enum class SlotOutcome { kAcquired, kParked, kRefused };
  SlotOutcome AcquireOrPark(const std::shared_ptr<Pending>& pending) EXCLUDES(slots_mutex_);
  // Runs a parsed query that holds one of its client's slots.
  void Execute(Pending& pending);
  // Gives the slot of a finished query to the client's next parked one (on
  // the pool), or frees it.
  void PassOnSlot(const std::string& key) EXCLUDES(slots_mutex_);

  Pipeline& pipeline_;
  const GatewayOptions& options_;
  engine::Engine& engine_;

  mutable Mutex slots_mutex_;
  std::unordered_map<std::string, int> active_by_client_ GUARDED_BY(slots_mutex_);
  // Queries waiting for a slot, per client, in arrival order.
  std::unordered_map<std::string, std::deque<std::shared_ptr<Pending>>> waiting_
      GUARDED_BY(slots_mutex_);
};

}  // namespace lakegate::gateway
