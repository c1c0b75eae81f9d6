// Pipeline: the one request path of every gateway route (query, catalog,
// admin, and the routes to come):
//
//   network thread   presence: an Authorization header (else 401 + challenge)
//                    content type: application/json where the route takes a body
//                    admission: a place in the worker pool's queue, which holds
//                               at most max_pool_backlog requests (else 503
//                               + Retry-After at once)
//   worker           authenticate: the Bearer token (BearerAuthenticator)
//                    role: scope → statement class, client/scope rules → role,
//                                  as the route's Access says
//                    handler: the route's work; it may finish later, from
//                             another thread (a query parked behind the
//                             client's running ones)
//   at the end       error: a failed status becomes the query API's error
//                           response (http::ErrorResponse, kApi)
//                    audit: one typed audit event per request, and metrics
//
// Every response carries X-Query-Id (the request id) and Cache-Control:
// no-store. Thread-safe; the pipeline must outlive the tasks it submitted to
// the pool (drain the pool first).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/metrics.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "engine/engine.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/gateway_options.h"
#include "gateway/role_resolver.h"
#include "http/error_response.h"
#include "http/exchange.h"
#include "policy/policy.h"

namespace lakegate::gateway {

// Who may use a route.
enum class Access {
  kQuery,      // a read, write or admin scope and a role the policy defines (query, catalog)
  kAdmin,      // the admin scope (admin reads)
  kDelegated,  // any valid token; the role is resolved when a rule maps one (admin writes)
};

// The audit event a route writes.
enum class AuditKind { kQuery, kCatalog, kPolicyRead, kPolicyChange };

// How a route authenticates a request: the caller's identity (client,
// issuer, scopes), or a kUnauthenticated failure. Every authenticator yields
// the same Identity, so role resolution and governance do not depend on how
// the caller proved who it is.
using Authenticate =
    std::function<Result<std::shared_ptr<const Identity>>(const http::Request& request)>;

struct RouteSpec {
  bool json_body = false;  // the body must be application/json (415 otherwise)
  Access access = Access::kQuery;
  AuditKind audit = AuditKind::kQuery;
  // The shape of the route's error responses (the Athena protocol: kAws).
  http::ErrorFamily errors = http::ErrorFamily::kApi;
  // Empty: the Bearer token (the pipeline's BearerAuthenticator).
  Authenticate authenticate = {};
};

// What a request did, for its audit line. Handlers fill what applies.
struct CallRecord {
  // query and catalog
  std::string database;
  std::string sql;
  std::string statement_class;
  std::string statement_type;
  int64_t rows = 0;
  int64_t bytes = 0;
  // admin reads ("policy", "roles", ...) and changes ("analytics.members")
  std::string resource;
  // admin changes
  std::string action;  // "grant" | "revoke"
  bool has_change = false;
  std::string target_role;
  std::string permissions;
  std::string grant_option;
  bool grant_option_only = false;
  uint64_t version = 0;
  // every request: "ok", or the public code of what failed
  std::string outcome = "ok";
};

class Pipeline;

// One request on its way through the pipeline. The handler finishes it with
// exactly one of Respond(), Fail() or Finished(), from any thread.
class Call {
 public:
  const http::Request& request() const { return exchange_->request(); }
  http::Exchange& exchange() { return *exchange_; }
  const std::string& id() const { return id_; }
  const Identity& identity() const { return *identity_; }
  // The role resolved for the caller ("" for a kDelegated route without one).
  const std::string& role_name() const { return role_name_; }
  // kQuery routes: the policy new work uses and the caller's role in it.
  const std::shared_ptr<const policy::PolicySnapshot>& policy() const { return policy_; }
  const policy::Role& role() const { return *role_; }
  // The highest statement class the caller's scopes allow; only meaningful
  // when has_class().
  engine::StatementClass max_class() const { return max_class_; }
  bool has_class() const { return has_class_; }
  CallRecord& record() { return record_; }
  // X-Query-Id and Cache-Control, for a handler that streams its answer.
  std::vector<http::Header> BaseHeaders() const;

  // Sends `response` (with the base headers added).
  void Respond(http::Response response);
  // Sends the error response for `failure`.
  void Fail(const Status& failure);
  // The handler answered through exchange() itself (a stream); `outcome`
  // says how it ended ("ok", "client_gone", an error code).
  void Finished();

 private:
  friend class Pipeline;
  Call(Pipeline& pipeline, std::shared_ptr<http::Exchange> exchange, std::string id,
       const RouteSpec& spec, int64_t start_ms);
  void Finish();

  Pipeline& pipeline_;
  std::shared_ptr<http::Exchange> exchange_;
  const std::string id_;
  const RouteSpec spec_;
  const int64_t start_ms_;
  std::shared_ptr<const Identity> identity_;
  std::string role_name_;
  std::shared_ptr<const policy::PolicySnapshot> policy_;
  const policy::Role* role_ = nullptr;
  engine::StatementClass max_class_ = engine::StatementClass::kRead;
  bool has_class_ = false;
  std::string required_scope_;   // for an insufficient_scope challenge
  std::string failure_reason_;   // "<domain>.<name>" of the failure, for the audit line
  std::string failure_message_;  // the failure's message, for policy_change lines
  CallRecord record_;
  std::atomic<bool> finished_{false};
};

class Pipeline {
 public:
  using Handler = std::function<void(const std::shared_ptr<Call>&)>;
  using PolicyProvider = std::function<std::shared_ptr<const policy::PolicySnapshot>()>;
  // Receives one audit JSON object (no newline); e.g. AuditLog::Record.
  using AuditSink = std::function<void(std::string_view json_line)>;

  // Every reference must outlive the pipeline; `metrics` and `audit` may be null.
  Pipeline(GatewayOptions options, BearerAuthenticator& authenticator, PolicyProvider policy,
           ThreadPool& pool, const Clock& clock, AuditSink audit, audit::Metrics* metrics);

  // The HTTP handler of a route: runs `handler` behind the pipeline's steps.
  http::Handler Route(RouteSpec spec, Handler handler);

  const GatewayOptions& options() const { return options_; }
  ThreadPool& pool() { return pool_; }
  const Clock& clock() const { return clock_; }

 private:
  friend class Call;
  void Run(const std::shared_ptr<Call>& call, const Handler& handler);
  // Authenticates and resolves what the route's access needs; the failure
  // otherwise (with the call's required scope set for a challenge).
  Status Admit(Call& call);
  void Record(Call& call);
  // With DPoP server nonces on, a fresh one (RFC 9449 §9: every response).
  void AddDpopNonce(std::vector<http::Header>& headers) const;

  const GatewayOptions options_;
  BearerAuthenticator& authenticator_;
  const RoleResolver resolver_;
  const PolicyProvider policy_;
  ThreadPool& pool_;
  const Clock& clock_;
  const AuditSink audit_;
  const std::string dpop_algs_;  // for the DPoP challenge
  audit::Counter* queries_total_ = nullptr;
  audit::Histogram* query_seconds_ = nullptr;
};

// A random UUID (version 4) string: the id of one gateway request.
std::string NewQueryId();

}  // namespace lakegate::gateway
