#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/log.h"

namespace lakegate::store {
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
    // The versioned policy catalog (issue 4): one JSON document per version.
    {2, R"sql(
CREATE TABLE policy_versions (
  version INTEGER PRIMARY KEY NOT NULL CHECK (version > 0),
  json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  author TEXT NOT NULL
) STRICT;
)sql"},
};

constexpr int kLatestSchemaVersion = kMigrations[std::size(kMigrations) - 1].version;

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

class Connection;

// A borrowed cached statement. Binds parameters left to right; resets the
// statement and clears its bindings on destruction, so that no statement keeps
// a read transaction open. Not thread-safe (used under the store's mutex).
class Stmt {
 public:
  Stmt(Connection* conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept
      : conn_(other.conn_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        next_index_(other.next_index_),
        bind_rc_(other.bind_rc_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Stmt& Text(std::string_view value) {
    // A null data pointer would bind SQL NULL; an empty string must stay "".
    const char* data = value.data() != nullptr ? value.data() : "";
    Note(sqlite3_bind_text(stmt_, next_index_++, data, static_cast<int>(value.size()),
                           SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& Int(int64_t value) {
    Note(sqlite3_bind_int64(stmt_, next_index_++, static_cast<sqlite3_int64>(value)));
    return *this;
  }

  // Steps once: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps to completion; for statements that return no rows.
  Status Run();

  int64_t ColumnInt(int column) const {
    return static_cast<int64_t>(sqlite3_column_int64(stmt_, column));
  }
  std::string ColumnText(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) return std::string();
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
  }

 private:
  void Note(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  Connection* conn_;
  sqlite3_stmt* stmt_;
  int next_index_ = 1;
  int bind_rc_ = SQLITE_OK;
};

// One SQLite connection with its statement cache. Not thread-safe: the owner
// serializes every call.
class Connection {
 public:
  Connection(sqlite3* db, std::string path, int busy_timeout_ms)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (sqlite3_close(db_) != SQLITE_OK) {
      log::Warn("state store " + path_ + ": close failed: " + sqlite3_errmsg(db_));
    }
  }

  sqlite3* db() { return db_; }
  const std::string& path() const { return path_; }

  // Returns the cached prepared statement for `sql`, preparing it on first use.
  Result<Stmt> Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return Error(rc, "cannot prepare a statement");
      it = cache_.emplace(sql, stmt).first;
    }
    return Stmt(this, it->second);
  }

  // Runs `sql` (one or more statements, no results) without caching it.
  Status Exec(const char* sql, std::string_view doing) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, doing);
    return Status::Ok();
  }

  Status Begin(bool immediate) {
    return Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN", "cannot begin a transaction");
  }
  Status Commit() {
    Status status = Exec("COMMIT", "cannot commit");
    if (!status.ok()) RollbackIfOpen();
    return status;
  }
  void RollbackIfOpen() {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  bool InTransaction() { return !sqlite3_get_autocommit(db_); }

  // Maps an SQLite result code to a Status whose message names the store and
  // says what to do.
  Status Error(int rc, std::string_view doing) {
    std::string message = "state store " + path_ + ": " + std::string(doing) + ": ";
    const char* detail = sqlite3_errmsg(db_);
    message += (detail != nullptr && *detail != '\0') ? detail : sqlite3_errstr(rc);
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return UnavailableError(message + "; another process held the store busy for more than " +
                                std::to_string(busy_timeout_ms_) + " ms; retry");
      case SQLITE_FULL:
        return ResourceExhaustedError(message + "; free disk space");
      case SQLITE_NOMEM:
        return ResourceExhaustedError(message);
      case SQLITE_READONLY:
      case SQLITE_PERM:
      case SQLITE_CANTOPEN:
      case SQLITE_AUTH:
        return FailedPreconditionError(
            message + "; check the owner and permissions of the file and of its directory");
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return FailedPreconditionError(
            message +
            "; the file is damaged or not a lakegate state store; restore it from a "
            "backup or point the state directory elsewhere");
      case SQLITE_IOERR:
        return UnavailableError(message + "; check the disk");
      default:
        return InternalError(message);
    }
  }

 private:
  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

Result<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) return conn_->Error(bind_rc_, "cannot bind a parameter");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, "statement failed");
}

