// The lake's files: CreateDatabaseIfMissing of sqlite_engine.h.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/files.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/sqlite_engine.h"

namespace lakegate::engine {

Status CreateDatabaseIfMissing(const std::string& lake_dir, const std::string& name) {
  if (!IsValidDatabaseName(name)) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidName,
                  "invalid database name '" + name + "': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  }
  if (Status made = MakeDirectories(lake_dir, 0700); !made.ok()) {
    return Status(made.code(), EngineFailure::kInternal, made.message());
  }
  const std::string path = sqlite_internal::LakeFilePath(lake_dir, name);
  // An empty file is a valid empty database; creating it ourselves gives it
  // mode 0600 whatever the umask (SQLite gives its -wal/-shm the same mode).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Ok();
    return Status(StatusCode::kInternal, EngineFailure::kInternal,
                  "cannot create " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  LG_ASSIGN_OR_RETURN(sqlite_internal::DbPtr db,
                      sqlite_internal::OpenConnection(path, SQLITE_OPEN_READWRITE));
  return sqlite_internal::Exec(db.get(), "PRAGMA journal_mode=WAL");
}

}  // namespace lakegate::engine
