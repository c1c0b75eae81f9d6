#include "http/error_response.h"

#include <iterator>
#include <string>

#include "common/strings.h"

namespace lakegate::http {
namespace {

// Indexed by HttpFailure.
constexpr ReasonInfo kHttpInfos[] = {
    {.name = "headers_too_large",
     .public_code = "request_header_fields_too_large",
     .http_status = 431},
    {.name = "body_too_large", .public_code = "payload_too_large", .http_status = 413},
    {.name = "malformed", .public_code = "bad_request"},
    {.name = "no_route", .public_code = "not_found"},
    {.name = "method_not_allowed", .public_code = "method_not_allowed", .http_status = 405},
    {.name = "handler_failed", .public_code = "server_error"},
};
static_assert(std::size(kHttpInfos) == static_cast<size_t>(HttpFailure::kHandlerFailed) + 1,
              "one ReasonInfo per HttpFailure");
constexpr ReasonDomain kHttpDomain("http", kHttpInfos, static_cast<int>(std::size(kHttpInfos)));

StatusCode CodeOf(HttpFailure reason) {
  switch (reason) {
    case HttpFailure::kHeadersTooLarge:
    case HttpFailure::kBodyTooLarge:
      return StatusCode::kResourceExhausted;
    case HttpFailure::kMalformed:
    case HttpFailure::kMethodNotAllowed:
      return StatusCode::kInvalidArgument;
    case HttpFailure::kNoRoute:
      return StatusCode::kNotFound;
    case HttpFailure::kHandlerFailed:
      return StatusCode::kInternal;
  }
  return StatusCode::kInternal;
}

int DefaultHttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 500;  // an OK status is no error: the caller is wrong
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kDeadlineExceeded:
      return 408;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

// The query API's code when the reason names none.
std::string_view DefaultApiCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return "invalid_request";
    case StatusCode::kUnauthenticated:
      return "unauthorized";
    case StatusCode::kPermissionDenied:
      return "access_denied";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kResourceExhausted:
      return "too_many_requests";
    case StatusCode::kDeadlineExceeded:
      return "timeout";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kOk:
    case StatusCode::kInternal:
      return "internal_error";
  }
  return "internal_error";
}

// Without a reason, only the two codes whose meaning is not the client's
// fault have an RFC 6749 name here; oauth/ gives every other error a reason.
std::string_view DefaultOAuthCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
    case StatusCode::kInternal:
      return "server_error";
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
      return "temporarily_unavailable";
    default:
      return "invalid_request";
  }
}

}  // namespace

std::string PublicErrorMessage(const Status& status, std::string_view request_id) {
  const ReasonInfo& info = status.reason_info();
  if (!info.public_message.empty()) return std::string(info.public_message);
  if (status.code() == StatusCode::kInternal || status.ok()) {
    std::string m = "internal error; the server log has the details";
    if (!request_id.empty()) m += " for query " + std::string(request_id);
    return m;
  }
  return status.message();
}

namespace {

// RFC 6750 §3 and RFC 9449 §7.1: `<scheme> realm="..."[, error="...", ...]`,
// with the error only when `error` is set.
std::string Challenge(std::string_view scheme, std::string_view error, const ErrorContext& context,
                      std::string_view message) {
  std::string out = std::string(scheme) + " realm=\"" + std::string(context.realm) + "\"";
  if (error.empty()) return out;
  out += ", error=\"" + std::string(error) + "\"";
  if (error == "insufficient_scope") {
    if (!context.required_scope.empty()) {
      out += ", scope=\"" + std::string(context.required_scope) + "\"";
    }
  } else if (!message.empty()) {
    // A sentence, as RFC 6750's examples write it.
    std::string description(message);
    if (description[0] >= 'a' && description[0] <= 'z') {
      description[0] = static_cast<char>(description[0] - 'a' + 'A');
    }
    out += ", error_description=\"" + description + "\"";
  }
  return out;
}

}  // namespace

const ReasonDomain& ReasonDomainOf(HttpFailure) { return kHttpDomain; }

Status HttpError(HttpFailure reason, std::string message) {
  return Status(CodeOf(reason), reason, std::move(message));
}

