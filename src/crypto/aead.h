// Authenticated encryption (AES-256-GCM) and key derivation (HKDF-SHA256,
// RFC 5869), for secrets the server must read back (AWS access keys' secrets)
// and for sub-keys of a key kept outside the state store. Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lakegate::crypto {

inline constexpr size_t kAes256KeyBytes = 32;
inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

// Encrypts `plaintext` under the 32-byte `key` with a fresh random 96-bit
// nonce, authenticating `aad` too. Returns nonce || ciphertext || tag
// (28 bytes longer than the plaintext). Aborts when `key` is not 32 bytes (a
// caller's bug) or OpenSSL fails, rather than return something that does not
// decrypt.
std::string Aes256GcmSeal(std::string_view key, std::string_view plaintext, std::string_view aad);

// The plaintext of `sealed` (as Aes256GcmSeal returns it); nullopt when it was
// sealed under another key or `aad`, was altered, or is too short.
std::optional<std::string> Aes256GcmOpen(std::string_view key, std::string_view sealed,
                                         std::string_view aad);

// HKDF-SHA256 (RFC 5869): `length` bytes (at most 8160) derived from the
// input key material with `salt` and the context label `info`.
std::string HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length);

}  // namespace lakegate::crypto
