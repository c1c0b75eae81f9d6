// The stack file: one YAML document that declares what a lakegate deployment
// serves — the issuer, the listener, token settings, limits, the audit log,
// resource servers with their scopes, and clients. `lakegate apply` and
// `lakegate serve --config` read it through LoadStackFile.
//
// Example:
//   version: 1                        # optional; the only version is 1
//   issuer: https://auth.example.com  # optional
//   state_dir: ./state                # relative to this file's directory
//   state:                            # optional: where the state store lives
//     url: postgresql://lakegate@db.internal:5432/lakegate?sslmode=verify-full
//     hash_key_file: /etc/lakegate/hash.key   # default <state_dir>/hash.key
//     mask_key_file: /etc/lakegate/mask.key   # default <state_dir>/mask.key
//   listen: {address: 127.0.0.1, port: 8080, threads: 0}
//   mtls: {ca_file: client-ca.pem, bind_all_tokens: false}   # RFC 8705 (needs TLS)
//   tokens: {algorithm: ES256, default_ttl: 1h}
//   resource_servers:
//     - identifier: athena-api
//       name: Athena query API
//       scopes:
//         - {name: query.read, description: Run SELECT statements}
//         - query.write               # shorthand for {name: query.write}
//   clients:
//     - name: etl-service
//       scopes: [athena-api/query.read, athena-api/query.write]
//       token_ttl: 1h
//   query: {lake_dir: ./lake, default_database: analytics, timeout: 30s, max_rows: 10000}
//   engine: {url: postgresql://lakegate@db/lake}   # optional: the lake in PostgreSQL
//   # or per catalog database: {url: ./lake, databases: {sales: postgresql://...}}
//   roles:
//     - name: lf-dev-role
//       grants:
//         - {database: analytics, permissions: [DESCRIBE]}
//         - {database: analytics, table: members, permissions: [SELECT],
//            columns: {exclude: [email]}}
//     - name: lf-analyst-role
//       filters: [eu-members]           # data-cell filters the role reads through
//       masks: [{database: analytics, table: members, column: name, mask: show_last_n, n: 3}]
//       tag_grants:
//         - {expression: {domain: [sales], sensitivity: [public]}, permissions: [SELECT, DESCRIBE]}
//   tags:                               # LF-tags: keys, then assignments (inherited downwards)
//     keys: [{key: domain, values: [sales, hr]}, {key: sensitivity, values: [public, pii]}]
//     assign:
//       - {database: analytics, key: domain, value: sales}
//       - {database: analytics, table: members, column: email, key: sensitivity, value: pii}
//   filters:                            # data-cell filters (rows: policy.h's row-filter grammar)
//     - {name: eu-members, database: analytics, table: members,
//        rows: "region IN ('eu-west', 'eu-central')", columns: {exclude: [email]}}
//   role_rules:
//     clients: [{client: etl-service, role: lf-super-user-role}]
//     scopes: [{scope: athena-api/query.read, role: lf-dev-role}]
//   trusted_issuers:
//     - {issuer: https://idp.example.com, jwks_uri: https://idp.example.com/jwks.json}
//
// The loader is strict: unknown keys (with a did-you-mean), wrong types,
// duplicates, out-of-range values, undeclared scopes and broken policy rules
// are errors (a broken policy rule keeps its policy::PolicyFailure reason).
// The parser lives in stack_config.cc (the document), yaml_reader.cc
// (positions, did-you-mean) and one *_sections.cc per group of sections
// (stack_sections.h). Every error
// is kInvalidArgument with a message "<file>:<line>:<column>: <key path>: <what
// is wrong>; <how to fix it>", e.g.
//   stack.yaml:14:5: clients[1] ("reporting-service"): unknown key "scops"; did you mean "scopes"?
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/policy.h"