Status Stmt::Run() {
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

// The store's operations on a connection whose lock the caller holds. Write
// operations expect the caller to have opened a transaction or savepoint.
class Ops {
 public:
  explicit Ops(Connection* conn) : conn_(conn) {}

  // ---- clients ----
  static constexpr const char* kClientColumns =
      "client_id, name, token_ttl_seconds, enabled, secret_hash, previous_secret_hash, "
      "previous_secret_expires_at, created_at, updated_at, managed";

  static ClientRecord ReadClient(const Stmt& stmt) {
    ClientRecord c;
    c.client_id = stmt.ColumnText(0);
    c.name = stmt.ColumnText(1);
    c.token_ttl_seconds = stmt.ColumnInt(2);
    c.enabled = stmt.ColumnInt(3) != 0;
    c.secret_hash = stmt.ColumnText(4);
    c.previous_secret_hash = stmt.ColumnText(5);
    c.previous_secret_expires_at = stmt.ColumnInt(6);
    c.created_at = stmt.ColumnInt(7);
    c.updated_at = stmt.ColumnInt(8);
    c.managed = stmt.ColumnInt(9) != 0;
    return c;
  }

  Result<std::vector<ClientRecord>> ListClients() {
    std::vector<ClientRecord> clients;
    std::unordered_map<std::string, size_t> index;
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("SELECT client_id, name, token_ttl_seconds, enabled, "
                                         "secret_hash, previous_secret_hash, "
                                         "previous_secret_expires_at, created_at, updated_at, "
                                         "managed FROM clients ORDER BY name"));
      for (;;) {
        LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        clients.push_back(ReadClient(stmt));
        index.emplace(clients.back().client_id, clients.size() - 1);
      }
    }
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("SELECT client_id, scope FROM client_scopes ORDER BY client_id, position"));
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      auto it = index.find(stmt.ColumnText(0));
      if (it != index.end()) clients[it->second].scopes.push_back(stmt.ColumnText(1));
    }
    return clients;
  }

  Result<std::optional<ClientRecord>> FindClient(std::string_view client_id) {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("SELECT client_id, name, token_ttl_seconds, enabled, "
                                       "secret_hash, previous_secret_hash, "
                                       "previous_secret_expires_at, created_at, updated_at, "
                                       "managed FROM clients WHERE client_id = ?"));
    return FinishFind(stmt.Text(client_id));
  }

  Result<std::optional<ClientRecord>> FindClientByName(std::string_view name) {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("SELECT client_id, name, token_ttl_seconds, enabled, "
                                       "secret_hash, previous_secret_hash, "
                                       "previous_secret_expires_at, created_at, updated_at, "
                                       "managed FROM clients WHERE name = ?"));
    return FinishFind(stmt.Text(name));
  }

  Status InsertClient(const ClientRecord& c) {
    LG_RETURN_IF_ERROR(ValidateClient(c));
    LG_ASSIGN_OR_RETURN(bool id_taken,
                        Exists("SELECT 1 FROM clients WHERE client_id = ?", c.client_id));
    if (id_taken) return AlreadyExistsError("client id " + Quoted(c.client_id) + " already exists");
    LG_ASSIGN_OR_RETURN(bool name_taken, Exists("SELECT 1 FROM clients WHERE name = ?", c.name));
    if (name_taken) {
      return AlreadyExistsError("a client named " + Quoted(c.name) + " already exists");
    }
    {
      LG_ASSIGN_OR_RETURN(
          Stmt stmt,
          conn_->Prepare("INSERT INTO clients (client_id, name, token_ttl_seconds, enabled, "
                         "secret_hash, previous_secret_hash, previous_secret_expires_at, "
                         "created_at, updated_at, managed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      LG_RETURN_IF_ERROR(stmt.Text(c.client_id)
                             .Text(c.name)
                             .Int(c.token_ttl_seconds)
                             .Int(c.enabled ? 1 : 0)
                             .Text(c.secret_hash)
                             .Text(c.previous_secret_hash)
                             .Int(c.previous_secret_expires_at)
                             .Int(c.created_at)
                             .Int(c.updated_at)
                             .Int(c.managed ? 1 : 0)
                             .Run());
    }
    return InsertClientScopes(c);
  }

  Status UpdateClient(const ClientRecord& c) {
    LG_RETURN_IF_ERROR(ValidateClient(c));
    LG_ASSIGN_OR_RETURN(bool exists,
                        Exists("SELECT 1 FROM clients WHERE client_id = ?", c.client_id));
    if (!exists) return NotFoundError("no client with id " + Quoted(c.client_id));
    {
      LG_ASSIGN_OR_RETURN(
          Stmt stmt, conn_->Prepare("SELECT 1 FROM clients WHERE name = ? AND client_id <> ?"));
      LG_ASSIGN_OR_RETURN(bool name_taken, stmt.Text(c.name).Text(c.client_id).Step());
      if (name_taken) {
        return AlreadyExistsError("a client named " + Quoted(c.name) + " already exists");
      }
    }
    {
      LG_ASSIGN_OR_RETURN(
          Stmt stmt,
          conn_->Prepare("UPDATE clients SET name = ?, token_ttl_seconds = ?, enabled = ?, "
                         "secret_hash = ?, previous_secret_hash = ?, "
                         "previous_secret_expires_at = ?, created_at = ?, updated_at = ?, "
                         "managed = ? WHERE client_id = ?"));
      LG_RETURN_IF_ERROR(stmt.Text(c.name)
                             .Int(c.token_ttl_seconds)
                             .Int(c.enabled ? 1 : 0)
                             .Text(c.secret_hash)
                             .Text(c.previous_secret_hash)
                             .Int(c.previous_secret_expires_at)
                             .Int(c.created_at)
                             .Int(c.updated_at)
                             .Int(c.managed ? 1 : 0)
                             .Text(c.client_id)
                             .Run());
    }
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("DELETE FROM client_scopes WHERE client_id = ?"));
      LG_RETURN_IF_ERROR(stmt.Text(c.client_id).Run());
    }
    return InsertClientScopes(c);
  }

  Status DeleteClient(std::string_view client_id) {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM clients WHERE client_id = ?"));
    LG_RETURN_IF_ERROR(stmt.Text(client_id).Run());
    if (sqlite3_changes(conn_->db()) == 0) {
      return NotFoundError("no client with id " + Quoted(client_id));
    }
    return Status::Ok();
  }

  // ---- signing keys ----
  Result<std::vector<SigningKeyRecord>> ListSigningKeys() {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("SELECT kid, algorithm, private_pem, created_at, retired_at, publish_until "
                       "FROM signing_keys ORDER BY created_at DESC, rowid DESC"));
    std::vector<SigningKeyRecord> keys;
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      SigningKeyRecord key;
      key.kid = stmt.ColumnText(0);
      key.algorithm = stmt.ColumnText(1);
      key.private_pem = SecretString(stmt.ColumnText(2));
      key.created_at = stmt.ColumnInt(3);
      key.retired_at = stmt.ColumnInt(4);
      key.publish_until = stmt.ColumnInt(5);
      keys.push_back(std::move(key));
    }
    return keys;
  }

  Status InsertSigningKey(const SigningKeyRecord& key) {
    if (key.kid.empty()) return InvalidArgumentError("signing key id (kid) is empty");
    LG_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM signing_keys WHERE kid = ?", key.kid));
    if (taken) return AlreadyExistsError("signing key " + Quoted(key.kid) + " already exists");
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("INSERT INTO signing_keys (kid, algorithm, private_pem, created_at, "
                       "retired_at, publish_until) VALUES (?, ?, ?, ?, ?, ?)"));
    return stmt.Text(key.kid)
        .Text(key.algorithm)
        .Text(key.private_pem.Reveal())
        .Int(key.created_at)
        .Int(key.retired_at)
        .Int(key.publish_until)
        .Run();
  }

  Status UpdateSigningKey(const SigningKeyRecord& key) {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("UPDATE signing_keys SET algorithm = ?, private_pem = ?, created_at = ?, "
                       "retired_at = ?, publish_until = ? WHERE kid = ?"));
    LG_RETURN_IF_ERROR(stmt.Text(key.algorithm)
                           .Text(key.private_pem.Reveal())
                           .Int(key.created_at)
                           .Int(key.retired_at)
                           .Int(key.publish_until)
                           .Text(key.kid)
                           .Run());
    if (sqlite3_changes(conn_->db()) == 0) {
      return NotFoundError("no signing key " + Quoted(key.kid));
    }
    return Status::Ok();
  }

  Status DeleteSigningKey(std::string_view kid) {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM signing_keys WHERE kid = ?"));
    LG_RETURN_IF_ERROR(stmt.Text(kid).Run());
    if (sqlite3_changes(conn_->db()) == 0) return NotFoundError("no signing key " + Quoted(kid));
    return Status::Ok();
  }

  // ---- revocations ----
  Status AddRevocation(std::string_view jti, int64_t expires_at) {
    if (jti.empty()) return InvalidArgumentError("token id (jti) to revoke is empty");
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("INSERT INTO revocations (jti, expires_at) VALUES (?, ?) "
                                       "ON CONFLICT (jti) DO UPDATE SET "
                                       "expires_at = max(expires_at, excluded.expires_at)"));
    return stmt.Text(jti).Int(expires_at).Run();
  }

  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now) {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare(
            "SELECT jti, expires_at FROM revocations WHERE expires_at > ? ORDER BY jti"));
    stmt.Int(now);
    std::vector<std::pair<std::string, int64_t>> out;
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      out.emplace_back(stmt.ColumnText(0), stmt.ColumnInt(1));
    }
    return out;
  }

  Status PurgeExpiredRevocations(int64_t now) {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM revocations WHERE expires_at <= ?"));
    return stmt.Int(now).Run();
  }

  // ---- resource servers ----
  Result<std::vector<ResourceServerRecord>> ListResourceServers() {
    std::vector<ResourceServerRecord> servers;
    std::unordered_map<std::string, size_t> index;
    {
      LG_ASSIGN_OR_RETURN(
          Stmt stmt,
          conn_->Prepare("SELECT identifier, name FROM resource_servers ORDER BY identifier"));
      for (;;) {
        LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        ResourceServerRecord server;
        server.identifier = stmt.ColumnText(0);
        server.name = stmt.ColumnText(1);
        index.emplace(server.identifier, servers.size());
        servers.push_back(std::move(server));
      }
    }
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("SELECT resource_server, name, description "
                                       "FROM scopes ORDER BY resource_server, position"));
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      auto it = index.find(stmt.ColumnText(0));
      if (it == index.end()) continue;
      servers[it->second].scopes.push_back(ScopeRecord{stmt.ColumnText(1), stmt.ColumnText(2)});
    }
    return servers;
  }

  Status PutResourceServer(const ResourceServerRecord& server) {
    if (server.identifier.empty())
      return InvalidArgumentError("resource server identifier is empty");
    std::set<std::string_view> seen;
    for (const ScopeRecord& scope : server.scopes) {
      if (scope.name.empty()) {
        return InvalidArgumentError("resource server " + Quoted(server.identifier) +
                                    " has a scope with an empty name");
      }
      if (!seen.insert(scope.name).second) {
        return InvalidArgumentError("resource server " + Quoted(server.identifier) +
                                    " declares scope " + Quoted(scope.name) + " twice");
      }
    }
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("INSERT INTO resource_servers (identifier, name) "
                                         "VALUES (?, ?) ON CONFLICT (identifier) DO UPDATE SET "
                                         "name = excluded.name"));
      LG_RETURN_IF_ERROR(stmt.Text(server.identifier).Text(server.name).Run());
    }
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("DELETE FROM scopes WHERE resource_server = ?"));
      LG_RETURN_IF_ERROR(stmt.Text(server.identifier).Run());
    }
    int64_t position = 0;
    for (const ScopeRecord& scope : server.scopes) {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("INSERT INTO scopes (resource_server, position, name, "
                                         "description) VALUES (?, ?, ?, ?)"));
      LG_RETURN_IF_ERROR(stmt.Text(server.identifier)
                             .Int(position++)
                             .Text(scope.name)
                             .Text(scope.description)
                             .Run());
    }
    return Status::Ok();
  }

  Status DeleteResourceServer(std::string_view identifier) {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("DELETE FROM resource_servers WHERE identifier = ?"));
    LG_RETURN_IF_ERROR(stmt.Text(identifier).Run());
    if (sqlite3_changes(conn_->db()) == 0) {
      return NotFoundError("no resource server " + Quoted(identifier));
    }
    return Status::Ok();
  }

  // ---- settings ----
  Result<std::optional<std::string>> GetSetting(std::string_view key) {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("SELECT value FROM settings WHERE name = ?"));
    LG_ASSIGN_OR_RETURN(bool row, stmt.Text(key).Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt.ColumnText(0));
  }

  Status PutSetting(std::string_view key, std::string_view value) {
    if (key.empty()) return InvalidArgumentError("setting name is empty");
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("INSERT INTO settings (name, value) VALUES (?, ?) "
                                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value"));
    return stmt.Text(key).Text(value).Run();
  }

  // ---- policy versions ----
  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author) {
    if (json.empty()) return InvalidArgumentError("the policy document is empty");
    int64_t version = 0;
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("SELECT coalesce(max(version), 0) FROM policy_versions"));
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return InternalError("state store " + conn_->path() + ": no max(version)");
      version = stmt.ColumnInt(0) + 1;
    }
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("INSERT INTO policy_versions (version, json, "
                                                    "created_at, author) VALUES (?, ?, ?, ?)"));
      LG_RETURN_IF_ERROR(stmt.Int(version)
                             .Text(json)
                             .Int(static_cast<int64_t>(std::time(nullptr)))
                             .Text(author)
                             .Run());
    }
    {
      LG_ASSIGN_OR_RETURN(Stmt stmt,
                          conn_->Prepare("DELETE FROM policy_versions WHERE version <= ?"));
      LG_RETURN_IF_ERROR(stmt.Int(version - kPolicyVersionsKept).Run());
    }
    return static_cast<uint64_t>(version);
  }

  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy() {
    using Latest = std::optional<std::pair<uint64_t, std::string>>;
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("SELECT version, json FROM policy_versions "
                                                  "ORDER BY version DESC LIMIT 1"));
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Latest();
    return Latest(std::make_pair(static_cast<uint64_t>(stmt.ColumnInt(0)), stmt.ColumnText(1)));
  }

 private:
  static Status ValidateClient(const ClientRecord& c) {
    if (c.client_id.empty()) return InvalidArgumentError("client id is empty");
    if (c.name.empty()) return InvalidArgumentError("client name is empty");
    return Status::Ok();
  }

  Result<bool> Exists(const char* sql, std::string_view value) {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(sql));
    return stmt.Text(value).Step();
  }

  Result<std::optional<ClientRecord>> FinishFind(Stmt& stmt) {
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<ClientRecord>();
    ClientRecord client = ReadClient(stmt);
    LG_ASSIGN_OR_RETURN(
        Stmt scopes,
        conn_->Prepare("SELECT scope FROM client_scopes WHERE client_id = ? ORDER BY position"));
    scopes.Text(client.client_id);
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool more, scopes.Step());
      if (!more) break;
      client.scopes.push_back(scopes.ColumnText(0));
    }
    return std::optional<ClientRecord>(std::move(client));
  }

  Status InsertClientScopes(const ClientRecord& c) {
    int64_t position = 0;
    for (const std::string& scope : c.scopes) {
      LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("INSERT INTO client_scopes (client_id, "
                                                    "position, scope) VALUES (?, ?, ?)"));
      LG_RETURN_IF_ERROR(stmt.Text(c.client_id).Int(position++).Text(scope).Run());
    }
    return Status::Ok();
  }

  Connection* conn_;
};

