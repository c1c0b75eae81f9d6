#include "engine/sqlite/guard.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "common/strings.h"

namespace lakegate::engine::sqlite_internal {
namespace {

// Scalar, aggregate, window, date/time, JSON and math functions that neither
// touch files nor change connection state. Anything not listed is denied
// (load_extension, fts3_tokenizer, readfile/writefile, sqlite_compileoption_*,
// and any function SQLite adds later until someone reviews it).
constexpr std::string_view kAllowedFunctions[] = {
    // core scalar
    "abs", "char", "coalesce", "format", "glob", "hex", "ifnull", "iif", "instr", "length", "like",
    "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif", "printf", "quote", "random",
    "randomblob", "replace", "round", "rtrim", "sign", "soundex", "sqlite_version", "substr",
    "substring", "trim", "typeof", "unicode", "unlikely", "upper", "zeroblob",
    // aggregate
    "avg", "count", "group_concat", "sum", "total",
    // window
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
    // date and time
    "date", "time", "datetime", "julianday", "unixepoch", "strftime", "current_date",
    "current_time", "current_timestamp",
    // JSON (json_each / json_tree are table-valued: see the READ rule)
    "json", "json_array", "json_array_length", "json_extract", "json_insert", "json_object",
    "json_patch", "json_remove", "json_replace", "json_set", "json_type", "json_valid",
    "json_quote", "json_group_array", "json_group_object", "->", "->>",
    // math
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power", "radians",
    "sin", "sinh", "sqrt", "tan", "tanh", "trunc", "sqlite_source_id"};

// Read-only schema introspection; every other PRAGMA (reads of settings and
// all writes) is denied.
constexpr std::string_view kIntrospectionPragmas[] = {
    "table_info",  "table_xinfo",      "table_list",    "index_list",     "index_info",
    "index_xinfo", "foreign_key_list", "database_list", "collation_list", "function_list"};

// Eponymous virtual tables a governed connection may read. The pragma_*
// table functions also raise SQLITE_PRAGMA, which the allow-list above checks.
bool IsAllowedEponymousTable(std::string_view name) {
  if (EqualsIgnoreCase(name, "json_each") || EqualsIgnoreCase(name, "json_tree")) return true;
  if (name.size() > 7 && EqualsIgnoreCase(name.substr(0, 7), "pragma_")) {
    return IsIntrospectionPragma(name.substr(7));
  }
  return false;
}

bool IsTempDb(std::string_view db) { return EqualsIgnoreCase(db, "temp"); }

int Deny(Guard& g, std::string message) {
  g.denied = true;
  if (g.denial.empty()) g.denial = std::move(message);
  return SQLITE_DENY;
}

std::string_view Str(const char* s) {
  return s != nullptr ? std::string_view(s) : std::string_view();
}

// What AuthorizeShared() returns for an action it leaves to the caller.
constexpr int kNotShared = -1;

// The rules of every user connection (governed and direct): SELECT and
// recursive CTEs, only allow-listed functions and introspection pragmas; no
// ATTACH (which VACUUM INTO is too), DETACH or transaction control.
// kNotShared for every other action.
int AuthorizeShared(Guard& g, int code, std::string_view a3, std::string_view a4) {
  switch (code) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (IsAllowedFunction(a4)) return SQLITE_OK;
      return Deny(g, "function " + std::string(a4) + "() is not allowed");
    case SQLITE_PRAGMA:
      if (IsIntrospectionPragma(a3)) return SQLITE_OK;
      return Deny(g, "PRAGMA " + std::string(a3) + " is not allowed");
    case SQLITE_ATTACH:
      return Deny(g, "ATTACH and VACUUM INTO are not allowed");
    case SQLITE_DETACH:
      return Deny(g, "DETACH is not allowed");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return Deny(g, "transaction control is not allowed (each request is one statement)");
    default:
      return kNotShared;
  }
}

int AuthorizeGoverned(Guard& g, int code, std::string_view a3, std::string_view a4,
                      std::string_view db) {
  if (int rc = AuthorizeShared(g, code, a3, a4); rc != kNotShared) return rc;
  switch (code) {
    case SQLITE_READ:
      // Column reads name the real table and schema: CTEs and subqueries
      // raise no column READ, so a CTE named like a governed table cannot
      // spoof this check. count(*)-style reads (column "") come without a
      // schema, for CTEs too; they are allowed, and the governed cursor of a
      // table the role may not SELECT refuses to produce rows.
      if (IsSchemaTable(a3) || IsAllowedEponymousTable(a3)) return SQLITE_OK;
      if (db.empty() && a4.empty()) return SQLITE_OK;
      if (g.governed_read && g.governed_read(db, a3, a4)) return SQLITE_OK;
      g.denied = true;
      return SQLITE_DENY;  // SQLite's "access to db.table.column is prohibited"
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_ALTER_TABLE:
    case SQLITE_REINDEX:
    case SQLITE_ANALYZE:
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
      // Writes and DDL are recorded and allowed *at prepare time only*, so
      // the engine sees the whole statement and can name the missing scope
      // or permission. The engine never steps a statement on the governed
      // connection unless it classifies as a read and sqlite3_stmt_readonly()
      // agrees. (SQLite also checks UPDATE of sqlite_master when it first
      // connects an eponymous table such as pragma_table_info.)
      return SQLITE_OK;
    default:
      return Deny(g, "this statement is not allowed");
  }
}

// A restricted role writing a whole table on a direct connection: the raw
// files hold tables it may not see, so only whole tables, named with their
// schema, may be touched. count(*)-style reads without a schema are denied
// (they could count a hidden table's rows).
int AuthorizeWholeTableWrite(Guard& g, int code, std::string_view a3, std::string_view a4,
                             std::string_view db) {
  switch (code) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (IsAllowedFunction(a4)) return SQLITE_OK;
      return Deny(g, "function " + std::string(a4) + "() is not allowed");
    case SQLITE_READ:
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      if (!db.empty() && !IsTempDb(db) && !IsSchemaTable(a3) && g.whole_table_only(code, db, a3)) {
        return SQLITE_OK;
      }
      return Deny(g, "not authorized");
    default:
      return Deny(g, "this statement is not allowed");
  }
}