namespace lakegate::config {

struct ScopeSpec {
  std::string name;  // short name, e.g. "query.read"
  std::string description;
};

struct ResourceServerSpec {
  std::string identifier;  // e.g. "athena-api"; scope full name = identifier + "/" + scope name
  std::string name;        // display name; defaults to the identifier
  std::vector<ScopeSpec> scopes;
};

struct ClientSpec {
  std::string name;  // required, [a-z0-9][a-z0-9._-]{0,63}
  // Optional fixed id (RFC 3986 unreserved characters); else generated at apply.
  std::optional<std::string> client_id;
  std::vector<std::string> scopes;  // full names, each declared by a resource server
  // YAML key token_ttl: 3600, "3600s", "60m", "1h" or "1d"; 5m..1d. When absent:
  // tokens.default_ttl.
  int64_t token_ttl_seconds = 3600;
  bool enabled = true;
  std::string description;
  // YAML key auth: client_secret_basic (the default; client_secret_post is
  // the same registration), private_key_jwt, tls_client_auth or
  // self_signed_tls_client_auth (RFC 8705).
  std::string auth = "client_secret_basic";
  // private_key_jwt: the client's public keys, exactly one of an inline JWK
  // Set (YAML key jwks: a mapping {keys: [...]} or a string holding the JSON;
  // kept here as JSON text) and a jwks_uri (https://, or http:// to loopback).
  // self_signed_tls_client_auth: an inline JWK Set whose keys carry the
  // client's certificates in x5c.
  std::string jwks;
  std::string jwks_uri;
  // tls_client_auth: exactly one of the YAML keys tls_client_auth_subject_dn,
  // tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip,
  // tls_client_auth_san_email (the key is kept in _field, its value in _value).
  std::string tls_client_auth_field = {};
  std::string tls_client_auth_value = {};
  // Every token of the client is bound to its TLS client certificate.
  bool tls_client_certificate_bound_access_tokens = false;
  // RFC 9449 §5.2 (YAML key dpop_bound_access_tokens): every token request of
  // the client must carry a DPoP proof, so all its tokens are DPoP-bound.
  bool dpop_bound_access_tokens = false;
};

struct TokenSpec {
  std::string algorithm = "ES256";       // ES256 | EdDSA | RS256
  std::vector<std::string> audience;     // optional "aud" values (a string or a list in YAML)
  int64_t default_ttl_seconds = 3600;    // YAML key default_ttl; 5m..1d
  bool scope_omitted_grants_all = true;  // Cognito behaviour when the request has no scope
  // RFC 9449 §8, §9: demand server-provided nonces in DPoP proofs, at the
  // token endpoint and the query API (YAML key dpop_nonce).
  bool dpop_nonce = false;
};

struct ListenSpec {
  std::string address = "127.0.0.1";
  int port = 8080;       // 0..65535; 0 = any free port
  int threads = 0;       // 0 = one per core
  std::string tls_cert;  // both or neither; relative paths resolve like state_dir
  std::string tls_key;
  // With tls_cert and tls_key: HTTPS on this port while `port` stays plain
  // HTTP (both serve every endpoint). -1 = none: `port` itself is HTTPS.
  int tls_port = -1;
};

// Mutual TLS (RFC 8705). The section's presence turns it on: the HTTPS
// listener asks clients for a certificate (optional for them).
struct MtlsSpec {
  bool enabled = false;
  // PEM certificate authorities tls_client_auth client certificates must
  // chain to; "" = no tls_client_auth client can authenticate. Relative paths
  // resolve like state_dir.
  std::string ca_file = {};
  // Bind every token requested with a client certificate (cnf x5t#S256),
  // whatever the client-auth method; else only clients registered with
  // tls_client_certificate_bound_access_tokens get bound tokens.
  bool bind_all_tokens = false;
};

struct LimitsSpec {
  // At least 10 each, so that a handful of honest mistakes never trips them.
  int failed_auth_per_minute_per_client = 20;          // then failures get 429
  int failed_auth_per_minute_per_client_address = 20;  // then that address is refused for it
  int failed_auth_per_minute_per_address = 60;         // then that address is refused
};

struct AuditSpec {
  std::string path;  // "" = <state_dir>/audit.log; "-" = stdout; else resolved like state_dir
};

// GET /metrics (Prometheus text; unauthenticated, like every scrape target
// without a proxy in front).
struct MetricsSpec {
  // Label token-request counters with client ids. Only for a metrics endpoint
  // that strangers cannot reach: a client id is half of a credential.
  bool client_labels = false;
};

// The query API (what API Gateway + Lambda + Athena do in the AWS setup).
struct QuerySpec {
  std::string lake_dir;  // default "<file dir>/lake": one SQLite file per database
  // The engine URL (`engine: {url: ...}`, or --engine on serve and demo), e.g.
  // postgresql://lakegate@db/lake; "" = the SQLite engine over lake_dir.
  std::string engine_url = {};
  // What app::OpenEngine() opens: engine_url, else lake_dir.
  const std::string& engine() const { return engine_url.empty() ? lake_dir : engine_url; }
  // `engine: {databases: {NAME: URL}}`: catalog databases served by an engine
  // of their own (engine/routing_engine.h); every other database is
  // engine()'s.
  std::map<std::string, std::string> engine_databases = {};
  // The engine URL (or lake directory) serving `database`.
  const std::string& EngineFor(std::string_view database) const;
  std::string default_database = "analytics";
  std::string read_scope = "athena-api/query.read";  // scope -> statement class
  std::string write_scope = "athena-api/query.write";
  std::string admin_scope = "athena-api/query.admin";
  int64_t timeout_seconds = 30;
  int64_t max_rows = 10000;
  int64_t max_result_bytes = 64ll << 20;
  int64_t max_memory_bytes = 256ll << 20;  // "max_memory": what one query may hold in the engine
  int64_t max_concurrent_per_client = 4;   // running at once per client
  int64_t max_queued_per_client = 256;     // waiting behind those; beyond: 429
  int64_t workers = 0;                     // query worker threads; 0 = max(16, 4 x cores)
  int64_t max_backlog = 0;                 // requests waiting for a worker; 0 = `workers`
  bool audit_sql = true;
  // Asynchronous queries (/v1/queries, the Athena protocol).
  int64_t async_timeout_seconds = 1800;         // "async_timeout"
  int64_t async_max_rows = 10'000'000;          // rows beyond it: truncated
  int64_t async_max_result_bytes = 1ll << 30;   // the spooled result of one query
  int64_t async_retention_seconds = 24 * 3600;  // "async_retention": kept after finishing
  std::string async_spool_dir;                  // default "<state_dir>/async-results"
};

// Maps a client (by our client name or by client_id, e.g. of an external
// issuer) or a scope to a role. Client rules are tried first, then scope rules,
// in file order; the first match wins.
struct RoleRuleSpec {
  std::string client_name;
  std::string client_id;
  std::string issuer;  // client_id rules: the token issuer; "" = lakegate's own
  std::string scope;
  std::string role;
};

// An external issuer whose access tokens the query API accepts.
struct TrustedIssuerSpec {
  std::string issuer;
  std::string jwks_uri;
  std::optional<std::string> audience;
  std::optional<std::string> token_use;  // Cognito access tokens: "access"
  bool require_at_jwt_typ = false;
  bool require_client_id = true;
  int64_t refresh_min_interval_seconds = 60;
};

// Where the state store lives and the key files every node must share.
struct StateSpec {
  // The state store URL (app/stores.h); "" = the SQLite file in state_dir.
  // --state and $LAKEGATE_STATE_URL override it.
  std::string url;
  // The secret-hash key and the column-mask key: 0600 files outside the
  // database, so that a dump of it allows no offline secret check. "" =
  // <state_dir>/hash.key and <state_dir>/mask.key. Relative paths resolve like
  // state_dir.
  std::string hash_key_file;
  std::string mask_key_file;
};

struct StackConfig {
  std::string source_path;  // the file it came from
  std::string issuer;       // optional; "" = derived from the listen URL by the server
  std::string state_dir;    // absolute when loaded from a file; default "<file dir>/state"
  StateSpec state;
  ListenSpec listen;
  MtlsSpec mtls;
  TokenSpec tokens;
  LimitsSpec limits;
  AuditSpec audit;
  MetricsSpec metrics;
  std::vector<ResourceServerSpec> resource_servers;
  std::vector<ClientSpec> clients;
  QuerySpec query;
  std::vector<policy::Role> roles;
  // Governance: data-cell filters, LF-tag keys and assignments. The loader
  // refuses a file whose governance (PolicyOf) breaks a policy rule
  // (policy/validate.h), e.g. a role naming an undeclared filter, and row
  // filters that do not parse.
  std::vector<policy::DataCellFilter> filters;
  std::vector<policy::TagKey> tag_keys;
  std::vector<policy::TagAssignment> tag_assignments;
  std::vector<RoleRuleSpec> client_rules;
  std::vector<RoleRuleSpec> scope_rules;
  std::vector<TrustedIssuerSpec> trusted_issuers;
};

// The policy catalog the stack file declares (roles, filters, tags), version 0.
policy::PolicySnapshot PolicyOf(const StackConfig& stack);

// Reads and parses the stack file at `path`. Relative paths inside it resolve
// against the file's directory (made absolute). Returns kInvalidArgument for
// every problem in the file, kNotFound when it does not exist, and
// kFailedPrecondition when it cannot be read or is larger than 4 MiB.
Result<StackConfig> LoadStackFile(const std::string& path);

// Parses stack YAML. `file_name` is used in messages only; relative paths in
// the document resolve against `base_dir` ("" = the current directory).
// Returns kInvalidArgument on any problem.
Result<StackConfig> ParseStack(std::string_view yaml_text, std::string_view file_name,
                               std::string_view base_dir);

}  // namespace lakegate::config
