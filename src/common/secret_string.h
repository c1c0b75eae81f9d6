// SecretString: a string that never prints its value. Streams and ToString()
// show "[redacted]"; the value is wiped on destruction. Thread-compatible.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace lakegate {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString&) = default;
  SecretString& operator=(const SecretString&) = default;
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  ~SecretString() { Wipe(); }

  // The only way to read the value: call sites are easy to audit.
  std::string_view Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  static constexpr std::string_view kRedacted = "[redacted]";

  friend std::ostream& operator<<(std::ostream& os, const SecretString&) { return os << kRedacted; }

 private:
  void Wipe() {
    volatile char* p = value_.data();
    for (size_t i = 0; i < value_.size(); ++i) p[i] = 0;
    value_.clear();
  }
  std::string value_;
};

}  // namespace lakegate
