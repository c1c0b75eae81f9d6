// `lakegate serve` and `lakegate demo`: run the server in the foreground until
// SIGINT/SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace lakegate::cli {

void AddServeCommand(CLI::App& app);
void AddDemoCommand(CLI::App& app);

}  // namespace lakegate::cli
