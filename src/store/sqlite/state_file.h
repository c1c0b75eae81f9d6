// The state store's file on disk: created with mode 0600 before SQLite opens
// it, because it holds private keys.
//
// Private to src/store/sqlite. Thread-safe (no shared state).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace lakegate::store::sqlite {

// True for SQLite's ":memory:", a private in-memory database with no file.
bool IsMemoryPath(const std::string& path);

// Creates the file with mode 0600 (SQLite would use 0644), narrows an
// existing file's mode and that of its -wal/-shm files, and turns errno into
// advice: FailedPrecondition naming the path and the fix when the directory is
// missing or not a directory, or the file cannot be created, is not a regular
// file, or stays readable by others.
Status PrepareFile(const std::string& path);

// Prepares the file (PrepareFile; nothing for ":memory:") and opens an SQLite
// connection to it, created if missing. The status of PrepareFile, or the
// mapped SQLite error ("cannot open").
Result<std::unique_ptr<Connection>> OpenFile(const std::string& path, int busy_timeout_ms);

}  // namespace lakegate::store::sqlite
