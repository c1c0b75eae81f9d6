// Cryptographically secure randomness from the kernel (getrandom(2)).
// Thread-safe. Aborts only if the kernel cannot supply randomness, which would
// make every secret we generate unsafe.
#pragma once

#include <cstddef>
#include <string>

namespace lakegate {

// `n` random bytes.
std::string RandomBytes(size_t n);
// A base64url (no padding) string encoding `n_bytes` random bytes: URL-safe, so
// `curl -u id:secret` and form encoding never mangle it.
std::string RandomToken(size_t n_bytes);
// A lowercase hex string of `n_bytes` random bytes.
std::string RandomHex(size_t n_bytes);

}  // namespace lakegate
