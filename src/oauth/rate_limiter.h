// FailureLimiter: counts failed client authentications per key (a client id or
// a remote address) in a token bucket, and refuses further attempts from a key
// whose bucket is empty until it refills. Memory is bounded: at most
// `max_keys` keys are tracked; the least recently touched key is forgotten
// first. Thread-safe (one mutex; only touched when a key has failures).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
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

struct ClientAuthLimits {
  // Failures per minute (and burst) for one client id from all addresses,
  // beyond which its failures are answered 429 (its correct secret still works).
  int failed_per_minute_per_client = 20;
  // Failures per minute for one client id from one address, beyond which that
  // address is refused for that client before the secret is checked.
  int failed_per_minute_per_client_address = 20;
  // Failures per minute from one address (any client ids), beyond which the
  // address is refused before the secret is checked.
  int failed_per_minute_per_address = 60;
  size_t max_tracked_keys = 100000;  // per limiter
};

// The failed-authentication limits of one deployment: every way a client
// proves who it is (the token endpoint's methods, SigV4 signatures) charges
// the same buckets, so a guesser gains nothing by switching doors.
// Thread-safe.
class FailedAuthLimits {
 public:
  explicit FailedAuthLimits(ClientAuthLimits limits = {});

  // 0 when `address` may try (as `client`, "" = unknown) now; else the
  // seconds to wait. Asked before any credential is checked: an address that
  // failed too often learns nothing more.
  int64_t RefusedFor(std::string_view client, std::string_view address, int64_t now_ms) const;
  // Counts one failure of `address` trying as `client` ("" = no client named:
  // only the address is charged). Returns the seconds every guesser in the
  // client's name should back off, from the client's bucket as it was before
  // this failure (the first failures a minute keep their own answer); 0 =
  // none.
  int64_t RecordFailure(std::string_view client, std::string_view address, int64_t now_ms);

 private:
  // The address (never holding a newline) comes last: the key is unambiguous.
  static std::string PairKey(std::string_view client, std::string_view address);

  FailureLimiter client_;          // slows failures down, never refuses
  FailureLimiter client_address_;  // refuses
  FailureLimiter address_;         // refuses
};

}  // namespace lakegate::oauth
