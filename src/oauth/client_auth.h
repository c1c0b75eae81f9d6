// Client authentication at the token, introspection and revocation endpoints
// (RFC 6749 §2.3): which method a request uses, who it claims to be, whether
// the credentials check out, and the failed-authentication limits.
//
// Each method (client_secret_basic, client_secret_post, private_key_jwt,
// tls_client_auth with self_signed_tls_client_auth) is one ClientAuthMethod; the
// ClientAuthenticator owns the rules every method shares:
//   - a request using more than one method is invalid_request (RFC 6749 §2.3:
//     "MUST NOT use more than one authentication method in each request"),
//     whether or not each is well-formed;
//   - a request using none, naming an unknown client, or failing the check is
//     invalid_client; a secret that does not match gets the same message
//     whatever went wrong, while a method whose failures reveal no secret
//     (a signed assertion) may say precisely what to fix;
//   - failed attempts that could be guesses (a wrong secret, an unknown
//     client) are limited so that nobody can lock a client out by failing in
//     its name from somewhere else:
//       per remote address and per (client id, remote address): an address
//       whose bucket is empty is refused (rate_limited with Retry-After)
//       before any credential is checked;
//       per client id: once the client's bucket is empty, further *failures*
//       for it are answered rate_limited instead of invalid_client, but a
//       correct credential is always checked and accepted.
//     A client presenting its correct secret from its own address is never
//     refused on account of other addresses' failures.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "oauth/form.h"
#include "oauth/rate_limiter.h"
#include "store/state_cache.h"

namespace lakegate::oauth {

// One way for a client to prove who it is. Implementations are immutable and
// thread-safe.
class ClientAuthMethod {
 public:
  virtual ~ClientAuthMethod() = default;
  // The name used in token_endpoint_auth_methods_supported (RFC 8414).
  virtual std::string_view name() const = 0;
  // Every name the method serves in the metadata (one object may serve
  // several methods whose requests look alike, told apart by the client's
  // registration: tls_client_auth and self_signed_tls_client_auth).
  virtual std::vector<std::string_view> metadata_names() const { return {name()}; }
  // Whether the request uses this method at all (sends any of its
  // parameters or headers), well-formed or not.
  virtual bool Present(const FormRequest& request) const = 0;
  // The client id a request that uses this method claims. An OAuthError
  // (kInvalidRequest, or kInvalidClient for a method whose every failure is
  // the client's) when it uses it malformed; the message says how to fix it.
  virtual Result<std::string> Claim(const FormRequest& request) const = 0;
  // Checks the presented credentials against `client`'s registration at
  // `now_seconds`: OK; a status with an OAuthError reason, sent as it is
  // (kInvalidClient with a precise description, or kUnavailable when a
  // dependency failed); or any other failure, which the client sees only as
  // "invalid client credentials". May block (a key fetch, a store write) in
  // methods whose blocks() is true.
  virtual Status Verify(const FormRequest& request, const store::ClientRecord& client,
                        int64_t now_seconds) const = 0;
  // True when Verify may block, so that callers move such requests off the
  // network threads.
  virtual bool blocks() const { return false; }
  // True when a described failure (one with an OAuthError reason) still
  // counts toward the failed-authentication limits, like a wrong secret: the
  // method's failures could be someone trying credentials they hold (a
  // certificate) against other clients' names.
  virtual bool counts_failures() const { return false; }
  // Does the work of a Verify for a client that does not exist, so response
  // times do not tell which client ids exist.
  virtual void VerifyUnknown(const FormRequest& request) const = 0;
};

class ClientAuthenticator {
 public:
  // `limits` may be shared with other authenticators (never null).
  ClientAuthenticator(std::vector<std::unique_ptr<ClientAuthMethod>> methods,
                      std::shared_ptr<FailedAuthLimits> limits, const Clock& clock);

  struct Authenticated {
    const store::ClientRecord* client = nullptr;  // points into the snapshot passed in
    std::string_view method;
  };

  // Authenticates `request` against the clients of `state` (the caller keeps
  // it alive while it uses the result). `claimed_client_id` receives the id
  // the request claimed, even on failure (for the audit line). Errors:
  // OAuthError kInvalidRequest, kInvalidClient, kRateLimited (with
  // retry_after()).
  Result<Authenticated> Authenticate(const FormRequest& request, const store::StateSnapshot& state,
                                     std::string& claimed_client_id);

  // The method names, in registration order.
  std::vector<std::string> method_names() const;
  // Whether authenticating `request` may block (it uses a method that does).
  bool MayBlock(const FormRequest& request) const;

 private:
  const std::vector<std::unique_ptr<ClientAuthMethod>> methods_;
  const Clock& clock_;
  const std::shared_ptr<FailedAuthLimits> limits_;
};

}  // namespace lakegate::oauth
