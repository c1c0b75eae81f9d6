#include "oauth/key_manager.h"

#include "common/log.h"

namespace lakegate::oauth {
namespace {

Result<store::SigningKeyRecord> NewKeyRecord(crypto::Algorithm algorithm, int64_t now) {
  LG_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(algorithm));
  store::SigningKeyRecord record;
  record.kid = jose::Thumbprint(key.Public());
  record.algorithm = std::string(crypto::AlgorithmName(algorithm));
  record.private_pem = key.ToPem();
  record.created_at = now;
  return record;
}

}  // namespace

KeyManager::KeyManager(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

Result<std::string> KeyManager::Rotate(store::Store& store, const Clock& clock,
                                       crypto::Algorithm algorithm,
                                       int64_t max_token_ttl_seconds) {
  int64_t now = clock.NowSeconds();
  LG_ASSIGN_OR_RETURN(store::SigningKeyRecord fresh, NewKeyRecord(algorithm, now));
  std::string kid = fresh.kid;
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    LG_ASSIGN_OR_RETURN(auto keys, tx.ListSigningKeys());
    for (auto& key : keys) {
      if (key.retired_at != 0) continue;
      key.retired_at = now;
      key.publish_until = now + max_token_ttl_seconds + kKeyPublishLeewaySeconds;
      LG_RETURN_IF_ERROR(tx.UpdateSigningKey(key));
    }
    return tx.InsertSigningKey(fresh);
  }));
  return kid;
}

Status KeyManager::Load(crypto::Algorithm algorithm, bool enforce_algorithm) {
  std::lock_guard<std::mutex> lock(load_mutex_);
  int64_t now = clock_.NowSeconds();
  LG_ASSIGN_OR_RETURN(auto records, store_.ListSigningKeys());

  const store::SigningKeyRecord* current = nullptr;
  for (const auto& r : records) {
    if (r.retired_at == 0 && (!current || r.created_at > current->created_at)) current = &r;
  }
  if (!current || (enforce_algorithm && current->algorithm != crypto::AlgorithmName(algorithm))) {
    // First start, or the configured algorithm changed: rotate so that tokens
    // already issued stay verifiable until they expire.
    if (current) {
      log::Info("signing algorithm changed from " + current->algorithm + " to " +
                std::string(crypto::AlgorithmName(algorithm)) + "; rotating the signing key");
    }
    LG_ASSIGN_OR_RETURN(std::string kid, Rotate(store_, clock_, algorithm, 86400));
    log::Info("new signing key " + kid + " (" + std::string(crypto::AlgorithmName(algorithm)) + ")");
    LG_ASSIGN_OR_RETURN(records, store_.ListSigningKeys());
    current = nullptr;
    for (const auto& r : records) {
      if (r.retired_at == 0 && (!current || r.created_at > current->created_at)) current = &r;
    }
    if (!current) return InternalError("signing key rotation left no current key");
  }

  auto snapshot = std::make_shared<KeySnapshot>();
  std::vector<jose::Jwk> published;
  for (const auto& r : records) {
    if (&r != current && r.retired_at != 0 && r.publish_until <= now) {
      // Every token this key signed has expired: it leaves the JWKS for good.
      store_.DeleteSigningKey(r.kid).IgnoreError();
      continue;
    }
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
