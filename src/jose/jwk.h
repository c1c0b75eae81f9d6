// JSON Web Keys (RFC 7517), JWK Sets and JWK thumbprints (RFC 7638), for the
// public keys that verify our tokens and those of external issuers.
//
// Pure functions and immutable values: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/keys.h"

namespace lakegate::jose {

// One public signing key. Its JWS algorithm is key.algorithm().
struct Jwk {
  std::string kid;
  crypto::PublicKey key;
  std::string use = "sig";
};

// {"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"alg":"ES256","use":"sig"},
// {"kty":"OKP","crv":"Ed25519","x":..,...} or {"kty":"RSA","n":..,"e":..,...}.
std::string JwkToJson(const Jwk& jwk);
// {"keys":[...]}: what GET /.well-known/jwks.json serves.
std::string JwksToJson(const std::vector<Jwk>& jwks);

// RFC 7638 SHA-256 thumbprint, base64url without padding. A stable kid.
std::string Thumbprint(const crypto::PublicKey& key);

constexpr size_t kMaxJwksBytes = 256 * 1024;
constexpr size_t kMaxJwksKeys = 100;

// Parses a JWK Set. Keys we cannot use are skipped, not errors (RFC 7517 §5):
// an unsupported kty/crv/alg, an "alg" that does not fit the key type, a "use"
// other than "sig", a missing or empty "kid", or key material that is not a
// valid key (bad base64url, point not on the curve, RSA < 2048 bits). A key
// without "alg" gets the algorithm its type implies (EC P-256 -> ES256, OKP
// Ed25519 -> EdDSA, RSA -> RS256; an RSA key serves PS256 only with "alg":
// "PS256"). Private members ("d", ...) are ignored.
// Returns InvalidArgument when the document is larger than kMaxJwksBytes, is
// not JSON, has duplicate member names, nests too deeply, is not an object
// with a "keys" array, or lists more than kMaxJwksKeys keys.
Result<std::vector<Jwk>> ParseJwks(std::string_view json);

// An immutable set of keys looked up by kid. Thread-safe. When several keys
// share a kid, the first one wins and the later ones are dropped.
// The certificates of a JWK Set's keys that carry x5c: each key's first
// certificate (its own), DER. Keys without x5c are skipped. InvalidArgument
// when the text is not a JWK Set or an x5c is malformed.
Result<std::vector<std::string>> JwksCertificates(std::string_view json);

class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(std::vector<Jwk> keys);

  // The key with this kid, or nullptr. The pointer lives as long as the set.
  const Jwk* Find(std::string_view kid) const;
  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  std::vector<Jwk> keys_;
};

}  // namespace lakegate::jose
