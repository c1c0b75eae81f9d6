#include "policy/policy.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/strings.h"

namespace lakegate::policy {
namespace {

struct NamedPermission {
  std::string_view name;
  Permission permission;
};

// The fixed order PermissionNames() prints in.
constexpr std::array<NamedPermission, 8> kPermissionNames = {{
    {"SELECT", Permission::kSelect},
    {"INSERT", Permission::kInsert},
    {"UPDATE", Permission::kUpdate},
    {"DELETE", Permission::kDelete},
    {"DESCRIBE", Permission::kDescribe},
    {"ALTER", Permission::kAlter},
    {"DROP", Permission::kDrop},
    {"CREATE_TABLE", Permission::kCreateTable},
}};

bool NameMatches(std::string_view pattern, std::string_view name) {
  return pattern == "*" || EqualsIgnoreCase(pattern, name);
}

bool ContainsIgnoreCase(const std::vector<std::string>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& c) { return EqualsIgnoreCase(c, name); });
}

void AddUnique(std::vector<std::string>& list, const std::string& name) {
  if (!ContainsIgnoreCase(list, name)) list.push_back(name);
}

// Union of two column specs: every column either one allows.
//   all ∪ x = all;  incl(A) ∪ incl(B) = incl(A ∪ B);
//   excl(A) ∪ excl(B) = excl(A ∩ B);  incl(A) ∪ excl(B) = excl(B \ A).
ColumnSpec UnionColumns(const ColumnSpec& a, const ColumnSpec& b) {
  using Kind = ColumnSpec::Kind;
  if (a.kind == Kind::kAll || b.kind == Kind::kAll) return ColumnSpec{};
  ColumnSpec out;
  if (a.kind == Kind::kInclude && b.kind == Kind::kInclude) {
    out.kind = Kind::kInclude;
    out.columns = a.columns;
    for (const auto& c : b.columns) AddUnique(out.columns, c);
    return out;
  }
  out.kind = Kind::kExclude;
  if (a.kind == Kind::kExclude && b.kind == Kind::kExclude) {
    for (const auto& c : a.columns) {
      if (ContainsIgnoreCase(b.columns, c)) AddUnique(out.columns, c);
    }
    return out;
  }
  const ColumnSpec& incl = a.kind == Kind::kInclude ? a : b;
  const ColumnSpec& excl = a.kind == Kind::kInclude ? b : a;
  for (const auto& c : excl.columns) {
    if (!ContainsIgnoreCase(incl.columns, c)) AddUnique(out.columns, c);
  }
  return out;
}

bool ColumnAllowed(const ColumnSpec& spec, std::string_view column) {
  switch (spec.kind) {
    case ColumnSpec::Kind::kAll:
      return true;
    case ColumnSpec::Kind::kInclude:
      return ContainsIgnoreCase(spec.columns, column);
    case ColumnSpec::Kind::kExclude:
      return !ContainsIgnoreCase(spec.columns, column);
  }
  return false;
}

constexpr PermissionSet kDatabaseLevel = Bit(Permission::kCreateTable) | Bit(Permission::kAlter) |
                                         Bit(Permission::kDrop) | Bit(Permission::kDescribe);

}  // namespace

std::optional<PermissionSet> ParsePermission(std::string_view name) {
  std::string_view trimmed = TrimWhitespace(name);
  if (EqualsIgnoreCase(trimmed, "ALL") || EqualsIgnoreCase(trimmed, "SUPER")) {
    return kAllPermissions;
  }
  if (EqualsIgnoreCase(trimmed, "CREATE TABLE")) return Bit(Permission::kCreateTable);
  for (const auto& p : kPermissionNames) {
    if (EqualsIgnoreCase(p.name, trimmed)) return Bit(p.permission);
  }
  return std::nullopt;
}

std::string PermissionNames(PermissionSet set) {
  std::string out;
  for (const auto& p : kPermissionNames) {
    if (!Has(set, p.permission)) continue;
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}

TableAccess DecideTable(const Role& role, std::string_view database, std::string_view table) {
  TableAccess access;
  access.select_columns.kind = ColumnSpec::Kind::kInclude;  // nothing until a SELECT grant
  bool any_select = false;
  for (const Grant& g : role.grants) {
    if (g.table.empty() || g.permissions == 0) continue;  // database-level grant
    if (!NameMatches(g.database, database) || !NameMatches(g.table, table)) continue;
    access.permissions |= g.permissions;
    if (Has(g.permissions, Permission::kSelect)) {
      access.select_columns =
          any_select ? UnionColumns(access.select_columns, g.columns) : g.columns;
      any_select = true;
    }
  }
  if (access.permissions != 0) access.permissions |= Bit(Permission::kDescribe);
  return access;
}

PermissionSet DecideDatabase(const Role& role, std::string_view database) {
  PermissionSet set = 0;
  for (const Grant& g : role.grants) {
    if (g.permissions == 0 || !NameMatches(g.database, database)) continue;
    if (g.table.empty()) {
      set |= g.permissions & kDatabaseLevel;
    } else if (g.table == "*" && g.permissions == kAllPermissions) {
      // ALL on every table of a database carries the database-level
      // permissions too (Lake Formation's "Super"), so one grant makes a
      // super-user role.
      set |= kDatabaseLevel;
    } else {
      set |= Bit(Permission::kDescribe);
    }
  }
  if (set != 0) set |= Bit(Permission::kDescribe);
  return set;
}

std::vector<std::string> SelectableColumns(const TableAccess& access,
                                           const std::vector<std::string>& all_columns) {
  std::vector<std::string> out;
  if (!Has(access.permissions, Permission::kSelect)) return out;
  for (const auto& c : all_columns) {
    if (ColumnAllowed(access.select_columns, c)) out.push_back(c);
  }
  return out;
}

bool IsUnrestricted(const Role& role) {
  return std::any_of(role.grants.begin(), role.grants.end(), [](const Grant& g) {
    return g.database == "*" && g.table == "*" && g.permissions == kAllPermissions &&
           g.columns.kind == ColumnSpec::Kind::kAll;
  });
}

const Role* PolicySnapshot::FindRole(std::string_view name) const {
  auto it = roles.find(name);
  if (it != roles.end()) return &it->second;
  for (const auto& [key, role] : roles) {
    if (EqualsIgnoreCase(key, name)) return &role;
  }
  return nullptr;
}

}  // namespace lakegate::policy
