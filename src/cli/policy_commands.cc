#include "cli/policy_commands.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/declared_policy.h"
#include "catalog/policy_catalog.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/policy_text.h"
#include "common/strings.h"
#include "policy/policy.h"
#include "policy/policy_json.h"
#include "policy/validate.h"

namespace lakegate::cli {
namespace {

using policy::PolicySnapshot;

// A help footer: `text`, then what every change does.
std::string Footer(std::string_view text) {
  return std::string(text) +
         "\nEach change is saved as a new policy version; a running server uses it for new "
         "queries within a second.";
}

// The note for a change to an object the stack file owns ("" for others).
std::string ManagedNoteOrExit(const PolicyContext& pc, std::string_view kind,
                              std::string_view name) {
  auto managed = pc.catalog->ManagedNames();
  if (!managed.ok()) Exit(Fail(managed.status()));
  return catalog::ManagedNote(*managed, kind, name);
}

// Runs one change and prints its outcome; `notes` are printed when it changed.
void Change(PolicyContext& pc, const std::string& author, const catalog::PolicyChange& change,
            const std::string& notes = "") {
  auto update = pc.catalog->Update(author, change);
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

// Matches the mask on DATABASE.TABLE.COLUMN (names compare case-insensitively).
auto MaskOn(std::string database, std::string table, std::string column) {
  return [=](const policy::ColumnMask& m) {
    return EqualsIgnoreCase(m.database, database) && EqualsIgnoreCase(m.table, table) &&
           EqualsIgnoreCase(m.column, column);
  };
}

// ---- grant / revoke ----

struct GrantFlags {
  std::string config, role, permissions, on, columns, exclude_columns, filter;
  bool grant_option = false;
};

// SELECT on a data-cell filter: the filter joins (or leaves) the role's list.
void RunFilterGrant(PolicyContext& pc, const GrantFlags& flags, bool grant,
                    policy::PermissionSet permissions, const std::string& author,
                    const std::string& note) {
  if (flags.grant_option) {
    Exit(
        Fail("data-cell filters are granted without the grant option; grant SELECT on the "
             "table with --with-grant-option to delegate"));
  }
  if (permissions != policy::Bit(policy::Permission::kSelect)) {
    Exit(Fail("a data-cell filter is granted with SELECT only"));
  }
  Change(
      pc, author,
      [&](PolicySnapshot& p) -> Status {
        if (p.filters.find(flags.filter) == p.filters.end()) {
          return NotFoundError("no data-cell filter '" + flags.filter +
                               "'; create it with `lakegate filter create`");
        }
        if (grant) {
          policy::Role& role = RoleFor(p, flags.role);
          if (std::find(role.filters.begin(), role.filters.end(), flags.filter) ==
              role.filters.end()) {
            role.filters.push_back(flags.filter);
          }
          return Status::Ok();
        }
        auto it = p.roles.find(flags.role);
        if (it == p.roles.end()) return policy::RoleNotFound(p, flags.role);
        auto& list = it->second.filters;
        auto pos = std::find(list.begin(), list.end(), flags.filter);
        if (pos == list.end()) {
          return NotFoundError("role " + flags.role + " has no grant on filter " + flags.filter);
        }
        list.erase(pos);
        return Status::Ok();
      },
      note);
}

void RunGrant(const GrantFlags& flags, bool grant) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  policy::PermissionSet permissions = PermissionsOrExit(flags.permissions);
  if (flags.on.empty() == flags.filter.empty()) {
    Exit(Fail("give exactly one of --on DATABASE[.TABLE] or --filter NAME"));
  }
  std::string author = std::string(grant ? "cli grant " : "cli revoke ") + flags.role;
  std::string note = ManagedNoteOrExit(pc, "role", flags.role);
  if (!flags.filter.empty()) {
    RunFilterGrant(pc, flags, grant, permissions, author, note);
    return;
  }
  std::vector<std::string> on = ResourceOrExit(flags.on, 1, 2);
  policy::Grant wanted;
  wanted.database = on[0];
  wanted.table = on.size() > 1 ? on[1] : "";
  wanted.permissions = permissions;
  wanted.columns = ColumnsOrExit(flags.columns, flags.exclude_columns);
  if (grant && flags.grant_option) wanted.grant_option = permissions;
  if (Status valid = policy::ValidateGrant(wanted); !valid.ok()) {
    if (valid.Is(policy::PolicyFailure::kColumnsNeedOneTable)) {
      Exit(Fail("--columns and --exclude-columns need --on DATABASE.TABLE"));
    }
    Exit(Fail(valid));
  }
  Change(
      pc, author,
      [&](PolicySnapshot& p) -> Status {
        return grant ? policy::AddGrant(p, flags.role, wanted)
                     : policy::RevokeGrant(p, flags.role, wanted, flags.grant_option);
      },
      note);
}

void AddGrantCommand(CLI::App& app, bool grant) {
  auto flags = std::make_shared<GrantFlags>();
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
  cmd->footer(
      Footer(std::string(grant ? "Examples:\n"
                                 "  lakegate grant lf-dev-role SELECT,DESCRIBE --on "
                                 "analytics.members --exclude-columns email\n"
                                 "  lakegate grant lf-dev-role DESCRIBE --on analytics\n"
                                 "  lakegate grant lf-analyst-role SELECT --filter eu-members\n"
                                 "  lakegate grant data-steward SELECT,DESCRIBE --on analytics.* "
                                 "--with-grant-option"
                               : "Examples:\n"
                                 "  lakegate revoke lf-dev-role SELECT --on analytics.members\n"
                                 "  lakegate revoke lf-analyst-role SELECT --filter eu-members\n"
                                 "  lakegate revoke data-steward SELECT --on analytics.* "
                                 "--grant-option-only")));
  cmd->callback([flags, grant] { RunGrant(*flags, grant); });
}

// ---- filter create | delete | list ----

struct FilterFlags {
  std::string config, name, on, rows, columns, exclude_columns;
  bool force = false;
};

void RunFilterCreate(const FilterFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  std::vector<std::string> on = ResourceOrExit(flags.on, 2, 2);
  policy::DataCellFilter f;
  f.name = flags.name;
  f.database = on[0];
  f.table = on[1];
  f.columns = ColumnsOrExit(flags.columns, flags.exclude_columns);
  if (!TrimWhitespace(flags.rows).empty()) {
    auto rows = policy::ParseRowFilter(flags.rows);
    if (!rows.ok()) Exit(Fail(rows.status().WithPrefix("--rows")));
    f.rows = std::move(*rows);
  }
  std::string note = ManagedNoteOrExit(pc, "filter", flags.name);
  Change(
      pc, "cli filter create " + f.name,
      [&](PolicySnapshot& p) -> Status {
        if (p.filters.count(f.name)) {
          return AlreadyExistsError("filter '" + f.name + "' exists; delete it first");
        }
        p.filters.emplace(f.name, f);
        return Status::Ok();
      },
      note);
}

void RunFilterDelete(const FilterFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  std::string note = ManagedNoteOrExit(pc, "filter", flags.name);
  Change(
      pc, "cli filter delete " + flags.name,
      [&](PolicySnapshot& p) -> Status {
        if (!p.filters.count(flags.name)) return NotFoundError("no filter '" + flags.name + "'");
        std::vector<std::string> users;
        for (auto& [name, role] : p.roles) {
          auto pos = std::find(role.filters.begin(), role.filters.end(), flags.name);
          if (pos == role.filters.end()) continue;
          users.push_back(name);
          if (flags.force) role.filters.erase(pos);
        }
        if (!users.empty() && !flags.force) {
          return FailedPreconditionError("filter '" + flags.name + "' is granted to " +
                                         Join(users, ", ") + "; revoke it or pass --force");
        }
        p.filters.erase(p.filters.find(flags.name));
        return Status::Ok();
      },
      note);
}

void RunFilterList(const FilterFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/true);
  for (const auto& [name, f] : pc.catalog->Current()->filters) {
    std::cout << name << "  " << f.database << "." << f.table
              << "  rows: " << (f.rows.all_rows() ? std::string("all") : f.rows.text) << "  "
              << DescribeColumns(f.columns) << "\n";
  }
}

void AddFilterCommands(CLI::App& app) {
  auto flags = std::make_shared<FilterFlags>();
  CLI::App* filter =
      app.add_subcommand("filter", "Manage data-cell filters (rows and columns of a table)");
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
  create->footer(Footer(
      "Examples:\n"
      "  lakegate filter create eu-members --on analytics.members \\\n"
      "      --rows \"region IN ('eu-west', 'eu-central')\" --exclude-columns email\n"
      "  lakegate grant lf-analyst-role SELECT --filter eu-members\n"
      "Row conditions: comparisons, IN, BETWEEN, LIKE, IS [NOT] NULL, AND, OR, NOT on columns "
      "and literals."));
  create->callback([flags] { RunFilterCreate(*flags); });

  CLI::App* del = filter->add_subcommand("delete", "Delete a data-cell filter");
  del->add_option("name", flags->name, "Filter name")->required();
  del->add_flag("--force", flags->force, "Also revoke it from the roles that use it");
  AddConfigOption(del, flags->config);
  del->footer(Footer("Example:\n  lakegate filter delete eu-members --force"));
  del->callback([flags] { RunFilterDelete(*flags); });

  CLI::App* list = filter->add_subcommand("list", "List data-cell filters");
  AddConfigOption(list, flags->config);
  list->callback([flags] { RunFilterList(*flags); });
}

// ---- tag key create | list | assign | unassign | grant | revoke ----

struct TagFlags {
  std::string config, key, values, assignment, on, role, expression, permissions;
};

void RunTagKeyCreate(const TagFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  std::string note = ManagedNoteOrExit(pc, "tagkey", flags.key);
  Change(
      pc, "cli tag key create " + flags.key,
      [&](PolicySnapshot& p) -> Status {
        for (const auto& k : p.tag_keys) {
          if (k.key == flags.key) return AlreadyExistsError("tag key '" + flags.key + "' exists");
        }
        p.tag_keys.push_back({flags.key, SplitList(flags.values)});
        return Status::Ok();
      },
      note);
}

void RunTagList(const TagFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/true);
  auto policy = pc.catalog->Current();
  for (const auto& k : policy->tag_keys) {
    std::cout << "key " << k.key << ": " << Join(k.values, ", ") << "\n";
  }
  for (const auto& a : policy->tag_assignments) {
    std::cout << policy::ResourceName(a.database, a.table, a.column) << "  " << a.key << "="
              << a.value << "\n";
  }
}

