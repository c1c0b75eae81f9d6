#include "gateway/gateway_failure.h"

#include <iterator>

namespace lakegate::gateway {
namespace {

// Indexed by GatewayFailure.
constexpr ReasonInfo kInfos[] = {
    {.name = "not_ready",
     .public_code = "unavailable",
     .public_message = "the server is starting; retry"},
    {.name = "busy",
     .public_code = "unavailable",
     .public_message = "the server is busy; retry later"},
    {.name = "unsupported_media_type", .public_code = "unsupported_media_type", .http_status = 415},
    {.name = "invalid_body", .public_code = "invalid_request"},
    {.name = "query_too_large", .public_code = "query_too_large", .http_status = 413},
    {.name = "no_role", .public_code = "access_denied"},
    {.name = "insufficient_scope",
     .public_code = "access_denied",
     .challenge_error = "insufficient_scope"},
    {.name = "role_not_configured",
     .public_code = "configuration_error",
     .public_message = "the role mapped to this client is not configured on the server"},
    {.name = "policy_not_loaded",
     .public_code = "unavailable",
     .public_message = "the policy is not loaded yet; retry"},
    {.name = "too_many_queries", .public_code = "too_many_queries"},
    {.name = "result_too_large", .public_code = "result_too_large", .http_status = 413},
    {.name = "client_gone", .public_code = "client_gone"},
};
static_assert(std::size(kInfos) == static_cast<size_t>(GatewayFailure::kClientGone) + 1,
              "one ReasonInfo per GatewayFailure");

constexpr ReasonDomain kDomain("gateway", kInfos, static_cast<int>(std::size(kInfos)));

StatusCode CodeOf(GatewayFailure reason) {
  switch (reason) {
    case GatewayFailure::kNotReady:
    case GatewayFailure::kBusy:
    case GatewayFailure::kPolicyNotLoaded:
    case GatewayFailure::kClientGone:
      return StatusCode::kUnavailable;
    case GatewayFailure::kUnsupportedMediaType:
    case GatewayFailure::kInvalidBody:
      return StatusCode::kInvalidArgument;
    case GatewayFailure::kQueryTooLarge:
    case GatewayFailure::kTooManyQueries:
    case GatewayFailure::kResultTooLarge:
      return StatusCode::kResourceExhausted;
    case GatewayFailure::kNoRole:
    case GatewayFailure::kInsufficientScope:
      return StatusCode::kPermissionDenied;
    case GatewayFailure::kRoleNotConfigured:
      return StatusCode::kInternal;
  }
  return StatusCode::kInternal;
}

}  // namespace

const ReasonDomain& ReasonDomainOf(GatewayFailure) { return kDomain; }

Status GatewayError(GatewayFailure reason, std::string message) {
  return Status(CodeOf(reason), reason, std::move(message));
}

}  // namespace lakegate::gateway
