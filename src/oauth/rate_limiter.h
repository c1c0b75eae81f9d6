// FailureLimiter: counts failed client authentications per key (a client id or
// a remote address) in a token bucket, and refuses further attempts from a key
// whose bucket is empty until it refills. Memory is bounded: at most
// `max_keys` keys are tracked; the least recently touched key is forgotten
// first. Thread-safe (one mutex; only touched when a key has failures).
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/thread_annotations.h"

namespace lakegate::oauth {

class FailureLimiter {
 public:
  // `per_minute` failures are tolerated per minute per key (burst = per_minute).
  FailureLimiter(int per_minute, size_t max_keys);

  // 0 when `key` may try now; else the seconds to wait (for Retry-After).
  int64_t RetryAfter(std::string_view key, int64_t now_ms) const EXCLUDES(mutex_);
  // Records one failure for `key`.
  void RecordFailure(std::string_view key, int64_t now_ms) EXCLUDES(mutex_);
  size_t tracked_keys() const EXCLUDES(mutex_);

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
    std::list<std::string>::iterator lru;
  };
  double Refilled(const Bucket& b, int64_t now_ms) const;

  const double capacity_;
  const double refill_per_ms_;
  const size_t max_keys_;
  mutable Mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mutex_);
  std::list<std::string> lru_ GUARDED_BY(mutex_);  // front = most recently touched
};

}  // namespace lakegate::oauth
