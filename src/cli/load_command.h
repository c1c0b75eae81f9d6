// `lakegate load DATABASE.TABLE FILE`: bulk-loads a CSV or NDJSON file into a
// lake table through the lake's engine (Engine::Load, one transaction).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "config/stack_config.h"

namespace lakegate::cli {

void AddLoadCommand(CLI::App& app);

// The lake directory a stack file's deployment serves: its query.lake_dir
// (which defaults to `lake` next to the stack file), else <state_dir>/../lake.
std::string LakeDirFor(const config::StackConfig& stack);

}  // namespace lakegate::cli