void RunTagAssign(const TagFlags& flags, bool assign) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  std::vector<std::string> on = ResourceOrExit(flags.on, 1, 3);
  policy::TagAssignment a;
  a.database = on[0];
  a.table = on.size() > 1 ? on[1] : "";
  a.column = on.size() > 2 ? on[2] : "";
  size_t eq = flags.assignment.find('=');
  if (assign && (eq == std::string::npos || eq == 0 || eq + 1 == flags.assignment.size())) {
    Exit(Fail("expected KEY=VALUE, e.g. domain=sales"));
  }
  a.key = assign ? flags.assignment.substr(0, eq) : flags.assignment;
  a.value = assign ? flags.assignment.substr(eq + 1) : "";
  auto same = [&](const policy::TagAssignment& e) {
    return e.key == a.key && EqualsIgnoreCase(e.database, a.database) &&
           EqualsIgnoreCase(e.table, a.table) && EqualsIgnoreCase(e.column, a.column);
  };
  Change(pc, std::string(assign ? "cli tag assign " : "cli tag unassign ") + a.key,
         [&](PolicySnapshot& p) -> Status {
           auto it = std::find_if(p.tag_assignments.begin(), p.tag_assignments.end(), same);
           if (!assign) {
             if (it == p.tag_assignments.end()) {
               return NotFoundError(flags.on + " has no tag " + a.key);
             }
             p.tag_assignments.erase(it);
           } else if (it != p.tag_assignments.end()) {
             it->value = a.value;
           } else {
             p.tag_assignments.push_back(a);
           }
           return Status::Ok();
         });
}

