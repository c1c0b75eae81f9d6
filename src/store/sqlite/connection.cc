#include "store/sqlite/connection.h"

#include "common/log.h"

namespace lakegate::store::sqlite {

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

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (sqlite3_close(db_) != SQLITE_OK) {
    log::Warn("state store " + path_ + ": close failed: " + sqlite3_errmsg(db_));
  }
}

Result<Stmt> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "cannot prepare a statement");
    it = cache_.emplace(sql, stmt).first;
  }
  return Stmt(this, it->second);
}

Status Connection::Exec(const char* sql, std::string_view doing) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, doing);
  return Status::Ok();
}

Status Connection::Commit() {
  Status status = Exec("COMMIT", "cannot commit");
  if (!status.ok()) RollbackIfOpen();
  return status;
}

void Connection::RollbackIfOpen() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Connection::Error(int rc, std::string_view doing) {
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

Result<int64_t> QueryInt(Connection& conn, const char* sql) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(sql));
  LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return InternalError("state store " + conn.path() + ": no result from " + sql);
  return stmt.ColumnInt(0);
}

Result<bool> Exists(Connection& conn, const char* sql, std::string_view value) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(sql));
  return stmt.Text(value).Step();
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

}  // namespace lakegate::store::sqlite
