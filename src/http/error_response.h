// ErrorResponse: the one place where a failed Status becomes an HTTP response.
//
// The HTTP status comes from the status's reason (ReasonInfo::http_status) or
// else from its code, with Abseil's meanings:
//   kInvalidArgument 400, kUnauthenticated 401, kPermissionDenied 403,
//   kNotFound 404, kAlreadyExists and kFailedPrecondition 409,
//   kResourceExhausted 429, kDeadlineExceeded 408, kUnavailable 503,
//   kInternal 500.
// The body shape is the route family's, so every route of a family answers
// errors alike, whichever layer failed:
//   kOAuth  RFC 6749 §5.2 {"error", "error_description"} with Cache-Control:
//           no-store and Pragma: no-cache; a 401 carries `WWW-Authenticate:
//           Basic` (the scheme a client authenticates with at /oauth2/*). The
//           "error" value is the reason's public_code: oauth/ names RFC 6749
//           errors, this file does not.
//   kApi    the query API's {"success": false, "error": {"code", "message"},
//           "queryId"} with Cache-Control: no-store; a 401 carries an RFC 6750
//           Bearer challenge (error="invalid_token" with a coarse
//           error_description when a token was sent and rejected, no error when
//           none was sent), a 403 whose reason says insufficient_scope carries
//           error="insufficient_scope" and the scope that would help. Where
//           the API accepts DPoP (RFC 9449 §7.1), a 401 carries a second
//           challenge in the same header, `DPoP realm="...", algs="..."`
//           (after the Bearer one); the error goes into the DPoP one, listed
//           first, when the context says so (a bad proof, a bound token sent
//           as Bearer, any token failure of a DPoP presentation).
//   kAws    the AWS JSON protocols' {"__type": "<Type>", "Message": "..."} with
//           Content-Type application/x-amz-json-1.1 and x-amzn-ErrorType:
//           the type is the reason's public_code when it names an AWS
//           exception ("...Exception"), else by code: InvalidRequestException
//           (400 for every client error but 401/403/429),
//           UnrecognizedClientException (401), AccessDeniedException (403),
//           TooManyRequestsException (429), InternalServerException (5xx).
// The message is the reason's public_message, else the status message, which
// request-path code keeps safe to show by contract; a kInternal message is
// never shown (the client gets a pointer to the server log instead).
// 429 and 503 carry Retry-After (the status's retry_after(), else 1 s).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace lakegate::http {

enum class ErrorFamily { kOAuth, kApi, kAws };

// What the server itself refuses before or around a handler.
enum class HttpFailure {
  kHeadersTooLarge,   // 431 request_header_fields_too_large
  kBodyTooLarge,      // 413 payload_too_large
  kMalformed,         // 400 bad_request
  kNoRoute,           // 404 not_found
  kMethodNotAllowed,  // 405 method_not_allowed
  kHandlerFailed,     // 500 server_error (the handler threw or answered an invalid head)
};
const ReasonDomain& ReasonDomainOf(HttpFailure);
Status HttpError(HttpFailure reason, std::string message);

struct ErrorContext {
  std::string_view request_id = {};  // "queryId" in kApi bodies; omitted when empty
  std::string_view realm = "lakegate";
  std::string_view required_scope = {};  // scope= of an insufficient_scope challenge
  std::vector<Header> headers = {};      // added to the response (e.g. X-Query-Id)
  // kApi: the API accepts DPoP with these proof algorithms ("ES256 PS256");
  // "" = Bearer only.
  std::string_view dpop_algs = {};
  // kApi: the challenge error belongs in the DPoP challenge.
  bool dpop_error = false;
};

// The HTTP status for a failed `status` (see above); 500 for an OK status.
int HttpStatusFor(const Status& status);

// The error code clients of `family` see for `status` ("invalid_token",
// "invalid_client", ...).
std::string_view PublicErrorCode(const Status& status, ErrorFamily family);

// The message clients see for `status` (see above); `request_id` is named in
// the pointer to the server log that replaces an internal error's message.
std::string PublicErrorMessage(const Status& status, std::string_view request_id = {});

// The response for a failed `status`. An OK status is a bug of the caller and
// answers 500.
Response ErrorResponse(const Status& status, ErrorFamily family, ErrorContext context = {});

}  // namespace lakegate::http