void RunTagGrant(const TagFlags& flags, bool grant) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  policy::TagExpression e = ExpressionOrExit(flags.expression);
  policy::PermissionSet permissions = grant ? PermissionsOrExit(flags.permissions) : 0;
  std::string note = ManagedNoteOrExit(pc, "role", flags.role);
  Change(
      pc, std::string(grant ? "cli tag grant " : "cli tag revoke ") + flags.role,
      [&](PolicySnapshot& p) -> Status {
        if (!grant && !p.roles.count(flags.role)) return policy::RoleNotFound(p, flags.role);
        policy::Role& role = RoleFor(p, flags.role);
        auto it = std::find_if(
            role.tag_grants.begin(), role.tag_grants.end(),
            [&](const policy::TagGrant& g) { return g.expression.clauses == e.clauses; });
        if (!grant) {
          if (it == role.tag_grants.end()) {
            return NotFoundError("role " + flags.role + " has no tag grant on " +
                                 DescribeExpression(e));
          }
          role.tag_grants.erase(it);
        } else if (it != role.tag_grants.end()) {
          it->permissions |= permissions;
        } else {
          role.tag_grants.push_back({e, permissions});
        }
        return Status::Ok();
      },
      note);
}

void AddTagKeyCommands(CLI::App& tag, const std::shared_ptr<TagFlags>& flags) {
  CLI::App* key = tag.add_subcommand("key", "Manage tag keys");
  key->require_subcommand(1);
  CLI::App* create = key->add_subcommand("create", "Declare a tag key and its allowed values");
  create->add_option("key", flags->key, "Tag key, e.g. sensitivity")->required();
  create->add_option("--values", flags->values, "Allowed values, comma-separated")->required();
  AddConfigOption(create, flags->config);
  create->footer(
      Footer("Example:\n  lakegate tag key create sensitivity --values public,internal,pii"));
  create->callback([flags] { RunTagKeyCreate(*flags); });
  CLI::App* list = tag.add_subcommand("list", "List tag keys and assignments");
  AddConfigOption(list, flags->config);
  list->callback([flags] { RunTagList(*flags); });
}

