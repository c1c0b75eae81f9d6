#include "store/postgres/schema.h"

#include <ctime>
#include <iterator>
#include <set>
#include <string>

namespace lakegate::store::postgres {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append-only: never edit a migration that has shipped; add a new one. Text
// keys use the "C" collation so that ORDER BY gives the byte order the SQLite
// store gives, whatever the database's locale.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE lakegate.clients (
  client_id text COLLATE "C" PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  token_ttl_seconds bigint NOT NULL,
  enabled boolean NOT NULL,
  secret_hash text NOT NULL,
  previous_secret_hash text NOT NULL,
  previous_secret_expires_at bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  managed boolean NOT NULL
);
CREATE TABLE lakegate.client_scopes (
  client_id text COLLATE "C" NOT NULL REFERENCES lakegate.clients (client_id) ON DELETE CASCADE,
  position bigint NOT NULL,
  scope text NOT NULL,
  PRIMARY KEY (client_id, position)
);
CREATE TABLE lakegate.signing_keys (
  kid text COLLATE "C" PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  algorithm text NOT NULL,
  private_pem text NOT NULL,
  created_at bigint NOT NULL,
  retired_at bigint NOT NULL,
  publish_until bigint NOT NULL
);
CREATE TABLE lakegate.revocations (
  jti text COLLATE "C" PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX revocations_by_expiry ON lakegate.revocations (expires_at);
CREATE TABLE lakegate.resource_servers (
  identifier text COLLATE "C" PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE lakegate.scopes (
  resource_server text COLLATE "C" NOT NULL
    REFERENCES lakegate.resource_servers (identifier) ON DELETE CASCADE,
  position bigint NOT NULL,
  name text COLLATE "C" NOT NULL,
  description text NOT NULL,
  PRIMARY KEY (resource_server, name)
);
CREATE TABLE lakegate.settings (
  name text COLLATE "C" PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE lakegate.policy_versions (
  version bigint PRIMARY KEY CHECK (version > 0),
  json text NOT NULL,
  created_at bigint NOT NULL,
  author text NOT NULL
);
-- One row, bumped by every write transaction that changed a row: the change
-- counter every node polls.
CREATE TABLE lakegate.change_counter (
  id integer PRIMARY KEY CHECK (id = 1),
  counter bigint NOT NULL
);
INSERT INTO lakegate.change_counter (id, counter) VALUES (1, 0);
)sql"},
    // Client authentication beyond shared secrets: the method and, for
    // private_key_jwt, the client's public keys (inline JWKS or a URI); and
    // one-time keys (assertion and proof jtis), written outside the write
    // lock and the change counter (Store::RememberOnce).
    {2, R"sql(
ALTER TABLE lakegate.clients ADD COLUMN auth_method text NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE lakegate.clients ADD COLUMN jwks text NOT NULL DEFAULT '';
ALTER TABLE lakegate.clients ADD COLUMN jwks_uri text NOT NULL DEFAULT '';
CREATE TABLE lakegate.one_time_keys (
  key text COLLATE "C" PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX one_time_keys_by_expiry ON lakegate.one_time_keys (expires_at);
)sql"},
    // DPoP (RFC 9449 §5.2): clients that must send a proof with every token
    // request.
    {3, R"sql(
ALTER TABLE lakegate.clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;
)sql"},
    // Mutual TLS (RFC 8705): the certificate field and value naming a
    // tls_client_auth client, and whether its tokens are certificate-bound.
    // (Migration numbers are shared with the SQLite store; 3 is DPoP's.)
    {4, R"sql(
ALTER TABLE lakegate.clients ADD COLUMN tls_client_auth_field text NOT NULL DEFAULT '';
ALTER TABLE lakegate.clients ADD COLUMN tls_client_auth_value text NOT NULL DEFAULT '';
ALTER TABLE lakegate.clients ADD COLUMN tls_bound_tokens boolean NOT NULL DEFAULT false;
)sql"},
    // AWS Signature Version 4 access keys of clients (the Athena-compatible
    // endpoint); the secret is sealed outside the store's knowledge.
    {5, R"sql(
CREATE TABLE lakegate.access_keys (
  access_key_id text COLLATE "C" PRIMARY KEY,
  client_id text COLLATE "C" NOT NULL
    REFERENCES lakegate.clients (client_id) ON DELETE CASCADE,
  secret_ciphertext text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX access_keys_by_client ON lakegate.access_keys (client_id);
)sql"},
};

constexpr int kLatestSchemaVersion = kMigrations[std::size(kMigrations) - 1].version;

// The runner applies, in array order, every migration the store has not
// recorded: numbers are handed out ahead of merging, so a store may have a
// higher one before a lower one exists (gaps are fine).
constexpr bool MigrationsAscend() {
  for (size_t i = 1; i < std::size(kMigrations); ++i) {
    if (kMigrations[i].version <= kMigrations[i - 1].version) return false;
  }
  return true;
}
static_assert(MigrationsAscend(), "schema migrations must be listed in ascending version order");

Status MigrateLocked(Connection& conn) {
  LG_RETURN_IF_ERROR(conn.Exec("cannot take the migration lock", "SELECT pg_advisory_xact_lock($1)",
                               {kMigrationLockKey})
                         .status());
  LG_RETURN_IF_ERROR(conn.Run("cannot create the lakegate schema",
                              "CREATE SCHEMA IF NOT EXISTS lakegate; "
                              "CREATE TABLE IF NOT EXISTS lakegate.schema_migrations ("
                              "version integer PRIMARY KEY, applied_at bigint NOT NULL, "
                              "applied_by integer NOT NULL)"));
  LG_ASSIGN_OR_RETURN(
      PgResult current_row,
      conn.Exec("cannot read the schema version",
                "SELECT coalesce(max(version), 0) FROM lakegate.schema_migrations"));
  const int64_t current = current_row.Int(0, 0);
  if (current > kLatestSchemaVersion) {
    return FailedPreconditionError(
        "state store " + conn.display_name() + " has schema version " + std::to_string(current) +
        ", newer than this lakegate binary knows (" + std::to_string(kLatestSchemaVersion) +
        "); upgrade lakegate to open it");
  }
  LG_ASSIGN_OR_RETURN(PgResult applied_rows,
                      conn.Exec("cannot read the applied schema migrations",
                                "SELECT version FROM lakegate.schema_migrations"));
  std::set<int64_t> applied;
  for (int i = 0; i < applied_rows.rows(); ++i) applied.insert(applied_rows.Int(i, 0));
  for (const Migration& migration : kMigrations) {
    if (applied.count(migration.version) != 0) continue;
    LG_RETURN_IF_ERROR(conn.Run(
        "cannot apply schema migration " + std::to_string(migration.version), migration.sql));
    LG_RETURN_IF_ERROR(conn.Exec("cannot record schema migration",
                                 "INSERT INTO lakegate.schema_migrations (version, applied_at, "
                                 "applied_by) VALUES ($1, $2, pg_backend_pid())",
                                 {migration.version, static_cast<int64_t>(std::time(nullptr))})
                           .status());
  }
  return Status::Ok();
}

}  // namespace

int LatestSchemaVersion() { return kLatestSchemaVersion; }

Status Migrate(Connection& conn) {
  LG_RETURN_IF_ERROR(conn.Run("cannot begin the migration", "BEGIN"));
  Status status = MigrateLocked(conn);
  if (!status.ok()) {
    conn.Run("cannot roll back the migration", "ROLLBACK").IgnoreError();
    return status;
  }
  return conn.Run("cannot commit the migration", "COMMIT");
}

}  // namespace lakegate::store::postgres
