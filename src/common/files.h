// File helpers. WriteFileAtomic never leaves a half-written file: it writes a
// temporary file with the final mode, fsyncs it, renames it over the target and
// fsyncs the directory. Thread-safe (distinct paths).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace lakegate {

// Writes `content` to `path` atomically with permission bits `mode`.
Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode = 0600);
// Creates `path` exclusively (fails with AlreadyExists if it exists), mode `mode`.
Status WriteFileExclusive(const std::string& path, std::string_view content, mode_t mode = 0600);
// Reads the whole file. NotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);
// Creates the directory and its parents with `mode` for the ones it creates.
Status MakeDirectories(const std::string& path, mode_t mode = 0700);
bool FileExists(const std::string& path);

}  // namespace lakegate
