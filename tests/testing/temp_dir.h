// TempDir: a fresh directory under the system's temporary directory, removed
// with everything in it when the object goes (after giving its owner full
// permissions back, so a test may narrow them). Hermetic tests use one per
// test instead of fixed paths.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace lakegate::testing {

class TempDir {
 public:
  // The directory is named "<prefix>-XXXXXX"; path() is "" when it could not
  // be created.
  explicit TempDir(std::string_view prefix = "lakegate") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace lakegate::testing
