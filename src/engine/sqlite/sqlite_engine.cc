#include "engine/sqlite/sqlite_engine.h"

#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "engine/sqlite/governed_table.h"
#include "engine/sqlite/guard.h"

namespace lakegate::engine {
namespace {

using sqlite_internal::AuthAction;
using sqlite_internal::ColumnDef;
using sqlite_internal::GovernedModule;
using sqlite_internal::Guard;
using sqlite_internal::QuoteIdent;
using sqlite_internal::TableDef;
using Clock = std::chrono::steady_clock;

constexpr int kProgressOps = 1000;

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtCloser>;

// ---------------------------------------------------------------------------
// Connections

void Harden(sqlite3* db) {
  // Must-have 5: DEFENSIVE blocks writable_schema and friends; untrusted
  // schemas may not call unsafe functions; no extensions; "email" is an
  // identifier, never a string literal.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
}

Result<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return InternalError("cannot open database: " + message);
  }
  Harden(db);
  // Opening and attaching a WAL file can meet another connection's recovery
  // or checkpoint ("database is locked"); wait for it. Sessions install their
  // own deadline-aware busy handler once set up.
  sqlite3_busy_timeout(db, 5000);
  return db;
}

Status ExecTrusted(sqlite3* db, Guard& guard, const std::string& sql) {
  guard.trusted = true;
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  guard.trusted = false;
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return InternalError("engine setup failed: " + message);
  }
  return Status::Ok();
}

Status AttachTrusted(sqlite3* db, Guard& guard, const std::string& path, const std::string& name) {
  guard.trusted = true;
  sqlite3_stmt* raw = nullptr;
  std::string sql = "ATTACH DATABASE ?1 AS " + QuoteIdent(name);
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(raw, 1, path.c_str(), -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(raw);
  }
  guard.trusted = false;
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    return InternalError("cannot attach database " + name + ": " + sqlite3_errmsg(db));
  }
  return Status::Ok();
}

std::string DatabasePath(const std::string& lake_dir, const std::string& name) {
  return lake_dir + "/" + name + ".db";
}

// ---------------------------------------------------------------------------
// The lake, as one role sees it

struct DatabaseView {
  std::string name;
  std::vector<TableDef> tables;
};

// The SQL of `mask` applied to the raw column `c` (a quoted identifier);
// `column` gives the quoted identifier of any raw column, or "" when the
// table has no such column. Invalid masks, and expressions naming a column
// the table lacks, read NULL (fail closed).
std::string MaskSql(const policy::ColumnMask& mask, const std::string& c,
                    const std::function<std::string(std::string_view)>& column) {
  // `n` x's for a non-negative integer expression n.
  auto xs = [](const std::string& n) { return "replace(hex(zeroblob(" + n + ")), '00', 'x')"; };
  switch (mask.kind) {
    case policy::MaskKind::kNull:
      return "NULL";
    case policy::MaskKind::kRedact:
      return "CASE WHEN typeof(" + c + ") IN ('integer', 'real') THEN 0 WHEN " + c +
             " IS NULL THEN NULL ELSE " + xs("length(" + c + ")") + " END";
    case policy::MaskKind::kHash:
      return std::string(sqlite_internal::kMaskHashFunction) + "(" + c + ")";
    case policy::MaskKind::kShowLastN: {
      if (!policy::ValidateColumnMask(mask).ok()) return "NULL";
      if (mask.n == 0) return "CASE WHEN " + c + " IS NULL THEN NULL ELSE " + xs("length(" + c + ")") + " END";
      std::string n = std::to_string(mask.n);
      return "CASE WHEN " + c + " IS NULL THEN NULL ELSE " +
             xs("max(length(" + c + ") - " + n + ", 0)") + " || substr(" + c + ", -" + n + ") END";
    }
    case policy::MaskKind::kYearOnly:
      return "CASE WHEN typeof(" + c + ") = 'text' AND " + c +
             " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN substr(" + c + ", 1, 4) END";
    case policy::MaskKind::kExpression: {
      Result<policy::MaskExpression> expression = policy::ParseMaskExpression(mask.expression);
      if (!expression.ok()) return "NULL";
      for (const std::string& name : expression->Columns()) {
        if (column(name).empty()) return "NULL";
      }
      return expression->ToSql(column);
    }
  }
  return "NULL";
}

// Compiles one role's view of a table into `def`: the declared columns, each
// column's expression and the row condition. `all` is every raw column.
void CompileView(const policy::TableView& view, const std::vector<ColumnDef>& all, TableDef& def) {
  auto raw_column = [&all](std::string_view name) -> std::string {
    for (const auto& c : all) {
      if (EqualsIgnoreCase(c.name, name)) return QuoteIdent(c.name);
    }
    return "";
  };
  auto actual = [&raw_column](std::string_view name) -> std::string {
    std::string quoted = raw_column(name);
    // Unreachable: DecideView drops filters on unknown columns.
    return quoted.empty() ? "NULL" : quoted;
  };
  auto any_of = [&actual](const std::vector<const policy::RowFilter*>& filters) {
    std::string sql;
    for (const policy::RowFilter* f : filters) {
      if (!sql.empty()) sql += " OR ";
      sql += f->ToSql(actual);
    }
    return sql;
  };
  if (!view.all_rows) def.row_filter = view.row_filters.empty() ? "0" : any_of(view.row_filters);
  for (const policy::ViewColumn& vc : view.columns) {
    auto raw = std::find_if(all.begin(), all.end(),
                            [&](const ColumnDef& c) { return EqualsIgnoreCase(c.name, vc.name); });
    if (raw == all.end()) continue;
    ColumnDef c = *raw;
    std::string value = QuoteIdent(c.name);
    if (vc.mask != nullptr) {
      value = MaskSql(*vc.mask, value, raw_column);
      using K = policy::MaskKind;
      if (vc.mask->kind == K::kHash || vc.mask->kind == K::kShowLastN ||
          vc.mask->kind == K::kYearOnly) {
        c.type = "TEXT";  // these masks always give text (or NULL)
        c.numeric = false;
        c.text = true;
      } else if (vc.mask->kind == K::kExpression) {
        c.type = "";  // any type: no affinity, the expression's values as they are
        c.numeric = false;
        c.text = false;
      }
    }
    if (!vc.all_rows) value = "CASE WHEN " + any_of(vc.row_filters) + " THEN " + value + " END";
    if (vc.mask != nullptr || !vc.all_rows) c.expr = std::move(value);
    def.columns.push_back(std::move(c));
  }
}

