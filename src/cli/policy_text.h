// Policy objects from command-line text and back, shared by the policy
// subcommands (policy_commands.cc, policy_inspect.cc); internal to cli/. The
// *OrExit functions print what is wrong and end the subcommand (cli::Exit).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "catalog/policy_catalog.h"
#include "cli/context.h"
#include "policy/policy.h"

namespace lakegate::cli {

// The items of a comma-separated list, trimmed, without empty ones.
std::vector<std::string> SplitList(const std::string& text);
// "SELECT,DESCRIBE": at least one known permission.
policy::PermissionSet PermissionsOrExit(const std::string& text);
// --on "DB", "DB.TABLE" or "DB.TABLE.COLUMN", with min_parts..max_parts parts.
std::vector<std::string> ResourceOrExit(const std::string& on, size_t min_parts, size_t max_parts);
// --columns / --exclude-columns (at most one of them).
policy::ColumnSpec ColumnsOrExit(const std::string& include, const std::string& exclude);
// "domain=sales;sensitivity=public,internal": AND across ';' (or '&'), OR
// across the ','-separated values of one key.
policy::TagExpression ExpressionOrExit(const std::string& text);

// "all columns", "columns a, b", "all columns but c".
std::string DescribeColumns(const policy::ColumnSpec& spec);
// "domain=sales AND sensitivity=public|internal".
std::string DescribeExpression(const policy::TagExpression& e);
// "show_last_n 3", "expression <text>", "hash".
std::string DescribeMask(const policy::ColumnMask& m);

// The state store of --config and the policy catalog on it.
struct PolicyContext {
  Context ctx;
  std::unique_ptr<catalog::PolicyCatalog> catalog;
};
// Opens them; with `load`, also loads the latest policy version into
// catalog->Current(). Ends the subcommand on failure.
PolicyContext OpenPolicyOrExit(const std::string& config_path, bool load);

}  // namespace lakegate::cli
