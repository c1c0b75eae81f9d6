// BearerAuthenticator: validates the access tokens of the gateway, RFC 6750
// Bearer tokens and RFC 9449 DPoP-bound ones. Every issuer, our own included, goes through one
// path: the token's "iss" picks a TokenIssuer, the header's "kid" its keys, jose::Verify checks
// signature and claims with that issuer's rules, and the issuer's standing
// check (revocation, client status) has the last word.
//
// Every failure is kUnauthenticated with a jose::TokenFailure reason; the
// message is the detailed reason, for the log only. The HTTP layer renders the
// reason (error="invalid_token" with "expired" or "invalid", or no error when
// no token was sent).
//
// A token bound to a DPoP key (cnf.jkt) is accepted only as `Authorization:
// DPoP <token>` with a `DPoP` proof header for this request, signed by that
// key and carrying the token's hash (oauth/dpop.h); presented as Bearer it is
// refused (a stolen bound token is useless on its own). A DPoP presentation
// of an unbound token is refused too. These failures have DpopFailure
// reasons, rendered as DPoP challenges.
//
// Verified tokens are cached (bounded LRU keyed by the SHA-256 of the token)
// until min(exp, now + token_cache_ttl), so repeated requests with one token
// cost no signature verification; the issuer's standing is checked on every
// hit, so a revocation or a disabled client takes effect as soon as the
// issuer knows.
//
// Thread-safe. Authenticate() may block on a JWKS fetch or a state refresh:
// call it on a worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "gateway/gateway_options.h"
#include "gateway/token_issuer.h"
#include "http/message.h"
#include "oauth/dpop.h"

namespace lakegate::gateway {

// The token of an `Authorization: Bearer <token>` header value.
// TokenFailure::kMissing when `authorization` is empty or uses another scheme
// (RFC 6750 §3.1: no credentials), kMalformed when the token is empty or not
// a b64token.
Result<std::string_view> ExtractBearerToken(std::string_view authorization);

// The token of an Authorization header value and whether it came with the
// DPoP scheme (RFC 9449 §7.1) rather than Bearer. Fails like
// ExtractBearerToken; any other scheme is kMissing.
struct PresentedToken {
  std::string_view token = {};
  bool dpop = false;
};
Result<PresentedToken> ExtractAccessToken(std::string_view authorization);

class BearerAuthenticator {
 public:
  // `issuers` are distinct by issuer(). `clock` and `dpop` must outlive this
  // object; with a null `dpop`, DPoP presentations are refused.
  BearerAuthenticator(const GatewayOptions& options,
                      std::vector<std::unique_ptr<TokenIssuer>> issuers, const Clock& clock,
                      const oauth::DpopVerifier* dpop = nullptr);
  ~BearerAuthenticator();
  BearerAuthenticator(const BearerAuthenticator&) = delete;
  BearerAuthenticator& operator=(const BearerAuthenticator&) = delete;

  // Authenticates the value of a Bearer Authorization header ("" when
  // absent); a DPoP-bound token fails (DpopFailure::kBoundTokenAsBearer).
  Result<std::shared_ptr<const Identity>> Authenticate(std::string_view authorization);
  // The same for a whole request, Bearer or DPoP: more than one
  // Authorization header is refused (which one would we trust?), a DPoP
  // presentation's proof is checked and its jti recorded (may block), and a
  // certificate-bound token must come with its certificate
  // (gateway/certificate_binding.h).
  Result<std::shared_ptr<const Identity>> Authenticate(const http::Request& request);

  // The DPoP verifier (null when DPoP is not accepted).
  const oauth::DpopVerifier* dpop() const { return dpop_; }

  // Test and metrics hooks.
  uint64_t signature_verifications() const;
  size_t cached_tokens() const;

 private:
  struct CacheEntry {
    std::string key;  // SHA-256 of the token
    std::shared_ptr<const Identity> identity;
    const TokenIssuer* issuer = nullptr;
    int64_t valid_until_ms = 0;
  };
  TokenIssuer* FindIssuer(std::string_view iss) const;
  // The identity of a token, from the cache or verified.
  Result<std::shared_ptr<const Identity>> AuthenticateToken(std::string_view token);
  // RFC 9449 §7: the presentation fits the token's binding.
  Status CheckBinding(const Identity& identity, const PresentedToken& presented,
                      const http::Request& request) const;
  // `key` is the token's cache key.
  Result<std::shared_ptr<const Identity>> Verify(TokenIssuer& issuer, std::string_view token,
                                                 std::string key);
  // A cached identity after its issuer's standing check: the same one, a copy
  // with the client's new name, or the check's failure (the entry is dropped).
  Result<std::shared_ptr<const Identity>> Recheck(const std::string& key,
                                                  std::shared_ptr<const Identity> identity,
                                                  const TokenIssuer& issuer);

  // The cached identity for `key` and its issuer, or false.
  bool CacheLookup(const std::string& key, std::shared_ptr<const Identity>& identity,
                   const TokenIssuer*& issuer) EXCLUDES(cache_mutex_);
  void CacheInsert(CacheEntry entry) EXCLUDES(cache_mutex_);
  void CacheErase(const std::string& key) EXCLUDES(cache_mutex_);

  const GatewayOptions options_;
  const std::vector<std::unique_ptr<TokenIssuer>> issuers_;
  const Clock& clock_;
  const oauth::DpopVerifier* const dpop_;

  mutable Mutex cache_mutex_;
  std::list<CacheEntry> lru_ GUARDED_BY(cache_mutex_);  // front = most recent
  std::unordered_map<std::string, std::list<CacheEntry>::iterator> index_ GUARDED_BY(cache_mutex_);

  std::atomic<uint64_t> signature_verifications_{0};
};

}  // namespace lakegate::gateway
