#include "oauth/key_manager.h"

#include "common/log.h"

namespace lakegate::oauth {
namespace {

// The longest token lifetime a client may have (1 day): a key retired at
// start-up stays published at least that long.
constexpr int64_t kMaxTokenTtlSeconds = 86400;

Result<store::SigningKeyRecord> NewKeyRecord(crypto::Algorithm algorithm, int64_t now) {
  LG_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(algorithm));
  store::SigningKeyRecord record;
  record.kid = jose::Thumbprint(key.Public());
  record.algorithm = std::string(crypto::AlgorithmName(algorithm));
  record.private_pem = key.ToPem();
  record.created_at = now;
  return record;
}

// The newest key that is not retired, or nullptr.
const store::SigningKeyRecord* CurrentKey(const std::vector<store::SigningKeyRecord>& keys) {
  const store::SigningKeyRecord* current = nullptr;
  for (const auto& r : keys) {
    if (r.retired_at == 0 && (!current || r.created_at > current->created_at)) current = &r;
  }
  return current;
}

// Inside a transaction: retires the current key (published for the longest
// token lifetime plus leeway) and makes `fresh` current.
Status RotateTo(store::Store& tx, const store::SigningKeyRecord& fresh, int64_t now,
                int64_t max_token_ttl_seconds) {
  LG_ASSIGN_OR_RETURN(auto keys, tx.ListSigningKeys());
  for (auto& key : keys) {
    if (key.retired_at != 0) continue;
    key.retired_at = now;
    key.publish_until = now + max_token_ttl_seconds + kKeyPublishLeewaySeconds;
    LG_RETURN_IF_ERROR(tx.UpdateSigningKey(key));
  }
  return tx.InsertSigningKey(fresh);
}

}  // namespace

KeyManager::KeyManager(const Clock& clock)
    : clock_(clock), snapshot_(std::make_shared<const KeySnapshot>()) {}

Result<std::string> KeyManager::Rotate(store::Store& store, const Clock& clock,
                                       crypto::Algorithm algorithm, int64_t max_token_ttl_seconds) {
  const int64_t now = clock.NowSeconds();
  LG_ASSIGN_OR_RETURN(store::SigningKeyRecord fresh, NewKeyRecord(algorithm, now));
  LG_RETURN_IF_ERROR(store.RunInTransaction(
      [&](store::Store& tx) { return RotateTo(tx, fresh, now, max_token_ttl_seconds); }));
  return fresh.kid;
}

Status KeyManager::Maintain(store::Store& store, const Clock& clock, crypto::Algorithm algorithm,
                            bool enforce_algorithm) {
  // One transaction decides and rotates, so nodes starting together on one
  // store make one first key, not one each.
  std::string rotated_from;
  bool rotated = false;
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    rotated = false;
    const int64_t now = clock.NowSeconds();
    LG_ASSIGN_OR_RETURN(auto records, tx.ListSigningKeys());
    const store::SigningKeyRecord* current = CurrentKey(records);
    for (const auto& r : records) {
      // Every token this key signed has expired: it leaves the JWKS for good.
      if (&r != current && !store::IsPublished(r, now)) {
        LG_RETURN_IF_ERROR(tx.DeleteSigningKey(r.kid));
      }
    }
    if (current && !(enforce_algorithm && current->algorithm != crypto::AlgorithmName(algorithm))) {
      return Status::Ok();
    }
    // First start, or the configured algorithm changed: rotate so that tokens
    // already issued stay verifiable until they expire.
    rotated_from = current ? current->algorithm : "";
    LG_ASSIGN_OR_RETURN(store::SigningKeyRecord fresh, NewKeyRecord(algorithm, now));
    LG_RETURN_IF_ERROR(RotateTo(tx, fresh, now, kMaxTokenTtlSeconds));
    rotated = true;
    return Status::Ok();
  }));
  if (rotated) {
    std::string alg(crypto::AlgorithmName(algorithm));
    log::Info(rotated_from.empty() ? "new signing key (" + alg + ")"
                                   : "signing algorithm changed from " + rotated_from + " to " +
                                         alg + "; rotated the signing key");
  }
  return Status::Ok();
}

Status KeyManager::Rebuild(const store::StateSnapshot& state) {
  const int64_t now = clock_.NowSeconds();
  const store::SigningKeyRecord* current = CurrentKey(state.signing_keys);
  auto snapshot = std::make_shared<KeySnapshot>();
  std::vector<jose::Jwk> published;
  for (const auto& r : state.signing_keys) {
    if (&r != current && !store::IsPublished(r, now)) continue;
    auto alg = crypto::ParseAlgorithm(r.algorithm);
    if (!alg) return InternalError("stored signing key " + r.kid + " has unknown algorithm");
    auto key = crypto::PrivateKey::FromPem(*alg, r.private_pem.Reveal());
    if (!key.ok()) return InternalError("stored signing key " + r.kid + " cannot be parsed");
    published.push_back(jose::Jwk{r.kid, key->Public(), "sig"});
    if (&r == current) snapshot->signer = std::make_shared<jose::Signer>(r.kid, *key);
  }
  snapshot->jwks_json = jose::JwksToJson(published);
  snapshot->verification_keys = jose::KeySet(std::move(published));
  std::atomic_store(&snapshot_, std::shared_ptr<const KeySnapshot>(std::move(snapshot)));
  return Status::Ok();
}

}  // namespace lakegate::oauth
