#include "store/sqlite/state_file.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.h"

namespace lakegate::store::sqlite {
namespace {

std::string DirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

}  // namespace

bool IsMemoryPath(const std::string& path) { return path == ":memory:"; }

Status PrepareFile(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  const std::string prefix = "cannot open state store " + path + ": ";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return FailedPreconditionError(prefix + "directory " + dir +
                                     " does not exist; create it or fix the state directory "
                                     "(--dir / state_dir)");
    }
    return FailedPreconditionError(prefix + "cannot access directory " + dir + ": " +
                                   std::strerror(errno) + "; check its owner and permissions");
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(prefix + dir +
                                   " is not a directory; fix the state directory "
                                   "(--dir / state_dir)");
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM) {
      return FailedPreconditionError(prefix +
                                     "permission denied; check the owner and "
                                     "permissions of " +
                                     dir + " (the --dir / state_dir)");
    }
    if (err == EISDIR) {
      return FailedPreconditionError(prefix +
                                     "it is a directory; remove it or choose another "
                                     "state directory");
    }
    if (err == EROFS) {
      return FailedPreconditionError(prefix +
                                     "read-only file system; put the state directory "
                                     "on a writable file system");
    }
    return FailedPreconditionError(prefix + std::strerror(err));
  }
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = FailedPreconditionError(prefix + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = FailedPreconditionError(prefix + "not a regular file");
  } else if ((st.st_mode & 0077) != 0) {
    // The store holds private keys: nobody but the owner may read it.
    if (::fchmod(fd, 0600) != 0) {
      status =
          FailedPreconditionError(prefix +
                                  "it is readable by other users and its mode "
                                  "cannot be changed (" +
                                  std::strerror(errno) + "); run chmod 600 on it as its owner");
    } else {
      log::Warn("state store " + path + " was readable by other users; changed its mode to 0600");
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  // SQLite creates -wal/-shm with the database's mode; narrow old ones too.
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) ::chmod(side.c_str(), 0600);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Connection>> OpenFile(const std::string& path, int busy_timeout_ms) {
  std::string sqlite_path = path;
  if (!IsMemoryPath(path)) {
    LG_RETURN_IF_ERROR(PrepareFile(path));
    // Never let a relative name such as "file:x" be read as an SQLite URI.
    if (path.front() != '/') sqlite_path = "./" + path;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      sqlite_path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (db == nullptr) {
    return ResourceExhaustedError("cannot open state store " + path + ": out of memory");
  }
  auto conn = std::make_unique<Connection>(db, path, busy_timeout_ms);
  if (rc != SQLITE_OK) return conn->Error(rc, "cannot open");
  return conn;
}

}  // namespace lakegate::store::sqlite
