// SigV4Authenticator: authenticates a request signed with AWS Signature
// Version 4 (sigv4.h) by one of a client's access keys, and yields the same
// Identity a Bearer token of that client would (client id and name, the
// client's allowed scopes), so role resolution and governance are the same
// on every route that accepts both.
//
// Checks, in order, each failing with its own SigV4Failure reason:
//   the header parses, `host` and `x-amz-date` are signed;
//   the remote address (and the key's client from that address) is not
//     over its failure limit (checked before any secret is touched);
//   the access key exists and its client is enabled;
//   x-amz-date is within max_skew of now, the credential's date is
//     x-amz-date's date, the service is the configured one (any region);
//   the server's own SHA-256 of the body is the payload hash (an
//     X-Amz-Content-Sha256 header is never trusted, only checked: if present
//     it must equal that hash);
//   the signature matches (constant-time comparison).
// Every failure but a rate limit counts toward the failed-authentication
// limits, with the rules of the token endpoint (oauth/client_auth.h): an
// address, or a (client, address) pair, over its limit is refused; a client
// over its own limit gets ThrottlingException for further failures while its
// correct signatures still pass.
//
// The state is read from StateCache snapshots (no store round trip per
// request). Signing keys (the HMAC chain of a secret, date, region and
// service) are cached, keyed by the sealed secret so a re-created key never
// hits an old entry. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "gateway/sigv4.h"
#include "gateway/token_issuer.h"
#include "http/message.h"
#include "oauth/access_key.h"
#include "oauth/rate_limiter.h"
#include "store/state_cache.h"

namespace lakegate::gateway {

// Each reason's public code is the AWS error type (`__type`) its response
// carries.
enum class SigV4Failure {
  kIncompleteSignature,  // 400 IncompleteSignatureException: malformed or unsigned required parts
  kUnknownAccessKey,     // 403 UnrecognizedClientException: no such key, or its client is disabled
  kSignatureMismatch,    // 403 InvalidSignatureException
  kExpired,              // 403 InvalidSignatureException: x-amz-date outside the allowed skew
  kWrongScope,           // 403 InvalidSignatureException: credential date or service
  kPayloadHashMismatch,  // 400 InvalidSignatureException: X-Amz-Content-Sha256 is not the body's
  kRateLimited,          // 400 ThrottlingException, with Retry-After
  kKeyUnreadable,        // 500 InternalFailure: the sealed secret does not open on this node
};

const ReasonDomain& ReasonDomainOf(SigV4Failure);

// A status with `reason`, its status code and `message` (shown to the client).
Status SigV4Error(SigV4Failure reason, std::string message);

struct SigV4Options {
  std::string service = "athena";      // the credential scope's service
  int64_t max_skew_seconds = 15 * 60;  // as AWS
  // The failed-authentication buckets, shared with the token endpoint so that
  // a guesser gains nothing by switching doors; null = own default ones.
  std::shared_ptr<oauth::FailedAuthLimits> failed_auth = {};
  size_t max_cached_signing_keys = 4096;
};

class SigV4Authenticator {
 public:
  using StateProvider = std::function<std::shared_ptr<const store::StateSnapshot>()>;

  // `issuer` is this deployment's own token issuer (the identity is ours,
  // like a token we issued). `clock` must outlive this object.
  SigV4Authenticator(SigV4Options options, StateProvider state, oauth::AccessKeySealer sealer,
                     std::string issuer, const Clock& clock);

  // Authenticates a request whose Authorization header uses AWS4-HMAC-SHA256.
  // Fails with a SigV4Failure reason (see above); the message says what
  // failed (AWS's wording where AWS has one).
  Result<std::shared_ptr<const Identity>> Authenticate(const http::Request& request);

  size_t cached_signing_keys() const EXCLUDES(mutex_);

 private:
  Result<std::shared_ptr<const Identity>> Check(const http::Request& request,
                                                const store::StateSnapshot& state,
                                                std::string& limiter_client);
  // The signing key for `record`'s secret and `credential`, cached.
  Result<std::string> SigningKeyFor(const store::AccessKeyRecord& record,
                                    const sigv4::Credential& credential) EXCLUDES(mutex_);

  const SigV4Options options_;
  const StateProvider state_;
  const oauth::AccessKeySealer sealer_;
  const std::string issuer_;
  const Clock& clock_;
  const std::shared_ptr<oauth::FailedAuthLimits> limits_;

  mutable Mutex mutex_;
  std::unordered_map<std::string, std::string> signing_keys_ GUARDED_BY(mutex_);
};

}  // namespace lakegate::gateway
