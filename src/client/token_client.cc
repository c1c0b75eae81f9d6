#include "client/token_client.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "client/api_failure.h"
#include "common/base64url.h"
#include "common/strings.h"

namespace lakegate::client {
namespace {

using nlohmann::json;

constexpr size_t kMaxTokenResponseBytes = 1 << 20;

std::string EncodeForm(const FormFields& form) {
  std::string out;
  for (const auto& [name, value] : form) {
    if (!out.empty()) out += '&';
    out += UrlEncode(name);
    out += '=';
    out += UrlEncode(value);
  }
  return out;
}

// The "exp" claim of a JWT, read without verification: only to time the cache
// (the server verifies the token on every use).
std::optional<int64_t> UnverifiedExpiry(std::string_view token) {
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  std::optional<std::string> payload = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  if (!payload) return std::nullopt;
  const json claims = json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number()) {
    return std::nullopt;
  }
  return claims["exp"].get<int64_t>();
}

// The error of a token response other than 200.
Status TokenError(const http::ClientResponse& response, const std::string& url) {
  const json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
    std::string message = doc["error"].get<std::string>();
    if (doc.contains("error_description") && doc["error_description"].is_string()) {
      message += ": " + doc["error_description"].get<std::string>();
    }
    return Status(StatusCode::kUnauthenticated, ApiFailure::kTokenRefused,
                  "token request failed: " + message);
  }
  return Status(StatusCode::kUnavailable, ApiFailure::kTokenEndpointError,
                "token request failed: HTTP " + std::to_string(response.status) + " from " + url);
}

}  // namespace

TokenClient::TokenClient(TokenClientOptions options, const http::Client& http,
                         std::unique_ptr<const ClientAuthenticator> authenticator, TokenCache cache,
                         const Clock& clock)
    : options_(std::move(options)),
      http_(http),
      authenticator_(std::move(authenticator)),
      cache_(std::move(cache)),
      clock_(clock) {}

TokenKey TokenClient::Key() const {
  return TokenKey{options_.endpoint, options_.client_id, options_.scope, options_.certificate};
}

Result<AccessToken> TokenClient::Get() const {
  if (std::optional<CachedToken> cached = cache_.Find(Key())) {
    return AccessToken{std::move(cached->access_token), cached->expires_at, true};
  }
  return Request();
}

Result<AccessToken> TokenClient::Refresh() const {
  cache_.Drop(Key());
  return Request();
}

Result<AccessToken> TokenClient::Request() const {
  if (authenticator_ == nullptr) {
    return Status(StatusCode::kInvalidArgument, ApiFailure::kNoCredentials,
                  "no client credentials to request a token with");
  }
  TokenRequest token_request;
  token_request.token_url = options_.endpoint + "/oauth2/token";
  token_request.client_id = options_.client_id;
  token_request.form = {{"grant_type", "client_credentials"}};
  if (!options_.scope.empty()) token_request.form.emplace_back("scope", options_.scope);
  LG_RETURN_IF_ERROR(authenticator_->Authenticate(token_request));

  http::ClientRequest request;
  request.method = http::Method::kPost;
  request.url = token_request.token_url;
  request.headers = std::move(token_request.headers);
  request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  request.headers.push_back({"Accept", "application/json"});
  request.body = EncodeForm(token_request.form);
  request.timeout = options_.timeout;
  request.max_response_bytes = kMaxTokenResponseBytes;
  Result<http::ClientResponse> response = http_.Send(std::move(request));
  if (!response.ok()) {
    return response.status().WithPrefix("token request failed: cannot reach " +
                                        token_request.token_url);
  }
  if (response->status != 200) return TokenError(*response, token_request.token_url);
  const json doc = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string()) {
    return Status(StatusCode::kInternal, ApiFailure::kMalformedResponse,
                  "token request failed: the response has no access_token");
  }
  AccessToken token;
  token.value = SecretString(doc["access_token"].get<std::string>());
  if (std::optional<int64_t> exp = UnverifiedExpiry(token.value.Reveal())) {
    token.expires_at = *exp;
  } else if (doc.contains("expires_in") && doc["expires_in"].is_number_integer()) {
    token.expires_at = clock_.NowSeconds() + doc["expires_in"].get<int64_t>();
  }
  if (token.expires_at > 0) cache_.Store(Key(), token.value.Reveal(), token.expires_at);
  return token;
}

}  // namespace lakegate::client
