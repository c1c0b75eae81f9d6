// Connection and Stmt: one SQLite connection of the state store, its cache of
// prepared statements, and the mapping of SQLite result codes to Status.
//
// Private to src/store/sqlite (sqlite3 stays inside this folder). Not
// thread-safe: the store that owns a connection serializes every call.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/status.h"

namespace lakegate::store::sqlite {

class Connection;

// A borrowed cached statement. Binds parameters left to right; resets the
// statement and clears its bindings on destruction, so that no statement keeps
// a read transaction open.
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

// One SQLite connection with its statement cache.
class Connection {
 public:
  // Takes ownership of `db`; `path` names the store in messages.
  Connection(sqlite3* db, std::string path, int busy_timeout_ms)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  sqlite3* db() { return db_; }
  const std::string& path() const { return path_; }

  // Returns the cached prepared statement for `sql`, preparing it on first use.
  Result<Stmt> Prepare(const char* sql);

  // Runs `sql` (one or more statements, no results) without caching it.
  Status Exec(const char* sql, std::string_view doing);

  Status Begin(bool immediate) {
    return Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN", "cannot begin a transaction");
  }
  // Commits; on failure rolls back whatever is still open.
  Status Commit();
  void RollbackIfOpen();
  bool InTransaction() { return !sqlite3_get_autocommit(db_); }

  // Maps an SQLite result code to a Status whose message names the store and
  // says what to do.
  Status Error(int rc, std::string_view doing);

 private:
  sqlite3* db_;
  std::string path_;
  int busy_timeout_ms_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// The one integer `sql` returns; Internal when it returns no row.
Result<int64_t> QueryInt(Connection& conn, const char* sql);

// Whether `sql`, with `value` bound to its one parameter, returns a row.
Result<bool> Exists(Connection& conn, const char* sql, std::string_view value);

// `s` in double quotes, for messages.
std::string Quoted(std::string_view s);

}  // namespace lakegate::store::sqlite
