// Conversion between the two encodings of an ECDSA signature: the DER
// `SEQUENCE { INTEGER r, INTEGER s }` that OpenSSL speaks, and the fixed-size
// big-endian r||s that JWS uses (RFC 7518 §3.4). Allocation-free, pure;
// thread-safe. Exposed for tests; other modules use crypto/keys.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lakegate::crypto {

// Largest DER encoding of a signature whose scalars are `n` bytes:
// 30 len 02 len (0x00 + n) 02 len (0x00 + n), short-form lengths for n <= 60.
constexpr size_t MaxEcdsaDerSize(size_t n) { return 2 + 2 * (2 + 1 + n); }

// Parses a strict DER signature and writes r||s, each left-padded to `n`
// bytes, into `raw` (2n bytes). Returns false on any malformed encoding
// (long-form or non-minimal lengths, non-minimal or negative integers,
// trailing data) or when a scalar does not fit in `n` bytes.
bool EcdsaDerToRaw(std::string_view der, size_t n, uint8_t* raw);

// Encodes the 2n-byte r||s in `raw` as DER into `der` (at least
// MaxEcdsaDerSize(n) bytes) and returns its length, or 0 when n > 60 or
// `raw` is not 2n bytes. Zero scalars encode as INTEGER 0 (which then fails
// to verify, as it must).
size_t EcdsaRawToDer(std::string_view raw, size_t n, uint8_t* der);

}  // namespace lakegate::crypto
