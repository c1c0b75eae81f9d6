// AdminApi: read-only administration of the policy catalog over HTTP.
//
//   GET /v1/admin/policy    {"version": N, "policy": <the policy JSON document>}
//   GET /v1/admin/roles     {"version": N, "roles": [...]}
//   GET /v1/admin/filters   {"version": N, "filters": [...]}
//   GET /v1/admin/tags      {"version": N, "tag_keys": [...], "tag_assignments": [...]}
//
// Every call needs a Bearer access token (validated by the BearerAuthenticator
// shared with the query API) whose scopes include the admin scope
// (GatewayOptions.scopes.admin, decided by RoleResolver::MaxClass): 401 with a
// WWW-Authenticate challenge without a valid token, 403 with
// error="insufficient_scope" without the admin scope. The documents use
// policy_json.h's format and describe the snapshot new queries use.
//
// Delegated administration (Lake Formation's GrantPermissions /
// RevokePermissions), JSON bodies of policy_json.h's GrantRequest:
//   POST /v1/admin/grant    {"role", "database", "table", "permissions",
//                            "columns", "grant_option"}
//   POST /v1/admin/revoke   {"role", "database", "table", "permissions",
//                            "columns", "grant_option_only"}
// A caller with the admin scope may grant or revoke anything (and create a
// role by granting to it). Any other caller may grant or revoke only what its
// own role holds with the grant option (policy::CheckGrantOption, checked
// against the latest stored policy inside the write transaction), and only
// to roles that exist. 200 {"version", "previous_version", "changed",
// "changes"}; 400 invalid_request for a malformed body; 403 access_denied
// naming the missing grant option; 404 not_found for an unknown role or a
// revoke that matches no grant. Every attempt, allowed or not, writes one
// audit line (event "policy_change"). The new version is in effect for new
// queries when the response is sent.
//
// Authentication may fetch a JWKS, so the work runs on the worker pool (503
// when its queue is full). Thread-safe; the API must outlive the tasks it
// submits (drain the pool first).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/thread_pool.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/gateway_options.h"
#include "gateway/query_service.h"
#include "gateway/role_resolver.h"
#include "http/exchange.h"
#include "http/router.h"

namespace lakegate::gateway {

class AdminApi {
 public:
  enum class Resource { kPolicy, kRoles, kFilters, kTags };
  enum class Action { kGrant, kRevoke };

  // The outcome of a saved policy change.
  struct PolicyWrite {
    uint64_t old_version = 0;
    uint64_t new_version = 0;  // == old_version when nothing changed
    std::vector<std::string> changes;
  };
  // Runs `change` on a copy of the latest stored policy inside one store
  // transaction and saves the result as a new version when it differs (a
  // non-OK status from `change` aborts without writing); the version is in
  // effect for new queries when it returns.
  using PolicyWriter = std::function<Result<PolicyWrite>(
      const std::string& author, const std::function<Status(policy::PolicySnapshot&)>& change)>;
  using AuditSink = std::function<void(std::string_view json_line)>;

  // `authenticator`, `pool` and `clock` must outlive the API. Without a
  // `writer` the write routes answer 503.
  AdminApi(const GatewayOptions& options, BearerAuthenticator& authenticator,
           QueryService::PolicyProvider policy, ThreadPool& pool, PolicyWriter writer = nullptr,
           AuditSink audit = nullptr, const Clock& clock = SystemClock::Get());

  // GET /v1/admin/{policy,roles,filters,tags}.
  void Handle(Resource resource, std::shared_ptr<http::Exchange> exchange);
  // POST /v1/admin/grant and /v1/admin/revoke.
  void HandleWrite(Action action, std::shared_ptr<http::Exchange> exchange);
  void RegisterRoutes(http::Router& router);

  // The response body for `resource` of `snapshot` (no authorization check).
  static std::string Render(Resource resource, const policy::PolicySnapshot& snapshot);

 private:
  // Authenticates the request; responds 401 and returns null on failure.
  std::shared_ptr<const Identity> Authenticate(http::Exchange& exchange);
  void Run(Resource resource, http::Exchange& exchange);
  void RunWrite(Action action, http::Exchange& exchange);
  // Submits `task` to the pool after the cheap Bearer presence check.
  void Dispatch(std::shared_ptr<http::Exchange> exchange, std::function<void()> task);

  const std::string admin_scope_;
  BearerAuthenticator& authenticator_;
  const RoleResolver resolver_;
  const QueryService::PolicyProvider policy_;
  ThreadPool& pool_;
  const PolicyWriter writer_;
  const AuditSink audit_;
  const Clock& clock_;
};

}  // namespace lakegate::gateway
