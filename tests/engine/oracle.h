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
//    holds other days), else NULL; kHash -> lowercase hex HMAC-SHA256 of
//    the value's text under `hash_key` (the engine's mask_hash_key) for text
//    and integer values (ComputeView fails without a key or for a real).
//    These give NULL for a NULL value.
//  - kExpression masks (policy.h, MaskExpression): the expression evaluated
//    by plain SQLite on the raw row (every raw column, visible or not, masked
//    or not), also when the masked cell's own value is NULL (coalesce(c, 'x')
//    gives 'x'). The text is parsed with policy::ParseMaskExpression (the
//    policy module's documented compiler, no engine code); an expression
//    that does not parse, or names a column the raw table lacks (names
//    compare case-insensitively), reads NULL (fail closed). Otherwise
//    `SELECT <ToSql(column -> ?N)>` runs on an in-memory connection of the
//    oracle's own (no authorizer, double-quoted strings off) with the raw
//    row's cells bound as ?1..?N in table order, and the value it returns is
//    the cell. A hidden cell stays NULL: the mask applies to visible cells.
//  - Declared types: a column under a mask that always gives text (hash,
//    show-last-n, year-only) is declared TEXT, and one under an expression
//    mask is declared with no type at all (no affinity: an expression may
//    give a number for a text column or text for a number column, and its
//    values are kept as they are), both as in the engine's governed schema.
//    The oracle stores the governed rows in a real table, so the declared
//    type decides both the affinity applied when a row is stored and the
//    affinity of comparisons such as `col = 5` in queries. Declared INTEGER,
//    a text '5' an expression gave would be stored as the integer 5 and
//    `col = 5` would hold; declared with no type, the text stays text and
//    `col = 5` is false (text '5' <> integer 5), as on the engine's governed
//    column, which returns the expression's values as they are and declares
//    no type.
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
  std::string type;  // declared type: INTEGER, REAL or TEXT; in a view also "" (no type)
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
// mask it cannot compute (see above); Internal when SQLite fails to evaluate
// a parsed kExpression mask.
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
// ones, declared with the governed types (GovernedTable::columns).
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
// InvalidArgument for kExpression, which needs the whole row
// (MaskExpressionEvaluator).
Result<Cell> ApplyMask(const policy::ColumnMask& mask, const Cell& value,
                       const std::string& hash_key = "");

// Evaluates kExpression masks over the rows of one raw table with plain
// SQLite (the semantics above). Owns one in-memory connection and one
// prepared statement per distinct expression text, kept for its lifetime.
// Not thread-safe.
class MaskExpressionEvaluator {
 public:
  // `columns`: the raw table's columns, in table order (the rows given to
  // Evaluate() hold one cell per column, in that order).
  explicit MaskExpressionEvaluator(std::vector<RawColumn> columns);
  ~MaskExpressionEvaluator();
  MaskExpressionEvaluator(const MaskExpressionEvaluator&) = delete;
  MaskExpressionEvaluator& operator=(const MaskExpressionEvaluator&) = delete;

  // The value of `expression` on `row`: NULL when it does not parse or names
  // a column not among `columns`. InvalidArgument when `row` does not have
  // one cell per column; Internal when SQLite cannot prepare or run the
  // compiled statement (the message holds SQLite's error and the SQL).
  Result<Cell> Evaluate(const std::string& expression, const std::vector<Cell>& row);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakegate::engine::testing
