// TokenClient: access tokens for one client of one lakegate endpoint, by the
// client-credentials grant (RFC 6749 §4.4), reused from a TokenCache while
// they are good.
//
// Thread-safety: the TokenClient itself holds no mutable state (the cache is
// on disk), so it is as thread-safe as its authenticator, which is by
// contract.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "client/client_auth.h"
#include "client/token_cache.h"
#include "common/clock.h"
#include "common/secret_string.h"
#include "common/status.h"
#include "crypto/keys.h"
#include "http/client.h"

namespace lakegate::client {

struct AccessToken {
  SecretString value;
  int64_t expires_at = 0;  // Unix seconds; 0 = unknown (such a token is not cached)
  bool from_cache = false;
  // A DPoP-bound token (token_type "DPoP"): the key every request with it
  // must prove possession of. Null for a bearer token.
  std::shared_ptr<const crypto::PrivateKey> dpop_key = nullptr;
};

// The DPoP proof header value for one request (RFC 9449 §4.2) with `token`'s
// key: htm `method`, htu `url`, ath of the token, and `nonce` when the server
// gave one. Internal when signing fails; InvalidArgument for a bearer token.
Result<std::string> DpopProofFor(const AccessToken& token, std::string_view method,
                                 std::string_view url, std::string_view nonce, const Clock& clock);

struct TokenClientOptions {
  std::string endpoint;  // as normalized by NormalizeEndpoint
  std::string client_id;
  std::string scope;             // space-separated scopes to ask for; "" = all the client may have
  std::string certificate = {};  // the TLS client certificate file in use ("" = none)
  std::chrono::milliseconds timeout{30000};
  // DPoP (RFC 9449): ask for tokens bound to a key, proving possession of it
  // on every request. The key is dpop_key, else a fresh P-256 key made for
  // each new token (kept in the token cache beside it).
  bool dpop = false;
  std::shared_ptr<const crypto::PrivateKey> dpop_key = nullptr;
};

class TokenClient {
 public:
  // `http` and `clock` must outlive the TokenClient. Without an
  // `authenticator` only cached tokens can be had. A disabled `cache`
  // (TokenCache with dir "") reads and writes nothing.
  TokenClient(TokenClientOptions options, const http::Client& http,
              std::unique_ptr<const ClientAuthenticator> authenticator, TokenCache cache,
              const Clock& clock);

  // The cached token when it is good for more than TokenCache::kExpirySlack,
  // else a new one (which is cached when its expiry is known). Errors, each
  // with a message starting "token request failed" except the first:
  //   InvalidArgument ApiFailure::kNoCredentials: a new token is needed and
  //     there is no authenticator;
  //   the http::ClientFailure status of the transfer ("cannot reach URL: ...");
  //   Unauthenticated ApiFailure::kTokenRefused: the server answered an OAuth
  //     error ("invalid_client: ...", "invalid_scope: ...");
  //   Unavailable ApiFailure::kTokenEndpointError: another error status;
  //   Internal ApiFailure::kMalformedResponse: a 200 without access_token.
  // With DPoP, the token request carries a proof; a use_dpop_nonce answer is
  // retried once with the server's DPoP-Nonce.
  Result<AccessToken> Get() const;

  // Drops the cached token and requests a new one: for when the server no
  // longer accepts the cached one (revoked, signing key rotated). Errors as
  // Get().
  Result<AccessToken> Refresh() const;

  const std::string& endpoint() const { return options_.endpoint; }
  const Clock& clock() const { return clock_; }

 private:
  Result<AccessToken> Request() const;
  // One token request; `nonce` for the DPoP proof ("" = none).
  Result<http::ClientResponse> Send(const crypto::PrivateKey* dpop_key,
                                    std::string_view nonce) const;
  TokenKey Key() const;

  const TokenClientOptions options_;
  const http::Client& http_;
  const std::unique_ptr<const ClientAuthenticator> authenticator_;
  const TokenCache cache_;
  const Clock& clock_;
};

}  // namespace lakegate::client
