// KeyManager: the signing keys of the authorization server.
//
// Exactly one key signs (the current one); keys that signed before a rotation
// stay published in the JWKS until every token they signed has expired
// (publish_until), then they are deleted. Keys live in the state store, whose
// writes are transactional, so a key is never half written.
//
// The write side (Maintain, Rotate) changes the store; the read side
// (Rebuild) derives the signer and the published keys from a state snapshot,
// so a rotation made by another process or node is picked up with the next
// snapshot. Thread-safe: Current() is a lock-free snapshot read.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/keys.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "store/state_cache.h"
#include "store/store.h"

namespace lakegate::oauth {

// An immutable view of the keys: who signs, and what the JWKS publishes.
struct KeySnapshot {
  std::shared_ptr<const jose::Signer> signer;  // null until a snapshot had a current key
  jose::KeySet verification_keys;              // current + still-published retired keys
  std::string jwks_json;
};

class KeyManager {
 public:
  explicit KeyManager(const Clock& clock);

  // Makes sure the store holds a current key and forgets retired keys past
  // publish_until. With `enforce_algorithm` (at start-up) it also rotates to
  // `algorithm` when the current key uses another one; later calls accept
  // whatever `lakegate key rotate --alg` chose. Errors are the store's.
  static Status Maintain(store::Store& store, const Clock& clock, crypto::Algorithm algorithm,
                         bool enforce_algorithm);

  // Makes a new current key in the store; the previous current key stays
  // published for `max_token_ttl_seconds` + leeway. Returns the new kid.
  static Result<std::string> Rotate(store::Store& store, const Clock& clock,
                                    crypto::Algorithm algorithm, int64_t max_token_ttl_seconds);

  // Derives the signer and the published keys from `state`. Internal when a
  // stored key cannot be parsed (the previous keys stay in use).
  Status Rebuild(const store::StateSnapshot& state);

  std::shared_ptr<const KeySnapshot> Current() const { return std::atomic_load(&snapshot_); }

 private:
  const Clock& clock_;
  std::shared_ptr<const KeySnapshot> snapshot_;  // atomic_load / atomic_store only
};

inline constexpr int64_t kKeyPublishLeewaySeconds = 120;

}  // namespace lakegate::oauth
