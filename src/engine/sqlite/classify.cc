#include "engine/sqlite/classify.h"

#include <algorithm>
#include <utility>

namespace lakegate::engine::sqlite_internal {

bool ClassifyDdl(const AuthAction& a, Classification& out) {
  using P = policy::Permission;
  auto set = [&](StatementClass k, const char* type, std::string table, P needed) {
    out.klass = k;
    out.type = type;
    out.db = a.db;
    out.table = std::move(table);
    out.needed = needed;
    return true;
  };
  switch (a.code) {
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_TABLE:
      return set(StatementClass::kWrite, "CREATE TABLE", "", P::kCreateTable);
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TEMP_VIEW:
      return set(StatementClass::kAdmin, "CREATE VIEW", "", P::kCreateTable);
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TEMP_INDEX:
      return set(StatementClass::kAdmin, "CREATE INDEX", a.arg2, P::kAlter);
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TRIGGER:
      return set(StatementClass::kAdmin, "CREATE TRIGGER", a.arg2, P::kAlter);
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_TABLE:
      return set(StatementClass::kAdmin, "DROP TABLE", a.arg1, P::kDrop);
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TEMP_VIEW:
      return set(StatementClass::kAdmin, "DROP VIEW", a.arg1, P::kDrop);
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TEMP_INDEX:
      return set(StatementClass::kAdmin, "DROP INDEX", a.arg2, P::kAlter);
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TRIGGER:
      return set(StatementClass::kAdmin, "DROP TRIGGER", a.arg2, P::kAlter);
    case SQLITE_ALTER_TABLE:
      set(StatementClass::kAdmin, "ALTER TABLE", a.arg2, P::kAlter);
      out.db = a.arg1;
      return true;
    case SQLITE_REINDEX:
      return set(StatementClass::kAdmin, "REINDEX", a.arg1, P::kAlter);
    case SQLITE_ANALYZE:
      return set(StatementClass::kAdmin, "ANALYZE", a.arg1, P::kAlter);
    case SQLITE_CREATE_VTABLE:
      return set(StatementClass::kAdmin, "CREATE VIRTUAL TABLE", "", P::kCreateTable);
    case SQLITE_DROP_VTABLE:
      return set(StatementClass::kAdmin, "DROP TABLE", a.arg1, P::kDrop);
    default:
      return false;
  }
}

Classification Classify(const std::vector<AuthAction>& actions, sqlite3_stmt* stmt) {
  Classification out;
  for (const auto& a : actions) {
    if (ClassifyDdl(a, out)) return out;
  }
  for (const auto& a : actions) {
    if (IsSchemaTable(a.arg1)) continue;
    policy::Permission needed;
    const char* type;
    if (a.code == SQLITE_INSERT) {
      needed = policy::Permission::kInsert;
      type = "INSERT";
    } else if (a.code == SQLITE_UPDATE) {
      needed = policy::Permission::kUpdate;
      type = "UPDATE";
    } else if (a.code == SQLITE_DELETE) {
      needed = policy::Permission::kDelete;
      type = "DELETE";
    } else {
      continue;
    }
    out.klass = StatementClass::kWrite;
    out.type = type;
    out.db = a.db;
    out.table = a.arg1;
    out.needed = needed;
    return out;
  }
  if (stmt == nullptr) return out;
  if (sqlite3_stmt_readonly(stmt) != 0) {
    bool pragma = std::any_of(actions.begin(), actions.end(),
                              [](const AuthAction& a) { return a.code == SQLITE_PRAGMA; });
    out.type = sqlite3_stmt_isexplain(stmt) != 0 ? "EXPLAIN" : pragma ? "PRAGMA" : "SELECT";
    return out;
  }
  // Not read-only and no recognised action (e.g. VACUUM): admin.
  out.klass = StatementClass::kAdmin;
  out.type = "OTHER";
  return out;
}

bool IsRowWrite(std::string_view statement_type) {
  return statement_type == "INSERT" || statement_type == "UPDATE" || statement_type == "DELETE";
}

}  // namespace lakegate::engine::sqlite_internal
