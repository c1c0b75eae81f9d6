// Signed JWTs that are not access tokens: client assertions (RFC 7523) and
// DPoP proofs (RFC 9449). Unlike Verify (jws.h), whose key set is known before
// the token is read, these name their signer inside: an assertion's "sub" says
// which client's keys verify it, a DPoP proof carries its public key in the
// header. So ParseSignedJwt reads header and claims first, without trusting
// them, and VerifySignature checks the signature with the key the caller
// chose from them; nothing read may be acted on before that succeeds.
//
// Pure functions and immutable values: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/keys.h"

namespace lakegate::jose {

// The claims these JWTs use. Absent claims are nullopt (aud: empty).
struct JwtClaims {
  std::optional<std::string> iss, sub, jti;
  std::vector<std::string> aud;  // a string "aud" is one element
  std::optional<int64_t> exp, iat, nbf;
  std::optional<std::string> htm, htu, ath, nonce;  // DPoP proofs
};

struct SignedJwt {
  std::string alg;                 // as sent; VerifySignature decides whether it is usable
  std::optional<std::string> kid;  // nullopt when the header has none
  std::string typ;                 // "" when the header has none
  bool crit = false;               // a "crit" header is present
  // The header's "jwk" (DPoP): present, the public key when it is one we
  // support, and whether it also carries private key members ("d", ...).
  bool has_jwk = false;
  std::optional<crypto::PublicKey> jwk;
  bool jwk_has_private_members = false;
  JwtClaims claims;
  std::string signing_input;  // base64url(header) "." base64url(payload)
  std::string signature;      // decoded
};

// Reads a compact JWS without verifying anything. Every failure is
// kUnauthenticated with a TokenFailure reason: kTooLarge (longer than
// `max_bytes`), kMalformed (not three strict base64url parts, header or
// payload not a JSON object, "alg" missing or not a string, "kid", "typ" or
// "jwk" of the wrong JSON type), kDuplicateMember (a member name repeats),
// kInvalidClaim "invalid claim: NAME" (a claim above of the wrong JSON type:
// a string where a NumericDate belongs, a number for "jti", ...).
Result<SignedJwt> ParseSignedJwt(std::string_view token, size_t max_bytes);

// True when the header's alg is exactly `key`'s algorithm and the signature
// verifies with `key`. "none", HMAC and any alg the key does not serve are
// false.
bool VerifySignature(const SignedJwt& jwt, const crypto::PublicKey& key);

// The client side: a proof for one request (RFC 9449 §4.2), signed by `key`,
// with a random jti, iat `now_seconds`, htm `method`, htu `url` (query and
// fragment removed), and ath / nonce when not empty. Internal when signing
// fails.
Result<std::string> MakeDpopProof(const crypto::PrivateKey& key, std::string_view method,
                                  std::string_view url, std::string_view access_token,
                                  std::string_view nonce, int64_t now_seconds);

}  // namespace lakegate::jose
