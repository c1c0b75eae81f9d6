// The state store of the authorization server: clients, signing keys, revoked
// token ids, resource servers (with their scopes), small settings, and the
// versioned policy catalog (one JSON document per version).
//
// Store is an abstract interface so that a PostgreSQL implementation can sit
// next to the SQLite one (sqlite/sqlite_store.h); app/stores.h opens either
// by URL. Every implementation is thread-safe, makes every write call atomic
// (all or nothing) and durable once it returns OK, and never throws. The hot path (token endpoint,
// bearer validation) does not call the store per request: it keeps in-memory snapshots and reloads
// them when ChangeCounter() moves.
//
// Failure codes common to every call:
//   kUnavailable         the store is busy (locked longer than the busy timeout)
//                        or an I/O error occurred; retrying may succeed.
//   kResourceExhausted   the disk is full.
//   kFailedPrecondition  the store is read-only, corrupt or otherwise unusable.
//   kInternal            a bug (e.g. misuse of the API); the message says which.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret_string.h"
#include "common/status.h"

namespace lakegate::store {

struct ClientRecord {
  std::string client_id;            // unique, immutable
  std::string name;                 // unique, e.g. "etl-service"
  std::vector<std::string> scopes;  // allowed scopes, full names "athena-api/query.read"
  int64_t token_ttl_seconds = 3600;
  bool enabled = true;
  std::string secret_hash;           // opaque string produced by the oauth module
  std::string previous_secret_hash;  // valid until previous_secret_expires_at, "" = none
  int64_t previous_secret_expires_at = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool managed = false;  // declared by a stack file (apply may change/delete it)
  // How the client authenticates at the token endpoint (RFC 8414 names):
  // "client_secret_basic" (either shared-secret method), "private_key_jwt",
  // "tls_client_auth" or "self_signed_tls_client_auth" (RFC 8705). A client
  // uses its method only: a secret client cannot send an assertion, a key or
  // certificate client has no secret (secret_hash "").
  std::string auth_method = "client_secret_basic";
  // private_key_jwt: the client's public keys, as an inline JWK Set (JSON
  // text) or a jwks_uri to fetch them from; exactly one is set.
  // self_signed_tls_client_auth: its certificates, as an inline JWK Set whose
  // keys carry them in x5c (RFC 8705 §2.2).
  std::string jwks;
  std::string jwks_uri;
  // tls_client_auth (RFC 8705 §2.1.2): which certificate field names the
  // client, one of "tls_client_auth_subject_dn", "tls_client_auth_san_dns",
  // "tls_client_auth_san_uri", "tls_client_auth_san_ip",
  // "tls_client_auth_san_email", and the value it must hold.
  std::string tls_client_auth_field = {};
  std::string tls_client_auth_value = {};
  // RFC 8705 §3.4 client metadata: every token the client gets is bound to
  // its TLS client certificate (a token request without one is refused).
  bool tls_client_certificate_bound_access_tokens = false;
  // RFC 9449 §5.2: the client always uses DPoP, so a token request without a
  // DPoP proof is refused.
  bool dpop_bound_access_tokens = false;

  friend bool operator==(const ClientRecord&, const ClientRecord&) = default;
};

struct SigningKeyRecord {
  std::string kid;
  std::string algorithm;     // "ES256" | "EdDSA" | "RS256"
  SecretString private_pem;  // PKCS#8
  int64_t created_at = 0;
  int64_t retired_at = 0;     // 0 = the current signing key; else when it stopped signing
  int64_t publish_until = 0;  // after retirement: stays in the JWKS until this time
};

struct ScopeRecord {
  std::string name;  // short name, e.g. "query.read"
  std::string description;

  friend bool operator==(const ScopeRecord&, const ScopeRecord&) = default;
};

struct ResourceServerRecord {
  std::string identifier;  // e.g. "athena-api"; scope full name = identifier + "/" + name
  std::string name;
  std::vector<ScopeRecord> scopes;  // in declaration order

  friend bool operator==(const ResourceServerRecord&, const ResourceServerRecord&) = default;
};

// An AWS Signature Version 4 access key of a client (the Athena-compatible
// endpoint). The secret access key is needed to verify a signature, so it
// cannot be a hash: the oauth module seals it (oauth/access_key.h) and the
// store keeps only the sealed bytes.
struct AccessKeyRecord {
  std::string access_key_id;      // unique, immutable, e.g. "LGAK..."
  std::string client_id;          // the client it signs in as; deleted with the client
  std::string secret_ciphertext;  // the sealed secret access key, opaque to the store
  int64_t created_at = 0;

  friend bool operator==(const AccessKeyRecord&, const AccessKeyRecord&) = default;
};

// How many policy versions the store keeps (older ones are deleted on save).
inline constexpr int kPolicyVersionsKept = 50;

class Store {
 public:
  virtual ~Store() = default;

  // ---- clients ----
  // All clients ordered by name.
  virtual Result<std::vector<ClientRecord>> ListClients() = 0;
  // nullopt when no client has that id / name.
  virtual Result<std::optional<ClientRecord>> FindClient(std::string_view client_id) = 0;
  virtual Result<std::optional<ClientRecord>> FindClientByName(std::string_view name) = 0;
  // AlreadyExists (naming the duplicate id or name) when the id or the name is
  // taken; InvalidArgument when the id or the name is empty.
  virtual Status InsertClient(const ClientRecord& client) = 0;
  // Replaces every field of the client with this client_id (scopes included).
  // NotFound if absent; AlreadyExists if the new name belongs to another client.
  virtual Status UpdateClient(const ClientRecord& client) = 0;
  // NotFound if absent.
  virtual Status DeleteClient(std::string_view client_id) = 0;

