#include "oauth/client_secret.h"

#include "common/base64url.h"
#include "common/files.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/keys.h"

namespace lakegate::oauth {
namespace {
constexpr std::string_view kPrefix = "hs256$";
constexpr size_t kSaltBytes = 16;

std::string Mac(const SecretString& key, std::string_view salt, std::string_view secret) {
  std::string input;
  input.reserve(salt.size() + secret.size());
  input.append(salt);
  input.append(secret);
  return crypto::HmacSha256(key.Reveal(), input);
}
}  // namespace

SecretString GenerateClientSecret() { return SecretString(RandomToken(kClientSecretBytes)); }

std::string GenerateClientId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string bytes = RandomBytes(26);
  std::string id;
  id.reserve(26);
  // 252 is the largest multiple of 36 below 256: reject above it to stay unbiased.
  for (char byte : bytes) {
    auto c = static_cast<unsigned char>(byte);
    while (c >= 252) c = static_cast<unsigned char>(RandomBytes(1)[0]);
    id.push_back(kAlphabet[c % 36]);
  }
  return id;
}

std::string SecretHasher::Hash(std::string_view secret) const {
  std::string salt = RandomBytes(kSaltBytes);
  std::string out(kPrefix);
  out += Base64UrlEncode(salt);
  out += '$';
  out += Base64UrlEncode(Mac(key_, salt, secret));
  return out;
}

bool SecretHasher::Verify(std::string_view secret, std::string_view stored) const {
  if (stored.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = stored.substr(kPrefix.size());
  size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) return false;
  auto salt = Base64UrlDecode(rest.substr(0, dollar));
  auto mac = Base64UrlDecode(rest.substr(dollar + 1));
  if (!salt || !mac || mac->size() != 32) return false;
  return crypto::ConstantTimeEquals(Mac(key_, *salt, secret), *mac);
}

void SecretHasher::DummyVerify(std::string_view secret) const {
  std::string salt(kSaltBytes, '\0');
  volatile bool sink = crypto::ConstantTimeEquals(Mac(key_, salt, secret), std::string(32, '\0'));
  (void)sink;
}

std::string KeyCheckValue(const SecretString& key, std::string_view label) {
  return Base64UrlEncode(
      crypto::HmacSha256(key.Reveal(), "lakegate key check: " + std::string(label)));
}

std::optional<SecretString> DecodeHashKey(std::string_view text) {
  auto key = Base64UrlDecode(TrimWhitespace(text));
  if (!key || key->size() != 32) return std::nullopt;
  return SecretString(std::move(*key));
}

Result<SecretString> LoadOrCreateHashKey(const std::string& path) {
  auto existing = ReadFile(path);
  if (existing.ok()) {
    std::optional<SecretString> key = DecodeHashKey(*existing);
    if (!key) {
      return InvalidArgumentError("secret hash key " + path +
                                  " is corrupt; restore it from backup (client secrets "
                                  "cannot be verified without it)");
    }
    return std::move(*key);
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  std::string key = RandomBytes(32);
  Status written = WriteFileExclusive(path, Base64UrlEncode(key) + "\n", 0600);
  if (written.code() == StatusCode::kAlreadyExists)
    return LoadOrCreateHashKey(path);  // lost a race
  LG_RETURN_IF_ERROR(written);
  return SecretString(std::move(key));
}

}  // namespace lakegate::oauth