// Implements every data method of Store once, by handing an Ops call to the
// derived class's Read (no write) or Write (atomic write) wrapper.
template <typename Derived>
class OpsStore : public Store {
 public:
  Result<std::vector<ClientRecord>> ListClients() override {
    return self().Read([](Ops& ops) { return ops.ListClients(); });
  }
  Result<std::optional<ClientRecord>> FindClient(std::string_view client_id) override {
    return self().Read([&](Ops& ops) { return ops.FindClient(client_id); });
  }
  Result<std::optional<ClientRecord>> FindClientByName(std::string_view name) override {
    return self().Read([&](Ops& ops) { return ops.FindClientByName(name); });
  }
  Status InsertClient(const ClientRecord& client) override {
    return self().Write([&](Ops& ops) { return ops.InsertClient(client); });
  }
  Status UpdateClient(const ClientRecord& client) override {
    return self().Write([&](Ops& ops) { return ops.UpdateClient(client); });
  }
  Status DeleteClient(std::string_view client_id) override {
    return self().Write([&](Ops& ops) { return ops.DeleteClient(client_id); });
  }
  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    return self().Read([](Ops& ops) { return ops.ListSigningKeys(); });
  }
  Status InsertSigningKey(const SigningKeyRecord& key) override {
    return self().Write([&](Ops& ops) { return ops.InsertSigningKey(key); });
  }
  Status UpdateSigningKey(const SigningKeyRecord& key) override {
    return self().Write([&](Ops& ops) { return ops.UpdateSigningKey(key); });
  }
  Status DeleteSigningKey(std::string_view kid) override {
    return self().Write([&](Ops& ops) { return ops.DeleteSigningKey(kid); });
  }
  Status AddRevocation(std::string_view jti, int64_t expires_at) override {
    return self().Write([&](Ops& ops) { return ops.AddRevocation(jti, expires_at); });
  }
  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now) override {
    return self().Read([&](Ops& ops) { return ops.ListRevocations(now); });
  }
  Status PurgeExpiredRevocations(int64_t now) override {
    return self().Write([&](Ops& ops) { return ops.PurgeExpiredRevocations(now); });
  }
  Result<std::vector<ResourceServerRecord>> ListResourceServers() override {
    return self().Read([](Ops& ops) { return ops.ListResourceServers(); });
  }
  Status PutResourceServer(const ResourceServerRecord& server) override {
    return self().Write([&](Ops& ops) { return ops.PutResourceServer(server); });
  }
  Status DeleteResourceServer(std::string_view identifier) override {
    return self().Write([&](Ops& ops) { return ops.DeleteResourceServer(identifier); });
  }
  Result<std::optional<std::string>> GetSetting(std::string_view key) override {
    return self().Read([&](Ops& ops) { return ops.GetSetting(key); });
  }
  Status PutSetting(std::string_view key, std::string_view value) override {
    return self().Write([&](Ops& ops) { return ops.PutSetting(key, value); });
  }
  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author) override {
    uint64_t version = 0;
    LG_RETURN_IF_ERROR(self().Write([&](Ops& ops) -> Status {
      LG_ASSIGN_OR_RETURN(version, ops.SavePolicy(json, author));
      return Status::Ok();
    }));
    return version;
  }
  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy() override {
    return self().Read([](Ops& ops) { return ops.LatestPolicy(); });
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// The Store& handed to a RunInTransaction body. The owning SqliteStore holds
// its mutex and the open transaction for the whole life of this object; each
// write runs in a savepoint so that a failed call leaves no partial effect.
class TxStore final : public OpsStore<TxStore> {
 public:
  TxStore(Connection* conn, Ops* ops) : conn_(conn), ops_(ops) {}

  template <typename F>
  auto Read(F&& op) -> decltype(op(std::declval<Ops&>())) {
    LG_RETURN_IF_ERROR(CheckUsable());
    return op(*ops_);
  }

  template <typename F>
  Status Write(F&& op) {
    LG_RETURN_IF_ERROR(CheckUsable());
    LG_RETURN_IF_ERROR(conn_->Exec("SAVEPOINT lakegate_op", "cannot open a savepoint"));
    Status status = op(*ops_);
    if (!status.ok()) {
      // Undo this call only; the enclosing transaction stays open.
      if (conn_->InTransaction()) {
        conn_->Exec("ROLLBACK TO lakegate_op", "cannot roll back a savepoint").IgnoreError();
        conn_->Exec("RELEASE lakegate_op", "cannot release a savepoint").IgnoreError();
      }
      return status;
    }
    return conn_->Exec("RELEASE lakegate_op", "cannot release a savepoint");
  }

  Result<uint64_t> ChangeCounter() override {
    return FailedPreconditionError(
        "ChangeCounter() is not available inside RunInTransaction; call it on the store");
  }
  Status RunInTransaction(const std::function<Status(Store&)>&) override {
    return FailedPreconditionError("RunInTransaction is not re-entrant");
  }

 private:
  Status CheckUsable() {
    if (!conn_->InTransaction()) {
      // SQLite rolled the transaction back by itself (disk full, I/O error):
      // refuse further calls, which would otherwise commit one by one.
      return UnavailableError("state store " + conn_->path() +
                              ": the transaction was aborted by an earlier error");
    }
    return Status::Ok();
  }

  Connection* conn_;
  Ops* ops_;
};

class SqliteStore final : public OpsStore<SqliteStore> {
 public:
  explicit SqliteStore(std::unique_ptr<Connection> conn)
      : conn_(std::move(conn)), ops_(conn_.get()) {}

  // Runs a read in one read transaction so that multi-statement reads see one
  // snapshot.
  template <typename F>
  auto Read(F&& op) -> decltype(op(std::declval<Ops&>())) {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    std::lock_guard<std::mutex> lock(mu_);
    LG_RETURN_IF_ERROR(conn_->Begin(/*immediate=*/false));
    auto result = op(ops_);
    if (!result.ok()) {
      conn_->RollbackIfOpen();
      return result;
    }
    LG_RETURN_IF_ERROR(conn_->Commit());
    return result;
  }

  template <typename F>
  Status Write(F&& op) {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    std::lock_guard<std::mutex> lock(mu_);
    LG_RETURN_IF_ERROR(conn_->Begin(/*immediate=*/true));
    int64_t changes_before = sqlite3_total_changes64(conn_->db());
    Status status = op(ops_);
    if (!status.ok()) {
      conn_->RollbackIfOpen();
      return status;
    }
    return CommitLocked(changes_before);
  }

  Result<uint64_t> ChangeCounter() override {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    std::lock_guard<std::mutex> lock(mu_);
    // PRAGMA data_version changes when another connection (any process)
    // commits; our own commits are counted in CommitLocked.
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("PRAGMA data_version"));
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return InternalError("state store " + conn_->path() + ": no data_version");
    int64_t data_version = stmt.ColumnInt(0);
    if (data_version != last_data_version_) {
      last_data_version_ = data_version;
      ++change_counter_;
    }
    return change_counter_;
  }

  Status RunInTransaction(const std::function<Status(Store&)>& body) override {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    std::lock_guard<std::mutex> lock(mu_);
    LG_RETURN_IF_ERROR(conn_->Begin(/*immediate=*/true));
    int64_t changes_before = sqlite3_total_changes64(conn_->db());
    Status status;
    {
      TxStore tx(conn_.get(), &ops_);
      transaction_thread_.store(std::this_thread::get_id());
      try {
        status = body(tx);
      } catch (const std::exception& e) {
        status = InternalError(std::string("transaction body threw: ") + e.what());
      } catch (...) {
        status = InternalError("transaction body threw a non-standard exception");
      }
      transaction_thread_.store(std::thread::id());
    }
    if (status.ok() && !conn_->InTransaction()) {
      status = UnavailableError("state store " + conn_->path() +
                                ": the transaction was aborted by an earlier error; retry");
    }
    if (!status.ok()) {
      conn_->RollbackIfOpen();
      return status;
    }
    return CommitLocked(changes_before);
  }

 private:
  Status CommitLocked(int64_t changes_before) {
    LG_RETURN_IF_ERROR(conn_->Commit());
    if (sqlite3_total_changes64(conn_->db()) != changes_before) ++change_counter_;
    return Status::Ok();
  }

  // Calling the outer store from a transaction body would deadlock on mu_.
  Status CheckNotInsideOwnTransaction() const {
    if (transaction_thread_.load() == std::this_thread::get_id()) {
      return FailedPreconditionError(
          "the store was called from inside its own RunInTransaction body; use the Store& "
          "passed to the body");
    }
    return Status::Ok();
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // guarded by mu_
  Ops ops_;                           // guarded by mu_
  uint64_t change_counter_ = 0;       // guarded by mu_
  int64_t last_data_version_ = -1;    // guarded by mu_
  // The thread running a RunInTransaction body, or id() when none.
  std::atomic<std::thread::id> transaction_thread_{};
};

bool IsMemoryPath(const std::string& path) { return path == ":memory:"; }

std::string DirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Creates the file with mode 0600 before SQLite does (SQLite would use 0644),
// narrows an existing file's mode, and turns errno into advice.
Status PrepareFile(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  const std::string prefix = "cannot open state store " + path + ": ";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return FailedPreconditionError(prefix + "directory " + dir +
                                     " does not exist; create it or fix the state directory "
                                     "(--dir / state_dir)");
    }
    return FailedPreconditionError(prefix + "cannot access directory " + dir + ": " +
                                   std::strerror(errno) + "; check its owner and permissions");
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(prefix + dir +
                                   " is not a directory; fix the state directory "
                                   "(--dir / state_dir)");
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM) {
      return FailedPreconditionError(prefix +
                                     "permission denied; check the owner and "
                                     "permissions of " +
                                     dir + " (the --dir / state_dir)");
    }
    if (err == EISDIR) {
      return FailedPreconditionError(prefix +
                                     "it is a directory; remove it or choose another "
                                     "state directory");
    }
    if (err == EROFS) {
      return FailedPreconditionError(prefix +
                                     "read-only file system; put the state directory "
                                     "on a writable file system");
    }
    return FailedPreconditionError(prefix + std::strerror(err));
  }
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = FailedPreconditionError(prefix + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = FailedPreconditionError(prefix + "not a regular file");
  } else if ((st.st_mode & 0077) != 0) {
    // The store holds private keys: nobody but the owner may read it.
    if (::fchmod(fd, 0600) != 0) {
      status =
          FailedPreconditionError(prefix +
                                  "it is readable by other users and its mode "
                                  "cannot be changed (" +
                                  std::strerror(errno) + "); run chmod 600 on it as its owner");
    } else {
      log::Warn("state store " + path + " was readable by other users; changed its mode to 0600");
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  // SQLite creates -wal/-shm with the database's mode; narrow old ones too.
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) ::chmod(side.c_str(), 0600);
  }
  return Status::Ok();
}

