// Governance subcommands on the versioned policy catalog in the state store:
//   grant, revoke, filter create|delete|list, tag key create|list,
//   tag assign|unassign, tag grant|revoke, policy show|explain|export.
// Each changing command loads the latest policy version, changes it, saves a
// new version in one transaction and prints what changed; a running server
// picks the new version up within a second.
#pragma once

#include <CLI/CLI.hpp>

namespace lakegate::cli {

void AddPolicyCommands(CLI::App& app);

}  // namespace lakegate::cli
