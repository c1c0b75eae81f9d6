// AuthorizationServer: the OAuth 2.0 endpoints of lakegate, independent of
// HTTP plumbing: token (RFC 6749 §4.4 client credentials), introspection
// (RFC 7662), revocation (RFC 7009), JWKS (RFC 7517) and metadata (RFC 8414).
//
// Each endpoint takes the parts of the request it needs and returns the status,
// headers and JSON body to send. This is the only place that maps Status to
// RFC 6749 error strings.
//
// Clients, scopes and revocations are served from an in-memory snapshot that
// Reload() rebuilds from the state store (the app calls it when the store's
// change counter moves), so the token path does no I/O apart from the
// asynchronous audit line. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "audit/metrics.h"
#include "common/clock.h"
#include "common/strings.h"
#include "common/status.h"
#include "jose/claims.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "oauth/client_secret.h"
#include "oauth/key_manager.h"
#include "oauth/rate_limiter.h"
#include "store/store.h"

namespace lakegate::oauth {

struct AuthServerOptions {
  std::string issuer;                   // e.g. "http://127.0.0.1:8080"; no trailing slash
  crypto::Algorithm algorithm = crypto::Algorithm::kES256;
  std::vector<std::string> audience;    // fixed "aud"; empty = the resource servers of the scopes
  bool scope_omitted_grants_all = true;  // Cognito: no scope parameter = every allowed scope
  int failed_auth_per_minute_per_client = 20;
  int failed_auth_per_minute_per_address = 60;
  size_t limiter_max_keys = 100000;
  int64_t leeway_seconds = 60;
};

struct EndpointRequest {
  std::string_view content_type;
  std::string_view authorization;   // the Authorization header, "" if absent
  std::string_view body;
  std::string_view remote_address;
};

struct EndpointResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Why a token was accepted, for the query gateway.
struct TokenIdentity {
  jose::AccessTokenClaims claims;
  std::string client_name;  // "" when the client is not ours (or was deleted)
};

class AuthorizationServer {
 public:
  // `audit` and `metrics` may be null. Call Reload() before serving.
  AuthorizationServer(AuthServerOptions options, store::Store& store, SecretHasher hasher,
                      const Clock& clock, audit::AuditLog* audit, audit::Metrics* metrics);

  // Rebuilds the client, scope, key and revocation snapshots from the store.
  Status Reload();

  EndpointResponse Token(const EndpointRequest& request);
  EndpointResponse Introspect(const EndpointRequest& request);
  EndpointResponse Revoke(const EndpointRequest& request);
  const std::string& Issuer() const { return options_.issuer; }
  // The current JWKS document.
  std::string JwksJson() const;
  // RFC 8414 metadata (also served as the OpenID discovery document).
  std::string MetadataJson() const;

  // Verifies one of our own access tokens (signature, time, issuer,
  // revocation). kUnauthenticated with a specific message on failure.
  Result<TokenIdentity> VerifyOwnToken(std::string_view token) const;
  bool IsRevoked(std::string_view jti) const;

  const KeyManager& keys() const { return keys_; }

 private:
  struct Client {
    store::ClientRecord record;
    std::vector<std::string> audience;  // resource servers of its scopes
  };
  struct Directory {
    std::unordered_map<std::string, Client> by_id;
    std::unordered_map<std::string, std::string> resource_server_of_scope;
    std::vector<std::string> scopes_supported;
  };
  // The outcome of client authentication.
  struct Authenticated {
    std::shared_ptr<const Directory> directory;
    const Client* client = nullptr;
  };

  Result<Authenticated> AuthenticateClient(const EndpointRequest& request,
                                           const FormFields& form, std::string& client_id_out,
                                           int64_t& retry_after);
  // The shared start of introspection and revocation: a form body with a
  // `token`, from an authenticated client. Sets `token` and the caller's
  // client id, or returns the error response to send.
  std::optional<EndpointResponse> ParseTokenRequest(const EndpointRequest& request,
                                                    std::string& token,
                                                    std::string& caller_client_id);
  EndpointResponse Error(int status, std::string_view error, std::string_view description) const;
  EndpointResponse ClientAuthError(const Status& status, int64_t retry_after) const;
  void AuditToken(std::string_view client_id, std::string_view client_name,
                  std::string_view requested, std::string_view granted, std::string_view outcome,
                  std::string_view reason, std::string_view remote, std::string_view jti);
  std::shared_ptr<const Directory> directory() const { return std::atomic_load(&directory_); }

  const AuthServerOptions options_;
  store::Store& store_;
  const SecretHasher hasher_;
  const Clock& clock_;
  audit::AuditLog* const audit_;
  KeyManager keys_;
  FailureLimiter client_limiter_;
  FailureLimiter address_limiter_;
  audit::Counter* tokens_counter_ = nullptr;
  std::atomic<bool> loaded_once_{false};
  std::shared_ptr<const Directory> directory_;  // atomic_load / atomic_store only

  mutable std::shared_mutex revoked_mutex_;
  std::unordered_map<std::string, int64_t> revoked_;  // GUARDED_BY(revoked_mutex_): jti -> exp
};

}  // namespace lakegate::oauth
