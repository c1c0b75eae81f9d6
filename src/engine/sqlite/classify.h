// Internal to engine/sqlite: what a user statement does, read from the
// authorizer's record of its prepare (never from the SQL text). Pure
// functions; thread-safe.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/sqlite/guard.h"
#include "policy/policy.h"

namespace lakegate::engine::sqlite_internal {

struct Classification {
  StatementClass klass = StatementClass::kRead;
  std::string type;  // "SELECT", "INSERT", "CREATE TABLE", ...
  // The object the statement changes and the permission it needs there.
  std::string db;
  std::string table;  // "" for a database-level permission
  policy::Permission needed = policy::Permission::kSelect;
};

// Returns true and fills `out` when `action` is a DDL action.
bool ClassifyDdl(const AuthAction& action, Classification& out);

// Classifies the statement whose prepare recorded `actions`: DDL first, then
// INSERT/UPDATE/DELETE, else a read (SELECT, PRAGMA or EXPLAIN) when SQLite
// says `stmt` is read-only, else an admin statement ("OTHER", e.g. VACUUM).
// `stmt` may be null (a failed prepare): then only the actions count.
Classification Classify(const std::vector<AuthAction>& actions, sqlite3_stmt* stmt);

// True for the statement types "INSERT", "UPDATE" and "DELETE".
bool IsRowWrite(std::string_view statement_type);

}  // namespace lakegate::engine::sqlite_internal
