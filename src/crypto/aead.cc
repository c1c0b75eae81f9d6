#include "crypto/aead.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

#include "common/random.h"
#include "crypto/hash.h"

namespace lakegate::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// OpenSSL's lengths are ints; our secrets are tiny, anything near 2 GiB is a bug.
int Len(size_t n) {
  if (n > static_cast<size_t>(INT32_MAX / 2)) std::abort();
  return static_cast<int>(n);
}

}  // namespace

std::string Aes256GcmSeal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != kAes256KeyBytes) std::abort();
  std::string out = RandomBytes(kGcmNonceBytes);
  out.resize(kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  unsigned char* body = Bytes(out) + kGcmNonceBytes;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(out)) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), Len(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plaintext), Len(plaintext.size())) != 1) {
    std::abort();
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), body + total, &len) != 1) std::abort();
  total += len;
  if (static_cast<size_t>(total) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes),
                          body + total) != 1) {
    std::abort();
  }
  return out;
}

std::optional<std::string> Aes256GcmOpen(std::string_view key, std::string_view sealed,
                                         std::string_view aad) {
  if (key.size() != kAes256KeyBytes || sealed.size() < kGcmNonceBytes + kGcmTagBytes) {
    return std::nullopt;
  }
  const std::string_view nonce = sealed.substr(0, kGcmNonceBytes);
  const std::string_view body =
      sealed.substr(kGcmNonceBytes, sealed.size() - kGcmNonceBytes - kGcmTagBytes);
  std::string tag(sealed.substr(sealed.size() - kGcmTagBytes));
  std::string out(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) std::abort();
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), Len(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &len, Bytes(body), Len(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes),
                          Bytes(tag)) != 1) {
    return std::nullopt;
  }
  int final_len = 0;
  // The tag is checked here: a mismatch means a wrong key, wrong aad or
  // altered bytes, and nothing decrypted may be used.
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + len, &final_len) != 1) return std::nullopt;
  return out;
}

std::string HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length) {
  constexpr size_t kHashBytes = 32;
  if (length > 255 * kHashBytes) std::abort();
  // Extract: PRK = HMAC(salt, IKM), with a zero salt of hash length when none.
  const std::string prk = HmacSha256(salt.empty() ? std::string(kHashBytes, '\0') : salt, ikm);
  // Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
  std::string out;
  std::string previous;
  for (unsigned char i = 1; out.size() < length; ++i) {
    std::string block = previous;
    block.append(info);
    block.push_back(static_cast<char>(i));
    previous = HmacSha256(prk, block);
    out += previous;
  }
  out.resize(length);
  return out;
}

}  // namespace lakegate::crypto
