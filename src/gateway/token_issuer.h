// TokenIssuer: one issuer whose access tokens the gateway accepts, and where
// its keys and standing come from. Every issuer is verified the same way
// (BearerAuthenticator): the issuer is chosen by the token's "iss", its keys
// by the header's "kid", jose::Verify checks signature and claims with the
// issuer's rules, and the issuer's standing check has the last word.
//
//   RemoteIssuer  a trusted external issuer (Cognito, Keycloak, another
//                 lakegate): keys from its JWKS URI, fetched and cached.
//   OwnIssuer     this deployment's own tokens (own_issuer.h): keys,
//                 revocations and client status from the state snapshot.
//
// Implementations are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "gateway/gateway_options.h"
#include "gateway/jwks_fetcher.h"
#include "jose/jwk.h"
#include "jose/jws.h"

namespace lakegate::gateway {

// Who the caller is, once the token checked out. Immutable, shared.
struct Identity {
  std::string issuer;
  std::string client_id;
  std::string client_name;          // our own clients only, else ""
  std::vector<std::string> scopes;  // from the space-separated "scope" claim
  std::string jti;
  int64_t expires_at = 0;  // exp, Unix seconds
  bool own = false;        // issued by this deployment
  // RFC 8705 §3: the base64url SHA-256 thumbprint of the TLS client
  // certificate the token is bound to ("cnf" "x5t#S256"); "" = not bound.
  std::string cnf_x5t_s256 = {};
  // RFC 9449 §6.1 cnf.jkt: the thumbprint of the DPoP key the token is bound
  // to; "" for a bearer token.
  std::string cnf_jkt = {};

  bool HasScope(std::string_view scope) const;
};

class TokenIssuer {
 public:
  virtual ~TokenIssuer() = default;

  // The exact "iss" value this issuer's tokens carry.
  virtual const std::string& issuer() const = 0;
  // The claim rules of this issuer's tokens.
  virtual const jose::VerifyOptions& verify_options() const = 0;
  // The keys to verify a token whose header names `kid`. May block (a JWKS
  // fetch): called on worker threads only. TokenFailure::kKeysUnavailable when
  // there are none; keys without `kid` are fine (Verify says kUnknownKey).
  virtual Result<std::shared_ptr<const jose::KeySet>> KeysFor(std::string_view kid) = 0;
  // The issuer's last word on a verified token, checked again on every use
  // of a cached one (revocation, a disabled client). When the issuer knows its
  // clients and the client's current name differs from identity.client_name,
  // stores it in `*renamed` (left alone otherwise). OK by default.
  virtual Status CheckStanding(const Identity& identity, std::string* renamed) const;
  // True for this deployment's own issuer (its clients have names).
  virtual bool own() const { return false; }
};

// A trusted external issuer. `fetcher` and `clock` must outlive it.
class RemoteIssuer final : public TokenIssuer {
 public:
  RemoteIssuer(const TrustedIssuer& config, const GatewayOptions& options, JwksFetcher& fetcher,
               const Clock& clock);

  const std::string& issuer() const override { return config_.issuer; }
  const jose::VerifyOptions& verify_options() const override { return verify_; }
  // The cached keys while fresh and holding `kid`; else fetches, at most once
  // per refresh_min_interval, with concurrent fetches coalesced into one. A
  // failed refresh keeps the previous keys.
  Result<std::shared_ptr<const jose::KeySet>> KeysFor(std::string_view kid) override EXCLUDES(mu_);

  uint64_t fetches() const { return fetches_.load(); }

 private:
  const TrustedIssuer config_;
  const jose::VerifyOptions verify_;
  JwksFetcher& fetcher_;
  const Clock& clock_;
  std::atomic<uint64_t> fetches_{0};

  Mutex mu_;
  CondVar fetch_done_;
  std::shared_ptr<const jose::KeySet> keys_ GUARDED_BY(mu_);  // null until the first fetch
  int64_t fresh_until_ms_ GUARDED_BY(mu_) = 0;
  bool attempted_ GUARDED_BY(mu_) = false;
  int64_t last_attempt_ms_ GUARDED_BY(mu_) = 0;
  bool fetching_ GUARDED_BY(mu_) = false;
  std::string last_error_ GUARDED_BY(mu_) = "never fetched";
};

}  // namespace lakegate::gateway