// Attaches every database `role` may see to `conn` (an empty connection of
// ours) and reads their tables and columns, keeping only what the role may
// see, compiled for the governed tables. `unrestricted` keeps everything.
Result<std::vector<DatabaseView>> DescribeLake(sqlite3* conn, Guard& guard,
                                               const std::string& lake_dir,
                                               const std::vector<std::string>& databases,
                                               const policy::PolicySnapshot& policy,
                                               const policy::Role& role, bool unrestricted) {
  std::vector<std::string> visible;
  for (const auto& name : databases) {
    if (unrestricted || policy::DecideDatabase(policy, role, name) != 0) visible.push_back(name);
  }
  int max_attached = sqlite3_limit(conn, SQLITE_LIMIT_ATTACHED, -1);
  if (static_cast<int>(visible.size()) > max_attached) {
    return FailedPreconditionError(
        "role " + role.name + " can see " + std::to_string(visible.size()) +
        " databases; the sqlite engine attaches at most " + std::to_string(max_attached) +
        " per connection");
  }
  std::vector<DatabaseView> out;
  for (const auto& name : visible) {
    LG_RETURN_IF_ERROR(AttachTrusted(conn, guard, DatabasePath(lake_dir, name), name));
    DatabaseView view;
    view.name = name;
    guard.trusted = true;
    sqlite3_stmt* raw = nullptr;
    std::string sql = "SELECT name FROM " + QuoteIdent(name) +
                      ".sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE "
                      "'sqlite\\_%' ESCAPE '\\' ORDER BY name";
    sqlite3_prepare_v2(conn, sql.c_str(), -1, &raw, nullptr);
    StmtPtr tables(raw);
    std::vector<std::string> names;
    while (tables != nullptr && sqlite3_step(tables.get()) == SQLITE_ROW) {
      names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(tables.get(), 0)));
    }
    for (const auto& table : names) {
      std::string pragma = "PRAGMA " + QuoteIdent(name) + ".table_info(" + QuoteIdent(table) + ")";
      raw = nullptr;
      sqlite3_prepare_v2(conn, pragma.c_str(), -1, &raw, nullptr);
      StmtPtr info(raw);
      std::vector<ColumnDef> all;
      while (info != nullptr && sqlite3_step(info.get()) == SQLITE_ROW) {
        ColumnDef c;
        c.name = reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1));
        const unsigned char* type = sqlite3_column_text(info.get(), 2);
        std::string declared = type != nullptr ? reinterpret_cast<const char*>(type) : "";
        c.numeric = sqlite_internal::HasNumericAffinity(declared);
        c.text = sqlite_internal::HasTextAffinity(declared);
        c.pk = sqlite3_column_int(info.get(), 5);
        c.type = sqlite_internal::SafeDeclaredType(declared);
        const char* collation = nullptr;
        if (sqlite3_table_column_metadata(conn, name.c_str(), table.c_str(), c.name.c_str(),
                                          nullptr, &collation, nullptr, nullptr,
                                          nullptr) == SQLITE_OK &&
            collation != nullptr) {
          // Only built-ins: a custom collation does not exist on our connections.
          if (sqlite3_stricmp(collation, "NOCASE") == 0) c.collation = "NOCASE";
          if (sqlite3_stricmp(collation, "RTRIM") == 0) c.collation = "RTRIM";
        }
        all.push_back(std::move(c));
      }
      if (all.empty()) continue;
      TableDef def;
      def.schema = name;
      def.table = table;
      bool without_rowid = false;
      std::string list =
          "PRAGMA " + QuoteIdent(name) + ".table_list(" + QuoteIdent(table) + ")";
      raw = nullptr;
      sqlite3_prepare_v2(conn, list.c_str(), -1, &raw, nullptr);
      StmtPtr table_list(raw);
      if (table_list != nullptr && sqlite3_step(table_list.get()) == SQLITE_ROW) {
        without_rowid = sqlite3_column_int(table_list.get(), 4) != 0;
      }
      for (const char* alias : {"rowid", "_rowid_", "oid"}) {
        if (without_rowid || !def.rowid_sql.empty()) break;
        if (std::none_of(all.begin(), all.end(),
                         [&](const ColumnDef& c) { return EqualsIgnoreCase(c.name, alias); })) {
          def.rowid_sql = alias;
          def.rowid_columns = 1;
        }
      }
      if (without_rowid) {
        // The primary key identifies a row of a WITHOUT ROWID table.
        std::vector<std::pair<int, std::string>> key;
        for (size_t i = 0; i < all.size(); ++i) {
          if (all[i].pk > 0) key.emplace_back(all[i].pk, QuoteIdent(all[i].name));
        }
        std::sort(key.begin(), key.end());
        for (const auto& [order, column] : key) {
          def.rowid_sql += (def.rowid_sql.empty() ? "" : ", ") + column;
        }
        def.rowid_columns = static_cast<int>(key.size());
      }
      if (unrestricted) {
        def.selectable = true;
        def.columns = all;
      } else {
        std::vector<std::string> all_names;
        for (const auto& c : all) all_names.push_back(c.name);
        policy::TableView table_view = policy::DecideView(policy, role, name, table, all_names);
        if (!table_view.visible()) continue;
        def.selectable =
            policy::Has(table_view.permissions, policy::Permission::kSelect) &&
            !table_view.columns.empty();
        def.whole_table = table_view.whole_table;
        def.permissions = table_view.permissions;
        if (def.selectable) {
          CompileView(table_view, all, def);
        } else {
          def.columns = all;  // DESCRIBE only: the names and types, no data
        }
      }
      view.tables.push_back(std::move(def));
    }
    guard.trusted = false;
    out.push_back(std::move(view));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Statement classification (from the authorizer's record, never SQL text)

struct Classification {
  StatementClass klass = StatementClass::kRead;
  std::string type;
  // The object the statement changes and the permission it needs there.
  std::string db;
  std::string table;  // "" for a database-level permission
  policy::Permission needed = policy::Permission::kSelect;
};

bool IsSchemaTableName(std::string_view name) {
  return EqualsIgnoreCase(name, "sqlite_master") || EqualsIgnoreCase(name, "sqlite_schema") ||
         EqualsIgnoreCase(name, "sqlite_temp_master") ||
         EqualsIgnoreCase(name, "sqlite_temp_schema");
}

// Returns true and fills `out` when `a` is a DDL action.
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
    if (IsSchemaTableName(a.arg1)) continue;
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

Status WholeTableWriteError(const policy::Role& role, const Classification& cls) {
  return PermissionDeniedError("role " + role.name + " may not run this " + cls.type +
                               ": a restricted role writes only whole tables (no row filters, "
                               "masks or column limits) and may read only such tables in the "
                               "statement");
}

Status ScopeError(StatementClass needed, StatementClass allowed) {
  return PermissionDeniedError("statement needs the " + std::string(StatementClassName(needed)) +
                               " scope; the token has only " +
                               std::string(StatementClassName(allowed)));
}

// ---------------------------------------------------------------------------
// Rows

class StmtRow final : public RowView {
 public:
  explicit StmtRow(sqlite3_stmt* stmt) : stmt_(stmt), n_(static_cast<size_t>(sqlite3_column_count(stmt))) {}
  size_t size() const override { return n_; }
  ValueType type(size_t i) const override {
    switch (sqlite3_column_type(stmt_, static_cast<int>(i))) {
      case SQLITE_INTEGER:
        return ValueType::kInteger;
      case SQLITE_FLOAT:
        return ValueType::kReal;
      case SQLITE_TEXT:
        return ValueType::kText;
      case SQLITE_BLOB:
        return ValueType::kBlob;
      default:
        return ValueType::kNull;
    }
  }
  int64_t integer(size_t i) const override { return sqlite3_column_int64(stmt_, static_cast<int>(i)); }
  double real(size_t i) const override { return sqlite3_column_double(stmt_, static_cast<int>(i)); }
  std::string_view text(size_t i) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, static_cast<int>(i));
    if (p == nullptr) return {};
    return {reinterpret_cast<const char*>(p),
            static_cast<size_t>(sqlite3_column_bytes(stmt_, static_cast<int>(i)))};
  }
  std::string_view blob(size_t i) const override {
    const void* p = sqlite3_column_blob(stmt_, static_cast<int>(i));
    if (p == nullptr) return {};
    return {static_cast<const char*>(p),
            static_cast<size_t>(sqlite3_column_bytes(stmt_, static_cast<int>(i)))};
  }

 private:
  sqlite3_stmt* stmt_;
  size_t n_;
};

