// Why a call of the lakegate client library failed, as a typed reason on the
// returned Status. Transport failures keep http::ClientFailure instead (the
// library adds context to the message, never replaces the reason).
#pragma once

#include "common/status.h"

namespace lakegate::client {

enum class ApiFailure {
  kNoCredentials,       // a new token is needed and no client authenticator was given
                        // (InvalidArgument)
  kTokenRefused,        // the token endpoint answered an OAuth error such as
                        // invalid_client or invalid_scope (Unauthenticated)
  kTokenEndpointError,  // the token endpoint answered an error status without an OAuth
                        // error body (Unavailable)
  kMalformedResponse,   // a success status whose body is not what the API sends (Internal)
  kQueryFailed,         // the query API answered an error (FailedPrecondition)
};
const ReasonDomain& ReasonDomainOf(ApiFailure);

}  // namespace lakegate::client
