#include "cli/policy_commands.h"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "catalog/declared_policy.h"
#include "catalog/policy_catalog.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/strings.h"
#include "engine/sqlite/sqlite_engine.h"
#include "policy/policy.h"
#include "policy/policy_json.h"

namespace lakegate::cli {
namespace {

using policy::PolicySnapshot;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view part : SplitNonEmpty(text, ',')) {
    std::string_view trimmed = TrimWhitespace(part);
    if (!trimmed.empty()) out.emplace_back(trimmed);
  }
  return out;
}

policy::PermissionSet PermissionsOrExit(const std::string& text) {
  policy::PermissionSet set = 0;
  for (const std::string& name : SplitList(text)) {
    auto bits = policy::ParsePermission(name);
    if (!bits) {
      Exit(Fail("unknown permission '" + name +
                "'; use DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, CREATE_TABLE or "
                "ALL, separated by commas"));
    }
    set |= *bits;
  }
  if (set == 0) Exit(Fail("no permission given, e.g. SELECT,DESCRIBE"));
  return set;
}

// "DB", "DB.TABLE" or "DB.TABLE.COLUMN" (at most `max_parts` parts).
std::vector<std::string> ResourceOrExit(const std::string& on, size_t min_parts,
                                        size_t max_parts) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = on.find('.', start);
    parts.push_back(on.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  bool empty_part = std::any_of(parts.begin(), parts.end(),
                                [](const std::string& p) { return p.empty(); });
  if (empty_part || parts.size() < min_parts || parts.size() > max_parts) {
    const char* forms[] = {"", "DATABASE", "DATABASE.TABLE", "DATABASE.TABLE.COLUMN"};
    std::string expected = forms[min_parts];
    for (size_t n = min_parts + 1; n <= max_parts; ++n) expected += std::string(" or ") + forms[n];
    Exit(Fail("--on '" + on + "': expected " + expected));
  }
  return parts;
}

policy::ColumnSpec ColumnsOrExit(const std::string& include, const std::string& exclude) {
  policy::ColumnSpec spec;
  if (!include.empty() && !exclude.empty()) {
    Exit(Fail("give --columns or --exclude-columns, not both"));
  }
  if (!include.empty()) {
    spec.kind = policy::ColumnSpec::Kind::kInclude;
    spec.columns = SplitList(include);
  } else if (!exclude.empty()) {
    spec.kind = policy::ColumnSpec::Kind::kExclude;
    spec.columns = SplitList(exclude);
  }
  return spec;
}

std::string DescribeColumns(const policy::ColumnSpec& spec) {
  switch (spec.kind) {
    case policy::ColumnSpec::Kind::kAll:
      return "all columns";
    case policy::ColumnSpec::Kind::kInclude:
      return "columns " + Join(spec.columns, ", ");
    case policy::ColumnSpec::Kind::kExclude:
      return "all columns but " + Join(spec.columns, ", ");
  }
  return "";
}

std::string DescribeExpression(const policy::TagExpression& e) {
  std::vector<std::string> parts;
  for (const auto& [key, values] : e.clauses) parts.push_back(key + "=" + Join(values, "|"));
  return Join(parts, " AND ");
}

// "domain=sales;sensitivity=public,internal": AND across ';' (or '&'), OR
// across the ','-separated values of one key.
policy::TagExpression ExpressionOrExit(const std::string& text) {
  policy::TagExpression e;
  std::string normalized = text;
  std::replace(normalized.begin(), normalized.end(), '&', ';');
  for (std::string_view clause : SplitNonEmpty(normalized, ';')) {
    clause = TrimWhitespace(clause);
    size_t eq = clause.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      Exit(Fail("tag expression '" + text +
                "': expected KEY=VALUE[,VALUE...][;KEY=VALUE...], e.g. "
                "\"domain=sales;sensitivity=public,internal\""));
    }
    std::string key(TrimWhitespace(clause.substr(0, eq)));
    std::vector<std::string> values = SplitList(std::string(clause.substr(eq + 1)));
    if (values.empty()) Exit(Fail("tag expression '" + text + "': key " + key + " has no value"));
    if (e.clauses.count(key)) Exit(Fail("tag expression '" + text + "': key " + key + " twice"));
    e.clauses[key] = std::move(values);
  }
  if (e.clauses.empty()) Exit(Fail("empty tag expression"));
  return e;
}

std::vector<std::string> ManagedNames(store::Store& store) {
  auto names = catalog::LoadManagedPolicyNames(store);
  if (!names.ok()) Exit(Fail(names.status()));
  return *names;
}