void AddTagAssignCommand(CLI::App& tag, const std::shared_ptr<TagFlags>& flags, bool assign) {
  CLI::App* cmd = tag.add_subcommand(
      assign ? "assign" : "unassign",
      assign ? "Tag a database, table or column (replaces its value for that key)"
             : "Remove a tag from a database, table or column");
  cmd->add_option("tag", flags->assignment, assign ? "KEY=VALUE" : "KEY")->required();
  cmd->add_option("--on", flags->on, "DATABASE, DATABASE.TABLE or DATABASE.TABLE.COLUMN")
      ->required();
  AddConfigOption(cmd, flags->config);
  cmd->footer(
      Footer(std::string(assign ? "Examples:\n  lakegate tag assign domain=sales --on analytics\n"
                                  "  lakegate tag assign sensitivity=pii --on "
                                  "analytics.members.email"
                                : "Example:\n  lakegate tag unassign sensitivity --on "
                                  "analytics.members.email") +
             "\nColumns inherit their table's tags and tables their database's; the nearest "
             "assignment wins."));
  cmd->callback([flags, assign] { RunTagAssign(*flags, assign); });
}

void AddTagGrantCommand(CLI::App& tag, const std::shared_ptr<TagFlags>& flags, bool grant) {
  CLI::App* cmd = tag.add_subcommand(
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
  cmd->footer(Footer(std::string(grant ? "Example:\n  lakegate tag grant lf-analyst-role "
                                         "\"domain=sales;sensitivity=public,internal\" "
                                         "--permissions SELECT,DESCRIBE"
                                       : "Example:\n  lakegate tag revoke lf-analyst-role "
                                         "\"domain=sales;sensitivity=public,internal\"") +
                     "\nTags are evaluated at query time: a newly tagged table becomes visible "
                     "without a new grant."));
  cmd->callback([flags, grant] { RunTagGrant(*flags, grant); });
}

void AddTagCommands(CLI::App& app) {
  auto flags = std::make_shared<TagFlags>();
  CLI::App* tag = app.add_subcommand("tag", "Manage LF-tags: keys, assignments and tag grants");
  tag->require_subcommand(1);
  AddTagKeyCommands(*tag, flags);
  for (bool assign : {true, false}) AddTagAssignCommand(*tag, flags, assign);
  for (bool grant : {true, false}) AddTagGrantCommand(*tag, flags, grant);
}

// ---- mask set | unset ----

struct MaskFlags {
  std::string config, role, column, kind, n, expression;
};

void RunMaskSet(const MaskFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  std::vector<std::string> on = ResourceOrExit(flags.column, 3, 3);
  policy::ColumnMask m;
  m.database = on[0];
  m.table = on[1];
  m.column = on[2];
  auto kind = policy::ParseMaskKind(flags.kind);
  if (!kind) {
    Exit(Fail("unknown mask kind '" + flags.kind +
              "'; use null, redact, hash, show_last_n, year_only or expression"));
  }
  m.kind = *kind;
  if (!flags.n.empty() != (m.kind == policy::MaskKind::kShowLastN)) {
    Exit(Fail(m.kind == policy::MaskKind::kShowLastN ? "show_last_n needs --n N"
                                                     : "--n applies to --kind show_last_n only"));
  }
  if (!flags.expression.empty() != (m.kind == policy::MaskKind::kExpression)) {
    Exit(Fail(m.kind == policy::MaskKind::kExpression
                  ? "--kind expression needs --expression EXPR"
                  : "--expression applies to --kind expression only"));
  }
  if (m.kind == policy::MaskKind::kShowLastN) {
    const std::string& text = flags.n;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), m.n);
    if (error != std::errc() || end != text.data() + text.size()) {
      Exit(Fail("--n '" + text + "': expected a whole number 0..1000"));
    }
  }
  m.expression = flags.expression;
  if (Status valid = policy::ValidateColumnMask(m); !valid.ok()) Exit(Fail(valid));
  std::string note = ManagedNoteOrExit(pc, "role", flags.role);
  Change(
      pc, "cli mask set " + flags.role,
      [&](PolicySnapshot& p) -> Status {
        policy::Role& role = RoleFor(p, flags.role);
        std::erase_if(role.masks, MaskOn(m.database, m.table, m.column));
        role.masks.push_back(m);
        return Status::Ok();
      },
      note);
}

