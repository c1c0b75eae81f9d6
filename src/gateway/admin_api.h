// AdminApi: administration of the policy catalog over HTTP, run behind the
// gateway Pipeline.
//
// Reads (the admin scope; Access::kAdmin):
//   GET /v1/admin/policy    {"version": N, "policy": <the policy JSON document>}
//   GET /v1/admin/roles     {"version": N, "roles": [...]}
//   GET /v1/admin/filters   {"version": N, "filters": [...]}
//   GET /v1/admin/tags      {"version": N, "tag_keys": [...], "tag_assignments": [...]}
// The documents use policy_json.h's format and describe the snapshot new
// queries use.
//
// Delegated administration (Lake Formation's GrantPermissions /
// RevokePermissions; Access::kDelegated), JSON bodies of policy_json.h's
// GrantRequest:
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
// queries when the response is sent. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/pipeline.h"
#include "policy/policy.h"

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

  // `policy` gives the snapshot reads describe. Without a `writer` the write
  // routes answer 503.
  AdminApi(Pipeline::PolicyProvider policy, PolicyWriter writer, std::string admin_scope);

  void Read(Resource resource, const std::shared_ptr<Call>& call) const;
  void Write(Action action, const std::shared_ptr<Call>& call) const;

  // The response body for `resource` of `snapshot` (no authorization check).
  static std::string Render(Resource resource, const policy::PolicySnapshot& snapshot);
  // "policy", "roles", "filters", "tags".
  static std::string_view ResourceName(Resource resource);

 private:
  const Pipeline::PolicyProvider policy_;
  const PolicyWriter writer_;
  const std::string admin_scope_;
};

}  // namespace lakegate::gateway
