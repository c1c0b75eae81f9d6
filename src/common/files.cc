#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/random.h"

namespace lakegate {
namespace {

Status ErrnoStatus(std::string_view what, const std::string& path) {
  std::string message(what);
  message += " ";
  message += path;
  message += ": ";
  message += std::strerror(errno);
  if (errno == ENOENT) return NotFoundError(std::move(message));
  if (errno == EEXIST) return AlreadyExistsError(std::move(message));
  if (errno == EACCES || errno == EPERM) return PermissionDeniedError(std::move(message));
  return InternalError(std::move(message));
}

Status WriteAll(int fd, std::string_view content, const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return ErrnoStatus("cannot fsync", path);
  return Status::Ok();
}

void SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp-" + RandomHex(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  ::fchmod(fd, mode);  // umask must not widen or narrow what we asked for
  Status status = WriteAll(fd, content, tmp);
  ::close(fd);
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = ErrnoStatus("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return s;
  }
  SyncDirectoryOf(path);
  return Status::Ok();
}

Status WriteFileExclusive(const std::string& path, std::string_view content, mode_t mode) {
  // Write to a temporary file, then link(2) it into place: link fails with
  // EEXIST instead of replacing, and readers never see a partial file.
  std::string tmp = path + ".tmp-" + RandomHex(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  ::fchmod(fd, mode);
  Status status = WriteAll(fd, content, tmp);
  ::close(fd);
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot create", path);
  }
  ::unlink(tmp.c_str());
  if (status.ok()) SyncDirectoryOf(path);
  return status;
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status MakeDirectories(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path built;
  for (const auto& part : p) {
    built /= part;
    if (std::filesystem::exists(built, ec)) continue;
    if (::mkdir(built.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus("cannot create directory", built.string());
    }
  }
  return Status::Ok();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace lakegate
