// AWS access keys of clients, for AWS Signature Version 4 on the
// Athena-compatible endpoint: generating the id and the secret, and sealing
// the secret for the state store.
//
// A SigV4 verifier needs the secret itself (it recomputes the HMAC chain), so
// unlike a client secret it cannot be stored as a hash. It is stored sealed
// with AES-256-GCM under a key derived (HKDF-SHA256, label
// kAccessKeySealLabel) from the secret-hash key, which lives outside the
// database (app/state_keys.h): a dump of the database alone reveals no
// secret. The access key id and the client id are the cipher's associated
// data, so a sealed secret copied into another key's row does not open.
//
// Thread-safe (immutable after construction).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/secret_string.h"
#include "common/status.h"
#include "store/store.h"

namespace lakegate::oauth {

// Access key ids look like AWS's ("AKIA" + 16 of A-Z2-7) with our own prefix.
inline constexpr std::string_view kAccessKeyIdPrefix = "LGAK";
inline constexpr size_t kAccessKeyIdLength = 20;
// 40 characters, as AWS's, from the base64url alphabet (240 random bits).
inline constexpr size_t kSecretAccessKeyLength = 40;
// As AWS IAM: at most two keys per client, so a key can be rotated without
// a moment with none.
inline constexpr size_t kMaxAccessKeysPerClient = 2;
// The HKDF label of the sealing key; a new label (v2) means a new key.
inline constexpr std::string_view kAccessKeySealLabel = "lakegate access-key secrets v1";

// "LGAK" + 16 characters of A-Z and 2-7 (80 random bits).
std::string GenerateAccessKeyId();
// 40 base64url characters.
SecretString GenerateSecretAccessKey();
// Whether `id` may name an access key (e.g. one given with --access-key-id):
// 16 to 128 characters of A-Z and 0-9, as AWS's access key ids.
bool IsValidAccessKeyId(std::string_view id);

class AccessKeySealer {
 public:
  // `hash_key` is the 32-byte secret-hash key (app::LoadStateKey).
  explicit AccessKeySealer(const SecretString& hash_key);

  // "a256gcm$" + base64url(nonce || ciphertext || tag), bound to the key's id
  // and client.
  std::string Seal(std::string_view access_key_id, std::string_view client_id,
                   const SecretString& secret) const;
  // The secret of `record`. kFailedPrecondition when it does not open: the
  // row was sealed under another secret-hash key, or altered.
  Result<SecretString> Open(const store::AccessKeyRecord& record) const;

 private:
  SecretString key_;  // the AES-256-GCM key
};

}  // namespace lakegate::oauth
