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
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/thread_pool.h"
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

// The per-client concurrency and queue rules every query obeys, synchronous
// (/v1/query) or asynchronous (/v1/queries, Athena): a client (keyed by
// issuer and client id) runs at most `max_concurrent` queries at once; more
// wait in the client's own queue without holding a worker, and beyond
// `max_queued` waiting ones a new query is refused. Thread-safe.
class ClientSlots {
 public:
  // A query waiting for a slot: `run` runs it on the pool once it has one;
  // `busy` tells it the pool's queue was full (it never runs).
  struct Job {
    std::function<void()> run;
    std::function<void()> busy;
  };
  enum class Outcome { kAcquired, kParked, kRefused };

  // `pool` must outlive the slots.
  ClientSlots(ThreadPool& pool, int max_concurrent, int max_queued);

  // kAcquired: the caller holds a slot of `key`, runs its query and then calls
  // Release(key). kParked: `job` runs later on the pool (and its slot is
  // released after it). kRefused: the client's queue is full.
  Outcome AcquireOrPark(const std::string& key, Job job) EXCLUDES(mutex_);
  // Gives the slot of a finished query to the client's next parked one (on
  // the pool), or frees it.
  void Release(const std::string& key) EXCLUDES(mutex_);

  // Queries running / waiting for a client right now (tests, metrics).
  int Active(std::string_view client_id) const EXCLUDES(mutex_);
  int Waiting(std::string_view client_id) const EXCLUDES(mutex_);

  int max_concurrent() const { return max_concurrent_; }
  int max_queued() const { return max_queued_; }

 private:
  ThreadPool& pool_;
  const int max_concurrent_;
  const int max_queued_;
  mutable Mutex mutex_;
  std::unordered_map<std::string, int> active_ GUARDED_BY(mutex_);
  // Queries waiting for a slot, per client, in arrival order.
  std::unordered_map<std::string, std::deque<Job>> waiting_ GUARDED_BY(mutex_);
};

// The slot key of a caller: its issuer and client id.
std::string SlotKey(const Identity& who);

class QueryService {
 public:
  // `pipeline` and `engine` must outlive the service.
  QueryService(Pipeline& pipeline, engine::Engine& engine);

  void Query(const std::shared_ptr<Call>& call);
  void Catalog(const std::shared_ptr<Call>& call);

  // Queries running for a client right now (tests, metrics).
  int ActiveQueries(std::string_view client_id) const { return slots_.Active(client_id); }
  // Queries of a client waiting for one of its slots right now.
  int WaitingQueries(std::string_view client_id) const { return slots_.Waiting(client_id); }

  // The slots every query of this node takes, the asynchronous ones too.
  ClientSlots& slots() { return slots_; }

 private:
  struct Pending;
  // Runs a parsed query that holds one of its client's slots.
  void Execute(Pending& pending);

  Pipeline& pipeline_;
  const GatewayOptions& options_;
  engine::Engine& engine_;
  ClientSlots slots_;
};

}  // namespace lakegate::gateway
