#include "gateway/bearer_authenticator.h"

#include <algorithm>
#include <condition_variable>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "jose/jws.h"

namespace lakegate::gateway {
namespace {

constexpr int64_t kMinJwksTtlSeconds = 60;
constexpr int64_t kMaxJwksTtlSeconds = 24 * 3600;
constexpr int64_t kDefaultJwksTtlSeconds = 300;  // no Cache-Control from the issuer

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
    return UnauthenticatedError("malformed token");
  }
  std::optional<std::string> payload = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload) return UnauthenticatedError("malformed token");
  nlohmann::json doc = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return UnauthenticatedError("malformed token");
  auto it = doc.find("iss");
  if (it == doc.end() || !it->is_string()) return UnauthenticatedError("missing claim: iss");
  return it->get<std::string>();
}

}  // namespace

bool Identity::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

std::string BearerChallenge(const Status& status) {
  if (status.message() == kNoBearerCredentials) return "Bearer realm=\"lakegate\"";
  // Only a coarse reason reaches the client; the precise one is logged.
  std::string_view description = status.message() == "token expired"
                                     ? "The access token expired"
                                     : "The access token is invalid";
  return std::string("Bearer realm=\"lakegate\", error=\"invalid_token\", error_description=\"") +
         std::string(description) + "\"";
}

Result<std::string_view> ExtractBearerToken(std::string_view authorization) {
  authorization = TrimWhitespace(authorization);
  if (authorization.empty()) return UnauthenticatedError(std::string(kNoBearerCredentials));
  size_t space = authorization.find_first_of(" \t");
  std::string_view scheme = authorization.substr(0, space);
  if (!EqualsIgnoreCase(scheme, "Bearer")) {
    // Another scheme (Basic, ...) is "no bearer credentials" (RFC 6750 §3.1).
    return UnauthenticatedError(std::string(kNoBearerCredentials));
  }
  if (space == std::string_view::npos) return UnauthenticatedError("malformed bearer credentials");
  std::string_view token = TrimWhitespace(authorization.substr(space + 1));
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  size_t i = 0;
  while (i < token.size() && IsB64TokenChar(token[i])) ++i;
  if (i == 0) return UnauthenticatedError("malformed bearer credentials");
  while (i < token.size() && token[i] == '=') ++i;
  if (i != token.size()) return UnauthenticatedError("malformed bearer credentials");
  return token;
}

struct BearerAuthenticator::Issuer {
  TrustedIssuer config;
  jose::VerifyOptions verify;

  std::mutex mutex;
  std::condition_variable fetch_done;
  std::shared_ptr<const jose::KeySet> keys;  // GUARDED_BY(mutex); null until the first fetch
  int64_t fresh_until_ms = 0;                // GUARDED_BY(mutex)
  bool attempted = false;                    // GUARDED_BY(mutex)
  int64_t last_attempt_ms = 0;               // GUARDED_BY(mutex)
  bool fetching = false;                     // GUARDED_BY(mutex)
  std::string last_error = "never fetched";  // GUARDED_BY(mutex)
};

BearerAuthenticator::BearerAuthenticator(const GatewayOptions& options, std::string own_issuer,
                                         OwnTokenVerifier own_verifier,
                                         RevocationCheck is_revoked, JwksFetcher& fetcher,
                                         const Clock& clock)
    : options_(options),
      own_issuer_(std::move(own_issuer)),
      own_verifier_(std::move(own_verifier)),
      is_revoked_(std::move(is_revoked)),
      fetcher_(fetcher),
      clock_(clock) {
  for (const TrustedIssuer& config : options_.trusted_issuers) {
    auto issuer = std::make_unique<Issuer>();
    issuer->config = config;
    issuer->verify.issuer = config.issuer;
    issuer->verify.audience = config.audience;
    issuer->verify.token_use = config.token_use;
    issuer->verify.require_at_jwt_typ = config.require_at_jwt_typ;
    issuer->verify.require_client_id = config.require_client_id;
    issuer->verify.leeway_seconds = options_.leeway_seconds;
    issuer->verify.max_token_bytes = options_.max_token_bytes;
    issuers_.push_back(std::move(issuer));
  }
}

