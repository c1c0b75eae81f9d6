// The policy catalog model (Lake Formation style) and the pure decision
// function. No I/O; immutable snapshots are shared between threads.
//
// Principals are roles. A role holds grants on databases and tables; a table
// grant may limit the columns (include list, or all columns but an exclude
// list). "*" as a database or table name means every one. The governance
// issue extends this model with data-cell filters, LF-tags and masks; the
// engine asks only Decide(), so those arrive without changing callers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/sql_dialect.h"

namespace lakegate::policy {

enum class Permission : uint32_t {
  kDescribe = 1u << 0,
  kSelect = 1u << 1,
  kInsert = 1u << 2,
  kUpdate = 1u << 3,
  kDelete = 1u << 4,
  kAlter = 1u << 5,
  kDrop = 1u << 6,
  kCreateTable = 1u << 7,
};
using PermissionSet = uint32_t;
inline constexpr PermissionSet kAllPermissions = 0xFF;
inline constexpr PermissionSet Bit(Permission p) { return static_cast<PermissionSet>(p); }
inline constexpr bool Has(PermissionSet set, Permission p) { return (set & Bit(p)) != 0; }

// "SELECT" -> kSelect, "ALL" (or "SUPER") -> every permission, "CREATE_TABLE"
// (or "CREATE TABLE"); case-insensitive; nullopt for unknown names.
std::optional<PermissionSet> ParsePermission(std::string_view name);
// "SELECT, INSERT" style, in a fixed order.
std::string PermissionNames(PermissionSet set);

struct ColumnSpec {
  enum class Kind { kAll, kInclude, kExclude };
  Kind kind = Kind::kAll;
  std::vector<std::string> columns;  // compared case-insensitively (SQL identifiers)
};
// Whether `spec` lets `column` through (case-insensitively).
bool ColumnAllowed(const ColumnSpec& spec, std::string_view column);

struct Grant {
  std::string database;  // "*" = every database
  std::string table;     // "" = a grant on the database itself; "*" = every table in it
  PermissionSet permissions = 0;
  ColumnSpec columns;  // table grants only; applies to SELECT
  // The permissions the role may grant on to other roles (Lake Formation's
  // PermissionsWithGrantOption): a subset of `permissions`. A column-limited
  // grant with the grant option needs an include list (Lake Formation's
  // rule). It decides who may administer, never what a query reads.
  PermissionSet grant_option = 0;
};

// Why `grant` is malformed as a grant, as kInvalidArgument with a
// PolicyFailure reason (policy/validate.h), checked in this order: no
// database (kMissingResource), no permission (kNoPermission), a column list
// on a database-level grant or on table "*" (kColumnsNeedOneTable),
// grant_option not a subset of permissions (kGrantOptionWithoutPermission),
// the grant option on an exclude column list (kGrantOptionOnExcludedColumns).
// OK otherwise.
Status ValidateGrant(const Grant& grant);
// "database analytics" for a database-level grant, else "analytics.members".
std::string GrantResourceName(const Grant& grant);
// "analytics", "analytics.members" or "analytics.members.email".
std::string ResourceName(std::string_view database, std::string_view table,
                         std::string_view column);
// Whether a grant's or mask's database or table name `pattern` ("*" = every
// one) covers `name`; SQL identifiers compare case-insensitively.
bool NameMatches(std::string_view pattern, std::string_view name);

struct Role;
struct PolicySnapshot;

// Delegated administration (Lake Formation's grant option). OK when
// `grantor` may grant or revoke `wanted` (its permissions and its
// grant_option) because it holds each of them with the grant option through
// one of its plain grants on a resource that covers wanted's: the same
// database (or "*"), the database itself for a database-level grant, "*" or
// the same table for a table grant, "*" for "*"; for SELECT limited to
// columns, the grantor's grant must cover those columns (an include list
// within its include list, or any list when it has every column). Tag grants
// and data-cell filters never carry the grant option. PermissionDenied
// naming the first permission the grantor cannot pass on otherwise.
Status CheckGrantOption(const Role& grantor, const Grant& wanted);

// NotFound "no role 'NAME' in the policy; roles: a, b" (or "(none)").
Status RoleNotFound(const PolicySnapshot& policy, const std::string& name);

// Adds `wanted` to the role named `role` (created when missing): merged into
// its grant on the same resource with the same column spec, else appended.
// InvalidArgument when ValidateGrant fails.
Status AddGrant(PolicySnapshot& policy, const std::string& role, const Grant& wanted);
// Revokes `wanted.permissions` from the role's grants on wanted's resource
// (only those with the same column spec when wanted has one; with them their
// grant option), or with `grant_option_only` just the grant option of those
// permissions (SQL's REVOKE GRANT OPTION FOR). Grants left with no permission
// are removed. NotFound naming the role and resource when nothing matched.
Status RevokeGrant(PolicySnapshot& policy, const std::string& role, const Grant& wanted,
                   bool grant_option_only);

// ---- Lake Formation governance beyond table/column grants ----

// A row filter: Lake Formation's PartiQL subset, parsed into an AST so that
// it is compiled to SQL by our code (never pasted as text into a privileged
// statement). Grammar (case-insensitive keywords, case-sensitive strings):
//   expr    := or ; or := and (OR and)* ; and := not (AND not)* ;
//   not     := NOT not | primary ;
//   primary := '(' expr ')' | TRUE | column cmp literal | column [NOT] IN '(' literal, ... ')'
//            | column [NOT] BETWEEN literal AND literal | column [NOT] LIKE string
//            | column IS [NOT] NULL
//   cmp     := = | <> | != | < | <= | > | >=
//   literal := integer | decimal | 'string' (with '' for a quote) | TRUE | FALSE | NULL
//   column  := identifier | "quoted identifier"
// At most 2048 characters and 64 levels of nesting.
struct RowFilterNode;
struct RowFilter {
  std::shared_ptr<const RowFilterNode> root;  // null = all rows
  std::string text;                           // as written
  bool all_rows() const { return root == nullptr; }
  // Column names the filter references (as written; compare case-insensitively).
  std::vector<std::string> Columns() const;
  // SQL in `dialect` with literals rendered safely (integers and reals
  // re-rendered from their parsed values, strings quoted with '' escaping);
  // `column_sql` must return a safe SQL expression (a quoted identifier).
  //   kSQLite: every column reference is `(+<column_sql(name)> COLLATE
  //     BINARY)`; "1" for all rows.
  //   kPostgreSQL, kTrino: the same comparisons where the engine evaluates
  //     them as Matches() does, and a type error where it cannot, so that a
  //     policy compiled into a view or filter fails instead of admitting other
  //     rows: column references as they are; text literals compare bytewise
  //     (PostgreSQL: `'..'::text COLLATE "C"`; Trino's varchar compares by
  //     code point) and are never coerced to a number, so comparing a number
  //     column with a string is an error, as is a text column with a number;
  //     LIKE folds ASCII letters only (translate() on the column, no escape
  //     character) and takes text columns only; TRUE/FALSE for constants;
  //     "TRUE" for all rows.
  std::string ToSql(const std::function<std::string(std::string_view column)>& column_sql,
                    SqlDialect dialect = SqlDialect::kSQLite) const;
  // Evaluates the filter on one row (the reference evaluator of the tests and
  // of `policy explain`): `value(name)` gives the cell; SQL three-valued logic.
  // Comparisons are SQLite's without type affinity and with BINARY collation
  // (ToSql() compiles them so): NULL compares unknown; numbers compare
  // numerically (integer with real too) and sort before text; text compares
  // bytewise, so `id = '5'` is false for the integer 5. LIKE is SQLite's
  // default (ASCII case-insensitive, '%' and '_', numbers as their text).
  struct Value {
    enum class Type { kNull, kInteger, kReal, kText } type = Type::kNull;
    int64_t i = 0;
    double r = 0;
    std::string t;
  };
  bool Matches(const std::function<Value(std::string_view column)>& value) const;
};
// InvalidArgument "row filter: <what was expected, what was found> at
// position N" (N 1-based). Empty or blank text, and plain TRUE, give all rows.
Result<RowFilter> ParseRowFilter(std::string_view text);
// A filter read back from a stored policy version: nested up to 64 levels,
// the limit versions were once written with, so that such a version stays
// readable (an engine that cannot parse the compiled filter fails the
// role's queries on the table, closed); ParseRowFilter's 20 for new ones.
Result<RowFilter> ParseStoredRowFilter(std::string_view text);

// A data-cell filter (Lake Formation DataCellsFilter): rows and columns of one
// table. Roles are granted SELECT on filters by name.
struct DataCellFilter {
  std::string name;
  std::string database;
  std::string table;
  RowFilter rows;      // all rows when empty
  ColumnSpec columns;  // kAll = every column
};

// A mask expression (MaskKind::kExpression): a SQL value expression over the
// raw columns of the masked row, parsed into an AST and compiled to SQL by our
// code (never pasted as text into a privileged statement), as Trino's and
// Ranger's custom column masks are. Grammar (case-insensitive keywords):
//   expr     := or ; or := and (OR and)* ; and := not (AND not)* ;
//   not      := NOT not | cmp ;
//   cmp      := concat [ cmpop concat | IS [NOT] NULL | [NOT] IN '(' expr, ... ')'
//                       | [NOT] BETWEEN concat AND concat | [NOT] LIKE concat ]
//   cmpop    := = | <> | != | < | <= | > | >=
//   concat   := additive ('||' additive)* ;
//   additive := multiplicative (('+' | '-') multiplicative)* ;
//   multiplicative := unary (('*' | '/' | '%') unary)* ;
//   unary    := '-' unary | primary
//   primary  := literal | column | function '(' [expr (',' expr)*] ')' | '(' expr ')'
//             | CASE (WHEN expr THEN expr)+ [ELSE expr] END
//   function := lower | upper | length | substr | replace | trim | ltrim | rtrim
//             | coalesce | ifnull | nullif | instr  (with SQLite's arities)
//   literal and column as for row filters.
// Semantics are SQLite's; column references read the raw value without
// affinity and compare with BINARY collation, like row filters. At most 2048
// characters and 64 levels of nesting.
struct MaskExpressionNode;
// A column as MaskExpression::ToPostgreSql() reads it: a safe SQL expression
// (a quoted column) and the kind of its PostgreSQL values.
struct MaskColumnSql {
  enum class Kind { kInteger, kReal, kText };
  std::string sql;
  Kind kind = Kind::kText;
};
struct MaskExpression {
  std::shared_ptr<const MaskExpressionNode> root;  // never null once parsed
  std::string text;                                // as written
  // Column names the expression references (as written; compare
  // case-insensitively), without duplicates, in first-use order.
  std::vector<std::string> Columns() const;
  // SQL for SQLite with every column reference replaced by
  // `(+<column_sql(name)> COLLATE BINARY)`, literals rendered safely and
  // every operator parenthesized; `column_sql` must return a safe SQL
  // expression (a quoted identifier or a bound parameter). kTrino: column
  // references as is, ifnull as coalesce, instr as strpos, substr with
  // literal positions and lengths >= 0 and replace as SQLite reads them
  // (position 0, an empty pattern; ToTrinoSql()); Trino's typing is
  // stricter than SQLite's (|| and comparisons need matching types), so an
  // expression mixing types fails the query there.
  std::string ToSql(const std::function<std::string(std::string_view column)>& column_sql,
                    SqlDialect dialect = SqlDialect::kSQLite) const;
  // SQL for PostgreSQL that gives SQLite's value exactly, typed statically
  // from `column` (nullopt: a column whose type has no exact counterpart):
  // integers as bigint, reals as double precision, text bytewise (COLLATE
  // "C"); booleans of comparisons as the integers 1/0 where a value is
  // needed; integer and real division and % by zero give NULL; LIKE, lower
  // and upper fold ASCII letters only; coalesce, nullif and CASE return one
  // kind. Where PostgreSQL cannot give the same value, FailedPrecondition
  // naming the construct ("comparing text with a number", "a real number
  // as text", "substr with a computed or negative position", ...). An
  // integer overflow is an error in PostgreSQL (SQLite goes on in floating
  // point): the query fails, it never returns another value.
  Result<std::string> ToPostgreSql(
      const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column) const;
  // SQL for Trino (ToSql's kTrino) whose value, cast to a column of kind
  // `target` (nullopt: a Trino type of no such kind), is SQLite's, typed
  // from `column` (nullopt: a type of no such kind, refused). substr takes
  // SQLite's position 0 (the first N-1 characters) and replace an empty
  // pattern (the string itself). FailedPrecondition "mask expression:
  // <construct> has no exact Trino counterpart" where Trino would give
  // another value: a value of another kind than the column's except an
  // integer (or a comparison's 1/0 on a number column) on a real or text
  // column ("a real number as the value of a text column", ...); substr
  // with a computed or negative position or length; CASE, coalesce,
  // ifnull or arithmetic mixing text and numbers.
  Result<std::string> ToTrinoSql(
      const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column,
      std::optional<MaskColumnSql::Kind> target) const;
};
// InvalidArgument "mask expression: <what was expected, what was found> at
// position N" (N 1-based); empty text is an error.
Result<MaskExpression> ParseMaskExpression(std::string_view text);
// An expression read back from a stored policy version: nested up to 64
// levels, the limit versions were once written with, so that such a version
// stays readable; ParseMaskExpression's 12 for new ones (the engines parse
// with it: a deeper stored mask reads NULL, closed).
Result<MaskExpression> ParseStoredMaskExpression(std::string_view text);

// A column mask (beyond Lake Formation: Ranger, Unity Catalog, Trino).
enum class MaskKind {
  kNull,        // NULL
  kRedact,      // text -> same length of 'x' (numbers -> 0)
  kHash,        // hex HMAC-SHA256 of the value's text under a per-server key (joins still work)
  kShowLastN,   // all but the last n characters replaced by 'x'
  kYearOnly,    // a date/time text -> its year as text ('2019'); other values NULL
  kExpression,  // `expression` (a MaskExpression) evaluated on the raw row
};
// The most characters kShowLastN leaves visible.
inline constexpr int64_t kMaxMaskShowLastN = 1000;
struct ColumnMask {
  std::string database, table, column;
  MaskKind kind = MaskKind::kNull;
  int64_t n = 4;           // kShowLastN: 0..kMaxMaskShowLastN
  std::string expression;  // kExpression
};

// InvalidArgument with a PolicyFailure reason (policy/validate.h) for a mask
// the engines cannot apply: kExpression whose expression does not parse
// (kInvalidMaskExpression), or kShowLastN with n outside
// [0, kMaxMaskShowLastN] (kMaskLengthOutOfRange). ValidatePolicy() calls it,
// so such a policy is refused when it is read or written, not silently masked
// to NULL (engines still read NULL for an invalid mask: fail closed). `stored`:
// the expression is read with ParseStoredMaskExpression().
Status ValidateColumnMask(const ColumnMask& mask, bool stored = false);

// LF-tags. A key has a set of allowed values; resources carry at most one
// value per key; a column inherits from its table, a table from its
// database, and the nearest assignment wins.
struct TagKey {
  std::string key;
  std::vector<std::string> values;
};
struct TagAssignment {
  std::string database;
  std::string table;   // "" = the database itself
  std::string column;  // "" = the table (or database) itself
  std::string key;
  std::string value;
};
// AND across keys, OR across the values of one key. Keys and values compare
// exactly (case-sensitive). An empty expression matches nothing.
struct TagExpression {
  std::map<std::string, std::vector<std::string>> clauses;
};
// Permissions on every table (and its columns) whose effective tags match.
// Column-level tags narrow the columns: a column whose own effective tags do
// not match is not granted through this grant.
struct TagGrant {
  TagExpression expression;
  PermissionSet permissions = 0;
};

struct Role {
  std::string name;
  std::string description;
  std::vector<Grant> grants;
  // (Default member initializers let older aggregate initializations of Role
  // that stop at `grants` compile without -Wmissing-field-initializers.)
  std::vector<std::string> filters = {};  // names of DataCellFilters the role may SELECT through
  std::vector<ColumnMask> masks = {};     // applied to what the role reads
  std::vector<TagGrant> tag_grants = {};  // evaluated against the current tags
};

// What a role may do with one table.
struct TableAccess {
  PermissionSet permissions = 0;  // union over every matching grant
  // Columns readable with SELECT: the union of the matching grants' column
  // specs (a grant without a column spec makes every column readable).
  ColumnSpec select_columns;
  bool visible() const { return permissions != 0; }  // any permission implies DESCRIBE
};

// The access of `role` to `database`.`table` through its plain grants only
// (DecideView() is the complete decision, with filters, tags and masks). Pure.
TableAccess DecideTable(const Role& role, std::string_view database, std::string_view table);
// Database-level permissions (CREATE_TABLE, ALTER, DROP, DESCRIBE) of `role`
// on `database`: from grants with table "", plus all of them from a grant of
// ALL on table "*" (Lake Formation's "Super"), plus DESCRIBE when any table in
// it is granted.
PermissionSet DecideDatabase(const Role& role, std::string_view database);
// `all_columns` filtered to those `access` may SELECT, in table order.
std::vector<std::string> SelectableColumns(const TableAccess& access,
                                           const std::vector<std::string>& all_columns);
// True when the role has a grant of ALL on database "*", table "*" with no
// column limits and has no masks and no data-cell filters: every permission
// on every table of every database (it may use the engine's direct fast path).
bool IsUnrestricted(const Role& role);

// An immutable, versioned policy catalog. A policy change makes a new
// snapshot with a higher version; queries hold the snapshot they started with.
struct PolicySnapshot {
  uint64_t version = 0;
  std::map<std::string, Role, std::less<>> roles;
  std::map<std::string, DataCellFilter, std::less<>> filters = {};  // by name
  std::vector<TagKey> tag_keys = {};
  std::vector<TagAssignment> tag_assignments = {};
  // The role named `name` (exact match first, then case-insensitive), or
  // nullptr.
  const Role* FindRole(std::string_view name) const;
};

// The effective tags of a database, table or column (inheritance, nearest
// assignment wins): key -> value.
std::map<std::string, std::string> EffectiveTags(const PolicySnapshot& policy,
                                                 std::string_view database, std::string_view table,
                                                 std::string_view column);
bool TagExpressionMatches(const TagExpression& expression,
                          const std::map<std::string, std::string>& tags);

// DecideDatabase() plus DESCRIBE when a table in `database` is reachable
// through a data-cell filter of the role or through a tag grant (matching the
// database's tags or a table's own tags). Tag grants give no database-level
// permission beyond DESCRIBE.
PermissionSet DecideDatabase(const PolicySnapshot& policy, const Role& role,
                             std::string_view database);

// What one role sees of one table: the complete decision the engine compiles
// into its governed view. Cell semantics (Lake Formation): a cell is visible
// when some granted source covers both its row and its column; a source is a
// plain grant (all rows, its columns), a tag grant (all rows, the matching
// columns) or a data-cell filter (its rows, its columns). A row is visible
// when some source covers it; in a visible row, a column cell covered by no
// source covering that row reads NULL.
struct ViewColumn {
  std::string name;
  // The cell is visible when `all_rows` or when one of `row_filters` holds.
  bool all_rows = false;
  std::vector<const RowFilter*> row_filters;  // point into the snapshot
  const ColumnMask* mask = nullptr;           // applied after visibility
};
struct TableView {
  PermissionSet permissions = 0;    // plain + tag grants (+ SELECT and DESCRIBE through filters)
  std::vector<ViewColumn> columns;  // the columns the role may SELECT, in table order
  // Rows: all when `all_rows`, else those where one of `row_filters` holds.
  bool all_rows = true;
  std::vector<const RowFilter*> row_filters;
  bool visible() const { return permissions != 0; }
  // INSERT/UPDATE/DELETE apply only to whole tables: no filters, no masks,
  // every column selectable.
  bool whole_table = true;
};
// Pure; `all_columns` is the table's columns in order. The returned pointers
// stay valid while `policy` (filters) and `role` (masks) live. A data-cell
// filter whose row condition names a column the table lacks covers nothing
// (fail closed); a source that covers no column exposes no row. A mask
// applies when its database and table match (exactly, case-insensitively,
// or "*") and its column matches exactly (case-insensitively); the first
// match wins. SELECT through a tag grant or a filter also gives DESCRIBE.
TableView DecideView(const PolicySnapshot& policy, const Role& role, std::string_view database,
                     std::string_view table, const std::vector<std::string>& all_columns);

}  // namespace lakegate::policy
