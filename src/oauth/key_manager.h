// KeyManager: the signing keys of the authorization server.
//
// Exactly one key signs (the current one); keys that signed before a rotation
// stay published in the JWKS until every token they signed has expired
// (publish_until), then they are deleted. Keys live in the state store, whose
// file is 0600 and whose writes are transactional, so a key is never half
// written. A rotation made by another process (`lakegate key rotate`) is picked
// up by Load(). Thread-safe: Current() is a lock-free snapshot read.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "store/store.h"

namespace lakegate::oauth {

// An immutable view of the keys: who signs, and what the JWKS publishes.
struct KeySnapshot {
  std::shared_ptr<const jose::Signer> signer;  // never null in a loaded snapshot
  jose::KeySet verification_keys;              // current + still-published retired keys
  std::string jwks_json;
};

class KeyManager {
 public:
  KeyManager(store::Store& store, const Clock& clock);

  // Reads the keys from the store, deletes retired keys past publish_until and
  // makes a first key of `algorithm` when there is no current key. With
  // `enforce_algorithm` (at start-up) it also rotates to `algorithm` when the
  // current key uses another one; reloads accept whatever `lakegate key
  // rotate --alg` chose. Errors are the store's, or Internal when a stored key
  // cannot be parsed.
  Status Load(crypto::Algorithm algorithm, bool enforce_algorithm);

  std::shared_ptr<const KeySnapshot> Current() const { return std::atomic_load(&snapshot_); }

  // Makes a new current key in the store; the previous current key stays
  // published for `max_token_ttl_seconds` + leeway. Returns the new kid.
  // Static so that the CLI can rotate without a running server.
  static Result<std::string> Rotate(store::Store& store, const Clock& clock,
                                    crypto::Algorithm algorithm, int64_t max_token_ttl_seconds);

 private:
  store::Store& store_;
  const Clock& clock_;
  std::mutex load_mutex_;  // serializes Load()
  std::shared_ptr<const KeySnapshot> snapshot_;  // atomic_load / atomic_store only
};

inline constexpr int64_t kKeyPublishLeewaySeconds = 120;

}  // namespace lakegate::oauth