// ---------------------------------------------------------------------------
// Sessions

struct RequestState {
  Clock::time_point deadline;
  std::chrono::milliseconds timeout{0};
  const std::atomic<bool>* cancelled = nullptr;
  bool timed_out = false;
  bool was_cancelled = false;
};

// One pooled unit of work: the user connection and, for restricted roles,
// its privileged connection. Used by one thread at a time.
class Session {
 public:
  Session(uint64_t generation, bool governed) : generation_(generation), governed_(governed) {}
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  static Result<std::unique_ptr<Session>> OpenGoverned(
      uint64_t generation, const std::string& lake_dir, const std::vector<std::string>& databases,
      const policy::PolicySnapshot& policy, const policy::Role& role, const std::string& database,
      const std::string& mask_hash_key);
  static Result<std::unique_ptr<Session>> OpenDirect(uint64_t generation,
                                                     const std::string& lake_dir,
                                                     const std::vector<std::string>& databases,
                                                     const std::string& database);

  Result<QueryResult> Run(const policy::PolicySnapshot& policy, const policy::Role& role,
                          const QueryRequest& request, ResultSink& sink);
  uint64_t generation() const { return generation_; }
  // False when a failure left a connection in a state we do not reuse.
  bool reusable() const {
    return !broken_ && sqlite3_get_autocommit(user_) != 0 &&
           (priv_ == nullptr || sqlite3_get_autocommit(priv_) != 0) &&
           (writer_ == nullptr || writer_->reusable());
  }

 private:
  Status InstallCommon();
  Status DeniedMessage(const policy::PolicySnapshot& policy, const policy::Role& role,
                       const Classification& cls, int rc);
  Status StepError(int rc);
  sqlite3_stmt* PrintfStatement(int argc);

  static int Progress(void* self);
  static int Busy(void* self, int count);
  static void GuardedPrintf(sqlite3_context* ctx, int argc, sqlite3_value** argv);
  static void MaskHash(sqlite3_context* ctx, int argc, sqlite3_value** argv);

  const uint64_t generation_;
  const bool governed_;
  bool broken_ = false;
  sqlite3* user_ = nullptr;
  sqlite3* priv_ = nullptr;    // governed only
  sqlite3* helper_ = nullptr;  // evaluates the built-in printf, lazily opened
  Guard user_guard_;
  Guard priv_guard_;
  std::unique_ptr<GovernedModule> module_;
  std::map<int, sqlite3_stmt*> printf_stmts_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  RequestState* state_ = nullptr;  // set for the duration of Run()
  std::string mask_hash_key_;      // the key of hash masks (governed only)
  // Governed only: what OpenDirect needs for whole-table writes, and the
  // direct session they run on (opened on first use).
  std::string lake_dir_;
  std::vector<std::string> databases_;
  std::string database_;
  std::unique_ptr<Session> writer_;
  bool WholeTableWrite(const Classification& cls) const;

  // Prepared read statements by SQL text, most recently used first, so that
  // a repeated query skips parsing and planning. Only statements that passed
  // every check at prepare time are kept; the per-request checks (scope,
  // parameters) run again on every use. The session is rebuilt when the
  // policy version or the lake's schema generation changes.
  struct CachedStatement {
    std::string sql;
    StmtPtr stmt;
    Classification cls;
  };
  static constexpr size_t kStatementCacheSize = 32;
  std::vector<CachedStatement> statement_cache_;
  bool TakeCached(const std::string& sql, StmtPtr& stmt, Classification& cls);
  void PutCached(const std::string& sql, StmtPtr stmt, const Classification& cls);
};

bool Session::TakeCached(const std::string& sql, StmtPtr& stmt, Classification& cls) {
  for (auto it = statement_cache_.begin(); it != statement_cache_.end(); ++it) {
    if (it->sql != sql) continue;
    stmt = std::move(it->stmt);
    cls = std::move(it->cls);
    statement_cache_.erase(it);
    return true;
  }
  return false;
}

void Session::PutCached(const std::string& sql, StmtPtr stmt, const Classification& cls) {
  if (statement_cache_.size() >= kStatementCacheSize) statement_cache_.pop_back();
  statement_cache_.insert(statement_cache_.begin(), CachedStatement{sql, std::move(stmt), cls});
}

Session::~Session() {
  writer_.reset();
  statement_cache_.clear();  // finalize before the connections close
  for (auto& [argc, stmt] : printf_stmts_) sqlite3_finalize(stmt);
  sqlite3_finalize(begin_);
  sqlite3_finalize(commit_);
  sqlite3_finalize(rollback_);
  // The user connection first: disconnecting its vtabs finalizes their inner
  // statements on the privileged connection.
  sqlite3_close_v2(user_);
  module_.reset();
  sqlite3_close_v2(priv_);
  sqlite3_close_v2(helper_);
}

int Session::Progress(void* self) {
  auto* s = static_cast<Session*>(self);
  RequestState* st = s->state_;
  if (st == nullptr) return 0;
  if (st->cancelled != nullptr && st->cancelled->load(std::memory_order_relaxed)) {
    st->was_cancelled = true;
    return 1;
  }
  if (Clock::now() >= st->deadline) {
    st->timed_out = true;
    return 1;
  }
  return 0;
}

int Session::Busy(void* self, int count) {
  auto* s = static_cast<Session*>(self);
  constexpr auto kNap = std::chrono::milliseconds(2);
  if (s->state_ == nullptr) {
    if (count > 2500) return 0;
  } else if (Clock::now() + kNap >= s->state_->deadline) {
    return 0;
  }
  std::this_thread::sleep_for(kNap);
  return 1;
}

