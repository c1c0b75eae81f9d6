// Compact JWS access tokens: signing (Signer) and verification (Verify).
//
// Verify is the gate in front of every query, and also checks tokens of
// external issuers, so it trusts nothing it has not checked: the algorithm
// comes from our key set, never from the token alone; the signature is checked
// before the payload is even parsed. Pure functions and immutable objects:
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/keys.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/token_failure.h"

namespace lakegate::jose {

constexpr size_t kDefaultMaxTokenBytes = 8192;

// Signs compact JWS tokens with one key. Thread-safe; cheap to call
// concurrently (the key's per-thread signing context does the work).
class Signer {
 public:
  // The protected header {"alg":..,"kid":..,"typ":..} is encoded once here;
  // an empty `typ` leaves "typ" out.
  Signer(std::string kid, crypto::PrivateKey key, std::string typ = "at+jwt");

  const std::string& kid() const { return kid_; }
  crypto::Algorithm algorithm() const { return key_.algorithm(); }
  crypto::PublicKey public_key() const { return key_.Public(); }

  // base64url(header) "." base64url(payload) "." base64url(signature). The
  // payload is signed as given; the caller makes it a JSON object (see
  // EncodeAccessTokenClaims). Internal when signing fails.
  Result<std::string> SignCompact(std::string_view payload_json) const;

 private:
  std::string kid_;
  crypto::PrivateKey key_;
  std::string header_b64_;
};

struct VerifyOptions {
  std::string issuer;                    // exact match; empty = not checked
  std::optional<std::string> audience;   // when set, "aud" (string or array) must contain it
  std::optional<std::string> token_use;  // when set, "token_use" must equal it (Cognito: "access")
  bool require_at_jwt_typ = false;  // header typ "at+jwt" / "application/at+jwt" (RFC 9068 §4)
  bool require_client_id = true;
  int64_t leeway_seconds = 60;  // clock skew allowed on exp, nbf and iat
  size_t max_token_bytes = kDefaultMaxTokenBytes;
};

struct VerifiedToken {
  std::string kid;
  crypto::Algorithm algorithm = crypto::Algorithm::kES256;
  std::string typ;  // empty when the header has none
  AccessTokenClaims claims;
};

// Verifies a compact JWS access token against `keys` at time `now_seconds`.
// Every failure is kUnauthenticated with a TokenFailure reason (in brackets)
// and one of these messages, for the log:
//   [kTooLarge] "token too large"      longer than options.max_token_bytes
//   [kMalformed] "malformed token"     not three strict base64url parts (no
//                                      padding), header or payload not a JSON
//                                      object, header without string alg/kid,
//                                      typ not a string
//   [kDuplicateMember] "duplicate JSON key"   a member name repeats
//   [kUnsupportedAlgorithm] "unsupported algorithm"   alg is not ES256, EdDSA
//                                      or RS256 ("none", HS256, ... never are)
//   [kCriticalHeader] "critical header not supported"   any "crit" header
//   [kUnknownKey] "unknown key id"     kid not in `keys`
//   [kAlgorithmMismatch] "algorithm does not match key"
//   [kBadSignature] "bad signature"
//   [kWrongType] "wrong token type"    require_at_jwt_typ and typ is not at+jwt
//   [kInvalidClaim] "invalid claim: <name>" (wrong JSON type), "missing claim: exp"
//   [kExpired] "token expired"         now >= exp + leeway
//   [kNotYetValid] "token not yet valid"   nbf > now + leeway
//   [kIssuedInFuture] "token issued in the future"   iat > now + leeway
//   [kWrongIssuer] "issuer mismatch", [kWrongAudience] "audience mismatch",
//   [kWrongTokenUse] "token_use mismatch", [kMissingClientId] "missing client_id"
// "jku", "x5u", "jwk" and "x5c" headers are ignored: keys come only from `keys`.
Result<VerifiedToken> Verify(std::string_view token, const KeySet& keys,
                             const VerifyOptions& options, int64_t now_seconds);

// The header's kid, with no verification at all (to pick a key set or trigger
// a JWKS refresh before Verify). Fails like Verify on size and header shape:
// "token too large", "malformed token", "duplicate JSON key".
Result<std::string> PeekKid(std::string_view token, size_t max_token_bytes = kDefaultMaxTokenBytes);

}  // namespace lakegate::jose
