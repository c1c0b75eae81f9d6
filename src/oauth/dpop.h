// DPoP proofs (RFC 9449): the check both ends of a sender-constrained token
// run. The token endpoint binds a token to the key of a valid proof (cnf.jkt,
// token_type "DPoP"); the query API accepts a bound token only with a fresh
// proof by that key for that very request.
//
// A proof is checked as RFC 9449 §4.3 lists, each failure with its own reason:
//   - exactly one DPoP header, holding a compact JWS;
//   - typ "dpop+jwt"; alg ES256, EdDSA, RS256 or PS256 (never "none" or HMAC);
//     no "crit"; a "jwk" header that is a public key of a supported type and
//     carries no private member; the signature verifies with that key;
//   - jti, htm, htu and iat present; htm is the request's method; htu is the
//     URL the client addressed, ignoring query and fragment: the server's
//     public base URL (the issuer) followed by the request path, compared
//     after normalising scheme and host case and dropping a default port;
//   - iat within kProofWindowSeconds of now, either way;
//   - with an access token (resource requests): ath = base64url(SHA-256(token));
//   - with server nonces on: a nonce this server (or any node sharing its key)
//     handed out at most two nonce slots ago;
//   - jti not seen before: recorded in the state store (Store::RememberOnce,
//     shared by every node) until the proof leaves the iat window, so a proof
//     replayed to any node fails.
// Every failure is kUnauthenticated with a DpopFailure reason whose public
// code is "invalid_dpop_proof" (or "use_dpop_nonce"), and a message that says
// what to fix; the token endpoint turns it into an OAuth 400, the query API
// into a 401 with a DPoP challenge (IsDpopFailure). A replay store failure is
// kUnavailable.
//
// Nonces are stateless: HMAC-SHA256 under a key every node shares (derived
// from the secret-hash key) of the current time slot, so any node accepts
// another's nonce and nothing is stored.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "jose/jwt.h"
#include "store/store.h"

namespace lakegate::oauth {

inline constexpr std::string_view kDpopScheme = "DPoP";
inline constexpr std::string_view kDpopHeader = "DPoP";
inline constexpr std::string_view kDpopNonceHeader = "DPoP-Nonce";
// The JWS algorithms a proof may use (dpop_signing_alg_values_supported).
inline constexpr std::string_view kDpopAlgorithms[] = {"ES256", "EdDSA", "RS256", "PS256"};
// How far a proof's iat may be from the server's clock, either way.
inline constexpr int64_t kProofWindowSeconds = 60;
// A nonce is valid in the slot it was made in and the next one: between
// kNonceSlotSeconds and twice that.
inline constexpr int64_t kNonceSlotSeconds = 120;

enum class DpopFailure {
  kMissing,               // no DPoP header where a proof is required
  kMultiple,              // more than one DPoP header
  kMalformed,             // not a compact JWS of JSON objects, or a claim of the wrong type
  kWrongType,             // typ is not "dpop+jwt"
  kUnsupportedAlgorithm,  // alg is not ES256, EdDSA, RS256 or PS256
  kCriticalHeader,        // a "crit" header
  kBadKey,                // no "jwk" header, or not a supported public key
  kPrivateKey,            // the "jwk" header carries private key members
  kBadSignature,          // the signature does not verify with the "jwk"
  kMissingClaim,          // jti, htm, htu or iat missing (or ath, for a resource request)
  kWrongMethod,           // htm is not the request's method
  kWrongUrl,              // htu is not the URL of the request
  kStale,                 // iat more than kProofWindowSeconds ago
  kFuture,                // iat more than kProofWindowSeconds ahead
  kWrongAth,              // ath is not the hash of the presented access token
  kKeyMismatch,           // the proof's key is not the one the token is bound to
  kBoundTokenAsBearer,    // a DPoP-bound token presented as Bearer (invalid_token)
  kNotBound,              // a token without cnf.jkt presented with the DPoP scheme (invalid_token)
  kReplayed,              // the jti was used before
  kUseNonce,              // nonces are on and the nonce is missing, unknown or stale
  kReplayCheckUnavailable,  // the state store could not record the jti
};

const ReasonDomain& ReasonDomainOf(DpopFailure);

// kUnauthenticated (kUnavailable for kReplayCheckUnavailable) with `reason`
// and `message` (shown to the client: it says what to fix).
Status DpopError(DpopFailure reason, std::string message);
// True when `status` has a DpopFailure reason: its challenge error belongs in
// a DPoP challenge (RFC 9449 §7.1), not a Bearer one.
bool IsDpopFailure(const Status& status);

struct DpopOptions {
  // The public base URLs of this server ("http://127.0.0.1:8080", the issuer
  // first): a proof's htu must be one of them followed by the request path.
  std::vector<std::string> base_urls = {};
  // Demand server nonces (RFC 9449 §8, §9).
  bool require_nonce = false;
  // The HMAC key of the nonces (raw bytes); every node sharing the state
  // store must use the same. Required when require_nonce.
  std::string nonce_key = {};
  size_t max_proof_bytes = 8192;
};

// What a DPoP-carrying request says about itself.
struct DpopRequest {
  std::string_view method = {};  // "POST"
  std::string_view path = {};    // the request path, without the query
  size_t proof_headers = 0;      // how many DPoP headers the request has
  std::string_view proof = {};   // the (first) DPoP header's value
  std::string_view access_token =
      {};  // resource requests: the token presented; "" at the token endpoint
};

// A proof that passed every check but the replay record.
struct CheckedDpopProof {
  std::string jkt = {};  // RFC 7638 SHA-256 thumbprint of the proof key, base64url
  std::string jti = {};
  int64_t iat = 0;
};

// Every stateless check of a proof at `now_seconds` (all but jti replay).
// Fails with a DpopFailure reason. Pure; the fuzz target calls it.
Result<CheckedDpopProof> CheckDpopProof(const DpopRequest& request, const DpopOptions& options,
                                        int64_t now_seconds);

// "scheme://host[:port]/path" with scheme and host lower-cased, a default
// port (80 for http, 443 for https) dropped, an empty path made "/", and query
// and fragment removed; nullopt when `url` is not an absolute http(s) URL with
// a host, or carries userinfo.
std::optional<std::string> NormalizeHttpUrl(std::string_view url);

// The nonce of time slot `slot` under `key`.
std::string DpopNonceForSlot(std::string_view key, int64_t slot);

class DpopVerifier {
 public:
  // `store` (jti records) and `clock` must outlive the verifier.
  DpopVerifier(DpopOptions options, store::Store& store, const Clock& clock);

  // Checks the proof (CheckDpopProof), that its key is `required_jkt` when
  // that is given (kKeyMismatch), and records its jti. Returns the proof
  // key's thumbprint, or a DpopFailure: kReplayed for a jti seen before,
  // kReplayCheckUnavailable when the store fails. May block (a store write).
  Result<std::string> Verify(const DpopRequest& request, std::string_view required_jkt = {}) const;

  // A fresh nonce for a DPoP-Nonce header; "" when nonces are off.
  std::string CurrentNonce() const;
  bool nonces() const { return options_.require_nonce; }
  // "ES256 EdDSA RS256 PS256", for the algs parameter of a DPoP challenge.
  static std::string AlgorithmList();

 private:
  const DpopOptions options_;
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace lakegate::oauth
