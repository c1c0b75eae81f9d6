#include "oauth/oauth_error.h"

#include <iterator>

namespace lakegate::oauth {
namespace {

// Indexed by OAuthError.
constexpr ReasonInfo kInfos[] = {
    {.name = "invalid_request", .public_code = "invalid_request"},
    {.name = "invalid_client", .public_code = "invalid_client"},
    {.name = "unauthorized_client", .public_code = "unauthorized_client"},
    {.name = "unsupported_grant_type", .public_code = "unsupported_grant_type"},
    {.name = "invalid_scope", .public_code = "invalid_scope"},
    {.name = "invalid_dpop_proof", .public_code = "invalid_dpop_proof"},
    {.name = "use_dpop_nonce", .public_code = "use_dpop_nonce"},
    {.name = "rate_limited", .public_code = "temporarily_unavailable"},
    {.name = "unavailable", .public_code = "temporarily_unavailable"},
    {.name = "server_error", .public_code = "server_error"},
};
static_assert(std::size(kInfos) == static_cast<size_t>(OAuthError::kServerError) + 1,
              "one ReasonInfo per OAuthError");

constexpr ReasonDomain kDomain("oauth", kInfos, static_cast<int>(std::size(kInfos)));

StatusCode CodeOf(OAuthError error) {
  switch (error) {
    case OAuthError::kInvalidClient:
      return StatusCode::kUnauthenticated;
    case OAuthError::kRateLimited:
      return StatusCode::kResourceExhausted;
    case OAuthError::kUnavailable:
      return StatusCode::kUnavailable;
    case OAuthError::kServerError:
      return StatusCode::kInternal;
    case OAuthError::kUnauthorizedClient:
    case OAuthError::kUnsupportedGrantType:
    case OAuthError::kInvalidScope:
    case OAuthError::kInvalidDpopProof:
    case OAuthError::kUseDpopNonce:
    case OAuthError::kInvalidRequest:
      // RFC 6749 §5.2 answers all of these with 400, whatever their meaning.
      return StatusCode::kInvalidArgument;
  }
  return StatusCode::kInternal;
}

}  // namespace

const ReasonDomain& ReasonDomainOf(OAuthError) { return kDomain; }

Status OAuthFailure(OAuthError error, std::string description) {
  return Status(CodeOf(error), error, std::move(description));
}

}  // namespace lakegate::oauth
