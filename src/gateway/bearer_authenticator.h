// BearerAuthenticator: validates RFC 6750 Bearer access tokens for the query
// API, both our own (through an injected verifier, normally
// AuthorizationServer::VerifyOwnToken) and those of configured external
// issuers (verified with jose::Verify against the issuer's JWKS, fetched over
// HTTP(S) and cached).
//
// Every failure is kUnauthenticated. The message is the detailed reason (for
// the log); BearerChallenge() turns it into the WWW-Authenticate value the
// client sees, which says only "expired" or "invalid".
//
// Verified tokens are cached (bounded LRU keyed by the SHA-256 of the token)
// until min(exp, now + token_cache_ttl), so repeated requests with one token
// cost no signature verification. Own tokens in the cache are re-verified
// through the verifier once their entry is older than own_token_recheck (so a
// revocation or a disabled client takes effect within that time), and checked
// with `is_revoked` on every hit when one is given.
//
// Thread-safe. Authenticate() may block on a JWKS fetch: call it on a worker
// thread. Concurrent refreshes for one issuer coalesce into one fetch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/message.h"
#include "gateway/gateway_options.h"
#include "gateway/jwks_fetcher.h"
#include "jose/jwk.h"
#include "oauth/authorization_server.h"

namespace lakegate::gateway {

// Who the caller is, once the token checked out. Immutable, shared.
struct Identity {
  std::string issuer;
  std::string client_id;
  std::string client_name;          // our own clients only, else ""
  std::vector<std::string> scopes;  // from the space-separated "scope" claim
  std::string jti;
  int64_t expires_at = 0;           // exp, Unix seconds
  bool own = false;                 // issued by this server

  bool HasScope(std::string_view scope) const;
};

// Message of the error for a request without Bearer credentials.
inline constexpr std::string_view kNoBearerCredentials = "no bearer credentials";

// The WWW-Authenticate value for a kUnauthenticated status from Authenticate():
// `Bearer realm="lakegate"` when no credentials were sent (RFC 6750 §3.1),
// else with error="invalid_token" and a short error_description.
std::string BearerChallenge(const Status& status);

// The token of an `Authorization: Bearer <token>` header value. Unauthenticated
// kNoBearerCredentials when `authorization` is empty or uses another scheme,
// "malformed bearer credentials" when the token is empty or not a b64token.
Result<std::string_view> ExtractBearerToken(std::string_view authorization);

class BearerAuthenticator {
 public:
  // Verifies one of our own tokens; kUnauthenticated on failure.
  using OwnTokenVerifier = std::function<Result<oauth::TokenIdentity>(std::string_view token)>;
  // True when our own token `jti` is revoked (cheap; optional).
  using RevocationCheck = std::function<bool(std::string_view jti)>;

  // `own_issuer` is our "iss" value; an empty one (or a null verifier) means
  // only external issuers are accepted. `fetcher` and `clock` must outlive
  // this object.
  BearerAuthenticator(const GatewayOptions& options, std::string own_issuer,
                      OwnTokenVerifier own_verifier, RevocationCheck is_revoked,
                      JwksFetcher& fetcher, const Clock& clock);
  ~BearerAuthenticator();
  BearerAuthenticator(const BearerAuthenticator&) = delete;
  BearerAuthenticator& operator=(const BearerAuthenticator&) = delete;

  // Authenticates the value of the Authorization header ("" when absent).
  // Returns Unauthenticated with the detailed reason on any failure:
  // kNoBearerCredentials, "malformed bearer credentials", "token too large",
  // "malformed token", "unknown issuer", "issuer keys unavailable: ...", or a
  // jose::Verify / own-verifier message.
  Result<std::shared_ptr<const Identity>> Authenticate(std::string_view authorization);
  // The same for a whole request: more than one Authorization header is
  // refused (which one would we trust?).
  Result<std::shared_ptr<const Identity>> Authenticate(const http::Request& request);

  // Test and metrics hooks.
  uint64_t jwks_fetches() const;
  uint64_t signature_verifications() const;
  size_t cached_tokens() const;

 private:
  struct Issuer;
  struct CacheEntry {
    std::string key;  // SHA-256 of the token
    std::shared_ptr<const Identity> identity;
    int64_t valid_until_ms = 0;
    int64_t checked_at_ms = 0;
  };

  Result<std::shared_ptr<const Identity>> VerifyOwn(std::string_view token);
  Result<std::shared_ptr<const Identity>> VerifyExternal(Issuer& issuer, std::string_view token);
  // The issuer's keys, fetching them when missing, stale, or (rate limited)
  // when `kid` is unknown. May return stale keys when a refresh fails.
  Result<std::shared_ptr<const jose::KeySet>> KeysFor(Issuer& issuer, std::string_view kid);

  std::shared_ptr<const Identity> CacheLookup(const std::string& key, bool& needs_recheck);
  void CacheInsert(const std::string& key, std::shared_ptr<const Identity> identity);
  void CacheErase(const std::string& key);

  const GatewayOptions options_;
  const std::string own_issuer_;
  const OwnTokenVerifier own_verifier_;
  const RevocationCheck is_revoked_;
  JwksFetcher& fetcher_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Issuer>> issuers_;  // immutable after construction

  mutable std::mutex cache_mutex_;
  std::list<CacheEntry> lru_;  // GUARDED_BY(cache_mutex_); front = most recent
  std::unordered_map<std::string, std::list<CacheEntry>::iterator> index_;  // GUARDED_BY(cache_mutex_)

  std::atomic<uint64_t> jwks_fetches_{0};
  std::atomic<uint64_t> signature_verifications_{0};
};

}  // namespace lakegate::gateway
