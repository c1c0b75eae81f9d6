// Internal to engine/sqlite: the LoadTarget of a lake table, the SQLite half
// of SqliteEngine::Load() (engine/load_driver.h runs the rest). Thread-
// compatible: one load per target, on its own connection.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "engine/load.h"
#include "engine/load_driver.h"

namespace lakegate::engine::sqlite_internal {

// Opens the table request.table of the lake file <lake_dir>/<database>.db
// for loading (ValidateLoadRequest() already passed). With request.create the
// lake directory (0700) and the file (0600, WAL) are created when missing;
// without it a missing file is NotFound (kNotFound) and nothing is created.
// Values are typed by SQLite's column affinity.
Result<std::unique_ptr<LoadTarget>> OpenTableLoader(const std::string& lake_dir,
                                                    const LoadRequest& request);

}  // namespace lakegate::engine::sqlite_internal
