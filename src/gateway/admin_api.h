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
// Authentication may fetch a JWKS, so the work runs on the worker pool (503
// when its queue is full). Thread-safe; the API must outlive the tasks it
// submits (drain the pool first).
#pragma once

#include <memory>
#include <string>

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

  // `authenticator` and `pool` must outlive the API.
  AdminApi(const GatewayOptions& options, BearerAuthenticator& authenticator,
           QueryService::PolicyProvider policy, ThreadPool& pool);

  // GET /v1/admin/{policy,roles,filters,tags}.
  void Handle(Resource resource, std::shared_ptr<http::Exchange> exchange);
  void RegisterRoutes(http::Router& router);

  // The response body for `resource` of `snapshot` (no authorization check).
  static std::string Render(Resource resource, const policy::PolicySnapshot& snapshot);

 private:
  void Run(Resource resource, http::Exchange& exchange);

  const std::string admin_scope_;
  BearerAuthenticator& authenticator_;
  const RoleResolver resolver_;
  const QueryService::PolicyProvider policy_;
  ThreadPool& pool_;
};

}  // namespace lakegate::gateway
