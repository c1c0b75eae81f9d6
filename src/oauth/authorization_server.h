// AuthorizationServer: the OAuth 2.0 endpoints of lakegate, independent of
// HTTP plumbing: token (RFC 6749 §4.4 client credentials), introspection
// (RFC 7662), revocation (RFC 7009), JWKS (RFC 7517) and metadata (RFC 8414).
//
// Each endpoint takes the parts of the request it needs and returns the JSON
// to send, or a failed Status with an OAuthError reason that the HTTP layer
// renders as RFC 6749 §5.2 (http/error_response.h).
//
// Clients, scopes, signing keys and revocations come from the state cache's
// snapshot (rebuilt into this server's views whenever the cache publishes), so
// the token path does no I/O apart from the asynchronous audit line; only a
// revocation writes to the store. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "audit/events.h"
#include "audit/metrics.h"
#include "common/clock.h"
#include "common/status.h"
#include "oauth/client_auth.h"
#include "oauth/client_secret.h"
#include "oauth/dpop.h"
#include "oauth/form.h"
#include "oauth/key_manager.h"
#include "oauth/private_key_jwt.h"
#include "oauth/tls_client_auth.h"
#include "store/state_cache.h"
#include "store/store.h"

namespace lakegate::oauth {

// Mutual TLS (RFC 8705) at the token endpoint.
struct MutualTlsServerOptions {
  // A TLS listener asks clients for certificates: the metadata says
  // tls_client_certificate_bound_access_tokens: true.
  bool enabled = false;
  // The https:// base URL of that listener when the issuer's endpoints are
  // not it (the demo: issuer http://…:N, TLS on another port): the metadata
  // names its endpoints in mtls_endpoint_aliases (RFC 8705 §5). "" = none.
  std::string endpoint_base = {};
  // Bind every token requested with a client certificate, whatever the
  // client-auth method (clients can also ask for it in their registration).
  bool bind_all_tokens = false;
  // What tls_client_auth certificates must chain to; null = no such client
  // can authenticate.
  std::shared_ptr<const crypto::TrustAnchors> trust_anchors = {};
};

struct AuthServerOptions {
  std::string issuer;  // e.g. "http://127.0.0.1:8080"; no trailing slash
  crypto::Algorithm algorithm = crypto::Algorithm::kES256;
  std::vector<std::string> audience;     // fixed "aud"; empty = the resource servers of the scopes
  bool scope_omitted_grants_all = true;  // Cognito: no scope parameter = every allowed scope
  ClientAuthLimits client_auth;
  // The failed-authentication buckets, when shared with other authenticators
  // (SigV4); null = the server's own, from `client_auth`.
  std::shared_ptr<FailedAuthLimits> failed_auth = {};
  int64_t leeway_seconds = 60;
  // Label the token-request counter with the client id. Off by default: the
  // metrics endpoint is unauthenticated, and client ids are half of a
  // credential that strangers should not be handed.
  bool metrics_client_labels = false;
  // The keys of private_key_jwt clients registered with a jwks_uri (null:
  // such clients cannot authenticate).
  JwksUriKeys client_jwks_uri_keys = {};
  // DPoP (RFC 9449): the base URLs a proof's htu may name (the issuer is
  // always one), and server nonces.
  DpopOptions dpop = {};
  MutualTlsServerOptions mtls = {};
};

// A successful endpoint answer (status 200 unless said otherwise).
struct EndpointResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
using EndpointResult = Result<EndpointResponse>;

class AuthorizationServer {
 public:
  // `store` takes the writes (revocations, key maintenance) and must hold the
  // data `state` caches. `audit` and `metrics` may be null. The server
  // subscribes to `state`; refresh the cache once before serving.
  AuthorizationServer(AuthServerOptions options, store::Store& store, store::StateCache& state,
                      SecretHasher hasher, const Clock& clock, audit::AuditLog* audit,
                      audit::Metrics* metrics);

  // Makes sure a current signing key exists (of the configured algorithm when
  // `at_startup`), forgets keys and revocations nobody can use any more, and
  // refreshes the state cache. The store's errors.
  Status Maintain(bool at_startup);

  EndpointResult Token(const EndpointRequest& request);
  // True when answering `request` at the token, introspection or revocation
  // endpoint may block (a client assertion's key fetch and jti record), so
  // the caller runs it on a worker rather than a network thread. A cheap
  // look at the body, not a parse: it may say true for a request that turns
  // out not to block.
  static bool MayBlock(const EndpointRequest& request);
  // A fresh DPoP nonce for the DPoP-Nonce header of every response, "" when
  // server nonces are off.
  std::string DpopNonce() const { return dpop_.CurrentNonce(); }
  const DpopVerifier& dpop() const { return dpop_; }
  EndpointResult Introspect(const EndpointRequest& request);
  EndpointResult Revoke(const EndpointRequest& request);
  const std::string& Issuer() const { return options_.issuer; }
  // The current JWKS document.
  std::string JwksJson() const;
  // RFC 8414 metadata (also served as the OpenID discovery document).
  std::string MetadataJson() const;

 private:
  // What the endpoints read, derived from one state snapshot.
  struct Directory {
    std::shared_ptr<const store::StateSnapshot> state;
    std::unordered_map<std::string, std::string> resource_server_of_scope;
    std::vector<std::string> scopes_supported;
  };
  // A token presented to introspection or revocation that checked out.
  struct OwnToken {
    jose::AccessTokenClaims claims;
  };

  void Rebuild(const std::shared_ptr<const store::StateSnapshot>& state);
  // The shared start of introspection and revocation: a form body with a
  // `token`, from an authenticated client.
  struct TokenArgument {
    std::string token;
    std::string caller_client_id;
  };
  Result<TokenArgument> ParseTokenArgument(const EndpointRequest& request);
  // Verifies one of our own tokens against the current keys and standing.
  Result<OwnToken> VerifyOwnToken(std::string_view token) const;
  Status RecordTokenFailure(const Status& failure, std::string_view client_id,
                            std::string_view client_name, std::string_view requested_scope,
                            std::string_view remote);
  void AuditToken(const audit::TokenEvent& event);
  // The mutual-TLS members of the metadata (with a leading comma), or "".
  std::string MutualTlsMetadata() const;
  std::shared_ptr<const Directory> directory() const { return std::atomic_load(&directory_); }

  const AuthServerOptions options_;
  store::Store& store_;
  store::StateCache& state_;
  const SecretHasher hasher_;
  const Clock& clock_;
  audit::AuditLog* const audit_;
  ClientAuthenticator client_auth_;
  KeyManager keys_;
  DpopVerifier dpop_;
  audit::Counter* tokens_counter_ = nullptr;    // labels (outcome) or (client, outcome)
  std::shared_ptr<const Directory> directory_;  // atomic_load / atomic_store only
};

}  // namespace lakegate::oauth
