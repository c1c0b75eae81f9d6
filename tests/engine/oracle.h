// The reference evaluator of the differential test: what a role should see
// of a table, computed from the policy.h contract alone (it never calls
// DecideTable, DecideView, EffectiveTags or any engine code; row predicates
// use RowFilter::Matches, the documented reference predicate).
//
// Semantics implemented (policy.h, "Cell semantics" on TableView):
//  - A source is a plain grant with SELECT (all rows, its column spec), a tag
//    grant with SELECT whose expression matches the table's effective tags
//    (all rows, the columns whose own effective tags match), or a data-cell
//    filter the role names that exists and targets the table (its rows, its
//    column spec). A source that covers no column of the table is ignored.
//  - Permissions: the union of matching plain and tag grants, plus SELECT and
//    DESCRIBE when a granted filter targets the table. Any permission makes
//    the table visible (DESCRIBE).
//  - Columns: the union of the sources' columns, in table order.
//  - Rows: every row when some source covers all rows, else the rows where
//    one granted filter holds.
//  - Cell: visible when a source covering its column covers its row, else NULL.
//  - Masks (after visibility; a hidden cell stays NULL): kNull -> NULL;
//    kRedact -> text of the same length in 'x', numbers -> 0; kShowLastN ->
//    all but the last n characters replaced by 'x'; kYearOnly -> the year of a
//    'YYYY-MM-DD[ HH:MM[:SS]]' text (days 01-28 only: the generated data never
//    holds other days), else NULL; kExpression -> NULL (not
//    supported yet: engines read NULL); kHash -> lowercase hex HMAC-SHA256 of
//    the value's text under `hash_key` (the engine's mask_hash_key) for text
//    and integer values (ComputeView fails without a key or for a real).
//    A column under a mask that always gives text (hash, show-last-n,
//    year-only) is declared TEXT, as in the engine's governed schema (this
//    decides the affinity of comparisons such as `col < 4`).
//  - Tags: a resource's effective value for a key is its own assignment, else
//    its table's, else its database's. A tag expression matches when, for
//    every key, the effective value is one of the listed values (keys and
//    values case-sensitive; an empty expression matches nothing). A tag
//    grant whose table does not match grants nothing there, even to a column
//    whose own tags match (policy.h leaves this open; the random policies of
//    the differential test avoid it).
// Names (databases, tables, columns) compare case-insensitively.
//
// Not thread-safe; one Oracle per thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
// engine_test_util.h builds SqliteEngineOptions without its newest field;
// keep that warning out of this target until the shared header is updated.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine_test_util.h"
#pragma GCC diagnostic pop
#include "policy/policy.h"

namespace lakegate::engine::testing {

struct RawColumn {
  std::string name;
  std::string type;  // declared type: INTEGER, REAL or TEXT
};

// One raw table of the lake.
struct RawTable {
  std::string database;
  std::string name;
  std::vector<RawColumn> columns;
  std::vector<std::vector<Cell>> rows;
  bool without_rowid = false;  // created WITHOUT ROWID (PRIMARY KEY on the first column)
};

// Reads `database`.`table` from <lake_dir>/<database>.db with plain sqlite3.
Result<RawTable> ReadRawTable(const std::string& lake_dir, const std::string& database,
                              const std::string& table);

// What one role sees of one table.
struct GovernedTable {
  enum class Access { kHidden, kDescribeOnly, kSelectable };
  Access access = Access::kHidden;
  policy::PermissionSet permissions = 0;
  std::vector<RawColumn> columns;       // visible columns, table order
  std::vector<std::vector<Cell>> rows;  // visible rows, hidden cells NULL, masks applied
};

// The reference decision for `role` on `raw`. InvalidArgument for a kHash
// mask it cannot compute (see above).
Result<GovernedTable> ComputeView(const policy::PolicySnapshot& policy, const policy::Role& role,
                                  const RawTable& raw, const std::string& hash_key = "");

// The effective tags (key -> value) of a database, table or column.
std::vector<std::pair<std::string, std::string>> OracleEffectiveTags(
    const policy::PolicySnapshot& policy, const std::string& database, const std::string& table,
    const std::string& column);

struct OracleResult {
  bool ok = false;
  std::string error;                 // SQLite's message when !ok
  std::vector<std::string> columns;  // result column names
  std::vector<std::vector<Cell>> rows;
};

// An in-memory SQLite database holding the governed tables of one role: one
// attached in-memory schema per database, tables named like the governed
// ones, declared with the raw types.
class Oracle {
 public:
  Oracle();
  ~Oracle();
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  // Adds `database` (attached, empty) unless present.
  Status AddDatabase(const std::string& database);
  // Creates database.table with the governed contents (only when selectable).
  Status AddTable(const std::string& database, const std::string& table, const GovernedTable& view);
  // Runs one statement; rows with typed cells.
  OracleResult Run(const std::string& sql);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The mask applied to one visible value (exposed for the unit tests).
Result<Cell> ApplyMask(const policy::ColumnMask& mask, const Cell& value,
                       const std::string& hash_key = "");

}  // namespace lakegate::engine::testing
