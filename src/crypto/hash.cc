#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>

namespace lakegate::crypto {

std::string Sha256(std::string_view data) {
  // OpenSSL 3's one-shot SHA256() looks the implementation up on every call
  // (about 2% of a query's CPU); fetch it once. Thread-safe: a fetched
  // EVP_MD is immutable, and the static is initialized once.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  if (kSha256 == nullptr ||
      EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 kSha256, nullptr) != 1 ||
      len != SHA256_DIGEST_LENGTH) {
    std::abort();  // as in HmacSha256: never return a plausible wrong digest
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  // HMAC() takes an int key length; a key of 2 GiB is not a key.
  if (key.size() > static_cast<size_t>(INT32_MAX) ||
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr ||
      len != SHA256_DIGEST_LENGTH) {
    // Only an allocation failure inside OpenSSL gets here; a wrong MAC would be
    // a security bug, so stop rather than return something plausible.
    std::abort();
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lakegate::crypto
