#include "crypto/ecdsa_der.h"

#include <cstring>

namespace lakegate::crypto {
namespace {

// Reads one DER INTEGER at der[*pos] holding a non-negative value of at most
// `n` bytes, and writes it left-padded into out[0..n).
bool ReadInteger(std::string_view der, size_t* pos, size_t n, uint8_t* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(der.data());
  size_t i = *pos;
  if (i + 2 > der.size() || p[i] != 0x02) return false;
  size_t len = p[i + 1];
  i += 2;
  if (len == 0 || len > 0x7f || i + len > der.size()) return false;
  const uint8_t* v = p + i;
  *pos = i + len;
  if (v[0] & 0x80) return false;                                // negative
  if (len > 1 && v[0] == 0x00 && !(v[1] & 0x80)) return false;  // non-minimal
  if (v[0] == 0x00) {  // the sign byte in front of a high bit
    ++v;
    --len;
  }
  if (len > n) return false;
  std::memset(out, 0, n - len);
  if (len > 0) std::memcpy(out + (n - len), v, len);
  return true;
}

// Writes an INTEGER holding the n-byte big-endian value `v`; returns its size.
size_t WriteInteger(const uint8_t* v, size_t n, uint8_t* out) {
  size_t skip = 0;
  while (skip < n && v[skip] == 0) ++skip;
  size_t len = n - skip;
  bool pad = len == 0 || (v[skip] & 0x80);
  out[0] = 0x02;
  out[1] = static_cast<uint8_t>(len + (pad ? 1 : 0));
  size_t o = 2;
  if (pad) out[o++] = 0x00;
  if (len > 0) std::memcpy(out + o, v + skip, len);
  return o + len;
}

}  // namespace

bool EcdsaDerToRaw(std::string_view der, size_t n, uint8_t* raw) {
  const auto* p = reinterpret_cast<const uint8_t*>(der.data());
  if (der.size() < 2 || p[0] != 0x30) return false;
  size_t body = p[1];
  // Every curve we support fits in short-form lengths; reject anything else
  // rather than parse it.
  if (body > 0x7f || body + 2 != der.size()) return false;
  size_t pos = 2;
  if (!ReadInteger(der, &pos, n, raw)) return false;
  if (!ReadInteger(der, &pos, n, raw + n)) return false;
  return pos == der.size();
}

size_t EcdsaRawToDer(std::string_view raw, size_t n, uint8_t* der) {
  if (n == 0 || n > 60 || raw.size() != 2 * n) return 0;
  const auto* v = reinterpret_cast<const uint8_t*>(raw.data());
  size_t len = 2;
  len += WriteInteger(v, n, der + len);
  len += WriteInteger(v + n, n, der + len);
  der[0] = 0x30;
  der[1] = static_cast<uint8_t>(len - 2);
  return len;
}

}  // namespace lakegate::crypto
