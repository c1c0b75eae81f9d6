// Governance subcommands on the versioned policy catalog in the state store:
//   grant, revoke, filter create|delete|list, tag key create|list,
//   tag assign|unassign, tag grant|revoke, policy show|explain|export.
// They read and write the policy through catalog::PolicyCatalog: each
// changing command changes the latest version, saves a new one in one
// transaction and prints what changed; a running server picks the new
// version up within a second. One function registers each subcommand
// (policy_commands.cc, policy_inspect.cc); policy_text.h turns flags into
// policy objects and back.
#pragma once

#include <CLI/CLI.hpp>

namespace lakegate::cli {

// Registers every governance subcommand on `app`.
void AddPolicyCommands(CLI::App& app);

// `policy show|explain|export` (policy_inspect.cc); AddPolicyCommands calls it.
void AddPolicyInspectCommands(CLI::App& app);

}  // namespace lakegate::cli