// Runs one change and prints its outcome; `notes` are printed when it changed.
void Update(Context& ctx, const std::string& author,
            const std::function<Status(PolicySnapshot&)>& change, const std::string& notes = "") {
  auto update = catalog::PolicyCatalog(*ctx.store).Update(author, change);
  if (!update.ok()) Exit(Fail(update.status()));
  if (!update->changed()) {
    std::cout << "no change (policy version " << update->old_version << ")\n";
    return;
  }
  std::cout << "policy version " << update->old_version << " -> " << update->new_version << ": "
            << Join(update->changes, ", ") << "\n"
            << notes << "a running server applies it to new queries within a second\n";
}

policy::Role& RoleFor(PolicySnapshot& p, const std::string& name) {
  auto it = p.roles.find(name);
  if (it == p.roles.end()) {
    policy::Role role;
    role.name = name;
    it = p.roles.emplace(name, std::move(role)).first;
  }
  return it->second;
}


// The lake's databases, tables and columns, seen by an unrestricted
// pseudo-role (never a real role).
std::vector<engine::DatabaseInfo> LakeCatalogOrExit(const Context& ctx,
                                                    const PolicySnapshot& snapshot) {
  auto engine = engine::OpenSqliteEngine({ctx.stack.query.lake_dir});
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

std::string FilterNames(const PolicySnapshot& p, const std::vector<const policy::RowFilter*>& rows) {
  std::vector<std::string> parts;
  for (const policy::RowFilter* r : rows) parts.push_back(FilterNameOf(p, r));
  return Join(parts, ", ");
}

// Matches the mask on DATABASE.TABLE.COLUMN (names compare case-insensitively).
auto MaskOn(std::string database, std::string table, std::string column) {
  return [=](const policy::ColumnMask& m) {
    return EqualsIgnoreCase(m.database, database) && EqualsIgnoreCase(m.table, table) &&
           EqualsIgnoreCase(m.column, column);
  };
}

std::string DescribeMask(const policy::ColumnMask& m) {
  std::string out(policy::MaskKindName(m.kind));
  if (m.kind == policy::MaskKind::kShowLastN) out += " " + std::to_string(m.n);
  if (m.kind == policy::MaskKind::kExpression) out += " " + m.expression;
  return out;
}

std::string DescribeRows(const PolicySnapshot& p, const std::vector<const policy::RowFilter*>& rows) {
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

struct Loaded {
  Context ctx;
  std::shared_ptr<const PolicySnapshot> policy;
};

Loaded LoadOrExit(const std::string& config) {
  Loaded l{OpenContext(config), nullptr};
  auto p = catalog::LoadLatestPolicy(*l.ctx.store);
  if (!p.ok()) Exit(Fail(p.status()));
  l.policy = *p;
  return l;
}

const policy::Role& RoleOrExit(const PolicySnapshot& p, const std::string& name) {
  const policy::Role* role = p.FindRole(name);
  if (role == nullptr) Exit(Fail(policy::RoleNotFound(p, name)));
  return *role;
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
      std::cout << "  " << db.name << "." << t.name << "  "
                << policy::PermissionNames(view.permissions) << "\n";
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
                << (view.all_rows ? std::string("all") : DescribeRows(p, view.row_filters))
                << "\n";
      constexpr policy::PermissionSet kWrites = policy::Bit(policy::Permission::kInsert) |
                                                policy::Bit(policy::Permission::kUpdate) |
                                                policy::Bit(policy::Permission::kDelete);
      if ((view.permissions & kWrites) != 0 && !view.whole_table) {
        std::cout << "    writes:  none (filters, masks or hidden columns apply)\n";
      }
    }
  }
  if (visible == 0) std::cout << "no visible table in " << ctx.stack.query.lake_dir << "\n";
}

