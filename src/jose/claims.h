// Access-token claims: the RFC 9068 JWT profile plus Cognito's token_use,
// version and client_id. Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lakegate::jose {

struct AccessTokenClaims {
  std::string iss, sub, client_id, scope, token_use, jti;
  // Encoded as a string when it has one element, as an array when it has more,
  // omitted when empty.
  std::vector<std::string> aud;
  int64_t iat = 0, exp = 0;
  std::optional<int64_t> nbf;
  std::optional<int64_t> auth_time;
  int64_t version = 0;  // omitted when 0
  // Confirmation (RFC 7800 "cnf"): the base64url SHA-256 thumbprint of the
  // client certificate the token is bound to (RFC 8705 §3.1 "x5t#S256");
  // "" = not certificate-bound.
  std::string cnf_x5t_s256 = {};
  // Confirmation (RFC 9449 §6.1 "jkt"): the base64url SHA-256 JWK thumbprint
  // of the DPoP key the token is bound to; "" = not DPoP-bound.
  std::string cnf_jkt = {};

  friend bool operator==(const AccessTokenClaims&, const AccessTokenClaims&) = default;
};

// The JSON payload, built by hand (no DOM) with members in a fixed order:
// iss, sub, aud, client_id, scope, token_use, auth_time, iat, nbf, exp, jti,
// version, cnf. Empty strings and unset optionals are omitted; iat and exp are
// always present. Strings are escaped safely (invalid UTF-8 becomes U+FFFD).
std::string EncodeAccessTokenClaims(const AccessTokenClaims& claims);

}  // namespace lakegate::jose
