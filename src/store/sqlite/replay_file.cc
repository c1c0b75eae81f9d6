#include "store/sqlite/replay_file.h"

#include <sqlite3.h>

#include "store/sqlite/schema.h"
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
  LG_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, OpenFile(path, busy_timeout_ms));
  Harden(*conn, busy_timeout_ms);
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