Result<int64_t> QueryInt(Connection& conn, const char* sql) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(sql));
  LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return InternalError("state store " + conn.path() + ": no result from " + sql);
  return stmt.ColumnInt(0);
}

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
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
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

Status Configure(Connection& conn, int busy_timeout_ms) {
  sqlite3* db = conn.db();
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // Hardening; none of these is needed by a well-formed store, all of them
  // close doors a damaged or hostile file could open.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);

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

}  // namespace

int SqliteStoreSchemaVersion() { return kLatestSchemaVersion; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               SqliteStoreOptions options) {
  if (path.empty()) return InvalidArgumentError("state store path is empty");
  std::string sqlite_path = path;
  if (!IsMemoryPath(path)) {
    LG_RETURN_IF_ERROR(PrepareFile(path));
    // Never let a relative name such as "file:x" be read as an SQLite URI.
    if (path.front() != '/') sqlite_path = "./" + path;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      sqlite_path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (db == nullptr)
    return ResourceExhaustedError("cannot open state store " + path + ": out of memory");
  auto conn = std::make_unique<Connection>(db, path, options.busy_timeout_ms);
  if (rc != SQLITE_OK) return conn->Error(rc, "cannot open");
  LG_RETURN_IF_ERROR(Configure(*conn, options.busy_timeout_ms));
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(conn)));
}

std::unique_ptr<Store> NewInMemoryStore() {
  auto store = OpenSqliteStore(":memory:");
  if (!store.ok()) {
    // Only a broken SQLite build or exhausted memory gets here; this is a test
    // helper, so stop loudly rather than hand out a null store.
    std::fprintf(stderr, "NewInMemoryStore: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  return std::move(store).value();
}

}  // namespace lakegate::store
