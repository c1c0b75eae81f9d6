#include "store/sqlite/schema.h"

#include <ctime>
#include <iterator>
#include <set>
#include <string>

#include "store/sqlite/state_file.h"

namespace lakegate::store::sqlite {
namespace {

// "LKGT": marks an SQLite file as a lakegate state store (PRAGMA application_id).
constexpr int64_t kApplicationId = 0x4C4B4754;

struct Migration {
  int version;
  const char* sql;
};

// Append-only: never edit a migration that has shipped; add a new one.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  token_ttl_seconds INTEGER NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  secret_hash TEXT NOT NULL,
  previous_secret_hash TEXT NOT NULL,
  previous_secret_expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  managed INTEGER NOT NULL CHECK (managed IN (0, 1))
) STRICT;
CREATE TABLE client_scopes (
  client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  scope TEXT NOT NULL,
  PRIMARY KEY (client_id, position)
) STRICT;
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY NOT NULL,
  algorithm TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER NOT NULL,
  publish_until INTEGER NOT NULL
) STRICT;
CREATE TABLE revocations (
  jti TEXT PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revocations_by_expiry ON revocations (expires_at);
CREATE TABLE resource_servers (
  identifier TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL
) STRICT;
CREATE TABLE scopes (
  resource_server TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  PRIMARY KEY (resource_server, name)
) STRICT;
CREATE TABLE settings (
  name TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
)sql"},
    // The versioned policy catalog: one JSON document per version.
    {2, R"sql(
CREATE TABLE policy_versions (
  version INTEGER PRIMARY KEY NOT NULL CHECK (version > 0),
  json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  author TEXT NOT NULL
) STRICT;
)sql"},
    // Client authentication beyond shared secrets: the method and, for
    // private_key_jwt, the client's public keys (inline JWKS or a URI).
    {3, R"sql(
ALTER TABLE clients ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
)sql"},
    // Mutual TLS (RFC 8705): the certificate field and value naming a
    // tls_client_auth client, and whether its tokens are certificate-bound.
    // (Migration numbers are shared with the PostgreSQL store.)
    {4, R"sql(
ALTER TABLE clients ADD COLUMN tls_client_auth_field TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN tls_client_auth_value TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN tls_bound_tokens INTEGER NOT NULL DEFAULT 0;
)sql"},
    // AWS Signature Version 4 access keys of clients (the Athena-compatible
    // endpoint); the secret is sealed outside the store's knowledge.
    {5, R"sql(
CREATE TABLE access_keys (
  access_key_id TEXT PRIMARY KEY NOT NULL,
  client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  secret_ciphertext TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX access_keys_by_client ON access_keys (client_id);
)sql"},
    // DPoP (RFC 9449 §5.2): clients that must send a proof with every token
    // request. Version 6: this store's 3 was taken before the numbers shared
    // with the PostgreSQL store were handed out (mTLS 4, access keys 5).
    {6, R"sql(
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens INTEGER NOT NULL DEFAULT 0;
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

// Checks that the file is ours (or empty) and applies pending migrations, all
// in one IMMEDIATE transaction: concurrent openers serialize, and a failure
// leaves the schema as it was.
Status MigrateLocked(Connection& conn) {
  const std::string& path = conn.path();
  LG_ASSIGN_OR_RETURN(int64_t application_id, QueryInt(conn, "PRAGMA application_id"));
  LG_ASSIGN_OR_RETURN(int64_t objects, QueryInt(conn, "SELECT count(*) FROM sqlite_schema"));
  if (application_id != kApplicationId) {
    if (application_id != 0 || objects != 0) {
      return FailedPreconditionError(
          "state store " + path +
          " is an SQLite database but not a lakegate state store; "
          "point the state directory (--dir / state_dir) at a directory of its own");
    }
    const std::string mark = "PRAGMA application_id = " + std::to_string(kApplicationId);
    LG_RETURN_IF_ERROR(conn.Exec(mark.c_str(), "cannot mark the file as a lakegate state store"));
  }
  LG_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL) STRICT",
                "cannot create the schema_migrations table"));
  LG_ASSIGN_OR_RETURN(int64_t current,
                      QueryInt(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations"));
  if (current > kLatestSchemaVersion) {
    return FailedPreconditionError(
        "state store " + path + " has schema version " + std::to_string(current) +
        ", newer than this lakegate binary knows (" + std::to_string(kLatestSchemaVersion) +
        "); upgrade lakegate to open it");
  }
  std::set<int64_t> applied;
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT version FROM schema_migrations"));
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      applied.insert(stmt.ColumnInt(0));
    }
  }
  for (const Migration& migration : kMigrations) {
    if (applied.count(migration.version) != 0) continue;
    LG_RETURN_IF_ERROR(conn.Exec(
        migration.sql, "cannot apply schema migration " + std::to_string(migration.version)));
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"));
    LG_RETURN_IF_ERROR(
        stmt.Int(migration.version).Int(static_cast<int64_t>(std::time(nullptr))).Run());
  }
  return Status::Ok();
}

}  // namespace

int LatestSchemaVersion() { return kLatestSchemaVersion; }

void Harden(Connection& conn, int busy_timeout_ms) {
  sqlite3* db = conn.db();
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // None of these is needed by a well-formed store, all of them close doors a
  // damaged or hostile file could open.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
}

Status Configure(Connection& conn, int busy_timeout_ms) {
  Harden(conn, busy_timeout_ms);

  {
    // The first statement that reads the file: a non-database fails here.
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("PRAGMA journal_mode = WAL"));
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::string mode = row ? stmt.ColumnText(0) : "";
    if (mode != "wal" && !(IsMemoryPath(conn.path()) && mode == "memory")) {
      return FailedPreconditionError("state store " + conn.path() +
                                     ": cannot use write-ahead logging (journal_mode is \"" + mode +
                                     "\"); put the state directory on a local file system");
    }
  }
  LG_RETURN_IF_ERROR(
      conn.Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                "PRAGMA secure_delete = ON",
                "cannot configure the connection"));
  LG_RETURN_IF_ERROR(conn.Begin(/*immediate=*/true));
  Status status = MigrateLocked(conn);
  if (!status.ok()) {
    conn.RollbackIfOpen();
    return status;
  }
  return conn.Commit();
}

}  // namespace lakegate::store::sqlite
