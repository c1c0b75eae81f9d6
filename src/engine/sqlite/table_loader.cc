#include "engine/sqlite/table_loader.h"

#include <sqlite3.h>
#include <unistd.h>

#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/strings.h"
#include "engine/engine.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/guard.h"
#include "engine/sqlite/sqlite_engine.h"

namespace lakegate::engine::sqlite_internal {
namespace {

Result<StmtPtr> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteFailure(db, rc, "prepare");
  return stmt;
}

// SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html
// §3.1) as the values a column takes.
ColumnKind AffinityKind(std::string_view declared) {
  std::string t = AsciiLower(declared);
  if (t.find("int") != std::string::npos) return ColumnKind::kInteger;
  if (t.find("char") != std::string::npos || t.find("clob") != std::string::npos ||
      t.find("text") != std::string::npos) {
    return ColumnKind::kText;
  }
  if (t.empty() || t.find("blob") != std::string::npos) return ColumnKind::kAny;
  if (t.find("real") != std::string::npos || t.find("floa") != std::string::npos ||
      t.find("doub") != std::string::npos) {
    return ColumnKind::kReal;
  }
  return ColumnKind::kNumeric;
}

int Bind(sqlite3_stmt* stmt, int index, const LoadValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return sqlite3_bind_int64(stmt, index, *i);
  if (const auto* d = std::get_if<double>(&value)) return sqlite3_bind_double(stmt, index, *d);
  if (const auto* t = std::get_if<std::string_view>(&value)) {
    // The text lives in the source's record until Insert() returns.
    return sqlite3_bind_text64(stmt, index, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  return sqlite3_bind_null(stmt, index);
}

class TableLoader final : public LoadTarget {
 public:
  TableLoader(DbPtr db, std::string table) : db_(std::move(db)), table_(std::move(table)) {}
  ~TableLoader() override {
    insert_.reset();  // an unfinalized statement would keep the transaction busy
    if (open_) Exec(db_.get(), "ROLLBACK").IgnoreError();
  }

  Result<std::optional<std::vector<LoadedColumn>>> DescribeTable() override {
    sqlite3* db = db_.get();
    LG_ASSIGN_OR_RETURN(
        StmtPtr kind, Prepare(db, "SELECT type FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE"));
    sqlite3_bind_text64(kind.get(), 1, table_.data(), table_.size(), SQLITE_STATIC, SQLITE_UTF8);
    int rc = sqlite3_step(kind.get());
    if (rc == SQLITE_DONE) return std::optional<std::vector<LoadedColumn>>();
    if (rc != SQLITE_ROW) return SqliteFailure(db, rc, "reading the schema");
    std::string type = reinterpret_cast<const char*>(sqlite3_column_text(kind.get(), 0));
    if (type != "table") {
      return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidName,
                    "'" + table_ + "' is a " + type + ", not a table");
    }
    LG_ASSIGN_OR_RETURN(StmtPtr info, Prepare(db, "PRAGMA table_info(" + QuoteIdent(table_) + ")"));
    std::vector<LoadedColumn> columns;
    while ((rc = sqlite3_step(info.get())) == SQLITE_ROW) {
      auto text = [&](int i) {
        const unsigned char* p = sqlite3_column_text(info.get(), i);
        return p != nullptr ? std::string(reinterpret_cast<const char*>(p)) : std::string();
      };
      columns.push_back({text(1), text(2)});
    }
    if (rc != SQLITE_DONE) return SqliteFailure(db, rc, "reading the table's columns");
    return std::optional<std::vector<LoadedColumn>>(std::move(columns));
  }

  ColumnKind KindOf(std::string_view declared_type) const override {
    return AffinityKind(declared_type);
  }

  Status Begin() override {
    LG_RETURN_IF_ERROR(Exec(db_.get(), "BEGIN IMMEDIATE"));
    open_ = true;
    return Status::Ok();
  }

  Status CreateTable(const std::vector<LoadedColumn>& columns) override {
    std::string ddl = "CREATE TABLE " + QuoteIdent(table_) + "(";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) ddl += ", ";
      ddl += QuoteIdent(columns[i].name) + " " + columns[i].type;
    }
    ddl += ")";
    return Exec(db_.get(), ddl);
  }

  Status PrepareInsert(const std::vector<std::string>& columns) override {
    insert_.reset();
    default_values_ = columns.empty();
    if (default_values_) {
      // A record with no fields (an NDJSON {}): every column gets its default.
      LG_ASSIGN_OR_RETURN(
          insert_, Prepare(db_.get(), "INSERT INTO " + QuoteIdent(table_) + " DEFAULT VALUES"));
      return Status::Ok();
    }
    std::string sql = "INSERT INTO " + QuoteIdent(table_) + "(";
    std::string values = ") VALUES(";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) {
        sql += ", ";
        values += ", ";
      }
      sql += QuoteIdent(columns[i]);
      values += "?" + std::to_string(i + 1);
    }
    LG_ASSIGN_OR_RETURN(insert_, Prepare(db_.get(), sql + values + ")"));
    return Status::Ok();
  }

  Status Insert(const std::vector<LoadValue>& values) override {
    sqlite3_stmt* stmt = insert_.get();
    int index = 0;
    for (const LoadValue& value : values) {
      int rc = Bind(stmt, ++index, value);
      if (rc != SQLITE_OK) {
        return Status(StatusCode::kInternal, EngineFailure::kInternal,
                      "sqlite: cannot bind a value (code " + std::to_string(rc) + ")");
      }
    }
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE) return Status::Ok();
    sqlite3* db = db_.get();
    if (default_values_) return InvalidData(std::string("sqlite: ") + sqlite3_errmsg(db));
    // Constraint violations (NOT NULL, UNIQUE, CHECK) are the file's fault.
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return InvalidData(sqlite3_errmsg(db));
    return SqliteFailure(db, rc, "insert");
  }

  Status Commit() override {
    insert_.reset();
    LG_RETURN_IF_ERROR(Exec(db_.get(), "COMMIT"));
    open_ = false;
    return Status::Ok();
  }

 private:
  static Status InvalidData(std::string message) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidData, std::move(message));
  }

  DbPtr db_;
  const std::string table_;
  StmtPtr insert_;
  bool default_values_ = false;
  bool open_ = false;  // inside BEGIN, not committed yet
};

}  // namespace

Result<std::unique_ptr<LoadTarget>> OpenTableLoader(const std::string& lake_dir,
                                                    const LoadRequest& request) {
  const std::string path = LakeFilePath(lake_dir, request.database);
  // Only create the database file when the table may be created too.
  if (!request.create && ::access(path.c_str(), F_OK) != 0) {
    return Status(StatusCode::kNotFound, EngineFailure::kNotFound,
                  "database '" + request.database + "' does not exist (no " + path +
                      "); pass --create to create " + request.database + "." + request.table +
                      " from the file");
  }
  LG_RETURN_IF_ERROR(CreateDatabaseIfMissing(lake_dir, request.database));
  LG_ASSIGN_OR_RETURN(DbPtr db, OpenConnection(path, SQLITE_OPEN_READWRITE));
  LG_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA cache_size=-65536"));
  return std::unique_ptr<LoadTarget>(std::make_unique<TableLoader>(std::move(db), request.table));
}

}  // namespace lakegate::engine::sqlite_internal
