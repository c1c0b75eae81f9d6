#include "gateway/bearer_authenticator.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/base64url.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "gateway/certificate_binding.h"
#include "jose/token_failure.h"

namespace lakegate::gateway {
namespace {

using jose::TokenError;
using jose::TokenFailure;

bool IsB64TokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

std::vector<std::string> SplitScopes(std::string_view scope) {
  std::vector<std::string> out;
  for (std::string_view s : SplitNonEmpty(scope, ' ')) out.emplace_back(s);
  return out;
}

// The unverified "iss" of a compact JWS, used only to choose which keys and
// rules verify it. Nothing else in the payload is trusted before Verify().
Result<std::string> PeekIssuer(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return TokenError(TokenFailure::kMalformed, "malformed token");
  }
  std::optional<std::string> payload = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload) return TokenError(TokenFailure::kMalformed, "malformed token");
  nlohmann::json doc = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return TokenError(TokenFailure::kMalformed, "malformed token");
  auto it = doc.find("iss");
  if (it == doc.end() || !it->is_string()) {
    return TokenError(TokenFailure::kInvalidClaim, "missing claim: iss");
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::string_view> ExtractBearerToken(std::string_view authorization) {
  LG_ASSIGN_OR_RETURN(PresentedToken presented, ExtractAccessToken(authorization));
  // DPoP is "no bearer credentials" here, like any other scheme.
  if (presented.dpop) return TokenError(TokenFailure::kMissing, "no bearer credentials");
  return presented.token;
}

Result<PresentedToken> ExtractAccessToken(std::string_view authorization) {
  authorization = TrimWhitespace(authorization);
  if (authorization.empty()) return TokenError(TokenFailure::kMissing, "no bearer credentials");
  size_t space = authorization.find_first_of(" \t");
  std::string_view scheme = authorization.substr(0, space);
  const bool dpop = EqualsIgnoreCase(scheme, oauth::kDpopScheme);
  if (!dpop && !EqualsIgnoreCase(scheme, "Bearer")) {
    // Another scheme (Basic, ...) is "no bearer credentials" (RFC 6750 §3.1).
    return TokenError(TokenFailure::kMissing, "no bearer credentials");
  }
  if (space == std::string_view::npos) {
    return TokenError(TokenFailure::kMalformed, "malformed bearer credentials");
  }
  std::string_view token = TrimWhitespace(authorization.substr(space + 1));
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  size_t i = 0;
  while (i < token.size() && IsB64TokenChar(token[i])) ++i;
  if (i == 0) return TokenError(TokenFailure::kMalformed, "malformed bearer credentials");
  while (i < token.size() && token[i] == '=') ++i;
  if (i != token.size())
    return TokenError(TokenFailure::kMalformed, "malformed bearer credentials");
  return PresentedToken{.token = token, .dpop = dpop};
}

BearerAuthenticator::BearerAuthenticator(const GatewayOptions& options,
                                         std::vector<std::unique_ptr<TokenIssuer>> issuers,
                                         const Clock& clock, const oauth::DpopVerifier* dpop)
    : options_(options), issuers_(std::move(issuers)), clock_(clock), dpop_(dpop) {}

BearerAuthenticator::~BearerAuthenticator() = default;

uint64_t BearerAuthenticator::signature_verifications() const {
  return signature_verifications_.load();
}

size_t BearerAuthenticator::cached_tokens() const {
  MutexLock lock(cache_mutex_);
  return index_.size();
}

TokenIssuer* BearerAuthenticator::FindIssuer(std::string_view iss) const {
  for (const auto& issuer : issuers_) {
    if (issuer->issuer() == iss) return issuer.get();
  }
  return nullptr;
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::Authenticate(
    const http::Request& request) {
  if (request.CountHeader("authorization") > 1) {
    return TokenError(TokenFailure::kMalformed, "more than one Authorization header");
  }
  LG_ASSIGN_OR_RETURN(PresentedToken presented,
                      ExtractAccessToken(request.GetHeader("authorization")));
  LG_ASSIGN_OR_RETURN(std::shared_ptr<const Identity> identity, AuthenticateToken(presented.token));
  // Both checked on every request, cached token or not: the bindings are to
  // a key proven per request and to the connection, not to the token.
  LG_RETURN_IF_ERROR(CheckBinding(*identity, presented, request));
  LG_RETURN_IF_ERROR(CheckCertificateBinding(*identity, request));
  return identity;
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::Authenticate(
    std::string_view authorization) {
  LG_ASSIGN_OR_RETURN(std::string_view token, ExtractBearerToken(authorization));
  LG_ASSIGN_OR_RETURN(std::shared_ptr<const Identity> identity, AuthenticateToken(token));
  if (!identity->cnf_jkt.empty()) {
    return oauth::DpopError(oauth::DpopFailure::kBoundTokenAsBearer,
                            "this access token is bound to a DPoP key; send it as "
                            "Authorization: DPoP with a DPoP proof");
  }
  return identity;
}

Status BearerAuthenticator::CheckBinding(const Identity& identity, const PresentedToken& presented,
                                         const http::Request& request) const {
  using oauth::DpopError;
  using oauth::DpopFailure;
  if (!presented.dpop) {
    // RFC 9449 §7.2: a bound token is no bearer token.
    if (identity.cnf_jkt.empty()) return Status::Ok();
    return DpopError(DpopFailure::kBoundTokenAsBearer,
                     "this access token is bound to a DPoP key; send it as Authorization: DPoP "
                     "with a DPoP proof");
  }
  if (identity.cnf_jkt.empty()) {
    return DpopError(DpopFailure::kNotBound,
                     "this access token is not DPoP-bound; send it as Authorization: Bearer");
  }
  if (dpop_ == nullptr) {
    return DpopError(DpopFailure::kNotBound, "this server does not accept DPoP-bound tokens");
  }
  Result<std::string> verified = dpop_->Verify({.method = request.method_text,
                                                .path = request.path,
                                                .proof_headers = request.CountHeader("dpop"),
                                                .proof = request.GetHeader("dpop"),
                                                .access_token = presented.token},
                                               identity.cnf_jkt);
  return verified.status();
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::AuthenticateToken(
    std::string_view token) {
  if (token.size() > options_.max_token_bytes) {
    return TokenError(TokenFailure::kTooLarge, "token too large");
  }
  std::string key = crypto::Sha256(token);
  std::shared_ptr<const Identity> cached;
  const TokenIssuer* cached_issuer = nullptr;
  if (CacheLookup(key, cached, cached_issuer))
    return Recheck(key, std::move(cached), *cached_issuer);

  LG_ASSIGN_OR_RETURN(std::string iss, PeekIssuer(token));
  TokenIssuer* issuer = FindIssuer(iss);
  if (issuer == nullptr) return TokenError(TokenFailure::kUnknownIssuer, "unknown issuer");
  return Verify(*issuer, token, std::move(key));
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::Verify(TokenIssuer& issuer,
                                                                    std::string_view token,
                                                                    std::string key) {
  LG_ASSIGN_OR_RETURN(std::string kid, jose::PeekKid(token, options_.max_token_bytes));
  LG_ASSIGN_OR_RETURN(std::shared_ptr<const jose::KeySet> keys, issuer.KeysFor(kid));
  signature_verifications_.fetch_add(1);
  LG_ASSIGN_OR_RETURN(jose::VerifiedToken verified,
                      jose::Verify(token, *keys, issuer.verify_options(), clock_.NowSeconds()));
  const jose::AccessTokenClaims& claims = verified.claims;
  auto identity = std::make_shared<Identity>();
  identity->issuer = claims.iss;
  identity->client_id = claims.client_id.empty() ? claims.sub : claims.client_id;
  identity->scopes = SplitScopes(claims.scope);
  identity->jti = claims.jti;
  identity->expires_at = claims.exp;
  identity->own = issuer.own();
  identity->cnf_x5t_s256 = claims.cnf_x5t_s256;
  identity->cnf_jkt = claims.cnf_jkt;
  if (identity->client_id.empty()) {
    return TokenError(TokenFailure::kMissingClientId, "missing client_id");
  }
  LG_RETURN_IF_ERROR(issuer.CheckStanding(*identity, &identity->client_name));
  std::shared_ptr<const Identity> result = std::move(identity);
  CacheInsert(CacheEntry{std::move(key), result, &issuer, 0});
  return result;
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::Recheck(
    const std::string& key, std::shared_ptr<const Identity> identity, const TokenIssuer& issuer) {
  std::string renamed;
  Status standing = issuer.CheckStanding(*identity, &renamed);
  if (!standing.ok()) {
    CacheErase(key);
    return standing;
  }
  if (renamed.empty()) return identity;
  // The client was renamed: name rules and audit lines follow at once.
  auto copy = std::make_shared<Identity>(*identity);
  copy->client_name = std::move(renamed);
  std::shared_ptr<const Identity> result = std::move(copy);
  CacheInsert(CacheEntry{key, result, &issuer, 0});
  return result;
}

bool BearerAuthenticator::CacheLookup(const std::string& key,
                                      std::shared_ptr<const Identity>& identity,
                                      const TokenIssuer*& issuer) {
  const int64_t now = clock_.NowMillis();
  MutexLock lock(cache_mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  if (now >= it->second->valid_until_ms) {
    lru_.erase(it->second);
    index_.erase(it);
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  identity = it->second->identity;
  issuer = it->second->issuer;
  return true;
}

void BearerAuthenticator::CacheInsert(CacheEntry entry) {
  if (options_.token_cache_entries == 0) return;
  const int64_t now = clock_.NowMillis();
  entry.valid_until_ms =
      std::min(entry.identity->expires_at * 1000, now + options_.token_cache_ttl.count() * 1000);
  if (entry.valid_until_ms <= now) return;
  MutexLock lock(cache_mutex_);
  auto it = index_.find(entry.key);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(std::move(entry));
  index_.emplace(lru_.front().key, lru_.begin());
  while (index_.size() > options_.token_cache_entries) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void BearerAuthenticator::CacheErase(const std::string& key) {
  MutexLock lock(cache_mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

}  // namespace lakegate::gateway
