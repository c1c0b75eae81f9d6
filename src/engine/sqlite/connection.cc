#include "engine/sqlite/connection.h"

#include <utility>

#include "engine/engine.h"

namespace lakegate::engine::sqlite_internal {
namespace {

Status FailureWithMessage(int rc, std::string_view what, std::string_view message) {
  std::string text;
  if (!what.empty()) {
    text.append(what);
    text += ": ";
  }
  text += "sqlite: ";
  text.append(message);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(StatusCode::kUnavailable, EngineFailure::kUnavailable, std::move(text));
    case SQLITE_NOMEM:
      return Status(StatusCode::kResourceExhausted, EngineFailure::kOutOfMemory, std::move(text));
    default:
      return Status(StatusCode::kInternal, EngineFailure::kInternal, std::move(text));
  }
}

}  // namespace

std::string LakeFilePath(std::string_view lake_dir, std::string_view database) {
  std::string path(lake_dir);
  path += '/';
  path.append(database);
  path += ".db";
  return path;
}

Result<DbPtr> OpenConnection(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return Status(
        StatusCode::kInternal, EngineFailure::kInternal,
        "cannot open " + path + ": " + (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Status SqliteFailure(sqlite3* db, int rc, std::string_view what) {
  return FailureWithMessage(rc, what, sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = err != nullptr ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return FailureWithMessage(rc, "", message);
}

}  // namespace lakegate::engine::sqlite_internal
