#include "oauth/dpop.h"

#include <iterator>
#include <utility>

#include "common/base64url.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "jose/jwk.h"
#include "jose/jwt.h"

namespace lakegate::oauth {
namespace {

constexpr std::string_view kInvalidProof = "invalid_dpop_proof";

// Indexed by DpopFailure. Every proof failure is "invalid_dpop_proof" to the
// client (RFC 9449 §5, §7.1); the name tells the log and the audit line which
// check failed.
constexpr ReasonInfo kInfos[] = {
    {.name = "missing", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "multiple", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "malformed", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "wrong_type", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "unsupported_algorithm",
     .public_code = kInvalidProof,
     .challenge_error = kInvalidProof},
    {.name = "critical_header", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "bad_key", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "private_key", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "bad_signature", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "missing_claim", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "wrong_method", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "wrong_url", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "stale", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "future", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "wrong_ath", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "key_mismatch", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "bound_token_as_bearer",
     .public_code = "invalid_token",
     .challenge_error = "invalid_token"},
    {.name = "not_bound", .public_code = "invalid_token", .challenge_error = "invalid_token"},
    {.name = "replayed", .public_code = kInvalidProof, .challenge_error = kInvalidProof},
    {.name = "use_nonce", .public_code = "use_dpop_nonce", .challenge_error = "use_dpop_nonce"},
    {.name = "replay_check_unavailable",
     .public_code = "unavailable",
     .public_message = "the DPoP proof could not be checked for replay; retry"},
};
static_assert(std::size(kInfos) == static_cast<size_t>(DpopFailure::kReplayCheckUnavailable) + 1,
              "one ReasonInfo per DpopFailure");

constexpr ReasonDomain kDomain("dpop", kInfos, static_cast<int>(std::size(kInfos)));

constexpr size_t kMaxJtiBytes = 256;

Status Fail(DpopFailure reason, std::string message) {
  return DpopError(reason, std::move(message));
}

std::string Shown(std::string_view s) { return "\"" + std::string(s.substr(0, 96)) + "\""; }

// The base URL normalised without its trailing slash, so that base + path is
// a normalised URL for any path starting with '/'.
std::string NormalizedBase(std::string_view base) {
  std::optional<std::string> url = NormalizeHttpUrl(base);
  if (!url) return std::string(base);
  if (!url->empty() && url->back() == '/') url->pop_back();
  return *url;
}

// The header alg decides between the two uses of an RSA key: a "jwk" without
// "alg" reads as RS256, and a PS256 proof with it is just as valid.
std::optional<crypto::PublicKey> KeyForAlgorithm(const crypto::PublicKey& key,
                                                 crypto::Algorithm alg) {
  if (key.algorithm() == alg) return key;
  if (!crypto::IsRsa(alg) || !crypto::IsRsa(key.algorithm())) return std::nullopt;
  crypto::PublicKeyParams params = key.Params();
  params.algorithm = alg;
  Result<crypto::PublicKey> rebuilt = crypto::PublicKey::FromParams(params);
  if (!rebuilt.ok()) return std::nullopt;
  return *rebuilt;
}

bool NonceMatches(std::string_view nonce, std::string_view key, int64_t now) {
  const int64_t slot = now / kNonceSlotSeconds;
  return crypto::ConstantTimeEquals(nonce, DpopNonceForSlot(key, slot)) ||
         crypto::ConstantTimeEquals(nonce, DpopNonceForSlot(key, slot - 1));
}

}  // namespace

const ReasonDomain& ReasonDomainOf(DpopFailure) { return kDomain; }

Status DpopError(DpopFailure reason, std::string message) {
  StatusCode code = reason == DpopFailure::kReplayCheckUnavailable ? StatusCode::kUnavailable
                                                                   : StatusCode::kUnauthenticated;
  return Status(code, reason, std::move(message));
}

bool IsDpopFailure(const Status& status) { return status.reason<DpopFailure>().has_value(); }

std::optional<std::string> NormalizeHttpUrl(std::string_view url) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  std::string scheme = AsciiLower(url.substr(0, colon));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(colon + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  path = path.substr(0, path.find_first_of("?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {  // an IPv6 literal
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  // A colon outside an IPv6 literal can only start the port: "a:b:80" is no
  // host (and would normalise to "a:b", which reads differently again).
  if (host.empty() || (host.front() != '[' && host.find(':') != std::string_view::npos)) {
    return std::nullopt;
  }
  for (char ch : port) {
    if (ch < '0' || ch > '9') return std::nullopt;
  }
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port = {};

  std::string out = scheme + "://" + AsciiLower(host);
  if (!port.empty()) {
    out += ':';
    out += port;
  }
  out += path.empty() ? std::string_view("/") : path;
  return out;
}

std::string DpopNonceForSlot(std::string_view key, int64_t slot) {
  const std::string mac = crypto::HmacSha256(key, "lakegate dpop nonce " + std::to_string(slot));
  return Base64UrlEncode(std::string_view(mac).substr(0, 18));
}

Result<CheckedDpopProof> CheckDpopProof(const DpopRequest& request, const DpopOptions& options,
                                        int64_t now) {
  if (request.proof_headers == 0 || request.proof.empty()) {
    return Fail(DpopFailure::kMissing, "a DPoP proof is required: send a DPoP header");
  }
  if (request.proof_headers > 1) {
    return Fail(DpopFailure::kMultiple, "send exactly one DPoP header");
  }
  Result<jose::SignedJwt> parsed = jose::ParseSignedJwt(request.proof, options.max_proof_bytes);
  if (!parsed.ok()) {
    return Fail(DpopFailure::kMalformed, "the DPoP proof is not a well-formed signed JWT (" +
                                             parsed.status().message() + ")");
  }
  const jose::SignedJwt& jwt = *parsed;
  const jose::JwtClaims& c = jwt.claims;

  // Header: a DPoP proof, asymmetrically signed by the public key it carries.
  if (!EqualsIgnoreCase(jwt.typ, "dpop+jwt")) {
    return Fail(DpopFailure::kWrongType,
                "the DPoP proof's typ is " + Shown(jwt.typ) + "; it must be \"dpop+jwt\"");
  }
  std::optional<crypto::Algorithm> alg = crypto::ParseAlgorithm(jwt.alg);
  if (!alg) {
    return Fail(DpopFailure::kUnsupportedAlgorithm, "the DPoP proof's alg " + Shown(jwt.alg) +
                                                        " is not accepted; sign with " +
                                                        DpopVerifier::AlgorithmList());
  }
  if (jwt.crit) {
    return Fail(DpopFailure::kCriticalHeader,
                "the DPoP proof has a crit header; no extension is supported");
  }
  if (!jwt.has_jwk) {
    return Fail(DpopFailure::kBadKey, "the DPoP proof has no jwk header with its public key");
  }
  // A private key in the header is a key already given away (RFC 9449 §4.3
  // check 7): refuse it rather than bind a token to it.
  if (jwt.jwk_has_private_members) {
    return Fail(DpopFailure::kPrivateKey,
                "the DPoP proof's jwk header contains private key material; send the public key "
                "only");
  }
  if (!jwt.jwk) {
    return Fail(DpopFailure::kBadKey,
                "the DPoP proof's jwk is not a supported public key (EC P-256, Ed25519 or RSA of "
                "2048 bits or more)");
  }
  std::optional<crypto::PublicKey> key = KeyForAlgorithm(*jwt.jwk, *alg);
  if (!key || !jose::VerifySignature(jwt, *key)) {
    return Fail(DpopFailure::kBadSignature,
                "the DPoP proof's signature does not verify with its jwk (alg " + jwt.alg + ")");
  }

  // Claims.
  const char* missing = !c.jti ? "jti" : !c.htm ? "htm" : !c.htu ? "htu" : !c.iat ? "iat" : nullptr;
  if (missing != nullptr) {
    return Fail(DpopFailure::kMissingClaim, std::string("the DPoP proof has no ") + missing);
  }
  if (c.jti->empty() || c.jti->size() > kMaxJtiBytes) {
    return Fail(DpopFailure::kMalformed, "the DPoP proof's jti must be 1 to 256 characters");
  }
  if (*c.htm != request.method) {
    return Fail(DpopFailure::kWrongMethod, "the DPoP proof's htm is " + Shown(*c.htm) +
                                               " but the request method is " +
                                               std::string(request.method));
  }
  std::optional<std::string> htu = NormalizeHttpUrl(*c.htu);
  bool url_matches = false;
  for (const std::string& base : options.base_urls) {
    url_matches = url_matches || (htu && *htu == NormalizedBase(base) + std::string(request.path));
  }
  if (!url_matches) {
    const std::string expected =
        options.base_urls.empty()
            ? std::string(request.path)
            : NormalizedBase(options.base_urls.front()) + std::string(request.path);
    return Fail(DpopFailure::kWrongUrl, "the DPoP proof's htu is " + Shown(*c.htu) +
                                            "; it must be the request URL " + expected);
  }
  if (options.require_nonce && (!c.nonce || !NonceMatches(*c.nonce, options.nonce_key, now))) {
    return Fail(DpopFailure::kUseNonce,
                c.nonce ? "the DPoP nonce is stale; use the one in the DPoP-Nonce header"
                        : "this server requires a DPoP nonce; use the one in the DPoP-Nonce "
                          "header");
  }
  if (*c.iat < now - kProofWindowSeconds) {
    return Fail(DpopFailure::kStale, "the DPoP proof is too old (iat more than " +
                                         std::to_string(kProofWindowSeconds) +
                                         " seconds ago); make a new proof for every request");
  }
  if (*c.iat > now + kProofWindowSeconds) {
    return Fail(DpopFailure::kFuture, "the DPoP proof's iat is more than " +
                                          std::to_string(kProofWindowSeconds) +
                                          " seconds in the future; check the client's clock");
  }
  if (!request.access_token.empty()) {
    if (!c.ath) {
      return Fail(DpopFailure::kMissingClaim,
                  "the DPoP proof has no ath; set it to the base64url SHA-256 hash of the access "
                  "token");
    }
    const std::string expected = Base64UrlEncode(crypto::Sha256(request.access_token));
    if (!crypto::ConstantTimeEquals(*c.ath, expected)) {
      return Fail(DpopFailure::kWrongAth,
                  "the DPoP proof's ath is not the hash of the access token it is sent with");
    }
  }
  return CheckedDpopProof{.jkt = jose::Thumbprint(*key), .jti = *c.jti, .iat = *c.iat};
}

DpopVerifier::DpopVerifier(DpopOptions options, store::Store& store, const Clock& clock)
    : options_(std::move(options)), store_(store), clock_(clock) {}

Result<std::string> DpopVerifier::Verify(const DpopRequest& request,
                                         std::string_view required_jkt) const {
  const int64_t now = clock_.NowSeconds();
  LG_ASSIGN_OR_RETURN(CheckedDpopProof proof, CheckDpopProof(request, options_, now));
  // RFC 9449 §7.1: the proof must come from the key the token is bound to.
  if (!required_jkt.empty() && !crypto::ConstantTimeEquals(proof.jkt, required_jkt)) {
    return Fail(DpopFailure::kKeyMismatch,
                "the DPoP proof is signed by another key than the one the access token is bound "
                "to");
  }
  // Last, so that a proof failing any other check does not use up its jti.
  // Once the iat leaves the window the proof is refused anyway.
  Result<bool> fresh = store_.RememberOnce("dpop " + proof.jkt + " " + proof.jti,
                                           proof.iat + kProofWindowSeconds + 1, now);
  if (!fresh.ok()) {
    return Fail(DpopFailure::kReplayCheckUnavailable,
                "cannot record the DPoP proof's jti: " + fresh.status().ToString());
  }
  if (!*fresh) {
    return Fail(DpopFailure::kReplayed,
                "the DPoP proof's jti was already used (a replayed proof); make a new proof for "
                "every request");
  }
  return std::move(proof.jkt);
}

std::string DpopVerifier::CurrentNonce() const {
  if (!options_.require_nonce) return {};
  return DpopNonceForSlot(options_.nonce_key, clock_.NowSeconds() / kNonceSlotSeconds);
}

std::string DpopVerifier::AlgorithmList() {
  std::string out;
  for (std::string_view alg : kDpopAlgorithms) {
    if (!out.empty()) out += ' ';
    out += alg;
  }
  return out;
}

}  // namespace lakegate::oauth
