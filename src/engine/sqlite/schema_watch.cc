#include "engine/sqlite/schema_watch.h"

#include <algorithm>
#include <utility>

namespace lakegate::engine::sqlite_internal {

bool SchemaWatch::Open(const std::string& path, const struct stat& st, File& file) {
  file.cookie.reset();
  file.conn.reset();
  // Read-only: this connection never writes, and it must not create a file
  // that vanished between the directory listing and here.
  Result<DbPtr> opened = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (!opened.ok()) return false;
  file.conn = std::move(opened).value();
  // A locked file skips this check; it never holds up the query that runs it.
  sqlite3_busy_timeout(file.conn.get(), 0);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(file.conn.get(), "PRAGMA schema_version", -1, SQLITE_PREPARE_PERSISTENT,
                         &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    file.conn.reset();
    return false;
  }
  file.cookie.reset(raw);
  file.dev = st.st_dev;
  file.ino = st.st_ino;
  return true;
}

bool SchemaWatch::MarkUnreadable(File& file) {
  file.cookie.reset();
  file.conn.reset();
  bool changed = file.state != State::kUnreadable;
  file.state = State::kUnreadable;
  return changed;
}

bool SchemaWatch::Poll(const std::string& lake_dir, const std::vector<std::string>& databases) {
  bool changed = false;
  for (auto it = files_.begin(); it != files_.end();) {
    if (std::binary_search(databases.begin(), databases.end(), it->first)) {
      ++it;
    } else {
      it = files_.erase(it);  // closes its connection
      changed = true;
    }
  }
  for (const auto& name : databases) {
    File& file = files_[name];
    const std::string path = LakeFilePath(lake_dir, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      changed |= MarkUnreadable(file);
      continue;
    }
    // Stat before open: if the file is replaced in between, the next call
    // sees a recorded identity that does not match and opens it again.
    bool replaced = file.conn != nullptr && (st.st_dev != file.dev || st.st_ino != file.ino);
    if (file.conn == nullptr || replaced) {
      if (!Open(path, st, file)) {
        changed |= MarkUnreadable(file);
        continue;
      }
    }
    int rc = sqlite3_step(file.cookie.get());
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(file.cookie.get(), 0) : 0;
    sqlite3_reset(file.cookie.get());  // ends the read transaction at once
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      // Another connection is writing (or recovering the WAL). A replaced
      // file keeps its new identity unread: record nothing and bump once
      // the new file can be read.
      if (replaced) file.state = State::kUnseen;
      continue;
    }
    if (rc != SQLITE_ROW) {
      changed |= MarkUnreadable(file);
      continue;
    }
    if (replaced || file.state != State::kReadable || file.version != version) changed = true;
    file.state = State::kReadable;
    file.version = version;
  }
  return changed;
}

}  // namespace lakegate::engine::sqlite_internal
