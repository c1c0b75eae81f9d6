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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

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

struct Grant {
  std::string database;  // "*" = every database
  std::string table;     // "" = a grant on the database itself; "*" = every table in it
  PermissionSet permissions = 0;
  ColumnSpec columns;    // table grants only; applies to SELECT
};

struct Role {
  std::string name;
  std::string description;
  std::vector<Grant> grants;
};

// What a role may do with one table.
struct TableAccess {
  PermissionSet permissions = 0;     // union over every matching grant
  // Columns readable with SELECT: the union of the matching grants' column
  // specs (a grant without a column spec makes every column readable).
  ColumnSpec select_columns;
  bool visible() const { return permissions != 0; }  // any permission implies DESCRIBE
};

// The access of `role` to `database`.`table`. Pure.
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
// column limits: every permission on every table of every database (it may
// use the engine's direct fast path).
bool IsUnrestricted(const Role& role);

// An immutable, versioned set of roles. A policy change makes a new snapshot
// with a higher version; queries hold the snapshot they started with.
struct PolicySnapshot {
  uint64_t version = 0;
  std::map<std::string, Role, std::less<>> roles;
  // The role named `name` (exact match first, then case-insensitive), or
  // nullptr.
  const Role* FindRole(std::string_view name) const;
};

}  // namespace lakegate::policy
