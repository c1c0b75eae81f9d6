// GatewayOptions: everything the query gateway is configured with. The app
// fills it from the stack file. Plain value types; thread-compatible.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lakegate::gateway {

// An external issuer whose access tokens we accept (a Cognito user pool,
// Keycloak, another lakegate). Its keys come only from `jwks_uri`.
struct TrustedIssuer {
  std::string issuer;    // exact "iss" value
  std::string jwks_uri;  // https://..., or http:// to a loopback address
  std::optional<std::string>
      audience;  // unset: "aud" not checked (Cognito access tokens have none)
  std::optional<std::string> token_use;  // Cognito: "access"
  bool require_at_jwt_typ = false;       // RFC 9068 typ "at+jwt"
  bool require_client_id = true;         // false: "sub" stands in for the client id
  // An unknown kid triggers at most one JWKS fetch per interval, so tokens with
  // random kids cannot make us hammer the issuer.
  std::chrono::seconds refresh_min_interval{60};
};

// Maps one client to a role. Exactly one of client_id / client_name is set;
// names match only our own clients (an external token carries no name). A
// client_id rule matches tokens of `issuer` only (exact "iss"); without one,
// lakegate's own tokens only: another issuer may hand out the same client_id.
struct ClientRule {
  std::string client_id;
  std::string client_name;
  std::string role;
  std::string issuer;  // client_id rules: "" = lakegate's own issuer
};

// Maps a scope to a role; the first rule whose scope the token has wins.
struct ScopeRule {
  std::string scope;
  std::string role;
};

// Which scopes allow which statement classes.
struct ScopeNames {
  std::string read = "athena-api/query.read";
  std::string write = "athena-api/query.write";
  std::string admin = "athena-api/query.admin";
};

struct GatewayOptions {
  // --- bearer validation ---
  std::vector<TrustedIssuer> trusted_issuers;
  int64_t leeway_seconds = 60;
  size_t max_token_bytes = 8 * 1024;
  size_t token_cache_entries = 10000;
  std::chrono::seconds token_cache_ttl{300};  // a cached token is re-verified after this
  std::chrono::milliseconds jwks_fetch_timeout{5000};
  bool allow_insecure_jwks_http = false;  // permit http:// JWKS URIs to non-loopback hosts

  // --- role resolution ---
  ScopeNames scopes;
  std::vector<ClientRule> client_rules;  // ordered, tried first
  std::vector<ScopeRule> scope_rules;    // ordered, tried next

  // --- queries ---
  std::string default_database = "analytics";
  std::chrono::milliseconds query_timeout{30000};
  int64_t max_rows = 10000;                      // "maxRows" is capped at this
  int64_t max_result_bytes = 64ll << 20;         // encoded body size
  int64_t max_query_memory_bytes = 256ll << 20;  // the engine memory one query may hold
  int max_concurrent_per_client = 4;             // running at once; more wait in a queue
  int max_queued_per_client = 256;               // waiting beyond the running ones; beyond it: 429
  // Requests (of all clients) accepted but waiting for a free worker; beyond
  // it new requests get 503 + Retry-After at once. 0 = no limit but the pool's.
  size_t max_pool_backlog = 0;
  size_t max_query_bytes = 256 * 1024;  // SQL text (Athena's limit)
  size_t max_parameters = 1000;
  size_t stream_chunk_bytes = 64 * 1024;  // first chunk is buffered before the status is chosen
  bool audit_sql = true;                  // put the SQL text itself in the audit line
};

}  // namespace lakegate::gateway

namespace lakegate::gateway {

// Checks the options at start-up: every trusted issuer has a distinct,
// non-empty issuer and an acceptable JWKS URI (https, or http to loopback
// unless allow_insecure_jwks_http); every client rule sets exactly one of
// client_id / client_name and a role; every scope rule a scope and a role;
// limits are positive. Returns InvalidArgument naming the first problem.
Status ValidateGatewayOptions(const GatewayOptions& options);

}  // namespace lakegate::gateway