BearerAuthenticator::~BearerAuthenticator() = default;

uint64_t BearerAuthenticator::jwks_fetches() const { return jwks_fetches_.load(); }
uint64_t BearerAuthenticator::signature_verifications() const {
  return signature_verifications_.load();
}
size_t BearerAuthenticator::cached_tokens() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return index_.size();
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::Authenticate(
    const http::Request& request) {
  if (request.CountHeader("authorization") > 1) {
    return UnauthenticatedError("more than one Authorization header");
  }
  return Authenticate(request.GetHeader("authorization"));
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::Authenticate(
    std::string_view authorization) {
  LG_ASSIGN_OR_RETURN(std::string_view token, ExtractBearerToken(authorization));
  if (token.size() > options_.max_token_bytes) return UnauthenticatedError("token too large");

  std::string key = crypto::Sha256(token);
  bool needs_recheck = false;
  if (std::shared_ptr<const Identity> cached = CacheLookup(key, needs_recheck)) {
    if (cached->own && is_revoked_ && is_revoked_(cached->jti)) {
      CacheErase(key);
      return UnauthenticatedError("token revoked");
    }
    if (!needs_recheck) return cached;
    // An own token whose entry is older than own_token_recheck: verify again
    // so that revocation and disabled clients take effect.
  }

  LG_ASSIGN_OR_RETURN(std::string issuer, PeekIssuer(token));
  Result<std::shared_ptr<const Identity>> result = UnauthenticatedError("unknown issuer");
  if (!own_issuer_.empty() && own_verifier_ && issuer == own_issuer_) {
    result = VerifyOwn(token);
  } else {
    for (auto& candidate : issuers_) {
      if (candidate->config.issuer == issuer) {
        result = VerifyExternal(*candidate, token);
        break;
      }
    }
  }
  if (!result.ok()) {
    CacheErase(key);
    return result;
  }
  CacheInsert(key, *result);
  return result;
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::VerifyOwn(std::string_view token) {
  signature_verifications_.fetch_add(1);
  Result<oauth::TokenIdentity> verified = own_verifier_(token);
  if (!verified.ok()) {
    Status s = verified.status();
    if (s.code() != StatusCode::kUnauthenticated) return UnauthenticatedError(s.message());
    return s;
  }
  const jose::AccessTokenClaims& claims = verified->claims;
  auto identity = std::make_shared<Identity>();
  identity->issuer = claims.iss;
  identity->client_id = claims.client_id.empty() ? claims.sub : claims.client_id;
  identity->client_name = verified->client_name;
  identity->scopes = SplitScopes(claims.scope);
  identity->jti = claims.jti;
  identity->expires_at = claims.exp;
  identity->own = true;
  if (identity->client_id.empty()) return UnauthenticatedError("missing client_id");
  return std::shared_ptr<const Identity>(std::move(identity));
}

Result<std::shared_ptr<const Identity>> BearerAuthenticator::VerifyExternal(
    Issuer& issuer, std::string_view token) {
  LG_ASSIGN_OR_RETURN(std::string kid, jose::PeekKid(token, options_.max_token_bytes));
  LG_ASSIGN_OR_RETURN(std::shared_ptr<const jose::KeySet> keys, KeysFor(issuer, kid));
  signature_verifications_.fetch_add(1);
  LG_ASSIGN_OR_RETURN(jose::VerifiedToken verified,
                      jose::Verify(token, *keys, issuer.verify, clock_.NowSeconds()));
  const jose::AccessTokenClaims& claims = verified.claims;
  auto identity = std::make_shared<Identity>();
  identity->issuer = claims.iss;
  identity->client_id = claims.client_id.empty() ? claims.sub : claims.client_id;
  identity->scopes = SplitScopes(claims.scope);
  identity->jti = claims.jti;
  identity->expires_at = claims.exp;
  identity->own = false;
  if (identity->client_id.empty()) return UnauthenticatedError("missing client_id");
  return std::shared_ptr<const Identity>(std::move(identity));
}

Result<std::shared_ptr<const jose::KeySet>> BearerAuthenticator::KeysFor(Issuer& issuer,
                                                                         std::string_view kid) {
  const int64_t min_interval_ms =
      std::max<int64_t>(0, issuer.config.refresh_min_interval.count()) * 1000;
  std::unique_lock<std::mutex> lock(issuer.mutex);
  while (true) {
    const int64_t now = clock_.NowMillis();
    const bool have = issuer.keys != nullptr;
    const bool fresh = have && now < issuer.fresh_until_ms;
    if (fresh && issuer.keys->Find(kid) != nullptr) return issuer.keys;
    if (issuer.fetching) {
      // Someone else is fetching: wait for that result instead of fetching too.
      issuer.fetch_done.wait(lock, [&] { return !issuer.fetching; });
      continue;
    }
    // Stale keys, or a kid we do not know (a key rollover, or a forged kid):
    // fetch, but at most once per interval per issuer.
    const bool may_fetch = !issuer.attempted || now - issuer.last_attempt_ms >= min_interval_ms;
    if (!may_fetch) {
      if (have) return issuer.keys;  // Verify() reports the unknown kid
      return UnauthenticatedError("issuer keys unavailable: " + issuer.last_error);
    }
    issuer.fetching = true;
    issuer.attempted = true;
    issuer.last_attempt_ms = now;
    lock.unlock();

    jwks_fetches_.fetch_add(1);
    Result<FetchedDocument> doc = fetcher_.Fetch(issuer.config.jwks_uri, jose::kMaxJwksBytes);
    Result<std::vector<jose::Jwk>> parsed =
        doc.ok() ? jose::ParseJwks(doc->body) : Result<std::vector<jose::Jwk>>(doc.status());

    lock.lock();
    issuer.fetching = false;
    if (parsed.ok()) {
      int64_t ttl = doc->max_age_seconds.value_or(kDefaultJwksTtlSeconds);
      ttl = std::clamp(ttl, kMinJwksTtlSeconds, kMaxJwksTtlSeconds);
      issuer.keys = std::make_shared<const jose::KeySet>(std::move(parsed).value());
      issuer.fresh_until_ms = clock_.NowMillis() + ttl * 1000;
      issuer.last_error.clear();
    } else {
      issuer.last_error = parsed.status().message();
      log::Warn("JWKS refresh for issuer " + issuer.config.issuer + " failed: " +
                issuer.last_error + (issuer.keys ? " (keeping the previous keys)" : ""));
    }
    issuer.fetch_done.notify_all();
    // Loop: the new keys are fresh, or the attempt just made forbids another.
  }
}

std::shared_ptr<const Identity> BearerAuthenticator::CacheLookup(const std::string& key,
                                                                 bool& needs_recheck) {
  const int64_t now = clock_.NowMillis();
  std::lock_guard<std::mutex> lock(cache_mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  CacheEntry& entry = *it->second;
  if (now >= entry.valid_until_ms) {
    lru_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  needs_recheck = entry.identity->own && now - entry.checked_at_ms >= options_.own_token_recheck.count();
  return entry.identity;
}

void BearerAuthenticator::CacheInsert(const std::string& key,
                                      std::shared_ptr<const Identity> identity) {
  if (options_.token_cache_entries == 0) return;
  const int64_t now = clock_.NowMillis();
  const int64_t valid_until =
      std::min(identity->expires_at * 1000, now + options_.token_cache_ttl.count() * 1000);
  if (valid_until <= now) return;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(CacheEntry{key, std::move(identity), valid_until, now});
  index_.emplace(key, lru_.begin());
  while (index_.size() > options_.token_cache_entries) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void BearerAuthenticator::CacheErase(const std::string& key) {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

}  // namespace lakegate::gateway
