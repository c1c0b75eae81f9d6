// The RFC 6749 §5.2 errors of the token, introspection and revocation
// endpoints, as typed reasons. This is the only place that names them; the
// HTTP layer renders a status with one of these reasons in the OAuth shape
// (http/error_response.h). Reason names double as the audit and metrics
// outcome of a token request.
#pragma once

#include <string>

#include "common/status.h"

namespace lakegate::oauth {

enum class OAuthError {
  kInvalidRequest,        // 400 invalid_request: malformed, repeated or missing parameters
  kInvalidClient,         // 401 invalid_client (+ WWW-Authenticate: Basic)
  kUnauthorizedClient,    // 400 unauthorized_client: the client may not do this
  kUnsupportedGrantType,  // 400 unsupported_grant_type
  kInvalidScope,          // 400 invalid_scope
  kInvalidDpopProof,      // 400 invalid_dpop_proof (RFC 9449 §5): the DPoP proof is missing or bad
  kUseDpopNonce,          // 400 use_dpop_nonce (RFC 9449 §8): retry with the DPoP-Nonce given
  kRateLimited,  // 429 temporarily_unavailable (+ Retry-After): too many failed authentications
  kUnavailable,  // 503 temporarily_unavailable: the state store cannot take the write
  kServerError,  // 500 server_error
};

const ReasonDomain& ReasonDomainOf(OAuthError);

// A status with `error`, the status code that goes with it and `description`
// (sent to the client as error_description: never a secret).
Status OAuthFailure(OAuthError error, std::string description);

}  // namespace lakegate::oauth
