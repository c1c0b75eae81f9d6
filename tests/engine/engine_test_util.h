// Shared fixture pieces for the engine tests and the data-driven SQL runner:
// a temporary lake with analytics.members/orders/secret_table and
// hr.salaries, the super and dev roles, and a sink that collects rows.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "engine/demo_members.h"
#include "engine/engine.h"
#include "engine/sqlite/sqlite_engine.h"
#include "policy/policy.h"

namespace lakegate::engine::testing {

using Cell = std::variant<std::monostate, int64_t, double, std::string, Blob>;

inline std::string CellText(const Cell& c) {
  if (std::holds_alternative<std::monostate>(c)) return "NULL";
  if (const auto* i = std::get_if<int64_t>(&c)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&c)) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", *d);
    return buf;
  }
  if (const auto* s = std::get_if<std::string>(&c)) return s->empty() ? "(empty)" : *s;
  return "blob:" + std::get<Blob>(c).bytes;
}

class CollectingSink : public ResultSink {
 public:
  Status Begin(const std::vector<ColumnInfo>& columns) override {
    columns_ = columns;
    return Status::Ok();
  }
  Status Row(const RowView& row) override {
    std::vector<Cell> cells;
    for (size_t i = 0; i < row.size(); ++i) {
      switch (row.type(i)) {
        case ValueType::kNull:
          cells.emplace_back(std::monostate{});
          break;
        case ValueType::kInteger:
          cells.emplace_back(row.integer(i));
          break;
        case ValueType::kReal:
          cells.emplace_back(row.real(i));
          break;
        case ValueType::kText:
          cells.emplace_back(std::string(row.text(i)));
          break;
        case ValueType::kBlob:
          cells.emplace_back(Blob{std::string(row.blob(i))});
          break;
      }
    }
    rows_.push_back(std::move(cells));
    return Status::Ok();
  }
  const std::vector<ColumnInfo>& columns() const { return columns_; }
  const std::vector<std::vector<Cell>>& rows() const { return rows_; }
  // Every cell and column name, for "does this leak?" checks.
  std::string Dump() const {
    std::string out;
    for (const auto& c : columns_) out += c.name + "|";
    out += "\n";
    for (const auto& r : rows_) {
      for (const auto& c : r) out += CellText(c) + "|";
      out += "\n";
    }
    return out;
  }

 private:
  std::vector<ColumnInfo> columns_;
  std::vector<std::vector<Cell>> rows_;
};

struct Outcome {
  Status status;
  QueryResult result;
  std::vector<ColumnInfo> columns;
  std::vector<std::vector<Cell>> rows;
  std::string dump;
};

inline policy::Role SuperRole() {
  policy::Role r;
  r.name = "lf-super-user-role";
  r.grants.push_back(policy::Grant{"*", "*", policy::kAllPermissions, {}});
  return r;
}

inline policy::Role DevRole() {
  using policy::Bit;
  using policy::Permission;
  policy::Role r;
  r.name = "lf-dev-role";
  policy::Grant members{"analytics",
                        "members",
                        Bit(Permission::kSelect) | Bit(Permission::kDescribe),
                        {policy::ColumnSpec::Kind::kExclude, {"email"}}};
  policy::Grant orders{
      "analytics", "orders", Bit(Permission::kSelect) | Bit(Permission::kDescribe), {}};
  r.grants = {members, orders};
  return r;
}

// A temporary lake with the demo tables, and an engine over it.
class Lake {
 public:
  Lake() {
    char tmpl[] = "/tmp/lakegate-engine-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    policy_.version = 1;
    policy_.roles["lf-super-user-role"] = SuperRole();
    policy_.roles["lf-dev-role"] = DevRole();
  }
  ~Lake() {
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Builds the lake (1000 members unless told) and opens the engine.
  Status Build(int64_t members = 1000) {
    LG_RETURN_IF_ERROR(CreateDatabaseIfMissing(dir_, "hr"));
    auto engine = OpenSqliteEngine(SqliteEngineOptions{dir_, 4});
    if (!engine.ok()) return engine.status();
    engine_ = std::move(engine).value();
    LG_RETURN_IF_ERROR(LoadDemoMembers(*engine_, members));
    for (const char* sql :
         {"CREATE TABLE orders(order_id INTEGER PRIMARY KEY, member_id INTEGER, amount REAL, "
          "note TEXT, payload BLOB)",
          "INSERT INTO orders VALUES (1, 1, 10.5, 'first', x'0001ff'), (2, 1, 20.25, NULL, NULL), "
          "(3, 2, 7.0, 'third', x'')",
          "CREATE TABLE secret_table(code TEXT)",
          "INSERT INTO secret_table VALUES ('TOPSECRET-1')"}) {
      LG_RETURN_IF_ERROR(RunAs(SuperRole(), sql, StatementClass::kAdmin, "analytics").status);
    }
    for (const char* sql : {"CREATE TABLE salaries(employee TEXT, salary INTEGER)",
                            "INSERT INTO salaries VALUES ('SECRET-HR-alice', 123456)",
                            "CREATE TABLE members(member_id INTEGER, name TEXT)",
                            "INSERT INTO members VALUES (-1, 'SECRET-HR-member')"}) {
      LG_RETURN_IF_ERROR(RunAs(SuperRole(), sql, StatementClass::kAdmin, "hr").status);
    }
    return Status::Ok();
  }

  Outcome RunAs(const policy::Role& role, const std::string& sql,
                StatementClass max_class = StatementClass::kRead,
                const std::string& database = "analytics", std::vector<Param> params = {},
                QueryLimits limits = {}, const std::atomic<bool>* cancelled = nullptr) {
    QueryRequest req;
    req.sql = sql;
    req.database = database;
    req.params = std::move(params);
    req.max_class = max_class;
    req.limits = limits;
    req.cancelled = cancelled;
    CollectingSink sink;
    Outcome out;
    auto r = engine_->Execute(policy_, role, req, sink);
    out.status = r.status();
    if (r.ok()) out.result = *r;
    out.columns = sink.columns();
    out.rows = sink.rows();
    out.dump = sink.Dump();
    return out;
  }

  Engine& engine() { return *engine_; }
  const std::string& dir() const { return dir_; }
  policy::PolicySnapshot& policy() { return policy_; }

 private:
  std::string dir_;
  policy::PolicySnapshot policy_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace lakegate::engine::testing
