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
#include <utility>
#include <vector>

namespace lakegate::engine::sqlite_internal {

struct ColumnDef {
  std::string name;
  std::string type;      // declared type, safe to paste into a CREATE TABLE
  bool numeric = false;  // INTEGER/REAL/NUMERIC affinity
  bool text = false;     // TEXT affinity
  // The raw column's collation when it is a built-in other than BINARY
  // ("NOCASE" or "RTRIM"), declared on the governed column so comparisons,
  // ORDER BY, GROUP BY and DISTINCT behave as on the raw table; else "".
  std::string collation;
  int pk = 0;  // 1-based position in the raw primary key, 0 = not in it
  // The inner SELECT expression over the raw row that gives what the role
  // sees (mask applied, NULL in rows where no granted source covers the
  // cell); "" = the raw column itself. Built only from quoted identifiers,
  // re-rendered literals and allow-listed functions.
  std::string expr;
};

struct TableDef {
  std::string schema;  // the catalog database ("analytics")
  std::string table;   // the raw table name
  // Declared columns: the SELECT-able ones, or every column when the role
  // may only DESCRIBE the table (then `selectable` is false and every read
  // is denied by the authorizer and by the cursor).
  std::vector<ColumnDef> columns;
  bool selectable = false;
  // Every column, every row, no mask (policy::TableView::whole_table), and
  // the role's permissions on the table: writes need both.
  bool whole_table = false;
  uint32_t permissions = 0;  // a policy::PermissionSet
  // The inner WHERE condition that keeps only the rows the role may see
  // (its row filters OR'ed); "" = every row.
  std::string row_filter;
  // What identifies a raw row: its rowid alias ("rowid", "_rowid_" or "oid"
  // unless a column shadows it), or for a WITHOUT ROWID table its primary
  // key columns (quoted, comma-separated, `rowid_columns` of them). The
  // vtab's rowid is a keyed hash of it: unique per row (SQLite's OR
  // optimisation unions scans by rowid) without revealing a raw value (the
  // rowid may alias an INTEGER PRIMARY KEY the role may not read). "" = none
  // known: the row number within the scan.
  std::string rowid_sql;
  int rowid_columns = 0;
};

struct GovernedVtab;

class GovernedModule {
 public:
  static constexpr const char* kModuleName = "lakegate_governed";

  // `rowid_key` keys the hash that turns raw rowids into the vtabs' rowids.
  GovernedModule(sqlite3* privileged, std::string rowid_key)
      : privileged_(privileged), rowid_key_(std::move(rowid_key)) {}
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
  const std::string& rowid_key() const { return rowid_key_; }

  // Called between statements: bounds the plan tables of every vtab.
  void TrimPlans();

  // Bookkeeping for the vtabs SQLite creates (called by the module).
  void AddVtab(GovernedVtab* vtab) { vtabs_.push_back(vtab); }
  void RemoveVtab(GovernedVtab* vtab);

 private:
  sqlite3* privileged_;
  const std::string rowid_key_;
  bool creating_ = false;
  std::map<std::string, TableDef> tables_;  // key: lower(schema) '\0' lower(table)
  std::vector<GovernedVtab*> vtabs_;
};

}  // namespace lakegate::engine::sqlite_internal
