// Internal to engine/sqlite: the governed virtual-table module.
//
// A GovernedModule belongs to one session. It holds the host-side policy
// (which (schema, table) pairs exist and which columns each declares) and
// serves virtual tables on the session's user connection whose cursors read
// the raw tables through the session's privileged connection, with the
// projection (only the columns the outer query uses) and the pushed-down
// constraints compiled into a cached inner SELECT. Used by one thread at a
// time, like its connections.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lakegate::engine::sqlite_internal {

struct ColumnDef {
  std::string name;
  std::string type;       // declared type, safe to paste into a CREATE TABLE
  bool numeric = false;   // INTEGER/REAL/NUMERIC affinity
};

struct TableDef {
  std::string schema;  // the catalog database ("analytics")
  std::string table;   // the raw table name
  // Declared columns: the SELECT-able ones, or every column when the role
  // may only DESCRIBE the table (then `selectable` is false and every read
  // is denied by the authorizer and by the cursor).
  std::vector<ColumnDef> columns;
  bool selectable = false;
};

struct GovernedVtab;

class GovernedModule {
 public:
  static constexpr const char* kModuleName = "lakegate_governed";

  explicit GovernedModule(sqlite3* privileged) : privileged_(privileged) {}
  GovernedModule(const GovernedModule&) = delete;
  GovernedModule& operator=(const GovernedModule&) = delete;

  void AddTable(TableDef def);
  // nullptr when (schema, table) has no grant: xCreate/xConnect refuse such
  // names, so a crafted schema cannot make SQLite connect another table.
  const TableDef* Find(std::string_view schema, std::string_view table) const;
  // The authorizer's READ rule for the user connection.
  bool CanRead(std::string_view schema, std::string_view table, std::string_view column) const;
  const std::map<std::string, TableDef>& tables() const { return tables_; }

  // Registers the module on `user`. Returns an SQLite result code.
  int Register(sqlite3* user);
  // Only while set may CREATE VIRTUAL TABLE create a table (our own setup).
  void set_creating(bool creating) { creating_ = creating; }
  bool creating() const { return creating_; }
  sqlite3* privileged() const { return privileged_; }

  // Called between statements: bounds the plan tables of every vtab.
  void TrimPlans();

  // Bookkeeping for the vtabs SQLite creates (called by the module).
  void AddVtab(GovernedVtab* vtab) { vtabs_.push_back(vtab); }
  void RemoveVtab(GovernedVtab* vtab);

 private:
  sqlite3* privileged_;
  bool creating_ = false;
  std::map<std::string, TableDef> tables_;  // key: lower(schema) '\0' lower(table)
  std::vector<GovernedVtab*> vtabs_;
};

}  // namespace lakegate::engine::sqlite_internal
