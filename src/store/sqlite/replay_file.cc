#include "store/sqlite/replay_file.h"

#include <sqlite3.h>

#include "store/sqlite/state_file.h"

namespace lakegate::store::sqlite {

std::string ReplayPathFor(const std::string& state_path) {
  if (IsMemoryPath(state_path)) return state_path;
  const std::string suffix = ".db";
  if (state_path.size() > suffix.size() &&
      state_path.compare(state_path.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return state_path.substr(0, state_path.size() - suffix.size()) + ".replay.db";
  }
  return state_path + ".replay";
}

Result<std::unique_ptr<Connection>> OpenReplayFile(const std::string& path, int busy_timeout_ms) {
  std::string sqlite_path = path;
  if (!IsMemoryPath(path)) {
    LG_RETURN_IF_ERROR(PrepareFile(path));
    if (path.front() != '/') sqlite_path = "./" + path;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      sqlite_path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (db == nullptr) return ResourceExhaustedError("cannot open " + path + ": out of memory");
  auto conn = std::make_unique<Connection>(db, path, busy_timeout_ms);
  if (rc != SQLITE_OK) return conn->Error(rc, "cannot open");
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  LG_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
                                "cannot configure the replay file"));
  LG_RETURN_IF_ERROR(
      conn->Exec("CREATE TABLE IF NOT EXISTS used_once (key TEXT PRIMARY KEY NOT NULL, "
                 "expires_at INTEGER NOT NULL) STRICT, WITHOUT ROWID",
                 "cannot create the used_once table"));
  return conn;
}

namespace {

Result<bool> RememberOne(Connection& conn, const OnceRecord& record) {
  if (record.key.empty()) return InvalidArgumentError("one-time key is empty");
  // Inserted, or revived when the old record had expired; a live record is
  // left alone (0 rows changed).
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT INTO used_once (key, expires_at) "
                                              "VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                                              "expires_at = excluded.expires_at "
                                              "WHERE used_once.expires_at <= ?"));
  LG_RETURN_IF_ERROR(stmt.Text(record.key).Int(record.expires_at).Int(record.now).Run());
  return sqlite3_changes64(conn.db()) == 1;
}

Status WriteBatch(Connection& conn, std::vector<OnceRecord*>& batch, uint64_t batch_number) {
  LG_RETURN_IF_ERROR(conn.Begin(/*immediate=*/true));
  if (batch_number % 1024 == 0) {
    LG_ASSIGN_OR_RETURN(Stmt purge, conn.Prepare("DELETE FROM used_once WHERE expires_at <= ?"));
    LG_RETURN_IF_ERROR(purge.Int(batch.front()->now).Run());
  }
  for (OnceRecord* record : batch) record->result = RememberOne(conn, *record);
  return conn.Commit();
}

}  // namespace

void RememberAll(Connection& conn, std::vector<OnceRecord*>& batch, uint64_t batch_number) {
  if (batch.empty()) return;
  Status written = WriteBatch(conn, batch, batch_number);
  if (written.ok()) return;
  conn.RollbackIfOpen();
  for (OnceRecord* record : batch) record->result = written;
}

}  // namespace lakegate::store::sqlite
