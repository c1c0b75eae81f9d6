#include "gateway/admin_api.h"

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "gateway/gateway_failure.h"
#include "policy/policy_json.h"

namespace lakegate::gateway {

using nlohmann::json;

AdminApi::AdminApi(Pipeline::PolicyProvider policy, PolicyWriter writer, std::string admin_scope)
    : policy_(std::move(policy)),
      writer_(std::move(writer)),
      admin_scope_(std::move(admin_scope)) {}

std::string_view AdminApi::ResourceName(Resource resource) {
  switch (resource) {
    case Resource::kPolicy:
      return "policy";
    case Resource::kRoles:
      return "roles";
    case Resource::kFilters:
      return "filters";
    case Resource::kTags:
      return "tags";
  }
  return "policy";
}

void AdminApi::Read(Resource resource, const std::shared_ptr<Call>& call) const {
  call->record().resource = std::string(ResourceName(resource));
  std::shared_ptr<const policy::PolicySnapshot> snapshot = policy_ ? policy_() : nullptr;
  if (!snapshot) {
    return call->Fail(GatewayError(GatewayFailure::kPolicyNotLoaded, "no policy loaded"));
  }
  http::Response response;
  response.body = Render(resource, *snapshot);
  call->Respond(std::move(response));
}

void AdminApi::Write(Action action, const std::shared_ptr<Call>& call) const {
  const bool revoke = action == Action::kRevoke;
  const bool admin = call->has_class() && call->max_class() == engine::StatementClass::kAdmin;
  const std::string& caller_role = call->role_name();
  CallRecord& record = call->record();
  record.action = revoke ? "revoke" : "grant";

  Result<policy::GrantRequest> request = policy::GrantRequestFromJson(call->request().body, revoke);
  if (!request.ok()) return call->Fail(request.status());
  const policy::GrantRequest& r = *request;
  const policy::Grant& g = r.grant;
  record.has_change = true;
  record.target_role = r.role;
  record.resource = policy::ResourceName(g.database, g.table, "");
  record.permissions = policy::PermissionNames(g.permissions);
  if (g.grant_option != 0) record.grant_option = policy::PermissionNames(g.grant_option);
  record.grant_option_only = r.grant_option_only;
  if (!writer_) {
    return call->Fail(UnavailableError("policy changes are not enabled on this server"));
  }

  std::string author = std::string("admin API ") + (revoke ? "revoke " : "grant ") + r.role +
                       " by " + call->identity().client_id;
  Result<PolicyWrite> written = writer_(author, [&](policy::PolicySnapshot& p) -> Status {
    if (!admin) {
      // Delegation: the caller's role must hold the grant option, in the
      // policy as stored now, and may not create roles.
      const policy::Role* grantor = caller_role.empty() ? nullptr : p.FindRole(caller_role);
      if (grantor == nullptr) {
        return PermissionDeniedError("changing grants needs the scope " + admin_scope_ +
                                     " or a role that holds the permissions with the grant option");
      }
      LG_RETURN_IF_ERROR(policy::CheckGrantOption(*grantor, r.grant));
      if (p.roles.find(r.role) == p.roles.end()) {
        return NotFoundError("no role '" + r.role +
                             "'; only a caller with the admin scope may create roles");
      }
    }
    return revoke ? policy::RevokeGrant(p, r.role, r.grant, r.grant_option_only)
                  : policy::AddGrant(p, r.role, r.grant);
  });
  if (!written.ok()) {
    const StatusCode code = written.status().code();
    if (code != StatusCode::kInvalidArgument && code != StatusCode::kPermissionDenied &&
        code != StatusCode::kNotFound) {
      log::Error("admin API policy change failed: " + written.status().ToString());
    }
    return call->Fail(written.status());
  }
  record.version = written->new_version;
  json out = {{"version", written->new_version},
              {"previous_version", written->old_version},
              {"changed", written->new_version != written->old_version},
              {"changes", written->changes}};
  http::Response response;
  response.body = out.dump(2) + "\n";
  call->Respond(std::move(response));
}

std::string AdminApi::Render(Resource resource, const policy::PolicySnapshot& snapshot) {
  json document = json::parse(policy::PolicyToJson(snapshot));
  json out = {{"version", snapshot.version}};
  switch (resource) {
    case Resource::kPolicy:
      out["policy"] = std::move(document);
      break;
    case Resource::kRoles:
      out["roles"] = std::move(document["roles"]);
      break;
    case Resource::kFilters:
      out["filters"] = std::move(document["filters"]);
      break;
    case Resource::kTags:
      out["tag_keys"] = std::move(document["tag_keys"]);
      out["tag_assignments"] = std::move(document["tag_assignments"]);
      break;
  }
  return out.dump(2) + "\n";
}

}  // namespace lakegate::gateway