int HttpStatusFor(const Status& status) {
  int reason_status = status.reason_info().http_status;
  return reason_status != 0 ? reason_status : DefaultHttpStatus(status.code());
}

namespace {

// The AWS exception type of a failure (kAws).
std::string_view AwsErrorType(const Status& status, int http_status) {
  std::string_view code = status.reason_info().public_code;
  if (code.ends_with("Exception")) return code;
  switch (http_status) {
    case 401:
      return "UnrecognizedClientException";
    case 403:
      return "AccessDeniedException";
    case 429:
      return "TooManyRequestsException";
    default:
      return http_status >= 500 ? "InternalServerException" : "InvalidRequestException";
  }
}

int AwsHttpStatus(int status) {
  if (status == 401 || status == 403 || status == 429 || status >= 500) return status;
  return 400;
}

}  // namespace

std::string_view PublicErrorCode(const Status& status, ErrorFamily family) {
  if (family == ErrorFamily::kAws) return AwsErrorType(status, HttpStatusFor(status));
  std::string_view code = status.reason_info().public_code;
  if (!code.empty()) return code;
  return family == ErrorFamily::kOAuth ? DefaultOAuthCode(status.code())
                                       : DefaultApiCode(status.code());
}

Response ErrorResponse(const Status& status, ErrorFamily family, ErrorContext context) {
  Response r;
  r.status = HttpStatusFor(status);
  r.headers = std::move(context.headers);
  const std::string message = PublicErrorMessage(status, context.request_id);
  const std::string_view code = PublicErrorCode(status, family);
  if (family == ErrorFamily::kAws) {
    r.status = AwsHttpStatus(r.status);
    r.content_type = "application/x-amz-json-1.1";
    r.body = "{\"__type\":" + JsonQuote(code) + ",\"Message\":" + JsonQuote(message) + "}";
    r.headers.push_back({"x-amzn-ErrorType", std::string(code)});
  } else if (family == ErrorFamily::kOAuth) {
    r.body = JsonError(code, message);
    r.headers.push_back({"Cache-Control", "no-store"});
    r.headers.push_back({"Pragma", "no-cache"});
    if (r.status == 401) {
      r.headers.push_back({"WWW-Authenticate", "Basic realm=\"" + std::string(context.realm) +
                                                   "\", charset=\"UTF-8\""});
    }
  } else {
    r.body = "{\"success\":false,\"error\":{\"code\":" + JsonQuote(code) +
             ",\"message\":" + JsonQuote(message) + "}";
    if (!context.request_id.empty()) r.body += ",\"queryId\":" + JsonQuote(context.request_id);
    r.body += "}";
    r.headers.push_back({"Cache-Control", "no-store"});
    const ReasonInfo& info = status.reason_info();
    const std::string_view error = info.challenge_error;
    if (r.status == 401 || !error.empty()) {
      const bool dpop_error = context.dpop_error;
      std::string bearer = Challenge("Bearer", dpop_error ? "" : error, context, message);
      std::string dpop;
      if (!context.dpop_algs.empty() || dpop_error) {
        dpop = Challenge("DPoP", dpop_error ? error : "", context, message);
        if (!context.dpop_algs.empty()) dpop += ", algs=\"" + std::string(context.dpop_algs) + "\"";
      }
      // One header listing the challenges (RFC 9110 §11.6.1), the one with
      // the error first; the other scheme only on a 401. One header, so that
      // a client reading a single WWW-Authenticate value sees both.
      std::string challenges = dpop_error ? std::move(dpop) : std::move(bearer);
      std::string other = dpop_error ? std::move(bearer) : std::move(dpop);
      if (r.status == 401 && !other.empty()) challenges += ", " + other;
      r.headers.push_back({"WWW-Authenticate", std::move(challenges)});
    }
  }
  if (r.status == 429 || r.status == 503) {
    int64_t seconds = status.retry_after() > 0 ? status.retry_after() : 1;
    r.headers.push_back({"Retry-After", std::to_string(seconds)});
  }
  return r;
}

}  // namespace lakegate::http