int AuthorizeDirect(Guard& g, int code, std::string_view a3, std::string_view a4,
                    std::string_view db) {
  if (g.whole_table_only) return AuthorizeWholeTableWrite(g, code, a3, a4, db);
  if (int rc = AuthorizeShared(g, code, a3, a4); rc != kNotShared) return rc;
  switch (code) {
    case SQLITE_READ:
      if (EqualsIgnoreCase(a3, "sqlite_dbpage") || EqualsIgnoreCase(a3, "dbstat")) {
        return Deny(g, std::string(a3) + " is not allowed");
      }
      if (a3.size() > 7 && EqualsIgnoreCase(a3.substr(0, 7), "pragma_") &&
          !IsIntrospectionPragma(a3.substr(7))) {
        return Deny(g, "PRAGMA " + std::string(a3.substr(7)) + " is not allowed");
      }
      return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      // Writes to sqlite_master are how DDL is carried out; SQLite itself
      // refuses direct user writes to it (writable_schema is off).
      if (IsTempDb(db)) return Deny(g, "temporary objects are not allowed");
      if (g.memory_main && EqualsIgnoreCase(db, "main") && !IsSchemaTable(a3)) {
        return Deny(g, "name the database of the table (e.g. analytics." + std::string(a3) +
                           "): the request has no default database");
      }
      return SQLITE_OK;
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_ALTER_TABLE:
    case SQLITE_REINDEX:
    case SQLITE_ANALYZE: {
      // The database is a4 for ALTER TABLE ("db", "table"), `db` otherwise.
      std::string_view target = code == SQLITE_ALTER_TABLE ? a3 : db;
      if (IsTempDb(target)) return Deny(g, "temporary objects are not allowed");
      if (g.memory_main && (target.empty() || EqualsIgnoreCase(target, "main"))) {
        return Deny(g, "name the database of the object: the request has no default database");
      }
      return SQLITE_OK;
    }
    default:
      // Temporary objects (a pooled connection must not carry state between
      // requests), virtual tables, and anything unknown.
      return Deny(g, "this statement is not allowed");
  }
}

}  // namespace

bool IsSchemaTable(std::string_view name) {
  return EqualsIgnoreCase(name, "sqlite_master") || EqualsIgnoreCase(name, "sqlite_schema") ||
         EqualsIgnoreCase(name, "sqlite_temp_master") ||
         EqualsIgnoreCase(name, "sqlite_temp_schema");
}

int Authorize(void* user_data, int code, const char* a3, const char* a4, const char* db,
              const char* /*view*/) {
  Guard& g = *static_cast<Guard*>(user_data);
  if (g.trusted) return SQLITE_OK;
  if (g.record)
    g.actions.push_back(
        AuthAction{code, std::string(Str(a3)), std::string(Str(a4)), std::string(Str(db))});
  switch (g.mode) {
    case Guard::Mode::kGoverned:
      return AuthorizeGoverned(g, code, Str(a3), Str(a4), Str(db));
    case Guard::Mode::kDirect:
      return AuthorizeDirect(g, code, Str(a3), Str(a4), Str(db));
    case Guard::Mode::kPrivileged:
      // Only the engine prepares statements here, and only SELECTs.
      if (code == SQLITE_SELECT || code == SQLITE_READ || code == SQLITE_TRANSACTION) {
        return SQLITE_OK;
      }
      if (code == SQLITE_FUNCTION &&
          (IsAllowedFunction(Str(a4)) || EqualsIgnoreCase(Str(a4), kMaskHashFunction))) {
        return SQLITE_OK;
      }
      return SQLITE_DENY;
  }
  return SQLITE_DENY;
}

