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

constexpr PermissionSet kDatabaseLevel = Bit(Permission::kCreateTable) | Bit(Permission::kAlter) |
                                         Bit(Permission::kDrop) | Bit(Permission::kDescribe);

}  // namespace

bool NameMatches(std::string_view pattern, std::string_view name) {
  return pattern == "*" || EqualsIgnoreCase(pattern, name);
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

std::string ResourceName(std::string_view database, std::string_view table,
                         std::string_view column) {
  std::string out(database);
  if (!table.empty()) out += "." + std::string(table);
  if (!column.empty()) out += "." + std::string(column);
  return out;
}

std::string GrantResourceName(const Grant& g) {
  return g.table.empty() ? "database " + g.database : g.database + "." + g.table;
}

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
  // Masks and filters narrow what a role reads, so such a role never takes
  // the direct path (which applies neither).
  if (!role.masks.empty() || !role.filters.empty()) return false;
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

std::map<std::string, std::string> EffectiveTags(const PolicySnapshot& policy,
                                                 std::string_view database, std::string_view table,
                                                 std::string_view column) {
  // Three passes, farthest first, so the nearest assignment overwrites.
  std::map<std::string, std::string> tags;
  auto apply = [&](bool want_table, bool want_column) {
    for (const TagAssignment& a : policy.tag_assignments) {
      if (!EqualsIgnoreCase(a.database, database)) continue;
      if (a.table.empty() == want_table) continue;
      if (want_table && !EqualsIgnoreCase(a.table, table)) continue;
      if (a.column.empty() == want_column) continue;
      if (want_column && !EqualsIgnoreCase(a.column, column)) continue;
      tags[a.key] = a.value;
    }
  };
  apply(false, false);
  if (!table.empty()) {
    apply(true, false);
    if (!column.empty()) apply(true, true);
  }
  return tags;
}

bool TagExpressionMatches(const TagExpression& expression,
                          const std::map<std::string, std::string>& tags) {
  if (expression.clauses.empty()) return false;  // fail closed: an empty expression grants nothing
  for (const auto& [key, values] : expression.clauses) {
    auto it = tags.find(key);
    if (it == tags.end()) return false;
    if (std::find(values.begin(), values.end(), it->second) == values.end()) return false;
  }
  return true;
}

namespace {

// The data-cell filters granted to `role` on `database`.`table` (by name,
// existing in the snapshot), in the role's order, without duplicates.
std::vector<const DataCellFilter*> RoleFilters(const PolicySnapshot& policy, const Role& role,
                                               std::string_view database, std::string_view table) {
  std::vector<const DataCellFilter*> out;
  for (const std::string& name : role.filters) {
    auto it = policy.filters.find(name);
    if (it == policy.filters.end()) continue;
    const DataCellFilter* f = &it->second;
    if (!EqualsIgnoreCase(f->database, database)) continue;
    if (!table.empty() && !EqualsIgnoreCase(f->table, table)) continue;
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

bool HasAllColumns(const std::vector<std::string>& all_columns,
                   const std::vector<std::string>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& c) { return ContainsIgnoreCase(all_columns, c); });
}

}  // namespace

PermissionSet DecideDatabase(const PolicySnapshot& policy, const Role& role,
                             std::string_view database) {
  PermissionSet set = DecideDatabase(role, database);
  if (!RoleFilters(policy, role, database, "").empty()) set |= Bit(Permission::kDescribe);
  if (!role.tag_grants.empty()) {
    // A table matches through its own tags or, without them, its database's;
    // tables without any assignment of their own share the database's.
    std::vector<std::string> tables = {""};
    for (const TagAssignment& a : policy.tag_assignments) {
      if (EqualsIgnoreCase(a.database, database) && !a.table.empty()) AddUnique(tables, a.table);
    }
    for (const std::string& t : tables) {
      auto tags = EffectiveTags(policy, database, t, "");
      for (const TagGrant& g : role.tag_grants) {
        if (g.permissions != 0 && TagExpressionMatches(g.expression, tags)) {
          set |= Bit(Permission::kDescribe);
        }
      }
    }
  }
  return set;
}

TableView DecideView(const PolicySnapshot& policy, const Role& role, std::string_view database,
                     std::string_view table, const std::vector<std::string>& all_columns) {
  TableView view;
  view.all_rows = false;  // until a source covers every row
  const size_t n = all_columns.size();
  // Per column: covered on all rows? by which filters?
  std::vector<bool> all_rows(n, false);
  std::vector<std::vector<const RowFilter*>> filters(n);

  // Plain grants: all rows, their columns.
  TableAccess plain = DecideTable(role, database, table);
  view.permissions = plain.permissions;
  if (Has(plain.permissions, Permission::kSelect)) {
    for (size_t i = 0; i < n; ++i) {
      if (ColumnAllowed(plain.select_columns, all_columns[i])) all_rows[i] = true;
    }
  }
  // Tag grants: all rows, the columns whose own effective tags match.
  auto table_tags = EffectiveTags(policy, database, table, "");
  for (const TagGrant& g : role.tag_grants) {
    if (g.permissions == 0 || !TagExpressionMatches(g.expression, table_tags)) continue;
    view.permissions |= g.permissions | Bit(Permission::kDescribe);
    if (!Has(g.permissions, Permission::kSelect)) continue;
    for (size_t i = 0; i < n; ++i) {
      if (!all_rows[i] && TagExpressionMatches(g.expression, EffectiveTags(policy, database, table,
                                                                           all_columns[i]))) {
        all_rows[i] = true;
      }
    }
  }
  // Data-cell filters: their rows, their columns. A filter naming a column
  // the table lacks covers nothing (fail closed).
  for (const DataCellFilter* f : RoleFilters(policy, role, database, table)) {
    if (!HasAllColumns(all_columns, f->rows.Columns())) continue;
    bool covers_any = false;
    for (size_t i = 0; i < n; ++i) {
      if (!ColumnAllowed(f->columns, all_columns[i])) continue;
      covers_any = true;
      if (f->rows.all_rows()) {
        all_rows[i] = true;
      } else if (!all_rows[i]) {
        filters[i].push_back(&f->rows);
      }
    }
    if (!covers_any) continue;
    view.permissions |= Bit(Permission::kSelect) | Bit(Permission::kDescribe);
    if (f->rows.all_rows()) {
      view.all_rows = true;
    } else {
      view.row_filters.push_back(&f->rows);
    }
  }

  const bool select = Has(view.permissions, Permission::kSelect);
  bool any_all_rows_column = false;
  for (size_t i = 0; select && i < n; ++i) {
    if (!all_rows[i] && filters[i].empty()) continue;
    ViewColumn c;
    c.name = all_columns[i];
    c.all_rows = all_rows[i];
    if (!c.all_rows) c.row_filters = std::move(filters[i]);
    any_all_rows_column = any_all_rows_column || c.all_rows;
    for (const ColumnMask& m : role.masks) {
      if (NameMatches(m.database, database) && NameMatches(m.table, table) &&
          EqualsIgnoreCase(m.column, c.name)) {
        c.mask = &m;
        break;
      }
    }
    view.columns.push_back(std::move(c));
  }
  // Rows: every row when some all-rows source covers a column (a plain or
  // tag grant, or a filter without a row condition); else the filters' rows.
  view.all_rows = view.all_rows || any_all_rows_column;
  if (view.all_rows) view.row_filters.clear();
  if (view.columns.empty()) {
    view.all_rows = false;  // nothing readable
    view.row_filters.clear();
  }
  if (view.permissions != 0) view.permissions |= Bit(Permission::kDescribe);
  view.whole_table = view.all_rows && view.columns.size() == n;
  for (const ViewColumn& c : view.columns) {
    if (!c.all_rows || c.mask != nullptr) view.whole_table = false;
  }
  return view;
}

// ---------------------------------------------------------------------------
// Grant option: the delegation check and the edits shared by the CLI and the
// admin API (ValidateGrant() is in validate.cc with the other rules).

namespace {

bool SameColumnSpec(const ColumnSpec& a, const ColumnSpec& b) {
  if (a.kind != b.kind || a.columns.size() != b.columns.size()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i) {
    if (!EqualsIgnoreCase(a.columns[i], b.columns[i])) return false;
  }
  return true;
}

// Whether `held`'s resource contains `wanted`'s.
bool ResourceCovers(const Grant& held, const Grant& wanted) {
  if (held.database != "*" &&
      (wanted.database == "*" || !EqualsIgnoreCase(held.database, wanted.database))) {
    return false;
  }
  if (wanted.table.empty()) return held.table.empty();
  if (held.table.empty()) return false;
  if (held.table == "*") return true;
  return wanted.table != "*" && EqualsIgnoreCase(held.table, wanted.table);
}

bool ColumnsCover(const ColumnSpec& held, const ColumnSpec& wanted) {
  switch (held.kind) {
    case ColumnSpec::Kind::kAll:
      return true;
    case ColumnSpec::Kind::kExclude:
      return false;  // ValidateGrant() refuses the grant option here
    case ColumnSpec::Kind::kInclude:
      if (wanted.kind != ColumnSpec::Kind::kInclude) return false;
      return std::all_of(wanted.columns.begin(), wanted.columns.end(),
                         [&](const std::string& c) { return ContainsIgnoreCase(held.columns, c); });
  }
  return false;
}

}  // namespace

Status RoleNotFound(const PolicySnapshot& policy, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& [n, r] : policy.roles) names.push_back(n);
  return NotFoundError("no role '" + name + "' in the policy; roles: " +
                       (names.empty() ? std::string("(none)") : Join(names, ", ")));
}

