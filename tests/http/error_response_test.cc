// ErrorResponse: one rendering of a failed Status per route family.
#include "http/error_response.h"

#include <gtest/gtest.h>

#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lakegate::http {
namespace {

using nlohmann::json;

enum class Why { kPlain, kCustom, kBearer, kScope, kShown };
constexpr ReasonInfo kWhyInfos[] = {
    {.name = "plain"},
    {.name = "custom", .public_code = "custom_code", .http_status = 415},
    {.name = "bearer",
     .public_code = "invalid_token",
     .public_message = "the access token expired",
     .challenge_error = "invalid_token"},
    {.name = "scope", .public_code = "access_denied", .challenge_error = "insufficient_scope"},
    {.name = "shown", .public_message = "a fixed public message"},
};
constexpr ReasonDomain kWhyDomain("why", kWhyInfos, static_cast<int>(std::size(kWhyInfos)));
const ReasonDomain& ReasonDomainOf(Why) { return kWhyDomain; }

std::string HeaderOf(const Response& r, std::string_view name) {
  for (const Header& h : r.headers) {
    if (h.name == name) return h.value;
  }
  return "";
}

TEST(HttpStatusForTest, CodesFollowAbseilMeaningsAndReasonsMayOverride) {
  EXPECT_EQ(HttpStatusFor(InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpStatusFor(NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusFor(FailedPreconditionError("x")), 409);
  EXPECT_EQ(HttpStatusFor(ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusFor(DeadlineExceededError("x")), 408);
  EXPECT_EQ(HttpStatusFor(UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(InternalError("x")), 500);
  EXPECT_EQ(HttpStatusFor(Status::Ok()), 500);
  EXPECT_EQ(HttpStatusFor(Status(StatusCode::kInvalidArgument, Why::kCustom, "x")), 415);
}

TEST(ErrorResponseTest, ApiShapeWithRequestIdAndNoStore) {
  Response r =
      ErrorResponse(Status(StatusCode::kInvalidArgument, Why::kCustom, "bad thing"),
                    ErrorFamily::kApi, {.request_id = "q-1", .headers = {{"X-Query-Id", "q-1"}}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.content_type, "application/json");
  json body = json::parse(r.body);
  EXPECT_EQ(body, json::parse(R"({"success":false,"error":{"code":"custom_code",
                                  "message":"bad thing"},"queryId":"q-1"})"));
  EXPECT_EQ(HeaderOf(r, "X-Query-Id"), "q-1");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "");
  // Without a request id there is no queryId member.
  EXPECT_FALSE(
      json::parse(ErrorResponse(NotFoundError("x"), ErrorFamily::kApi).body).contains("queryId"));
}

TEST(ErrorResponseTest, ApiDefaultCodesByStatusCode) {
  auto code = [](const Status& s) {
    return json::parse(ErrorResponse(s, ErrorFamily::kApi).body)["error"]["code"];
  };
  EXPECT_EQ(code(InvalidArgumentError("x")), "invalid_request");
  EXPECT_EQ(code(UnauthenticatedError("x")), "unauthorized");
  EXPECT_EQ(code(PermissionDeniedError("x")), "access_denied");
  EXPECT_EQ(code(NotFoundError("x")), "not_found");
  EXPECT_EQ(code(UnavailableError("x")), "unavailable");
  EXPECT_EQ(code(InternalError("x")), "internal_error");
  EXPECT_EQ(PublicErrorCode(Status(StatusCode::kInternal, Why::kCustom, "x"), ErrorFamily::kApi),
            "custom_code");
}

TEST(ErrorResponseTest, InternalMessagesAreNeverShown) {
  Response r = ErrorResponse(InternalError("/var/lib/secret.db is locked"), ErrorFamily::kApi,
                             {.request_id = "q-9"});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret.db"), std::string::npos);
  EXPECT_EQ(json::parse(r.body)["error"]["message"],
            "internal error; the server log has the details for query q-9");
  Response oauth = ErrorResponse(InternalError("/var/lib/secret.db"), ErrorFamily::kOAuth);
  EXPECT_EQ(oauth.body.find("secret.db"), std::string::npos);
  EXPECT_EQ(json::parse(oauth.body)["error"], "server_error");
}

TEST(ErrorResponseTest, PublicMessageOfTheReasonReplacesTheDetail) {
  Response r = ErrorResponse(Status(StatusCode::kPermissionDenied, Why::kShown, "internal detail"),
                             ErrorFamily::kApi);
  EXPECT_EQ(json::parse(r.body)["error"]["message"], "a fixed public message");
  EXPECT_EQ(r.body.find("internal detail"), std::string::npos);
}

TEST(ErrorResponseTest, BearerChallenges) {
  // No credentials: realm only (RFC 6750 §3.1).
  Response missing = ErrorResponse(UnauthenticatedError("no credentials"), ErrorFamily::kApi);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(HeaderOf(missing, "WWW-Authenticate"), "Bearer realm=\"lakegate\"");
  // A rejected token: invalid_token with the coarse public message as a sentence.
  Response expired = ErrorResponse(Status(StatusCode::kUnauthenticated, Why::kBearer, "exp 12"),
                                   ErrorFamily::kApi);
  EXPECT_EQ(HeaderOf(expired, "WWW-Authenticate"),
            "Bearer realm=\"lakegate\", error=\"invalid_token\", "
            "error_description=\"The access token expired\"");
  EXPECT_EQ(json::parse(expired.body)["error"]["message"], "the access token expired");
  // Insufficient scope: 403 naming the scope that would help.
  Response scope = ErrorResponse(Status(StatusCode::kPermissionDenied, Why::kScope, "no scope"),
                                 ErrorFamily::kApi, {.required_scope = "api/query.read"});
  EXPECT_EQ(scope.status, 403);
  EXPECT_EQ(HeaderOf(scope, "WWW-Authenticate"),
            "Bearer realm=\"lakegate\", error=\"insufficient_scope\", scope=\"api/query.read\"");
}

std::vector<std::string> HeadersOf(const Response& r, std::string_view name) {
  std::vector<std::string> out;
  for (const Header& h : r.headers) {
    if (h.name == name) out.push_back(h.value);
  }
  return out;
}

TEST(ErrorResponseTest, DpopChallenges) {
  constexpr std::string_view kAlgs = "ES256 PS256";
  // No credentials where DPoP is accepted: both schemes, no error (RFC 9449 §7.1).
  Response missing = ErrorResponse(UnauthenticatedError("no credentials"), ErrorFamily::kApi,
                                   {.dpop_algs = kAlgs});
  EXPECT_EQ(HeadersOf(missing, "WWW-Authenticate"),
            (std::vector<std::string>{
                "Bearer realm=\"lakegate\", DPoP realm=\"lakegate\", algs=\"ES256 PS256\""}));
  // A Bearer token failure: the error in the Bearer challenge, DPoP offered.
  Response bearer = ErrorResponse(Status(StatusCode::kUnauthenticated, Why::kBearer, "exp"),
                                  ErrorFamily::kApi, {.dpop_algs = kAlgs});
  EXPECT_EQ(HeadersOf(bearer, "WWW-Authenticate"),
            (std::vector<std::string>{
                "Bearer realm=\"lakegate\", error=\"invalid_token\", error_description=\"The "
                "access token expired\", DPoP realm=\"lakegate\", algs=\"ES256 PS256\""}));
  // A DPoP failure: the error in the DPoP challenge, listed first.
  Response dpop = ErrorResponse(Status(StatusCode::kUnauthenticated, Why::kBearer, "exp"),
                                ErrorFamily::kApi, {.dpop_algs = kAlgs, .dpop_error = true});
  EXPECT_EQ(HeadersOf(dpop, "WWW-Authenticate"),
            (std::vector<std::string>{
                "DPoP realm=\"lakegate\", error=\"invalid_token\", error_description=\"The access "
                "token expired\", algs=\"ES256 PS256\", Bearer realm=\"lakegate\""}));
  // A 403 of a DPoP presentation: one challenge, DPoP.
  Response scope = ErrorResponse(
      Status(StatusCode::kPermissionDenied, Why::kScope, "no scope"), ErrorFamily::kApi,
      {.required_scope = "api/query.read", .dpop_algs = kAlgs, .dpop_error = true});
  EXPECT_EQ(HeadersOf(scope, "WWW-Authenticate"),
            (std::vector<std::string>{"DPoP realm=\"lakegate\", error=\"insufficient_scope\", "
                                      "scope=\"api/query.read\", algs=\"ES256 PS256\""}));
}

TEST(ErrorResponseTest, OAuthShape) {
  Response r = ErrorResponse(Status(StatusCode::kInvalidArgument, Why::kCustom, "what to do"),
                             ErrorFamily::kOAuth);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"error":"custom_code","error_description":"what to do"})"));
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderOf(r, "Pragma"), "no-cache");
  // 401 challenges for the scheme a client authenticates with at /oauth2/*.
  Response client = ErrorResponse(UnauthenticatedError("x"), ErrorFamily::kOAuth);
  EXPECT_EQ(client.status, 401);
  EXPECT_EQ(HeaderOf(client, "WWW-Authenticate"), "Basic realm=\"lakegate\", charset=\"UTF-8\"");
}

TEST(ErrorResponseTest, RetryAfterOn429And503) {
  EXPECT_EQ(
      HeaderOf(ErrorResponse(ResourceExhaustedError("x").WithRetryAfter(7), ErrorFamily::kOAuth),
               "Retry-After"),
      "7");
  EXPECT_EQ(HeaderOf(ErrorResponse(UnavailableError("x"), ErrorFamily::kApi), "Retry-After"), "1");
  EXPECT_EQ(HeaderOf(ErrorResponse(InvalidArgumentError("x"), ErrorFamily::kApi), "Retry-After"),
            "");
}

TEST(ErrorResponseTest, ServerRefusalsRenderInTheRouteFamily) {
  Status too_large = HttpError(HttpFailure::kBodyTooLarge, "request body exceeds 10 bytes");
  Response api = ErrorResponse(too_large, ErrorFamily::kApi);
  EXPECT_EQ(api.status, 413);
  EXPECT_EQ(json::parse(api.body)["error"]["code"], "payload_too_large");
  Response oauth = ErrorResponse(too_large, ErrorFamily::kOAuth);
  EXPECT_EQ(json::parse(oauth.body), json::parse(R"({"error":"payload_too_large",
                            "error_description":"request body exceeds 10 bytes"})"));
  EXPECT_EQ(HttpStatusFor(HttpError(HttpFailure::kHeadersTooLarge, "x")), 431);
  EXPECT_EQ(HttpStatusFor(HttpError(HttpFailure::kMethodNotAllowed, "x")), 405);
  EXPECT_EQ(HttpStatusFor(HttpError(HttpFailure::kNoRoute, "x")), 404);
  EXPECT_EQ(HttpStatusFor(HttpError(HttpFailure::kMalformed, "x")), 400);
}

}  // namespace
}  // namespace lakegate::http
