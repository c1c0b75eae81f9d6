// Administrative subcommands that work on the state store directly
// (`client ...`, `key ...`, `apply`). They may run while a server is up: the
// server notices the store changed within a second and reloads.
#pragma once

#include <CLI/CLI.hpp>

namespace lakegate::cli {

void AddApplyCommand(CLI::App& app);
void AddClientCommands(CLI::App& app);
void AddKeyCommands(CLI::App& app);

}  // namespace lakegate::cli
