// Why an access token was not accepted: the typed reasons of every token check,
// from the Authorization header down to the issuer's own records. jose::Verify
// returns the structural, cryptographic and claim reasons; the gateway adds the
// request-level ones (missing, unknown issuer, keys unavailable) and an issuer's
// standing check the rest (revoked, client unknown or disabled).
//
// Every reason is kUnauthenticated. Clients learn only "expired" or "invalid"
// (RFC 6750 §3.1 error="invalid_token", or no error when no token was sent);
// the precise reason is for the log and the audit line.
#pragma once

#include "common/status.h"

namespace lakegate::jose {

enum class TokenFailure {
  kMissing,          // no Bearer credentials at all
  kMalformed,        // not a well-formed compact JWS, or bad credentials syntax
  kTooLarge,         // longer than the size limit
  kDuplicateMember,  // a JSON member name repeats in the header or payload
  kUnsupportedAlgorithm,
  kCriticalHeader,     // a "crit" header (no extension is understood)
  kUnknownKey,         // no key with the header's kid
  kAlgorithmMismatch,  // alg differs from the key's algorithm
  kBadSignature,
  kWrongType,     // header typ is not at+jwt where it must be
  kInvalidClaim,  // a known claim has the wrong JSON type, or exp is missing
  kExpired,
  kNotYetValid,     // nbf in the future
  kIssuedInFuture,  // iat in the future
  kWrongIssuer,
  kWrongAudience,
  kWrongTokenUse,
  kMissingClientId,
  kUnknownIssuer,    // not our issuer nor a trusted one
  kKeysUnavailable,  // the issuer's keys could not be fetched
  kRevoked,
  kClientUnknown,  // the client the token names no longer exists
  kClientDisabled,
};

const ReasonDomain& ReasonDomainOf(TokenFailure);

// Unauthenticated with `reason` and the detailed `message` (for the log).
Status TokenError(TokenFailure reason, std::string message);

}  // namespace lakegate::jose
