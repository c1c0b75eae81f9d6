// OwnIssuer: this deployment's own access tokens, verified like any trusted
// issuer's but with keys, revocations and client status taken from the state
// snapshot instead of a JWKS URI, so a query-only process needs no
// authorization server and no HTTP round trip.
//
// A token whose kid the snapshot does not know yet (a key rotated by another
// process a moment ago) makes the issuer refresh the state cache, at most
// once per refresh interval, before giving up. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "gateway/token_issuer.h"
#include "store/state_cache.h"

namespace lakegate::gateway {

class OwnIssuer final : public TokenIssuer {
 public:
  // `state` and `clock` must outlive the issuer, which subscribes to `state`.
  OwnIssuer(std::string issuer, const GatewayOptions& options, store::StateCache& state,
            const Clock& clock,
            std::chrono::milliseconds refresh_interval = std::chrono::seconds(1));

  const std::string& issuer() const override { return issuer_; }
  const jose::VerifyOptions& verify_options() const override { return verify_; }
  Result<std::shared_ptr<const jose::KeySet>> KeysFor(std::string_view kid) override;
  // Revoked tokens, and those of deleted or disabled clients, stop working as
  // soon as the snapshot has the change.
  Status CheckStanding(const Identity& identity, std::string* renamed) const override;
  bool own() const override { return true; }

 private:
  struct View {
    std::shared_ptr<const store::StateSnapshot> state;
    std::shared_ptr<const jose::KeySet> keys;
  };
  void Rebuild(const std::shared_ptr<const store::StateSnapshot>& state);
  std::shared_ptr<const View> view() const { return std::atomic_load(&view_); }

  const std::string issuer_;
  const jose::VerifyOptions verify_;
  store::StateCache& state_;
  const Clock& clock_;
  const int64_t refresh_interval_ms_;
  std::atomic<int64_t> last_forced_refresh_ms_{0};
  std::shared_ptr<const View> view_;  // atomic_load / atomic_store only
};

}  // namespace lakegate::gateway
