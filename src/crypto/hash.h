// Hashing, HMAC and constant-time comparison. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace lakegate::crypto {

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);

// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the length (CRYPTO_memcmp). Returns
// false when the lengths differ; lengths are not treated as secret.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace lakegate::crypto
