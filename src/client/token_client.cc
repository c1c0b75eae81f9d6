#include "client/token_client.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "client/api_failure.h"
#include "common/base64url.h"
#include "common/strings.h"
#include "jose/jwk.h"
#include "jose/jwt.h"

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
  std::string dpop;
  if (options_.dpop) {
    dpop = options_.dpop_key ? jose::Thumbprint(options_.dpop_key->Public()) : "ephemeral";
  }
  return TokenKey{options_.endpoint, options_.client_id, options_.scope, options_.certificate,
                  std::move(dpop)};
}

Result<std::string> DpopProofFor(const AccessToken& token, std::string_view method,
                                 std::string_view url, std::string_view nonce, const Clock& clock) {
  if (!token.dpop_key) return InvalidArgumentError("a bearer token needs no DPoP proof");
  return jose::MakeDpopProof(*token.dpop_key, method, url, token.value.Reveal(), nonce,
                             clock.NowSeconds());
}

Result<AccessToken> TokenClient::Get() const {
  if (std::optional<CachedToken> cached = cache_.Find(Key())) {
    AccessToken token{std::move(cached->access_token), cached->expires_at, true, nullptr};
    if (options_.dpop) {
      if (options_.dpop_key) {
        token.dpop_key = options_.dpop_key;
      } else {
        Result<crypto::PrivateKey> key =
            crypto::PrivateKey::FromPem(crypto::Algorithm::kES256, cached->dpop_key_pem.Reveal());
        // A cached bound token without its key is of no use: get a new one.
        if (!key.ok()) return Refresh();
        token.dpop_key = std::make_shared<const crypto::PrivateKey>(std::move(*key));
      }
    }
    return token;
  }
  return Request();
}

Result<AccessToken> TokenClient::Refresh() const {
  cache_.Drop(Key());
  return Request();
}

Result<http::ClientResponse> TokenClient::Send(const crypto::PrivateKey* dpop_key,
                                               std::string_view nonce) const {
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
  if (dpop_key != nullptr) {
    LG_ASSIGN_OR_RETURN(std::string proof,
                        jose::MakeDpopProof(*dpop_key, "POST", token_request.token_url, "", nonce,
                                            clock_.NowSeconds()));
    request.headers.push_back({"DPoP", std::move(proof)});
  }
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
  return response;
}

Result<AccessToken> TokenClient::Request() const {
  if (authenticator_ == nullptr) {
    return Status(StatusCode::kInvalidArgument, ApiFailure::kNoCredentials,
                  "no client credentials to request a token with");
  }
  std::shared_ptr<const crypto::PrivateKey> dpop_key;
  if (options_.dpop) {
    dpop_key = options_.dpop_key;
    if (!dpop_key) {
      LG_ASSIGN_OR_RETURN(crypto::PrivateKey fresh,
                          crypto::PrivateKey::Generate(crypto::Algorithm::kES256));
      dpop_key = std::make_shared<const crypto::PrivateKey>(std::move(fresh));
    }
  }
  const std::string token_url = options_.endpoint + "/oauth2/token";
  LG_ASSIGN_OR_RETURN(http::ClientResponse response, Send(dpop_key.get(), ""));
  // RFC 9449 §8: the server wants a nonce of its own in the proof; once.
  if (dpop_key && response.status == 400 && !response.GetHeader("dpop-nonce").empty() &&
      response.body.find("use_dpop_nonce") != std::string::npos) {
    const std::string nonce(response.GetHeader("dpop-nonce"));
    LG_ASSIGN_OR_RETURN(response, Send(dpop_key.get(), nonce));
  }
  if (response.status != 200) return TokenError(response, token_url);
  const json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
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
  if (dpop_key) {
    // RFC 9449 §5: a server that ignored the proof answers token_type Bearer.
    if (!doc.contains("token_type") || !doc["token_type"].is_string() ||
        !EqualsIgnoreCase(doc["token_type"].get<std::string>(), "DPoP")) {
      return Status(StatusCode::kInternal, ApiFailure::kMalformedResponse,
                    "token request failed: a DPoP proof was sent but the server issued a bearer "
                    "token; it does not support DPoP");
    }
    token.dpop_key = dpop_key;
  }
  if (token.expires_at > 0) {
    SecretString key_pem;
    if (dpop_key && !options_.dpop_key) key_pem = dpop_key->ToPem();
    cache_.Store(Key(), token.value.Reveal(), token.expires_at, key_pem.Reveal());
  }
  return token;
}

}  // namespace lakegate::client
