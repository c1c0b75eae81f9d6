#include "oauth/access_key.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/base64url.h"
#include "common/random.h"
#include "crypto/aead.h"

namespace lakegate::oauth {
namespace {

constexpr std::string_view kSealPrefix = "a256gcm$";

// The associated data: both ids, length-prefixed so no two pairs collide.
std::string AssociatedData(std::string_view access_key_id, std::string_view client_id) {
  return std::to_string(access_key_id.size()) + ":" + std::string(access_key_id) +
         std::to_string(client_id.size()) + ":" + std::string(client_id);
}

}  // namespace

std::string GenerateAccessKeyId() {
  static constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const std::string random = RandomBytes(kAccessKeyIdLength - kAccessKeyIdPrefix.size());
  std::string id(kAccessKeyIdPrefix);
  // 32 divides 256: each byte's low five bits are uniform.
  for (char c : random) id.push_back(kBase32[static_cast<unsigned char>(c) & 0x1F]);
  return id;
}

SecretString GenerateSecretAccessKey() {
  // 30 bytes are exactly 40 base64url characters.
  return SecretString(RandomToken(kSecretAccessKeyLength * 3 / 4));
}

bool IsValidAccessKeyId(std::string_view id) {
  return id.size() >= 16 && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

AccessKeySealer::AccessKeySealer(const SecretString& hash_key)
    : key_(crypto::HkdfSha256(hash_key.Reveal(), /*salt=*/"", kAccessKeySealLabel,
                              crypto::kAes256KeyBytes)) {}

std::string AccessKeySealer::Seal(std::string_view access_key_id, std::string_view client_id,
                                  const SecretString& secret) const {
  return std::string(kSealPrefix) +
         Base64UrlEncode(crypto::Aes256GcmSeal(key_.Reveal(), secret.Reveal(),
                                               AssociatedData(access_key_id, client_id)));
}

Result<SecretString> AccessKeySealer::Open(const store::AccessKeyRecord& record) const {
  const std::string_view text = record.secret_ciphertext;
  std::optional<std::string> sealed;
  if (text.substr(0, kSealPrefix.size()) == kSealPrefix) {
    sealed = Base64UrlDecode(text.substr(kSealPrefix.size()));
  }
  std::optional<std::string> secret;
  if (sealed) {
    secret = crypto::Aes256GcmOpen(key_.Reveal(), *sealed,
                                   AssociatedData(record.access_key_id, record.client_id));
  }
  if (!secret) {
    return FailedPreconditionError(
        "the secret of access key " + record.access_key_id +
        " does not decrypt: it was stored under another secret-hash key, or the row was "
        "altered; give this node the stack's hash key, or delete and re-create the access key");
  }
  return SecretString(std::move(*secret));
}

}  // namespace lakegate::oauth
