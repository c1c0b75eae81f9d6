// Internal to engine/sqlite: opening lake files and other connections the one
// hardened way, owning handles, and SQLite result codes as Status. Every
// connection of the engine -- sessions, the schema watch, loads, the admin
// helpers -- is opened here. Thread-compatible: a connection is used by one
// thread at a time.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakegate::engine::sqlite_internal {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
struct StmtCloser {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtCloser>;

// The file of catalog database `database`: <lake_dir>/<database>.db.
std::string LakeFilePath(std::string_view lake_dir, std::string_view database);

// Opens `path` (a lake file, or ":memory:") with `flags` (SQLITE_OPEN_*;
// NOMUTEX is added) and hardens the connection: DEFENSIVE on (no
// writable_schema tricks), no TRUSTED_SCHEMA (untrusted schemas may not call
// unsafe functions), no extension loading, and no double-quoted string
// literals ("email" is an identifier, never a string). Waits up to 5 s for a
// locked file (another connection's WAL recovery or checkpoint); sessions
// install their own deadline-aware busy handler on top. kInternal on failure.
Result<DbPtr> OpenConnection(const std::string& path, int flags);

// `rc` (a failed SQLite result code on `db`) as a status whose message is
// "<what>: sqlite: <SQLite's message>": kUnavailable for a busy or locked
// database, kOutOfMemory for SQLITE_NOMEM, else kInternal.
Status SqliteFailure(sqlite3* db, int rc, std::string_view what);

// Runs `sql` (statements without results). On failure, SqliteFailure() with
// the message "sqlite: <SQLite's message>".
Status Exec(sqlite3* db, const std::string& sql);

}  // namespace lakegate::engine::sqlite_internal
