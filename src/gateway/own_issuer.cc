#include "gateway/own_issuer.h"

#include "common/log.h"
#include "crypto/keys.h"

namespace lakegate::gateway {

namespace {

// Our own access tokens: RFC 9068 JWTs of our issuer, for a client.
jose::VerifyOptions OwnRules(const std::string& issuer, const GatewayOptions& options) {
  jose::VerifyOptions verify;
  verify.issuer = issuer;
  verify.token_use = "access";
  verify.require_at_jwt_typ = true;
  verify.require_client_id = true;
  verify.leeway_seconds = options.leeway_seconds;
  verify.max_token_bytes = options.max_token_bytes;
  return verify;
}

}  // namespace

OwnIssuer::OwnIssuer(std::string issuer, const GatewayOptions& options, store::StateCache& state,
                     const Clock& clock, std::chrono::milliseconds refresh_interval)
    : issuer_(std::move(issuer)),
      verify_(OwnRules(issuer_, options)),
      state_(state),
      clock_(clock),
      refresh_interval_ms_(refresh_interval.count()),
      view_(std::make_shared<const View>(View{std::make_shared<const store::StateSnapshot>(),
                                              std::make_shared<const jose::KeySet>()})) {
  state_.Subscribe([this](const std::shared_ptr<const store::StateSnapshot>& s) { Rebuild(s); });
}

void OwnIssuer::Rebuild(const std::shared_ptr<const store::StateSnapshot>& state) {
  const int64_t now = clock_.NowSeconds();
  std::vector<jose::Jwk> keys;
  for (const store::SigningKeyRecord& record : state->signing_keys) {
    if (!store::IsPublished(record, now)) continue;
    std::optional<crypto::Algorithm> algorithm = crypto::ParseAlgorithm(record.algorithm);
    Result<crypto::PrivateKey> key =
        algorithm ? crypto::PrivateKey::FromPem(*algorithm, record.private_pem.Reveal())
                  : Result<crypto::PrivateKey>(InternalError("unknown algorithm"));
    if (!key.ok()) {
      // The authorization server reports it too; tokens of that key fail.
      log::Error("signing key " + record.kid +
                 " cannot be used to verify tokens: " + key.status().message());
      continue;
    }
    keys.push_back(jose::Jwk{record.kid, key->Public(), "sig"});
  }
  std::atomic_store(&view_, std::shared_ptr<const View>(std::make_shared<const View>(View{
                                state, std::make_shared<const jose::KeySet>(std::move(keys))})));
}

Result<std::shared_ptr<const jose::KeySet>> OwnIssuer::KeysFor(std::string_view kid) {
  std::shared_ptr<const View> current = view();
  if (current->keys->Find(kid) != nullptr) return current->keys;
  // A key rotated by another process: refresh once, rate limited, so tokens
  // with made-up kids cannot make us read the store on every request.
  const int64_t now = clock_.NowMillis();
  int64_t last = last_forced_refresh_ms_.load();
  if (now - last >= refresh_interval_ms_ &&
      last_forced_refresh_ms_.compare_exchange_strong(last, now)) {
    if (Status s = state_.Refresh(); !s.ok()) {
      log::Warn("state refresh for an unknown key id failed: " + s.ToString());
    }
    current = view();
  }
  return current->keys;
}

Status OwnIssuer::CheckStanding(const Identity& identity, std::string* renamed) const {
  std::shared_ptr<const View> current = view();
  const store::StateSnapshot& state = *current->state;
  if (state.IsRevoked(identity.jti)) {
    return jose::TokenError(jose::TokenFailure::kRevoked, "token revoked");
  }
  const store::ClientRecord* client = state.FindClient(identity.client_id);
  // Disabling or deleting a client cuts off its live tokens too.
  if (client == nullptr) {
    return jose::TokenError(jose::TokenFailure::kClientUnknown, "client no longer exists");
  }
  if (!client->enabled) {
    return jose::TokenError(jose::TokenFailure::kClientDisabled, "client disabled");
  }
  if (client->name != identity.client_name) *renamed = client->name;
  return Status::Ok();
}

}  // namespace lakegate::gateway
