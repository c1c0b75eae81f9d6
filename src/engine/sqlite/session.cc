// Sessions, statement execution: prepare (with the authorizer recording what
// the statement does), classification and the scope and permission checks,
// parameters, streaming rows to the sink under the limits, the statement
// cache, and SQLite results as EngineFailure statuses.
#include "engine/sqlite/session.h"

#include <algorithm>
#include <climits>
#include <utility>
#include <variant>

#include "common/log.h"
#include "common/strings.h"

namespace lakegate::engine::sqlite_internal {
namespace {

using Clock = std::chrono::steady_clock;

Status InvalidQuery(std::string message) {
  return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery, std::move(message));
}

Status Denied(std::string message) {
  return Status(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                std::move(message));
}

Status WholeTableWriteError(const policy::Role& role, const Classification& cls) {
  return Denied("role " + role.name + " may not run this " + cls.type +
                ": a restricted role writes only whole tables (no row filters, masks or column "
                "limits) and may read only such tables in the statement");
}

Status ScopeError(StatementClass needed, StatementClass allowed) {
  return Status(StatusCode::kPermissionDenied, EngineFailure::kStatementNotAllowed,
                "statement needs the " + std::string(StatementClassName(needed)) +
                    " scope; the token has only " + std::string(StatementClassName(allowed)));
}

// The current row of a statement, read in place.
class StmtRow final : public RowView {
 public:
  explicit StmtRow(sqlite3_stmt* stmt)
      : stmt_(stmt), n_(static_cast<size_t>(sqlite3_column_count(stmt))) {}
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
  int64_t integer(size_t i) const override {
    return sqlite3_column_int64(stmt_, static_cast<int>(i));
  }
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

}  // namespace

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

Result<Session*> Session::Writer() {
  if (writer_ != nullptr) return writer_.get();
  LG_ASSIGN_OR_RETURN(writer_, OpenDirect(generation_, lake_dir_, databases_, database_));
  const GovernedModule* module = module_.get();
  // The direct connection's `main` is the request's database.
  writer_->user_guard_.whole_table_only = [module, main = database_](int code, std::string_view db,
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
  return writer_.get();
}

bool Session::WholeTableWrite(const Classification& cls) const {
  if (cls.klass != StatementClass::kWrite || cls.table.empty() || !IsRowWrite(cls.type))
    return false;
  const TableDef* target = module_->Find(cls.db, cls.table);
  if (target == nullptr || !target->whole_table || !policy::Has(target->permissions, cls.needed)) {
    return false;
  }
  for (const AuthAction& a : user_guard_.actions) {
    Classification ddl;
    if (ClassifyDdl(a, ddl)) return false;
    if (a.code != SQLITE_READ) continue;
    if (IsSchemaTable(a.arg1)) return false;
    const TableDef* def = a.db.empty() ? nullptr : module_->Find(a.db, a.arg1);
    if (def == nullptr || !def->whole_table ||
        !policy::Has(def->permissions, policy::Permission::kSelect)) {
      return false;
    }
  }
  return true;
}

Status Session::StepError(int rc) {
  if (state_ != nullptr && state_->was_cancelled) {
    return Status(StatusCode::kDeadlineExceeded, EngineFailure::kCancelled, "query cancelled");
  }
  // Only our progress handlers interrupt a statement, so an interrupt without
  // a flag (an inner statement's, seen through a governed cursor) is the
  // deadline too.
  if (state_ != nullptr && (state_->timed_out || (rc & 0xff) == SQLITE_INTERRUPT)) {
    return Status(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout,
                  "the query ran longer than the limit of " +
                      std::to_string(state_->timeout.count()) + " ms");
  }
  if (state_ != nullptr && state_->memory != nullptr && state_->memory->exceeded()) {
    const int64_t limit = state_->memory->limit();
    constexpr int64_t kMiB = int64_t{1} << 20;
    return Status(StatusCode::kResourceExhausted, EngineFailure::kMemoryLimitExceeded,
                  "the query needed more memory than the limit of " +
                      (limit % kMiB == 0 ? std::to_string(limit / kMiB) + " MiB"
                                         : std::to_string(limit) + " bytes"));
  }
  sqlite3* user = user_.get();
  switch (rc & 0xff) {
    case SQLITE_ERROR:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_READONLY:
      return InvalidQuery(sqlite3_errmsg(user));
    case SQLITE_TOOBIG:
      return Status(StatusCode::kResourceExhausted, EngineFailure::kValueTooLarge,
                    "string or blob too big (limit " +
                        std::to_string(sqlite3_limit(user, SQLITE_LIMIT_LENGTH, -1)) + " bytes)");
    case SQLITE_NOMEM:
      return Status(StatusCode::kResourceExhausted, EngineFailure::kOutOfMemory, "out of memory");
    case SQLITE_INTERRUPT:
      return Status(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout, "query interrupted");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                    "database is busy; retry");
    case SQLITE_AUTH:
      return Denied(sqlite3_errmsg(user));
    default:
      log::Warn("sqlite engine: unexpected result code " + std::to_string(rc) + ": " +
                sqlite3_errmsg(user));
      return Status(StatusCode::kInternal, EngineFailure::kInternal, "engine error");
  }
}

Status Session::DeniedMessage(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const Classification& cls, int rc) {
  if (!user_guard_.denial.empty()) return Denied(user_guard_.denial);
  if (cls.type.empty() || cls.klass == StatementClass::kRead) {
    return Denied(rc == SQLITE_OK ? "not authorized" : sqlite3_errmsg(user_.get()));
  }
  policy::PermissionSet have =
      cls.table.empty() ? policy::DecideDatabase(policy, role, cls.db)
                        : policy::DecideView(policy, role, cls.db, cls.table, {}).permissions;
  std::string object = cls.table.empty() ? "database " + cls.db : cls.db + "." + cls.table;
  if (!policy::Has(have, cls.needed)) {
    return Denied("role " + role.name + " lacks " +
                  policy::PermissionNames(policy::Bit(cls.needed)) + " on " + object);
  }
  if (IsRowWrite(cls.type)) return WholeTableWriteError(role, cls);
  return Denied(cls.type +
                " is not supported for roles with restricted access yet: writes and DDL through "
                "governed tables are not supported; use a role with unrestricted access (role " +
                role.name + ")");
}

Result<QueryResult> Session::Run(const policy::PolicySnapshot& policy, const policy::Role& role,
                                 const QueryRequest& request, ResultSink& sink) {
  RequestState state;
  state.timeout = request.limits.timeout;
  state.deadline = Clock::now() + request.limits.timeout;
  state.cancelled = request.cancelled;
  state_ = &state;
  // Every allocation SQLite makes for this statement on this thread, here
  // and in the governed cursors' inner statements, is charged to it.
  MemoryBudget memory(request.limits.max_memory_bytes, &Session::OverTime, this);
  state.memory = &memory;
  struct Reset {
    Session* s;
    const MemoryBudget& memory;
    ~Reset() {
      s->state_ = nullptr;
      s->memory_peak_ = memory.peak();
      // What the connections cached while the budget ran out is not kept.
      if (memory.exceeded()) s->broken_ = true;
    }
  } reset{this, memory};

  const int max_len =
      static_cast<int>(std::clamp<int64_t>(request.limits.max_string_bytes, 1, 1000000000));
  sqlite3_limit(user_.get(), SQLITE_LIMIT_LENGTH, max_len);
  if (request.sql.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidQuery("statement too long");
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
    int rc = sqlite3_prepare_v3(user_.get(), request.sql.data(),
                                static_cast<int>(request.sql.size()), 0, &raw, &tail);
    user_guard_.record = false;
    stmt.reset(raw);
    cls = Classify(user_guard_.actions, stmt.get());
    if (rc != SQLITE_OK) {
      if (memory.exceeded() || state.timed_out || state.was_cancelled) return StepError(rc);
      if (cls.klass > request.max_class) return ScopeError(cls.klass, request.max_class);
      if (user_guard_.denied || (rc & 0xff) == SQLITE_AUTH) {
        return DeniedMessage(policy, role, cls, rc);
      }
      if ((rc & 0xff) == SQLITE_TOOBIG) return StepError(rc);
      if ((rc & 0xff) == SQLITE_ERROR) return InvalidQuery(sqlite3_errmsg(user_.get()));
      return StepError(rc);
    }
    if (stmt == nullptr) return InvalidQuery("empty statement");
    size_t used = static_cast<size_t>(tail - request.sql.data());
    if (!IsBlankSql(std::string_view(request.sql).substr(used))) {
      return InvalidQuery("one statement per request");
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
    LG_ASSIGN_OR_RETURN(Session * writer, Writer());
    Result<QueryResult> written = writer->Run(policy, role, request, sink);
    if (!written.ok() && written.status().Is(EngineFailure::kPermissionDenied)) {
      return WholeTableWriteError(role, cls);  // never the direct connection's detail
    }
    return written;
  }

  int expected = sqlite3_bind_parameter_count(stmt.get());
  if (static_cast<size_t>(expected) != request.params.size()) {
    return InvalidQuery("the statement has " + std::to_string(expected) +
                        " parameters; the request gave " + std::to_string(request.params.size()));
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
    int brc = sqlite3_step(begin_.get());
    sqlite3_reset(begin_.get());
    if (brc != SQLITE_DONE) {
      return Status(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                    "database is busy; retry");
    }
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
  if (status.ok() && cls.klass != StatementClass::kRead) {
    result.changes = sqlite3_changes64(user_.get());
  }
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
    int crc = sqlite3_step(commit_.get());
    sqlite3_reset(commit_.get());
    if (crc != SQLITE_DONE) {
      sqlite3_step(rollback_.get());
      sqlite3_reset(rollback_.get());
    }
  }
  if (sqlite3_get_autocommit(user_.get()) == 0) {
    // A write interrupted midway: make sure nothing stays half applied.
    sqlite3_exec(user_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    broken_ = true;
  }
  if (!status.ok()) return status;
  return result;
}

}  // namespace lakegate::engine::sqlite_internal