  // ---- access keys (SigV4) ----
  // Every access key, ordered by access_key_id.
  virtual Result<std::vector<AccessKeyRecord>> ListAccessKeys() = 0;
  // InvalidArgument when the id, the client id or the ciphertext is empty;
  // NotFound when no client has client_id; AlreadyExists when the id is taken.
  // Deleting the client deletes its access keys.
  virtual Status InsertAccessKey(const AccessKeyRecord& key) = 0;
  // NotFound if absent.
  virtual Status DeleteAccessKey(std::string_view access_key_id) = 0;

  // ---- signing keys ----
  // Newest first (by created_at, then by insertion order).
  virtual Result<std::vector<SigningKeyRecord>> ListSigningKeys() = 0;
  // AlreadyExists if the kid is taken; InvalidArgument if kid is empty.
  virtual Status InsertSigningKey(const SigningKeyRecord& key) = 0;
  // Replaces the key with this kid. NotFound if absent.
  virtual Status UpdateSigningKey(const SigningKeyRecord& key) = 0;
  // NotFound if absent.
  virtual Status DeleteSigningKey(std::string_view kid) = 0;

  // ---- revocations ----
  // A revoked jti is remembered until the token would have expired. Idempotent:
  // revoking again keeps the later of the two expiry times.
  virtual Status AddRevocation(std::string_view jti, int64_t expires_at) = 0;
  // (jti, expires_at) of every revocation with expires_at > now, ordered by jti.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now) = 0;
  // Forgets every revocation with expires_at <= now.
  virtual Status PurgeExpiredRevocations(int64_t now) = 0;

  // ---- one-time identifiers (replay protection) ----
  // Records that `key` (e.g. a client assertion's client id and jti) was used
  // and must not be accepted again before `expires_at` (Unix seconds).
  // Returns true when the key was new, or its earlier record had expired by
  // `now`; false when it is recorded and not expired, i.e. a replay. Atomic
  // across every process and node sharing the store: of two concurrent calls
  // with one key, exactly one gets true. Records past their expiry may be
  // forgotten at any time. Not a change for ChangeCounter() (nothing the
  // snapshots hold moves), and not part of a RunInTransaction body's
  // transaction (it may fail there with kFailedPrecondition). InvalidArgument
  // when key is empty.
  virtual Result<bool> RememberOnce(std::string_view key, int64_t expires_at, int64_t now) = 0;

  // ---- resource servers and their scopes ----
  // Ordered by identifier; scopes in the order they were put.
  virtual Result<std::vector<ResourceServerRecord>> ListResourceServers() = 0;
  // Inserts or replaces the resource server with this identifier, replacing its
  // scopes. InvalidArgument on an empty identifier/scope name or a duplicate scope.
  virtual Status PutResourceServer(const ResourceServerRecord& server) = 0;
  // NotFound if absent.
  virtual Status DeleteResourceServer(std::string_view identifier) = 0;

  // ---- settings (small key/value strings, e.g. "issuer", "pepper_id") ----
  virtual Result<std::optional<std::string>> GetSetting(std::string_view key) = 0;
  // Inserts or replaces. InvalidArgument if key is empty.
  virtual Status PutSetting(std::string_view key, std::string_view value) = 0;

  // ---- the policy catalog (versioned; the JSON is opaque to the store) ----
  // Stores `json` as a new version numbered max(existing) + 1 (1 for the
  // first) and returns that number; forgets all but the newest
  // kPolicyVersionsKept versions. `author` says who made it ("apply
  // stack.yaml", "cli grant", ...). InvalidArgument when `json` is empty.
  virtual Result<uint64_t> SavePolicy(std::string_view json, std::string_view author) = 0;
  // The newest version and its JSON, or nullopt when none was ever saved.
  virtual Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy() = 0;

  // A number that changes after every committed write made by this or ANY
  // OTHER PROCESS sharing the store, and does not change otherwise (reads and
  // rolled-back transactions leave it alone). Values are only comparable with
  // earlier values from the same Store object. Cheap: the server polls it.
  virtual Result<uint64_t> ChangeCounter() = 0;

  // Change notifications, for stores shared by many processes or nodes that
  // can push them (PostgreSQL LISTEN/NOTIFY): from the call on, `on_change`
  // runs (on a thread of the store's, never inside a caller's call) soon after
  // any process commits a write, so readers refresh at once instead of at
  // their next poll. A notification is only a hint to call ChangeCounter()
  // and re-read: it may be late, repeated or (while the store is unreachable)
  // missing, so readers keep polling as the fallback. The subscription ends
  // when the returned object is destroyed, which waits for a running
  // `on_change` to return. nullptr when the store cannot push (the default):
  // readers poll ChangeCounter().
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };
  virtual Result<std::unique_ptr<Subscription>> SubscribeToChanges(
      std::function<void()> on_change) {
    (void)on_change;
    return std::unique_ptr<Subscription>();
  }

  // Runs `body` in one transaction: every call made through the `Store&` it
  // receives is atomic with the others and sees the others' writes. If body
  // returns non-OK or throws, nothing is written and its status is returned (a
  // throw becomes kInternal). The `Store&` is valid only during the call.
  // Not re-entrant: calling RunInTransaction on the inner Store& returns
  // kFailedPrecondition, and so does calling the outer store from the body's
  // thread while the transaction is open (instead of deadlocking). A single
  // call made through the inner Store& that fails leaves no partial effect.
  virtual Status RunInTransaction(const std::function<Status(Store&)>& body) = 0;
};

}  // namespace lakegate::store
