// Internal to engine/sqlite: the authorizer (deny by default), the function
// and PRAGMA allow-lists, the printf/format guard and small SQL text helpers.
// Nothing here is thread-safe on its own: each Guard belongs to one
// connection, which one thread uses at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sql_quote.h"

namespace lakegate::engine::sqlite_internal {

// One authorizer callback, recorded while a user statement is prepared.
struct AuthAction {
  int code = 0;
  std::string arg1;  // table / index / pragma name ...
  std::string arg2;  // column / table / pragma argument / function name ...
  std::string db;
};

// The per-connection authorizer state.
struct Guard {
  enum class Mode {
    kGoverned,    // user connection of a restricted role: governed vtabs only
    kDirect,      // user connection of an unrestricted role (fast path)
    kPrivileged,  // the session's inner connection: SELECT/READ only
  };
  Mode mode = Mode::kGoverned;
  // Set only by our own code while it sets up a connection (ATTACH, CREATE
  // VIRTUAL TABLE); user SQL can never set it. Everything is allowed then.
  bool trusted = false;
  // kDirect: `main` is an empty in-memory database, so DDL/DML must name one.
  bool memory_main = false;
  // kDirect for a restricted role's whole-table writes: when set, every table
  // read (SQLITE_READ) or changed (SQLITE_INSERT/UPDATE/DELETE) must pass it
  // with its schema named, and everything else but SELECT and allowed
  // functions is denied (no DDL, PRAGMA, schema or eponymous tables).
  std::function<bool(int code, std::string_view db, std::string_view table)> whole_table_only;
  // kGoverned: true when (schema, table, column) may be read; column "" is
  // count(*)-style access to the table.
  std::function<bool(std::string_view db, std::string_view table, std::string_view column)>
      governed_read;

  // Recording of one user prepare.
  bool record = false;
  std::vector<AuthAction> actions;
  bool denied = false;  // some callback returned SQLITE_DENY
  std::string denial;   // why the first DENY happened (safe to show), or ""
};

// The keyed hash of hash masks, registered on privileged connections only
// (the user connection neither has it nor allows it).
inline constexpr const char* kMaskHashFunction = "lakegate_mask_hash";

// The sqlite3_set_authorizer callback; `user_data` is a Guard*.
int Authorize(void* user_data, int code, const char* a3, const char* a4, const char* db,
              const char* view);

bool IsAllowedFunction(std::string_view name);
// True for sqlite_master, sqlite_schema and their temp_ twins.
bool IsSchemaTable(std::string_view name);
bool IsIntrospectionPragma(std::string_view name);

// True when every width/precision of the SQL printf format in args[0]
// (literal or taken from a '*' argument) is within `limit`: SQLite 3.40 runs
// `%.*c` precision as a loop that no progress handler interrupts.
bool PrintfWithinLimit(int argc, sqlite3_value** argv, int64_t limit);

// True when `tail` holds only whitespace and SQL comments.
bool IsBlankSql(std::string_view tail);

// "name" quoted as an SQL identifier (common/sql_quote.h).
using ::lakegate::QuoteIdent;

// SQLite's column affinity rules (§3.1 of the datatype page) applied to a
// declared type: true for INTEGER, REAL and NUMERIC affinity.
bool HasNumericAffinity(std::string_view declared_type);
// True for TEXT affinity (CHAR, CLOB or TEXT and no INT).
bool HasTextAffinity(std::string_view declared_type);
// The declared type made safe to paste into a CREATE TABLE: kept when it has
// only [A-Za-z0-9_ ], else replaced by a type name of the same affinity.
std::string SafeDeclaredType(std::string_view declared_type);

}  // namespace lakegate::engine::sqlite_internal