bool IsAllowedFunction(std::string_view name) {
  return std::any_of(std::begin(kAllowedFunctions), std::end(kAllowedFunctions),
                     [&](std::string_view f) { return EqualsIgnoreCase(f, name); });
}

bool IsIntrospectionPragma(std::string_view name) {
  return std::any_of(std::begin(kIntrospectionPragmas), std::end(kIntrospectionPragmas),
                     [&](std::string_view p) { return EqualsIgnoreCase(p, name); });
}

bool PrintfWithinLimit(int argc, sqlite3_value** argv, int64_t limit) {
  if (argc < 1) return true;
  const unsigned char* text = sqlite3_value_text(argv[0]);
  if (text == nullptr) return true;
  std::string_view fmt(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  int next_arg = 1;
  auto within = [&](int64_t v) { return v <= limit && v >= -limit; };
  // Reads a width or precision: '*' takes the next argument, else digits.
  auto read_number = [&](size_t& i) -> bool {
    if (i < fmt.size() && fmt[i] == '*') {
      ++i;
      int64_t v = next_arg < argc ? sqlite3_value_int64(argv[next_arg]) : 0;
      ++next_arg;
      return within(v);
    }
    int64_t v = 0;
    while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
      v = std::min<int64_t>(v * 10 + (fmt[i] - '0'), int64_t{1} << 40);
      ++i;
    }
    return within(v);
  };
  size_t i = 0;
  while (i < fmt.size()) {
    if (fmt[i++] != '%') continue;
    if (i >= fmt.size()) break;
    if (fmt[i] == '%') {
      ++i;
      continue;
    }
    while (i < fmt.size() && std::string_view("-+ #!0,").find(fmt[i]) != std::string_view::npos) {
      ++i;
    }
    if (!read_number(i)) return false;
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      if (!read_number(i)) return false;
    }
    while (i < fmt.size() && fmt[i] == 'l') ++i;
    if (i < fmt.size()) {
      if (fmt[i] != 'n') ++next_arg;  // %n takes no argument in SQL printf
      ++i;
    }
  }
  return true;
}

bool IsBlankSql(std::string_view tail) {
  size_t i = 0;
  while (i < tail.size()) {
    char c = tail[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < tail.size() && tail[i + 1] == '-') {
      size_t nl = tail.find('\n', i);
      if (nl == std::string_view::npos) return true;
      i = nl + 1;
    } else if (c == '/' && i + 1 < tail.size() && tail[i + 1] == '*') {
      size_t end = tail.find("*/", i + 2);
      if (end == std::string_view::npos) return true;  // SQLite treats it as a comment too
      i = end + 2;
    } else {
      return false;
    }
  }
  return true;
}

namespace {
bool ContainsUpper(std::string_view upper, std::string_view what) {
  return upper.find(what) != std::string_view::npos;
}
std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

bool HasTextAffinity(std::string_view declared_type) {
  std::string t = Upper(declared_type);
  if (ContainsUpper(t, "INT")) return false;
  return ContainsUpper(t, "CHAR") || ContainsUpper(t, "CLOB") || ContainsUpper(t, "TEXT");
}

bool HasNumericAffinity(std::string_view declared_type) {
  std::string t = Upper(declared_type);
  if (ContainsUpper(t, "INT")) return true;
  if (ContainsUpper(t, "CHAR") || ContainsUpper(t, "CLOB") || ContainsUpper(t, "TEXT")) {
    return false;
  }
  if (ContainsUpper(t, "BLOB") || t.empty()) return false;
  return true;  // REAL or NUMERIC
}

std::string SafeDeclaredType(std::string_view declared_type) {
  bool plain = std::all_of(declared_type.begin(), declared_type.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ' ';
  });
  if (plain) return std::string(declared_type);
  std::string t = Upper(declared_type);
  if (ContainsUpper(t, "INT")) return "INTEGER";
  if (ContainsUpper(t, "CHAR") || ContainsUpper(t, "CLOB") || ContainsUpper(t, "TEXT")) {
    return "TEXT";
  }
  if (ContainsUpper(t, "BLOB")) return "BLOB";
  if (ContainsUpper(t, "REAL") || ContainsUpper(t, "FLOA") || ContainsUpper(t, "DOUB")) {
    return "REAL";
  }
  return "NUMERIC";
}

}  // namespace lakegate::engine::sqlite_internal