Status CheckGrantOption(const Role& grantor, const Grant& wanted) {
  const PermissionSet needed = wanted.permissions | wanted.grant_option;
  for (const NamedPermission& p : kPermissionNames) {
    if (!Has(needed, p.permission)) continue;
    bool held = std::any_of(grantor.grants.begin(), grantor.grants.end(), [&](const Grant& g) {
      return Has(g.grant_option, p.permission) && ResourceCovers(g, wanted) &&
             (p.permission != Permission::kSelect || ColumnsCover(g.columns, wanted.columns));
    });
    if (!held) {
      return PermissionDeniedError(
          "role " + grantor.name + " holds no grant option for " + std::string(p.name) + " on " +
          GrantResourceName(wanted) +
          (p.permission == Permission::kSelect && wanted.columns.kind != ColumnSpec::Kind::kAll
               ? " (those columns)"
               : ""));
    }
  }
  return Status::Ok();
}

Status AddGrant(PolicySnapshot& policy, const std::string& role_name, const Grant& wanted) {
  LG_RETURN_IF_ERROR(ValidateGrant(wanted));
  auto it = policy.roles.find(role_name);
  if (it == policy.roles.end()) {
    Role role;
    role.name = role_name;
    it = policy.roles.emplace(role_name, std::move(role)).first;
  }
  for (Grant& g : it->second.grants) {
    if (EqualsIgnoreCase(g.database, wanted.database) && EqualsIgnoreCase(g.table, wanted.table) &&
        SameColumnSpec(g.columns, wanted.columns)) {
      g.permissions |= wanted.permissions;
      g.grant_option |= wanted.grant_option;
      return Status::Ok();
    }
  }
  it->second.grants.push_back(wanted);
  return Status::Ok();
}

