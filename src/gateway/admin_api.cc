#include "gateway/admin_api.h"

#include <nlohmann/json.hpp>

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

}  // namespace

AdminApi::AdminApi(const GatewayOptions& options, BearerAuthenticator& authenticator,
                   QueryService::PolicyProvider policy, ThreadPool& pool)
    : admin_scope_(options.scopes.admin),
      authenticator_(authenticator),
      resolver_(options.client_rules, options.scope_rules, options.scopes),
      policy_(std::move(policy)),
      pool_(pool) {}

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
}

void AdminApi::Handle(Resource resource, std::shared_ptr<http::Exchange> exchange) {
  if (exchange->request().CountHeader("authorization") == 0) {
    Status missing = UnauthenticatedError(std::string(kNoBearerCredentials));
    exchange->Respond(Error(401, "unauthorized", "a Bearer access token is required",
                            {{"WWW-Authenticate", BearerChallenge(missing)}}));
    return;
  }
  bool queued = pool_.Submit([this, resource, exchange] { Run(resource, *exchange); });
  if (!queued) {
    exchange->Respond(
        Error(503, "unavailable", "the server is busy; retry later", {{"Retry-After", "1"}}));
  }
}

void AdminApi::Run(Resource resource, http::Exchange& exchange) {
  const http::Request& request = exchange.request();
  Result<std::shared_ptr<const Identity>> identity = authenticator_.Authenticate(request);
  if (!identity.ok()) {
    const Status& s = identity.status();
    log::Info("admin API request from " + request.remote_address +
              ": bearer token rejected: " + s.message());
    exchange.Respond(Error(401, "invalid_token",
                           s.message() == "token expired" ? "the access token expired"
                                                          : "the access token is invalid",
                           {{"WWW-Authenticate", BearerChallenge(s)}}));
    return;
  }
  // The admin scope is what the query API calls the admin statement class.
  Result<engine::StatementClass> max_class = resolver_.MaxClass(**identity);
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
