#include "gateway/admin_api.h"

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "common/log.h"
#include "common/strings.h"
#include "policy/policy_json.h"

namespace lakegate::gateway {
namespace {

using nlohmann::json;

http::Response Error(int status, std::string_view code, std::string_view message,
                     std::vector<http::Header> headers = {}) {
  http::Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.headers.push_back({"Cache-Control", "no-store"});
  r.body = "{\"success\":false,\"error\":{\"code\":" + JsonQuote(code) +
           ",\"message\":" + JsonQuote(message) + "}}";
  return r;
}

http::Response StatusError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return Error(400, "invalid_request", s.message());
    case StatusCode::kPermissionDenied:
      return Error(403, "access_denied", s.message());
    case StatusCode::kNotFound:
      return Error(404, "not_found", s.message());
    case StatusCode::kUnavailable:
      return Error(503, "unavailable", s.message(), {{"Retry-After", "1"}});
    default:
      return Error(500, "internal_error", "the policy change failed; see the server log");
  }
}

}  // namespace

AdminApi::AdminApi(const GatewayOptions& options, BearerAuthenticator& authenticator,
                   QueryService::PolicyProvider policy, ThreadPool& pool, PolicyWriter writer,
                   AuditSink audit, const Clock& clock)
    : admin_scope_(options.scopes.admin),
      authenticator_(authenticator),
      resolver_(options.client_rules, options.scope_rules, options.scopes),
      policy_(std::move(policy)),
      pool_(pool),
      writer_(std::move(writer)),
      audit_(std::move(audit)),
      clock_(clock) {}

void AdminApi::RegisterRoutes(http::Router& router) {
  const std::pair<const char*, Resource> routes[] = {
      {"/v1/admin/policy", Resource::kPolicy},
      {"/v1/admin/roles", Resource::kRoles},
      {"/v1/admin/filters", Resource::kFilters},
      {"/v1/admin/tags", Resource::kTags},
  };
  for (const auto& [path, resource] : routes) {
    router.Add(http::Method::kGet, path,
               [this, r = resource](std::shared_ptr<http::Exchange> ex) { Handle(r, std::move(ex)); });
  }
  router.Add(http::Method::kPost, "/v1/admin/grant", [this](std::shared_ptr<http::Exchange> ex) {
    HandleWrite(Action::kGrant, std::move(ex));
  });
  router.Add(http::Method::kPost, "/v1/admin/revoke", [this](std::shared_ptr<http::Exchange> ex) {
    HandleWrite(Action::kRevoke, std::move(ex));
  });
}

void AdminApi::Dispatch(std::shared_ptr<http::Exchange> exchange, std::function<void()> task) {
  if (exchange->request().CountHeader("authorization") == 0) {
    Status missing = UnauthenticatedError(std::string(kNoBearerCredentials));
    exchange->Respond(Error(401, "unauthorized", "a Bearer access token is required",
                            {{"WWW-Authenticate", BearerChallenge(missing)}}));
    return;
  }
  if (!pool_.Submit(std::move(task))) {
    exchange->Respond(
        Error(503, "unavailable", "the server is busy; retry later", {{"Retry-After", "1"}}));
  }
}

void AdminApi::Handle(Resource resource, std::shared_ptr<http::Exchange> exchange) {
  Dispatch(exchange, [this, resource, exchange] { Run(resource, *exchange); });
}

void AdminApi::HandleWrite(Action action, std::shared_ptr<http::Exchange> exchange) {
  if (exchange->request().CountHeader("authorization") != 0 &&
      !http::IsJsonContentType(exchange->request().GetHeader("content-type"))) {
    exchange->Respond(Error(415, "unsupported_media_type", "Content-Type must be application/json"));
    return;
  }
  Dispatch(exchange, [this, action, exchange] { RunWrite(action, *exchange); });
}

std::shared_ptr<const Identity> AdminApi::Authenticate(http::Exchange& exchange) {
  const http::Request& request = exchange.request();
  Result<std::shared_ptr<const Identity>> identity = authenticator_.Authenticate(request);
  if (identity.ok()) return *identity;
  const Status& s = identity.status();
  log::Info("admin API request from " + request.remote_address +
            ": bearer token rejected: " + s.message());
  exchange.Respond(Error(401, "invalid_token",
                         s.message() == "token expired" ? "the access token expired"
                                                        : "the access token is invalid",
                         {{"WWW-Authenticate", BearerChallenge(s)}}));
  return nullptr;
}

