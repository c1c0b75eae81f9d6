#include "gateway/gateway_options.h"

#include <set>

#include "gateway/jwks_fetcher.h"

namespace lakegate::gateway {

Status ValidateGatewayOptions(const GatewayOptions& options) {
  std::set<std::string, std::less<>> issuers;
  for (size_t i = 0; i < options.trusted_issuers.size(); ++i) {
    const TrustedIssuer& t = options.trusted_issuers[i];
    const std::string where = "trusted issuer #" + std::to_string(i + 1);
    if (t.issuer.empty()) return InvalidArgumentError(where + ": issuer is empty");
    if (!issuers.insert(t.issuer).second) {
      return InvalidArgumentError(where + ": issuer '" + t.issuer + "' is listed twice");
    }
    Status url = CheckJwksUrl(t.jwks_uri, options.allow_insecure_jwks_http);
    if (!url.ok()) return InvalidArgumentError(where + " (" + t.issuer + "): " + url.message());
    if (t.refresh_min_interval.count() < 0) {
      return InvalidArgumentError(where + ": refresh_min_interval must not be negative");
    }
  }
  for (size_t i = 0; i < options.client_rules.size(); ++i) {
    const ClientRule& r = options.client_rules[i];
    const std::string where = "client rule #" + std::to_string(i + 1);
    if (r.client_id.empty() == r.client_name.empty()) {
      return InvalidArgumentError(where + ": set exactly one of client_id and client_name");
    }
    if (r.role.empty()) return InvalidArgumentError(where + ": role is empty");
    if (!r.issuer.empty() && !r.client_name.empty()) {
      return InvalidArgumentError(where +
                                  ": a client name rule matches lakegate's own clients only; "
                                  "drop its issuer");
    }
  }
  for (size_t i = 0; i < options.scope_rules.size(); ++i) {
    const ScopeRule& r = options.scope_rules[i];
    const std::string where = "scope rule #" + std::to_string(i + 1);
    if (r.scope.empty()) return InvalidArgumentError(where + ": scope is empty");
    if (r.role.empty()) return InvalidArgumentError(where + ": role is empty");
  }
  if (options.max_rows <= 0) return InvalidArgumentError("max_rows must be positive");
  if (options.max_result_bytes <= 0)
    return InvalidArgumentError("max_result_bytes must be positive");
  if (options.max_query_memory_bytes <= 0)
    return InvalidArgumentError("max_query_memory_bytes must be positive");
  if (options.max_queued_per_client < 0) {
    return InvalidArgumentError("max_queued_per_client must not be negative");
  }
  if (options.max_concurrent_per_client <= 0) {
    return InvalidArgumentError("max_concurrent_per_client must be positive");
  }
  if (options.max_query_bytes == 0) return InvalidArgumentError("max_query_bytes must be positive");
  if (options.query_timeout.count() <= 0)
    return InvalidArgumentError("query_timeout must be positive");
  if (options.max_token_bytes == 0) return InvalidArgumentError("max_token_bytes must be positive");
  if (options.default_database.empty()) return InvalidArgumentError("default_database is empty");
  return Status::Ok();
}

}  // namespace lakegate::gateway
