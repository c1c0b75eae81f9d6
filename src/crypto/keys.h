// Asymmetric keys for JWS: ES256 (P-256), EdDSA (Ed25519), RS256 (RSA >= 2048
// bits, PKCS#1 v1.5 with SHA-256) and PS256 (the same RSA keys, RSASSA-PSS with
// SHA-256, MGF1-SHA-256 and a 32-byte salt, RFC 7518 §3.5).
//
// PublicKey and PrivateKey are immutable values holding a shared handle to an
// OpenSSL key: copying is cheap and every method is safe to call from many
// threads at once. OpenSSL types never leave this module; jose/ builds JWKs
// from PublicKeyParams.
//
// Signing reuses a per-thread OpenSSL context for each key (a small
// thread_local cache keyed by a process-unique key id), so that the hot path
// of the token endpoint does no context setup per call. A cached context keeps
// its key alive until the thread evicts it (cache of 4 keys) or exits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret_string.h"
#include "common/status.h"

namespace lakegate::crypto {

// An RSA key serves either RS256 or PS256, never both: the algorithm is part of
// the key (as a JWK's "alg" is), so a signature is checked only the one way.
enum class Algorithm { kES256, kEdDSA, kRS256, kPS256 };

// True for the RSA algorithms (RS256, PS256).
constexpr bool IsRsa(Algorithm algorithm) {
  return algorithm == Algorithm::kRS256 || algorithm == Algorithm::kPS256;
}

// "ES256", "EdDSA", "RS256", "PS256".
std::string_view AlgorithmName(Algorithm algorithm);
// Exact, case-sensitive JWS name. Anything else ("none", "HS256", "es256",
// "ES384", ...) gives nullopt: callers treat it as unsupported.
std::optional<Algorithm> ParseAlgorithm(std::string_view name);

// The raw public components of a key, so that jose/ can build and read JWKs
// without OpenSSL types.
struct PublicKeyParams {
  Algorithm algorithm = Algorithm::kES256;
  // ES256: the 32-byte big-endian affine coordinates of the point.
  // EdDSA: x is the 32-byte Ed25519 public key; y is empty.
  std::string x, y;
  // RS256 and PS256: big-endian modulus and public exponent, no leading zero
  // bytes.
  std::string n, e;

  static PublicKeyParams Es256(std::string x, std::string y) {
    PublicKeyParams p;
    p.algorithm = Algorithm::kES256;
    p.x = std::move(x);
    p.y = std::move(y);
    return p;
  }
  static PublicKeyParams EdDsa(std::string x) {
    PublicKeyParams p;
    p.algorithm = Algorithm::kEdDSA;
    p.x = std::move(x);
    return p;
  }
  static PublicKeyParams Rs256(std::string n, std::string e,
                               Algorithm algorithm = Algorithm::kRS256) {
    PublicKeyParams p;
    p.algorithm = algorithm;
    p.n = std::move(n);
    p.e = std::move(e);
    return p;
  }

  friend bool operator==(const PublicKeyParams&, const PublicKeyParams&) = default;
};

class PublicKey {
 public:
  // Builds a key from raw components. Returns InvalidArgument when the
  // components do not form a valid key of that algorithm: wrong lengths, a
  // point not on P-256 (or the identity), an RSA modulus outside 2048..8192
  // bits, an even or out-of-range exponent.
  static Result<PublicKey> FromParams(const PublicKeyParams& params);
  // Parses an SPKI ("BEGIN PUBLIC KEY") PEM. InvalidArgument when it does not
  // parse or is not a P-256, Ed25519 or RSA (2048..8192 bits) key. An RSA key
  // serves RS256.
  static Result<PublicKey> FromPem(std::string_view spki_pem);

  PublicKeyParams Params() const;
  Algorithm algorithm() const;

  // Checks a JWS signature over `signing_input`. ES256 expects the raw 64-byte
  // r||s of RFC 7518 §3.4 (a DER signature, or any other length, is false);
  // EdDSA a 64-byte Ed25519 signature; RS256 a PKCS#1 v1.5 SHA-256 signature
  // and PS256 an RSASSA-PSS one, as long as the modulus. Returns false on any failure; never
  // throws.
  bool Verify(std::string_view signing_input, std::string_view signature) const noexcept;

  // SPKI PEM ("BEGIN PUBLIC KEY").
  std::string ToPem() const;

  // True when both hold the same public key (same algorithm and components).
  friend bool operator==(const PublicKey& a, const PublicKey& b);

  struct Impl;  // defined in keys.cc

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // never null
};

class PrivateKey {
 public:
  // A fresh key: P-256, Ed25519 or RSA-2048 (RS256 and PS256). Internal on an
  // OpenSSL failure.
  static Result<PrivateKey> Generate(Algorithm algorithm);
  // Parses an unencrypted PKCS#8 ("BEGIN PRIVATE KEY") PEM; a traditional
  // ("BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE KEY") PEM is accepted too.
  // InvalidArgument when it does not parse, is encrypted, or its key type does
  // not match `algorithm` (for RS256 and PS256 also when the modulus is < 2048
  // bits).
  static Result<PrivateKey> FromPem(Algorithm algorithm, std::string_view pkcs8_pem);

  // Unencrypted PKCS#8 PEM. Store it with 0600 permissions.
  SecretString ToPem() const;
  Algorithm algorithm() const;
  PublicKey Public() const;

  // The JWS signature of `signing_input`: ES256 raw r||s (64 bytes), EdDSA 64
  // bytes, RS256 and PS256 256 bytes for RSA-2048 (PSS is randomized). Safe to call from many
  // threads at once. Internal on an OpenSSL failure (which should not happen).
  Result<std::string> Sign(std::string_view signing_input) const;

  struct Impl;  // defined in keys.cc

 private:
  explicit PrivateKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // never null
};

}  // namespace lakegate::crypto