void AdminApi::RunWrite(Action action, http::Exchange& exchange) {
  std::shared_ptr<const Identity> identity = Authenticate(exchange);
  if (!identity) return;
  const bool revoke = action == Action::kRevoke;
  Result<engine::StatementClass> max_class = resolver_.MaxClass(*identity);
  const bool admin = max_class.ok() && *max_class == engine::StatementClass::kAdmin;
  Result<RoleDecision> decision = resolver_.Resolve(*identity);
  const std::string caller_role = decision.ok() ? decision->role : "";

  Result<policy::GrantRequest> request =
      policy::GrantRequestFromJson(exchange.request().body, revoke);
  Result<PolicyWrite> written = request.status();
  if (request.ok() && !writer_) {
    written = UnavailableError("policy changes are not enabled on this server");
  } else if (request.ok()) {
    const policy::GrantRequest& r = *request;
    std::string author = std::string("admin API ") + (revoke ? "revoke " : "grant ") + r.role +
                         " by " + identity->client_id;
    written = writer_(author, [&](policy::PolicySnapshot& p) -> Status {
      if (!admin) {
        // Delegation: the caller's role must hold the grant option, in the
        // policy as stored now, and may not create roles.
        const policy::Role* grantor = caller_role.empty() ? nullptr : p.FindRole(caller_role);
        if (grantor == nullptr) {
          return PermissionDeniedError(
              "changing grants needs the scope " + admin_scope_ +
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
  }

  if (audit_) {
    std::string line = "{\"time\":\"" + audit::FormatTimestamp(clock_.NowMillis()) + "\"";
    line += ",\"event\":\"policy_change\"";
    line += ",\"action\":" + JsonQuote(revoke ? "revoke" : "grant");
    line += ",\"client_id\":" + JsonQuote(identity->client_id);
    line += ",\"client_name\":" + JsonQuote(identity->client_name);
    line += ",\"issuer\":" + JsonQuote(identity->issuer);
    line += ",\"caller_role\":" + JsonQuote(caller_role);
    line += ",\"authority\":" + JsonQuote(admin ? "admin scope" : "grant option");
    if (request.ok()) {
      const policy::Grant& g = request->grant;
      line += ",\"role\":" + JsonQuote(request->role);
      line += ",\"resource\":" + JsonQuote(policy::ResourceName(g.database, g.table, ""));
      line += ",\"permissions\":" + JsonQuote(policy::PermissionNames(g.permissions));
      if (g.grant_option != 0) {
        line += ",\"grant_option\":" + JsonQuote(policy::PermissionNames(g.grant_option));
      }
      if (request->grant_option_only) line += ",\"grant_option_only\":true";
    }
    if (written.ok()) {
      line += ",\"outcome\":\"ok\",\"version\":" + std::to_string(written->new_version);
    } else {
      line += ",\"outcome\":\"denied\",\"reason\":" + JsonQuote(written.status().message());
    }
    line += ",\"remote\":" + JsonQuote(exchange.request().remote_address) + "}";
    audit_(line);
  }
  if (!written.ok()) {
    if (written.status().code() != StatusCode::kInvalidArgument &&
        written.status().code() != StatusCode::kPermissionDenied &&
        written.status().code() != StatusCode::kNotFound) {
      log::Error("admin API policy change failed: " + written.status().ToString());
    }
    exchange.Respond(StatusError(written.status()));
    return;
  }
  json out = {{"version", written->new_version},
              {"previous_version", written->old_version},
              {"changed", written->new_version != written->old_version},
              {"changes", written->changes}};
  http::Response response;
  response.headers.push_back({"Cache-Control", "no-store"});
  response.body = out.dump(2) + "\n";
  exchange.Respond(std::move(response));
}

void AdminApi::Run(Resource resource, http::Exchange& exchange) {
  std::shared_ptr<const Identity> identity = Authenticate(exchange);
  if (!identity) return;
  // The admin scope is what the query API calls the admin statement class.
  Result<engine::StatementClass> max_class = resolver_.MaxClass(*identity);
  if (!max_class.ok() || *max_class != engine::StatementClass::kAdmin) {
    exchange.Respond(Error(
        403, "access_denied", "the admin API needs the scope " + admin_scope_,
        {{"WWW-Authenticate", "Bearer realm=\"lakegate\", error=\"insufficient_scope\", scope=\"" +
                                  admin_scope_ + "\""}}));
    return;
  }
  std::shared_ptr<const policy::PolicySnapshot> snapshot = policy_ ? policy_() : nullptr;
  if (!snapshot) {
    exchange.Respond(Error(503, "unavailable", "the policy is not loaded yet; retry",
                           {{"Retry-After", "1"}}));
    return;
  }
  http::Response response;
  response.headers.push_back({"Cache-Control", "no-store"});
  response.body = Render(resource, *snapshot);
  exchange.Respond(std::move(response));
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
