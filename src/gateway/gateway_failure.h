// The gateway's own failure reasons: what the request pipeline and the query
// API refuse before or around the engine. Token reasons are jose's
// (jose/token_failure.h), engine reasons the engine's. Each names the query
// API's public error code; the HTTP layer renders them.
#pragma once

#include <string>

#include "common/status.h"

namespace lakegate::gateway {

enum class GatewayFailure {
  kNotReady,              // 503 unavailable: the server is starting
  kBusy,                  // 503 unavailable: the worker pool's queue is full
  kUnsupportedMediaType,  // 415 unsupported_media_type
  kInvalidBody,           // 400 invalid_request: the JSON body is malformed
  kQueryTooLarge,         // 413 query_too_large: the SQL text is over the limit
  kNoRole,                // 403 access_denied: no role rule matches the caller
  kInsufficientScope,     // 403 access_denied + RFC 6750 insufficient_scope
  kRoleNotConfigured,     // 500 configuration_error: the mapped role is not in the policy
  kPolicyNotLoaded,       // 503 unavailable
  kTooManyQueries,        // 429 too_many_queries: the client's queue is full
  kResultTooLarge,        // 413 result_too_large: the encoded result is over the limit
  kClientGone,            // the client disconnected (no response is possible)
};

const ReasonDomain& ReasonDomainOf(GatewayFailure);

// A status with `reason`, the status code that goes with it and `message`
// (shown to the client unless the reason says otherwise).
Status GatewayError(GatewayFailure reason, std::string message);

}  // namespace lakegate::gateway
