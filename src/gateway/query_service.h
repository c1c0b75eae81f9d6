// QueryService: the query API (the seed's API Gateway + Lambda + Athena path).
//
//   POST /query-client-creds, POST /v1/query   run one SQL statement
//   GET  /v1/catalog                            what the caller's role may see
//
// On the network thread Handle() does only cheap checks (Authorization present,
// JSON content type) and hands the exchange to the worker pool (a full queue is
// 503). The worker authenticates the Bearer token (which may fetch a JWKS),
// parses the body, resolves the role, takes a per-client concurrency slot
// (429 beyond the limit), and runs the statement on the engine with a sink that
// encodes rows as they come and writes them to the exchange in chunks, so
// memory does not grow with the result.
//
// Every response carries the queryId (body and X-Query-Id header); every
// error body is {"success":false,"error":{"code","message"},"queryId"}. Every
// request that reaches the worker writes one audit line.
//
// Thread-safe. The service must outlive every task it submitted to the pool
// (destroy the pool, or stop the server and drain the pool, first).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/metrics.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/engine.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/gateway_options.h"
#include "gateway/result_encoder.h"
#include "gateway/role_resolver.h"
#include "http/exchange.h"
#include "http/router.h"
#include "policy/policy.h"

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
// is ResourceExhausted. maxRows is capped at options.max_rows; the database
// defaults to options.default_database.
Result<QueryBody> ParseQueryBody(std::string_view json, const GatewayOptions& options);

// A random UUID (version 4) string.
std::string NewQueryId();

class QueryService {
 public:
  using PolicyProvider = std::function<std::shared_ptr<const policy::PolicySnapshot>()>;
  // Receives one audit JSON object (no newline); e.g. AuditLog::Record.
  using AuditSink = std::function<void(std::string_view json_line)>;

  // `authenticator`, `engine`, `pool`, `clock` and `metrics` must outlive the
  // service; `metrics` and `audit` may be null.
  QueryService(GatewayOptions options, BearerAuthenticator& authenticator, engine::Engine& engine,
               PolicyProvider policy, ThreadPool& pool, const Clock& clock, AuditSink audit,
               audit::Metrics* metrics);

  // POST /query-client-creds and /v1/query.
  void Handle(std::shared_ptr<http::Exchange> exchange);
  // GET /v1/catalog.
  void HandleCatalog(std::shared_ptr<http::Exchange> exchange);

  // Adds the three routes above, with a body limit that fits max_query_bytes.
  void RegisterRoutes(http::Router& router);

  // Queries running for a client right now (tests, metrics).
  int ActiveQueries(std::string_view client_id) const;
  // Queries of a client waiting for one of its slots right now.
  int WaitingQueries(std::string_view client_id) const;

 private:
  struct Call;  // the state of one request on the worker

  void HandleOnNetworkThread(std::shared_ptr<http::Exchange> exchange, bool catalog);
  // Admits and parses; then runs the query now (returns true) or parks the
  // call behind the client's running queries (returns false: the call is
  // finished later, by the query that hands it its slot).
  bool RunQuery(const std::shared_ptr<Call>& call);
  // Runs an admitted, parsed query that holds one of its client's slots.
  void ExecuteQuery(Call& call);
  // Gives the slot of a finished query to the client's next parked call (on
  // the pool), or frees it.
  void PassOnSlot(const std::string& key);
  void RunCatalog(Call& call);
  // Authenticates and resolves the role; answers the error itself when it fails.
  bool Admit(Call& call);
  enum class SlotOutcome { kAcquired, kParked, kRefused };
  SlotOutcome AcquireOrPark(const std::shared_ptr<Call>& call);
  void Finish(Call& call);

  const GatewayOptions options_;
  BearerAuthenticator& authenticator_;
  engine::Engine& engine_;
  const PolicyProvider policy_;
  ThreadPool& pool_;
  const Clock& clock_;
  const AuditSink audit_;
  const RoleResolver resolver_;
  audit::Counter* queries_total_ = nullptr;
  audit::Histogram* query_seconds_ = nullptr;

  mutable std::mutex slots_mutex_;
  std::unordered_map<std::string, int> active_by_client_;  // GUARDED_BY(slots_mutex_)
  // Calls waiting for a slot, per client, in arrival order.
  std::unordered_map<std::string, std::deque<std::shared_ptr<Call>>> waiting_;  // GUARDED_BY(slots_mutex_)
};

}  // namespace lakegate::gateway
