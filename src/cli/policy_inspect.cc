// `lakegate policy show|explain|export`: what a role sees of the lake and
// why, read from the latest policy version; nothing here changes the policy.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/engines.h"
#include "cli/exit_codes.h"
#include "cli/policy_commands.h"
#include "cli/policy_text.h"
#include "common/strings.h"
#include "policy/policy.h"
#include "policy/policy_json.h"

namespace lakegate::cli {
namespace {

using policy::PolicySnapshot;

// The lake's databases, tables and columns, seen by an unrestricted
// pseudo-role (never a real role).
std::vector<engine::DatabaseInfo> LakeCatalogOrExit(const Context& ctx,
                                                    const PolicySnapshot& snapshot) {
  auto engine = app::OpenEngines(ctx.stack.query.engine(), ctx.stack.query.engine_databases, {});
  if (!engine.ok()) Exit(Fail(engine.status()));
  policy::Role everything;
  everything.name = "(lakegate policy)";
  everything.grants.push_back({"*", "*", policy::kAllPermissions, {}});
  auto catalog = (*engine)->Catalog(snapshot, everything);
  if (!catalog.ok()) Exit(Fail(catalog.status()));
  return *catalog;
}

std::vector<std::string> ColumnNames(const engine::TableInfo& table) {
  std::vector<std::string> out;
  for (const auto& c : table.columns) out.push_back(c.name);
  return out;
}

std::string FilterNameOf(const PolicySnapshot& p, const policy::RowFilter* rows) {
  for (const auto& [name, f] : p.filters) {
    if (&f.rows == rows) return name;
  }
  return "?";
}

std::string FilterNames(const PolicySnapshot& p,
                        const std::vector<const policy::RowFilter*>& rows) {
  std::vector<std::string> parts;
  for (const policy::RowFilter* r : rows) parts.push_back(FilterNameOf(p, r));
  return Join(parts, ", ");
}

std::string DescribeRows(const PolicySnapshot& p,
                         const std::vector<const policy::RowFilter*>& rows) {
  std::vector<std::string> parts;
  for (const policy::RowFilter* r : rows) parts.push_back(FilterNameOf(p, r) + ": " + r->text);
  return Join(parts, " OR ");
}

std::string DescribeTags(const std::map<std::string, std::string>& tags) {
  if (tags.empty()) return "no tags";
  std::vector<std::string> parts;
  for (const auto& [k, v] : tags) parts.push_back(k + "=" + v);
  return Join(parts, ", ");
}

const policy::Role& RoleOrExit(const PolicySnapshot& p, const std::string& name) {
  const policy::Role* role = p.FindRole(name);
  if (role == nullptr) Exit(Fail(policy::RoleNotFound(p, name)));
  return *role;
}

// ---- policy show ----

void ShowTable(const PolicySnapshot& p, const std::string& database, const policy::TableView& view,
               const std::string& table) {
  std::cout << "  " << database << "." << table << "  " << policy::PermissionNames(view.permissions)
            << "\n";
  std::vector<std::string> columns;
  for (const policy::ViewColumn& c : view.columns) {
    std::string text = c.name;
    std::vector<std::string> notes;
    if (!c.all_rows) notes.push_back("only in rows of " + FilterNames(p, c.row_filters));
    if (c.mask != nullptr) notes.push_back("masked: " + DescribeMask(*c.mask));
    if (!notes.empty()) text += " [" + Join(notes, "; ") + "]";
    columns.push_back(std::move(text));
  }
  std::cout << "    columns: " << (columns.empty() ? "(none)" : Join(columns, ", ")) << "\n";
  std::cout << "    rows:    "
            << (view.all_rows ? std::string("all") : DescribeRows(p, view.row_filters)) << "\n";
  constexpr policy::PermissionSet kWrites = policy::Bit(policy::Permission::kInsert) |
                                            policy::Bit(policy::Permission::kUpdate) |
                                            policy::Bit(policy::Permission::kDelete);
  if ((view.permissions & kWrites) != 0 && !view.whole_table) {
    std::cout << "    writes:  none (filters, masks or hidden columns apply)\n";
  }
}

void ShowRole(const Context& ctx, const PolicySnapshot& p, const policy::Role& role) {
  std::cout << "role " << role.name << " (policy version " << p.version << ")\n";
  if (policy::IsUnrestricted(role)) {
    std::cout << "unrestricted: every permission on every database, table, column and row\n";
  }
  for (const policy::Grant& g : role.grants) {
    if (g.grant_option == 0) continue;
    std::cout << "may grant to other roles: " << policy::PermissionNames(g.grant_option) << " on "
              << policy::ResourceName(g.database, g.table, "")
              << (g.table.empty() ? " (the database)" : "")
              << (g.columns.kind == policy::ColumnSpec::Kind::kAll
                      ? std::string()
                      : " (" + DescribeColumns(g.columns) + ")")
              << "\n";
  }
  size_t visible = 0;
  for (const engine::DatabaseInfo& db : LakeCatalogOrExit(ctx, p)) {
    policy::PermissionSet db_permissions = policy::DecideDatabase(p, role, db.name);
    if (db_permissions != 0) {
      std::cout << db.name << "  " << policy::PermissionNames(db_permissions) << "\n";
    }
    for (const engine::TableInfo& t : db.tables) {
      policy::TableView view = policy::DecideView(p, role, db.name, t.name, ColumnNames(t));
      if (!view.visible()) continue;
      ++visible;
      ShowTable(p, db.name, view, t.name);
    }
  }
  if (visible == 0) std::cout << "no visible table in " << ctx.stack.query.lake_dir << "\n";
}

// ---- policy explain ----

// One table of the lake explained for one role.
struct Explained {
  const PolicySnapshot& p;
  const policy::Role& role;
  std::string database;  // as the lake names them
  std::string table;
  std::vector<std::string> columns;
  std::map<std::string, std::string> table_tags;
  std::vector<const policy::DataCellFilter*> filters;  // the role's, on this table
};

// The role's plain grants on the table, with their 1-based number.
template <typename Each>
void ForEachTableGrant(const Explained& e, Each each) {
  for (size_t i = 0; i < e.role.grants.size(); ++i) {
    const policy::Grant& g = e.role.grants[i];
    if (g.table.empty() || !policy::NameMatches(g.database, e.database) ||
        !policy::NameMatches(g.table, e.table)) {
      continue;
    }
    each(g, i + 1);
  }
}

// Where the permissions come from: grants, tag grants and filters.
void PrintSources(Explained& e) {
  ForEachTableGrant(e, [](const policy::Grant& g, size_t number) {
    std::cout << "  grant #" << number << " on " << g.database << "." << g.table << ": "
              << policy::PermissionNames(g.permissions) << " (" << DescribeColumns(g.columns)
              << ")";
    if (g.grant_option != 0) {
      std::cout << ", with grant option for " << policy::PermissionNames(g.grant_option);
    }
    std::cout << "\n";
  });
  for (size_t i = 0; i < e.role.tag_grants.size(); ++i) {
    const policy::TagGrant& g = e.role.tag_grants[i];
    bool match = policy::TagExpressionMatches(g.expression, e.table_tags);
    std::cout << "  tag grant #" << i + 1 << " " << DescribeExpression(g.expression) << ": "
              << policy::PermissionNames(g.permissions)
              << (match ? " (matches the table's tags: " : " (does not match the table's tags: ")
              << DescribeTags(e.table_tags) << ")\n";
  }
  for (const std::string& name : e.role.filters) {
    auto it = e.p.filters.find(name);
    if (it == e.p.filters.end()) continue;
    const policy::DataCellFilter& f = it->second;
    if (!EqualsIgnoreCase(f.database, e.database) || !EqualsIgnoreCase(f.table, e.table)) continue;
    e.filters.push_back(&f);
    std::cout << "  filter " << f.name << ": SELECT on "
              << (f.rows.all_rows() ? std::string("all rows") : "rows where " + f.rows.text) << ", "
              << DescribeColumns(f.columns) << "\n";
  }
}

// Why `column` is or is not readable: one entry per source that covers the
// table.
std::vector<std::string> ColumnReasons(const Explained& e, const std::string& column) {
  std::vector<std::string> why;
  ForEachTableGrant(e, [&](const policy::Grant& g, size_t number) {
    if (!policy::Has(g.permissions, policy::Permission::kSelect)) return;
    why.push_back(
        (policy::ColumnAllowed(g.columns, column) ? "granted by grant #" : "excluded by grant #") +
        std::to_string(number));
  });
  for (size_t i = 0; i < e.role.tag_grants.size(); ++i) {
    const policy::TagGrant& g = e.role.tag_grants[i];
    if (!policy::Has(g.permissions, policy::Permission::kSelect) ||
        !policy::TagExpressionMatches(g.expression, e.table_tags)) {
      continue;
    }
    auto tags = policy::EffectiveTags(e.p, e.database, e.table, column);
    bool match = policy::TagExpressionMatches(g.expression, tags);
    why.push_back((match ? "granted by tag grant #" : "not by tag grant #") +
                  std::to_string(i + 1) + " (" + DescribeTags(tags) + ")");
  }
  for (const policy::DataCellFilter* f : e.filters) {
    why.push_back(policy::ColumnAllowed(f->columns, column) ? "granted by filter " + f->name
                                                            : "excluded by filter " + f->name);
  }
  if (why.empty()) why.push_back("no grant, tag grant or filter covers it");
  return why;
}

std::string ColumnVerdict(const Explained& e, const policy::TableView& view,
                          const std::string& column) {
  auto it =
      std::find_if(view.columns.begin(), view.columns.end(),
                   [&](const policy::ViewColumn& v) { return EqualsIgnoreCase(v.name, column); });
  if (it == view.columns.end()) return "hidden";
  std::string verdict = it->all_rows ? "visible in all rows"
                                     : "visible in rows of " + FilterNames(e.p, it->row_filters) +
                                           ", NULL in other rows";
  if (it->mask != nullptr) verdict += ", masked (" + DescribeMask(*it->mask) + ")";
  return verdict;
}

void ExplainTable(const Context& ctx, const PolicySnapshot& p, const policy::Role& role,
                  const std::string& database, const std::string& table) {
  Explained e{p, role, "", "", {}, {}, {}};
  const engine::TableInfo* info = nullptr;
  auto lake = LakeCatalogOrExit(ctx, p);
  for (const auto& db : lake) {
    if (!EqualsIgnoreCase(db.name, database)) continue;
    for (const auto& t : db.tables) {
      if (EqualsIgnoreCase(t.name, table)) {
        info = &t;
        e.database = db.name;
        e.table = t.name;
      }
    }
  }
  if (info == nullptr) {
    Exit(Fail("no table " + database + "." + table + " in the lake " + ctx.stack.query.lake_dir));
  }
  e.columns = ColumnNames(*info);
  policy::TableView view = policy::DecideView(p, role, e.database, e.table, e.columns);
  std::cout << e.database << "." << e.table << " for role " << role.name << " (policy version "
            << p.version << ")\n";
  std::cout << "permissions: "
            << (view.visible() ? policy::PermissionNames(view.permissions)
                               : std::string("none: the table is invisible to the role"))
            << "\n";
  e.table_tags = policy::EffectiveTags(p, e.database, e.table, "");
  PrintSources(e);

  std::cout << "columns:\n";
  size_t width = 0;
  for (const auto& c : e.columns) width = std::max(width, c.size());
  for (const std::string& column : e.columns) {
    std::cout << "  " << column << std::string(width - column.size() + 2, ' ')
              << ColumnVerdict(e, view, column) << ": " << Join(ColumnReasons(e, column), "; ")
              << "\n";
  }
  std::cout << "rows: ";
  if (!view.visible() || view.columns.empty()) {
    std::cout << "none\n";
  } else if (view.all_rows) {
    std::cout << "all (a grant, tag grant or filter without a row condition covers every row)\n";
  } else {
    std::cout << "only those where " << DescribeRows(p, view.row_filters) << "\n";
  }
}

struct InspectFlags {
  std::string config, role, table;
};

void AddShowCommand(CLI::App& pol) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* show =
      pol.add_subcommand("show", "Effective permissions of a role on every table of the lake");
  show->add_option("role", flags->role, "Role name")->required();
  AddConfigOption(show, flags->config);
  show->footer("Example:\n  lakegate policy show lf-analyst-role");
  show->callback([flags] {
    PolicyContext pc = OpenPolicyOrExit(flags->config, /*load=*/true);
    auto policy = pc.catalog->Current();
    ShowRole(pc.ctx, *policy, RoleOrExit(*policy, flags->role));
  });
}

void AddExplainCommand(CLI::App& pol) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* explain = pol.add_subcommand(
      "explain", "Why each column and which rows of a table are visible to a role, or not");
  explain->add_option("role", flags->role, "Role name")->required();
  explain->add_option("table", flags->table, "DATABASE.TABLE")->required();
  AddConfigOption(explain, flags->config);
  explain->footer("Example:\n  lakegate policy explain lf-analyst-role analytics.members");
  explain->callback([flags] {
    PolicyContext pc = OpenPolicyOrExit(flags->config, /*load=*/true);
    auto policy = pc.catalog->Current();
    std::vector<std::string> on = ResourceOrExit(flags->table, 2, 2);
    ExplainTable(pc.ctx, *policy, RoleOrExit(*policy, flags->role), on[0], on[1]);
  });
}

void AddExportCommand(CLI::App& pol) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* exp = pol.add_subcommand("export", "Print the latest policy version as JSON");
  AddConfigOption(exp, flags->config);
  exp->callback([flags] {
    PolicyContext pc = OpenPolicyOrExit(flags->config, /*load=*/true);
    auto policy = pc.catalog->Current();
    std::cerr << "policy version " << policy->version << "\n";
    std::cout << policy::PolicyToJson(*policy);
  });
}

}  // namespace

void AddPolicyInspectCommands(CLI::App& app) {
  CLI::App* pol = app.add_subcommand("policy", "Inspect the policy catalog");
  pol->require_subcommand(1);
  AddShowCommand(*pol);
  AddExplainCommand(*pol);
  AddExportCommand(*pol);
}

}  // namespace lakegate::cli