void ExplainTable(const Context& ctx, const PolicySnapshot& p, const policy::Role& role,
                  const std::string& database, const std::string& table) {
  const engine::TableInfo* info = nullptr;
  std::string db_name, table_name;
  auto catalog = LakeCatalogOrExit(ctx, p);
  for (const auto& db : catalog) {
    if (!EqualsIgnoreCase(db.name, database)) continue;
    for (const auto& t : db.tables) {
      if (EqualsIgnoreCase(t.name, table)) {
        info = &t;
        db_name = db.name;
        table_name = t.name;
      }
    }
  }
  if (info == nullptr) {
    Exit(Fail("no table " + database + "." + table + " in the lake " + ctx.stack.query.lake_dir));
  }
  std::vector<std::string> all_columns = ColumnNames(*info);
  policy::TableView view = policy::DecideView(p, role, db_name, table_name, all_columns);
  std::cout << db_name << "." << table_name << " for role " << role.name << " (policy version "
            << p.version << ")\n";
  std::cout << "permissions: "
            << (view.visible() ? policy::PermissionNames(view.permissions)
                               : std::string("none: the table is invisible to the role"))
            << "\n";
  // Where the permissions come from.
  for (size_t i = 0; i < role.grants.size(); ++i) {
    const policy::Grant& g = role.grants[i];
    if (g.table.empty() || !policy::NameMatches(g.database, db_name) || !policy::NameMatches(g.table, table_name)) {
      continue;
    }
    std::cout << "  grant #" << i + 1 << " on " << g.database << "." << g.table << ": "
              << policy::PermissionNames(g.permissions) << " (" << DescribeColumns(g.columns)
              << ")";
    if (g.grant_option != 0) {
      std::cout << ", with grant option for " << policy::PermissionNames(g.grant_option);
    }
    std::cout << "\n";
  }
  auto table_tags = policy::EffectiveTags(p, db_name, table_name, "");
  for (size_t i = 0; i < role.tag_grants.size(); ++i) {
    const policy::TagGrant& g = role.tag_grants[i];
    bool match = policy::TagExpressionMatches(g.expression, table_tags);
    std::cout << "  tag grant #" << i + 1 << " " << DescribeExpression(g.expression) << ": "
              << policy::PermissionNames(g.permissions)
              << (match ? " (matches the table's tags: " : " (does not match the table's tags: ")
              << DescribeTags(table_tags) << ")\n";
  }
  std::vector<const policy::DataCellFilter*> filters;
  for (const std::string& name : role.filters) {
    auto it = p.filters.find(name);
    if (it == p.filters.end()) continue;
    const policy::DataCellFilter& f = it->second;
    if (!EqualsIgnoreCase(f.database, db_name) || !EqualsIgnoreCase(f.table, table_name)) continue;
    filters.push_back(&f);
    std::cout << "  filter " << f.name << ": SELECT on "
              << (f.rows.all_rows() ? std::string("all rows") : "rows where " + f.rows.text)
              << ", " << DescribeColumns(f.columns) << "\n";
  }

  std::cout << "columns:\n";
  size_t width = 0;
  for (const auto& c : all_columns) width = std::max(width, c.size());
  for (const std::string& column : all_columns) {
    auto it = std::find_if(view.columns.begin(), view.columns.end(),
                           [&](const policy::ViewColumn& v) { return EqualsIgnoreCase(v.name, column); });
    std::vector<std::string> why;
    for (size_t i = 0; i < role.grants.size(); ++i) {
      const policy::Grant& g = role.grants[i];
      if (g.table.empty() || !policy::NameMatches(g.database, db_name) ||
          !policy::NameMatches(g.table, table_name) || !policy::Has(g.permissions, policy::Permission::kSelect)) {
        continue;
      }
      why.push_back((policy::ColumnAllowed(g.columns, column) ? "granted by grant #" : "excluded by grant #") +
                    std::to_string(i + 1));
    }
    for (size_t i = 0; i < role.tag_grants.size(); ++i) {
      const policy::TagGrant& g = role.tag_grants[i];
      if (!policy::Has(g.permissions, policy::Permission::kSelect) ||
          !policy::TagExpressionMatches(g.expression, table_tags)) {
        continue;
      }
      auto tags = policy::EffectiveTags(p, db_name, table_name, column);
      bool match = policy::TagExpressionMatches(g.expression, tags);
      why.push_back((match ? "granted by tag grant #" : "not by tag grant #") + std::to_string(i + 1) +
                    " (" + DescribeTags(tags) + ")");
    }
    for (const policy::DataCellFilter* f : filters) {
      why.push_back(policy::ColumnAllowed(f->columns, column)
                        ? "granted by filter " + f->name
                        : "excluded by filter " + f->name);
    }
    std::string verdict;
    if (it == view.columns.end()) {
      verdict = "hidden";
    } else {
      verdict = it->all_rows ? "visible in all rows"
                             : "visible in rows of " + FilterNames(p, it->row_filters) +
                                   ", NULL in other rows";
      if (it->mask != nullptr) verdict += ", masked (" + DescribeMask(*it->mask) + ")";
    }
    if (why.empty()) why.push_back("no grant, tag grant or filter covers it");
    std::cout << "  " << column << std::string(width - column.size() + 2, ' ') << verdict << ": "
              << Join(why, "; ") << "\n";
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

}  // namespace

void AddPolicyCommands(CLI::App& app) {
  struct Flags {
    std::string config, role, permissions, on, columns, exclude_columns, filter, name, rows;
    std::string values, assignment, expression, key;
    bool force = false;
    bool grant_option = false;
  };
  auto flags = std::make_shared<Flags>();
  const std::string kReload =
      "\nEach change is saved as a new policy version; a running server uses it for new queries "
      "within a second.";

  // ---- grant / revoke ----
  for (bool grant : {true, false}) {
    CLI::App* cmd = app.add_subcommand(
        grant ? "grant" : "revoke",
        grant ? "Grant permissions on a database, a table (or some of its columns) or a "
                "data-cell filter to a role"
              : "Revoke permissions of a role on a database, a table or a data-cell filter");
    cmd->add_option("role", flags->role, "Role name (created when missing)")->required();
    cmd->add_option("permissions", flags->permissions,
                    "Comma-separated: DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, "
                    "CREATE_TABLE or ALL")
        ->required();
    cmd->add_option("--on", flags->on, "DATABASE or DATABASE.TABLE (\"*\" = every one)");
    cmd->add_option("--columns", flags->columns, "Only these columns (comma-separated)");
    cmd->add_option("--exclude-columns", flags->exclude_columns,
                    "Every column except these (comma-separated)");
    cmd->add_option("--filter", flags->filter, "A data-cell filter (SELECT only) instead of --on");
    cmd->add_flag(grant ? "--with-grant-option" : "--grant-option-only", flags->grant_option,
                  grant ? "The role may also grant these permissions (on this resource, or "
                          "part of it) to other roles: Lake Formation's grant option"
                        : "Revoke only the grant option of these permissions, keep the "
                          "permissions");
    AddConfigOption(cmd, flags->config);
    cmd->footer(std::string(grant ? "Examples:\n"
                                    "  lakegate grant lf-dev-role SELECT,DESCRIBE --on analytics.members "
                                    "--exclude-columns email\n"
                                    "  lakegate grant lf-dev-role DESCRIBE --on analytics\n"
                                    "  lakegate grant lf-analyst-role SELECT --filter eu-members\n"
                                    "  lakegate grant data-steward SELECT,DESCRIBE --on analytics.* "
                                    "--with-grant-option"
                                  : "Examples:\n"
                                    "  lakegate revoke lf-dev-role SELECT --on analytics.members\n"
                                    "  lakegate revoke lf-analyst-role SELECT --filter eu-members\n"
                                    "  lakegate revoke data-steward SELECT --on analytics.* "
                                    "--grant-option-only") +
                kReload);
    cmd->callback([flags, grant] {
      Context ctx = OpenContext(flags->config);
      policy::PermissionSet permissions = PermissionsOrExit(flags->permissions);
      if (flags->on.empty() == flags->filter.empty()) {
        Exit(Fail("give exactly one of --on DATABASE[.TABLE] or --filter NAME"));
      }
      std::string author = std::string(grant ? "cli grant " : "cli revoke ") + flags->role;
      std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "role", flags->role);
      if (!flags->filter.empty()) {
        if (flags->grant_option) {
          Exit(Fail("data-cell filters are granted without the grant option; grant SELECT on the "
                    "table with --with-grant-option to delegate"));
        }
        if (permissions != policy::Bit(policy::Permission::kSelect)) {
          Exit(Fail("a data-cell filter is granted with SELECT only"));
        }
        Update(ctx, author, [&](PolicySnapshot& p) -> Status {
          if (p.filters.find(flags->filter) == p.filters.end()) {
            return NotFoundError("no data-cell filter '" + flags->filter +
                                 "'; create it with `lakegate filter create`");
          }
          if (grant) {
            policy::Role& role = RoleFor(p, flags->role);
            if (std::find(role.filters.begin(), role.filters.end(), flags->filter) ==
                role.filters.end()) {
              role.filters.push_back(flags->filter);
            }
            return Status::Ok();
          }
          auto it = p.roles.find(flags->role);
          if (it == p.roles.end()) return policy::RoleNotFound(p, flags->role);
          auto& list = it->second.filters;
          auto pos = std::find(list.begin(), list.end(), flags->filter);
          if (pos == list.end()) {
            return NotFoundError("role " + flags->role + " has no grant on filter " + flags->filter);
          }
          list.erase(pos);
          return Status::Ok();
        }, note);
        return;
      }
      std::vector<std::string> on = ResourceOrExit(flags->on, 1, 2);
      policy::Grant wanted;
      wanted.database = on[0];
      wanted.table = on.size() > 1 ? on[1] : "";
      wanted.permissions = permissions;
      wanted.columns = ColumnsOrExit(flags->columns, flags->exclude_columns);
      bool column_flags = wanted.columns.kind != policy::ColumnSpec::Kind::kAll;
      if (column_flags && (wanted.table.empty() || wanted.table == "*")) {
        Exit(Fail("--columns and --exclude-columns need --on DATABASE.TABLE"));
      }
      if (grant && flags->grant_option) wanted.grant_option = permissions;
      if (Status valid = policy::ValidateGrant(wanted); !valid.ok()) Exit(Fail(valid));
      Update(ctx, author, [&](PolicySnapshot& p) -> Status {
        return grant ? policy::AddGrant(p, flags->role, wanted)
                     : policy::RevokeGrant(p, flags->role, wanted, flags->grant_option);
      }, note);
    });
  }

  // ---- filter ----
  CLI::App* filter = app.add_subcommand("filter", "Manage data-cell filters (rows and columns of a table)");
  filter->require_subcommand(1);
  CLI::App* create = filter->add_subcommand("create", "Create a data-cell filter");
  create->add_option("name", flags->name, "Filter name, e.g. eu-members")->required();
  create->add_option("--on", flags->on, "DATABASE.TABLE")->required();
  create->add_option("--rows", flags->rows,
                     "Row condition, e.g. \"region IN ('eu-west', 'eu-central')\" (default: all "
                     "rows)");
  create->add_option("--columns", flags->columns, "Only these columns (comma-separated)");
  create->add_option("--exclude-columns", flags->exclude_columns, "Every column except these");
  AddConfigOption(create, flags->config);
  create->footer(
      "Examples:\n"
      "  lakegate filter create eu-members --on analytics.members \\\n"
      "      --rows \"region IN ('eu-west', 'eu-central')\" --exclude-columns email\n"
      "  lakegate grant lf-analyst-role SELECT --filter eu-members\n"
      "Row conditions: comparisons, IN, BETWEEN, LIKE, IS [NOT] NULL, AND, OR, NOT on columns "
      "and literals." + kReload);
  create->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::vector<std::string> on = ResourceOrExit(flags->on, 2, 2);
    policy::DataCellFilter f;
    f.name = flags->name;
    f.database = on[0];
    f.table = on[1];
    f.columns = ColumnsOrExit(flags->columns, flags->exclude_columns);
    if (!TrimWhitespace(flags->rows).empty()) {
      auto rows = policy::ParseRowFilter(flags->rows);
      if (!rows.ok()) Exit(Fail(rows.status().WithPrefix("--rows")));
      f.rows = std::move(*rows);
    }
    std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "filter", flags->name);
    Update(ctx, "cli filter create " + f.name, [&](PolicySnapshot& p) -> Status {
      if (p.filters.count(f.name)) {
        return AlreadyExistsError("filter '" + f.name + "' exists; delete it first");
      }
      p.filters.emplace(f.name, f);
      return Status::Ok();
    }, note);
  });
  CLI::App* del = filter->add_subcommand("delete", "Delete a data-cell filter");
  del->add_option("name", flags->name, "Filter name")->required();
  del->add_flag("--force", flags->force, "Also revoke it from the roles that use it");
  AddConfigOption(del, flags->config);
  del->footer("Example:\n  lakegate filter delete eu-members --force" + kReload);
  del->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "filter", flags->name);
    Update(ctx, "cli filter delete " + flags->name, [&](PolicySnapshot& p) -> Status {
      if (!p.filters.count(flags->name)) return NotFoundError("no filter '" + flags->name + "'");
      std::vector<std::string> users;
      for (auto& [name, role] : p.roles) {
        auto pos = std::find(role.filters.begin(), role.filters.end(), flags->name);
        if (pos == role.filters.end()) continue;
        users.push_back(name);
        if (flags->force) role.filters.erase(pos);
      }
      if (!users.empty() && !flags->force) {
        return FailedPreconditionError("filter '" + flags->name + "' is granted to " +
                                       Join(users, ", ") + "; revoke it or pass --force");
      }
      p.filters.erase(p.filters.find(flags->name));
      return Status::Ok();
    }, note);
  });
  CLI::App* list = filter->add_subcommand("list", "List data-cell filters");
  AddConfigOption(list, flags->config);
  list->callback([flags] {
    Loaded l = LoadOrExit(flags->config);
    for (const auto& [name, f] : l.policy->filters) {
      std::cout << name << "  " << f.database << "." << f.table << "  rows: "
                << (f.rows.all_rows() ? std::string("all") : f.rows.text) << "  "
                << DescribeColumns(f.columns) << "\n";
    }
  });

  // ---- tag ----
  CLI::App* tag = app.add_subcommand("tag", "Manage LF-tags: keys, assignments and tag grants");
  tag->require_subcommand(1);
  CLI::App* key = tag->add_subcommand("key", "Manage tag keys");
  key->require_subcommand(1);
  CLI::App* key_create = key->add_subcommand("create", "Declare a tag key and its allowed values");
  key_create->add_option("key", flags->key, "Tag key, e.g. sensitivity")->required();
  key_create->add_option("--values", flags->values, "Allowed values, comma-separated")->required();
  AddConfigOption(key_create, flags->config);
  key_create->footer("Example:\n  lakegate tag key create sensitivity --values public,internal,pii" +
                     kReload);
  key_create->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "tagkey", flags->key);
    Update(ctx, "cli tag key create " + flags->key, [&](PolicySnapshot& p) -> Status {
      for (const auto& k : p.tag_keys) {
        if (k.key == flags->key) return AlreadyExistsError("tag key '" + flags->key + "' exists");
      }
      p.tag_keys.push_back({flags->key, SplitList(flags->values)});
      return Status::Ok();
    }, note);
  });
  CLI::App* tag_list = tag->add_subcommand("list", "List tag keys and assignments");
  AddConfigOption(tag_list, flags->config);
  tag_list->callback([flags] {
    Loaded l = LoadOrExit(flags->config);
    for (const auto& k : l.policy->tag_keys) {
      std::cout << "key " << k.key << ": " << Join(k.values, ", ") << "\n";
    }
    for (const auto& a : l.policy->tag_assignments) {
      std::cout << policy::ResourceName(a.database, a.table, a.column) << "  " << a.key << "="
                << a.value << "\n";
    }
  });
  for (bool assign : {true, false}) {
    CLI::App* cmd = tag->add_subcommand(
        assign ? "assign" : "unassign",
        assign ? "Tag a database, table or column (replaces its value for that key)"
               : "Remove a tag from a database, table or column");
    cmd->add_option("tag", flags->assignment, assign ? "KEY=VALUE" : "KEY")->required();
    cmd->add_option("--on", flags->on, "DATABASE, DATABASE.TABLE or DATABASE.TABLE.COLUMN")
        ->required();
    AddConfigOption(cmd, flags->config);
    cmd->footer(std::string(assign ? "Examples:\n  lakegate tag assign domain=sales --on analytics\n"
                                     "  lakegate tag assign sensitivity=pii --on "
                                     "analytics.members.email"
                                   : "Example:\n  lakegate tag unassign sensitivity --on "
                                     "analytics.members.email") +
                "\nColumns inherit their table's tags and tables their database's; the nearest "
                "assignment wins." + kReload);
    cmd->callback([flags, assign] {
      Context ctx = OpenContext(flags->config);
      std::vector<std::string> on = ResourceOrExit(flags->on, 1, 3);
      policy::TagAssignment a;
      a.database = on[0];
      a.table = on.size() > 1 ? on[1] : "";
      a.column = on.size() > 2 ? on[2] : "";
      size_t eq = flags->assignment.find('=');
      if (assign && (eq == std::string::npos || eq == 0 || eq + 1 == flags->assignment.size())) {
        Exit(Fail("expected KEY=VALUE, e.g. domain=sales"));
      }
      a.key = assign ? flags->assignment.substr(0, eq) : flags->assignment;
      a.value = assign ? flags->assignment.substr(eq + 1) : "";
      auto same = [&](const policy::TagAssignment& e) {
        return e.key == a.key && EqualsIgnoreCase(e.database, a.database) &&
               EqualsIgnoreCase(e.table, a.table) && EqualsIgnoreCase(e.column, a.column);
      };
      Update(ctx, std::string(assign ? "cli tag assign " : "cli tag unassign ") + a.key,
             [&](PolicySnapshot& p) -> Status {
               auto it = std::find_if(p.tag_assignments.begin(), p.tag_assignments.end(), same);
               if (!assign) {
                 if (it == p.tag_assignments.end()) {
                   return NotFoundError(flags->on + " has no tag " + a.key);
                 }
                 p.tag_assignments.erase(it);
               } else if (it != p.tag_assignments.end()) {
                 it->value = a.value;
               } else {
                 p.tag_assignments.push_back(a);
               }
               return Status::Ok();
             });
    });
  }
  for (bool grant : {true, false}) {
    CLI::App* cmd = tag->add_subcommand(
        grant ? "grant" : "revoke",
        grant ? "Grant permissions on every table and column whose tags match an expression"
              : "Revoke a role's tag grant with this expression");
    cmd->add_option("role", flags->role, "Role name (created when missing)")->required();
    cmd->add_option("expression", flags->expression,
                    "KEY=VALUE[,VALUE...][;KEY=VALUE...]: AND across keys, OR across values")
        ->required();
    if (grant) {
      cmd->add_option("--permissions", flags->permissions, "Comma-separated, e.g. SELECT,DESCRIBE")
          ->required();
    }
    AddConfigOption(cmd, flags->config);
    cmd->footer(std::string(grant ? "Example:\n  lakegate tag grant lf-analyst-role "
                                    "\"domain=sales;sensitivity=public,internal\" "
                                    "--permissions SELECT,DESCRIBE"
                                  : "Example:\n  lakegate tag revoke lf-analyst-role "
                                    "\"domain=sales;sensitivity=public,internal\"") +
                "\nTags are evaluated at query time: a newly tagged table becomes visible "
                "without a new grant." + kReload);
    cmd->callback([flags, grant] {
      Context ctx = OpenContext(flags->config);
      policy::TagExpression e = ExpressionOrExit(flags->expression);
      policy::PermissionSet permissions = grant ? PermissionsOrExit(flags->permissions) : 0;
      std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "role", flags->role);
      Update(ctx, std::string(grant ? "cli tag grant " : "cli tag revoke ") + flags->role,
             [&](PolicySnapshot& p) -> Status {
               if (!grant && !p.roles.count(flags->role)) {
                 return policy::RoleNotFound(p, flags->role);
               }
               policy::Role& role = RoleFor(p, flags->role);
               auto it = std::find_if(role.tag_grants.begin(), role.tag_grants.end(),
                                      [&](const policy::TagGrant& g) {
                                        return g.expression.clauses == e.clauses;
                                      });
               if (!grant) {
                 if (it == role.tag_grants.end()) {
                   return NotFoundError("role " + flags->role + " has no tag grant on " +
                                        DescribeExpression(e));
                 }
                 role.tag_grants.erase(it);
               } else if (it != role.tag_grants.end()) {
                 it->permissions |= permissions;
               } else {
                 role.tag_grants.push_back({e, permissions});
               }
               return Status::Ok();
             }, note);
    });
  }

  // ---- mask ----
  CLI::App* mask = app.add_subcommand("mask", "Manage a role's column masks");
  mask->require_subcommand(1);
  CLI::App* mask_set = mask->add_subcommand("set", "Mask a column for a role (replaces its mask)");
  mask_set->add_option("role", flags->role, "Role name (created when missing)")->required();
  mask_set->add_option("column", flags->on, "DATABASE.TABLE.COLUMN (\"*\" for any database or table)")
      ->required();
  mask_set->add_option("--kind", flags->name,
                       "null, redact, hash, show_last_n, year_only or expression")
      ->required();
  mask_set->add_option("--n", flags->values, "show_last_n: characters left visible (0..1000)");
  mask_set->add_option("--expression", flags->expression,
                       "expression: a SQL value expression over the row's columns");
  AddConfigOption(mask_set, flags->config);
  mask_set->footer(
      "Examples:\n"
      "  lakegate mask set lf-dev-role analytics.members.name --kind show_last_n --n 3\n"
      "  lakegate mask set lf-dev-role analytics.members.email --kind expression \\\n"
      "      --expression \"'***@' || substr(email, instr(email, '@') + 1)\"\n"
      "Expressions: literals, columns, || + - * / %, CASE WHEN, comparisons, IN, BETWEEN, LIKE, "
      "IS NULL, AND/OR/NOT and lower, upper, length, substr, replace, trim, ltrim, rtrim, "
      "coalesce, ifnull, nullif, instr. Masks apply inside the engine, so predicates, joins and "
      "aggregates see only the masked value." + kReload);
  mask_set->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::vector<std::string> on = ResourceOrExit(flags->on, 3, 3);
    policy::ColumnMask m;
    m.database = on[0];
    m.table = on[1];
    m.column = on[2];
    auto kind = policy::ParseMaskKind(flags->name);
    if (!kind) {
      Exit(Fail("unknown mask kind '" + flags->name +
                "'; use null, redact, hash, show_last_n, year_only or expression"));
    }
    m.kind = *kind;
    if (!flags->values.empty() != (m.kind == policy::MaskKind::kShowLastN)) {
      Exit(Fail(m.kind == policy::MaskKind::kShowLastN ? "show_last_n needs --n N"
                                                       : "--n applies to --kind show_last_n only"));
    }
    if (!flags->expression.empty() != (m.kind == policy::MaskKind::kExpression)) {
      Exit(Fail(m.kind == policy::MaskKind::kExpression
                    ? "--kind expression needs --expression EXPR"
                    : "--expression applies to --kind expression only"));
    }
    if (m.kind == policy::MaskKind::kShowLastN) {
      const std::string& text = flags->values;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), m.n);
      if (error != std::errc() || end != text.data() + text.size()) {
        Exit(Fail("--n '" + text + "': expected a whole number 0..1000"));
      }
    }
    m.expression = flags->expression;
    if (Status valid = policy::ValidateColumnMask(m); !valid.ok()) Exit(Fail(valid));
    std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "role", flags->role);
    Update(ctx, "cli mask set " + flags->role, [&](PolicySnapshot& p) -> Status {
      policy::Role& role = RoleFor(p, flags->role);
      std::erase_if(role.masks, MaskOn(m.database, m.table, m.column));
      role.masks.push_back(m);
      return Status::Ok();
    }, note);
  });
  CLI::App* mask_unset = mask->add_subcommand("unset", "Remove a role's mask on a column");
  mask_unset->add_option("role", flags->role, "Role name")->required();
  mask_unset->add_option("column", flags->on, "DATABASE.TABLE.COLUMN")->required();
  AddConfigOption(mask_unset, flags->config);
  mask_unset->footer("Example:\n  lakegate mask unset lf-dev-role analytics.members.name" + kReload);
  mask_unset->callback([flags] {
    Context ctx = OpenContext(flags->config);
    std::vector<std::string> on = ResourceOrExit(flags->on, 3, 3);
    std::string note = catalog::ManagedNote(ManagedNames(*ctx.store), "role", flags->role);
    Update(ctx, "cli mask unset " + flags->role, [&](PolicySnapshot& p) -> Status {
      auto it = p.roles.find(flags->role);
      if (it == p.roles.end()) return policy::RoleNotFound(p, flags->role);
      size_t removed = std::erase_if(it->second.masks, MaskOn(on[0], on[1], on[2]));
      if (removed == 0) {
        return NotFoundError("role " + flags->role + " has no mask on " + flags->on);
      }
      return Status::Ok();
    }, note);
  });

  // ---- policy ----
  CLI::App* pol = app.add_subcommand("policy", "Inspect the policy catalog");
  pol->require_subcommand(1);
  CLI::App* show = pol->add_subcommand("show", "Effective permissions of a role on every table of the lake");
  show->add_option("role", flags->role, "Role name")->required();
  AddConfigOption(show, flags->config);
  show->footer("Example:\n  lakegate policy show lf-analyst-role");
  show->callback([flags] {
    Loaded l = LoadOrExit(flags->config);
    ShowRole(l.ctx, *l.policy, RoleOrExit(*l.policy, flags->role));
  });
  CLI::App* explain = pol->add_subcommand(
      "explain", "Why each column and which rows of a table are visible to a role, or not");
  explain->add_option("role", flags->role, "Role name")->required();
  explain->add_option("table", flags->on, "DATABASE.TABLE")->required();
  AddConfigOption(explain, flags->config);
  explain->footer("Example:\n  lakegate policy explain lf-analyst-role analytics.members");
  explain->callback([flags] {
    Loaded l = LoadOrExit(flags->config);
    std::vector<std::string> on = ResourceOrExit(flags->on, 2, 2);
    ExplainTable(l.ctx, *l.policy, RoleOrExit(*l.policy, flags->role), on[0], on[1]);
  });
  CLI::App* exp = pol->add_subcommand("export", "Print the latest policy version as JSON");
  AddConfigOption(exp, flags->config);
  exp->callback([flags] {
    Loaded l = LoadOrExit(flags->config);
    std::cerr << "policy version " << l.policy->version << "\n";
    std::cout << policy::PolicyToJson(*l.policy);
  });
}

}  // namespace lakegate::cli