sqlite3_stmt* Session::PrintfStatement(int argc) {
  auto it = printf_stmts_.find(argc);
  if (it != printf_stmts_.end()) return it->second;
  if (helper_ == nullptr) {
    auto opened = OpenConnection(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!opened.ok()) return nullptr;
    helper_ = *opened;
  }
  sqlite3_limit(helper_, SQLITE_LIMIT_LENGTH, sqlite3_limit(user_, SQLITE_LIMIT_LENGTH, -1));
  std::string sql = "SELECT printf(";
  for (int i = 1; i <= argc; ++i) sql += (i > 1 ? ", ?" : "?") + std::to_string(i);
  sql += ")";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(helper_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(stmt);
    return nullptr;
  }
  printf_stmts_[argc] = stmt;
  return stmt;
}

// printf()/format() with every width and precision bounded by the length
// limit, then evaluated by the built-in on the helper connection.
void Session::GuardedPrintf(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* s = static_cast<Session*>(sqlite3_user_data(ctx));
  int64_t limit = sqlite3_limit(s->user_, SQLITE_LIMIT_LENGTH, -1);
  if (!sqlite_internal::PrintfWithinLimit(argc, argv, limit)) {
    sqlite3_result_error_toobig(ctx);
    return;
  }
  sqlite3_stmt* stmt = s->PrintfStatement(argc);
  if (stmt == nullptr) {
    sqlite3_result_error(ctx, "printf() failed", -1);
    return;
  }
  sqlite3_limit(s->helper_, SQLITE_LIMIT_LENGTH, static_cast<int>(limit));
  for (int i = 0; i < argc; ++i) sqlite3_bind_value(stmt, i + 1, argv[i]);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    sqlite3_result_value(ctx, sqlite3_column_value(stmt, 0));
  } else if (rc == SQLITE_TOOBIG) {
    sqlite3_result_error_toobig(ctx);
  } else {
    sqlite3_result_error(ctx, "printf() failed", -1);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

// lakegate_mask_hash(v): hex HMAC-SHA256 of v's text under the engine's
// mask key; NULL stays NULL. Registered on the privileged connection only.
void Session::MaskHash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* s = static_cast<Session*>(sqlite3_user_data(ctx));
  if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const unsigned char* text = sqlite3_value_text(argv[0]);
  if (text == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  std::string_view value(reinterpret_cast<const char*>(text),
                         static_cast<size_t>(sqlite3_value_bytes(argv[0])));
  std::string hex = HexEncode(crypto::HmacSha256(s->mask_hash_key_, value));
  sqlite3_result_text(ctx, hex.data(), static_cast<int>(hex.size()), SQLITE_TRANSIENT);
}

Status Session::InstallCommon() {
  sqlite3_set_authorizer(user_, sqlite_internal::Authorize, &user_guard_);
  sqlite3_progress_handler(user_, kProgressOps, &Session::Progress, this);
  sqlite3_busy_handler(user_, &Session::Busy, this);
  for (const char* name : {"printf", "format"}) {
    if (sqlite3_create_function_v2(user_, name, -1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, this,
                                   &Session::GuardedPrintf, nullptr, nullptr,
                                   nullptr) != SQLITE_OK) {
      return InternalError("cannot register printf guard");
    }
  }
  // Nothing may be attached after setup (the authorizer denies ATTACH too).
  sqlite3_limit(user_, SQLITE_LIMIT_ATTACHED, 0);
  return Status::Ok();
}

Result<std::unique_ptr<Session>> Session::OpenGoverned(
    uint64_t generation, const std::string& lake_dir, const std::vector<std::string>& databases,
    const policy::PolicySnapshot& policy, const policy::Role& role, const std::string& database,
    const std::string& mask_hash_key) {
  auto s = std::make_unique<Session>(generation, /*governed=*/true);
  s->mask_hash_key_ = mask_hash_key;
  s->lake_dir_ = lake_dir;
  s->databases_ = databases;
  s->database_ = database;
  constexpr int kMemFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  LG_ASSIGN_OR_RETURN(s->priv_, OpenConnection(":memory:", kMemFlags));
  if (sqlite3_create_function_v2(s->priv_, sqlite_internal::kMaskHashFunction, 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, s.get(),
                                 &Session::MaskHash, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return InternalError("cannot register the hash mask");
  }
  s->priv_guard_.mode = Guard::Mode::kPrivileged;
  sqlite3_set_authorizer(s->priv_, sqlite_internal::Authorize, &s->priv_guard_);
  sqlite3_progress_handler(s->priv_, kProgressOps, &Session::Progress, s.get());
  sqlite3_busy_handler(s->priv_, &Session::Busy, s.get());

  // The request's database is attached first so unqualified names resolve
  // to it (SQLite searches attached schemas in attach order).
  std::vector<std::string> ordered;
  if (!database.empty()) ordered.push_back(database);
  for (const auto& d : databases) {
    if (d != database) ordered.push_back(d);
  }
  LG_ASSIGN_OR_RETURN(auto views, DescribeLake(s->priv_, s->priv_guard_, lake_dir, ordered,
                                               policy, role, /*unrestricted=*/false));
  if (!database.empty() && (views.empty() || views.front().name != database)) {
    return InvalidArgumentError("unknown database: " + database);
  }
  for (const char* sql : {"BEGIN", "COMMIT", "ROLLBACK"}) {
    sqlite3_stmt* stmt = nullptr;
    s->priv_guard_.trusted = true;
    int rc = sqlite3_prepare_v3(s->priv_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    s->priv_guard_.trusted = false;
    if (rc != SQLITE_OK) return InternalError("engine setup failed: cannot prepare " + std::string(sql));
    (sql[0] == 'B' ? s->begin_ : sql[0] == 'C' ? s->commit_ : s->rollback_) = stmt;
  }

  s->module_ = std::make_unique<GovernedModule>(s->priv_, crypto::HmacSha256(mask_hash_key, "lakegate rowid"));
  for (auto& view : views) {
    for (auto& def : view.tables) s->module_->AddTable(std::move(def));
  }
  LG_ASSIGN_OR_RETURN(s->user_, OpenConnection(":memory:", kMemFlags));
  s->user_guard_.mode = Guard::Mode::kGoverned;
  GovernedModule* module = s->module_.get();
  s->user_guard_.governed_read = [module](std::string_view db, std::string_view table,
                                          std::string_view column) {
    return module->CanRead(db, table, column);
  };
  if (module->Register(s->user_) != SQLITE_OK) return InternalError("cannot register module");
  module->set_creating(true);
  s->user_guard_.trusted = true;
  Status status;
  for (const auto& view : views) {
    status = ExecTrusted(s->user_, s->user_guard_,
                         "ATTACH DATABASE ':memory:' AS " + QuoteIdent(view.name));
    if (!status.ok()) break;
  }
  for (const auto& [key, def] : module->tables()) {
    if (!status.ok()) break;
    status = ExecTrusted(s->user_, s->user_guard_,
                         "CREATE VIRTUAL TABLE " + QuoteIdent(def.schema) + "." +
                             QuoteIdent(def.table) + " USING " + GovernedModule::kModuleName);
  }
  module->set_creating(false);
  s->user_guard_.trusted = false;
  LG_RETURN_IF_ERROR(status);
  LG_RETURN_IF_ERROR(s->InstallCommon());
  return s;
}

Result<std::unique_ptr<Session>> Session::OpenDirect(uint64_t generation,
                                                     const std::string& lake_dir,
                                                     const std::vector<std::string>& databases,
                                                     const std::string& database) {
  auto s = std::make_unique<Session>(generation, /*governed=*/false);
  // `main` is the request's database, so unqualified DDL lands there; it is
  // attached again under its own name so `analytics.members` resolves too.
  if (database.empty()) {
    LG_ASSIGN_OR_RETURN(s->user_,
                        OpenConnection(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    s->user_guard_.memory_main = true;
  } else {
    if (std::find(databases.begin(), databases.end(), database) == databases.end()) {
      return InvalidArgumentError("unknown database: " + database);
    }
    LG_ASSIGN_OR_RETURN(s->user_,
                        OpenConnection(DatabasePath(lake_dir, database), SQLITE_OPEN_READWRITE));
  }
  int max_attached = sqlite3_limit(s->user_, SQLITE_LIMIT_ATTACHED, -1);
  if (static_cast<int>(databases.size()) > max_attached) {
    return FailedPreconditionError("the lake has " + std::to_string(databases.size()) +
                                   " databases; the sqlite engine attaches at most " +
                                   std::to_string(max_attached) + " per connection");
  }
  s->user_guard_.mode = Guard::Mode::kDirect;
  sqlite3_set_authorizer(s->user_, sqlite_internal::Authorize, &s->user_guard_);
  std::vector<std::string> ordered;
  if (!database.empty()) ordered.push_back(database);
  for (const auto& d : databases) {
    if (d != database) ordered.push_back(d);
  }
  for (const auto& d : ordered) {
    LG_RETURN_IF_ERROR(AttachTrusted(s->user_, s->user_guard_, DatabasePath(lake_dir, d), d));
  }
  LG_RETURN_IF_ERROR(s->InstallCommon());
  return s;
}

// True when `cls` (from the governed prepare just recorded in user_guard_)
// is an INSERT/UPDATE/DELETE whose target and every table it reads are whole
// tables of the role with the needed permissions.
bool Session::WholeTableWrite(const Classification& cls) const {
  if (cls.klass != StatementClass::kWrite || cls.table.empty() ||
      (cls.type != "INSERT" && cls.type != "UPDATE" && cls.type != "DELETE")) {
    return false;
  }
  const TableDef* target = module_->Find(cls.db, cls.table);
  if (target == nullptr || !target->whole_table || !policy::Has(target->permissions, cls.needed)) {
    return false;
  }
  for (const AuthAction& a : user_guard_.actions) {
    Classification ddl;
    if (ClassifyDdl(a, ddl)) return false;
    if (a.code != SQLITE_READ) continue;
    if (IsSchemaTableName(a.arg1)) return false;
    const TableDef* def = a.db.empty() ? nullptr : module_->Find(a.db, a.arg1);
    if (def == nullptr || !def->whole_table || !policy::Has(def->permissions, policy::Permission::kSelect)) {
      return false;
    }
  }
  return true;
}

Status Session::StepError(int rc) {
  if (state_ != nullptr && state_->was_cancelled) return DeadlineExceededError("query cancelled");
  if (state_ != nullptr && state_->timed_out) {
    return DeadlineExceededError("query exceeded the timeout of " +
                                 std::to_string(state_->timeout.count()) + " ms");
  }
  switch (rc & 0xff) {
    case SQLITE_ERROR:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_READONLY:
      return InvalidArgumentError(sqlite3_errmsg(user_));
    case SQLITE_TOOBIG:
      return ResourceExhaustedError("string or blob too big (limit " +
                                    std::to_string(sqlite3_limit(user_, SQLITE_LIMIT_LENGTH, -1)) +
                                    " bytes)");
    case SQLITE_NOMEM:
      return ResourceExhaustedError("out of memory");
    case SQLITE_INTERRUPT:
      return DeadlineExceededError("query interrupted");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError("database is busy; retry");
    case SQLITE_AUTH:
      return PermissionDeniedError(sqlite3_errmsg(user_));
    default:
      log::Warn("sqlite engine: unexpected result code " + std::to_string(rc) + ": " +
                sqlite3_errmsg(user_));
      return InternalError("engine error");
  }
}

Status Session::DeniedMessage(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const Classification& cls, int rc) {
  if (!user_guard_.denial.empty()) return PermissionDeniedError(user_guard_.denial);
  if (cls.type.empty() || cls.klass == StatementClass::kRead) {
    return PermissionDeniedError(rc == SQLITE_OK ? "not authorized" : sqlite3_errmsg(user_));
  }
  policy::PermissionSet have =
      cls.table.empty() ? policy::DecideDatabase(policy, role, cls.db)
                        : policy::DecideView(policy, role, cls.db, cls.table, {}).permissions;
  std::string object = cls.table.empty() ? "database " + cls.db : cls.db + "." + cls.table;
  if (!policy::Has(have, cls.needed)) {
    return PermissionDeniedError("role " + role.name + " lacks " +
                                 policy::PermissionNames(policy::Bit(cls.needed)) + " on " +
                                 object);
  }
  if (cls.type == "INSERT" || cls.type == "UPDATE" || cls.type == "DELETE") {
    return WholeTableWriteError(role, cls);
  }
  return PermissionDeniedError(cls.type +
                               " is not supported for roles with restricted access yet: writes "
                               "and DDL through governed tables are not supported; use a role "
                               "with unrestricted access (role " +
                               role.name + ")");
}

Result<QueryResult> Session::Run(const policy::PolicySnapshot& policy, const policy::Role& role,
                                 const QueryRequest& request, ResultSink& sink) {
  RequestState state;
  state.timeout = request.limits.timeout;
  state.deadline = Clock::now() + request.limits.timeout;
  state.cancelled = request.cancelled;
  state_ = &state;
  struct Reset {
    Session* s;
    ~Reset() { s->state_ = nullptr; }
  } reset{this};

  int max_len = static_cast<int>(std::clamp<int64_t>(request.limits.max_string_bytes, 1, 1000000000));
  sqlite3_limit(user_, SQLITE_LIMIT_LENGTH, max_len);
  if (request.sql.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidArgumentError("statement too long");
  }
  if (module_ != nullptr) module_->TrimPlans();

  StmtPtr stmt;
  Classification cls;
  if (!TakeCached(request.sql, stmt, cls)) {
    user_guard_.actions.clear();
    user_guard_.denied = false;
    user_guard_.denial.clear();
    user_guard_.record = true;
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(user_, request.sql.data(), static_cast<int>(request.sql.size()),
                                0, &raw, &tail);
    user_guard_.record = false;
    stmt.reset(raw);
    cls = Classify(user_guard_.actions, stmt.get());
    if (rc != SQLITE_OK) {
      if (cls.klass > request.max_class) return ScopeError(cls.klass, request.max_class);
      if (user_guard_.denied || (rc & 0xff) == SQLITE_AUTH) return DeniedMessage(policy, role, cls, rc);
      if ((rc & 0xff) == SQLITE_TOOBIG) return StepError(rc);
      if ((rc & 0xff) == SQLITE_ERROR) return InvalidArgumentError(sqlite3_errmsg(user_));
      return StepError(rc);
    }
    if (stmt == nullptr) return InvalidArgumentError("empty statement");
    size_t used = static_cast<size_t>(tail - request.sql.data());
    if (!sqlite_internal::IsBlankSql(std::string_view(request.sql).substr(used))) {
      return InvalidArgumentError("one statement per request");
    }
  }
  if (cls.klass > request.max_class) return ScopeError(cls.klass, request.max_class);
  // The governed connection runs reads only: the authorizer let writes and
  // DDL through prepare so they could be classified; they stop here. SQLite's
  // own read-only verdict must agree with ours.
  if (governed_ && (cls.klass != StatementClass::kRead || sqlite3_stmt_readonly(stmt.get()) == 0)) {
    if (!WholeTableWrite(cls)) return DeniedMessage(policy, role, cls, SQLITE_OK);
    // INSERT/UPDATE/DELETE of a whole table, reading only whole tables: run
    // it on a direct connection whose authorizer admits exactly those.
    stmt.reset();
    if (writer_ == nullptr) {
      LG_ASSIGN_OR_RETURN(writer_, OpenDirect(generation_, lake_dir_, databases_, database_));
      const GovernedModule* module = module_.get();
      // The direct connection's `main` is the request's database.
      writer_->user_guard_.whole_table_only = [module, main = database_](
                                                  int code, std::string_view db,
                                                  std::string_view table) {
        if (EqualsIgnoreCase(db, "main")) db = main;
        const TableDef* def = module->Find(db, table);
        if (def == nullptr || !def->whole_table) return false;
        policy::Permission needed = code == SQLITE_INSERT   ? policy::Permission::kInsert
                                    : code == SQLITE_UPDATE ? policy::Permission::kUpdate
                                    : code == SQLITE_DELETE ? policy::Permission::kDelete
                                                            : policy::Permission::kSelect;
        return policy::Has(def->permissions, needed);
      };
    }
    Result<QueryResult> written = writer_->Run(policy, role, request, sink);
    if (!written.ok() && written.status().code() == StatusCode::kPermissionDenied) {
      return WholeTableWriteError(role, cls);  // never the direct connection's detail
    }
    return written;
  }

  int expected = sqlite3_bind_parameter_count(stmt.get());
  if (static_cast<size_t>(expected) != request.params.size()) {
    return InvalidArgumentError("the statement has " + std::to_string(expected) +
                                " parameters; the request gave " +
                                std::to_string(request.params.size()));
  }
  for (size_t i = 0; i < request.params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    const Param& p = request.params[i];
    int brc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(p)) {
      brc = sqlite3_bind_null(stmt.get(), index);
    } else if (const auto* v = std::get_if<int64_t>(&p)) {
      brc = sqlite3_bind_int64(stmt.get(), index, *v);
    } else if (const auto* d = std::get_if<double>(&p)) {
      brc = sqlite3_bind_double(stmt.get(), index, *d);
    } else if (const auto* t = std::get_if<std::string>(&p)) {
      brc = sqlite3_bind_text64(stmt.get(), index, t->data(), t->size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8);
    } else if (const auto* b = std::get_if<Blob>(&p)) {
      brc = sqlite3_bind_blob64(stmt.get(), index, b->bytes.data(), b->bytes.size(),
                                SQLITE_TRANSIENT);
    }
    if (brc != SQLITE_OK) return StepError(brc);
  }

  QueryResult result;
  result.statement_class = cls.klass;
  result.statement_type = cls.type;

  // Must-have 7: one read transaction on the privileged connection for the
  // whole user statement, so a join sees one snapshot.
  if (governed_) {
    int brc = sqlite3_step(begin_);
    sqlite3_reset(begin_);
    if (brc != SQLITE_DONE) return UnavailableError("database is busy; retry");
  }
  std::vector<ColumnInfo> columns;
  int ncol = sqlite3_column_count(stmt.get());
  for (int i = 0; i < ncol; ++i) {
    const char* decl = sqlite3_column_decltype(stmt.get(), i);
    columns.push_back(ColumnInfo{sqlite3_column_name(stmt.get(), i), decl != nullptr ? decl : ""});
  }
  Status status = sink.Begin(columns);
  if (status.ok()) {
    StmtRow row(stmt.get());
    while (true) {
      int src = sqlite3_step(stmt.get());
      if (src == SQLITE_ROW) {
        if (result.rows >= request.limits.max_rows) {
          result.truncated = true;
          // A write runs to completion (RETURNING rows beyond the limit are
          // dropped); a read stops producing.
          if (cls.klass == StatementClass::kRead) break;
          continue;
        }
        status = sink.Row(row);
        if (!status.ok()) break;
        ++result.rows;
        continue;
      }
      if (src != SQLITE_DONE) status = StepError(src);
      break;
    }
  }
  if (status.ok() && cls.klass != StatementClass::kRead) result.changes = sqlite3_changes64(user_);
  // Resetting (or finalizing) closes the cursors, which resets the inner
  // statements. A read that ran cleanly is kept for the next request.
  if (status.ok() && cls.klass == StatementClass::kRead && sqlite3_stmt_readonly(stmt.get())) {
    sqlite3_reset(stmt.get());
    sqlite3_clear_bindings(stmt.get());
    PutCached(request.sql, std::move(stmt), cls);
  } else {
    stmt.reset();
  }
  if (governed_) {
    int crc = sqlite3_step(commit_);
    sqlite3_reset(commit_);
    if (crc != SQLITE_DONE) {
      sqlite3_step(rollback_);
      sqlite3_reset(rollback_);
    }
  }
  if (sqlite3_get_autocommit(user_) == 0) {
    // A write interrupted midway: make sure nothing stays half applied.
    sqlite3_exec(user_, "ROLLBACK", nullptr, nullptr, nullptr);
    broken_ = true;
  }
  if (!status.ok()) return status;
  return result;
}

// ---------------------------------------------------------------------------
// Schema changes made by other processes

// The last known state of each lake file's schema, read through one
// read-only connection per file that stays open between checks. Holding the
// file open also pins its inode, so a file deleted and recreated under the
// same name always gets a different (st_dev, st_ino) than the one recorded.
// Not thread-safe: the engine polls it under its watch mutex.
class SchemaWatch {
 public:
  // Reads the schema cookie of each of `databases` (the lake's files now).
  // Returns true when anything changed since the previous call: a cookie, a
  // file replaced (new inode), a file seen for the first time or gone, or a
  // file that became readable or stopped being readable. A file that another
  // connection keeps locked (SQLITE_BUSY / SQLITE_LOCKED) is not waited for:
  // it keeps its last state and is read again at the next call. Files that
  // cannot be opened or read are retried at every call; their connections
  // are closed, so no descriptor outlives its file's removal from the list.
  bool Poll(const std::string& lake_dir, const std::vector<std::string>& databases);

 private:
  struct ConnCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  enum class State { kUnseen, kReadable, kUnreadable };
  struct File {
    // Declared before `cookie` so that the statement is finalized first.
    std::unique_ptr<sqlite3, ConnCloser> conn;
    StmtPtr cookie;  // PRAGMA schema_version on `conn`
    dev_t dev = 0;   // the identity of the file `conn` opened
    ino_t ino = 0;
    State state = State::kUnseen;
    int64_t version = 0;  // the schema cookie, when kReadable
  };
  // Opens `file.conn` on `path`; false (connection closed) on failure.
  static bool Open(const std::string& path, const struct stat& st, File& file);
  // Moves `file` to the unreadable state; true when that is a change.
  static bool MarkUnreadable(File& file);

  std::map<std::string, File> files_;
};

bool SchemaWatch::Open(const std::string& path, const struct stat& st, File& file) {
  file.cookie.reset();
  file.conn.reset();
  // Read-only: this connection never writes, and it must not create a file
  // that vanished between the directory listing and here.
  Result<sqlite3*> opened = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (!opened.ok()) return false;
  file.conn.reset(*opened);
  // A locked file skips this check; it never holds up the query that runs it.
  sqlite3_busy_timeout(file.conn.get(), 0);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(file.conn.get(), "PRAGMA schema_version", -1, SQLITE_PREPARE_PERSISTENT,
                         &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    file.conn.reset();
    return false;
  }
  file.cookie.reset(raw);
  file.dev = st.st_dev;
  file.ino = st.st_ino;
  return true;
}

bool SchemaWatch::MarkUnreadable(File& file) {
  file.cookie.reset();
  file.conn.reset();
  bool changed = file.state != State::kUnreadable;
  file.state = State::kUnreadable;
  return changed;
}

bool SchemaWatch::Poll(const std::string& lake_dir, const std::vector<std::string>& databases) {
  bool changed = false;
  for (auto it = files_.begin(); it != files_.end();) {
    if (std::binary_search(databases.begin(), databases.end(), it->first)) {
      ++it;
    } else {
      it = files_.erase(it);  // closes its connection
      changed = true;
    }
  }
  for (const auto& name : databases) {
    File& file = files_[name];
    const std::string path = DatabasePath(lake_dir, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      changed |= MarkUnreadable(file);
      continue;
    }
    // Stat before open: if the file is replaced in between, the next call
    // sees a recorded identity that does not match and opens it again.
    bool replaced = file.conn != nullptr && (st.st_dev != file.dev || st.st_ino != file.ino);
    if (file.conn == nullptr || replaced) {
      if (!Open(path, st, file)) {
        changed |= MarkUnreadable(file);
        continue;
      }
    }
    int rc = sqlite3_step(file.cookie.get());
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(file.cookie.get(), 0) : 0;
    sqlite3_reset(file.cookie.get());  // ends the read transaction at once
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      // Another connection is writing (or recovering the WAL). A replaced
      // file keeps its new identity unread: record nothing and bump once
      // the new file can be read.
      if (replaced) file.state = State::kUnseen;
      continue;
    }
    if (rc != SQLITE_ROW) {
      changed |= MarkUnreadable(file);
      continue;
    }
    if (replaced || file.state != State::kReadable || file.version != version) changed = true;
    file.state = State::kReadable;
    file.version = version;
  }
  return changed;
}

// ---------------------------------------------------------------------------
// The engine

class SqliteEngine final : public Engine {
 public:
  explicit SqliteEngine(SqliteEngineOptions options)
      : options_(std::move(options)),
        mask_hash_key_(options_.mask_hash_key.empty() ? RandomBytes(32)
                                                      : options_.mask_hash_key) {}

  Result<QueryResult> Execute(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const QueryRequest& request, ResultSink& sink) override;
  Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                            const policy::Role& role) override;

 private:
  using PoolKey = std::tuple<std::string, uint64_t, std::string, bool>;  // role, version, db, direct

  // The database names in the lake (sorted): the last listing, or a new one
  // with `relist` (the schema watch relists every round; the first call
  // lists); bumps generation_ when the set of files changed.
  Result<std::vector<std::string>> Databases(bool relist = false);
  // Runs a schema check round (SqliteEngineOptions::schema_check_interval)
  // when one is due and no other thread is running one; never waits.
  void MaybeWatchSchemas();
  // One round: re-lists the lake and bumps generation_ when the SchemaWatch
  // saw a change. Requires watch_mu_.
  void WatchSchemasLocked();
  std::unique_ptr<Session> Checkout(const PoolKey& key);
  void Return(const PoolKey& key, std::unique_ptr<Session> session);

  const SqliteEngineOptions options_;
  const std::string mask_hash_key_;  // options_.mask_hash_key, or random per engine
  // Sessions remember the generation they were built under and are not
  // reused once it moved on. Every session loads it before it lists and
  // describes the lake, and every bump happens after the change it reports
  // was observed, so a pooled session of the current generation never
  // predates an observed change.
  std::atomic<uint64_t> generation_{1};

  std::mutex lake_mu_;
  std::vector<std::string> lake_dbs_;  // guarded by lake_mu_
  bool lake_listed_ = false;           // guarded by lake_mu_

  // Held (try_lock only) by the one thread running a check round; ordered
  // before lake_mu_.
  std::mutex watch_mu_;
  SchemaWatch watch_;  // guarded by watch_mu_
  // Steady-clock nanoseconds before which no round is due: the start of the
  // last round plus the interval.
  std::atomic<int64_t> next_watch_ns_{0};

  std::mutex pool_mu_;
  std::map<PoolKey, std::vector<std::unique_ptr<Session>>> idle_;  // guarded by pool_mu_
};

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

Result<std::vector<std::string>> SqliteEngine::Databases(bool relist) {
  {
    // The hot path: no system call. The schema watch relists the directory
    // every schema_check_interval, which bounds how stale this list can be.
    std::lock_guard<std::mutex> lock(lake_mu_);
    if (!relist && lake_listed_) return lake_dbs_;
  }
  std::lock_guard<std::mutex> lock(lake_mu_);
  DIR* dir = ::opendir(options_.lake_dir.c_str());
  if (dir == nullptr) return InternalError("lake directory is not readable: " + options_.lake_dir);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view file(e->d_name);
    if (file.size() <= 3 || file.substr(file.size() - 3) != ".db") continue;
    std::string name(file.substr(0, file.size() - 3));
    if (IsValidDatabaseName(name)) names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  if (lake_listed_ && names != lake_dbs_) generation_.fetch_add(1);
  lake_dbs_ = names;
  lake_listed_ = true;
  return names;
}

void SqliteEngine::MaybeWatchSchemas() {
  const int64_t arrived = SteadyNanos();
  if (arrived < next_watch_ns_.load(std::memory_order_relaxed)) return;
  std::unique_lock<std::mutex> lock(watch_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is checking: never wait for it
  // A round that started after this call arrived has already seen what this
  // one would.
  if (arrived < next_watch_ns_.load(std::memory_order_relaxed)) return;
  const int64_t interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.schema_check_interval).count();
  next_watch_ns_.store(SteadyNanos() + std::max<int64_t>(interval, 0), std::memory_order_relaxed);
  WatchSchemasLocked();
}

void SqliteEngine::WatchSchemasLocked() {
  Result<std::vector<std::string>> databases = Databases(/*relist=*/true);
  if (!databases.ok()) return;  // the caller's own Databases() reports it
  if (watch_.Poll(options_.lake_dir, *databases)) generation_.fetch_add(1);
}

std::unique_ptr<Session> SqliteEngine::Checkout(const PoolKey& key) {
  std::vector<std::unique_ptr<Session>> stale;  // destroyed outside the lock
  std::unique_ptr<Session> found;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    const uint64_t generation = generation_.load();
    // Sessions of older policy versions of this role are never used again.
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (std::get<0>(it->first) == std::get<0>(key) && std::get<1>(it->first) < std::get<1>(key)) {
        for (auto& s : it->second) stale.push_back(std::move(s));
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
    auto it = idle_.find(key);
    if (it != idle_.end()) {
      while (!it->second.empty() && found == nullptr) {
        std::unique_ptr<Session> s = std::move(it->second.back());
        it->second.pop_back();
        if (s->generation() == generation) {
          found = std::move(s);
        } else {
          stale.push_back(std::move(s));
        }
      }
    }
  }
  return found;
}

void SqliteEngine::Return(const PoolKey& key, std::unique_ptr<Session> session) {
  if (!session->reusable() || session->generation() != generation_.load()) return;
  std::lock_guard<std::mutex> lock(pool_mu_);
  auto& list = idle_[key];
  if (list.size() < options_.max_idle_connections_per_role) list.push_back(std::move(session));
  // else: destroyed here, under the lock; closing is quick.
}

Result<QueryResult> SqliteEngine::Execute(const policy::PolicySnapshot& policy,
                                          const policy::Role& role, const QueryRequest& request,
                                          ResultSink& sink) {
  if (!request.database.empty() && !IsValidDatabaseName(request.database)) {
    return InvalidArgumentError("unknown database: " + request.database);
  }
  MaybeWatchSchemas();
  // Loaded before the lake is listed and described (see generation_).
  const uint64_t generation = generation_.load();
  LG_ASSIGN_OR_RETURN(std::vector<std::string> databases, Databases());
  const bool direct = policy::IsUnrestricted(role);
  PoolKey key{role.name, policy.version, request.database, direct};
  std::unique_ptr<Session> session = Checkout(key);
  if (session == nullptr) {
    if (direct) {
      LG_ASSIGN_OR_RETURN(session, Session::OpenDirect(generation, options_.lake_dir, databases,
                                                       request.database));
    } else {
      LG_ASSIGN_OR_RETURN(session, Session::OpenGoverned(generation, options_.lake_dir, databases,
                                                         policy, role, request.database,
                                                         mask_hash_key_));
    }
  }
  Result<QueryResult> result = session->Run(policy, role, request, sink);
  if (result.ok() && direct && result->statement_class != StatementClass::kRead &&
      result->statement_type != "INSERT" && result->statement_type != "UPDATE" &&
      result->statement_type != "DELETE") {
    // DDL changed a raw schema: governed sessions describe tables at
    // creation, so every pooled session is rebuilt. The cookies are read
    // again first (when no round is running) so that the next round does
    // not report this same change and retire the rebuilt sessions again.
    {
      std::unique_lock<std::mutex> lock(watch_mu_, std::try_to_lock);
      if (lock.owns_lock()) WatchSchemasLocked();
    }
    generation_.fetch_add(1);
  }
  Return(key, std::move(session));
  return result;
}

Result<std::vector<DatabaseInfo>> SqliteEngine::Catalog(const policy::PolicySnapshot& policy,
                                                        const policy::Role& role) {
  // Catalog() describes the lake afresh; the check keeps the pooled sessions
  // of the queries that follow consistent with what it reports.
  MaybeWatchSchemas();
  LG_ASSIGN_OR_RETURN(std::vector<std::string> databases, Databases());
  LG_ASSIGN_OR_RETURN(sqlite3 * conn,
                      OpenConnection(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(conn, sqlite3_close_v2);
  Guard guard;
  guard.mode = Guard::Mode::kPrivileged;
  sqlite3_set_authorizer(conn, sqlite_internal::Authorize, &guard);
  LG_ASSIGN_OR_RETURN(auto views, DescribeLake(conn, guard, options_.lake_dir, databases, policy,
                                               role,
                                               policy::IsUnrestricted(role)));
  std::vector<DatabaseInfo> out;
  for (auto& view : views) {
    DatabaseInfo db;
    db.name = view.name;
    for (auto& def : view.tables) {
      TableInfo t;
      t.name = def.table;
      for (auto& c : def.columns) t.columns.push_back(ColumnInfo{c.name, c.type});
      db.tables.push_back(std::move(t));
    }
    out.push_back(std::move(db));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenSqliteEngine(SqliteEngineOptions options) {
  struct stat st {};
  if (options.lake_dir.empty() || ::stat(options.lake_dir.c_str(), &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("lake directory does not exist: " + options.lake_dir);
  }
  if (options.max_idle_connections_per_role == 0) options.max_idle_connections_per_role = 1;
  static std::once_flag once;
  std::call_once(once, [] {
    // A malloc per TEXT value crosses the governed vtab; memory statistics
    // cost 10-20% there. Fails harmlessly when SQLite is already initialized.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
  return std::unique_ptr<Engine>(new SqliteEngine(std::move(options)));
}

}  // namespace lakegate::engine