Status RevokeGrant(PolicySnapshot& policy, const std::string& role_name, const Grant& wanted,
                   bool grant_option_only) {
  auto it = policy.roles.find(role_name);
  if (it == policy.roles.end()) return RoleNotFound(policy, role_name);
  const bool column_limited = wanted.columns.kind != ColumnSpec::Kind::kAll;
  bool matched = false;
  std::vector<Grant>& grants = it->second.grants;
  for (Grant& g : grants) {
    if (!EqualsIgnoreCase(g.database, wanted.database) ||
        !EqualsIgnoreCase(g.table, wanted.table) ||
        (column_limited && !SameColumnSpec(g.columns, wanted.columns))) {
      continue;
    }
    PermissionSet hit = (grant_option_only ? g.grant_option : g.permissions) & wanted.permissions;
    if (hit == 0) continue;
    matched = true;
    g.grant_option &= ~hit;
    if (!grant_option_only) g.permissions &= ~hit;
  }
  if (!matched) {
    return NotFoundError(
        "role " + role_name + " has no grant of " + PermissionNames(wanted.permissions) +
        (grant_option_only ? " with grant option" : "") + " on " + GrantResourceName(wanted));
  }
  std::erase_if(grants, [](const Grant& g) { return g.permissions == 0; });
  return Status::Ok();
}

}  // namespace lakegate::policy