void RunMaskUnset(const MaskFlags& flags) {
  PolicyContext pc = OpenPolicyOrExit(flags.config, /*load=*/false);
  std::vector<std::string> on = ResourceOrExit(flags.column, 3, 3);
  std::string note = ManagedNoteOrExit(pc, "role", flags.role);
  Change(
      pc, "cli mask unset " + flags.role,
      [&](PolicySnapshot& p) -> Status {
        auto it = p.roles.find(flags.role);
        if (it == p.roles.end()) return policy::RoleNotFound(p, flags.role);
        size_t removed = std::erase_if(it->second.masks, MaskOn(on[0], on[1], on[2]));
        if (removed == 0) {
          return NotFoundError("role " + flags.role + " has no mask on " + flags.column);
        }
        return Status::Ok();
      },
      note);
}

void AddMaskCommands(CLI::App& app) {
  auto flags = std::make_shared<MaskFlags>();
  CLI::App* mask = app.add_subcommand("mask", "Manage a role's column masks");
  mask->require_subcommand(1);
  CLI::App* set = mask->add_subcommand("set", "Mask a column for a role (replaces its mask)");
  set->add_option("role", flags->role, "Role name (created when missing)")->required();
  set->add_option("column", flags->column,
                  "DATABASE.TABLE.COLUMN (\"*\" for any database or table)")
      ->required();
  set->add_option("--kind", flags->kind, "null, redact, hash, show_last_n, year_only or expression")
      ->required();
  set->add_option("--n", flags->n, "show_last_n: characters left visible (0..1000)");
  set->add_option("--expression", flags->expression,
                  "expression: a SQL value expression over the row's columns");
  AddConfigOption(set, flags->config);
  set->footer(Footer(
      "Examples:\n"
      "  lakegate mask set lf-dev-role analytics.members.name --kind show_last_n --n 3\n"
      "  lakegate mask set lf-dev-role analytics.members.email --kind expression \\\n"
      "      --expression \"'***@' || substr(email, instr(email, '@') + 1)\"\n"
      "Expressions: literals, columns, || + - * / %, CASE WHEN, comparisons, IN, BETWEEN, LIKE, "
      "IS NULL, AND/OR/NOT and lower, upper, length, substr, replace, trim, ltrim, rtrim, "
      "coalesce, ifnull, nullif, instr. Masks apply inside the engine, so predicates, joins and "
      "aggregates see only the masked value."));
  set->callback([flags] { RunMaskSet(*flags); });
  CLI::App* unset = mask->add_subcommand("unset", "Remove a role's mask on a column");
  unset->add_option("role", flags->role, "Role name")->required();
  unset->add_option("column", flags->column, "DATABASE.TABLE.COLUMN")->required();
  AddConfigOption(unset, flags->config);
  unset->footer(Footer("Example:\n  lakegate mask unset lf-dev-role analytics.members.name"));
  unset->callback([flags] { RunMaskUnset(*flags); });
}

}  // namespace

void AddPolicyCommands(CLI::App& app) {
  AddGrantCommand(app, /*grant=*/true);
  AddGrantCommand(app, /*grant=*/false);
  AddFilterCommands(app);
  AddTagCommands(app);
  AddMaskCommands(app);
  AddPolicyInspectCommands(app);
}

}  // namespace lakegate::cli
