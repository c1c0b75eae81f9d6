// TrinoLink: what a lakegate node does for the Trino cluster it governs, when
// its engine URL is trino://HOST:PORT[?catalog=NAME&dir=DIR]
// (docs/trino.md):
//
//   - it is the cluster's policy decision point (trino::OpaDecider), behind the
//     routes POST /trino/opa/{allow,batch,row-filters,column-masks}, which
//     answer only a request that carries the cluster's shared key
//     (`?key=`, DIR/opa-secret, written by scripts/trino.sh start);
//   - it keeps DIR/jwt-keys/<kid>.pem in step with its published signing
//     keys, so Trino verifies lakegate's access tokens (JWT authentication);
//   - it mints the short tokens the Trino engine runs statements with
//     (EngineSettings::bearer_token).
//
// A Trino user is a client id; its role comes from the same client and scope
// rules as the query API, with the scopes the client is registered for (Trino
// does not pass on a token's scopes): a client whose token was narrowed to a
// read scope keeps its registered class on Trino. A disabled or deleted
// client is denied at once; a single revoked token is not (Trino knows only
// the token's signature and expiry: keep token lifetimes short).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "audit/metrics.h"
#include "common/secret_string.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "gateway/gateway_options.h"
#include "gateway/role_resolver.h"
#include "jose/jws.h"
#include "store/state_cache.h"
#include "store/store.h"
#include "trino/opa_decider.h"

namespace lakegate::app {

// True for an engine URL of the trino scheme.
bool IsTrinoEngineUrl(std::string_view url);

// The token source of a Trino engine opened outside a server (`lakegate
// load`): tokens for the load principal (engine::kTrinoLoadPrincipal) only,
// signed with the current signing key of `store`, whose public half the
// serving lakegate node has written for Trino (DIR/jwt-keys). `issuer` goes
// into `iss`. FailedPrecondition when the store holds no usable signing key
// (no node has started on it yet).
Result<std::function<Result<SecretString>(std::string_view principal)>> TrinoLoadTokenSource(
    store::Store& store, std::string issuer);

class TrinoLink {
 public:
  // `url` is the engine URL; `policy` gives the current policy snapshot;
  // `metrics` (may be null) receives lakegate_trino_decisions_total.
  // FailedPrecondition naming the file when DIR/opa-secret cannot be read
  // (Trino was not started with scripts/trino.sh for DIR).
  static Result<std::unique_ptr<TrinoLink>> Open(std::string_view url, std::string issuer,
                                                 const gateway::GatewayOptions& options,
                                                 trino::OpaDecider::PolicyFn policy,
                                                 SecretString mask_hash_key,
                                                 audit::Metrics* metrics);

  // A new state snapshot: keys written for Trino, the signer and the client
  // directory replaced (call from StateCache::Subscribe).
  void OnState(const std::shared_ptr<const store::StateSnapshot>& state) EXCLUDES(mu_);

  // An access token for `principal` (the Trino engine's), valid 5 minutes.
  Result<SecretString> Mint(std::string_view principal) const EXCLUDES(mu_);

  // Whether the raw query string of a decision request carries the key.
  bool Authorized(std::string_view query) const;

  trino::OpaDecider& decider() { return *decider_; }

 private:
  TrinoLink(std::string dir, std::string issuer, const gateway::GatewayOptions& options,
            SecretString key);
  Result<trino::TrinoPrincipal> Resolve(std::string_view user) const EXCLUDES(mu_);
  void WriteKeys(const store::StateSnapshot& state);

  const std::string dir_;
  const std::string issuer_;
  const gateway::RoleResolver resolver_;
  const SecretString key_;
  std::unique_ptr<trino::OpaDecider> decider_;

  mutable Mutex mu_;
  std::shared_ptr<const store::StateSnapshot> state_ GUARDED_BY(mu_);
  std::shared_ptr<const jose::Signer> signer_ GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
};

}  // namespace lakegate::app
