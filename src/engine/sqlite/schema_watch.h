// Internal to engine/sqlite: noticing schema changes that other processes
// make to the lake's files (SqliteEngineOptions::schema_check_interval).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/sqlite/connection.h"

namespace lakegate::engine::sqlite_internal {

// The last known state of each lake file's schema, read through one
// read-only connection per file that stays open between checks. Holding the
// file open also pins its inode, so a file deleted and recreated under the
// same name always gets a different (st_dev, st_ino) than the one recorded.
// Not thread-safe: the engine polls it under its watch mutex.
class SchemaWatch {
 public:
  // Reads the schema cookie of each of `databases` (the lake's files now).
  // Returns true when anything changed since the previous call: a cookie, a
  // file replaced (new inode), a file seen for the first time or gone, or a
  // file that became readable or stopped being readable. A file that another
  // connection keeps locked (SQLITE_BUSY / SQLITE_LOCKED) is not waited for:
  // it keeps its last state and is read again at the next call. Files that
  // cannot be opened or read are retried at every call; their connections
  // are closed, so no descriptor outlives its file's removal from the list.
  bool Poll(const std::string& lake_dir, const std::vector<std::string>& databases);

 private:
  enum class State { kUnseen, kReadable, kUnreadable };
  struct File {
    // Declared before `cookie` so that the statement is finalized first.
    DbPtr conn;
    StmtPtr cookie;  // PRAGMA schema_version on `conn`
    dev_t dev = 0;   // the identity of the file `conn` opened
    ino_t ino = 0;
    State state = State::kUnseen;
    int64_t version = 0;  // the schema cookie, when kReadable
  };
  // Opens `file.conn` on `path`; false (connection closed) on failure.
  static bool Open(const std::string& path, const struct stat& st, File& file);
  // Moves `file` to the unreadable state; true when that is a change.
  static bool MarkUnreadable(File& file);

  std::map<std::string, File> files_;
};

}  // namespace lakegate::engine::sqlite_internal
